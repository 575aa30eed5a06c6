//! Store errors: what failed, and what to do about it.

use thiserror::Error;

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("DATABASE_URL is not valid: {0}")]
    InvalidUrl(String),
    /// The cause is part of the message (not a `source`) so one line says everything.
    #[error(
        "cannot open the database at {url}: {cause}. Check DATABASE_URL and that the database server is running and reachable"
    )]
    Connect { url: String, cause: sqlx::Error },
    #[error("cannot apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A user's name or display name breaks the rules every caller shares.
    #[error("{0}")]
    InvalidName(#[from] spotify_history_core::InvalidName),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// True when a unique constraint rejected the write.
    pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
        matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
    }
}
