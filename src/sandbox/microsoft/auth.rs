//! Entra ID client-credentials tokens, and the bearer check in front of
//! Graph and the Management Activity API.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::errors::GraphError;
use crate::sandbox::{Shared, lock_mutex, org::INITIAL_DOMAIN, org::PRIMARY_DOMAIN};

/// The resource a token was issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Graph,
    Management,
}

pub(crate) struct IssuedToken {
    audience: Audience,
    expires: Instant,
}

/// Tokens issued so far.
#[derive(Default)]
pub(crate) struct Tokens(std::sync::Mutex<HashMap<String, IssuedToken>>);

impl Tokens {
    /// Makes every issued token expired, as if its lifetime had run out.
    pub(crate) fn expire_all(&self) {
        let now = Instant::now();
        for token in lock_mutex(&self.0).values_mut() {
            token.expires = now;
        }
    }
}

fn aad_error(status: StatusCode, error: &str, code: u32, text: &str) -> Response {
    let trace = Uuid::new_v4();
    let correlation = Uuid::new_v4();
    let now = Utc::now();
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {}",
            now.format("%Y-%m-%d %H:%M:%SZ")
        ),
        "error_codes": [code],
        "timestamp": now.format("%Y-%m-%d %H:%M:%SZ").to_string(),
        "trace_id": trace.to_string(),
        "correlation_id": correlation.to_string(),
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    (status, Json(body)).into_response()
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let (tenant_id, client_id, client_secret) = {
        let org = shared.org();
        (
            org.tenant_id.to_string(),
            org.client_id.to_string(),
            org.client_secret.clone(),
        )
    };
    let tenant = tenant.to_ascii_lowercase();
    if tenant != tenant_id && tenant != PRIMARY_DOMAIN && tenant != INITIAL_DOMAIN {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        );
    }
    for required in ["grant_type", "client_id", "scope"] {
        if form.get(required).is_none_or(|v| v.is_empty()) {
            return aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                &format!("The request body must contain the following parameter: '{required}'."),
            );
        }
    }
    let grant = form
        .get("grant_type")
        .map(String::as_str)
        .unwrap_or_default();
    if grant != "client_credentials" {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{grant}'."),
        );
    }
    let client = form
        .get("client_id")
        .map(String::as_str)
        .unwrap_or_default();
    if !client.eq_ignore_ascii_case(&client_id) {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client}' was not found in the directory 'Contoso'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        );
    }
    match form.get("client_secret") {
        None => {
            return aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            );
        }
        Some(secret) if *secret != client_secret => {
            return aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                &format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                ),
            );
        }
        Some(_) => {}
    }
    let scope = form.get("scope").map(String::as_str).unwrap_or_default();
    let audience = match scope.trim() {
        "https://graph.microsoft.com/.default"
        | "00000003-0000-0000-c000-000000000000/.default" => Audience::Graph,
        "https://manage.office.com/.default" | "c5393580-f805-4401-95e8-94b7a6ef2fc2/.default" => {
            Audience::Management
        }
        other => {
            return aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                &format!(
                    "The provided value for scope {other} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            );
        }
    };
    let lifetime = shared.config.token_lifetime;
    let access_token = format!(
        "eyJ0eXAiOiJKV1QifQ.sandbox.{}{}",
        Uuid::new_v4().simple(),
        Uuid::new_v4().simple()
    );
    lock_mutex(&shared.microsoft.tokens.0).insert(
        access_token.clone(),
        IssuedToken {
            audience,
            expires: Instant::now() + lifetime,
        },
    );
    let secs = lifetime.as_secs();
    Json(json!({
        "token_type": "Bearer",
        "expires_in": secs,
        "ext_expires_in": secs,
        "access_token": access_token,
    }))
    .into_response()
}

/// Why a bearer token was refused, in Graph's words.
fn check(shared: &Shared, req: &Request, audience: Audience) -> Result<(), &'static str> {
    let token = crate::sandbox::dialect::bearer(req);
    if token.is_empty() {
        return Err("Access token is empty.");
    }
    let tokens = lock_mutex(&shared.microsoft.tokens.0);
    let issued = tokens
        .get(token)
        .ok_or("IDX14100: JWT is not well formed, there are no dots (.).")?;
    if issued.audience != audience {
        return Err("Access token validation failure. Invalid audience.");
    }
    if issued.expires <= Instant::now() {
        return Err("Lifetime validation failed, the token is expired.");
    }
    Ok(())
}

/// Middleware: Graph calls need a live Graph token.
pub(crate) async fn require_graph(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    match check(&shared, &req, Audience::Graph) {
        Ok(()) => next.run(req).await,
        Err(message) => GraphError::unauthenticated(message).into_response(),
    }
}
/// Middleware: Management Activity API calls need a live manage.office.com token.
pub(crate) async fn require_management(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    match check(&shared, &req, Audience::Management) {
        Ok(()) => next.run(req).await,
        Err(message) => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"code": "AF10001", "message": format!("Authorization has been denied for this request. {message}")}})),
        )
            .into_response(),
    }
}
