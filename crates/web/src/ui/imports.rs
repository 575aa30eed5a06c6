//! `GET /admin/ui/imports`: upload an export for a user (a plain multipart form; with htmx a
//! progress bar), the import jobs with live status (htmx polls `/admin/ui/imports/live`
//! every 2 s while one is pending or running) and skipped rows per reason.

use super::jobs::{UserChoice, user_choices};
pub(crate) use super::users::ImportRow;
use super::{AdminPage, Frame, UiError, done, render};
use crate::AppState;
use crate::upload::{self, Owner};
use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use spotify_history_core::UserId;
use spotify_history_store::ImportJobFilter;

const SHOWN: u32 = 50;

#[derive(Template)]
#[template(path = "ui/imports.html")]
struct ImportsPage {
    frame: Frame,
    users: Vec<UserChoice>,
    imports: Vec<ImportRow>,
    active: bool,
}

/// The import table, alone: what htmx swaps in every 2 s.
#[derive(Template)]
#[template(path = "ui/imports_live.html")]
struct ImportsLive {
    imports: Vec<ImportRow>,
    /// Some job is pending or running: the table keeps refreshing itself.
    active: bool,
}

/// A user's latest import jobs as tables show them (the user's page in the admin UI, and the
/// listener's own page).
pub(crate) async fn latest_imports(
    app: &AppState,
    user: UserId,
) -> Result<Vec<ImportRow>, UiError> {
    let filter = ImportJobFilter {
        user: Some(user),
        status: None,
    };
    let page = app.store.import_jobs_page(&filter, 10, 0).await?;
    Ok(page.jobs.into_iter().map(ImportRow::from).collect())
}

async fn live_rows(app: &AppState) -> Result<ImportsLive, UiError> {
    let page = app
        .store
        .import_jobs_page(&ImportJobFilter::default(), SHOWN, 0)
        .await?;
    let imports: Vec<ImportRow> = page.jobs.into_iter().map(ImportRow::from).collect();
    Ok(ImportsLive {
        active: imports.iter().any(ImportRow::is_active),
        imports,
    })
}

pub(crate) async fn page(
    State(app): State<AppState>,
    page: AdminPage,
) -> Result<Response, UiError> {
    let live = live_rows(&app).await?;
    Ok(render(&ImportsPage {
        frame: page.frame.in_section("imports"),
        users: user_choices(&app).await?,
        imports: live.imports,
        active: live.active,
    }))
}

pub(crate) async fn live(
    State(app): State<AppState>,
    _page: AdminPage,
) -> Result<Response, UiError> {
    Ok(render(&live_rows(&app).await?))
}

#[derive(Debug, Deserialize)]
pub(crate) struct UploadQuery {
    user_id: Option<i64>,
}

/// Streams the upload to disk and queues it; back to the imports page (htmx: by
/// `HX-Redirect`, since its request followed no redirect the page could show).
pub(crate) async fn upload(
    State(app): State<AppState>,
    _page: AdminPage,
    headers: HeaderMap,
    Query(query): Query<UploadQuery>,
    multipart: Multipart,
) -> Result<Response, UiError> {
    let owner = match query.user_id {
        Some(id) => Owner::Fixed(UserId(id)),
        None => Owner::FromForm,
    };
    upload::receive(&app.store, &app.uploads, owner, multipart)
        .await
        .map_err(|err| UiError::new(err.status(), "Upload failed", err.to_string()))?;
    Ok(after_upload(&headers, "/admin/ui/imports"))
}

/// Where a browser goes after an upload: a 303 for a plain form, `HX-Redirect` for htmx.
pub(crate) fn after_upload(headers: &HeaderMap, path: &str) -> Response {
    if headers.contains_key("hx-request") {
        let target = format!("{path}?notice=uploaded");
        let mut response = StatusCode::OK.into_response();
        if let Ok(value) = HeaderValue::from_str(&target) {
            response.headers_mut().insert("hx-redirect", value);
        }
        return response;
    }
    done(path, "uploaded")
}
