//! `GET /admin/sync-status`: every user's collection state in one answer.

use super::{Admin, Mode};
use axum::http::StatusCode;
use spotify_history_store::CollectionSuccess;
use spotify_history_testkit::store_test;

store_test!(
    sync_status_shows_every_user_with_token_expiry_and_failures,
    |db| {
        let admin = Admin::new(&db.store, Mode::Basic);
        let importer = db.store.create_user("importer", None).await.unwrap().id;
        let link = spotify_history_testkit::sign_in_of;
        let ann = db.store.link_spotify(&link("ann")).await.unwrap().id;
        let bob = db.store.link_spotify(&link("bob")).await.unwrap().id;
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
        db.store
            .record_collection_failure(bob, "Spotify answered 503")
            .await
            .unwrap();
        db.store
            .mark_needs_reauth(bob, "invalid_grant")
            .await
            .unwrap();

        let answer = admin.get("/admin/sync-status").await;
        let body = answer.expect(StatusCode::OK);
        assert_eq!(body["total"], 3);
        assert_eq!(body["needs_reauth"], 1);
        assert_eq!(body["failing"], 1);
        let users = body["users"].as_array().unwrap();
        let find = |id: i64| users.iter().find(|u| u["user_id"] == id).unwrap();

        let ann = find(ann.0);
        assert_eq!(ann["initial_sync_done"], true);
        assert_eq!(ann["newest_played_at"], "2023-11-14T22:13:20Z");
        assert!(ann["last_polled_at"].is_string());
        let authorized: jiff::Timestamp = ann["spotify_authorized_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let expires: jiff::Timestamp = ann["refresh_token_expires_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let months = authorized
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .until((
                jiff::Unit::Month,
                &expires.to_zoned_datetime(jiff::tz::TimeZone::UTC),
            ))
            .unwrap();
        assert_eq!(months.get_months(), 6, "the refresh token lasts six months");

        let bob = find(bob.0);
        assert_eq!(bob["needs_reauth"], true);
        assert_eq!(bob["consecutive_failures"], 1);
        assert_eq!(bob["last_error"], "Spotify answered 503");

        let importer = find(importer.0);
        assert_eq!(importer["spotify_linked"], false);
        assert!(importer["refresh_token_expires_at"].is_null());
    }
);
