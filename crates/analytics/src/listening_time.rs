//! "How much do I listen?": plays and minutes per day, week or month in the listener's zone.

use crate::answer::minutes;
use crate::period::{date_of_day, day_of_date};
use crate::{Analytics, AnalyticsError, Answer, Period, Result, Scope, Window};
use jiff::ToSpan;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use spotify_history_store::history::{PlayFilter, Subject};
use std::collections::BTreeMap;

/// Most buckets in one series: enough for three years of days or a century of months.
const MAX_BUCKETS: i64 = 1_100;

/// The length of one step of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    Day,
    /// ISO weeks, Monday to Sunday.
    Week,
    Month,
}

/// Arguments of the listening-time series.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct ListeningTimeArgs {
    #[serde(flatten)]
    pub period: Period,
    /// `day`, `week` or `month`. Default: day for windows up to 62 days, week up to 400
    /// days, month beyond.
    pub bucket: Option<Bucket>,
    /// Count a listen as a play from this many milliseconds (default 30000).
    pub min_ms: Option<i64>,
}

/// Plays and minutes over time, every bucket of the window listed (empty ones with zeros).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ListeningTime {
    pub bucket: Bucket,
    /// Oldest first. The first and last bucket may be cut by the window's bounds.
    pub series: Vec<TimeBucket>,
    pub plays: i64,
    pub minutes: f64,
    /// Minutes per calendar day of the window, empty days included.
    pub average_minutes_per_day: f64,
    /// The bucket with the most minutes.
    pub busiest: Option<TimeBucket>,
}

/// One step of the series.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TimeBucket {
    /// The bucket's first local day (ISO date); for months `YYYY-MM-01`.
    pub start: String,
    pub plays: i64,
    pub minutes: f64,
    /// Exact time for totals; answers show minutes.
    #[serde(skip)]
    pub(crate) ms: i64,
}

impl Bucket {
    fn name(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
    }

    /// The first day number of the bucket holding local day number `day`.
    fn start_of(self, day: i64) -> i64 {
        match self {
            Bucket::Day => day,
            // Day 0 (1970-01-01) was a Thursday: (day + 3) mod 7 is days since Monday.
            Bucket::Week => day - (day + 3).rem_euclid(7),
            Bucket::Month => day_of_date(date_of_day(day).first_of_month()),
        }
    }

    /// The first day number of the bucket after the one starting on `start`.
    fn next(self, start: i64) -> i64 {
        match self {
            Bucket::Day => start + 1,
            Bucket::Week => start + 7,
            Bucket::Month => date_of_day(start)
                .checked_add(1.month())
                .map_or(start + 31, day_of_date),
        }
    }
}

/// Local day numbers from the day of `start` to the window's last day, if that is any.
pub(crate) fn local_day_range(window: &Window, start: Option<i64>) -> Option<(i64, i64)> {
    let start = start.filter(|&start| start < window.to_ms)?;
    Some((
        day_of_date(window.local_date(start)),
        day_of_date(window.local_date(window.to_ms - 1)),
    ))
}

