//! Graph's error envelope and the throttling and outage answers.

use std::time::Duration;

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};
use uuid::Uuid;

/// An error Graph would answer with: status, code and message.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> GraphError {
        GraphError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 `Request_UnsupportedQuery`.
    pub fn unsupported(message: impl Into<String>) -> GraphError {
        GraphError::new(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", message)
    }

    /// 400 `Request_BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> GraphError {
        GraphError::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    pub fn not_found(id: &str) -> GraphError {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    pub fn unauthenticated(message: impl Into<String>) -> GraphError {
        GraphError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }
}

/// `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`.
pub fn envelope(code: &str, message: &str, client_request_id: Option<&str>) -> Value {
    let request_id = Uuid::new_v4().to_string();
    json!({"error": {
        "code": code,
        "message": message,
        "innerError": {
            "date": Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
            "request-id": request_id,
            "client-request-id": client_request_id.unwrap_or(&request_id),
        }
    }})
}

fn client_request_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, Json(envelope(self.code, &self.message, None))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\""),
            );
        }
        response
    }
}

/// 429 TooManyRequests, with `Retry-After` in (possibly fractional) seconds.
pub fn throttled(retry_after: Option<Duration>, req: &Request) -> Response {
    let request_id = Uuid::new_v4().to_string();
    let body = json!({"error": {
        "code": "TooManyRequests",
        "message": "Please retry again later.",
        "innerError": {
            "code": "429",
            "date": Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
            "request-id": request_id,
            "client-request-id": client_request_id(req.headers()).unwrap_or(&request_id),
            "status": "429",
        }
    }});
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    if let Some(wait) = retry_after
        && let Ok(value) = HeaderValue::from_str(&format_seconds(wait.as_secs_f64()))
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// "2", "0.05", "2.128": whole seconds without a fraction, else as given.
fn format_seconds(secs: f64) -> String {
    if secs.fract() == 0.0 {
        format!("{}", secs as u64)
    } else {
        format!("{secs}")
    }
}

/// 503 with the generic envelope.
pub fn unavailable(req: &Request) -> Response {
    let body = envelope(
        "serviceNotAvailable",
        "Service unavailable. Please try again later.",
        client_request_id(req.headers()),
    );
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}
