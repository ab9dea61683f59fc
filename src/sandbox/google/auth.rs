//! The token endpoint of Google's JWT bearer grant, checking the assertion
//! as Google does, and the bearer check in front of the Admin SDK.
//!
//! The assertion must be signed (RS256) by the service account's key, name
//! the account as `iss`, have `aud` exactly `https://oauth2.googleapis.com/token`
//! (whatever host it was sent to), live at most an hour and not be expired,
//! ask for scopes, and — to act as someone (`sub`) — name an existing account
//! and ask only for scopes authorised for the account's domain-wide delegation.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use uuid::Uuid;

use super::errors::{GoogleError, oauth};
use crate::connectors::google::{MANAGE_SCOPES, SCOPES};
use crate::sandbox::{Shared, lock_mutex};

const PRIVATE_KEY: &str = include_str!("../../../assets/sandbox/google-service-account.pem");
const PUBLIC_KEY: &str = include_str!("../../../assets/sandbox/google-service-account.pub.pem");

/// The audience Google requires, whatever host the assertion is sent to.
pub(crate) const AUDIENCE: &str = "https://oauth2.googleapis.com/token";
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// An assertion may live an hour at most.
const MAX_ASSERTION_LIFETIME: i64 = 3600;
/// How far ahead of the sandbox's clock an `iat` may be.
const CLOCK_SKEW: i64 = 300;

pub(crate) const PROJECT_ID: &str = "casbah-sandbox";
pub(crate) const CLIENT_EMAIL: &str = "casbah-reader@casbah-sandbox.iam.gserviceaccount.com";

const SHORT_LIVED: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";

/// The sandbox's service account and what its domain-wide delegation allows.
pub(crate) struct ServiceAccount {
    pub client_id: String,
    pub private_key_id: String,
    public: DecodingKey,
    /// Scopes an administrator authorised for the account's client id.
    pub delegated: std::sync::RwLock<Vec<String>>,
}

impl ServiceAccount {
    pub(crate) fn new(seed: u64) -> ServiceAccount {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5E41_CE0A);
        let private_key_id = (0..40)
            .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
            .collect();
        let client_id = std::iter::once('1')
            .chain((1..21).map(|_| char::from(b'0' + rng.random_range(0..10u8))))
            .collect();
        ServiceAccount {
            client_id,
            private_key_id,
            // A compiled-in asset checked by the tests: a failure is a build defect.
            public: DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes())
                .unwrap_or_else(|e| panic!("google-service-account.pub.pem: {e}")),
            // The read scopes and, for account governance (issue 11), the
            // read-write ones, unless a test takes them away.
            delegated: std::sync::RwLock::new(
                SCOPES
                    .iter()
                    .chain(&MANAGE_SCOPES)
                    .map(|s| s.to_string())
                    .collect(),
            ),
        }
    }

    /// The JSON key file Google's console would download for the account,
    /// its `token_uri` pointing at `token_uri`.
    pub(crate) fn key_file(&self, token_uri: &str) -> Value {
        json!({
            "type": "service_account",
            "project_id": PROJECT_ID,
            "private_key_id": self.private_key_id,
            "private_key": PRIVATE_KEY,
            "client_email": CLIENT_EMAIL,
            "client_id": self.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": format!("https://www.googleapis.com/robot/v1/metadata/x509/{}", CLIENT_EMAIL.replace('@', "%40")),
            "universe_domain": "googleapis.com",
        })
    }
}

/// An access token handed out: who it acts as and for what.
pub(crate) struct Issued {
    /// The account it acts as; `None` for the service account itself.
    pub subject: Option<String>,
    pub scopes: Vec<String>,
    pub expires: Instant,
}

#[derive(Default)]
pub(crate) struct Tokens(std::sync::Mutex<HashMap<String, Issued>>);

impl Tokens {
    /// Every token issued so far is expired from now on.
    pub(crate) fn expire_all(&self) {
        let now = Instant::now();
        for t in lock_mutex(&self.0).values_mut() {
            t.expires = now;
        }
    }
}

fn invalid_grant(description: &str) -> Response {
    oauth(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

/// The JSON of a JWT part, or nothing.
fn part(segment: &str) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).ok()?).ok()
}

