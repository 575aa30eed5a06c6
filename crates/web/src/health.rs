//! `GET /healthz`: is the process up and does its database answer?

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// 200 with the version and database status; 503 when the database does not answer, so load
/// balancers and container health checks stop sending traffic here.
async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let backend = state.store.backend().as_str();
    let (status, database) = match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            json!({ "backend": backend, "status": "ok" }),
        ),
        Err(err) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "backend": backend, "status": "unavailable", "error": err.to_string() }),
        ),
    };
    let overall = if status == StatusCode::OK {
        "ok"
    } else {
        "degraded"
    };
    (
        status,
        Json(json!({
            "status": overall,
            "version": env!("CARGO_PKG_VERSION"),
            "database": database,
        })),
    )
}
