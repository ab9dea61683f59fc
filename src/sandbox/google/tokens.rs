//! The OAuth tokens accounts issued to apps (issue 11), at the Directory API's
//! paths:
//!
//! - `GET /admin/directory/v1/users/{userKey}/tokens`: `admin#directory#tokenList`
//!   with the account's tokens in `items` (left out when it has none, as Google
//!   leaves out empty lists); 404 `notFound` for an unknown `userKey`. Never paged.
//! - `DELETE /admin/directory/v1/users/{userKey}/tokens/{clientId}`: every token
//!   of that app for that account; 204, no body; 404 for an unknown account, and
//!   for an app the account holds no token of (inferred: Google documents no
//!   answer for it).
//!
//! Both need `admin.directory.user.security` and an administrator, checked by
//! `auth::require` (403 `insufficientPermissions` without the scope).
//!
//! Which accounts use which apps is drawn from the seed: a handful of apps, from
//! a sign-in-only chat app most people use to a mail merge few do that may send
//! mail and read Drive.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::directory::etag;
use super::errors::GoogleError;
use super::governance::count;
use super::workspace::Workspace;
use crate::sandbox::{Sandbox, Shared, lock_mutex};

const AUTH: &str = "https://www.googleapis.com/auth/";

/// An app accounts issue tokens to, and the share of accounts that did.
struct App {
    client_id: &'static str,
    name: &'static str,
    /// Google's scopes, less the `https://www.googleapis.com/auth/` of most.
    scopes: &'static [&'static str],
    /// Registered with an anonymous client id.
    anonymous: bool,
    /// Installed on a device rather than run on the web.
    native: bool,
    share: f64,
}

const APPS: [App; 6] = [
    App {
        client_id: "433176587205-slk8f3r0u1ha7bq6v9pdnc4mqg2jt5oe.apps.googleusercontent.com",
        name: "Slack",
        scopes: &["openid", "userinfo.email", "userinfo.profile"],
        anonymous: false,
        native: false,
        share: 0.45,
    },
    App {
        client_id: "849883241272-ed6lnodi1grnoomsqoo0sm04ph3ek8u9.apps.googleusercontent.com",
        name: "Zoom",
        scopes: &["userinfo.email", "userinfo.profile", "calendar.events"],
        anonymous: false,
        native: false,
        share: 0.3,
    },
    App {
        client_id: "1012945776452-mm7q2b0v4k9lrt3c8fjx6d1hpeon5gsa.apps.googleusercontent.com",
        name: "Mail merge",
        scopes: &["userinfo.email", "gmail.send", "drive"],
        anonymous: false,
        native: false,
        share: 0.06,
    },
    App {
        client_id: "290358162870-q4b8t1cjv7m2o9e6kzrd5n3xlh0fwgai.apps.googleusercontent.com",
        name: "Meeting Scheduler",
        scopes: &["calendar.readonly"],
        anonymous: false,
        native: false,
        share: 0.15,
    },
    App {
        client_id: "anonymous-5f2c9e71b3d04a68.apps.googleusercontent.com",
        name: "Unregistered mail sync",
        scopes: &["https://mail.google.com/"],
        anonymous: true,
        native: false,
        share: 0.03,
    },
    App {
        client_id: "406964657835-aq8lmia8j95dhl1a2bvharmfk3t1hgqj.apps.googleusercontent.com",
        name: "Thunderbird",
        scopes: &["https://mail.google.com/", "calendar", "carddav"],
        anonymous: false,
        native: true,
        share: 0.04,
    },
];

/// The whole scope, as Google lists it.
fn scope(s: &str) -> String {
    if s.starts_with("https://") || s == "openid" {
        s.to_owned()
    } else {
        format!("{AUTH}{s}")
    }
}

/// Each account's tokens (indices into `APPS`), drawn from `seed`.
pub(crate) fn issued(accounts: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x70CE_A995);
    (0..accounts)
        .map(|_| {
            (0..APPS.len() as u8)
                .filter(|&app| rng.random_bool(APPS[app as usize].share))
                .collect()
        })
        .collect()
}

