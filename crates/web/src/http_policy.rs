//! What every request and response passes through, whichever route answers: the request
//! log and HTTP metrics, security headers, CORS (CORS_ALLOWED_ORIGINS) and the body size
//! limit.

use crate::ApiError;
use crate::rate_limit::TrustedProxies;
use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use spotify_history_core::metrics;
use std::time::{Duration, Instant};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;

/// Largest request body accepted by default: 1 MiB, far above any JSON call.
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 1 << 20;

/// Routes whose path ends with this stream their body (export uploads) and enforce their
/// own limit (IMPORT_MAX_ZIP_SIZE_MB) while reading: the default limit does not apply.
/// Such a route must also lift axum's extractor limit with `DefaultBodyLimit::disable()`.
pub const STREAMED_UPLOAD_SUFFIX: &str = "/upload";

/// The default Content-Security-Policy: this server's own resources only, never framed.
/// Pages with needs of their own (the sign-in pages, the admin UI) set a stricter policy,
/// which is kept; this one covers everything else (JSON answers, errors, assets).
pub const DEFAULT_CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
     base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// How the cross-cutting layers behave; from settings in the binary.
#[derive(Debug, Clone)]
pub struct HttpPolicy {
    /// Origins whose pages may call the API (`*` for any); empty: no CORS headers at all.
    pub cors_allowed_origins: Vec<String>,
    /// Largest request body outside the streamed upload routes.
    pub body_limit_bytes: usize,
    /// Serve `GET /metrics` on the main address behind admin credentials. Off when
    /// METRICS_BIND_ADDR is set: metrics are then served there only (see [`crate::metrics_router`]).
    pub metrics_on_main_address: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client (TRUSTED_PROXIES), for the
    /// per-address limits.
    pub trusted_proxies: TrustedProxies,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            cors_allowed_origins: Vec::new(),
            body_limit_bytes: DEFAULT_BODY_LIMIT_BYTES,
            metrics_on_main_address: true,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// Parses CORS_ALLOWED_ORIGINS: comma-separated `scheme://host[:port]` origins or `*`.
pub fn parse_cors_origins(value: &str) -> Result<Vec<String>, String> {
    let mut origins = Vec::new();
    for origin in value.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let origin = origin.trim_end_matches('/');
        let valid = origin == "*"
            || ((origin.starts_with("http://") || origin.starts_with("https://"))
                && !origin
                    .split_once("://")
                    .is_some_and(|(_, rest)| rest.contains('/'))
                && HeaderValue::from_str(origin).is_ok());
        if !valid {
            return Err(format!(
                "{origin:?} is not an origin: use scheme://host[:port], e.g. https://stats.example.com, or *"
            ));
        }
        origins.push(origin.to_owned());
    }
    Ok(origins)
}

/// Wraps every route of `router` (added before this call) in the layers.
pub(crate) fn apply(router: Router, policy: &HttpPolicy) -> Router {
    let mut router = router.layer(middleware::from_fn_with_state(
        policy.body_limit_bytes,
        limit_body,
    ));
    if let Some(cors) = cors(&policy.cors_allowed_origins) {
        router = router.layer(cors);
    }
    router
        .layer(middleware::map_response(security_headers))
        .layer(middleware::from_fn(observe))
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    let mcp_session = HeaderName::from_static("mcp-session-id");
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            // Bearer tokens travel in a header, never in cookies: no credentialed CORS.
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                mcp_session.clone(),
                HeaderName::from_static("mcp-protocol-version"),
                HeaderName::from_static("last-event-id"),
            ])
            .expose_headers([mcp_session])
            .max_age(Duration::from_secs(600)),
    )
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, DEFAULT_CSP),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// Refuses bodies over the limit: at once when Content-Length says so, otherwise when a
/// handler reads past it (axum's extractors then answer 413 as well).
async fn limit_body(State(limit): State<usize>, request: Request, next: Next) -> Response {
    if request.uri().path().ends_with(STREAMED_UPLOAD_SUFFIX) {
        return next.run(request).await;
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {limit} bytes"),
        )
        .into_response();
    }
    let (parts, body) = request.into_parts();
    let limited = Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, limited)).await
}

/// The request log and the HTTP metrics. Only the route template is logged and counted,
/// never the query string (sign-in callbacks carry `code` and `state` there). Health
/// checks and metric scrapes log at DEBUG so they do not flood the log.
async fn observe(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let matched = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let route = matched.as_deref().unwrap_or("unmatched").to_owned();
    // The path of an unknown route helps find a broken link; a known one is its template.
    let path = matched.is_none().then(|| request.uri().path().to_owned());
    let span = tracing::info_span!("request", method, route = %route);
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let latency = started.elapsed();
    let status = response.status().as_u16();
    metrics::http_request(method, &route, status, latency.as_secs_f64());

    let _entered = span.enter();
    let latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
    let quiet = matches!(route.as_str(), "/healthz" | "/metrics");
    match (status, quiet) {
        (500.., _) => tracing::warn!(status, latency_ms, path = path.as_deref(), "request failed"),
        (_, true) => tracing::debug!(status, latency_ms, "request"),
        _ => tracing::info!(status, latency_ms, path = path.as_deref(), "request"),
    }
    drop(_entered);
    response
}

/// Standard methods by name; anything else is `other`, so clients cannot mint series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_origins_parse_and_bad_ones_are_named() {
        assert_eq!(
            parse_cors_origins(" https://a.example , http://localhost:8001/ ,").unwrap(),
            ["https://a.example", "http://localhost:8001"]
        );
        assert_eq!(parse_cors_origins("*").unwrap(), ["*"]);
        assert!(parse_cors_origins("").unwrap().is_empty());
        let err = parse_cors_origins("https://a.example/path").unwrap_err();
        assert!(err.contains("https://a.example/path"), "{err}");
        assert!(parse_cors_origins("a.example").is_err());
    }
}
