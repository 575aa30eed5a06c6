//! What was new in a window: artists and tracks whose first-ever play falls inside it.

use super::rollup::{IdMap, Parts, Rollup};
use super::top::{Ranked, top_k};
use super::{PLAY_FILTER, PlayFilter, bind_filter};
use crate::row::RowExt;
use crate::{Result, Store, on_pool};
use spotify_history_core::ItemKind;
use std::collections::HashMap;

/// An artist or track first played in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub id: i64,
    pub key: String,
    pub name: String,
    /// The primary artist of a track.
    pub context: Option<String>,
    /// The first-ever counted play.
    pub first_ms: i64,
    /// Plays and time in the window.
    pub plays: i64,
    pub ms_played: i64,
    /// Discoveries of this kind in the window, and their plays (the same on every row).
    pub total: i64,
    pub total_plays: i64,
}

fn discovery_from_row(row: &impl RowExt) -> Result<Discovery, sqlx::Error> {
    Ok(Discovery {
        id: row.int("id")?,
        key: row.text("key")?,
        name: row.text("name")?,
        context: row.opt_text("context")?,
        first_ms: row.int("first_at")?,
        plays: row.int("plays")?,
        ms_played: row.int("ms_played")?,
        total: row.int("total")?,
        total_plays: row.int("total_plays")?,
    })
}

/// The condition "the track in column `track` had a counted play before the window".
/// Answered from the `plays_track` index, one probe per candidate.
fn played_before(track: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM plays q
                 WHERE q.user_id = $1 AND q.track_id = {track} AND q.ended_at < $2
                   AND (q.ms_played >= $4 OR (q.ms_played IS NULL AND $5)))"
    )
}

