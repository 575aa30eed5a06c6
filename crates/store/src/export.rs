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
    /// Natural key of the album, show or audiobook (`spotify:album:...` or `local:<sha1>`).
    pub album_key: Option<String>,
    /// The first credited artist's name (other credited artists are not listed).
    pub artist_names: Option<String>,
    /// Natural key of the first credited artist (`spotify:artist:...` or `local:<sha1>`).
    pub artist_key: Option<String>,
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

/// Listens per page of [`Store::stored_listens_page`] when reading a whole history.
const PAGE: i64 = 5_000;

const SELECT: &str = "
    SELECT p.ended_at, t.key AS track_key, t.name AS track_name, t.kind,
           al.name AS album_name, al.key AS album_key,
           (SELECT MIN(a.name) FROM track_artists ta JOIN artists a ON a.id = ta.artist_id
             WHERE ta.track_id = t.id AND ta.position = 0) AS artist_names,
           (SELECT MIN(a.key) FROM track_artists ta JOIN artists a ON a.id = ta.artist_id
             WHERE ta.track_id = t.id AND ta.position = 0) AS artist_key,
           p.ms_played, p.ms_played_estimated, p.source, p.sources, p.platform,
           p.conn_country, p.reason_start, p.reason_end, p.shuffle, p.skipped, p.offline,
           p.incognito
    FROM plays p
    JOIN tracks t ON t.id = p.track_id
    LEFT JOIN albums al ON al.id = t.album_id";

impl Store {
    /// Every listen of `user`, oldest first (ties by track key). Reads the history page by
    /// page; to stream a long history without holding it, use [`Store::stored_listens_page`].
    pub async fn stored_listens(&self, user: UserId) -> Result<Vec<StoredListen>> {
        let mut all = Vec::new();
        loop {
            let page = self.stored_listens_page(user, all.last(), PAGE).await?;
            let done = (page.len() as i64) < PAGE;
            all.extend(page);
            if done {
                return Ok(all);
            }
        }
    }

    /// Up to `limit` listens of `user` that come after `after` in the order of
    /// [`Store::stored_listens`] (from the first when `None`): keyset paging on
    /// `(ended_at, track_key)`, which is unique per user.
    pub async fn stored_listens_page(
        &self,
        user: UserId,
        after: Option<&StoredListen>,
        limit: i64,
    ) -> Result<Vec<StoredListen>> {
        let (after_ended, after_key) = match after {
            Some(listen) => (listen.ended_at, listen.track_key.clone()),
            None => (i64::MIN, String::new()),
        };
        let sql = format!(
            "{SELECT}
            WHERE p.user_id = $1 AND (p.ended_at > $2 OR (p.ended_at = $2 AND t.key > $3))
            ORDER BY p.ended_at, t.key
            LIMIT $4"
        );
        let sql = sqlx::AssertSqlSafe(sql);
        let listens = on_pool!(self, pool => {
            let rows = sqlx::query(sql)
                .bind(user.0)
                .bind(after_ended)
                .bind(after_key)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|row| -> Result<StoredListen, sqlx::Error> {
                    Ok(StoredListen {
                        ended_at: row.int("ended_at")?,
                        track_key: row.text("track_key")?,
                        track_name: row.text("track_name")?,
                        kind: row.small("kind")?,
                        album_name: row.opt_text("album_name")?,
                        album_key: row.opt_text("album_key")?,
                        artist_names: row.opt_text("artist_names")?,
                        artist_key: row.opt_text("artist_key")?,
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
