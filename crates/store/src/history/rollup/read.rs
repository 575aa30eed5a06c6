//! A window's plays summarised: whole days from the stored summaries, the ragged edges of
//! the window (parts of a day) from the plays, the whole history from the totals.

use super::cache;
use super::summary::{
    BLOCK_DAYS, DAY_MS, IdMap, ROLLUP_RULE, SlotCounts, SourceCounts, Summary, TrackInfo,
    TrackPlays, add_track, add_tracks, decode_slots, decode_sources, decode_totals, for_each_track,
    whole_days, whole_units,
};
use crate::history::{PlayFilter, Subject};
use crate::row::RowExt;
use crate::{Result, Store, StoreError, on_pool};
use spotify_history_core::{CountingRule, UserId};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// The latest time a window may end at; keeps day arithmetic far from overflow.
const MAX_MS: i64 = i64::MAX / 4;

/// Which parts of a summary a question needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Parts {
    pub slots: bool,
    pub sources: bool,
    pub tracks: bool,
    /// Every track of the whole history too (first plays ever).
    pub all_time: bool,
}

impl Parts {
    const NONE: Parts = Parts {
        slots: false,
        sources: false,
        tracks: false,
        all_time: false,
    };
    pub(crate) const SLOTS: Parts = Parts {
        slots: true,
        ..Parts::NONE
    };
    pub(crate) const SOURCES: Parts = Parts {
        sources: true,
        ..Parts::NONE
    };
    pub(crate) const TRACKS: Parts = Parts {
        tracks: true,
        ..Parts::NONE
    };
    pub(crate) const DISCOVERIES: Parts = Parts {
        tracks: true,
        all_time: true,
        ..Parts::NONE
    };

    /// Does a rollup read for `self` hold everything `wanted` asks for?
    pub(crate) fn covers(self, wanted: Parts) -> bool {
        (self.slots || !wanted.slots)
            && (self.sources || !wanted.sources)
            && (self.tracks || !wanted.tracks)
            && (self.all_time || !wanted.all_time)
    }
}

/// What a counting rule counts in the summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Counting {
    /// Plays under [`ROLLUP_RULE`].
    Plays,
    /// Every stored listen (a rule of 0 ms that counts unknown durations).
    Listens,
}

impl Counting {
    fn of(rule: CountingRule) -> Option<Counting> {
        if rule == ROLLUP_RULE {
            Some(Counting::Plays)
        } else if rule.min_ms_played <= 0 && rule.count_unknown_duration {
            Some(Counting::Listens)
        } else {
            None
        }
    }

    /// The count and time of a slot under this counting.
    pub(crate) fn of_slot(self, slot: &SlotCounts) -> (i64, i64) {
        match self {
            Counting::Plays => (i64::from(slot.plays), i64::from(slot.play_ms)),
            Counting::Listens => (i64::from(slot.listens), i64::from(slot.listen_ms)),
        }
    }

    /// The count of a set of sources under this counting.
    pub(crate) fn of_sources(self, counts: &SourceCounts) -> i64 {
        match self {
            Counting::Plays => counts.plays as i64,
            Counting::Listens => counts.listens as i64,
        }
    }
}

/// A window summarised from the rollups.
#[derive(Debug)]
pub(crate) struct Rollup {
    /// Slots and sources of the window (its tracks are in [`Rollup::tracks`]).
    pub summary: Summary,
    pub counting: Counting,
    /// The window's tracks, when the window is not the whole history.
    window_tracks: Vec<(i64, TrackInfo, TrackPlays)>,
    /// Every track of the whole history, sorted by id (for the whole history, or when asked
    /// for).
    totals: Vec<(i64, TrackInfo, TrackPlays)>,
    whole_history: bool,
}

impl Rollup {
    /// The window's tracks with what the catalogue says about them, sorted by id (only when
    /// tracks were asked for).
    pub(crate) fn tracks(&self) -> &[(i64, TrackInfo, TrackPlays)] {
        if self.whole_history {
            &self.totals
        } else {
            &self.window_tracks
        }
    }

