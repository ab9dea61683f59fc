//! GitHub's OAuth device flow ("Authorizing OAuth apps"): ask for a code
//! (`POST /login/device/code` with the OAuth app's client id and the scopes
//! casbah reads with), show it, then poll `POST /login/oauth/access_token`
//! no sooner than the interval GitHub gives until the person has entered it.
//! GitHub answers every outcome with HTTP 200 and an `error` field:
//! `authorization_pending` (keep waiting), `slow_down` (the interval grows; the
//! answer says to what), `expired_token`, `access_denied`,
//! `incorrect_device_code`, `incorrect_client_credentials`,
//! `device_flow_disabled`, `unsupported_grant_type`. Dropping the future stops
//! the polling at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::signal::GitHubSignal;
use super::{Hosts, VENDOR, clean};
use crate::connectors::http::{Http, Reply, RetryPolicy, json};
use crate::connectors::{ConnectorError, DeviceCode, scrub};
use crate::domain::{Instance, Secret};

/// What casbah reads: teams and members, and the audit log.
pub const SCOPES: &str = "read:org read:audit_log";
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628's default when GitHub names no interval; `slow_down` adds as much.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// GitHub's codes live 15 minutes.
const DEFAULT_EXPIRY: Duration = Duration::from_secs(900);

#[derive(Debug, Default, Deserialize)]
struct Answer {
    device_code: Option<String>,
    user_code: Option<String>,
    verification_uri: Option<String>,
    expires_in: Option<f64>,
    interval: Option<f64>,
    access_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn seconds(s: Option<f64>) -> Option<Duration> {
    s.filter(|s| s.is_finite() && *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
}

struct Flow {
    http: Http,
    hosts: Hosts,
    client_id: String,
}

impl Flow {
    fn new(instance: &Instance) -> Result<Flow, ConnectorError> {
        let client_id = instance.field("client-id").trim().to_string();
        if client_id.is_empty() {
            return Err(ConnectorError::Auth {
                vendor: VENDOR,
                code: "client-id".into(),
                message: "the device flow needs the OAuth app's client id; give --client-id".into(),
            });
        }
        Ok(Flow {
            http: Http::new(
                VENDOR,
                RetryPolicy::default(),
                Arc::new(GitHubSignal::default()),
            )?,
            hosts: Hosts::new(instance.endpoint.as_deref())?,
            client_id,
        })
    }

    async fn post(
        &self,
        path: &[&str],
        form: &[(&str, &str)],
        hide: &Secret,
    ) -> Result<Answer, ConnectorError> {
        let url = crate::connectors::url::url(&self.hosts.web, path, &[]);
        let reply = self
            .http
            .send(
                |c| {
                    c.post(url.clone())
                        .header(reqwest::header::ACCEPT, "application/json")
                        .form(form)
                },
                json::<Answer>,
            )
            .await?;
        reply.map_err(|r| self.refused(&r, hide))
    }

    /// A non-200 answer: GitHub says so for an unknown client id.
    fn refused(&self, reply: &Reply, hide: &Secret) -> ConnectorError {
        let answer = serde_json::from_slice::<Answer>(&reply.body).unwrap_or_default();
        match answer.error {
            Some(e) => self.oauth_error(&e, answer.error_description.as_deref(), hide),
            None if matches!(reply.status.as_u16(), 401 | 403 | 404 | 422) => {
                self.oauth_error("incorrect_client_credentials", None, hide)
            }
            None => ConnectorError::Vendor {
                vendor: VENDOR,
                status: reply.status.as_u16(),
                code: reply.status.canonical_reason().unwrap_or("error").into(),
                message: "the device flow failed; try again later".into(),
            },
        }
    }

    fn oauth_error(&self, error: &str, description: Option<&str>, hide: &Secret) -> ConnectorError {
        let code = scrub(&clean(error), hide);
        let auth = |message: String| ConnectorError::Auth {
            vendor: VENDOR,
            code: code.clone(),
            message,
        };
        match error {
            "expired_token" => {
                auth("the code expired before it was entered; start the sign-in again".into())
            }
            "access_denied" => auth(
                "the sign-in was cancelled at GitHub; start it again and authorize the app".into(),
            ),
            "incorrect_device_code" => {
                auth("GitHub does not recognise this sign-in; start it again".into())
            }
            "incorrect_client_credentials" => auth(format!(
                "GitHub does not know the OAuth app client id {}; check the client id in the app's settings",
                clean(&self.client_id)
            )),
            "device_flow_disabled" => ConnectorError::Permission {
                vendor: VENDOR,
                code,
                message: format!(
                    "the OAuth app {} has the device flow switched off; enable Device Flow in the app's settings",
                    clean(&self.client_id)
                ),
            },
            "unsupported_grant_type" => ConnectorError::Protocol {
                vendor: VENDOR,
                detail: "GitHub refused the device grant type".into(),
            },
            _ => ConnectorError::Vendor {
                vendor: VENDOR,
                status: 200,
                code,
                message: scrub(&clean(description.unwrap_or("the sign-in failed")), hide),
            },
        }
    }
}

/// The device flow's first step: a code for the person to enter at GitHub.
pub async fn begin(instance: &Instance) -> Result<DeviceCode, ConnectorError> {
    let flow = Flow::new(instance)?;
    let answer = flow
        .post(
            &["login", "device", "code"],
            &[("client_id", &flow.client_id), ("scope", SCOPES)],
            &Secret::new(""),
        )
        .await?;
    if let Some(e) = &answer.error {
        return Err(flow.oauth_error(e, answer.error_description.as_deref(), &Secret::new("")));
    }
    let missing = |what: &str| ConnectorError::Protocol {
        vendor: VENDOR,
        detail: format!("the device code answer has no {what}"),
    };
    let device_code = answer
        .device_code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| missing("device_code"))?;
    let user_code = answer
        .user_code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| missing("user_code"))?;
    let verification_uri = answer
        .verification_uri
        .filter(|c| !c.is_empty())
        .ok_or_else(|| missing("verification_uri"))?;
    Ok(DeviceCode {
        verification_uri: clean(&verification_uri),
        user_code: clean(&user_code),
        expires_in: seconds(answer.expires_in).unwrap_or(DEFAULT_EXPIRY),
        interval: seconds(answer.interval).unwrap_or(DEFAULT_INTERVAL),
        device_code: Secret::new(device_code),
    })
}

