//! "How complete is my history?": days with data, the longest stretches without any, known
//! gaps and where the listens came from.

use crate::answer::{Gap, SourceCount, share};
use crate::period::{date_of_day, day_of_date};
use crate::{Analytics, Answer, Period, Result, Scope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use spotify_history_core::CountingRule;
use spotify_history_store::history::PlayFilter;

/// Stretches without data listed at most.
const STRETCHES: usize = 5;

/// Arguments of the coverage question.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct CoverageArgs {
    /// The window to check. Default: the whole history (unlike other questions).
    #[serde(flatten)]
    pub period: Period,
}

/// What data the window holds. Every stored listen counts here, however short.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CoverageReport {
    /// Local calendar days in the window (for the whole history: from the first listen to
    /// the window's end).
    pub days_in_window: i64,
    /// Local days with at least one stored listen.
    pub days_with_data: i64,
    /// days_with_data / days_in_window (0–1).
    pub share_of_days_with_data: f64,
    /// The longest runs of consecutive days without any listen, longest first.
    pub longest_stretches_without_data: Vec<Stretch>,
    /// Known stretches where listens may be missing (recorded by the collector).
    pub known_gaps: Vec<Gap>,
    /// Stored listens in the window.
    pub listens: i64,
    /// Listens per confirming source (a listen confirmed by two sources counts for both).
    pub listens_by_source: Vec<SourceCount>,
    /// First and last listen in the window, local time.
    pub first_listen: Option<String>,
    pub last_listen: Option<String>,
}

/// Consecutive local days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Stretch {
    /// First day (ISO date).
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
    pub days: i64,
}

impl Analytics {
    /// Days with data, stretches without, known gaps and listens per source in the window
    /// (default: the whole history).
    pub async fn coverage_report(
        &self,
        scope: &Scope,
        args: &CoverageArgs,
    ) -> Result<Answer<CoverageReport>> {
        let (filter, window, rule) = self.frame(scope, &args.period.or_all_time(), None)?;
        // Coverage is about data, not plays: every stored listen counts.
        let every_listen = PlayFilter {
            rule: CountingRule {
                min_ms_played: 0,
                count_unknown_duration: true,
            },
            ..filter
        };
        let store = self.store();
        let bounds = store.listen_bounds(filter.user).await?;
        let in_window = store.listen_bounds_within(&every_listen).await?;
        let spans = window.offset_spans(bounds);
        let days: Vec<i64> = store
            .local_days(&every_listen, &spans, None)
            .await?
            .into_iter()
            .map(|row| row.day)
            .collect();
        let start = window.from_ms.or(bounds.first_ms);
        let (days_in_window, stretches) = match start {
            Some(start) if start < window.to_ms => {
                let first = day_of_date(window.local_date(start));
                let last = day_of_date(window.local_date(window.to_ms - 1));
                (last - first + 1, stretches_without(&days, first, last))
            }
            _ => (0, Vec::new()),
        };
        let sources = store.coverage(&every_listen).await?;
        let gaps = store.coverage_gaps(&filter).await?;
        let report = CoverageReport {
            days_in_window,
            days_with_data: days.len() as i64,
            share_of_days_with_data: share(days.len() as i64, days_in_window),
            longest_stretches_without_data: stretches,
            known_gaps: gaps
                .into_iter()
                .map(|gap| Gap {
                    from: window.local(gap.starts_at),
                    to: window.local(gap.ends_at),
                    reason: gap.reason,
                })
                .collect(),
            listens: sources.listens,
            listens_by_source: sources
                .by_source
                .into_iter()
                .map(|(source, listens)| SourceCount {
                    source: source.as_str().to_string(),
                    listens,
                })
                .collect(),
            first_listen: in_window.first_ms.map(|ms| window.local(ms)),
            last_listen: in_window.last_ms.map(|ms| window.local(ms)),
        };
        self.answer(&filter, &window, rule, report).await
    }
}

/// The longest runs of days in `first..=last` missing from `days` (sorted day numbers).
fn stretches_without(days: &[i64], first: i64, last: i64) -> Vec<Stretch> {
    let mut runs = Vec::new();
    let mut next_expected = first;
    for &day in days.iter().filter(|&&d| (first..=last).contains(&d)) {
        if day > next_expected {
            runs.push((next_expected, day - 1));
        }
        next_expected = day + 1;
    }
    if next_expected <= last {
        runs.push((next_expected, last));
    }
    // Longest first; equally long ones in calendar order.
    runs.sort_by(|a, b| (b.1 - b.0).cmp(&(a.1 - a.0)).then(a.0.cmp(&b.0)));
    runs.truncate(STRETCHES);
    runs.into_iter()
        .map(|(from, to)| Stretch {
            from: date_of_day(from).to_string(),
            to: date_of_day(to).to_string(),
            days: to - from + 1,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stretches_cover_the_edges_and_the_middle() {
        // Days 10..=20 with data on 12, 13 and 17.
        let runs = stretches_without(&[12, 13, 17], 10, 20);
        let spans: Vec<(i64, String)> = runs.iter().map(|s| (s.days, s.from.clone())).collect();
        assert_eq!(
            spans,
            [
                (3, date_of_day(14).to_string()),
                (3, date_of_day(18).to_string()),
                (2, date_of_day(10).to_string()),
            ]
        );
        assert_eq!(stretches_without(&[], 0, 4)[0].days, 5);
        assert!(stretches_without(&[0, 1, 2], 0, 2).is_empty());
    }
}
