//! Writing listens: catalogue rows, new plays, duplicates and cross-source merges, in a
//! transaction that also holds the import checkpoints of the files they came from, so an
//! interrupted import resumes exactly where its last commit ended.
//!
//! Listen identity (DESIGN.md "Listen identity and merging"):
//! 1. Within a source, `(user, ended_at, track)` is the identity: seen again → duplicate.
//! 2. Across sources, the same track ending within [`SAME_TRACK_TOLERANCE_MS`] is the same
//!    listen; a name-only row (account data, minute precision) matches a listen with the same
//!    name match key ending within its minute (± [`MINUTE_SLACK_MS`]).
//! 3. The richer source's fields win; every confirming source is kept in `plays.sources`.
//! 4. Anything else is a new listen.

use crate::bulk;
use crate::catalog::{CatalogCache, resolve_catalog};
use crate::transaction::{Tx, WriterConnection, on_tx};
use crate::{Result, Store, now_ms};
use rustc_hash::FxHashSet;
use spotify_history_core::{ImportJobId, ListenKeys, NewListen, Source, SourceSet, UserId};
use std::collections::HashMap;
use std::sync::Arc;

/// API plays and export rows of one listen end within a few seconds of each other.
pub const SAME_TRACK_TOLERANCE_MS: i64 = 20_000;
/// Slack around an account-data minute, for clocks and rounding at minute boundaries.
pub const MINUTE_SLACK_MS: i64 = 60_000;
/// Existing plays are loaded per cluster of listens no more than this far apart, so an
/// unsorted file never loads a whole history at once.
const CLUSTER_GAP_MS: i64 = 6 * 3_600_000;

/// A listen with its catalogue keys, ready to store. The keys are shared: an import keys
/// each item once and gives every listen of it the same keys.
#[derive(Debug, Clone)]
pub struct KeyedListen {
    pub listen: NewListen,
    pub keys: Arc<ListenKeys>,
}

/// Where an import stands in one export file; saved in the same transaction as the batch.
#[derive(Debug, Clone, Copy)]
pub struct FileCheckpoint<'a> {
    pub fingerprint: &'a str,
    pub file_name: &'a str,
    /// Records of the file (kept or skipped) committed so far.
    pub records_done: u64,
    /// True once the whole file has been read.
    pub completed: bool,
}

/// One batch of listens from one source for one user.
#[derive(Debug, Clone, Copy)]
pub struct ListenBatch<'a> {
    pub user: UserId,
    pub import_job: Option<ImportJobId>,
    pub listens: &'a [KeyedListen],
    pub checkpoint: Option<FileCheckpoint<'a>>,
}

/// What happened to a batch's listens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WriteOutcome {
    /// New listens stored.
    pub inserted: u64,
    /// Listens already stored from the same source.
    pub duplicates: u64,
    /// Listens already stored from another source: merged into that row, not double counted.
    pub merged: u64,
}

impl std::ops::AddAssign for WriteOutcome {
    fn add_assign(&mut self, other: Self) {
        self.inserted += other.inserted;
        self.duplicates += other.duplicates;
        self.merged += other.merged;
    }
}

/// The resume point of one export file for one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileProgress {
    pub records_done: u64,
    pub completed: bool,
}

/// A stored play near the batch, as far as matching needs it.
#[derive(Debug, Clone)]
struct Nearby {
    id: i64,
    ended_at: i64,
    track_id: i64,
    match_key: i64,
    source: Source,
    sources: SourceSet,
}

/// How one listen of the batch will be stored.
enum Decision {
    Insert,
    Duplicate,
    Merge(Merge),
}

/// A listen confirming a stored play, and what it changes there.
struct Merge {
    play: usize,
    /// The listen's source is richer: its fields replace the play's.
    take_fields: bool,
    /// The play's time and track come from a name-only source: take the listen's precise ones.
    take_identity: bool,
    /// The play's source, time and track before the merge.
    before: (Source, i64, i64),
}

