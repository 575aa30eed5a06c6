//! The HTTP application, driven in-process with tower's `oneshot`, and over real HTTP.

mod admin_api;
mod browser;
mod http_policy;
mod live_tools;
mod mcp;
mod metrics;
mod sign_in;
mod stored_logs;
mod ui;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use spotify_history_mcp::McpState;
use spotify_history_store::Store;
use spotify_history_testkit::store_test;
use spotify_history_web::{AppState, Authenticator, router};
use tower::ServiceExt;

fn app(store: &Store) -> axum::Router {
    router(state(store))
}

/// The state of the apps under test: no admin token configured, no Spotify.
fn state(store: &Store) -> AppState {
    AppState {
        store: store.clone(),
        auth: Authenticator::new(store.clone(), None),
        mcp: McpState::new(store.clone(), 30_000, 60, "http://127.0.0.1:8000"),
        spotify: None,
        auth_rate_limit_per_minute: 1_000,
        sessions: spotify_history_web::Sessions::new(crate::test_cipher(), false),
        uploads: crate::test_uploads(),
    }
}

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
    let app = app(&db.store);
    let (status, body) = get_json(app, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["database"]["status"], "ok");
    assert_eq!(body["database"]["backend"], db.store.backend().as_str());
});

store_test!(healthz_is_503_when_the_database_is_down, |db| {
    let app = app(&db.store);
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
    let app = app(&db.store);
    let (status, body) = get_json(app, "/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
});

/// The Fernet key of the apps under test (sessions; Spotify tokens where configured).
pub(crate) fn test_cipher() -> spotify_history_spotify::TokenCipher {
    let key = spotify_history_core::Secret::new("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=");
    spotify_history_spotify::TokenCipher::new(&key).unwrap()
}

/// Uploads of the apps under test go to a temporary directory, at most 64 MiB each.
pub(crate) fn test_uploads() -> spotify_history_web::Uploads {
    spotify_history_web::Uploads::new(
        std::env::temp_dir().join("spotify-history-test-uploads"),
        64 * 1024 * 1024,
    )
}
