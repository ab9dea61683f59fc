//! The Okta dialect, at Okta's own paths (only the host differs), for two
//! orgs derived from the organisation (`orgs`): `contoso.okta.com` and
//! `contoso-emea.okta.com`. The sandbox is one host, so each request is
//! attributed to its org by its credential (`auth`).
//!
//! - `POST /oauth2/v1/token`: client credentials by `private_key_jwt` only;
//!   Okta's OAuth errors (`invalid_client` for a bad assertion, an unknown
//!   client or a bad signature; `invalid_scope`).
//! - `GET /api/v1/groups` (`q`, `search`, `filter`, `limit`, `after`),
//!   `/api/v1/groups/{id}`, `/api/v1/groups/{id}/users`, `/api/v1/users`
//!   (`q`, `search`, `filter`, `limit`, `after`), `/api/v1/users/{id}`
//!   (`directory`);
//! - `GET /api/v1/logs`: the System Log, polling and bounded (`log`);
//! - `POST /api/v1/users/{id}/lifecycle/{suspend,unsuspend,expire_password}`
//!   and `DELETE /api/v1/users/{id}/sessions`, needing `okta.users.manage`
//!   (`lifecycle`, issue 11);
//! - `GET /api/v1/users/{id}/grants`, `DELETE /api/v1/users/{id}/grants/{grantId}`
//!   and `DELETE /api/v1/users/{id}/clients/{clientId}/grants`: the consents
//!   users gave OAuth clients (`grants`, issue 11).
//!
//! Lists page by the `Link` header (`listing`); errors are Okta's error
//! object (401 `E0000011`, 403 `E0000006`, 404 `E0000007`, 429 `E0000047`
//! with `X-Rate-Limit-Reset`); every answer carries `X-Rate-Limit-Limit`,
//! `-Remaining` and `-Reset` for a per-minute window per endpoint family,
//! informational only (`errors`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State as Extract};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};

use super::{Org, Sandbox, SandboxConfig, Shared, lock_mutex};
use crate::domain::{AppKind, Secret};
use crate::store::NewInstance;

mod auth;
mod directory;
mod errors;
mod grants;
mod lifecycle;
mod listing;
mod log;
mod orgs;
mod scim;

use errors::{Family, OktaError};
pub use grants::OktaConsent;
pub use orgs::OktaStatus;

/// Per-sandbox Okta state: the orgs, issued tokens, and answers queued by tests.
pub(crate) struct State {
    orgs: RwLock<Vec<orgs::OktaOrg>>,
    issued: auth::Issued,
    canned: Mutex<Vec<Canned>>,
    /// (org, user id, action) → times carried out (issue 11).
    acted: Mutex<BTreeMap<(usize, String, String), u64>>,
}

/// An answer a test asked for, in place of the next one to a path.
struct Canned {
    prefix: String,
    status: StatusCode,
    body: String,
}

impl State {
    pub(crate) fn new(org: &Org, config: &SandboxConfig) -> State {
        State {
            orgs: RwLock::new(orgs::generate(org, config.seed)),
            issued: auth::Issued::default(),
            canned: Mutex::new(Vec::new()),
            acted: Mutex::new(BTreeMap::new()),
        }
    }

