//! The Microsoft dialect: Entra ID tokens, Microsoft Graph v1.0 and the
//! Office 365 Management Activity API, at the vendors' own paths.

use std::sync::Arc;

use axum::Router;
use axum::http::Uri;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::Shared;

mod auth;
mod directory;
pub(crate) mod errors;
mod graph;
mod odata;

pub use auth::Audience;
pub use errors::GraphError;

/// Per-sandbox Microsoft state: issued tokens and started subscriptions.
#[derive(Default)]
pub(crate) struct MicrosoftState {
    pub(crate) tokens: auth::Tokens,
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let graph = Router::new()
        .route("/v1.0/groups", get(graph::list_groups))
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
        .route("/v1.0/users/{id}", get(graph::get_user))
        .route("/v1.0/organization", get(graph::organization))
        .route("/v1.0/directoryRoles", get(graph::directory_roles))
        .route("/v1.0/directoryRoles/{id}", get(graph::directory_role))
        .route(
            "/v1.0/directoryRoles/{id}/members",
            get(graph::directory_role_members),
        )
        .route_layer(from_fn_with_state(shared.clone(), auth::require_graph));
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(auth::token))
        .merge(graph)
        .fallback(unknown)
        .with_state(shared)
}

/// Graph answers an unknown segment with 400 BadRequest.
async fn unknown(uri: Uri) -> Response {
    let segment = uri
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    GraphError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "BadRequest",
        format!("Resource not found for the segment '{segment}'."),
    )
    .into_response()
}
