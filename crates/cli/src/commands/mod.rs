//! One module per subcommand.

pub mod bench;
pub mod collector;
pub mod demo;
pub mod import;
pub mod keygen;
pub mod mcp;
pub mod migrate;
pub mod serve;
pub mod tokens;
pub mod users;

use crate::settings::Settings;
use spotify_history_spotify::{
    KeySource, SpotifyAccess, SpotifyApp, SpotifyClient, SpotifyConfig, TokenCipher,
};
use spotify_history_store::Store;

/// Opens (and migrates) the configured database.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let url = settings.database_url()?;
    // The store's error already names the database and what to check.
    Ok(Store::open(&url).await?)
}

/// The key encrypting Spotify tokens and browser sessions: TOKEN_ENCRYPTION_KEY, or a key
/// file made in DATA_DIR (with a warning to back it up).
pub fn token_cipher(settings: &Settings) -> anyhow::Result<TokenCipher> {
    let (cipher, key_source) = TokenCipher::from_setting_or_file(
        settings.token_encryption_key.as_ref(),
        &settings.data_dir,
    )?;
    if let KeySource::NewFile(path) = &key_source {
        tracing::warn!(
            path = %path.display(),
            "TOKEN_ENCRYPTION_KEY is not set: created a key file for Spotify tokens and sessions; back it up with the database (without it stored Spotify tokens cannot be read)"
        );
    }
    Ok(cipher)
}

/// The Spotify side when SPOTIFY_CLIENT_ID/SECRET are set, else `None` (import-only mode).
pub fn spotify_access(settings: &Settings, store: &Store) -> anyhow::Result<Option<SpotifyAccess>> {
    let (Some(client_id), Some(client_secret)) =
        (&settings.spotify_client_id, &settings.spotify_client_secret)
    else {
        return Ok(None);
    };
    let cipher = token_cipher(settings)?;
    let config = SpotifyConfig {
        app: SpotifyApp {
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            redirect_uri: settings.spotify_redirect_uri(),
        },
        api_base_url: settings.spotify_api_base_url.clone(),
        accounts_base_url: settings.spotify_accounts_base_url.clone(),
        timeout: spotify_history_spotify::DEFAULT_TIMEOUT,
    };
    let client = SpotifyClient::new(config)?;
    Ok(Some(SpotifyAccess::new(client, store.clone(), cipher)))
}
