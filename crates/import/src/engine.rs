//! The import engine: reads an [`ImportSource`] file by file and stores its listens.
//!
//! Each export file is stored together with its checkpoint, several files to a transaction,
//! so a file is either wholly imported or not at all: a broken file (truncated, not JSON)
//! leaves nothing behind, and an import killed midway resumes at the first file whose
//! transaction had not committed, ending with the same database an uninterrupted import would
//! have made. Parsing runs on a blocking thread while the database writes, so both cores work.

use crate::identity;
use crate::input::ReadMark;
use crate::shared_texts::SharedTexts;
use crate::{
    ExportFileInfo, FileSummary, ImportError, ImportSource, Record, RefusedFile, SkipCounts,
};
use serde::Serialize;
use spotify_history_core::{ImportJobId, UserId};
use spotify_history_store::{
    CatalogCache, FileCheckpoint, KeyedListen, ListenWriter, Store, StoreError, WriteOutcome,
    WriterConnection,
};
use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Listens handed from the parser to the database at a time.
const BATCH_LISTENS: usize = 4_096;
/// Batches parsed ahead of the database: bounds memory whatever the export size.
const BATCHES_IN_FLIGHT: usize = 2;

/// Whose listens these are and how to treat files seen before.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// The listener the history belongs to.
    pub user: UserId,
    /// The import job this run belongs to, recorded on every inserted listen.
    pub import_job: Option<ImportJobId>,
    /// Read files again even when an earlier import finished them (every listen then counts
    /// as a duplicate or merge; useful to verify, and what the re-import benchmark measures).
    pub recheck: bool,
    /// Records stored in one transaction before it commits, at the end of a file
    /// (`IMPORT_RECORDS_PER_COMMIT`). Each commit writes every index page the transaction
    /// touched, and listens land all over the by-track index, so committing every file
    /// rewrote most of that index per file; larger transactions hold the write lock longer
    /// and a killed import redoes more.
    pub records_per_commit: u64,
}

impl ImportOptions {
    /// Records per transaction unless configured (see [`ImportOptions::records_per_commit`]).
    pub const DEFAULT_RECORDS_PER_COMMIT: u64 = 200_000;

    /// New files of `user`'s export, outside any import job, with the default transactions.
    pub fn new(user: UserId) -> Self {
        ImportOptions {
            user,
            import_job: None,
            recheck: false,
            records_per_commit: Self::DEFAULT_RECORDS_PER_COMMIT,
        }
    }
}

/// How far an import has come, for progress bars and job status.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportProgress {
    /// Uncompressed bytes of the export done so far: every finished file whole (imported,
    /// failed or imported before) and what has been read of the current one, so it ends at
    /// `total_bytes`. It never goes back, not even while an undone transaction's files are
    /// read again.
    pub bytes_read: u64,
    /// Uncompressed bytes of all files to read.
    pub total_bytes: u64,
    /// Array elements read so far (listens and skipped rows).
    pub records_read: u64,
    /// Files finished (imported, failed or already imported).
    pub files_done: usize,
    /// Files in the import.
    pub files_total: usize,
    /// The file being read.
    pub current_file: String,
    /// New listens stored so far.
    pub inserted: u64,
    /// Listens found already stored from the same source.
    pub duplicates: u64,
    /// Listens merged into one stored from another source.
    pub merged: u64,
    /// Rows skipped so far (see the report for reasons).
    pub skipped: u64,
}

impl ImportProgress {
    /// `bytes` of the export are done, unless more were already.
    fn reached(&mut self, bytes: u64) {
        self.bytes_read = self.bytes_read.max(bytes);
    }
}

/// Uncompressed bytes of these files.
fn size_of(files: &[ExportFileInfo]) -> u64 {
    files.iter().map(|file| file.size).sum()
}

/// What happened to one export file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Read and stored in full.
    Imported,
    /// An earlier import finished this file; it was not read again.
    AlreadyImported,
    /// Nothing of the file was stored; the error says why.
    Failed {
        /// What was wrong with the file.
        error: String,
    },
}

