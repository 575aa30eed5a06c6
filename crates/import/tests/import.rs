//! Importing generated exports into real databases (SQLite always, PostgreSQL with
//! TEST_DATABASE_URL), checked against the generator's ground truth.

use spotify_history_core::UserId;
use spotify_history_import::synthetic::{GroundTruth, SyntheticConfig, SyntheticExport};
use spotify_history_import::{
    FileStatus, ImportError, ImportOptions, ImportProgress, ImportReport, ImportSource, Limits,
    import,
};
use spotify_history_store::Store;
use spotify_history_testkit::store_test;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A generated export written as a ZIP in its own temporary folder.
struct Export {
    dir: tempfile::TempDir,
    zip: PathBuf,
    truth: GroundTruth,
}

fn export(config: SyntheticConfig) -> Export {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("my_spotify_data.zip");
    let generated = SyntheticExport::generate(config);
    generated.write_zip(&zip).unwrap();
    Export {
        truth: generated.ground_truth().clone(),
        dir,
        zip,
    }
}

fn small(plays: u64, account_data: bool) -> SyntheticConfig {
    SyntheticConfig {
        plays,
        seed: 11,
        records_per_file: 1_500,
        account_data,
        account_only_listens: if account_data { 25 } else { 0 },
        ..SyntheticConfig::default()
    }
}

async fn run(store: &Store, user: UserId, paths: &[PathBuf], recheck: bool) -> ImportReport {
    let source = ImportSource::open(paths, Limits::default()).expect("open the export");
    let options = ImportOptions {
        recheck,
        ..ImportOptions::new(user)
    };
    import(store, source, options, |_| {})
        .await
        .expect("import")
}

fn skipped_total(truth: &GroundTruth) -> u64 {
    truth.skipped.total()
}

store_test!(
    an_extended_export_imports_with_the_generators_counts,
    |db| {
        let export = export(small(5_000, false));
        let truth = &export.truth;
        let user = db.store.create_user("ann", None).await.unwrap().id;
        let indexes = db.store.index_definitions().await.unwrap();
        let report = run(&db.store, user, std::slice::from_ref(&export.zip), false).await;
        // Into an empty table the deferred indexes are built at the end: all back as they were.
        assert_eq!(db.store.index_definitions().await.unwrap(), indexes);

        assert_eq!(report.records_read, truth.extended_records);
        assert_eq!(report.inserted, truth.listens);
        assert_eq!((report.duplicates, report.merged), (0, 0));
        assert_eq!(report.skipped, skipped_total(truth));
        for (reason, count) in truth.skipped.iter() {
            assert_eq!(
                report
                    .skipped_by_reason
                    .get(reason.as_str())
                    .copied()
                    .unwrap_or(0),
                count,
                "skipped for {}",
                reason.as_str()
            );
        }
        assert_eq!(report.unknown_files.len(), truth.unknown_files.len());
        assert!(
            report
                .files
                .iter()
                .all(|f| f.status == FileStatus::Imported)
        );
        assert_eq!(report.files.len(), truth.files.len());

        let totals = db.store.listen_totals(user).await.unwrap();
        assert_eq!(totals.listens as u64, truth.listens);
        assert_eq!(totals.distinct_tracks as u64, truth.distinct_tracks);
        assert_eq!(totals.distinct_artists as u64, truth.distinct_artists);
        assert_eq!(totals.distinct_albums as u64, truth.distinct_albums);
        assert_eq!(totals.distinct_episodes as u64, truth.distinct_episodes);
        assert_eq!(totals.distinct_shows as u64, truth.distinct_shows);
        assert_eq!(totals.distinct_chapters as u64, truth.distinct_chapters);
        assert_eq!(totals.episode_listens as u64, truth.episode_listens);
        assert_eq!(totals.chapter_listens as u64, truth.chapter_listens);
        assert_eq!(totals.total_ms_played, truth.total_ms_played);
    }
);

