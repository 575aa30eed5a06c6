//! Headline numbers of one user's stored listens: what an import report or a test checks.

use crate::row::RowExt;
use crate::{Result, Store, on_pool};
use spotify_history_core::UserId;

/// Counts over every stored listen of a user (no counting rule applied).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ListenTotals {
    pub listens: i64,
    /// Distinct music tracks.
    pub distinct_tracks: i64,
    /// Distinct artists of those tracks.
    pub distinct_artists: i64,
    /// Distinct albums of those tracks.
    pub distinct_albums: i64,
    /// Distinct podcast episodes.
    pub distinct_episodes: i64,
    /// Distinct podcast shows.
    pub distinct_shows: i64,
    /// Distinct audiobook chapters.
    pub distinct_chapters: i64,
    /// Sum of known `ms_played`.
    pub total_ms_played: i64,
    /// Listens of podcast episodes.
    pub episode_listens: i64,
    /// Listens of audiobook chapters.
    pub chapter_listens: i64,
    /// Listens that more than one source confirmed.
    pub multi_source_listens: i64,
}

impl Store {
    /// Totals over all of `user`'s listens.
    pub async fn listen_totals(&self, user: UserId) -> Result<ListenTotals> {
        // COALESCE/CAST keep the result types equal on both engines (SUM of an int column is
        // NUMERIC on PostgreSQL).
        const SQL: &str = "
            SELECT COUNT(*) AS listens,
                   COUNT(DISTINCT CASE WHEN t.kind = 0 THEN p.track_id END) AS distinct_tracks,
                   COUNT(DISTINCT CASE WHEN t.kind = 0 THEN t.album_id END) AS distinct_albums,
                   COUNT(DISTINCT CASE WHEN t.kind = 1 THEN p.track_id END) AS distinct_episodes,
                   COUNT(DISTINCT CASE WHEN t.kind = 1 THEN t.album_id END) AS distinct_shows,
                   COUNT(DISTINCT CASE WHEN t.kind = 2 THEN p.track_id END) AS distinct_chapters,
                   CAST(COALESCE(SUM(p.ms_played), 0) AS BIGINT) AS total_ms_played,
                   CAST(COALESCE(SUM(CASE WHEN t.kind = 1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS episode_listens,
                   CAST(COALESCE(SUM(CASE WHEN t.kind = 2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS chapter_listens,
                   CAST(COALESCE(SUM(CASE WHEN p.sources <> p.source THEN 1 ELSE 0 END), 0) AS BIGINT) AS multi_source_listens
            FROM plays p JOIN tracks t ON t.id = p.track_id
            WHERE p.user_id = $1";
        const ARTISTS_SQL: &str = "
            SELECT COUNT(DISTINCT ta.artist_id) AS distinct_artists
            FROM plays p JOIN track_artists ta ON ta.track_id = p.track_id
            WHERE p.user_id = $1";
        let totals = on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(user.0).fetch_one(pool).await?;
            let artists = sqlx::query(ARTISTS_SQL).bind(user.0).fetch_one(pool).await?;
            ListenTotals {
                listens: row.int("listens")?,
                distinct_tracks: row.int("distinct_tracks")?,
                distinct_artists: artists.int("distinct_artists")?,
                distinct_albums: row.int("distinct_albums")?,
                distinct_episodes: row.int("distinct_episodes")?,
                distinct_shows: row.int("distinct_shows")?,
                distinct_chapters: row.int("distinct_chapters")?,
                total_ms_played: row.int("total_ms_played")?,
                episode_listens: row.int("episode_listens")?,
                chapter_listens: row.int("chapter_listens")?,
                multi_source_listens: row.int("multi_source_listens")?,
            }
        });
        Ok(totals)
    }
}
