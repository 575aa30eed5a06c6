//! The latest background job runs and import jobs, for the ops questions.

use crate::job_listings::{import_job_from_row, job_run_from_row};
use crate::{Result, Store, on_pool};
use spotify_history_core::UserId;

/// One run of a background job (times in Unix ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRunRow {
    pub id: i64,
    /// `import`, `initial_sync`, `poll` or `refresh`.
    pub kind: String,
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub items_fetched: i64,
    pub items_inserted: i64,
    pub error: Option<String>,
    /// JSON details, as the job wrote them.
    pub details: Option<String>,
}

/// One import job (times in Unix ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJobRow {
    pub id: i64,
    pub user_id: i64,
    pub user_name: String,
    pub file_name: String,
    pub size_bytes: i64,
    /// `pending`, `running`, `succeeded` or `failed`.
    pub status: String,
    pub bytes_read: i64,
    pub records_read: i64,
    pub inserted: i64,
    pub duplicates: i64,
    pub merged: i64,
    pub skipped: i64,
    /// The JSON import report (skipped rows per reason, files, timings).
    pub report: Option<String>,
    pub error: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl Store {
    /// The latest job runs, newest first: of one user, or of everyone (including runs that
    /// belong to no user) when `user` is `None`.
    pub async fn latest_job_runs(
        &self,
        user: Option<UserId>,
        limit: i64,
    ) -> Result<Vec<JobRunRow>> {
        const SQL: &str = "
            SELECT j.id, j.kind, j.user_id, u.name AS user_name, j.status, j.started_at,
                   j.finished_at, j.items_fetched, j.items_inserted, j.error, j.details
            FROM job_runs j LEFT JOIN users u ON u.id = j.user_id
            WHERE ($1 OR j.user_id = $2)
            ORDER BY j.started_at DESC, j.id DESC
            LIMIT $3";
        let rows = on_pool!(self, pool => {
            let rows = sqlx::query(SQL)
                .bind(user.is_none())
                .bind(user.map_or(0, |u| u.0))
                .bind(limit)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(job_run_from_row)
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(rows)
    }

    /// The latest import jobs, newest first: of one user, or of everyone.
    pub async fn latest_import_jobs(
        &self,
        user: Option<UserId>,
        limit: i64,
    ) -> Result<Vec<ImportJobRow>> {
        const SQL: &str = "
            SELECT j.id, j.user_id, u.name AS user_name, j.file_name, j.size_bytes, j.status,
                   j.bytes_read, j.records_read, j.inserted, j.duplicates, j.merged, j.skipped,
                   j.report, j.error, j.created_at, j.started_at, j.finished_at
            FROM import_jobs j JOIN users u ON u.id = j.user_id
            WHERE ($1 OR j.user_id = $2)
            ORDER BY j.created_at DESC, j.id DESC
            LIMIT $3";
        let rows = on_pool!(self, pool => {
            let rows = sqlx::query(SQL)
                .bind(user.is_none())
                .bind(user.map_or(0, |u| u.0))
                .bind(limit)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(import_job_from_row)
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(rows)
    }
}