impl Analytics {
    /// Every bucket from the first to the last local day of `range` with the filter's plays
    /// (of the subject, if any); empty buckets have zeros.
    pub(crate) async fn series(
        &self,
        filter: &PlayFilter,
        window: &Window,
        bucket: Bucket,
        range: Option<(i64, i64)>,
        subject: Option<Subject>,
    ) -> Result<Vec<TimeBucket>> {
        let Some((first, last)) = range else {
            return Ok(Vec::new());
        };
        let mut starts = Vec::new();
        let mut start = bucket.start_of(first);
        while start <= last {
            starts.push(start);
            start = bucket.next(start);
        }
        let bounds = self.store().listen_bounds(filter.user).await?;
        // Weeks and months of a much-played artist: the store counts between the buckets'
        // first instants, mostly from its day summaries.
        let summarised = match subject {
            Some(subject) if bucket != Bucket::Day => {
                let cuts: Vec<i64> = starts[1..]
                    .iter()
                    .map(|&day| window.day_start_ms(day))
                    .collect();
                self.store()
                    .subject_series(filter, subject, bounds, &cuts)
                    .await?
            }
            _ => None,
        };
        let counts: Vec<(i64, i64)> = match summarised {
            Some(counts) => counts,
            None => {
                let spans = window.offset_spans(bounds);
                let mut totals: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
                for row in self.store().local_days(filter, &spans, subject).await? {
                    let entry = totals.entry(bucket.start_of(row.day)).or_default();
                    entry.0 += row.plays;
                    entry.1 += row.ms_played;
                }
                starts
                    .iter()
                    .map(|start| totals.get(start).copied().unwrap_or_default())
                    .collect()
            }
        };
        Ok(starts
            .iter()
            .zip(counts)
            .map(|(&start, (plays, ms))| TimeBucket {
                start: date_of_day(start).to_string(),
                plays,
                minutes: minutes(ms),
                ms,
            })
            .collect())
    }

    /// Plays and minutes per day, week or month of the window, in its time zone.
    pub async fn listening_time(
        &self,
        scope: &Scope,
        args: &ListeningTimeArgs,
    ) -> Result<Answer<ListeningTime>> {
        let (filter, window, rule) = self.frame(scope, &args.period, args.min_ms)?;
        let store = self.store();
        let bounds = store.listen_bounds(filter.user).await?;
        let start = window.from_ms.or(bounds.first_ms);
        let range = local_day_range(&window, start);
        let days_in_window = range.map_or(0, |(first, last)| last - first + 1);
        let bucket = args.bucket.unwrap_or(match days_in_window {
            ..=62 => Bucket::Day,
            63..=400 => Bucket::Week,
            _ => Bucket::Month,
        });
        let buckets = match (bucket, range) {
            (_, None) => 0,
            (Bucket::Day, _) => days_in_window,
            (Bucket::Week, _) => days_in_window / 7 + 2,
            (Bucket::Month, _) => days_in_window / 28 + 2,
        };
        if buckets > MAX_BUCKETS {
            let hint = match bucket {
                Bucket::Day => "use bucket \"week\" or \"month\", or a shorter window",
                _ => "use bucket \"month\" or a shorter window",
            };
            return Err(AnalyticsError::BadArgument(format!(
                "a {} series of {days_in_window} days has too many buckets (at most {MAX_BUCKETS}): {hint}",
                bucket.name()
            )));
        }

        let series = self.series(&filter, &window, bucket, range, None).await?;
        let plays = series.iter().map(|b| b.plays).sum();
        let ms: i64 = series.iter().map(|b| b.ms).sum();
        let busiest = series
            .iter()
            .filter(|b| b.plays > 0)
            .max_by(|a, b| a.minutes.total_cmp(&b.minutes))
            .cloned();
        let result = ListeningTime {
            bucket,
            series,
            plays,
            minutes: minutes(ms),
            average_minutes_per_day: if days_in_window > 0 {
                (ms as f64 / 60_000.0 / days_in_window as f64 * 10.0).round() / 10.0
            } else {
                0.0
            },
            busiest,
        };
        self.answer(&filter, &window, rule, result).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_start_on_mondays_and_first_days_of_months() {
        let day = day_of_date(jiff::civil::date(2024, 2, 29)); // a Thursday
        assert_eq!(
            date_of_day(Bucket::Week.start_of(day)),
            jiff::civil::date(2024, 2, 26)
        );
        assert_eq!(
            date_of_day(Bucket::Month.start_of(day)),
            jiff::civil::date(2024, 2, 1)
        );
        let march = Bucket::Month.next(Bucket::Month.start_of(day));
        assert_eq!(date_of_day(march), jiff::civil::date(2024, 3, 1));
        assert_eq!(Bucket::Day.next(day), day + 1);
    }
}
