//! An import's connection on SQLite leaves write-ahead-log checkpoints to a task beside it.

use crate::listens::{T0, listen};
use spotify_history_core::Source;
use spotify_history_store::CatalogCache;
use spotify_history_testkit::TestDb;
use std::time::Duration;

/// The import's commits do not copy the log into the database themselves (not before it holds
/// 256 MB); the task beside them does. Here, with time between the transactions for the task,
/// each transaction starts the log over, so it stays the size of one instead of growing with
/// the import. And the import cuts the log file back to nothing when it is done.
#[tokio::test]
async fn an_imports_write_ahead_log_is_checkpointed_beside_it() {
    let db = TestDb::sqlite().await;
    let path = db.url.expose().trim_start_matches("sqlite://").to_owned();
    let wal_size = || std::fs::metadata(format!("{path}-wal")).map_or(0, |m| m.len());
    let user = db.store.create_user("ann", None).await.unwrap().id;
    let mut connection = db.store.import_connection().await.unwrap();
    let mut cache = CatalogCache::default();
    let mut sizes = Vec::new();
    for round in 0..6_i64 {
        let listens: Vec<_> = (0..3_000_i64)
            .map(|i| {
                let name = format!("Song {round} {i}");
                let ended_at = T0 + (round * 3_000 + i) * 200_000;
                listen(
                    Source::ExtendedExport,
                    ended_at,
                    "Abba",
                    &name,
                    Some(180_000),
                )
            })
            .collect();
        let mut writer = connection
            .listen_writer(user, None, &mut cache)
            .await
            .unwrap();
        assert_eq!(writer.write(&listens).await.unwrap().inserted, 3_000);
        writer.commit().await.unwrap();
        // Time for a few of the task's checkpoints (every 250 ms).
        tokio::time::sleep(Duration::from_millis(800)).await;
        sizes.push(wal_size());
    }
    assert!(sizes[0] > 0, "{sizes:?}");
    // Without the task the log holds all six transactions: six times the first's size.
    assert!(sizes[5] < sizes[0] * 5 / 2, "{sizes:?}");
    connection.release_memory().await.unwrap();
    assert_eq!(wal_size(), 0);
    assert_eq!(db.store.listen_totals(user).await.unwrap().listens, 18_000);
}
