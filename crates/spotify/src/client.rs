//! The HTTP side of the client: one `reqwest` client with timeouts, and the mapping of
//! Spotify's answers (JSON, plain text, HTML) to results and [`SpotifyError`]s.

use crate::config::{SpotifyApp, SpotifyConfig};
use crate::error::{DEFAULT_RETRY_AFTER, SpotifyError};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use spotify_history_core::Secret;
use std::time::Duration;

/// Talks to Spotify's Accounts service and Web API. Cheap to clone; share one per app.
#[derive(Debug, Clone)]
pub struct SpotifyClient {
    http: reqwest::Client,
    pub(crate) app: SpotifyApp,
    /// Without trailing slash.
    api_base: String,
    /// Without trailing slash.
    pub(crate) accounts_base: String,
    timeout: Duration,
}

impl SpotifyClient {
    /// A client for the configured app; fails on unusable base URLs or a redirect URI that
    /// Spotify would refuse.
    pub fn new(config: SpotifyConfig) -> Result<SpotifyClient, SpotifyError> {
        let api_base = base_url("SPOTIFY_API_BASE_URL", &config.api_base_url)?;
        let accounts_base = base_url("SPOTIFY_ACCOUNTS_BASE_URL", &config.accounts_base_url)?;
        check_redirect_uri(&config.app.redirect_uri)?;
        if config.app.client_id.trim().is_empty() {
            return Err(SpotifyError::InvalidConfig {
                message: "SPOTIFY_CLIENT_ID is empty".into(),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            // Spotify does not redirect API calls; following one would resend the token.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("spotify-history/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SpotifyError::InvalidConfig {
                message: format!("cannot set up the HTTP client: {e}"),
            })?;
        Ok(SpotifyClient {
            http,
            app: config.app,
            api_base,
            accounts_base,
            timeout: config.timeout,
        })
    }

    /// The app this client signs in to.
    pub fn app(&self) -> &SpotifyApp {
        &self.app
    }

    /// A Web API URL: `path` starts with `/v1/`; query values are encoded here.
    pub(crate) fn api_url(&self, path: &str, query: &[(&str, String)]) -> Url {
        let mut url = Url::parse(&format!("{}{path}", self.api_base))
            .expect("a validated base URL and a fixed path form a URL");
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// GET a Web API URL with the user's access token and decode the JSON answer.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        access_token: &Secret,
        url: Url,
    ) -> Result<T, SpotifyError> {
        let request = self.http.get(url).bearer_auth(access_token.expose());
        self.send(endpoint, request).await
    }

    /// POST a form to the Accounts service's token endpoint, authenticating the app with
    /// HTTP Basic, and decode the JSON answer.
    pub(crate) async fn post_token_form<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        form: &[(&str, &str)],
    ) -> Result<T, SpotifyError> {
        let request = self
            .http
            .post(format!("{}/api/token", self.accounts_base))
            .basic_auth(&self.app.client_id, Some(self.app.client_secret.expose()))
            .form(form);
        self.send(endpoint, request).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<T, SpotifyError> {
        let network = |source: reqwest::Error| SpotifyError::Network {
            endpoint,
            detail: network_detail(&source, self.timeout),
            source,
        };
        let response = request.send().await.map_err(network)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(network)?;
        if status.is_success() {
            serde_json::from_slice(&body)
                .map_err(|source| SpotifyError::Decode { endpoint, source })
        } else {
            Err(classify(endpoint, status, &headers, &body))
        }
    }
}

/// What a base URL setting must look like; returned without trailing slash.
fn base_url(setting: &str, raw: &str) -> Result<String, SpotifyError> {
    let trimmed = raw.trim().trim_end_matches('/');
    match Url::parse(trimmed) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.query().is_none() => {
            Ok(trimmed.to_owned())
        }
        _ => Err(SpotifyError::InvalidConfig {
            message: format!(
                "{setting} must be an http(s) URL like https://api.spotify.com, not {raw:?}"
            ),
        }),
    }
}

/// Spotify accepts only HTTPS redirect URIs, or plain HTTP on a loopback address literal.
fn check_redirect_uri(uri: &str) -> Result<(), SpotifyError> {
    let refuse = |why: &str| {
        Err(SpotifyError::InvalidConfig {
            message: format!(
                "SPOTIFY_REDIRECT_URI {uri:?} {why}: Spotify accepts only https:// URIs or \
                 http://127.0.0.1:<port>/... (not localhost)"
            ),
        })
    };
    let Ok(url) = Url::parse(uri) else {
        return refuse("is not a URL");
    };
    match (url.scheme(), url.host_str()) {
        ("https", Some(_)) => Ok(()),
        ("http", Some("127.0.0.1" | "[::1]")) => Ok(()),
        ("http", Some("localhost")) => refuse("uses localhost"),
        _ => refuse("is neither HTTPS nor loopback"),
    }
}

/// Why no answer came, in words, with reqwest's chain of causes.
fn network_detail(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs());
    }
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    detail
}

