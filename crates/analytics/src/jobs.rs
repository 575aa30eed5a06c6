//! "What did the background jobs do?": the latest job runs and import jobs.

use crate::sync_status::utc;
use crate::top::bounded_limit;
use crate::{Analytics, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use spotify_history_core::UserId;
use spotify_history_store::history::JobRunRow;

const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 200;

/// Arguments of the latest-jobs questions.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct LatestArgs {
    /// How many to return, newest first (default 20, at most 200).
    pub limit: Option<u32>,
}

/// Job runs, newest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JobRuns {
    pub runs: Vec<JobRun>,
}

/// One run of a background job. Times in UTC.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JobRun {
    pub id: i64,
    /// `import`, `initial_sync`, `poll` or `refresh`.
    pub kind: String,
    pub user_id: Option<i64>,
    pub user: Option<String>,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub items_fetched: i64,
    pub items_inserted: i64,
    pub error: Option<String>,
    /// What the job recorded about the run.
    pub details: Option<serde_json::Value>,
}

impl From<JobRunRow> for JobRun {
    fn from(row: JobRunRow) -> Self {
        JobRun {
            id: row.id,
            kind: row.kind,
            user_id: row.user_id,
            user: row.user_name,
            status: row.status,
            started_at: utc(row.started_at),
            finished_at: row.finished_at.map(utc),
            duration_ms: row.finished_at.map(|end| end - row.started_at),
            items_fetched: row.items_fetched,
            items_inserted: row.items_inserted,
            error: row.error,
            details: json(row.details),
        }
    }
}

/// Import jobs, newest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ImportJobs {
    pub jobs: Vec<ImportJob>,
}

/// One import of an export file. Times in UTC.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ImportJob {
    pub id: i64,
    pub user_id: i64,
    pub user: String,
    pub file_name: String,
    pub size_bytes: i64,
    /// `pending`, `running`, `succeeded` or `failed`.
    pub status: String,
    pub records_read: i64,
    /// New listens stored.
    pub inserted: i64,
    /// Listens already stored from the same source.
    pub duplicates: i64,
    /// Listens already stored from another source, merged into them.
    pub merged: i64,
    /// Rows skipped (see the report for reasons).
    pub skipped: i64,
    pub error: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// The import report (skipped rows per reason, files, timings).
    pub report: Option<serde_json::Value>,
}

/// Stored JSON text as a value; text that is not JSON is kept as a string.
fn json(text: Option<String>) -> Option<serde_json::Value> {
    text.map(|text| serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

impl Analytics {
    /// The latest background job runs: of one user, or of everyone when `user` is `None`.
    pub async fn latest_job_runs(
        &self,
        user: Option<UserId>,
        args: &LatestArgs,
    ) -> Result<JobRuns> {
        let limit = bounded_limit(args.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
        let rows = self.store().latest_job_runs(user, limit).await?;
        Ok(JobRuns {
            runs: rows.into_iter().map(JobRun::from).collect(),
        })
    }

    /// The latest import jobs: of one user, or of everyone when `user` is `None`.
    pub async fn latest_import_jobs(
        &self,
        user: Option<UserId>,
        args: &LatestArgs,
    ) -> Result<ImportJobs> {
        let limit = bounded_limit(args.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
        let rows = self.store().latest_import_jobs(user, limit).await?;
        Ok(ImportJobs {
            jobs: rows
                .into_iter()
                .map(|row| ImportJob {
                    id: row.id,
                    user_id: row.user_id,
                    user: row.user_name,
                    file_name: row.file_name,
                    size_bytes: row.size_bytes,
                    status: row.status,
                    records_read: row.records_read,
                    inserted: row.inserted,
                    duplicates: row.duplicates,
                    merged: row.merged,
                    skipped: row.skipped,
                    error: row.error,
                    created_at: utc(row.created_at),
                    started_at: row.started_at.map(utc),
                    finished_at: row.finished_at.map(utc),
                    report: json(row.report),
                })
                .collect(),
        })
    }
}
