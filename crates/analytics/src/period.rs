//! The time window of a question: `days` back from now, or `from`/`to` dates or datetimes, read
//! in an IANA time zone.

use crate::{AnalyticsError, Result};
use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, ToSpan};
use schemars::JsonSchema;
use serde::Deserialize;
use spotify_history_store::history::{ListenBounds, OffsetSpan};

/// Days looked back when a question gives no period.
pub const DEFAULT_DAYS: u32 = 90;
/// The longest `days` accepted (100 years).
const MAX_DAYS: u32 = 36_500;

/// Which stretch of time a question covers.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct Period {
    /// Look back this many days from now (default 90). Ignored when `from` or `all_time` is
    /// given.
    pub days: Option<u32>,
    /// Start of the window, inclusive: an ISO date (`2024-12-01`) or date-time
    /// (`2024-12-01T18:00`), read in `tz`.
    pub from: Option<String>,
    /// End of the window: an ISO date (inclusive: the whole day counts) or date-time
    /// (exclusive), read in `tz`. Default: now.
    pub to: Option<String>,
    /// Cover the whole history.
    pub all_time: Option<bool>,
    /// IANA time zone for reading dates and for hours and days in the answer, e.g.
    /// `Europe/Berlin` or `America/New_York`. Default: the user's zone, else UTC.
    pub tz: Option<String>,
}

/// A resolved window: UTC bounds plus the zone it is read in.
#[derive(Debug, Clone)]
pub struct Window {
    /// Inclusive start (Unix ms); `None` = the whole history.
    pub from_ms: Option<i64>,
    /// Exclusive end (Unix ms).
    pub to_ms: i64,
    pub tz: TimeZone,
    pub tz_name: String,
}

impl Window {
    /// A time in the window's zone, as ISO-8601 with offset.
    pub fn local(&self, ms: i64) -> String {
        Timestamp::from_millisecond(ms)
            .map(|ts| {
                ts.to_zoned_datetime(self.tz.clone())
                    .strftime("%Y-%m-%dT%H:%M:%S%:z")
                    .to_string()
            })
            .unwrap_or_default()
    }
}

impl Window {
    /// The local calendar date of an instant.
    pub fn local_date(&self, ms: i64) -> Date {
        let ts = Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
        self.tz.to_offset(ts).to_datetime(ts).date()
    }

    /// The instant a local day begins (its first valid time when a DST switch skips
    /// midnight).
    pub(crate) fn day_start_ms(&self, day: i64) -> i64 {
        date_of_day(day)
            .to_zoned_datetime(self.tz.clone())
            .map_or(day * 86_400_000, |start| start.timestamp().as_millisecond())
    }

    /// The part of the window that holds stored listens, cut wherever the zone's UTC offset
    /// changes (DST switches), so local hours and days can be computed span by span.
    pub fn offset_spans(&self, bounds: ListenBounds) -> Vec<OffsetSpan> {
        let (Some(first), Some(last)) = (bounds.first_ms, bounds.last_ms) else {
            return Vec::new();
        };
        let from = self.from_ms.map_or(first, |from| from.max(first));
        let to = self.to_ms.min(last.saturating_add(1));
        if from >= to {
            return Vec::new();
        }
        let offset_ms = |offset: Offset| i64::from(offset.seconds()) * 1000;
        let Ok(start) = Timestamp::from_millisecond(from) else {
            return Vec::new();
        };
        let mut spans = Vec::new();
        let mut span_start = from;
        let mut offset = offset_ms(self.tz.to_offset(start));
        for transition in self.tz.following(start) {
            let at = transition.timestamp().as_millisecond();
            if at >= to {
                break;
            }
            let next = offset_ms(transition.offset());
            // Some transitions change only the abbreviation: no new span needed.
            if next != offset && at > span_start {
                spans.push(OffsetSpan {
                    from_ms: span_start,
                    to_ms: at,
                    offset_ms: offset,
                });
                span_start = at;
            }
            offset = next;
        }
        spans.push(OffsetSpan {
            from_ms: span_start,
            to_ms: to,
            offset_ms: offset,
        });
        spans
    }
}