/// The report of one export file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// Path inside the ZIP or folder.
    pub name: String,
    /// What the file holds (`extended_audio`, `account_music`, ...).
    pub kind: &'static str,
    /// Imported, already imported, or failed with the reason.
    pub status: FileStatus,
    /// Array elements read.
    pub records: u64,
    /// New listens stored.
    pub inserted: u64,
    /// Listens already stored from the same source.
    pub duplicates: u64,
    /// Listens merged into one stored from another source.
    pub merged: u64,
    /// Skipped rows per reason.
    pub skipped: BTreeMap<&'static str, u64>,
}

/// The report of a whole import: every record is accounted for.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// One entry per export file, in reading order.
    pub files: Vec<FileReport>,
    /// Files in the input that are not listening history (playlists, user data, ...).
    pub unknown_files: Vec<String>,
    /// Files that hold history but were refused (unsafe name, encrypted, too large).
    pub refused_files: Vec<RefusedFile>,
    /// Array elements read over all files.
    pub records_read: u64,
    /// New listens stored.
    pub inserted: u64,
    /// Listens already stored from the same source (re-imports).
    pub duplicates: u64,
    /// Listens already stored from another source, merged, not double counted.
    pub merged: u64,
    /// Rows that carry no listen, all reasons together.
    pub skipped: u64,
    /// Skipped records per reason.
    pub skipped_by_reason: BTreeMap<&'static str, u64>,
    /// Wall-clock time of the import.
    pub elapsed_ms: u64,
    /// Records read per second of wall-clock time.
    pub records_per_second: u64,
}

impl ImportReport {
    /// Files that failed, to decide the exit status.
    pub fn failed_files(&self) -> impl Iterator<Item = &FileReport> {
        self.files
            .iter()
            .filter(|f| matches!(f.status, FileStatus::Failed { .. }))
    }

    fn add(&mut self, file: FileReport) {
        if file.status != FileStatus::AlreadyImported {
            self.records_read += file.records;
        }
        self.inserted += file.inserted;
        self.duplicates += file.duplicates;
        self.merged += file.merged;
        for (reason, count) in &file.skipped {
            self.skipped += count;
            *self.skipped_by_reason.entry(reason).or_default() += count;
        }
        self.files.push(file);
    }
}

/// A batch of parsed records on its way to the database.
struct Parsed {
    listens: Vec<KeyedListen>,
    skipped: SkipCounts,
    records: u64,
    /// Bytes of its file read when the batch was cut.
    file_bytes: u64,
}

/// Imports every file of `source` for `options.user`, reporting progress as it goes.
/// Errors are only what stops the whole import (the database, limits); a bad file is
/// reported in its [`FileReport`] and the other files are still imported.
pub async fn import(
    store: &Store,
    source: ImportSource,
    options: ImportOptions,
    mut on_progress: impl FnMut(&ImportProgress) + Send,
) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let source = Arc::new(source);
    let mut report = ImportReport {
        unknown_files: source.unknown_files().to_vec(),
        refused_files: source.refused_files().to_vec(),
        ..ImportReport::default()
    };
    // Every transaction on one connection, whose page cache stays warm (see WriterConnection).
    let mut connection = store.import_connection().await?;
    let expected_plays = source.total_bytes() / EXPORT_BYTES_PER_RECORD;
    let deferred = connection.defer_indexes(expected_plays).await?;
    let imported = import_files(
        &source,
        options,
        &mut connection,
        &mut report,
        &mut on_progress,
    )
    .await;
    // Every listen committed stays committed whatever happens here: an index that cannot be
    // built now is built by the next import or process (see the store's `deferred_indexes`),
    // and only a question's speed waits for it.
    if deferred && let Err(err) = connection.build_deferred_indexes().await {
        tracing::warn!(%err, "the indexes deferred to the end of the import could not be built");
    }
    let released = connection.release_memory().await;
    imported?;
    released?;
    let elapsed = started.elapsed();
    report.elapsed_ms = elapsed.as_millis() as u64;
    report.records_per_second = per_second(report.records_read, elapsed);
    Ok(report)
}