/// PostgreSQL advisory-lock namespace of listen writers (see `Store::begin_for_user`).
pub(crate) const LISTENS_LOCK: i32 = 0x4C53;
/// The advisory-lock key listen writers share (see [`Store::listen_writer`]).
pub(crate) const ALL_USERS: UserId = UserId(0);

/// Writes listens of one user inside one transaction. Dropped without [`ListenWriter::commit`],
/// nothing it wrote is kept — not even catalogue ids in the cache.
pub struct ListenWriter<'c> {
    tx: Tx<'c>,
    user: UserId,
    import_job: Option<ImportJobId>,
    cache: &'c mut CatalogCache,
}

impl<'c> ListenWriter<'c> {
    /// Listen writers take turns, all users together (`tx` was opened so): two writers of one
    /// user (an import job and a poll) must not both decide "new" for the same listen, and
    /// two writers of different users create the same shared catalogue rows, in orders that
    /// deadlock on PostgreSQL (seen with two collectors syncing two listeners). SQLite
    /// serialises writers anyway.
    async fn start(
        mut tx: Tx<'c>,
        user: UserId,
        import_job: Option<ImportJobId>,
        cache: &'c mut CatalogCache,
    ) -> Result<ListenWriter<'c>> {
        // Ids learnt in a transaction that never committed point at rows that do not exist.
        cache.forget_pending();
        match &mut tx {
            // The catalogue's foreign keys are checked at commit, not per statement. A
            // multi-row insert into tracks or credits still copies each page it changes into
            // a statement journal first (~4% of SQLite's thread in a first import): SQLite
            // does so for any foreign key not declared DEFERRABLE, whatever this pragma says
            // (`fkLookupParent` in sqlite3.c), and declaring them so means rebuilding both
            // tables.
            Tx::Sqlite(conn) => {
                sqlx::raw_sql("PRAGMA defer_foreign_keys = ON")
                    .execute(&mut **conn)
                    .await?;
            }
            // The writer's statements take whole batches as arrays, and the same plan suits
            // every batch: planning each anew (the connections' default, for questions) cost
            // a few percent of an import.
            Tx::Postgres(pg) => {
                sqlx::raw_sql("SET LOCAL plan_cache_mode = auto")
                    .execute(&mut **pg)
                    .await?;
            }
        }
        Ok(ListenWriter {
            tx,
            user,
            import_job,
            cache,
        })
    }

    /// Stores listens of one source: new ones inserted, repeats counted as duplicates,
    /// listens already known from another source merged.
    pub async fn write(&mut self, listens: &[KeyedListen]) -> Result<WriteOutcome> {
        let tx = &mut self.tx;
        let track_ids = resolve_catalog(tx, listens, self.cache).await?;
        let mut nearby = load_nearby(tx, self.user, listens).await?;
        let reports = reports_by_time(tx, &nearby).await?;
        let decisions = decide(listens, &track_ids, &mut nearby, &reports);

        let mut outcome = WriteOutcome::default();
        let mut inserts = Vec::new();
        for (index, decision) in decisions.into_iter().enumerate() {
            match decision {
                Decision::Insert => inserts.push(index),
                Decision::Duplicate => outcome.duplicates += 1,
                Decision::Merge(merge) => {
                    let listen = &listens[index].listen;
                    merge_into(tx, &nearby[merge.play], &merge, listen, track_ids[index]).await?;
                    outcome.merged += 1;
                }
            }
        }
        let plays: Vec<_> = inserts
            .iter()
            .map(|&i| (&listens[i].listen, track_ids[i]))
            .collect();
        let (user, import_job) = (self.user.0, self.import_job.map(|j| j.0));
        let inserted = bulk::insert_plays(tx, user, import_job, &plays).await?;
        outcome.inserted += inserted;
        // Only SQLite can report fewer (see `bulk::insert_plays`): a repeat `decide` did not
        // foresee is kept once and counted as a duplicate.
        outcome.duplicates += inserts.len() as u64 - inserted;
        Ok(outcome)
    }

    /// Records how far an import has come in one export file; it becomes durable with the
    /// transaction's [`ListenWriter::commit`].
    pub async fn save_checkpoint(&mut self, checkpoint: FileCheckpoint<'_>) -> Result<()> {
        on_tx!(&mut self.tx, conn => sqlx::query(
            "INSERT INTO import_files (user_id, fingerprint, file_name, records_done, completed, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (user_id, fingerprint) DO UPDATE SET
                records_done = excluded.records_done, completed = excluded.completed,
                updated_at = excluded.updated_at",
        )
        .bind(self.user.0)
        .bind(checkpoint.fingerprint.to_string())
        .bind(checkpoint.file_name.to_string())
        .bind(checkpoint.records_done as i64)
        .bind(checkpoint.completed)
        .bind(now_ms())
        .execute(&mut **conn)
        .await
        .map(drop))?;
        Ok(())
    }

    /// Where a previous import of this file by this user stopped, as this transaction sees it
    /// (a file finished earlier in the same, not yet committed, transaction included).
    pub async fn file_progress(&mut self, fingerprint: &str) -> Result<Option<FileProgress>> {
        let progress = on_tx!(&mut self.tx, conn => sqlx::query(FILE_PROGRESS)
            .bind(self.user.0)
            .bind(fingerprint)
            .fetch_optional(&mut **conn)
            .await?
            .map(|row| file_progress_of(&row))
            .transpose()?);
        Ok(progress)
    }

    /// Discards everything written (and the catalogue ids learnt) at once.
    pub async fn rollback(self) -> Result<()> {
        self.cache.forget_pending();
        self.tx.rollback().await
    }

    /// Makes everything written durable, the checkpoints saved included.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        self.cache.keep_pending();
        Ok(())
    }
}

