//! The HTTP policy every connector shares: timeouts, retries with backoff and
//! jitter, `Retry-After` on 429, a bounded number of attempts.
//!
//! A connector builds each request in a closure (called once per attempt, so
//! a fresh token or body can go into every try), hands over a decoder for the
//! success body, and gets back either the decoded value or the final error
//! reply for it to map into its own vocabulary. Vendors differ in how they say
//! "slow down" (Graph's `Retry-After`, Okta's `X-Rate-Limit-Reset`, Dropbox's
//! JSON `retry_after`), so that reading is a [`RetrySignal`] each plugs in.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;

use super::ConnectorError;
use crate::domain::text::sanitize;

/// How hard to try before giving up. Tests shrink the delays; production keeps
/// the defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub max_attempts: u32,
    /// The first backoff ceiling; doubles after every failed try.
    pub backoff_base: Duration,
    /// No single wait is longer than this; a vendor asking for longer ends
    /// the call (`Exhausted`) rather than being retried early.
    pub max_wait: Duration,
    /// Give up rather than let the waits of one call add up beyond this.
    pub max_total_wait: Duration,
    pub connect_timeout: Duration,
    /// For the whole exchange, body included.
    pub request_timeout: Duration,
    /// A reply body larger than this fails the call instead of filling memory.
    pub max_body: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            backoff_base: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
            max_total_wait: Duration::from_secs(180),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            // Generous: the largest replies are Office 365 content blobs of a few MiB.
            max_body: 64 * 1024 * 1024,
        }
    }
}

impl RetryPolicy {
    /// The ceiling of the full-jitter backoff before try `attempt + 1`
    /// (`attempt` counts the tries already made, from 1).
    pub fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        self.backoff_base
            .saturating_mul(1u32 << doublings)
            .min(self.max_wait)
    }

    /// Full jitter: anywhere between zero and the ceiling, so that many
    /// clients throttled at once do not come back in step.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self.backoff_ceiling(attempt).as_millis() as u64;
        Duration::from_millis(rand::random_range(0..=ceiling))
    }
}

/// A complete reply: status, headers and the whole body, already read.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A reply made up by a unit test.
    #[cfg(test)]
    pub(crate) fn fake(status: u16, headers: &[(&'static str, &str)], body: &str) -> Reply {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, v.parse().expect("a header value"));
        }
        Reply {
            status: StatusCode::from_u16(status).expect("a status"),
            headers: map,
            body: body.as_bytes().to_vec(),
        }
    }
}

/// What to do with a reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Hand it to the caller: a success to decode or an error to map.
    Final,
    /// The vendor is throttling; wait as long as it says, if it says.
    Throttled(Option<Duration>),
    /// A server-side failure worth another try.
    Transient(Option<Duration>),
}

/// How a vendor signals throttling and transient failure.
pub trait RetrySignal: Send + Sync {
    fn classify(&self, reply: &Reply, now: SystemTime) -> Verdict;
}

/// The common HTTP dialect (Microsoft Graph, the Office 365 Management API,
/// Box): 429 is throttling, 408 and 5xx are transient, and `Retry-After`
/// says how long to wait on either.
#[derive(Debug, Clone, Copy, Default)]
pub struct RetryAfterSignal;

impl RetrySignal for RetryAfterSignal {
    fn classify(&self, reply: &Reply, now: SystemTime) -> Verdict {
        let hint = || {
            reply
                .header(RETRY_AFTER.as_str())
                .and_then(|v| parse_retry_after(v, now))
        };
        match reply.status {
            StatusCode::TOO_MANY_REQUESTS => Verdict::Throttled(hint()),
            s if s == StatusCode::REQUEST_TIMEOUT || s.is_server_error() => {
                Verdict::Transient(hint())
            }
            _ => Verdict::Final,
        }
    }
}

