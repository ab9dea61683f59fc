//! The consents users gave OAuth clients (issue 11), at Okta's User Grants API:
//!
//! - `GET /api/v1/users/{userId}/grants` (`okta.users.read`): one grant per
//!   scope, `ACTIVE`, with `_links.client.title` the app's name; `limit` 20 by
//!   default, at most 200, paged by `Link`; `scopeId` filters; `expand=scope`
//!   adds `_embedded.scope`. 404 `E0000007` for an unknown user.
//! - `DELETE /api/v1/users/{userId}/grants/{grantId}` (`okta.users.manage`):
//!   that one grant; 204; 404 for a grant the user does not have.
//! - `DELETE /api/v1/users/{userId}/clients/{clientId}/grants`
//!   (`okta.users.manage`): every grant the user gave the client; 204, also
//!   when there was none (inferred); 404 for a client the org does not have.
//!
//! Okta's own scopes (`okta.users.read`) are their own `scopeId`; the others
//! (`openid`, a custom `calendar.read`) have an id such as `scpCmCCV1DpxVkCaye2X`.
//! Who consented to which client is drawn from the seed.

use std::sync::Arc;

use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::auth::Caller;
use super::errors::OktaError;
use super::listing::{Params, answer, scope};
use super::orgs::{OktaOrg, User, okta_id, okta_time};
use crate::sandbox::paging::{self, PageSize};
use crate::sandbox::{Sandbox, Shared, lock_mutex};

/// An OAuth client users consent to, its scopes, and the share of users who did.
struct ClientPlan {
    name: &'static str,
    scopes: &'static [&'static str],
    share: f64,
}

const CLIENTS: [ClientPlan; 4] = [
    ClientPlan {
        name: "Expense Tracker",
        scopes: &["openid", "profile", "email"],
        share: 0.4,
    },
    ClientPlan {
        name: "Team Calendar",
        scopes: &["openid", "email", "calendar.read"],
        share: 0.25,
    },
    ClientPlan {
        name: "Admin Dashboard",
        scopes: &["okta.users.read", "okta.groups.read"],
        share: 0.05,
    },
    ClientPlan {
        name: "HR Sync",
        scopes: &["openid", "okta.users.manage"],
        share: 0.03,
    },
];

/// `GET …/grants`: Okta's page sizes for it.
const GRANT_PAGE: PageSize = PageSize {
    default: 20,
    max: 200,
    cap: true,
};

/// One of the org's OAuth clients.
pub(crate) struct Client {
    pub id: String,
    /// Each scope's `scopeId`, in `CLIENTS` order.
    scope_ids: Vec<String>,
}

/// One user's consent to one scope of one client.
pub(crate) struct Consent {
    /// Keys the list's cursors; never reused.
    serial: u64,
    pub id: String,
    pub user: u32,
    pub client: usize,
    scope: usize,
    created: DateTime<Utc>,
}

/// An org's clients and every consent its users gave them.
pub(crate) struct Consents {
    pub clients: Vec<Client>,
    pub list: Vec<Consent>,
}

/// The clients and consents of org `number`, drawn from `seed`.
pub(crate) fn generate(users: &[User], seed: u64, number: u8) -> Consents {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0C7A_64A7 ^ (u64::from(number) << 40));
    let clients: Vec<Client> = CLIENTS
        .iter()
        .map(|c| Client {
            id: okta_id(&mut rng, "0oa", 17),
            scope_ids: c
                .scopes
                .iter()
                .map(|s| match s.starts_with("okta.") {
                    true => (*s).to_owned(),
                    false => okta_id(&mut rng, "scp", 17),
                })
                .collect(),
        })
        .collect();
    let mut list = Vec::new();
    for (user, u) in users.iter().enumerate() {
        for (client, plan) in CLIENTS.iter().enumerate() {
            if !rng.random_bool(plan.share) {
                continue;
            }
            let created = u.created + TimeDelta::days(rng.random_range(1..120));
            for scope in 0..plan.scopes.len() {
                list.push(Consent {
                    serial: list.len() as u64,
                    id: okta_id(&mut rng, "oag", 17),
                    user: user as u32,
                    client,
                    scope,
                    created: created.min(Utc::now()),
                });
            }
        }
    }
    Consents { clients, list }
}

impl Consents {
    fn scope_id(&self, c: &Consent) -> &str {
        &self.clients[c.client].scope_ids[c.scope]
    }
}

/// A grant as Okta answers it, with the scope itself when `expand=scope`.
fn grant_json(org: &OktaOrg, base: &str, c: &Consent, expand: bool) -> Value {
    let client = &org.grants.clients[c.client];
    let plan = &CLIENTS[c.client];
    let scope_name = plan.scopes[c.scope];
    let scope_id = org.grants.scope_id(c);
    let user = &org.users[c.user as usize];
    // Okta's scopes belong to the org's authorization server, the rest to `default`.
    let issuer = match scope_name.starts_with("okta.") {
        true => format!("https://{}", org.domain),
        false => format!("https://{}/oauth2/default", org.domain),
    };
    let own = format!("{base}/api/v1/users/{}/grants/{}", user.id, c.id);
    let mut grant = json!({
        "id": c.id,
        "status": "ACTIVE",
        "created": okta_time(c.created),
        "createdBy": {"id": user.id, "type": "User"},
        "lastUpdated": okta_time(c.created),
        "issuer": issuer,
        "clientId": client.id,
        "userId": user.id,
        "scopeId": scope_id,
        "source": "END_USER",
        "_links": {
            "app": {"href": format!("{base}/api/v1/apps/{}", client.id), "title": plan.name},
            "client": {"href": format!("{base}/oauth2/v1/clients/{}", client.id), "title": plan.name},
            "scope": {"href": format!("{base}/api/v1/authorizationServers/default/scopes/{scope_id}"), "title": scope_name},
            "user": {"href": format!("{base}/api/v1/users/{}", user.id), "title": user.name()},
            "self": {"href": own},
            "revoke": {"href": own, "hints": {"allow": ["DELETE"]}},
        },
    });
    if expand {
        grant["_embedded"] = json!({"scope": {"id": scope_id, "name": scope_name,
            "displayName": scope_name, "description": format!("Lets the app use {scope_name}")}});
    }
    grant
}

