//! Ranking questions: the most played artists, tracks, albums, shows, episodes.

use super::rollup::{IdMap, Parts, Rollup};
use super::subject::bind_subject;
use super::{PLAY_FILTER, PlayFilter, Subject, bind_filter};
use crate::row::RowExt;
use crate::{Result, Store, on_pool};
use spotify_history_core::{ArtistId, ItemKind};
use std::cmp::Ordering;
use std::collections::HashMap;

/// One entry of a ranking: a catalogue item with its play count and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankedRow {
    pub id: i64,
    /// Spotify URI or `local:` key.
    pub key: String,
    pub name: String,
    /// The primary artist (tracks, albums) or show (episodes), when there is one.
    pub context: Option<String>,
    pub plays: i64,
    pub ms_played: i64,
}

pub(crate) fn ranked_from_row(row: &impl RowExt) -> Result<RankedRow, sqlx::Error> {
    Ok(RankedRow {
        id: row.int("id")?,
        key: row.text("key")?,
        name: row.text("name")?,
        context: row.opt_text("context")?,
        plays: row.int("plays")?,
        ms_played: row.int("ms_played")?,
    })
}

/// What a comparison counts plays of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Primary artists.
    Artists,
    /// Music tracks.
    Tracks,
}

impl Counted {
    fn ranked(self) -> Ranked {
        match self {
            Counted::Artists => Ranked::Artists,
            Counted::Tracks => Ranked::Items(ItemKind::Track),
        }
    }
}

/// What is ranked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ranked {
    /// A play counts for the track's primary artist.
    Artists,
    /// Tracks, episodes or chapters.
    Items(ItemKind),
    /// Albums (kind 0), shows (1) or audiobooks (2) of the played items.
    Albums(i16),
}

/// How a ranking is ordered: music by plays, podcasts by time (episodes are long and often
/// resumed, so their play counts say little).
#[derive(Debug, Clone, Copy)]
enum Order {
    ByPlays,
    ByTime,
}

impl Order {
    /// Compares `(id, plays, ms)` entries as the SQL ranking orders them: best first, ties by
    /// the other measure, then by id.
    fn compare(self, a: &(i64, i64, i64), b: &(i64, i64, i64)) -> Ordering {
        let measures = match self {
            Order::ByPlays => (b.1, b.2).cmp(&(a.1, a.2)),
            Order::ByTime => (b.2, b.1).cmp(&(a.2, a.1)),
        };
        measures.then(a.0.cmp(&b.0))
    }
}

/// The rollup's tracks summed by what `ranked` groups them into: `(id, plays, ms)`, in no
/// order.
fn group_rollup(rollup: &Rollup, ranked: Ranked, subject: Option<Subject>) -> Vec<(i64, i64, i64)> {
    let mut groups: IdMap<(i64, i64)> = IdMap::default();
    let mut rows: Vec<(i64, i64, i64)> = Vec::new();
    for &(track, info, plays) in rollup.tracks_of(subject).iter() {
        let (n, ms) = (plays.plays as i64, plays.ms as i64);
        let key = match ranked {
            // Each track is its own entry: no grouping needed.
            Ranked::Items(kind) if info.kind == kind.code() => {
                rows.push((track, n, ms));
                continue;
            }
            Ranked::Artists if info.artist != 0 => info.artist,
            Ranked::Albums(kind) if info.kind == kind && info.album != 0 => info.album,
            _ => continue,
        };
        let entry = groups.entry(key).or_default();
        entry.0 += n;
        entry.1 += ms;
    }
    rows.extend(groups.into_iter().map(|(id, (plays, ms))| (id, plays, ms)));
    rows
}

/// The first `limit` groups of the rollup's tracks, best first.
fn rank_rollup(
    rollup: &Rollup,
    ranked: Ranked,
    order: Order,
    subject: Option<Subject>,
    limit: i64,
) -> Vec<(i64, i64, i64)> {
    let mut rows = group_rollup(rollup, ranked, subject);
    top_k(
        &mut rows,
        usize::try_from(limit).unwrap_or(usize::MAX),
        |a, b| order.compare(a, b),
    );
    rows
}

