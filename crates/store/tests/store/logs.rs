//! The `logs` table: batches in, filtered pages out, purges by filter and by retention.

use jiff::Timestamp;
use spotify_history_core::UserId;
use spotify_history_store::{LogFilter, LogLevel, NewLogEntry, Store};
use spotify_history_testkit::store_test;

const DAY_MS: i64 = 86_400_000;
/// The fake clock's "now": 2026-05-01T00:00:00Z.
const NOW_MS: i64 = 1_777_593_600_000;

fn entry(ts: i64, level: LogLevel, target: &str, message: &str) -> NewLogEntry {
    NewLogEntry {
        ts,
        level,
        target: target.into(),
        message: message.into(),
        fields: None,
        user_id: None,
    }
}

async fn messages(store: &Store, filter: &LogFilter) -> Vec<String> {
    store
        .query_logs(filter, 100, 0)
        .await
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.message)
        .collect()
}

store_test!(logs_are_stored_in_batches_and_filtered, |db| {
    let store = &db.store;
    let ann = store.create_user("ann", None).await.unwrap();
    let mut poll = entry(
        NOW_MS - 3_000,
        LogLevel::Info,
        "spotify_history_collector::user_work",
        "collected",
    );
    poll.fields = Some(serde_json::json!({"inserted": 12, "kind": "poll"}));
    poll.user_id = Some(ann.id);
    let mut ghost = entry(
        NOW_MS - 1_000,
        LogLevel::Warn,
        "spotify_history_collector::collector",
        "lease lost 100% of the time",
    );
    // A user that does not exist: the event is kept, without the user.
    ghost.user_id = Some(UserId(ann.id.0 + 1_000));
    let batch = vec![
        entry(
            NOW_MS - 4_000,
            LogLevel::Debug,
            "spotify_history_web",
            "noise",
        ),
        poll,
        entry(
            NOW_MS - 2_000,
            LogLevel::Error,
            "spotify_history_web::auth",
            "cannot check an API token",
        ),
        ghost,
    ];
    assert_eq!(store.insert_logs(&batch).await.unwrap(), 4);
    assert_eq!(store.insert_logs(&[]).await.unwrap(), 0);

    let all = store.query_logs(&LogFilter::default(), 2, 0).await.unwrap();
    assert_eq!(all.total, 4);
    let newest: Vec<_> = all.entries.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        newest,
        ["lease lost 100% of the time", "cannot check an API token"]
    );
    assert_eq!(all.entries[0].user_id, None);
    let second_page = store.query_logs(&LogFilter::default(), 2, 2).await.unwrap();
    assert_eq!(second_page.total, 4);
    assert_eq!(second_page.entries[0].message, "collected");
    assert_eq!(
        second_page.entries[0].fields,
        Some(serde_json::json!({"inserted": 12, "kind": "poll"}))
    );
    assert_eq!(second_page.entries[0].user_id, Some(ann.id));
    assert_eq!(second_page.entries[0].level, LogLevel::Info);

    let warnings = LogFilter {
        min_level: Some(LogLevel::Warn),
        ..LogFilter::default()
    };
    assert_eq!(
        messages(store, &warnings).await,
        ["lease lost 100% of the time", "cannot check an API token"]
    );
    let collector = LogFilter {
        target_prefix: Some("spotify_history_collector".into()),
        ..LogFilter::default()
    };
    assert_eq!(
        messages(store, &collector).await,
        ["lease lost 100% of the time", "collected"]
    );
    let anns = LogFilter {
        user: Some(ann.id),
        ..LogFilter::default()
    };
    assert_eq!(messages(store, &anns).await, ["collected"]);
    // Text matches the message or the fields, ignoring case; `%` is no wildcard.
    for (text, expected) in [
        ("API TOKEN", vec!["cannot check an API token"]),
        ("\"kind\":\"poll\"", vec!["collected"]),
        ("100%", vec!["lease lost 100% of the time"]),
        ("0%", vec!["lease lost 100% of the time"]),
        ("%", vec!["lease lost 100% of the time"]),
        ("nothing like this", vec![]),
    ] {
        let filter = LogFilter {
            text: Some(text.into()),
            ..LogFilter::default()
        };
        assert_eq!(messages(store, &filter).await, expected, "text {text:?}");
    }
    let combined = LogFilter {
        min_level: Some(LogLevel::Info),
        target_prefix: Some("spotify_history_web".into()),
        ..LogFilter::default()
    };
    assert_eq!(
        messages(store, &combined).await,
        ["cannot check an API token"]
    );

    // Purging by filter removes exactly the matching events.
    assert_eq!(store.purge_logs(&collector).await.unwrap(), 2);
    assert_eq!(
        messages(store, &LogFilter::default()).await,
        ["cannot check an API token", "noise"]
    );
    assert_eq!(store.purge_logs(&LogFilter::default()).await.unwrap(), 2);
    assert_eq!(
        store
            .query_logs(&LogFilter::default(), 10, 0)
            .await
            .unwrap()
            .total,
        0
    );
});

store_test!(
    retention_purge_removes_only_logs_older_than_the_retention,
    |db| {
        let store = &db.store;
        let now = Timestamp::from_millisecond(NOW_MS).unwrap();
        let ages_in_days = [0.0, 1.0, 6.5, 6.99, 7.01, 8.0, 400.0];
        let batch: Vec<_> = ages_in_days
            .iter()
            .map(|age| {
                let ts = NOW_MS - (age * DAY_MS as f64) as i64;
                entry(ts, LogLevel::Info, "t", &format!("{age} days old"))
            })
            .collect();
        store.insert_logs(&batch).await.unwrap();

        // Retention 0 keeps everything.
        assert_eq!(store.purge_expired_logs(now, 0).await.unwrap(), 0);

        assert_eq!(store.purge_expired_logs(now, 7).await.unwrap(), 3);
        assert_eq!(
            messages(store, &LogFilter::default()).await,
            ["0 days old", "1 days old", "6.5 days old", "6.99 days old"]
        );
        // Running again removes nothing more; a day later the 6.5- and 6.99-day-old ones go.
        assert_eq!(store.purge_expired_logs(now, 7).await.unwrap(), 0);
        let tomorrow = Timestamp::from_millisecond(NOW_MS + DAY_MS).unwrap();
        assert_eq!(store.purge_expired_logs(tomorrow, 7).await.unwrap(), 2);
        assert_eq!(
            messages(store, &LogFilter::default()).await,
            ["0 days old", "1 days old"]
        );
    }
);