/// Polls until the person has entered the code; the token it yields. Never
/// sooner than the interval (plus a tenth, against clocks that run fast).
pub async fn finish(instance: &Instance, code: &DeviceCode) -> Result<Secret, ConnectorError> {
    let flow = Flow::new(instance)?;
    let mut interval = code.interval.max(Duration::from_millis(1));
    let deadline = Instant::now() + code.expires_in + interval;
    loop {
        tokio::time::sleep(interval + interval / 10).await;
        if Instant::now() > deadline {
            return Err(flow.oauth_error("expired_token", None, &code.device_code));
        }
        let answer = flow
            .post(
                &["login", "oauth", "access_token"],
                &[
                    ("client_id", &flow.client_id),
                    ("device_code", code.device_code.expose()),
                    ("grant_type", GRANT_TYPE),
                ],
                &code.device_code,
            )
            .await?;
        if let Some(token) = answer.access_token.filter(|t| !t.is_empty()) {
            return Ok(Secret::new(token));
        }
        match answer.error.as_deref() {
            Some("authorization_pending") => {}
            Some("slow_down") => {
                interval = seconds(answer.interval).unwrap_or(interval + DEFAULT_INTERVAL);
                tracing::info!(
                    vendor = VENDOR,
                    ?interval,
                    "GitHub asked to poll more slowly"
                );
            }
            Some(e) => {
                return Err(flow.oauth_error(
                    e,
                    answer.error_description.as_deref(),
                    &code.device_code,
                ));
            }
            None => {
                return Err(ConnectorError::Protocol {
                    vendor: VENDOR,
                    detail: "the token answer has neither a token nor an error".into(),
                });
            }
        }
    }
}