    /// The window's tracks, or only the subject's (a track found by id, not by a scan).
    pub(crate) fn tracks_of(
        &self,
        subject: Option<Subject>,
    ) -> Cow<'_, [(i64, TrackInfo, TrackPlays)]> {
        match subject {
            None => Cow::Borrowed(self.tracks()),
            Some(Subject::Track(track)) => {
                Cow::Owned(find(self.tracks(), track.0).into_iter().copied().collect())
            }
            Some(subject) => Cow::Owned(
                self.tracks()
                    .iter()
                    .filter(|(id, info, _)| holds(subject, *id, info))
                    .copied()
                    .collect(),
            ),
        }
    }

    /// The track's plays over the whole history (only when asked for).
    pub(crate) fn all_time(&self, track: i64) -> Option<TrackPlays> {
        find(&self.totals, track).map(|(_, _, plays)| *plays)
    }

    /// The track's plays in the window.
    pub(crate) fn in_window(&self, track: i64) -> Option<TrackPlays> {
        find(self.tracks(), track).map(|(_, _, plays)| *plays)
    }

    /// Every track of the whole history (only when asked for).
    pub(crate) fn totals(&self) -> impl Iterator<Item = &(i64, TrackInfo, TrackPlays)> {
        self.totals.iter()
    }
}

fn find(
    sorted: &[(i64, TrackInfo, TrackPlays)],
    track: i64,
) -> Option<&(i64, TrackInfo, TrackPlays)> {
    sorted
        .binary_search_by_key(&track, |(id, _, _)| *id)
        .ok()
        .map(|i| &sorted[i])
}

/// Whether a track (with what the catalogue says of it) is one of the subject's.
fn holds(subject: Subject, track: i64, info: &TrackInfo) -> bool {
    match subject {
        Subject::Artist(artist) => info.artist == artist.0,
        Subject::Track(only) => track == only.0,
    }
}

/// A subject with fewer plays than this per day of a stretch is counted from its plays.
const PLAYS_PER_SUMMARY_DAY: u64 = 30;
/// Stretches of days at least this long are read in two halves at once.
const PARALLEL_MIN_DAYS: i64 = 400;

/// Two halves of a folded stretch of days, put together.
trait Merge {
    fn merge(self, other: Self) -> Self;
}

impl Merge for IdMap<(TrackInfo, TrackPlays)> {
    fn merge(self, other: Self) -> Self {
        let (mut into, from) = if self.len() >= other.len() {
            (self, other)
        } else {
            (other, self)
        };
        for (id, (info, plays)) in from {
            add_track(&mut into, id, info, plays);
        }
        into
    }
}

impl<T> Merge for Vec<T> {
    fn merge(mut self, mut other: Self) -> Self {
        self.append(&mut other);
        self
    }
}

/// Where track summaries are stored: one row per UTC day, or per block of days.
#[derive(Debug, Clone, Copy)]
enum Stored {
    Days,
    Blocks,
}

impl Stored {
    /// Rows `$2..$3` of user `$1`, numbered `n`.
    fn sql(self) -> &'static str {
        match self {
            Stored::Days => {
                "SELECT day AS n, tracks FROM history_day_tracks
                 WHERE user_id = $1 AND day >= $2 AND day < $3"
            }
            Stored::Blocks => {
                "SELECT block AS n, tracks FROM history_block_tracks
                 WHERE user_id = $1 AND block >= $2 AND block < $3"
            }
        }
    }

    /// Days a row covers.
    fn days(self) -> i64 {
        match self {
            Stored::Days => 1,
            Stored::Blocks => BLOCK_DAYS,
        }
    }
}

/// What the stored day summaries of a window hold.
#[derive(Default)]
struct Days {
    slots: Vec<(i64, SlotCounts)>,
    sources: HashMap<i16, SourceCounts>,
    tracks: IdMap<(TrackInfo, TrackPlays)>,
}

