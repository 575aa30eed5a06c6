//! Write-ahead-log checkpoints of a SQLite import, done beside it instead of in its commits.
//!
//! SQLite copies its write-ahead log into the database file (a checkpoint) in the commit that
//! grew the log past `wal_autocheckpoint` pages (1,000 by default), before that commit
//! returns. An import's transaction writes some 30 MB, so each of its commits copied as much
//! again and waited for the disk while the import's parser could only wait: a first import of
//! a million records ran ~10% faster without those checkpoints.
//!
//! So an import's connection ([`crate::Store::import_connection`]) checkpoints only past
//! [`IMPORT_AUTOCHECKPOINT_PAGES`], and a task on another connection of the pool runs a
//! passive checkpoint every [`INTERVAL`] ([`BackgroundCheckpoints`]), which copies what the
//! import committed while the import goes on with its next transaction, on the other core.
//!
//! The log file still grows while the import runs: SQLite starts writing it from its
//! beginning again only in a transaction that began when every frame had been copied, and the
//! import begins its next transaction right after each commit. Its own checkpoint past
//! [`IMPORT_AUTOCHECKPOINT_PAGES`] finds all but the last transaction's frames copied already
//! and copies those, after which its next transaction starts the log over (unless a question
//! is reading the log just then: then at a later commit). So the file holds about 256 MB and
//! one transaction at most; at its end the import copies what is left and cuts the file back
//! to nothing ([`crate::WriterConnection::release_memory`]).

use sqlx::SqlitePool;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// How often the background task checkpoints: a transaction of an import takes about a second.
const INTERVAL: Duration = Duration::from_millis(250);

/// The import's connection checkpoints itself once the log holds this many pages (256 MB of
/// 4 KB pages), which starts the log over.
pub(crate) const IMPORT_AUTOCHECKPOINT_PAGES: u32 = 65_536;

/// Passive checkpoints every [`INTERVAL`] on a connection of `pool`, until stopped or dropped.
/// A passive checkpoint never waits for a lock: it copies the frames no reader still needs,
/// and leaves the rest for the next one.
pub(crate) struct BackgroundCheckpoints {
    /// Dropped to stop the task between two checkpoints.
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl BackgroundCheckpoints {
    pub(crate) fn start(pool: SqlitePool) -> Self {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(INTERVAL);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = &mut stopped => return,
                }
                // Stopping need not wait for a connection (the pool may be busy), only for a
                // checkpoint under way.
                let conn = tokio::select! {
                    conn = pool.acquire() => conn,
                    _ = &mut stopped => return,
                };
                let checkpoint = match conn {
                    Ok(mut conn) => sqlx::raw_sql("PRAGMA wal_checkpoint(PASSIVE)")
                        .execute(&mut *conn)
                        .await
                        .map(drop),
                    Err(err) => Err(err),
                };
                if let Err(err) = checkpoint {
                    tracing::debug!(%err, "background checkpoint failed; the next one tries again");
                }
            }
        });
        BackgroundCheckpoints {
            stop: Some(stop),
            task,
        }
    }

    /// Stops the task once the checkpoint it may be running is done, so that the caller's own
    /// checkpoint does not find the log busy.
    pub(crate) async fn stop(mut self) {
        drop(self.stop.take());
        // A task that panicked has nothing left to stop.
        let _ = (&mut self.task).await;
    }
}

impl Drop for BackgroundCheckpoints {
    /// Dropped without [`BackgroundCheckpoints::stop`] (the import was cancelled): the task
    /// ends at once, its checkpoint, if one runs, finishing on its connection's thread.
    fn drop(&mut self) {
        self.task.abort();
    }
}
