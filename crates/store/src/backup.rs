//! A consistent copy of a SQLite database while it serves: `VACUUM INTO` reads one snapshot
//! (WAL readers do not block writers), so the copy holds exactly some committed state.

use crate::row::RowExt;
use crate::{Backend, Result, Store, StoreError};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use std::path::Path;

/// What a finished backup holds, checked by opening the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// Size of the copy in bytes.
    pub bytes: u64,
    /// Listens (rows of `plays`, all users) in the copy.
    pub listens: i64,
    /// `PRAGMA integrity_check` said `ok`.
    pub integrity_ok: bool,
}

impl Store {
    /// Writes a consistent copy of the database to `path` (SQLite only: PostgreSQL is backed
    /// up with `pg_dump`), then opens the copy and checks it. Refuses to overwrite a file.
    pub async fn backup_to(&self, path: &Path) -> Result<BackupSummary> {
        let Backend::Sqlite(pool) = &self.backend else {
            return Err(StoreError::Conflict(
                "backup_to copies SQLite databases; back up PostgreSQL with pg_dump".to_owned(),
            ));
        };
        if path.exists() {
            return Err(StoreError::Conflict(format!(
                "{} already exists: a backup never overwrites a file; choose a new name",
                path.display()
            )));
        }
        let target = path.to_str().ok_or_else(|| {
            StoreError::Conflict(format!("{} is not a UTF-8 path", path.display()))
        })?;
        // The target is an expression: bound as a parameter, never spliced into the SQL.
        // SQLite itself also refuses an existing non-empty file (a race with the check above).
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(pool)
            .await?;
        check_copy(path).await
    }
}

/// Opens the copy on its own connection, runs `PRAGMA integrity_check` and counts listens.
pub async fn check_copy(path: &Path) -> Result<BackupSummary> {
    crate::connect::configure_sqlite_library();
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    let verdict = sqlx::query("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await?
        .iter()
        .map(|row| sqlx::Row::try_get::<String, _>(row, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let listens = sqlx::query("SELECT COUNT(*) AS n FROM plays")
        .fetch_one(&mut conn)
        .await?
        .int("n")?;
    conn.close().await?;
    let bytes = std::fs::metadata(path)
        .map_err(|e| StoreError::Conflict(format!("cannot read {}: {e}", path.display())))?
        .len();
    Ok(BackupSummary {
        bytes,
        listens,
        integrity_ok: verdict == ["ok"],
    })
}