    pub(crate) fn read_orgs(&self) -> RwLockReadGuard<'_, Vec<orgs::OktaOrg>> {
        self.orgs
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write_orgs(&self) -> RwLockWriteGuard<'_, Vec<orgs::OktaOrg>> {
        self.orgs
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn take_canned(&self, path: &str) -> Option<Response> {
        let mut canned = lock_mutex(&self.canned);
        let at = canned.iter().position(|c| path.starts_with(&c.prefix))?;
        let c = canned.remove(at);
        let mut response = (c.status, Body::from(c.body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Some(response)
    }
}

/// Okta's answers to the fault layer, and its rate-limit counters.
#[derive(Default)]
pub(crate) struct Dialect {
    windows: errors::Windows,
}

impl super::dialect::Dialect for Dialect {
    fn vendor(&self) -> &'static str {
        "Okta"
    }

    fn serves(&self, path: &str) -> bool {
        path.starts_with("/api/v1/") || path.starts_with("/oauth2/v1/")
    }

    fn is_token_endpoint(&self, path: &str) -> bool {
        path == "/oauth2/v1/token"
    }

    fn throttled(&self, wait: Option<std::time::Duration>, req: &Request) -> Response {
        errors::throttled(wait, Family::of(req.uri().path()))
    }

    fn unavailable(&self, req: &Request) -> Response {
        errors::unavailable(Family::of(req.uri().path()))
    }

    fn unknown(&self, path: &str) -> Response {
        let mut response = OktaError::not_found(path, "Resource").into_response();
        response.extensions_mut().insert(Family::of(path));
        response
    }

    fn decorate(&self, response: &mut Response) {
        self.windows.decorate(response);
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/api/v1/groups", get(directory::list))
        .route("/api/v1/groups/{id}", get(directory::one))
        .route("/api/v1/groups/{id}/users", get(directory::list))
        .route("/api/v1/users", get(directory::list))
        .route("/api/v1/users/{id}", get(directory::one))
        .route(
            "/api/v1/users/{id}/lifecycle/{operation}",
            post(lifecycle::lifecycle),
        )
        .route(
            "/api/v1/users/{id}/sessions",
            delete(lifecycle::clear_sessions),
        )
        .route("/api/v1/users/{id}/grants", get(grants::list))
        .route(
            "/api/v1/users/{id}/grants/{grant}",
            delete(grants::revoke_one),
        )
        .route(
            "/api/v1/users/{id}/clients/{client}/grants",
            delete(grants::revoke_client),
        )
        .route("/api/v1/logs", get(log::logs))
        .route_layer(from_fn_with_state(shared.clone(), auth::require));
    Router::new()
        .route("/oauth2/v1/token", post(auth::token))
        .merge(api)
        .layer(from_fn_with_state(shared.clone(), stamp))
        .with_state(shared)
}

/// Every Okta answer names its endpoint family (for the rate-limit
/// counters) and carries a request id; a test's queued answer goes first.
async fn stamp(Extract(shared): Extract<Arc<Shared>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let mut response = match shared.okta.take_canned(&path) {
        Some(canned) => canned,
        None => next.run(req).await,
    };
    response.extensions_mut().insert(Family::of(&path));
    let id = uuid::Uuid::new_v4().simple().to_string();
    if let Ok(value) = HeaderValue::from_str(&id[..20]) {
        response.headers_mut().insert("x-okta-request-id", value);
    }
    response
}

/// What a person needs to connect one of the sandbox's Okta orgs.
#[derive(Debug, Clone)]
pub struct OktaCredentials {
    /// The org's Okta domain, e.g. `contoso.okta.com`; requests go to the
    /// sandbox's base URL (the instance endpoint) instead.
    pub domain: String,
    /// The secret when connecting with `--domain` alone.
    pub api_token: Secret,
    /// The API service app's client id (`--client-id`).
    pub client_id: String,
    /// The id of the service app's key; a JWK made from the private key
    /// should carry it as `kid` (a PEM key signs without one).
    pub key_id: String,
    /// The secret when connecting with `--client-id`: the app's private key.
    pub private_key_pem: Secret,
}

/// An Okta account as the sandbox holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct OktaAccount {
    pub id: String,
    pub login: String,
    pub email: String,
    pub status: OktaStatus,
    /// False for contractors, whom only this Okta org knows.
    pub staff: bool,
}

/// An Okta group and its members' ids, in list order.
#[derive(Debug, Clone, PartialEq)]
pub struct OktaGroupInfo {
    pub id: String,
    pub name: String,
    pub members: Vec<String>,
}

/// Why a change to a sandbox Okta org was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OktaSandboxError {
    #[error("the sandbox has no Okta org {0}; it has orgs 0 and 1")]
    NoOrg(usize),
    #[error("no user {0} in that Okta org")]
    NoUser(String),
    #[error("no group {0} in that Okta org")]
    NoGroup(String),
}

/// An account of `o` by id or login, or why not.
fn account(o: &orgs::OktaOrg, user: &str) -> Result<u32, OktaSandboxError> {
    o.user(user)
        .ok_or_else(|| OktaSandboxError::NoUser(user.to_string()))
}

impl Sandbox {
    /// The Okta orgs' credentials, org 0 first.
    pub fn okta_orgs(&self) -> Vec<OktaCredentials> {
        self.shared
            .okta
            .read_orgs()
            .iter()
            .map(|o| OktaCredentials {
                domain: o.domain.clone(),
                api_token: Secret::new(o.api_token.clone()),
                client_id: o.client_id.clone(),
                key_id: o.key_id.clone(),
                private_key_pem: Secret::new(o.private_pem),
            })
            .collect()
    }

