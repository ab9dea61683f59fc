//! Who is calling, and for which org: an API token (`SSWS`) names its org;
//! a service app gets a Bearer token at `/oauth2/v1/token` by a
//! `private_key_jwt` client assertion, checked as Okta checks it (signature
//! by the app's public key, iss = sub = client id, aud = that org's own
//! token URL, exp within the hour, a jti never seen before), and the token
//! carries the granted scopes each endpoint asks for.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Value, json};

use super::errors::{Attributed, Family, OktaError};
use super::orgs::OktaOrg;
use crate::sandbox::{Shared, lock_mutex};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Okta refuses assertions that expire more than an hour after they are made.
const MAX_ASSERTION_LIFE: u64 = 3600;

struct Grant {
    org: usize,
    scopes: Vec<String>,
    expires: Instant,
}

/// Bearer tokens issued so far, and the assertion ids already used.
#[derive(Default)]
pub(crate) struct Issued {
    tokens: std::sync::Mutex<HashMap<String, Grant>>,
    jtis: std::sync::Mutex<HashSet<(usize, String)>>,
}

impl Issued {
    /// Makes every token issued so far expired.
    pub fn expire_all(&self) {
        let now = Instant::now();
        for grant in lock_mutex(&self.tokens).values_mut() {
            grant.expires = now;
        }
    }
}