/// The user's totals as stored.
struct Totals {
    sources: HashMap<i16, SourceCounts>,
    tracks: Vec<(i64, TrackInfo, TrackPlays)>,
}

impl Store {
    /// The filter's window summarised, or `None` when the rollups do not hold its counting
    /// rule (the caller then reads the plays). Tracks are held for the rollup rule only.
    pub(crate) async fn rollup(
        &self,
        filter: &PlayFilter,
        parts: Parts,
    ) -> Result<Option<Arc<Rollup>>> {
        let Some(counting) = Counting::of(filter.rule) else {
            return Ok(None);
        };
        if parts.tracks && counting == Counting::Listens {
            return Ok(None);
        }
        self.refresh_history(filter.user).await?;
        let (from, to) = (filter.start_bound().max(0), filter.to_ms.min(MAX_MS));
        let version = self.rollup_version(filter.user).await?;
        let key = cache::Key {
            database: self.url().expose().to_string(),
            user: filter.user.0,
            from,
            to,
            counting,
            version,
        };
        if let Some(rollup) = cache::get(&key, parts) {
            return Ok(Some(rollup));
        }
        let Some(rollup) = self
            .read_rollup(filter.user, from, to, counting, parts)
            .await?
        else {
            return Ok(None);
        };
        let rollup = Arc::new(rollup);
        cache::put(key, parts, rollup.clone());
        Ok(Some(rollup))
    }

    /// The version of the user's rollups: changes whenever a refresh rewrites them.
    async fn rollup_version(&self, user: UserId) -> Result<i64> {
        let version = on_pool!(self, pool => {
            sqlx::query("SELECT version FROM history_totals WHERE user_id = $1")
                .bind(user.0)
                .fetch_optional(pool)
                .await?
                .map(|row| row.int("version"))
                .transpose()?
        });
        Ok(version.unwrap_or(0))
    }

    async fn read_rollup(
        &self,
        user: UserId,
        from: i64,
        to: i64,
        counting: Counting,
        parts: Parts,
    ) -> Result<Option<Rollup>> {
        let mut rollup = Rollup {
            summary: Summary::default(),
            counting,
            window_tracks: Vec::new(),
            totals: Vec::new(),
            whole_history: false,
        };
        if from >= to {
            return Ok(Some(rollup));
        }
        let bounds = self.listen_bounds(user).await?;
        let whole_history = bounds.first_ms.is_none_or(|first| from <= first)
            && bounds.last_ms.is_none_or(|last| to > last);
        rollup.whole_history = whole_history;
        // The whole history's sources and tracks are kept in one row.
        let sources_from_totals = parts.sources && whole_history;
        let tracks_from_totals = (parts.tracks && whole_history) || parts.all_time;
        if sources_from_totals || tracks_from_totals {
            let Some(totals) = self
                .read_totals(user, sources_from_totals, tracks_from_totals)
                .await?
            else {
                return Ok(None);
            };
            rollup.totals = totals.tracks;
            if sources_from_totals {
                rollup.summary.sources = totals.sources;
            }
        }
        let from_days = Parts {
            slots: parts.slots,
            sources: parts.sources && !whole_history,
            tracks: parts.tracks && !whole_history,
            all_time: false,
        };
        if from_days == Parts::NONE {
            return Ok(Some(rollup));
        }
        // Whole UTC days inside the window come from the summaries, the partial days at its
        // edges from the plays.
        let (mut lead, mut days, mut tail) =
            (Summary::default(), Days::default(), Summary::default());
        let (first_day, end_day) = whole_days(from, to);
        if first_day >= end_day {
            lead = self.summarise_plays(user, from, to).await?;
        } else {
            if from < first_day * DAY_MS {
                lead = self.summarise_plays(user, from, first_day * DAY_MS).await?;
            }
            if !self
                .read_days(user, first_day, end_day, from_days, &mut days)
                .await?
            {
                return Ok(None);
            }
            if end_day * DAY_MS < to {
                tail = self.summarise_plays(user, end_day * DAY_MS, to).await?;
            }
        }
        if from_days.slots {
            let mut slots = std::mem::take(&mut lead.slots);
            slots.append(&mut days.slots);
            slots.append(&mut tail.slots);
            rollup.summary.slots = slots;
        }
        let mut edges = lead;
        edges.absorb(tail);
        if from_days.sources {
            for (set, counts) in edges.sources {
                let entry = days.sources.entry(set).or_default();
                entry.listens += counts.listens;
                entry.plays += counts.plays;
            }
            rollup.summary.sources = days.sources;
        }
        if from_days.tracks {
            // The edges' tracks are not in a summary yet: the catalogue says what they are.
            let unknown: Vec<i64> = edges
                .tracks
                .keys()
                .filter(|id| !days.tracks.contains_key(*id))
                .copied()
                .collect();
            let infos = self.track_infos(&unknown).await?;
            for (id, plays) in edges.tracks {
                match days.tracks.get_mut(&id) {
                    Some((_, existing)) => existing.add(&plays),
                    None => {
                        if let Some(info) = infos.get(&id) {
                            days.tracks.insert(id, (*info, plays));
                        }
                    }
                }
            }
            let mut tracks: Vec<(i64, TrackInfo, TrackPlays)> = days
                .tracks
                .into_iter()
                .map(|(id, (info, plays))| (id, info, plays))
                .collect();
            tracks.sort_unstable_by_key(|(id, _, _)| *id);
            rollup.window_tracks = tracks;
        }
        Ok(Some(rollup))
    }