store_test!(
    extended_and_account_data_of_the_same_year_are_not_double_counted,
    |db| {
        let export = export(small(5_000, true));
        let truth = &export.truth;
        assert!(
            truth.account_matched > 100,
            "the generator must overlap the two exports"
        );
        let user = db.store.create_user("ann", None).await.unwrap().id;
        let report = run(&db.store, user, std::slice::from_ref(&export.zip), false).await;

        assert_eq!(
            report.records_read,
            truth.extended_records + truth.account_rows
        );
        assert_eq!(report.merged, truth.account_matched);
        assert_eq!(report.inserted, truth.listens + truth.account_only_listens);
        let totals = db.store.listen_totals(user).await.unwrap();
        assert_eq!(totals.listens as u64, truth.listens_after_merge());
        assert_eq!(
            totals.distinct_tracks as u64,
            truth.distinct_tracks_after_merge()
        );
        assert_eq!(totals.multi_source_listens as u64, truth.account_matched);
        // The richer extended rows keep their exact durations.
        assert_eq!(
            totals.total_ms_played,
            truth.total_ms_played + account_only_ms(&db.store, user).await
        );
    }
);

/// Milliseconds of the listens only the account data has (stored from it alone).
async fn account_only_ms(store: &Store, user: UserId) -> i64 {
    store
        .stored_listens(user)
        .await
        .unwrap()
        .iter()
        .filter(|l| l.sources == spotify_history_core::Source::AccountData.bit())
        .filter_map(|l| l.ms_played)
        .sum()
}

store_test!(account_data_first_then_extended_history_merges_too, |db| {
    let export = export(small(3_000, true));
    let truth = &export.truth;
    let user = db.store.create_user("ann", None).await.unwrap().id;
    let root = export.dir.path().join("unzipped");
    SyntheticExport::generate(small(3_000, true))
        .write_dir(&root)
        .unwrap();
    // Account data alone first ...
    let account = run(&db.store, user, &[root.join("Spotify Account Data")], false).await;
    assert_eq!(account.inserted, truth.account_rows);
    // ... then the extended history: every account listen is upgraded, none doubled.
    let extended = run(
        &db.store,
        user,
        &[root.join("Spotify Extended Streaming History")],
        false,
    )
    .await;
    assert_eq!(extended.merged, truth.account_matched);
    let totals = db.store.listen_totals(user).await.unwrap();
    assert_eq!(totals.listens as u64, truth.listens_after_merge());
    assert_eq!(
        totals.distinct_tracks as u64,
        truth.distinct_tracks_after_merge()
    );
});

store_test!(the_same_export_given_twice_is_imported_once, |db| {
    let export = export(small(3_000, true));
    let copy = export.dir.path().join("copy.zip");
    std::fs::copy(&export.zip, &copy).unwrap();
    let paths = [export.zip.clone(), copy];
    // Whether the copy's files share a transaction with the originals or not.
    for records_per_commit in [ImportOptions::DEFAULT_RECORDS_PER_COMMIT, 1] {
        let user = db
            .store
            .create_user(&format!("ann{records_per_commit}"), None)
            .await
            .unwrap()
            .id;
        let source = ImportSource::open(&paths, Limits::default()).unwrap();
        let options = ImportOptions {
            records_per_commit,
            ..ImportOptions::new(user)
        };
        let report = import(&db.store, source, options, |_| {}).await.unwrap();
        // Each file name twice: read once, then reported as imported with the same records.
        assert_eq!(report.files.len(), 2 * export.truth.files.len());
        for copy in report.files.iter().skip(1) {
            let original = report.files.iter().find(|f| f.name == copy.name).unwrap();
            if !std::ptr::eq(original, copy) {
                assert_eq!(original.status, FileStatus::Imported, "{original:?}");
                assert_eq!(copy.status, FileStatus::AlreadyImported, "{copy:?}");
                assert_eq!(copy.records, original.records);
            }
        }
        assert_eq!(
            report.records_read,
            export.truth.extended_records + export.truth.account_rows
        );
        assert_eq!(report.duplicates, 0);
    }
});

