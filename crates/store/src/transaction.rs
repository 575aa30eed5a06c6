//! A transaction on whichever backend the store holds.

use crate::checkpoints::{BackgroundCheckpoints, IMPORT_AUTOCHECKPOINT_PAGES};
use crate::{Backend, Result, Store};
use spotify_history_core::UserId;
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Postgres, Sqlite, Transaction};

/// An open transaction; dropped without [`Tx::commit`], it rolls back.
pub(crate) enum Tx<'c> {
    Sqlite(Transaction<'c, Sqlite>),
    Postgres(Transaction<'c, Postgres>),
}

/// Runs the same body on the transaction's connection, whichever backend it is
/// (`&mut **conn` is the executor).
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::transaction::Tx::Sqlite($conn) => $body,
            $crate::transaction::Tx::Postgres($conn) => $body,
        }
    };
}
pub(crate) use on_tx;

/// Runs the same body on a [`WriterConnection`]'s connection, whichever backend it is
/// (`&mut **conn` is the executor).
macro_rules! on_held {
    ($held:expr, $conn:ident => $body:expr) => {
        match $held {
            $crate::transaction::Held::Sqlite($conn) => $body,
            $crate::transaction::Held::Postgres($conn) => $body,
        }
    };
}
pub(crate) use on_held;

impl Tx<'_> {
    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Commits when `result` is `Ok`, else rolls back at once and returns the error (the
    /// refusal is the answer; a failed rollback only leaves it to the connection's next use).
    pub(crate) async fn commit_if_ok<T>(self, result: Result<T>) -> Result<T> {
        match result {
            Ok(value) => {
                self.commit().await?;
                Ok(value)
            }
            Err(err) => {
                let _ = self.rollback().await;
                Err(err)
            }
        }
    }

    /// Rolls back now. Merely dropping a transaction defers the rollback until its
    /// connection is next used, and until then its locks stay held.
    pub(crate) async fn rollback(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await?,
            Tx::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

impl Store {
    /// A transaction; every one the store opens writes. On SQLite it takes the write lock
    /// at BEGIN (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes fails
    /// at once (SQLITE_BUSY, which the busy timeout cannot help) when another connection wrote
    /// in between, whereas a writer waiting at BEGIN just waits its turn.
    pub(crate) async fn begin(&self) -> Result<Tx<'static>> {
        Ok(match &self.backend {
            Backend::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A transaction that reads and then writes one user's data, taking turns with every
    /// other such transaction of that user (`lock` names what they share): a check-then-insert
    /// cannot interleave with another's. On SQLite every write transaction takes turns already
    /// (see [`Store::begin`]); PostgreSQL takes an advisory lock per user.
    pub(crate) async fn begin_for_user(&self, lock: i32, user: UserId) -> Result<Tx<'static>> {
        let mut tx = self.begin().await?;
        tx.lock_for_user(lock, user).await?;
        Ok(tx)
    }

    /// One connection of the pool, kept for a series of write transactions: see
    /// [`WriterConnection`].
    pub async fn writer_connection(&self) -> Result<WriterConnection> {
        let held = match &self.backend {
            Backend::Sqlite(pool) => Held::Sqlite(pool.acquire().await?),
            Backend::Postgres(pool) => Held::Postgres(pool.acquire().await?),
        };
        Ok(WriterConnection {
            held,
            defers_indexes: false,
            checkpoints: None,
        })
    }

    /// A [`WriterConnection`] for an import. On SQLite its commits leave the write-ahead log's
    /// checkpoints to a task beside it (see `checkpoints`), and it is closed when it is done
    /// ([`WriterConnection::release_memory`]) or dropped, never back in the pool with that
    /// setting.
    pub async fn import_connection(&self) -> Result<WriterConnection> {
        let mut connection = self.writer_connection().await?;
        if let (Held::Sqlite(conn), Backend::Sqlite(pool)) = (&mut connection.held, &self.backend) {
            conn.close_on_drop();
            let pages = IMPORT_AUTOCHECKPOINT_PAGES;
            let setting = format!("PRAGMA wal_autocheckpoint = {pages}");
            sqlx::raw_sql(sqlx::AssertSqlSafe(setting))
                .execute(&mut **conn)
                .await?;
            connection.checkpoints = Some(BackgroundCheckpoints::start(pool.clone()));
        }
        Ok(connection)
    }
}

impl Tx<'_> {
    /// Takes turns with every other transaction of `user` that names the same `lock` (see
    /// [`Store::begin_for_user`]).
    async fn lock_for_user(&mut self, lock: i32, user: UserId) -> Result<()> {
        if let Tx::Postgres(pg) = self {
            sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
                .bind(lock)
                .bind(user.0 as i32)
                .execute(&mut **pg)
                .await?;
        }
        Ok(())
    }
}

/// A pooled connection held for one transaction after another. On SQLite each connection
/// keeps its own page cache, which a commit from any other connection makes stale, and the
/// pool hands out its idle connections in turn: an import that took a new connection per
/// transaction began each one with a cold cache, and filled a second cache for nothing
/// (~45 MB more peak memory).
///
/// An import's ([`Store::import_connection`]) leaves checkpoints to a task beside it on
/// SQLite, for as long as it lives.
pub struct WriterConnection {
    pub(crate) held: Held,
    /// Whether this connection's import builds the deferred indexes at its end: each of its
    /// transactions then says so again (see `deferred_indexes`).
    pub(crate) defers_indexes: bool,
    checkpoints: Option<BackgroundCheckpoints>,
}

pub(crate) enum Held {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl WriterConnection {
    /// A transaction on this connection, as [`Store::begin_for_user`] opens them.
    pub(crate) async fn begin_for_user(&mut self, lock: i32, user: UserId) -> Result<Tx<'_>> {
        let mut tx = match &mut self.held {
            Held::Sqlite(conn) => Tx::Sqlite(conn.begin_with("BEGIN IMMEDIATE").await?),
            Held::Postgres(conn) => Tx::Postgres(conn.begin().await?),
        };
        tx.lock_for_user(lock, user).await?;
        Ok(tx)
    }

    /// Frees the pages SQLite cached for this connection: an import leaves it full of history
    /// no question is waiting for, and the pool would keep that memory for as long as the
    /// connection lives, next to the caches of the connections that serve questions.
    ///
    /// An import's connection ([`Store::import_connection`]) stops its background checkpoints,
    /// copies what is left of the write-ahead log into the database and cuts the log file
    /// back to nothing (unless a question is reading it: it does not wait), and closes.
    pub async fn release_memory(self) -> Result<()> {
        let WriterConnection {
            held, checkpoints, ..
        } = self;
        match (held, checkpoints) {
            (Held::Sqlite(mut conn), Some(checkpoints)) => {
                checkpoints.stop().await;
                // A busy log is no error (the checkpoint says so in its row), and a failure
                // (a full disk) leaves the copy to the next checkpoint: the import committed.
                let truncate = "PRAGMA busy_timeout = 0; PRAGMA wal_checkpoint(TRUNCATE)";
                if let Err(err) = sqlx::raw_sql(truncate).execute(&mut *conn).await {
                    tracing::warn!(%err, "the write-ahead log could not be copied at the import's end");
                }
                conn.close().await?;
            }
            (Held::Sqlite(mut conn), None) => {
                sqlx::raw_sql("PRAGMA shrink_memory")
                    .execute(&mut *conn)
                    .await?;
            }
            (Held::Postgres(_), _) => {}
        }
        Ok(())
    }
}
