//! Entra ID client credentials: one token per resource, cached until shortly
//! before it expires.

use std::time::Duration;

use serde::Deserialize;

use super::endpoints::{Hosts, url};
use super::{VENDOR, clean, scrub};
use crate::connectors::ConnectorError;
use crate::connectors::http::{Http, Reply, json};
use crate::connectors::token::TokenSlot;
use crate::domain::Secret;

/// The two resources casbah asks tokens for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    Graph,
    /// The Office 365 Management Activity API.
    Manage,
}

impl Scope {
    /// The `.default` scope names the real resource even when an endpoint
    /// override (R-C7) sends the request elsewhere: the audience is Microsoft's.
    fn value(self) -> &'static str {
        match self {
            Scope::Graph => "https://graph.microsoft.com/.default",
            Scope::Manage => "https://manage.office.com/.default",
        }
    }
}

/// One token per resource (`connectors::token`).
#[derive(Default)]
pub(super) struct Tokens {
    graph: TokenSlot,
    manage: TokenSlot,
}

pub(super) struct Credentials<'a> {
    pub http: &'a Http,
    pub hosts: &'a Hosts,
    pub tenant: &'a str,
    pub client_id: &'a str,
    pub secret: &'a Secret,
}

impl Tokens {
    fn slot(&self, scope: Scope) -> &TokenSlot {
        match scope {
            Scope::Graph => &self.graph,
            Scope::Manage => &self.manage,
        }
    }

    pub async fn get(
        &self,
        scope: Scope,
        creds: &Credentials<'_>,
    ) -> Result<Secret, ConnectorError> {
        self.slot(scope).get(request(scope, creds)).await
    }

    /// `send`s with the scope's token, fetching a new one once on a 401.
    pub async fn authorized<T, F, Fut>(
        &self,
        scope: Scope,
        creds: &Credentials<'_>,
        send: F,
    ) -> Result<Result<T, Reply>, ConnectorError>
    where
        F: Fn(Secret) -> Fut,
        Fut: std::future::Future<Output = Result<Result<T, Reply>, ConnectorError>>,
    {
        self.slot(scope)
            .send_authorized(VENDOR, || request(scope, creds), send, |_| true)
            .await
    }
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
    /// Seconds; Entra sends a number, older endpoints a string.
    expires_in: Lifetime,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Lifetime {
    Number(u64),
    Text(String),
}

#[derive(Deserialize, Default)]
struct EntraError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    error_codes: Vec<u64>,
}

async fn request(
    scope: Scope,
    creds: &Credentials<'_>,
) -> Result<(Secret, Duration), ConnectorError> {
    let endpoint = url(
        &creds.hosts.login,
        &[creds.tenant, "oauth2", "v2.0", "token"],
        &[],
    );
    let form = [
        ("client_id", creds.client_id),
        ("client_secret", creds.secret.expose()),
        ("scope", scope.value()),
        ("grant_type", "client_credentials"),
    ];
    tracing::debug!(vendor = VENDOR, ?scope, "requesting a token");
    let reply = creds
        .http
        .send(|c| c.post(endpoint.clone()).form(&form), json::<TokenReply>)
        .await?;
    match reply {
        Ok(t) => {
            let secs = match &t.expires_in {
                Lifetime::Number(n) => Some(*n),
                Lifetime::Text(s) => s.trim().parse().ok(),
            };
            let secs = secs.ok_or_else(|| ConnectorError::Protocol {
                vendor: VENDOR,
                detail: "the token reply has no usable expires_in".to_owned(),
            })?;
            Ok((Secret::new(t.access_token), Duration::from_secs(secs)))
        }
        Err(reply) => Err(token_error(&reply, creds.secret)),
    }
}

/// Entra answers 400 or 401 with `{error, error_description: "AADSTS…: …",
/// error_codes}` when it refuses the credentials.
fn token_error(reply: &Reply, secret: &Secret) -> ConnectorError {
    let e: EntraError = serde_json::from_slice(&reply.body).unwrap_or_default();
    let code = e
        .error_codes
        .first()
        .map(|c| format!("AADSTS{c}"))
        .or_else(|| aadsts_in(&e.error_description))
        .unwrap_or_else(|| clean(&e.error));
    let said = first_sentence(&e.error_description);
    let message = match explain(&code, &e.error) {
        Some(plain) => plain.to_owned(),
        None if said.is_empty() => "the token request was refused".to_owned(),
        None => format!("Entra ID says: {said}"),
    };
    let message = scrub(&message, secret);
    let code = scrub(&code, secret);
    if matches!(reply.status.as_u16(), 400 | 401) {
        ConnectorError::Auth {
            vendor: VENDOR,
            code,
            message,
        }
    } else {
        ConnectorError::Vendor {
            vendor: VENDOR,
            status: reply.status.as_u16(),
            code,
            message,
        }
    }
}

