//! `migrate`: apply pending migrations and report the database in use.

use crate::settings::Settings;

pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    let store = super::open_store(settings).await?;
    println!("database {} is up to date", store.url());
    store.close().await;
    Ok(())
}
