//! How GitHub says "slow down" (docs: "Rate limits for the REST API").
//!
//! - Primary limit: 403 or 429 with `x-ratelimit-remaining: 0`; wait until
//!   `x-ratelimit-reset` (epoch seconds), never sooner. GraphQL says the same
//!   with HTTP 200 and a `RATE_LIMITED` error.
//! - Secondary limit: 403 or 429 saying "secondary rate limit"; wait
//!   `retry-after` seconds when given, else at least a minute, doubling while
//!   it goes on.
//! - 5xx are transient. Every other 403 is final: a permission or a scope.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;

use crate::connectors::http::{Reply, RetrySignal, Verdict, parse_retry_after};

/// Slack added to a reset time, against clocks that disagree a little.
const RESET_SLACK: Duration = Duration::from_millis(250);

#[derive(Debug)]
pub struct GitHubSignal {
    /// The wait after a secondary limit that names none (GitHub: one minute).
    secondary_floor: Duration,
    /// Secondary limits in a row, for the exponential part.
    streak: AtomicU32,
}

impl GitHubSignal {
    pub fn new(secondary_floor: Duration) -> GitHubSignal {
        GitHubSignal {
            secondary_floor,
            streak: AtomicU32::new(0),
        }
    }
}

impl Default for GitHubSignal {
    fn default() -> Self {
        GitHubSignal::new(Duration::from_secs(60))
    }
}

/// Whether a body says the secondary limit was hit.
fn secondary(body: &[u8]) -> bool {
    String::from_utf8_lossy(body)
        .to_ascii_lowercase()
        .contains("secondary rate limit")
}

/// GraphQL's primary limit comes back as `{"errors":[{"type":"RATE_LIMITED"}]}`.
fn graphql_rate_limited(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v["errors"]
                .as_array()
                .map(|e| e.iter().any(|e| e["type"] == "RATE_LIMITED"))
        })
        .unwrap_or(false)
}

impl RetrySignal for GitHubSignal {
    fn classify(&self, reply: &Reply, now: SystemTime) -> Verdict {
        let status = reply.status;
        let exhausted = reply
            .header("x-ratelimit-remaining")
            .is_some_and(|v| v.trim() == "0");
        let until_reset = || {
            reply
                .header("x-ratelimit-reset")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
                .map(|reset| reset.duration_since(now).unwrap_or(Duration::ZERO) + RESET_SLACK)
        };
        let retry_after = || {
            reply
                .header("retry-after")
                .and_then(|v| parse_retry_after(v, now))
        };
        let limited = matches!(
            status,
            StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
        );
        if limited && exhausted
            || status.is_success() && exhausted && graphql_rate_limited(&reply.body)
        {
            // Both may be given: the later of the two is the one to honour.
            let wait = match (until_reset(), retry_after()) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b).or(Some(self.secondary_floor)),
            };
            return Verdict::Throttled(wait);
        }
        if limited
            && (retry_after().is_some()
                || secondary(&reply.body)
                || status == StatusCode::TOO_MANY_REQUESTS)
        {
            let streak = self.streak.fetch_add(1, Ordering::SeqCst);
            let wait = retry_after()
                .unwrap_or_else(|| self.secondary_floor.saturating_mul(1u32 << streak.min(16)));
            return Verdict::Throttled(Some(wait));
        }
        self.streak.store(0, Ordering::SeqCst);
        if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            return Verdict::Transient(retry_after());
        }
        Verdict::Final
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, headers: &[(&'static str, &str)], body: &str) -> Reply {
        Reply::fake(status, headers, body)
    }

    const NOW: u64 = 1_700_000_000;

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(NOW)
    }

    // The primary limit waits until the reset, on 403 and 429 alike.
    #[test]
    fn the_primary_limit_waits_for_the_reset() {
        let s = GitHubSignal::default();
        for status in [403, 429] {
            let r = reply(
                status,
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1700000042"),
                ],
                r#"{"message":"API rate limit exceeded for user ID 1."}"#,
            );
            assert_eq!(
                s.classify(&r, now()),
                Verdict::Throttled(Some(Duration::from_secs(42) + RESET_SLACK))
            );
        }
        // GraphQL: HTTP 200 with RATE_LIMITED.
        let r = reply(
            200,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1700000010"),
            ],
            r#"{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded"}]}"#,
        );
        assert_eq!(
            s.classify(&r, now()),
            Verdict::Throttled(Some(Duration::from_secs(10) + RESET_SLACK))
        );
        // A success that merely used the last request is a success.
        let r = reply(200, &[("x-ratelimit-remaining", "0")], "[]");
        assert_eq!(s.classify(&r, now()), Verdict::Final);
    }

    // The secondary limit: retry-after, else a minute, doubling.
    #[test]
    fn the_secondary_limit_waits_as_told_else_a_minute_and_more() {
        let s = GitHubSignal::default();
        let body = r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#;
        let r = reply(
            403,
            &[("retry-after", "7"), ("x-ratelimit-remaining", "4000")],
            body,
        );
        assert_eq!(
            s.classify(&r, now()),
            Verdict::Throttled(Some(Duration::from_secs(7)))
        );
        let r = reply(403, &[("x-ratelimit-remaining", "4000")], body);
        assert_eq!(
            s.classify(&r, now()),
            Verdict::Throttled(Some(Duration::from_secs(120)))
        );
        let fresh = GitHubSignal::default();
        assert_eq!(
            fresh.classify(&r, now()),
            Verdict::Throttled(Some(Duration::from_secs(60)))
        );
        assert_eq!(
            fresh.classify(&r, now()),
            Verdict::Throttled(Some(Duration::from_secs(120)))
        );
        // Anything else resets the streak.
        assert_eq!(
            fresh.classify(&reply(200, &[], "[]"), now()),
            Verdict::Final
        );
        assert_eq!(
            fresh.classify(&r, now()),
            Verdict::Throttled(Some(Duration::from_secs(60)))
        );
    }

    // Other 403s are final: a permission or a scope, not a limit.
    #[test]
    fn other_refusals_are_final_and_server_errors_transient() {
        let s = GitHubSignal::default();
        let r = reply(
            403,
            &[("x-ratelimit-remaining", "4999")],
            r#"{"message":"Resource not accessible by personal access token"}"#,
        );
        assert_eq!(s.classify(&r, now()), Verdict::Final);
        for status in [401, 404, 422] {
            assert_eq!(s.classify(&reply(status, &[], "{}"), now()), Verdict::Final);
        }
        assert_eq!(
            s.classify(&reply(502, &[], ""), now()),
            Verdict::Transient(None)
        );
        assert_eq!(
            s.classify(&reply(503, &[("retry-after", "2")], ""), now()),
            Verdict::Transient(Some(Duration::from_secs(2)))
        );
    }
}
