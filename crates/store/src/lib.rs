//! Storage for spotify-history: one [`Store`] over SQLite (embedded, the default) and
//! PostgreSQL (for several processes), chosen by the database URL's scheme.
//!
//! SQL is written once for both backends where the dialects agree (`$1` placeholders work on
//! both); where they differ, the difference sits in one place with a comment saying why.

mod api_tokens;
mod backup;
mod bulk;
mod catalog;
mod checkpoints;
mod collection;
mod connect;
mod deferred_indexes;
mod error;
mod export;
pub mod history;
mod import_jobs;
mod job_listings;
mod job_runs;
mod listens;
mod logs;
mod migrations;
mod row;
mod schema;
mod spotify_links;
mod totals;
mod transaction;
mod user_settings;
mod users;
mod work;

pub use api_tokens::NewApiToken;
pub use backup::{BackupSummary, check_copy};
pub use catalog::CatalogCache;
pub use collection::{CollectionCandidate, CollectionSuccess, UserSyncState};
pub use connect::DatabaseUrl;
pub use error::StoreError;
pub use export::StoredListen;
pub use import_jobs::{ClaimedImportJob, FinishedImportJob, ImportJobCounts, NewImportJob};
pub use job_listings::{ImportJobFilter, ImportJobPage, JobRunFilter, JobRunPage};
pub use job_runs::{ABANDONED_RUN_ERROR, FinishedRun, JobKind, RunStatus};
pub use listens::{
    FileCheckpoint, FileProgress, KeyedListen, ListenBatch, ListenWriter, MINUTE_SLACK_MS,
    SAME_TRACK_TOLERANCE_MS, WriteOutcome,
};
pub use logs::{LogEntry, LogFilter, LogLevel, LogPage, NewLogEntry, UnknownLogLevel};
pub use schema::ColumnInfo;
pub use spotify_links::{NewSpotifyLink, SPOTIFY_NOT_BEFORE, SpotifyLink};
pub use totals::ListenTotals;
pub use transaction::WriterConnection;
pub use user_settings::UserChanges;

use sqlx::{PgPool, SqlitePool};

/// Result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database engine a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
        }
    }
}

#[derive(Clone)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The database of spotify-history. Cheap to clone (a pool handle).
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    url: DatabaseUrl,
    /// The catalogue's names, loaded on the first search (see `history::names`).
    names: std::sync::Arc<tokio::sync::Mutex<history::CatalogNames>>,
    /// Told when work for a collector was queued through this store (see
    /// [`Store::work_queued`]).
    work: std::sync::Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("url", &self.url).finish()
    }
}

/// Runs the same body against whichever pool the store holds. The body is compiled once per
/// backend, so plain runtime `sqlx` queries work unchanged on both.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite($pool) => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

impl Store {
    /// The engine behind this store.
    pub fn backend(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// The URL this store was opened with, password hidden.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Checks the database answers (used by `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop))?;
        Ok(())
    }

    /// Closes every pooled connection; for SQLite this also checkpoints the WAL.
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// The current time in Unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl Store {
    /// Runs one DDL statement (test harness and maintenance only; never with user input).
    #[doc(hidden)]
    pub async fn execute_ddl(&self, sql: &str) -> Result<()> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        on_pool!(self, pool => sqlx::raw_sql(sql).execute(pool).await.map(drop))?;
        Ok(())
    }
}