impl Store {
    /// Starts writing listens for `user` in one transaction.
    pub async fn listen_writer<'c>(
        &self,
        user: UserId,
        import_job: Option<ImportJobId>,
        cache: &'c mut CatalogCache,
    ) -> Result<ListenWriter<'c>> {
        let tx = self.begin_for_user(LISTENS_LOCK, ALL_USERS).await?;
        ListenWriter::start(tx, user, import_job, cache).await
    }

    /// Stores one batch in its own transaction (see [`ListenWriter::write`]); the file
    /// checkpoint, if any, commits with it.
    pub async fn write_listens(
        &self,
        batch: ListenBatch<'_>,
        cache: &mut CatalogCache,
    ) -> Result<WriteOutcome> {
        let mut writer = self
            .listen_writer(batch.user, batch.import_job, cache)
            .await?;
        let outcome = writer.write(batch.listens).await?;
        if let Some(checkpoint) = batch.checkpoint {
            writer.save_checkpoint(checkpoint).await?;
        }
        writer.commit().await?;
        Ok(outcome)
    }

    /// How many export files have been imported completely, over all users.
    pub async fn count_completed_import_files(&self) -> Result<i64> {
        use crate::row::RowExt;
        let count = crate::on_pool!(self, pool => {
            sqlx::query("SELECT COUNT(*) AS n FROM import_files WHERE completed")
                .fetch_one(pool)
                .await?
                .int("n")?
        });
        Ok(count)
    }

    /// Where a previous import of this file by this user stopped, if it started.
    pub async fn import_progress(
        &self,
        user: UserId,
        fingerprint: &str,
    ) -> Result<Option<FileProgress>> {
        let progress = crate::on_pool!(self, pool => sqlx::query(FILE_PROGRESS)
            .bind(user.0)
            .bind(fingerprint)
            .fetch_optional(pool)
            .await?
            .map(|row| file_progress_of(&row))
            .transpose()?);
        Ok(progress)
    }
}