/// `Retry-After` is either seconds (Graph sends fractions such as "2.128") or
/// an HTTP date. A date in the past means "now". Anything else is ignored, and
/// the caller falls back to backoff.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::try_from_secs_f64(secs).ok())
            .flatten();
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let when = SystemTime::from(when.with_timezone(&chrono::Utc));
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Why a success body could not be used.
#[derive(Debug, Clone, PartialEq)]
pub struct BodyError {
    /// True when the body looks cut short or garbled in transit, which another
    /// try may fix; false when it is whole but not what was expected.
    pub retry: bool,
    pub detail: String,
}

/// Decodes a JSON success body; truncated or malformed JSON is worth a retry,
/// well-formed JSON of the wrong shape is not.
pub fn json<T: DeserializeOwned>(reply: &Reply) -> Result<T, BodyError> {
    serde_json::from_slice(&reply.body).map_err(|e| BodyError {
        retry: matches!(
            e.classify(),
            serde_json::error::Category::Eof | serde_json::error::Category::Syntax
        ),
        // serde quotes offending input; it came from the vendor.
        detail: sanitize(&format!("JSON {e}")),
    })
}

/// A record of a list, its JSON as the vendor sent it: each is read into its own
/// shape on its own, so one that does not read is skipped alone, and no tree of
/// every record is built first (that cost a backfill a fifth of its CPU).
pub type RawRecord = Box<serde_json::value::RawValue>;

/// `raw` in the shape `T`; `None`, logged with the vendor and what it is, for a
/// record that does not read.
pub fn read_record<T: DeserializeOwned>(
    vendor: &'static str,
    what: &str,
    raw: &RawRecord,
) -> Option<T> {
    serde_json::from_str(raw.get())
        .inspect_err(|e| {
            let id = record_id(raw).unwrap_or_else(|| "-".to_owned());
            tracing::warn!(vendor, what, id = %id, error = %sanitize(&e.to_string()), "unreadable record skipped");
        })
        .ok()
}

