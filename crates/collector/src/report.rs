//! What one cycle did, for logs and tests: every unit of work with its job run, the users
//! another collector held, and whether Spotify asked the app to wait.

use jiff::Timestamp;
use serde::Serialize;
use spotify_history_core::{ImportJobId, JobRunId, UserId};
use spotify_history_store::{JobKind, RunStatus};

/// One unit of work and how it ended (the same as its `job_runs` row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkOutcome {
    pub kind: JobKind,
    pub user: Option<UserId>,
    /// The import job, for imports.
    pub import_job: Option<ImportJobId>,
    pub job_run: JobRunId,
    pub status: RunStatus,
    /// Plays fetched from Spotify, or records read from an export.
    pub fetched: u64,
    /// New listens stored.
    pub inserted: u64,
    pub error: Option<String>,
}

impl WorkOutcome {
    pub fn succeeded(&self) -> bool {
        self.status == RunStatus::Succeeded
    }
}

/// Everything one cycle did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CycleReport {
    pub imports: Vec<WorkOutcome>,
    pub initial_syncs: Vec<WorkOutcome>,
    pub polls: Vec<WorkOutcome>,
    /// Users skipped because another collector holds their lease.
    pub leased_elsewhere: Vec<UserId>,
    /// Users skipped because some collector polled them less than `poll_spacing` ago.
    pub recently_polled: Vec<UserId>,
    /// Set when Spotify work stopped (or never started) this cycle because of a 429: no
    /// Spotify call is made before this time, by any collector.
    pub rate_limited_until: Option<Timestamp>,
    /// False when Spotify is not configured: only import jobs ran.
    pub spotify_enabled: bool,
}

impl CycleReport {
    /// Every unit of work, in the order the cycle ran them.
    pub fn outcomes(&self) -> impl Iterator<Item = &WorkOutcome> {
        self.imports
            .iter()
            .chain(&self.initial_syncs)
            .chain(&self.polls)
    }

    /// Units that failed.
    pub fn failures(&self) -> impl Iterator<Item = &WorkOutcome> {
        self.outcomes().filter(|o| !o.succeeded())
    }
}