fn token_json(ws: &Workspace, account: usize, app: u8) -> Value {
    let a = &APPS[app as usize];
    let user = &ws.accounts[account].id;
    json!({
        "kind": "admin#directory#token",
        "etag": etag(&format!("{user}/{}", a.client_id)),
        "clientId": a.client_id,
        "displayText": a.name,
        "anonymous": a.anonymous,
        "nativeApp": a.native,
        "userKey": user,
        "scopes": a.scopes.iter().map(|s| scope(s)).collect::<Vec<_>>(),
    })
}

/// `GET users/{userKey}/tokens`.
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
) -> Result<Json<Value>, GoogleError> {
    let ws = shared.google.workspace();
    let i = ws
        .account(&key)
        .ok_or_else(|| GoogleError::not_found("userKey"))?;
    let mut body = json!({
        "kind": "admin#directory#tokenList",
        "etag": etag(&format!("{}/tokens", ws.accounts[i].id)),
    });
    let items: Vec<Value> = ws.tokens[i]
        .iter()
        .map(|&app| token_json(&ws, i, app))
        .collect();
    if !items.is_empty() {
        body["items"] = Value::Array(items);
    }
    Ok(Json(body))
}

/// `DELETE users/{userKey}/tokens/{clientId}`.
pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path((key, client)): Path<(String, String)>,
) -> Result<Response, GoogleError> {
    let email = {
        let mut ws = shared.google.workspace_mut();
        let i = ws
            .account(&key)
            .ok_or_else(|| GoogleError::not_found("userKey"))?;
        let held = &mut ws.tokens[i];
        let before = held.len();
        held.retain(|&app| APPS[app as usize].client_id != client);
        if held.len() == before {
            return Err(GoogleError::not_found("clientId"));
        }
        ws.accounts[i].primary_email.clone()
    };
    count(&shared, email, &revoked(&client));
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// How a revocation is counted beside the account actions.
fn revoked(client: &str) -> String {
    format!("revoke-token {client}")
}

/// A token an account issued, as tests compare it with a grant.
#[derive(Debug, Clone, PartialEq)]
pub struct GoogleToken {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
}

impl Sandbox {
    /// The tokens the account `email` issued to apps, in `tokens.list` order.
    pub fn google_tokens(&self, email: &str) -> Vec<GoogleToken> {
        let ws = self.shared.google.workspace();
        let Some(i) = ws.account(email) else {
            return Vec::new();
        };
        ws.tokens[i]
            .iter()
            .map(|&app| {
                let a = &APPS[app as usize];
                GoogleToken {
                    client_id: a.client_id.to_owned(),
                    name: a.name.to_owned(),
                    scopes: a.scopes.iter().map(|s| scope(s)).collect(),
                }
            })
            .collect()
    }

    /// How many times the account `email`'s tokens of the app `client_id` were
    /// revoked (issue 11).
    pub fn google_revoked(&self, email: &str, client_id: &str) -> u64 {
        lock_mutex(&self.shared.google.acted)
            .get(&(email.to_owned(), revoked(client_id)))
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 11: the same seed draws the same tokens; most accounts hold some, every
    // app is somebody's, and few hold the risky mail merge.
    #[test]
    fn tokens_are_drawn_from_the_seed() {
        let tokens = issued(2000, 42);
        assert_eq!(tokens, issued(2000, 42));
        assert_ne!(tokens, issued(2000, 43));
        let holders = |app: u8| tokens.iter().filter(|t| t.contains(&app)).count();
        for app in 0..APPS.len() as u8 {
            assert!(holders(app) > 0, "{}", APPS[app as usize].name);
        }
        assert!(holders(2) < holders(0));
        assert!(tokens.iter().filter(|t| !t.is_empty()).count() > 1000);
        assert_eq!(scope("drive"), "https://www.googleapis.com/auth/drive");
        assert_eq!(
            scope("https://mail.google.com/"),
            "https://mail.google.com/"
        );
    }
}
