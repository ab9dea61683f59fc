//! GitHub's error bodies (`{"message","documentation_url","status"}`), its
//! rate-limit counters on every answer, and its two ways of saying "slow
//! down": the primary limit (403 with `x-ratelimit-remaining: 0` and the reset
//! time; GraphQL says it with HTTP 200 and a `RATE_LIMITED` error) and the
//! secondary limit (403 "You have exceeded a secondary rate limit", with
//! `retry-after` when GitHub says how long).

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::sandbox::lock_mutex;

pub(crate) const REST_DOCS: &str = "https://docs.github.com/rest";
const RATE_DOCS: &str = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api";
const SECONDARY_DOCS: &str = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";

/// The hourly quota of a personal access token.
pub(crate) const LIMIT: u64 = 5000;

/// `{"message","documentation_url","status"}` with the status as a string.
pub(crate) fn error(status: StatusCode, message: &str, documentation_url: &str) -> Response {
    let body = json!({
        "message": message,
        "documentation_url": documentation_url,
        "status": status.as_u16().to_string(),
    });
    (status, Json(body)).into_response()
}

pub(crate) fn not_found(documentation_url: &str) -> Response {
    error(StatusCode::NOT_FOUND, "Not Found", documentation_url)
}

pub(crate) fn bad_credentials() -> Response {
    error(StatusCode::UNAUTHORIZED, "Bad credentials", REST_DOCS)
}

pub(crate) fn requires_authentication() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "Requires authentication",
        REST_DOCS,
    )
}

fn request_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    format!("{}:{}:{}", &id[..4], &id[4..10], &id[10..18])
}

fn epoch_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// Seconds as GitHub writes them: whole, rounded up so a client that waits
/// exactly that long is never early.
fn whole_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

fn set(headers: &mut HeaderMap, name: &'static str, value: impl ToString) {
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        headers.insert(HeaderName::from_static(name), v);
    }
}

/// The rate-limit resource a path counts against.
fn resource(path: &str) -> &'static str {
    if path == "/graphql" {
        "graphql"
    } else if path.ends_with("/audit-log") {
        "audit_log"
    } else {
        "core"
    }
}

/// Secondary limit: 403, GitHub's words, `retry-after` when given.
pub(crate) fn secondary(wait: Option<Duration>, _req: &Request) -> Response {
    let message = format!(
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID {}.",
        request_id()
    );
    let mut response = error(StatusCode::FORBIDDEN, &message, SECONDARY_DOCS);
    if let Some(wait) = wait {
        set(response.headers_mut(), "retry-after", whole_seconds(wait));
    }
    response
}

/// Primary limit: the hour's quota is used up until `wait` from now. REST
/// answers 403; GraphQL answers 200 with a `RATE_LIMITED` error.
pub(crate) fn exhausted(wait: Duration, req: &Request, user_id: u64) -> Response {
    let reset = epoch_secs(SystemTime::now() + wait) + u64::from(wait.subsec_nanos() > 0);
    let path = req.uri().path();
    let message = format!("API rate limit exceeded for user ID {user_id}.");
    let mut response = if path == "/graphql" {
        Json(json!({"errors": [{"type": "RATE_LIMITED", "message": message}]})).into_response()
    } else {
        let message = format!(
            "{message} If you reach out to GitHub Support for help, please include the request ID {} and timestamp {}.",
            request_id(),
            chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
        );
        error(StatusCode::FORBIDDEN, &message, RATE_DOCS)
    };
    let headers = response.headers_mut();
    set(headers, "x-ratelimit-limit", LIMIT);
    set(headers, "x-ratelimit-remaining", 0);
    set(headers, "x-ratelimit-used", LIMIT);
    set(headers, "x-ratelimit-reset", reset);
    set(headers, "x-ratelimit-resource", resource(path));
    response
}

pub(crate) fn unavailable() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Service Unavailable",
        REST_DOCS,
    )
}

/// The hourly window every answer reports on.
pub(crate) struct Window(Mutex<(u64, u64)>);

impl Default for Window {
    fn default() -> Self {
        Window(Mutex::new((epoch_secs(SystemTime::now()) + 3600, 0)))
    }
}

impl Window {
    /// Adds GitHub's counters to an answer that has none yet (a primary
    /// limit answer already says 0 remaining).
    pub(crate) fn decorate(&self, response: &mut Response) {
        let headers = response.headers_mut();
        if headers.contains_key("x-ratelimit-remaining") {
            return;
        }
        let (reset, used) = {
            let mut w = lock_mutex(&self.0);
            let now = epoch_secs(SystemTime::now());
            if now >= w.0 {
                *w = (now + 3600, 0);
            }
            w.1 = (w.1 + 1).min(LIMIT - 1);
            *w
        };
        set(headers, "x-ratelimit-limit", LIMIT);
        set(headers, "x-ratelimit-remaining", LIMIT - used);
        set(headers, "x-ratelimit-used", used);
        set(headers, "x-ratelimit-reset", reset);
        if !headers.contains_key("x-ratelimit-resource") {
            set(headers, "x-ratelimit-resource", "core");
        }
        set(headers, "x-github-api-version-selected", "2022-11-28");
        set(headers, "x-github-request-id", request_id());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_whole_seconds_rounded_up() {
        assert_eq!(whole_seconds(Duration::from_millis(300)), 1);
        assert_eq!(whole_seconds(Duration::from_secs(2)), 2);
        assert_eq!(whole_seconds(Duration::from_millis(2001)), 3);
    }

    #[test]
    fn resources_follow_the_path() {
        assert_eq!(resource("/graphql"), "graphql");
        assert_eq!(resource("/orgs/contoso/audit-log"), "audit_log");
        assert_eq!(resource("/orgs/contoso/teams"), "core");
    }
}
