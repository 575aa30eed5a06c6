//! Narrowing a question to one artist's or one track's plays (artist and track detail).

use super::rollup::{DAY_MS, whole_days};
use super::{ListenBounds, PlayFilter};
use crate::row::RowExt;
use crate::{BackendKind, Result, Store, on_pool};
use spotify_history_core::{ArtistId, TrackId};
use std::collections::BTreeMap;

/// Whose plays a detail question counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// Plays of the tracks this artist is the primary artist of (as in the artist ranking).
    Artist(ArtistId),
    /// Plays of this track.
    Track(TrackId),
}

impl Subject {
    /// The extra condition on `p` (plays), with the subject's id as placeholder `$n`.
    pub(crate) fn condition(subject: Option<Subject>, n: usize) -> String {
        subject.map_or_else(String::new, |subject| subject.on_track("p.track_id", n))
    }

    /// [`Subject::condition`] as a mere filter on plays found by time: the `+` keeps the
    /// engine from looking plays up by track instead (SQLite would otherwise seek every
    /// track of the artist in every time range).
    pub(crate) fn filter_by_time(subject: Subject, n: usize) -> String {
        subject.on_track("+p.track_id", n)
    }

    /// " AND `track` is one of the subject's tracks", the id as placeholder `$n`.
    fn on_track(self, track: &str, n: usize) -> String {
        match self {
            Subject::Artist(_) => format!(
                " AND {track} IN (SELECT sa.track_id FROM track_artists sa
                                  WHERE sa.artist_id = ${n} AND sa.position = 0)"
            ),
            Subject::Track(_) => format!(" AND {track} = ${n}"),
        }
    }

    /// The id bound to the condition's placeholder.
    pub(crate) fn id(self) -> i64 {
        match self {
            Subject::Artist(id) => id.0,
            Subject::Track(id) => id.0,
        }
    }
}

/// Binds the subject's id when there is one (the condition then references it).
macro_rules! bind_subject {
    ($query:expr, $subject:expr) => {
        match $subject {
            Some(subject) => $query.bind(subject.id()),
            None => $query,
        }
    };
}
pub(crate) use bind_subject;

/// The UTC days of `first..end` that cuts split (a cut at midnight splits nothing), with the
/// first and last cut inside each.
fn cuts_by_day(cuts: &[i64], first: i64, end: i64) -> BTreeMap<i64, (i64, i64)> {
    let mut days: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for &cut in cuts.iter().filter(|cut| cut.rem_euclid(DAY_MS) != 0) {
        let day = cut.div_euclid(DAY_MS);
        if (first..end).contains(&day) {
            days.entry(day)
                .and_modify(|(_, last)| *last = cut)
                .or_insert((cut, cut));
        }
    }
    days
}

impl Store {
    /// The subject's plays and time in consecutive pieces of the filter's window: `cuts`
    /// (ascending instants, e.g. where local months begin) split it into `cuts.len() + 1`
    /// pieces, counted in order. `None` when the subject's own plays are the quicker read.
    ///
    /// A favourite artist of ten years has hundreds of thousands of plays: whole UTC days
    /// then come from the day summaries, each counted in one piece, and only the window's
    /// ragged edges and the shorter side of each cut that splits a day are read from the
    /// plays.
    /// `bounds` are the user's (see [`Store::listen_bounds`]).
    pub async fn subject_series(
        &self,
        filter: &PlayFilter,
        subject: Subject,
        bounds: ListenBounds,
        cuts: &[i64],
    ) -> Result<Option<Vec<(i64, i64)>>> {
        let piece_of = |at: i64| cuts.partition_point(|&cut| cut <= at);
        let mut pieces = vec![(0i64, 0i64); cuts.len() + 1];
        let (Some(first), Some(last)) = (bounds.first_ms, bounds.last_ms) else {
            return Ok(Some(pieces));
        };
        let (from, to) = (filter.start_bound().max(first), filter.to_ms.min(last + 1));
        let (first_day, end_day) = whole_days(from, to);
        if first_day >= end_day {
            return Ok(None);
        }
        let Some(days) = self
            .subject_days(filter, subject, first_day, end_day)
            .await?
        else {
            return Ok(None);
        };
        // Plays read one by one: the edges (added to their piece), and the parts of days that
        // cuts split (moved from the piece their day is counted in to their own).
        let mut read = vec![(from, first_day * DAY_MS), (end_day * DAY_MS, to)];
        // Days that cuts split: the piece the day's summary is counted in.
        let mut split: BTreeMap<i64, usize> = BTreeMap::new();
        for (day, (first_cut, last_cut)) in cuts_by_day(cuts, first_day, end_day) {
            let (start, end) = (day * DAY_MS, (day + 1) * DAY_MS);
            if end - first_cut <= last_cut - start {
                split.insert(day, piece_of(start));
                read.push((first_cut, end));
            } else {
                split.insert(day, piece_of(end - 1));
                read.push((start, last_cut));
            }
        }
        for (day, plays, ms) in days {
            let piece = split
                .get(&day)
                .copied()
                .unwrap_or_else(|| piece_of(day * DAY_MS));
            pieces[piece].0 += plays;
            pieces[piece].1 += ms;
        }
        read.retain(|(from, to)| from < to);
        for (ended_at, ms) in self.subject_plays_in(filter, subject, &read).await? {
            if let Some(&counted_in) = split.get(&ended_at.div_euclid(DAY_MS)) {
                pieces[counted_in].0 -= 1;
                pieces[counted_in].1 -= ms;
            }
            let piece = &mut pieces[piece_of(ended_at)];
            piece.0 += 1;
            piece.1 += ms;
        }
        Ok(Some(pieces))
    }