/// Keeps the first `k` entries of `rows` in order, without sorting the rest.
pub(crate) fn top_k<T>(rows: &mut Vec<T>, k: usize, compare: impl Fn(&T, &T) -> Ordering) {
    if k < rows.len() {
        if k == 0 {
            rows.clear();
            return;
        }
        rows.select_nth_unstable_by(k - 1, &compare);
        rows.truncate(k);
    }
    rows.sort_by(compare);
}

impl Store {
    /// Artists by plays (a play counts for the track's primary artist), ties by time.
    pub async fn top_artists(&self, filter: &PlayFilter, limit: i64) -> Result<Vec<RankedRow>> {
        self.ranking(filter, Ranked::Artists, Order::ByPlays, None, limit)
            .await
    }

    /// Music tracks by plays, ties by time.
    pub async fn top_tracks(&self, filter: &PlayFilter, limit: i64) -> Result<Vec<RankedRow>> {
        let ranked = Ranked::Items(ItemKind::Track);
        self.ranking(filter, ranked, Order::ByPlays, None, limit)
            .await
    }

    /// Albums by plays of their tracks, ties by time.
    pub async fn top_albums(&self, filter: &PlayFilter, limit: i64) -> Result<Vec<RankedRow>> {
        self.ranking(filter, Ranked::Albums(0), Order::ByPlays, None, limit)
            .await
    }

    /// Podcast shows by time listened.
    pub async fn top_shows(&self, filter: &PlayFilter, limit: i64) -> Result<Vec<RankedRow>> {
        self.ranking(filter, Ranked::Albums(1), Order::ByTime, None, limit)
            .await
    }

    /// Podcast episodes by time listened.
    pub async fn top_episodes(&self, filter: &PlayFilter, limit: i64) -> Result<Vec<RankedRow>> {
        let ranked = Ranked::Items(ItemKind::Episode);
        self.ranking(filter, ranked, Order::ByTime, None, limit)
            .await
    }

