//! The frame of every answer: window, counting rule, coverage.

use crate::Window;
use schemars::JsonSchema;
use serde::Serialize;
use spotify_history_core::CountingRule;
use spotify_history_store::history::{CoverageRow, GapRow};

/// An answer to a history question, with what it is based on.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Answer<T> {
    /// The time window the numbers cover.
    pub window: WindowInfo,
    /// When a stored listen counted as a play.
    pub counting_rule: CountingRuleInfo,
    /// What data the window holds and where it may be incomplete.
    pub coverage: Coverage,
    /// The answer itself.
    pub result: T,
}

/// The window of an answer, in its time zone.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WindowInfo {
    /// Inclusive start (ISO-8601 with offset), or null for "since the first listen".
    pub from: Option<String>,
    /// Exclusive end (ISO-8601 with offset).
    pub to: String,
    /// IANA time zone used for dates, hours and weekdays.
    pub tz: String,
}

impl WindowInfo {
    /// How a resolved window is shown in answers.
    pub fn of(window: &Window) -> Self {
        WindowInfo {
            from: window.from_ms.map(|ms| window.local(ms)),
            to: window.local(window.to_ms),
            tz: window.tz_name.clone(),
        }
    }
}

/// The counting rule applied.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CountingRuleInfo {
    /// Listens shorter than this many milliseconds were not counted.
    pub min_ms_played: i64,
    /// Whether listens of unknown duration (from Spotify's recently-played API) were counted.
    pub unknown_duration_counted: bool,
    /// The rule in words.
    pub description: String,
}

/// Coverage of the window.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Coverage {
    /// Counted listens in the window.
    pub listens_in_window: i64,
    /// Counted listens in the window per confirming source (a listen confirmed by two sources
    /// counts for both).
    pub sources: Vec<SourceCount>,
    /// The user's first stored listen, in the window's zone.
    pub first_listen: Option<String>,
    /// The user's latest stored listen, in the window's zone.
    pub last_listen: Option<String>,
    /// Known stretches in the window where listens may be missing.
    pub gaps: Vec<Gap>,
}

/// Listens of one source.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SourceCount {
    /// `extended_export`, `account_data`, `recently_played` or `initial_sync`.
    pub source: String,
    pub listens: i64,
}

/// A known stretch without complete data.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Gap {
    pub from: String,
    pub to: String,
    /// Why data may be missing, e.g. `more_than_50_plays_between_polls`.
    pub reason: String,
}

impl<T> Answer<T> {
    pub(crate) fn new(
        window: &Window,
        rule: CountingRule,
        coverage: CoverageRow,
        gaps: Vec<GapRow>,
        result: T,
    ) -> Self {
        Answer {
            window: WindowInfo::of(window),
            counting_rule: CountingRuleInfo::from(rule),
            coverage: Coverage {
                listens_in_window: coverage.listens,
                sources: coverage
                    .by_source
                    .into_iter()
                    .map(|(source, listens)| SourceCount {
                        source: source.as_str().to_string(),
                        listens,
                    })
                    .collect(),
                first_listen: coverage.first_listen_ms.map(|ms| window.local(ms)),
                last_listen: coverage.last_listen_ms.map(|ms| window.local(ms)),
                gaps: gaps
                    .into_iter()
                    .map(|gap| Gap {
                        from: window.local(gap.starts_at),
                        to: window.local(gap.ends_at),
                        reason: gap.reason,
                    })
                    .collect(),
            },
            result,
        }
    }
}

impl From<CountingRule> for CountingRuleInfo {
    fn from(rule: CountingRule) -> Self {
        let unknown = if rule.count_unknown_duration {
            "Plays from Spotify's recently-played API have no duration and are counted."
        } else {
            "Plays of unknown duration are not counted."
        };
        CountingRuleInfo {
            min_ms_played: rule.min_ms_played,
            unknown_duration_counted: rule.count_unknown_duration,
            description: format!(
                "A listen counts as a play when at least {} s of it were played. {unknown}",
                rule.min_ms_played as f64 / 1000.0
            ),
        }
    }
}

/// Milliseconds as minutes, to a tenth: precise enough to read, short enough to scan.
pub(crate) fn minutes(ms: i64) -> f64 {
    (ms as f64 / 60_000.0 * 10.0).round() / 10.0
}

/// A share as a fraction rounded to three decimals (0 when there is nothing to divide).
pub(crate) fn share(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 1000.0).round() / 1000.0
    }
}
