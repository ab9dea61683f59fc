//! Okta's way of saying "slow down": 429 `E0000047` with
//! `X-Rate-Limit-Reset`, the epoch second at which the window reopens, and
//! no `Retry-After`.

use std::time::{Duration, SystemTime};

use crate::connectors::http::{Reply, RetryAfterSignal, RetrySignal, Verdict};

/// Waits until `X-Rate-Limit-Reset`, counted from the answer's own `Date`
/// (as Okta's SDKs do), so a client clock that runs ahead of Okta's never
/// brings the retry early; without a `Date`, from the local clock. Both
/// headers are whole seconds and `Date` rounds down, so the wait is never
/// shorter than the one Okta means. 5xx and 408 are transient.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateLimitReset;

impl RetrySignal for RateLimitReset {
    fn classify(&self, reply: &Reply, now: SystemTime) -> Verdict {
        if reply.status.as_u16() != 429 {
            return RetryAfterSignal.classify(reply, now);
        }
        let reset = reply
            .header("x-rate-limit-reset")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        let clock = reply
            .header("date")
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d.trim()).ok())
            .map(|d| SystemTime::from(d.with_timezone(&chrono::Utc)))
            .unwrap_or(now);
        Verdict::Throttled(reset.map(|r| r.duration_since(clock).unwrap_or(Duration::ZERO)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::http::tests::reply;

    #[test]
    fn a_reset_time_becomes_a_wait() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let r = reply(429, &[("x-rate-limit-reset", "1700000042")]);
        assert_eq!(
            RateLimitReset.classify(&r, now),
            Verdict::Throttled(Some(Duration::from_secs(42)))
        );
        // A reset already past means "go now"; none at all means backoff.
        let past = reply(429, &[("x-rate-limit-reset", "1699999999")]);
        assert_eq!(
            RateLimitReset.classify(&past, now),
            Verdict::Throttled(Some(Duration::ZERO))
        );
        assert_eq!(
            RateLimitReset.classify(&reply(429, &[]), now),
            Verdict::Throttled(None)
        );
    }

    // A local clock ahead of Okta's would shorten the wait: the answer's own
    // Date is the clock the reset is counted from.
    #[test]
    fn the_wait_counts_from_oktas_date() {
        // Tue, 14 Nov 2023 22:13:20 GMT is 1_700_000_000.
        let ahead = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_030);
        let r = reply(
            429,
            &[
                ("x-rate-limit-reset", "1700000042"),
                ("date", "Tue, 14 Nov 2023 22:13:20 GMT"),
            ],
        );
        assert_eq!(
            RateLimitReset.classify(&r, ahead),
            Verdict::Throttled(Some(Duration::from_secs(42)))
        );
    }

    #[test]
    fn server_errors_are_transient_and_client_errors_final() {
        let now = SystemTime::now();
        assert_eq!(
            RateLimitReset.classify(&reply(502, &[]), now),
            Verdict::Transient(None)
        );
        for status in [200, 400, 401, 403, 404] {
            assert_eq!(
                RateLimitReset.classify(&reply(status, &[]), now),
                Verdict::Final
            );
        }
    }
}
