//! Plays by local hour of the week and by local day, in any time zone.
//!
//! A zone's UTC offset is constant between two of its transitions (DST switches, law changes),
//! so the window is cut into [`OffsetSpan`]s and each is queried with its own offset: shifting
//! `ended_at` by the offset gives local wall-clock time, which SQL can bucket with plain integer
//! arithmetic on both engines. This is exact for every zone, including half- and
//! quarter-hour offsets (India +05:30, Nepal +05:45) and hours that repeat or vanish on DST
//! days.

use super::rollup::{Parts, Rollup, SLOT_MS};
use super::subject::bind_subject;
use super::{PLAY_FILTER, PlayFilter, Subject, bind_filter};
use crate::row::RowExt;
use crate::{Result, Store, on_pool};
use std::collections::BTreeMap;

const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: i64 = 86_400_000;

/// A stretch of time in which the question's zone has one UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetSpan {
    /// Inclusive start, Unix ms.
    pub from_ms: i64,
    /// Exclusive end, Unix ms.
    pub to_ms: i64,
    /// Local time minus UTC, in ms.
    pub offset_ms: i64,
}

/// Plays in one local hour of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalHourRow {
    /// 0 = Monday 00:00–01:00 local time, 167 = Sunday 23:00–24:00.
    pub hour_of_week: i64,
    pub plays: i64,
    pub ms_played: i64,
}

/// Plays on one local calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalDayRow {
    /// Local date as days since 1970-01-01.
    pub day: i64,
    pub plays: i64,
    pub ms_played: i64,
}

/// How local time is bucketed.
#[derive(Debug, Clone, Copy)]
enum Bucket {
    /// Hour of the week from Monday 00:00.
    HourOfWeek,
    /// Days since 1970-01-01.
    Day,
}

impl Bucket {
    /// The bucket as SQL over `p.ended_at` and the offset `$6`.
    fn sql(self) -> String {
        match self {
            // The Unix epoch was a Thursday: 72 hours after a Monday midnight.
            Bucket::HourOfWeek => format!("((p.ended_at + $6) / {MS_PER_HOUR} + 72) % 168"),
            Bucket::Day => format!("(p.ended_at + $6) / {MS_PER_DAY}"),
        }
    }

    /// The same in Rust, for a local time in ms.
    fn of(self, local_ms: i64) -> i64 {
        match self {
            Bucket::HourOfWeek => (local_ms.div_euclid(MS_PER_HOUR) + 72).rem_euclid(168),
            Bucket::Day => local_ms.div_euclid(MS_PER_DAY),
        }
    }
}

/// Buckets the rollup's 15-minute slots by local time. Offsets are whole quarter hours and
/// zones switch on quarter hours, so every slot lies in one local bucket, as its plays do.
fn bucket_slots(rollup: &Rollup, spans: &[OffsetSpan], bucket: Bucket) -> Vec<(i64, i64, i64)> {
    let mut totals: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    // Consecutive slots mostly share a bucket: sum runs before touching the map.
    let mut run: Option<(i64, i64, i64)> = None;
    let mut span = 0;
    for (slot, counts) in &rollup.summary.slots {
        let start = slot * SLOT_MS;
        while span + 1 < spans.len() && spans[span + 1].from_ms <= start {
            span += 1;
        }
        let Some(offset) = spans.get(span).map(|s| s.offset_ms) else {
            break;
        };
        let (plays, ms) = rollup.counting.of_slot(counts);
        if plays == 0 {
            continue;
        }
        let key = bucket.of(start + offset);
        match &mut run {
            Some((current, p, m)) if *current == key => {
                *p += plays;
                *m += ms;
            }
            _ => {
                if let Some((key, p, m)) = run.replace((key, plays, ms)) {
                    let entry = totals.entry(key).or_default();
                    entry.0 += p;
                    entry.1 += m;
                }
            }
        }
    }
    if let Some((key, p, m)) = run {
        let entry = totals.entry(key).or_default();
        entry.0 += p;
        entry.1 += m;
    }
    totals
        .into_iter()
        .map(|(bucket, (plays, ms))| (bucket, plays, ms))
        .collect()
}