impl WriterConnection {
    /// Starts writing listens for `user` in one transaction on this connection (see
    /// [`Store::listen_writer`]).
    pub async fn listen_writer<'c>(
        &'c mut self,
        user: UserId,
        import_job: Option<ImportJobId>,
        cache: &'c mut CatalogCache,
    ) -> Result<ListenWriter<'c>> {
        let defers_indexes = self.defers_indexes;
        let mut tx = self.begin_for_user(LISTENS_LOCK, ALL_USERS).await?;
        if defers_indexes {
            crate::deferred_indexes::renew_lease(&mut tx).await?;
        }
        ListenWriter::start(tx, user, import_job, cache).await
    }
}

const FILE_PROGRESS: &str =
    "SELECT records_done, completed FROM import_files WHERE user_id = $1 AND fingerprint = $2";

fn file_progress_of(row: &impl crate::row::RowExt) -> Result<FileProgress, sqlx::Error> {
    Ok(FileProgress {
        records_done: row.int("records_done")? as u64,
        completed: row.flag("completed")?,
    })
}

/// Loads the stored plays of `user` that could match any listen of the batch: those ending
/// near a cluster of the batch's listens.
async fn load_nearby(
    tx: &mut Tx<'_>,
    user: UserId,
    listens: &[KeyedListen],
) -> Result<Vec<Nearby>> {
    let mut times: Vec<i64> = listens.iter().map(|l| l.listen.ended_at.0).collect();
    times.sort_unstable();
    let reach = MINUTE_SLACK_MS * 2;
    let mut ranges: Vec<(i64, i64)> = Vec::new();
    for t in times {
        match ranges.last_mut() {
            Some((_, end)) if t - *end <= CLUSTER_GAP_MS => *end = t,
            _ => ranges.push((t, t)),
        }
    }
    let mut nearby = Vec::new();
    for (from, to) in ranges {
        let (from, to) = (from - reach, to + reach);
        // (id, ended_at, track_id, source, sources, match_key)
        let plays: Vec<(i64, i64, i64, i16, i16, i64)> = match tx {
            // One row of JSON (see `bulk::rows_from_json`): row by row, reading stored plays
            // was most of a re-import's time.
            Tx::Sqlite(conn) => {
                let json: String = sqlx::query_scalar(
                    "SELECT json_group_array(json_array(
                                p.id, p.ended_at, p.track_id, p.source, p.sources, t.match_key))
                     FROM plays p JOIN tracks t ON t.id = p.track_id
                     WHERE p.user_id = $1 AND p.ended_at BETWEEN $2 AND $3",
                )
                .bind(user.0)
                .bind(from)
                .bind(to)
                .fetch_one(&mut **conn)
                .await?;
                bulk::rows_from_json(&json)?
            }
            Tx::Postgres(conn) => {
                sqlx::query_as(
                    "SELECT p.id, p.ended_at, p.track_id, p.source, p.sources, t.match_key
                     FROM plays p JOIN tracks t ON t.id = p.track_id
                     WHERE p.user_id = $1 AND p.ended_at BETWEEN $2 AND $3",
                )
                .bind(user.0)
                .bind(from)
                .bind(to)
                .fetch_all(&mut **conn)
                .await?
            }
        };
        nearby.extend(plays.into_iter().map(
            |(id, ended_at, track_id, source, sources, match_key)| Nearby {
                id,
                ended_at,
                track_id,
                match_key,
                source: Source::from_bit(source).unwrap_or(Source::RecentlyPlayed),
                sources: SourceSet(sources),
            },
        ));
    }
    nearby.sort_by_key(|p| p.ended_at);
    Ok(nearby)
}

