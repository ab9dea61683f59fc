//! Calls to Graph and the Management API: bearer token, one refresh on 401,
//! and Microsoft's error envelope mapped to `ConnectorError`.

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::auth::Scope;
use super::{Microsoft365, VENDOR, clean, scrub};
use crate::connectors::ConnectorError;
use crate::connectors::http::{BodyError, Reply, json};
use crate::domain::Secret;

/// One request, described so it can be sent again (after a token refresh or
/// a retry) and its failure explained.
pub(super) struct Call {
    pub scope: Scope,
    pub method: Method,
    pub url: Url,
    /// `ConsistencyLevel: eventual`, which `$search`, `$count` and OData casts need.
    pub eventual: bool,
    /// What a 403 means: the application permission this call needs.
    pub permission: &'static str,
    /// What a 404 means ("group 1234").
    pub what: String,
}

impl Call {
    pub fn get(scope: Scope, url: Url, permission: &'static str, what: impl Into<String>) -> Call {
        Call {
            scope,
            method: Method::GET,
            url,
            eventual: false,
            permission,
            what: what.into(),
        }
    }

    pub fn eventual(mut self) -> Call {
        self.eventual = true;
        self
    }
}

/// A Graph collection page.
#[derive(Debug, Deserialize)]
pub(super) struct Collection<T> {
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    pub next_link: Option<String>,
}

#[derive(Deserialize, Default)]
struct Envelope {
    #[serde(default)]
    error: ErrorBody,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl Microsoft365 {
    pub(super) async fn call<T: DeserializeOwned>(&self, call: &Call) -> Result<T, ConnectorError> {
        self.call_with(call, json).await
    }

    /// Sends `call` with a bearer token; a 401 drops the token and tries once
    /// more with a fresh one (tokens can be revoked before they expire).
    pub(super) async fn call_with<T>(
        &self,
        call: &Call,
        decode: impl Fn(&Reply) -> Result<T, BodyError>,
    ) -> Result<T, ConnectorError> {
        let decode = &decode;
        let reply = self
            .tokens
            .authorized(call.scope, &self.credentials(), |token| async move {
                self.http
                    .send(|c| self.build(c, call, &token), decode)
                    .await
            })
            .await?;
        reply.map_err(|r| api_error(&r, call, &self.secret))
    }

    fn build(&self, c: &reqwest::Client, call: &Call, token: &Secret) -> reqwest::RequestBuilder {
        let mut b = c
            .request(call.method.clone(), call.url.clone())
            .bearer_auth(token.expose())
            .header(reqwest::header::ACCEPT, "application/json");
        if call.eventual {
            b = b.header("ConsistencyLevel", "eventual");
        }
        if call.method == Method::POST {
            b = b.body(Vec::new());
        }
        b
    }
}

const NON_PREMIUM: &str = "Authentication_RequestFromNonPremiumTenantOrB2CTenant";

/// Microsoft's `{"error":{"code","message"}}`, shared by Graph and the
/// Management API, mapped to what the user can act on.
pub(super) fn api_error(reply: &Reply, call: &Call, secret: &Secret) -> ConnectorError {
    let e = serde_json::from_slice::<Envelope>(&reply.body)
        .unwrap_or_default()
        .error;
    let code = scrub(&clean(&e.code), secret);
    let message = scrub(&clean(e.message.lines().next().unwrap_or_default()), secret);
    match reply.status.as_u16() {
        401 => ConnectorError::Auth {
            vendor: VENDOR,
            code,
            message: format!(
                "the access token was refused ({message}); check the app registration"
            ),
        },
        // Sign-in logs need a paid Entra ID plan, whatever the permissions.
        403 if code == NON_PREMIUM => ConnectorError::Permission {
            vendor: VENDOR,
            code,
            message: format!(
                "{} needs a Microsoft Entra ID P1 or P2 licence in the tenant",
                call.what
            ),
        },
        403 => ConnectorError::Permission {
            vendor: VENDOR,
            code,
            message: format!(
                "{} needs the application permission {}, with admin consent",
                call.what, call.permission
            ),
        },
        404 => ConnectorError::NotFound {
            vendor: VENDOR,
            what: call.what.clone(),
        },
        status => ConnectorError::Vendor {
            vendor: VENDOR,
            status,
            code,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply::fake(status, &[], body)
    }

    fn call() -> Call {
        Call::get(
            Scope::Graph,
            Url::parse("http://x/v1.0/users").unwrap(),
            "User.Read.All",
            "the user list",
        )
    }

    // R-C3: a missing permission is named.
    #[test]
    fn denied_requests_name_the_permission() {
        let err = api_error(
            &reply(
                403,
                r#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}"#,
            ),
            &call(),
            &Secret::new("test-secret-value"),
        );
        let text = err.to_string();
        assert!(
            matches!(&err, ConnectorError::Permission { code, .. } if code == "Authorization_RequestDenied"),
            "{text}"
        );
        assert!(text.contains("User.Read.All"), "{text}");
    }

    #[test]
    fn sign_ins_without_a_premium_licence_say_so() {
        let err = api_error(
            &reply(
                403,
                r#"{"error":{"code":"Authentication_RequestFromNonPremiumTenantOrB2CTenant","message":"Neither tenant is B2C or tenant doesn't have premium license"}}"#,
            ),
            &call(),
            &Secret::new("test-secret-value"),
        );
        assert!(err.to_string().contains("P1 or P2"), "{err}");
    }

    #[test]
    fn other_errors_keep_graphs_code_and_message() {
        let err = api_error(
            &reply(
                400,
                r#"{"error":{"code":"Request_UnsupportedQuery","message":"Invalid page size specified: '1000'.\nmore"}}"#,
            ),
            &call(),
            &Secret::new("test-secret-value"),
        );
        assert!(
            matches!(&err, ConnectorError::Vendor { status: 400, code, message, .. }
                if code == "Request_UnsupportedQuery" && message == "Invalid page size specified: '1000'."),
            "{err}"
        );
        let err = api_error(
            &reply(404, "not json"),
            &call(),
            &Secret::new("test-secret-value"),
        );
        assert!(matches!(err, ConnectorError::NotFound { .. }), "{err}");
    }
}
