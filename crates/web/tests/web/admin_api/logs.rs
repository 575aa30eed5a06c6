//! `/admin/logs`: stored events filtered and paged; purging old or matching ones.

use super::{Admin, Mode};
use axum::http::{Method, StatusCode};
use serde_json::json;
use spotify_history_core::UserId;
use spotify_history_store::{LogFilter, LogLevel, NewLogEntry};
use spotify_history_testkit::store_test;

const DAY_MS: i64 = 86_400_000;

fn event(
    ts: i64,
    level: LogLevel,
    target: &str,
    message: &str,
    user: Option<UserId>,
) -> NewLogEntry {
    NewLogEntry {
        ts,
        level,
        target: target.to_owned(),
        message: message.to_owned(),
        fields: Some(json!({ "detail": format!("{message} detail") })),
        user_id: user,
    }
}

store_test!(logs_filter_page_and_purge, |db| {
    let admin = Admin::new(&db.store, Mode::Token);
    let ann = db.store.create_user("ann", None).await.unwrap().id;
    let now = jiff::Timestamp::now().as_millisecond();
    db.store
        .insert_logs(&[
            event(
                now - 40 * DAY_MS,
                LogLevel::Info,
                "spotify_history_collector::poll",
                "polled",
                Some(ann),
            ),
            event(
                now - 20 * DAY_MS,
                LogLevel::Warn,
                "spotify_history_collector::poll",
                "Spotify was slow",
                Some(ann),
            ),
            event(
                now - 2 * DAY_MS,
                LogLevel::Error,
                "spotify_history_web::oauth",
                "sign-in failed",
                None,
            ),
            event(
                now - 1_000,
                LogLevel::Debug,
                "spotify_history_store::logs",
                "flushed a batch",
                None,
            ),
        ])
        .await
        .unwrap();

    let all = admin.get("/admin/logs").await;
    let body = all.expect(StatusCode::OK);
    assert_eq!(body["total"], 4);
    assert_eq!(
        body["logs"][0]["message"], "flushed a batch",
        "newest first"
    );
    assert!(body["logs"][0]["ts"].as_str().unwrap().ends_with('Z'));

    let warnings = admin.get("/admin/logs?level=warn").await;
    let body = warnings.expect(StatusCode::OK);
    assert_eq!(body["total"], 2);
    let levels: Vec<&str> = body["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["ERROR", "WARN"]);

    let collector = admin.get("/admin/logs?source=collector").await;
    assert_eq!(collector.expect(StatusCode::OK)["total"], 2);
    let by_target = admin
        .get("/admin/logs?source=spotify_history_web::oauth")
        .await;
    assert_eq!(by_target.expect(StatusCode::OK)["total"], 1);
    let of_ann = admin
        .get(&format!("/admin/logs?user_id={ann}&text=SLOW"))
        .await;
    let body = of_ann.expect(StatusCode::OK);
    assert_eq!(body["total"], 1);
    assert_eq!(body["logs"][0]["user_id"], ann.0);
    let in_fields = admin.get("/admin/logs?q=batch%20detail").await;
    assert_eq!(in_fields.expect(StatusCode::OK)["total"], 1);
    let paged = admin.get("/admin/logs?limit=1&offset=1").await;
    let body = paged.expect(StatusCode::OK);
    assert_eq!(body["total"], 4);
    assert_eq!(body["logs"][0]["message"], "sign-in failed");
    let bad = admin.get("/admin/logs?level=loud").await;
    bad.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.message().starts_with("level:"), "{}", bad.message());

    // Purging needs to be told what; an empty request deletes nothing.
    admin
        .call(Method::POST, "/admin/logs/purge", Some(json!({})))
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(
        db.store
            .query_logs(&LogFilter::default(), 10, 0)
            .await
            .unwrap()
            .total,
        4
    );

    let old = admin
        .call(
            Method::POST,
            "/admin/logs/purge",
            Some(json!({ "older_than_days": 30 })),
        )
        .await;
    assert_eq!(old.expect(StatusCode::OK)["deleted"], 1);
    let left = db
        .store
        .query_logs(&LogFilter::default(), 10, 0)
        .await
        .unwrap();
    assert_eq!(left.total, 3);
    assert!(left.entries.iter().all(|e| e.message != "polled"));

    let matching = admin
        .call(
            Method::POST,
            "/admin/logs/purge",
            Some(json!({ "source": "web", "level": "error" })),
        )
        .await;
    assert_eq!(matching.expect(StatusCode::OK)["deleted"], 1);
    assert_eq!(
        db.store
            .query_logs(&LogFilter::default(), 10, 0)
            .await
            .unwrap()
            .total,
        2
    );

    let everything = admin
        .call(
            Method::POST,
            "/admin/logs/purge",
            Some(json!({ "all": true })),
        )
        .await;
    assert_eq!(everything.expect(StatusCode::OK)["deleted"], 2);
    assert_eq!(
        db.store
            .query_logs(&LogFilter::default(), 10, 0)
            .await
            .unwrap()
            .total,
        0
    );
    admin
        .call(
            Method::POST,
            "/admin/logs/purge",
            Some(json!({ "older_than_days": "a month" })),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
});
