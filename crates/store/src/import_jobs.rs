//! Import jobs as a queue: queued by an upload, claimed by one collector at a time through a
//! lease, kept up to date while the import runs, and closed with its report or its error.
//!
//! A lease that runs out (the collector died) makes a `running` job claimable again; the
//! import engine's per-file checkpoints let the next collector resume where the dead one
//! stopped.

use crate::job_runs::{RunStatus, saturating_i64};
use crate::row::RowExt;
use crate::{BackendKind, Result, Store, now_ms, on_pool};
use spotify_history_core::{ImportJobId, UserId};
use std::time::Duration;

/// An export waiting to be imported, as the upload endpoint queues it.
#[derive(Debug, Clone, Copy)]
pub struct NewImportJob<'a> {
    pub user: UserId,
    /// The name the file was uploaded as (shown to people).
    pub file_name: &'a str,
    /// Where the file lies on the collector's disk.
    pub file_path: &'a str,
    pub size_bytes: u64,
}

/// An import job a collector has claimed and must run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedImportJob {
    pub id: ImportJobId,
    pub user: UserId,
    pub file_name: String,
    /// `None` when the job was queued without a file (it can only fail).
    pub file_path: Option<String>,
    pub size_bytes: i64,
    /// True when an earlier claim ran out (that collector died): the import resumes.
    pub resumed: bool,
}

/// An import job's counters, as the import engine reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportJobCounts {
    pub bytes_read: u64,
    pub records_read: u64,
    pub inserted: u64,
    pub duplicates: u64,
    pub merged: u64,
    pub skipped: u64,
}

/// How an import job ended.
#[derive(Debug, Clone, Copy)]
pub struct FinishedImportJob<'a> {
    pub status: RunStatus,
    pub counts: ImportJobCounts,
    /// The import report as JSON, when the import got that far.
    pub report: Option<&'a serde_json::Value>,
    pub error: Option<&'a str>,
}

/// Picks the oldest claimable job: pending, or running under a lease that ran out.
const CLAIMABLE: &str = "SELECT id FROM import_jobs
     WHERE status = 'pending' OR (status = 'running' AND (lease_until IS NULL OR lease_until < $3))
     ORDER BY created_at, id LIMIT 1";

impl Store {
    /// Queues an export for the collector, telling the collectors (see
    /// [`Store::work_queued`]); returns the job's id.
    pub async fn create_import_job(&self, job: &NewImportJob<'_>) -> Result<ImportJobId> {
        let id = on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO import_jobs (user_id, file_name, file_path, size_bytes, status, created_at)
                 VALUES ($1, $2, $3, $4, 'pending', $5) RETURNING id",
            )
            .bind(job.user.0)
            .bind(job.file_name)
            .bind(job.file_path)
            .bind(saturating_i64(job.size_bytes))
            .bind(now_ms())
            .fetch_one(pool)
            .await?
            .int("id")?
        });
        self.queued_work().await;
        Ok(ImportJobId(id))
    }

    /// Claims the oldest claimable import job for `owner` for `lease`, or `None` when there is
    /// none. Two collectors never claim the same job: PostgreSQL skips rows another
    /// transaction has locked, SQLite runs one writing statement at a time.
    pub async fn claim_import_job(
        &self,
        owner: &str,
        lease: Duration,
    ) -> Result<Option<ClaimedImportJob>> {
        let now = now_ms();
        let pick = match self.backend() {
            BackendKind::Postgres => format!("{CLAIMABLE} FOR UPDATE SKIP LOCKED"),
            BackendKind::Sqlite => CLAIMABLE.to_owned(),
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE import_jobs SET status = 'running', lease_owner = $1, lease_until = $2,
                 started_at = COALESCE(started_at, $3), error = NULL
             WHERE id = ({pick})
             RETURNING id, user_id, file_name, file_path, size_bytes,
                       CAST(CASE WHEN started_at < $3 THEN 1 ELSE 0 END AS BIGINT) AS resumed"
        ));
        let claimed = on_pool!(self, pool => {
            sqlx::query(sql)
                .bind(owner)
                .bind(now + lease_ms(lease))
                .bind(now)
                .fetch_optional(pool)
                .await?
                .map(|row| -> Result<ClaimedImportJob, sqlx::Error> {
                    Ok(ClaimedImportJob {
                        id: ImportJobId(row.int("id")?),
                        user: UserId(row.int("user_id")?),
                        file_name: row.text("file_name")?,
                        file_path: row.opt_text("file_path")?,
                        size_bytes: row.int("size_bytes")?,
                        resumed: row.int("resumed")? != 0,
                    })
                })
                .transpose()?
        });
        Ok(claimed)
    }

    /// Saves a running job's progress and extends its lease. Returns false when the job is no
    /// longer `owner`'s (its lease ran out and another collector claimed it).
    pub async fn update_import_job_progress(
        &self,
        job: ImportJobId,
        owner: &str,
        counts: &ImportJobCounts,
        lease: Duration,
    ) -> Result<bool> {
        let now = now_ms();
        let updated = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE import_jobs SET bytes_read = $3, records_read = $4, inserted = $5,
                     duplicates = $6, merged = $7, skipped = $8, lease_until = $9
                 WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
            )
            .bind(job.0)
            .bind(owner)
            .bind(saturating_i64(counts.bytes_read))
            .bind(saturating_i64(counts.records_read))
            .bind(saturating_i64(counts.inserted))
            .bind(saturating_i64(counts.duplicates))
            .bind(saturating_i64(counts.merged))
            .bind(saturating_i64(counts.skipped))
            .bind(now + lease_ms(lease))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated > 0)
    }

    /// Closes an import job with its outcome and gives up the lease — if `owner` still holds
    /// it. Returns false when another collector took the job over (its lease ran out): the job
    /// is theirs to finish, and nothing is written.
    pub async fn finish_import_job(
        &self,
        job: ImportJobId,
        owner: &str,
        finished: &FinishedImportJob<'_>,
    ) -> Result<bool> {
        let counts = &finished.counts;
        let report = finished.report.map(|r| r.to_string());
        let updated = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE import_jobs SET status = $2, bytes_read = $3, records_read = $4,
                     inserted = $5, duplicates = $6, merged = $7, skipped = $8, report = $9,
                     error = $10, finished_at = $11, lease_owner = NULL, lease_until = NULL
                 WHERE id = $1 AND lease_owner = $12",
            )
            .bind(job.0)
            .bind(finished.status.as_str())
            .bind(saturating_i64(counts.bytes_read))
            .bind(saturating_i64(counts.records_read))
            .bind(saturating_i64(counts.inserted))
            .bind(saturating_i64(counts.duplicates))
            .bind(saturating_i64(counts.merged))
            .bind(saturating_i64(counts.skipped))
            .bind(report)
            .bind(finished.error)
            .bind(now_ms())
            .bind(owner)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated > 0)
    }
}

/// A lease as milliseconds, at least one.
pub(crate) fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis())
        .unwrap_or(i64::MAX / 2)
        .max(1)
}
