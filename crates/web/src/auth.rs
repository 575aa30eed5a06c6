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

/// Checks bearer tokens against the store and the configured admin token.
#[derive(Clone, Debug)]
pub struct Authenticator {
    store: Store,
    /// SHA-256 of ADMIN_TOKEN: comparing digests takes the same time however much of a
    /// guess matches, and the token itself is not kept in memory longer than needed.
    admin_token_digest: Option<[u8; 32]>,
}

impl Authenticator {
    pub fn new(store: Store, admin_token: Option<&Secret>) -> Self {
        Authenticator {
            store,
            admin_token_digest: admin_token.map(|t| Sha256::digest(t.expose().as_bytes()).into()),
        }
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
