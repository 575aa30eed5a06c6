//! The admin web UI: server-rendered pages (askama) under `/admin` and `/admin/ui/...`,
//! beside the JSON API under `/admin/...`. Pages work without JavaScript: every action is a
//! plain form that posts, then redirects back (post/redirect/get); htmx, served from this
//! binary, only adds live refresh and upload progress. Browsers without an admin session
//! are sent to the login form.

pub(crate) mod assets;
mod dashboard;
pub(crate) mod format;
pub(crate) mod history;
pub(crate) mod imports;
mod jobs;
mod login;
mod logs;
mod users;

use crate::AppState;
use crate::guard::{AdminAccess, ListenerAccess};
use crate::rate_limit::{IpRateLimiter, retry_after_secs};
use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use spotify_history_analytics::{Analytics, AnalyticsError};
use spotify_history_store::StoreError;

/// The admin UI's routes. `login_per_minute` limits login attempts per client address
/// (RATE_LIMIT_AUTH_PER_MINUTE, as for `/auth`).
pub(crate) fn routes(limiter: IpRateLimiter) -> Router<AppState> {
    Router::new()
        .route("/admin", get(dashboard::page))
        .route("/admin/login", get(login::form).post(login::submit))
        .route("/admin/logout", post(login::logout))
        .route("/admin/ui/users", get(users::list).post(users::create))
        .route("/admin/ui/users/{id}", get(users::detail))
        .route("/admin/ui/users/{id}/pause", post(users::pause))
        .route("/admin/ui/users/{id}/resume", post(users::resume))
        .route("/admin/ui/users/{id}/sync", post(users::sync_now))
        .route("/admin/ui/users/{id}/delete", post(users::delete))
        .route(
            "/admin/ui/users/{id}/link-spotify",
            post(users::link_spotify),
        )
        .route(
            "/admin/ui/users/{id}/unlink-spotify",
            post(users::unlink_spotify),
        )
        .route("/admin/ui/jobs", get(jobs::page))
        .route("/admin/ui/imports", get(imports::page))
        .route("/admin/ui/imports/live", get(imports::live))
        .route(
            "/admin/ui/imports/upload",
            // The upload enforces IMPORT_MAX_ZIP_SIZE_MB itself while streaming to disk.
            post(imports::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/admin/ui/logs", get(logs::page))
        .route("/admin/ui/logs/purge", post(logs::purge))
        .layer(middleware::from_fn_with_state(limiter, limit_logins))
        .layer(middleware::map_response(page_headers))
        .merge(assets::routes())
}

/// 429 with `Retry-After` once a client address has tried to log in too often.
async fn limit_logins(
    State(limiter): State<IpRateLimiter>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST || request.uri().path() != "/admin/login" {
        return next.run(request).await;
    }
    match limiter.check_request(&request) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let secs = retry_after_secs(wait);
            let mut response = UiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many login attempts",
                format!("Too many login attempts from your address: wait {secs} s and try again."),
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            response
        }
    }
}

/// Headers on every page of the admin UI and `/me`: pages show tokens and listening data, so
/// nothing is cached or framed; scripts and styles come only from this server.
pub(crate) async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    response
}

/// Which part of the site a page belongs to: decides the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Area {
    Admin,
    Listener,
    /// Login and error pages: no navigation.
    Public,
}

/// What every page's layout needs: the session's CSRF token (for forms and htmx), the asset
/// version, and a notice after an action.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub csrf: String,
    pub area: Area,
    /// Added to asset URLs, so a new build is never served stale assets from a cache.
    pub assets: &'static str,
    pub notice: Option<&'static str>,
    /// Which navigation entry is highlighted.
    pub section: &'static str,
}

impl Frame {
    pub(crate) fn new(area: Area, csrf: String) -> Frame {
        Frame {
            csrf,
            area,
            assets: assets::version(),
            notice: None,
            section: "",
        }
    }

    pub(crate) fn public() -> Frame {
        Frame::new(Area::Public, String::new())
    }

    pub(crate) fn in_section(mut self, section: &'static str) -> Frame {
        self.section = section;
        self
    }

    pub(crate) fn is_admin(&self) -> bool {
        self.area == Area::Admin
    }

    pub(crate) fn is_listener(&self) -> bool {
        self.area == Area::Listener
    }

    /// `?csrf=...` for form actions (an empty string when no session needs one).
    pub(crate) fn csrf_query(&self) -> String {
        if self.csrf.is_empty() {
            String::new()
        } else {
            format!("csrf={}", self.csrf)
        }
    }

    /// The `hx-headers` value of `<body>`: htmx sends the CSRF token on every request.
    pub(crate) fn hx_headers(&self) -> String {
        serde_json::json!({ "X-CSRF-Token": self.csrf }).to_string()
    }
}

/// A redirect back to a page, with a notice saying what was done (see [`notice`]).
pub(crate) fn done(path: &str, notice_key: &str) -> Response {
    let separator = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{separator}notice={notice_key}")).into_response()
}

