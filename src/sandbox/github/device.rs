//! GitHub's OAuth device flow: `POST /login/device/code` hands out a device
//! code and a user code; `POST /login/oauth/access_token` answers
//! `authorization_pending` until the person approves (a test does it through
//! `Sandbox::github_approve_device`), `slow_down` when polled sooner than the
//! interval (which then grows by the step, 5 s at GitHub), `expired_token`
//! after `expires_in`, `access_denied` when refused; every error comes with
//! HTTP 200. Answers are form-encoded unless the client asks for JSON, as
//! GitHub's are. The interval, lifetime and step can be shortened for tests
//! (`Sandbox::set_github_device_timing`); the interval is then sent with a
//! fraction, which GitHub itself never does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use rand::RngExt;
use serde_json::{Value, json};

use super::Grant;
use crate::sandbox::{Shared, lock_mutex};

pub(crate) const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
const ERROR_URI: &str = "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow";

/// How a flow is timed: GitHub's 5 s interval, 15 minutes, 5 s per slow_down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeviceTiming {
    pub interval: Duration,
    pub expires_in: Duration,
    pub slow_down_step: Duration,
}

impl Default for DeviceTiming {
    fn default() -> Self {
        DeviceTiming {
            interval: Duration::from_secs(5),
            expires_in: Duration::from_secs(900),
            slow_down_step: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Approved,
    Denied,
    Redeemed,
}

struct Flow {
    device_code: String,
    user_code: String,
    scopes: Vec<String>,
    issued: Instant,
    expires_in: Duration,
    interval: Duration,
    last_poll: Option<Instant>,
    status: Status,
    /// A test asked for the next poll to be told to slow down.
    slow_down: bool,
}

#[derive(Default)]
struct Inner {
    flows: Vec<Flow>,
    timing: DeviceTiming,
    /// Polls that came sooner than the interval.
    too_fast: u64,
    polls: HashMap<String, u64>,
}

/// The device flows under way.
#[derive(Default)]
pub(crate) struct Flows(Mutex<Inner>);

impl Flows {
    pub(crate) fn set_timing(&self, timing: DeviceTiming) {
        lock_mutex(&self.0).timing = timing;
    }

    fn with<T>(&self, user_code: &str, f: impl FnOnce(&mut Flow) -> T) -> Option<T> {
        let mut inner = lock_mutex(&self.0);
        inner
            .flows
            .iter_mut()
            .find(|fl| fl.user_code.eq_ignore_ascii_case(user_code))
            .map(f)
    }

    /// The person approves (true) or refuses (false); false if no such pending code.
    pub(crate) fn decide(&self, user_code: &str, approve: bool) -> bool {
        self.with(user_code, |fl| {
            let pending = fl.status == Status::Pending;
            if pending {
                fl.status = if approve {
                    Status::Approved
                } else {
                    Status::Denied
                };
            }
            pending
        })
        .unwrap_or(false)
    }

    pub(crate) fn force_slow_down(&self, user_code: &str) -> bool {
        self.with(user_code, |fl| fl.slow_down = true).is_some()
    }

    pub(crate) fn too_fast(&self) -> u64 {
        lock_mutex(&self.0).too_fast
    }

    pub(crate) fn polls(&self, user_code: &str) -> u64 {
        let inner = lock_mutex(&self.0);
        inner
            .flows
            .iter()
            .find(|fl| fl.user_code.eq_ignore_ascii_case(user_code))
            .and_then(|fl| inner.polls.get(&fl.device_code).copied())
            .unwrap_or(0)
    }
}

fn form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"))
}

/// GitHub's OAuth answer: JSON when asked for, else form-encoded.
fn reply(headers: &HeaderMap, body: Value) -> Response {
    if wants_json(headers) {
        return Json(body).into_response();
    }
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    if let Value::Object(map) = &body {
        for (k, v) in map {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            out.append_pair(k, &text);
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8",
        )],
        out.finish(),
    )
        .into_response()
}

fn oauth_error(headers: &HeaderMap, error: &str, description: &str) -> Response {
    reply(
        headers,
        json!({"error": error, "error_description": description, "error_uri": ERROR_URI}),
    )
}

/// Seconds, whole when they are (GitHub's), else with a fraction.
fn seconds(d: Duration) -> Value {
    if d.subsec_nanos() == 0 {
        json!(d.as_secs())
    } else {
        json!(d.as_secs_f64())
    }
}

