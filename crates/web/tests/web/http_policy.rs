//! What every response carries whichever route answers: CORS for the configured origins
//! only, security headers, and the body size limit; and who a client is behind the reverse
//! proxies the policy trusts.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use spotify_history_store::Store;
use spotify_history_testkit::store_test;
use spotify_history_web::{
    AppState, DEFAULT_BODY_LIMIT_BYTES, DEFAULT_CSP, HttpPolicy, TrustedProxies,
    parse_cors_origins, router_with_policy,
};
use tower::ServiceExt;

const ALLOWED: &str = "https://stats.example.com";

fn app_with_cors(store: &Store) -> axum::Router {
    let policy = HttpPolicy {
        cors_allowed_origins: parse_cors_origins(&format!("{ALLOWED}, http://localhost:8001"))
            .unwrap(),
        ..HttpPolicy::default()
    };
    router_with_policy(crate::state(store), &policy)
}

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

fn preflight(origin: &str) -> Request<Body> {
    Request::options("/mcp/call")
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization,content-type",
        )
        .body(Body::empty())
        .unwrap()
}

store_test!(cors_answers_allowed_origins_only, |db| {
    let app = app_with_cors(&db.store);

    let (status, headers, _) = send(&app, preflight(ALLOWED)).await;
    assert!(status.is_success(), "{status}");
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], ALLOWED);
    let methods = headers[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let allowed_headers = headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed_headers.contains("authorization") && allowed_headers.contains("content-type"),
        "{allowed_headers}"
    );

    let (_, headers, _) = send(&app, preflight("https://evil.example")).await;
    assert!(
        !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "{headers:?}"
    );

    // A simple request from an allowed page gets the header; from another page it does not.
    for (origin, allowed) in [(ALLOWED, true), ("https://evil.example", false)] {
        let request = Request::get("/healthz")
            .header(header::ORIGIN, origin)
            .body(Body::empty())
            .unwrap();
        let (status, headers, _) = send(&app, request).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_some(),
            allowed,
            "{origin}"
        );
    }

    // No origins configured: no CORS headers at all.
    let (_, headers, _) = send(&crate::app(&db.store), preflight(ALLOWED)).await;
    assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
});

store_test!(every_response_carries_the_security_headers, |db| {
    let app = app_with_cors(&db.store);
    for (path, expected_status) in [
        ("/healthz", StatusCode::OK),
        ("/no/such/page", StatusCode::NOT_FOUND),
        ("/mcp/tools", StatusCode::UNAUTHORIZED),
    ] {
        let (status, headers, _) =
            send(&app, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(status, expected_status, "{path}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer", "{path}");
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            DEFAULT_CSP,
            "{path}"
        );
    }
    // A page with a policy of its own keeps it.
    let (_, headers, _) = send(
        &app,
        Request::get("/admin/login").body(Body::empty()).unwrap(),
    )
    .await;
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert_ne!(csp, DEFAULT_CSP);
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
});

store_test!(bodies_over_the_limit_get_413, |db| {
    let store = &db.store;
    let app = crate::app(store);
    let admin = store.create_api_token(None, "ops").await.unwrap();
    let bearer = format!("Bearer {}", admin.plaintext.expose());
    let too_large = format!(
        r#"{{"tool":"ops_list_users","args":{{"pad":"{}"}}}}"#,
        "x".repeat(DEFAULT_BODY_LIMIT_BYTES)
    );

    // Declared too large: refused before anything reads it (even before authentication).
    let declared = Request::post("/mcp/call")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, too_large.len())
        .body(Body::from(too_large.clone()))
        .unwrap();
    let (status, _, body) = send(&app, declared).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");

    // Streamed without a length: cut off when the handler reads past the limit.
    let chunks: Vec<Result<String, std::io::Error>> = too_large
        .as_bytes()
        .chunks(64 * 1024)
        .map(|c| Ok(String::from_utf8(c.to_vec()).unwrap()))
        .collect();
    let streamed = Request::post("/mcp/call")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, &bearer)
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap();
    let (status, _, _) = send(&app, streamed).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // Under the limit the same call works.
    let small = Request::post("/mcp/call")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, &bearer)
        .body(Body::from(r#"{"tool":"ops_list_users","args":{}}"#))
        .unwrap();
    let (status, _, _) = send(&app, small).await;
    assert_eq!(status, StatusCode::OK);

    // Upload routes stream their body and apply IMPORT_MAX_ZIP_SIZE_MB themselves: the
    // default limit does not stop them (here the missing credential does).
    let upload = Request::post("/admin/imports/upload")
        .header(header::CONTENT_LENGTH, too_large.len())
        .body(Body::from(too_large))
        .unwrap();
    let (status, _, _) = send(&app, upload).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
});

store_test!(
    behind_a_trusted_proxy_each_client_has_its_own_login_allowance,
    |db| {
        let policy = HttpPolicy {
            trusted_proxies: TrustedProxies::parse("127.0.0.1").unwrap(),
            ..HttpPolicy::default()
        };
        let app = router_with_policy(
            AppState {
                auth_rate_limit_per_minute: 2,
                ..crate::state(&db.store)
            },
            &policy,
        );
        // A failed admin login, from `peer`, naming `forwarded` as the client.
        let login = |peer: &str, forwarded: &str| {
            let mut request = Request::post("/admin/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("x-forwarded-for", forwarded)
                .body(Body::from("token=guess"))
                .unwrap();
            let peer: std::net::SocketAddr = peer.parse().unwrap();
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            let app = app.clone();
            async move { app.oneshot(request).await.unwrap().status() }
        };
        let proxy = "127.0.0.1:40000";
        for _ in 0..2 {
            assert_eq!(login(proxy, "192.0.2.1").await, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(
            login(proxy, "192.0.2.1").await,
            StatusCode::TOO_MANY_REQUESTS
        );
        // Another client through the same proxy is not locked out with the first.
        assert_eq!(login(proxy, "192.0.2.2").await, StatusCode::UNAUTHORIZED);
        // A client that is no trusted proxy cannot name another client to get more tries.
        let direct = "198.51.100.7:50000";
        for forwarded in ["192.0.2.3", "192.0.2.4"] {
            assert_eq!(login(direct, forwarded).await, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(
            login(direct, "192.0.2.5").await,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
);