/// Checks an assertion as Google does, in Google's order: the claims, or
/// the `invalid_grant` description Google gives.
fn check_assertion(account: &ServiceAccount, jwt: &str) -> Result<Value, &'static str> {
    const NOT_A_JWT: &str = "Invalid JWT: the assertion is not a JSON Web Token.";
    let parts: Vec<&str> = jwt.split('.').collect();
    let (Some(header), Some(claims)) = (
        parts.first().and_then(|p| part(p)),
        parts.get(1).and_then(|p| part(p)),
    ) else {
        return Err(NOT_A_JWT);
    };
    if parts.len() != 3 {
        return Err(NOT_A_JWT);
    }
    if claims["iss"].as_str() != Some(CLIENT_EMAIL) {
        return Err("Invalid grant: account not found");
    }
    let kid_matches = header["kid"]
        .as_str()
        .is_none_or(|kid| kid == account.private_key_id);
    let mut signature_only = Validation::new(Algorithm::RS256);
    signature_only.validate_exp = false;
    signature_only.validate_aud = false;
    signature_only.required_spec_claims.clear();
    if header["alg"].as_str() != Some("RS256")
        || !kid_matches
        || jsonwebtoken::decode::<Value>(jwt, &account.public, &signature_only).is_err()
    {
        return Err("Invalid JWT Signature.");
    }
    if claims["aud"].as_str() != Some(AUDIENCE) {
        return Err("Invalid JWT: Failed audience check.");
    }
    let now = chrono::Utc::now().timestamp();
    match (claims["iat"].as_i64(), claims["exp"].as_i64()) {
        (Some(iat), Some(exp))
            if exp > now && iat <= now + CLOCK_SKEW && exp - iat <= MAX_ASSERTION_LIFETIME => {}
        _ => return Err(SHORT_LIVED),
    }
    Ok(claims)
}

/// `POST /token`.
pub(crate) async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let grant = form
        .get("grant_type")
        .map(String::as_str)
        .unwrap_or_default();
    if grant != GRANT_TYPE {
        return oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {grant}"),
        );
    }
    let Some(assertion) = form.get("assertion").filter(|a| !a.is_empty()) else {
        return oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: assertion",
        );
    };
    let google = &shared.google;
    let claims = match check_assertion(&google.account, assertion) {
        Ok(claims) => claims,
        Err(description) => return invalid_grant(description),
    };
    let scopes: Vec<String> = claims["scope"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if scopes.is_empty() {
        return oauth(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "Invalid OAuth scope or ID token audience provided.",
        );
    }
    let subject = match claims["sub"].as_str() {
        None => None,
        Some(sub) => {
            let known = {
                let ws = google.workspace();
                ws.account(sub).map(|i| {
                    (
                        ws.accounts[i].primary_email.clone(),
                        ws.accounts[i].suspended,
                    )
                })
            };
            let Some((email, false)) = known else {
                return invalid_grant("Invalid email or User ID");
            };
            let delegated = google
                .account
                .delegated
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Domain-wide delegation: every scope asked must be authorised.
            if !scopes.iter().all(|s| delegated.contains(s)) {
                return oauth(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized_client",
                    "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
                );
            }
            Some(email)
        }
    };
    let lifetime = shared.config.token_lifetime;
    let access_token = format!(
        "ya29.c.sandbox{}{}",
        Uuid::new_v4().simple(),
        Uuid::new_v4().simple()
    );
    lock_mutex(&google.tokens.0).insert(
        access_token.clone(),
        Issued {
            subject,
            scopes,
            expires: Instant::now() + lifetime,
        },
    );
    Json(json!({
        "access_token": access_token,
        "expires_in": lifetime.as_secs(),
        "token_type": "Bearer",
    }))
    .into_response()
}

/// Which API a route belongs to: what scopes it takes, and how it refuses a
/// caller who is not an administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    Groups,
    Members,
    Users,
    Reports,
    /// Changing accounts (issue 11).
    ManageUsers,
    /// Signing accounts out, and the tokens they issued to apps (issue 11).
    Security,
}

impl Api {
    /// Any one of these scopes will do (the read-write ones are left out:
    /// casbah never holds them).
    fn scopes(self) -> &'static [&'static str] {
        match self {
            Api::Groups => &SCOPES[0..1],
            Api::Members => &SCOPES[0..2],
            Api::Users => &SCOPES[2..3],
            Api::Reports => &SCOPES[3..4],
            Api::ManageUsers => &MANAGE_SCOPES[0..1],
            Api::Security => &MANAGE_SCOPES[1..2],
        }
    }
}

/// Why a call is refused, if it is.
fn check(shared: &Shared, req: &Request, api: Api) -> Result<(), GoogleError> {
    let token = crate::sandbox::dialect::bearer(req);
    let google = &shared.google;
    let (subject, scopes) = {
        let tokens = lock_mutex(&google.tokens.0);
        let issued = tokens
            .get(token)
            .filter(|t| t.expires > Instant::now())
            .ok_or_else(GoogleError::unauthenticated)?;
        (issued.subject.clone(), issued.scopes.clone())
    };
    if !api.scopes().iter().any(|s| scopes.iter().any(|t| t == s)) {
        return Err(GoogleError::insufficient_scopes());
    }
    let ws = google.workspace();
    let administers = subject
        .and_then(|s| ws.account(&s))
        .is_some_and(|i| ws.accounts[i].administers());
    match (administers, api) {
        (true, _) => Ok(()),
        (false, Api::Reports) => Err(GoogleError::not_an_audit_reader()),
        (false, _) => Err(GoogleError::not_authorized()),
    }
}

/// Middleware: a live token with the API's scope, acting as an administrator.
pub(crate) async fn require(
    State((shared, api)): State<(Arc<Shared>, Api)>,
    req: Request,
    next: Next,
) -> Response {
    match check(&shared, &req, api) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}
