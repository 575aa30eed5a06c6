//! Finding the artist or track a detail question names, among what the user has played.
//!
//! Only items the user has listened to are found: the catalogue is shared by all users, and
//! a name or URI known only from someone else's history must not be revealed.

use super::SearchPattern;
use super::search::like;
use crate::row::RowExt;
use crate::{BackendKind, Result, Store, on_pool};
use spotify_history_core::UserId;

/// An artist the user has played.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtistMatch {
    pub id: i64,
    pub key: String,
    pub name: String,
}

/// A track (or episode, or chapter) the user has played.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackMatch {
    pub id: i64,
    pub key: String,
    pub name: String,
    /// 0 track, 1 episode, 2 audiobook chapter.
    pub kind: i16,
    pub artist: Option<String>,
    pub album: Option<String>,
    /// The user's stored listens of it, any duration: counted when several tracks match,
    /// to order them (`None` for a lone match; a favourite's count costs milliseconds).
    pub listens: Option<i64>,
}

/// How names are looked up: first through the engine's `LOWER(name)` index, which finds
/// every name whose case differs only in letters the engine folds; when that finds nothing,
/// by a scan with a pattern that leaves other letters to the Unicode comparison in Rust.
fn name_conditions(table: &str, backend: BackendKind) -> [String; 2] {
    [
        format!("LOWER({table}.name) = LOWER($3)"),
        format!("{table}.name {} $3 ESCAPE '\\'", like(backend)),
    ]
}

impl Store {
    /// Artists the user played (as primary artist) whose key is `key_or_name` or whose name
    /// equals it ignoring case; the longest known first.
    pub async fn find_artists(&self, user: UserId, key_or_name: &str) -> Result<Vec<ArtistMatch>> {
        let Some(pattern) = SearchPattern::new(key_or_name) else {
            return Ok(Vec::new());
        };
        let wanted = key_or_name.trim();
        for (condition, value) in name_conditions("a", self.backend())
            .into_iter()
            .zip([wanted.to_string(), pattern.like_exact()])
        {
            // Whether the user played the artist, not how often: a favourite artist has
            // hundreds of thousands of plays to count. The artist's few tracks drive the
            // check, each one probe of `plays_track`.
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT a.id, a.key, a.name FROM artists a
                 WHERE (a.key = $2 OR {condition})
                   AND EXISTS (SELECT 1 FROM track_artists ta
                               WHERE ta.artist_id = a.id AND ta.position = 0
                                 AND EXISTS (SELECT 1 FROM plays p
                                             WHERE p.user_id = $1 AND p.track_id = ta.track_id))"
            ));
            let found = on_pool!(self, pool => {
                let rows = sqlx::query(sql)
                    .bind(user.0)
                    .bind(wanted)
                    .bind(&value)
                    .fetch_all(pool)
                    .await?;
                rows.iter()
                    .map(|row| {
                        Ok(ArtistMatch {
                            id: row.int("id")?,
                            key: row.text("key")?,
                            name: row.text("name")?,
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            });
            let mut found: Vec<ArtistMatch> = found
                .into_iter()
                .filter(|a| a.key == wanted || pattern.is_name(&a.name))
                .collect();
            if !found.is_empty() {
                found.sort_by_key(|a| a.id);
                return Ok(found);
            }
        }
        Ok(Vec::new())
    }

    /// Tracks, episodes or chapters the user played whose key is `key_or_name` or whose name
    /// equals it ignoring case (and, if given, whose primary artist or show is named
    /// `by`); most listened first.
    pub async fn find_tracks(
        &self,
        user: UserId,
        key_or_name: &str,
        by: Option<&str>,
    ) -> Result<Vec<TrackMatch>> {
        let Some(pattern) = SearchPattern::new(key_or_name) else {
            return Ok(Vec::new());
        };
        let wanted = key_or_name.trim();
        let by = by.map(|b| b.trim().to_lowercase());
        for (condition, value) in name_conditions("t", self.backend())
            .into_iter()
            .zip([wanted.to_string(), pattern.like_exact()])
        {
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT t.id, t.key, t.name, t.kind, ar.name AS artist, al.name AS album,
                        EXISTS (SELECT 1 FROM plays p
                                WHERE p.user_id = $1 AND p.track_id = t.id) AS played
                 FROM tracks t
                 LEFT JOIN albums al ON al.id = t.album_id
                 LEFT JOIN track_artists ta ON ta.track_id = t.id AND ta.position = 0
                 LEFT JOIN artists ar ON ar.id = ta.artist_id
                 WHERE t.key = $2 OR {condition}"
            ));
            let found = on_pool!(self, pool => {
                let rows = sqlx::query(sql)
                    .bind(user.0)
                    .bind(wanted)
                    .bind(&value)
                    .fetch_all(pool)
                    .await?;
                rows.iter()
                    .map(|row| {
                        if !row.flag("played")? {
                            return Ok(None);
                        }
                        Ok(Some(TrackMatch {
                            id: row.int("id")?,
                            key: row.text("key")?,
                            name: row.text("name")?,
                            kind: row.small("kind")?,
                            artist: row.opt_text("artist")?,
                            album: row.opt_text("album")?,
                            listens: None,
                        }))
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            });
            let mut found: Vec<TrackMatch> = found
                .into_iter()
                .flatten()
                .filter(|t| t.key == wanted || pattern.is_name(&t.name))
                .filter(|t| {
                    by.as_ref().is_none_or(|by| {
                        // An episode's "by" is its show.
                        let owner = t.artist.as_deref().or(t.album.as_deref()).unwrap_or("");
                        owner.to_lowercase() == *by
                    })
                })
                .collect();
            if found.len() > 1 {
                for track in &mut found {
                    track.listens = Some(self.count_listens(user, track.id).await?);
                }
                found.sort_by(|a, b| b.listens.cmp(&a.listens).then(a.id.cmp(&b.id)));
            }
            if !found.is_empty() {
                return Ok(found);
            }
        }
        Ok(Vec::new())
    }

    /// The user's stored listens of one track, any duration.
    async fn count_listens(&self, user: UserId, track: i64) -> Result<i64> {
        let count = on_pool!(self, pool => {
            sqlx::query("SELECT COUNT(*) AS n FROM plays WHERE user_id = $1 AND track_id = $2")
                .bind(user.0)
                .bind(track)
                .fetch_one(pool)
                .await?
                .int("n")?
        });
        Ok(count)
    }
}