store_test!(re_importing_is_a_no_op, |db| {
    let export = export(small(3_000, true));
    let user = db.store.create_user("ann", None).await.unwrap().id;
    let zip = std::slice::from_ref(&export.zip);
    let first = run(&db.store, user, zip, false).await;
    let before = db.store.stored_listens(user).await.unwrap();

    let source = ImportSource::open(zip, Limits::default()).unwrap();
    let total_bytes = source.total_bytes();
    let mut last = ImportProgress::default();
    let options = ImportOptions::new(user);
    let again = import(&db.store, source, options, |p| last = p.clone())
        .await
        .unwrap();
    // Nothing was read, and the progress says the import is done.
    assert_eq!(last.bytes_read, total_bytes);
    assert!(
        again
            .files
            .iter()
            .all(|f| f.status == FileStatus::AlreadyImported)
    );
    assert_eq!((again.records_read, again.inserted), (0, 0));

    let rechecked = run(&db.store, user, zip, true).await;
    assert_eq!((rechecked.inserted, rechecked.merged), (0, 0));
    assert_eq!(rechecked.duplicates, first.inserted + first.merged);
    assert_eq!(db.store.stored_listens(user).await.unwrap(), before);
});

store_test!(a_broken_file_is_refused_whole_and_the_rest_imported, |db| {
    let export = export(small(2_000, false));
    let truncated = export
        .dir
        .path()
        .join("Streaming_History_Audio_2099_9.json");
    let good = r#"{"ts":"2020-01-01T10:00:00Z","ms_played":200000,"spotify_track_uri":"spotify:track:abc","master_metadata_track_name":"A","master_metadata_album_artist_name":"B"}"#;
    std::fs::write(&truncated, format!("[{good},{good}").as_bytes()).unwrap();
    let not_json = export.dir.path().join("StreamingHistory_music_7.json");
    std::fs::write(&not_json, b"<html>502 Bad Gateway</html>").unwrap();
    // The good files imported alone.
    let alone = db.store.create_user("bob", None).await.unwrap().id;
    run(&db.store, alone, std::slice::from_ref(&export.zip), false).await;
    let good_history = db.store.stored_listens(alone).await.unwrap();

    // All files in one transaction, then one transaction per file (the broken ones come
    // after committed ones): each broken file undoes its transaction, which is done again
    // without that file.
    for (name, records_per_commit) in [
        ("ann", ImportOptions::DEFAULT_RECORDS_PER_COMMIT),
        ("cy", 1),
    ] {
        let user = db.store.create_user(name, None).await.unwrap().id;
        let source = ImportSource::open(
            &[export.zip.clone(), truncated.clone(), not_json.clone()],
            Limits::default(),
        )
        .unwrap();
        let total_bytes = source.total_bytes();
        let mut last = ImportProgress::default();
        let mut bytes_went_back = false;
        let options = ImportOptions {
            records_per_commit,
            ..ImportOptions::new(user)
        };
        let report = import(&db.store, source, options, |p| {
            bytes_went_back |= p.bytes_read < last.bytes_read;
            last = p.clone();
        })
        .await
        .unwrap();
        let statuses: Vec<_> = report.files.iter().map(|f| &f.status).collect();
        let (good, broken) = statuses.split_at(statuses.len() - 2);
        assert!(
            good.iter().all(|s| **s == FileStatus::Imported),
            "{statuses:?}"
        );
        assert!(
            broken
                .iter()
                .all(|s| matches!(s, FileStatus::Failed { .. }))
        );
        // Files read again are counted once, in the report and in the progress; a progress
        // bar never goes back and ends full, the failed files' bytes included.
        assert!(!bytes_went_back);
        assert_eq!(last.bytes_read, total_bytes);
        assert_eq!(report.records_read, 2_000);
        assert_eq!(
            (last.records_read, last.inserted, last.files_done),
            (report.records_read, report.inserted, statuses.len())
        );
        let failed: Vec<_> = report.failed_files().collect();
        assert_eq!(failed.len(), 2, "{failed:#?}");
        for file in &failed {
            let FileStatus::Failed { error } = &file.status else {
                unreachable!()
            };
            assert!(
                error.contains("nothing from this file was stored"),
                "{error}"
            );
        }
        assert_eq!(report.inserted, export.truth.listens);
        // Nothing of the truncated file (whose first records were fine) was kept, and the
        // redone transactions left the same history as the good files imported alone: no
        // play points at a catalogue row of an undone attempt.
        assert_eq!(db.store.stored_listens(user).await.unwrap(), good_history);
    }
});

