//! `/admin/tokens`: API bearer tokens (a listener's for MCP, or admin tokens) — list,
//! create (the plaintext is shown once), revoke.

use super::input::{Id, JsonBody, Page, Params, invalid, user_id};
use super::{store_error, utc};
use crate::{AdminAccess, ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use spotify_history_core::{ApiToken, ApiTokenId};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/tokens", get(list).post(create))
        .route("/admin/tokens/{id}", delete(revoke))
}

/// A token as stored: never the token itself. Times in UTC.
#[derive(Debug, Serialize)]
struct TokenView {
    id: i64,
    /// `null` for admin tokens, which act for every user.
    user_id: Option<i64>,
    admin: bool,
    name: String,
    /// The first characters, to tell tokens apart.
    prefix: String,
    active: bool,
    created_at: String,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
}

impl From<ApiToken> for TokenView {
    fn from(token: ApiToken) -> Self {
        TokenView {
            id: token.id.0,
            user_id: token.user_id.map(|u| u.0),
            admin: token.is_admin(),
            active: token.is_active(),
            name: token.name,
            prefix: token.prefix,
            created_at: utc(token.created_at),
            last_used_at: token.last_used_at.map(utc),
            revoked_at: token.revoked_at.map(utc),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensQuery {
    user_id: Option<i64>,
    limit: Option<u32>,
    offset: Option<u64>,
}

#[derive(Debug, Serialize)]
struct TokenList {
    tokens: Vec<TokenView>,
    total: usize,
    limit: u32,
    offset: u64,
}

/// `GET /admin/tokens`: every token (or one user's), newest first.
async fn list(
    _: AdminAccess,
    State(state): State<AppState>,
    Params(query): Params<TokensQuery>,
) -> Result<Json<TokenList>, ApiError> {
    let page = Page::new(query.limit, query.offset)?;
    let user = query.user_id.map(|id| user_id("user_id", id)).transpose()?;
    let tokens = state
        .store
        .list_api_tokens(user)
        .await
        .map_err(store_error)?;
    Ok(Json(TokenList {
        total: tokens.len(),
        tokens: page
            .slice(tokens)
            .into_iter()
            .map(TokenView::from)
            .collect(),
        limit: page.limit,
        offset: page.offset,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    /// The listener the token acts for; `null` or absent for an admin token.
    user_id: Option<i64>,
    name: String,
}

#[derive(Debug, Serialize)]
struct CreatedToken {
    token: TokenView,
    /// The token itself: shown only now, it cannot be recovered later.
    plaintext: String,
}

/// `POST /admin/tokens`: a new token; its plaintext is in this answer only.
async fn create(
    _: AdminAccess,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let name = new.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(invalid(
            "name",
            "must say what the token is for (1 to 100 bytes)",
        ));
    }
    let user = match new.user_id {
        Some(id) => {
            let user = user_id("user_id", id)?;
            // A clear 404 rather than a foreign-key failure.
            state.store.get_user(user).await.map_err(store_error)?;
            Some(user)
        }
        None => None,
    };
    let created = state
        .store
        .create_api_token(user, name)
        .await
        .map_err(store_error)?;
    tracing::info!(token = %created.token.id, user = ?user, admin = user.is_none(), "admin created an API token");
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            plaintext: created.plaintext.expose().to_owned(),
            token: created.token.into(),
        }),
    ))
}

/// `DELETE /admin/tokens/{id}`: revokes the token; it stops working at once.
async fn revoke(
    _: AdminAccess,
    State(state): State<AppState>,
    Id(id): Id,
) -> Result<Json<TokenView>, ApiError> {
    let id = ApiTokenId(id);
    state
        .store
        .revoke_api_token(id)
        .await
        .map_err(store_error)?;
    let token = state
        .store
        .list_api_tokens(None)
        .await
        .map_err(store_error)?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| {
            store_error(spotify_history_store::StoreError::NotFound(format!(
                "API token {id}"
            )))
        })?;
    tracing::info!(token = %id, "admin revoked an API token");
    Ok(Json(token.into()))
}
