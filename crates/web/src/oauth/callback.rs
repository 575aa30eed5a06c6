//! `GET /auth/callback?code&state` (or `?error&state`): where Spotify sends the listener
//! back. Finishes the sign-in, then redirects to `next`, or starts a listener session and
//! redirects to `/me`, which shows the MCP token made on their first sign-in (once).

use super::not_configured;
use super::pages::Problem;
use super::state::{SignInState, StateError, clear_cookie};
use crate::AppState;
use crate::me::new_token;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use spotify_history_core::{User, UserId};
use spotify_history_spotify::{AccessError, SpotifyAccess, SpotifyError};
use spotify_history_store::StoreError;

/// Name of the token made at a listener's first sign-in.
pub(crate) const SIGN_IN_TOKEN_NAME: &str = "mcp (sign-in)";

#[derive(Debug, Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// A redirect to `next` or `/me`, or an error page saying what to do.
pub(crate) async fn callback(
    State(app): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Response {
    let (spotify, sign_in, query) = match open(&app, &headers, query) {
        Ok(opened) => opened,
        // Not a sign-in of this browser: one it has going on stays possible.
        Err(problem) => return problem.respond(&headers),
    };
    // This browser's sign-in is over either way: its cookie goes, and its state with it.
    let mut response = match finish(&app, spotify, sign_in, query).await {
        Ok(response) => response,
        Err(problem) => problem.respond(&headers),
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_cookie());
    response
}

/// The sign-in this browser started, as its `state` says, and the rest of Spotify's answer.
fn open<'a>(
    app: &'a AppState,
    headers: &HeaderMap,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Result<(&'a SpotifyAccess, SignInState, CallbackQuery), Problem> {
    let spotify = app.spotify.as_ref().ok_or_else(not_configured)?;
    let Query(query) = query.map_err(|rejection| {
        start_again(
            "invalid_callback",
            format!(
                "The address Spotify sent you back to cannot be read: {}.",
                rejection.body_text()
            ),
        )
    })?;
    let sealed = query.state.as_deref().ok_or_else(|| {
        start_again(
            "missing_state",
            "The address has no `state`, so this server cannot tell which sign-in it finishes.",
        )
    })?;
    let sign_in = SignInState::open(spotify.cipher(), sealed, headers).map_err(|err| match err {
        StateError::InvalidOrExpired => start_again(
            "invalid_state",
            "This sign-in link has expired (a sign-in must finish within 10 minutes) or was not made by this server.",
        ),
        StateError::OtherBrowser => start_again(
            "state_from_other_browser",
            "This sign-in was started in another browser or tab, or this browser does not keep cookies for this site.",
        ),
    })?;
    Ok((spotify, sign_in, query))
}

/// Exchanges Spotify's code and saves the sign-in.
async fn finish(
    app: &AppState,
    spotify: &SpotifyAccess,
    sign_in: SignInState,
    query: CallbackQuery,
) -> Result<Response, Problem> {
    if let Some(error) = query.error {
        return Err(refused_at_spotify(&error));
    }
    let code = query.code.filter(|c| !c.is_empty()).ok_or_else(|| {
        start_again(
            "missing_code",
            "Spotify sent you back without a sign-in code.",
        )
    })?;
    let user = spotify
        .sign_in(
            &code,
            Some(&sign_in.verifier),
            sign_in.link_user.map(UserId),
        )
        .await
        .map_err(sign_in_failed)?;
    tracing::info!(user = %user.id, spotify_user_id = ?user.spotify_user_id, "signed in with Spotify");
    match sign_in.next {
        Some(next) => {
            let location = HeaderValue::from_str(&next).map_err(|_| {
                start_again(
                    "invalid_next",
                    "The address to go to after signing in is not valid.",
                )
            })?;
            Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
        }
        None => to_own_page(app, spotify.cipher(), &user).await,
    }
}

/// Starts the listener's session and sends them to `/me`, with the token of a first sign-in
/// in a sealed cookie that page shows once.
async fn to_own_page(
    app: &AppState,
    cipher: &spotify_history_spotify::TokenCipher,
    user: &User,
) -> Result<Response, Problem> {
    let tokens = app
        .store
        .list_api_tokens(Some(user.id))
        .await
        .map_err(|err| signed_in_but(err, "list your tokens"))?;
    // A token is made once: after an administrator revoked a listener's tokens, signing in
    // again must not hand out a new one.
    let first_token = if tokens.is_empty() {
        let created = app
            .store
            .create_api_token(Some(user.id), SIGN_IN_TOKEN_NAME)
            .await
            .map_err(|err| signed_in_but(err, "create your MCP token"))?;
        Some(created.plaintext.expose().to_owned())
    } else {
        None
    };
    let account = user.spotify_user_id.as_deref().unwrap_or_default();
    let (_, session_cookie) = app.sessions.start_listener(user.id, account);
    let mut response = (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, HeaderValue::from_static("/me")),
            (header::SET_COOKIE, session_cookie),
        ],
    )
        .into_response();
    if let Some(token) = first_token {
        let secure = app.mcp.public_base_url.starts_with("https://");
        response.headers_mut().append(
            header::SET_COOKIE,
            new_token::set_cookie(cipher, user.id, &token, secure),
        );
    }
    Ok(response)
}

