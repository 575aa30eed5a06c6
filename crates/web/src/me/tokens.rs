//! A listener's own MCP tokens: create one (shown once, on `/me`, through a sealed cookie)
//! and revoke one of theirs.

use super::{new_token, secure};
use crate::AppState;
use crate::ui::{ListenerPage, UiError, done, render};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use spotify_history_core::ApiTokenId;

/// Longest token name accepted.
const MAX_NAME: usize = 100;

#[derive(Debug, Deserialize)]
pub(crate) struct CreateForm {
    #[serde(default)]
    name: String,
}

pub(crate) async fn create(
    State(app): State<AppState>,
    listener: ListenerPage,
    Form(form): Form<CreateForm>,
) -> Result<Response, UiError> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(UiError::bad_request(format!(
            "Give the token a name of 1 to {MAX_NAME} characters, e.g. the assistant it is for."
        )));
    }
    let user = listener.access.user.id;
    let created = app.store.create_api_token(Some(user), name).await?;
    tracing::info!(%user, token = %created.token.id, "listener created an MCP token");
    let token = created.plaintext.expose();
    match &app.spotify {
        Some(spotify) => Ok((
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, "/me".parse().expect("a path")),
                (
                    header::SET_COOKIE,
                    new_token::set_cookie(spotify.cipher(), user, token, secure(&app)),
                ),
            ],
        )
            .into_response()),
        // No key to seal it with: show it in this answer instead.
        None => Ok(render(&super::account::TokenOnce {
            frame: listener.frame,
            token: token.to_owned(),
        })),
    }
}

pub(crate) async fn revoke(
    State(app): State<AppState>,
    listener: ListenerPage,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    let user = listener.access.user.id;
    let own = app.store.list_api_tokens(Some(user)).await?;
    if !own.iter().any(|t| t.id.0 == id) {
        return Err(UiError::new(
            StatusCode::NOT_FOUND,
            "Not found",
            "You have no such token.",
        ));
    }
    app.store.revoke_api_token(ApiTokenId(id)).await?;
    tracing::info!(%user, token = id, "listener revoked an MCP token");
    Ok(done("/me", "token_revoked"))
}
