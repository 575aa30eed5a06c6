//! One unit of Spotify work for one user (initial sync or poll), wrapped the same way every
//! time: take the user's lease, open a `job_runs` row, do the work, record the outcome on the
//! run and on the user's sync state (failures included), give the lease back.

use crate::error::WorkError;
use crate::report::WorkOutcome;
use spotify_history_core::{UserId, metrics};
use spotify_history_spotify::{AccessError, SpotifyAccess};
use spotify_history_store::{
    CollectionSuccess, FinishedRun, JobKind, RunStatus, Store, UserSyncState, WriteOutcome,
};
use std::time::Duration;

/// What a unit of user work needs, with the sync state read when the lease was taken.
pub(crate) struct UserContext<'a> {
    pub store: &'a Store,
    pub spotify: &'a SpotifyAccess,
    pub owner: &'a str,
    pub lease: Duration,
    pub state: UserSyncState,
}

impl UserContext<'_> {
    /// Keeps the lease alive during long work; fails if another collector took the user.
    pub(crate) async fn renew_lease(&self) -> Result<(), WorkError> {
        if self
            .store
            .renew_user_lease(self.state.user, self.owner, self.lease)
            .await?
        {
            Ok(())
        } else {
            Err(WorkError::LeaseLost)
        }
    }
}

/// What a successful unit found and stored.
#[derive(Debug, Clone)]
pub(crate) struct Collected {
    pub fetched: u64,
    pub written: WriteOutcome,
    pub newest_played_at: Option<i64>,
    pub details: serde_json::Value,
}

/// How a unit of user work went, for the cycle.
#[derive(Debug)]
pub(crate) enum UserWorkResult {
    Done(WorkOutcome),
    /// Another collector holds the user's lease.
    LeasedElsewhere(UserId),
    /// Nothing to do after all (the state read under the lease says so).
    NotNeeded(UserId),
    /// Not started: the collector is stopping or Spotify asked to wait.
    Skipped,
    /// The database failed before a job run could be written.
    Unrecorded,
}

/// Records the run's end and the user's sync state; the unit's own error wins over a failure
/// to record it, which is only logged.
pub(crate) async fn finish(
    ctx: &UserContext<'_>,
    kind: JobKind,
    run: spotify_history_core::JobRunId,
    result: Result<Collected, WorkError>,
) -> WorkOutcome {
    let user = ctx.state.user;
    let store = ctx.store;
    let outcome = match result {
        Ok(collected) => {
            let success = CollectionSuccess {
                newest_played_at: collected.newest_played_at,
                initial_sync_done: kind == JobKind::InitialSync,
            };
            let recorded = store.record_collection_success(user, &success).await;
            let error = recorded
                .err()
                .map(|e| format!("the plays were stored, but not the sync state: {e}"));
            WorkOutcome {
                kind,
                user: Some(user),
                import_job: None,
                job_run: run,
                status: if error.is_none() {
                    RunStatus::Succeeded
                } else {
                    RunStatus::Failed
                },
                fetched: collected.fetched,
                inserted: collected.written.inserted,
                error,
            }
            .with_details(store, collected.details)
            .await
        }
        Err(err) => {
            let message = err.to_string();
            // A rate limit is the app's, not the user's: their failure streak does not grow.
            let counts_against_user =
                !matches!(err, WorkError::Spotify(AccessError::RateLimited { .. }));
            if counts_against_user
                && let Err(e) = store.record_collection_failure(user, &message).await
            {
                tracing::warn!(user = %user, error = %e, "could not record the failure on the sync state");
            }
            WorkOutcome {
                kind,
                user: Some(user),
                import_job: None,
                job_run: run,
                status: RunStatus::Failed,
                fetched: 0,
                inserted: 0,
                error: Some(message),
            }
            .with_details(store, serde_json::Value::Null)
            .await
        }
    };
    match &outcome.error {
        None => tracing::info!(
            user = %user, kind = kind.as_str(), fetched = outcome.fetched,
            inserted = outcome.inserted, "collected"
        ),
        Some(error) => {
            tracing::warn!(user = %user, kind = kind.as_str(), %error, "collection failed")
        }
    }
    outcome
}

impl WorkOutcome {
    /// Writes this outcome to its job run (with `details`), logging if that fails.
    /// Every run of every kind ends here, so this is also where `/metrics` counts them.
    pub(crate) async fn with_details(self, store: &Store, details: serde_json::Value) -> Self {
        metrics::collector_run(self.kind.as_str(), self.status.as_str());
        if self.kind != JobKind::Import {
            metrics::plays_collected(self.kind.as_str(), self.inserted);
        }
        let details = (!details.is_null()).then_some(details);
        let finished = FinishedRun {
            status: self.status,
            items_fetched: self.fetched,
            items_inserted: self.inserted,
            error: self.error.as_deref(),
            details: details.as_ref(),
        };
        if let Err(e) = store.finish_job_run(self.job_run, &finished).await {
            tracing::warn!(job_run = %self.job_run, error = %e, "could not record the end of a job run");
        }
        self
    }
}
