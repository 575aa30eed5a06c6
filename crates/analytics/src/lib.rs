//! The history questions. One function per question over the [`Store`]; every answer carries
//! the window it covers (with its time zone), the counting rule it applied and the coverage of
//! the data behind it, so an assistant can say exactly what a number means.
//!
//! Arguments and results derive `JsonSchema`: their doc comments are what a model reads.

mod answer;
mod artist;
mod compare;
mod coverage;
mod discoveries;
mod error;
mod heatmap;
mod jobs;
mod listeners;
mod listening_time;
mod period;
mod podcasts;
mod recent;
mod repeat;
mod search;
mod sync_status;
mod taste;
mod top;
mod track;

pub use answer::{Answer, CountingRuleInfo, Coverage, Gap, SourceCount, WindowInfo};
pub use artist::{ArtistArgs, ArtistDetail};
pub use compare::{Change, CompareArgs, Comparison, PeriodSummary};
pub use coverage::{CoverageArgs, CoverageReport, Stretch};
pub use discoveries::{DiscoveredItem, Discoveries, DiscoveriesArgs};
pub use error::AnalyticsError;
pub use heatmap::{HeatCell, Heatmap, HeatmapArgs, HeatmapDay, HourTotal, WeekdayTotal};
pub use jobs::{ImportJob, ImportJobs, JobRun, JobRuns, LatestArgs};
pub use listeners::{UserSummary, Users};
pub use listening_time::{Bucket, ListeningTime, ListeningTimeArgs, TimeBucket};
pub use period::{Period, Window};
pub use podcasts::Podcasts;
pub use recent::{PlayItem, RecentArgs, RecentPlays};
pub use repeat::{RepeatArgs, RepeatBucket, RepeatRate};
pub use search::{SearchArgs, SearchMatch, SearchResults};
pub use sync_status::SyncStatus;
pub use taste::{Diversity, TasteArgs, TasteSummary};
pub use top::{RankedItem, TopArgs, TopList};
pub use track::{TrackArgs, TrackCandidate, TrackDetail};

use spotify_history_core::{CountingRule, UserId};
use spotify_history_store::Store;
use spotify_history_store::history::PlayFilter;

/// Result of a question.
pub type Result<T, E = AnalyticsError> = std::result::Result<T, E>;

/// Whose history a question is about, and their preferences.
#[derive(Debug, Clone)]
pub struct Scope {
    pub user: UserId,
    /// The user's own time zone, used when a question names none.
    pub time_zone: Option<String>,
}

/// Answers history questions from one store.
#[derive(Debug, Clone)]
pub struct Analytics {
    store: Store,
    /// DEFAULT_MIN_MS_PLAYED: listens shorter than this are not plays unless a call says so.
    default_min_ms: i64,
    /// Fixed "now" for tests; `None` = the clock.
    now: Option<jiff::Timestamp>,
}

impl Analytics {
    /// Answers from `store`, counting listens of at least `default_min_ms` as plays unless a
    /// question says otherwise.
    pub fn new(store: Store, default_min_ms: i64) -> Self {
        Self {
            store,
            default_min_ms,
            now: None,
        }
    }

    /// Answers as if it were `now` (tests, reproducible examples).
    pub fn at(mut self, now: jiff::Timestamp) -> Self {
        self.now = Some(now);
        self
    }

    /// The store answers are read from.
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn now(&self) -> jiff::Timestamp {
        self.now.unwrap_or_else(jiff::Timestamp::now)
    }

    /// The counting rule for a call's `min_ms` argument.
    fn rule(&self, min_ms: Option<i64>) -> Result<CountingRule> {
        let min_ms_played = min_ms.unwrap_or(self.default_min_ms);
        if !(0..=3_600_000).contains(&min_ms_played) {
            return Err(AnalyticsError::BadArgument(format!(
                "min_ms must be between 0 and 3600000 milliseconds, got {min_ms_played}"
            )));
        }
        Ok(CountingRule {
            min_ms_played,
            count_unknown_duration: true,
        })
    }

    /// Resolves a period and counting rule into the store filter and the answer header.
    fn frame(
        &self,
        scope: &Scope,
        period: &Period,
        min_ms: Option<i64>,
    ) -> Result<(PlayFilter, Window, CountingRule)> {
        let window = period.resolve(self.now(), scope.time_zone.as_deref())?;
        let rule = self.rule(min_ms)?;
        let filter = PlayFilter {
            user: scope.user,
            from_ms: window.from_ms,
            to_ms: window.to_ms,
            rule,
        };
        Ok((filter, window, rule))
    }

    /// Wraps a result with its window, rule and coverage.
    async fn answer<T>(
        &self,
        filter: &PlayFilter,
        window: &Window,
        rule: CountingRule,
        result: T,
    ) -> Result<Answer<T>> {
        let coverage = self.store.coverage(filter).await?;
        let gaps = self.store.coverage_gaps(filter).await?;
        Ok(Answer::new(window, rule, coverage, gaps, result))
    }
}
