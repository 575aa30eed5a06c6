//! What the client needs to know: the app's credentials and where Spotify is.

use spotify_history_core::Secret;
use std::time::Duration;

/// The real Web API (SPOTIFY_API_BASE_URL's default).
pub const DEFAULT_API_BASE_URL: &str = "https://api.spotify.com";
/// The real Accounts service (SPOTIFY_ACCOUNTS_BASE_URL's default).
pub const DEFAULT_ACCOUNTS_BASE_URL: &str = "https://accounts.spotify.com";
/// Longest wait for one whole request, so a stalled connection cannot hold a collector.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// A Spotify app as registered in the Developer Dashboard.
#[derive(Debug, Clone)]
pub struct SpotifyApp {
    pub client_id: String,
    pub client_secret: Secret,
    /// Must be registered in the dashboard exactly; HTTPS or `http://127.0.0.1:<port>/...`.
    pub redirect_uri: String,
}

/// Client settings: the app and the base URLs (tests point them at the fake server).
#[derive(Debug, Clone)]
pub struct SpotifyConfig {
    pub app: SpotifyApp,
    /// Web API base without `/v1`, e.g. `https://api.spotify.com`.
    pub api_base_url: String,
    /// Accounts service base, e.g. `https://accounts.spotify.com`.
    pub accounts_base_url: String,
    /// Timeout of each request, connection included.
    pub timeout: Duration,
}

impl SpotifyConfig {
    /// The real Spotify with the default timeout.
    pub fn new(app: SpotifyApp) -> SpotifyConfig {
        SpotifyConfig {
            app,
            api_base_url: DEFAULT_API_BASE_URL.to_owned(),
            accounts_base_url: DEFAULT_ACCOUNTS_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}
