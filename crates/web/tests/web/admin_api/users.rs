//! `/admin/users`: an operator creates, reads, changes, pauses, syncs and deletes users.

use super::{Admin, Mode};
use axum::http::{Method, StatusCode};
use serde_json::json;
use spotify_history_core::UserId;
use spotify_history_import::synthetic::{SyntheticConfig, SyntheticExport};
use spotify_history_import::{ImportOptions, ImportSource, Limits, import};
use spotify_history_store::{CollectionSuccess, NewSpotifyLink, Store, StoreError};
use spotify_history_testkit::store_test;

/// Imports a small generated export for `user`; returns how many listens it stored.
pub(crate) async fn import_history(store: &Store, user: UserId, seed: u64) -> i64 {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("export.zip");
    SyntheticExport::generate(SyntheticConfig {
        plays: 300,
        seed,
        account_data: false,
        start_year: 2022,
        years: 1,
        ..SyntheticConfig::default()
    })
    .write_zip(&zip)
    .unwrap();
    let source = ImportSource::open(&[zip], Limits::default()).unwrap();
    let options = ImportOptions::new(user);
    import(store, source, options, |_| {}).await.unwrap();
    store.listen_totals(user).await.unwrap().listens
}

store_test!(an_operator_creates_lists_and_reads_users, |db| {
    let admin = Admin::new(&db.store, Mode::Token);
    let created = admin
        .call(
            Method::POST,
            "/admin/users",
            Some(json!({ "name": "ann", "display_name": "Ann", "time_zone": "Europe/Berlin" })),
        )
        .await;
    let body = created.expect(StatusCode::CREATED);
    assert_eq!(body["name"], "ann");
    assert_eq!(body["time_zone"], "Europe/Berlin");
    let ann = UserId(body["id"].as_i64().unwrap());
    let stored = db.store.get_user(ann).await.unwrap();
    assert_eq!(stored.display_name.as_deref(), Some("Ann"));
    assert_eq!(stored.time_zone.as_deref(), Some("Europe/Berlin"));

    // Bad input names its field and stores nothing.
    let bad_zone = admin
        .call(
            Method::POST,
            "/admin/users",
            Some(json!({ "name": "bob", "time_zone": "Mars/Olympus" })),
        )
        .await;
    bad_zone.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_zone.message().starts_with("time_zone:"),
        "{}",
        bad_zone.message()
    );
    let no_name = admin
        .call(
            Method::POST,
            "/admin/users",
            Some(json!({ "display_name": "x" })),
        )
        .await;
    no_name.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_name.message().contains("name"), "{}", no_name.message());
    let blank = admin
        .call(Method::POST, "/admin/users", Some(json!({ "name": "  " })))
        .await;
    blank.expect(StatusCode::UNPROCESSABLE_ENTITY);
    let typo = admin
        .call(
            Method::POST,
            "/admin/users",
            Some(json!({ "name": "bob", "timezone": "UTC" })),
        )
        .await;
    typo.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(typo.message().contains("timezone"), "{}", typo.message());
    // PostgreSQL refuses NUL in any text: such a name is refused alike on both databases.
    for (body, field) in [
        (json!({ "name": "ann b" }), "name:"),
        (json!({ "name": "bob\u{0}" }), "name:"),
        (
            json!({ "name": "bob", "display_name": "B\u{0}b" }),
            "display_name:",
        ),
    ] {
        let refused = admin.call(Method::POST, "/admin/users", Some(body)).await;
        refused.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.message().starts_with(field),
            "{}",
            refused.message()
        );
    }
    let duplicate = admin
        .call(Method::POST, "/admin/users", Some(json!({ "name": "ann" })))
        .await;
    duplicate.expect(StatusCode::CONFLICT);
    assert_eq!(db.store.list_users().await.unwrap().len(), 1);

    let bob = db.store.create_user("bob", None).await.unwrap().id;
    let cy = db.store.create_user("cy", None).await.unwrap().id;
    let listens = import_history(&db.store, bob, 3).await;

    let all = admin.get("/admin/users").await;
    let body = all.expect(StatusCode::OK);
    assert_eq!(body["total"], 3);
    let names: Vec<&str> = body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ann", "bob", "cy"]);
    assert_eq!(body["users"][1]["listens"], listens);
    let page = admin.get("/admin/users?limit=1&offset=2").await;
    let body = page.expect(StatusCode::OK);
    assert_eq!(body["total"], 3);
    assert_eq!(body["users"].as_array().unwrap().len(), 1);
    assert_eq!(body["users"][0]["id"], cy.0);
    admin
        .get("/admin/users?limit=0")
        .await
        .expect(StatusCode::BAD_REQUEST);
    let bad_limit = admin.get("/admin/users?limit=many").await;
    bad_limit.expect(StatusCode::BAD_REQUEST);
    assert!(
        bad_limit.message().contains("limit"),
        "{}",
        bad_limit.message()
    );

    let detail = admin.get(&format!("/admin/users/{bob}")).await;
    let body = detail.expect(StatusCode::OK);
    assert_eq!(body["user"]["name"], "bob");
    assert_eq!(body["totals"]["listens"], listens);
    assert!(body["totals"]["distinct_tracks"].as_i64().unwrap() > 0);
    assert_eq!(body["sync"]["spotify_linked"], false);
    assert!(body["sync"]["last_listen"].is_string());

    let missing = admin.get("/admin/users/999").await;
    missing.expect(StatusCode::NOT_FOUND);
    assert_eq!(missing.body["error"]["code"], "not_found");
    admin
        .get("/admin/users/abc")
        .await
        .expect(StatusCode::BAD_REQUEST);
});