/// Bytes of export JSON per record, rounded up: extended-history records take 500–900 bytes,
/// account-data ones ~150, so the plays an export brings are estimated low.
const EXPORT_BYTES_PER_RECORD: u64 = 1_000;

/// The files of `source`, group after group (see [`Group`]), their reports added to `report`.
async fn import_files(
    source: &Arc<ImportSource>,
    options: ImportOptions,
    connection: &mut WriterConnection,
    report: &mut ImportReport,
    on_progress: &mut (impl FnMut(&ImportProgress) + Send),
) -> Result<(), ImportError> {
    let mut progress = ImportProgress {
        total_bytes: source.total_bytes(),
        files_total: source.files().len(),
        ..ImportProgress::default()
    };
    let mut cache = CatalogCache::default();
    let mut failures = BTreeMap::new();
    let mut reading = Reading::new(source);
    let mut next = 0;
    while next < source.files().len() {
        let first = next;
        let progress_before = progress.clone();
        let mut group = Group {
            source,
            options,
            next: &mut next,
            failures: &mut failures,
            progress: &mut progress,
            reading: &mut reading,
        };
        let end = group.import(connection, &mut cache, on_progress).await;
        match end {
            Ok(GroupEnd::Committed(files)) => files.into_iter().for_each(|file| report.add(file)),
            Ok(GroupEnd::Stopped(files, err)) => {
                files.into_iter().for_each(|file| report.add(file));
                // The error that stopped the import is the one to report.
                let _ = reading.stop().await;
                return Err(err);
            }
            Ok(GroupEnd::Undone { index, failure }) => {
                // Read the transaction's files again, without the one that failed.
                failures.insert(index, failure);
                next = first;
                progress = ImportProgress {
                    bytes_read: progress.bytes_read,
                    ..progress_before
                };
            }
            Err(err) => {
                // Its own failure, if any, is the one the group reported.
                let _ = reading.stop().await;
                return Err(err);
            }
        }
    }
    reading.stop().await
}

fn per_second(count: u64, elapsed: Duration) -> u64 {
    (count as f64 / elapsed.as_secs_f64().max(1e-9)) as u64
}

/// Files imported in one transaction, several at a time: committing once per file made the
/// database rewrite its indexes' pages for every file. A file that turns out broken (truncated,
/// not JSON) undoes the whole transaction, which is then done again without that file, so no
/// file is ever half imported; an import killed midway redoes the files of the transaction it
/// was in.
struct Group<'a> {
    source: &'a Arc<ImportSource>,
    options: ImportOptions,
    /// The next file to import.
    next: &'a mut usize,
    /// Files that undid an earlier attempt of their transaction.
    failures: &'a mut BTreeMap<usize, Failure>,
    progress: &'a mut ImportProgress,
    reading: &'a mut Reading,
}

/// How a [`Group`] ended.
enum GroupEnd {
    /// Committed: the reports of its files.
    Committed(Vec<FileReport>),
    /// The import cannot go on: the files before `Failure::Fatal`'s were committed.
    Stopped(Vec<FileReport>, ImportError),
    /// File `index` failed: the transaction was rolled back and must be done again.
    Undone { index: usize, failure: Failure },
}

/// A file that undid its transaction, and what to do when it is reached again.
enum Failure {
    /// Broken input: reported as failed, not read again.
    Broken(FileReport),
    /// The import stops here, keeping the files before.
    Fatal(ImportError),
}

