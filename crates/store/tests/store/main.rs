//! Store behaviour, run on SQLite always and on PostgreSQL when TEST_DATABASE_URL is set.

mod checkpoints;
mod deferred_indexes;
mod listens;
mod logs;

use spotify_history_store::{BackendKind, StoreError};
use spotify_history_testkit::{TestDb, store_test};

store_test!(migrations_are_idempotent_and_the_database_answers, |db| {
    db.store.migrate().await.unwrap();
    db.store.migrate().await.unwrap();
    db.store.ping().await.unwrap();
    let tables: std::collections::BTreeSet<String> = db
        .store
        .columns()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.table)
        .collect();
    for table in [
        "users",
        "spotify_tokens",
        "api_tokens",
        "artists",
        "albums",
        "tracks",
        "track_artists",
        "plays",
        "sync_state",
        "coverage_gaps",
        "import_jobs",
        "import_files",
        "job_runs",
        "logs",
        "app_state",
    ] {
        assert!(
            tables.contains(table),
            "table {table} is missing: {tables:?}"
        );
    }
});

store_test!(users_are_created_listed_found_and_deleted, |db| {
    let store = &db.store;
    let ann = store.create_user("ann", Some("Ann A.")).await.unwrap();
    let bob = store.create_user("bob", None).await.unwrap();
    assert_eq!(ann.name, "ann");
    assert_eq!(ann.display_name.as_deref(), Some("Ann A."));
    assert!(!ann.sync_paused && !ann.needs_reauth);

    let names: Vec<_> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["ann", "bob"]);
    assert_eq!(
        store.find_user_by_name("bob").await.unwrap(),
        Some(bob.clone())
    );
    assert_eq!(store.get_user(ann.id).await.unwrap(), ann);
    assert_eq!(store.find_user_by_name("carol").await.unwrap(), None);

    let duplicate = store.create_user("ann", None).await.unwrap_err();
    assert!(matches!(duplicate, StoreError::Conflict(ref m) if m.contains("already exists")));
    // The name rules hold for every caller, on both databases (PostgreSQL cannot store NUL).
    for (name, display_name, field) in [
        ("  ", None, "name"),
        ("carol smith", None, "name"),
        ("carol\0", None, "name"),
        ("carol", Some("Carol\0"), "display_name"),
    ] {
        match store.create_user(name, display_name).await {
            Err(StoreError::InvalidName(invalid)) => assert_eq!(invalid.field, field, "{name:?}"),
            other => panic!("{name:?} {display_name:?}: {other:?}"),
        }
    }
    assert_eq!(store.list_users().await.unwrap().len(), 2);

    store.delete_user(bob.id).await.unwrap();
    assert!(matches!(
        store.get_user(bob.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.delete_user(bob.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.list_users().await.unwrap().len(), 1);
});

store_test!(api_tokens_authenticate_until_revoked, |db| {
    let store = &db.store;
    let ann = store.create_user("ann", None).await.unwrap();
    let user_token = store
        .create_api_token(Some(ann.id), "laptop")
        .await
        .unwrap();
    let admin_token = store.create_api_token(None, "ops").await.unwrap();
    assert!(admin_token.token.is_admin());
    assert!(!user_token.token.is_admin());
    assert!(
        user_token
            .plaintext
            .expose()
            .starts_with(&user_token.token.prefix)
    );

    let seen = store
        .authenticate_api_token(user_token.plaintext.expose())
        .await
        .unwrap()
        .expect("a fresh token authenticates");
    assert_eq!(seen.user_id, Some(ann.id));
    assert!(seen.last_used_at.is_some());
    assert!(
        store
            .authenticate_api_token("sph_not-a-token")
            .await
            .unwrap()
            .is_none()
    );

    assert_eq!(store.list_api_tokens(None).await.unwrap().len(), 2);
    let anns = store.list_api_tokens(Some(ann.id)).await.unwrap();
    assert_eq!(anns.len(), 1);
    assert_eq!(anns[0].name, "laptop");

    store.revoke_api_token(user_token.token.id).await.unwrap();
    store.revoke_api_token(user_token.token.id).await.unwrap();
    assert!(
        store
            .authenticate_api_token(user_token.plaintext.expose())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .authenticate_api_token(admin_token.plaintext.expose())
            .await
            .unwrap()
            .is_some()
    );
});

store_test!(deleting_a_user_deletes_their_tokens, |db| {
    let store = &db.store;
    let ann = store.create_user("ann", None).await.unwrap();
    let token = store.create_api_token(Some(ann.id), "t").await.unwrap();
    store.delete_user(ann.id).await.unwrap();
    assert!(store.list_api_tokens(None).await.unwrap().is_empty());
    assert!(
        store
            .authenticate_api_token(token.plaintext.expose())
            .await
            .unwrap()
            .is_none()
    );
});

/// Both migration sets must describe the same tables and columns.
#[tokio::test]
async fn sqlite_and_postgres_schemas_have_the_same_tables_and_columns() {
    let Some(pg) = TestDb::postgres().await else {
        return;
    };
    let sqlite = TestDb::sqlite().await;
    assert_eq!(sqlite.store.backend(), BackendKind::Sqlite);
    assert_eq!(pg.store.backend(), BackendKind::Postgres);
    let sqlite_columns = sqlite.store.columns().await.unwrap();
    let pg_columns = pg.store.columns().await.unwrap();
    assert!(
        sqlite_columns.len() > 50,
        "too few columns: {}",
        sqlite_columns.len()
    );
    let only_sqlite: Vec<_> = sqlite_columns
        .iter()
        .filter(|c| !pg_columns.contains(c))
        .collect();
    let only_pg: Vec<_> = pg_columns
        .iter()
        .filter(|c| !sqlite_columns.contains(c))
        .collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "schemas differ.\nonly in SQLite: {only_sqlite:#?}\nonly in PostgreSQL: {only_pg:#?}"
    );
}

#[tokio::test]
async fn an_unreachable_postgres_is_a_clear_error() {
    let url =
        spotify_history_store::DatabaseUrl::parse("postgres://postgres@127.0.0.1:1/none").unwrap();
    let err = spotify_history_store::Store::open(&url).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("cannot open the database"), "{message}");
    assert!(message.contains("DATABASE_URL"), "{message}");
}