store_test!(an_operator_changes_and_pauses_a_user, |db| {
    let admin = Admin::new(&db.store, Mode::Basic);
    let ann = db.store.create_user("ann", Some("Ann")).await.unwrap().id;
    let path = format!("/admin/users/{ann}");

    let changed = admin
        .call(
            Method::PATCH,
            &path,
            Some(json!({ "display_name": "Ann B.", "paused": true, "time_zone": "America/New_York" })),
        )
        .await;
    let body = changed.expect(StatusCode::OK);
    assert_eq!(body["paused"], true);
    let stored = db.store.get_user(ann).await.unwrap();
    assert_eq!(stored.display_name.as_deref(), Some("Ann B."));
    assert_eq!(stored.time_zone.as_deref(), Some("America/New_York"));
    assert!(stored.sync_paused);

    // `null` clears; absent fields stay.
    admin
        .call(Method::PATCH, &path, Some(json!({ "time_zone": null })))
        .await
        .expect(StatusCode::OK);
    let stored = db.store.get_user(ann).await.unwrap();
    assert_eq!(stored.time_zone, None);
    assert_eq!(stored.display_name.as_deref(), Some("Ann B."));
    assert!(stored.sync_paused);

    let bad = admin
        .call(
            Method::PATCH,
            &path,
            Some(json!({ "time_zone": "Nowhere" })),
        )
        .await;
    bad.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.message().starts_with("time_zone:"));
    let control = admin
        .call(
            Method::PATCH,
            &path,
            Some(json!({ "display_name": "Ann\u{0}" })),
        )
        .await;
    control.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(control.message().starts_with("display_name:"));
    assert_eq!(
        db.store
            .get_user(ann)
            .await
            .unwrap()
            .display_name
            .as_deref(),
        Some("Ann B.")
    );
    let wrong_type = admin
        .call(Method::PATCH, &path, Some(json!({ "paused": "yes" })))
        .await;
    wrong_type.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong_type.message().contains("paused"),
        "{}",
        wrong_type.message()
    );
    admin
        .call(Method::PATCH, &path, Some(json!({})))
        .await
        .expect(StatusCode::BAD_REQUEST);
    admin
        .call(
            Method::PATCH,
            "/admin/users/999",
            Some(json!({ "paused": true })),
        )
        .await
        .expect(StatusCode::NOT_FOUND);

    let resumed = admin
        .call(Method::POST, &format!("{path}/resume"), None)
        .await;
    assert_eq!(resumed.expect(StatusCode::OK)["paused"], false);
    assert!(!db.store.get_user(ann).await.unwrap().sync_paused);
    let paused = admin
        .call(Method::POST, &format!("{path}/pause"), None)
        .await;
    assert_eq!(paused.expect(StatusCode::OK)["paused"], true);
    assert!(db.store.get_user(ann).await.unwrap().sync_paused);
    admin
        .call(Method::POST, "/admin/users/999/pause", None)
        .await
        .expect(StatusCode::NOT_FOUND);
    admin
        .call(Method::POST, "/admin/users/999/resume", None)
        .await
        .expect(StatusCode::NOT_FOUND);
});