/// The date of a local day number from the store (days since 1970-01-01).
pub(crate) fn date_of_day(day: i64) -> Date {
    let ts = Timestamp::from_second(day.saturating_mul(86_400)).unwrap_or(Timestamp::UNIX_EPOCH);
    Offset::UTC.to_datetime(ts).date()
}

/// The local day number of a date (days since 1970-01-01).
pub(crate) fn day_of_date(date: Date) -> i64 {
    date.duration_since(jiff::civil::date(1970, 1, 1)).as_secs() / 86_400
}

impl Period {
    /// This period, or the whole history when it names no start (`days`, `from` or
    /// `all_time`): for questions where "when" matters more than "lately".
    pub fn or_all_time(&self) -> Period {
        let mut period = self.clone();
        if period.days.is_none() && period.from.is_none() && period.all_time.is_none() {
            period.all_time = Some(true);
        }
        period
    }

    /// The window this period means at `now`, in the named zone or `default_tz` or UTC.
    pub fn resolve(&self, now: Timestamp, default_tz: Option<&str>) -> Result<Window> {
        let tz_name = self
            .tz
            .as_deref()
            .or(default_tz)
            .unwrap_or("UTC")
            .trim()
            .to_string();
        let tz = TimeZone::get(&tz_name).map_err(|_| {
            AnalyticsError::BadArgument(format!(
                "unknown time zone {tz_name:?}: use an IANA name such as Europe/Berlin, America/New_York or UTC"
            ))
        })?;
        let to_ms = match &self.to {
            Some(text) => parse_bound(text, &tz, Bound::End, "to")?,
            None => now.as_millisecond(),
        };
        let from_ms = if self.all_time.unwrap_or(false) {
            None
        } else if let Some(text) = &self.from {
            Some(parse_bound(text, &tz, Bound::Start, "from")?)
        } else {
            let days = self.days.unwrap_or(DEFAULT_DAYS);
            if !(1..=MAX_DAYS).contains(&days) {
                return Err(AnalyticsError::BadArgument(format!(
                    "days must be between 1 and {MAX_DAYS}, got {days}; use all_time for the whole history"
                )));
            }
            Some(to_ms - i64::from(days) * 86_400_000)
        };
        if let Some(from) = from_ms
            && from >= to_ms
        {
            return Err(AnalyticsError::BadArgument(format!(
                "the window is empty: from ({}) is not before to ({})",
                self.from.as_deref().unwrap_or("days ago"),
                self.to.as_deref().unwrap_or("now")
            )));
        }
        Ok(Window {
            from_ms,
            to_ms,
            tz,
            tz_name,
        })
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Bound {
    Start,
    End,
}

/// An ISO date or date-time in `tz` as Unix ms. A date as the end bound includes that day.
pub(crate) fn parse_bound(text: &str, tz: &TimeZone, bound: Bound, name: &str) -> Result<i64> {
    let text = text.trim();
    let bad = || {
        AnalyticsError::BadArgument(format!(
            "{name} must be an ISO date like 2024-12-01 or a date-time like 2024-12-01T18:00, got {text:?}"
        ))
    };
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    // jiff reads a date out of a date-time string too (dropping the time), so only a text
    // without a time part is taken as a whole day.
    let has_time = text.contains(['T', 't', ' ']);
    let datetime = if has_time {
        text.parse::<DateTime>().map_err(|_| bad())?
    } else {
        let date = text.parse::<Date>().map_err(|_| bad())?;
        let date = match bound {
            Bound::Start => date,
            Bound::End => date.checked_add(1.day()).map_err(|_| bad())?,
        };
        date.to_datetime(jiff::civil::Time::midnight())
    };
    let zoned = datetime.to_zoned_datetime(tz.clone()).map_err(|_| bad())?;
    Ok(zoned.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-26T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn days_look_back_from_now() {
        let window = Period {
            days: Some(7),
            ..Period::default()
        }
        .resolve(now(), None)
        .unwrap();
        assert_eq!(window.to_ms - window.from_ms.unwrap(), 7 * 86_400_000);
        assert_eq!(window.tz_name, "UTC");
    }

    #[test]
    fn dates_are_read_in_the_zone_and_end_dates_include_their_day() {
        let period = Period {
            from: Some("2025-01-01".into()),
            to: Some("2025-01-31".into()),
            tz: Some("Europe/Berlin".into()),
            ..Period::default()
        };
        let window = period.resolve(now(), None).unwrap();
        let from: Timestamp = "2024-12-31T23:00:00Z".parse().unwrap();
        let to: Timestamp = "2025-01-31T23:00:00Z".parse().unwrap();
        assert_eq!(window.from_ms, Some(from.as_millisecond()));
        assert_eq!(window.to_ms, to.as_millisecond());
        assert_eq!(
            window.local(window.from_ms.unwrap()),
            "2025-01-01T00:00:00+01:00"
        );
    }

    #[test]
    fn date_times_keep_their_time_and_end_there() {
        let period = Period {
            from: Some("2025-03-01T18:30".into()),
            to: Some("2025-03-02T06:00".into()),
            tz: Some("America/New_York".into()),
            ..Period::default()
        };
        let window = period.resolve(now(), None).unwrap();
        let from: Timestamp = "2025-03-01T23:30:00Z".parse().unwrap();
        let to: Timestamp = "2025-03-02T11:00:00Z".parse().unwrap();
        assert_eq!(window.from_ms, Some(from.as_millisecond()));
        assert_eq!(window.to_ms, to.as_millisecond());
    }

    #[test]
    fn spans_split_the_window_at_dst_switches() {
        let period = Period {
            from: Some("2024-01-01".into()),
            to: Some("2024-12-31".into()),
            tz: Some("Europe/Berlin".into()),
            ..Period::default()
        };
        let window = period.resolve(now(), None).unwrap();
        let ms = |s: &str| s.parse::<Timestamp>().unwrap().as_millisecond();
        let bounds = ListenBounds {
            first_ms: Some(ms("2023-06-01T00:00:00Z")),
            last_ms: Some(ms("2025-06-01T00:00:00Z")),
        };
        let spans: Vec<(i64, i64, i64)> = window
            .offset_spans(bounds)
            .iter()
            .map(|s| (s.from_ms, s.to_ms, s.offset_ms / 60_000))
            .collect();
        assert_eq!(
            spans,
            [
                (ms("2023-12-31T23:00:00Z"), ms("2024-03-31T01:00:00Z"), 60),
                (ms("2024-03-31T01:00:00Z"), ms("2024-10-27T01:00:00Z"), 120),
                (ms("2024-10-27T01:00:00Z"), ms("2024-12-31T23:00:00Z"), 60),
            ]
        );
        // Clamped to the stored history; nothing stored, nothing to query.
        let late = ListenBounds {
            first_ms: Some(ms("2024-11-01T00:00:00Z")),
            last_ms: Some(ms("2024-11-02T00:00:00Z")),
        };
        let spans = window.offset_spans(late);
        assert_eq!(spans.len(), 1);
        assert_eq!(
            (spans[0].from_ms, spans[0].to_ms),
            (ms("2024-11-01T00:00:00Z"), ms("2024-11-02T00:00:01Z") - 999)
        );
        assert!(window.offset_spans(ListenBounds::default()).is_empty());
    }

    #[test]
    fn the_users_zone_is_the_default_and_all_time_has_no_start() {
        let period = Period {
            all_time: Some(true),
            ..Period::default()
        };
        let window = period.resolve(now(), Some("Asia/Kolkata")).unwrap();
        assert_eq!(window.from_ms, None);
        assert_eq!(window.tz_name, "Asia/Kolkata");
    }

    #[test]
    fn bad_periods_are_explained() {
        let bad = |period: Period| period.resolve(now(), None).unwrap_err().to_string();
        assert!(
            bad(Period {
                tz: Some("Mars/Olympus".into()),
                ..Period::default()
            })
            .contains("IANA")
        );
        assert!(
            bad(Period {
                from: Some("last winter".into()),
                ..Period::default()
            })
            .contains("ISO date")
        );
        assert!(
            bad(Period {
                days: Some(0),
                ..Period::default()
            })
            .contains("all_time")
        );
        assert!(
            bad(Period {
                from: Some("2025-02-01".into()),
                to: Some("2025-01-01".into()),
                ..Period::default()
            })
            .contains("empty")
        );
    }
}
