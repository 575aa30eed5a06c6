//! Signing in with Spotify over HTTP: `GET /auth/login` sends the listener to Spotify,
//! `GET /auth/callback` finishes the sign-in and shows their MCP token. Both are rate limited
//! per client address (RATE_LIMIT_AUTH_PER_MINUTE), since they need no credential.

mod callback;
pub(crate) mod link;
mod login;
mod next;
mod pages;
mod state;

use crate::AppState;
use crate::rate_limit::{IpRateLimiter, retry_after_secs};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use pages::Problem;

pub(crate) fn routes(limiter: IpRateLimiter) -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login::login))
        .route("/auth/callback", get(callback::callback))
        .layer(middleware::from_fn_with_state(limiter, limit_by_address))
        .layer(middleware::map_response(pages::page_headers))
}

/// 429 with `Retry-After` once a client address exceeds RATE_LIMIT_AUTH_PER_MINUTE.
async fn limit_by_address(
    State(limiter): State<IpRateLimiter>,
    request: Request,
    next: Next,
) -> Response {
    match limiter.check_request(&request) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let secs = retry_after_secs(wait);
            Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many sign-in attempts",
                "This address started or finished too many sign-ins in the last minute (RATE_LIMIT_AUTH_PER_MINUTE).",
                format!("Wait {secs} s, then start again at /auth/login."),
            )
            .retry_after(secs)
            .respond(request.headers())
        }
    }
}

/// The answer when no Spotify app is configured.
fn not_configured() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "spotify_not_configured",
        "Spotify sign-in is not set up on this server",
        "This server has no Spotify app configured, so nobody can sign in with Spotify (imports still work).",
        "The administrator must set SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET (from the Spotify Developer Dashboard, with SPOTIFY_REDIRECT_URI registered there) and restart the server.",
    )
    .without_sign_in_link()
}
