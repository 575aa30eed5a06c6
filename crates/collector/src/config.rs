//! What a collector is told: how often to run, how far an initial sync may page back, how
//! long its leases last, and who it is among the collectors sharing a database.

use spotify_history_import::{ImportOptions, Limits};
use spotify_history_spotify::RECENTLY_PLAYED_MAX_LIMIT;
use std::path::PathBuf;
use std::time::Duration;

/// The seed's default cycle (COLLECTOR_INTERVAL_SECONDS).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(600);
/// Long enough for a poll or a page of initial sync; leases are renewed while work goes on,
/// so this only bounds how long a dead collector's users and jobs wait for another one.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(300);

/// Settings of one collector.
#[derive(Debug, Clone)]
pub struct CollectorConfig {
    /// Time between the starts of two cycles.
    pub interval: Duration,
    pub initial_sync: InitialSyncConfig,
    /// How long a lease on a user or an import job lasts without renewal.
    pub lease: Duration,
    /// A user polled (by any collector) more recently than this is left for the next cycle,
    /// so collectors sharing a database share the polling instead of repeating it.
    pub poll_spacing: Duration,
    /// Names this collector in leases; must differ between processes.
    pub owner: String,
    /// Safety limits for import jobs (IMPORT_MAX_ZIP_SIZE_MB, IMPORT_MAX_RECORDS).
    pub import_limits: Limits,
    /// Records an import job stores per transaction (IMPORT_RECORDS_PER_COMMIT).
    pub import_records_per_commit: u64,
    /// The upload folder (`DATA_DIR/uploads`): an import job's file there is removed once the
    /// job has ended. `None` keeps every file.
    pub uploads_dir: Option<PathBuf>,
}

/// How the first sync of a new user pages backwards through recently-played
/// (INITIAL_SYNC_* settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitialSyncConfig {
    pub enabled: bool,
    /// Stop paging once a page reaches plays this many days old.
    pub max_days: u32,
    /// Stop after this many requests for one user.
    pub max_requests: u32,
    /// Users synced at once.
    pub concurrency: usize,
    /// Plays asked for per request (1..=50).
    pub page_size: u32,
}

impl Default for InitialSyncConfig {
    fn default() -> Self {
        InitialSyncConfig {
            enabled: true,
            max_days: 30,
            max_requests: 200,
            concurrency: 2,
            page_size: RECENTLY_PLAYED_MAX_LIMIT,
        }
    }
}

impl Default for CollectorConfig {
    fn default() -> Self {
        CollectorConfig::with_interval(DEFAULT_INTERVAL)
    }
}

impl CollectorConfig {
    /// Defaults for everything but the interval; polls are spaced by half of it.
    pub fn with_interval(interval: Duration) -> Self {
        CollectorConfig {
            interval,
            initial_sync: InitialSyncConfig::default(),
            lease: DEFAULT_LEASE,
            poll_spacing: interval / 2,
            owner: unique_owner(),
            import_limits: Limits::default(),
            import_records_per_commit: ImportOptions::DEFAULT_RECORDS_PER_COMMIT,
            uploads_dir: None,
        }
    }
}

/// `host:pid:random`: readable in the database, and distinct even for two collectors in one
/// process (tests) or a restarted process that got the same pid.
pub fn unique_owner() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| "collector".to_owned());
    format!(
        "{host}:{}:{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}
