//! The Accounts service: `GET /authorize` (signs in a preselected user at once) and
//! `POST /api/token` (authorization_code and refresh_token grants), strict as the real one.

use super::error_answers::{OAuthError, authorize_error_page, oauth_error};
use super::failures::{Endpoint, Failure};
use super::state::{ACCESS_TOKEN_LIFETIME, CODE_LIFETIME, Shared, State};
use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxumState};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Every scope Spotify knows; anything else is `invalid_scope`.
const KNOWN_SCOPES: &[&str] = &[
    "ugc-image-upload",
    "user-read-playback-state",
    "user-modify-playback-state",
    "user-read-currently-playing",
    "app-remote-control",
    "streaming",
    "playlist-read-private",
    "playlist-read-collaborative",
    "playlist-modify-private",
    "playlist-modify-public",
    "user-follow-modify",
    "user-follow-read",
    "user-read-playback-position",
    "user-top-read",
    "user-read-recently-played",
    "user-library-modify",
    "user-library-read",
    "user-read-email",
    "user-read-private",
];

pub(crate) fn parse_pairs(raw: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(raw).into_owned().collect()
}

/// `GET /authorize`: validates the request like Spotify, then instead of showing a login page
/// redirects (302) straight back with a code for the preselected user, or with
/// `error=access_denied` when the test asked for a refusal.
pub(crate) async fn authorize(
    AxumState(shared): AxumState<Shared>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = parse_pairs(query.unwrap_or_default().as_bytes());
    let mut state = shared.lock();
    if params.get("client_id") != Some(&state.app.client_id) {
        return authorize_error_page("INVALID_CLIENT: Invalid client");
    }
    let Some(redirect_uri) = params
        .get("redirect_uri")
        .filter(|uri| state.app.redirect_uris.contains(uri))
        .cloned()
    else {
        return authorize_error_page("INVALID_CLIENT: Invalid redirect URI");
    };
    let app_state = params.get("state").map(String::as_str);
    let back = |pairs: &[(&str, &str)]| redirect_back(&redirect_uri, pairs, app_state);

    if params.get("response_type").map(String::as_str) != Some("code") {
        return back(&[("error", "unsupported_response_type")]);
    }
    let scopes: Vec<String> = params
        .get("scope")
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    if scopes.iter().any(|s| !KNOWN_SCOPES.contains(&s.as_str())) {
        return back(&[("error", "invalid_scope")]);
    }
    let challenge = params.get("code_challenge").cloned();
    match (
        challenge.as_deref(),
        params.get("code_challenge_method").map(String::as_str),
    ) {
        (None, None) => {}
        (Some(challenge), Some("S256")) if is_s256_challenge(challenge) => {}
        _ => return back(&[("error", "invalid_request")]),
    }
    if std::mem::take(&mut state.login.deny_next) {
        return back(&[("error", "access_denied")]);
    }
    let Some(user) = state.login.user.clone() else {
        return (
            StatusCode::CONFLICT,
            "fake Spotify: nobody is signing in; call FakeSpotify::set_next_login first",
        )
            .into_response();
    };
    let code = state.issue_code(user, redirect_uri.clone(), scopes, challenge);
    back(&[("code", &code)])
}

/// An S256 challenge is the unpadded base64url of a SHA-256 digest: 43 characters.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn redirect_back(redirect_uri: &str, pairs: &[(&str, &str)], app_state: Option<&str>) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        query.append_pair(key, value);
    }
    if let Some(app_state) = app_state {
        query.append_pair("state", app_state);
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{redirect_uri}{separator}{}", query.finish());
    (StatusCode::FOUND, [(LOCATION, location)]).into_response()
}

