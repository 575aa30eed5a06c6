//! Writing listens: identity within a source, merging across sources, checkpoints.

use spotify_history_core::{
    AlbumRef, ArtistRef, EndedAt, ItemKind, ItemRef, ListenKeys, NewListen, PlayDetails, Source,
    UserId,
};
use spotify_history_store::{
    CatalogCache, FileCheckpoint, FileProgress, KeyedListen, ListenBatch, Store, WriteOutcome,
};
use spotify_history_testkit::store_test;

pub(crate) const T0: i64 = 1_700_000_000_000; // 2023-11-14T22:13:20Z

/// A listen of `artist – name` ending at `ended_at`, as `source` would report it.
pub(crate) fn listen(
    source: Source,
    ended_at: i64,
    artist: &str,
    name: &str,
    ms: Option<i64>,
) -> KeyedListen {
    let by_name = source == Source::AccountData;
    let uri = (!by_name).then(|| format!("spotify:track:{}", name.replace(' ', "")));
    let track_key = uri
        .clone()
        .unwrap_or_else(|| format!("local:{artist}|{name}"));
    KeyedListen {
        listen: NewListen {
            ended_at: EndedAt(ended_at),
            item: ItemRef {
                kind: ItemKind::Track,
                uri,
                name: name.into(),
                artists: vec![ArtistRef {
                    uri: None,
                    name: artist.into(),
                }],
                album: Some(AlbumRef {
                    uri: None,
                    name: format!("{artist} album"),
                }),
                duration_ms: None,
                isrc: None,
            },
            ms_played: ms,
            ms_played_estimated: false,
            source,
            details: PlayDetails {
                platform: (source == Source::ExtendedExport).then(|| "android".into()),
                ..PlayDetails::default()
            },
        },
        keys: std::sync::Arc::new(ListenKeys {
            track: track_key,
            album: Some(format!("local:album:{artist}")),
            artists: vec![format!("local:artist:{artist}")],
            match_key: match_key(artist, name),
        }),
    }
}

fn match_key(artist: &str, name: &str) -> i64 {
    // FNV-1a: any stable hash of the normalised names will do for the store.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("{}|{}", artist.to_lowercase(), name.to_lowercase()).bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

/// The start of the minute, as account data reports end times.
fn minute(ms: i64) -> i64 {
    ms - ms.rem_euclid(60_000)
}

/// `listens` of `user` as one batch, outside any import.
fn batch(user: UserId, listens: &[KeyedListen]) -> ListenBatch<'_> {
    ListenBatch {
        user,
        import_job: None,
        listens,
        checkpoint: None,
    }
}

pub(crate) async fn write(store: &Store, user: UserId, listens: &[KeyedListen]) -> WriteOutcome {
    store
        .write_listens(batch(user, listens), &mut CatalogCache::default())
        .await
        .expect("write listens")
}

fn outcome(inserted: u64, duplicates: u64, merged: u64) -> WriteOutcome {
    WriteOutcome {
        inserted,
        duplicates,
        merged,
    }
}

store_test!(rewriting_the_same_listens_is_a_no_op, |db| {
    let user = db.store.create_user("ann", None).await.unwrap().id;
    let batch = vec![
        listen(Source::ExtendedExport, T0, "Björk", "Joga", Some(200_000)),
        listen(
            Source::ExtendedExport,
            T0,
            "Sigur Rós",
            "Hoppípolla",
            Some(10_000),
        ),
        listen(
            Source::ExtendedExport,
            T0 + 300_000,
            "Björk",
            "Joga",
            Some(190_000),
        ),
    ];
    assert_eq!(write(&db.store, user, &batch).await, outcome(3, 0, 0));
    let before = db.store.listen_totals(user).await.unwrap();
    assert_eq!(write(&db.store, user, &batch).await, outcome(0, 3, 0));
    assert_eq!(db.store.listen_totals(user).await.unwrap(), before);
    assert_eq!(before.listens, 3);
    assert_eq!(before.distinct_tracks, 2);
    assert_eq!(before.distinct_artists, 2);
    assert_eq!(before.total_ms_played, 400_000);
});

