//! Account governance at Graph's paths (issue 11):
//!
//! - `PATCH /v1.0/users/{id}` with `accountEnabled` (needs
//!   `User.EnableDisableAccount.All` or `User.ReadWrite.All`) or
//!   `passwordProfile.forceChangePasswordNextSignIn` (needs
//!   `User-PasswordProfile.ReadWrite.All` or `User.ReadWrite.All`; the tenant
//!   writes passwords back to its on-premises AD, so synced accounts take it);
//!   204. Idempotent, as Graph's PATCH is. The tenant's members sync from
//!   on-premises AD (`onPremisesSyncEnabled`), which would undo a suspension
//!   made in the cloud: the warning casbah gives is about that.
//! - `POST /v1.0/users/{id}/revokeSignInSessions` (needs
//!   `User.RevokeSessions.All` or `User.ReadWrite.All`); 200 `{"value": true}`.
//!
//! A missing permission is 403 `Authorization_RequestDenied`, as Graph
//! answers it. The application permissions granted to casbah's app
//! registration are the sandbox's to change (`Sandbox::set_graph_permissions`).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::errors::GraphError;
use crate::sandbox::{Shared, lock_mutex};

/// Granted unless a test says otherwise: the read permissions and the write
/// ones account governance needs.
pub(crate) const GRANTED: [&str; 10] = [
    "User.Read.All",
    "Group.Read.All",
    "GroupMember.Read.All",
    "AuditLog.Read.All",
    "Directory.Read.All",
    "User.EnableDisableAccount.All",
    "User.RevokeSessions.All",
    "User-PasswordProfile.ReadWrite.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
];

/// What account governance has done, and what it may do.
pub(crate) struct Governance {
    pub granted: std::sync::Mutex<BTreeSet<String>>,
    /// (user, action) → times carried out.
    pub acted: std::sync::Mutex<std::collections::BTreeMap<(Uuid, String), u64>>,
}

impl Default for Governance {
    fn default() -> Governance {
        Governance {
            granted: std::sync::Mutex::new(GRANTED.iter().map(|s| s.to_string()).collect()),
            acted: std::sync::Mutex::default(),
        }
    }
}

/// One of `permissions` is granted, or Graph's 403.
pub(crate) fn require(shared: &Shared, permissions: &[&str]) -> Result<(), GraphError> {
    let granted = lock_mutex(&shared.microsoft.governance.granted);
    if permissions.iter().any(|p| granted.contains(*p)) {
        return Ok(());
    }
    Err(GraphError::new(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    ))
}

fn count(shared: &Shared, user: Uuid, action: &str) {
    *lock_mutex(&shared.microsoft.governance.acted)
        .entry((user, action.to_string()))
        .or_default() += 1;
}

/// The user a path names, by object id or user principal name.
fn user_of(shared: &Shared, id: &str) -> Result<Uuid, GraphError> {
    let org = shared.org();
    let found = match Uuid::parse_str(id) {
        Ok(uuid) => org.user_index(&uuid),
        Err(_) => org
            .users
            .iter()
            .position(|u| u.user_principal_name.eq_ignore_ascii_case(id)),
    };
    found
        .filter(|&i| org.users[i].deleted.is_none())
        .map(|i| org.users[i].id)
        .ok_or_else(|| GraphError::not_found(id))
}

pub(crate) fn with_request_id(status: StatusCode, body: Option<Value>) -> Response {
    let mut response = match body {
        Some(b) => (status, Json(b)).into_response(),
        None => status.into_response(),
    };
    if let Ok(id) = HeaderValue::from_str(&Uuid::new_v4().to_string()) {
        response.headers_mut().insert("request-id", id);
    }
    response
}

/// `PATCH /v1.0/users/{id}`.
pub(crate) async fn update_user(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, GraphError> {
    let patch: serde_json::Map<String, Value> = serde_json::from_slice(&body)
        .map_err(|e| GraphError::bad_request(format!("Invalid request body: {e}")))?;
    let user = user_of(&shared, &id)?;
    for (key, value) in &patch {
        match (key.as_str(), value) {
            ("accountEnabled", Value::Bool(enabled)) => {
                require(
                    &shared,
                    &["User.EnableDisableAccount.All", "User.ReadWrite.All"],
                )?;
                shared
                    .org_mut()
                    .set_account_enabled(&user, *enabled)
                    .map_err(|_| GraphError::not_found(&id))?;
                count(&shared, user, if *enabled { "enable" } else { "disable" });
            }
            ("passwordProfile", profile)
                if profile["forceChangePasswordNextSignIn"] == Value::Bool(true) =>
            {
                require(
                    &shared,
                    &["User-PasswordProfile.ReadWrite.All", "User.ReadWrite.All"],
                )?;
                count(&shared, user, "force-password-change");
            }
            (other, _) => {
                return Err(GraphError::bad_request(format!(
                    "Property '{other}' cannot be updated in the sandbox: it takes accountEnabled and passwordProfile.forceChangePasswordNextSignIn."
                )));
            }
        }
    }
    Ok(with_request_id(StatusCode::NO_CONTENT, None))
}

/// `POST /v1.0/users/{id}/revokeSignInSessions`.
pub(crate) async fn revoke_sessions(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, GraphError> {
    let user = user_of(&shared, &id)?;
    require(&shared, &["User.RevokeSessions.All", "User.ReadWrite.All"])?;
    count(&shared, user, "revoke-sessions");
    Ok(with_request_id(
        StatusCode::OK,
        Some(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean",
            "value": true,
        })),
    ))
}
