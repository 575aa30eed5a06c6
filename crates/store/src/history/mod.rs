//! Read-side queries behind the history questions. Each takes a [`PlayFilter`] (whose listens,
//! which window, which counting rule) and returns plain rows; the analytics crate shapes them
//! into answers.
//!
//! Under the default counting rule, answers come from the rollups (`rollup/`): per-user
//! summaries of each day, of blocks of days and of the whole history, brought up to date before
//! they are read, so a question about ten years of listening reads a few thousand small rows,
//! not a million plays. Text search reads the catalogue's names from memory (`names.rs`). Under
//! any other rule, SQL reads the plays: most of those queries first reduce the window's plays
//! to one row per track (one pass over the window) and only then join the catalogue, so joins
//! run once per track rather than once per play.

mod catalog;
mod coverage;
mod discoveries;
mod id_list;
mod jobs;
mod listeners;
mod local_time;
mod names;
mod recent;
mod repeat;
mod rollup;
mod search;
mod subject;
mod sync_status;
mod top;
mod totals;

pub use catalog::{ArtistMatch, TrackMatch};
pub use coverage::{CoverageRow, GapRow, ListenBounds};
pub use discoveries::Discovery;
pub use jobs::{ImportJobRow, JobRunRow};
pub use listeners::ListenerRow;
pub use local_time::{LocalDayRow, LocalHourRow, OffsetSpan};
pub(crate) use names::CatalogNames;
pub use recent::{PlayCursor, RecentPlayRow};
pub use repeat::RepeatBucketRow;
pub use search::{SearchHit, SearchPattern};
pub use subject::Subject;
pub use sync_status::SyncStatusRow;
pub use top::{Counted, RankedRow};
pub use totals::WindowTotals;

use spotify_history_core::{CountingRule, UserId};

/// Which stored listens a question looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlayFilter {
    pub user: UserId,
    /// Inclusive start, Unix ms; `None` = since the first listen.
    pub from_ms: Option<i64>,
    /// Exclusive end, Unix ms.
    pub to_ms: i64,
    pub rule: CountingRule,
}

impl PlayFilter {
    /// The start bound for SQL (no start = the smallest time).
    pub(crate) fn start_bound(&self) -> i64 {
        self.from_ms.unwrap_or(i64::MIN)
    }

    /// The same listens, limited to `[from_ms, to_ms)`.
    pub(crate) fn within(&self, from_ms: i64, to_ms: i64) -> PlayFilter {
        PlayFilter {
            from_ms: Some(from_ms.max(self.start_bound())),
            to_ms: to_ms.min(self.to_ms),
            ..*self
        }
    }
}

/// The WHERE clause every history query shares: `p` is `plays`; `$1` user, `$2` from,
/// `$3` to, `$4` min_ms_played, `$5` whether unknown durations count. Written once so every
/// question applies the same counting rule.
pub(crate) const PLAY_FILTER: &str = "p.user_id = $1 AND p.ended_at >= $2 AND p.ended_at < $3
     AND (p.ms_played >= $4 OR (p.ms_played IS NULL AND $5))";

/// Binds the five parameters of [`PLAY_FILTER`], in order.
macro_rules! bind_filter {
    ($query:expr, $filter:expr) => {
        $query
            .bind($filter.user.0)
            .bind($filter.start_bound())
            .bind($filter.to_ms)
            .bind($filter.rule.min_ms_played)
            .bind($filter.rule.count_unknown_duration)
    };
}
pub(crate) use bind_filter;
