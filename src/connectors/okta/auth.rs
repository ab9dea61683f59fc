//! Who casbah is to Okta: an API token, or an API service app.
//!
//! A service app authenticates with `private_key_jwt` only: casbah signs a
//! client assertion (iss = sub = the client id, aud = the org's own token URL
//! even when an endpoint sends the request elsewhere, a few minutes of life,
//! a fresh `jti`) and trades it at `POST {base}/oauth2/v1/token` for a Bearer
//! token carrying the read scopes. The token is kept until shortly before it
//! expires, and dropped when the API refuses it. Acting on accounts (issue 11)
//! takes a second token with `okta.users.manage`, asked for only then, so a
//! service app granted the read scopes alone connects and reads as before.

use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::{Okta, VENDOR, clean};
use crate::connectors::http::{Reply, json};
use crate::connectors::jwt::SigningKey;
use crate::connectors::{ConnectorError, scrub};
use crate::domain::Secret;

/// What casbah reads, and nothing more.
pub(super) const SCOPES: &str = "okta.users.read okta.groups.read okta.logs.read";
/// What acting on accounts needs (issue 11).
pub(super) const MANAGE_SCOPE: &str = "okta.users.manage";

/// Which of the service app's tokens a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Grant {
    Read,
    Manage,
}

impl Grant {
    fn scopes(self) -> &'static str {
        match self {
            Grant::Read => SCOPES,
            Grant::Manage => MANAGE_SCOPE,
        }
    }
}
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Okta refuses assertions that live longer than an hour; five minutes is plenty.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(300);
/// Renew this long before expiry (at most half the token's life).
const RENEW_MARGIN: Duration = Duration::from_secs(300);

pub(super) enum Auth {
    /// The secret is an API token: `Authorization: SSWS {token}`.
    ApiToken,
    ServiceApp(Box<ServiceApp>),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::ApiToken => f.write_str("ApiToken"),
            Auth::ServiceApp(app) => f
                .debug_struct("ServiceApp")
                .field("client_id", &app.client_id)
                .finish_non_exhaustive(),
        }
    }
}

pub(super) struct ServiceApp {
    client_id: String,
    key: SigningKey,
    /// `https://{domain}/oauth2/v1/token`.
    audience: String,
    /// One per `Grant`, each held while its token is fetched, so concurrent
    /// callers share one request.
    tokens: [Mutex<Option<Held>>; 2],
}

struct Held {
    token: Secret,
    renew_at: Instant,
}

/// The claims of a `private_key_jwt` client assertion.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub(super) struct Assertion {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
}

impl Assertion {
    fn new(client_id: &str, audience: &str, now: SystemTime) -> Assertion {
        let iat = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        Assertion {
            iss: client_id.to_owned(),
            sub: client_id.to_owned(),
            aud: audience.to_owned(),
            iat,
            exp: iat + ASSERTION_LIFETIME.as_secs(),
            jti: uuid::Uuid::new_v4().to_string(),
        }
    }
}

#[derive(Deserialize)]
struct Granted {
    access_token: String,
    expires_in: u64,
}

/// An OAuth error from the token endpoint.
#[derive(Deserialize, Default)]
struct Refusal {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

impl Auth {
    /// A service app when the instance names a client id (the secret is then
    /// its private key), else an API token.
    pub fn new(client_id: &str, domain: &str, secret: &Secret) -> Result<Auth, ConnectorError> {
        let client_id = client_id.trim();
        if client_id.is_empty() {
            return Ok(Auth::ApiToken);
        }
        let key = SigningKey::parse(secret).map_err(|e| ConnectorError::Invalid {
            vendor: VENDOR,
            message: format!("{e}; give the service app's private key, as PEM or as a JWK"),
        })?;
        Ok(Auth::ServiceApp(Box::new(ServiceApp {
            client_id: client_id.to_owned(),
            key,
            audience: format!("https://{domain}/oauth2/v1/token"),
            tokens: [Mutex::new(None), Mutex::new(None)],
        })))
    }

    pub fn is_service_app(&self) -> bool {
        matches!(self, Auth::ServiceApp(_))
    }