store_test!(
    sync_now_makes_a_linked_user_due_and_says_why_it_cannot,
    |db| {
        let admin = Admin::new(&db.store, Mode::Token);
        let importer = db.store.create_user("importer", None).await.unwrap().id;
        let not_linked = admin
            .call(Method::POST, &format!("/admin/users/{importer}/sync"), None)
            .await;
        not_linked.expect(StatusCode::CONFLICT);
        assert!(
            not_linked.message().contains("not linked"),
            "{}",
            not_linked.message()
        );

        let ann = db
            .store
            .link_spotify(&NewSpotifyLink {
                spotify_user_id: "ann-on-spotify",
                display_name: Some("Ann"),
                refresh_token: "sealed-refresh",
                access_token: "sealed-access",
                access_expires_at: 0,
                scope: "user-read-recently-played",
            })
            .await
            .unwrap()
            .id;
        db.store
            .record_collection_success(
                ann,
                &CollectionSuccess {
                    newest_played_at: Some(1_700_000_000_000),
                    initial_sync_done: true,
                },
            )
            .await
            .unwrap();
        assert!(
            db.store
                .sync_status(ann)
                .await
                .unwrap()
                .last_polled_at
                .is_some()
        );

        let queued = admin
            .call(Method::POST, &format!("/admin/users/{ann}/sync"), None)
            .await;
        assert_eq!(queued.expect(StatusCode::ACCEPTED)["queued"], true);
        let status = db.store.sync_status(ann).await.unwrap();
        assert_eq!(status.last_polled_at, None, "due at once");
        assert_eq!(
            status.newest_played_at,
            Some(1_700_000_000_000),
            "the cursor stays"
        );
        assert_eq!(db.store.collection_candidates().await.unwrap()[0].user, ann);

        db.store.set_sync_paused(ann, true).await.unwrap();
        let paused = admin
            .call(Method::POST, &format!("/admin/users/{ann}/sync"), None)
            .await;
        paused.expect(StatusCode::CONFLICT);
        assert!(paused.message().contains("resume"), "{}", paused.message());
        db.store.set_sync_paused(ann, false).await.unwrap();
        db.store
            .mark_needs_reauth(ann, "invalid_grant")
            .await
            .unwrap();
        let reauth = admin
            .call(Method::POST, &format!("/admin/users/{ann}/sync"), None)
            .await;
        reauth.expect(StatusCode::CONFLICT);
        assert!(
            reauth.message().contains("sign in again"),
            "{}",
            reauth.message()
        );
        admin
            .call(Method::POST, "/admin/users/999/sync", None)
            .await
            .expect(StatusCode::NOT_FOUND);

        // Unlinking forgets the account, its tokens and where collection stood; listens stay.
        // Not while a collector works on the user: its work would write that state back.
        let listens = import_history(&db.store, ann, 4).await;
        let leased = db
            .store
            .lease_user(ann, "collector-1", std::time::Duration::from_secs(60))
            .await
            .unwrap();
        assert!(leased.is_some());
        let busy = admin
            .call(Method::DELETE, &format!("/admin/users/{ann}/spotify"), None)
            .await;
        busy.expect(StatusCode::CONFLICT);
        assert!(db.store.spotify_link(ann).await.unwrap().is_some());
        db.store.release_user(ann, "collector-1").await.unwrap();
        let unlinked = admin
            .call(Method::DELETE, &format!("/admin/users/{ann}/spotify"), None)
            .await;
        let body = unlinked.expect(StatusCode::OK);
        assert_eq!(body["spotify_user_id"], serde_json::Value::Null);
        assert_eq!(body["needs_reauth"], false);
        assert!(db.store.spotify_link(ann).await.unwrap().is_none());
        assert_eq!(
            db.store.sync_status(ann).await.unwrap().newest_played_at,
            None
        );
        assert_eq!(db.store.listen_totals(ann).await.unwrap().listens, listens);
        let not_linked = admin
            .call(Method::POST, &format!("/admin/users/{ann}/sync"), None)
            .await;
        not_linked.expect(StatusCode::CONFLICT);
        admin
            .call(Method::DELETE, "/admin/users/999/spotify", None)
            .await
            .expect(StatusCode::NOT_FOUND);
    }
);

