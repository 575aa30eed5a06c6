//! Web API calls, with the access token passed per call. Limits Spotify would refuse are
//! refused here first, with a clearer message and no request.

use crate::client::SpotifyClient;
use crate::error::SpotifyError;
use crate::models::{Album, Artist, Me, Page, RecentlyPlayedPage, SearchResults, TopItems, Track};
use serde::{Deserialize, Serialize};
use spotify_history_core::Secret;
use std::fmt;
use std::str::FromStr;

/// recently-played returns at most 50 plays per page (and only the latest 50 at all).
pub const RECENTLY_PLAYED_MAX_LIMIT: u32 = 50;
/// Top lists return at most 50 items per page.
pub const TOP_MAX_LIMIT: u32 = 50;
/// Search returns at most 10 items per type since 2026; more is a `400`.
pub const SEARCH_MAX_LIMIT: u32 = 10;

/// Which plays of recently-played to ask for; times are Unix milliseconds of `played_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// The latest plays.
    Latest,
    /// Plays that ended after this time (polling from the newest play already stored).
    After(i64),
    /// Plays that ended before this time (paging backwards).
    Before(i64),
}

/// The period of a top list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeRange {
    /// About the last 4 weeks.
    ShortTerm,
    /// About the last 6 months.
    MediumTerm,
    /// About the last year.
    LongTerm,
}

impl TimeRange {
    /// Spotify's name: `short_term`, `medium_term`, `long_term`.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeRange::ShortTerm => "short_term",
            TimeRange::MediumTerm => "medium_term",
            TimeRange::LongTerm => "long_term",
        }
    }
}

impl FromStr for TimeRange {
    type Err = SpotifyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "short_term" => Ok(TimeRange::ShortTerm),
            "medium_term" => Ok(TimeRange::MediumTerm),
            "long_term" => Ok(TimeRange::LongTerm),
            other => Err(invalid(format!(
                "time range {other:?} is not one of short_term, medium_term, long_term"
            ))),
        }
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a top list ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopKind {
    Artists,
    Tracks,
}

/// What to search for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchType {
    Track,
    Artist,
    Album,
}

impl SearchType {
    /// Spotify's name: `track`, `artist`, `album`.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchType::Track => "track",
            SearchType::Artist => "artist",
            SearchType::Album => "album",
        }
    }
}

fn invalid(message: String) -> SpotifyError {
    SpotifyError::InvalidRequest { message }
}

fn check_limit(what: &str, limit: u32, max: u32) -> Result<(), SpotifyError> {
    if (1..=max).contains(&limit) {
        Ok(())
    } else {
        Err(invalid(format!(
            "{what} limit {limit} is outside 1..={max}, which Spotify allows"
        )))
    }
}

/// A bare id, or the id from a `spotify:<kind>:<id>` URI. Only base62 characters pass, so
/// nothing else can reach the URL path.
fn item_id<'a>(kind: &str, id_or_uri: &'a str) -> Result<&'a str, SpotifyError> {
    let prefix = format!("spotify:{kind}:");
    let id = id_or_uri.strip_prefix(&prefix).unwrap_or(id_or_uri);
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(invalid(format!(
            "{id_or_uri:?} is not a Spotify {kind} id or {prefix}<id> URI"
        )))
    }
}

impl SpotifyClient {
    /// The signed-in user (`GET /v1/me`): id and display name.
    pub async fn me(&self, access_token: &Secret) -> Result<Me, SpotifyError> {
        let url = self.api_url("/v1/me", &[]);
        self.get_json("GET /v1/me", access_token, url).await
    }

    /// One page of the user's recently played tracks, newest first (`limit` 1..=50).
    /// Spotify only ever shows the latest 50 plays, whatever the cursor.
    pub async fn recently_played(
        &self,
        access_token: &Secret,
        cursor: Cursor,
        limit: u32,
    ) -> Result<RecentlyPlayedPage, SpotifyError> {
        check_limit("recently-played", limit, RECENTLY_PLAYED_MAX_LIMIT)?;
        let mut query = vec![("limit", limit.to_string())];
        match cursor {
            Cursor::Latest => {}
            Cursor::After(ms) => query.push(("after", ms.to_string())),
            Cursor::Before(ms) => query.push(("before", ms.to_string())),
        }
        let url = self.api_url("/v1/me/player/recently-played", &query);
        self.get_json("GET /v1/me/player/recently-played", access_token, url)
            .await
    }