fn start_again(code: &'static str, message: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        code,
        "This sign-in cannot be finished",
        message,
        "Start again at /auth/login.",
    )
}

/// Spotify sent the listener back with `error=...` instead of a code.
fn refused_at_spotify(error: &str) -> Problem {
    if error == "access_denied" {
        return Problem::new(
            StatusCode::FORBIDDEN,
            "access_denied",
            "Spotify access was not allowed",
            "You chose not to let spotify-history read your Spotify listening history, so nothing was saved.",
            "To connect after all, start again at /auth/login and choose Agree.",
        );
    }
    Problem::new(
        StatusCode::BAD_REQUEST,
        "spotify_refused",
        "Spotify did not sign you in",
        format!("Spotify sent you back with the error \"{error}\"."),
        "Start again at /auth/login; if it happens again, tell the server's administrator.",
    )
}

/// What to tell the listener when the code exchange or `/v1/me` failed.
fn sign_in_failed(err: AccessError) -> Problem {
    tracing::warn!(error = %err, "Spotify sign-in failed");
    match err {
        AccessError::RateLimited { until, wait } => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "spotify_rate_limited",
            "Spotify is asking this server to wait",
            format!("Spotify rate-limited this server: no call to Spotify before {until} ({wait:#} from now)."),
            "Sign in again after that time at /auth/login.",
        )
        .retry_after(u64::try_from(wait.as_secs()).unwrap_or(0).max(1)),
        AccessError::Spotify(err) => spotify_failed(err),
        // A link an administrator started: the account or the user is taken, or the user gone.
        AccessError::Store(StoreError::Conflict(why)) => Problem::new(
            StatusCode::CONFLICT,
            "already_linked",
            "This Spotify account was not linked",
            format!("{why}."),
            "Nothing was changed. One Spotify account belongs to one user: import this history for the user that holds the account, or delete that user first.",
        )
        .without_sign_in_link(),
        AccessError::Store(StoreError::NotFound(what)) => Problem::new(
            StatusCode::NOT_FOUND,
            "user_not_found",
            "The user to link is gone",
            format!("There is no {what} any more."),
            "Nothing was changed.",
        )
        .without_sign_in_link(),
        AccessError::Store(err) => signed_in_but(err, "save your Spotify connection"),
        other => Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "sign_in_failed",
            "Signing in failed",
            other.to_string(),
            "Start again at /auth/login; if it happens again, tell the server's administrator.",
        ),
    }
}

fn spotify_failed(err: SpotifyError) -> Problem {
    match err {
        SpotifyError::InvalidGrant { description, .. } => Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Spotify did not accept this sign-in",
            format!(
                "Spotify refused the sign-in code ({description}). Codes work once and only for a few minutes, so a reloaded or old page cannot finish a sign-in."
            ),
            "Start again at /auth/login.",
        ),
        SpotifyError::NotRegistered { message, .. } => Problem::new(
            StatusCode::FORBIDDEN,
            "not_registered",
            "This Spotify account may not use this server yet",
            format!(
                "Spotify answered \"{message}\": this server's Spotify app is in development mode, where only accounts added to its User Management (at most 5) may sign in."
            ),
            "Ask the server's administrator to add your Spotify account under User Management in the Spotify Developer Dashboard, then start again at /auth/login.",
        ),
        SpotifyError::Forbidden { message, .. } => Problem::new(
            StatusCode::FORBIDDEN,
            "spotify_forbidden",
            "Spotify refused access",
            format!("Spotify refused to tell this server who you are ({message})."),
            "Start again at /auth/login and allow every permission asked for.",
        ),
        SpotifyError::InvalidClient { .. } => Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "spotify_app_rejected",
            "This server's Spotify app settings are wrong",
            "Spotify rejected the app credentials of this server.",
            "Tell the server's administrator to check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET.",
        )
        .without_sign_in_link(),
        SpotifyError::RateLimited { retry_after, .. } => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "spotify_rate_limited",
            "Spotify is asking this server to wait",
            format!(
                "Spotify rate-limited this server for {} s.",
                retry_after.as_secs()
            ),
            "Sign in again after that time at /auth/login.",
        )
        .retry_after(retry_after.as_secs().max(1)),
        SpotifyError::Network { .. } | SpotifyError::Server { .. } => Problem::new(
            StatusCode::BAD_GATEWAY,
            "spotify_unavailable",
            "Spotify could not be reached",
            "Spotify did not answer, or failed on its side, while finishing your sign-in. Nothing was saved.",
            "Wait a few minutes, then start again at /auth/login.",
        ),
        other => Problem::new(
            StatusCode::BAD_GATEWAY,
            "spotify_error",
            "Signing in with Spotify failed",
            other.to_string(),
            "Start again at /auth/login; if it happens again, tell the server's administrator.",
        ),
    }
}

/// The database failed during sign-in; details go to the log, not the page.
fn signed_in_but(err: StoreError, what: &str) -> Problem {
    tracing::error!(error = %err, "sign-in could not {what}");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "storage_failed",
        "Signing in could not be completed",
        format!("This server could not {what}: its database did not answer as expected."),
        "Try again in a moment at /auth/login; if it keeps happening, tell the server's administrator (the server log has the details).",
    )
}