/// The message for a `?notice=` key; unknown keys show nothing, so a link cannot put words
/// on the page.
fn notice(key: &str) -> Option<&'static str> {
    Some(match key {
        "created" => {
            "User added: upload their Spotify export below, and link their Spotify account to collect their new plays."
        }
        "linked" => {
            "Spotify account linked: the collector starts fetching this user's plays (an initial sync first)."
        }
        "unlinked" => {
            "Spotify account unlinked: nothing more is collected for this user, and their API tokens are revoked; their listens stay."
        }
        "paused" => "Collection is paused for this user.",
        "resumed" => "Collection resumed for this user.",
        "sync" => "The user is due now: the collector polls them next.",
        "deleted" => "The user and all their data were deleted.",
        "uploaded" => "Upload received: the collector imports it next.",
        "purged" => "Matching log events were deleted.",
        "token_revoked" => "The token was revoked: it no longer works.",
        "signed_out" => "You are signed out.",
        "account_deleted" => "Your account and all its data were deleted.",
        _ => return None,
    })
}

fn notice_of(parts: &Parts) -> Option<&'static str> {
    let query = parts.uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "notice")
        .and_then(|(_, value)| notice(&value))
}

/// An admin's page request: the frame to render with, or a redirect to the login form.
pub(crate) struct AdminPage {
    pub frame: Frame,
}

impl FromRequestParts<AppState> for AdminPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match AdminAccess::from_request_parts(parts, state).await {
            Ok(access) => {
                let csrf = match access {
                    AdminAccess::Session(session) => session.csrf,
                    AdminAccess::Token | AdminAccess::Basic => String::new(),
                };
                let mut frame = Frame::new(Area::Admin, csrf);
                frame.notice = notice_of(parts);
                Ok(AdminPage { frame })
            }
            Err(refused) if refused.status() == StatusCode::UNAUTHORIZED => {
                Err(Redirect::to("/admin/login").into_response())
            }
            Err(refused) => Err(refused_page(refused.status())),
        }
    }
}

/// A listener's page request on `/me`: their user and the frame, or a page saying how to
/// sign in.
pub(crate) struct ListenerPage {
    pub access: ListenerAccess,
    pub frame: Frame,
}

impl FromRequestParts<AppState> for ListenerPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match ListenerAccess::from_request_parts(parts, state).await {
            Ok(access) => {
                let mut frame = Frame::new(Area::Listener, access.session.csrf.clone());
                frame.notice = notice_of(parts);
                Ok(ListenerPage { access, frame })
            }
            Err(refused) if refused.status() == StatusCode::UNAUTHORIZED => {
                let mut frame = Frame::public();
                frame.notice = notice_of(parts);
                Err((StatusCode::UNAUTHORIZED, render(&SignInFirst { frame })).into_response())
            }
            Err(refused) => Err(refused_page(refused.status())),
        }
    }
}

/// `/me` without a listener session.
#[derive(Template)]
#[template(path = "me/sign_in_first.html")]
struct SignInFirst {
    frame: Frame,
}

fn refused_page(status: StatusCode) -> Response {
    UiError::new(
        status,
        "Not allowed",
        "This request was refused: the form was older than your session (reload the page and \
         try again), or your credential does not allow this page.",
    )
    .into_response()
}

/// A page that failed: the status and what to tell the person; details go to the log.
#[derive(Debug)]
pub(crate) struct UiError {
    status: StatusCode,
    title: &'static str,
    message: String,
}

impl UiError {
    pub(crate) fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        UiError {
            status,
            title,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        UiError::new(StatusCode::BAD_REQUEST, "This cannot be done", message)
    }
}

#[derive(Template)]
#[template(path = "ui/error.html")]
struct ErrorPage<'a> {
    frame: Frame,
    title: &'a str,
    message: &'a str,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            frame: Frame::public(),
            title: self.title,
            message: &self.message,
        };
        (self.status, render(&page)).into_response()
    }
}

impl From<StoreError> for UiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => UiError::new(
                StatusCode::NOT_FOUND,
                "Not found",
                format!("There is no {what} (any more)."),
            ),
            StoreError::Conflict(why) => UiError::new(StatusCode::CONFLICT, "Conflict", why),
            StoreError::InvalidName(name) => UiError::bad_request(format!(
                "The {} {}.",
                name.field.replace('_', " "),
                name.problem
            )),
            other => {
                tracing::error!(error = %other, "a page could not read the database");
                UiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The database did not answer",
                    "This page could not be built: the database did not answer as expected. \
                     Try again in a moment; the server log has the details.",
                )
            }
        }
    }
}

impl From<AnalyticsError> for UiError {
    fn from(err: AnalyticsError) -> Self {
        match err {
            AnalyticsError::Store(err) => err.into(),
            AnalyticsError::BadArgument(why) => UiError::bad_request(why),
            AnalyticsError::NotFound(what) => UiError::new(
                StatusCode::NOT_FOUND,
                "Not found",
                format!("There is no {what}."),
            ),
        }
    }
}

/// A page as HTML, or a plain 500 if the template cannot render (a bug, logged).
pub(crate) fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "cannot render a page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "this page could not be shown; the server log has the details",
            )
                .into_response()
        }
    }
}

/// The analytics of this server (counting rule as configured).
pub(crate) fn analytics(state: &AppState) -> &Analytics {
    &state.mcp.context.analytics
}
