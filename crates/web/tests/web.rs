//! The HTTP application, driven in-process with tower's `oneshot`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use spotify_history_testkit::store_test;
use spotify_history_web::{AppState, router};
use tower::ServiceExt;

async fn get_json(app: axum::Router, path: &str) -> (StatusCode, Value) {
    let response = app
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).expect("JSON body"))
}

store_test!(healthz_reports_version_and_database, |db| {
    let app = router(AppState {
        store: db.store.clone(),
    });
    let (status, body) = get_json(app, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["database"]["status"], "ok");
    assert_eq!(body["database"]["backend"], db.store.backend().as_str());
});

store_test!(healthz_is_503_when_the_database_is_down, |db| {
    let app = router(AppState {
        store: db.store.clone(),
    });
    db.store.close().await;
    let (status, body) = get_json(app, "/healthz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["database"]["status"], "unavailable");
    assert!(
        body["database"]["error"]
            .as_str()
            .unwrap()
            .contains("database")
    );
});

store_test!(unknown_paths_get_a_json_404, |db| {
    let app = router(AppState {
        store: db.store.clone(),
    });
    let (status, body) = get_json(app, "/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
});
