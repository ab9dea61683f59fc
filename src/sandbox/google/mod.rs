//! The Google Workspace dialect, at Google's own paths (only the host
//! differs: `oauth2.googleapis.com` and `admin.googleapis.com` both map to
//! the sandbox's base URL).
//!
//! - `POST /token`: the JWT bearer grant of a service account with
//!   domain-wide delegation (`auth`): signature, issuer, Google's fixed
//!   audience, lifetime, subject and delegated scopes checked, refused with
//!   Google's `invalid_grant` / `unauthorized_client` / `invalid_scope`.
//! - Directory API (`/admin/directory/v1/...`, `directory`): `groups`
//!   (`customer` or `domain`, `maxResults` ≤ 200, `query` with `name`/`email`
//!   `=` and `:{PREFIX}*`), `groups/{groupKey}` (id or e-mail),
//!   `groups/{groupKey}/members` (`maxResults` ≤ 200, nested groups as GROUP
//!   members unless `includeDerivedMembership=true`), `users` (`maxResults`
//!   ≤ 500, `query` with `isAdmin=`, `isSuspended=`, `isArchived=`, `email`…),
//!   `users/{userKey}`, and the tokens accounts issued to apps
//!   (`users/{userKey}/tokens[/{clientId}]`, `tokens`, issue 11). A token
//!   acting as someone who is not an administrator gets 403 "Not Authorized to
//!   access this resource/api"; a token without the API's scope 403
//!   `insufficientPermissions`.
//! - Reports API (`/admin/reports/v1/activity/users/{userKey}/applications/
//!   {login,admin,drive,token}`, `reports`): newest first, `startTime`,
//!   `endTime`, `maxResults` ≤ 1000, `pageToken`; a non-administrator gets
//!   Google's 401 "Access denied. You are not authorized to read activity
//!   records."
//!
//! Lists page by `nextPageToken`/`pageToken` (`paging` cursors). Throttle
//! faults answer 403 `userRateLimitExceeded`, quota faults 429
//! `rateLimitExceeded`, both without a wait; outages 503 `backendError`;
//! unknown paths Google's HTML 404 page.

use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::Router;
use axum::extract::{Request, State as Extract};
use axum::http::{StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};

use super::{Org, SandboxConfig, Shared, lock_mutex};

mod auth;
mod directory;
mod errors;
mod governance;
mod handle;
mod query;
mod reports;
mod tokens;
mod workspace;

pub use handle::{GoogleAccount, GoogleCredentials, GoogleGroup};
pub use tokens::GoogleToken;
pub use workspace::WorkspaceError;

use auth::Api;
use errors::GoogleError;
use workspace::Workspace;

/// Per-sandbox Google Workspace state, derived from the generated organisation.
pub(crate) struct State {
    workspace: RwLock<Workspace>,
    pub(crate) account: auth::ServiceAccount,
    pub(crate) tokens: auth::Tokens,
    /// Path prefix → how many answers there still serve unreadable JSON.
    garbled: Mutex<Vec<(String, u32)>>,
    /// (account's primary e-mail, action) → times carried out (issue 11).
    pub(crate) acted: Mutex<std::collections::BTreeMap<(String, String), u64>>,
}

impl State {
    pub(crate) fn new(org: &Org, config: &SandboxConfig) -> State {
        State {
            workspace: RwLock::new(Workspace::generate(org, config.seed)),
            account: auth::ServiceAccount::new(config.seed),
            tokens: auth::Tokens::default(),
            garbled: Mutex::new(Vec::new()),
            acted: Mutex::default(),
        }
    }

    pub(crate) fn workspace(&self) -> RwLockReadGuard<'_, Workspace> {
        self.workspace
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn workspace_mut(&self) -> RwLockWriteGuard<'_, Workspace> {
        self.workspace
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this answer at `path` is to be garbled, using one up.
    fn take_garbled(&self, path: &str) -> bool {
        let mut queued = lock_mutex(&self.garbled);
        let Some(at) = queued
            .iter()
            .position(|(p, n)| *n > 0 && path.starts_with(p))
        else {
            return false;
        };
        queued[at].1 -= 1;
        queued.retain(|(_, n)| *n > 0);
        true
    }
}

/// Google's answers to the fault layer.
pub(crate) struct Dialect;

impl super::dialect::Dialect for Dialect {
    fn vendor(&self) -> &'static str {
        "Google"
    }

    fn serves(&self, path: &str) -> bool {
        path == "/token"
            || path.starts_with("/admin/directory/")
            || path.starts_with("/admin/reports/")
    }

    fn is_token_endpoint(&self, path: &str) -> bool {
        path == "/token"
    }

    /// Google names no wait: the client backs off on its own.
    fn throttled(&self, _wait: Option<std::time::Duration>, _req: &Request) -> Response {
        GoogleError::user_rate_limited().into_response()
    }

    fn exhausted(&self, _wait: std::time::Duration, _req: &Request) -> Response {
        GoogleError::rate_limited().into_response()
    }

    fn unavailable(&self, _req: &Request) -> Response {
        GoogleError::unavailable().into_response()
    }

    fn unknown(&self, path: &str) -> Response {
        errors::unknown(path)
    }
}

/// A test's "answer that does not parse": well-formed JSON of the wrong shape.
async fn garble(Extract(shared): Extract<Arc<Shared>>, req: Request, next: Next) -> Response {
    if shared.google.take_garbled(req.uri().path()) {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
            r#"["not what the API documents"]"#,
        )
            .into_response();
    }
    next.run(req).await
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let guarded = |api: Api, routes: Router<Arc<Shared>>| {
        routes.route_layer(from_fn_with_state((shared.clone(), api), auth::require))
    };
    let dir = "/admin/directory/v1";
    let groups = guarded(
        Api::Groups,
        Router::new()
            .route(&format!("{dir}/groups"), get(directory::list_groups))
            .route(&format!("{dir}/groups/{{key}}"), get(directory::get_group)),
    );
    let members = guarded(
        Api::Members,
        Router::new().route(
            &format!("{dir}/groups/{{key}}/members"),
            get(directory::list_members),
        ),
    );
    let users = guarded(
        Api::Users,
        Router::new()
            .route(&format!("{dir}/users"), get(directory::list_users))
            .route(&format!("{dir}/users/{{key}}"), get(directory::get_user)),
    );
    let manage = guarded(
        Api::ManageUsers,
        Router::new().route(
            &format!("{dir}/users/{{key}}"),
            patch(governance::update_user),
        ),
    );
    let security = guarded(
        Api::Security,
        Router::new()
            .route(
                &format!("{dir}/users/{{key}}/signOut"),
                post(governance::sign_out),
            )
            .route(&format!("{dir}/users/{{key}}/tokens"), get(tokens::list))
            .route(
                &format!("{dir}/users/{{key}}/tokens/{{client}}"),
                delete(tokens::delete),
            ),
    );
    let reports = guarded(
        Api::Reports,
        Router::new().route(
            "/admin/reports/v1/activity/users/{user}/applications/{application}",
            get(reports::activities),
        ),
    );
    Router::new()
        .route("/token", post(auth::token))
        .merge(groups)
        .merge(members)
        .merge(users)
        .merge(manage)
        .merge(security)
        .merge(reports)
        .layer(from_fn_with_state(shared.clone(), garble))
        .with_state(shared)
}