/// What a group does with each file it comes to. Decided before its files are stored, so that
/// the parser goes on to the next file without waiting for the database: starting a parser
/// per file left the database idle at every file's start (0.7 s of a 64-file import).
enum Plan {
    /// Read and store it.
    Read,
    /// Reported without reading: it failed in an earlier attempt, or was imported before.
    Report(FileReport),
    /// The same file (by fingerprint) as file `.0`, read earlier in this transaction: reported
    /// as imported before, with that file's records.
    SameAs(usize),
    /// The import stops before it (the failure that stopped an earlier attempt).
    Stop,
}

/// What the parser does with a planned file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Read,
    Pass,
    Stop,
}

impl Plan {
    fn step(&self) -> Step {
        match self {
            Plan::Read => Step::Read,
            Plan::Report(_) | Plan::SameAs(_) => Step::Pass,
            Plan::Stop => Step::Stop,
        }
    }
}

/// How the files of a group ended, before the transaction is committed or rolled back.
enum FilesEnd {
    /// The group is full, or no file is left.
    Done(Vec<FileReport>),
    /// The import stops at file `index`; the files before it are kept.
    Stop(Vec<FileReport>, usize),
}

impl Group<'_> {
    async fn import(
        &mut self,
        connection: &mut WriterConnection,
        cache: &mut CatalogCache,
        on_progress: &mut (impl FnMut(&ImportProgress) + Send),
    ) -> Result<GroupEnd, ImportError> {
        let options = self.options;
        let mut writer = connection
            .listen_writer(options.user, options.import_job, cache)
            .await?;
        let plans = match self.plans(&mut writer).await {
            Ok(plans) => plans,
            Err(err) => {
                // Rolled back now: a dropped transaction holds its lock until its connection
                // is used again. Its own failure would hide the first.
                let _ = writer.rollback().await;
                return Err(err.into());
            }
        };
        let steps = plans.iter().map(Plan::step).collect();
        self.reading.follow(self.source, *self.next, steps).await;
        let stored = self.store_files(&mut writer, &plans, on_progress).await;
        match stored {
            Ok(FilesEnd::Done(reports)) => {
                writer.commit().await?;
                self.reading.committed();
                Ok(GroupEnd::Committed(reports))
            }
            Ok(FilesEnd::Stop(reports, index)) => {
                writer.commit().await?;
                let Some(Failure::Fatal(err)) = self.failures.remove(&index) else {
                    unreachable!("only a fatal failure plans a stop")
                };
                Ok(GroupEnd::Stopped(reports, err))
            }
            Err((index, FileError::Input(err))) => {
                writer.rollback().await?;
                self.reading.undo(self.source).await;
                let failure = Failure::of(&self.source.files()[index], err);
                Ok(GroupEnd::Undone { index, failure })
            }
            Err((_, failure)) => {
                let _ = writer.rollback().await;
                let parser_failure = self.reading.stop().await.err();
                Err(match failure {
                    FileError::Database(err) => err.into(),
                    _ => parser_failure.unwrap_or_else(|| {
                        ImportError::Internal("the parser thread stopped early".into())
                    }),
                })
            }
        }
    }

    /// The plan of every file from the group's first: read, report or stop.
    async fn plans(&self, writer: &mut ListenWriter<'_>) -> Result<Vec<Plan>, StoreError> {
        let files = self.source.files();
        let mut plans = Vec::new();
        // Files this transaction reads, by fingerprint: a copy of one (the same export given
        // twice) is imported by the time it is reached.
        let mut read = HashMap::new();
        for (index, file) in files.iter().enumerate().skip(*self.next) {
            let plan = match self.failures.get(&index) {
                Some(Failure::Broken(report)) => Plan::Report(report.clone()),
                Some(Failure::Fatal(_)) => Plan::Stop,
                None if self.options.recheck => Plan::Read,
                None => match read.get(file.fingerprint.as_str()) {
                    Some(&first) => Plan::SameAs(first),
                    None => match writer.file_progress(&file.fingerprint).await? {
                        Some(earlier) if earlier.completed => {
                            let status = FileStatus::AlreadyImported;
                            Plan::Report(FileReport::new(file, status, earlier.records_done))
                        }
                        _ => {
                            read.insert(file.fingerprint.as_str(), index);
                            Plan::Read
                        }
                    },
                },
            };
            let stop = matches!(plan, Plan::Stop);
            plans.push(plan);
            if stop {
                break;
            }
        }
        Ok(plans)
    }

    /// Goes through the planned files until the transaction holds enough records, always to
    /// the end of a file (the parser goes on with the next).
    async fn store_files(
        &mut self,
        writer: &mut ListenWriter<'_>,
        plans: &[Plan],
        on_progress: &mut (impl FnMut(&ImportProgress) + Send),
    ) -> Result<FilesEnd, (usize, FileError)> {
        let mut reports: Vec<FileReport> = Vec::new();
        let mut uncommitted = 0;
        let limit = records_per_commit(self.options);
        let group_start = *self.next;
        for (index, plan) in (group_start..).zip(plans) {
            if uncommitted >= limit {
                break;
            }
            let file = &self.source.files()[index];
            self.progress.current_file = file.name.clone();
            on_progress(self.progress);
            let file_report = match plan {
                Plan::Report(report) => report.clone(),
                // Every file of the group so far has its report, in order.
                Plan::SameAs(earlier) => {
                    let records = reports[earlier - group_start].records;
                    FileReport::new(file, FileStatus::AlreadyImported, records)
                }
                Plan::Stop => return Ok(FilesEnd::Stop(reports, index)),
                Plan::Read => store_file(
                    writer,
                    self.source,
                    index,
                    self.reading.parser(),
                    self.progress,
                    on_progress,
                )
                .await
                .map_err(|err| (index, err))?,
            };
            if file_report.status == FileStatus::Imported {
                uncommitted += file_report.records;
            }
            self.progress.files_done += 1;
            self.progress
                .reached(size_of(&self.source.files()[..=index]));
            reports.push(file_report);
            on_progress(self.progress);
            *self.next += 1;
        }
        Ok(FilesEnd::Done(reports))
    }
}

