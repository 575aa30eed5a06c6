//! `GET/POST /admin/login` and `POST /admin/logout`: the admin signs in with an admin token
//! (ADMIN_AUTH_MODE=token) or a user name and password (basic mode) and gets a session
//! cookie; the comparisons are constant-time (see [`crate::Authenticator`]). Attempts are
//! rate limited per client address (see `limit_logins`).

use super::{Frame, UiError, render};
use crate::AppState;
use crate::guard::AdminAccess;
use crate::session::SessionKind;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "ui/login.html")]
struct LoginPage {
    frame: Frame,
    basic_mode: bool,
    error: Option<&'static str>,
    username: String,
}

/// The login form; an admin who is signed in already goes straight to the dashboard.
pub(crate) async fn form(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if app
        .sessions
        .read(&headers)
        .is_some_and(|s| s.kind == SessionKind::Admin)
    {
        return Redirect::to("/admin").into_response();
    }
    render(&LoginPage {
        frame: Frame::public(),
        basic_mode: app.auth.basic_mode(),
        error: None,
        username: String::new(),
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// 303 to `/admin` with a session cookie, or the form again with 401.
pub(crate) async fn submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if !same_origin(&headers) {
        return UiError::new(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "This login form was sent from another site.",
        )
        .into_response();
    }
    let basic_mode = app.auth.basic_mode();
    let accepted = if basic_mode {
        app.auth.basic_matches(&form.username, &form.password)
    } else if form.token.trim().is_empty() {
        false
    } else {
        match app.auth.is_admin_token(&form.token).await {
            Ok(accepted) => accepted,
            Err(err) if err.status == StatusCode::BAD_REQUEST => false,
            Err(err) => {
                return UiError::new(err.status, "Login unavailable", err.message).into_response();
            }
        }
    };
    if !accepted {
        tracing::warn!(basic_mode, "failed admin login");
        let page = LoginPage {
            frame: Frame::public(),
            basic_mode,
            error: Some(if basic_mode {
                "Wrong user name or password."
            } else {
                "This is not an admin token (ADMIN_TOKEN or a token from `spotify-history tokens create --admin`)."
            }),
            username: form.username,
        };
        return (StatusCode::UNAUTHORIZED, render(&page)).into_response();
    }
    tracing::info!("admin signed in to the UI");
    let (_, cookie) = app.sessions.start(SessionKind::Admin);
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, "/admin".parse().expect("a path")),
        ],
    )
        .into_response()
}

/// Ends the admin session (the CSRF check of [`AdminAccess`] keeps other sites from doing it).
pub(crate) async fn logout(
    State(app): State<AppState>,
    access: Result<AdminAccess, crate::Refused>,
) -> Response {
    if let Err(refused) = access
        && refused.status() != StatusCode::UNAUTHORIZED
    {
        return refused.into_response();
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, app.sessions.end()),
            (header::LOCATION, "/admin/login".parse().expect("a path")),
        ],
    )
        .into_response()
}

/// A browser's form post carries `Origin`; when it does, it must be this host.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    origin.split_once("://").map(|(_, rest)| rest) == host
}
