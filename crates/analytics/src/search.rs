//! "Did I ever listen to ...?": plays found by artist, track or album name.

use crate::answer::minutes;
use crate::recent::{PlayItem, kind_name};
use crate::top::bounded_limit;
use crate::{Analytics, AnalyticsError, Answer, Period, Result, Scope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use spotify_history_store::history::SearchPattern;

const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 100;

/// Arguments of the search.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct SearchArgs {
    /// Text to find in artist, track, album or podcast show names; case-insensitive,
    /// anywhere in the name (e.g. `beatles`, `bohemian`).
    pub query: String,
    /// The window to search. Default: the whole history.
    #[serde(flatten)]
    pub period: Period,
    /// How many matching tracks to return (default 20, at most 100); also how many plays
    /// `include_plays` lists.
    pub limit: Option<u32>,
    /// Also list the latest individual plays of everything that matched (default false).
    pub include_plays: Option<bool>,
    /// Count a listen as a play from this many milliseconds (default 30000).
    pub min_ms: Option<i64>,
}

/// What matched, most played first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SearchResults {
    /// The text searched for, lowercased.
    pub query: String,
    pub matches: Vec<SearchMatch>,
    /// Plays of all listed matches.
    pub plays: i64,
    /// The latest plays of everything that matched, newest first (only with
    /// `include_plays`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_plays: Option<Vec<PlayItem>>,
}

/// A track, episode or chapter whose name, artist or album matched.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SearchMatch {
    pub track: String,
    /// `track`, `episode` or `chapter`.
    pub kind: String,
    pub artist: Option<String>,
    /// Album, podcast show or audiobook.
    pub album: Option<String>,
    pub uri: String,
    /// Which names contained the text: `track`, `artist`, `album`.
    pub matched_on: Vec<String>,
    pub plays: i64,
    pub minutes: f64,
    /// First and last play in the window, local time.
    pub first_heard: String,
    pub last_heard: String,
}

impl Analytics {
    /// Tracks whose track, artist or album name contains the text, with their plays (default
    /// window: the whole history).
    pub async fn search_plays(
        &self,
        scope: &Scope,
        args: &SearchArgs,
    ) -> Result<Answer<SearchResults>> {
        let limit = bounded_limit(args.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
        let Some(pattern) = SearchPattern::new(&args.query) else {
            return Err(AnalyticsError::BadArgument(
                "query is empty: give part of an artist, track or album name".into(),
            ));
        };
        let (filter, window, rule) = self.frame(scope, &args.period.or_all_time(), args.min_ms)?;
        let include_plays = args.include_plays.unwrap_or(false);
        // The latest plays are those of every match, not only of the most played ones listed.
        let wanted = if include_plays { i64::MAX } else { limit };
        let mut hits = self.store().search_plays(&filter, &pattern, wanted).await?;
        let latest_plays = if include_plays {
            let ids: Vec<i64> = hits.iter().map(|hit| hit.track_id).collect();
            let rows = self.store().recent_plays_of(&filter, &ids, limit).await?;
            Some(
                rows.into_iter()
                    .map(|row| PlayItem::new(row, &window))
                    .collect(),
            )
        } else {
            None
        };
        hits.truncate(limit as usize);
        let matches: Vec<SearchMatch> = hits
            .into_iter()
            .map(|hit| {
                let mut matched_on = Vec::new();
                if pattern.matches(&hit.track_name) {
                    matched_on.push("track".to_string());
                }
                if hit.artist.as_deref().is_some_and(|a| pattern.matches(a)) {
                    matched_on.push("artist".to_string());
                }
                if hit.album.as_deref().is_some_and(|a| pattern.matches(a)) {
                    matched_on.push("album".to_string());
                }
                SearchMatch {
                    kind: kind_name(hit.kind).to_string(),
                    track: hit.track_name,
                    artist: hit.artist,
                    album: hit.album,
                    uri: hit.track_key,
                    matched_on,
                    plays: hit.plays,
                    minutes: minutes(hit.ms_played),
                    first_heard: window.local(hit.first_ms),
                    last_heard: window.local(hit.last_ms),
                }
            })
            .collect();
        let result = SearchResults {
            query: pattern.text().to_string(),
            plays: matches.iter().map(|m| m.plays).sum(),
            matches,
            latest_plays,
        };
        self.answer(&filter, &window, rule, result).await
    }
}
