//! Error answers in the shapes the real services use: the Web API's
//! `{"error":{"status","message"}}`, the Accounts service's `{"error","error_description"}`,
//! and the plain-text and HTML bodies that are not JSON at all.

use axum::http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The plain-text body of a development-mode app's answer for a user it does not know.
pub const NOT_REGISTERED_BODY: &str = "User not registered in the Developer Dashboard";

/// A Web API error: `{"error":{"status":..,"message":..}}`.
pub(crate) fn api_error(status: StatusCode, message: &str) -> Response {
    let body = json!({ "error": { "status": status.as_u16(), "message": message } });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        let challenge = format!(
            "Bearer realm=\"spotify\", error=\"invalid_token\", error_description=\"{message}\""
        );
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
    }
    response
}

/// A Web API error to answer with: `{"error":{"status","message"}}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        api_error(self.status, &self.message)
    }
}

/// An Accounts service error to answer with: `{"error","error_description"}`, status 400.
#[derive(Debug)]
pub(crate) struct OAuthError {
    pub(crate) error: &'static str,
    pub(crate) description: &'static str,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        oauth_error(self.error, self.description)
    }
}

/// What unknown paths (and the removed batch endpoints) answer.
pub(crate) fn service_not_found() -> Response {
    api_error(StatusCode::NOT_FOUND, "Service not found")
}

pub(crate) fn not_registered() -> Response {
    (
        StatusCode::FORBIDDEN,
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        NOT_REGISTERED_BODY,
    )
        .into_response()
}

pub(crate) fn rate_limited(retry_after_secs: Option<u64>) -> Response {
    let mut response = api_error(StatusCode::TOO_MANY_REQUESTS, "API rate limit exceeded");
    if let Some(secs) = retry_after_secs {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// A 5xx; 502 comes from a proxy in front of the API and is HTML, not JSON.
pub(crate) fn server_error(status: u16) -> Response {
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(StatusCode::is_server_error)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::BAD_GATEWAY {
        return (
            status,
            [(CONTENT_TYPE, "text/html")],
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        )
            .into_response();
    }
    let message = status.canonical_reason().unwrap_or("Server error");
    api_error(status, message)
}

/// An Accounts service error: `{"error":..,"error_description":..}` with status 400.
pub(crate) fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// The HTML error page `/authorize` shows when it cannot redirect back to the app.
pub(crate) fn authorize_error_page(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(CONTENT_TYPE, "text/html; charset=utf-8")],
        format!("<html><body><p>{message}</p></body></html>"),
    )
        .into_response()
}
