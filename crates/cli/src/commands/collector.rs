//! `collector`: the collection loop alone (import jobs, initial sync, polling), for running
//! apart from the HTTP server; `serve` runs the same loop in-process. Stopped cleanly by
//! Ctrl-C or SIGTERM: the unit of work in hand finishes, leases are given back.

use crate::settings::Settings;
use spotify_history_collector::{Collector, CollectorConfig, InitialSyncConfig};
use spotify_history_import::Limits;
use spotify_history_spotify::{RECENTLY_PLAYED_MAX_LIMIT, SpotifyAccess};
use spotify_history_store::Store;
use std::time::Duration;
use tokio::task::JoinHandle;

pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    let store = super::open_store(settings).await?;
    let stored_logs = crate::logging::StoredLogs::start(settings, &store);
    tracing::info!(database = %store.url(), "database ready");
    let metrics_server = super::serve::spawn_metrics_server(settings).await?;
    let spotify = super::spotify_access(settings, &store).await?;
    if spotify.is_none() {
        tracing::info!(
            "SPOTIFY_CLIENT_ID is not set: only import jobs run (no initial sync, no polling)"
        );
    }
    let collector = collector(settings, &store, spotify);
    collector.run(super::serve::shutdown_signal()).await;
    if let Some(metrics_server) = metrics_server {
        let _ = metrics_server.await;
    }
    stored_logs.stop().await;
    store.close().await;
    Ok(())
}

/// Starts the loop on its own task next to the HTTP server (`serve`); it stops on the same
/// signals, and the handle resolves once it has.
pub fn spawn(settings: &Settings, store: &Store, spotify: Option<SpotifyAccess>) -> JoinHandle<()> {
    let collector = collector(settings, store, spotify);
    tokio::spawn(async move { collector.run(super::serve::shutdown_signal()).await })
}

/// A collector configured from COLLECTOR_INTERVAL_SECONDS, COLLECTOR_LEASE_SECONDS,
/// INITIAL_SYNC_*, IMPORT_MAX_* and IMPORT_RECORDS_PER_COMMIT.
fn collector(settings: &Settings, store: &Store, spotify: Option<SpotifyAccess>) -> Collector {
    let mut config =
        CollectorConfig::with_interval(Duration::from_secs(settings.collector_interval_seconds));
    config.initial_sync = InitialSyncConfig {
        enabled: settings.initial_sync_enabled,
        max_days: settings.initial_sync_max_days,
        max_requests: settings.initial_sync_max_requests,
        concurrency: usize::try_from(settings.initial_sync_concurrency).unwrap_or(1),
        page_size: RECENTLY_PLAYED_MAX_LIMIT,
    };
    config.lease = Duration::from_secs(settings.collector_lease_seconds);
    config.import_limits =
        Limits::from_settings(settings.import_max_zip_size_mb, settings.import_max_records);
    config.import_records_per_commit = settings.import_records_per_commit;
    config.uploads_dir = Some(settings.uploads_dir());
    Collector::new(store.clone(), spotify, config)
}