store_test!(a_listen_repeated_inside_one_batch_is_stored_once, |db| {
    let user = db.store.create_user("ann", None).await.unwrap().id;
    let one = listen(Source::ExtendedExport, T0, "Björk", "Joga", Some(200_000));
    assert_eq!(
        write(&db.store, user, &[one.clone(), one]).await,
        outcome(1, 1, 0)
    );
});

store_test!(api_plays_merge_with_exported_listens_either_way, |db| {
    let store = &db.store;
    let user = store.create_user("ann", None).await.unwrap().id;
    // Export first, then the API reports the same listen 4 s later: merged.
    write(
        store,
        user,
        &[listen(
            Source::ExtendedExport,
            T0,
            "Björk",
            "Joga",
            Some(200_000),
        )],
    )
    .await;
    let api = listen(Source::RecentlyPlayed, T0 + 4_000, "Björk", "Joga", None);
    assert_eq!(
        write(store, user, std::slice::from_ref(&api)).await,
        outcome(0, 0, 1)
    );
    assert_eq!(write(store, user, &[api]).await, outcome(0, 1, 0));

    // API first, then the export: merged, and the export's exact duration wins.
    let later = T0 + 3_600_000;
    write(
        store,
        user,
        &[listen(Source::RecentlyPlayed, later, "Björk", "Joga", None)],
    )
    .await;
    let exported = listen(
        Source::ExtendedExport,
        later - 3_000,
        "Björk",
        "Joga",
        Some(123_000),
    );
    assert_eq!(write(store, user, &[exported]).await, outcome(0, 0, 1));

    let totals = store.listen_totals(user).await.unwrap();
    assert_eq!(totals.listens, 2);
    assert_eq!(totals.multi_source_listens, 2);
    assert_eq!(totals.total_ms_played, 323_000);
});

store_test!(account_data_rows_merge_by_name_and_minute, |db| {
    let store = &db.store;
    let user = store.create_user("ann", None).await.unwrap().id;
    let t = T0 + 42_000;
    write(
        store,
        user,
        &[listen(
            Source::ExtendedExport,
            t,
            "Beyoncé",
            "Halo",
            Some(200_000),
        )],
    )
    .await;
    let account = listen(
        Source::AccountData,
        minute(t),
        "Beyoncé",
        "Halo",
        Some(200_000),
    );
    assert_eq!(
        write(store, user, std::slice::from_ref(&account)).await,
        outcome(0, 0, 1)
    );
    // Importing the account data again changes nothing.
    assert_eq!(write(store, user, &[account]).await, outcome(0, 1, 0));
    // A different song in that minute is a new listen.
    let other = listen(
        Source::AccountData,
        minute(t),
        "Beyoncé",
        "Formation",
        Some(60_000),
    );
    assert_eq!(write(store, user, &[other]).await, outcome(1, 0, 0));
    assert_eq!(store.listen_totals(user).await.unwrap().listens, 2);
});

store_test!(
    extended_history_upgrades_listens_first_seen_in_account_data,
    |db| {
        let store = &db.store;
        let user = store.create_user("ann", None).await.unwrap().id;
        let t = T0 + 59_000;
        write(
            store,
            user,
            &[listen(
                Source::AccountData,
                minute(t),
                "坂本龍一",
                "Merry Christmas",
                Some(1_000),
            )],
        )
        .await;
        let exported = listen(
            Source::ExtendedExport,
            t,
            "坂本龍一",
            "Merry Christmas",
            Some(250_000),
        );
        assert_eq!(
            write(store, user, std::slice::from_ref(&exported)).await,
            outcome(0, 0, 1)
        );
        // The merged row now carries the exported identity: importing it again is a duplicate.
        assert_eq!(write(store, user, &[exported]).await, outcome(0, 1, 0));
        let totals = store.listen_totals(user).await.unwrap();
        assert_eq!(totals.listens, 1);
        assert_eq!(totals.total_ms_played, 250_000);
    }
);

