//! The UI's static files, compiled into the binary (no CDN, nothing to deploy beside it):
//! htmx (vendored from the npm package `htmx.org`, 0BSD licence), the stylesheet and a
//! small script for upload progress. Served under `/assets/` with a long cache; pages add
//! `?v=` [`version`] so a new build is fetched at once.

use crate::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// Name, content type and bytes of every asset.
const ASSETS: [(&str, &str, &[u8]); 3] = [
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/htmx.min.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/app.js"),
    ),
];

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/assets/{name}", get(asset))
}

/// A digest of all assets: changes whenever one does.
pub(crate) fn version() -> &'static str {
    static VERSION: LazyLock<String> = LazyLock::new(|| {
        let mut digest = Sha256::new();
        for (name, _, bytes) in ASSETS {
            digest.update(name.as_bytes());
            digest.update(bytes);
        }
        digest.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    });
    &VERSION
}

async fn asset(Path(name): Path<String>) -> Response {
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        *bytes,
    )
        .into_response()
}
