//! The HTTP surface of spotify-history (axum): health, Spotify sign-in and the MCP tool
//! surfaces; admin and the listener's `/me` page mount here as they land.

mod auth;
mod error;
mod guard;
mod health;
mod oauth;
mod rate_limit;
mod session;

pub use auth::Authenticator;
pub use error::ApiError;
pub use guard::{AdminAccess, ListenerAccess, Refused};
pub use session::{
    CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, SESSION_MAX_AGE, Session, SessionKind, Sessions,
};

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
    /// Requests per minute per client address on `/auth/*` (RATE_LIMIT_AUTH_PER_MINUTE).
    pub auth_rate_limit_per_minute: u32,
    /// Browser sessions of the admin UI and of listeners' `/me` pages.
    pub sessions: Sessions,
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let tools = spotify_history_mcp::routes(state.mcp.clone()).layer(
        axum::middleware::from_fn_with_state(state.auth.clone(), auth::require_principal),
    );
    let sign_in_limiter = rate_limit::IpRateLimiter::per_minute(state.auth_rate_limit_per_minute);
    Router::new()
        .merge(health::routes())
        .merge(oauth::routes(sign_in_limiter))
        .fallback(error::not_found)
        .with_state(state.clone())
        .merge(spotify_history_mcp::public_routes(state.mcp))
        .merge(tools)
        .layer(tower_http::trace::TraceLayer::new_for_http())
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
