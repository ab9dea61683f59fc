//! The GitHub dialect, at the vendor's own paths (only the host differs:
//! `https://api.github.com` and `https://github.com` both map to the sandbox).
//!
//! - REST (`Authorization: Bearer` or `token`; classic tokens get
//!   `X-OAuth-Scopes` and `X-Accepted-OAuth-Scopes` back): `GET /orgs/{org}`,
//!   `/orgs/{org}/teams`, `/orgs/{org}/teams/{slug}`,
//!   `/orgs/{org}/teams/{slug}/members` (child teams' members included,
//!   pending invitees not), `/orgs/{org}/teams/{slug}/memberships/{login}`,
//!   `/orgs/{org}/teams/{slug}/invitations`, `/orgs/{org}/members`
//!   (`role=all|admin|member`), `/orgs/{org}/invitations`,
//!   `/orgs/{org}/audit-log` (`phrase`, `include`, `order`, cursors
//!   `after`/`before`; 404 for an organisation without the audit log).
//!   `per_page` defaults to 30 and is capped at 100; lists page by a `Link`
//!   header (`first`/`prev`/`next`/`last` with `page`, or `after`/`before`
//!   for the audit log) whose targets name the organisation by id
//!   (`/organizations/{id}/…`, `/organizations/{id}/team/{id}/members`), as
//!   GitHub's do, so only a client that follows links as given gets far.
//! - GraphQL (`POST /graphql`): `organization(login:)` with `teams(first:,
//!   after:, query:)`, `team(slug:)`, `membersWithRole(first:, after:)` (edges
//!   carry `role`), `domains(first:, isVerified:)`; `nodes(ids:)`; `User` with
//!   `email` (needs `user:email` or `read:user`) and
//!   `organizationVerifiedDomainEmails(login:)`. Errors in GitHub's shape.
//! - The OAuth device flow: `POST /login/device/code`,
//!   `POST /login/oauth/access_token` (errors with HTTP 200), `GET /login/device`.
//!
//! Every answer carries `x-ratelimit-*`; the fault layer's throttling comes
//! out as GitHub's secondary limit, `Fault::Exhausted` as its primary limit.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::{get, post};

use super::{Org, SandboxConfig, Shared};

mod apps;
mod audit;
mod device;
mod errors;
mod graphql;
mod hooks;
pub(crate) mod model;
mod rest;

pub use hooks::{GitHubCredentials, GitHubMember};
pub use model::GitHubOrgError;

use model::{Account, GhOrg};

/// What a token may do.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    /// The account it acts as.
    pub account: u32,
    /// Organisations (by index) it can see.
    pub orgs: Vec<usize>,
    /// Classic and OAuth tokens have scopes; `None` for a fine-grained
    /// token or an app installation token, which have permissions instead.
    pub scopes: Option<Vec<String>>,
}

impl Grant {
    /// Whether the token holds any of `accepted` (always, without scopes).
    pub fn allows(&self, accepted: &[&str]) -> bool {
        self.scopes
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| accepted.contains(&x.as_str())))
    }
}

/// Per-sandbox GitHub state, derived from the generated organisation.
pub(crate) struct State {
    pub(crate) accounts: Vec<Account>,
    /// Lower-cased login → index in `accounts`: every audit record names accounts.
    logins: HashMap<String, u32>,
    orgs: RwLock<Vec<GhOrg>>,
    pub(crate) tokens: Mutex<HashMap<String, Grant>>,
    /// The personal access token of each organisation, by index.
    pub(crate) org_tokens: Vec<String>,
    pub(crate) client_id: String,
    pub(crate) approver: u32,
    pub(crate) device: device::Flows,
    /// When set, `/graphql` refuses every token.
    pub(crate) graphql_refused: AtomicBool,
    /// Answers a test asked to be garbled: path → body, used once each.
    pub(crate) garbled: Mutex<Vec<(String, String)>>,
    /// Fields served with a test's value instead of their own: team slug or
    /// account login (lower-cased), field, value (issue 10).
    pub(crate) mistyped: Mutex<Vec<(String, String, serde_json::Value)>>,
    /// Issue 11: SSO credential authorizations removed, by credential id.
    pub(crate) sso_revoked: Mutex<std::collections::BTreeMap<u64, u64>>,
}

/// The scopes of each organisation's personal access token.
pub(crate) const PAT_SCOPES: &[&str] = &["admin:read", "read:audit_log", "read:org", "read:user"];