store_test!(
    records_read_again_count_once_against_the_record_limit,
    |db| {
        let export = export(small(2_000, false));
        let record = |minute: u32| {
            format!(
                r#"{{"ts":"2099-01-01T10:{minute:02}:00Z","ms_played":200000,"spotify_track_uri":"spotify:track:x{minute}","master_metadata_track_name":"X","master_metadata_album_artist_name":"Y"}}"#
            )
        };
        let truncated = export
            .dir
            .path()
            .join("Streaming_History_Audio_2099_8.json");
        std::fs::write(&truncated, format!("[{},{}", record(1), record(2))).unwrap();
        let after = export
            .dir
            .path()
            .join("Streaming_History_Audio_2099_9.json");
        let after_records = [record(3), record(4), record(5)];
        std::fs::write(&after, format!("[{}]", after_records.join(","))).unwrap();
        // Read in this order: the export's files, the truncated one (two records, then its
        // transaction is undone), one more good file.
        let paths = [export.zip.clone(), truncated, after];
        let total = export.truth.extended_records + after_records.len() as u64;
        // In one transaction (read again from the start without the truncated file), and in one
        // per file (read again from the end of the last committed one).
        for records_per_commit in [ImportOptions::DEFAULT_RECORDS_PER_COMMIT, 1] {
            for (max_records, fits) in [(total, true), (total - 1, false)] {
                let name = format!("u{records_per_commit}_{max_records}");
                let user = db.store.create_user(&name, None).await.unwrap().id;
                let limits = Limits::from_settings(500, max_records);
                let source = ImportSource::open(&paths, limits).unwrap();
                let options = ImportOptions {
                    records_per_commit,
                    ..ImportOptions::new(user)
                };
                let imported = import(&db.store, source, options, |_| {}).await;
                match imported {
                    Ok(report) if fits => {
                        assert_eq!(report.records_read, total);
                        assert_eq!(report.failed_files().count(), 1);
                    }
                    Err(ImportError::TooManyRecords { limit }) if !fits => {
                        assert_eq!(limit, max_records);
                    }
                    other => panic!("{records_per_commit}/{max_records}: {other:?}"),
                }
            }
        }
    }
);

store_test!(two_imports_of_one_export_at_once_store_it_once, |db| {
    let export = export(small(6_000, true));
    let zip = std::slice::from_ref(&export.zip);
    let user = db.store.create_user("ann", None).await.unwrap().id;
    // A transaction per file, so the two take turns: each finds files the other imported
    // since it planned (and perhaps began reading) them.
    let options = ImportOptions {
        records_per_commit: 1,
        ..ImportOptions::new(user)
    };
    let start = || {
        import(
            &db.store,
            ImportSource::open(zip, Limits::default()).unwrap(),
            options,
            |_| {},
        )
    };
    let (first, second) = tokio::join!(start(), start());
    let (first, second) = (first.unwrap(), second.unwrap());
    // Each file was imported by exactly one of them, and reported as imported before by the
    // other; together they read every record once.
    for (a, b) in first.files.iter().zip(&second.files) {
        let statuses = [&a.status, &b.status];
        assert!(
            statuses.contains(&&FileStatus::Imported)
                && statuses.contains(&&FileStatus::AlreadyImported),
            "{a:?} {b:?}"
        );
    }
    assert_eq!(first.duplicates + second.duplicates, 0);
    assert_eq!(
        first.inserted + second.inserted,
        export.truth.listens_after_merge()
    );
    assert_eq!(first.merged + second.merged, export.truth.account_matched);
    assert_eq!(
        first.records_read + second.records_read,
        export.truth.extended_records + export.truth.account_rows
    );
    // The same history as one import alone.
    let alone = db.store.create_user("bob", None).await.unwrap().id;
    run(&db.store, alone, zip, false).await;
    assert_eq!(
        db.store.stored_listens(user).await.unwrap(),
        db.store.stored_listens(alone).await.unwrap()
    );
});

