//! Reading a user's listens back in full, with natural keys instead of row ids: what
//! `export` writes and what tests compare between databases.

use crate::row::RowExt;
use crate::{Result, Store, on_pool};
use spotify_history_core::UserId;

/// One stored listen with everything known about it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredListen {
    pub ended_at: i64,
    /// Spotify URI or `local:<sha1>` key of the track, episode or chapter.
    pub track_key: String,
    pub track_name: String,
    /// 0 track, 1 episode, 2 audiobook chapter.
    pub kind: i16,
    pub album_name: Option<String>,
    /// Credited artists, in order, joined by ", ".
    pub artist_names: Option<String>,
    pub ms_played: Option<i64>,
    pub ms_played_estimated: bool,
    /// The richest source (a `Source` bit) and every confirming source (bitmask).
    pub source: i16,
    pub sources: i16,
    pub platform: Option<String>,
    pub conn_country: Option<String>,
    pub reason_start: Option<String>,
    pub reason_end: Option<String>,
    pub shuffle: Option<bool>,
    pub skipped: Option<bool>,
    pub offline: Option<bool>,
    pub incognito: Option<bool>,
}

impl Store {
    /// Every listen of `user`, oldest first (ties by track key).
    pub async fn stored_listens(&self, user: UserId) -> Result<Vec<StoredListen>> {
        const SQL: &str = "
            SELECT p.ended_at, t.key AS track_key, t.name AS track_name, t.kind,
                   al.name AS album_name,
                   (SELECT MIN(a.name) FROM track_artists ta JOIN artists a ON a.id = ta.artist_id
                     WHERE ta.track_id = t.id AND ta.position = 0) AS artist_names,
                   p.ms_played, p.ms_played_estimated, p.source, p.sources, p.platform,
                   p.conn_country, p.reason_start, p.reason_end, p.shuffle, p.skipped, p.offline,
                   p.incognito
            FROM plays p
            JOIN tracks t ON t.id = p.track_id
            LEFT JOIN albums al ON al.id = t.album_id
            WHERE p.user_id = $1
            ORDER BY p.ended_at, t.key";
        let listens = on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(user.0).fetch_all(pool).await?;
            rows.iter()
                .map(|row| -> Result<StoredListen, sqlx::Error> {
                    Ok(StoredListen {
                        ended_at: row.int("ended_at")?,
                        track_key: row.text("track_key")?,
                        track_name: row.text("track_name")?,
                        kind: row.small("kind")?,
                        album_name: row.opt_text("album_name")?,
                        artist_names: row.opt_text("artist_names")?,
                        ms_played: row.opt_int4("ms_played")?.map(i64::from),
                        ms_played_estimated: row.flag("ms_played_estimated")?,
                        source: row.small("source")?,
                        sources: row.small("sources")?,
                        platform: row.opt_text("platform")?,
                        conn_country: row.opt_text("conn_country")?,
                        reason_start: row.opt_text("reason_start")?,
                        reason_end: row.opt_text("reason_end")?,
                        shuffle: row.opt_flag("shuffle")?,
                        skipped: row.opt_flag("skipped")?,
                        offline: row.opt_flag("offline")?,
                        incognito: row.opt_flag("incognito")?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(listens)
    }
}