impl Store {
    /// Plays per local hour of the week (hours without plays are absent).
    pub async fn local_hours(
        &self,
        filter: &PlayFilter,
        spans: &[OffsetSpan],
    ) -> Result<Vec<LocalHourRow>> {
        let rows = self
            .per_span(filter, spans, None, Bucket::HourOfWeek)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(hour_of_week, plays, ms_played)| LocalHourRow {
                hour_of_week,
                plays,
                ms_played,
            })
            .collect())
    }

    /// Plays per local day, oldest first (days without plays are absent). With a subject,
    /// only that artist's or track's plays.
    pub async fn local_days(
        &self,
        filter: &PlayFilter,
        spans: &[OffsetSpan],
        subject: Option<Subject>,
    ) -> Result<Vec<LocalDayRow>> {
        let rows = self.per_span(filter, spans, subject, Bucket::Day).await?;
        Ok(rows
            .into_iter()
            .map(|(day, plays, ms_played)| LocalDayRow {
                day,
                plays,
                ms_played,
            })
            .collect())
    }

    /// Plays and time per bucket, summed over the spans, ordered by bucket.
    async fn per_span(
        &self,
        filter: &PlayFilter,
        spans: &[OffsetSpan],
        subject: Option<Subject>,
        bucket: Bucket,
    ) -> Result<Vec<(i64, i64, i64)>> {
        if spans.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(subject) = subject {
            return self.subject_buckets(filter, spans, subject, bucket).await;
        }
        if let Some(rollup) = self.rollup(filter, Parts::SLOTS).await? {
            return Ok(bucket_slots(&rollup, spans, bucket));
        }
        let bucket = bucket.sql();
        let sql = format!(
            "SELECT {bucket} AS bucket, COUNT(*) AS plays,
                    COALESCE(SUM(p.ms_played), 0) AS ms_played
             FROM plays p
             WHERE {PLAY_FILTER}
             GROUP BY 1"
        );
        let mut totals: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        for span in spans {
            let part = filter.within(span.from_ms, span.to_ms);
            if part.start_bound() >= part.to_ms {
                continue;
            }
            let sql = sqlx::AssertSqlSafe(sql.clone());
            let rows = on_pool!(self, pool => {
                let rows = bind_filter!(sqlx::query(sql), part)
                    .bind(span.offset_ms)
                    .fetch_all(pool)
                    .await?;
                rows.iter()
                    .map(|row| Ok((row.int("bucket")?, row.int("plays")?, row.int("ms_played")?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            });
            // A DST switch inside a day splits the day across two spans: add the parts.
            for (bucket, plays, ms) in rows {
                let entry = totals.entry(bucket).or_default();
                entry.0 += plays;
                entry.1 += ms;
            }
        }
        Ok(totals
            .into_iter()
            .map(|(bucket, (plays, ms))| (bucket, plays, ms))
            .collect())
    }

    /// One artist's or track's plays bucketed, span by span: through the `plays_track`
    /// index each query reads only the subject's plays of its span.
    async fn subject_buckets(
        &self,
        filter: &PlayFilter,
        spans: &[OffsetSpan],
        subject: Subject,
        bucket: Bucket,
    ) -> Result<Vec<(i64, i64, i64)>> {
        let subject_condition = Subject::condition(Some(subject), 7);
        let sql = format!(
            "SELECT {bucket} AS bucket, COUNT(*) AS plays,
                    COALESCE(SUM(p.ms_played), 0) AS ms_played
             FROM plays p
             WHERE {PLAY_FILTER}{subject_condition}
             GROUP BY 1",
            bucket = bucket.sql()
        );
        let mut totals: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        for span in spans {
            let part = filter.within(span.from_ms, span.to_ms);
            if part.start_bound() >= part.to_ms {
                continue;
            }
            let sql = sqlx::AssertSqlSafe(sql.clone());
            let rows = on_pool!(self, pool => {
                let query = bind_filter!(sqlx::query(sql), part).bind(span.offset_ms);
                let rows = bind_subject!(query, Some(subject)).fetch_all(pool).await?;
                rows.iter()
                    .map(|row| Ok((row.int("bucket")?, row.int("plays")?, row.int("ms_played")?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            });
            for (bucket, plays, ms) in rows {
                let entry = totals.entry(bucket).or_default();
                entry.0 += plays;
                entry.1 += ms;
            }
        }
        Ok(totals
            .into_iter()
            .map(|(bucket, (plays, ms))| (bucket, plays, ms))
            .collect())
    }
}