store_test!(any_records_per_commit_imports_the_same_history, |db| {
    let export = export(small(3_000, true));
    let zip = std::slice::from_ref(&export.zip);
    let mut histories = Vec::new();
    // 0 is taken as one file per transaction.
    for (name, records_per_commit) in [("ann", 0), ("bob", 2_000), ("cy", u64::MAX)] {
        let user = db.store.create_user(name, None).await.unwrap().id;
        let source = ImportSource::open(zip, Limits::default()).unwrap();
        let options = ImportOptions {
            records_per_commit,
            ..ImportOptions::new(user)
        };
        import(&db.store, source, options, |_| {}).await.unwrap();
        histories.push(db.store.stored_listens(user).await.unwrap());
    }
    assert_eq!(
        histories[0].len() as u64,
        export.truth.listens_after_merge()
    );
    assert!(histories.windows(2).all(|pair| pair[0] == pair[1]));
});

store_test!(an_import_killed_midway_resumes_to_the_same_database, |db| {
    let export = export(small(6_000, true));
    let zip = std::slice::from_ref(&export.zip);
    let user = db.store.create_user("ann", None).await.unwrap().id;

    // Stop the import while it is inside its third file, as a kill would.
    let source = ImportSource::open(zip, Limits::default()).unwrap();
    // A commit after every file, so that the first two are stored when it stops.
    let options = ImportOptions {
        records_per_commit: 1,
        ..ImportOptions::new(user)
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut stop_tx = Some(stop_tx);
    let interrupted = import(&db.store, source, options, move |progress| {
        if progress.files_done == 2
            && progress.records_read > 0
            && let Some(tx) = stop_tx.take()
        {
            let _ = tx.send(());
        }
    });
    tokio::select! {
        _ = interrupted => panic!("the import finished before it was stopped"),
        _ = stop_rx => {}
    }
    let partial = db.store.listen_totals(user).await.unwrap().listens as u64;
    assert!(
        partial > 0 && partial < export.truth.listens_after_merge(),
        "partial: {partial}"
    );

    let resumed = run(&db.store, user, zip, false).await;
    assert_eq!(
        resumed
            .files
            .iter()
            .filter(|f| f.status == FileStatus::AlreadyImported)
            .count(),
        2
    );

    // The same export imported without interruption into a second user's history.
    let other = db.store.create_user("bob", None).await.unwrap().id;
    run(&db.store, other, zip, false).await;
    assert_eq!(
        db.store.stored_listens(user).await.unwrap(),
        db.store.stored_listens(other).await.unwrap()
    );
});

#[tokio::test]
async fn bad_inputs_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("export.zip");
    std::fs::write(&corrupt, b"PK\x03\x04 this is not really a zip").unwrap();
    let err = ImportSource::open(&[corrupt], Limits::default()).unwrap_err();
    assert!(matches!(err, ImportError::NotAZip { .. }), "{err}");
    assert!(err.to_string().contains("not a readable ZIP"), "{err}");

    let missing =
        ImportSource::open(&[dir.path().join("nope.zip")], Limits::default()).unwrap_err();
    assert!(missing.to_string().contains("nope.zip"), "{missing}");

    let big = dir.path().join("big.zip");
    // Incompressible content, so the ZIP itself is over the 1 MB limit.
    let mut state: u32 = 1;
    let noise: Vec<u8> = (0..3 << 20)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect();
    write_zip(&big, &[("Streaming_History_Audio_2020.json", &noise)]);
    let limits = Limits::from_settings(1, 100);
    let err = ImportSource::open(&[big], limits).unwrap_err();
    assert!(err.to_string().contains("IMPORT_MAX_ZIP_SIZE_MB"), "{err}");
}

