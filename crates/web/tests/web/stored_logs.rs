//! Log events reach the `logs` table through the tracing layer: with their fields, their
//! spans' fields and the user; in batches off the caller's path; dropped, never waited for,
//! when the queue is full; and purged by the daily retention task.

use spotify_history_core::metrics;
use spotify_history_store::{LogFilter, LogLevel, NewLogEntry, Store};
use spotify_history_testkit::store_test;
use spotify_history_web::{log_capture, spawn_log_retention};
use std::time::Duration;
use tracing::Level;
use tracing_subscriber::layer::SubscriberExt;

async fn stored(store: &Store, filter: LogFilter) -> Vec<spotify_history_store::LogEntry> {
    store.query_logs(&filter, 100, 0).await.unwrap().entries
}

store_test!(log_events_reach_the_table_with_fields_and_user, |db| {
    let store = &db.store;
    let ann = store.create_user("ann", None).await.unwrap();
    let (layer, sink) = log_capture(Level::INFO, 64);
    // Scoped to this test's thread; the runtime of `#[tokio::test]` runs on it too, so the
    // writer's own database work passes through the layer (and must not be stored).
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));

    let run = tracing::info_span!("poll", job_run = 7_i64);
    run.in_scope(|| {
        tracing::info!(
            user_id = ann.id.0,
            plays = 3_u64,
            fresh = true,
            "collected plays"
        );
        tracing::debug!("below the floor: not stored");
    });
    tracing::warn!(target: "sqlx::query", "the driver's events are not stored");
    let err = std::io::Error::other("disk full");
    tracing::error!(error = %err, "cannot write an upload");

    // Nothing is stored until a store is attached; then the queue drains.
    let writer = sink
        .attach(store.clone())
        .expect("first attach starts the writer");
    assert!(sink.attach(store.clone()).is_none(), "one writer per sink");
    tracing::info!(user_id = ann.id.0, "after attaching");
    writer.finish().await;

    let entries = stored(store, LogFilter::default()).await;
    let messages: Vec<_> = entries.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "after attaching",
            "cannot write an upload",
            "collected plays"
        ],
    );
    let collected = &entries[2];
    assert_eq!(collected.level, LogLevel::Info);
    assert_eq!(collected.user_id, Some(ann.id));
    assert_eq!(
        collected.target,
        module_path!(),
        "the target is where the event was logged"
    );
    assert_eq!(
        collected.fields,
        Some(serde_json::json!({"job_run": 7, "plays": 3, "fresh": true}))
    );
    assert_eq!(
        entries[1].fields,
        Some(serde_json::json!({"error": "disk full"}))
    );
    assert_eq!(entries[1].user_id, None);

    // The admin logs page's filters find them.
    let errors = LogFilter {
        min_level: Some(LogLevel::Error),
        ..LogFilter::default()
    };
    assert_eq!(stored(store, errors).await.len(), 1);
    let anns = LogFilter {
        user: Some(ann.id),
        ..LogFilter::default()
    };
    assert_eq!(stored(store, anns).await.len(), 2);
    let disk = LogFilter {
        text: Some("DISK FULL".into()),
        ..LogFilter::default()
    };
    assert_eq!(
        stored(store, disk).await[0].message,
        "cannot write an upload"
    );
    assert_eq!(sink.dropped(), 0);
});

store_test!(
    a_full_queue_drops_events_and_counts_them_instead_of_blocking,
    |db| {
        let store = &db.store;
        let (layer, sink) = log_capture(Level::INFO, 4);
        let _subscriber =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
        let dropped_before = metrics::value(&metrics::LOGS_DROPPED, &[]);

        // No writer yet: the queue fills after 4 events and the other 96 are dropped at once.
        for n in 0..100 {
            tracing::info!(n, "event {n}");
        }
        assert_eq!(sink.dropped(), 96);
        assert!(metrics::value(&metrics::LOGS_DROPPED, &[]) - dropped_before >= 96.0);

        sink.attach(store.clone()).unwrap().finish().await;
        let messages: Vec<_> = stored(store, LogFilter::default())
            .await
            .into_iter()
            .map(|e| e.message)
            .collect();
        assert_eq!(messages, ["event 3", "event 2", "event 1", "event 0"]);
    }
);

store_test!(the_retention_task_purges_old_logs_when_it_starts, |db| {
    let store = &db.store;
    let now = jiff::Timestamp::now().as_millisecond();
    let entry = |age_days: i64, message: &str| NewLogEntry {
        ts: now - age_days * 86_400_000,
        level: LogLevel::Info,
        target: "test".into(),
        message: message.into(),
        fields: None,
        user_id: None,
    };
    store
        .insert_logs(&[entry(31, "last month"), entry(29, "this month")])
        .await
        .unwrap();
    assert!(
        spawn_log_retention(store.clone(), 0).is_none(),
        "0 keeps logs forever"
    );

    let task = spawn_log_retention(store.clone(), 30).unwrap();
    let mut left = Vec::new();
    for _ in 0..100 {
        left = stored(store, LogFilter::default()).await;
        if left.len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    task.abort();
    assert_eq!(left.len(), 1, "the 31-day-old event is purged at start");
    assert_eq!(left[0].message, "this month");
});
