//! Users: the list with sync health, one user's page (figures, charts, jobs, actions), and
//! the actions as forms: add a user, pause/resume collection, sync now, delete with typed
//! confirmation.

use super::history::{HistoryView, PERIODS, period};
use super::imports::latest_imports;
use super::{AdminPage, Frame, UiError, analytics, done, format, render};
use crate::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use spotify_history_analytics::{Analytics, Scope, SyncStatus};
use spotify_history_core::UserId;

/// A user's collection health, as tables show it.
pub(crate) struct UserHealth {
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub listens: String,
    pub last_listen: String,
    pub last_poll: String,
    pub linked: bool,
    pub paused: bool,
    pub needs_reauth: bool,
    pub expiry: Option<format::Expiry>,
    pub summary: String,
    pub last_error: Option<String>,
}

/// Every user with their health, oldest first.
pub(crate) async fn health(analytics: &Analytics) -> Result<Vec<UserHealth>, UiError> {
    let users = analytics.list_users().await?;
    let now = jiff::Timestamp::now();
    let mut rows = Vec::with_capacity(users.users.len());
    for user in users.users {
        let status = analytics
            .sync_status(&Scope {
                user: UserId(user.id),
                time_zone: user.time_zone.clone(),
            })
            .await?;
        rows.push(UserHealth {
            id: user.id,
            display_name: user
                .display_name
                .clone()
                .unwrap_or_else(|| user.name.clone()),
            name: user.name,
            listens: format::count(user.listens),
            last_listen: format::opt_utc(user.last_listen.as_deref()),
            last_poll: format::opt_utc(status.last_polled_at.as_deref()),
            linked: status.spotify_linked,
            paused: status.sync_paused,
            needs_reauth: status.needs_reauth,
            expiry: status
                .refresh_token_expires_at
                .as_deref()
                .and_then(|at| format::expiry(at, now)),
            summary: status.summary.clone(),
            last_error: status
                .last_error
                .clone()
                .or(status.token_last_error.clone()),
        });
    }
    Ok(rows)
}

#[derive(Template)]
#[template(path = "ui/users.html")]
struct UsersPage {
    frame: Frame,
    users: Vec<UserHealth>,
}

