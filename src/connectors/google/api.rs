//! Calls to the Admin SDK: a bearer token, one refresh on 401, Google's
//! quota answers retried with backoff, and Google's error JSON
//! (`{"error":{"code","message","errors":[{"reason",…}],"status"}}`) mapped
//! to `ConnectorError`.

use std::time::SystemTime;

use reqwest::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::auth::Access;
use super::{GoogleWorkspace, VENDOR};
use crate::connectors::ConnectorError;
use crate::connectors::http::{
    BodyError, RawRecord, Reply, RetryAfterSignal, RetrySignal, Verdict, json,
};
use crate::domain::Secret;

/// Google's reasons for "slow down". Per the Directory API's limits page,
/// all are retried with exponential backoff; Google sends no wait.
const QUOTA_REASONS: [&str; 3] = [
    "userRateLimitExceeded",
    "rateLimitExceeded",
    "quotaExceeded",
];

/// Google says "slow down" with 403 `userRateLimitExceeded` or
/// `quotaExceeded` and 429 `rateLimitExceeded`, in the JSON error's
/// `errors[].reason`; 5xx is transient. Every other 403 is final.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct QuotaSignal;

impl RetrySignal for QuotaSignal {
    fn classify(&self, reply: &Reply, now: SystemTime) -> Verdict {
        if reply.status == StatusCode::FORBIDDEN {
            let e = error_of(reply);
            if e.reasons().any(|r| QUOTA_REASONS.contains(&r)) {
                return Verdict::Throttled(None);
            }
            return Verdict::Final;
        }
        // 429, 408 and 5xx, with a Retry-After should Google ever send one.
        RetryAfterSignal.classify(reply, now)
    }
}

#[derive(Deserialize, Default)]
struct Envelope {
    #[serde(default)]
    error: GoogleError,
}

#[derive(Deserialize, Default)]
struct GoogleError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    errors: Vec<Detail>,
    #[serde(default)]
    status: String,
}

#[derive(Deserialize, Default)]
struct Detail {
    #[serde(default)]
    reason: String,
}

impl GoogleError {
    fn reasons(&self) -> impl Iterator<Item = &str> {
        self.errors.iter().map(|d| d.reason.as_str())
    }

    /// The code to show: the first reason, else the status.
    fn code(&self) -> &str {
        self.reasons()
            .find(|r| !r.is_empty())
            .unwrap_or(self.status.as_str())
    }
}

fn error_of(reply: &Reply) -> GoogleError {
    serde_json::from_slice::<Envelope>(&reply.body)
        .unwrap_or_default()
        .error
}

/// One GET, described so it can be sent again and its failure explained.
pub(super) struct Call {
    pub url: Url,
    /// The scope it needs, named when Google says the token lacks it.
    pub scope: &'static str,
    /// What a 404 means ("group sales@contoso.com").
    pub what: String,
}

impl Call {
    pub fn new(url: Url, scope: &'static str, what: impl Into<String>) -> Call {
        Call {
            url,
            scope,
            what: what.into(),
        }
    }
}

/// One page of a Directory or Reports list: its records, unread (so that one
/// bad record is skipped rather than failing the page), and the next token.
#[derive(Debug)]
pub(super) struct ListPage {
    pub items: Vec<RawRecord>,
    pub next: Option<String>,
}

/// Decodes a list page whose records are in `field` (`groups`, `members`,
/// `users`, `items`). Google leaves the field out of an empty page.
pub(super) fn list_page(field: &'static str) -> impl Fn(&Reply) -> Result<ListPage, BodyError> {
    move |reply| {
        let wrong = |detail: String| BodyError {
            retry: false,
            detail,
        };
        // The records stay raw: each is read on its own (`read_record`).
        let mut body: std::collections::HashMap<String, RawRecord> =
            json(reply).map_err(|e| match e.retry {
                true => e,
                false => wrong("the answer is not a JSON object".to_owned()),
            })?;
        let items = match body.remove(field) {
            None => Vec::new(),
            Some(raw) => serde_json::from_str::<Option<Vec<RawRecord>>>(raw.get())
                .map_err(|_| wrong(format!("\"{field}\" is not a list")))?
                .unwrap_or_default(),
        };
        let next = match body.remove("nextPageToken") {
            None => None,
            Some(raw) => serde_json::from_str::<Option<String>>(raw.get())
                .map_err(|_| wrong("\"nextPageToken\" is not text".to_owned()))?
                .filter(|t| !t.is_empty()),
        };
        Ok(ListPage { items, next })
    }
}

/// The Reports API's answer to an impersonated user who may not read the
/// audit log: a 401 that no new token will cure.
const NOT_AN_AUDIT_READER: &str = "not authorized to read activity records";

impl GoogleWorkspace {
    pub(super) async fn get<T: DeserializeOwned>(&self, call: &Call) -> Result<T, ConnectorError> {
        self.get_with(call, json).await
    }

    /// Sends `call` with the read token; see `get_as`.
    pub(super) async fn get_with<T>(
        &self,
        call: &Call,
        decode: impl Fn(&Reply) -> Result<T, BodyError>,
    ) -> Result<T, ConnectorError> {
        self.get_as(Access::Read, call, decode).await
    }

