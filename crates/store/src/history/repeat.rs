//! How often tracks were played again: tracks grouped by their play count in a window.

use super::rollup::{Parts, Rollup};
use super::{PLAY_FILTER, PlayFilter, bind_filter};
use crate::row::RowExt;
use crate::{Result, Store, on_pool};
use std::collections::BTreeMap;

/// Music tracks played a similar number of times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatBucketRow {
    /// The bucket's lowest play count: 1, 2 (2–4), 5 (5–9) or 10 (10 and more).
    pub min_plays: i64,
    /// Tracks in the bucket.
    pub tracks: i64,
    /// Plays of those tracks.
    pub plays: i64,
}

impl Store {
    /// Music tracks of the window by play count bucket (1, 2–4, 5–9, 10+), smallest first.
    pub async fn repeat_buckets(&self, filter: &PlayFilter) -> Result<Vec<RepeatBucketRow>> {
        if let Some(rollup) = self.rollup(filter, Parts::TRACKS).await? {
            return Ok(buckets_of(&rollup));
        }
        // CASE yields INTEGER on PostgreSQL and SUM of BIGINT NUMERIC: cast both to BIGINT.
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT CAST(CASE WHEN x.plays = 1 THEN 1 WHEN x.plays < 5 THEN 2
                              WHEN x.plays < 10 THEN 5 ELSE 10 END AS BIGINT) AS min_plays,
                    COUNT(*) AS tracks, CAST(SUM(x.plays) AS BIGINT) AS plays
             FROM (SELECT p.track_id, COUNT(*) AS plays FROM plays p WHERE {PLAY_FILTER}
                   GROUP BY p.track_id) x
             JOIN tracks t ON t.id = x.track_id AND t.kind = 0
             GROUP BY 1
             ORDER BY 1"
        ));
        let rows = on_pool!(self, pool => {
            let rows = bind_filter!(sqlx::query(sql), filter).fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    Ok(RepeatBucketRow {
                        min_plays: row.int("min_plays")?,
                        tracks: row.int("tracks")?,
                        plays: row.int("plays")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(rows)
    }
}

/// The repeat buckets of the rollup's music tracks.
fn buckets_of(rollup: &Rollup) -> Vec<RepeatBucketRow> {
    let mut buckets: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for (_, info, plays) in rollup.tracks() {
        if info.kind != 0 {
            continue;
        }
        let n = plays.plays as i64;
        let min_plays = match n {
            ..=1 => 1,
            2..=4 => 2,
            5..=9 => 5,
            _ => 10,
        };
        let entry = buckets.entry(min_plays).or_default();
        entry.0 += 1;
        entry.1 += n;
    }
    buckets
        .into_iter()
        .map(|(min_plays, (tracks, plays))| RepeatBucketRow {
            min_plays,
            tracks,
            plays,
        })
        .collect()
}
