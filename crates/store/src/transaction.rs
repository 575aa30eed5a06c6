//! A transaction on whichever backend the store holds.

use crate::{Backend, Result, Store};
use sqlx::{Postgres, Sqlite, Transaction};

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
    pub(crate) async fn begin(&self) -> Result<Tx<'static>> {
        Ok(match &self.backend {
            Backend::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Backend::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }
}
