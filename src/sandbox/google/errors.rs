//! Google's error answers: the JSON error of Google's APIs, the OAuth
//! endpoint's `{error, error_description}`, the quota answers, and the HTML
//! page Google's front end serves for a path nothing answers at.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// `{"error":{"code","message","errors":[{"message","domain","reason"}],"status"}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct GoogleError {
    pub status: StatusCode,
    pub reason: &'static str,
    pub domain: &'static str,
    pub message: String,
}

impl GoogleError {
    pub fn new(
        status: StatusCode,
        reason: &'static str,
        message: impl Into<String>,
    ) -> GoogleError {
        GoogleError {
            status,
            reason,
            domain: "global",
            message: message.into(),
        }
    }

    /// 400 `invalid`: a parameter Google will not take.
    pub fn invalid(message: impl Into<String>) -> GoogleError {
        GoogleError::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    /// 400 `badRequest`, Google's answer to a list without `customer` or `domain`.
    pub fn bad_request() -> GoogleError {
        GoogleError::new(StatusCode::BAD_REQUEST, "badRequest", "Bad Request")
    }

    /// `maxResults` outside its range.
    pub fn out_of_range(value: &str, max: usize) -> GoogleError {
        GoogleError::invalid(format!(
            "Invalid value '{value}'. Values must be within the range: [1, {max}]"
        ))
    }

    pub fn not_found(what: &str) -> GoogleError {
        GoogleError::new(
            StatusCode::NOT_FOUND,
            "notFound",
            format!("Resource Not Found: {what}"),
        )
    }

    /// The Directory API's answer to a caller who is not an administrator.
    pub fn not_authorized() -> GoogleError {
        GoogleError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not Authorized to access this resource/api",
        )
    }

    /// The Reports API's answer to the same: a 401, which no new token cures.
    pub fn not_an_audit_reader() -> GoogleError {
        GoogleError::new(
            StatusCode::UNAUTHORIZED,
            "authError",
            "Access denied. You are not authorized to read activity records.",
        )
    }

    pub fn unauthenticated() -> GoogleError {
        GoogleError {
            status: StatusCode::UNAUTHORIZED,
            reason: "authError",
            domain: "global",
            message: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.".into(),
        }
    }

    pub fn insufficient_scopes() -> GoogleError {
        GoogleError::new(
            StatusCode::FORBIDDEN,
            "insufficientPermissions",
            "Request had insufficient authentication scopes.",
        )
    }

    /// 403 `userRateLimitExceeded`: the per-user rate, with no word on how long to wait.
    pub fn user_rate_limited() -> GoogleError {
        GoogleError {
            domain: "usageLimits",
            ..GoogleError::new(
                StatusCode::FORBIDDEN,
                "userRateLimitExceeded",
                "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service 'admin.googleapis.com' for consumer 'project_number:1010101010'.",
            )
        }
    }

    /// 429 `rateLimitExceeded`: the Workspace account's rate.
    pub fn rate_limited() -> GoogleError {
        GoogleError {
            domain: "usageLimits",
            ..GoogleError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rateLimitExceeded",
                "Rate Limit Exceeded",
            )
        }
    }

    pub fn unavailable() -> GoogleError {
        GoogleError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "backendError",
            "The service is currently unavailable.",
        )
    }

    /// The canonical status name Google puts beside the code.
    fn status_name(&self) -> &'static str {
        match self.status.as_u16() {
            400 => "INVALID_ARGUMENT",
            401 => "UNAUTHENTICATED",
            403 => "PERMISSION_DENIED",
            404 => "NOT_FOUND",
            429 => "RESOURCE_EXHAUSTED",
            503 => "UNAVAILABLE",
            _ => "UNKNOWN",
        }
    }
}

impl IntoResponse for GoogleError {
    fn into_response(self) -> Response {
        let body = json!({"error": {
            "code": self.status.as_u16(),
            "message": self.message,
            "errors": [{"message": self.message, "domain": self.domain, "reason": self.reason}],
            "status": self.status_name(),
        }});
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"",
                ),
            );
        }
        response
    }
}

/// The token endpoint's refusal: `{error, error_description}`.
pub fn oauth(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// Google's front end answers a path nothing serves with an HTML page.
pub fn unknown(path: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 404 (Not Found)!!1</title>\n  <p><b>404.</b> <ins>That’s an error.</ins>\n  <p>The requested URL <code>{}</code> was not found on this server.  <ins>That’s all we know.</ins>\n",
        path.replace('<', "&lt;").replace('>', "&gt;")
    );
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
        page,
    )
        .into_response()
}
