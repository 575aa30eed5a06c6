//! The plays-by-track index, built once after a large import instead of row by row.
//!
//! `plays_track` is ordered by track while an export's plays arrive in time order, so each
//! play lands on a random page of it. Kept up to date row by row it cost a first import of a
//! million plays ~2 s of SQLite's time (two thirds of the plays insert; every commit rewrote
//! most of its pages), and PostgreSQL's server a quarter of its work. Built from the loaded
//! table it is one sort: ~1–1.5 s per million rows. So an import that brings more plays than
//! the table holds drops the index first ([`WriterConnection::defer_play_index`]) and builds
//! it at its end ([`WriterConnection::build_play_index`]).
//!
//! Meanwhile questions are still answered, more slowly (by a user's plays instead of a
//! track's). A process that dies in between leaves the index missing; [`Store::migrate`], run
//! by every process that opens the store, builds it again.

use crate::transaction::{Held, WriterConnection};
use crate::{Result, Store};
use sqlx::Row;

/// `plays_track` as the migrations define it (a test checks the two give the same index).
const CREATE_PLAYS_TRACK: &str =
    "CREATE INDEX IF NOT EXISTS plays_track ON plays (track_id, user_id, ended_at, ms_played)";

/// How long PostgreSQL may wait for the table lock that dropping the index takes; while the
/// drop waits, new questions queue behind it. An import that cannot have it keeps the index.
const DROP_LOCK_TIMEOUT: &str = "2s";

/// Whether `plays_track` exists, and the plays the table holds at most (its highest id: read
/// from the primary key at once, where counting rows reads them all).
const STATE_SQLITE: &str = "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'plays_track') AS present,
        (SELECT COALESCE(MAX(id), 0) FROM plays) AS plays";
const STATE_POSTGRES: &str = "SELECT to_regclass('plays_track') IS NOT NULL AS present,
        (SELECT COALESCE(MAX(id), 0) FROM plays) AS plays";

impl WriterConnection {
    /// Drops `plays_track` when the import about to run brings more plays (`expected_plays`, an
    /// estimate that errs low) than the table holds: building it afterwards is then cheaper.
    /// Returns whether it did; the caller then owes a [`build_play_index`] when the import
    /// ends, failed or not.
    ///
    /// [`build_play_index`]: Self::build_play_index
    pub async fn defer_play_index(&mut self, expected_plays: u64) -> Result<bool> {
        let (present, stored) = self.play_index_state().await?;
        if !present || stored >= expected_plays {
            return Ok(false);
        }
        match &mut self.0 {
            Held::Sqlite(conn) => {
                sqlx::raw_sql("DROP INDEX IF EXISTS plays_track")
                    .execute(&mut **conn)
                    .await?;
            }
            Held::Postgres(conn) => {
                let dropped = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "BEGIN; SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'; \
                     DROP INDEX IF EXISTS plays_track; COMMIT;"
                )))
                .execute(&mut **conn)
                .await;
                if let Err(err) = dropped {
                    // A failed statement leaves the transaction open and aborted.
                    sqlx::raw_sql("ROLLBACK").execute(&mut **conn).await?;
                    let busy = err
                        .as_database_error()
                        .and_then(|e| e.code())
                        .is_some_and(|code| code == "55P03");
                    if !busy {
                        return Err(err.into());
                    }
                    tracing::info!(
                        "plays_track kept up to date row by row: its table was busy with other work"
                    );
                    return Ok(false);
                }
            }
        }
        tracing::info!(
            stored,
            expected_plays,
            "plays_track dropped, to be built when the import ends"
        );
        Ok(true)
    }

    /// Builds `plays_track` unless it exists.
    pub async fn build_play_index(&mut self) -> Result<()> {
        let started = std::time::Instant::now();
        let built = match &mut self.0 {
            Held::Sqlite(conn) => build_on_sqlite(conn).await,
            Held::Postgres(conn) => sqlx::raw_sql(CREATE_PLAYS_TRACK)
                .execute(&mut **conn)
                .await
                .map(drop),
        };
        if let Err(err) = built {
            // Another process may have built it at the same moment (PostgreSQL then reports
            // a clash on the catalogue's unique name); only a still missing index is an error.
            if !self.play_index_state().await?.0 {
                return Err(err.into());
            }
        }
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "plays_track built"
        );
        Ok(())
    }

    async fn play_index_state(&mut self) -> Result<(bool, u64)> {
        let row = match &mut self.0 {
            Held::Sqlite(conn) => {
                let row = sqlx::query(STATE_SQLITE).fetch_one(&mut **conn).await?;
                (row.try_get("present")?, row.try_get::<i64, _>("plays")?)
            }
            Held::Postgres(conn) => {
                let row = sqlx::query(STATE_POSTGRES).fetch_one(&mut **conn).await?;
                (row.try_get("present")?, row.try_get::<i64, _>("plays")?)
            }
        };
        Ok((row.0, row.1.max(0) as u64))
    }
}

/// Builds the index sorting through a temporary file with a small cache: SQLite sorts in
/// memory up to the page cache's size otherwise (this store's 64 MB, with `temp_store =
/// MEMORY` for the rest), which for a million plays took twice as long (1.7 s against 0.75 s,
/// the small runs merging faster) and ~120 MB more memory. Where no temporary folder can be
/// written, it sorts in memory after all. The connection's own settings are put back.
async fn build_on_sqlite(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    let cache_size: i64 = sqlx::query_scalar("PRAGMA cache_size")
        .fetch_one(&mut *conn)
        .await?;
    let temp_store: i64 = sqlx::query_scalar("PRAGMA temp_store")
        .fetch_one(&mut *conn)
        .await?;
    let settings = |cache_size: i64, temp_store: i64| {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "PRAGMA cache_size = {cache_size}; PRAGMA temp_store = {temp_store}"
        )))
    };
    const SMALL_CACHE: i64 = -4096; // KiB
    const TEMP_FILE: i64 = 1;
    settings(SMALL_CACHE, TEMP_FILE).execute(&mut *conn).await?;
    let mut built = sqlx::raw_sql(CREATE_PLAYS_TRACK).execute(&mut *conn).await;
    settings(cache_size, temp_store).execute(&mut *conn).await?;
    if let Err(err) = &built {
        tracing::info!(%err, "plays_track could not be sorted in a temporary file: sorting in memory");
        built = sqlx::raw_sql(CREATE_PLAYS_TRACK).execute(&mut *conn).await;
    }
    built.map(drop)
}

impl Store {
    /// Builds `plays_track` if an import that dropped it died before building it again.
    pub(crate) async fn restore_play_index(&self) -> Result<()> {
        let mut connection = self.writer_connection().await?;
        if !connection.play_index_state().await?.0 {
            tracing::warn!(
                "plays_track is missing (an import stopped before building it again): building it now"
            );
            connection.build_play_index().await?;
            connection.release_memory().await?;
        }
        Ok(())
    }
}