store_test!(
    a_listen_repeated_after_it_upgraded_a_stored_play_is_a_duplicate,
    |db| {
        let store = &db.store;
        let user = store.create_user("ann", None).await.unwrap().id;
        let t = T0 + 59_000;
        let account = listen(Source::AccountData, minute(t), "Björk", "Joga", Some(1_000));
        write(store, user, &[account]).await;
        // The first exported row moves the stored play to its own time and track; the repeat
        // in the same batch then has an identity that is taken, though no stored play had it
        // when the batch began.
        let exported = listen(Source::ExtendedExport, t, "Björk", "Joga", Some(250_000));
        assert_eq!(
            write(store, user, &[exported.clone(), exported]).await,
            outcome(0, 1, 1)
        );
        assert_eq!(store.listen_totals(user).await.unwrap().listens, 1);
    }
);

store_test!(
    a_repeated_listen_never_moves_a_second_stored_play_onto_its_identity,
    |db| {
        let store = &db.store;
        let user = store.create_user("ann", None).await.unwrap().id;
        let t = T0 - T0.rem_euclid(60_000) + 30_000;
        // The same song in two neighbouring minutes of the account data ...
        let account = [
            listen(Source::AccountData, minute(t), "Björk", "Joga", Some(1_000)),
            listen(
                Source::AccountData,
                minute(t) + 60_000,
                "Björk",
                "Joga",
                Some(1_000),
            ),
        ];
        assert_eq!(write(store, user, &account).await, outcome(2, 0, 0));
        // ... and an export that reports one listen twice: the first upgrades a stored play
        // to its own time; the repeat must not move the other play onto that time too.
        let exported = listen(Source::ExtendedExport, t, "Björk", "Joga", Some(250_000));
        assert_eq!(
            write(store, user, &[exported.clone(), exported]).await,
            outcome(0, 1, 1)
        );
        assert_eq!(store.listen_totals(user).await.unwrap().listens, 2);
    }
);

store_test!(merging_is_one_to_one_and_picks_the_nearest_listen, |db| {
    let store = &db.store;
    let user = store.create_user("ann", None).await.unwrap().id;
    // The same song played twice, 10 s apart, in the export (a skip and a replay).
    write(
        store,
        user,
        &[
            listen(Source::ExtendedExport, T0, "Björk", "Joga", Some(5_000)),
            listen(
                Source::ExtendedExport,
                T0 + 10_000,
                "Björk",
                "Joga",
                Some(200_000),
            ),
        ],
    )
    .await;
    // Two API plays near them: each merges with its nearest, none with both.
    let api = [
        listen(Source::RecentlyPlayed, T0 + 11_000, "Björk", "Joga", None),
        listen(Source::RecentlyPlayed, T0 + 1_000, "Björk", "Joga", None),
    ];
    assert_eq!(write(store, user, &api).await, outcome(0, 0, 2));
    // A third API play of the song, far away in time, is a new listen.
    let far = listen(Source::RecentlyPlayed, T0 + 600_000, "Björk", "Joga", None);
    assert_eq!(write(store, user, &[far]).await, outcome(1, 0, 0));
    assert_eq!(store.listen_totals(user).await.unwrap().listens, 3);
});

store_test!(listens_of_different_users_never_merge, |db| {
    let store = &db.store;
    let ann = store.create_user("ann", None).await.unwrap().id;
    let bob = store.create_user("bob", None).await.unwrap().id;
    let l = listen(Source::ExtendedExport, T0, "Björk", "Joga", Some(200_000));
    assert_eq!(
        write(store, ann, std::slice::from_ref(&l)).await,
        outcome(1, 0, 0)
    );
    assert_eq!(write(store, bob, &[l]).await, outcome(1, 0, 0));
    assert_eq!(store.listen_totals(bob).await.unwrap().distinct_tracks, 1);
});

