//! The admin JSON API under `/admin/`, driven in-process: every endpoint's answers and what
//! they leave in the store, in token and basic mode, with browser sessions and CSRF.

mod auth;
mod imports;
mod jobs;
mod logs;
mod sync_status;
mod tokens;
mod users;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::Value;
use spotify_history_core::Secret;
use spotify_history_mcp::McpState;
use spotify_history_store::Store;
use spotify_history_web::{AppState, Authenticator, SessionKind, Sessions, Uploads, router};
use std::path::{Path, PathBuf};
use tower::ServiceExt;

/// ADMIN_TOKEN of the apps under test.
pub(crate) const ADMIN_TOKEN: &str = "an-admin-token-for-the-admin-api-tests";
/// ADMIN_USERNAME / ADMIN_PASSWORD in basic mode.
pub(crate) const ADMIN_USER: &str = "operator";
pub(crate) const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// How the admin signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Token,
    Basic,
}

/// An app under test with its upload directory.
pub(crate) struct Admin {
    pub store: Store,
    pub mode: Mode,
    pub uploads: tempfile::TempDir,
    max_upload_bytes: u64,
}

impl Admin {
    pub fn new(store: &Store, mode: Mode) -> Admin {
        Admin {
            store: store.clone(),
            mode,
            uploads: tempfile::tempdir().unwrap(),
            max_upload_bytes: 50 * 1024 * 1024,
        }
    }

    /// The same app with IMPORT_MAX_ZIP_SIZE_MB lowered to `bytes`.
    pub fn with_max_upload(mut self, bytes: u64) -> Admin {
        self.max_upload_bytes = bytes;
        self
    }

    pub fn upload_dir(&self) -> &Path {
        self.uploads.path()
    }

    /// Every file in the upload directory.
    pub fn uploaded_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.upload_dir())
            .map(|entries| entries.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        files.sort();
        files
    }

    pub fn sessions(&self) -> Sessions {
        Sessions::new(crate::test_cipher(), false)
    }

    pub fn router(&self) -> axum::Router {
        let auth = Authenticator::new(self.store.clone(), Some(&Secret::new(ADMIN_TOKEN)));
        let auth = match self.mode {
            Mode::Token => auth,
            Mode::Basic => auth.with_basic(ADMIN_USER, &Secret::new(ADMIN_PASSWORD)),
        };
        router(AppState {
            store: self.store.clone(),
            auth,
            mcp: McpState::new(self.store.clone(), 30_000, 1_000, "http://127.0.0.1:8000"),
            spotify: None,
            auth_rate_limit_per_minute: 1_000,
            sessions: self.sessions(),
            uploads: Uploads::new(self.upload_dir(), self.max_upload_bytes),
        })
    }

    /// The admin's own credential in this mode.
    pub fn credential(&self) -> Credential {
        match self.mode {
            Mode::Token => Credential::Bearer(ADMIN_TOKEN.into()),
            Mode::Basic => Credential::Basic(ADMIN_USER.into(), ADMIN_PASSWORD.into()),
        }
    }

    /// An admin browser session: its cookie and CSRF token.
    pub fn session(&self) -> (String, String) {
        let (session, cookie) = self.sessions().start(SessionKind::Admin);
        let pair = cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        (pair, session.csrf)
    }

    /// `method path` with the admin's credential and a JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.send(
            Call::new(method, path)
                .credential(self.credential())
                .json(body),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn send(&self, call: Call) -> Answer {
        let response = self.router().oneshot(call.request()).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!("{status}: not JSON: {}", String::from_utf8_lossy(&bytes))
            })
        };
        Answer {
            status,
            headers,
            body,
        }
    }
}

/// What a request carries to prove who sent it.
#[derive(Debug, Clone)]
pub(crate) enum Credential {
    Bearer(String),
    Basic(String, String),
    /// `name=value` of the session cookie.
    Cookie(String),
}

/// One request to build.
pub(crate) struct Call {
    method: Method,
    path: String,
    headers: Vec<(header::HeaderName, String)>,
    body: Body,
}

impl Call {
    pub fn new(method: Method, path: &str) -> Call {
        Call {
            method,
            path: path.to_owned(),
            headers: vec![(header::HOST, "admin.test".to_owned())],
            body: Body::empty(),
        }
    }

    pub fn credential(mut self, credential: Credential) -> Call {
        let (name, value) = match credential {
            Credential::Bearer(token) => (header::AUTHORIZATION, format!("Bearer {token}")),
            Credential::Basic(user, password) => (
                header::AUTHORIZATION,
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
                ),
            ),
            Credential::Cookie(pair) => (header::COOKIE, pair),
        };
        self.headers.push((name, value));
        self
    }

    pub fn header(mut self, name: header::HeaderName, value: &str) -> Call {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn json(mut self, body: Option<Value>) -> Call {
        if let Some(body) = body {
            self.body = Body::from(body.to_string());
            self = self.header(header::CONTENT_TYPE, "application/json");
        }
        self
    }

    pub fn body(mut self, content_type: &str, body: Body) -> Call {
        self.body = body;
        self.header(header::CONTENT_TYPE, content_type)
    }

    fn request(self) -> Request<Body> {
        let mut builder = Request::builder().method(self.method).uri(&self.path);
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }
        builder.body(self.body).unwrap()
    }
}

/// An answer: status, headers, JSON body (`null` when empty).
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: StatusCode) -> &Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        &self.body
    }

    /// The error message of an error answer.
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }
}
