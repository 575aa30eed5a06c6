//! Why a unit of work (an import job, a user's initial sync or poll) failed. The message is
//! what lands in `job_runs.error` and `sync_state.last_error`, so it says what to do.

use spotify_history_import::ImportError;
use spotify_history_spotify::AccessError;
use spotify_history_store::StoreError;

/// A failed unit of work; the collector records it and goes on with the others.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error(transparent)]
    Spotify(#[from] AccessError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("the database failed: {0}")]
    Store(#[from] StoreError),
    #[error("import job {0} has no file to import: queue the upload again")]
    NoImportFile(i64),
    #[error(
        "another collector took over (this one's lease ran out): it carries on from the last commit"
    )]
    LeaseLost,
    #[error("internal error: {0}")]
    Internal(String),
}

impl WorkError {
    /// When Spotify asked the whole app to wait: no more Spotify calls this cycle.
    pub fn rate_limited_until(&self) -> Option<jiff::Timestamp> {
        match self {
            WorkError::Spotify(AccessError::RateLimited { until, .. }) => Some(*until),
            _ => None,
        }
    }
}

/// What stops a whole cycle: only the database being unusable (listing work or claiming a
/// job failed). Failures of single units are recorded, not returned.
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    #[error("the collector cannot read its work from the database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot read Spotify's rate-limit pause: {0}")]
    Spotify(#[from] AccessError),
}
