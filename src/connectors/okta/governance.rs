//! Issue 11: account governance through Okta's lifecycle operations, with a
//! token that carries `okta.users.manage` (asked for only here).
//!
//! Suspend and unsuspend are not idempotent at Okta (a second suspend is 400
//! `E0000001`), so each action is sent at most once: sent again only after a
//! 401 to a stale token or a 429, which both mean it was not carried out.
//! Revoking an app's grants is a DELETE that leaves the same state however
//! often it is sent, so it is retried as reads are (`send_manage`).

use reqwest::Method;

use super::api::{Call, Reads};
use super::auth::Grant;
use super::{Okta, VENDOR, clean};
use crate::connectors::ConnectorError;
use crate::connectors::governance::{Sends, account_id, not_on_an_account, receipt, receipt_of};
use crate::domain::governance::{AccountAction, ActionReceipt};

/// Where Okta puts the id of a request, which its support can look up.
const REQUEST_ID: Option<&str> = Some("x-okta-request-id");

impl Okta {
    pub(super) async fn act(
        &self,
        action: AccountAction,
        user: &str,
    ) -> Result<ActionReceipt, ConnectorError> {
        let id = account_id(VENDOR, user)?;
        let (method, last) = match action {
            AccountAction::Suspend => (Method::POST, ["lifecycle", "suspend"].as_slice()),
            AccountAction::Unsuspend => (Method::POST, ["lifecycle", "unsuspend"].as_slice()),
            AccountAction::RequirePasswordChange => {
                (Method::POST, ["lifecycle", "expire_password"].as_slice())
            }
            AccountAction::SignOut => (Method::DELETE, ["sessions"].as_slice()),
            AccountAction::RevokeGrant => return Err(not_on_an_account(VENDOR)),
        };
        let mut segments = vec!["api", "v1", "users", id];
        segments.extend_from_slice(last);
        let call = Call {
            url: self.url(&segments, &[]),
            reads: Reads::ManageUsers,
            what: format!("user {}", clean(id)),
        };
        self.send_manage(method, &call, false).await
    }

    /// Sends a change with the manage token. `repeatable` says whether it may be
    /// sent again after a 5xx or an answer that never came; if not, only after a
    /// refused stale token or a 429, which both mean it was not carried out. A
    /// repeatable DELETE answered 404 once sent again was carried out by an
    /// attempt whose answer was lost (`Sends`).
    pub(super) async fn send_manage(
        &self,
        method: Method,
        call: &Call,
        repeatable: bool,
    ) -> Result<ActionReceipt, ConnectorError> {
        let mut renewed = false;
        loop {
            let header = self.auth.header_for(self, Grant::Manage).await?;
            let sends = Sends::default();
            let request = |c: &reqwest::Client| {
                sends.count();
                c.request(method.clone(), call.url.clone())
                    .header(reqwest::header::AUTHORIZATION, header.expose())
                    .header(reqwest::header::ACCEPT, "application/json")
            };
            let reply = if repeatable {
                self.http.send(request, receipt(REQUEST_ID)).await?
            } else {
                self.http.send_once(request, receipt(REQUEST_ID)).await?
            };
            match reply {
                Ok(done) => return Ok(done),
                // A refused token: nothing was done, so sending again is safe.
                Err(r) if r.status.as_u16() == 401 && !renewed && self.auth.is_service_app() => {
                    self.auth.forget(&header).await;
                    renewed = true;
                }
                Err(r) if repeatable && sends.gone(&method, &r) => {
                    return Ok(receipt_of(REQUEST_ID, &r));
                }
                Err(r) => return Err(self.api_error(&r, call)),
            }
        }
    }
}