store_test!(large_batches_are_split_into_statements, |db| {
    let store = &db.store;
    let user = store.create_user("ann", None).await.unwrap().id;
    let listens: Vec<_> = (0..2_500)
        .map(|i| {
            let name = format!("Song {}", i % 1_200);
            listen(
                Source::ExtendedExport,
                T0 + i * 61_000,
                &format!("Artist {}", i % 1_100),
                &name,
                Some(i),
            )
        })
        .collect();
    let mut cache = CatalogCache::default();
    let first = store
        .write_listens(batch(user, &listens), &mut cache)
        .await
        .unwrap();
    assert_eq!(first, outcome(2_500, 0, 0));
    assert_eq!(
        cache.tracks_known(),
        2_500.min(
            listens
                .iter()
                .map(|l| &l.keys.track)
                .collect::<std::collections::HashSet<_>>()
                .len()
        )
    );
    let totals = store.listen_totals(user).await.unwrap();
    assert_eq!(totals.listens, 2_500);
    assert_eq!(totals.total_ms_played, (0..2_500).sum::<i64>());
    // Same listens with a warm cache: all duplicates.
    let again = store
        .write_listens(batch(user, &listens), &mut cache)
        .await
        .unwrap();
    assert_eq!(again, outcome(0, 2_500, 0));
});

store_test!(file_checkpoints_commit_with_their_batch, |db| {
    let store = &db.store;
    let user = store.create_user("ann", None).await.unwrap().id;
    assert_eq!(store.import_progress(user, "file-a").await.unwrap(), None);
    let listens = [listen(Source::ExtendedExport, T0, "Björk", "Joga", Some(1))];
    for (records_done, completed) in [(40, false), (75, true)] {
        store
            .write_listens(
                ListenBatch {
                    user,
                    import_job: None,
                    listens: &listens,
                    checkpoint: Some(FileCheckpoint {
                        fingerprint: "file-a",
                        file_name: "Streaming_History_Audio_2020.json",
                        records_done,
                        completed,
                    }),
                },
                &mut CatalogCache::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            store.import_progress(user, "file-a").await.unwrap(),
            Some(FileProgress {
                records_done,
                completed
            })
        );
    }
    // Checkpoints belong to one user.
    let bob = store.create_user("bob", None).await.unwrap().id;
    assert_eq!(store.import_progress(bob, "file-a").await.unwrap(), None);
});

store_test!(an_uncommitted_writer_leaves_nothing_behind, |db| {
    let store = &db.store;
    let user = store.create_user("ann", None).await.unwrap().id;
    let listens = [
        listen(Source::ExtendedExport, T0, "Björk", "Joga", Some(200_000)),
        listen(
            Source::ExtendedExport,
            T0 + 300_000,
            "Beyoncé",
            "Halo",
            Some(100_000),
        ),
    ];
    let mut cache = CatalogCache::default();
    {
        let mut writer = store.listen_writer(user, None, &mut cache).await.unwrap();
        assert_eq!(writer.write(&listens).await.unwrap(), outcome(2, 0, 0));
        // Dropped without commit: rolled back.
    }
    assert_eq!(store.listen_totals(user).await.unwrap().listens, 0);
    // The cache must not hand out ids of rolled-back catalogue rows.
    let mut writer = store.listen_writer(user, None, &mut cache).await.unwrap();
    assert_eq!(writer.write(&listens).await.unwrap(), outcome(2, 0, 0));
    writer.commit().await.unwrap();
    let totals = store.listen_totals(user).await.unwrap();
    assert_eq!(
        (
            totals.listens,
            totals.distinct_tracks,
            totals.distinct_artists
        ),
        (2, 2, 2)
    );
});

