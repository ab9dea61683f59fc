//! Issue 11: account governance through the Directory API: `suspended` and
//! `changePasswordAtNextLogin` by `PATCH users/{userKey}`, and
//! `POST users/{userKey}/signOut`, with a token of their own for the
//! read-write scopes (`MANAGE_SCOPES`). Each is idempotent at Google (the
//! same PATCH twice leaves the account as once), so the usual retries apply.
//! Google's answers carry no request id.

use reqwest::Method;
use serde_json::json;

use super::api::Call;
use super::auth::{Access, MANAGE_SCOPES};
use super::{GoogleWorkspace, VENDOR};
use crate::connectors::ConnectorError;
use crate::connectors::governance::{Sends, account_id, not_on_an_account, receipt, receipt_of};
use crate::connectors::url::url;
use crate::domain::Secret;
use crate::domain::governance::{AccountAction, ActionReceipt};

impl GoogleWorkspace {
    pub(super) async fn act(
        &self,
        action: AccountAction,
        user: &str,
    ) -> Result<ActionReceipt, ConnectorError> {
        let key = account_id(VENDOR, user)?;
        let mut path = vec!["admin", "directory", "v1", "users", key];
        let (method, body, scope) = match action {
            AccountAction::Suspend | AccountAction::Unsuspend => (
                Method::PATCH,
                Some(json!({"suspended": action == AccountAction::Suspend})),
                MANAGE_SCOPES[0],
            ),
            AccountAction::RequirePasswordChange => (
                Method::PATCH,
                Some(json!({"changePasswordAtNextLogin": true})),
                MANAGE_SCOPES[0],
            ),
            AccountAction::SignOut => {
                path.push("signOut");
                (Method::POST, None, MANAGE_SCOPES[1])
            }
            AccountAction::RevokeGrant => return Err(not_on_an_account(VENDOR)),
        };
        let call = Call::new(
            url(&self.hosts.api, &path, &[]),
            scope,
            format!("user {}", self.clean(key)),
        );
        let body = body.map(|b| b.to_string());
        self.send_action(Access::Manage, method, &call, body).await
    }

    /// Sends a change with the token for `access`, retried as reads are (every
    /// change casbah makes at Google is idempotent). A DELETE answered 404 once
    /// sent again was carried out by an attempt whose answer was lost (`Sends`).
    pub(super) async fn send_action(
        &self,
        access: Access,
        method: Method,
        call: &Call,
        body: Option<String>,
    ) -> Result<ActionReceipt, ConnectorError> {
        let (method, body) = (&method, &body);
        let send = |token: Secret| async move {
            let sends = Sends::default();
            let request = |c: &reqwest::Client| {
                sends.count();
                let b = c
                    .request(method.clone(), call.url.clone())
                    .bearer_auth(token.expose())
                    .header(reqwest::header::ACCEPT, "application/json");
                match body {
                    Some(json) => b
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(json.clone()),
                    None => b,
                }
            };
            Ok(match self.http.send(request, receipt(None)).await? {
                Err(r) if sends.gone(method, &r) => Ok(receipt_of(None, &r)),
                answer => answer,
            })
        };
        let fetch = || self.request_token_for(access.scopes());
        let reply = self
            .slot(access)
            .send_authorized(VENDOR, fetch, send, |_| true)
            .await?;
        reply.map_err(|r| self.api_error(&r, call))
    }
}
