//! Telling collectors that work was queued (an import job, "sync now", a Spotify sign-in), so
//! they start it at once instead of at their next cycle (COLLECTOR_INTERVAL_SECONDS). Within a
//! process a `Notify` shared by the store's clones does; on PostgreSQL a `NOTIFY` on the
//! schema's channel reaches the collectors of every process (`api` and `collector` apart).

use crate::{Backend, Store};
use sqlx::postgres::{PgListener, PgPool};
use std::time::Duration;

/// The channel is this prefix and the schema's name: installations sharing a database in other
/// schemas (as the tests do) do not wake each other.
const CHANNEL_PREFIX: &str = "spotify_history_work_";

impl Store {
    /// Resolves when work for a collector was queued since the last call returned: through
    /// this store or a clone of it, or, once [`Store::listen_for_work`] runs, by any process
    /// on the same PostgreSQL schema.
    pub async fn work_queued(&self) {
        self.work.notified().await;
    }

    /// Makes [`Store::work_queued`] hear of work other processes queue: on PostgreSQL a task
    /// listens on the schema's channel (holding one pool connection until the pool closes); on
    /// SQLite, whose processes share no channel, nothing. Best effort: without it, collectors
    /// find the work at their next cycle.
    pub async fn listen_for_work(&self) {
        let Backend::Postgres(pool) = &self.backend else {
            return;
        };
        let mut listener = match listen(pool).await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(%err, "cannot listen for queued work: collectors find it at their next cycle");
                return;
            }
        };
        let work = self.work.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(_) => work.notify_one(),
                    Err(sqlx::Error::PoolClosed) => break,
                    Err(err) => {
                        tracing::warn!(%err, "listening for queued work failed; trying again");
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                }
            }
        });
    }

    /// Tells collectors that work was queued: those of every process on PostgreSQL, those of
    /// this one on SQLite (or when the `NOTIFY` fails).
    pub(crate) async fn queued_work(&self) {
        if let Backend::Postgres(pool) = &self.backend {
            let notify = sqlx::query("SELECT pg_notify($1::text || current_schema(), '')");
            match notify.bind(CHANNEL_PREFIX).execute(pool).await {
                Ok(_) => return,
                Err(err) => tracing::warn!(%err, "cannot notify collectors of queued work"),
            }
        }
        self.work.notify_one();
    }
}

async fn listen(pool: &PgPool) -> sqlx::Result<PgListener> {
    let schema: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(pool)
        .await?;
    let mut listener = PgListener::connect_with(pool).await?;
    listener
        .listen(&format!("{CHANNEL_PREFIX}{schema}"))
        .await?;
    Ok(listener)
}
