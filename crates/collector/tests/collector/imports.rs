//! Import jobs through the collector: a queued export runs to `succeeded` with its report, a
//! corrupt file ends `failed` with a clear error (and the next job still runs), and an
//! export overlapping polled plays is merged, not double counted.

use super::*;
use spotify_history_collector::CollectorConfig;
use spotify_history_core::metrics;
use spotify_history_import::synthetic::{SyntheticConfig, SyntheticExport};
use spotify_history_store::NewImportJob;
use spotify_history_store::history::ImportJobRow;
use spotify_history_testkit::store_test;
use std::path::Path;

/// Queues `path` as an import job of `user`.
async fn queue(store: &Store, user: UserId, path: &Path) -> spotify_history_core::ImportJobId {
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    store
        .create_import_job(&NewImportJob {
            user,
            file_name: &path.file_name().unwrap().to_string_lossy(),
            file_path: &path.to_string_lossy(),
            size_bytes: size,
        })
        .await
        .expect("queue the import job")
}

async fn import_jobs(store: &Store, user: UserId) -> Vec<ImportJobRow> {
    let mut jobs = store.latest_import_jobs(Some(user), 100).await.unwrap();
    jobs.reverse();
    jobs
}

/// A collector without Spotify: import jobs run regardless.
fn import_only_collector(store: &Store) -> Collector {
    Collector::new(store.clone(), None, CollectorConfig::default())
}

store_test!(
    a_queued_export_is_imported_and_a_corrupt_one_fails_clearly,
    |db| {
        let store = &db.store;
        let user = store.create_user("ann", None).await.unwrap().id;
        let dir = tempfile::tempdir().unwrap();
        let corrupt = dir.path().join("corrupt.zip");
        std::fs::write(&corrupt, b"PK\x03\x04 this download was cut short").unwrap();
        let export = SyntheticExport::generate(SyntheticConfig {
            plays: 800,
            seed: 7,
            records_per_file: 300,
            ..SyntheticConfig::default()
        });
        let zip = dir.path().join("my_spotify_data.zip");
        export.write_zip(&zip).unwrap();
        let truth = export.ground_truth();
        let corrupt_job = queue(store, user, &corrupt).await;
        let good_job = queue(store, user, &zip).await;

        let metric = |family, labels: &[&str]| metrics::value(family, labels);
        let succeeded_before = metric(&metrics::COLLECTOR_RUNS, &["import", "succeeded"]);
        let failed_before = metric(&metrics::COLLECTOR_RUNS, &["import", "failed"]);
        let records_before = metric(&metrics::IMPORT_RECORDS, &[]);

        let collector = import_only_collector(store);
        let report = cycle(&collector).await;
        assert!(!report.spotify_enabled);
        // `/metrics` counts both runs and the records read (counters are process-wide).
        assert!(metric(&metrics::COLLECTOR_RUNS, &["import", "succeeded"]) > succeeded_before);
        assert!(metric(&metrics::COLLECTOR_RUNS, &["import", "failed"]) > failed_before);
        assert!(
            metric(&metrics::IMPORT_RECORDS, &[]) - records_before
                >= (truth.extended_records + truth.account_rows) as f64
        );
        assert_eq!(
            report.imports.len(),
            2,
            "the failure does not stop the next job"
        );
        assert_eq!(report.imports[0].import_job, Some(corrupt_job));
        assert_eq!(report.imports[1].import_job, Some(good_job));

        let jobs = import_jobs(store, user).await;
        let failed_job = &jobs[0];
        assert_eq!(failed_job.status, "failed");
        let error = failed_job.error.as_deref().unwrap();
        assert!(
            error.contains("corrupt.zip") && error.contains("not a readable ZIP"),
            "{error}"
        );
        assert!(failed_job.finished_at.is_some());

        let done = &jobs[1];
        assert_eq!(done.status, "succeeded", "{done:?}");
        assert_eq!(done.error, None);
        assert_eq!(done.inserted as u64, truth.listens_after_merge());
        assert_eq!(
            done.records_read as u64,
            truth.extended_records + truth.account_rows
        );
        assert_eq!(done.merged as u64, truth.account_matched);
        // The progress bar (bytes_read against the upload's size) ends full.
        assert_eq!(done.bytes_read, done.size_bytes);
        let job_report: serde_json::Value =
            serde_json::from_str(done.report.as_deref().unwrap()).unwrap();
        assert_eq!(job_report["inserted"], done.inserted);
        assert_eq!(
            job_report["files"].as_array().unwrap().len(),
            truth.files.len()
        );
        let totals = store.listen_totals(user).await.unwrap();
        assert_eq!(totals.listens as u64, truth.listens_after_merge());

        let runs = super::kinds_and_statuses(&store.latest_job_runs(Some(user), 10).await.unwrap());
        assert_eq!(
            runs,
            [succeeded(JobKind::Import), failed(JobKind::Import)],
            "newest first"
        );

        // Nothing left to do: a second cycle runs no job.
        assert!(cycle(&collector).await.imports.is_empty());
    }
);

