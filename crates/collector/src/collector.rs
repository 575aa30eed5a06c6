//! The collector: one cycle every interval, in priority order — pending import jobs, then
//! initial sync of new users, then polling of active users. One bad user or file never stops
//! the others; a 429 stops Spotify work for the rest of the cycle (and, through the shared
//! "not before" time, for every collector until it passes).

use crate::config::CollectorConfig;
use crate::error::{CycleError, WorkError};
use crate::imports::run_import_job;
use crate::initial_sync::initial_sync;
use crate::poll::poll;
use crate::report::CycleReport;
use crate::user_work::{UserContext, UserWorkResult, finish};
use futures::StreamExt;
use jiff::Timestamp;
use spotify_history_core::UserId;
use spotify_history_spotify::SpotifyAccess;
use spotify_history_store::{JobKind, Store};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How long a stopping collector lets the unit in hand finish before dropping it (an import
/// dropped midway rolls back its current file and resumes from its checkpoint later).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Runs collection cycles. Cheap to clone; clones share the stop flag and wake-up signal.
#[derive(Clone)]
pub struct Collector {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    spotify: Option<SpotifyAccess>,
    config: CollectorConfig,
    stopping: AtomicBool,
    wake: Notify,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("owner", &self.inner.config.owner)
            .field("spotify", &self.inner.spotify.is_some())
            .finish()
    }
}

/// State shared by the units of one cycle.
#[derive(Default)]
struct Cycle {
    /// Set by the first unit that met a 429: later units make no Spotify call.
    rate_limited_until: Mutex<Option<Timestamp>>,
}

impl Cycle {
    fn rate_limited(&self) -> Option<Timestamp> {
        *self
            .rate_limited_until
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn note_rate_limit(&self, until: Timestamp) {
        let mut slot = self
            .rate_limited_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *slot = Some(slot.map_or(until, |t| t.max(until)));
    }
}

impl Collector {
    /// A collector over `store`; without `spotify` (not configured) it runs import jobs only.
    pub fn new(store: Store, spotify: Option<SpotifyAccess>, config: CollectorConfig) -> Self {
        Collector {
            inner: Arc::new(Inner {
                store,
                spotify,
                config,
                stopping: AtomicBool::new(false),
                wake: Notify::new(),
            }),
        }
    }

    pub fn config(&self) -> &CollectorConfig {
        &self.inner.config
    }

    /// Asks the loop to stop after the unit of work in hand.
    pub fn stop(&self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        self.inner.wake.notify_one();
    }

