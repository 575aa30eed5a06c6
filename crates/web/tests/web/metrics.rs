//! `GET /metrics`: Prometheus text with the request and tool-call counters, behind admin
//! credentials on the main address, open on METRICS_BIND_ADDR.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use spotify_history_testkit::store_test;
use spotify_history_web::{HttpPolicy, metrics_router, router_with_policy};
use std::collections::HashMap;
use tower::ServiceExt;

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, String, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

fn get(path: &str, token: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::empty()).unwrap()
}

/// Parses the text exposition format strictly enough to catch a malformed line: every line
/// is a `# HELP`/`# TYPE` comment or `name{label="value",...} number`. Returns the samples.
fn parse_exposition(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(
                comment.starts_with("HELP ") || comment.starts_with("TYPE "),
                "unexpected comment: {line}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name: {line}"
        );
        if name_end < series.len() {
            let labels = &series[name_end..];
            assert!(
                labels.starts_with('{') && labels.ends_with('}'),
                "bad labels: {line}"
            );
            for pair in split_labels(&labels[1..labels.len() - 1]) {
                let (key, quoted) = pair
                    .split_once('=')
                    .unwrap_or_else(|| panic!("bad label: {line}"));
                assert!(
                    key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "bad label name: {line}"
                );
                assert!(
                    quoted.len() >= 2 && quoted.starts_with('"') && quoted.ends_with('"'),
                    "unquoted label value: {line}"
                );
            }
        }
        samples.insert(series.to_owned(), value);
    }
    samples
}

/// Splits `a="x",b="y, z"` at the commas between labels (not those inside quotes).
fn split_labels(labels: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in labels.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&labels[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&labels[start..]);
    parts
}

store_test!(metrics_need_an_admin_credential, |db| {
    let store = &db.store;
    let app = crate::app(store);
    let admin = store.create_api_token(None, "ops").await.unwrap();
    let ann = store.create_user("ann", None).await.unwrap();
    let listener = store
        .create_api_token(Some(ann.id), "laptop")
        .await
        .unwrap();

    let (status, _, _) = send(&app, get("/metrics", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(&app, get("/metrics", Some("sph_wrong"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(&app, get("/metrics", Some(listener.plaintext.expose()))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, content_type, body) =
        send(&app, get("/metrics", Some(admin.plaintext.expose()))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    assert!(body.contains("# TYPE spotify_history_http_requests_total counter"));
});

store_test!(metrics_count_requests_and_tool_calls, |db| {
    let store = &db.store;
    let app = crate::app(store);
    let admin = store.create_api_token(None, "ops").await.unwrap();
    let token = admin.plaintext.expose();

    for _ in 0..3 {
        let (status, _, _) = send(&app, get("/healthz", None)).await;
        assert_eq!(status, StatusCode::OK);
    }
    send(&app, get("/no/such/page?code=secret", None)).await;
    let call = |tool: &str| {
        Request::post("/mcp/call")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                serde_json::json!({ "tool": tool, "args": {} }).to_string(),
            ))
            .unwrap()
    };
    let (status, _, _) = send(&app, call("ops_list_users")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(&app, call("history.no_such_tool")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _, body) = send(&app, get("/metrics", Some(token))).await;
    assert_eq!(status, StatusCode::OK);
    let samples = parse_exposition(&body);
    let sample = |series: &str| {
        *samples
            .get(series)
            .unwrap_or_else(|| panic!("no {series} in\n{body}"))
    };
    // Counters are process-wide and tests run in parallel: at least what this test did.
    assert!(
        sample(
            r#"spotify_history_http_requests_total{method="GET",route="/healthz",status="2xx"}"#
        ) >= 3.0
    );
    assert!(
        sample(
            r#"spotify_history_http_requests_total{method="GET",route="unmatched",status="4xx"}"#
        ) >= 1.0
    );
    assert!(
        sample(
            r#"spotify_history_http_requests_total{method="POST",route="/mcp/call",status="2xx"}"#
        ) >= 1.0
    );
    assert!(
        sample(r#"spotify_history_tool_calls_total{tool="ops_list_users",outcome="ok"}"#) >= 1.0
    );
    assert!(
        sample(r#"spotify_history_tool_calls_total{tool="unknown",outcome="unknown_tool"}"#) >= 1.0
    );
    assert!(sample("spotify_history_spotify_rate_limited_total") >= 0.0);
    assert!(
        sample(&format!(
            r#"spotify_history_build_info{{version="{}"}}"#,
            env!("CARGO_PKG_VERSION")
        )) == 1.0
    );
    // Only route templates are labels: no query strings, no raw paths.
    assert!(
        !body.contains("secret") && !body.contains("/no/such/page"),
        "{body}"
    );
});

store_test!(with_a_metrics_address_metrics_leave_the_main_one, |db| {
    let store = &db.store;
    let admin = store.create_api_token(None, "ops").await.unwrap();
    let policy = HttpPolicy {
        metrics_on_main_address: false,
        ..HttpPolicy::default()
    };
    let main = router_with_policy(crate::state(store), &policy);
    let (status, _, _) = send(&main, get("/metrics", Some(admin.plaintext.expose()))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The separate address answers without credentials.
    let separate = metrics_router();
    let (status, content_type, body) = send(&separate, get("/metrics", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(!parse_exposition(&body).is_empty());
});

#[test]
fn the_exposition_parser_rejects_malformed_lines() {
    let good =
        "# HELP a_total x\n# TYPE a_total counter\na_total{k=\"v, w\",j=\"\\\"q\\\"\"} 2\nb 0.5\n";
    assert_eq!(parse_exposition(good).len(), 2);
    for bad in [
        "a_total{k=v} 1",
        "a total 1",
        "a_total{k=\"v\"} one",
        "// comment",
    ] {
        let result = std::panic::catch_unwind(|| parse_exposition(bad));
        assert!(result.is_err(), "accepted {bad:?}");
    }
}
