//! Bringing a user's rollups up to date with their plays.
//!
//! Which days changed is known without touching the import's hot path on SQLite: new plays
//! are those above the `history_rollup_state` watermark (SQLite hands out increasing ids),
//! and merges and deletions mark their days through row triggers. On PostgreSQL,
//! statement-level triggers mark every change, because concurrent transactions commit ids
//! out of order. A refresh then re-reads the marked days, rewrites their summaries and
//! corrects the user's totals by the difference.

use super::summary::{
    BLOCK_DAYS, DAY_MS, IdMap, ROLLUP_RULE, SourceCounts, Summary, TrackInfo, TrackPlays,
    add_tracks, decode_sources, decode_totals, encode_block_tracks, encode_day_tracks,
    encode_slots, encode_sources, encode_totals, for_each_day_track,
};
use crate::row::RowExt;
use crate::transaction::{Tx, on_tx};
use crate::{BackendKind, Result, Store, on_pool};
use spotify_history_core::UserId;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Days read from the plays per statement when summarising.
const DAYS_PER_READ: i64 = 31;
/// Marked days summarised per transaction (a year of history: a fraction of a second).
const DAYS_PER_TRANSACTION: i64 = 366;
/// PostgreSQL advisory-lock namespace of rollup refreshes (any constant other code does not
/// use).
const REFRESH_LOCK: i32 = 0x5348;

/// What a track without a catalogue row (never expected) is taken for.
const NO_INFO: TrackInfo = TrackInfo {
    kind: 0,
    album: 0,
    artist: 0,
};

/// How a rebuild ended.
#[derive(Debug, PartialEq, Eq)]
enum Rebuilt {
    Done,
    /// A stored day summary could not be read, so the totals cannot be corrected from it.
    Damaged,
}

/// A marked day and the mark's version when read.
struct Mark {
    day: i64,
    version: i64,
}

/// The user's totals, decoded for correcting.
struct Totals {
    sources: HashMap<i16, SourceCounts>,
    tracks: IdMap<(Option<TrackInfo>, TrackPlays)>,
}

impl Store {
    /// Brings `user`'s rollups up to date. Two tiny queries when nothing changed.
    ///
    /// Marked days are summarised [`DAYS_PER_TRANSACTION`] at a time, each batch in its own
    /// transaction with the totals corrected and its marks removed: the first refresh after
    /// importing years of history runs as a series of short transactions, so writers and
    /// other readers never wait long, and an interrupted refresh keeps what it finished.
    pub async fn refresh_history(&self, user: UserId) -> Result<()> {
        if !self.history_is_stale(user).await? {
            return Ok(());
        }
        let mut started_over = false;
        loop {
            // Two refreshes of one user would each correct the totals by their own difference,
            // and the later commit would undo the other's: take turns. (On SQLite the write
            // lock is held from BEGIN, so no play is written between reading the watermark and
            // moving it.)
            let mut tx = self.begin_for_user(REFRESH_LOCK, user).await?;
            if self.backend() == BackendKind::Sqlite {
                mark_new_plays(&mut tx).await?;
            }
            let totals = match read_totals(&mut tx, user).await? {
                Some(totals) => totals,
                None if !started_over => {
                    start_over(&mut tx, user).await?;
                    tx.commit().await?;
                    started_over = true;
                    continue;
                }
                None => Totals {
                    sources: HashMap::new(),
                    tracks: IdMap::default(),
                },
            };
            let marks = read_marks(&mut tx, user).await?;
            if marks.is_empty() {
                return tx.commit().await;
            }
            let days: Vec<i64> = marks.iter().map(|m| m.day).collect();
            match self.rebuild(&mut tx, user, &days, totals).await? {
                Rebuilt::Damaged if !started_over => {
                    start_over(&mut tx, user).await?;
                    started_over = true;
                }
                _ => {
                    for mark in &marks {
                        // A mark whose version moved was set again by a writer after it was
                        // read: it stays for the next batch.
                        on_tx!(&mut tx, conn => {
                            sqlx::query(
                                "DELETE FROM history_stale_days WHERE user_id = $1 AND day = $2 AND version = $3",
                            )
                            .bind(user.0)
                            .bind(mark.day)
                            .bind(mark.version)
                            .execute(&mut **conn)
                            .await?;
                        });
                    }
                }
            }
            tx.commit().await?;
        }
    }

