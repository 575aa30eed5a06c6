//! `GET /admin/imports` and `GET /admin/imports/{id}`: import jobs (uploaded exports the
//! collector imports), newest first, and one job with its import report.

use super::input::{Id, Page, Params, user_id};
use super::jobs::one_of;
use super::{store_error, stored_json, utc};
use crate::{AdminAccess, ApiError, AppState};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use spotify_history_core::ImportJobId;
use spotify_history_store::ImportJobFilter;
use spotify_history_store::history::ImportJobRow;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/imports", get(list))
        .route("/admin/imports/{id}", get(detail))
}

/// One import job. Times in UTC.
#[derive(Debug, Serialize)]
pub(super) struct ImportJobView {
    pub id: i64,
    pub user_id: i64,
    pub user: String,
    pub file_name: String,
    pub size_bytes: i64,
    /// `pending`, `running`, `succeeded` or `failed`.
    pub status: String,
    /// How far a running import has read the file (for a progress bar against
    /// `size_bytes`).
    pub bytes_read: i64,
    pub records_read: i64,
    /// New listens stored.
    pub inserted: i64,
    /// Listens already stored from the same source.
    pub duplicates: i64,
    /// Listens already stored from another source, merged into them.
    pub merged: i64,
    /// Rows skipped (the report says why).
    pub skipped: i64,
    pub error: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// The import report (skipped rows per reason, files, timings); detail only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<serde_json::Value>,
}

impl ImportJobView {
    pub fn new(row: ImportJobRow, with_report: bool) -> ImportJobView {
        ImportJobView {
            id: row.id,
            user_id: row.user_id,
            user: row.user_name,
            file_name: row.file_name,
            size_bytes: row.size_bytes,
            status: row.status,
            bytes_read: row.bytes_read,
            records_read: row.records_read,
            inserted: row.inserted,
            duplicates: row.duplicates,
            merged: row.merged,
            skipped: row.skipped,
            error: row.error,
            created_at: utc(row.created_at),
            started_at: row.started_at.map(utc),
            finished_at: row.finished_at.map(utc),
            report: if with_report {
                stored_json(row.report)
            } else {
                None
            },
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportsQuery {
    user_id: Option<i64>,
    /// `pending`, `running`, `succeeded` or `failed`.
    status: Option<String>,
    limit: Option<u32>,
    offset: Option<u64>,
}

#[derive(Debug, Serialize)]
struct ImportJobList {
    imports: Vec<ImportJobView>,
    total: u64,
    limit: u32,
    offset: u64,
}

async fn list(
    _: AdminAccess,
    State(state): State<AppState>,
    Params(query): Params<ImportsQuery>,
) -> Result<Json<ImportJobList>, ApiError> {
    let page = Page::new(query.limit, query.offset)?;
    let filter = ImportJobFilter {
        user: query.user_id.map(|id| user_id("user_id", id)).transpose()?,
        status: query
            .status
            .as_deref()
            .map(|s| one_of("status", s, &["pending", "running", "succeeded", "failed"]))
            .transpose()?,
    };
    let found = state
        .store
        .import_jobs_page(&filter, page.limit, page.offset)
        .await
        .map_err(store_error)?;
    Ok(Json(ImportJobList {
        imports: found
            .jobs
            .into_iter()
            .map(|row| ImportJobView::new(row, false))
            .collect(),
        total: found.total,
        limit: page.limit,
        offset: page.offset,
    }))
}

#[derive(Debug, Serialize)]
pub(super) struct ImportJobDetail {
    pub import: ImportJobView,
}

async fn detail(
    _: AdminAccess,
    State(state): State<AppState>,
    Id(id): Id,
) -> Result<Json<ImportJobDetail>, ApiError> {
    let row = state
        .store
        .import_job(ImportJobId(id))
        .await
        .map_err(store_error)?;
    Ok(Json(ImportJobDetail {
        import: ImportJobView::new(row, true),
    }))
}
