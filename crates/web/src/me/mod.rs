//! `/me`: a listener's own page after signing in with Spotify — their figures and charts,
//! their MCP tokens (create, shown once; revoke), when their Spotify access runs out (with a
//! button to sign in again), their own uploads, connection instructions for assistants, an
//! export of their data, and deleting their account. A listener session sees only its own
//! user; every change needs the session's CSRF token.

mod account;
mod connect;
mod export;
pub(crate) mod new_token;
mod tokens;

use crate::AppState;
use crate::ui::history::{HistoryView, PERIODS, period};
use crate::ui::imports::{ImportRow, latest_imports};
use crate::ui::{Frame, ListenerPage, UiError, analytics, format, page_headers, render};
use askama::Template;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use connect::Instructions;
use serde::Deserialize;
use spotify_history_analytics::Scope;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/me", get(page))
        .route("/me/tokens", post(tokens::create))
        .route("/me/tokens/{id}/revoke", post(tokens::revoke))
        .route(
            "/me/imports/upload",
            // The upload enforces IMPORT_MAX_ZIP_SIZE_MB itself while streaming to disk.
            post(account::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/me/export", get(export::export))
        .route("/me/delete", post(account::delete))
        .route("/me/logout", post(account::logout))
        .layer(middleware::map_response(page_headers))
}

/// One of the listener's tokens (never the token itself).
struct TokenRow {
    id: i64,
    name: String,
    prefix: String,
    created_at: String,
    last_used_at: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "me/page.html")]
struct MePage {
    frame: Frame,
    display_name: String,
    name: String,
    new_token: Option<String>,
    tokens: Vec<TokenRow>,
    linked: bool,
    needs_reauth: bool,
    expiry: Option<format::Expiry>,
    last_poll: String,
    history: HistoryView,
    period: &'static str,
    periods: [(&'static str, &'static str); 4],
    imports: Vec<ImportRow>,
    mcp_url: String,
    instructions: Vec<Instructions>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    period: Option<String>,
}

async fn page(
    State(app): State<AppState>,
    listener: ListenerPage,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Result<Response, UiError> {
    let user = listener.access.user;
    let new_token = app
        .spotify
        .as_ref()
        .and_then(|s| new_token::take(s.cipher(), &headers, user.id));
    let (period_key, period) = period(query.period.as_deref());
    let analytics = analytics(&app);
    let history = HistoryView::load(analytics, &user, &period).await?;
    let status = analytics
        .sync_status(&Scope {
            user: user.id,
            time_zone: user.time_zone.clone(),
        })
        .await?;
    let tokens = app.store.list_api_tokens(Some(user.id)).await?;
    let imports = latest_imports(&app, user.id).await?;
    let base = app.mcp.public_base_url.trim_end_matches('/').to_owned();
    let page = MePage {
        frame: listener.frame,
        display_name: user
            .display_name
            .clone()
            .unwrap_or_else(|| user.name.clone()),
        name: user.name.clone(),
        instructions: connect::instructions(&base, new_token.as_deref()),
        new_token,
        tokens: tokens
            .into_iter()
            .map(|t| TokenRow {
                id: t.id.0,
                active: t.is_active(),
                name: t.name,
                prefix: t.prefix,
                created_at: format::ms_utc(t.created_at),
                last_used_at: t
                    .last_used_at
                    .map(format::ms_utc)
                    .unwrap_or_else(|| "never".into()),
            })
            .collect(),
        linked: status.spotify_linked,
        needs_reauth: status.needs_reauth,
        expiry: status
            .refresh_token_expires_at
            .as_deref()
            .and_then(|at| format::expiry(at, jiff::Timestamp::now())),
        last_poll: format::opt_utc(status.last_polled_at.as_deref()),
        history,
        period: period_key,
        periods: PERIODS,
        imports,
        mcp_url: format!("{base}/mcp"),
    };
    let mut response = render(&page);
    if page.new_token.is_some() {
        response
            .headers_mut()
            .append(header::SET_COOKIE, new_token::clear_cookie());
    }
    Ok(response.into_response())
}

/// Whether cookies must be `Secure` (the public address is HTTPS).
fn secure(app: &AppState) -> bool {
    app.mcp.public_base_url.starts_with("https://")
}