/// The org a request is for, and what its credential may read (`None`: an
/// API token, which may read whatever its administrator can).
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub org: usize,
    scopes: Option<Vec<String>>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn invalid_client(description: &str) -> Response {
    oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// The claims of an assertion, read before its signature is checked (to know
/// whose key checks it).
fn claims_of(assertion: &str) -> Option<Value> {
    let payload = assertion.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Checks a client assertion for one of `orgs`: the org it is for, or Okta's
/// refusal (an `invalid_client` description).
fn verify(
    orgs: &[OktaOrg],
    assertion: &str,
    jtis: &mut HashSet<(usize, String)>,
) -> Result<usize, &'static str> {
    let (Ok(head), Some(claims)) = (jsonwebtoken::decode_header(assertion), claims_of(assertion))
    else {
        return Err("The client_assertion is not a valid JWT.");
    };
    let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default();
    let Some(at) = orgs.iter().position(|o| o.client_id == text("iss")) else {
        return Err("Invalid value for 'client_id' parameter.");
    };
    let org = &orgs[at];
    if head.kid.as_ref().is_some_and(|kid| *kid != org.key_id) {
        return Err("The client_assertion JWT kid is invalid.");
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let signed = org
        .public_key
        .as_ref()
        .is_some_and(|key| jsonwebtoken::decode::<Value>(assertion, key, &validation).is_ok());
    if !signed {
        return Err("The client_assertion signature is invalid.");
    }
    if text("sub") != org.client_id {
        return Err("The client_assertion token is invalid: 'sub' must be the client_id.");
    }
    if text("aud") != format!("https://{}/oauth2/v1/token", org.domain) {
        return Err(
            "The audience claim for client_assertion must be the endpoint invoking the client_assertion.",
        );
    }
    let now = now_secs();
    match claims.get("exp").and_then(Value::as_u64) {
        None => return Err("The client_assertion token must have an 'exp' claim."),
        Some(exp) if exp <= now => return Err("The client_assertion token is expired."),
        Some(exp) if exp > now + MAX_ASSERTION_LIFE => {
            return Err("The client_assertion token has an expiration too far into the future.");
        }
        Some(_) => {}
    }
    let jti = text("jti");
    if jti.is_empty() {
        return Err("The client_assertion token must have a 'jti' claim.");
    }
    if !jtis.insert((at, jti.to_string())) {
        return Err("The client_assertion token has already been used.");
    }
    Ok(at)
}

/// `POST /oauth2/v1/token`: client credentials by `private_key_jwt` only.
pub(crate) async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if field("grant_type") != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials].",
        );
    }
    if field("client_assertion_type") != ASSERTION_TYPE || field("client_assertion").is_empty() {
        return invalid_client(
            "Client authentication failed. Either the client or the client credentials are invalid.",
        );
    }
    let orgs = shared.okta.read_orgs();
    let at = {
        let mut jtis = lock_mutex(&shared.okta.issued.jtis);
        match verify(&orgs, field("client_assertion"), &mut jtis) {
            Ok(at) => at,
            Err(refusal) => return invalid_client(refusal),
        }
    };
    let asked: Vec<String> = field("scope")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if asked.is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
        );
    }
    if asked.iter().any(|s| !orgs[at].scopes.contains(s)) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "One or more scopes are not configured for the authorization server resource.",
        );
    }
    drop(orgs);
    let lifetime = shared.config.token_lifetime;
    let access_token = format!(
        "eyJraWQiOiJzYW5kYm94In0.{}.{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let scope = asked.join(" ");
    lock_mutex(&shared.okta.issued.tokens).insert(
        access_token.clone(),
        Grant {
            org: at,
            scopes: asked,
            expires: Instant::now() + lifetime,
        },
    );
    let mut response = Json(json!({
        "token_type": "Bearer",
        "expires_in": lifetime.as_secs(),
        "access_token": access_token,
        "scope": scope,
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.extensions_mut().insert(Attributed(at));
    response
}

/// The org and rights of the credential in `Authorization`, if it is one.
fn caller(shared: &Shared, authorization: &str) -> Option<Caller> {
    let (scheme, credential) = authorization.trim().split_once(' ')?;
    let credential = credential.trim();
    if scheme.eq_ignore_ascii_case("SSWS") {
        let org = shared
            .okta
            .read_orgs()
            .iter()
            .position(|o| o.api_token == credential)?;
        return Some(Caller { org, scopes: None });
    }
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return None;
    }
    let tokens = lock_mutex(&shared.okta.issued.tokens);
    let grant = tokens.get(credential)?;
    (grant.expires > Instant::now()).then(|| Caller {
        org: grant.org,
        scopes: Some(grant.scopes.clone()),
    })
}

fn scope_for(family: Family, method: &axum::http::Method) -> Option<&'static str> {
    match family {
        // Lifecycle operations and sessions change the account (issue 11).
        Family::Users if method != axum::http::Method::GET => Some("okta.users.manage"),
        Family::Users => Some("okta.users.read"),
        Family::Groups => Some("okta.groups.read"),
        Family::Logs => Some("okta.logs.read"),
        Family::Token | Family::Other => None,
    }
}

/// Middleware in front of the management API: a known credential, and for a
/// Bearer token the scope the endpoint needs (403 naming it, as Okta's
/// `WWW-Authenticate` does, when missing).
pub(crate) async fn require(
    State(shared): State<Arc<Shared>>,
    mut req: Request,
    next: Next,
) -> Response {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(caller) = caller(&shared, authorization) else {
        return OktaError::invalid_token().into_response();
    };
    let org = caller.org;
    let path = req.uri().path().to_string();
    let needed = scope_for(Family::of(&path), req.method());
    if let (Some(scopes), Some(needed)) = (&caller.scopes, needed)
        && !scopes.iter().any(|s| s == needed)
    {
        let mut response = OktaError::forbidden().into_response();
        let challenge = format!(
            "Bearer authorization_uri=\"{}/oauth2/v1/authorize\", realm=\"IdpVirtualHostRealm\", scope=\"{needed}\", error=\"insufficient_scope\", error_description=\"The access token provided does not contain the required scopes.\", resource=\"{path}\"",
            shared.base_url
        );
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response.extensions_mut().insert(Attributed(org));
        return response;
    }
    req.extensions_mut().insert(caller);
    let mut response = next.run(req).await;
    response.extensions_mut().insert(Attributed(org));
    response
}