    fn stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::SeqCst)
    }

    /// Runs cycles every interval until `shutdown` resolves (or [`Collector::stop`]), then lets
    /// the unit in hand finish (up to [`SHUTDOWN_GRACE`]) and returns.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        let config = &self.inner.config;
        tracing::info!(owner = %config.owner, interval_s = config.interval.as_secs(), spotify = self.inner.spotify.is_some(), "collector started");
        // Work queued by other processes (PostgreSQL) wakes it too.
        self.inner.store.listen_for_work().await;
        let mut shutdown = pin!(shutdown);
        while !self.stopping() {
            let started = Instant::now();
            let mut cycle = pin!(self.run_once());
            tokio::select! {
                outcome = &mut cycle => log_cycle(outcome),
                () = &mut shutdown => {
                    self.stop();
                    match tokio::time::timeout(SHUTDOWN_GRACE, cycle).await {
                        Ok(outcome) => log_cycle(outcome),
                        Err(_) => tracing::warn!("collector stopped in the middle of a unit of work; its lease runs out and the work is resumed later"),
                    }
                    break;
                }
            }
            let wait = config.interval.saturating_sub(started.elapsed());
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.inner.wake.notified() => {}
                () = self.inner.store.work_queued() => {}
                () = &mut shutdown => self.stop(),
            }
        }
        tracing::info!(owner = %config.owner, "collector stopped");
    }

    /// Runs one cycle: every claimable import job, then initial syncs, then polls.
    pub async fn run_once(&self) -> Result<CycleReport, CycleError> {
        let mut report = CycleReport {
            spotify_enabled: self.inner.spotify.is_some(),
            ..CycleReport::default()
        };
        // Indexes an import died before building again, once its lease has run out: a
        // question's speed depends on them, nothing else does.
        if let Err(err) = self.inner.store.restore_deferred_indexes().await {
            tracing::warn!(%err, "missing indexes could not be built");
        }
        self.run_import_jobs(&mut report).await?;
        if let Some(spotify) = &self.inner.spotify {
            self.collect_from_spotify(spotify, &mut report).await?;
        }
        Ok(report)
    }

    async fn run_import_jobs(&self, report: &mut CycleReport) -> Result<(), CycleError> {
        let Inner { store, config, .. } = &*self.inner;
        while !self.stopping() {
            let Some(job) = store.claim_import_job(&config.owner, config.lease).await? else {
                break;
            };
            let run = store.start_job_run(JobKind::Import, Some(job.user)).await?;
            let outcome = run_import_job(store, config, job, run).await;
            report.imports.push(outcome);
        }
        Ok(())
    }

    async fn collect_from_spotify(
        &self,
        spotify: &SpotifyAccess,
        report: &mut CycleReport,
    ) -> Result<(), CycleError> {
        if let Some(until) = spotify.not_before().await? {
            tracing::info!(%until, "Spotify asked to wait (429): no Spotify calls this cycle");
            report.rate_limited_until = Some(until);
            return Ok(());
        }
        let config = &self.inner.config;
        let candidates = self.inner.store.collection_candidates().await?;
        let (new, active): (Vec<_>, Vec<_>) = candidates
            .into_iter()
            .partition(|c| !c.initial_sync_done && config.initial_sync.enabled);
        let cycle = Cycle::default();

        let concurrency = config.initial_sync.concurrency.max(1);
        // Owned ids, not references: the stream's future must stay `Send` for `tokio::spawn`.
        let new_users: Vec<UserId> = new.iter().map(|c| c.user).collect();
        let syncs: Vec<UserWorkResult> = futures::stream::iter(new_users)
            .map(|user| self.user_work(spotify, user, JobKind::InitialSync, &cycle))
            .buffer_unordered(concurrency)
            .collect()
            .await;
        for result in syncs {
            absorb(report, result, JobKind::InitialSync);
        }
        for candidate in &active {
            let result = self
                .user_work(spotify, candidate.user, JobKind::Poll, &cycle)
                .await;
            absorb(report, result, JobKind::Poll);
        }
        report.rate_limited_until = cycle.rate_limited();
        Ok(())
    }

    /// One initial sync or poll of one user, under the user's lease, recorded as a job run.
    async fn user_work(
        &self,
        spotify: &SpotifyAccess,
        user: UserId,
        kind: JobKind,
        cycle: &Cycle,
    ) -> UserWorkResult {
        if self.stopping() || cycle.rate_limited().is_some() {
            return UserWorkResult::Skipped;
        }
        let Inner { store, config, .. } = &*self.inner;
        let state = match store.lease_user(user, &config.owner, config.lease).await {
            Ok(Some(state)) => state,
            Ok(None) => return UserWorkResult::LeasedElsewhere(user),
            Err(e) => {
                tracing::warn!(user = %user, error = %e, "could not take the user's lease");
                return UserWorkResult::Unrecorded;
            }
        };
        let ctx = UserContext {
            store,
            spotify,
            owner: &config.owner,
            lease: config.lease,
            state,
        };
        let result = self.user_work_leased(&ctx, kind, cycle).await;
        if let Err(e) = store.release_user(user, &config.owner).await {
            tracing::warn!(user = %user, error = %e, "could not release the user's lease; it runs out by itself");
        }
        result
    }

    async fn user_work_leased(
        &self,
        ctx: &UserContext<'_>,
        kind: JobKind,
        cycle: &Cycle,
    ) -> UserWorkResult {
        let user = ctx.state.user;
        let config = &self.inner.config;
        // Read under the lease: another collector may have done the work since the cycle
        // listed its users.
        let not_needed = match kind {
            JobKind::InitialSync => ctx.state.initial_sync_done,
            _ => ctx.state.last_polled_at.is_some_and(|at| {
                let spacing = i64::try_from(config.poll_spacing.as_millis()).unwrap_or(i64::MAX);
                Timestamp::now().as_millisecond() - at < spacing
            }),
        };
        if not_needed {
            return UserWorkResult::NotNeeded(user);
        }
        match ctx.store.fail_abandoned_job_runs(user).await {
            Ok(0) => {}
            Ok(closed) => {
                tracing::warn!(user = %user, closed, "closed job runs of a collector that died")
            }
            Err(e) => {
                tracing::warn!(user = %user, error = %e, "could not close abandoned job runs")
            }
        }
        let run = match ctx.store.start_job_run(kind, Some(user)).await {
            Ok(run) => run,
            Err(e) => {
                tracing::warn!(user = %user, error = %e, "could not open a job run");
                return UserWorkResult::Unrecorded;
            }
        };
        let result = match kind {
            JobKind::InitialSync => initial_sync(ctx, &config.initial_sync).await,
            _ => poll(ctx).await,
        };
        if let Some(until) = result
            .as_ref()
            .err()
            .and_then(WorkError::rate_limited_until)
        {
            cycle.note_rate_limit(until);
        }
        UserWorkResult::Done(finish(ctx, kind, run, result).await)
    }
}

/// Files one unit's result in the cycle report.
fn absorb(report: &mut CycleReport, result: UserWorkResult, kind: JobKind) {
    match result {
        UserWorkResult::Done(outcome) if kind == JobKind::InitialSync => {
            report.initial_syncs.push(outcome)
        }
        UserWorkResult::Done(outcome) => report.polls.push(outcome),
        UserWorkResult::LeasedElsewhere(user) => report.leased_elsewhere.push(user),
        UserWorkResult::NotNeeded(user) if kind == JobKind::Poll => {
            report.recently_polled.push(user)
        }
        UserWorkResult::NotNeeded(_) | UserWorkResult::Skipped | UserWorkResult::Unrecorded => {}
    }
}

fn log_cycle(outcome: Result<CycleReport, CycleError>) {
    match outcome {
        Ok(report) if report.outcomes().count() == 0 && report.rate_limited_until.is_none() => {
            tracing::debug!(
                leased_elsewhere = report.leased_elsewhere.len(),
                "collector cycle: nothing to do"
            );
        }
        Ok(report) => {
            let failed = report.failures().count();
            tracing::info!(
                imports = report.imports.len(),
                initial_syncs = report.initial_syncs.len(),
                polls = report.polls.len(),
                failed,
                leased_elsewhere = report.leased_elsewhere.len(),
                rate_limited_until = report.rate_limited_until.map(|t| t.to_string()),
                "collector cycle done"
            );
        }
        Err(e) => tracing::error!(error = %e, "collector cycle failed; retrying next interval"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `serve` spawns the loop on the runtime: its futures must be `Send`.
    #[allow(dead_code)]
    fn loop_futures_are_send(collector: &Collector) {
        fn send<T: Send>(_: T) {}
        send(collector.run_once());
        send(collector.run(std::future::pending::<()>()));
    }
}