/// What other sources reported for the nearby plays: `(ended_at, track_id)` → index into
/// `nearby`, together with the plays' own reports.
async fn reports_by_time(tx: &mut Tx<'_>, nearby: &[Nearby]) -> Result<HashMap<(i64, i64), usize>> {
    let mut reports: HashMap<(i64, i64), usize> = nearby
        .iter()
        .enumerate()
        .map(|(i, p)| ((p.ended_at, p.track_id), i))
        .collect();
    let merged: Vec<usize> = (0..nearby.len())
        .filter(|&i| nearby[i].sources != SourceSet::from(nearby[i].source))
        .collect();
    if merged.is_empty() {
        return Ok(reports);
    }
    let index_by_id: HashMap<i64, usize> = merged.iter().map(|&i| (nearby[i].id, i)).collect();
    let ids: Vec<i64> = merged.iter().map(|&i| nearby[i].id).collect();
    for (play_id, ended_at, track_id) in bulk::play_source_reports(tx, &ids).await? {
        if let Some(&index) = index_by_id.get(&play_id) {
            reports.insert((ended_at, track_id), index);
        }
    }
    Ok(reports)
}

/// Decides, in memory, what happens to each listen of the batch. Merging is one-to-one: once a
/// stored play has absorbed a listen of a source, it cannot absorb another of that source.
///
/// No two plays ever hold one identity `(ended_at, track)`: the identities the user's plays
/// will hold once the batch is stored are tracked, and a listen that would be inserted with
/// one, or would move a stored play onto one, is a repeat of the listen that holds it (a
/// source reporting a listen twice). PostgreSQL's insert relies on it (see
/// `bulk::insert_plays`).
fn decide(
    listens: &[KeyedListen],
    track_ids: &[i64],
    nearby: &mut [Nearby],
    exact: &HashMap<(i64, i64), usize>,
) -> Vec<Decision> {
    let mut taken: FxHashSet<(i64, i64)> =
        nearby.iter().map(|p| (p.ended_at, p.track_id)).collect();
    listens
        .iter()
        .zip(track_ids)
        .map(|(keyed, &track_id)| {
            let listen = &keyed.listen;
            let identity = (listen.ended_at.0, track_id);
            let play = exact
                .get(&identity)
                .copied()
                .or_else(|| best_match(nearby, keyed, track_id));
            match play {
                Some(play) => merge_or_duplicate(nearby, play, listen.source, identity, &mut taken),
                None if taken.insert(identity) => Decision::Insert,
                None => Decision::Duplicate,
            }
        })
        .collect()
}

fn merge_or_duplicate(
    nearby: &mut [Nearby],
    play: usize,
    source: Source,
    identity: (i64, i64),
    taken: &mut FxHashSet<(i64, i64)>,
) -> Decision {
    let stored = &mut nearby[play];
    if stored.sources.contains(source) {
        return Decision::Duplicate;
    }
    let before = (stored.source, stored.ended_at, stored.track_id);
    let take_fields = source.rank() < stored.source.rank();
    let take_identity =
        take_fields || (stored.source == Source::AccountData && source != Source::AccountData);
    if take_identity && identity != (before.1, before.2) && !taken.insert(identity) {
        return Decision::Duplicate;
    }
    stored.sources = stored.sources.with(source);
    if take_fields {
        stored.source = source;
    }
    Decision::Merge(Merge {
        play,
        take_fields,
        take_identity,
        before,
    })
}

