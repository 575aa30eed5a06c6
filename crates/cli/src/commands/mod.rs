//! One module per subcommand.

pub mod backup;
pub mod bench;
pub mod collector;
pub mod demo;
pub mod export;
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
pub async fn token_cipher(settings: &Settings, store: &Store) -> anyhow::Result<TokenCipher> {
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
    ensure_one_key(store, &cipher).await?;
    Ok(cipher)
}

/// `app_state` key of a value sealed with the key in use, to recognise another key.
const KEY_CHECK: &str = "token_key_check";

/// Every process on one database must use the same key, or tokens one process stored cannot
/// be read by another. The first process leaves a value sealed with its key; later ones must
/// be able to open it.
async fn ensure_one_key(store: &Store, cipher: &TokenCipher) -> anyhow::Result<()> {
    const CHECK: &str = "spotify-history token key";
    match store.app_state(KEY_CHECK).await? {
        Some(sealed) => match cipher.decrypt(&sealed) {
            Ok(text) if text.expose() == CHECK => Ok(()),
            _ => anyhow::bail!(
                "TOKEN_ENCRYPTION_KEY: this database's Spotify tokens and sessions were sealed with another key; give every process the same TOKEN_ENCRYPTION_KEY (or the same DATA_DIR/{})",
                spotify_history_spotify::KEY_FILE_NAME
            ),
        },
        None => {
            let sealed = cipher.encrypt(&spotify_history_core::Secret::new(CHECK));
            store.set_app_state(KEY_CHECK, &sealed).await?;
            Ok(())
        }
    }
}

/// The Spotify side when SPOTIFY_CLIENT_ID/SECRET are set, else `None` (import-only mode).
pub async fn spotify_access(
    settings: &Settings,
    store: &Store,
) -> anyhow::Result<Option<SpotifyAccess>> {
    let (Some(client_id), Some(client_secret)) =
        (&settings.spotify_client_id, &settings.spotify_client_secret)
    else {
        return Ok(None);
    };
    let cipher = token_cipher(settings, store).await?;
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

/// Loads the catalogue's names in the background, so the first search does not wait for them.
pub(crate) fn load_catalog_names(store: &spotify_history_store::Store) {
    let store = store.clone();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match store.load_catalog_names().await {
            Ok(()) => tracing::debug!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "catalogue names loaded for search"
            ),
            Err(err) => {
                tracing::warn!(error = %err, "cannot load the catalogue's names yet; the first search will")
            }
        }
    });
}