/// What names a record that did not read, for the log (never the record
/// itself): its `id`, else its `slug` or `login`, sanitized and cut short.
fn record_id(raw: &RawRecord) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Names {
        id: Option<serde_json::Value>,
        slug: Option<serde_json::Value>,
        login: Option<serde_json::Value>,
    }
    let names: Names = serde_json::from_str(raw.get()).ok()?;
    [names.id, names.slug, names.login]
        .into_iter()
        .flatten()
        .find_map(|v| match v {
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(s),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .map(|s| sanitize(&s.chars().take(80).collect::<String>()))
}

/// Told when a request waits before it tries again: until when, and why.
pub type WaitNotice = Arc<dyn Fn(SystemTime, &str) + Send + Sync>;

tokio::task_local! {
    /// Where the job a request runs for hears of its waits, if it listens
    /// (the service's jobs do).
    pub static WAITS: WaitNotice;
}

/// One vendor's door to the network: one reqwest client, one retry policy,
/// one way of reading throttling.
#[derive(Clone)]
pub struct Http {
    vendor: &'static str,
    client: Client,
    policy: RetryPolicy,
    signal: Arc<dyn RetrySignal>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("vendor", &self.vendor)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Http {
    pub fn new(
        vendor: &'static str,
        policy: RetryPolicy,
        signal: Arc<dyn RetrySignal>,
    ) -> Result<Http, ConnectorError> {
        let client = Client::builder()
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.request_timeout)
            .redirect(redirect_policy())
            .user_agent(concat!("casbah/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConnectorError::Protocol {
                vendor,
                detail: format!("cannot set up the HTTP client: {e}"),
            })?;
        Ok(Http {
            vendor,
            client,
            policy,
            signal,
        })
    }

    /// Sends the request `build` makes until there is a final answer:
    /// `Ok(Ok(value))` for a success `decode` accepts, `Ok(Err(reply))` for an
    /// error reply the caller maps, `Err` when the retry budget ran out
    /// (`Exhausted`), the host never answered (`Unreachable`), or a success
    /// body had the wrong shape (`Protocol`).
    pub async fn send<T>(
        &self,
        build: impl Fn(&Client) -> RequestBuilder,
        decode: impl Fn(&Reply) -> Result<T, BodyError>,
    ) -> Result<Result<T, Reply>, ConnectorError> {
        self.exchange_until_final(build, decode, true).await
    }

    /// Like `send`, for a request that must not reach the vendor twice (an
    /// action that is not idempotent, issue 11): sent again only after a 429,
    /// which says it was not carried out. A 5xx is the final answer, and a
    /// request that got no answer is `Unreachable`: either may have been
    /// carried out, which the caller finds out by reading, not by resending.
    pub async fn send_once<T>(
        &self,
        build: impl Fn(&Client) -> RequestBuilder,
        decode: impl Fn(&Reply) -> Result<T, BodyError>,
    ) -> Result<Result<T, Reply>, ConnectorError> {
        self.exchange_until_final(build, decode, false).await
    }

    async fn exchange_until_final<T>(
        &self,
        build: impl Fn(&Client) -> RequestBuilder,
        decode: impl Fn(&Reply) -> Result<T, BodyError>,
        repeatable: bool,
    ) -> Result<Result<T, Reply>, ConnectorError> {
        let mut waited = Duration::ZERO;
        let mut answered = false;
        let mut last = String::new();
        let mut host = String::new();
        let mut attempts = 0;
        while attempts < self.policy.max_attempts.max(1) {
            attempts += 1;
            let request = build(&self.client)
                .build()
                .map_err(|e| ConnectorError::Protocol {
                    vendor: self.vendor,
                    detail: format!("cannot build the request: {e}"),
                })?;
            let method = request.method().clone();
            // The path only: queries may carry search text, and no header
            // (Authorization among them) is ever logged.
            let path = request.url().path().to_owned();
            host = request.url().host_str().unwrap_or_default().to_owned();
            let hint = match self.exchange(request).await {
                Exchange::Reply(reply) => {
                    answered = true;
                    match self.signal.classify(&reply, SystemTime::now()) {
                        Verdict::Final if reply.status.is_success() => match decode(&reply) {
                            Ok(value) => {
                                tracing::debug!(vendor = self.vendor, %method, path, status = reply.status.as_u16(), attempts, "answered");
                                return Ok(Ok(value));
                            }
                            Err(e) if e.retry && repeatable => {
                                last = format!("unreadable body from {path}: {}", e.detail);
                                None
                            }
                            Err(e) => {
                                return Err(ConnectorError::Protocol {
                                    vendor: self.vendor,
                                    detail: format!("{path}: {}", e.detail),
                                });
                            }
                        },
                        Verdict::Final if reply.status.is_redirection() => {
                            return Err(ConnectorError::Protocol {
                                vendor: self.vendor,
                                detail: format!(
                                    "{path} redirected to {}; casbah follows no redirect that would \
                                     carry credentials to another host or away from a token endpoint",
                                    redirect_target(&reply)
                                ),
                            });
                        }
                        Verdict::Final => {
                            tracing::debug!(vendor = self.vendor, %method, path, status = reply.status.as_u16(), "error reply");
                            return Ok(Err(reply));
                        }
                        Verdict::Throttled(hint) => {
                            last = format!("throttled with {} on {path}", reply.status);
                            hint
                        }
                        Verdict::Transient(_) if !repeatable => return Ok(Err(reply)),
                        Verdict::Transient(hint) => {
                            last = format!("{} on {path}", reply.status);
                            hint
                        }
                    }
                }
                Exchange::NoReply(detail) => {
                    last = format!("{detail} on {path}");
                    if !repeatable {
                        break;
                    }
                    None
                }
                Exchange::BodyLost(detail) => {
                    answered = true;
                    last = format!("body of {path} cut short: {detail}");
                    if !repeatable {
                        break;
                    }
                    None
                }
                Exchange::TooLarge => {
                    return Err(ConnectorError::Protocol {
                        vendor: self.vendor,
                        detail: format!(
                            "the reply to {path} is larger than {} MiB; casbah stopped reading it",
                            self.policy.max_body / (1024 * 1024)
                        ),
                    });
                }
            };
            if attempts >= self.policy.max_attempts {
                break;
            }
            // The vendor's wait is its word: shortening it would be an early retry.
            if let Some(asked) = hint.filter(|h| *h > self.policy.max_wait) {
                last = format!(
                    "{last}; asked to wait {}s, longer than casbah waits within one call, so the next scan tries again",
                    asked.as_secs()
                );
                break;
            }
            let wait = hint.unwrap_or_else(|| self.policy.backoff(attempts));
            if waited + wait > self.policy.max_total_wait {
                last = format!("{last}; waiting {wait:?} more would exceed the retry budget");
                break;
            }
            tracing::warn!(vendor = self.vendor, %method, path, attempts, ?wait, reason = %last, "retrying");
            let _ = WAITS.try_with(|notice| notice(SystemTime::now() + wait, &last));
            tokio::time::sleep(wait).await;
            waited += wait;
        }
        tracing::warn!(vendor = self.vendor, attempts, reason = %last, "giving up");
        if !repeatable {
            last = format!(
                "{last}; it may have been carried out, so it was not sent again: check before trying again"
            );
        }
        if answered {
            Err(ConnectorError::Exhausted {
                vendor: self.vendor,
                attempts,
                last,
            })
        } else {
            Err(ConnectorError::Unreachable { host, detail: last })
        }
    }

    async fn exchange(&self, request: reqwest::Request) -> Exchange {
        let mut response = match self.client.execute(request).await {
            Ok(r) => r,
            Err(e) => return Exchange::NoReply(sanitize(&describe(&e))),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let limit = self.policy.max_body;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Exchange::TooLarge;
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() > limit => return Exchange::TooLarge,
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => {
                    return Exchange::Reply(Reply {
                        status,
                        headers,
                        body,
                    });
                }
                Err(e) => return Exchange::BodyLost(sanitize(&describe(&e))),
            }
        }
    }
}

