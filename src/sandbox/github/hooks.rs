//! What tests, `casbah sandbox serve` and `casbah demo` read and change in
//! the sandbox's GitHub organisations.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use super::Grant;
use super::device::DeviceTiming;
use super::model::{GitHubOrgError, TeamRole};
use crate::domain::{AppKind, Secret};
use crate::sandbox::activity::{PushedActivity, Stream};
use crate::sandbox::{Sandbox, lock_mutex};

/// What a person needs to connect one of the sandbox's GitHub organisations.
#[derive(Debug, Clone)]
pub struct GitHubCredentials {
    /// The organisation's login (`--organization`).
    pub organization: String,
    /// A personal access token of one of its owners.
    pub token: Secret,
    pub scopes: Vec<String>,
    /// The OAuth app to sign in with through the device flow (`--client-id`).
    pub client_id: String,
    /// Whether the organisation has the audit log (GitHub Enterprise Cloud).
    pub audit_log: bool,
}

/// A member of a sandbox organisation, as a test checks it.
#[derive(Debug, Clone, PartialEq)]
pub struct GitHubMember {
    pub login: String,
    pub id: u64,
    pub name: Option<String>,
    /// The address in the organisation's verified domains, if any.
    pub verified_email: Option<String>,
    /// The profile's public address, if any.
    pub public_email: Option<String>,
    pub owner: bool,
    /// The person (`Org.users` index).
    pub person: usize,
}

impl Sandbox {
    fn github_org_index(&self, org: &str) -> Result<usize, GitHubOrgError> {
        self.shared
            .github
            .orgs()
            .iter()
            .position(|o| o.login.eq_ignore_ascii_case(org))
            .ok_or_else(|| GitHubOrgError::NoOrg(org.to_string()))
    }

    /// The main organisation's login ("contoso"), which has an audit log.
    pub fn github_org(&self) -> String {
        self.shared.github.orgs()[0].login.clone()
    }

    /// An organisation without GitHub Enterprise Cloud: its audit log is 404.
    pub fn github_org_without_audit_log(&self) -> String {
        let orgs = self.shared.github.orgs();
        orgs.iter()
            .find(|o| !o.audit_log)
            .map_or_else(String::new, |o| o.login.clone())
    }

    /// The personal access token of the main organisation's owner.
    pub fn github_token(&self) -> Secret {
        Secret::new(self.shared.github.org_tokens[0].clone())
    }

    /// The token of a given organisation (each sees only its own).
    pub fn github_token_for(&self, org: &str) -> Option<Secret> {
        let i = self.github_org_index(org).ok()?;
        Some(Secret::new(self.shared.github.org_tokens[i].clone()))
    }

    /// A new classic token of the main organisation's owner with exactly
    /// these scopes (to see what a missing scope does).
    pub fn github_token_with_scopes(&self, scopes: &[&str]) -> Secret {
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(rand::random());
        let token = super::model::token(&mut rng, "ghp_");
        let owner = self.shared.github.orgs()[0]
            .members
            .iter()
            .find(|m| m.1)
            .map_or(0, |m| m.0);
        lock_mutex(&self.shared.github.tokens).insert(
            token.clone(),
            Grant {
                account: owner,
                orgs: vec![0],
                scopes: Some(scopes.iter().map(|s| s.to_string()).collect()),
            },
        );
        Secret::new(token)
    }

    /// The OAuth app's client id, for the device flow.
    pub fn github_client_id(&self) -> String {
        self.shared.github.client_id.clone()
    }

    /// Every organisation with what it takes to connect it.
    pub fn github_orgs(&self) -> Vec<GitHubCredentials> {
        let github = &self.shared.github;
        github
            .orgs()
            .iter()
            .zip(&github.org_tokens)
            .map(|(o, token)| GitHubCredentials {
                organization: o.login.clone(),
                token: Secret::new(token.clone()),
                scopes: super::PAT_SCOPES.iter().map(|s| s.to_string()).collect(),
                client_id: github.client_id.clone(),
                audit_log: o.audit_log,
            })
            .collect()
    }

    /// An organisation as a GitHub instance to connect with a token.
    pub fn github_instance(&self, name: &str, org: &str) -> crate::store::NewInstance {
        crate::store::NewInstance {
            endpoint: Some(self.base_url()),
            ..crate::store::NewInstance::new(AppKind::Github, name).with_field("organization", org)
        }
    }

    /// The same, signed in through the OAuth app's device flow.
    pub fn github_device_instance(&self, name: &str, org: &str) -> crate::store::NewInstance {
        let new = self.github_instance(name, org);
        new.with_field("client-id", &self.github_client_id())
    }

    /// The organisation's members, in GitHub's order.
    pub fn github_members(&self, org: &str) -> Result<Vec<GitHubMember>, GitHubOrgError> {
        let i = self.github_org_index(org)?;
        let github = &self.shared.github;
        let orgs = github.orgs();
        let o = &orgs[i];
        Ok(o.members
            .iter()
            .map(|&(a, owner)| {
                let account = &github.accounts[a as usize];
                GitHubMember {
                    login: account.login.clone(),
                    id: account.id,
                    name: account.name.clone(),
                    verified_email: account.verified_in(o).into_iter().next(),
                    public_email: account.public_email.clone(),
                    owner,
                    person: account.person as usize,
                }
            })
            .collect())
    }

    /// Team slugs in GitHub's order.
    pub fn github_teams(&self, org: &str) -> Result<Vec<String>, GitHubOrgError> {
        let i = self.github_org_index(org)?;
        Ok(self.shared.github.orgs()[i]
            .teams
            .iter()
            .map(|t| t.slug.clone())
            .collect())
    }