impl State {
    pub(crate) fn new(org: &Org, config: &SandboxConfig) -> State {
        let generated = model::generate(org, config.seed);
        let mut tokens = HashMap::new();
        for (i, token) in generated.tokens.iter().enumerate() {
            let owner = generated.orgs[i]
                .members
                .iter()
                .find(|m| m.1)
                .map_or(0, |m| m.0);
            tokens.insert(
                token.clone(),
                Grant {
                    account: owner,
                    orgs: vec![i],
                    scopes: Some(PAT_SCOPES.iter().map(|s| s.to_string()).collect()),
                },
            );
        }
        let logins = generated
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.login.to_ascii_lowercase(), i as u32))
            .collect();
        State {
            logins,
            accounts: generated.accounts,
            orgs: RwLock::new(generated.orgs),
            tokens: Mutex::new(tokens),
            org_tokens: generated.tokens,
            client_id: generated.client_id,
            approver: generated.approver,
            device: device::Flows::default(),
            graphql_refused: AtomicBool::new(false),
            garbled: Mutex::new(Vec::new()),
            mistyped: Mutex::new(Vec::new()),
            sso_revoked: Mutex::default(),
        }
    }

    /// The value a test set for `field` of the team or account `key`.
    pub(crate) fn mistyped(&self, key: &str, field: &str) -> Option<serde_json::Value> {
        let key = key.to_lowercase();
        super::lock_mutex(&self.mistyped)
            .iter()
            .find(|(k, f, _)| *k == key && f == field)
            .map(|(_, _, v)| v.clone())
    }

    /// `body` of the team or account `key` with the fields a test mistyped.
    pub(crate) fn with_mistyped(
        &self,
        key: &str,
        mut body: serde_json::Value,
    ) -> serde_json::Value {
        let key = key.to_lowercase();
        for (k, f, v) in super::lock_mutex(&self.mistyped).iter() {
            if *k == key
                && let Some(obj) = body.as_object_mut()
            {
                obj.insert(f.clone(), v.clone());
            }
        }
        body
    }

    pub(crate) fn orgs(&self) -> RwLockReadGuard<'_, Vec<GhOrg>> {
        self.orgs.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn orgs_mut(&self) -> RwLockWriteGuard<'_, Vec<GhOrg>> {
        self.orgs.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn grant(&self, token: &str) -> Option<Grant> {
        super::lock_mutex(&self.tokens).get(token).cloned()
    }

    pub(crate) fn account_by_login(&self, login: &str) -> Option<u32> {
        self.logins.get(&login.to_ascii_lowercase()).copied()
    }
}

/// GitHub's answers to the fault layer.
#[derive(Default)]
pub(crate) struct Dialect {
    window: errors::Window,
}

impl super::dialect::Dialect for Dialect {
    fn vendor(&self) -> &'static str {
        "GitHub"
    }

    fn serves(&self, path: &str) -> bool {
        path.starts_with("/orgs/")
            || path.starts_with("/organizations/")
            || path == "/graphql"
            || path.starts_with("/login/")
    }

    fn is_token_endpoint(&self, path: &str) -> bool {
        path == "/login/device/code" || path == "/login/oauth/access_token"
    }

    fn throttled(&self, wait: Option<std::time::Duration>, req: &Request) -> Response {
        errors::secondary(wait, req)
    }

    fn exhausted(&self, wait: std::time::Duration, req: &Request) -> Response {
        errors::exhausted(wait, req, 2_000_000)
    }

    fn unavailable(&self, _req: &Request) -> Response {
        errors::unavailable()
    }

    fn unknown(&self, _path: &str) -> Response {
        errors::not_found(errors::REST_DOCS)
    }

    fn decorate(&self, response: &mut Response) {
        self.window.decorate(response);
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/orgs/{org}", get(rest::organization))
        .route("/orgs/{org}/teams", get(rest::teams))
        .route("/organizations/{org}/teams", get(rest::teams))
        .route("/orgs/{org}/teams/{slug}", get(rest::team))
        .route("/orgs/{org}/teams/{slug}/members", get(rest::team_members))
        .route(
            "/organizations/{org}/team/{slug}/members",
            get(rest::team_members),
        )
        .route(
            "/orgs/{org}/teams/{slug}/memberships/{login}",
            get(rest::team_membership),
        )
        .route(
            "/orgs/{org}/teams/{slug}/invitations",
            get(rest::team_invitations),
        )
        .route("/orgs/{org}/installations", get(apps::installations))
        .route(
            "/organizations/{org}/installations",
            get(apps::installations),
        )
        .route(
            "/orgs/{org}/credential-authorizations",
            get(apps::credential_authorizations),
        )
        .route(
            "/organizations/{org}/credential-authorizations",
            get(apps::credential_authorizations),
        )
        .route(
            "/orgs/{org}/credential-authorizations/{credential}",
            axum::routing::delete(apps::remove_credential_authorization),
        )
        .route("/orgs/{org}/members", get(rest::members))
        .route("/organizations/{org}/members", get(rest::members))
        .route("/orgs/{org}/invitations", get(rest::invitations))
        .route("/orgs/{org}/audit-log", get(audit::audit_log))
        .route("/organizations/{org}/audit-log", get(audit::audit_log))
        .route("/graphql", post(graphql::graphql))
        .route("/login/device/code", post(device::device_code))
        .route("/login/oauth/access_token", post(device::access_token))
        .route("/login/device", get(device::verification_page))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            rest::garble,
        ))
        .with_state(shared)
}
