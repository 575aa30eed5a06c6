//! "When did I first hear this song?": one track's plays over time.

use crate::answer::minutes;
use crate::artist::all_time;
use crate::listening_time::{Bucket, TimeBucket, local_day_range};
use crate::recent::kind_name;
use crate::{Analytics, AnalyticsError, Answer, Period, Result, Scope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use spotify_history_core::TrackId;
use spotify_history_store::history::Subject;

/// Arguments of the track question.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct TrackArgs {
    /// The track's (or episode's) name, case-insensitive, or its Spotify URI
    /// (`spotify:track:...`).
    pub track: String,
    /// The artist (or podcast show), to choose among tracks of the same name.
    pub artist: Option<String>,
    /// The window for plays, minutes and the monthly series. Default: the whole history.
    /// First and last heard are always over the whole history.
    #[serde(flatten)]
    pub period: Period,
    /// Count a listen as a play from this many milliseconds (default 30000).
    pub min_ms: Option<i64>,
}

/// One track in the listener's history.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TrackDetail {
    pub track: String,
    /// `track`, `episode` or `chapter`.
    pub kind: String,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub uri: String,
    /// First and last play ever, local time.
    pub first_heard: Option<String>,
    pub last_heard: Option<String>,
    pub plays_all_time: i64,
    pub minutes_all_time: f64,
    /// In the window.
    pub plays: i64,
    pub minutes: f64,
    /// Plays per month in the window (months start on the 1st, local time).
    pub plays_by_month: Vec<TimeBucket>,
    /// Other tracks in the history with this name, most listened first: pass `artist` (or
    /// the URI as `track`) to choose one.
    pub other_matches: Vec<TrackCandidate>,
}

/// Another track with the same name.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TrackCandidate {
    pub track: String,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub uri: String,
    /// Stored listens of it, any duration.
    pub listens: i64,
}

impl Analytics {
    /// One track (by name, optionally with its artist, or URI): first and last heard, plays
    /// over time (default window: the whole history).
    pub async fn track_detail(
        &self,
        scope: &Scope,
        args: &TrackArgs,
    ) -> Result<Answer<TrackDetail>> {
        if args.track.trim().is_empty() {
            return Err(AnalyticsError::BadArgument(
                "track is empty: give the track's name or Spotify URI".into(),
            ));
        }
        let (filter, window, rule) = self.frame(scope, &args.period.or_all_time(), args.min_ms)?;
        let store = self.store();
        let found = store
            .find_tracks(scope.user, &args.track, args.artist.as_deref())
            .await?;
        let Some(track) = found.first() else {
            let by = args
                .artist
                .as_deref()
                .map(|a| format!(" by {:?}", a.trim()))
                .unwrap_or_default();
            let hint = self.similar_names(&filter, &args.track, false).await?;
            return Err(AnalyticsError::NotFound(format!(
                "track {:?}{by} in this listener's history{hint}",
                args.track.trim()
            )));
        };
        let subject = Some(Subject::Track(TrackId(track.id)));
        let ever = store.window_totals(&all_time(&filter), subject).await?;
        let within = store.window_totals(&filter, subject).await?;
        let range = local_day_range(&window, window.from_ms.or(ever.first_ms));
        let plays_by_month = self
            .series(&filter, &window, Bucket::Month, range, subject)
            .await?;
        let detail = TrackDetail {
            track: track.name.clone(),
            kind: kind_name(track.kind).to_string(),
            artist: track.artist.clone(),
            album: track.album.clone(),
            uri: track.key.clone(),
            first_heard: ever.first_ms.map(|ms| window.local(ms)),
            last_heard: ever.last_ms.map(|ms| window.local(ms)),
            plays_all_time: ever.plays,
            minutes_all_time: minutes(ever.ms_played),
            plays: within.plays,
            minutes: minutes(within.ms_played),
            plays_by_month,
            other_matches: found[1..]
                .iter()
                .map(|t| TrackCandidate {
                    track: t.name.clone(),
                    artist: t.artist.clone(),
                    album: t.album.clone(),
                    uri: t.key.clone(),
                    listens: t.listens.unwrap_or(0),
                })
                .collect(),
        };
        self.answer(&filter, &window, rule, detail).await
    }
}
