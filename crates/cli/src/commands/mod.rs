//! One module per subcommand.

pub mod bench;
pub mod demo;
pub mod import;
pub mod keygen;
pub mod mcp;
pub mod migrate;
pub mod serve;
pub mod tokens;
pub mod users;

use crate::settings::Settings;
use spotify_history_store::Store;

/// Opens (and migrates) the configured database.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let url = settings.database_url()?;
    // The store's error already names the database and what to check.
    Ok(Store::open(&url).await?)
}
