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

    /// One connection of the pool, kept for a series of write transactions (an import's):
    /// see [`WriterConnection`].
    pub async fn writer_connection(&self) -> Result<WriterConnection> {
        let (held, checkpoints) = match &self.backend {
            Backend::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                // Never back in the pool with the import's checkpoint setting: closed on drop,
                // or by `release_memory`.
                conn.close_on_drop();
                let pages = IMPORT_AUTOCHECKPOINT_PAGES;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "PRAGMA wal_autocheckpoint = {pages}"
                )))
                .execute(&mut *conn)
                .await?;
                let checkpoints = BackgroundCheckpoints::start(pool.clone());
                (Held::Sqlite(conn), Some(checkpoints))
            }
            Backend::Postgres(pool) => (Held::Postgres(pool.acquire().await?), None),
        };
        Ok(WriterConnection {
            held,
            defers_indexes: false,
            _checkpoints: checkpoints,
        })
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
/// On SQLite its commits leave checkpoints to a task beside it, for as long as it lives (see
/// `checkpoints`).
pub struct WriterConnection {
    pub(crate) held: Held,
    /// Whether this connection's import builds the deferred indexes at its end: each of its
    /// transactions then says so again (see `deferred_indexes`).
    pub(crate) defers_indexes: bool,
    _checkpoints: Option<BackgroundCheckpoints>,
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

    /// Closes a SQLite connection, which frees the pages it cached: an import leaves it full
    /// of history no question is waiting for, and the pool would keep that memory for as long
    /// as the connection lives, next to the caches of the connections that serve questions.
    /// (The pool opens another when it needs one.) The background checkpoints stop with it.
    pub async fn release_memory(self) -> Result<()> {
        if let Held::Sqlite(conn) = self.held {
            conn.close().await?;
        }
        Ok(())
    }
}
