//! Client for Spotify's Accounts service (OAuth with PKCE, token refresh) and Web API
//! (recently played, top lists, search, single tracks, artists and albums), as Spotify serves
//! them in 2026 to development-mode apps.
//!
//! The client never retries: every failure comes back as a typed [`SpotifyError`] saying what
//! failed and what to do (refresh, wait `retry_after`, re-authorize), and the caller decides.

mod access;
mod cipher;
mod client;
mod config;
mod error;
mod listen;
mod models;
mod oauth;
mod pkce;
mod web_api;

pub use access::{AccessError, MAX_RATE_LIMIT_WAIT, REFRESH_AHEAD, SpotifyAccess};
pub use cipher::{CipherError, KEY_FILE_NAME, KeySource, TokenCipher};
pub use client::SpotifyClient;
pub use config::{
    DEFAULT_ACCOUNTS_BASE_URL, DEFAULT_API_BASE_URL, DEFAULT_TIMEOUT, SpotifyApp, SpotifyConfig,
};
pub use error::{DEFAULT_RETRY_AFTER, SpotifyError};
pub use listen::{estimate_ms_played, play_to_listen};
pub use models::{
    Album, Artist, Context, Cursors, ExternalIds, ExternalUrls, Image, Me, Page, PlayHistoryItem,
    RecentlyPlayedPage, SearchResults, SimplifiedAlbum, SimplifiedArtist, TopItems, Track,
};
pub use oauth::{SCOPES, TokenGrant};
pub use pkce::Pkce;
pub use web_api::{
    Cursor, RECENTLY_PLAYED_MAX_LIMIT, SEARCH_MAX_LIMIT, SearchType, TOP_MAX_LIMIT, TimeRange,
    TopKind,
};