/// Records a transaction takes before it commits; at least one file's, whatever the setting.
fn records_per_commit(options: ImportOptions) -> u64 {
    options.records_per_commit.max(1)
}

impl Failure {
    /// What becomes of a file whose input failed with `err`.
    fn of(file: &ExportFileInfo, err: ImportError) -> Self {
        if err.is_fatal() {
            return Failure::Fatal(err);
        }
        let error = format!("{err}; nothing from this file was stored");
        Failure::Broken(FileReport::new(file, FileStatus::Failed { error }, 0))
    }
}

/// Why a file could not be imported.
enum FileError {
    /// The database failed: nothing of the open transaction can be trusted.
    Database(StoreError),
    /// The input: a broken file, or what stops the whole import (limits).
    Input(ImportError),
    /// The parser thread ended before the file did (it panicked).
    ParserGone,
}

impl From<StoreError> for FileError {
    fn from(err: StoreError) -> Self {
        FileError::Database(err)
    }
}

/// Stores file `index` as the parser reads it, with its checkpoint, in the writer's
/// transaction.
async fn store_file(
    writer: &mut ListenWriter<'_>,
    source: &Arc<ImportSource>,
    index: usize,
    parser: &mut Parser,
    progress: &mut ImportProgress,
    on_progress: &mut (impl FnMut(&ImportProgress) + Send),
) -> Result<FileReport, FileError> {
    let file = &source.files()[index];
    let done_before = size_of(&source.files()[..index]);
    let mut written = WriteOutcome::default();
    let mut skipped = SkipCounts::default();
    let summary = loop {
        let parsed = match parser.receive().await {
            Some(FromParser::Batch(parsed)) => parsed,
            Some(FromParser::FileEnd(summary, _)) => break summary.map_err(FileError::Input)?,
            None => return Err(FileError::ParserGone),
        };
        let outcome = writer.write(&parsed.listens).await?;
        written += outcome;
        progress.inserted += outcome.inserted;
        progress.duplicates += outcome.duplicates;
        progress.merged += outcome.merged;
        skipped.merge(&parsed.skipped);
        progress.skipped += parsed.skipped.total();
        progress.records_read += parsed.records;
        progress.reached(done_before + parsed.file_bytes.min(file.size));
        on_progress(progress);
        // Freed by the thread that allocated it, off the database's path.
        let _ = parser.written.send(parsed);
    };
    writer
        .save_checkpoint(FileCheckpoint {
            fingerprint: &file.fingerprint,
            file_name: &file.name,
            records_done: summary.records,
            completed: true,
        })
        .await?;
    let mut report = FileReport::new(file, FileStatus::Imported, summary.records);
    report.set_counts(written, &skipped);
    Ok(report)
}

