//! "Do I play things again?": music tracks by how often they were played, one-hit plays and
//! the share of plays that were repeats.

use crate::answer::share;
use crate::top::{RankedItem, limit, ranked};
use crate::{Analytics, Answer, Period, Result, Scope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Arguments of the repeat-rate question.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct RepeatArgs {
    #[serde(flatten)]
    pub period: Period,
    /// How many of the most repeated tracks to list (default 10, at most 100).
    pub limit: Option<u32>,
    /// Count a listen as a play from this many milliseconds (default 30000).
    pub min_ms: Option<i64>,
}

/// How often music tracks were played in the window (podcasts and audiobooks not included).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RepeatRate {
    /// Distinct music tracks played.
    pub tracks: i64,
    /// Music plays.
    pub plays: i64,
    /// Tracks by play count: played once, 2–4, 5–9 and 10 or more times.
    pub buckets: Vec<RepeatBucket>,
    /// Tracks played exactly once in the window ("one-hit plays").
    pub one_hit_tracks: i64,
    /// One-hit tracks as a fraction of all tracks played (0–1).
    pub one_hit_share_of_tracks: f64,
    /// Plays of tracks played more than once, as a fraction of all plays (0–1).
    pub repeat_share: f64,
    /// The most played tracks.
    pub most_repeated: Vec<RankedItem>,
}

/// Tracks played a similar number of times.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RepeatBucket {
    /// `1`, `2-4`, `5-9` or `10+` plays per track.
    pub plays_per_track: String,
    pub tracks: i64,
    /// Plays of these tracks.
    pub plays: i64,
}

const BUCKETS: [(i64, &str); 4] = [(1, "1"), (2, "2-4"), (5, "5-9"), (10, "10+")];

impl Analytics {
    /// Music tracks by play count, one-hit plays and the repeat share in the window.
    pub async fn repeat_rate(
        &self,
        scope: &Scope,
        args: &RepeatArgs,
    ) -> Result<Answer<RepeatRate>> {
        let limit = limit(args.limit)?;
        let (filter, window, rule) = self.frame(scope, &args.period, args.min_ms)?;
        let rows = self.store().repeat_buckets(&filter).await?;
        let top = self.store().top_tracks(&filter, limit).await?;
        let buckets: Vec<RepeatBucket> = BUCKETS
            .iter()
            .map(|&(min_plays, label)| {
                let row = rows.iter().find(|r| r.min_plays == min_plays);
                RepeatBucket {
                    plays_per_track: label.to_string(),
                    tracks: row.map_or(0, |r| r.tracks),
                    plays: row.map_or(0, |r| r.plays),
                }
            })
            .collect();
        let tracks = buckets.iter().map(|b| b.tracks).sum();
        let plays = buckets.iter().map(|b| b.plays).sum();
        let one_hit_tracks = buckets[0].tracks;
        let result = RepeatRate {
            tracks,
            plays,
            one_hit_tracks,
            one_hit_share_of_tracks: share(one_hit_tracks, tracks),
            repeat_share: share(plays - buckets[0].plays, plays),
            buckets,
            most_repeated: ranked(top).items,
        };
        self.answer(&filter, &window, rule, result).await
    }
}