    /// The user's top artists or tracks for a period (`limit` 1..=50).
    pub async fn top(
        &self,
        access_token: &Secret,
        kind: TopKind,
        time_range: TimeRange,
        limit: u32,
    ) -> Result<TopItems, SpotifyError> {
        check_limit("top", limit, TOP_MAX_LIMIT)?;
        let query = [
            ("time_range", time_range.as_str().to_owned()),
            ("limit", limit.to_string()),
        ];
        match kind {
            TopKind::Artists => {
                let url = self.api_url("/v1/me/top/artists", &query);
                let page: Page<Artist> = self
                    .get_json("GET /v1/me/top/artists", access_token, url)
                    .await?;
                Ok(TopItems::Artists(page))
            }
            TopKind::Tracks => {
                let url = self.api_url("/v1/me/top/tracks", &query);
                let page: Page<Track> = self
                    .get_json("GET /v1/me/top/tracks", access_token, url)
                    .await?;
                Ok(TopItems::Tracks(page))
            }
        }
    }

    /// Searches the catalogue (`limit` 1..=10 per type, Spotify's 2026 maximum).
    pub async fn search(
        &self,
        access_token: &Secret,
        query: &str,
        types: &[SearchType],
        limit: u32,
    ) -> Result<SearchResults, SpotifyError> {
        if query.trim().is_empty() {
            return Err(invalid("the search query is empty".into()));
        }
        if types.is_empty() {
            return Err(invalid(
                "name at least one of track, artist, album to search for".into(),
            ));
        }
        check_limit("search", limit, SEARCH_MAX_LIMIT)?;
        let types: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
        let url = self.api_url(
            "/v1/search",
            &[
                ("q", query.to_owned()),
                ("type", types.join(",")),
                ("limit", limit.to_string()),
            ],
        );
        self.get_json("GET /v1/search", access_token, url).await
    }

    /// One track, by id or `spotify:track:` URI. There is no batch lookup any more.
    pub async fn track(&self, access_token: &Secret, id: &str) -> Result<Track, SpotifyError> {
        let id = item_id("track", id)?;
        let url = self.api_url(&format!("/v1/tracks/{id}"), &[]);
        self.get_json("GET /v1/tracks/{id}", access_token, url)
            .await
    }

    /// One artist, by id or `spotify:artist:` URI.
    pub async fn artist(&self, access_token: &Secret, id: &str) -> Result<Artist, SpotifyError> {
        let id = item_id("artist", id)?;
        let url = self.api_url(&format!("/v1/artists/{id}"), &[]);
        self.get_json("GET /v1/artists/{id}", access_token, url)
            .await
    }

    /// One album with its first page of tracks, by id or `spotify:album:` URI.
    pub async fn album(&self, access_token: &Secret, id: &str) -> Result<Album, SpotifyError> {
        let id = item_id("album", id)?;
        let url = self.api_url(&format!("/v1/albums/{id}"), &[]);
        self.get_json("GET /v1/albums/{id}", access_token, url)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_ids_come_from_ids_or_uris_and_nothing_else() {
        assert_eq!(
            item_id("track", "4uLU6hMCjMI75M1A2tKUQC").unwrap(),
            "4uLU6hMCjMI75M1A2tKUQC"
        );
        assert_eq!(
            item_id("track", "spotify:track:4uLU6hMCjMI75M1A2tKUQC").unwrap(),
            "4uLU6hMCjMI75M1A2tKUQC"
        );
        assert!(item_id("track", "spotify:album:4uLU6hMCjMI75M1A2tKUQC").is_err());
        assert!(item_id("track", "../me").is_err());
        assert!(item_id("track", "").is_err());
    }

    #[test]
    fn time_ranges_parse_from_spotify_names() {
        assert_eq!(
            "long_term".parse::<TimeRange>().unwrap(),
            TimeRange::LongTerm
        );
        assert!("forever".parse::<TimeRange>().is_err());
    }
}