/// What the parser sends the database side, in file order.
enum FromParser {
    /// Records of the file being read.
    Batch(Parsed),
    /// The file being read ended: read in full, or broken, or over a limit; and how far the
    /// source had been read then.
    FileEnd(Result<FileSummary, ImportError>, ReadMark),
}

/// The import's parser, kept from one transaction to the next while it reads what they plan.
///
/// It goes on from one transaction's files to the next's while the database commits, so the
/// next transaction finds its first batches parsed and the memos warm. (A parser started per
/// transaction left the database waiting at each one's start: a first import of a million
/// records in 5 transactions ran 17% slower than in one, 10% with the background checkpoints.)
struct Reading {
    parser: Option<Parser>,
    /// How far the source had been read when the current transaction's first file began:
    /// where an undone transaction's files are read again from.
    transaction_start: ReadMark,
}

impl Reading {
    fn new(source: &ImportSource) -> Self {
        Reading {
            parser: None,
            transaction_start: source.mark(),
        }
    }

    /// Makes sure the parser reads the files from `first` on as `steps` say. The running
    /// parser does, unless another import (of this process or another) finished some of them
    /// since it started: then it is replaced, its reading ahead undone. The first transaction,
    /// and the one after an undone one, start a parser.
    async fn follow(&mut self, source: &Arc<ImportSource>, first: usize, steps: Vec<Step>) {
        if !self.parser.as_ref().is_some_and(|p| p.reads(first, &steps)) {
            self.undo(source).await;
            self.parser = Some(Parser::start(source, first, steps));
        }
    }

    /// The running parser (see [`Reading::follow`]).
    fn parser(&mut self) -> &mut Parser {
        self.parser
            .as_mut()
            .expect("a transaction's files are read after `follow`")
    }

    /// The transaction committed: the next one starts where the parser's last file ended.
    fn committed(&mut self) {
        if let Some(parser) = &self.parser {
            self.transaction_start = parser.received_until;
        }
    }

    /// Stops the parser and counts what was read since the transaction's start as unread,
    /// to be read again.
    async fn undo(&mut self, source: &ImportSource) {
        // Its own failure shows as the file error that undid the transaction.
        let _ = self.stop().await;
        source.rewind(self.transaction_start);
    }

    /// Stops the parser (it may be ahead, waiting to send) and waits for its thread.
    async fn stop(&mut self) -> Result<(), ImportError> {
        match self.parser.take() {
            Some(parser) => parser.finish().await,
            None => Ok(()),
        }
    }
}

/// The thread that parses the import's files, one after the other, ahead of the database.
struct Parser {
    receiver: mpsc::Receiver<FromParser>,
    /// Batches the database is done with, back to the parser to be freed and reused there:
    /// freeing thousands of small strings is work, and that thread has time for it.
    written: std::sync::mpsc::Sender<Parsed>,
    thread: tokio::task::JoinHandle<()>,
    /// The file it started at, and what it does with that file and every one after.
    first: usize,
    steps: Vec<Step>,
    /// How far the source had been read at the end of the last file received from it.
    received_until: ReadMark,
}

