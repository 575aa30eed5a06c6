//! `GET /auth/login[?next=URL]`: sends the listener to Spotify to sign in, with a PKCE
//! challenge and a sealed `state`, and binds the sign-in to this browser with a cookie.

use super::next::parse as parse_next;
use super::not_configured;
use super::pages::Problem;
use super::state::SignInState;
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use spotify_history_spotify::{Pkce, SCOPES};

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
}

/// 302 to Spotify's authorize page; 400 for a `next` that is not http(s) or a path; 503
/// without a Spotify app.
pub(crate) async fn login(
    State(app): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    let Some(spotify) = &app.spotify else {
        return not_configured().respond(&headers);
    };
    let next = match query {
        Ok(Query(query)) => query.next.filter(|n| !n.is_empty()),
        Err(rejection) => return bad_link(rejection.body_text()).respond(&headers),
    };
    let next = match next.as_deref().map(parse_next).transpose() {
        Ok(next) => next,
        Err(why) => return bad_link(why).respond(&headers),
    };
    let pkce = Pkce::generate();
    let sign_in = SignInState::new(pkce.verifier.expose().to_owned(), next);
    let url = spotify.client().authorize_url(
        &sign_in.seal(spotify.cipher()),
        Some(&pkce.challenge),
        &SCOPES,
    );
    let Ok(location) = HeaderValue::from_str(&url) else {
        tracing::error!(%url, "the Spotify authorize URL is not a valid header value");
        return Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "invalid_authorize_url",
            "Sign-in is misconfigured",
            "The Spotify sign-in address of this server is not a valid URL.",
            "Tell the server's administrator to check SPOTIFY_ACCOUNTS_BASE_URL and SPOTIFY_REDIRECT_URI.",
        )
        .without_sign_in_link()
        .respond(&headers);
    };
    let secure = spotify.client().app().redirect_uri.starts_with("https://");
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, location),
            (header::SET_COOKIE, sign_in.set_cookie(secure)),
        ],
    )
        .into_response()
}

fn bad_link(why: String) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "invalid_next",
        "This sign-in link is not valid",
        format!("The link's parameters cannot be used: {why}."),
        "Fix the link, or start at /auth/login without parameters.",
    )
}