store_test!(
    deleting_a_user_needs_their_name_and_removes_all_their_data,
    |db| {
        let admin = Admin::new(&db.store, Mode::Token);
        let ann = db.store.create_user("ann", None).await.unwrap().id;
        let bob = db.store.create_user("bob", None).await.unwrap().id;
        let ann_listens = import_history(&db.store, ann, 5).await;
        let bob_listens = import_history(&db.store, bob, 6).await;
        assert!(ann_listens > 0 && bob_listens > 0);
        let ann_token = db.store.create_api_token(Some(ann), "mcp").await.unwrap();
        let upload = crate::admin_api::imports::upload_export(&admin, ann, 7).await;
        assert_eq!(upload.status, StatusCode::ACCEPTED, "{}", upload.body);
        assert_eq!(admin.uploaded_files().len(), 1);

        let path = format!("/admin/users/{ann}");
        let unconfirmed = admin.call(Method::DELETE, &path, None).await;
        unconfirmed.expect(StatusCode::BAD_REQUEST);
        assert_eq!(unconfirmed.body["error"]["code"], "confirmation_required");
        assert!(
            unconfirmed.message().contains("?confirm=ann"),
            "{}",
            unconfirmed.message()
        );
        admin
            .call(Method::DELETE, &format!("{path}?confirm=bob"), None)
            .await
            .expect(StatusCode::BAD_REQUEST);
        assert_eq!(
            db.store.listen_totals(ann).await.unwrap().listens,
            ann_listens
        );

        let deleted = admin
            .call(Method::DELETE, &format!("{path}?confirm=ann"), None)
            .await;
        let body = deleted.expect(StatusCode::OK);
        assert_eq!(body["deleted"]["name"], "ann");
        assert_eq!(body["removed_uploads"], 1);
        assert!(matches!(
            db.store.get_user(ann).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(db.store.listen_totals(ann).await.unwrap().listens, 0);
        assert!(
            db.store
                .authenticate_api_token(ann_token.plaintext.expose())
                .await
                .unwrap()
                .is_none()
        );
        assert!(admin.uploaded_files().is_empty());
        let imports = admin.get("/admin/imports").await;
        assert_eq!(imports.expect(StatusCode::OK)["total"], 0);
        // Bob keeps everything.
        assert_eq!(
            db.store.listen_totals(bob).await.unwrap().listens,
            bob_listens
        );

        admin
            .call(Method::DELETE, &format!("{path}?confirm=ann"), None)
            .await
            .expect(StatusCode::NOT_FOUND);
    }
);