store_test!(an_uploaded_export_is_removed_once_its_job_has_ended, |db| {
    let store = &db.store;
    let user = store.create_user("ann", None).await.unwrap().id;
    let dir = tempfile::tempdir().unwrap();
    let uploads = dir.path().join("uploads");
    std::fs::create_dir(&uploads).unwrap();
    let uploaded = uploads.join("1-my_spotify_data.zip");
    SyntheticExport::generate(SyntheticConfig {
        plays: 200,
        seed: 3,
        ..SyntheticConfig::default()
    })
    .write_zip(&uploaded)
    .unwrap();
    let broken = uploads.join("2-cut_short.zip");
    std::fs::write(&broken, b"PK\x03\x04 cut short").unwrap();
    // The operator's own file, queued from outside the upload folder, is never removed.
    let own = dir.path().join("my_spotify_data.zip");
    std::fs::copy(&uploaded, &own).unwrap();
    for file in [&uploaded, &broken, &own] {
        queue(store, user, file).await;
    }
    let config = CollectorConfig {
        uploads_dir: Some(uploads.clone()),
        ..CollectorConfig::default()
    };
    let collector = Collector::new(store.clone(), None, config);
    assert_eq!(cycle(&collector).await.imports.len(), 3);

    let statuses: Vec<String> = import_jobs(store, user)
        .await
        .into_iter()
        .map(|job| job.status)
        .collect();
    assert_eq!(statuses, ["succeeded", "failed", "succeeded"]);
    assert!(!uploaded.exists(), "imported: removed");
    assert!(!broken.exists(), "failed for good: removed too");
    assert!(own.exists());
    assert!(store.listen_totals(user).await.unwrap().listens > 0);
});

store_test!(
    a_running_collector_starts_an_import_queued_between_its_cycles,
    |db| {
        let store = &db.store;
        let user = store.create_user("ann", None).await.unwrap().id;
        let dir = tempfile::tempdir().unwrap();
        let export = |name: &str, seed| {
            let zip = dir.path().join(name);
            SyntheticExport::generate(SyntheticConfig {
                plays: 100,
                seed,
                ..SyntheticConfig::default()
            })
            .write_zip(&zip)
            .unwrap();
            zip
        };
        let done = |job| async move {
            import_jobs(store, user)
                .await
                .iter()
                .any(|j| j.id == job && j.status == "succeeded")
        };
        let first = queue(store, user, &export("first.zip", 1)).await;
        // Cycles an hour apart: only being told of new work can start the second job soon.
        let collector = Collector::new(
            store.clone(),
            None,
            CollectorConfig::with_interval(std::time::Duration::from_secs(3600)),
        );
        let running = tokio::spawn({
            let collector = collector.clone();
            async move { collector.run(std::future::pending()).await }
        });
        let within =
            |seconds| tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
        let deadline = within(60);
        while !done(first.0).await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the first cycle ran the first job"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // The first cycle is over well before this.
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let second = queue(store, user, &export("second.zip", 2)).await;
        let deadline = within(60);
        while !done(second.0).await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "an import queued between cycles waited for the next one"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        collector.stop();
        running.await.unwrap();
    }
);