/// Token endpoints take the secret itself in their body.
fn is_token_endpoint(url: &url::Url) -> bool {
    let path = url.path();
    path.ends_with("/token") || path.ends_with("/access_token") || path.contains("/login/device/")
}

/// Redirects are followed only within the origin of the request, a few at most,
/// and never from a token endpoint: a credential must not travel to a host the
/// administrator did not name. The redirect not followed comes back as the reply.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.stop();
        };
        let stay = !is_token_endpoint(first)
            && attempt.url().origin() == first.origin()
            && attempt.previous().len() <= 5;
        if stay {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// Where a redirect pointed, by host only: its query may carry anything.
fn redirect_target(reply: &Reply) -> String {
    reply
        .header(reqwest::header::LOCATION.as_str())
        .and_then(|l| url::Url::parse(l).ok())
        .and_then(|u| u.host_str().map(sanitize))
        .unwrap_or_else(|| "another address".to_string())
}

enum Exchange {
    Reply(Reply),
    /// No status line came back: refused, reset, timed out, DNS.
    NoReply(String),
    /// A status came back but the body broke off.
    BodyLost(String),
    /// The body is larger than the policy allows.
    TooLarge,
}

/// reqwest's own Display names the URL, query included; keep it to the kind
/// of failure and its root cause. Webhook notices (issue 12) say it the same way.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "body could not be read"
    } else {
        "request failed"
    };
    let mut root: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(next) = root.and_then(|r| r.source()) {
        root = Some(next);
    }
    match root {
        Some(root) => format!("{kind}: {root}"),
        None => kind.to_owned(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A reply made up by a test, with no body; every vendor's tests use it.
    pub(crate) fn reply(status: u16, headers: &[(&'static str, &str)]) -> Reply {
        Reply::fake(status, headers, "")
    }

    /// A made-up reply with a body.
    pub(crate) fn reply_with(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
    }

    #[test]
    fn retry_after_reads_whole_and_fractional_seconds() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        // The sample value in Graph's throttling page.
        assert_eq!(
            parse_retry_after(" 2.128 ", now),
            Some(Duration::from_millis(2128))
        );
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_reads_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        // A date already past means "go now".
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_ignores_nonsense() {
        let now = SystemTime::now();
        for bad in ["", "soon", "-1", "NaN", "inf", "1e400"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy {
            backoff_base: Duration::from_millis(100),
            max_wait: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        assert_eq!(policy.backoff_ceiling(1), Duration::from_millis(100));
        assert_eq!(policy.backoff_ceiling(2), Duration::from_millis(200));
        assert_eq!(policy.backoff_ceiling(4), Duration::from_millis(800));
        assert_eq!(policy.backoff_ceiling(5), Duration::from_secs(1));
        assert_eq!(policy.backoff_ceiling(u32::MAX), Duration::from_secs(1));
        for attempt in 1..10 {
            for _ in 0..50 {
                assert!(policy.backoff(attempt) <= policy.backoff_ceiling(attempt));
            }
        }
    }

    #[test]
    fn backoff_is_jittered() {
        let policy = RetryPolicy::default();
        let waits: std::collections::HashSet<_> = (0..50).map(|_| policy.backoff(4)).collect();
        assert!(waits.len() > 1, "full jitter should spread the waits");
    }

    #[test]
    fn standard_signal_classifies_statuses() {
        let now = SystemTime::now();
        let s = RetryAfterSignal;
        assert_eq!(
            s.classify(&reply(429, &[("retry-after", "2.128")]), now),
            Verdict::Throttled(Some(Duration::from_millis(2128)))
        );
        assert_eq!(s.classify(&reply(429, &[]), now), Verdict::Throttled(None));
        assert_eq!(
            s.classify(&reply(503, &[("retry-after", "1")]), now),
            Verdict::Transient(Some(Duration::from_secs(1)))
        );
        assert_eq!(s.classify(&reply(500, &[]), now), Verdict::Transient(None));
        assert_eq!(s.classify(&reply(408, &[]), now), Verdict::Transient(None));
        for status in [200, 400, 401, 403, 404] {
            assert_eq!(s.classify(&reply(status, &[]), now), Verdict::Final);
        }
    }

    #[test]
    fn json_tells_truncation_from_wrong_shape() {
        let mut r = reply(200, &[]);
        r.body = br#"{"value":[1,2"#.to_vec();
        assert!(json::<serde_json::Value>(&r).unwrap_err().retry);
        r.body = br#"{"value":"x"}"#.to_vec();
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Shape {
            value: Vec<u32>,
        }
        assert!(!json::<Shape>(&r).unwrap_err().retry);
    }

    /// Status, headers and body of one scripted answer.
    type Scripted = (u16, Vec<(&'static str, &'static str)>, &'static str);

    /// A loopback server that answers the n-th request (from 0) with `script(n)`.
    async fn serve(script: fn(usize) -> Scripted) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use axum::response::IntoResponse;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let app = axum::Router::new().route(
            "/x",
            axum::routing::get(move || {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                async move {
                    let (status, headers, body) = script(n);
                    let mut map = HeaderMap::new();
                    for (k, v) in headers {
                        map.insert(k, v.parse().unwrap());
                    }
                    (StatusCode::from_u16(status).unwrap(), map, body).into_response()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}/x"), hits)
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            backoff_base: Duration::from_millis(1),
            max_wait: Duration::from_secs(5),
            max_total_wait: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
            max_body: 1024,
        }
    }

    fn http(policy: RetryPolicy) -> Http {
        Http::new("Test", policy, Arc::new(RetryAfterSignal)).unwrap()
    }

    #[tokio::test]
    async fn throttling_waits_as_long_as_retry_after_says() {
        let (url, hits) = serve(|n| match n {
            0 => (429, vec![("retry-after", "0.3")], "{}"),
            _ => (200, vec![], r#"{"ok":true}"#),
        })
        .await;
        let started = std::time::Instant::now();
        let value: serde_json::Value = http(fast())
            .send(|c| c.get(&url), json)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(value["ok"], true);
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert!(started.elapsed() >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn server_errors_and_garbled_bodies_are_retried() {
        let (url, hits) = serve(|n| match n {
            0 => (503, vec![], "down"),
            1 => (200, vec![], r#"{"ok":tr"#),
            _ => (200, vec![], r#"{"ok":true}"#),
        })
        .await;
        let value: serde_json::Value = http(fast())
            .send(|c| c.get(&url), json)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(value["ok"], true);
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn attempts_are_bounded() {
        let (url, hits) = serve(|_| (500, vec![], "boom")).await;
        let err = http(fast())
            .send(|c| c.get(&url), json::<serde_json::Value>)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ConnectorError::Exhausted { attempts: 4, last, .. } if last.contains("500")),
            "{err}"
        );
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn total_wait_is_bounded() {
        let (url, hits) = serve(|_| (429, vec![("retry-after", "30")], "{}")).await;
        let started = std::time::Instant::now();
        let policy = RetryPolicy {
            max_wait: Duration::from_secs(60),
            max_total_wait: Duration::from_secs(1),
            ..fast()
        };
        let err = http(policy)
            .send(|c| c.get(&url), json::<serde_json::Value>)
            .await
            .unwrap_err();
        assert!(
            matches!(err, ConnectorError::Exhausted { attempts: 1, .. }),
            "{err}"
        );
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn client_errors_are_final() {
        let (url, hits) = serve(|_| (403, vec![], r#"{"error":{}}"#)).await;
        let reply = http(fast())
            .send(|c| c.get(&url), json::<serde_json::Value>)
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_wrong_shape_is_not_retried() {
        let (url, hits) = serve(|_| (200, vec![], r#"{"ok":"yes"}"#)).await;
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Shape {
            ok: bool,
        }
        let err = http(fast())
            .send(|c| c.get(&url), json::<Shape>)
            .await
            .unwrap_err();
        assert!(matches!(err, ConnectorError::Protocol { .. }), "{err}");
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_host_that_never_answers_is_unreachable() {
        // Bind then drop: nothing listens on the port any more.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = http(fast())
            .send(
                |c| c.get(format!("http://127.0.0.1:{port}/x")),
                json::<serde_json::Value>,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ConnectorError::Unreachable { host, .. } if host == "127.0.0.1"),
            "{err}"
        );
    }

    /// A server whose `/away` answers 307 to `target`, whose `/token` answers 307 and
    /// `/same` 301 to its own `/x`, and whose `/x` answers 200 with `body`.
    async fn redirecting(
        target: String,
        body: &'static str,
    ) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use axum::response::IntoResponse;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let app =
            axum::Router::new()
                .route(
                    "/token",
                    axum::routing::post(|| async {
                        (StatusCode::TEMPORARY_REDIRECT, [("location", "/x")]).into_response()
                    }),
                )
                .route(
                    "/away",
                    axum::routing::get(move || {
                        let to = target.clone();
                        async move {
                            (StatusCode::TEMPORARY_REDIRECT, [("location", to)]).into_response()
                        }
                    }),
                )
                .route(
                    "/same",
                    axum::routing::get(|| async {
                        (StatusCode::MOVED_PERMANENTLY, [("location", "/x")]).into_response()
                    }),
                )
                .route(
                    "/x",
                    axum::routing::any(move || {
                        counter.fetch_add(1, Ordering::SeqCst);
                        async move { body }
                    }),
                );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}"), hits)
    }

    // Issue 10, DESIGN §3 Secrets: a redirect is followed within its origin only, and
    // never from a token endpoint; the credential never reaches the other host.
    #[tokio::test]
    async fn credentials_never_follow_a_redirect_elsewhere() {
        let (elsewhere, stolen) = redirecting("http://127.0.0.1:1/".into(), r#"{"ok":true}"#).await;
        let (origin, own) = redirecting(format!("{elsewhere}/x"), r#"{"ok":true}"#).await;
        let h = http(fast());
        let err = h
            .send(
                |c| c.get(format!("{origin}/away")).bearer_auth("t0ken"),
                json::<serde_json::Value>,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, ConnectorError::Protocol { .. }), "{err}");
        assert!(err.to_string().contains("127.0.0.1"), "{err}");
        let err = h
            .send(
                |c| {
                    c.post(format!("{origin}/token"))
                        .body("client_secret=s3cret")
                },
                json::<serde_json::Value>,
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("redirected"), "{err}");
        assert_eq!(
            own.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "a token endpoint's redirect is not followed, even at home"
        );
        assert_eq!(
            stolen.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "nothing reached the other host"
        );
        // Within the origin a moved resource is followed.
        let value: serde_json::Value = h
            .send(|c| c.get(format!("{origin}/same")), json)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(value["ok"], true);
    }

    // Issue 10: a reply larger than the policy allows fails the call, whether or not it
    // announces its length.
    #[tokio::test]
    async fn oversized_replies_fail_instead_of_filling_memory() {
        const BIG: &str = include_str!("../../assets/catalog.json");
        let (origin, _) = redirecting(String::new(), BIG).await;
        let err = http(fast())
            .send(|c| c.get(format!("{origin}/x")), json::<serde_json::Value>)
            .await
            .unwrap_err();
        assert!(matches!(err, ConnectorError::Protocol { .. }), "{err}");
        assert!(err.to_string().contains("larger than"), "{err}");
    }

    // Issue 10: a wait longer than casbah takes within one call is not shortened into an
    // early retry: the call fails and the next scan tries again.
    #[tokio::test]
    async fn a_wait_longer_than_the_cap_is_not_cut_short() {
        let (url, hits) = serve(|_| (429, vec![("retry-after", "120")], "{}")).await;
        let started = std::time::Instant::now();
        let err = http(fast())
            .send(|c| c.get(&url), json::<serde_json::Value>)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("asked to wait 120s"), "{err}");
        assert_eq!(
            hits.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "no early retry"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    /// Dropbox's way: `retry_after` seconds in a JSON body.
    struct JsonRetryAfter;

    impl RetrySignal for JsonRetryAfter {
        fn classify(&self, reply: &Reply, now: SystemTime) -> Verdict {
            if reply.status == StatusCode::TOO_MANY_REQUESTS {
                let secs = serde_json::from_slice::<serde_json::Value>(&reply.body)
                    .ok()
                    .and_then(|v| v["retry_after"].as_f64());
                return Verdict::Throttled(secs.and_then(|s| Duration::try_from_secs_f64(s).ok()));
            }
            RetryAfterSignal.classify(reply, now)
        }
    }

    // The policy takes each vendor's own throttling signal.
    #[tokio::test]
    async fn a_vendor_signal_in_the_body_is_honoured() {
        let (url, hits) = serve(|n| match n {
            0 => (
                429,
                vec![],
                r#"{"error":{".tag":"too_many_requests"},"retry_after":0.3}"#,
            ),
            _ => (200, vec![], r#"{"ok":true}"#),
        })
        .await;
        let http = Http::new("Dropbox", fast(), Arc::new(JsonRetryAfter)).unwrap();
        let started = std::time::Instant::now();
        let value: serde_json::Value = http.send(|c| c.get(&url), json).await.unwrap().unwrap();
        assert_eq!(value["ok"], true);
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert!(started.elapsed() >= Duration::from_millis(300));
    }

    // A wait the vendor asks for is never cut short: longer than the policy's
    // longest, the call gives up after one try instead of coming back early.
    #[tokio::test]
    async fn a_wait_longer_than_allowed_is_not_cut_short() {
        let (url, hits) = serve(|_| (429, vec![("retry-after", "3")], "{}")).await;
        let policy = RetryPolicy {
            max_wait: Duration::from_secs(1),
            ..fast()
        };
        let started = std::time::Instant::now();
        let err = http(policy)
            .send(|c| c.get(&url), json::<serde_json::Value>)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ConnectorError::Exhausted { attempts: 1, last, .. } if last.contains("asked to wait")),
            "{err}"
        );
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