    /// The `Authorization` value for the next request that reads.
    pub async fn header(&self, okta: &Okta) -> Result<Secret, ConnectorError> {
        self.header_for(okta, Grant::Read).await
    }

    /// The `Authorization` value for a request that needs `grant`.
    pub async fn header_for(&self, okta: &Okta, grant: Grant) -> Result<Secret, ConnectorError> {
        match self {
            Auth::ApiToken => Ok(Secret::new(format!("SSWS {}", okta.secret.expose()))),
            Auth::ServiceApp(app) => {
                let token = app.token(okta, grant).await?;
                Ok(Secret::new(format!("Bearer {}", token.expose())))
            }
        }
    }

    /// Obtains a service app's token now (R-C3: a refused key says so before
    /// anything else is asked); nothing to do for an API token.
    pub async fn prepare(&self, okta: &Okta) -> Result<(), ConnectorError> {
        self.header(okta).await.map(drop)
    }

    /// Drops the service app's token that `header` carried after the API
    /// refused it, unless another caller has already replaced it.
    pub async fn forget(&self, header: &Secret) {
        let Auth::ServiceApp(app) = self else {
            return;
        };
        for slot in &app.tokens {
            let mut held = slot.lock().await;
            if held
                .as_ref()
                .is_some_and(|h| header.expose().strip_prefix("Bearer ") == Some(h.token.expose()))
            {
                *held = None;
            }
        }
    }
}

impl ServiceApp {
    async fn token(&self, okta: &Okta, grant: Grant) -> Result<Secret, ConnectorError> {
        let mut held = self.tokens[grant as usize].lock().await;
        if let Some(h) = held.as_ref().filter(|h| Instant::now() < h.renew_at) {
            return Ok(h.token.clone());
        }
        let (token, lifetime) = self.request(okta, grant).await?;
        let margin = RENEW_MARGIN.min(lifetime / 2);
        *held = Some(Held {
            token: token.clone(),
            renew_at: Instant::now() + lifetime - margin,
        });
        Ok(token)
    }

