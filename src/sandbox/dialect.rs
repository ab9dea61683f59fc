//! What each vendor dialect tells the machinery in front of all of them (faults,
//! throttling windows, counters): which paths it serves, and how its vendor says
//! "slow down" and "unavailable". The answers' shapes differ by vendor; when
//! they are given and how a client that comes back too early is caught do not.

use std::time::Duration;

use axum::extract::Request;
use axum::response::Response;

pub(crate) trait Dialect: Send + Sync {
    /// The vendor's name, as `Sandbox::early_retries` takes it.
    fn vendor(&self) -> &'static str;

    /// Whether a request path is this vendor's.
    fn serves(&self, path: &str) -> bool;

    /// Token endpoints, which random faults spare unless the spec says otherwise.
    fn is_token_endpoint(&self, path: &str) -> bool;

    /// Too many requests: the vendor's answer asking the client to come back
    /// after `wait`, or without saying when (`None`).
    fn throttled(&self, wait: Option<Duration>, req: &Request) -> Response;

    /// A quota used up until a reset `wait` from now (GitHub's primary rate
    /// limit); most vendors say it as they say "throttled".
    fn exhausted(&self, wait: Duration, req: &Request) -> Response {
        self.throttled(Some(wait), req)
    }

    /// A server-side failure worth another try.
    fn unavailable(&self, req: &Request) -> Response;

    /// A path the vendor has no resource at, in its words.
    fn unknown(&self, path: &str) -> Response;

    /// Adds what every answer of the vendor carries (Okta's and GitHub's
    /// rate-limit counters).
    fn decorate(&self, _response: &mut Response) {}
}

/// The token a request carries as `Authorization: Bearer …` (any case of
/// the scheme), or "" when it carries none.
pub(crate) fn bearer(req: &Request) -> &str {
    let value = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => "",
    }
}
