//! The plays-by-track index, which an import bringing more plays than the table holds drops
//! and builds again at its end.

use crate::listens::{T0, listen, write};
use spotify_history_core::Source;
use spotify_history_store::Store;
use spotify_history_testkit::store_test;

async fn has_plays_track(store: &Store) -> bool {
    let indexes = store.index_definitions().await.unwrap();
    indexes.iter().any(|(name, _)| name == "plays_track")
}

store_test!(
    plays_track_is_built_again_as_the_migrations_define_it,
    |db| {
        let store = &db.store;
        let migrated = store.index_definitions().await.unwrap();
        assert!(has_plays_track(store).await);
        let user = store.create_user("ann", None).await.unwrap().id;
        let mut connection = store.writer_connection().await.unwrap();

        // An empty table and an import expected to bring plays: built afterwards.
        assert!(connection.defer_play_index(10).await.unwrap());
        assert!(!has_plays_track(store).await);
        // Plays written meanwhile are stored as ever.
        let listens: Vec<_> = (0..3)
            .map(|i| {
                listen(
                    Source::ExtendedExport,
                    T0 + i * 600_000,
                    "Abba",
                    &format!("Song {i}"),
                    Some(200_000),
                )
            })
            .collect();
        assert_eq!(write(store, user, &listens).await.inserted, 3);
        connection.build_play_index().await.unwrap();
        assert_eq!(store.index_definitions().await.unwrap(), migrated);
        // Building it when it exists changes nothing.
        connection.build_play_index().await.unwrap();
        assert_eq!(store.index_definitions().await.unwrap(), migrated);

        // Three plays stored: an import expected to bring no more keeps the index up to date
        // row by row; one expected to bring more drops it.
        assert!(!connection.defer_play_index(3).await.unwrap());
        assert!(has_plays_track(store).await);
        assert!(connection.defer_play_index(4).await.unwrap());
        // Nothing to drop: nothing owed either.
        assert!(!connection.defer_play_index(4).await.unwrap());
        connection.build_play_index().await.unwrap();
        assert_eq!(store.index_definitions().await.unwrap(), migrated);
        assert_eq!(store.listen_totals(user).await.unwrap().listens, 3);
    }
);

store_test!(
    a_plays_track_an_import_left_dropped_is_built_when_the_store_opens,
    |db| {
        let store = &db.store;
        let migrated = store.index_definitions().await.unwrap();
        let mut connection = store.writer_connection().await.unwrap();
        assert!(connection.defer_play_index(1_000).await.unwrap());
        // The import dies here: its connection goes, the index is not built.
        drop(connection);
        assert!(!has_plays_track(store).await);

        // What every process does when it opens the store.
        store.migrate().await.unwrap();
        assert_eq!(store.index_definitions().await.unwrap(), migrated);
    }
);
