//! The HTTP policy every connector shares: timeouts, retries with backoff and
//! jitter, `Retry-After` on 429, a bounded number of attempts.
