//! "Describe my taste": the headline numbers of a window in one answer.

use crate::answer::{minutes, share};
use crate::heatmap::{HourTotal, WeekdayTotal};
use crate::top::{RankedItem, ranked};
use crate::{Analytics, Answer, Period, Result, Scope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Entries in each top list of the summary.
const TOP: i64 = 5;

/// Arguments of the taste summary.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct TasteArgs {
    #[serde(flatten)]
    pub period: Period,
    /// Count a listen as a play from this many milliseconds (default 30000).
    pub min_ms: Option<i64>,
}

/// A listener's taste in the window.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TasteSummary {
    /// Plays of anything (music, podcasts, audiobooks).
    pub plays: i64,
    pub minutes: f64,
    /// Music.
    pub music_plays: i64,
    pub music_minutes: f64,
    pub distinct_tracks: i64,
    pub distinct_artists: i64,
    pub distinct_albums: i64,
    pub podcast_minutes: f64,
    pub audiobook_minutes: f64,
    pub top_artists: Vec<RankedItem>,
    pub top_tracks: Vec<RankedItem>,
    pub top_albums: Vec<RankedItem>,
    /// The three hours of the day with the most plays (local time), busiest first.
    pub busiest_hours: Vec<HourTotal>,
    /// All weekdays, busiest first.
    pub busiest_weekdays: Vec<WeekdayTotal>,
    pub diversity: Diversity,
}

/// How varied the music was.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Diversity {
    /// Distinct artists per 100 music plays: higher means more variety.
    pub artists_per_100_plays: f64,
    /// Distinct tracks per 100 music plays.
    pub tracks_per_100_plays: f64,
    /// Fraction of music plays that went to the 10 most played artists (0–1).
    pub top_10_artists_share: f64,
}

fn per_100(part: i64, whole: i64) -> f64 {
    (share(part, whole) * 1000.0).round() / 10.0
}

impl Analytics {
    /// Totals, top artists, tracks and albums, busiest hours and weekdays, and diversity.
    pub async fn taste_summary(
        &self,
        scope: &Scope,
        args: &TasteArgs,
    ) -> Result<Answer<TasteSummary>> {
        let (filter, window, rule) = self.frame(scope, &args.period, args.min_ms)?;
        let store = self.store();
        let totals = store.window_totals(&filter, None).await?;
        let top_10_artists = store.top_artists(&filter, 10).await?;
        let top_10_plays: i64 = top_10_artists.iter().map(|a| a.plays).sum();
        let mut top_artists = ranked(top_10_artists).items;
        top_artists.truncate(TOP as usize);
        let top_tracks = ranked(store.top_tracks(&filter, TOP).await?).items;
        let top_albums = ranked(store.top_albums(&filter, TOP).await?).items;
        let grid = self.hour_grid(&filter, &window).await?;
        let mut busiest_hours = grid.hours();
        busiest_hours.sort_by_key(|hour| std::cmp::Reverse(hour.plays));
        busiest_hours.truncate(3);
        busiest_hours.retain(|h| h.plays > 0);
        let mut busiest_weekdays = grid.weekdays();
        busiest_weekdays.sort_by_key(|day| std::cmp::Reverse(day.plays));
        let summary = TasteSummary {
            plays: totals.plays,
            minutes: minutes(totals.ms_played),
            music_plays: totals.track_plays,
            music_minutes: minutes(totals.track_ms),
            distinct_tracks: totals.distinct_tracks,
            distinct_artists: totals.distinct_artists,
            distinct_albums: totals.distinct_albums,
            podcast_minutes: minutes(totals.episode_ms),
            audiobook_minutes: minutes(totals.chapter_ms),
            top_artists,
            top_tracks,
            top_albums,
            busiest_hours,
            busiest_weekdays,
            diversity: Diversity {
                artists_per_100_plays: per_100(totals.distinct_artists, totals.track_plays),
                tracks_per_100_plays: per_100(totals.distinct_tracks, totals.track_plays),
                top_10_artists_share: share(top_10_plays, totals.track_plays),
            },
        };
        self.answer(&filter, &window, rule, summary).await
    }
}
