//! The admin JSON API under `/admin/`: users, job runs, import jobs and uploads, logs, sync
//! status and API tokens. Every handler takes [`AdminAccess`](crate::AdminAccess), so
//! nothing here answers without an admin credential, and changes carried by browser
//! credentials pass a CSRF check first.
//!
//! Lists take `?limit=` (1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`]) and `?offset=` and
//! answer `{"<items>": [...], "total", "limit", "offset"}`. Errors are
//! `{"error": {"code", "message"}}`; the message names the field at fault.

mod imports;
mod input;
mod jobs;
mod logs;
mod sync_status;
mod tokens;
mod upload;
mod users;

use crate::{ApiError, AppState};
use axum::Router;
use axum::http::StatusCode;
use spotify_history_store::StoreError;

/// Rows in a page when `limit` is not given.
pub(crate) const DEFAULT_LIMIT: u32 = 50;
/// The most rows one page may hold.
pub(crate) const MAX_LIMIT: u32 = 500;

/// Every admin API route.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(users::routes())
        .merge(jobs::routes())
        .merge(imports::routes())
        .merge(upload::routes())
        .merge(logs::routes())
        .merge(sync_status::routes())
        .merge(tokens::routes())
}

/// A store failure as an answer: unknown ids are 404, conflicts 409, the rest 500 (logged).
pub(crate) fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::NotFound(what) => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        ),
        StoreError::Conflict(message) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
        StoreError::InvalidName(name) => input::invalid(name.field, name.problem),
        err => {
            tracing::error!(error = %err, "admin API: the store failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("the database failed ({err}); try again, and see the server log"),
            )
        }
    }
}

/// An analytics failure as an answer.
pub(crate) fn analytics_error(err: spotify_history_analytics::AnalyticsError) -> ApiError {
    use spotify_history_analytics::AnalyticsError;
    match err {
        AnalyticsError::BadArgument(message) => {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
        }
        AnalyticsError::NotFound(what) => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        ),
        AnalyticsError::Store(err) => store_error(err),
    }
}

/// A time in answers: ISO-8601 in UTC, from Unix milliseconds.
pub(crate) fn utc(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|ts| ts.to_string())
        .unwrap_or_default()
}

/// Stored JSON text as a value; text that is not JSON stays a string.
pub(crate) fn stored_json(text: Option<String>) -> Option<serde_json::Value> {
    text.map(|text| serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}