    /// Whether new plays or marked days may be waiting.
    async fn history_is_stale(&self, user: UserId) -> Result<bool> {
        let sql = match self.backend() {
            BackendKind::Sqlite => {
                "SELECT (SELECT COALESCE(MAX(id), 0) FROM plays)
                          > (SELECT last_play_id FROM history_rollup_state WHERE id = 1)
                        OR EXISTS (SELECT 1 FROM history_stale_days WHERE user_id = $1) AS stale"
            }
            BackendKind::Postgres => {
                "SELECT EXISTS (SELECT 1 FROM history_stale_days WHERE user_id = $1) AS stale"
            }
        };
        let stale = on_pool!(self, pool => {
            sqlx::query(sql).bind(user.0).fetch_one(pool).await?.flag("stale")?
        });
        Ok(stale)
    }

    /// Rewrites the given days of `user` and corrects the totals by the difference.
    async fn rebuild(
        &self,
        tx: &mut Tx<'static>,
        user: UserId,
        days: &[i64],
        totals: Totals,
    ) -> Result<Rebuilt> {
        let Totals {
            mut sources,
            tracks: mut totals,
        } = totals;
        let mut dirty_bounds: HashSet<i64> = HashSet::new();
        for range in day_ranges(days) {
            let Some(mut old) = read_old_days(tx, user, &range).await? else {
                return Ok(Rebuilt::Damaged);
            };
            let new = summarise_days(tx, user, &range).await?;
            for &day in &range {
                let before = old.remove(&day).unwrap_or_default();
                let after = new.get(&day);
                apply_day(
                    &mut totals,
                    &mut dirty_bounds,
                    day,
                    &before.tracks,
                    after.map(|s| &s.tracks),
                );
                for (set, counts) in &before.sources {
                    let entry = sources.entry(*set).or_default();
                    entry.listens = entry.listens.saturating_sub(counts.listens);
                    entry.plays = entry.plays.saturating_sub(counts.plays);
                }
                for (set, counts) in after.map(|s| &s.sources).into_iter().flatten() {
                    let entry = sources.entry(*set).or_default();
                    entry.listens += counts.listens;
                    entry.plays += counts.plays;
                }
            }
            // Tracks new to the user get their kind, album and artist from the catalogue.
            let unknown: HashSet<i64> = new
                .values()
                .flat_map(|summary| summary.tracks.keys())
                .filter(|id| totals.get(*id).is_some_and(|(info, _)| info.is_none()))
                .copied()
                .collect();
            let unknown: Vec<i64> = unknown.into_iter().collect();
            for (id, info) in self.track_infos(&unknown).await? {
                if let Some(entry) = totals.get_mut(&id) {
                    entry.0 = Some(info);
                }
            }
            for &day in &range {
                write_day(tx, user, day, new.get(&day), &totals).await?;
            }
        }
        if !write_blocks(tx, user, days).await? {
            return Ok(Rebuilt::Damaged);
        }
        sources.retain(|_, counts| counts.listens > 0);
        totals.retain(|_, (_, plays)| plays.plays > 0);
        for track in dirty_bounds {
            if let Some((_, plays)) = totals.get_mut(&track) {
                let (first, last) = play_bounds(tx, user, track).await?;
                plays.first = first;
                plays.last = last;
            }
        }
        let mut records: Vec<(i64, TrackInfo, TrackPlays)> = totals
            .into_iter()
            .map(|(id, (info, plays))| (id, info.unwrap_or(NO_INFO), plays))
            .collect();
        records.sort_by_key(|(id, _, _)| *id);
        let (sources, tracks) = (encode_sources(&sources), encode_totals(&records));
        // A random version, not a counter: a user deleted and created again under the same id
        // must not meet a cached read of the one before.
        let version: i64 = rand::random();
        on_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO history_totals (user_id, version, sources, tracks) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (user_id) DO UPDATE
                 SET version = excluded.version, sources = excluded.sources, tracks = excluded.tracks",
            )
            .bind(user.0)
            .bind(version)
            .bind(&sources)
            .bind(&tracks)
            .execute(&mut **conn)
            .await?;
        });
        Ok(Rebuilt::Done)
    }

    /// Kind, album and primary artist of tracks.
    pub(crate) async fn track_infos(&self, tracks: &[i64]) -> Result<HashMap<i64, TrackInfo>> {
        // A track credited with two primary artists (sources disagreeing) counts for the
        // first one here.
        let rows = self
            .fetch_by_ids(
                "SELECT t.id, t.kind, t.album_id,
                        (SELECT MIN(ta.artist_id) FROM track_artists ta
                         WHERE ta.track_id = t.id AND ta.position = 0) AS artist_id
                 FROM tracks t WHERE {ids}",
                "t.id",
                tracks,
                |row| {
                    Ok((
                        row.int("id")?,
                        TrackInfo {
                            kind: row.small("kind")?,
                            album: row.opt_int("album_id")?.unwrap_or(0),
                            artist: row.opt_int("artist_id")?.unwrap_or(0),
                        },
                    ))
                },
            )
            .await?;
        Ok(rows.into_iter().collect())
    }
}

