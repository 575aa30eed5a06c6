//! What data a window has: listens per source, first and last listen, known gaps.

use super::{PLAY_FILTER, PlayFilter, bind_filter};
use crate::row::RowExt;
use crate::{Result, Store, on_pool};
use spotify_history_core::{Source, SourceSet};

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

/// A known stretch without data (the collector could not fetch, or a full 50-play page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapRow {
    pub starts_at: i64,
    pub ends_at: i64,
    pub reason: String,
}

impl Store {
    /// Coverage of the filter's window.
    pub async fn coverage(&self, filter: &PlayFilter) -> Result<CoverageRow> {
        let by_sources = sqlx::AssertSqlSafe(format!(
            "SELECT p.sources, COUNT(*) AS listens FROM plays p WHERE {PLAY_FILTER} GROUP BY p.sources"
        ));
        let (groups, first, last) = on_pool!(self, pool => {
            let rows = bind_filter!(sqlx::query(by_sources), filter).fetch_all(pool).await?;
            let groups = rows
                .iter()
                .map(|row| Ok((SourceSet(row.small("sources")?), row.int("listens")?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            let bounds = sqlx::query(
                "SELECT MIN(ended_at) AS first_ms, MAX(ended_at) AS last_ms FROM plays WHERE user_id = $1",
            )
            .bind(filter.user.0)
            .fetch_one(pool)
            .await?;
            (groups, bounds.opt_int("first_ms")?, bounds.opt_int("last_ms")?)
        });
        let mut coverage = CoverageRow {
            first_listen_ms: first,
            last_listen_ms: last,
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

    /// Known gaps overlapping the filter's window.
    pub async fn coverage_gaps(&self, filter: &PlayFilter) -> Result<Vec<GapRow>> {
        let gaps = on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT starts_at, ends_at, reason FROM coverage_gaps
                 WHERE user_id = $1 AND ends_at > $2 AND starts_at < $3 ORDER BY starts_at",
            )
            .bind(filter.user.0)
            .bind(filter.from_bound())
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
