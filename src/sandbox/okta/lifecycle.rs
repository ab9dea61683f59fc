//! Account governance at Okta's paths (issue 11), with Okta's rules:
//!
//! - `POST /api/v1/users/{id}/lifecycle/suspend`: only an ACTIVE user, who
//!   becomes SUSPENDED; anyone else is 400 `E0000001`. Not idempotent: a second
//!   suspend is refused, which is why a client must never resend it blindly.
//! - `POST /api/v1/users/{id}/lifecycle/unsuspend`: only a SUSPENDED user,
//!   back to ACTIVE; likewise refused otherwise.
//! - `POST /api/v1/users/{id}/lifecycle/expire_password`: an ACTIVE or
//!   PASSWORD_EXPIRED user becomes PASSWORD_EXPIRED; answered `{}`.
//! - `DELETE /api/v1/users/{id}/sessions`: ends the user's sessions; 204,
//!   also when there were none.
//!
//! Each needs `okta.users.manage` on a service app's token (see `auth`).
//! Every call is counted per user and action, so tests can see what was sent.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::auth::Caller;
use super::errors::OktaError;
use super::orgs::OktaStatus;
use crate::sandbox::{Shared, lock_mutex};

/// `POST …/lifecycle/{operation}`.
pub(crate) async fn lifecycle(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path((id, operation)): Path<(String, String)>,
) -> Result<Response, OktaError> {
    let (from, to): (&[OktaStatus], OktaStatus) = match operation.as_str() {
        "suspend" => (&[OktaStatus::Active], OktaStatus::Suspended),
        "unsuspend" => (&[OktaStatus::Suspended], OktaStatus::Active),
        "expire_password" => (
            &[OktaStatus::Active, OktaStatus::PasswordExpired],
            OktaStatus::PasswordExpired,
        ),
        other => return Err(OktaError::not_found(other, "Lifecycle operation")),
    };
    let mut orgs = shared.okta.write_orgs();
    let org = &mut orgs[caller.org];
    let user = org
        .user(&id)
        .ok_or_else(|| OktaError::not_found(&id, "User"))?;
    let now = org.users[user as usize].status;
    if !from.contains(&now) {
        return Err(OktaError::validation(format!(
            "{operation}: the user is {}, and only a user who is {} can be",
            now.as_str(),
            from.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        )));
    }
    org.set_status(user, to);
    let key = (caller.org, org.users[user as usize].id.clone());
    drop(orgs);
    *lock_mutex(&shared.okta.acted)
        .entry((key.0, key.1, operation))
        .or_default() += 1;
    Ok((StatusCode::OK, Json(json!({}))).into_response())
}

/// `DELETE …/sessions`.
pub(crate) async fn clear_sessions(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, OktaError> {
    let user_id = {
        let orgs = shared.okta.read_orgs();
        let org = &orgs[caller.org];
        let user = org
            .user(&id)
            .ok_or_else(|| OktaError::not_found(&id, "User"))?;
        org.users[user as usize].id.clone()
    };
    *lock_mutex(&shared.okta.acted)
        .entry((caller.org, user_id, "sessions".into()))
        .or_default() += 1;
    Ok(StatusCode::NO_CONTENT.into_response())
}
