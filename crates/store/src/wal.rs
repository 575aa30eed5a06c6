//! SQLite's write-ahead log is checkpointed by a background task, never inside a commit.
//!
//! By default, the connection whose commit leaves the log over 1,000 pages copies the log into
//! the database file and syncs both before its commit returns, so a request or an import
//! batch pays for everyone's writes: a million-listen import spent 15% of its time there, with
//! the database doing nothing else. Every connection of the store has automatic checkpoints
//! off (see `connect.rs`); this task checkpoints when a listen writer commits and every few
//! seconds. Its checkpoints are PASSIVE, like the automatic ones: they never wait for or
//! block readers and writers, and copy what no reader still needs.

use sqlx::SqlitePool;
use std::time::Duration;
use tokio::sync::mpsc;

/// Longest time written pages wait in the log when no listen writer asks for a checkpoint.
const PERIOD: Duration = Duration::from_secs(2);

/// Asks the store's checkpoint task for a checkpoint. The task ends when the store is closed
/// or its last handle dropped.
#[derive(Debug, Clone)]
pub(crate) struct Checkpointer(mpsc::Sender<()>);

impl Checkpointer {
    pub(crate) fn start(pool: SqlitePool) -> Self {
        let (wake, mut woken) = mpsc::channel(1);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(PERIOD);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    asked = woken.recv() => if asked.is_none() { break },
                    _ = ticks.tick() => {}
                }
                if pool.is_closed() {
                    break;
                }
                if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                {
                    tracing::debug!(error = %err, "the write-ahead log was not checkpointed");
                }
            }
        });
        Checkpointer(wake)
    }

    /// A checkpoint soon; one already asked for and not yet begun covers this one.
    pub(crate) fn request(&self) {
        let _ = self.0.try_send(());
    }
}