impl Store {
    /// Music tracks first played in the window, most played there first.
    pub async fn discovered_tracks(
        &self,
        filter: &PlayFilter,
        limit: i64,
    ) -> Result<Vec<Discovery>> {
        if let Some(rollup) = self.rollup(filter, Parts::DISCOVERIES).await? {
            let found = new_tracks(&rollup, filter.start_bound());
            return self
                .discoveries(Ranked::Items(ItemKind::Track), found, limit)
                .await;
        }
        let played_before = played_before("x.track_id");
        // Window aggregates run before LIMIT: every row carries the totals of all discoveries.
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT t.id, t.key, t.name, ar.name AS context, x.first_at, x.plays, x.ms_played,
                    COUNT(*) OVER () AS total,
                    CAST(SUM(x.plays) OVER () AS BIGINT) AS total_plays
             FROM (SELECT p.track_id, COUNT(*) AS plays,
                          COALESCE(SUM(p.ms_played), 0) AS ms_played,
                          MIN(p.ended_at) AS first_at
                   FROM plays p WHERE {PLAY_FILTER} GROUP BY p.track_id) x
             JOIN tracks t ON t.id = x.track_id AND t.kind = 0
             LEFT JOIN track_artists ta ON ta.track_id = t.id AND ta.position = 0
             LEFT JOIN artists ar ON ar.id = ta.artist_id
             WHERE NOT {played_before}
             ORDER BY x.plays DESC, x.ms_played DESC, t.id
             LIMIT $6"
        ));
        let rows = on_pool!(self, pool => {
            let rows = bind_filter!(sqlx::query(sql), filter).bind(limit).fetch_all(pool).await?;
            rows.iter().map(discovery_from_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// Artists (as primary artist) first played in the window, most played there first.
    pub async fn discovered_artists(
        &self,
        filter: &PlayFilter,
        limit: i64,
    ) -> Result<Vec<Discovery>> {
        if let Some(rollup) = self.rollup(filter, Parts::DISCOVERIES).await? {
            let found = new_artists(&rollup, filter.start_bound());
            return self.discoveries(Ranked::Artists, found, limit).await;
        }
        let played_before = played_before("tb.track_id");
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT ar.id, ar.key, ar.name, NULL AS context, y.first_at, y.plays, y.ms_played,
                    COUNT(*) OVER () AS total,
                    CAST(SUM(y.plays) OVER () AS BIGINT) AS total_plays
             FROM (SELECT ta.artist_id, MIN(x.first_at) AS first_at,
                          CAST(SUM(x.plays) AS BIGINT) AS plays,
                          CAST(SUM(x.ms_played) AS BIGINT) AS ms_played
                   FROM (SELECT p.track_id, COUNT(*) AS plays,
                                COALESCE(SUM(p.ms_played), 0) AS ms_played,
                                MIN(p.ended_at) AS first_at
                         FROM plays p WHERE {PLAY_FILTER} GROUP BY p.track_id) x
                   JOIN track_artists ta ON ta.track_id = x.track_id AND ta.position = 0
                   GROUP BY ta.artist_id) y
             JOIN artists ar ON ar.id = y.artist_id
             WHERE NOT EXISTS (SELECT 1 FROM track_artists tb
                               WHERE tb.artist_id = y.artist_id AND tb.position = 0
                                 AND {played_before})
             ORDER BY y.plays DESC, y.ms_played DESC, ar.id
             LIMIT $6"
        ));
        let rows = on_pool!(self, pool => {
            let rows = bind_filter!(sqlx::query(sql), filter).bind(limit).fetch_all(pool).await?;
            rows.iter().map(discovery_from_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// Discoveries `(id, plays, ms, first)` ranked, counted and named.
    async fn discoveries(
        &self,
        ranked: Ranked,
        mut found: Vec<(i64, i64, i64, i64)>,
        limit: i64,
    ) -> Result<Vec<Discovery>> {
        let total = found.len() as i64;
        let total_plays = found.iter().map(|d| d.1).sum();
        top_k(
            &mut found,
            usize::try_from(limit).unwrap_or(usize::MAX),
            |a, b| (b.1, b.2, a.0).cmp(&(a.1, a.2, b.0)),
        );
        let first: HashMap<i64, i64> = found.iter().map(|d| (d.0, d.3)).collect();
        let rows = found
            .into_iter()
            .map(|(id, plays, ms, _)| (id, plays, ms))
            .collect();
        let named = self.named(ranked, rows).await?;
        Ok(named
            .into_iter()
            .map(|row| Discovery {
                first_ms: first[&row.id],
                id: row.id,
                key: row.key,
                name: row.name,
                context: row.context,
                plays: row.plays,
                ms_played: row.ms_played,
                total,
                total_plays,
            })
            .collect())
    }
}

/// Music tracks of the window whose first play ever is not before `from`.
fn new_tracks(rollup: &Rollup, from: i64) -> Vec<(i64, i64, i64, i64)> {
    rollup
        .tracks()
        .iter()
        .filter(|(_, info, _)| info.kind == 0)
        .filter_map(|&(track, _, plays)| {
            let first = rollup.all_time(track)?.first;
            (first >= from).then_some((track, plays.plays as i64, plays.ms as i64, first))
        })
        .collect()
}

/// Primary artists of the window whose first play ever is not before `from`.
fn new_artists(rollup: &Rollup, from: i64) -> Vec<(i64, i64, i64, i64)> {
    let mut first: IdMap<i64> = IdMap::default();
    for (_, info, plays) in rollup.totals() {
        if info.artist != 0 {
            let entry = first.entry(info.artist).or_insert(plays.first);
            *entry = (*entry).min(plays.first);
        }
    }
    let mut in_window: IdMap<(i64, i64)> = IdMap::default();
    for (_, info, plays) in rollup.tracks() {
        if info.artist != 0 {
            let entry = in_window.entry(info.artist).or_default();
            entry.0 += plays.plays as i64;
            entry.1 += plays.ms as i64;
        }
    }
    in_window
        .into_iter()
        .filter_map(|(artist, (plays, ms))| {
            let first = *first.get(&artist)?;
            (first >= from).then_some((artist, plays, ms, first))
        })
        .collect()
}
