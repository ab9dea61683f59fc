//! The service account's token: an RS256 JWT (Google's "JWT bearer" grant,
//! as its OAuth 2.0 for service accounts page describes it) traded at the
//! token endpoint for an access token, cached until shortly before expiry.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{GoogleWorkspace, VENDOR};
use crate::connectors::ConnectorError;
use crate::connectors::http::{Reply, json};
use crate::connectors::token::TokenSlot;
use crate::domain::Secret;

/// What casbah asks Google for, and all it asks: with domain-wide
/// delegation the whole token request fails if any scope asked for is not
/// authorised for the service account, so an administrator authorises
/// exactly these.
pub const SCOPES: [&str; 4] = [
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.member.readonly",
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.reports.audit.readonly",
];

/// What acting on accounts asks for (issue 11), in a token of its own: with
/// domain-wide delegation one unauthorised scope fails the whole request, so
/// reading must never depend on these being authorised.
pub const MANAGE_SCOPES: [&str; 2] = [
    "https://www.googleapis.com/auth/admin.directory.user",
    "https://www.googleapis.com/auth/admin.directory.user.security",
];

/// What reading and revoking the tokens accounts issued to apps asks for (issue 11),
/// in a token of its own. Google's `tokens.list` and `tokens.delete` both take this
/// scope and no narrower one, so listing grants needs a scope that can also revoke
/// them (and sign accounts out). Not among the read scopes, which would stop every
/// read where it is not authorised; not the account-governance token, which would
/// make listing grants need `admin.directory.user` as well.
pub const GRANT_SCOPES: [&str; 1] =
    ["https://www.googleapis.com/auth/admin.directory.user.security"];

/// Which of the connector's tokens a request goes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    Read,
    Manage,
    Grants,
}

impl Access {
    pub(super) fn scopes(self) -> &'static [&'static str] {
        match self {
            Access::Read => &SCOPES,
            Access::Manage => &MANAGE_SCOPES,
            Access::Grants => &GRANT_SCOPES,
        }
    }
}

/// The JWT's audience is Google's token endpoint, whatever host the request
/// is sent to (R-C7 endpoints included).
const AUDIENCE: &str = "https://oauth2.googleapis.com/token";
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Google refuses an assertion meant to live longer than an hour.
const ASSERTION_LIFETIME: i64 = 3600;

/// The claim set of Google's JWT bearer grant.
#[derive(Debug, Serialize)]
struct Claims<'a> {
    iss: &'a str,
    /// The administrator the service account acts for.
    sub: &'a str,
    scope: String,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize, Default)]
struct OAuthError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

impl GoogleWorkspace {
    /// The cached access token, or a new one.
    pub(super) async fn token(&self) -> Result<Secret, ConnectorError> {
        self.token.get(self.request_token()).await
    }

