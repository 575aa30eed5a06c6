//! What data a window has: listens per source, first and last listen, known gaps.

use super::rollup::Parts;
use super::{PLAY_FILTER, PlayFilter, bind_filter};
use crate::row::RowExt;
use crate::{Result, Store, on_pool};
use spotify_history_core::{Source, SourceSet, UserId};

/// Listen counts of a window (counting rule applied) and the user's overall first and last
/// listen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverageRow {
    /// Counted listens in the window confirmed by each source.
    pub by_source: Vec<(Source, i64)>,
    pub listens: i64,
    pub first_listen_ms: Option<i64>,
    pub last_listen_ms: Option<i64>,
}

/// The first and last stored listen of a user (any listen, whatever its duration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListenBounds {
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
}

/// A known stretch without data (the collector could not fetch, or a full 50-play page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapRow {
    pub starts_at: i64,
    pub ends_at: i64,
    pub reason: String,
}

impl Store {
    /// When `user`'s stored history begins and ends.
    pub async fn listen_bounds(&self, user: UserId) -> Result<ListenBounds> {
        self.listen_bounds_between(user, i64::MIN, i64::MAX).await
    }

    /// The first and last stored listen in the filter's window, whatever their duration.
    pub async fn listen_bounds_within(&self, filter: &PlayFilter) -> Result<ListenBounds> {
        self.listen_bounds_between(filter.user, filter.start_bound(), filter.to_ms)
            .await
    }

    async fn listen_bounds_between(
        &self,
        user: UserId,
        from: i64,
        to: i64,
    ) -> Result<ListenBounds> {
        // Two single-aggregate statements, so each is answered from one end of the index
        // rather than by reading every listen in between.
        let bounds = on_pool!(self, pool => {
            let first = sqlx::query(
                "SELECT MIN(ended_at) AS ms FROM plays WHERE user_id = $1 AND ended_at >= $2 AND ended_at < $3",
            )
            .bind(user.0)
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await?;
            let last = sqlx::query(
                "SELECT MAX(ended_at) AS ms FROM plays WHERE user_id = $1 AND ended_at >= $2 AND ended_at < $3",
            )
            .bind(user.0)
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await?;
            ListenBounds { first_ms: first.opt_int("ms")?, last_ms: last.opt_int("ms")? }
        });
        Ok(bounds)
    }

    /// Coverage of the filter's window.
    pub async fn coverage(&self, filter: &PlayFilter) -> Result<CoverageRow> {
        let groups = match self.rollup(filter, Parts::SOURCES).await? {
            Some(rollup) => rollup
                .summary
                .sources
                .iter()
                .map(|(set, counts)| (SourceSet(*set), rollup.counting.of_sources(counts)))
                .collect(),
            None => self.listens_by_sources(filter).await?,
        };
        let bounds = self.listen_bounds(filter.user).await?;
        let mut coverage = CoverageRow {
            first_listen_ms: bounds.first_ms,
            last_listen_ms: bounds.last_ms,
            ..CoverageRow::default()
        };
        for source in Source::ALL {
            let count: i64 = groups
                .iter()
                .filter(|(set, _)| set.contains(source))
                .map(|(_, n)| n)
                .sum();
            if count > 0 {
                coverage.by_source.push((source, count));
            }
        }
        coverage.listens = groups.iter().map(|(_, n)| n).sum();
        Ok(coverage)
    }

    /// Counted listens per set of confirming sources, from the plays.
    async fn listens_by_sources(&self, filter: &PlayFilter) -> Result<Vec<(SourceSet, i64)>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT p.sources, COUNT(*) AS listens FROM plays p WHERE {PLAY_FILTER} GROUP BY p.sources"
        ));
        let groups = on_pool!(self, pool => {
            let rows = bind_filter!(sqlx::query(sql), filter).fetch_all(pool).await?;
            rows.iter()
                .map(|row| Ok((SourceSet(row.small("sources")?), row.int("listens")?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(groups)
    }

    /// Known gaps overlapping the filter's window.
    pub async fn coverage_gaps(&self, filter: &PlayFilter) -> Result<Vec<GapRow>> {
        let gaps = on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT starts_at, ends_at, reason FROM coverage_gaps
                 WHERE user_id = $1 AND ends_at > $2 AND starts_at < $3 ORDER BY starts_at",
            )
            .bind(filter.user.0)
            .bind(filter.start_bound())
            .bind(filter.to_ms)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|row| Ok(GapRow { starts_at: row.int("starts_at")?, ends_at: row.int("ends_at")?, reason: row.text("reason")? }))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(gaps)
    }
}
