//! Polling an active user: recently-played `after` the newest play already seen. Spotify
//! shows only the latest 50 plays, so a full page means plays between the previous poll and
//! the page may be gone for good: that stretch is recorded as a coverage gap (an export
//! import can fill it later).

use crate::error::WorkError;
use crate::plays::store_plays;
use crate::user_work::{Collected, UserContext};
use spotify_history_core::Source;
use spotify_history_spotify::{Cursor, RECENTLY_PLAYED_MAX_LIMIT};

/// `coverage_gaps.reason` of a full page, in words for the listener.
pub const FULL_PAGE_GAP_REASON: &str = "more than 50 plays between two polls: Spotify shows only \
     the latest 50, so plays in this stretch may be missing (importing an export fills them in)";

/// How far before the newest stored play a poll asks from. Plays ending at the same
/// millisecond as the newest one, or reported late by a device that was offline, would
/// otherwise never be fetched; the overlap costs nothing, as plays already stored are
/// recognised as duplicates.
pub const POLL_OVERLAP_MS: i64 = 5 * 60 * 1000;

/// Polls one user and stores the new plays.
pub(crate) async fn poll(ctx: &UserContext<'_>) -> Result<Collected, WorkError> {
    let user = ctx.state.user;
    let previous_newest = ctx.state.newest_played_at;
    let cursor = previous_newest.map_or(Cursor::Latest, |newest| {
        Cursor::After(newest.saturating_sub(POLL_OVERLAP_MS))
    });
    let page = ctx
        .spotify
        .call(user, |client, token| async move {
            client
                .recently_played(&token, cursor, RECENTLY_PLAYED_MAX_LIMIT)
                .await
        })
        .await?;
    let times: Vec<i64> = page
        .items
        .iter()
        .map(|i| i.played_at.as_millisecond())
        .collect();
    // Stored first: if the process dies here, the next poll asks from the same cursor again
    // and finds these plays as duplicates, and the gap (still true) is recorded then.
    let written = store_plays(ctx.store, user, &page.items, Source::RecentlyPlayed).await?;

    // A full page whose oldest play is not newer than the newest stored one overlaps what
    // was stored: nothing can be missing in between.
    let full_page = page.items.len() >= RECENTLY_PLAYED_MAX_LIMIT as usize;
    let gap = match (full_page, previous_newest, times.iter().min()) {
        (true, Some(from), Some(&to)) if to > from => {
            ctx.store
                .record_coverage_gap(user, from, to, FULL_PAGE_GAP_REASON)
                .await?;
            Some(serde_json::json!({ "from": from, "to": to }))
        }
        _ => None,
    };
    Ok(Collected {
        fetched: page.items.len() as u64,
        written,
        newest_played_at: times.iter().max().copied(),
        details: serde_json::json!({
            "after": previous_newest,
            "duplicates": written.duplicates,
            "merged": written.merged,
            "gap": gap,
        }),
    })
}