/// `GET /api/v1/users/{userId}/grants`.
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Result<Response, OktaError> {
    let orgs = shared.okta.read_orgs();
    let org = &orgs[caller.org];
    let user = org
        .user(&id)
        .ok_or_else(|| OktaError::not_found(&id, "User"))?;
    let params = Params::parse(raw.as_deref());
    let size = params.limit(GRANT_PAGE)?;
    let only = params.get("scopeId");
    let items: Vec<(u64, usize)> = (org.grants.list.iter().enumerate())
        .filter(|(_, c)| c.user == user && only.is_none_or(|s| org.grants.scope_id(c) == s))
        .map(|(i, c)| (c.serial, i))
        .collect();
    let (page, next) = paging::page(&items, &scope(caller.org, &uri), params.get("after"), size)
        .map_err(|_| OktaError::validation("after: the cursor is not valid for this list"))?;
    let expand = params.get("expand") == Some("scope");
    let base = shared.base_url.as_str();
    let records = page
        .iter()
        .map(|&(_, i)| grant_json(org, base, &org.grants.list[i], expand))
        .collect();
    Ok(answer(base, &uri, &params, records, next.as_deref(), &[]))
}

/// `DELETE /api/v1/users/{userId}/grants/{grantId}`.
pub(crate) async fn revoke_one(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path((id, grant)): Path<(String, String)>,
) -> Result<Response, OktaError> {
    revoke(&shared, caller.org, &id, |org, user| {
        let c = (org.grants.list.iter())
            .find(|c| c.user == user && c.id == grant)
            .ok_or_else(|| OktaError::not_found(&grant, "OAuth2ScopeConsentGrant"))?;
        Ok((c.client, Some(c.serial)))
    })
}

/// `DELETE /api/v1/users/{userId}/clients/{clientId}/grants`.
pub(crate) async fn revoke_client(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path((id, client)): Path<(String, String)>,
) -> Result<Response, OktaError> {
    revoke(&shared, caller.org, &id, |org, _| {
        let at = (org.grants.clients.iter())
            .position(|c| c.id == client)
            .ok_or_else(|| OktaError::not_found(&client, "OAuth2Client"))?;
        Ok((at, None))
    })
}

/// Removes the user's grants to the client `pick` names (only the one with that
/// serial, if it names one), and counts the revocation.
fn revoke(
    shared: &Shared,
    org: usize,
    id: &str,
    pick: impl FnOnce(&OktaOrg, u32) -> Result<(usize, Option<u64>), OktaError>,
) -> Result<Response, OktaError> {
    let key = {
        let mut orgs = shared.okta.write_orgs();
        let o = &mut orgs[org];
        let user = o.user(id).ok_or_else(|| OktaError::not_found(id, "User"))?;
        let (client, serial) = pick(o, user)?;
        o.grants.list.retain(|c| {
            c.user != user || c.client != client || serial.is_some_and(|s| s != c.serial)
        });
        (
            o.users[user as usize].id.clone(),
            revoked(&o.grants.clients[client].id),
        )
    };
    *lock_mutex(&shared.okta.acted)
        .entry((org, key.0, key.1))
        .or_default() += 1;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// How a revocation is counted beside the account actions.
fn revoked(client: &str) -> String {
    format!("revoke-grants {client}")
}

/// A consent a user gave, as tests compare it with a grant.
#[derive(Debug, Clone, PartialEq)]
pub struct OktaConsent {
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    pub scope: String,
}

impl Sandbox {
    /// The grants the user `user` (id or login) of `org` gave OAuth clients, in
    /// list order.
    pub fn okta_grants(&self, org: usize, user: &str) -> Vec<OktaConsent> {
        self.read_okta(org, |o| {
            let Some(u) = o.user(user) else {
                return Vec::new();
            };
            let consent = |c: &Consent| OktaConsent {
                id: c.id.clone(),
                client_id: o.grants.clients[c.client].id.clone(),
                client_name: CLIENTS[c.client].name.to_owned(),
                scope: CLIENTS[c.client].scopes[c.scope].to_owned(),
            };
            o.grants
                .list
                .iter()
                .filter(|c| c.user == u)
                .map(consent)
                .collect()
        })
    }

    /// How many revocations of the grants the user `user` (its id) of `org` gave
    /// the client `client_id` were carried out (issue 11).
    pub fn okta_revoked(&self, org: usize, user: &str, client_id: &str) -> u64 {
        lock_mutex(&self.shared.okta.acted)
            .get(&(org, user.to_string(), revoked(client_id)))
            .copied()
            .unwrap_or(0)
    }
}
