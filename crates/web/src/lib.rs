//! The HTTP surface of spotify-history (axum): health now; auth, admin, MCP and the listener's
//! page mount here as they land.

mod error;
mod health;

pub use error::ApiError;

use axum::Router;
use spotify_history_store::Store;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// What every request handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .fallback(error::not_found)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let address: Option<SocketAddr> = listener.local_addr().ok();
    if let Some(address) = address {
        tracing::info!(%address, "listening on http://{address}");
    }
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
