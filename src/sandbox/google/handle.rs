//! The sandbox's Google Workspace as tests, `casbah sandbox serve` and the
//! demo see it: what a person needs to connect, and changes to the customer.

use crate::domain::{AppKind, Secret};
use crate::sandbox::Sandbox;
use crate::store::NewInstance;

use super::auth::CLIENT_EMAIL;
use super::workspace::{Member, WorkspaceError};

/// What a person needs to connect the sandbox's Google Workspace.
#[derive(Debug, Clone)]
pub struct GoogleCredentials {
    /// `--admin-email`: a super administrator to impersonate.
    pub admin_email: String,
    /// `--customer-id`.
    pub customer_id: String,
    /// The service account (`client_email`).
    pub client_email: String,
    /// The number authorised for domain-wide delegation.
    pub client_id: String,
    /// The JSON key file, its `token_uri` at the sandbox.
    pub service_account_key: Secret,
}

/// A Workspace account, for tests to compare with.
#[derive(Debug, Clone, PartialEq)]
pub struct GoogleAccount {
    pub id: String,
    pub email: String,
    pub name: String,
    pub suspended: bool,
    pub archived: bool,
    pub admin: bool,
}

/// A Workspace group and the people in it, nesting flattened.
#[derive(Debug, Clone, PartialEq)]
pub struct GoogleGroup {
    pub id: String,
    pub email: String,
    pub name: String,
    /// Direct members of every kind.
    pub direct_members: usize,
    /// Accounts reached directly or through nested groups: e-mail and
    /// member status (`ACTIVE`, `SUSPENDED`, `ARCHIVED`).
    pub users: Vec<(String, &'static str)>,
}

impl Sandbox {
    /// Everything `connectors add google-workspace` asks for.
    pub fn google_credentials(&self) -> GoogleCredentials {
        GoogleCredentials {
            admin_email: self.google_admin_email(),
            customer_id: self.google_customer_id(),
            client_email: CLIENT_EMAIL.to_owned(),
            client_id: self.shared.google.account.client_id.clone(),
            service_account_key: self.google_service_account_key(),
        }
    }

    /// The service account's JSON key file, its `token_uri` at the sandbox.
    pub fn google_service_account_key(&self) -> Secret {
        let token_uri = format!("{}/token", self.base_url());
        Secret::new(self.shared.google.account.key_file(&token_uri).to_string())
    }

    /// A super administrator the service account may act as.
    pub fn google_admin_email(&self) -> String {
        self.shared
            .google
            .workspace()
            .admin()
            .map(|a| a.primary_email.clone())
            .unwrap_or_default()
    }

    /// The customer id (`C0…`).
    pub fn google_customer_id(&self) -> String {
        self.shared.google.workspace().customer_id.clone()
    }

    /// An active account that is no administrator.
    pub fn google_user_email(&self) -> String {
        self.shared
            .google
            .workspace()
            .accounts
            .iter()
            .find(|a| !a.is_admin && !a.suspended && !a.archived)
            .map(|a| a.primary_email.clone())
            .unwrap_or_default()
    }

    /// This customer as a Google Workspace instance to connect (with
    /// `google_service_account_key`), reached through `base_url`.
    pub fn google_instance(&self, name: &str) -> NewInstance {
        NewInstance {
            endpoint: Some(self.base_url()),
            ..NewInstance::new(AppKind::GoogleWorkspace, name)
                .with_field("admin-email", &self.google_admin_email())
                .with_field("customer-id", &self.google_customer_id())
        }
    }

    pub fn google_accounts(&self) -> Vec<GoogleAccount> {
        self.shared
            .google
            .workspace()
            .accounts
            .iter()
            .map(|a| GoogleAccount {
                id: a.id.clone(),
                email: a.primary_email.clone(),
                name: a.full_name(),
                suspended: a.suspended,
                archived: a.archived,
                admin: a.is_admin,
            })
            .collect()
    }

    /// Every group, in the order `groups.list` answers.
    pub fn google_groups(&self) -> Vec<GoogleGroup> {
        let ws = self.shared.google.workspace();
        (0..ws.groups.len())
            .map(|i| {
                let g = &ws.groups[i];
                let users = ws
                    .derived_members(i)
                    .into_iter()
                    .filter_map(|m| match m {
                        Member::User(a) => {
                            let a = &ws.accounts[a as usize];
                            Some((a.primary_email.clone(), a.status()))
                        }
                        _ => None,
                    })
                    .collect();
                GoogleGroup {
                    id: g.id.clone(),
                    email: g.email.clone(),
                    name: g.name.clone(),
                    direct_members: g.members.len(),
                    users,
                }
            })
            .collect()
    }

    pub fn google_set_suspended(&self, email: &str, on: bool) -> Result<(), WorkspaceError> {
        self.shared.google.workspace_mut().set_suspended(email, on)
    }

    pub fn google_set_archived(&self, email: &str, on: bool) -> Result<(), WorkspaceError> {
        self.shared.google.workspace_mut().set_archived(email, on)
    }

    /// Adds an account, a group or an outside address to a group (by e-mail).
    pub fn google_add_member(&self, group: &str, member: &str) -> Result<(), WorkspaceError> {
        self.shared.google.workspace_mut().add_member(group, member)
    }

    pub fn google_remove_member(&self, group: &str, member: &str) -> Result<(), WorkspaceError> {
        self.shared
            .google
            .workspace_mut()
            .remove_member(group, member)
    }

    /// From now on the account's records are served without their `id`: a
    /// bad record among good ones.
    pub fn google_withhold_id(&self, email: &str) -> Result<(), WorkspaceError> {
        self.shared.google.workspace_mut().withhold_id(email)
    }

    /// The next `count` answers at paths starting with `path_prefix` are
    /// well-formed JSON of a shape no Google API answers with.
    pub fn google_garble_next(&self, path_prefix: &str, count: u32) {
        super::lock_mutex(&self.shared.google.garbled).push((path_prefix.to_owned(), count));
    }

    /// Replaces the scopes authorised for the service account's domain-wide
    /// delegation (at start, the four read scopes casbah asks for and the
    /// two read-write ones account governance asks for).
    pub fn google_delegate_scopes(&self, scopes: &[&str]) {
        *self
            .shared
            .google
            .account
            .delegated
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            scopes.iter().map(|s| s.to_string()).collect();
    }

    /// How many times `action` (`suspend`, `unsuspend`, `change-password`,
    /// `sign-out`) was carried out on the account `email` (issue 11).
    pub fn google_acted(&self, email: &str, action: &str) -> u64 {
        super::lock_mutex(&self.shared.google.acted)
            .get(&(email.to_owned(), action.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Expires every Google access token issued so far.
    pub fn google_expire_tokens(&self) {
        self.shared.google.tokens.expire_all();
    }
}
