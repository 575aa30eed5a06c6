//! "What changed?": two periods side by side, with the artists and tracks that rose and fell.

use crate::answer::{WindowInfo, minutes};
use crate::top::limit;
use crate::{Analytics, AnalyticsError, Answer, Period, Result, Scope, Window};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use spotify_history_store::history::{Counted, PlayFilter, RankedRow};
use std::collections::HashMap;

/// Arguments of the comparison.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct CompareArgs {
    /// The earlier (baseline) period, e.g. `{"from": "2024-01-01", "to": "2024-06-30"}`.
    /// Default: a period as long as `b`, ending where `b` starts.
    pub a: Option<Period>,
    /// The period compared with `a`, e.g. `{"days": 30}`. Default: the last 90 days.
    pub b: Option<Period>,
    /// How many rising and falling artists and tracks to list (default 10, at most 100).
    pub limit: Option<u32>,
    /// Count a listen as a play from this many milliseconds (default 30000).
    pub min_ms: Option<i64>,
}

/// Period `b` against period `a`: positive changes rose in `b`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Comparison {
    pub a: PeriodSummary,
    pub b: PeriodSummary,
    /// Artists with the largest gain in plays from a to b.
    pub rising_artists: Vec<Change>,
    /// Artists with the largest loss in plays from a to b.
    pub falling_artists: Vec<Change>,
    pub rising_tracks: Vec<Change>,
    pub falling_tracks: Vec<Change>,
}

/// Totals of one period.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PeriodSummary {
    pub window: WindowInfo,
    pub plays: i64,
    pub minutes: f64,
    pub distinct_artists: i64,
    pub distinct_tracks: i64,
}

/// One artist's or track's plays in both periods.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Change {
    pub name: String,
    /// The primary artist of a track.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub uri: String,
    pub plays_a: i64,
    pub plays_b: i64,
    /// plays_b − plays_a.
    pub change: i64,
}

/// Plays of one item in both periods, before it is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    id: i64,
    plays_a: i64,
    plays_b: i64,
}

impl Counts {
    fn change(&self) -> i64 {
        self.plays_b - self.plays_a
    }
}

/// The items that may make the rising and the falling list: the `limit` largest changes
/// each way, plus any tied with the last of them (ties are ordered by name, known later).
fn candidates(
    a: &[(i64, i64, i64)],
    b: &[(i64, i64, i64)],
    limit: usize,
) -> (Vec<Counts>, Vec<Counts>) {
    // Both lists by id, then walked together: tens of thousands of tracks each.
    let by_id = |counts: &[(i64, i64, i64)]| {
        let mut sorted: Vec<(i64, i64)> =
            counts.iter().map(|&(id, plays, _)| (id, plays)).collect();
        sorted.sort_unstable();
        sorted
    };
    let (a, b) = (by_id(a), by_id(b));
    let mut all: Vec<Counts> = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let id = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.0.min(y.0),
            (Some(x), None) => x.0,
            (None, Some(y)) => y.0,
            (None, None) => break,
        };
        let mut counts = Counts {
            id,
            plays_a: 0,
            plays_b: 0,
        };
        while a.get(i).is_some_and(|x| x.0 == id) {
            counts.plays_a += a[i].1;
            i += 1;
        }
        while b.get(j).is_some_and(|y| y.0 == id) {
            counts.plays_b += b[j].1;
            j += 1;
        }
        all.push(counts);
    }
    let top = |mut list: Vec<Counts>, key: fn(&Counts) -> (i64, i64)| {
        // The cut is found without sorting every item: only the few kept are sorted.
        let cut = limit.max(1) - 1;
        if cut < list.len() {
            let (_, last, _) = list.select_nth_unstable_by_key(cut, |c| std::cmp::Reverse(key(c)));
            let cutoff = key(last);
            list.retain(|c| key(c) >= cutoff);
        }
        list.sort_by_key(|c| std::cmp::Reverse(key(c)));
        list
    };
    let rising = top(
        all.iter().copied().filter(|c| c.change() > 0).collect(),
        |c| (c.change(), c.plays_b),
    );
    let falling = top(all.into_iter().filter(|c| c.change() < 0).collect(), |c| {
        (-c.change(), c.plays_a)
    });
    (rising, falling)
}

/// Named candidates as rising (largest gain first) or falling (largest loss first) list.
fn ordered(
    counts: &[Counts],
    names: &HashMap<i64, RankedRow>,
    rising: bool,
    limit: usize,
) -> Vec<Change> {
    let mut list: Vec<Change> = counts
        .iter()
        .filter_map(|c| {
            let named = names.get(&c.id)?;
            Some(Change {
                name: named.name.clone(),
                by: named.context.clone(),
                uri: named.key.clone(),
                plays_a: c.plays_a,
                plays_b: c.plays_b,
                change: c.change(),
            })
        })
        .collect();
    // Ties by the larger period's plays, then by name for a stable answer.
    list.sort_by(|x, y| {
        let measure = if rising {
            (y.change, y.plays_b).cmp(&(x.change, x.plays_b))
        } else {
            (x.change, y.plays_a).cmp(&(y.change, x.plays_a))
        };
        measure.then(x.name.cmp(&y.name)).then(x.uri.cmp(&y.uri))
    });
    list.truncate(limit);
    list
}

