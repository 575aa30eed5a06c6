//! History tools: questions about one listener's stored history. Descriptions are written for
//! the model that picks a tool; every answer states its window, time zone, counting rule and
//! data coverage.

use crate::ToolDef;
use spotify_history_analytics::{
    ArtistArgs, CompareArgs, CoverageArgs, DiscoveriesArgs, HeatmapArgs, ListeningTimeArgs,
    RecentArgs, RepeatArgs, SearchArgs, TasteArgs, TopArgs, TrackArgs,
};

/// Appended to every history tool's description.
macro_rules! described {
    ($text:literal) => {
        concat!(
            $text,
            " Period: days (default 90), from/to (ISO dates or date-times) or all_time; tz is an \
             IANA zone for local dates and hours. A play is a listen of at least min_ms \
             (default 30000)."
        )
    };
}

pub(crate) fn tools() -> Vec<ToolDef> {
    vec![
        ToolDef::new(
            "history_taste_summary",
            "Taste summary",
            described!(
                "Overview of the listener's taste in a window: totals (plays, minutes, distinct \
                 tracks, artists, albums), top artists, tracks and albums, busiest hours and \
                 weekdays, diversity and podcast time. Start here for broad questions."
            ),
            |context, scope, args: TasteArgs| async move {
                Ok(context.analytics.taste_summary(&scope, &args).await?)
            },
        ),
        ToolDef::new(
            "history_top_artists",
            "Top artists",
            described!(
                "The artists played most in a window, with play counts and minutes; a play \
                 counts for the track's primary artist."
            ),
            |context, scope, args: TopArgs| async move {
                Ok(context.analytics.top_artists(&scope, &args).await?)
            },
        ),
        ToolDef::new(
            "history_top_tracks",
            "Top tracks",
            described!("The tracks played most in a window, with artist, play counts and minutes."),
            |context, scope, args: TopArgs| async move {
                Ok(context.analytics.top_tracks(&scope, &args).await?)
            },
        ),
        ToolDef::new(
            "history_top_albums",
            "Top albums",
            described!("The albums played most in a window, with artist, play counts and minutes."),
            |context, scope, args: TopArgs| async move {
                Ok(context.analytics.top_albums(&scope, &args).await?)
            },
        ),
        ToolDef::new(
            "history_listening_heatmap",
            "Listening heatmap",
            described!(
                "Plays and minutes by weekday and hour of day in the listener's time zone (give \
                 tz): when do they listen? Daylight-saving changes are handled."
            ),
            |context, scope, args: HeatmapArgs| async move {
                Ok(context.analytics.listening_heatmap(&scope, &args).await?)
            },
        ),
        ToolDef::new(
            "history_repeat_rate",
            "Repeat rate",
            described!(
                "How much the listener repeats: tracks by play count (played once, 2-4, 5-9, \
                 10+ times), the share of plays that are repeats, and the most repeated tracks."
            ),
            |context, scope, args: RepeatArgs| async move {
                Ok(context.analytics.repeat_rate(&scope, &args).await?)
            },
        ),
        ToolDef::new(
            "history_coverage",
            "Data coverage",
            described!(
                "How complete the stored history is in a window: days with data, the longest \
                 stretches without listens, known gaps in collection, listens per source, first \
                 and last listen. Use it before drawing conclusions from quiet periods."
            ),
            |context, scope, args: CoverageArgs| async move {
                Ok(context.analytics.coverage_report(&scope, &args).await?)
            },
        ),
        ToolDef::new(
            "history_listening_time",
            "Listening time",
            described!(
                "Plays and minutes as a series by day, week or month (bucket) in the listener's \
                 time zone: trends and seasons."
            ),
            |context, scope, args: ListeningTimeArgs| async move {
                Ok(context.analytics.listening_time(&scope, &args).await?)
            },
        ),
        ToolDef::new(
            "history_recent_plays",
            "Recent plays",
            described!(
                "Individual listens, newest first, paged: time, track, artist, album, how long \
                 it played and which sources recorded it."
            ),
            |context, scope, args: RecentArgs| async move {
                Ok(context.analytics.recent_plays(&scope, &args).await?)
            },
        ),
        ToolDef::new(
            "history_search_plays",
            "Search plays",
            described!(
                "Find artists, tracks or albums in the history by text (case-insensitive), with \
                 play counts and first and last time heard."
            ),
            |context, scope, args: SearchArgs| async move {
                Ok(context.analytics.search_plays(&scope, &args).await?)
            },
        ),
        ToolDef::new(
            "history_artist_detail",
            "Artist detail",
            described!(
                "Everything about one artist in the history: first and last heard, plays and \
                 minutes, plays per month, top tracks and albums."
            ),
            |context, scope, args: ArtistArgs| async move {
                Ok(context.analytics.artist_detail(&scope, &args).await?)
            },
        ),
        ToolDef::new(
            "history_track_detail",
            "Track detail",
            described!(
                "One track in the history: first and last heard, total plays, plays per month."
            ),
            |context, scope, args: TrackArgs| async move {
                Ok(context.analytics.track_detail(&scope, &args).await?)
            },
        ),
        ToolDef::new(
            "history_discoveries",
            "Discoveries",
            described!(
                "Artists and tracks first heard in the window (their first-ever listen falls in \
                 it), with when and how often since."
            ),
            |context, scope, args: DiscoveriesArgs| async move {
                Ok(context.analytics.discoveries(&scope, &args).await?)
            },
        ),
        ToolDef::new(
            "history_compare_periods",
            "Compare periods",
            described!(
                "Compare two windows a and b: totals of each and the artists and tracks rising \
                 or falling most between them."
            ),
            |context, scope, args: CompareArgs| async move {
                Ok(context.analytics.compare_periods(&scope, &args).await?)
            },
        ),
        ToolDef::new(
            "history_podcasts",
            "Podcasts",
            described!("Podcast listening: top shows and episodes by time, total podcast minutes."),
            |context, scope, args: TopArgs| async move {
                Ok(context.analytics.podcasts(&scope, &args).await?)
            },
        ),
    ]
}