    /// Okta org `org` as an instance to connect, reached through
    /// `base_url`: with the service app's client id when `service_app`
    /// (connect with its private key), else with the domain alone (connect
    /// with its API token).
    pub fn okta_instance(&self, org: usize, name: &str, service_app: bool) -> NewInstance {
        let creds = self.okta_orgs().into_iter().nth(org);
        let mut new = NewInstance::new(AppKind::Okta, name)
            .with_field("domain", creds.as_ref().map_or("", |c| c.domain.as_str()));
        if service_app {
            new = new.with_field(
                "client-id",
                creds.as_ref().map_or("", |c| c.client_id.as_str()),
            );
        }
        NewInstance {
            endpoint: Some(self.base_url()),
            ..new
        }
    }

    fn with_okta_org<T>(
        &self,
        org: usize,
        f: impl FnOnce(&mut orgs::OktaOrg) -> Result<T, OktaSandboxError>,
    ) -> Result<T, OktaSandboxError> {
        let mut orgs = self.shared.okta.write_orgs();
        let o = orgs.get_mut(org).ok_or(OktaSandboxError::NoOrg(org))?;
        f(o)
    }

    /// What `read` makes of Okta org `org` (nothing for an org there is not).
    fn read_okta<T>(&self, org: usize, read: impl FnOnce(&orgs::OktaOrg) -> Vec<T>) -> Vec<T> {
        self.shared
            .okta
            .read_orgs()
            .get(org)
            .map(read)
            .unwrap_or_default()
    }

    /// The accounts of an Okta org, in list order.
    pub fn okta_users(&self, org: usize) -> Vec<OktaAccount> {
        self.read_okta(org, |o| {
            let account = |u: &orgs::User| OktaAccount {
                id: u.id.clone(),
                login: u.login.clone(),
                email: u.email.clone(),
                status: u.status,
                staff: u.person != orgs::Person::Contractor,
            };
            o.users.iter().map(account).collect()
        })
    }

    /// The groups of an Okta org, in list order.
    pub fn okta_groups(&self, org: usize) -> Vec<OktaGroupInfo> {
        self.read_okta(org, |o| {
            let id_of = |&(_, i): &(u64, u32)| o.users[i as usize].id.clone();
            let info = |g: &orgs::Group| OktaGroupInfo {
                id: g.id.clone(),
                name: g.name.clone(),
                members: g.members.iter().map(id_of).collect(),
            };
            o.groups.iter().map(info).collect()
        })
    }

    /// Changes an account's status (`user` is its id or login).
    pub fn set_okta_status(
        &self,
        org: usize,
        user: &str,
        status: OktaStatus,
    ) -> Result<(), OktaSandboxError> {
        self.with_okta_org(org, |o| {
            let u = account(o, user)?;
            o.set_status(u, status);
            Ok(())
        })
    }

    /// Adds (`member`) or removes an account from a group (by ids).
    pub fn set_okta_member(
        &self,
        org: usize,
        group: &str,
        user: &str,
        member: bool,
    ) -> Result<(), OktaSandboxError> {
        self.with_okta_org(org, |o| {
            let g = o
                .group(group)
                .ok_or_else(|| OktaSandboxError::NoGroup(group.to_string()))?;
            let u = account(o, user)?;
            o.set_member(g, u, member);
            Ok(())
        })
    }

    /// Serves an account without its `id` from now on: a broken record.
    pub fn break_okta_user(&self, org: usize, user: &str) -> Result<(), OktaSandboxError> {
        self.with_okta_org(org, |o| {
            let u = account(o, user)?;
            o.users[u as usize].broken = true;
            Ok(())
        })
    }

    /// The scopes granted to an org's service app (the three read scopes and
    /// `okta.users.manage` unless changed); a token request asking for
    /// another is refused.
    pub fn set_okta_scopes(&self, org: usize, scopes: &[&str]) -> Result<(), OktaSandboxError> {
        self.with_okta_org(org, |o| {
            o.scopes = scopes.iter().map(|s| s.to_string()).collect();
            Ok(())
        })
    }

    /// How many times `action` (`suspend`, `unsuspend`, `expire_password`,
    /// `sessions`) was carried out on the account `user` (its id) of `org`.
    pub fn okta_acted(&self, org: usize, user: &str, action: &str) -> u64 {
        lock_mutex(&self.shared.okta.acted)
            .get(&(org, user.to_string(), action.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// Expires every Okta access token issued so far.
    pub fn expire_okta_tokens(&self) {
        self.shared.okta.issued.expire_all();
    }

    /// Answers the next Okta request whose path starts with `path_prefix`
    /// with `status` and `body` as given (a vendor answer that does not
    /// parse, say), whatever the request asked.
    pub fn okta_answer_next(&self, path_prefix: &str, status: u16, body: &str) {
        lock_mutex(&self.shared.okta.canned).push(Canned {
            prefix: path_prefix.to_string(),
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            body: body.to_string(),
        });
    }
}