store_test!(queueing_work_tells_the_collectors, |db| {
    use spotify_history_store::NewImportJob;
    use std::time::Duration;
    let store = &db.store;
    // On PostgreSQL through the schema's channel, as collectors of other processes hear it.
    store.listen_for_work().await;
    // Told when work was queued since the last call (a NOTIFY takes a moment), else not.
    let told = || async {
        tokio::time::timeout(Duration::from_secs(10), store.work_queued())
            .await
            .is_ok()
    };
    let not_told = || async {
        tokio::time::timeout(Duration::from_millis(200), store.work_queued())
            .await
            .is_err()
    };
    let ann = store.create_user("ann", None).await.unwrap();
    assert!(not_told().await, "a new user is no work");

    store
        .create_import_job(&NewImportJob {
            user: ann.id,
            file_name: "my_spotify_data.zip",
            file_path: "/nowhere/my_spotify_data.zip",
            size_bytes: 10,
        })
        .await
        .unwrap();
    assert!(told().await, "an import job");
    assert!(not_told().await, "told once");

    let linked = store
        .link_spotify(&spotify_history_testkit::sign_in_of("ann-spotify"))
        .await
        .unwrap();
    assert!(told().await, "a sign-in, due for its initial sync");
    store.request_sync(linked.id).await.unwrap();
    assert!(told().await, "sync now");
    // A clone is the same store; on PostgreSQL, another process's store is heard too.
    store.clone().request_sync(linked.id).await.unwrap();
    assert!(told().await);
    if store.backend() == BackendKind::Postgres {
        let other = spotify_history_store::Store::connect(&db.url)
            .await
            .unwrap();
        other.request_sync(linked.id).await.unwrap();
        assert!(told().await, "another process");
        other.close().await;
    }
});