fn random_code(alphabet: &[u8], n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// `POST /login/device/code`.
pub(crate) async fn device_code(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = form(&body);
    let client = form
        .get("client_id")
        .map(String::as_str)
        .unwrap_or_default();
    if client != shared.github.client_id {
        return oauth_error(
            &headers,
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        );
    }
    let scopes: Vec<String> = form
        .get("scope")
        .map(|s| {
            s.split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let device_code = random_code(b"0123456789abcdef", 40);
    let user_code = {
        let letters = b"BCDFGHJKLMNPQRSTVWXZ23456789";
        format!("{}-{}", random_code(letters, 4), random_code(letters, 4))
    };
    let mut inner = lock_mutex(&shared.github.device.0);
    let timing = inner.timing;
    inner.flows.push(Flow {
        device_code: device_code.clone(),
        user_code: user_code.clone(),
        scopes,
        issued: Instant::now(),
        expires_in: timing.expires_in,
        interval: timing.interval,
        last_poll: None,
        status: Status::Pending,
        slow_down: false,
    });
    drop(inner);
    reply(
        &headers,
        json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": format!("{}/login/device", shared.base_url),
            "expires_in": timing.expires_in.as_secs().max(1),
            "interval": seconds(timing.interval),
        }),
    )
}

/// `POST /login/oauth/access_token` with the device grant.
pub(crate) async fn access_token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = form(&body);
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if get("grant_type") != GRANT_TYPE {
        return oauth_error(
            &headers,
            "unsupported_grant_type",
            "The grant type must be urn:ietf:params:oauth:grant-type:device_code.",
        );
    }
    if get("client_id") != shared.github.client_id {
        return oauth_error(
            &headers,
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        );
    }
    let github = &shared.github;
    let mut inner = lock_mutex(&github.device.0);
    let Inner {
        flows,
        timing,
        too_fast,
        polls,
    } = &mut *inner;
    let Some(flow) = flows
        .iter_mut()
        .find(|f| f.device_code == get("device_code"))
    else {
        return oauth_error(
            &headers,
            "incorrect_device_code",
            "The device_code provided is not valid.",
        );
    };
    *polls.entry(flow.device_code.clone()).or_default() += 1;
    let now = Instant::now();
    if now.duration_since(flow.issued) > flow.expires_in {
        return oauth_error(&headers, "expired_token", "The `device_code` has expired.");
    }
    let early = flow
        .last_poll
        .is_some_and(|last| now.duration_since(last) < flow.interval);
    flow.last_poll = Some(now);
    if early || flow.slow_down {
        if early {
            *too_fast += 1;
        }
        flow.slow_down = false;
        flow.interval += timing.slow_down_step;
        return reply(
            &headers,
            json!({
                "error": "slow_down",
                "error_description": "Too many requests have been made in the same timeframe.",
                "error_uri": ERROR_URI,
                "interval": seconds(flow.interval),
            }),
        );
    }
    match flow.status {
        Status::Pending => oauth_error(
            &headers,
            "authorization_pending",
            "The authorization request is still pending.",
        ),
        Status::Denied => oauth_error(
            &headers,
            "access_denied",
            "The authorization request was denied.",
        ),
        Status::Redeemed => oauth_error(
            &headers,
            "incorrect_device_code",
            "The device_code provided is not valid.",
        ),
        Status::Approved => {
            flow.status = Status::Redeemed;
            let mut scopes = flow.scopes.clone();
            scopes.sort();
            let token = super::model::token(
                &mut rand_chacha::rand_core::SeedableRng::seed_from_u64(rand::random()),
                "gho_",
            );
            let all_orgs = (0..github.orgs().len()).collect();
            lock_mutex(&github.tokens).insert(
                token.clone(),
                Grant {
                    account: github.approver,
                    orgs: all_orgs,
                    scopes: Some(scopes.clone()),
                },
            );
            reply(
                &headers,
                json!({"access_token": token, "token_type": "bearer", "scope": scopes.join(",")}),
            )
        }
    }
}

/// `GET /login/device`: where a person would type the code.
pub(crate) async fn verification_page() -> Html<&'static str> {
    Html(
        "<!doctype html><title>Device Activation</title><h1>Device Activation</h1><p>Enter the code displayed on your device.</p>",
    )
}
