//! Ranking questions: the most played artists, tracks, albums, shows, episodes.

use super::{PLAY_FILTER, PlayFilter, bind_filter};
use crate::row::RowExt;
use crate::{Result, Store, on_pool};

/// One entry of a ranking: a catalogue item with its play count and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankedRow {
    pub id: i64,
    /// Spotify URI or `local:` key.
    pub key: String,
    pub name: String,
    /// The primary artist (tracks, albums) or show (episodes), when there is one.
    pub context: Option<String>,
    pub plays: i64,
    pub ms_played: i64,
}

fn ranked_from_row(row: &impl RowExt) -> Result<RankedRow, sqlx::Error> {
    Ok(RankedRow {
        id: row.int("id")?,
        key: row.text("key")?,
        name: row.text("name")?,
        context: row.opt_text("context")?,
        plays: row.int("plays")?,
        ms_played: row.int("ms_played")?,
    })
}

impl Store {
    /// Artists by plays (a play counts for the track's primary artist), ties by time.
    pub async fn top_artists(&self, filter: &PlayFilter, limit: i64) -> Result<Vec<RankedRow>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT a.id, a.key, a.name, NULL AS context, COUNT(*) AS plays,
                    CAST(COALESCE(SUM(p.ms_played), 0) AS BIGINT) AS ms_played
             FROM plays p
             JOIN track_artists ta ON ta.track_id = p.track_id AND ta.position = 0
             JOIN artists a ON a.id = ta.artist_id
             WHERE {PLAY_FILTER}
             GROUP BY a.id, a.key, a.name
             ORDER BY plays DESC, ms_played DESC, a.name
             LIMIT $6"
        ));
        let rows = on_pool!(self, pool => {
            let rows = bind_filter!(sqlx::query(sql), filter).bind(limit).fetch_all(pool).await?;
            rows.iter().map(ranked_from_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }
}
