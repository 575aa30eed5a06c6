//! Indexes a large import builds once at its end instead of row by row.
//!
//! `plays_track` is ordered by track while an export's plays arrive in time order, so each
//! play lands on a random page of it. Kept up to date row by row it cost a first import of a
//! million plays ~2 s of SQLite's time (two thirds of the plays insert; every commit rewrote
//! most of its pages), and PostgreSQL's server a quarter of its work. Built from the loaded
//! table it is one sort: 0.6–0.8 s per million rows. The catalogue's name and album indexes of
//! `tracks` are alike (random text keys; a third of the tracks insert) and are only read by
//! questions, so they go with it. (`tracks_match_key` stays: the import itself reads it.)
//!
//! So an import that brings more plays than the table holds drops these indexes first
//! ([`WriterConnection::defer_indexes`]) and builds them at its end
//! ([`WriterConnection::build_deferred_indexes`]). Meanwhile questions are still answered,
//! more slowly. Each of its transactions stores a lease ([`DEFERRED_UNTIL`]) saying an import
//! will build them. An import that dies leaves them missing: the next import builds them at
//! its end, and [`Store::migrate`], run by every process that opens the store, builds them once
//! the lease has run out (not before: a command run beside an import would otherwise build
//! them under it, and wait for its write lock to do so).

use crate::listens::{ALL_USERS, LISTENS_LOCK};
use crate::transaction::{Held, Tx, WriterConnection, on_held, on_tx};
use crate::{Result, Store, now_ms};
use sqlx::Sqlite;
use sqlx::pool::PoolConnection;

/// `app_state` key: until when (Unix ms) an import is expected to build the deferred indexes.
const DEFERRED_UNTIL: &str = "indexes_deferred_until";

/// How long one transaction of an import vouches for it: far longer than a transaction takes.
const DEFERRAL_LEASE_MS: i64 = 15 * 60 * 1000;

/// The indexes, as the migrations define them (a test checks they give the same indexes).
/// Dropped in this order: `tracks` before `plays`, the order in which listen writers lock them.
const DEFERRED: [(&str, &str); 3] = [
    (
        "tracks_lower_name",
        "CREATE INDEX IF NOT EXISTS tracks_lower_name ON tracks (LOWER(name))",
    ),
    (
        "tracks_album",
        "CREATE INDEX IF NOT EXISTS tracks_album ON tracks (album_id)",
    ),
    (
        "plays_track",
        "CREATE INDEX IF NOT EXISTS plays_track ON plays (track_id, user_id, ended_at, ms_played)",
    ),
];

/// How long PostgreSQL may wait for the table locks that dropping the indexes takes. While
/// the drop waits, new questions queue behind it; and it is shorter than PostgreSQL's deadlock
/// check (`deadlock_timeout`, 1 s by default), so a drop waiting on a running question gives up
/// before either could be picked as a deadlock's victim. The import then keeps the indexes.
const DROP_LOCK_TIMEOUT: &str = "500ms";

/// The plays the table holds at most: its highest id, read from the primary key at once,
/// where counting rows reads them all.
const STORED_PLAYS: &str = "SELECT COALESCE(MAX(id), 0) FROM plays";

impl WriterConnection {
    /// Drops the deferred indexes when the import about to run brings more plays
    /// (`expected_plays`, an estimate that errs low) than the table holds: building them
    /// afterwards is then cheaper. Returns whether the caller owes a
    /// [`build_deferred_indexes`] when the import ends, failed or not: after dropping them,
    /// and also when some were missing already (an import died before building them, or
    /// another one is running: whichever ends first builds them, the other finds them).
    ///
    /// Deferring only saves time: when the drop cannot be had (PostgreSQL: the tables busy
    /// for over [`DROP_LOCK_TIMEOUT`], a deadlock), the indexes are kept up to date instead.
    ///
    /// [`build_deferred_indexes`]: Self::build_deferred_indexes
    pub async fn defer_indexes(&mut self, expected_plays: u64) -> Result<bool> {
        let present = self.present_indexes().await?;
        if present.len() < DEFERRED.len() {
            self.defers_indexes = true;
            return Ok(true);
        }
        let stored: i64 = on_held!(&mut self.held, conn => {
            sqlx::query_scalar(STORED_PLAYS).fetch_one(&mut **conn).await?
        });
        if stored.max(0) as u64 >= expected_plays {
            return Ok(false);
        }
        if let Err(err) = self.drop_indexes(&present).await {
            tracing::warn!(%err, "indexes kept up to date row by row: they could not be dropped");
            return Ok(false);
        }
        tracing::info!(
            stored,
            expected_plays,
            indexes = ?present,
            "indexes dropped, to be built when the import ends"
        );
        self.defers_indexes = true;
        Ok(true)
    }

    /// Drops `indexes` and stores the lease, all or nothing, in a transaction that takes
    /// turns with listen writers. (A transaction sqlx knows of: one begun by hand in a list of
    /// statements would stay open on the pooled connection if the import were cancelled.)
    async fn drop_indexes(&mut self, indexes: &[&str]) -> Result<()> {
        let mut statements: String = indexes
            .iter()
            .map(|name| format!("DROP INDEX IF EXISTS {name};"))
            .collect();
        statements.push_str(&lease_statement(now_ms()));
        let mut tx = self.begin_for_user(LISTENS_LOCK, ALL_USERS).await?;
        if let Tx::Postgres(conn) = &mut tx {
            let timeout = format!("SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'");
            sqlx::raw_sql(sqlx::AssertSqlSafe(timeout))
                .execute(&mut **conn)
                .await?;
        }
        let statements = sqlx::AssertSqlSafe(statements);
        on_tx!(&mut tx, conn => sqlx::raw_sql(statements).execute(&mut **conn).await.map(drop))?;
        tx.commit().await
    }