store_test!(
    catalogue_rows_old_and_new_in_one_batch_each_keep_their_own_ids,
    |db| {
        let store = &db.store;
        let user = store.create_user("ann", None).await.unwrap().id;
        let artist_of = |track: usize| match track {
            0..80 => format!("Artist {}", track % 7),
            _ => format!("New artist {}", track % 5),
        };
        let listen_of = |track: usize, ended_at: i64| {
            let (artist, name) = (artist_of(track), format!("Song {track}"));
            listen(
                Source::ExtendedExport,
                ended_at,
                &artist,
                &name,
                Some(60_000),
            )
        };
        // Every other track of the first 80 exists before the batch.
        let earlier: Vec<KeyedListen> = (0..80)
            .step_by(2)
            .map(|track| listen_of(track, T0 + track as i64 * 300_000))
            .collect();
        assert_eq!(write(store, user, &earlier).await, outcome(40, 0, 0));
        // A new import (nothing cached) brings 150 tracks twice: the existing ones fall in the
        // first statement of 128 rows, the last 22 are all new (statements of 8 and of 1 row).
        let later: Vec<KeyedListen> = (0..300)
            .map(|i| listen_of(i % 150, T0 + 1_000_000_000 + i as i64 * 300_000))
            .collect();
        assert_eq!(write(store, user, &later).await, outcome(300, 0, 0));

        let stored = store.stored_listens(user).await.unwrap();
        assert_eq!(stored.len(), 340);
        for play in &stored {
            // The track each play was written with, from its time.
            let track = match play.ended_at - T0 {
                offset if offset < 1_000_000_000 => offset / 300_000,
                offset => (offset - 1_000_000_000) / 300_000 % 150,
            } as usize;
            let artist = artist_of(track);
            assert_eq!(
                (
                    play.track_name.as_str(),
                    play.track_key.as_str(),
                    play.artist_names.as_deref(),
                    play.album_key.as_deref(),
                    play.album_name.as_deref(),
                ),
                (
                    format!("Song {track}").as_str(),
                    format!("spotify:track:Song{track}").as_str(),
                    Some(artist.as_str()),
                    Some(format!("local:album:{artist}").as_str()),
                    Some(format!("{artist} album").as_str()),
                ),
                "play at {}",
                play.ended_at
            );
        }
        let totals = store.listen_totals(user).await.unwrap();
        assert_eq!((totals.distinct_tracks, totals.distinct_artists), (150, 12));
    }
);

store_test!(
    listens_sharing_keys_get_no_track_id_of_a_rolled_back_batch,
    |db| {
        let store = &db.store;
        let user = store.create_user("ann", None).await.unwrap().id;
        // An import shares one `ListenKeys` among every listen of an item.
        let first = listen(Source::ExtendedExport, T0, "Björk", "Joga", Some(200_000));
        let again = |ended_at: i64| KeyedListen {
            listen: NewListen {
                ended_at: EndedAt(ended_at),
                ..first.listen.clone()
            },
            keys: std::sync::Arc::clone(&first.keys),
        };
        let mut cache = CatalogCache::default();
        {
            let mut writer = store.listen_writer(user, None, &mut cache).await.unwrap();
            assert_eq!(
                writer.write(std::slice::from_ref(&first)).await.unwrap(),
                outcome(1, 0, 0)
            );
            // Found by its keys now, with the id of a row that is about to be rolled back.
            let second = again(T0 + 300_000);
            assert_eq!(writer.write(&[second]).await.unwrap(), outcome(1, 0, 0));
        }
        // Another track created first may be given the rolled-back row's id again.
        let other = listen(Source::ExtendedExport, T0, "Sigur Rós", "Hoppípolla", None);
        let mut writer = store.listen_writer(user, None, &mut cache).await.unwrap();
        let third = again(T0 + 600_000);
        assert_eq!(
            writer.write(&[other, third]).await.unwrap(),
            outcome(2, 0, 0)
        );
        writer.commit().await.unwrap();
        let stored = store.stored_listens(user).await.unwrap();
        let plays: Vec<(i64, &str)> = stored
            .iter()
            .map(|play| (play.ended_at, play.track_name.as_str()))
            .collect();
        assert_eq!(plays, [(T0, "Hoppípolla"), (T0 + 600_000, "Joga")]);
    }
);

store_test!(catalogue_tables_have_no_triggers, |db| {
    // SQLite's catalogue inserts take the ids of a statement's new rows to be the consecutive
    // ones ending at its last rowid (`bulk::insert_rows`): a trigger inserting rows into these
    // tables would break that silently.
    let catalogue = ["albums", "artists", "track_artists", "tracks"];
    let triggers = db.store.triggers().await.unwrap();
    let on_catalogue: Vec<&(String, String)> = triggers
        .iter()
        .filter(|(table, _)| catalogue.contains(&table.as_str()))
        .collect();
    assert!(on_catalogue.is_empty(), "{on_catalogue:?}");
    // The list is read for real: the history's triggers on plays are in it.
    assert!(
        triggers.iter().any(|(table, _)| table == "plays"),
        "{triggers:?}"
    );
});

