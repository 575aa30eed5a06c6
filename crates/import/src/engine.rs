//! The import engine: reads an [`ImportSource`] file by file and stores its listens.
//!
//! Each export file is stored in one transaction with its checkpoint, so a file is either
//! wholly imported or not at all: a broken file (truncated, not JSON) leaves nothing behind,
//! and an import killed midway resumes at the first file it had not finished, ending with the
//! same database an uninterrupted import would have made. Parsing runs on a blocking thread
//! while the database writes, so both cores work.

use crate::identity;
use crate::{ExportFileInfo, ImportError, ImportSource, Record, RefusedFile, SkipCounts};
use serde::Serialize;
use spotify_history_core::{ImportJobId, ItemRef, ListenKeys, UserId};
use spotify_history_store::{CatalogCache, FileCheckpoint, KeyedListen, Store, WriteOutcome};
use std::collections::BTreeMap;
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
}

/// How far an import has come, for progress bars and job status.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportProgress {
    /// Uncompressed bytes read so far.
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
    let mut progress = ImportProgress {
        total_bytes: source.total_bytes(),
        files_total: source.files().len(),
        ..ImportProgress::default()
    };
    let mut cache = CatalogCache::default();

    for (index, file) in source.files().iter().enumerate() {
        progress.current_file = file.name.clone();
        on_progress(&progress);
        let earlier = store
            .import_progress(options.user, &file.fingerprint)
            .await?;
        let file_report = if earlier.is_some_and(|p| p.completed) && !options.recheck {
            FileReport::new(
                file,
                FileStatus::AlreadyImported,
                earlier.map_or(0, |p| p.records_done),
            )
        } else {
            import_file(
                store,
                &source,
                index,
                options,
                &mut cache,
                &mut progress,
                &mut on_progress,
            )
            .await?
        };
        progress.files_done += 1;
        progress.bytes_read = source.progress().bytes_read();
        report.add(file_report);
        on_progress(&progress);
    }

    let elapsed = started.elapsed();
    report.elapsed_ms = elapsed.as_millis() as u64;
    report.records_per_second = per_second(report.records_read, elapsed);
    Ok(report)
}

fn per_second(count: u64, elapsed: Duration) -> u64 {
    (count as f64 / elapsed.as_secs_f64().max(1e-9)) as u64
}

/// Imports one file in one transaction. `Err` only for what must stop the whole import.
async fn import_file(
    store: &Store,
    source: &Arc<ImportSource>,
    index: usize,
    options: ImportOptions,
    cache: &mut CatalogCache,
    progress: &mut ImportProgress,
    on_progress: &mut (impl FnMut(&ImportProgress) + Send),
) -> Result<FileReport, ImportError> {
    let file = &source.files()[index];
    let (sender, mut receiver) = mpsc::channel::<Parsed>(BATCHES_IN_FLIGHT);
    let reader = {
        let source = Arc::clone(source);
        tokio::task::spawn_blocking(move || parse_file(&source, index, &sender))
    };

    let mut writer = store
        .listen_writer(options.user, options.import_job, cache)
        .await?;
    let mut written = WriteOutcome::default();
    let mut skipped = SkipCounts::default();
    let mut write_error = None;
    while let Some(parsed) = receiver.recv().await {
        match writer.write(&parsed.listens).await {
            Ok(outcome) => {
                written += outcome;
                progress.inserted += outcome.inserted;
                progress.duplicates += outcome.duplicates;
                progress.merged += outcome.merged;
            }
            Err(err) => {
                write_error = Some(err);
                break;
            }
        }
        skipped.merge(&parsed.skipped);
        progress.skipped += parsed.skipped.total();
        progress.records_read += parsed.records;
        progress.bytes_read = source.progress().bytes_read();
        on_progress(progress);
    }
    // Closing the channel stops the parser if the database failed.
    drop(receiver);
    let parsed = reader
        .await
        .map_err(|e| ImportError::Internal(format!("the parser thread failed: {e}")))?;
    if let Some(err) = write_error {
        // The rollback's own failure would hide the first error, which says more.
        let _ = writer.rollback().await;
        return Err(err.into());
    }
    match parsed {
        Ok(summary) => {
            let checkpoint = FileCheckpoint {
                fingerprint: &file.fingerprint,
                file_name: &file.name,
                records_done: summary.records,
                completed: true,
            };
            writer.commit(Some(checkpoint)).await?;
            let mut report = FileReport::new(file, FileStatus::Imported, summary.records);
            report.set_counts(written, &skipped);
            Ok(report)
        }
        Err(err) => {
            writer.rollback().await?;
            if err.is_fatal() {
                return Err(err);
            }
            // Nothing of this file is kept.
            Ok(FileReport::new(
                file,
                FileStatus::Failed {
                    error: format!("{err}; nothing from this file was stored"),
                },
                0,
            ))
        }
    }
}

/// Runs on a blocking thread: parses the file and sends batches of keyed listens.
fn parse_file(
    source: &ImportSource,
    index: usize,
    sender: &mpsc::Sender<Parsed>,
) -> Result<crate::FileSummary, ImportError> {
    let mut batch = Parsed::empty();
    let mut receiver_gone = false;
    let summary = source.read_file(index, 0, |record| {
        batch.records += 1;
        match record {
            Record::Listen(listen) => {
                let keys = listen_keys(&listen.item);
                batch.listens.push(KeyedListen { listen, keys });
            }
            Record::Skipped(reason) => batch.skipped.add(reason),
        }
        if batch.listens.len() >= BATCH_LISTENS {
            let full = std::mem::replace(&mut batch, Parsed::empty());
            if sender.blocking_send(full).is_err() {
                receiver_gone = true;
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })?;
    if !receiver_gone && batch.records > 0 {
        // A send error means the database side stopped; it reports why.
        let _ = sender.blocking_send(batch);
    }
    Ok(summary)
}

impl Parsed {
    fn empty() -> Self {
        Parsed {
            listens: Vec::with_capacity(BATCH_LISTENS),
            skipped: SkipCounts::default(),
            records: 0,
        }
    }
}

/// The catalogue keys of an item (see [`identity`]).
pub fn listen_keys(item: &ItemRef) -> ListenKeys {
    let (artist, name) = identity::match_names(item);
    ListenKeys {
        track: identity::item_key(item),
        album: identity::album_key(item),
        artists: item.artists.iter().map(identity::artist_key).collect(),
        match_key: identity::name_match_hash(artist, name),
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