    /// Builds every deferred index that does not exist.
    pub async fn build_deferred_indexes(&mut self) -> Result<()> {
        let started = std::time::Instant::now();
        let present = self.present_indexes().await?;
        for (name, create) in DEFERRED {
            if present.contains(&name) {
                continue;
            }
            let built = match &mut self.held {
                Held::Sqlite(conn) => build_on_sqlite(conn, create).await,
                Held::Postgres(conn) => sqlx::raw_sql(create).execute(&mut **conn).await.map(drop),
            };
            if let Err(err) = built {
                // Another process may have built it at the same moment (PostgreSQL then
                // reports a clash on the catalogue's unique name); only a still missing
                // index is an error.
                if !self.present_indexes().await?.contains(&name) {
                    return Err(err.into());
                }
            }
        }
        let clear = format!("DELETE FROM app_state WHERE key = '{DEFERRED_UNTIL}'");
        let clear = sqlx::AssertSqlSafe(clear);
        on_held!(&mut self.held, conn => sqlx::raw_sql(clear).execute(&mut **conn).await.map(drop))?;
        self.defers_indexes = false;
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "deferred indexes built"
        );
        Ok(())
    }

    /// The deferred indexes that exist.
    async fn present_indexes(&mut self) -> Result<Vec<&'static str>> {
        let names: Vec<String> = DEFERRED.iter().map(|(name, _)| name.to_string()).collect();
        let present: Vec<String> = match &mut self.held {
            Held::Sqlite(conn) => {
                sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'index'
                     AND name IN (SELECT value FROM json_each($1))",
                )
                .bind(serde_json::to_string(&names).expect("names serialize"))
                .fetch_all(&mut **conn)
                .await?
            }
            Held::Postgres(conn) => {
                sqlx::query_scalar(
                    "SELECT indexname::text FROM pg_indexes
                     WHERE schemaname = current_schema() AND indexname = ANY($1)",
                )
                .bind(&names)
                .fetch_all(&mut **conn)
                .await?
            }
        };
        Ok(DEFERRED
            .iter()
            .map(|&(name, _)| name)
            .filter(|name| present.iter().any(|p| p == name))
            .collect())
    }
}

/// Builds an index sorting through a temporary file with a small cache: SQLite sorts in memory
/// up to the page cache's size otherwise (this store's 64 MB, with `temp_store = MEMORY` for
/// the rest), which for a million plays took twice as long (1.7 s against 0.75 s, the small
/// runs merging faster) and ~120 MB more memory. Two helper threads sort runs meanwhile (the
/// parser's core is idle by then): 0.46–0.57 s against 0.62–0.84 s without, in the `sqlite3`
/// shell. Where no temporary file can be written, it sorts in memory after all. The
/// connection, its settings changed, is closed rather than handed back to the pool, whatever
/// happens (a cancelled import included).
async fn build_on_sqlite(
    conn: &mut PoolConnection<Sqlite>,
    create: &'static str,
) -> Result<(), sqlx::Error> {
    conn.close_on_drop();
    sqlx::raw_sql("PRAGMA cache_size = -2048; PRAGMA temp_store = FILE; PRAGMA threads = 2")
        .execute(&mut **conn)
        .await?;
    let built = sqlx::raw_sql(create).execute(&mut **conn).await;
    let Err(err) = built else {
        return Ok(());
    };
    // SQLITE_IOERR, SQLITE_FULL and SQLITE_CANTOPEN, with their extended codes.
    let temp_file_failed = err
        .as_database_error()
        .and_then(|e| e.code())
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & 0xff, 10 | 13 | 14));
    if !temp_file_failed {
        return Err(err);
    }
    tracing::info!(%err, "an index could not be sorted in a temporary file: sorting in memory");
    sqlx::raw_sql("PRAGMA temp_store = MEMORY")
        .execute(&mut **conn)
        .await?;
    sqlx::raw_sql(create).execute(&mut **conn).await.map(drop)
}

/// The statement storing the lease of an import that builds the deferred indexes, from `now`.
fn lease_statement(now: i64) -> String {
    let until = now + DEFERRAL_LEASE_MS;
    format!(
        "INSERT INTO app_state (key, value, updated_at) VALUES ('{DEFERRED_UNTIL}', '{until}', {now})
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;"
    )
}

/// Renews the lease in an import's transaction (see [`WriterConnection::defers_indexes`]).
pub(crate) async fn renew_lease(tx: &mut Tx<'_>) -> Result<()> {
    let statement = sqlx::AssertSqlSafe(lease_statement(now_ms()));
    on_tx!(tx, conn => sqlx::raw_sql(statement).execute(&mut **conn).await.map(drop))?;
    Ok(())
}

impl Store {
    /// Builds the deferred indexes if an import that dropped them died before building them
    /// and its lease has run out. Every process does this when it opens the store, and the
    /// collector once a cycle.
    pub async fn restore_deferred_indexes(&self) -> Result<()> {
        let mut connection = self.writer_connection().await?;
        if connection.present_indexes().await?.len() == DEFERRED.len() {
            return Ok(());
        }
        let lease = self.app_state(DEFERRED_UNTIL).await?;
        if lease.and_then(|until| until.parse::<i64>().ok()) > Some(now_ms()) {
            return Ok(());
        }
        tracing::warn!(
            "indexes are missing (an import stopped before building them again): building them now"
        );
        connection.build_deferred_indexes().await?;
        connection.release_memory().await
    }
}
