//! The Microsoft dialect: Entra ID tokens, Microsoft Graph v1.0 and the
//! Office 365 Management Activity API, at the vendors' own paths (only the
//! host differs: every vendor host maps to the sandbox's base URL).
//!
//! - `POST /{tenant}/oauth2/v2.0/token`: client credentials; scope
//!   `https://graph.microsoft.com/.default` or `https://manage.office.com/.default`;
//!   Entra's AADSTS errors (7000215 wrong secret, 700016 unknown client,
//!   90002 unknown tenant, 1002012 bad scope).
//! - Graph (`/v1.0/...`, Graph token): `groups` (`$top` 1..999, `$select`,
//!   `$search` and `$count` with `ConsistencyLevel: eventual`, `$filter`,
//!   no `$skip`), `groups/$count`, `groups/{id}`, `groups/{id}/members` and
//!   `transitiveMembers` (and their OData casts, which need the header and
//!   `$count=true`), `users`, `users/$count`, `users/{id}`, `organization`,
//!   `directoryRoles`, `directoryRoles/{id}/members`, `groups/delta`
//!   (nextLink pages, then a deltaLink; 410 Gone once tokens are expired),
//!   `auditLogs/signIns` and `auditLogs/directoryAudits` (newest first,
//!   last seven days, `$top` ≤ 1000, time window by `$filter`).
//! - Management Activity API (`/api/v1.0/{tenant}/activity/feed/...`,
//!   manage.office.com token): `subscriptions/start|stop|list|content`,
//!   `audit/{contentId}`. Starting an enabled subscription again is refused
//!   with AF20024, as the service does.
//!
//! Lists page by an absolute `@odata.nextLink` (opaque `$skiptoken`);
//! content listings by the `NextPageUri` header.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::Shared;

mod apps;
mod audit;
mod auth;
mod delta;
mod directory;
pub(crate) mod errors;
pub(crate) mod external;
mod governance;
mod graph;
mod management;
mod odata;
mod office;
mod records;

pub use errors::GraphError;

/// Per-sandbox Microsoft state: issued tokens and started subscriptions.
#[derive(Default)]
pub(crate) struct MicrosoftState {
    pub(crate) tokens: auth::Tokens,
    pub(crate) subscriptions: management::Subscriptions,
    pub(crate) external: external::ExternalState,
    pub(crate) governance: governance::Governance,
    pub(crate) apps: std::sync::Mutex<apps::Apps>,
}

/// Microsoft's answers to the fault layer: Graph's envelope, `Retry-After`.
pub(crate) struct Dialect;

impl super::dialect::Dialect for Dialect {
    fn vendor(&self) -> &'static str {
        "Microsoft"
    }

    fn serves(&self, path: &str) -> bool {
        path.starts_with("/v1.0/")
            || path.starts_with("/beta/")
            || path.starts_with("/api/v1.0/")
            || path.ends_with("/oauth2/v2.0/token")
    }

    fn is_token_endpoint(&self, path: &str) -> bool {
        path.ends_with("/oauth2/v2.0/token")
    }

    fn throttled(&self, wait: Option<std::time::Duration>, req: &Request) -> Response {
        errors::throttled(wait, req)
    }

    fn unavailable(&self, req: &Request) -> Response {
        errors::unavailable(req)
    }

    fn unknown(&self, path: &str) -> Response {
        unknown(path)
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let graph = Router::new()
        .route("/v1.0/groups", get(graph::list_groups))
        .route("/v1.0/groups/$count", get(graph::count_groups))
        .route("/v1.0/groups/delta", get(delta::groups_delta))
        .route("/v1.0/groups/{id}", get(graph::get_group))
        .route("/v1.0/groups/{id}/members", get(graph::direct_members))
        .route(
            "/v1.0/groups/{id}/members/{cast}",
            get(graph::direct_members_cast),
        )
        .route(
            "/v1.0/groups/{id}/transitiveMembers",
            get(graph::transitive_members),
        )
        .route(
            "/v1.0/groups/{id}/transitiveMembers/{cast}",
            get(graph::transitive_members_cast),
        )
        .route("/v1.0/users", get(graph::list_users))
        .route("/v1.0/users/$count", get(graph::count_users))
        .route(
            "/v1.0/users/{id}",
            get(graph::get_user).patch(governance::update_user),
        )
        .route(
            "/v1.0/users/{id}/revokeSignInSessions",
            post(governance::revoke_sessions),
        )
        .route("/v1.0/organization", get(graph::organization))
        .route("/v1.0/servicePrincipals", get(apps::service_principals))
        .route(
            "/v1.0/servicePrincipals/{id}/appRoleAssignments",
            get(apps::role_assignments),
        )
        .route(
            "/v1.0/servicePrincipals/{id}/appRoleAssignments/{assignment}",
            axum::routing::delete(apps::delete_assignment),
        )
        .route("/v1.0/oauth2PermissionGrants", get(apps::permission_grants))
        .route(
            "/v1.0/oauth2PermissionGrants/{id}",
            axum::routing::delete(apps::delete_grant),
        )
        .route("/v1.0/directoryRoles", get(graph::directory_roles))
        .route("/v1.0/directoryRoles/{id}", get(graph::directory_role))
        .route(
            "/v1.0/directoryRoles/{id}/members",
            get(graph::directory_role_members),
        )
        .route("/v1.0/auditLogs/signIns", get(audit::sign_ins))
        .route(
            "/v1.0/auditLogs/directoryAudits",
            get(audit::directory_audits),
        )
        .route_layer(from_fn_with_state(shared.clone(), auth::require_graph));
    let feed = "/api/v1.0/{tenant}/activity/feed";
    let management = Router::new()
        .route(
            &format!("{feed}/subscriptions/start"),
            post(management::start),
        )
        .route(
            &format!("{feed}/subscriptions/stop"),
            post(management::stop),
        )
        .route(&format!("{feed}/subscriptions/list"), get(management::list))
        .route(
            &format!("{feed}/subscriptions/content"),
            get(management::content),
        )
        .route(
            &format!("{feed}/audit/{{content_id}}"),
            get(management::blob),
        )
        .route_layer(from_fn_with_state(shared.clone(), auth::require_management));
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(auth::token))
        .merge(graph)
        .merge(management)
        .merge(external::router(shared.clone()))
        .layer(axum::middleware::from_fn(request_ids))
        .with_state(shared)
}

/// Graph answers every call with a `request-id`, and echoes the caller's
/// `client-request-id` (or repeats its own).
async fn request_ids(req: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = req
        .headers()
        .get("client-request-id")
        .cloned()
        .or_else(|| HeaderValue::from_str(&request_id).ok());
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("request-id", value);
    }
    if let Some(value) = client_request_id {
        headers.insert("client-request-id", value);
    }
    response
}

/// Graph answers an unknown segment with 400 BadRequest.
fn unknown(path: &str) -> Response {
    let segment = path.rsplit('/').next().unwrap_or_default().to_string();
    GraphError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "BadRequest",
        format!("Resource not found for the segment '{segment}'."),
    )
    .into_response()
}