    /// The logins GitHub lists as a team's members: child teams' included,
    /// pending invitees not.
    pub fn github_team_members(
        &self,
        org: &str,
        slug: &str,
    ) -> Result<Vec<String>, GitHubOrgError> {
        let i = self.github_org_index(org)?;
        let github = &self.shared.github;
        let orgs = github.orgs();
        let t = orgs[i]
            .team_by_slug(slug)
            .ok_or_else(|| GitHubOrgError::NoTeam(slug.to_string()))?;
        Ok(orgs[i]
            .team_members(t)
            .into_iter()
            .map(|(a, _)| github.accounts[a as usize].login.clone())
            .collect())
    }

    /// Logins and e-mails with a pending invitation (not members).
    pub fn github_invitees(&self, org: &str) -> Result<Vec<String>, GitHubOrgError> {
        let i = self.github_org_index(org)?;
        let github = &self.shared.github;
        Ok(github.orgs()[i]
            .invitations
            .iter()
            .filter_map(|inv| {
                inv.account
                    .map(|a| github.accounts[a as usize].login.clone())
                    .or(inv.email.clone())
            })
            .collect())
    }

    /// Changes a team's own members (child teams unchanged), for a login
    /// that is a member of the organisation.
    fn change_team(
        &self,
        org: &str,
        slug: &str,
        login: &str,
        change: impl FnOnce(&mut Vec<(u32, TeamRole)>, u32),
    ) -> Result<(), GitHubOrgError> {
        let i = self.github_org_index(org)?;
        let github = &self.shared.github;
        let mut orgs = github.orgs_mut();
        let a = github
            .account_by_login(login)
            .filter(|&a| orgs[i].is_member(a))
            .ok_or_else(|| GitHubOrgError::NotMember(login.to_string()))?;
        let t = orgs[i]
            .team_by_slug(slug)
            .ok_or_else(|| GitHubOrgError::NoTeam(slug.to_string()))?;
        change(&mut orgs[i].teams[t].members, a);
        Ok(())
    }

    /// Adds a member of the organisation to a team.
    pub fn github_add_team_member(
        &self,
        org: &str,
        slug: &str,
        login: &str,
    ) -> Result<(), GitHubOrgError> {
        self.change_team(org, slug, login, |members, a| {
            if let Err(at) = members.binary_search_by_key(&a, |m| m.0) {
                members.insert(at, (a, TeamRole::Member));
            }
        })
    }

    /// Removes someone from a team's own members (child teams unchanged).
    pub fn github_remove_team_member(
        &self,
        org: &str,
        slug: &str,
        login: &str,
    ) -> Result<(), GitHubOrgError> {
        self.change_team(org, slug, login, |members, a| members.retain(|m| m.0 != a))
    }

    /// Adds an event to the main organisation's audit log: `actor` a login,
    /// `action` GitHub's (`repo.create`), `object` a repository, team or login
    /// by the action's category.
    pub fn push_github_audit(
        &self,
        actor: &str,
        action: &str,
        object: Option<&str>,
        at: DateTime<Utc>,
    ) {
        self.push_activity(PushedActivity {
            at,
            object: object.map(str::to_string),
            ..PushedActivity::new(Stream::GitHubAudit, actor, action)
        });
    }

    /// Shortens the device flow's interval, lifetime and slow-down step for
    /// codes handed out from now on (GitHub: 5 s, 900 s, 5 s).
    pub fn set_github_device_timing(
        &self,
        interval: std::time::Duration,
        expires_in: std::time::Duration,
        slow_down_step: std::time::Duration,
    ) {
        self.shared.github.device.set_timing(DeviceTiming {
            interval,
            expires_in,
            slow_down_step,
        });
    }

    /// The person enters the code and authorizes the app.
    pub fn github_approve_device(&self, user_code: &str) -> bool {
        self.shared.github.device.decide(user_code, true)
    }

    /// The person enters the code and cancels.
    pub fn github_deny_device(&self, user_code: &str) -> bool {
        self.shared.github.device.decide(user_code, false)
    }

    /// Tells the next poll for this code to slow down (as GitHub does to a
    /// client whose clock runs fast), adding the step to its interval.
    pub fn github_slow_down_device(&self, user_code: &str) -> bool {
        self.shared.github.device.force_slow_down(user_code)
    }

    /// Token polls that came sooner than the interval allowed.
    pub fn github_device_polls_too_fast(&self) -> u64 {
        self.shared.github.device.too_fast()
    }

    /// Token polls made for a user code.
    pub fn github_device_polls(&self, user_code: &str) -> u64 {
        self.shared.github.device.polls(user_code)
    }

    /// Makes `/graphql` refuse every token (403), or serve again.
    pub fn github_refuse_graphql(&self, refuse: bool) {
        self.shared
            .github
            .graphql_refused
            .store(refuse, Ordering::SeqCst);
    }

    /// Issue 10: serves `field` of the team (by slug) or account (by login)
    /// `key` as `value` in team lists, member lists and GraphQL users, so
    /// one record does not read (e.g. a team with `"slug": null`).
    pub fn github_mistype(&self, key: &str, field: &str, value: serde_json::Value) {
        let mut mistyped = lock_mutex(&self.shared.github.mistyped);
        let key = key.to_lowercase();
        mistyped.retain(|(k, f, _)| !(*k == key && f == field));
        mistyped.push((key, field.to_owned(), value));
    }

    /// The next successful answer for a path starting with `path_prefix`
    /// gets `body` instead of its own (to see a client meet nonsense).
    pub fn github_garble_next(&self, path_prefix: &str, body: &str) {
        lock_mutex(&self.shared.github.garbled).push((path_prefix.to_string(), body.to_string()));
    }
}