impl Analytics {
    /// Period `b` against period `a`: totals of each, rising and falling artists and tracks.
    pub async fn compare_periods(
        &self,
        scope: &Scope,
        args: &CompareArgs,
    ) -> Result<Answer<Comparison>> {
        let limit = limit(args.limit)?;
        let rule = self.rule(args.min_ms)?;
        let default_tz = scope.time_zone.as_deref();
        let b = args
            .b
            .clone()
            .unwrap_or_default()
            .resolve(self.now(), default_tz)?;
        let a = match &args.a {
            Some(period) => period.resolve(self.now(), default_tz)?,
            None => {
                let Some(b_from) = b.from_ms else {
                    return Err(AnalyticsError::BadArgument(
                        "b covers the whole history, so there is nothing before it: give a as well"
                            .into(),
                    ));
                };
                Window {
                    from_ms: Some(b_from - (b.to_ms - b_from)),
                    to_ms: b_from,
                    ..b.clone()
                }
            }
        };
        let filter_of = |window: &Window| PlayFilter {
            user: scope.user,
            from_ms: window.from_ms,
            to_ms: window.to_ms,
            rule,
        };
        let (filter_a, filter_b) = (filter_of(&a), filter_of(&b));
        let store = self.store();
        let summary =
            |window: &Window, totals: spotify_history_store::history::WindowTotals| PeriodSummary {
                window: WindowInfo::of(window),
                plays: totals.plays,
                minutes: minutes(totals.ms_played),
                distinct_artists: totals.distinct_artists,
                distinct_tracks: totals.distinct_tracks,
            };
        let summary_a = summary(&a, store.window_totals(&filter_a, None).await?);
        let summary_b = summary(&b, store.window_totals(&filter_b, None).await?);
        let mut lists = Vec::new();
        for of in [Counted::Artists, Counted::Tracks] {
            let (rising, falling) = candidates(
                &store.play_counts(&filter_a, of).await?,
                &store.play_counts(&filter_b, of).await?,
                limit as usize,
            );
            let wanted: Vec<(i64, i64, i64)> = rising
                .iter()
                .chain(&falling)
                .map(|c| (c.id, 0, 0))
                .collect();
            let names: HashMap<i64, RankedRow> = store
                .name_counts(of, wanted)
                .await?
                .into_iter()
                .map(|row| (row.id, row))
                .collect();
            lists.push(ordered(&rising, &names, true, limit as usize));
            lists.push(ordered(&falling, &names, false, limit as usize));
        }
        let [
            rising_artists,
            falling_artists,
            rising_tracks,
            falling_tracks,
        ] = <[Vec<Change>; 4]>::try_from(lists).unwrap_or_default();
        let result = Comparison {
            a: summary_a,
            b: summary_b,
            rising_artists,
            falling_artists,
            rising_tracks,
            falling_tracks,
        };
        // The answer's frame spans both periods, in b's zone.
        let envelope = Window {
            from_ms: a.from_ms.zip(b.from_ms).map(|(x, y)| x.min(y)),
            to_ms: a.to_ms.max(b.to_ms),
            ..b.clone()
        };
        self.answer(&filter_of(&envelope), &envelope, rule, result)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(id: i64, name: &str) -> (i64, RankedRow) {
        (
            id,
            RankedRow {
                id,
                key: format!("spotify:artist:{id}"),
                name: name.into(),
                context: None,
                plays: 0,
                ms_played: 0,
            },
        )
    }

    #[test]
    fn rising_and_falling_include_items_of_only_one_period_and_break_ties_by_name() {
        let a = [(1, 10, 0), (2, 5, 0), (3, 4, 0), (5, 1, 0)];
        let b = [(2, 5, 0), (3, 1, 0), (4, 7, 0), (6, 7, 0), (5, 3, 0)];
        let names: HashMap<i64, RankedRow> = [
            named(1, "Old Love"),
            named(2, "Steady"),
            named(3, "Fading"),
            named(4, "Zed Crush"),
            named(5, "Grower"),
            named(6, "New Crush"),
        ]
        .into_iter()
        .collect();
        let (rising, falling) = candidates(&a, &b, 2);
        // Two tie for second place with the first: all three stay candidates.
        assert_eq!(rising.len(), 2);
        let rising = ordered(&rising, &names, true, 2);
        let falling = ordered(&falling, &names, false, 2);
        let shown = |list: &[Change]| {
            list.iter()
                .map(|c| (c.name.clone(), c.change))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            shown(&rising),
            [("New Crush".to_string(), 7), ("Zed Crush".to_string(), 7)]
        );
        assert_eq!(
            shown(&falling),
            [("Old Love".to_string(), -10), ("Fading".to_string(), -3)]
        );
        let (rising, _) = candidates(&a, &b, 1);
        assert_eq!(rising.len(), 2, "a tie at the cut keeps both");
    }
}
