//! `GET /metrics`: the process's counters in the Prometheus text format (the registry lives
//! in `spotify_history_core::metrics`, where every crate records). On the main address it
//! needs admin credentials, like the admin API; with METRICS_BIND_ADDR it is served on that
//! address alone, without credentials, for a scraper on a private network.

use crate::{AdminAccess, AppState};
use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use spotify_history_core::metrics;

/// The Prometheus text exposition format's content type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `/metrics` behind admin credentials, for the main router.
pub(crate) fn admin_routes() -> Router<AppState> {
    Router::new().route("/metrics", get(admin_metrics))
}

/// `/metrics` without credentials, for METRICS_BIND_ADDR only: whoever can reach that
/// address can read the counters (which hold no secrets and no user data).
pub fn metrics_router() -> Router {
    crate::http_policy::apply(
        Router::new().route("/metrics", get(exposition)),
        &crate::HttpPolicy::default(),
    )
}

async fn admin_metrics(_admin: AdminAccess) -> Response {
    exposition().await
}

async fn exposition() -> Response {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics::render()).into_response()
}