/// How the client identified itself: HTTP Basic or form fields. A secret of `None` is a PKCE
/// public client.
struct ClientAuth {
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn client_auth(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<ClientAuth, OAuthError> {
    let invalid = || OAuthError {
        error: "invalid_client",
        description: "Invalid client",
    };
    let basic = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    if let Some(encoded) = basic {
        let decoded = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(invalid)?;
        let (id, secret) = decoded.split_once(':').ok_or_else(invalid)?;
        return Ok(ClientAuth {
            client_id: Some(id.to_owned()),
            client_secret: Some(secret.to_owned()),
        });
    }
    Ok(ClientAuth {
        client_id: form.get("client_id").cloned(),
        client_secret: form.get("client_secret").cloned(),
    })
}

/// `POST /api/token`.
pub(crate) async fn token(
    AxumState(shared): AxumState<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    // Spotify reads parameters only from a form body; anything else looks like no parameters.
    let form = if is_form {
        parse_pairs(&body)
    } else {
        HashMap::new()
    };
    let auth = match client_auth(&headers, &form) {
        Ok(auth) => auth,
        Err(error) => return error.into_response(),
    };
    let mut state = shared.lock();
    if auth.client_id.as_deref() != Some(state.app.client_id.as_str()) {
        return oauth_error("invalid_client", "Invalid client");
    }
    if auth
        .client_secret
        .as_deref()
        .is_some_and(|secret| secret != state.app.client_secret)
    {
        return oauth_error("invalid_client", "Invalid client secret");
    }
    let public_client = auth.client_secret.is_none();
    match form.get("grant_type").map(String::as_str) {
        None => oauth_error("unsupported_grant_type", "grant_type parameter is missing"),
        Some("authorization_code") => authorization_code_grant(&mut state, &form, public_client),
        Some("refresh_token") => refresh_token_grant(&mut state, &form, public_client),
        Some(_) => oauth_error(
            "unsupported_grant_type",
            "grant_type must be client_credentials, authorization_code or refresh_token",
        ),
    }
}

fn authorization_code_grant(
    state: &mut State,
    form: &HashMap<String, String>,
    public_client: bool,
) -> Response {
    let code_param = form.get("code").map(String::as_str).unwrap_or_default();
    let user = state.codes.get(code_param).map(|c| c.user.clone());
    if let Some(Failure::AccountsUnavailable) = state
        .failures
        .take(Endpoint::AuthorizationCodeGrant, user.as_deref())
    {
        return accounts_unavailable();
    }
    // A code is single-use: even a failed exchange burns it.
    let Some(code) = state.codes.remove(code_param) else {
        return oauth_error("invalid_grant", "Invalid authorization code");
    };
    if state.now() > code.issued_at + CODE_LIFETIME {
        return oauth_error("invalid_grant", "Authorization code expired");
    }
    if form.get("redirect_uri") != Some(&code.redirect_uri) {
        return oauth_error("invalid_grant", "Invalid redirect URI");
    }
    let verifier = form.get("code_verifier");
    match (&code.code_challenge, verifier) {
        (None, None) => {}
        (Some(challenge), Some(verifier)) if s256(verifier) == *challenge => {}
        _ => return oauth_error("invalid_grant", "code_verifier was incorrect"),
    }
    if public_client && code.code_challenge.is_none() {
        return oauth_error("invalid_client", "Invalid client secret");
    }
    let now = state.now();
    let access = state.issue_access_token(&code.user, &code.scopes);
    let refresh = state.issue_refresh_token(&code.user, &code.scopes, now, public_client);
    token_answer(&access, &code.scopes, Some(&refresh))
}

fn refresh_token_grant(
    state: &mut State,
    form: &HashMap<String, String>,
    public_client: bool,
) -> Response {
    let presented = form
        .get("refresh_token")
        .map(String::as_str)
        .unwrap_or_default()
        .to_owned();
    let Some(user) = state.refresh_tokens.get(&presented).map(|t| t.user.clone()) else {
        return oauth_error("invalid_grant", "Invalid refresh token");
    };
    let failure = state.failures.take(Endpoint::RefreshGrant, Some(&user));
    let now = state.now();
    let token = state
        .refresh_tokens
        .get_mut(&presented)
        .expect("looked up above");
    if failure == Some(Failure::AccountsUnavailable) {
        return accounts_unavailable();
    }
    if failure == Some(Failure::InvalidGrant) {
        token.revoked = true;
    }
    if token.revoked || now >= token.expires_at() {
        return oauth_error("invalid_grant", "Refresh token revoked");
    }
    if public_client && !token.public_client {
        return oauth_error("invalid_client", "Invalid client secret");
    }
    let scopes = token.scopes.clone();
    let authorized_at = token.authorized_at;
    let token_public = token.public_client;
    let access = state.issue_access_token(&user, &scopes);
    if failure == Some(Failure::RefreshWithoutRefreshToken) {
        return token_answer(&access, &scopes, None);
    }
    // The old refresh token dies when a new one is issued, so a client that fails to store
    // the new one is caught at its next refresh.
    state
        .refresh_tokens
        .get_mut(&presented)
        .expect("looked up above")
        .revoked = true;
    let refresh = state.issue_refresh_token(&user, &scopes, authorized_at, token_public);
    token_answer(&access, &scopes, Some(&refresh))
}

/// Unpadded base64url of the SHA-256 of a PKCE verifier.
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn token_answer(access_token: &str, scopes: &[String], refresh_token: Option<&str>) -> Response {
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "scope": scopes.join(" "),
        "expires_in": ACCESS_TOKEN_LIFETIME.as_secs(),
    });
    if let Some(refresh_token) = refresh_token {
        body["refresh_token"] = json!(refresh_token);
    }
    axum::Json(body).into_response()
}

fn accounts_unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({ "error": "server_error", "error_description": "Service unavailable" })),
    )
        .into_response()
}