fn aadsts_in(description: &str) -> Option<String> {
    let start = description.find("AADSTS")?;
    let digits: String = description[start + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then(|| format!("AADSTS{digits}"))
}

/// Entra's descriptions run on with trace and correlation ids; the first
/// sentence is the useful part.
fn first_sentence(description: &str) -> String {
    let line = description.lines().next().unwrap_or_default();
    let sentence = match line.find(". ") {
        Some(i) => &line[..=i],
        None => line,
    };
    clean(sentence.trim())
}

/// A plain sentence, with what to do, for the refusals people actually hit.
fn explain(code: &str, error: &str) -> Option<&'static str> {
    Some(match code {
        "AADSTS7000215" => {
            "the client secret is wrong; paste the secret's value (not its id) from the app registration"
        }
        "AADSTS7000222" => {
            "the client secret has expired; create a new one in the app registration"
        }
        "AADSTS700016" => {
            "no application with this client id exists in the tenant; check the client id and the tenant"
        }
        "AADSTS90002" => "the tenant was not found; check the tenant id or domain",
        "AADSTS900023" => "the tenant id is not valid; use the tenant's id or its domain name",
        "AADSTS7000112" => "the application is disabled; enable it in Entra ID",
        "AADSTS500011" => {
            "the tenant has no Office 365 Management API; check that it has a Microsoft 365 subscription"
        }
        _ => match error {
            "invalid_client" => {
                "the client id or secret was refused; check both in the app registration"
            }
            "unauthorized_client" => {
                "the application may not get tokens in this tenant; check the client id and grant admin consent"
            }
            _ => return None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
    }

    // R-C3: a wrong secret says so in one line, with Entra's code.
    #[test]
    fn wrong_secret_is_an_auth_error_with_its_code() {
        let secret = Secret::new("hunter2-very-secret");
        let err = token_error(
            &reply(
                401,
                r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'x'.\r\nTrace ID: 1","error_codes":[7000215]}"#,
            ),
            &secret,
        );
        let ConnectorError::Auth { code, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(code, "AADSTS7000215");
        let text = err.to_string();
        assert!(text.contains("client secret is wrong"), "{text}");
        assert!(!text.contains(secret.expose()));
    }

    #[test]
    fn unknown_tenant_and_client_are_auth_errors() {
        let secret = Secret::new("test-secret-value");
        let err = token_error(
            &reply(
                400,
                r#"{"error":"invalid_request","error_description":"AADSTS90002: Tenant 'nope' not found. Check to make sure you have the correct tenant ID."}"#,
            ),
            &secret,
        );
        assert!(
            matches!(&err, ConnectorError::Auth { code, message, .. } if code == "AADSTS90002" && message.contains("tenant was not found")),
            "{err}"
        );
        let err = token_error(
            &reply(
                400,
                r#"{"error":"unauthorized_client","error_description":"AADSTS700099: Something new. More."}"#,
            ),
            &secret,
        );
        assert!(
            matches!(&err, ConnectorError::Auth { code, message, .. } if code == "AADSTS700099" && message.contains("admin consent")),
            "{err}"
        );
    }

    #[test]
    fn unexplained_refusals_quote_entras_first_sentence_sanitized() {
        let err = token_error(
            &reply(
                400,
                "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS1: Odd \\u001b[31mthing. Trace ID: 9\"}",
            ),
            &Secret::new("test-secret-value"),
        );
        let text = err.to_string();
        assert!(
            text.contains("Entra ID says: AADSTS1: Odd ^[[31mthing."),
            "{text}"
        );
        assert!(!text.contains("Trace ID"));
    }

    #[test]
    fn a_secret_echoed_by_the_vendor_is_masked() {
        let secret = Secret::new("Zq8~leaky");
        let err = token_error(
            &reply(
                400,
                r#"{"error":"invalid_request","error_description":"Bad value Zq8~leaky. More."}"#,
            ),
            &secret,
        );
        assert!(!err.to_string().contains("Zq8~leaky"), "{err}");
    }

    #[test]
    fn server_errors_at_the_token_endpoint_are_not_auth_errors() {
        let err = token_error(
            &reply(502, "<html>bad gateway</html>"),
            &Secret::new("test-secret-value"),
        );
        assert!(
            matches!(err, ConnectorError::Vendor { status: 502, .. }),
            "{err}"
        );
    }
}
