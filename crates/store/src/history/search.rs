//! Finding plays by artist, track or album name.

use super::rollup::{Parts, Rollup};
use super::{PLAY_FILTER, PlayFilter, bind_filter};
use crate::row::RowExt;
use crate::{BackendKind, Result, Store, on_pool};
use std::collections::HashMap;

/// A case-insensitive substring search, the same on both engines.
///
/// SQLite folds only ASCII letters (and PostgreSQL folds as the database's locale says), so
/// SQL narrows the candidates with a pattern in which every non-ASCII character is the
/// one-character wildcard `_`, and [`SearchPattern::matches`] then compares full Unicode
/// lowercase names. LIKE's own wildcards in the text are escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPattern {
    needle: String,
    /// The escaped LIKE pattern of the text alone, without the surrounding `%`.
    like_body: String,
}

impl SearchPattern {
    /// The pattern for a search text, or `None` when the text is blank.
    pub fn new(text: &str) -> Option<SearchPattern> {
        let needle = text.trim().to_lowercase();
        if needle.is_empty() {
            return None;
        }
        let mut like_body = String::with_capacity(needle.len());
        for c in needle.chars() {
            match c {
                '%' | '_' | '\\' => {
                    like_body.push('\\');
                    like_body.push(c);
                }
                c if c.is_ascii() => like_body.push(c),
                _ => like_body.push('_'),
            }
        }
        Some(SearchPattern { needle, like_body })
    }

    /// LIKE pattern for names containing the text (see [`like`] for the operator).
    fn like_contains(&self) -> String {
        format!("%{}%", self.like_body)
    }

    /// LIKE pattern for names equal to the text.
    pub(crate) fn like_exact(&self) -> String {
        self.like_body.clone()
    }

    /// Does `name` contain the text, ignoring case?
    pub fn matches(&self, name: &str) -> bool {
        name.to_lowercase().contains(&self.needle)
    }

    /// Is `name` the text, ignoring case?
    pub(crate) fn is_name(&self, name: &str) -> bool {
        name.to_lowercase() == self.needle
    }

    /// The lowercase text searched for.
    pub fn text(&self) -> &str {
        &self.needle
    }

    /// SQL's candidates are exactly the matches when the text is plain ASCII.
    fn sql_is_exact(&self) -> bool {
        self.needle.is_ascii()
    }
}

/// The case-insensitive LIKE of the store's engine: SQLite's LIKE ignores ASCII case
/// already, PostgreSQL needs ILIKE. Either way the text's non-ASCII letters are wildcards
/// in the pattern and compared in Rust.
pub(crate) fn like(backend: BackendKind) -> &'static str {
    match backend {
        BackendKind::Sqlite => "LIKE",
        BackendKind::Postgres => "ILIKE",
    }
}

/// A played item whose track, artist or album name matched, with its plays in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub track_id: i64,
    pub track_key: String,
    pub track_name: String,
    /// 0 track, 1 episode, 2 audiobook chapter.
    pub kind: i16,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub plays: i64,
    pub ms_played: i64,
    pub first_ms: i64,
    pub last_ms: i64,
}

