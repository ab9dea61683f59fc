//! Fault injection: latency, throttling, server errors, dropped connections
//! and truncated bodies, drawn at random from the fault spec or queued by a
//! test for the next requests to a path. Every answer is counted per path.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::stream;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

use super::listener::Connection;
use super::{DEFAULT_RETRY_AFTER, DROPPED, FaultSpec, Shared, lock_mutex};

/// A fault a test can ask for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Too many requests, in the vendor's words, asking to wait `retry_after`
    /// seconds (Graph's `Retry-After`, Okta's `X-Rate-Limit-Reset`, GitHub's
    /// `retry-after`), or not saying how long when `None`.
    Throttle { retry_after: Option<f64> },
    /// A quota used up until `reset_after` seconds from now, in the vendor's
    /// words (GitHub's primary rate limit; elsewhere as `Throttle`).
    Exhausted { reset_after: f64 },
    /// 503 with the vendor's error envelope.
    ServerError,
    /// The connection closes without a response.
    Drop,
    /// The response starts but its body is cut short.
    Truncate,
}

struct Queued {
    prefix: String,
    fault: Fault,
    left: u32,
}

pub(crate) struct FaultState {
    spec: Mutex<FaultSpec>,
    rng: Mutex<ChaCha8Rng>,
    queued: Mutex<Vec<Queued>>,
    /// Path → the moment before which the client was told not to come back.
    windows: Mutex<HashMap<String, Instant>>,
    /// Vendor → requests that came back before their wait was over.
    early: Mutex<BTreeMap<&'static str, u64>>,
}

impl FaultState {
    pub(crate) fn new(seed: u64, spec: FaultSpec) -> FaultState {
        FaultState {
            spec: Mutex::new(spec),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0xFA17_5EED)),
            queued: Mutex::new(Vec::new()),
            windows: Mutex::new(HashMap::new()),
            early: Mutex::new(BTreeMap::new()),
        }
    }

    /// The client was told to keep away from `path` for `wait`.
    fn hold(&self, path: &str, wait: Duration) {
        lock_mutex(&self.windows).insert(path.to_string(), Instant::now() + wait);
    }

    /// How long the client was still told to keep away from `path`, if at all.
    fn holding(&self, path: &str) -> Option<Duration> {
        let mut windows = lock_mutex(&self.windows);
        let until = *windows.get(path)?;
        let left = until.checked_duration_since(Instant::now());
        if left.is_none() {
            windows.remove(path);
        }
        left
    }

    fn count_early(&self, vendor: &'static str) {
        *lock_mutex(&self.early).entry(vendor).or_default() += 1;
    }

    pub(crate) fn early(&self, vendor: &str) -> u64 {
        lock_mutex(&self.early).get(vendor).copied().unwrap_or(0)
    }

    pub(crate) fn set_spec(&self, spec: FaultSpec) {
        *lock_mutex(&self.spec) = spec;
    }

    pub(crate) fn fail_next(&self, prefix: &str, fault: Fault, count: u32) {
        lock_mutex(&self.queued).push(Queued {
            prefix: prefix.to_string(),
            fault,
            left: count,
        });
    }

    /// A queued fault for this path, used up as it is taken.
    fn take_queued(&self, path: &str) -> Option<Fault> {
        let mut queued = lock_mutex(&self.queued);
        let at = queued
            .iter()
            .position(|q| q.left > 0 && path.starts_with(&q.prefix))?;
        queued[at].left -= 1;
        let fault = queued[at].fault;
        queued.retain(|q| q.left > 0);
        Some(fault)
    }

    /// Draws the latency and maybe a fault for one request.
    fn draw(&self, is_token: bool) -> (std::time::Duration, Option<Fault>) {
        let spec = lock_mutex(&self.spec).clone();
        if is_token && !spec.token_endpoint {
            return (std::time::Duration::ZERO, None);
        }
        let u: f64 = lock_mutex(&self.rng).random();
        let retry_after = Some(spec.retry_after.unwrap_or(DEFAULT_RETRY_AFTER));
        let choices = [
            (spec.throttle, Fault::Throttle { retry_after }),
            (spec.server_error, Fault::ServerError),
            (spec.drop, Fault::Drop),
            (spec.truncate, Fault::Truncate),
        ];
        let mut edge = 0.0;
        let fault = choices
            .into_iter()
            .find(|&(p, _)| {
                edge += p;
                u < edge
            })
            .map(|(_, f)| f);
        (spec.latency, fault)
    }

    fn coin(&self) -> bool {
        lock_mutex(&self.rng).random()
    }
}

/// The middleware in front of every dialect: latency, random and queued faults in
/// the dialect's own words, windows that catch a client coming back before the
/// wait it was given, and the dialect's headers on every answer.
pub(crate) async fn layer(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let connection = req
        .extensions()
        .get::<ConnectInfo<Connection>>()
        .map(|c| c.0.clone());
    let dialect = shared.dialect(&path);
    let (latency, random) = shared.faults.draw(dialect.is_token_endpoint(&path));
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut response = if let Some(left) = shared.faults.holding(&path) {
        // Throttled again, still within the wait it was given: counted, as real vendors
        // would answer it with another refusal (and often lengthen the wait).
        shared.faults.count_early(dialect.vendor());
        dialect.throttled(Some(left), &req)
    } else {
        match shared.faults.take_queued(&path).or(random) {
            None => next.run(req).await,
            Some(Fault::Throttle { retry_after }) => {
                let wait = retry_after.map(Duration::from_secs_f64);
                if let Some(wait) = wait {
                    shared.faults.hold(&path, wait);
                }
                dialect.throttled(wait, &req)
            }
            Some(Fault::Exhausted { reset_after }) => {
                let wait = Duration::from_secs_f64(reset_after);
                shared.faults.hold(&path, wait);
                dialect.exhausted(wait, &req)
            }
            Some(Fault::ServerError) => dialect.unavailable(&req),
            Some(Fault::Drop) => {
                if let Some(connection) = connection {
                    connection.cut();
                    shared.record(&path, DROPPED);
                    // Never written: the connection fails on the first byte.
                    return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
                }
                dialect.unavailable(&req)
            }
            Some(Fault::Truncate) => {
                let response = next.run(req).await;
                truncate(response, shared.faults.coin()).await
            }
        }
    };
    dialect.decorate(&mut response);
    shared.record(&path, response.status().as_u16());
    response
}

/// Cuts a body in half: either announcing the full length and aborting the
/// connection mid-body, or sending a short, complete but unreadable body.
async fn truncate(response: Response, abort: bool) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let half = bytes.slice(..bytes.len() / 2);
    if abort {
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> = vec![
            Ok(half),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "sandbox fault: body truncated",
            )),
        ];
        Response::from_parts(parts, Body::from_stream(stream::iter(chunks)))
    } else {
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(half.len()));
        Response::from_parts(parts, Body::from(half))
    }
}
