//! Who may call an admin or listener endpoint, as axum extractors: put [`AdminAccess`] or
//! [`ListenerAccess`] in a handler's arguments and the request is refused before the handler
//! runs unless it carries the right credential.
//!
//! Secure by default: there is no open mode. Admin requests need an admin bearer token
//! (ADMIN_TOKEN or an admin API token), basic credentials in basic mode, or an admin session
//! cookie from the login form. Browser-borne credentials (cookies, cached basic auth) are
//! what cross-site requests abuse, so state-changing requests carried by them must also pass
//! a CSRF check: the session's token for cookies, a same-origin `Origin` for basic auth.

use crate::session::{CSRF_FIELD, CSRF_HEADER, Session, SessionKind};
use crate::{ApiError, AppState};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use spotify_history_core::{Principal, User};

/// How an admin request was authenticated.
#[derive(Debug, Clone)]
pub enum AdminAccess {
    /// `Authorization: Bearer` with an admin token.
    Token,
    /// `Authorization: Basic` in basic mode.
    Basic,
    /// The admin session cookie of the UI.
    Session(Session),
}

/// A listener's own request, from their `/me` session (after signing in with Spotify).
#[derive(Debug, Clone)]
pub struct ListenerAccess {
    /// The listener, as the check of their session read them.
    pub user: User,
    pub session: Session,
}

/// Why a guarded request was refused: 401 (no valid credential, with the challenge the
/// configured mode expects), 403 (valid but not enough, or failed CSRF) or 503.
#[derive(Debug)]
pub struct Refused {
    error: ApiError,
    challenge: Option<&'static str>,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let mut response = self.error.into_response();
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

impl Refused {
    fn forbidden(message: impl Into<String>) -> Refused {
        Refused {
            error: ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            challenge: None,
        }
    }

    /// The status of the refusal (the UI turns 401 into its login page).
    pub fn status(&self) -> StatusCode {
        self.error.status
    }
}

impl FromRequestParts<AppState> for AdminAccess {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refused> {
        let headers = &parts.headers;
        match state.auth.principal(headers).await {
            Ok(Some(Principal::Admin { .. })) => return Ok(AdminAccess::Token),
            Ok(Some(Principal::User { .. })) => {
                return Err(Refused::forbidden(
                    "this is an admin endpoint: a listener's token cannot use it",
                ));
            }
            Ok(None) => {}
            Err(error) => {
                return Err(Refused {
                    error,
                    challenge: None,
                });
            }
        }
        if state.auth.basic_admin(headers) {
            check_same_origin(parts, &state.mcp.public_base_url)?;
            return Ok(AdminAccess::Basic);
        }
        if let Some(session) = state.sessions.read(headers)
            && session.kind == SessionKind::Admin
        {
            check_csrf(parts, &session)?;
            return Ok(AdminAccess::Session(session));
        }
        let (challenge, how) = if state.auth.basic_mode() {
            (
                r#"Basic realm="spotify-history admin", charset="UTF-8""#,
                "HTTP basic auth with ADMIN_USERNAME and ADMIN_PASSWORD",
            )
        } else {
            (
                "Bearer",
                "Authorization: Bearer <ADMIN_TOKEN or an admin token from `spotify-history tokens create --admin`>",
            )
        };
        Err(Refused {
            error: ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                format!("admin credentials required: send {how}, or sign in at /admin/login"),
            ),
            challenge: Some(challenge),
        })
    }
}

impl FromRequestParts<AppState> for ListenerAccess {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refused> {
        match state.sessions.read(&parts.headers) {
            Some(session) => match session.kind {
                SessionKind::Listener(user) => {
                    check_csrf(parts, &session)?;
                    // A session is a Spotify sign-in: it ends with the user, or with the user's
                    // link to that account (unlinked, or linked to another by an administrator).
                    let user = state.store.get_user(user).await.ok().filter(|user| {
                        user.spotify_user_id.is_some()
                            && user.spotify_user_id == session.spotify_account
                    });
                    let Some(user) = user else {
                        return Err(Refused {
                            error: ApiError::new(
                                StatusCode::UNAUTHORIZED,
                                "unauthorized",
                                "this sign-in has ended: sign in with Spotify again at /auth/login",
                            ),
                            challenge: None,
                        });
                    };
                    Ok(ListenerAccess { user, session })
                }
                SessionKind::Admin => Err(Refused::forbidden(
                    "this page belongs to a listener: sign in with Spotify at /auth/login",
                )),
            },
            None => Err(Refused {
                error: ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "sign in with Spotify at /auth/login to see your page",
                ),
                challenge: None,
            }),
        }
    }
}

/// Safe methods change nothing and need no CSRF check.
fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A cookie-authenticated change must carry the session's CSRF token, in the
/// [`CSRF_HEADER`] header or the [`CSRF_FIELD`] query parameter.
fn check_csrf(parts: &Parts, session: &Session) -> Result<(), Refused> {
    if !changes_state(&parts.method) {
        return Ok(());
    }
    let from_header = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    let from_query = parts.uri.query().and_then(|query| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == CSRF_FIELD)
            .map(|(_, value)| value.into_owned())
    });
    if session.csrf_matches(from_header) || session.csrf_matches(from_query.as_deref()) {
        Ok(())
    } else {
        Err(Refused::forbidden(
            "missing or wrong CSRF token: reload the page and try again",
        ))
    }
}

/// A basic-auth change must not come from a page of another site: browsers send `Origin`
/// on cross-site requests, and it must then be this server — PUBLIC_BASE_URL's origin (what
/// browsers see behind a reverse proxy) or the `Host` the request was sent to.
fn check_same_origin(parts: &Parts, public_base_url: &str) -> Result<(), Refused> {
    if !changes_state(&parts.method) {
        return Ok(());
    }
    let Some(origin) = parts
        .headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(());
    };
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    let public_origin = public_base_url
        .split_once("://")
        .map(|(scheme, rest)| format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest)));
    if public_origin.as_deref() == Some(origin) || (host.is_some() && origin_host == host) {
        Ok(())
    } else {
        Err(Refused::forbidden(format!(
            "cross-site request refused: Origin {origin} is not this server"
        )))
    }
}