impl Store {
    /// Items played in the window whose track, primary artist or album (show) name contains
    /// the pattern, most played first.
    pub async fn search_plays(
        &self,
        filter: &PlayFilter,
        pattern: &SearchPattern,
        limit: i64,
    ) -> Result<Vec<SearchHit>> {
        if let Some(rollup) = self.rollup(filter, Parts::TRACKS).await? {
            return self.search_rollup(&rollup, pattern, limit).await;
        }
        let sql_limit = if pattern.sql_is_exact() {
            limit
        } else {
            i64::MAX
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT t.id, t.key, t.name, t.kind, ar.name AS artist, al.name AS album,
                    x.plays, x.ms_played, x.first_at, x.last_at
             FROM (SELECT p.track_id, COUNT(*) AS plays, COALESCE(SUM(p.ms_played), 0) AS ms_played,
                          MIN(p.ended_at) AS first_at, MAX(p.ended_at) AS last_at
                   FROM plays p WHERE {PLAY_FILTER} GROUP BY p.track_id) x
             JOIN tracks t ON t.id = x.track_id
             LEFT JOIN albums al ON al.id = t.album_id
             LEFT JOIN track_artists ta ON ta.track_id = t.id AND ta.position = 0
             LEFT JOIN artists ar ON ar.id = ta.artist_id
             WHERE t.name {like} $6 ESCAPE '\\' OR ar.name {like} $6 ESCAPE '\\'
                OR al.name {like} $6 ESCAPE '\\'
             ORDER BY x.plays DESC, x.ms_played DESC, t.id
             LIMIT $7",
            like = like(self.backend())
        ));
        let hits = on_pool!(self, pool => {
            let rows = bind_filter!(sqlx::query(sql), filter)
                .bind(pattern.like_contains())
                .bind(sql_limit)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|row| {
                    Ok(SearchHit {
                        track_id: row.int("id")?,
                        track_key: row.text("key")?,
                        track_name: row.text("name")?,
                        kind: row.small("kind")?,
                        artist: row.opt_text("artist")?,
                        album: row.opt_text("album")?,
                        plays: row.int("plays")?,
                        ms_played: row.int("ms_played")?,
                        first_ms: row.int("first_at")?,
                        last_ms: row.int("last_at")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(hits
            .into_iter()
            .filter(|hit| pattern.matches_hit(hit))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect())
    }

    /// The search over the rollup's tracks: the catalogue's names in memory say which tracks,
    /// artists and albums match, the rollup which of those tracks the user played in the
    /// window and how often.
    async fn search_rollup(
        &self,
        rollup: &Rollup,
        pattern: &SearchPattern,
        limit: i64,
    ) -> Result<Vec<SearchHit>> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut played: Vec<(i64, i64, i64)> = self
            .with_catalog_names(|names| {
                let named = names.matching(pattern.text());
                rollup
                    .tracks()
                    .iter()
                    .filter(|(id, info, _)| {
                        named.tracks.contains(id)
                            || named.artists.contains(&info.artist)
                            || named.albums.contains(&info.album)
                    })
                    .map(|(id, _, plays)| (*id, plays.plays as i64, plays.ms as i64))
                    .collect()
            })
            .await?;
        played.sort_by(|a, b| (b.1, b.2, a.0).cmp(&(a.1, a.2, b.0)));
        played.truncate(limit);
        let ids: Vec<i64> = played.iter().map(|(id, _, _)| *id).collect();
        let details: HashMap<i64, SearchHit> = self
            .fetch_by_ids(
                "SELECT t.id, t.key, t.name, t.kind, ar.name AS artist, al.name AS album
                 FROM tracks t
                 LEFT JOIN albums al ON al.id = t.album_id
                 LEFT JOIN track_artists ta ON ta.track_id = t.id AND ta.position = 0
                 LEFT JOIN artists ar ON ar.id = ta.artist_id
                 WHERE {ids}",
                "t.id",
                &ids,
                |row| {
                    let id = row.int("id")?;
                    let plays = rollup.in_window(id);
                    Ok((
                        id,
                        SearchHit {
                            track_id: id,
                            track_key: row.text("key")?,
                            track_name: row.text("name")?,
                            kind: row.small("kind")?,
                            artist: row.opt_text("artist")?,
                            album: row.opt_text("album")?,
                            plays: plays.map_or(0, |p| p.plays as i64),
                            ms_played: plays.map_or(0, |p| p.ms as i64),
                            first_ms: plays.map_or(0, |p| p.first),
                            last_ms: plays.map_or(0, |p| p.last),
                        },
                    ))
                },
            )
            .await?
            .into_iter()
            .collect();
        Ok(played
            .into_iter()
            .filter_map(|(id, _, _)| details.get(&id).cloned())
            .collect())
    }
}

impl SearchPattern {
    /// Does the hit's track, artist or album name contain the text?
    fn matches_hit(&self, hit: &SearchHit) -> bool {
        self.matches(&hit.track_name)
            || hit.artist.as_deref().is_some_and(|a| self.matches(a))
            || hit.album.as_deref().is_some_and(|a| self.matches(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_escaped_and_non_ascii_is_left_to_rust() {
        let pattern = SearchPattern::new("  100%_Björk\\ ").unwrap();
        assert_eq!(pattern.like_contains(), "%100\\%\\_bj_rk\\\\%");
        assert!(pattern.matches("The 100%_BJÖRK\\ Remix"));
        assert!(!pattern.matches("100%_Bjork"));
        assert!(SearchPattern::new("   ").is_none());
    }
}
