//! `GET /auth/login[?next=URL]`: sends the listener to Spotify to sign in, with a PKCE
//! challenge and a sealed `state`, and binds the sign-in to this browser with a cookie.
//! `?link=TICKET` (from the admin UI's "Link a Spotify account") links the account that signs
//! in to the ticket's user, and comes back to that user's admin page.

use super::next::parse as parse_next;
use super::not_configured;
use super::pages::Problem;
use super::state::{LinkTicket, SignInState};
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use spotify_history_core::UserId;
use spotify_history_spotify::{Pkce, SCOPES, TokenCipher};

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
    link: Option<String>,
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
    let redirect_uri = &spotify.client().app().redirect_uri;
    if let Some(origin) = other_origin(&headers, redirect_uri) {
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        if let Ok(location) = HeaderValue::from_str(&format!("{origin}/auth/login{query}")) {
            return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
        }
    }
    let query = match query {
        Ok(Query(query)) => query,
        Err(rejection) => return bad_link(rejection.body_text()).respond(&headers),
    };
    let next = match query
        .next
        .filter(|n| !n.is_empty())
        .as_deref()
        .map(parse_next)
    {
        None => None,
        Some(Ok(next)) => Some(next),
        Some(Err(why)) => return bad_link(why).respond(&headers),
    };
    let link = match query
        .link
        .map(|sealed| LinkTicket::open(spotify.cipher(), &sealed))
    {
        None => None,
        Some(Some(ticket)) => Some(ticket),
        Some(None) => return expired_link_ticket().respond(&headers),
    };
    let pkce = Pkce::generate();
    let mut sign_in = SignInState::new(pkce.verifier.expose().to_owned(), next);
    if let Some(ticket) = link {
        sign_in.link_user = Some(ticket.user);
        sign_in.next = Some(format!("/admin/ui/users/{}?notice=linked", ticket.user));
    }
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

/// The redirect URI's origin when the request came to `localhost` but Spotify will send the
/// browser back to `127.0.0.1` (it refuses `localhost` redirect URIs). Only that case: behind
/// a reverse proxy the Host may legitimately differ from the public redirect URI.
fn other_origin(headers: &HeaderMap, redirect_uri: &str) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let hostname = host.rsplit_once(':').map_or(host, |(name, _)| name);
    let (scheme, rest) = redirect_uri.split_once("://")?;
    let authority = rest.split('/').next()?;
    let to_loopback_ip = authority.starts_with("127.0.0.1");
    (hostname.eq_ignore_ascii_case("localhost") && to_loopback_ip)
        .then(|| format!("{scheme}://{authority}"))
}

/// Where the admin UI sends the administrator's browser to link the Spotify account that
/// signs in there to `user` (see [`LinkTicket`]).
pub(crate) fn link_sign_in_path(cipher: &TokenCipher, user: UserId) -> String {
    let ticket = LinkTicket { user: user.0 }.seal(cipher);
    let ticket: String = form_urlencoded::byte_serialize(ticket.as_bytes()).collect();
    format!("/auth/login?link={ticket}")
}

fn expired_link_ticket() -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "invalid_link",
        "This link to connect a Spotify account is not valid",
        "It has expired (it is valid for 10 minutes) or was not made by this server.",
        "Start again from the user's page in the admin UI (Link a Spotify account).",
    )
    .without_sign_in_link()
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
