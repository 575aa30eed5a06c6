//! Bearer authentication: `Authorization: Bearer <token>` with an API token from
//! `spotify-history tokens create` (user or admin) or the configured ADMIN_TOKEN. The
//! request's [`Principal`] goes into its extensions for the handlers behind.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use spotify_history_core::{Principal, Secret};
use spotify_history_store::Store;

use crate::ApiError;

/// Checks bearer tokens against the store and the configured admin token, and (in basic
/// mode) HTTP basic credentials against ADMIN_USERNAME / ADMIN_PASSWORD.
#[derive(Clone, Debug)]
pub struct Authenticator {
    store: Store,
    /// SHA-256 of ADMIN_TOKEN: comparing digests takes the same time however much of a
    /// guess matches, and the token itself is not kept in memory longer than needed.
    admin_token_digest: Option<[u8; 32]>,
    /// Basic mode: ADMIN_USERNAME and the SHA-256 of ADMIN_PASSWORD.
    basic: Option<(String, [u8; 32])>,
}

impl Authenticator {
    pub fn new(store: Store, admin_token: Option<&Secret>) -> Self {
        Authenticator {
            store,
            admin_token_digest: admin_token.map(digest),
            basic: None,
        }
    }

    /// Basic mode (ADMIN_AUTH_MODE=basic): the admin signs in with a user name and password
    /// (HTTP basic auth or the login form). Admin API tokens keep working.
    pub fn with_basic(mut self, username: &str, password: &Secret) -> Self {
        self.basic = Some((username.to_owned(), digest(password)));
        self
    }

    /// Whether the admin signs in with a user name and password rather than a token.
    pub fn basic_mode(&self) -> bool {
        self.basic.is_some()
    }

    /// Whether `username`/`password` are the configured basic-mode credentials.
    pub fn basic_matches(&self, username: &str, password: &str) -> bool {
        let Some((expected_user, expected_digest)) = &self.basic else {
            return false;
        };
        let user_ok =
            digest(&Secret::new(username)) == digest(&Secret::new(expected_user.as_str()));
        let password_ok = &digest(&Secret::new(password)) == expected_digest;
        user_ok & password_ok
    }

    /// Whether the request carries valid HTTP basic admin credentials.
    pub fn basic_admin(&self, headers: &HeaderMap) -> bool {
        basic(headers).is_some_and(|(user, password)| self.basic_matches(&user, &password))
    }

    /// Whether `token` is an admin credential (ADMIN_TOKEN or an active admin API token):
    /// what the admin login form accepts in token mode.
    pub async fn is_admin_token(&self, token: &str) -> Result<bool, ApiError> {
        let mut headers = HeaderMap::new();
        let value =
            header::HeaderValue::from_str(&format!("Bearer {}", token.trim())).map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_token",
                    "the token holds characters no token has",
                )
            })?;
        headers.insert(header::AUTHORIZATION, value);
        Ok(matches!(
            self.principal(&headers).await?,
            Some(Principal::Admin { .. })
        ))
    }

    /// Who the request's bearer token belongs to, if anyone.
    pub async fn principal(&self, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
        let Some(token) = bearer(headers) else {
            return Ok(None);
        };
        if let Some(digest) = &self.admin_token_digest {
            let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
            if &presented == digest {
                return Ok(Some(Principal::Admin { token: None }));
            }
        }
        match self.store.authenticate_api_token(token).await {
            Ok(found) => Ok(found.as_ref().map(Principal::from)),
            Err(err) => {
                tracing::error!(error = %err, "cannot check an API token");
                Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "cannot check credentials right now; try again",
                ))
            }
        }
    }
}

fn digest(secret: &Secret) -> [u8; 32] {
    Sha256::digest(secret.expose().as_bytes()).into()
}

/// User name and password of an `Authorization: Basic` header.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Middleware: lets requests with a valid bearer token through, with their principal.
pub async fn require_principal(
    State(auth): State<Authenticator>,
    mut request: Request,
    next: Next,
) -> Response {
    match auth.principal(request.headers()).await {
        Ok(Some(principal)) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Ok(None) => {
            let mut response = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or invalid bearer token: send Authorization: Bearer <token> (create one with `spotify-history tokens create`)",
            )
            .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            response
        }
        Err(err) => err.into_response(),
    }
}
