//! The request log: every request the fake received, for tests to assert on what a client
//! sent (or did not send).

use super::state::Shared;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use jiff::Timestamp;

/// One request as the fake received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string, empty when there was none.
    pub query: String,
    /// Spotify id of the user whose access token came with the request (expired or not).
    pub user: Option<String>,
    /// The answer's status; `None` while the answer is pending or when the client gave up.
    pub status: Option<u16>,
    /// Simulated time when the request arrived.
    pub at: Timestamp,
    /// Keys the log entry so its status can be filled in when the answer is ready.
    id: u64,
}

impl RecordedRequest {
    /// The decoded value of one query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// True for Web API calls (`/v1/...`), false for the Accounts service.
    pub fn is_web_api(&self) -> bool {
        self.path.starts_with("/v1/")
    }
}

/// Middleware: logs the request on arrival, so a request whose client timed out is still
/// seen, and its status once answered.
pub(crate) async fn record(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let id = {
        let mut state = shared.lock();
        let user = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .and_then(|token| state.access_token_user(token))
            .map(str::to_owned);
        let id = state.next_request_id;
        state.next_request_id += 1;
        let entry = RecordedRequest {
            method: request.method().to_string(),
            path: request.uri().path().to_owned(),
            query: request.uri().query().unwrap_or_default().to_owned(),
            user,
            status: None,
            at: state.now(),
            id,
        };
        state.requests.push(entry);
        id
    };
    let response = next.run(request).await;
    if let Some(entry) = shared.lock().requests.iter_mut().find(|r| r.id == id) {
        entry.status = Some(response.status().as_u16());
    }
    response
}
