//! Account governance at the Directory API's paths (issue 11):
//!
//! - `PATCH /admin/directory/v1/users/{userKey}` with `suspended` or
//!   `changePasswordAtNextLogin` (scope `admin.directory.user`): the user
//!   resource as it now is. Idempotent, as Google's PATCH is.
//! - `POST /admin/directory/v1/users/{userKey}/signOut` (scope
//!   `admin.directory.user.security`): 204, no body.
//!
//! The scopes and the administrator are checked by `auth::require`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::directory::user_json;
use super::errors::GoogleError;
use crate::sandbox::{Shared, lock_mutex};

/// Counts `action` done to the account `email`, for the tests' hooks.
pub(super) fn count(shared: &Shared, email: String, action: &str) {
    *lock_mutex(&shared.google.acted)
        .entry((email, action.to_string()))
        .or_default() += 1;
}

/// `PATCH users/{userKey}`.
pub(crate) async fn update_user(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, GoogleError> {
    let patch: serde_json::Map<String, Value> =
        serde_json::from_slice(&body).map_err(|_| GoogleError::bad_request())?;
    let mut ws = shared.google.workspace_mut();
    let i = ws
        .account(&key)
        .ok_or_else(|| GoogleError::not_found("userKey"))?;
    let email = ws.accounts[i].primary_email.clone();
    for (field, value) in &patch {
        match (field.as_str(), value) {
            ("suspended", Value::Bool(suspended)) => {
                ws.accounts[i].suspended = *suspended;
                let action = if *suspended { "suspend" } else { "unsuspend" };
                count(&shared, email.clone(), action);
            }
            ("changePasswordAtNextLogin", Value::Bool(true)) => {
                count(&shared, email.clone(), "change-password");
            }
            _ => return Err(GoogleError::bad_request()),
        }
    }
    Ok(Json(user_json(&ws, i)).into_response())
}

/// `POST users/{userKey}/signOut`.
pub(crate) async fn sign_out(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
) -> Result<Response, GoogleError> {
    let email = {
        let ws = shared.google.workspace();
        let i = ws
            .account(&key)
            .ok_or_else(|| GoogleError::not_found("userKey"))?;
        ws.accounts[i].primary_email.clone()
    };
    count(&shared, email, "sign-out");
    Ok(StatusCode::NO_CONTENT.into_response())
}
