//! Read-side queries behind the history questions. Each takes a [`PlayFilter`] (whose listens,
//! which window, which counting rule) and returns plain rows; the analytics crate shapes them
//! into answers.

mod coverage;
mod top;

pub use coverage::{CoverageRow, GapRow};
pub use top::RankedRow;

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
    pub(crate) fn from_bound(&self) -> i64 {
        self.from_ms.unwrap_or(i64::MIN)
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
            .bind($filter.from_bound())
            .bind($filter.to_ms)
            .bind($filter.rule.min_ms_played)
            .bind($filter.rule.count_unknown_duration)
    };
}
pub(crate) use bind_filter;
