//! Issue 11: account governance through Graph: `accountEnabled` and
//! `passwordProfile` by `PATCH /users/{id}`, and
//! `POST /users/{id}/revokeSignInSessions`. Each is idempotent at Graph (the
//! same PATCH twice leaves the account as once; revoking sessions twice ends
//! them once), so the usual retries of throttling and 5xx apply. A missing
//! application permission is named in the error.

use reqwest::Method;
use serde_json::json;

use super::endpoints::url;
use super::external::{ExternalApiError, call};
use super::{Microsoft365, VENDOR, clean};
use crate::connectors::ConnectorError;
use crate::connectors::governance::{account_id, not_on_an_account, receipt};
use crate::domain::governance::{AccountAction, ActionReceipt};

impl Microsoft365 {
    pub(super) async fn act(
        &self,
        action: AccountAction,
        user: &str,
    ) -> Result<ActionReceipt, ConnectorError> {
        let id = account_id(VENDOR, user)?;
        let at = |rest: &[&str]| {
            let mut segments = vec!["v1.0", "users", id];
            segments.extend_from_slice(rest);
            url(&self.hosts.graph, &segments, &[])
        };
        let (method, target, body, permission) = match action {
            AccountAction::Suspend | AccountAction::Unsuspend => (
                Method::PATCH,
                at(&[]),
                Some(json!({"accountEnabled": action == AccountAction::Unsuspend})),
                "User.EnableDisableAccount.All",
            ),
            AccountAction::SignOut => (
                Method::POST,
                at(&["revokeSignInSessions"]),
                None,
                "User.RevokeSessions.All",
            ),
            AccountAction::RequirePasswordChange => (
                Method::PATCH,
                at(&[]),
                Some(json!({"passwordProfile": {"forceChangePasswordNextSignIn": true}})),
                "User-PasswordProfile.ReadWrite.All",
            ),
            AccountAction::RevokeGrant => return Err(not_on_an_account(VENDOR)),
        };
        let c = call(method, target, permission, format!("user {}", clean(id)));
        self.send(&c, body, receipt(Some("request-id")))
            .await
            .map_err(as_connector_error)
    }
}

/// An action's failure in the words every connector uses; Graph's 409 is one.
pub(super) fn as_connector_error(e: ExternalApiError) -> ConnectorError {
    match e {
        ExternalApiError::Connector(c) => c,
        other => ConnectorError::Vendor {
            vendor: VENDOR,
            status: 409,
            code: "Conflict".into(),
            message: other.to_string(),
        },
    }
}