impl Parser {
    /// Starts reading the files from `first` on, as `steps` say, until they end, one stops
    /// or fails.
    fn start(source: &Arc<ImportSource>, first: usize, steps: Vec<Step>) -> Self {
        let (sender, receiver) = mpsc::channel(BATCHES_IN_FLIGHT);
        let (written, returned) = std::sync::mpsc::channel();
        let received_until = source.mark();
        let source = Arc::clone(source);
        let thread_steps = steps.clone();
        let thread = tokio::task::spawn_blocking(move || {
            // One memo for many files: they repeat each other's tracks and texts.
            let mut memo = Memo::default();
            let mut memo_records = 0;
            for (index, step) in (first..).zip(thread_steps) {
                match step {
                    Step::Read => {}
                    Step::Pass => continue,
                    Step::Stop => return,
                }
                let summary = parse_file(&source, index, &mut memo, &sender, &returned);
                memo_records += summary.as_ref().map_or(0, |s| s.records);
                if memo_records >= MEMO_RECORDS {
                    (memo, memo_records) = (Memo::default(), 0);
                }
                let failed = summary.is_err();
                let end = FromParser::FileEnd(summary, source.mark());
                if sender.blocking_send(end).is_err() || failed {
                    return;
                }
            }
        });
        Parser {
            receiver,
            written,
            thread,
            first,
            steps,
            received_until,
        }
    }

    /// Whether it reads the files from `first` on as `steps` say. (Nothing of them has been
    /// received from it yet: transactions end at the end of a file, after its last message.)
    fn reads(&self, first: usize, steps: &[Step]) -> bool {
        first
            .checked_sub(self.first)
            .and_then(|done| self.steps.get(done..))
            == Some(steps)
    }

    /// Its next message (`None`: its thread ended), noting how far each file it ends took the
    /// source.
    async fn receive(&mut self) -> Option<FromParser> {
        let message = self.receiver.recv().await;
        if let Some(FromParser::FileEnd(_, read_until)) = &message {
            self.received_until = *read_until;
        }
        message
    }

    async fn finish(self) -> Result<(), ImportError> {
        drop(self.receiver);
        self.thread
            .await
            .map_err(|e| ImportError::Internal(format!("the parser thread failed: {e}")))
    }
}

/// Records after which the parser's memo starts over, at the end of a file. Kept for a whole
/// import it made the peak memory ~20 MB larger (its entries live on among the batches'
/// allocations) and the import no faster: a history's most played items are back in it soon.
const MEMO_RECORDS: u64 = 200_000;

/// What the parser keeps from one listen for the next ones.
#[derive(Default)]
struct Memo {
    keys: identity::KeyMemo,
    texts: SharedTexts,
}

