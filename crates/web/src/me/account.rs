//! The listener's account: upload an export of their own, sign out, delete everything.

use crate::AppState;
use crate::ui::imports::after_upload;
use crate::ui::{Frame, ListenerPage, UiError, done};
use crate::upload::{self, Owner};
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// A new token, shown in the answer itself (when there is no key to carry it to `/me`).
#[derive(Template)]
#[template(path = "me/token_once.html")]
pub(crate) struct TokenOnce {
    pub frame: Frame,
    pub token: String,
}

/// The listener's own export, streamed to disk and queued for them only.
pub(crate) async fn upload(
    State(app): State<AppState>,
    listener: ListenerPage,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, UiError> {
    upload::receive(
        &app.store,
        &app.uploads,
        Owner::Fixed(listener.access.user.id),
        multipart,
    )
    .await
    .map_err(|err| UiError::new(err.status(), "Upload failed", err.to_string()))?;
    Ok(after_upload(&headers, "/me"))
}

/// Ends the session.
pub(crate) async fn logout(State(app): State<AppState>, _listener: ListenerPage) -> Response {
    let mut response = done("/me", "signed_out");
    response
        .headers_mut()
        .append(header::SET_COOKIE, app.sessions.end());
    response
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

/// Deletes the listener with all their data when the form repeats their user name, and
/// ends the session.
pub(crate) async fn delete(
    State(app): State<AppState>,
    listener: ListenerPage,
    Form(form): Form<DeleteForm>,
) -> Result<Response, UiError> {
    let user = listener.access.user;
    if form.confirm.trim() != user.name {
        return Err(UiError::new(
            StatusCode::BAD_REQUEST,
            "Nothing was deleted",
            format!(
                "Type your user name \"{}\" to confirm the deletion.",
                user.name
            ),
        ));
    }
    crate::upload::delete_user_and_uploads(&app.store, &app.uploads, user.id).await?;
    tracing::warn!(user = %user.id, "listener deleted their account");
    let mut response = done("/me", "account_deleted");
    response
        .headers_mut()
        .append(header::SET_COOKIE, app.sessions.end());
    Ok(response.into_response())
}
