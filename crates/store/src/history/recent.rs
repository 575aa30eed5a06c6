//! The latest plays, newest first, a page at a time.

use super::{PLAY_FILTER, PlayFilter, bind_filter};
use crate::row::RowExt;
use crate::{Result, Store, on_pool};
use spotify_history_core::SourceSet;

/// Where the previous page ended: the next page holds plays strictly before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlayCursor {
    pub ended_at: i64,
    pub track_id: i64,
}

/// One play with what was heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentPlayRow {
    pub ended_at: i64,
    pub track_id: i64,
    /// Spotify URI or `local:` key.
    pub track_key: String,
    pub track_name: String,
    /// 0 track, 1 episode, 2 audiobook chapter.
    pub kind: i16,
    /// Primary artist (tracks).
    pub artist: Option<String>,
    /// Album, show or audiobook.
    pub album: Option<String>,
    pub ms_played: Option<i64>,
    pub ms_played_estimated: bool,
    pub sources: SourceSet,
}

impl RecentPlayRow {
    /// The cursor that continues after this play.
    pub fn cursor(&self) -> PlayCursor {
        PlayCursor {
            ended_at: self.ended_at,
            track_id: self.track_id,
        }
    }
}

fn recent_from_row(row: &impl RowExt) -> Result<RecentPlayRow, sqlx::Error> {
    Ok(RecentPlayRow {
        ended_at: row.int("ended_at")?,
        track_id: row.int("track_id")?,
        track_key: row.text("track_key")?,
        track_name: row.text("track_name")?,
        kind: row.small("kind")?,
        artist: row.opt_text("artist")?,
        album: row.opt_text("album")?,
        ms_played: row.opt_int4("ms_played")?.map(i64::from),
        ms_played_estimated: row.flag("ms_played_estimated")?,
        sources: SourceSet(row.small("sources")?),
    })
}

/// The columns and joins of a play as [`RecentPlayRow`] reads it.
const PLAY_COLUMNS: &str = "
    SELECT p.ended_at, p.track_id, p.ms_played, p.ms_played_estimated, p.sources,
           t.key AS track_key, t.name AS track_name, t.kind,
           al.name AS album, ar.name AS artist
    FROM plays p
    JOIN tracks t ON t.id = p.track_id
    LEFT JOIN albums al ON al.id = t.album_id
    LEFT JOIN track_artists ta ON ta.track_id = t.id AND ta.position = 0
    LEFT JOIN artists ar ON ar.id = ta.artist_id";

impl Store {
    /// The latest plays of the window of any of `tracks`, newest first.
    pub async fn recent_plays_of(
        &self,
        filter: &PlayFilter,
        tracks: &[i64],
        limit: i64,
    ) -> Result<Vec<RecentPlayRow>> {
        if tracks.is_empty() {
            return Ok(Vec::new());
        }
        // A list of ids is one bound value: a JSON array unpacked by json_each on SQLite, an
        // array on PostgreSQL. The query is otherwise the same.
        let (sqlite, postgres) = (
            "p.track_id IN (SELECT value FROM json_each($6))",
            "p.track_id = ANY($6)",
        );
        let sql = |ids: &str| {
            sqlx::AssertSqlSafe(format!(
                "{PLAY_COLUMNS}
                 WHERE {PLAY_FILTER} AND {ids}
                 ORDER BY p.ended_at DESC, p.track_id DESC
                 LIMIT $7"
            ))
        };
        let rows = match &self.backend {
            crate::Backend::Sqlite(pool) => {
                let ids = serde_json::to_string(tracks).unwrap_or_else(|_| "[]".into());
                bind_filter!(sqlx::query(sql(sqlite)), filter)
                    .bind(ids)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(recent_from_row)
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            }
            crate::Backend::Postgres(pool) => bind_filter!(sqlx::query(sql(postgres)), filter)
                .bind(tracks)
                .bind(limit)
                .fetch_all(pool)
                .await?
                .iter()
                .map(recent_from_row)
                .collect::<Result<Vec<_>, sqlx::Error>>()?,
        };
        Ok(rows)
    }

    /// Plays of the window newest first: those before `before` (or the newest), skipping
    /// `offset`, at most `limit`.
    pub async fn recent_plays(
        &self,
        filter: &PlayFilter,
        before: Option<PlayCursor>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<RecentPlayRow>> {
        // Plays are unique per (user, ended_at, track), so the pair orders them totally and
        // a cursor never skips or repeats a play that shares its end time with another.
        let sql = sqlx::AssertSqlSafe(format!(
            "{PLAY_COLUMNS}
             WHERE {PLAY_FILTER}
               AND (p.ended_at < $6 OR (p.ended_at = $6 AND p.track_id < $7))
             ORDER BY p.ended_at DESC, p.track_id DESC
             LIMIT $8 OFFSET $9"
        ));
        let (filter, cursor) = match before {
            Some(cursor) => (
                filter.within(filter.start_bound(), cursor.ended_at.saturating_add(1)),
                cursor,
            ),
            None => (
                *filter,
                PlayCursor {
                    ended_at: i64::MAX,
                    track_id: 0,
                },
            ),
        };
        let rows = on_pool!(self, pool => {
            let rows = bind_filter!(sqlx::query(sql), filter)
                .bind(cursor.ended_at)
                .bind(cursor.track_id)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            rows.iter().map(recent_from_row).collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(rows)
    }
}
