//! Okta's error object, its throttling and outage answers, and the
//! `X-Rate-Limit-*` counters every answer carries.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::sandbox::lock_mutex;

/// An error Okta would answer with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OktaError {
    pub status: StatusCode,
    pub code: &'static str,
    pub summary: String,
}

impl OktaError {
    pub fn new(status: StatusCode, code: &'static str, summary: impl Into<String>) -> OktaError {
        OktaError {
            status,
            code,
            summary: summary.into(),
        }
    }

    /// 400 `E0000001`: a parameter Okta will not take.
    pub fn validation(what: impl std::fmt::Display) -> OktaError {
        OktaError::new(
            StatusCode::BAD_REQUEST,
            "E0000001",
            format!("Api validation failed: {what}"),
        )
    }

    /// 400 `E0000031`: a search or filter Okta cannot read.
    pub fn bad_search() -> OktaError {
        OktaError::new(
            StatusCode::BAD_REQUEST,
            "E0000031",
            "Invalid search criteria.",
        )
    }

    /// 404 `E0000007`.
    pub fn not_found(id: &str, kind: &str) -> OktaError {
        OktaError::new(
            StatusCode::NOT_FOUND,
            "E0000007",
            format!("Not found: Resource not found: {id} ({kind})"),
        )
    }

    /// 401 `E0000011`: whatever is wrong with the credential, Okta says this.
    pub fn invalid_token() -> OktaError {
        OktaError::new(
            StatusCode::UNAUTHORIZED,
            "E0000011",
            "Invalid token provided",
        )
    }

    /// 403 `E0000006`.
    pub fn forbidden() -> OktaError {
        OktaError::new(
            StatusCode::FORBIDDEN,
            "E0000006",
            "You do not have permission to perform the requested action",
        )
    }
}

/// `{errorCode, errorSummary, errorLink, errorId, errorCauses}`.
pub(crate) fn body(code: &str, summary: &str) -> serde_json::Value {
    let id = uuid::Uuid::new_v4().simple().to_string();
    json!({
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": format!("oae{}", &id[..22]),
        "errorCauses": [],
    })
}

impl IntoResponse for OktaError {
    fn into_response(self) -> Response {
        (self.status, Json(body(self.code, &self.summary))).into_response()
    }
}

/// The endpoint families Okta counts requests by, each with its own
/// per-minute limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Family {
    Token,
    Users,
    Groups,
    Logs,
    Other,
}

impl Family {
    pub fn of(path: &str) -> Family {
        if path.starts_with("/oauth2/") {
            Family::Token
        } else if path.starts_with("/api/v1/users") {
            Family::Users
        } else if path.starts_with("/api/v1/groups") {
            Family::Groups
        } else if path.starts_with("/api/v1/logs") {
            Family::Logs
        } else {
            Family::Other
        }
    }

    /// Requests a minute (Okta's published defaults for these endpoints).
    fn limit(self) -> u32 {
        match self {
            Family::Token | Family::Users | Family::Other => 600,
            Family::Groups => 500,
            Family::Logs => 120,
        }
    }
}

/// The org an answer was for, when its credential said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attributed(pub usize);

/// Per-minute request counts by org and family. Informational: the counters
/// are reported, never enforced (throttling comes from the fault layer).
#[derive(Default)]
pub(crate) struct Windows(Mutex<HashMap<(Option<usize>, Family), Window>>);

/// The minute (since the epoch) a window is for, and the requests in it.
type Window = (u64, u32);

fn epoch_secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

fn set(headers: &mut HeaderMap, name: &'static str, value: u64) {
    if !headers.contains_key(name) {
        headers.insert(name, HeaderValue::from(value));
    }
}

impl Windows {
    /// Counts one answer and writes the three headers (unless the answer set
    /// its own, as a 429 does).
    pub fn decorate(&self, response: &mut Response) {
        let family = response
            .extensions()
            .get::<Family>()
            .copied()
            .unwrap_or(Family::Other);
        let org = response.extensions().get::<Attributed>().map(|a| a.0);
        let minute = epoch_secs(SystemTime::now()) / 60;
        let used = {
            let mut windows = lock_mutex(&self.0);
            let window = windows.entry((org, family)).or_insert((minute, 0));
            if window.0 != minute {
                *window = (minute, 0);
            }
            window.1 += 1;
            window.1
        };
        let limit = family.limit();
        let headers = response.headers_mut();
        set(headers, "x-rate-limit-limit", u64::from(limit));
        set(
            headers,
            "x-rate-limit-remaining",
            u64::from(limit.saturating_sub(used)),
        );
        set(headers, "x-rate-limit-reset", (minute + 1) * 60);
    }
}

/// 429 `E0000047`, with the epoch second the window reopens: `wait` from
/// now, rounded up to a whole second (the header has no fractions), so a
/// client that waits until then has waited at least `wait`.
pub(crate) fn throttled(wait: Option<Duration>, family: Family) -> Response {
    let wait = wait.unwrap_or(Duration::from_secs(1));
    let reset = (SystemTime::now() + wait)
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let reset = reset.as_secs() + u64::from(reset.subsec_nanos() > 0);
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(body(
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
        )),
    )
        .into_response();
    let headers = response.headers_mut();
    set(headers, "x-rate-limit-limit", u64::from(family.limit()));
    set(headers, "x-rate-limit-remaining", 0);
    set(headers, "x-rate-limit-reset", reset);
    response.extensions_mut().insert(family);
    response
}

/// 500 `E0000009`: a server-side failure worth another try.
pub(crate) fn unavailable(family: Family) -> Response {
    let mut response = OktaError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "E0000009",
        "Internal Server Error",
    )
    .into_response();
    response.extensions_mut().insert(family);
    response
}