    /// Sends `call` with the token for `access`; a 401 drops the token and tries
    /// once more with a fresh one (a token can be revoked before it expires) —
    /// except the Reports API's 401 for who may not read the audit log.
    pub(super) async fn get_as<T>(
        &self,
        access: Access,
        call: &Call,
        decode: impl Fn(&Reply) -> Result<T, BodyError>,
    ) -> Result<T, ConnectorError> {
        let decode = &decode;
        let send = |token: Secret| async move {
            let request = |c: &reqwest::Client| {
                c.get(call.url.clone())
                    .bearer_auth(token.expose())
                    .header(reqwest::header::ACCEPT, "application/json")
            };
            self.http.send(request, decode).await
        };
        let renewable = |r: &Reply| {
            !error_of(r)
                .message
                .to_lowercase()
                .contains(NOT_AN_AUDIT_READER)
        };
        let fetch = || self.request_token_for(access.scopes());
        let reply = self
            .slot(access)
            .send_authorized(VENDOR, fetch, send, renewable)
            .await?;
        reply.map_err(|r| self.api_error(&r, call))
    }

    /// Google's error, mapped to what the user can act on.
    pub(super) fn api_error(&self, reply: &Reply, call: &Call) -> ConnectorError {
        let e = error_of(reply);
        let status = reply.status.as_u16();
        let code = match self.clean(e.code()) {
            c if c.is_empty() => status.to_string(),
            c => c,
        };
        let said = self.clean(e.message.lines().next().unwrap_or_default());
        let admin = &self.admin;
        match status {
            401 if said.to_lowercase().contains(NOT_AN_AUDIT_READER) => {
                ConnectorError::Permission {
                    vendor: VENDOR,
                    code,
                    message: format!(
                        "{admin} may not read the audit log (Google: {said}); --admin-email must name an administrator with the Reports privilege"
                    ),
                }
            }
            401 => ConnectorError::Auth {
                vendor: VENDOR,
                code,
                message: format!(
                    "the access token was refused (Google: {said}); check the service account's key"
                ),
            },
            403 if code == "insufficientPermissions" => ConnectorError::Permission {
                vendor: VENDOR,
                code,
                message: format!(
                    "{} needs the scope {} (Google: {said}); authorise it for the service account's domain-wide delegation",
                    call.what, call.scope
                ),
            },
            403 if code == "forbidden" => ConnectorError::Permission {
                vendor: VENDOR,
                code,
                message: format!(
                    "{admin} may not read {} (Google: {said}); --admin-email must name an administrator of the Workspace",
                    call.what
                ),
            },
            403 => ConnectorError::Permission {
                vendor: VENDOR,
                code,
                message: if said.is_empty() {
                    format!("{} was refused", call.what)
                } else {
                    format!("Google says: {said}")
                },
            },
            404 => ConnectorError::NotFound {
                vendor: VENDOR,
                what: call.what.clone(),
            },
            // Google's answer to a customer it does not know.
            400 if code == "badRequest" => ConnectorError::Vendor {
                vendor: VENDOR,
                status,
                code,
                message: format!(
                    "Google says: {said}; check --customer-id ({}), which the Admin console shows under Account › Account settings",
                    self.clean(&self.customer)
                ),
            },
            _ => ConnectorError::Vendor {
                vendor: VENDOR,
                status,
                code,
                message: said,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
    }

    fn google_error(code: u16, reason: &str, message: &str) -> String {
        serde_json::json!({"error": {"code": code, "message": message,
            "errors": [{"message": message, "domain": "usageLimits", "reason": reason}],
            "status": "PERMISSION_DENIED"}})
        .to_string()
    }

    // Google's quota answers are throttling; other 403s are final.
    #[test]
    fn quota_reasons_are_throttling_and_other_refusals_final() {
        let now = SystemTime::now();
        for (status, reason) in [
            (403, "userRateLimitExceeded"),
            (403, "quotaExceeded"),
            (429, "rateLimitExceeded"),
        ] {
            assert_eq!(
                QuotaSignal.classify(&reply(status, &google_error(status, reason, "slow")), now),
                Verdict::Throttled(None),
                "{reason}"
            );
        }
        for reason in ["forbidden", "insufficientPermissions", "dailyLimitExceeded"] {
            assert_eq!(
                QuotaSignal.classify(&reply(403, &google_error(403, reason, "no")), now),
                Verdict::Final,
                "{reason}"
            );
        }
        assert_eq!(
            QuotaSignal.classify(&reply(403, "<html>"), now),
            Verdict::Final
        );
        assert_eq!(
            QuotaSignal.classify(&reply(503, &google_error(503, "backendError", "x")), now),
            Verdict::Transient(None)
        );
    }

    #[test]
    fn list_pages_refuse_a_wrong_shape() {
        let page =
            list_page("groups")(&reply(200, r#"{"kind":"admin#directory#groups"}"#)).unwrap();
        assert!(page.items.is_empty() && page.next.is_none());
        let page = list_page("users")(&reply(
            200,
            r#"{"users":[{"id":"1"},7],"nextPageToken":"t"}"#,
        ))
        .unwrap();
        assert_eq!((page.items.len(), page.next.as_deref()), (2, Some("t")));
        for bad in [r#"["x"]"#, r#"{"users":"none"}"#, r#"{"nextPageToken":5}"#] {
            let e = list_page("users")(&reply(200, bad)).unwrap_err();
            assert!(!e.retry, "{bad}");
        }
        assert!(
            list_page("users")(&reply(200, r#"{"users":[{"#))
                .unwrap_err()
                .retry
        );
    }
}
