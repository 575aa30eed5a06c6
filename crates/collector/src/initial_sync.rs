//! A new user's first sync: page backwards through recently-played with `before` until an
//! empty page, a page that does not go further back, the day limit or the request cap
//! (INITIAL_SYNC_*). Spotify only ever shows the latest 50 plays, so in practice this is one
//! or two requests; it is best effort, and an export import fills in the rest of the history.

use crate::config::InitialSyncConfig;
use crate::error::WorkError;
use crate::plays::store_plays;
use crate::user_work::{Collected, UserContext};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use spotify_history_core::Source;
use spotify_history_spotify::{Cursor, PlayHistoryItem, RecentlyPlayedPage};

/// Why paging stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Spotify had no older plays.
    EmptyPage,
    /// The page did not reach further back than the previous one.
    NoProgress,
    /// The page reached plays older than INITIAL_SYNC_MAX_DAYS.
    MaxDays,
    /// INITIAL_SYNC_MAX_REQUESTS requests were made.
    MaxRequests,
}

/// What to do after a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Ask for the page before this cursor; keep this page's plays.
    Continue(Cursor),
    /// Stop; `keep` says whether this page's plays are new (a page without progress repeats
    /// plays already collected).
    Stop { reason: StopReason, keep: bool },
}

/// The paging decisions, apart from the HTTP calls so each stop rule can be checked alone.
#[derive(Debug, Clone)]
pub(crate) struct BackwardPaging {
    max_requests: u32,
    /// Plays ending before this (Unix ms) are older than the day limit.
    cutoff_ms: i64,
    requests: u32,
    /// The oldest play reached so far.
    oldest_ms: Option<i64>,
}

impl BackwardPaging {
    pub(crate) fn new(config: &InitialSyncConfig, now: Timestamp) -> BackwardPaging {
        let max_age = SignedDuration::from_hours(24 * i64::from(config.max_days));
        BackwardPaging {
            max_requests: config.max_requests,
            cutoff_ms: (now - max_age).as_millisecond(),
            requests: 0,
            oldest_ms: None,
        }
    }

    /// The first request, unless the cap allows none.
    pub(crate) fn first(&self) -> Option<Cursor> {
        (self.max_requests > 0).then_some(Cursor::Latest)
    }

    pub(crate) fn requests(&self) -> u32 {
        self.requests
    }

    /// Decides after each page.
    pub(crate) fn after_page(&mut self, page: &RecentlyPlayedPage) -> Step {
        self.requests += 1;
        let Some(page_oldest) = oldest_play(page) else {
            return Step::Stop {
                reason: StopReason::EmptyPage,
                keep: false,
            };
        };
        if self.oldest_ms.is_some_and(|oldest| page_oldest >= oldest) {
            return Step::Stop {
                reason: StopReason::NoProgress,
                keep: false,
            };
        }
        self.oldest_ms = Some(page_oldest);
        let stop = if page_oldest < self.cutoff_ms {
            Some(StopReason::MaxDays)
        } else if self.requests >= self.max_requests {
            Some(StopReason::MaxRequests)
        } else {
            None
        };
        match stop {
            // Plays already fetched are kept even past the day limit: the limit bounds the
            // paging, not what is worth storing.
            Some(reason) => Step::Stop { reason, keep: true },
            None => Step::Continue(Cursor::Before(page_oldest)),
        }
    }
}

/// The oldest play of a page: its `before` cursor, or the oldest item when cursors are
/// missing.
fn oldest_play(page: &RecentlyPlayedPage) -> Option<i64> {
    let oldest_item = page
        .items
        .iter()
        .map(|i| i.played_at.as_millisecond())
        .min()?;
    Some(
        page.cursors
            .as_ref()
            .and_then(|c| c.before)
            .map_or(oldest_item, |before| before.min(oldest_item)),
    )
}