#[tokio::test]
async fn the_record_limit_stops_the_import_with_a_clear_error() {
    let db = spotify_history_testkit::TestDb::sqlite().await;
    let export = export(small(2_000, false));
    let user = db.store.create_user("ann", None).await.unwrap().id;
    let indexes = db.store.index_definitions().await.unwrap();
    let source = ImportSource::open(
        std::slice::from_ref(&export.zip),
        Limits::from_settings(500, 1_700),
    )
    .unwrap();
    let err = import(&db.store, source, ImportOptions::new(user), |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("IMPORT_MAX_RECORDS"), "{err}");
    // Stopped or not, the import builds the indexes it deferred before it returns.
    assert_eq!(db.store.index_definitions().await.unwrap(), indexes);
    // Whole files only: the first file (1,500 records) is kept, the second, which crossed the
    // limit in the same transaction, is not; the first was read twice but counted once.
    let stored = db.store.listen_totals(user).await.unwrap().listens;
    assert!(stored > 1_000 && stored <= 1_500, "{stored}");
}

fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    for (name, content) in entries {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap();
}

store_test!(
    unsafe_and_malformed_inputs_are_refused_or_skipped_and_nothing_else_changes,
    |db| {
        let user = db.store.create_user("ann", None).await.unwrap().id;
        // Something already stored must survive whatever comes next.
        let export = export(small(1_000, false));
        run(&db.store, user, std::slice::from_ref(&export.zip), false).await;
        let before = db.store.stored_listens(user).await.unwrap();

        let good = |track: &str| {
            format!(
                r#"{{"ts":"2021-05-01T10:00:00Z","ms_played":200000,"spotify_track_uri":"spotify:track:{track}","master_metadata_track_name":"T","master_metadata_album_artist_name":"A"}}"#
            )
        };
        let shapes = format!(
            "[{}, 42, \"text\", {{\"ts\": 5}}, {{\"ts\": \"yesterday\", \"ms_played\": 1000, \"spotify_track_uri\": \"spotify:track:when\"}}, {{\"ts\":\"2021-05-01T10:00:00Z\",\"ms_played\":-5,\"spotify_track_uri\":\"spotify:track:neg\"}}, {{\"ts\":\"1990-01-01T00:00:00Z\",\"ms_played\":1000,\"spotify_track_uri\":\"spotify:track:old\"}}, {{\"ts\":\"2021-05-01T10:00:00Z\",\"ms_played\":0,\"spotify_track_uri\":\"spotify:track:zero\"}}, {{\"ts\":\"2021-05-01T10:00:00Z\",\"ms_played\":1000}}]",
            good("kept")
        );
        let zip = export.dir.path().join("hostile.zip");
        write_zip(
            &zip,
            &[
                (
                    "../../etc/Streaming_History_Audio_2020_0.json",
                    good("traversal").as_bytes(),
                ),
                (
                    "/abs/Streaming_History_Audio_2020_1.json",
                    good("absolute").as_bytes(),
                ),
                (
                    "Spotify Extended Streaming History/Streaming_History_Audio_2021_2.json",
                    &vec![b' '; 8 << 20],
                ),
                (
                    "Spotify Extended Streaming History/Streaming_History_Audio_2021_3.json",
                    shapes.as_bytes(),
                ),
                (
                    "Spotify Extended Streaming History/Streaming_History_Audio_2021_4.json",
                    br#"{"not": "an array"}"#,
                ),
            ],
        );
        let report = run(&db.store, user, &[zip], false).await;

        let refused: Vec<_> = report
            .refused_files
            .iter()
            .map(|r| (r.name.as_str(), r.reason.as_str()))
            .collect();
        assert_eq!(refused.len(), 3, "{refused:#?}");
        assert!(
            refused.iter().any(|(name, _)| name.contains("etc")),
            "{refused:#?}"
        );
        assert!(
            refused
                .iter()
                .any(|(_, reason)| reason.contains("ZIP bomb")),
            "{refused:#?}"
        );
        let failed: Vec<_> = report.failed_files().map(|f| f.name.as_str()).collect();
        assert_eq!(
            failed,
            ["Spotify Extended Streaming History/Streaming_History_Audio_2021_4.json"]
        );
        assert_eq!(
            report.inserted, 1,
            "only the one good record of the mixed file"
        );
        for reason in [
            "malformed_record",
            "malformed_timestamp",
            "absurd_value",
            "zero_ms_played",
            "no_uri_and_no_names",
        ] {
            assert!(
                report.skipped_by_reason.get(reason).copied().unwrap_or(0) >= 1,
                "{reason}: {:?}",
                report.skipped_by_reason
            );
        }

        let after = db.store.stored_listens(user).await.unwrap();
        assert_eq!(after.len(), before.len() + 1);
        assert!(
            before.iter().all(|l| after.contains(l)),
            "stored listens changed"
        );
        assert!(after.iter().any(|l| l.track_key == "spotify:track:kept"));
        assert!(!after.iter().any(|l| {
            ["spotify:track:traversal", "spotify:track:absolute"].contains(&l.track_key.as_str())
        }));
    }
);

