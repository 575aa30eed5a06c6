//! Operations questions: what the tables say about users, syncing and jobs.

use crate::export::{analytics, export, import_for, ms};
use crate::handmade::{heard, write};
use spotify_history_analytics::{AnalyticsError, LatestArgs};
use spotify_history_testkit::store_test;

store_test!(users_sync_state_and_jobs_are_reported_as_stored, |db| {
    let store = &db.store;
    let ann = store.create_user("ann", Some("Ann A.")).await.unwrap().id;
    let bob = store.create_user("bob", None).await.unwrap().id;
    import_for(store, ann).await;
    write(
        store,
        bob,
        &[heard("2021-03-01T10:00:00Z", "Bob Band", "Bob Song")],
    )
    .await;
    let analytics = analytics(store);

    let users = analytics.list_users().await.unwrap().users;
    let summary: Vec<_> = users.iter().map(|u| (u.name.as_str(), u.listens)).collect();
    assert_eq!(
        summary,
        [("ann", export().listens.len() as i64), ("bob", 1)]
    );
    assert_eq!(users[0].display_name.as_deref(), Some("Ann A."));
    let first = export().listens.first().unwrap().ended_ms;
    assert_eq!(
        users[0].first_listen,
        Some(
            jiff::Timestamp::from_millisecond(first)
                .unwrap()
                .to_string()
        )
    );
    assert_eq!(
        users[1].last_listen.as_deref(),
        Some("2021-03-01T10:00:00Z")
    );
    assert!(!users[0].spotify_linked && !users[0].paused && !users[0].needs_reauth);

    // Before the collector: an import-only user with nothing in sync_state.
    let scope = crate::export::scope(ann);
    let status = analytics.sync_status(&scope).await.unwrap();
    assert!(!status.spotify_linked);
    assert!(
        status.summary.contains("imported exports only"),
        "{}",
        status.summary
    );
    assert_eq!(status.last_polled_at, None);
    assert_eq!(status.initial_sync_done, None);

    // What a collector and sign-in would have written.
    let (authorized, polled) = (ms("2024-01-15T10:00:00Z"), ms("2024-03-01T12:00:00Z"));
    store
        .execute_ddl(&format!(
            "INSERT INTO spotify_tokens (user_id, refresh_token, authorized_at, updated_at)
             VALUES ({bob}, 'encrypted', {authorized}, {authorized});
             INSERT INTO sync_state (user_id, initial_sync_done, last_polled_at, consecutive_failures,
                                     last_error, updated_at)
             VALUES ({bob}, true, {polled}, 2, 'HTTP 503 from Spotify', {polled});
             UPDATE users SET sync_paused = true WHERE id = {bob};",
            bob = bob.0
        ))
        .await
        .unwrap();
    let status = analytics
        .sync_status(&crate::export::scope(bob))
        .await
        .unwrap();
    assert!(status.spotify_linked && status.sync_paused);
    assert!(status.summary.contains("paused"));
    assert_eq!(status.initial_sync_done, Some(true));
    assert_eq!(
        status.last_polled_at.as_deref(),
        Some("2024-03-01T12:00:00Z")
    );
    assert_eq!(status.consecutive_failures, Some(2));
    assert_eq!(status.last_error.as_deref(), Some("HTTP 503 from Spotify"));
    assert_eq!(
        status.refresh_token_expires_at.as_deref(),
        Some("2024-07-15T10:00:00Z")
    );

    store
        .execute_ddl(&format!(
            "INSERT INTO job_runs (kind, user_id, status, started_at, finished_at, items_fetched,
                                   items_inserted, error, details)
             VALUES ('poll', {ann}, 'succeeded', 1000, 3500, 50, 12, NULL, '{{\"pages\": 1}}'),
                    ('poll', {bob}, 'failed', 2000, 2100, 0, 0, 'HTTP 503', NULL),
                    ('refresh', NULL, 'succeeded', 3000, NULL, 0, 0, NULL, 'not json');
             INSERT INTO import_jobs (user_id, file_name, size_bytes, status, records_read,
                                      inserted, duplicates, merged, skipped, created_at)
             VALUES ({ann}, 'my_spotify_data.zip', 1234, 'succeeded', 10, 7, 1, 1, 1, 500),
                    ({bob}, 'other.zip', 99, 'failed', 0, 0, 0, 0, 0, 600);",
            ann = ann.0,
            bob = bob.0
        ))
        .await
        .unwrap();
    let everyone = analytics
        .latest_job_runs(None, &LatestArgs::default())
        .await
        .unwrap()
        .runs;
    let kinds: Vec<_> = everyone
        .iter()
        .map(|r| (r.kind.as_str(), r.status.as_str(), r.user.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("refresh", "succeeded", None),
            ("poll", "failed", Some("bob")),
            ("poll", "succeeded", Some("ann"))
        ]
    );
    assert_eq!(everyone[2].duration_ms, Some(2500));
    assert_eq!(everyone[2].details, Some(serde_json::json!({ "pages": 1 })));
    assert_eq!(everyone[0].details, Some(serde_json::json!("not json")));
    let anns = analytics
        .latest_job_runs(Some(ann), &LatestArgs { limit: Some(5) })
        .await
        .unwrap()
        .runs;
    assert_eq!(anns.len(), 1);
    assert_eq!(anns[0].items_inserted, 12);
    let latest = analytics
        .latest_job_runs(None, &LatestArgs { limit: Some(1) })
        .await
        .unwrap()
        .runs;
    assert_eq!(latest.len(), 1);
    // Sync status lists the user's recent failures and the app-wide 429 pause.
    let until = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(5);
    store
        .set_app_state(
            spotify_history_store::SPOTIFY_NOT_BEFORE,
            &until.to_string(),
        )
        .await
        .unwrap();
    let status = analytics
        .sync_status(&crate::export::scope(bob))
        .await
        .unwrap();
    let failures: Vec<_> = status
        .recent_failures
        .iter()
        .map(|r| (r.kind.as_str(), r.error.as_deref()))
        .collect();
    assert_eq!(failures, [("poll", Some("HTTP 503"))]);
    assert_eq!(status.spotify_not_before, Some(until.to_string()));
    assert!(
        analytics
            .sync_status(&scope)
            .await
            .unwrap()
            .recent_failures
            .is_empty()
    );
    assert!(matches!(
        analytics
            .latest_job_runs(None, &LatestArgs { limit: Some(0) })
            .await,
        Err(AnalyticsError::BadArgument(_))
    ));

    let imports = analytics
        .latest_import_jobs(None, &LatestArgs::default())
        .await
        .unwrap()
        .jobs;
    let files: Vec<_> = imports
        .iter()
        .map(|j| (j.file_name.as_str(), j.user.as_str()))
        .collect();
    assert_eq!(
        files,
        [("other.zip", "bob"), ("my_spotify_data.zip", "ann")]
    );
    let anns = analytics
        .latest_import_jobs(Some(ann), &LatestArgs::default())
        .await
        .unwrap()
        .jobs;
    assert_eq!((anns.len(), anns[0].inserted, anns[0].merged), (1, 7, 1));
});
