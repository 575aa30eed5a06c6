//! "Which podcasts do I listen to?": shows and episodes by time listened.

use crate::answer::minutes;
use crate::top::{RankedItem, TopArgs, limit, ranked};
use crate::{Analytics, Answer, Result, Scope};
use schemars::JsonSchema;
use serde::Serialize;

/// Podcast listening in the window. Ranked by minutes: episodes are long and often resumed,
/// so minutes say more than play counts.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Podcasts {
    pub minutes: f64,
    /// Episode plays (a resumed episode counts once per listening session).
    pub plays: i64,
    /// Distinct episodes played.
    pub episodes: i64,
    /// Distinct shows played.
    pub shows: i64,
    /// Shows by minutes; `by` is empty.
    pub top_shows: Vec<RankedItem>,
    /// Episodes by minutes; `by` is the show.
    pub top_episodes: Vec<RankedItem>,
}

impl Analytics {
    /// Podcast time, the top shows and episodes by minutes in the window.
    pub async fn podcasts(&self, scope: &Scope, args: &TopArgs) -> Result<Answer<Podcasts>> {
        let limit = limit(args.limit)?;
        let (filter, window, rule) = self.frame(scope, &args.period, args.min_ms)?;
        let store = self.store();
        let totals = store.window_totals(&filter, None).await?;
        let mut top_shows = ranked(store.top_shows(&filter, limit).await?).items;
        for show in &mut top_shows {
            show.by = None;
        }
        let top_episodes = ranked(store.top_episodes(&filter, limit).await?).items;
        let result = Podcasts {
            minutes: minutes(totals.episode_ms),
            plays: totals.episode_plays,
            episodes: totals.distinct_episodes,
            shows: totals.distinct_shows,
            top_shows,
            top_episodes,
        };
        self.answer(&filter, &window, rule, result).await
    }
}
