//! `GET /admin/jobs`: runs of background jobs (imports, initial syncs, polls, refreshes),
//! newest first, filtered by kind, user and status.

use super::input::{Page, Params, invalid, user_id};
use super::store_error;
use crate::{AdminAccess, ApiError, AppState};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use spotify_history_analytics::JobRun;
use spotify_history_store::{JobKind, JobRunFilter};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/admin/jobs", get(list))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsQuery {
    /// `import`, `initial_sync`, `poll` or `refresh` (the seed's `type` works too).
    #[serde(alias = "type")]
    kind: Option<String>,
    user_id: Option<i64>,
    /// `running`, `succeeded` or `failed`.
    status: Option<String>,
    limit: Option<u32>,
    offset: Option<u64>,
}

#[derive(Debug, Serialize)]
struct JobRunList {
    runs: Vec<JobRun>,
    total: u64,
    limit: u32,
    offset: u64,
}

async fn list(
    _: AdminAccess,
    State(state): State<AppState>,
    Params(query): Params<JobsQuery>,
) -> Result<Json<JobRunList>, ApiError> {
    let page = Page::new(query.limit, query.offset)?;
    let filter = JobRunFilter {
        kind: query.kind.as_deref().map(job_kind).transpose()?,
        user: query.user_id.map(|id| user_id("user_id", id)).transpose()?,
        status: query
            .status
            .as_deref()
            .map(|s| one_of("status", s, &["running", "succeeded", "failed"]))
            .transpose()?,
    };
    let found = state
        .store
        .job_runs_page(&filter, page.limit, page.offset)
        .await
        .map_err(store_error)?;
    Ok(Json(JobRunList {
        runs: found.runs.into_iter().map(JobRun::from).collect(),
        total: found.total,
        limit: page.limit,
        offset: page.offset,
    }))
}

fn job_kind(name: &str) -> Result<JobKind, ApiError> {
    [
        JobKind::Import,
        JobKind::InitialSync,
        JobKind::Poll,
        JobKind::Refresh,
    ]
    .into_iter()
    .find(|kind| kind.as_str() == name.trim())
    .ok_or_else(|| {
        invalid(
            "kind",
            format!("{name:?} is no job kind: use import, initial_sync, poll or refresh"),
        )
    })
}

/// `value` when it is one of `allowed`, else a 422 naming `field`.
pub(super) fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<String, ApiError> {
    let value = value.trim();
    if allowed.contains(&value) {
        Ok(value.to_owned())
    } else {
        Err(invalid(
            field,
            format!("{value:?} is not one of {}", allowed.join(", ")),
        ))
    }
}