pub(crate) async fn list(
    State(app): State<AppState>,
    page: AdminPage,
) -> Result<Response, UiError> {
    let users = health(analytics(&app)).await?;
    Ok(render(&UsersPage {
        frame: page.frame.in_section("users"),
        users,
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewUserForm {
    name: String,
    #[serde(default)]
    display_name: String,
}

/// Adds an import-only user and shows their page, where an export can be uploaded for them.
pub(crate) async fn create(
    State(app): State<AppState>,
    _page: AdminPage,
    Form(form): Form<NewUserForm>,
) -> Result<Response, UiError> {
    let user = app
        .store
        .create_user(&form.name, Some(&form.display_name))
        .await?;
    tracing::info!(user = %user.id, name = %user.name, "user added from the admin UI");
    Ok(done(&user_path(user.id.0), "created"))
}

#[derive(Debug, Deserialize)]
pub(crate) struct DetailQuery {
    period: Option<String>,
}

/// An import job as tables show it.
pub(crate) struct ImportRow {
    pub id: i64,
    pub user: String,
    pub user_id: i64,
    pub file_name: String,
    pub size: String,
    pub status: String,
    pub progress_value: i64,
    pub progress_max: i64,
    pub records_read: String,
    pub inserted: String,
    pub duplicates: String,
    pub merged: String,
    pub skipped: String,
    /// Skipped rows per reason, from the report.
    pub skipped_by_reason: Vec<(String, String)>,
    pub error: Option<String>,
    pub created_at: String,
    pub finished_at: String,
}

impl ImportRow {
    pub(crate) fn is_active(&self) -> bool {
        self.status == "pending" || self.status == "running"
    }
}

impl From<spotify_history_store::history::ImportJobRow> for ImportRow {
    fn from(row: spotify_history_store::history::ImportJobRow) -> Self {
        let skipped_by_reason = row
            .report
            .as_deref()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .and_then(|report| report.get("skipped_by_reason").cloned())
            .and_then(|reasons| reasons.as_object().cloned())
            .map(|reasons| {
                reasons
                    .into_iter()
                    .map(|(reason, n)| (reason, format::count(n.as_i64().unwrap_or(0))))
                    .collect()
            })
            .unwrap_or_default();
        ImportRow {
            id: row.id,
            user: row.user_name,
            user_id: row.user_id,
            file_name: row.file_name,
            size: format::bytes(row.size_bytes),
            status: row.status,
            progress_value: row.bytes_read.min(row.size_bytes),
            progress_max: row.size_bytes.max(1),
            records_read: format::count(row.records_read),
            inserted: format::count(row.inserted),
            duplicates: format::count(row.duplicates),
            merged: format::count(row.merged),
            skipped: format::count(row.skipped),
            skipped_by_reason,
            error: row.error,
            created_at: format::ms_utc(row.created_at),
            finished_at: row.finished_at.map(format::ms_utc).unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "ui/user.html")]
struct UserPage {
    frame: Frame,
    id: i64,
    name: String,
    display_name: String,
    status: SyncStatus,
    expiry: Option<format::Expiry>,
    last_poll: String,
    history: HistoryView,
    period: &'static str,
    periods: [(&'static str, &'static str); 4],
    imports: Vec<ImportRow>,
    /// Whether a Spotify account can be linked from here: an app is configured and the user
    /// has none.
    can_link_spotify: bool,
    /// The Spotify account the user is linked to.
    spotify_account: Option<String>,
}

pub(crate) async fn detail(
    State(app): State<AppState>,
    page: AdminPage,
    Path(id): Path<i64>,
    Query(query): Query<DetailQuery>,
) -> Result<Response, UiError> {
    let user = app.store.get_user(UserId(id)).await?;
    let analytics = analytics(&app);
    let (period_key, period) = period(query.period.as_deref());
    let history = HistoryView::load(analytics, &user, &period).await?;
    let status = analytics
        .sync_status(&Scope {
            user: user.id,
            time_zone: user.time_zone.clone(),
        })
        .await?;
    let imports = latest_imports(&app, user.id).await?;
    let spotify_account = user.spotify_user_id.clone();
    Ok(render(&UserPage {
        frame: page.frame.in_section("users"),
        id,
        display_name: user
            .display_name
            .clone()
            .unwrap_or_else(|| user.name.clone()),
        name: user.name,
        expiry: status
            .refresh_token_expires_at
            .as_deref()
            .and_then(|at| format::expiry(at, jiff::Timestamp::now())),
        last_poll: format::opt_utc(status.last_polled_at.as_deref()),
        status,
        history,
        period: period_key,
        periods: PERIODS,
        imports,
        can_link_spotify: app.spotify.is_some() && spotify_account.is_none(),
        spotify_account,
    }))
}

fn user_path(id: i64) -> String {
    format!("/admin/ui/users/{id}")
}

pub(crate) async fn pause(
    State(app): State<AppState>,
    _page: AdminPage,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    app.store.get_user(UserId(id)).await?;
    app.store.set_sync_paused(UserId(id), true).await?;
    tracing::info!(user = id, "collection paused from the admin UI");
    Ok(done(&user_path(id), "paused"))
}

pub(crate) async fn resume(
    State(app): State<AppState>,
    _page: AdminPage,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    app.store.get_user(UserId(id)).await?;
    app.store.set_sync_paused(UserId(id), false).await?;
    tracing::info!(user = id, "collection resumed from the admin UI");
    Ok(done(&user_path(id), "resumed"))
}

pub(crate) async fn sync_now(
    State(app): State<AppState>,
    _page: AdminPage,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    app.store.request_sync(UserId(id)).await?;
    tracing::info!(user = id, "sync requested from the admin UI");
    Ok(done(&user_path(id), "sync"))
}

/// Starts a Spotify sign-in in this browser whose account is linked to the user (one an
/// import made, say); it comes back to the user's page.
pub(crate) async fn link_spotify(
    State(app): State<AppState>,
    page: AdminPage,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    let user = app.store.get_user(UserId(id)).await?;
    if let Some(account) = &user.spotify_user_id {
        return Err(UiError::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!(
                "{} is already linked to Spotify account {account}.",
                user.name
            ),
        ));
    }
    let spotify = app.spotify.as_ref().ok_or_else(|| {
        UiError::bad_request(
            "No Spotify app is configured: set SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET to link accounts.",
        )
    })?;
    let (url, cookie) =
        crate::oauth::link::start(spotify, &headers, user.id).map_err(UiError::bad_request)?;
    tracing::info!(user = id, "Spotify link started from the admin UI");
    let mut response = render(&ToSpotifyPage {
        frame: page.frame.in_section("users"),
        display_name: user.display_name.unwrap_or(user.name),
        url,
    });
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

#[derive(Template)]
#[template(path = "ui/to_spotify.html")]
struct ToSpotifyPage {
    frame: Frame,
    display_name: String,
    url: String,
}

/// Forgets the user's Spotify account and tokens; their listens stay.
pub(crate) async fn unlink_spotify(
    State(app): State<AppState>,
    _page: AdminPage,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    app.store.unlink_spotify(UserId(id)).await?;
    tracing::warn!(user = id, "Spotify account unlinked from the admin UI");
    Ok(done(&user_path(id), "unlinked"))
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

/// Deletes the user with all their data, when the form repeats their name.
pub(crate) async fn delete(
    State(app): State<AppState>,
    _page: AdminPage,
    Path(id): Path<i64>,
    Form(form): Form<DeleteForm>,
) -> Result<Response, UiError> {
    let user = app.store.get_user(UserId(id)).await?;
    if form.confirm.trim() != user.name {
        return Err(UiError::bad_request(format!(
            "Nothing was deleted: type the user's name \"{}\" to confirm.",
            user.name
        )));
    }
    crate::upload::delete_user_and_uploads(&app.store, &app.uploads, user.id).await?;
    tracing::warn!(user = id, name = %user.name, "user deleted from the admin UI");
    Ok(done("/admin/ui/users", "deleted"))
}
