//! What a listener sees when sign-in fails: error pages, as server-rendered HTML (askama
//! escapes every value), or as the API's JSON error for clients that ask for JSON. Every answer carries headers that keep a token
//! out of caches, referrers and other sites' frames.

use crate::ApiError;
use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

#[derive(Template)]
#[template(path = "auth/problem.html")]
struct ProblemPage<'a> {
    title: &'a str,
    message: &'a str,
    advice: &'a str,
    offer_sign_in: bool,
}

/// A failed step of sign-in: the status, a stable code, what happened and what to do.
#[derive(Debug)]
pub(crate) struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub message: String,
    pub advice: String,
    /// Seconds, for `Retry-After`.
    pub retry_after: Option<u64>,
    /// Whether starting over at /auth/login can help (a link is shown).
    pub offer_sign_in: bool,
}

impl Problem {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        message: impl Into<String>,
        advice: impl Into<String>,
    ) -> Problem {
        Problem {
            status,
            code,
            title,
            message: message.into(),
            advice: advice.into(),
            retry_after: None,
            offer_sign_in: true,
        }
    }

    pub(crate) fn retry_after(mut self, secs: u64) -> Problem {
        self.retry_after = Some(secs);
        self
    }

    pub(crate) fn without_sign_in_link(mut self) -> Problem {
        self.offer_sign_in = false;
        self
    }

    /// The answer: HTML for browsers, the API's JSON error for clients that ask for JSON.
    pub(crate) fn respond(self, request_headers: &HeaderMap) -> Response {
        let mut response = if wants_json(request_headers) {
            let message = format!("{} {}", self.message, self.advice);
            ApiError::new(self.status, self.code, message).into_response()
        } else {
            let page = ProblemPage {
                title: self.title,
                message: &self.message,
                advice: &self.advice,
                offer_sign_in: self.offer_sign_in,
            };
            (self.status, render(&page)).into_response()
        };
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// A page as HTML, or a plain 500 if the template cannot render (a bug, logged).
pub(crate) fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "cannot render a page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "this page could not be shown; the server log has the details",
            )
                .into_response()
        }
    }
}

/// True when the client asks for JSON and not for HTML (API clients, not browsers).
fn wants_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    accept.contains("application/json") && !accept.contains("text/html")
}

/// Middleware: headers on every sign-in answer. `no-store` because the pages show tokens and
/// the redirects carry the `state`; `no-referrer` so the callback's `code` and `state` do not
/// leak to the next site; a CSP that allows no script, no outside resource and no framing.
pub(crate) async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
             form-action 'none'; frame-ancestors 'none'",
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_get_html_and_api_clients_json() {
        let problem = || {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_state",
                "This sign-in link cannot be used",
                "It <expired>.",
                "Start again at /auth/login.",
            )
            .retry_after(5)
        };
        let mut browser = HeaderMap::new();
        browser.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml,*/*"),
        );
        let html = problem().respond(&browser);
        assert_eq!(html.status(), StatusCode::BAD_REQUEST);
        assert_eq!(html.headers()[header::RETRY_AFTER], "5");
        assert!(
            html.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );

        let mut api = HeaderMap::new();
        api.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let json = problem().respond(&api);
        assert!(
            json.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
    }
}