/// Runs on the parser's thread: parses file `index` and sends its batches of keyed listens.
fn parse_file(
    source: &ImportSource,
    index: usize,
    memo: &mut Memo,
    sender: &mpsc::Sender<FromParser>,
    returned: &std::sync::mpsc::Receiver<Parsed>,
) -> Result<FileSummary, ImportError> {
    let bytes = source.progress();
    let start = bytes.bytes_read();
    let mut batch = Parsed::empty();
    let mut receiver_gone = false;
    let summary = source.read_file(index, 0, |record| {
        batch.records += 1;
        match record {
            Record::Listen(mut listen) => {
                listen.replace_nul_characters();
                let keys = memo.keys.listen_keys(&listen.item);
                memo.texts.share(&mut listen.details);
                batch.listens.push(KeyedListen { listen, keys });
            }
            Record::Skipped(reason) => batch.skipped.add(reason),
        }
        if batch.listens.len() >= BATCH_LISTENS {
            let next = returned
                .try_iter()
                .last()
                .map_or_else(Parsed::empty, Parsed::cleared);
            let mut full = std::mem::replace(&mut batch, next);
            full.file_bytes = bytes.bytes_read() - start;
            if sender.blocking_send(FromParser::Batch(full)).is_err() {
                receiver_gone = true;
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })?;
    if !receiver_gone && batch.records > 0 {
        batch.file_bytes = bytes.bytes_read() - start;
        // A send error means the database side stopped; it reports why.
        let _ = sender.blocking_send(FromParser::Batch(batch));
    }
    Ok(summary)
}

impl Parsed {
    /// The batch emptied for reuse: its listens freed, its room kept.
    fn cleared(mut self) -> Self {
        self.listens.clear();
        self.skipped = SkipCounts::default();
        self.records = 0;
        self.file_bytes = 0;
        self
    }

    fn empty() -> Self {
        Parsed {
            listens: Vec::with_capacity(BATCH_LISTENS),
            skipped: SkipCounts::default(),
            records: 0,
            file_bytes: 0,
        }
    }
}

impl FileReport {
    fn new(file: &ExportFileInfo, status: FileStatus, records: u64) -> Self {
        FileReport {
            name: file.name.clone(),
            kind: file.kind.as_str(),
            status,
            records,
            inserted: 0,
            duplicates: 0,
            merged: 0,
            skipped: BTreeMap::new(),
        }
    }

    fn set_counts(&mut self, written: WriteOutcome, skipped: &SkipCounts) {
        self.inserted = written.inserted;
        self.duplicates = written.duplicates;
        self.merged = written.merged;
        self.skipped = skipped
            .iter()
            .filter(|(_, count)| *count > 0)
            .map(|(reason, count)| (reason.as_str(), count))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;

    /// Extended-history records of distinct tracks, `first` to `first + count`.
    fn records(first: u32, count: u32) -> String {
        let record = |n: u32| {
            format!(
                r#"{{"ts":"2020-01-01T10:{n:02}:00Z","ms_played":200000,"spotify_track_uri":"spotify:track:t{n}","master_metadata_track_name":"T{n}","master_metadata_album_artist_name":"A"}}"#
            )
        };
        let records: Vec<_> = (first..first + count).map(record).collect();
        format!("[{}]", records.join(","))
    }

    /// The records of the next file the parser sends, as a transaction takes them.
    async fn receive_file(parser: &mut Parser) -> u64 {
        let mut records = 0;
        loop {
            match parser.receive().await.expect("the parser sends") {
                FromParser::Batch(parsed) => records += parsed.records,
                FromParser::FileEnd(summary, _) => {
                    summary.expect("the file reads");
                    return records;
                }
            }
        }
    }

    #[tokio::test]
    async fn a_parser_ahead_of_a_changed_plan_is_replaced_and_its_reading_undone() {
        let dir = tempfile::tempdir().unwrap();
        for (index, (first, count)) in [(0, 3), (10, 4), (20, 5)].into_iter().enumerate() {
            let path = dir
                .path()
                .join(format!("Streaming_History_Audio_2020_{index}.json"));
            std::fs::write(path, records(first, count)).unwrap();
        }
        let source = ImportSource::open(&[dir.path().to_owned()], Limits::default()).unwrap();
        let source = Arc::new(source);
        let mut reading = Reading::new(&source);

        reading.follow(&source, 0, vec![Step::Read; 3]).await;
        assert_eq!(receive_file(reading.parser()).await, 3);
        reading.committed();
        // The parser goes on: file 1 read whole, file 2 waiting to be sent.
        let deadline = Instant::now() + Duration::from_secs(10);
        while source.mark().records() < 3 + 4 + 5 {
            assert!(Instant::now() < deadline, "the parser did not read ahead");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The same plan keeps the parser; one where file 1 was imported meanwhile replaces it.
        assert!(reading.parser().reads(1, &[Step::Read, Step::Read]));
        reading
            .follow(&source, 1, vec![Step::Pass, Step::Read])
            .await;

        // File 2 comes next, and file 1, read ahead then passed, is not counted as read.
        assert_eq!(receive_file(reading.parser()).await, 5);
        assert_eq!(source.mark().records(), 3 + 5);
        reading.stop().await.unwrap();
    }
}