store_test!(
    an_export_overlapping_polled_plays_is_merged_not_double_counted,
    |db| {
        let h = Harness::new(db).await;
        let (ann, user) = h.listener("ann").await;
        h.listen(&ann, 2, 0, 5);
        let collector = h.collector(|_| {});
        cycle(&collector).await;
        let played = h.played(&ann);
        assert_eq!(h.stored(user).await, played);

        // Her extended history of the same plays arrives later: `ts` a second off, as exports
        // and the API disagree slightly.
        let records: Vec<serde_json::Value> = h
            .spotify
            .plays(&ann)
            .iter()
            .map(|p| {
                let ts = jiff::Timestamp::from_second(p.played_at.as_second() + 1).unwrap();
                let album = h
                    .spotify
                    .catalogue()
                    .albums
                    .iter()
                    .find(|a| a.id == p.track.album_id)
                    .unwrap();
                let artist = h
                    .spotify
                    .catalogue()
                    .artists
                    .iter()
                    .find(|a| a.id == p.track.artist_ids[0])
                    .unwrap();
                serde_json::json!({
                    "ts": ts.to_string(),
                    "platform": "android",
                    "ms_played": 123_456,
                    "conn_country": "DE",
                    "master_metadata_track_name": p.track.name,
                    "master_metadata_album_artist_name": artist.name,
                    "master_metadata_album_album_name": album.name,
                    "spotify_track_uri": p.track.uri(),
                    "reason_start": "trackdone",
                    "reason_end": "trackdone",
                    "shuffle": false,
                    "skipped": false,
                    "offline": false,
                    "incognito_mode": false
                })
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("Streaming_History_Audio_2026.json");
        std::fs::write(&file, serde_json::to_vec(&records).unwrap()).unwrap();
        queue(h.store(), user, &file).await;

        let report = cycle(&collector).await;
        let import = &report.imports[0];
        assert!(import.succeeded(), "{import:?}");
        assert_eq!(
            import.inserted, 0,
            "every exported listen was already polled"
        );
        let job = &import_jobs(h.store(), user).await[0];
        assert_eq!(job.merged as usize, played.len());

        let listens = h.store().stored_listens(user).await.unwrap();
        assert_eq!(listens.len(), played.len(), "one listen each, not two");
        assert!(
            listens
                .iter()
                .all(|l| l.ms_played == Some(123_456) && !l.ms_played_estimated)
        );
        let export_and_api = spotify_history_core::Source::ExtendedExport.bit()
            | spotify_history_core::Source::InitialSync.bit();
        // (A poll's overlap may have confirmed the newest ones once more.)
        assert!(
            listens
                .iter()
                .all(|l| l.sources & export_and_api == export_and_api),
            "{listens:?}"
        );

        // Polling afterwards still finds nothing new to double count.
        h.listen(&ann, 0, 1, 10);
        h.advance_hours(1);
        let polled = cycle(&collector).await;
        assert_eq!(outcome_of(&polled, JobKind::Poll, user).inserted, 6);
        assert_eq!(
            h.store().listen_totals(user).await.unwrap().listens as usize,
            played.len() + 6
        );
    }
);

store_test!(
    a_cycle_builds_indexes_an_import_left_dropped_once_its_lease_has_run_out,
    |db| {
        let store = &db.store;
        let migrated = db.indexes_left_dropped_by_a_dead_import().await;
        let collector = import_only_collector(store);

        // While the lease runs, the import may still be at work: the cycle leaves them.
        collector.run_once().await.unwrap();
        assert_ne!(store.index_definitions().await.unwrap(), migrated);
        db.end_index_lease().await;
        collector.run_once().await.unwrap();
        assert_eq!(store.index_definitions().await.unwrap(), migrated);
    }
);