/// The stored totals, or `None` when there are none or they cannot be read.
async fn read_totals(tx: &mut Tx<'static>, user: UserId) -> Result<Option<Totals>> {
    let stored = on_tx!(tx, conn => {
        sqlx::query("SELECT sources, tracks FROM history_totals WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(&mut **conn)
            .await?
            .map(|row| Ok::<_, sqlx::Error>((row.bytes("sources")?, row.bytes("tracks")?)))
            .transpose()?
    });
    Ok(stored.and_then(|(sources, tracks)| {
        let mut totals = Totals {
            sources: HashMap::new(),
            tracks: IdMap::default(),
        };
        decode_sources(&sources, &mut totals.sources)?;
        totals.tracks = decode_totals(&tracks)?
            .into_iter()
            .map(|(id, info, plays)| (id, (Some(info), plays)))
            .collect();
        Some(totals)
    }))
}

/// Forgets everything summarised for the user and marks every day with plays, so the days
/// are summarised afresh, batch by batch, with nothing old to correct.
async fn start_over(tx: &mut Tx<'static>, user: UserId) -> Result<()> {
    let version: i64 = rand::random();
    on_tx!(tx, conn => {
        for table in ["history_days", "history_day_tracks", "history_block_tracks"] {
            let sql = sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE user_id = $1"));
            sqlx::query(sql).bind(user.0).execute(&mut **conn).await?;
        }
        sqlx::query(
            "INSERT INTO history_totals (user_id, version, sources, tracks) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE
             SET version = excluded.version, sources = excluded.sources, tracks = excluded.tracks",
        )
        .bind(user.0)
        .bind(version)
        .bind(encode_sources(&HashMap::new()))
        .bind(encode_totals(&[]))
        .execute(&mut **conn)
        .await?;
        sqlx::query(
            "INSERT INTO history_stale_days (user_id, day, version)
             SELECT DISTINCT user_id, ended_at / 86400000, 1 FROM plays WHERE user_id = $1
             ON CONFLICT (user_id, day) DO UPDATE SET version = history_stale_days.version + 1",
        )
        .bind(user.0)
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

/// Moves the watermark over plays inserted since the last refresh, marking their days
/// (SQLite only; see the module notes).
async fn mark_new_plays(tx: &mut Tx<'static>) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO history_stale_days (user_id, day, version)
             SELECT DISTINCT user_id, ended_at / 86400000, 1 FROM plays
             WHERE id > (SELECT last_play_id FROM history_rollup_state WHERE id = 1)
             ON CONFLICT (user_id, day) DO UPDATE SET version = history_stale_days.version + 1",
        )
        .execute(&mut **conn)
        .await?;
        sqlx::query(
            "UPDATE history_rollup_state SET last_play_id = (SELECT COALESCE(MAX(id), 0) FROM plays)
             WHERE id = 1",
        )
        .execute(&mut **conn)
        .await?;
    });
    Ok(())
}

/// The next batch of marked days, oldest first.
async fn read_marks(tx: &mut Tx<'static>, user: UserId) -> Result<Vec<Mark>> {
    let marks = on_tx!(tx, conn => {
        let rows = sqlx::query(
            "SELECT day, version FROM history_stale_days WHERE user_id = $1 ORDER BY day LIMIT $2",
        )
        .bind(user.0)
        .bind(DAYS_PER_TRANSACTION)
        .fetch_all(&mut **conn)
        .await?;
        rows.iter()
            .map(|row| Ok(Mark { day: row.int("day")?, version: row.int("version")? }))
            .collect::<Result<Vec<_>, sqlx::Error>>()?
    });
    Ok(marks)
}

/// Sorted days cut into runs of at most [`DAYS_PER_READ`] calendar days.
fn day_ranges(days: &[i64]) -> Vec<Vec<i64>> {
    let mut ranges: Vec<Vec<i64>> = Vec::new();
    for &day in days {
        match ranges.last_mut() {
            Some(range) if day - range[0] < DAYS_PER_READ => range.push(day),
            _ => ranges.push(vec![day]),
        }
    }
    ranges
}

/// What a stored day summary contributes to the totals.
#[derive(Default)]
struct OldDay {
    sources: HashMap<i16, SourceCounts>,
    tracks: IdMap<TrackPlays>,
}

impl OldDay {
    fn decode(day: i64, sources: &[u8], tracks: &[u8]) -> Option<OldDay> {
        let mut old = OldDay::default();
        decode_sources(sources, &mut old.sources)?;
        for_each_day_track(day, tracks, |id, _, plays| {
            old.tracks.insert(id, plays);
        })?;
        Some(old)
    }
}

/// The stored summaries of the given days; `None` if one cannot be read.
async fn read_old_days(
    tx: &mut Tx<'static>,
    user: UserId,
    days: &[i64],
) -> Result<Option<HashMap<i64, OldDay>>> {
    let (first, last) = (days[0], days[days.len() - 1]);
    let rows = on_tx!(tx, conn => {
        let rows = sqlx::query(
            "SELECT d.day, d.sources, t.tracks FROM history_days d
             JOIN history_day_tracks t ON t.user_id = d.user_id AND t.day = d.day
             WHERE d.user_id = $1 AND d.day >= $2 AND d.day <= $3",
        )
        .bind(user.0)
        .bind(first)
        .bind(last)
        .fetch_all(&mut **conn)
        .await?;
        rows.iter()
            .map(|row| Ok((row.int("day")?, row.bytes("sources")?, row.bytes("tracks")?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?
    });
    let mut old = HashMap::new();
    for (day, sources, tracks) in rows {
        let Some(summary) = OldDay::decode(day, &sources, &tracks) else {
            return Ok(None);
        };
        old.insert(day, summary);
    }
    Ok(Some(old))
}

/// Summaries of the given days, read from the plays.
async fn summarise_days(
    tx: &mut Tx<'static>,
    user: UserId,
    days: &[i64],
) -> Result<BTreeMap<i64, Summary>> {
    let (from, to) = (days[0] * DAY_MS, (days[days.len() - 1] + 1) * DAY_MS);
    let rows = on_tx!(tx, conn => {
        let rows = sqlx::query(
            "SELECT ended_at, track_id, ms_played, sources FROM plays
             WHERE user_id = $1 AND ended_at >= $2 AND ended_at < $3 ORDER BY ended_at",
        )
        .bind(user.0)
        .bind(from)
        .bind(to)
        .fetch_all(&mut **conn)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.int("ended_at")?,
                    row.int("track_id")?,
                    row.opt_int4("ms_played")?.map(i64::from),
                    row.small("sources")?,
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
    });
    let wanted: HashSet<i64> = days.iter().copied().collect();
    let mut summaries: BTreeMap<i64, Summary> = BTreeMap::new();
    for (ended_at, track, ms, sources) in rows {
        let day = ended_at.div_euclid(DAY_MS);
        if wanted.contains(&day) {
            summaries
                .entry(day)
                .or_default()
                .add_listen(ended_at, track, ms, sources);
        }
    }
    Ok(summaries)
}

/// Replaces one day's stored summary (or removes it when the day has no listens left).
async fn write_day(
    tx: &mut Tx<'static>,
    user: UserId,
    day: i64,
    summary: Option<&Summary>,
    totals: &IdMap<(Option<TrackInfo>, TrackPlays)>,
) -> Result<()> {
    match summary.filter(|s| !s.is_empty()) {
        None => on_tx!(tx, conn => {
            for table in ["history_days", "history_day_tracks"] {
                let sql = sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE user_id = $1 AND day = $2"));
                sqlx::query(sql).bind(user.0).bind(day).execute(&mut **conn).await?;
            }
        }),
        Some(summary) => {
            let slots = encode_slots(day, &summary.slots);
            let sources = encode_sources(&summary.sources);
            let tracks = encode_day_tracks(day, &summary.tracks, |id| {
                totals
                    .get(&id)
                    .and_then(|(info, _)| *info)
                    .unwrap_or(NO_INFO)
            });
            on_tx!(tx, conn => {
                sqlx::query(
                    "INSERT INTO history_days (user_id, day, sources, slots) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (user_id, day) DO UPDATE
                     SET sources = excluded.sources, slots = excluded.slots",
                )
                .bind(user.0)
                .bind(day)
                .bind(&sources)
                .bind(&slots)
                .execute(&mut **conn)
                .await?;
                sqlx::query(
                    "INSERT INTO history_day_tracks (user_id, day, tracks) VALUES ($1, $2, $3)
                     ON CONFLICT (user_id, day) DO UPDATE SET tracks = excluded.tracks",
                )
                .bind(user.0)
                .bind(day)
                .bind(&tracks)
                .execute(&mut **conn)
                .await?;
            });
        }
    }
    Ok(())
}

/// Rewrites the blocks holding `days` from the stored tracks of their days (removing those
/// left without plays); false if a day's tracks cannot be read.
async fn write_blocks(tx: &mut Tx<'static>, user: UserId, days: &[i64]) -> Result<bool> {
    let blocks: BTreeSet<i64> = days.iter().map(|day| day.div_euclid(BLOCK_DAYS)).collect();
    for block in blocks {
        let merged = on_tx!(tx, conn => {
            let rows = sqlx::query(
                "SELECT day, tracks FROM history_day_tracks
                 WHERE user_id = $1 AND day >= $2 AND day < $3",
            )
            .bind(user.0)
            .bind(block * BLOCK_DAYS)
            .bind((block + 1) * BLOCK_DAYS)
            .fetch_all(&mut **conn)
            .await?;
            let mut merged = IdMap::default();
            let mut readable = true;
            for row in &rows {
                readable &= add_tracks(row.int("day")? * DAY_MS, row.blob("tracks")?, &mut merged)
                    .is_some();
            }
            readable.then_some(merged)
        });
        let Some(merged) = merged else {
            return Ok(false);
        };
        on_tx!(tx, conn => {
            if merged.is_empty() {
                sqlx::query("DELETE FROM history_block_tracks WHERE user_id = $1 AND block = $2")
                    .bind(user.0)
                    .bind(block)
                    .execute(&mut **conn)
                    .await?;
            } else {
                sqlx::query(
                    "INSERT INTO history_block_tracks (user_id, block, tracks) VALUES ($1, $2, $3)
                     ON CONFLICT (user_id, block) DO UPDATE SET tracks = excluded.tracks",
                )
                .bind(user.0)
                .bind(block)
                .bind(encode_block_tracks(block, merged))
                .execute(&mut **conn)
                .await?;
            }
        });
    }
    Ok(true)
}

/// Corrects the totals by one day's change from `before` to `after`.
///
/// Counts move by the difference. A track's first (last) play stays exact as long as the
/// day that held it still has a play of the track, because no other day can hold an
/// earlier (later) one; otherwise the track's bounds are recomputed from the plays.
fn apply_day(
    totals: &mut IdMap<(Option<TrackInfo>, TrackPlays)>,
    dirty_bounds: &mut HashSet<i64>,
    day: i64,
    before: &IdMap<TrackPlays>,
    after: Option<&IdMap<TrackPlays>>,
) {
    let in_day = |ms: i64| ms.div_euclid(DAY_MS) == day;
    let empty = IdMap::default();
    let after = after.unwrap_or(&empty);
    for (track, old) in before {
        if let Some((_, total)) = totals.get_mut(track) {
            total.plays = total.plays.saturating_sub(old.plays);
            total.ms = total.ms.saturating_sub(old.ms);
            if !after.contains_key(track) && (in_day(total.first) || in_day(total.last)) {
                dirty_bounds.insert(*track);
            }
        }
    }
    for (track, new) in after {
        match totals.get_mut(track) {
            None => {
                totals.insert(*track, (None, *new));
            }
            Some((_, total)) => {
                total.plays += new.plays;
                total.ms += new.ms;
                total.first = if in_day(total.first) {
                    new.first
                } else {
                    total.first.min(new.first)
                };
                total.last = if in_day(total.last) {
                    new.last
                } else {
                    total.last.max(new.last)
                };
            }
        }
    }
}

/// First and last counted play of one track, from the plays.
async fn play_bounds(tx: &mut Tx<'static>, user: UserId, track: i64) -> Result<(i64, i64)> {
    let bounds = on_tx!(tx, conn => {
        let row = sqlx::query(
            "SELECT MIN(ended_at) AS first_ms, MAX(ended_at) AS last_ms FROM plays
             WHERE user_id = $1 AND track_id = $2
               AND (ms_played >= $3 OR (ms_played IS NULL AND $4))",
        )
        .bind(user.0)
        .bind(track)
        .bind(ROLLUP_RULE.min_ms_played)
        .bind(ROLLUP_RULE.count_unknown_duration)
        .fetch_one(&mut **conn)
        .await?;
        (row.opt_int("first_ms")?.unwrap_or(0), row.opt_int("last_ms")?.unwrap_or(0))
    });
    Ok(bounds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plays(n: u64, first: i64, last: i64) -> TrackPlays {
        TrackPlays {
            plays: n,
            ms: n * 1000,
            first,
            last,
        }
    }

    #[test]
    fn totals_move_by_the_days_difference() {
        let day = 100;
        let at = |h: i64| day * DAY_MS + h * 3_600_000;
        let mut totals = IdMap::default();
        // Track 1: first play on an earlier day, last play in `day`.
        totals.insert(1, (None, plays(5, 0, at(10))));
        // Track 2: its only plays are in `day`.
        totals.insert(2, (None, plays(2, at(1), at(2))));
        let before: IdMap<_> = [(1, plays(2, at(9), at(10))), (2, plays(2, at(1), at(2)))]
            .into_iter()
            .collect();
        // Track 1 gains a later play; track 2 is gone from the day; track 3 is new.
        let after: IdMap<_> = [(1, plays(3, at(9), at(11))), (3, plays(1, at(5), at(5)))]
            .into_iter()
            .collect();
        let mut dirty = HashSet::new();
        apply_day(&mut totals, &mut dirty, day, &before, Some(&after));
        assert_eq!(totals[&1].1, plays(6, 0, at(11)));
        assert_eq!(totals[&2].1.plays, 0);
        assert_eq!(totals[&3].1, plays(1, at(5), at(5)));
        assert_eq!(dirty, HashSet::from([2]));
        assert_eq!(
            day_ranges(&[1, 2, 40, 41, 80]),
            [vec![1, 2], vec![40, 41], vec![80]]
        );
    }
}