    /// The subject's counted plays ending in any of the (disjoint) ranges, which lie inside
    /// the filter's window: `(ended_at, ms_played)`.
    async fn subject_plays_in(
        &self,
        filter: &PlayFilter,
        subject: Subject,
        ranges: &[(i64, i64)],
    ) -> Result<Vec<(i64, i64)>> {
        if ranges.is_empty() {
            return Ok(Vec::new());
        }
        // SQLite: the ranges as one JSON value, unpacked and read first (SQLite keeps the
        // order of a CROSS JOIN), each then one index range scan of the user's plays; the
        // window's own bounds are left out, or SQLite would scan the whole window per range.
        // PostgreSQL: the ranges as bound values ORed together, which it plans (with the
        // values, see `connect.rs`) as one index range scan each; a LATERAL subquery per
        // range was planned without them, and read every play of the subject first.
        let condition = Subject::filter_by_time(subject, 5);
        let counted = "(p.ms_played >= $2 OR (p.ms_played IS NULL AND $3))";
        let postgres = self.backend() == BackendKind::Postgres;
        let sql = sqlx::AssertSqlSafe(if postgres {
            let any_range: Vec<String> = (0..ranges.len())
                .map(|i| {
                    format!(
                        "(p.ended_at >= ${} AND p.ended_at < ${})",
                        6 + 2 * i,
                        7 + 2 * i
                    )
                })
                .collect();
            format!(
                "SELECT p.ended_at, COALESCE(p.ms_played, 0) AS ms_played FROM plays p
                 WHERE p.user_id = $1 AND p.ended_at >= $4 AND {counted}{condition}
                   AND ({})",
                any_range.join(" OR ")
            )
        } else {
            format!(
                "SELECT p.ended_at, COALESCE(p.ms_played, 0) AS ms_played
                 FROM json_each($4) r CROSS JOIN plays p
                 WHERE p.user_id = $1 AND p.ended_at >= r.value->>0 AND p.ended_at < r.value->>1
                   AND {counted}{condition}"
            )
        });
        let json = serde_json::to_string(ranges).unwrap_or_else(|_| "[]".into());
        let earliest = ranges.iter().map(|(from, _)| *from).min().unwrap_or(0);
        let plays = on_pool!(self, pool => {
            let query = sqlx::query(sql)
                .bind(filter.user.0)
                .bind(filter.rule.min_ms_played)
                .bind(filter.rule.count_unknown_duration);
            let query = if postgres { query.bind(earliest) } else { query.bind(&json) };
            let mut query = bind_subject!(query, Some(subject));
            if postgres {
                for (from, to) in ranges {
                    query = query.bind(*from).bind(*to);
                }
            }
            let rows = query.fetch_all(pool).await?;
            rows.iter()
                .map(|row| Ok((row.int("ended_at")?, i64::from(row.opt_int4("ms_played")?.unwrap_or(0)))))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(plays)
    }
}
