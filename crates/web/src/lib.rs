//! The HTTP surface of spotify-history (axum): health, Spotify sign-in and the MCP tool
//! surfaces; admin and the listener's `/me` page mount here as they land.

mod admin;
mod auth;
mod chart;
mod error;
mod guard;
mod health;
mod http_policy;
mod log_capture;
mod me;
mod metrics;
mod oauth;
mod rate_limit;
mod session;
mod ui;
mod upload;

pub use auth::Authenticator;
pub use error::ApiError;
pub use guard::{AdminAccess, ListenerAccess, Refused};
pub use http_policy::{
    DEFAULT_BODY_LIMIT_BYTES, DEFAULT_CSP, HttpPolicy, STREAMED_UPLOAD_SUFFIX, parse_cors_origins,
};
pub use log_capture::{
    DEFAULT_QUEUE_CAPACITY, LogSink, LogWriter, StoredLogsLayer, log_capture, spawn_log_retention,
};
pub use metrics::metrics_router;
pub use rate_limit::TrustedProxies;
pub use session::{
    CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, SESSION_MAX_AGE, Session, SessionKind, Sessions,
};
pub use upload::Uploads;

use axum::Router;
use spotify_history_mcp::McpState;
use spotify_history_spotify::SpotifyAccess;
use spotify_history_store::Store;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// What every request handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub auth: Authenticator,
    /// The tool surfaces (MCP, legacy endpoint, OpenAPI).
    pub mcp: McpState,
    /// Spotify sign-in and calls; `None` when no Spotify app is configured (import-only).
    pub spotify: Option<SpotifyAccess>,
    /// Requests per minute per client address on `/auth/*`, and admin logins per minute per
    /// address (RATE_LIMIT_AUTH_PER_MINUTE).
    pub auth_rate_limit_per_minute: u32,
    /// Browser sessions of the admin UI and of listeners' `/me` pages.
    pub sessions: Sessions,
    /// Where uploaded exports are written, and their size limit (IMPORT_MAX_ZIP_SIZE_MB).
    pub uploads: Uploads,
}

/// The whole HTTP application with the default [`HttpPolicy`] (no CORS, 1 MiB bodies,
/// admin-only `/metrics`).
pub fn router(state: AppState) -> Router {
    router_with_policy(state, &HttpPolicy::default())
}

/// The whole HTTP application, its cross-cutting layers configured by `policy`.
pub fn router_with_policy(state: AppState, policy: &HttpPolicy) -> Router {
    // Issue 7: admin-only `/metrics` unless METRICS_BIND_ADDR serves it elsewhere.
    let metrics_routes = policy
        .metrics_on_main_address
        .then(|| metrics::admin_routes().with_state(state.clone()));
    let tools = spotify_history_mcp::routes(state.mcp.clone()).layer(
        axum::middleware::from_fn_with_state(state.auth.clone(), auth::require_principal),
    );
    let per_address =
        |limit| rate_limit::IpRateLimiter::per_minute(limit, policy.trusted_proxies.clone());
    let sign_in_limiter = per_address(state.auth_rate_limit_per_minute);
    let app = Router::new()
        .merge(health::routes())
        .merge(oauth::routes(sign_in_limiter))
        .merge(admin::routes()) // admin JSON API under /admin/ (crates/web/src/admin)
        .merge(ui::routes(per_address(state.auth_rate_limit_per_minute)))
        .merge(me::routes())
        .fallback(error::not_found)
        .with_state(state.clone())
        .merge(spotify_history_mcp::public_routes(state.mcp))
        .merge(tools);

    // Cross-cutting (issue 7): `/metrics`, then the layers every response passes through
    // (request log and metrics, security headers, CORS, body limit; see http_policy.rs).
    // Keep this last: `Router::layer` wraps only the routes added before it.
    let app = match metrics_routes {
        Some(metrics_routes) => app.merge(metrics_routes),
        None => app,
    };
    http_policy::apply(app, policy)
}

/// Serves `router` on `listener` until `shutdown` resolves, then finishes in-flight requests.
/// Handlers see the client's address as `ConnectInfo<SocketAddr>` (for per-address limits).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let address: Option<SocketAddr> = listener.local_addr().ok();
    if let Some(address) = address {
        tracing::info!(%address, "listening on http://{address}");
    }
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
