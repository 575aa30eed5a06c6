//! `GET /auth/login[?next=URL]`: sends the listener to Spotify to sign in, with a PKCE
//! challenge and a sealed `state`, and binds the sign-in to this browser with a cookie.

use super::next::parse as parse_next;
use super::not_configured;
use super::pages::Problem;
use super::state::SignInState;
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use spotify_history_spotify::{Pkce, SCOPES, SpotifyAccess};

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
}

/// 302 to Spotify's authorize page; 400 for a `next` that is not http(s) or a path; 503
/// without a Spotify app.
pub(crate) async fn login(
    State(app): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    let Some(spotify) = &app.spotify else {
        return not_configured().respond(&headers);
    };
    // The sign-in cookie belongs to the host it is set on, and Spotify sends the browser back
    // to the redirect URI's host (127.0.0.1, never `localhost`): start on that host.
    if let Some(origin) = other_origin(&headers, spotify) {
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        if let Ok(location) = HeaderValue::from_str(&format!("{origin}/auth/login{query}")) {
            return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
        }
    }
    let next = match query {
        Ok(Query(query)) => query.next.filter(|n| !n.is_empty()),
        Err(rejection) => return bad_link(rejection.body_text()).respond(&headers),
    };
    let next = match next.as_deref().map(parse_next).transpose() {
        Ok(next) => next,
        Err(why) => return bad_link(why).respond(&headers),
    };
    match to_spotify(spotify, next, None) {
        Ok(redirect) => (StatusCode::FOUND, redirect).into_response(),
        Err(problem) => problem.respond(&headers),
    }
}

/// The headers sending the browser to Spotify's authorize page for a new sign-in, bound to it
/// by a cookie: afterwards to `next`, or to the listener's own page. `link_user` names the
/// user an administrator links the account to; Spotify then always asks who signs in
/// (`show_dialog`), so a browser already signed in to Spotify does not link its account
/// unasked.
pub(crate) fn to_spotify(
    spotify: &SpotifyAccess,
    next: Option<String>,
    link_user: Option<i64>,
) -> Result<[(HeaderName, HeaderValue); 2], Problem> {
    let pkce = Pkce::generate();
    let mut sign_in = SignInState::new(pkce.verifier.expose().to_owned(), next);
    sign_in.link_user = link_user;
    let mut url = spotify.client().authorize_url(
        &sign_in.seal(spotify.cipher()),
        Some(&pkce.challenge),
        &SCOPES,
    );
    if link_user.is_some() {
        url.push_str("&show_dialog=true");
    }
    let Ok(location) = HeaderValue::from_str(&url) else {
        tracing::error!(%url, "the Spotify authorize URL is not a valid header value");
        return Err(Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "invalid_authorize_url",
            "Sign-in is misconfigured",
            "The Spotify sign-in address of this server is not a valid URL.",
            "Tell the server's administrator to check SPOTIFY_ACCOUNTS_BASE_URL and SPOTIFY_REDIRECT_URI.",
        )
        .without_sign_in_link());
    };
    let secure = spotify.client().app().redirect_uri.starts_with("https://");
    Ok([
        (header::LOCATION, location),
        (header::SET_COOKIE, sign_in.set_cookie(secure)),
    ])
}

/// The redirect URI's origin when the request came to `localhost` but Spotify will send the
/// browser back to `127.0.0.1` (it refuses `localhost` redirect URIs). Only that case: behind
/// a reverse proxy the Host may legitimately differ from the public redirect URI.
pub(crate) fn other_origin(headers: &HeaderMap, spotify: &SpotifyAccess) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let hostname = host.rsplit_once(':').map_or(host, |(name, _)| name);
    let redirect_uri = &spotify.client().app().redirect_uri;
    let (scheme, rest) = redirect_uri.split_once("://")?;
    let authority = rest.split('/').next()?;
    let to_loopback_ip = authority.starts_with("127.0.0.1");
    (hostname.eq_ignore_ascii_case("localhost") && to_loopback_ip)
        .then(|| format!("{scheme}://{authority}"))
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