store_test!(
    nul_characters_in_texts_are_stored_as_replacement_characters_on_both_engines,
    |db| {
        let user = db.store.create_user("ann", None).await.unwrap().id;
        // JSON may spell a NUL character; PostgreSQL refuses texts holding one.
        let record = |minute: u32, uri: &str| {
            format!(
                r#"{{"ts":"2021-05-01T10:{minute:02}:00Z","platform":"and\u0000roid","ms_played":200000,"conn_country":"SE","spotify_track_uri":{uri},"master_metadata_track_name":"Nul\u0000Song","master_metadata_album_artist_name":"\u0000Artist","master_metadata_album_album_name":"Album\u0000","reason_start":"trackdone","reason_end":"trackdone"}}"#
            )
        };
        // One listen keyed by its URI, one by its names (no URI).
        let json = format!(
            "[{}, {}]",
            record(0, r#""spotify:track:nul""#),
            record(5, "null")
        );
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("my_spotify_data.zip");
        write_zip(
            &zip,
            &[(
                "Spotify Extended Streaming History/Streaming_History_Audio_2021.json",
                json.as_bytes(),
            )],
        );
        let report = run(&db.store, user, std::slice::from_ref(&zip), false).await;
        assert_eq!((report.inserted, report.skipped), (2, 0), "{report:?}");

        let stored = db.store.stored_listens(user).await.unwrap();
        assert_eq!(stored.len(), 2);
        for listen in &stored {
            assert_eq!(listen.track_name, "Nul\u{FFFD}Song");
            assert_eq!(listen.artist_names.as_deref(), Some("\u{FFFD}Artist"));
            assert_eq!(listen.album_name.as_deref(), Some("Album\u{FFFD}"));
            assert_eq!(listen.platform.as_deref(), Some("and\u{FFFD}roid"));
        }
        // Imported again: the same listens, recognised as duplicates.
        let again = run(&db.store, user, std::slice::from_ref(&zip), true).await;
        assert_eq!((again.inserted, again.duplicates), (0, 2), "{again:?}");
    }
);