/// Maps an error answer to its [`SpotifyError`]. The Web API writes
/// `{"error":{"status","message"}}`, the Accounts service `{"error","error_description"}`,
/// and some answers (403 "User not registered", proxy 502s) are not JSON at all.
fn classify(
    endpoint: &'static str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> SpotifyError {
    let text = String::from_utf8_lossy(body).trim().to_owned();
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let oauth_error = json
        .as_ref()
        .and_then(|v| v.get("error"))
        .and_then(|e| e.as_str())
        .map(str::to_owned);
    let message = match &json {
        Some(value) => value
            .pointer("/error/message")
            .or_else(|| value.get("error_description"))
            .and_then(|m| m.as_str())
            .map(str::to_owned)
            .or_else(|| oauth_error.clone())
            .unwrap_or_else(|| excerpt(&text)),
        None => excerpt(&text),
    };
    match (status, oauth_error.as_deref()) {
        (_, Some("invalid_grant")) => SpotifyError::InvalidGrant {
            endpoint,
            description: message,
        },
        (_, Some("invalid_client")) => SpotifyError::InvalidClient {
            endpoint,
            description: message,
        },
        (StatusCode::UNAUTHORIZED, _) => SpotifyError::Unauthorized { endpoint, message },
        (StatusCode::FORBIDDEN, _) if json.is_none() && is_not_registered(&text) => {
            SpotifyError::NotRegistered {
                endpoint,
                message: text,
            }
        }
        (StatusCode::FORBIDDEN, _) => SpotifyError::Forbidden { endpoint, message },
        (StatusCode::TOO_MANY_REQUESTS, _) => SpotifyError::RateLimited {
            endpoint,
            retry_after: retry_after(headers),
        },
        (StatusCode::BAD_REQUEST, _) => SpotifyError::BadRequest { endpoint, message },
        (StatusCode::NOT_FOUND, _) => SpotifyError::NotFound { endpoint, message },
        (status, _) if status.is_server_error() => SpotifyError::Server {
            endpoint,
            status: status.as_u16(),
        },
        (status, _) => SpotifyError::UnexpectedStatus {
            endpoint,
            status: status.as_u16(),
            message,
        },
    }
}

fn is_not_registered(text: &str) -> bool {
    text.to_ascii_lowercase().contains("not registered")
}

/// `Retry-After` in seconds, as Spotify sends it; [`DEFAULT_RETRY_AFTER`] when absent or not
/// a number of seconds.
fn retry_after(headers: &HeaderMap) -> Duration {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(DEFAULT_RETRY_AFTER, Duration::from_secs)
}

/// Enough of a non-JSON body to recognise it in a log line.
fn excerpt(text: &str) -> String {
    const MAX_CHARS: usize = 200;
    if text.is_empty() {
        return "empty body".to_owned();
    }
    let mut excerpt: String = text.chars().take(MAX_CHARS).collect();
    if text.chars().count() > MAX_CHARS {
        excerpt.push('…');
    }
    excerpt
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn redirect_uris_follow_spotify_rules() {
        assert!(check_redirect_uri("https://music.example.org/auth/callback").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:8000/auth/callback").is_ok());
        let localhost = check_redirect_uri("http://localhost:8000/auth/callback").unwrap_err();
        assert!(
            localhost.to_string().contains("not localhost"),
            "{localhost}"
        );
        assert!(check_redirect_uri("http://music.example.org/cb").is_err());
    }

    #[test]
    fn base_urls_lose_trailing_slashes_and_must_be_http() {
        assert_eq!(
            base_url("X", "https://api.spotify.com/").unwrap(),
            "https://api.spotify.com"
        );
        assert!(base_url("X", "api.spotify.com").is_err());
        assert!(base_url("X", "ftp://api.spotify.com").is_err());
    }

    #[test]
    fn retry_after_falls_back_when_missing_or_not_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), DEFAULT_RETRY_AFTER);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7200"));
        assert_eq!(retry_after(&headers), Duration::from_secs(7200));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2026 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), DEFAULT_RETRY_AFTER);
    }

    #[test]
    fn error_bodies_of_each_shape_are_read() {
        let headers = HeaderMap::new();
        let web = classify(
            "GET /v1/me",
            StatusCode::UNAUTHORIZED,
            &headers,
            br#"{"error":{"status":401,"message":"The access token expired"}}"#,
        );
        assert!(
            matches!(&web, SpotifyError::Unauthorized { message, .. } if message == "The access token expired")
        );
        let accounts = classify(
            "POST /api/token",
            StatusCode::BAD_REQUEST,
            &headers,
            br#"{"error":"invalid_grant","error_description":"Refresh token revoked"}"#,
        );
        assert!(
            matches!(&accounts, SpotifyError::InvalidGrant { description, .. } if description == "Refresh token revoked")
        );
        let html = classify(
            "GET /v1/me",
            StatusCode::FORBIDDEN,
            &headers,
            b"<html>denied</html>",
        );
        assert!(matches!(html, SpotifyError::Forbidden { .. }));
    }
}
