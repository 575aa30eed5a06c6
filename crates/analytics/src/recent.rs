//! "What did I play lately?": plays newest first, a page at a time.

use crate::period::{Bound, parse_bound};
use crate::top::bounded_limit;
use crate::{Analytics, AnalyticsError, Answer, Period, Result, Scope, Window};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use spotify_history_core::ItemKind;
use spotify_history_store::history::{PlayCursor, RecentPlayRow};

/// Most plays on one page.
pub const MAX_PAGE: u32 = 200;
const DEFAULT_PAGE: u32 = 20;

/// Arguments of the recent-plays question.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct RecentArgs {
    /// The window to list. Default: the whole history.
    #[serde(flatten)]
    pub period: Period,
    /// Plays per page (default 20, at most 200).
    pub limit: Option<u32>,
    /// Continue after a previous page: its `next_before` value. An ISO date-time (read in
    /// `tz`) lists plays that ended before it.
    pub before: Option<String>,
    /// Page number from 1 (default 1), counted from `before` if given.
    pub page: Option<u32>,
    /// Count a listen as a play from this many milliseconds (default 30000; 0 lists skips
    /// too).
    pub min_ms: Option<i64>,
}

/// One page of plays, newest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RecentPlays {
    pub plays: Vec<PlayItem>,
    /// Pass as `before` for the next page; null when this page is the last.
    pub next_before: Option<String>,
}

/// One play.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PlayItem {
    /// When the play ended, local time with offset.
    pub ended_at: String,
    /// Track, episode or chapter name.
    pub track: String,
    /// `track`, `episode` or `chapter`.
    pub kind: String,
    /// Primary artist of a track.
    pub artist: Option<String>,
    /// Album of a track, show of an episode, audiobook of a chapter.
    pub album: Option<String>,
    /// Spotify URI, or a `local:` key for items known only by name.
    pub uri: String,
    /// How long it played; null when the source does not say (recently-played API).
    pub ms_played: Option<i64>,
    /// True when ms_played was estimated rather than reported.
    pub ms_played_estimated: bool,
    /// Sources that recorded this play: `extended_export`, `account_data`,
    /// `recently_played`, `initial_sync`.
    pub sources: Vec<String>,
}

/// The name of an item kind in answers.
pub(crate) fn kind_name(code: i16) -> &'static str {
    match ItemKind::from_code(code) {
        Some(ItemKind::Episode) => "episode",
        Some(ItemKind::Chapter) => "chapter",
        _ => "track",
    }
}

impl PlayItem {
    pub(crate) fn new(row: RecentPlayRow, window: &Window) -> PlayItem {
        PlayItem {
            ended_at: window.local(row.ended_at),
            kind: kind_name(row.kind).to_string(),
            track: row.track_name,
            artist: row.artist,
            album: row.album,
            uri: row.track_key,
            ms_played: row.ms_played,
            ms_played_estimated: row.ms_played_estimated,
            sources: row.sources.iter().map(|s| s.as_str().to_string()).collect(),
        }
    }
}

/// A cursor as handed out in `next_before`: end time in ms and track id.
fn format_cursor(cursor: PlayCursor) -> String {
    format!("{}:{}", cursor.ended_at, cursor.track_id)
}

/// A `before` argument: a cursor from `next_before`, or a date-time.
fn parse_before(text: &str, window: &Window) -> Result<PlayCursor> {
    let text = text.trim();
    if let Some((ms, track)) = text.split_once(':')
        && let (Ok(ended_at), Ok(track_id)) = (ms.parse::<i64>(), track.parse::<i64>())
    {
        return Ok(PlayCursor { ended_at, track_id });
    }
    let ended_at = parse_bound(text, &window.tz, Bound::Start, "before").map_err(|_| {
        AnalyticsError::BadArgument(format!(
            "before must be the next_before value of a previous page or an ISO date-time like 2024-12-01T18:00, got {text:?}"
        ))
    })?;
    // Strictly before that instant: no track id is below the smallest.
    Ok(PlayCursor {
        ended_at,
        track_id: i64::MIN,
    })
}

impl Analytics {
    /// Plays newest first, `limit` per page (default: the whole history).
    pub async fn recent_plays(
        &self,
        scope: &Scope,
        args: &RecentArgs,
    ) -> Result<Answer<RecentPlays>> {
        let limit = bounded_limit(args.limit, DEFAULT_PAGE, MAX_PAGE)?;
        let page = args.page.unwrap_or(1);
        if page == 0 {
            return Err(AnalyticsError::BadArgument(
                "page counts from 1; omit it for the first page".into(),
            ));
        }
        let (filter, window, rule) = self.frame(scope, &args.period.or_all_time(), args.min_ms)?;
        let before = args
            .before
            .as_deref()
            .map(|text| parse_before(text, &window))
            .transpose()?;
        let offset = i64::from(page - 1) * limit;
        // One more than asked tells whether another page follows.
        let mut rows = self
            .store()
            .recent_plays(&filter, before, limit + 1, offset)
            .await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_before = if more {
            rows.last().map(|row| format_cursor(row.cursor()))
        } else {
            None
        };
        let result = RecentPlays {
            plays: rows
                .into_iter()
                .map(|row| PlayItem::new(row, &window))
                .collect(),
            next_before,
        };
        self.answer(&filter, &window, rule, result).await
    }
}
