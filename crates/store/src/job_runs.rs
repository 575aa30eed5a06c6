//! Writing `job_runs`: one row per unit of background work (an import job, a user's initial
//! sync or poll), started before the work and finished after it — failures included, so a
//! failed run is recorded rather than rolled back with the failure.

use crate::row::RowExt;
use crate::{Result, Store, now_ms, on_pool};
use spotify_history_core::{JobRunId, UserId};

/// What a job run did; stored as text in `job_runs.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// An import job went through the import engine.
    Import,
    /// A user's first backward paging of recently-played.
    InitialSync,
    /// A user's recently-played poll with the `after` cursor.
    Poll,
    /// A token refresh on its own.
    Refresh,
}

impl JobKind {
    /// The stable name in the database and in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Import => "import",
            JobKind::InitialSync => "initial_sync",
            JobKind::Poll => "poll",
            JobKind::Refresh => "refresh",
        }
    }
}

/// How a finished run (or import job) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Succeeded,
    Failed,
}

impl RunStatus {
    /// The stable name in the database and in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
        }
    }
}

/// The outcome of a run, written when it finishes.
#[derive(Debug, Clone, Copy)]
pub struct FinishedRun<'a> {
    pub status: RunStatus,
    pub items_fetched: u64,
    pub items_inserted: u64,
    /// Why it failed (or what went partly wrong), in words for the operator.
    pub error: Option<&'a str>,
    /// Anything else worth keeping (counts, stop reasons), as JSON.
    pub details: Option<&'a serde_json::Value>,
}

impl Store {
    /// Records that a run started; it reads `running` until [`Store::finish_job_run`].
    pub async fn start_job_run(&self, kind: JobKind, user: Option<UserId>) -> Result<JobRunId> {
        let id = on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO job_runs (kind, user_id, status, started_at) VALUES ($1, $2, 'running', $3)
                 RETURNING id",
            )
            .bind(kind.as_str())
            .bind(user.map(|u| u.0))
            .bind(now_ms())
            .fetch_one(pool)
            .await?
            .int("id")?
        });
        Ok(JobRunId(id))
    }

    /// Records how a run ended.
    pub async fn finish_job_run(&self, run: JobRunId, outcome: &FinishedRun<'_>) -> Result<()> {
        let details = outcome.details.map(|d| d.to_string());
        let updated = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE job_runs SET status = $2, finished_at = $3, items_fetched = $4,
                     items_inserted = $5, error = $6, details = $7
                 WHERE id = $1 AND status = 'running'",
            )
            .bind(run.0)
            .bind(outcome.status.as_str())
            .bind(now_ms())
            .bind(saturating_i64(outcome.items_fetched))
            .bind(saturating_i64(outcome.items_inserted))
            .bind(outcome.error)
            .bind(details)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if updated == 0 {
            // Closed meanwhile as abandoned by a collector that took the user over (this one
            // outlived its lease): that record stands; this outcome is only logged.
            tracing::warn!(job_run = %run, status = outcome.status.as_str(), "a job run was closed by another collector before it finished here");
        }
        Ok(())
    }
}

/// The error of a run whose collector stopped before finishing it.
pub const ABANDONED_RUN_ERROR: &str = "the collector running this stopped before it finished (crashed or killed); \
     another collector took over the work";

impl Store {
    /// Closes the user's initial sync and poll runs still marked `running` as failed. Only
    /// the holder of the user's lease may call this: no other collector can be running one,
    /// so such runs belong to a collector that died.
    pub async fn fail_abandoned_job_runs(&self, user: UserId) -> Result<u64> {
        let closed = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE job_runs SET status = 'failed', finished_at = $2, error = $3
                 WHERE user_id = $1 AND status = 'running' AND kind IN ('initial_sync', 'poll')",
            )
            .bind(user.0)
            .bind(now_ms())
            .bind(ABANDONED_RUN_ERROR)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(closed)
    }
}

/// Counters are `u64` in Rust and `BIGINT` in the database.
pub(crate) fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
