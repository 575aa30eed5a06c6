//! "What was new to me?": artists and tracks whose first-ever play falls in the window.

use crate::answer::{minutes, share};
use crate::top::limit;
use crate::{Analytics, Answer, Period, Result, Scope, Window};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use spotify_history_store::history::Discovery;

/// Arguments of the discoveries question.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct DiscoveriesArgs {
    #[serde(flatten)]
    pub period: Period,
    /// How many new artists and new tracks to list (default 10, at most 100).
    pub limit: Option<u32>,
    /// Count a listen as a play from this many milliseconds (default 30000). "First heard"
    /// is the first listen that counts as a play.
    pub min_ms: Option<i64>,
}

/// Music first heard in the window, most played there first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Discoveries {
    /// Artists (as primary artist) whose first play is in the window.
    pub new_artists: i64,
    /// Plays in the window of those new artists.
    pub new_artist_plays: i64,
    /// Music tracks whose first play is in the window.
    pub new_tracks: i64,
    pub new_track_plays: i64,
    /// Plays of new tracks as a fraction of all music plays in the window (0–1).
    pub new_track_share_of_plays: f64,
    pub artists: Vec<DiscoveredItem>,
    pub tracks: Vec<DiscoveredItem>,
}

/// An artist or track first heard in the window.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DiscoveredItem {
    pub name: String,
    /// The primary artist of a track.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub uri: String,
    /// The first play ever, local time.
    pub first_heard: String,
    /// Plays and minutes in the window.
    pub plays: i64,
    pub minutes: f64,
}

fn items(rows: &[Discovery], window: &Window) -> Vec<DiscoveredItem> {
    rows.iter()
        .map(|row| DiscoveredItem {
            name: row.name.clone(),
            by: row.context.clone(),
            uri: row.key.clone(),
            first_heard: window.local(row.first_ms),
            plays: row.plays,
            minutes: minutes(row.ms_played),
        })
        .collect()
}

impl Analytics {
    /// Artists and tracks first heard in the window, with their plays there.
    pub async fn discoveries(
        &self,
        scope: &Scope,
        args: &DiscoveriesArgs,
    ) -> Result<Answer<Discoveries>> {
        let limit = limit(args.limit)?;
        let (filter, window, rule) = self.frame(scope, &args.period, args.min_ms)?;
        let store = self.store();
        let artists = store.discovered_artists(&filter, limit).await?;
        let tracks = store.discovered_tracks(&filter, limit).await?;
        let totals = store.window_totals(&filter, None).await?;
        let (new_artists, new_artist_plays) =
            artists.first().map_or((0, 0), |d| (d.total, d.total_plays));
        let (new_tracks, new_track_plays) =
            tracks.first().map_or((0, 0), |d| (d.total, d.total_plays));
        let result = Discoveries {
            new_artists,
            new_artist_plays,
            new_tracks,
            new_track_plays,
            new_track_share_of_plays: share(new_track_plays, totals.track_plays),
            artists: items(&artists, &window),
            tracks: items(&tracks, &window),
        };
        self.answer(&filter, &window, rule, result).await
    }
}
