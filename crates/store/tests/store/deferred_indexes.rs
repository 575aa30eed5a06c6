//! Indexes an import bringing more plays than the table holds drops and builds again at its
//! end: the plays-by-track index and the catalogue's track name and album indexes.

use crate::listens::{T0, listen, write};
use spotify_history_core::Source;
use spotify_history_store::{CatalogCache, Store};
use spotify_history_testkit::store_test;

const DEFERRED: [&str; 3] = ["plays_track", "tracks_lower_name", "tracks_album"];

/// Which of the deferred indexes exist.
async fn present(store: &Store) -> Vec<String> {
    let indexes = store.index_definitions().await.unwrap();
    indexes
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| DEFERRED.contains(&name.as_str()))
        .collect()
}

store_test!(
    deferred_indexes_are_built_again_as_the_migrations_define_them,
    |db| {
        let store = &db.store;
        let migrated = store.index_definitions().await.unwrap();
        assert_eq!(present(store).await.len(), DEFERRED.len());
        let user = store.create_user("ann", None).await.unwrap().id;
        let mut connection = store.writer_connection().await.unwrap();

        // An empty table and an import expected to bring plays: built afterwards.
        assert!(connection.defer_indexes(10).await.unwrap());
        assert!(present(store).await.is_empty());
        // Plays written meanwhile are stored as ever.
        let listens: Vec<_> = (0..3)
            .map(|i| {
                let name = format!("Song {i}");
                listen(
                    Source::ExtendedExport,
                    T0 + i * 600_000,
                    "Abba",
                    &name,
                    Some(200_000),
                )
            })
            .collect();
        assert_eq!(write(store, user, &listens).await.inserted, 3);
        connection.build_deferred_indexes().await.unwrap();
        assert_eq!(store.index_definitions().await.unwrap(), migrated);
        // Building them when they exist changes nothing.
        connection.build_deferred_indexes().await.unwrap();
        assert_eq!(store.index_definitions().await.unwrap(), migrated);

        // Three plays stored: an import expected to bring no more keeps the indexes up to date
        // row by row; one expected to bring more drops them.
        assert!(!connection.defer_indexes(3).await.unwrap());
        assert_eq!(present(store).await.len(), DEFERRED.len());
        assert!(connection.defer_indexes(4).await.unwrap());
        assert!(present(store).await.is_empty());
        // Missing already (an import died, or another one runs): owed all the same.
        assert!(connection.defer_indexes(0).await.unwrap());
        connection.build_deferred_indexes().await.unwrap();
        assert_eq!(store.index_definitions().await.unwrap(), migrated);
        assert_eq!(store.listen_totals(user).await.unwrap().listens, 3);
    }
);

store_test!(
    indexes_an_import_left_dropped_are_built_by_the_next_import,
    |db| {
        let store = &db.store;
        let migrated = db.indexes_left_dropped_by_a_dead_import().await;
        assert!(present(store).await.is_empty());

        // The next import, however small, owes them.
        let mut connection = store.writer_connection().await.unwrap();
        assert!(connection.defer_indexes(0).await.unwrap());
        connection.build_deferred_indexes().await.unwrap();
        assert_eq!(store.index_definitions().await.unwrap(), migrated);
    }
);

store_test!(
    indexes_an_import_left_dropped_are_built_when_its_lease_has_run_out,
    |db| {
        let store = &db.store;
        let migrated = db.indexes_left_dropped_by_a_dead_import().await;
        // Or it died while building them, one of three done.
        // (From a connection of its own: a pooled SQLite connection that has not read since
        // the drop still has the index in its copy of the schema.)
        let other = Store::connect(&db.url).await.unwrap();
        other
            .execute_ddl("CREATE INDEX tracks_album ON tracks (album_id)")
            .await
            .unwrap();
        other.close().await;

        // Opening the store (what every process does) leaves them to the import while it may
        // still be running...
        store.migrate().await.unwrap();
        assert_eq!(present(store).await, ["tracks_album"]);
        // ...and builds them once its lease has run out.
        db.end_index_lease().await;
        store.migrate().await.unwrap();
        assert_eq!(store.index_definitions().await.unwrap(), migrated);
        assert_eq!(db.index_lease().await, None);
    }
);

store_test!(each_transaction_of_an_import_renews_its_lease, |db| {
    let store = &db.store;
    let user = store.create_user("ann", None).await.unwrap().id;
    let mut connection = store.writer_connection().await.unwrap();
    assert!(connection.defer_indexes(1_000).await.unwrap());
    let lease = || async {
        let until = db.index_lease().await;
        until.unwrap().parse::<i64>().unwrap()
    };
    let now = jiff::Timestamp::now().as_millisecond();
    assert!(lease().await > now + 10 * 60 * 1000, "a lease of minutes");

    // An import slower than its lease so far: its next transaction renews it.
    db.end_index_lease().await;
    let mut cache = CatalogCache::default();
    let mut writer = connection
        .listen_writer(user, None, &mut cache)
        .await
        .unwrap();
    let listens = [listen(
        Source::ExtendedExport,
        T0,
        "Abba",
        "Song",
        Some(200_000),
    )];
    writer.write(&listens).await.unwrap();
    writer.commit().await.unwrap();
    assert!(lease().await > now + 10 * 60 * 1000);
    // So a process opening the store meanwhile leaves the indexes to the import...
    store.migrate().await.unwrap();
    assert!(present(store).await.is_empty());
    // ...which builds them, and gives the lease up.
    connection.build_deferred_indexes().await.unwrap();
    assert_eq!(present(store).await.len(), DEFERRED.len());
    assert_eq!(db.index_lease().await, None);
});