    fn assertion(&self, scopes: &[&str]) -> Result<String, ConnectorError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: &self.key.client_email,
            sub: &self.admin,
            scope: scopes.join(" "),
            aud: AUDIENCE,
            iat: now,
            exp: now + ASSERTION_LIFETIME,
        };
        self.key
            .signing
            .sign(&claims)
            .map_err(|e| ConnectorError::Auth {
                vendor: VENDOR,
                code: "signing failed".to_owned(),
                message: e.to_string(),
            })
    }

    pub(super) async fn request_token(&self) -> Result<(Secret, Duration), ConnectorError> {
        self.request_token_for(&SCOPES).await
    }

    /// Where the token for `access` is kept.
    pub(super) fn slot(&self, access: Access) -> &TokenSlot {
        match access {
            Access::Read => &self.token,
            Access::Manage => &self.manage_token,
            Access::Grants => &self.grants_token,
        }
    }

    pub(super) async fn request_token_for(
        &self,
        scopes: &[&str],
    ) -> Result<(Secret, Duration), ConnectorError> {
        let assertion = self.assertion(scopes)?;
        let form = [
            ("grant_type", GRANT_TYPE),
            ("assertion", assertion.as_str()),
        ];
        tracing::debug!(vendor = VENDOR, "requesting a token");
        let endpoint = self.hosts.token.clone();
        let reply = self
            .http
            .send(|c| c.post(endpoint.clone()).form(&form), json::<TokenReply>)
            .await?;
        match reply {
            Ok(t) => Ok((
                Secret::new(t.access_token),
                Duration::from_secs(t.expires_in),
            )),
            Err(reply) => Err(self.token_error(&reply, scopes)),
        }
    }

    /// Google answers a refused assertion with 400 or 401 and
    /// `{error, error_description}`; the plain sentence says what to do.
    fn token_error(&self, reply: &Reply, scopes: &[&str]) -> ConnectorError {
        let e: OAuthError = serde_json::from_slice(&reply.body).unwrap_or_default();
        let code = match self.clean(&e.error) {
            c if c.is_empty() => reply.status.as_u16().to_string(),
            c => c,
        };
        let said = self.clean(e.error_description.lines().next().unwrap_or_default());
        let explained = self.explain(&code, &said, scopes);
        if code == "unauthorized_client" {
            return ConnectorError::Permission {
                vendor: VENDOR,
                code,
                message: explained,
            };
        }
        if matches!(reply.status.as_u16(), 400 | 401) {
            ConnectorError::Auth {
                vendor: VENDOR,
                code,
                message: explained,
            }
        } else {
            ConnectorError::Vendor {
                vendor: VENDOR,
                status: reply.status.as_u16(),
                code,
                message: explained,
            }
        }
    }

    /// A plain sentence, with what to do, for the refusals people hit.
    fn explain(&self, code: &str, said: &str, scopes: &[&str]) -> String {
        let has = |words: &str| said.to_lowercase().contains(words);
        let sa = &self.key.client_email;
        match code {
            "invalid_grant" if has("signature") => format!(
                "the key file's private key is not a current key of {sa} (Google: {said}); create a new JSON key for the service account"
            ),
            "invalid_grant" if has("email or user id") || has("not a valid email") => format!(
                "{} is not an account of this Google Workspace (Google: {said}); --admin-email must name an administrator's account",
                self.admin
            ),
            "invalid_grant" if has("account not found") => format!(
                "the service account {sa} does not exist any more (Google: {said}); create a key for an existing service account"
            ),
            "invalid_grant" if has("short-lived") || has("timeframe") => format!(
                "Google refused the assertion's times (Google: {said}); check this computer's clock"
            ),
            "unauthorized_client" if scopes != SCOPES => {
                let (needs, them) = if scopes == GRANT_SCOPES {
                    ("reading and revoking app grants", "it")
                } else {
                    ("acting on accounts", "them")
                };
                format!(
                    "{needs} needs the service account (client id {}) authorised for domain-wide delegation of {}, besides the read scopes; add {them} in the Admin console (Security › Access and data control › API controls › Domain-wide delegation); reading goes on without {them}",
                    self.key.client_id,
                    scopes.join(",")
                )
            }
            "unauthorized_client" => format!(
                "the service account (client id {}) is not authorised for domain-wide delegation of casbah's scopes; in the Admin console (Security › Access and data control › API controls › Domain-wide delegation) authorise that client id for exactly: {}",
                self.key.client_id,
                SCOPES.join(",")
            ),
            "invalid_client" => format!(
                "Google does not know the service account's OAuth client (Google: {said}); create a new JSON key for it"
            ),
            _ if said.is_empty() => "the token request was refused".to_owned(),
            _ => format!("Google says: {said}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AppKind, Instance, InstanceId};

    const PEM: &str = include_str!("../../../assets/sandbox/google-service-account.pem");

    fn google() -> GoogleWorkspace {
        let key = serde_json::json!({
            "type": "service_account", "project_id": "p", "private_key_id": "k1",
            "private_key": PEM, "client_email": "r@p.iam.gserviceaccount.com",
            "client_id": "4242", "token_uri": "https://oauth2.googleapis.com/token"
        });
        let instance = Instance {
            id: InstanceId(1),
            app: AppKind::GoogleWorkspace,
            name: "g".into(),
            fields: [("admin-email", "ann@contoso.com"), ("customer-id", "C01")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
            endpoint: None,
            components: Vec::new(),
            created_at: 0,
        };
        GoogleWorkspace::with_policy(&instance, Secret::new(key.to_string()), Default::default())
            .unwrap()
    }

    fn reply(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
    }

    #[test]
    fn the_assertion_carries_googles_claims() {
        let g = google();
        let jwt = g.assertion(&SCOPES).unwrap();
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.kid.as_deref(), Some("k1"));
        let public = include_str!("../../../assets/sandbox/google-service-account.pub.pem");
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        v.set_audience(&[AUDIENCE]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(
            &jwt,
            &jsonwebtoken::DecodingKey::from_rsa_pem(public.as_bytes()).unwrap(),
            &v,
        )
        .unwrap()
        .claims;
        assert_eq!(claims["iss"], "r@p.iam.gserviceaccount.com");
        assert_eq!(claims["sub"], "ann@contoso.com");
        assert_eq!(claims["scope"], SCOPES.join(" "));
        let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
        assert!(lifetime <= 3600 && lifetime > 0);
    }

    // R-C3: each refusal is one line with Google's code and what to do.
    #[test]
    fn refusals_keep_googles_code_and_say_what_to_do() {
        let g = google();
        let err = g.token_error(
            &reply(
                400,
                r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
            ),
            &SCOPES,
        );
        assert!(
            matches!(&err, ConnectorError::Auth { code, message, .. } if code == "invalid_grant" && message.contains("new JSON key")),
            "{err}"
        );
        let err = g.token_error(&reply(
            401,
            r#"{"error":"unauthorized_client","error_description":"Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."}"#,
        ), &SCOPES);
        let text = err.to_string();
        assert!(matches!(err, ConnectorError::Permission { .. }), "{text}");
        assert!(text.contains("4242") && text.contains(SCOPES[3]), "{text}");
        let err = g.token_error(
            &reply(
                400,
                r#"{"error":"invalid_grant","error_description":"Invalid email or User ID"}"#,
            ),
            &SCOPES,
        );
        assert!(
            err.to_string()
                .contains("ann@contoso.com is not an account"),
            "{err}"
        );
        let err = g.token_error(&reply(503, "<html>down</html>"), &SCOPES);
        assert!(
            matches!(err, ConnectorError::Vendor { status: 503, .. }),
            "{err}"
        );
        assert!(!err.to_string().contains('\n'));
    }

    #[test]
    fn an_echoed_key_is_masked() {
        let g = google();
        let line = PEM.lines().nth(2).unwrap();
        let body = serde_json::json!({"error": "invalid_request", "error_description": format!("bad {line}")});
        let err = g.token_error(&reply(400, &body.to_string()), &SCOPES);
        assert!(!err.to_string().contains(line), "{err}");
    }
}