    /// Says that `what` cannot be read and has every summary of the user rebuilt; the
    /// question at hand is answered from the plays.
    async fn rebuild_unreadable(&self, user: UserId, what: &str) -> Result<()> {
        tracing::warn!(
            user = user.0,
            "{what} cannot be read; answering from the plays and rebuilding the summaries"
        );
        self.forget_rollups(user).await
    }

    /// Drops the user's totals and marks a day, so the next refresh summarises every day
    /// again (after a summary was found unreadable).
    async fn forget_rollups(&self, user: UserId) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM history_totals WHERE user_id = $1")
                .bind(user.0)
                .execute(pool)
                .await?;
            sqlx::query(
                "INSERT INTO history_stale_days (user_id, day, version)
                 SELECT user_id, MIN(ended_at) / 86400000, 1 FROM plays WHERE user_id = $1
                 GROUP BY user_id
                 ON CONFLICT (user_id, day) DO UPDATE SET version = history_stale_days.version + 1",
            )
            .bind(user.0)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The user's totals (the wanted parts), or `None` if they cannot be read.
    async fn read_totals(
        &self,
        user: UserId,
        sources: bool,
        tracks: bool,
    ) -> Result<Option<Totals>> {
        let columns = match (sources, tracks) {
            (true, true) => "sources, tracks",
            (true, false) => "sources",
            _ => "tracks",
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {columns} FROM history_totals WHERE user_id = $1"
        ));
        let stored = on_pool!(self, pool => {
            match sqlx::query(sql).bind(user.0).fetch_optional(pool).await? {
                None => None,
                Some(row) => Some((
                    sources.then(|| row.bytes("sources")).transpose()?,
                    tracks.then(|| row.bytes("tracks")).transpose()?,
                )),
            }
        });
        let mut totals = Totals {
            sources: HashMap::new(),
            tracks: Vec::new(),
        };
        // A user without plays has no totals row.
        let Some((sources, tracks)) = stored else {
            return Ok(Some(totals));
        };
        let sources_read =
            sources.is_none_or(|bytes| decode_sources(&bytes, &mut totals.sources).is_some());
        let tracks_read = match tracks {
            None => true,
            Some(bytes) => match decode_totals(&bytes) {
                Some(tracks) => {
                    totals.tracks = tracks;
                    true
                }
                None => false,
            },
        };
        if !(sources_read && tracks_read) {
            self.rebuild_unreadable(user, "the stored history totals")
                .await?;
            return Ok(None);
        }
        Ok(Some(totals))
    }

    /// Adds the stored summaries of days `first..end` to `days`; false if one cannot be read.
    async fn read_days(
        &self,
        user: UserId,
        first: i64,
        end: i64,
        parts: Parts,
        days: &mut Days,
    ) -> Result<bool> {
        let mut readable = true;
        if parts.slots || parts.sources {
            let columns = match (parts.sources, parts.slots) {
                (true, true) => "day, sources, slots",
                (true, false) => "day, sources",
                _ => "day, slots",
            };
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT {columns} FROM history_days
                 WHERE user_id = $1 AND day >= $2 AND day < $3 ORDER BY day"
            ));
            readable &= on_pool!(self, pool => {
                let rows = sqlx::query(sql).bind(user.0).bind(first).bind(end).fetch_all(pool).await?;
                let mut readable = true;
                for row in &rows {
                    let day = row.int("day")?;
                    if parts.slots {
                        readable &= decode_slots(day, row.blob("slots")?, &mut days.slots).is_some();
                    }
                    if parts.sources {
                        readable &= decode_sources(row.blob("sources")?, &mut days.sources).is_some();
                    }
                }
                readable
            });
        }
        if parts.tracks {
            match self.read_tracks(user, first, end).await? {
                Some(tracks) => days.tracks = tracks,
                None => readable = false,
            }
        }
        if !readable {
            self.rebuild_unreadable(user, "a stored day summary")
                .await?;
        }
        Ok(readable)
    }

    /// The subject's plays and time per UTC day of `first..end` from the day summaries, or
    /// `None` when the plays are the quicker read (a subject with few plays), when the
    /// summaries do not hold the filter's counting rule, or when one cannot be read.
    pub(crate) async fn subject_days(
        &self,
        filter: &PlayFilter,
        subject: Subject,
        first: i64,
        end: i64,
    ) -> Result<Option<Vec<(i64, i64, i64)>>> {
        if Counting::of(filter.rule) != Some(Counting::Plays) {
            return Ok(None);
        }
        // Reading a day's summary costs about as much as reading some tens of the subject's
        // plays: the summaries pay off for a favourite artist, not for most subjects.
        let whole_history = PlayFilter {
            from_ms: None,
            to_ms: i64::MAX,
            ..*filter
        };
        let Some(totals) = self.rollup(&whole_history, Parts::TRACKS).await? else {
            return Ok(None);
        };
        let plays: u64 = totals
            .tracks_of(Some(subject))
            .iter()
            .map(|(_, _, t)| t.plays)
            .sum();
        if plays < PLAYS_PER_SUMMARY_DAY * u64::try_from(end - first).unwrap_or(0) {
            return Ok(None);
        }
        let days = self
            .fold_stored(
                filter.user,
                Stored::Days,
                first,
                end,
                move |days: &mut Vec<_>, start_ms, bytes| {
                    let (mut plays, mut ms) = (0, 0);
                    let day = start_ms.div_euclid(DAY_MS);
                    for_each_track(start_ms, bytes, |id, info, t| {
                        if holds(subject, id, &info) {
                            plays += t.plays as i64;
                            ms += t.ms as i64;
                        }
                    })?;
                    if plays > 0 {
                        days.push((day, plays, ms));
                    }
                    Some(())
                },
            )
            .await?;
        let readable = days.is_some();
        if !readable {
            self.rebuild_unreadable(filter.user, "a stored day summary")
                .await?;
            return Ok(None);
        }
        Ok(days.map(|mut days| {
            days.sort_unstable_by_key(|(day, _, _)| *day);
            days
        }))
    }

    /// The tracks of days `first..end`: whole blocks from the block summaries, the days
    /// around them from the day summaries; `None` if one cannot be read.
    async fn read_tracks(
        &self,
        user: UserId,
        first: i64,
        end: i64,
    ) -> Result<Option<IdMap<(TrackInfo, TrackPlays)>>> {
        let add =
            |tracks: &mut IdMap<_>, start_ms, bytes: &[u8]| add_tracks(start_ms, bytes, tracks);
        let (first_block, end_block) = whole_units(first, end, BLOCK_DAYS);
        if first_block >= end_block {
            return self.fold_stored(user, Stored::Days, first, end, add).await;
        }
        let (blocks, lead, tail) = tokio::try_join!(
            self.fold_stored(user, Stored::Blocks, first_block, end_block, add),
            self.fold_stored(user, Stored::Days, first, first_block * BLOCK_DAYS, add),
            self.fold_stored(user, Stored::Days, end_block * BLOCK_DAYS, end, add),
        )?;
        Ok(blocks
            .zip(lead)
            .zip(tail)
            .map(|((blocks, lead), tail)| blocks.merge(lead).merge(tail)))
    }

    /// Folds the stored track summaries `first..end` (days or blocks) with `fold`, which is
    /// given each row's start time; `None` if one cannot be read. Decoding is most of the
    /// cost of a long stretch, so one of years is read in two halves at once, the second on
    /// another worker thread.
    async fn fold_stored<T, F>(
        &self,
        user: UserId,
        stored: Stored,
        first: i64,
        end: i64,
        fold: F,
    ) -> Result<Option<T>>
    where
        T: Default + Merge + Send + 'static,
        F: Fn(&mut T, i64, &[u8]) -> Option<()> + Clone + Send + Sync + 'static,
    {
        if first >= end {
            return Ok(Some(T::default()));
        }
        if (end - first) * stored.days() < PARALLEL_MIN_DAYS {
            return self.fold_stored_here(user, stored, first, end, &fold).await;
        }
        let middle = first + (end - first) / 2;
        let later = {
            let (store, fold) = (self.clone(), fold.clone());
            tokio::spawn(async move {
                store
                    .fold_stored_here(user, stored, middle, end, &fold)
                    .await
            })
        };
        let earlier = self
            .fold_stored_here(user, stored, first, middle, &fold)
            .await?;
        let later = later.await.map_err(|e| {
            StoreError::Conflict(format!("reading history summaries failed: {e}"))
        })??;
        Ok(earlier
            .zip(later)
            .map(|(earlier, later)| earlier.merge(later)))
    }

    async fn fold_stored_here<T: Default, F: Fn(&mut T, i64, &[u8]) -> Option<()>>(
        &self,
        user: UserId,
        stored: Stored,
        first: i64,
        end: i64,
        fold: &F,
    ) -> Result<Option<T>> {
        let unit_ms = stored.days() * DAY_MS;
        let folded = on_pool!(self, pool => {
            let rows = sqlx::query(stored.sql())
                .bind(user.0)
                .bind(first)
                .bind(end)
                .fetch_all(pool)
                .await?;
            let mut folded = T::default();
            let mut readable = true;
            for row in &rows {
                readable &= fold(&mut folded, row.int("n")? * unit_ms, row.blob("tracks")?).is_some();
            }
            readable.then_some(folded)
        });
        Ok(folded)
    }

    /// The plays of `[from, to)` summarised directly (the parts of days at a window's edges).
    async fn summarise_plays(&self, user: UserId, from: i64, to: i64) -> Result<Summary> {
        let rows = on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT ended_at, track_id, ms_played, sources FROM plays
                 WHERE user_id = $1 AND ended_at >= $2 AND ended_at < $3 ORDER BY ended_at",
            )
            .bind(user.0)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
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
        let mut summary = Summary::default();
        for (ended_at, track, ms, sources) in rows {
            summary.add_listen(ended_at, track, ms, sources);
        }
        Ok(summary)
    }
}
