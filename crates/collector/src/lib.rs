//! The collector of spotify-history: a loop per process that, every
//! COLLECTOR_INTERVAL_SECONDS and in priority order, runs pending import jobs through the
//! import engine, gives new Spotify users their initial sync (paging back through
//! recently-played), and polls active users with the `after` cursor.
//!
//! Several collectors can share one PostgreSQL database: users and import jobs are leased
//! (a crashed collector's leases run out and another takes over), so no user is polled by two
//! collectors at once. Every unit of work writes a `job_runs` row with its outcome.
//!
//! ```no_run
//! # async fn demo(store: spotify_history_store::Store) {
//! use spotify_history_collector::{Collector, CollectorConfig};
//! let collector = Collector::new(store, None, CollectorConfig::default());
//! let report = collector.run_once().await.expect("the database answers");
//! println!("{} import jobs ran", report.imports.len());
//! # }
//! ```

mod collector;
mod config;
mod error;
mod imports;
mod initial_sync;
mod plays;
mod poll;
mod report;
mod user_work;

pub use collector::{Collector, SHUTDOWN_GRACE};
pub use config::{
    CollectorConfig, DEFAULT_INTERVAL, DEFAULT_LEASE, InitialSyncConfig, unique_owner,
};
pub use error::{CycleError, WorkError};
pub use initial_sync::StopReason;
pub use poll::{FULL_PAGE_GAP_REASON, POLL_OVERLAP_MS};
pub use report::{CycleReport, WorkOutcome};