store_test!(
    texts_of_a_play_are_stored_exactly_whatever_their_characters,
    |db| {
        let store = &db.store;
        let user = store.create_user("ann", None).await.unwrap().id;
        // Texts with the characters bulk formats escape (tabs, line breaks, backslashes, `\N`
        // spelled out, which is a text and not NULL) come back exactly.
        let platforms = [
            "tab\there",
            "line\nbreak\r\nand return",
            r"back\slash \N \\ \t",
            r"\N",
            "Sigur Rós – 坂本龍一 🎹",
            "",
        ];
        let listens: Vec<KeyedListen> = platforms
            .iter()
            .enumerate()
            .map(|(i, platform)| {
                let mut keyed = listen(
                    Source::ExtendedExport,
                    T0 + i as i64 * 300_000,
                    "Björk",
                    "Joga",
                    Some(1_000),
                );
                keyed.listen.details = PlayDetails {
                    platform: Some((*platform).into()),
                    conn_country: (i % 2 == 0).then(|| "IS".into()),
                    reason_start: Some("trackdone".into()),
                    reason_end: None,
                    shuffle: Some(i % 2 == 0),
                    skipped: None,
                    offline: Some(true),
                    incognito: Some(false),
                };
                keyed
            })
            .collect();
        assert_eq!(
            write(store, user, &listens).await,
            outcome(platforms.len() as u64, 0, 0)
        );
        let stored = store.stored_listens(user).await.unwrap();
        let got: Vec<_> = stored
            .iter()
            .map(|play| {
                (
                    play.platform.as_deref(),
                    play.conn_country.as_deref(),
                    play.reason_start.as_deref(),
                    play.reason_end.as_deref(),
                    play.shuffle,
                    play.skipped,
                    play.offline,
                    play.incognito,
                    play.ms_played,
                )
            })
            .collect();
        let expected: Vec<_> = platforms
            .iter()
            .enumerate()
            .map(|(i, platform)| {
                (
                    Some(*platform),
                    (i % 2 == 0).then_some("IS"),
                    Some("trackdone"),
                    None,
                    Some(i % 2 == 0),
                    None,
                    Some(true),
                    Some(false),
                    Some(1_000),
                )
            })
            .collect();
        assert_eq!(got, expected);
    }
);

store_test!(
    a_write_cancelled_at_any_point_leaves_every_connection_answering_correctly,
    |db| {
        // The collector drops an import whose lease it lost, whatever the import was sending:
        // the connection must not go back to the pool out of step with the server (a plays
        // `COPY` cancelled while finishing did that with sqlx 0.9, and later questions on the
        // connection got the answers of earlier ones).
        let store = &db.store;
        let user = store.create_user("ann", None).await.unwrap().id;
        let mut broken = Vec::new();
        for round in 0..12_i64 {
            let listens: Vec<KeyedListen> = (0..4_096)
                .map(|i| {
                    let ended_at = T0 + round * 10_000_000 + i * 1_000;
                    listen(
                        Source::ExtendedExport,
                        ended_at,
                        "Björk",
                        "Joga",
                        Some(1_000),
                    )
                })
                .collect();
            let patience = std::time::Duration::from_millis(1 + 2 * round as u64);
            let mut cache = CatalogCache::default();
            let write = store.write_listens(batch(user, &listens), &mut cache);
            let _ = tokio::time::timeout(patience, write).await;
            // The pool tests a connection given back in a task of its own.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            for _ in 0..4 {
                match store.get_user(user).await {
                    Ok(found) if found.id == user => {}
                    other => broken.push(format!("round {round}: {other:?}")),
                }
            }
        }
        assert!(broken.is_empty(), "{broken:#?}");
    }
);