    /// Plays and time of every artist or music track of the window, unnamed and in no order:
    /// `(id, plays, ms)`. Name the few that matter with [`Store::name_counts`].
    pub async fn play_counts(
        &self,
        filter: &PlayFilter,
        of: Counted,
    ) -> Result<Vec<(i64, i64, i64)>> {
        if let Some(rollup) = self.rollup(filter, Parts::TRACKS).await? {
            return Ok(group_rollup(&rollup, of.ranked(), None));
        }
        let rows = self
            .ranking(filter, of.ranked(), Order::ByPlays, None, i64::MAX)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.id, row.plays, row.ms_played))
            .collect())
    }

    /// Counts from [`Store::play_counts`] with their names, in the same order.
    pub async fn name_counts(
        &self,
        of: Counted,
        counts: Vec<(i64, i64, i64)>,
    ) -> Result<Vec<RankedRow>> {
        self.named(of.ranked(), counts).await
    }

    /// One artist's tracks by plays.
    pub async fn artist_top_tracks(
        &self,
        filter: &PlayFilter,
        artist: ArtistId,
        limit: i64,
    ) -> Result<Vec<RankedRow>> {
        let subject = Some(Subject::Artist(artist));
        let ranked = Ranked::Items(ItemKind::Track);
        self.ranking(filter, ranked, Order::ByPlays, subject, limit)
            .await
    }

    /// One artist's albums by plays.
    pub async fn artist_top_albums(
        &self,
        filter: &PlayFilter,
        artist: ArtistId,
        limit: i64,
    ) -> Result<Vec<RankedRow>> {
        let subject = Some(Subject::Artist(artist));
        self.ranking(filter, Ranked::Albums(0), Order::ByPlays, subject, limit)
            .await
    }

    async fn ranking(
        &self,
        filter: &PlayFilter,
        ranked: Ranked,
        order: Order,
        subject: Option<Subject>,
        limit: i64,
    ) -> Result<Vec<RankedRow>> {
        if let Some(rollup) = self.rollup(filter, Parts::TRACKS).await? {
            let rows = rank_rollup(&rollup, ranked, order, subject, limit);
            return self.named(ranked, rows).await;
        }
        let subject_condition = Subject::condition(subject, 7);
        let per_track = format!(
            "(SELECT p.track_id, COUNT(*) AS plays, COALESCE(SUM(p.ms_played), 0) AS ms_played
              FROM plays p WHERE {PLAY_FILTER}{subject_condition} GROUP BY p.track_id) x"
        );
        let order = match order {
            Order::ByPlays => "plays DESC, ms_played DESC",
            Order::ByTime => "ms_played DESC, plays DESC",
        };
        // Sums of sums are NUMERIC on PostgreSQL: cast back to BIGINT for one row type.
        let sql = match ranked {
            Ranked::Artists => format!(
                "SELECT a.id, a.key, a.name, NULL AS context,
                        CAST(SUM(x.plays) AS BIGINT) AS plays,
                        CAST(SUM(x.ms_played) AS BIGINT) AS ms_played
                 FROM {per_track}
                 JOIN track_artists ta ON ta.track_id = x.track_id AND ta.position = 0
                 JOIN artists a ON a.id = ta.artist_id
                 GROUP BY a.id, a.key, a.name
                 ORDER BY {order}, a.id
                 LIMIT $6"
            ),
            Ranked::Items(kind) => format!(
                "SELECT t.id, t.key, t.name, COALESCE(ar.name, al.name) AS context,
                        x.plays, x.ms_played
                 FROM {per_track}
                 JOIN tracks t ON t.id = x.track_id
                 LEFT JOIN albums al ON al.id = t.album_id
                 LEFT JOIN track_artists ta ON ta.track_id = t.id AND ta.position = 0
                 LEFT JOIN artists ar ON ar.id = ta.artist_id
                 WHERE t.kind = {kind}
                 ORDER BY {order}, t.id
                 LIMIT $6",
                kind = kind.code()
            ),
            Ranked::Albums(kind) => format!(
                "SELECT al.id, al.key, al.name, al.artist_name AS context,
                        CAST(SUM(x.plays) AS BIGINT) AS plays,
                        CAST(SUM(x.ms_played) AS BIGINT) AS ms_played
                 FROM {per_track}
                 JOIN tracks t ON t.id = x.track_id
                 JOIN albums al ON al.id = t.album_id
                 WHERE al.kind = {kind}
                 GROUP BY al.id, al.key, al.name, al.artist_name
                 ORDER BY {order}, al.id
                 LIMIT $6"
            ),
        };
        let sql = sqlx::AssertSqlSafe(sql);
        let rows = on_pool!(self, pool => {
            let query = bind_filter!(sqlx::query(sql), filter).bind(limit);
            let rows = bind_subject!(query, subject).fetch_all(pool).await?;
            rows.iter().map(ranked_from_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// Ranked `(id, plays, ms)` entries with their names, in the same order.
    pub(crate) async fn named(
        &self,
        ranked: Ranked,
        rows: Vec<(i64, i64, i64)>,
    ) -> Result<Vec<RankedRow>> {
        let (sql, column) = match ranked {
            Ranked::Artists => (
                "SELECT a.id, a.key, a.name, NULL AS context FROM artists a WHERE {ids}",
                "a.id",
            ),
            Ranked::Items(_) => (
                "SELECT t.id, t.key, t.name, COALESCE(ar.name, al.name) AS context
                 FROM tracks t
                 LEFT JOIN albums al ON al.id = t.album_id
                 LEFT JOIN track_artists ta ON ta.track_id = t.id AND ta.position = 0
                 LEFT JOIN artists ar ON ar.id = ta.artist_id
                 WHERE {ids}",
                "t.id",
            ),
            Ranked::Albums(_) => (
                "SELECT al.id, al.key, al.name, al.artist_name AS context FROM albums al WHERE {ids}",
                "al.id",
            ),
        };
        let ids: Vec<i64> = rows.iter().map(|(id, _, _)| *id).collect();
        let names: HashMap<i64, (String, String, Option<String>)> = self
            .fetch_by_ids(sql, column, &ids, |row| {
                Ok((
                    row.int("id")?,
                    (
                        row.text("key")?,
                        row.text("name")?,
                        row.opt_text("context")?,
                    ),
                ))
            })
            .await?
            .into_iter()
            .collect();
        Ok(rows
            .into_iter()
            .filter_map(|(id, plays, ms_played)| {
                let (key, name, context) = names.get(&id)?.clone();
                Some(RankedRow {
                    id,
                    key,
                    name,
                    context,
                    plays,
                    ms_played,
                })
            })
            .collect())
    }
}
