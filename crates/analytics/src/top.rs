//! "What did I listen to most?": top artists (and, built the same way, tracks and albums).

use crate::answer::minutes;
use crate::{Analytics, Answer, Period, Result, Scope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use spotify_history_store::history::RankedRow;

/// Most entries a ranking returns.
pub const MAX_LIMIT: u32 = 100;
const DEFAULT_LIMIT: u32 = 10;

/// Arguments of the ranking questions.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct TopArgs {
    #[serde(flatten)]
    pub period: Period,
    /// How many entries to return (default 10, at most 100).
    pub limit: Option<u32>,
    /// Count a listen as a play from this many milliseconds (default 30000).
    pub min_ms: Option<i64>,
}

/// A ranking, best first (ties: more minutes first).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TopList {
    pub items: Vec<RankedItem>,
}

/// One entry of a ranking.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RankedItem {
    /// 1 for the most played.
    pub rank: u32,
    pub name: String,
    /// The artist of a track or album, the show of an episode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Spotify URI, or a `local:` key for items known only by name.
    pub uri: String,
    /// Plays under the counting rule.
    pub plays: i64,
    /// Minutes played in those plays.
    pub minutes: f64,
}

pub(crate) fn limit(limit: Option<u32>) -> Result<i64> {
    bounded_limit(limit, DEFAULT_LIMIT, MAX_LIMIT)
}

/// A call's `limit`, or `default`, checked against `max`.
pub(crate) fn bounded_limit(limit: Option<u32>, default: u32, max: u32) -> Result<i64> {
    match limit.unwrap_or(default) {
        n if (1..=max).contains(&n) => Ok(i64::from(n)),
        n => Err(crate::AnalyticsError::BadArgument(format!(
            "limit must be between 1 and {max}, got {n}"
        ))),
    }
}

pub(crate) fn ranked(rows: Vec<RankedRow>) -> TopList {
    TopList {
        items: rows
            .into_iter()
            .enumerate()
            .map(|(i, row)| RankedItem {
                rank: i as u32 + 1,
                name: row.name,
                by: row.context,
                uri: row.key,
                plays: row.plays,
                minutes: minutes(row.ms_played),
            })
            .collect(),
    }
}

impl Analytics {
    /// The most played artists in the window (a play counts for the track's primary artist).
    pub async fn top_artists(&self, scope: &Scope, args: &TopArgs) -> Result<Answer<TopList>> {
        let limit = limit(args.limit)?;
        let (filter, window, rule) = self.frame(scope, &args.period, args.min_ms)?;
        let rows = self.store().top_artists(&filter, limit).await?;
        self.answer(&filter, &window, rule, ranked(rows)).await
    }

    /// The most played music tracks in the window, each with its primary artist.
    pub async fn top_tracks(&self, scope: &Scope, args: &TopArgs) -> Result<Answer<TopList>> {
        let limit = limit(args.limit)?;
        let (filter, window, rule) = self.frame(scope, &args.period, args.min_ms)?;
        let rows = self.store().top_tracks(&filter, limit).await?;
        self.answer(&filter, &window, rule, ranked(rows)).await
    }

    /// The most played albums in the window (plays of their tracks), each with its artist.
    pub async fn top_albums(&self, scope: &Scope, args: &TopArgs) -> Result<Answer<TopList>> {
        let limit = limit(args.limit)?;
        let (filter, window, rule) = self.frame(scope, &args.period, args.min_ms)?;
        let rows = self.store().top_albums(&filter, limit).await?;
        self.answer(&filter, &window, rule, ranked(rows)).await
    }
}