    async fn request(
        &self,
        okta: &Okta,
        grant: Grant,
    ) -> Result<(Secret, Duration), ConnectorError> {
        let url = crate::connectors::url::url(&okta.base, &["oauth2", "v1", "token"], &[]);
        // A new assertion (and jti) for every try: Okta refuses a jti seen before.
        let sign = || {
            self.key
                .sign(&Assertion::new(
                    &self.client_id,
                    &self.audience,
                    SystemTime::now(),
                ))
                .map_err(|e| e.to_string())
        };
        sign().map_err(|e| ConnectorError::Invalid {
            vendor: VENDOR,
            message: format!("the client assertion could not be signed ({e})"),
        })?;
        tracing::debug!(vendor = VENDOR, "requesting a service app token");
        let reply = okta
            .http
            .send(
                |c| {
                    let assertion = sign().unwrap_or_default();
                    c.post(url.clone())
                        .header(reqwest::header::ACCEPT, "application/json")
                        .form(&[
                            ("grant_type", "client_credentials"),
                            ("scope", grant.scopes()),
                            ("client_assertion_type", ASSERTION_TYPE),
                            ("client_assertion", assertion.as_str()),
                        ])
                },
                json::<Granted>,
            )
            .await?;
        match reply {
            Ok(g) => Ok((
                Secret::new(g.access_token),
                Duration::from_secs(g.expires_in),
            )),
            Err(reply) => Err(token_error(&reply, &okta.secret, grant)),
        }
    }
}

/// Okta's `{error, error_description}` from the token endpoint, with a plain
/// sentence saying what to do for the refusals people hit.
fn token_error(reply: &Reply, secret: &Secret, grant: Grant) -> ConnectorError {
    let r: Refusal = serde_json::from_slice(&reply.body).unwrap_or_default();
    let said = clean(r.error_description.lines().next().unwrap_or_default());
    let code = match clean(&r.error) {
        c if c.is_empty() => format!("HTTP {}", reply.status.as_u16()),
        c => c,
    };
    let message = match explain(&code, &said, grant) {
        Some(plain) => format!("{plain} ({said})"),
        None if said.is_empty() => "the token request was refused".to_owned(),
        None => format!("Okta says: {said}"),
    };
    let (code, message) = (scrub(&code, secret), scrub(&message, secret));
    match reply.status.as_u16() {
        400 | 401 => ConnectorError::Auth {
            vendor: VENDOR,
            code,
            message,
        },
        status => ConnectorError::Vendor {
            vendor: VENDOR,
            status,
            code,
            message,
        },
    }
}

fn explain(code: &str, description: &str, grant: Grant) -> Option<&'static str> {
    let d = description.to_ascii_lowercase();
    Some(match code {
        "invalid_client" if d.contains("signature") => {
            "the private key does not match the public key the service app holds; use its own key, or add this key's public half to the app"
        }
        "invalid_client" if d.contains("kid") => {
            "the service app has no key with this JWK's kid; use one of its keys or leave kid out"
        }
        "invalid_client" if d.contains("audience") => {
            "the assertion's audience is not this org's token URL; check the Okta domain"
        }
        "invalid_client" if d.contains("expire") || d.contains("too far") => {
            "the client assertion's lifetime was refused; check this computer's clock"
        }
        "invalid_client" if d.contains("client_id") || d.contains("either the client") => {
            "the org has no service app with this client id; check the client id and the domain"
        }
        "invalid_client" => {
            "Okta refused the client assertion; check the client id, the private key and the domain"
        }
        "invalid_scope" if grant == Grant::Manage => {
            "the service app is not granted okta.users.manage, which suspending, unsuspending, signing out and expiring passwords need; grant it on its Okta API Scopes tab (reading goes on without it)"
        }
        "invalid_scope" => {
            "the service app is not granted okta.users.read, okta.groups.read and okta.logs.read; grant them on its Okta API Scopes tab"
        }
        "invalid_dpop_proof" | "use_dpop_nonce" => {
            "the service app requires DPoP; turn off \"Require Demonstrating Proof of Possession\" in its settings"
        }
        "unauthorized_client" => {
            "the app may not use client credentials; create it as an API Services app"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::http::tests::reply_with as reply;

    #[test]
    fn assertions_name_the_app_and_the_orgs_token_url() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let a = Assertion::new("0oa1", "https://acme.okta.com/oauth2/v1/token", now);
        assert_eq!((a.iss.as_str(), a.sub.as_str()), ("0oa1", "0oa1"));
        assert_eq!(a.aud, "https://acme.okta.com/oauth2/v1/token");
        assert_eq!(a.iat, 1_700_000_000);
        assert!(a.exp > a.iat && a.exp - a.iat <= 3600);
        let b = Assertion::new("0oa1", "x", now);
        assert_ne!(a.jti, b.jti, "every assertion has its own jti");
    }

    // R-C3: a bad key is refused with Okta's code and a sentence saying what to do.
    #[test]
    fn token_refusals_keep_the_code_and_say_what_to_do() {
        let secret = Secret::new("-----BEGIN PRIVATE KEY-----secret");
        let err = token_error(
            &reply(
                401,
                r#"{"error":"invalid_client","error_description":"The client_assertion signature is invalid."}"#,
            ),
            &secret,
            Grant::Read,
        );
        assert!(
            matches!(&err, ConnectorError::Auth { code, message, .. }
                if code == "invalid_client" && message.contains("does not match")),
            "{err}"
        );
        let err = token_error(
            &reply(
                400,
                r#"{"error":"invalid_scope","error_description":"One or more scopes are not configured for the authorization server resource."}"#,
            ),
            &secret,
            Grant::Read,
        );
        assert!(err.to_string().contains("Okta API Scopes"), "{err}");
        let err = token_error(&reply(502, "<html>"), &secret, Grant::Read);
        assert!(
            matches!(&err, ConnectorError::Vendor { status: 502, code, .. } if code == "HTTP 502"),
            "{err}"
        );
    }

    #[test]
    fn an_echoed_secret_is_masked_and_text_sanitized() {
        let secret = Secret::new("leaky-key");
        let err = token_error(
            &reply(
                400,
                "{\"error\":\"invalid_request\",\"error_description\":\"bad leaky-key \\u001b[2J\"}",
            ),
            &secret,
            Grant::Read,
        );
        let text = err.to_string();
        assert!(!text.contains("leaky-key"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
    }
}