/// Pages back for one user and stores what it found. Plays fetched before a failure are
/// stored too (nothing fetched is dropped); the sync is then retried next cycle.
pub(crate) async fn initial_sync(
    ctx: &UserContext<'_>,
    config: &InitialSyncConfig,
) -> Result<Collected, WorkError> {
    let user = ctx.state.user;
    let mut paging = BackwardPaging::new(config, Timestamp::now());
    let mut fetched: Vec<PlayHistoryItem> = Vec::new();
    let mut cursor = paging.first();
    let mut stop_reason = StopReason::MaxRequests;
    while let Some(at) = cursor {
        let page_size = config.page_size;
        let page = ctx
            .spotify
            .call(user, |client, token| async move {
                client.recently_played(&token, at, page_size).await
            })
            .await;
        let page = match page {
            Ok(page) => page,
            Err(err) => {
                // The failure is what the run reports; storing what came before it is a bonus.
                if let Err(store_err) =
                    store_plays(ctx.store, user, &fetched, Source::InitialSync).await
                {
                    tracing::warn!(user = %user, error = %store_err, "could not keep the plays fetched before the initial sync failed");
                }
                return Err(err.into());
            }
        };
        cursor = match paging.after_page(&page) {
            Step::Continue(next) => {
                fetched.extend(page.items);
                Some(next)
            }
            Step::Stop { reason, keep } => {
                if keep {
                    fetched.extend(page.items);
                }
                stop_reason = reason;
                None
            }
        };
        ctx.renew_lease().await?;
    }
    let written = store_plays(ctx.store, user, &fetched, Source::InitialSync).await?;
    Ok(Collected {
        fetched: fetched.len() as u64,
        written,
        newest_played_at: fetched.iter().map(|i| i.played_at.as_millisecond()).max(),
        details: serde_json::json!({
            "requests": paging.requests(),
            "stop_reason": stop_reason,
            "duplicates": written.duplicates,
            "merged": written.merged,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use spotify_history_spotify::Cursors;

    const NOW_MS: i64 = 1_800_000_000_000;
    const HOUR_MS: i64 = 3_600_000;

    fn page(played_at_ms: &[i64]) -> RecentlyPlayedPage {
        let items: Vec<serde_json::Value> = played_at_ms
            .iter()
            .map(|ms| {
                serde_json::json!({
                    "track": {"id": null, "name": "Song", "uri": null, "type": "track"},
                    "played_at": Timestamp::from_millisecond(*ms).unwrap().to_string(),
                })
            })
            .collect();
        let mut page: RecentlyPlayedPage = serde_json::from_value(serde_json::json!({
            "items": items, "cursors": null, "next": null, "limit": 50, "href": null
        }))
        .unwrap();
        page.cursors = match (played_at_ms.iter().max(), played_at_ms.iter().min()) {
            (Some(&after), Some(&before)) => Some(Cursors {
                after: Some(after),
                before: Some(before),
            }),
            _ => None,
        };
        page
    }

    fn paging(max_days: u32, max_requests: u32) -> BackwardPaging {
        let config = InitialSyncConfig {
            max_days,
            max_requests,
            ..InitialSyncConfig::default()
        };
        BackwardPaging::new(&config, Timestamp::from_millisecond(NOW_MS).unwrap())
    }

    #[test]
    fn pages_back_from_each_oldest_play_until_an_empty_page() {
        let mut paging = paging(30, 10);
        assert_eq!(paging.first(), Some(Cursor::Latest));
        let first = page(&[NOW_MS - HOUR_MS, NOW_MS - 2 * HOUR_MS]);
        assert_eq!(
            paging.after_page(&first),
            Step::Continue(Cursor::Before(NOW_MS - 2 * HOUR_MS))
        );
        assert_eq!(
            paging.after_page(&page(&[])),
            Step::Stop {
                reason: StopReason::EmptyPage,
                keep: false
            }
        );
        assert_eq!(paging.requests(), 2);
    }

    #[test]
    fn a_page_that_does_not_reach_further_back_stops_without_keeping_it() {
        let mut paging = paging(30, 10);
        paging.after_page(&page(&[NOW_MS - HOUR_MS, NOW_MS - 2 * HOUR_MS]));
        // A server that ignores `before` answers the same page again.
        assert_eq!(
            paging.after_page(&page(&[NOW_MS - HOUR_MS, NOW_MS - 2 * HOUR_MS])),
            Step::Stop {
                reason: StopReason::NoProgress,
                keep: false
            }
        );
    }

    #[test]
    fn the_day_limit_and_the_request_cap_stop_after_keeping_the_page() {
        let mut by_days = paging(1, 10);
        assert_eq!(
            by_days.after_page(&page(&[NOW_MS - HOUR_MS, NOW_MS - 25 * HOUR_MS])),
            Step::Stop {
                reason: StopReason::MaxDays,
                keep: true
            }
        );
        let mut by_requests = paging(30, 2);
        assert!(matches!(
            by_requests.after_page(&page(&[NOW_MS - HOUR_MS])),
            Step::Continue(_)
        ));
        assert_eq!(
            by_requests.after_page(&page(&[NOW_MS - 2 * HOUR_MS])),
            Step::Stop {
                reason: StopReason::MaxRequests,
                keep: true
            }
        );
        assert_eq!(paging(30, 0).first(), None, "a cap of 0 makes no request");
    }
}
