//! Headline numbers of a window: plays, time and distinct items, split by kind.

use super::rollup::{Parts, Rollup};
use super::subject::bind_subject;
use super::{PLAY_FILTER, PlayFilter, Subject, bind_filter};
use crate::row::RowExt;
use crate::{Result, Store, on_pool};
use std::collections::HashSet;

/// Counted plays of a window (counting rule applied).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowTotals {
    /// Plays of anything (tracks, episodes, chapters).
    pub plays: i64,
    pub ms_played: i64,
    /// First and last counted play in the window.
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// Music.
    pub track_plays: i64,
    pub track_ms: i64,
    pub distinct_tracks: i64,
    pub distinct_albums: i64,
    /// Primary artists of the tracks played.
    pub distinct_artists: i64,
    /// Podcasts.
    pub episode_plays: i64,
    pub episode_ms: i64,
    pub distinct_episodes: i64,
    pub distinct_shows: i64,
    /// Audiobooks.
    pub chapter_plays: i64,
    pub chapter_ms: i64,
}

impl Store {
    /// Totals of the window; with a subject, of that artist's or track's plays only.
    pub async fn window_totals(
        &self,
        filter: &PlayFilter,
        subject: Option<Subject>,
    ) -> Result<WindowTotals> {
        if let Some(rollup) = self.rollup(filter, Parts::TRACKS).await? {
            return Ok(totals_of(&rollup, subject));
        }
        let subject_condition = Subject::condition(subject, 6);
        // One pass over the window's plays (the CTE is read twice, so both engines
        // materialise it); sums are cast because SUM of BIGINT is NUMERIC on PostgreSQL.
        let sql = sqlx::AssertSqlSafe(format!(
            "WITH x AS (
                 SELECT p.track_id, COUNT(*) AS plays, COALESCE(SUM(p.ms_played), 0) AS ms_played,
                        MIN(p.ended_at) AS first_at, MAX(p.ended_at) AS last_at
                 FROM plays p WHERE {PLAY_FILTER}{subject_condition}
                 GROUP BY p.track_id)
             SELECT CAST(COALESCE(SUM(x.plays), 0) AS BIGINT) AS plays,
                    CAST(COALESCE(SUM(x.ms_played), 0) AS BIGINT) AS ms_played,
                    MIN(x.first_at) AS first_ms, MAX(x.last_at) AS last_ms,
                    CAST(COALESCE(SUM(CASE WHEN t.kind = 0 THEN x.plays ELSE 0 END), 0) AS BIGINT) AS track_plays,
                    CAST(COALESCE(SUM(CASE WHEN t.kind = 0 THEN x.ms_played ELSE 0 END), 0) AS BIGINT) AS track_ms,
                    COUNT(CASE WHEN t.kind = 0 THEN 1 END) AS distinct_tracks,
                    COUNT(DISTINCT CASE WHEN t.kind = 0 THEN t.album_id END) AS distinct_albums,
                    CAST(COALESCE(SUM(CASE WHEN t.kind = 1 THEN x.plays ELSE 0 END), 0) AS BIGINT) AS episode_plays,
                    CAST(COALESCE(SUM(CASE WHEN t.kind = 1 THEN x.ms_played ELSE 0 END), 0) AS BIGINT) AS episode_ms,
                    COUNT(CASE WHEN t.kind = 1 THEN 1 END) AS distinct_episodes,
                    COUNT(DISTINCT CASE WHEN t.kind = 1 THEN t.album_id END) AS distinct_shows,
                    CAST(COALESCE(SUM(CASE WHEN t.kind = 2 THEN x.plays ELSE 0 END), 0) AS BIGINT) AS chapter_plays,
                    CAST(COALESCE(SUM(CASE WHEN t.kind = 2 THEN x.ms_played ELSE 0 END), 0) AS BIGINT) AS chapter_ms,
                    (SELECT COUNT(DISTINCT ta.artist_id) FROM x
                     JOIN track_artists ta ON ta.track_id = x.track_id AND ta.position = 0) AS distinct_artists
             FROM x JOIN tracks t ON t.id = x.track_id"
        ));
        let totals = on_pool!(self, pool => {
            let row = bind_subject!(bind_filter!(sqlx::query(sql), filter), subject)
                .fetch_one(pool)
                .await?;
            WindowTotals {
                plays: row.int("plays")?,
                ms_played: row.int("ms_played")?,
                first_ms: row.opt_int("first_ms")?,
                last_ms: row.opt_int("last_ms")?,
                track_plays: row.int("track_plays")?,
                track_ms: row.int("track_ms")?,
                distinct_tracks: row.int("distinct_tracks")?,
                distinct_albums: row.int("distinct_albums")?,
                distinct_artists: row.int("distinct_artists")?,
                episode_plays: row.int("episode_plays")?,
                episode_ms: row.int("episode_ms")?,
                distinct_episodes: row.int("distinct_episodes")?,
                distinct_shows: row.int("distinct_shows")?,
                chapter_plays: row.int("chapter_plays")?,
                chapter_ms: row.int("chapter_ms")?,
            }
        });
        Ok(totals)
    }
}

/// The totals of the rollup's tracks (of the subject's, if any).
fn totals_of(rollup: &Rollup, subject: Option<Subject>) -> WindowTotals {
    let mut totals = WindowTotals::default();
    let (mut albums, mut artists, mut shows) = (HashSet::new(), HashSet::new(), HashSet::new());
    for &(_, info, plays) in rollup.tracks_of(subject).iter() {
        let (n, ms) = (plays.plays as i64, plays.ms as i64);
        totals.plays += n;
        totals.ms_played += ms;
        totals.first_ms = Some(totals.first_ms.map_or(plays.first, |f| f.min(plays.first)));
        totals.last_ms = Some(totals.last_ms.map_or(plays.last, |l| l.max(plays.last)));
        if info.artist != 0 {
            artists.insert(info.artist);
        }
        match info.kind {
            0 => {
                totals.track_plays += n;
                totals.track_ms += ms;
                totals.distinct_tracks += 1;
                if info.album != 0 {
                    albums.insert(info.album);
                }
            }
            1 => {
                totals.episode_plays += n;
                totals.episode_ms += ms;
                totals.distinct_episodes += 1;
                if info.album != 0 {
                    shows.insert(info.album);
                }
            }
            _ => {
                totals.chapter_plays += n;
                totals.chapter_ms += ms;
            }
        }
    }
    totals.distinct_albums = albums.len() as i64;
    totals.distinct_artists = artists.len() as i64;
    totals.distinct_shows = shows.len() as i64;
    totals
}
