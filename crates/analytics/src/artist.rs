//! "Tell me about my listening to X": one artist's plays over time, top tracks and albums.

use crate::answer::minutes;
use crate::listening_time::{Bucket, TimeBucket, local_day_range};
use crate::top::{RankedItem, limit, ranked};
use crate::{Analytics, AnalyticsError, Answer, Period, Result, Scope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use spotify_history_core::ArtistId;
use spotify_history_store::history::{PlayFilter, Subject};

/// Arguments of the artist question.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct ArtistArgs {
    /// The artist's name (case-insensitive, as it appears in the history) or Spotify URI
    /// (`spotify:artist:...`).
    pub artist: String,
    /// The window for plays, minutes, the monthly series, top tracks and albums. Default: the
    /// whole history. First and last heard are always over the whole history.
    #[serde(flatten)]
    pub period: Period,
    /// How many top tracks and albums to list (default 10, at most 100).
    pub limit: Option<u32>,
    /// Count a listen as a play from this many milliseconds (default 30000).
    pub min_ms: Option<i64>,
}

/// One artist in the listener's history. Plays count for a track's primary artist.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ArtistDetail {
    pub artist: String,
    pub uri: String,
    /// First and last play ever, local time.
    pub first_heard: Option<String>,
    pub last_heard: Option<String>,
    pub plays_all_time: i64,
    pub minutes_all_time: f64,
    /// In the window.
    pub plays: i64,
    pub minutes: f64,
    /// Distinct tracks of the artist played in the window.
    pub tracks_played: i64,
    /// Plays per month in the window (months start on the 1st, local time).
    pub plays_by_month: Vec<TimeBucket>,
    pub top_tracks: Vec<RankedItem>,
    pub albums: Vec<RankedItem>,
    /// Other artists in the history with the same name (different Spotify URIs).
    pub same_name: Vec<String>,
}

/// The whole history of a filter's user, under its counting rule.
pub(crate) fn all_time(filter: &PlayFilter) -> PlayFilter {
    PlayFilter {
        from_ms: None,
        to_ms: i64::MAX,
        ..*filter
    }
}

impl Analytics {
    /// One artist (by name or URI): first and last heard, plays over time, top tracks and
    /// albums (default window: the whole history).
    pub async fn artist_detail(
        &self,
        scope: &Scope,
        args: &ArtistArgs,
    ) -> Result<Answer<ArtistDetail>> {
        let limit = limit(args.limit)?;
        if args.artist.trim().is_empty() {
            return Err(AnalyticsError::BadArgument(
                "artist is empty: give the artist's name or Spotify URI".into(),
            ));
        }
        let (filter, window, rule) = self.frame(scope, &args.period.or_all_time(), args.min_ms)?;
        let store = self.store();
        let found = store.find_artists(scope.user, &args.artist).await?;
        if found.is_empty() {
            let hint = self.similar_names(&filter, &args.artist, true).await?;
            return Err(AnalyticsError::NotFound(format!(
                "artist {:?} in this listener's history{hint}",
                args.artist.trim()
            )));
        }
        // Artists sharing a name (different URIs): the most played one is meant.
        let mut candidates = Vec::with_capacity(found.len());
        for artist in found {
            let subject = Some(Subject::Artist(ArtistId(artist.id)));
            let ever = store.window_totals(&all_time(&filter), subject).await?;
            candidates.push((artist, ever));
        }
        candidates.sort_by(|(a, x), (b, y)| y.plays.cmp(&x.plays).then(a.id.cmp(&b.id)));
        let (artist, ever) = &candidates[0];
        let subject = Some(Subject::Artist(ArtistId(artist.id)));
        let within = store.window_totals(&filter, subject).await?;
        let range = local_day_range(&window, window.from_ms.or(ever.first_ms));
        let plays_by_month = self
            .series(&filter, &window, Bucket::Month, range, subject)
            .await?;
        let top_tracks = store
            .artist_top_tracks(&filter, ArtistId(artist.id), limit)
            .await?;
        let albums = store
            .artist_top_albums(&filter, ArtistId(artist.id), limit)
            .await?;
        let detail = ArtistDetail {
            artist: artist.name.clone(),
            uri: artist.key.clone(),
            first_heard: ever.first_ms.map(|ms| window.local(ms)),
            last_heard: ever.last_ms.map(|ms| window.local(ms)),
            plays_all_time: ever.plays,
            minutes_all_time: minutes(ever.ms_played),
            plays: within.plays,
            minutes: minutes(within.ms_played),
            tracks_played: within.distinct_tracks,
            plays_by_month,
            top_tracks: ranked(top_tracks).items,
            albums: ranked(albums).items,
            same_name: candidates[1..].iter().map(|(a, _)| a.key.clone()).collect(),
        };
        self.answer(&filter, &window, rule, detail).await
    }

    /// A hint for a name not found: names in the history containing the text or one of its
    /// words, as `"; closest names: ..."`, or an empty string.
    pub(crate) async fn similar_names(
        &self,
        filter: &PlayFilter,
        text: &str,
        artists: bool,
    ) -> Result<String> {
        use spotify_history_store::history::SearchPattern;
        let everything = all_time(filter);
        let words = std::iter::once(text.trim())
            .chain(text.split_whitespace().filter(|w| w.chars().count() >= 3));
        let mut names: Vec<String> = Vec::new();
        for word in words {
            let Some(pattern) = SearchPattern::new(word) else {
                continue;
            };
            for hit in self.store().search_plays(&everything, &pattern, 50).await? {
                let name = if artists {
                    hit.artist.filter(|a| pattern.matches(a))
                } else {
                    Some(match hit.artist.or(hit.album) {
                        Some(by) => format!("{} by {by}", hit.track_name),
                        None => hit.track_name,
                    })
                };
                if let Some(name) = name
                    && !names.contains(&name)
                {
                    names.push(name);
                }
            }
            if names.len() >= 5 {
                break;
            }
        }
        names.truncate(5);
        Ok(if names.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
            format!(" (closest names in the history: {})", quoted.join(", "))
        })
    }
}
