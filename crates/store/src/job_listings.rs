//! Job runs and import jobs as the admin API pages through them: filtered, newest first,
//! with the number matching in all, and one import job by id.

use crate::history::{ImportJobRow, JobRunRow};
use crate::job_runs::JobKind;
use crate::row::RowExt;
use crate::{Result, Store, StoreError, on_pool};
use spotify_history_core::{ImportJobId, UserId};

/// Which job runs a page holds; unset parts match every run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobRunFilter {
    pub kind: Option<JobKind>,
    pub user: Option<UserId>,
    /// `running`, `succeeded` or `failed`.
    pub status: Option<String>,
}

/// One page of job runs, newest first, and how many match the filter in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRunPage {
    pub runs: Vec<JobRunRow>,
    pub total: u64,
}

/// Which import jobs a page holds; unset parts match every job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportJobFilter {
    pub user: Option<UserId>,
    /// `pending`, `running`, `succeeded` or `failed`.
    pub status: Option<String>,
}

/// One page of import jobs, newest first, and how many match the filter in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJobPage {
    pub jobs: Vec<ImportJobRow>,
    pub total: u64,
}

const JOB_RUN_FILTER: &str = "($1 IS NULL OR j.kind = $1)
    AND ($2 IS NULL OR j.user_id = $2)
    AND ($3 IS NULL OR j.status = $3)";

const IMPORT_JOB_COLUMNS: &str = "j.id, j.user_id, u.name AS user_name, j.file_name,
    j.size_bytes, j.status, j.bytes_read, j.records_read, j.inserted, j.duplicates, j.merged,
    j.skipped, j.report, j.error, j.created_at, j.started_at, j.finished_at";

const IMPORT_JOB_FILTER: &str = "($1 IS NULL OR j.user_id = $1) AND ($2 IS NULL OR j.status = $2)";

pub(crate) fn job_run_from_row(row: &impl RowExt) -> Result<JobRunRow, sqlx::Error> {
    Ok(JobRunRow {
        id: row.int("id")?,
        kind: row.text("kind")?,
        user_id: row.opt_int("user_id")?,
        user_name: row.opt_text("user_name")?,
        status: row.text("status")?,
        started_at: row.int("started_at")?,
        finished_at: row.opt_int("finished_at")?,
        items_fetched: row.int("items_fetched")?,
        items_inserted: row.int("items_inserted")?,
        error: row.opt_text("error")?,
        details: row.opt_text("details")?,
    })
}

pub(crate) fn import_job_from_row(row: &impl RowExt) -> Result<ImportJobRow, sqlx::Error> {
    Ok(ImportJobRow {
        id: row.int("id")?,
        user_id: row.int("user_id")?,
        user_name: row.text("user_name")?,
        file_name: row.text("file_name")?,
        size_bytes: row.int("size_bytes")?,
        status: row.text("status")?,
        bytes_read: row.int("bytes_read")?,
        records_read: row.int("records_read")?,
        inserted: row.int("inserted")?,
        duplicates: row.int("duplicates")?,
        merged: row.int("merged")?,
        skipped: row.int("skipped")?,
        report: row.opt_text("report")?,
        error: row.opt_text("error")?,
        created_at: row.int("created_at")?,
        started_at: row.opt_int("started_at")?,
        finished_at: row.opt_int("finished_at")?,
    })
}

fn offset_i64(offset: u64) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX)
}

impl Store {
    /// Job runs matching `filter`, newest first, `limit` from `offset`, with the total.
    pub async fn job_runs_page(
        &self,
        filter: &JobRunFilter,
        limit: u32,
        offset: u64,
    ) -> Result<JobRunPage> {
        let page_sql = sqlx::AssertSqlSafe(format!(
            "SELECT j.id, j.kind, j.user_id, u.name AS user_name, j.status, j.started_at,
                    j.finished_at, j.items_fetched, j.items_inserted, j.error, j.details
             FROM job_runs j LEFT JOIN users u ON u.id = j.user_id
             WHERE {JOB_RUN_FILTER}
             ORDER BY j.started_at DESC, j.id DESC LIMIT $4 OFFSET $5"
        ));
        let count_sql = sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM job_runs j WHERE {JOB_RUN_FILTER}"
        ));
        let kind = filter.kind.map(JobKind::as_str);
        let user = filter.user.map(|u| u.0);
        let status = filter.status.as_deref();
        let (runs, total) = on_pool!(self, pool => {
            let rows = sqlx::query(page_sql)
                .bind(kind)
                .bind(user)
                .bind(status)
                .bind(i64::from(limit))
                .bind(offset_i64(offset))
                .fetch_all(pool)
                .await?;
            let runs = rows.iter().map(job_run_from_row).collect::<Result<Vec<_>, _>>()?;
            let total = sqlx::query(count_sql)
                .bind(kind)
                .bind(user)
                .bind(status)
                .fetch_one(pool)
                .await?
                .int("n")?;
            (runs, total)
        });
        Ok(JobRunPage {
            runs,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    /// Import jobs matching `filter`, newest first, `limit` from `offset`, with the total.
    pub async fn import_jobs_page(
        &self,
        filter: &ImportJobFilter,
        limit: u32,
        offset: u64,
    ) -> Result<ImportJobPage> {
        let page_sql = sqlx::AssertSqlSafe(format!(
            "SELECT {IMPORT_JOB_COLUMNS}
             FROM import_jobs j JOIN users u ON u.id = j.user_id
             WHERE {IMPORT_JOB_FILTER}
             ORDER BY j.created_at DESC, j.id DESC LIMIT $3 OFFSET $4"
        ));
        let count_sql = sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM import_jobs j WHERE {IMPORT_JOB_FILTER}"
        ));
        let user = filter.user.map(|u| u.0);
        let status = filter.status.as_deref();
        let (jobs, total) = on_pool!(self, pool => {
            let rows = sqlx::query(page_sql)
                .bind(user)
                .bind(status)
                .bind(i64::from(limit))
                .bind(offset_i64(offset))
                .fetch_all(pool)
                .await?;
            let jobs = rows.iter().map(import_job_from_row).collect::<Result<Vec<_>, _>>()?;
            let total = sqlx::query(count_sql)
                .bind(user)
                .bind(status)
                .fetch_one(pool)
                .await?
                .int("n")?;
            (jobs, total)
        });
        Ok(ImportJobPage {
            jobs,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    /// The import job with this id.
    pub async fn import_job(&self, id: ImportJobId) -> Result<ImportJobRow> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {IMPORT_JOB_COLUMNS}
             FROM import_jobs j JOIN users u ON u.id = j.user_id WHERE j.id = $1"
        ));
        let job = on_pool!(self, pool => {
            sqlx::query(sql)
                .bind(id.0)
                .fetch_optional(pool)
                .await?
                .map(|row| import_job_from_row(&row))
                .transpose()?
        });
        job.ok_or_else(|| StoreError::NotFound(format!("import job {id}")))
    }

    /// The files of the user's import jobs, as queued (to remove uploads with the user).
    pub async fn import_job_files(&self, user: UserId) -> Result<Vec<String>> {
        let files = on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT file_path FROM import_jobs WHERE user_id = $1 AND file_path IS NOT NULL",
            )
            .bind(user.0)
            .fetch_all(pool)
            .await?;
            rows.iter().map(|row| row.text("file_path")).collect::<Result<Vec<_>, _>>()?
        });
        Ok(files)
    }
}