/// The stored play closest in time that is the same listen as `keyed` by rule 2, if any.
/// Plays that already hold a listen of this source are only candidates for name-only sources,
/// whose repeats cannot be recognised by exact time.
fn best_match(nearby: &[Nearby], keyed: &KeyedListen, track_id: i64) -> Option<usize> {
    let listen = &keyed.listen;
    let t = listen.ended_at.0;
    let listen_by_name = listen.source == Source::AccountData;
    let start = nearby.partition_point(|p| p.ended_at < t - MINUTE_SLACK_MS * 2);
    nearby[start..]
        .iter()
        .enumerate()
        .take_while(|(_, p)| p.ended_at <= t + MINUTE_SLACK_MS * 2)
        .filter(|(_, p)| {
            let stored_by_name = p.source == Source::AccountData;
            if p.sources.contains(listen.source) && !listen_by_name {
                return false;
            }
            if listen_by_name || stored_by_name {
                // The name-only side's time is the start of its minute.
                let minute = if listen_by_name { t } else { p.ended_at };
                let other = if listen_by_name { p.ended_at } else { t };
                p.match_key == keyed.keys.match_key
                    && other >= minute - MINUTE_SLACK_MS
                    && other < minute + 60_000 + MINUTE_SLACK_MS
            } else {
                p.track_id == track_id && (p.ended_at - t).abs() <= SAME_TRACK_TOLERANCE_MS
            }
        })
        .min_by_key(|(_, p)| (p.ended_at - t).abs())
        .map(|(i, _)| start + i)
}

/// Records that `listen` confirmed the stored play, keeping the report that does not stay on
/// the play row in `play_sources`; a richer listen also replaces the play's fields.
async fn merge_into(
    tx: &mut Tx<'_>,
    stored: &Nearby,
    merge: &Merge,
    listen: &NewListen,
    track_id: i64,
) -> Result<()> {
    let (kept_source, kept_ended_at, kept_track) = if merge.take_identity {
        merge.before
    } else {
        (listen.source, listen.ended_at.0, track_id)
    };
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO play_sources (play_id, source, ended_at, track_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (play_id, source) DO NOTHING",
    )
    .bind(stored.id)
    .bind(kept_source.bit())
    .bind(kept_ended_at)
    .bind(kept_track)
    .execute(&mut **conn)
    .await
    .map(drop))?;

    if !merge.take_identity {
        on_tx!(tx, conn => sqlx::query("UPDATE plays SET sources = $2 WHERE id = $1")
            .bind(stored.id)
            .bind(stored.sources.0)
            .execute(&mut **conn)
            .await
            .map(drop))?;
        return Ok(());
    }
    if !merge.take_fields {
        on_tx!(tx, conn => sqlx::query(
            "UPDATE plays SET sources = $2, ended_at = $3, track_id = $4 WHERE id = $1",
        )
        .bind(stored.id)
        .bind(stored.sources.0)
        .bind(listen.ended_at.0)
        .bind(track_id)
        .execute(&mut **conn)
        .await
        .map(drop))?;
        return Ok(());
    }
    let d = &listen.details;
    on_tx!(tx, conn => sqlx::query(
        "UPDATE plays SET ended_at = $2, track_id = $3, ms_played = $4, ms_played_estimated = $5,
                source = $6, sources = $7, platform = COALESCE($8, platform),
                conn_country = COALESCE($9, conn_country), reason_start = COALESCE($10, reason_start),
                reason_end = COALESCE($11, reason_end), shuffle = COALESCE($12, shuffle),
                skipped = COALESCE($13, skipped), offline = COALESCE($14, offline),
                incognito = COALESCE($15, incognito)
         WHERE id = $1",
    )
    .bind(stored.id)
    .bind(listen.ended_at.0)
    .bind(track_id)
    .bind(listen.ms_played.map(clamp_ms))
    .bind(listen.ms_played_estimated)
    .bind(stored.source.bit())
    .bind(stored.sources.0)
    .bind(d.platform.clone())
    .bind(d.conn_country.clone())
    .bind(d.reason_start.clone())
    .bind(d.reason_end.clone())
    .bind(d.shuffle)
    .bind(d.skipped)
    .bind(d.offline)
    .bind(d.incognito)
    .execute(&mut **conn)
    .await
    .map(drop))?;
    Ok(())
}

/// `plays.ms_played` is a 32-bit column; parsers already refuse absurd durations.
pub(crate) fn clamp_ms(ms: i64) -> i32 {
    ms.clamp(0, i64::from(i32::MAX)) as i32
}
