//! The inputs of one import: ZIPs, folders and JSON files, enumerated into the export files
//! they hold, checked against the safety limits, and opened as streams one at a time.

use std::cmp::Ordering;
use std::fs::{self, File};
use std::io::{BufReader, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use sha1::{Digest, Sha1};
use spotify_history_core::EndedAt;
use zip::{CompressionMethod, ZipArchive};

use crate::limits::GuardedReader;
use crate::{
    ByteProgress, FileKind, FileSummary, ImportError, Limits, Record, classify, read_records,
};

/// How much of a plain file goes into its fingerprint: enough to tell two exports apart
/// without hashing hundreds of MB before the import starts.
const FINGERPRINT_PREFIX_BYTES: u64 = 64 * 1024;
/// Buffer between the ZIP file on disk and the decompressor.
const ZIP_READ_BUFFER_BYTES: usize = 256 * 1024;

/// One export file of the import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFileInfo {
    /// Path inside the ZIP or folder (`/`-separated), or the file name of a JSON file given
    /// directly.
    pub name: String,
    /// The input it came from: the ZIP, the folder, or the JSON file itself.
    pub container: PathBuf,
    /// Which export file it is, from its name.
    pub kind: FileKind,
    /// Uncompressed size in bytes, as declared (ZIP) or on disk.
    pub size: u64,
    /// A cheap, stable identity of this file's content, for resume checkpoints: the same export
    /// gives the same fingerprints wherever it is stored and whatever the ZIP is called.
    pub fingerprint: String,
    location: Location,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    ZipEntry {
        archive: PathBuf,
        index: usize,
        compressed_size: u64,
    },
    Plain {
        path: PathBuf,
    },
}

/// A file that holds listens but was not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RefusedFile {
    /// Path inside the ZIP or folder.
    pub name: String,
    /// Why it was not read, in words for the import report.
    pub reason: String,
}

/// How far an [`ImportSource`] had been read at one moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadMark {
    records: u64,
    bytes: u64,
}

#[cfg(test)]
impl ReadMark {
    pub(crate) fn records(&self) -> u64 {
        self.records
    }
}

/// The export files of one import, in the order they should be read.
///
/// Extended-history files come before account-data files, so that when both are imported
/// together each account row finds the richer listen it duplicates already stored.
#[derive(Debug)]
pub struct ImportSource {
    files: Vec<ExportFileInfo>,
    unknown: Vec<String>,
    refused: Vec<RefusedFile>,
    limits: Limits,
    progress: ByteProgress,
    records_delivered: AtomicU64,
    now: EndedAt,
}

impl ImportSource {
    /// Enumerate `paths` (each a ZIP, a folder walked recursively, or a JSON file).
    ///
    /// Fails on unreadable paths, a ZIP that is too large or not a ZIP, and when all files
    /// together exceed [`Limits::max_total_uncompressed_bytes`]; single unsafe or unreadable
    /// entries are only [refused](Self::refused_files).
    pub fn open(paths: &[PathBuf], limits: Limits) -> Result<Self, ImportError> {
        if paths.is_empty() {
            return Err(ImportError::NoInputs);
        }
        let mut found = Found::default();
        for path in paths {
            let meta = fs::metadata(path).map_err(|source| io_error(path, source))?;
            if meta.is_dir() {
                walk_dir(path, &limits, &mut found)?;
            } else if is_zip(path)? {
                open_zip(path, &limits, &mut found)?;
            } else {
                let name = file_name(path);
                let kind = match classify(&name) {
                    FileKind::Unknown => sniff_kind(path)?,
                    kind => kind,
                };
                add_plain(path, name, kind, path, meta.len(), &limits, &mut found)?;
            }
        }
        // Stable: inputs keep their order and each input its name order, per kind group.
        found.files.sort_by_key(|f| read_order(f.kind));
        let total: u64 = found.files.iter().map(|f| f.size).sum();
        if total > limits.max_total_uncompressed_bytes {
            return Err(ImportError::TooLarge {
                total_mib: total / (1024 * 1024),
                limit_mib: limits.max_total_uncompressed_bytes / (1024 * 1024),
            });
        }
        Ok(Self {
            files: found.files,
            unknown: found.unknown,
            refused: found.refused,
            limits,
            progress: ByteProgress::default(),
            records_delivered: AtomicU64::new(0),
            now: EndedAt::from(jiff::Timestamp::now()),
        })
    }

    /// Judge end times against `now` instead of the clock at [`open`](Self::open) (for tests
    /// and replays of old imports).
    pub fn with_now(mut self, now: EndedAt) -> Self {
        self.now = now;
        self
    }

    /// The export files to read, in reading order.
    pub fn files(&self) -> &[ExportFileInfo] {
        &self.files
    }

    /// Files that are part of an export but hold no listens (`Userdata.json`, the read-me PDF,
    /// ...): listed for the report, never read.
    pub fn unknown_files(&self) -> &[String] {
        &self.unknown
    }

    /// Files that would hold listens but are not read (unsafe name, encrypted, too large).
    pub fn refused_files(&self) -> &[RefusedFile] {
        &self.refused
    }

    /// Uncompressed bytes of all export files: the 100 % of a progress bar.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// The live count of bytes read so far, to show from another thread.
    pub fn progress(&self) -> ByteProgress {
        self.progress.clone()
    }

    /// How far reading has come, to [`rewind`](Self::rewind) to.
    pub(crate) fn mark(&self) -> ReadMark {
        ReadMark {
            records: self.records_delivered.load(AtomicOrdering::Relaxed),
            bytes: self.progress.bytes_read(),
        }
    }

    /// Counts what was read since `mark` as unread, before files are read again (their
    /// transaction was undone), so that limits and progress count each record once.
    pub(crate) fn rewind(&self, mark: ReadMark) {
        self.records_delivered
            .store(mark.records, AtomicOrdering::Relaxed);
        self.progress.set(mark.bytes);
    }

    /// The limits this import runs under.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Stream file number `index` of [`files`](Self::files) through `on_record`.
    ///
    /// The first `skip_first` array elements are passed over (a resumed import's checkpoint;
    /// every element counts, skipped ones too). Returning `ControlFlow::Break` stops after
    /// the record just delivered, which [`FileSummary::records`] includes. Errors name the
    /// file; records delivered before an error stay delivered, so a caller that commits
    /// batches can checkpoint them. Bytes read show in [`progress`](Self::progress).
    pub fn read_file(
        &self,
        index: usize,
        skip_first: u64,
        mut on_record: impl FnMut(Record) -> ControlFlow<()>,
    ) -> Result<FileSummary, ImportError> {
        let file = self.files.get(index).ok_or(ImportError::NoSuchFile {
            index,
            count: self.files.len(),
        })?;
        let max_records = self.limits.max_records;
        let mut over_limit = false;
        let counted = |record: Record| {
            let delivered = self.records_delivered.fetch_add(1, AtomicOrdering::Relaxed) + 1;
            if delivered > max_records {
                over_limit = true;
                return ControlFlow::Break(());
            }
            on_record(record)
        };
        let summary = match &file.location {
            Location::Plain { path } => {
                let source = File::open(path).map_err(|source| io_error(path, source))?;
                let reader = GuardedReader::new(source, self.limits, None, self.progress.clone());
                read_records(reader, &file.name, file.kind, skip_first, self.now, counted)
            }
            Location::ZipEntry {
                archive,
                index,
                compressed_size,
            } => {
                let mut zip = open_archive(archive)?;
                let entry = zip.by_index(*index).map_err(|e| ImportError::ZipEntry {
                    name: file.name.clone(),
                    reason: e.to_string(),
                })?;
                let reader = GuardedReader::new(
                    entry,
                    self.limits,
                    Some(*compressed_size),
                    self.progress.clone(),
                );
                read_records(reader, &file.name, file.kind, skip_first, self.now, counted)
            }
        }?;
        if over_limit {
            return Err(ImportError::TooManyRecords { limit: max_records });
        }
        Ok(summary)
    }
}

#[derive(Default)]
struct Found {
    files: Vec<ExportFileInfo>,
    unknown: Vec<String>,
    refused: Vec<RefusedFile>,
}

impl Found {
    fn refuse(&mut self, name: impl Into<String>, reason: impl Into<String>) {
        self.refused.push(RefusedFile {
            name: name.into(),
            reason: reason.into(),
        });
    }
}

fn read_order(kind: FileKind) -> u8 {
    match kind.source() {
        Some(source) => source.rank(),
        None => u8::MAX,
    }
}

fn io_error(path: &Path, source: std::io::Error) -> ImportError {
    ImportError::Io {
        path: path.to_owned(),
        source,
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string_lossy().into_owned())
}

/// A ZIP by name, or by its first bytes (a download saved without its extension).
fn is_zip(path: &Path) -> Result<bool, ImportError> {
    let by_name = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if by_name {
        return Ok(true);
    }
    let mut magic = [0u8; 4];
    let mut file = File::open(path).map_err(|source| io_error(path, source))?;
    let n = file
        .read(&mut magic)
        .map_err(|source| io_error(path, source))?;
    Ok(n == 4 && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06"))
}

/// A JSON file given by a name Spotify never uses (renamed by the user): look at its first
/// fields to tell extended history from account data.
fn sniff_kind(path: &Path) -> Result<FileKind, ImportError> {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if !matches!(extension.as_deref(), Some("json" | "jsonl" | "csv")) {
        return Ok(FileKind::Unknown);
    }
    let mut head = Vec::new();
    File::open(path)
        .and_then(|f| f.take(FINGERPRINT_PREFIX_BYTES).read_to_end(&mut head))
        .map_err(|source| io_error(path, source))?;
    let has = |field: &[u8]| head.windows(field.len()).any(|w| w == field);
    // This service's export saved under another name: by its extension and first fields.
    match extension.as_deref() {
        Some("jsonl") if head.starts_with(b"{\"ts\"") => return Ok(FileKind::HistoryExportJsonl),
        Some("csv") if head.starts_with(b"ts,") => return Ok(FileKind::HistoryExportCsv),
        Some("jsonl" | "csv") => return Ok(FileKind::Unknown),
        _ => {}
    }
    Ok(if has(b"\"ts\"") && has(b"\"ms_played\"") {
        FileKind::ExtendedAudio
    } else if has(b"\"endTime\"") && has(b"\"msPlayed\"") {
        FileKind::AccountMusic
    } else {
        FileKind::Unknown
    })
}

fn add_plain(
    path: &Path,
    name: String,
    kind: FileKind,
    container: &Path,
    size: u64,
    limits: &Limits,
    found: &mut Found,
) -> Result<(), ImportError> {
    if kind == FileKind::Unknown {
        found.unknown.push(name);
        return Ok(());
    }
    if size > limits.max_uncompressed_bytes_per_entry {
        found.refuse(
            name,
            format!(
                "{} MiB is over the {} MiB limit per file",
                size / (1024 * 1024),
                limits.max_uncompressed_bytes_per_entry / (1024 * 1024)
            ),
        );
        return Ok(());
    }
    let mut head = Vec::new();
    File::open(path)
        .and_then(|f| f.take(FINGERPRINT_PREFIX_BYTES).read_to_end(&mut head))
        .map_err(|source| io_error(path, source))?;
    let fingerprint = fingerprint(&[b"file", name.as_bytes(), size.to_string().as_bytes(), &head]);
    found.files.push(ExportFileInfo {
        name,
        container: container.to_owned(),
        kind,
        size,
        fingerprint,
        location: Location::Plain {
            path: path.to_owned(),
        },
    });
    Ok(())
}

/// Walk a folder in name order; ZIPs inside it (a downloads folder) are opened too.
/// Symbolic links are not followed: a link can loop or lead out of the folder.
fn walk_dir(root: &Path, limits: &Limits, found: &mut Found) -> Result<(), ImportError> {
    let mut pending = vec![root.to_owned()];
    let mut files = Vec::new();
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir).map_err(|source| io_error(&dir, source))?;
        for entry in entries {
            let entry = entry.map_err(|source| io_error(&dir, source))?;
            let path = entry.path();
            let file_type = entry
                .file_type()
                .map_err(|source| io_error(&path, source))?;
            let relative = relative_name(root, &path);
            if file_type.is_symlink() {
                if classify(&relative) != FileKind::Unknown {
                    found.refuse(relative, "symbolic link: not followed");
                }
            } else if file_type.is_dir() {
                pending.push(path);
            } else {
                files.push((relative, path));
            }
        }
    }
    files.sort_by(|a, b| natural_cmp(&a.0, &b.0));
    for (relative, path) in files {
        let is_zip_file = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        if is_zip_file {
            open_zip(&path, limits, found)?;
            continue;
        }
        let size = fs::metadata(&path)
            .map_err(|source| io_error(&path, source))?
            .len();
        let kind = classify(&relative);
        add_plain(&path, relative, kind, root, size, limits, found)?;
    }
    Ok(())
}

fn relative_name(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn open_archive(path: &Path) -> Result<ZipArchive<BufReader<File>>, ImportError> {
    let file = File::open(path).map_err(|source| io_error(path, source))?;
    ZipArchive::new(BufReader::with_capacity(ZIP_READ_BUFFER_BYTES, file)).map_err(|e| {
        ImportError::NotAZip {
            path: path.to_owned(),
            reason: e.to_string(),
        }
    })
}

fn open_zip(path: &Path, limits: &Limits, found: &mut Found) -> Result<(), ImportError> {
    let size = fs::metadata(path)
        .map_err(|source| io_error(path, source))?
        .len();
    if size > limits.max_zip_bytes {
        return Err(ImportError::ZipTooLarge {
            path: path.to_owned(),
            size_mib: size.div_ceil(1024 * 1024),
            limit_mib: limits.max_zip_bytes / (1024 * 1024),
        });
    }
    let archive = open_archive(path)?;
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        let entry = archive
            .by_index_data(index)
            .map_err(|e| ImportError::NotAZip {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        let Ok(name) = entry.name() else {
            found.refuse(
                String::from_utf8_lossy(entry.name_raw()),
                "the name is not valid text",
            );
            continue;
        };
        let name = name.into_owned();
        if entry.is_dir() {
            continue;
        }
        if let Some(reason) = unsafe_name(&name).or_else(|| {
            entry
                .enclosed_name()
                .is_none()
                .then_some("the path leaves the archive")
        }) {
            found.refuse(name, format!("{reason}: refused for safety"));
            continue;
        }
        let kind = classify(&name);
        if kind == FileKind::Unknown {
            found.unknown.push(name);
            continue;
        }
        let refusal = if entry.is_symlink() {
            Some("symbolic link: not followed".to_owned())
        } else if entry.encrypted() {
            Some("encrypted: extract it with its password and import the folder".to_owned())
        } else if !matches!(
            entry.compression(),
            CompressionMethod::Stored | CompressionMethod::Deflated
        ) {
            Some(format!(
                "compressed with {:?}, which is not supported: extract it and import the folder",
                entry.compression()
            ))
        } else {
            limits.refuse_declared(entry.size(), entry.compressed_size())
        };
        if let Some(reason) = refusal {
            found.refuse(name, reason);
            continue;
        }
        let fingerprint = fingerprint(&[
            b"zip",
            name.as_bytes(),
            entry.size().to_string().as_bytes(),
            entry.crc32().to_string().as_bytes(),
        ]);
        entries.push(ExportFileInfo {
            name,
            container: path.to_owned(),
            kind,
            size: entry.size(),
            fingerprint,
            location: Location::ZipEntry {
                archive: path.to_owned(),
                index,
                compressed_size: entry.compressed_size(),
            },
        });
    }
    entries.sort_by(|a, b| natural_cmp(&a.name, &b.name));
    found.files.extend(entries);
    Ok(())
}

/// Why an entry name is unsafe to treat as a path, if it is. Checked by hand as well as by
/// the `zip` crate, so the reason can be reported in words.
fn unsafe_name(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    if name.starts_with('/') || name.starts_with('\\') {
        return Some("absolute path");
    }
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Some("absolute path with a drive letter");
    }
    if name.split(['/', '\\']).any(|part| part == "..") {
        return Some("path with '..'");
    }
    if name.contains('\0') {
        return Some("name with a NUL byte");
    }
    None
}

fn fingerprint(parts: &[&[u8]]) -> String {
    let mut hasher = Sha1::new();
    for part in parts {
        // Length-prefixed, so no two different part lists hash the same bytes.
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

/// Order names as people do: `_2` before `_10`. Names equal but for leading zeros fall back to
/// byte order, so the order is total and does not depend on the order found.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    natural_cmp_bytes(a.as_bytes(), b.as_bytes()).then_with(|| a.cmp(b))
}

fn natural_cmp_bytes(mut a: &[u8], mut b: &[u8]) -> Ordering {
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (da, ra) = split_digits(a);
                let (db, rb) = split_digits(b);
                let (ta, tb) = (trim_zeros(da), trim_zeros(db));
                let by_value = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                if by_value != Ordering::Equal {
                    return by_value;
                }
                (a, b) = (ra, rb);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (a, b) = (&a[1..], &b[1..]);
            }
        }
    }
}

fn split_digits(s: &[u8]) -> (&[u8], &[u8]) {
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    s.split_at(n)
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&b| b == b'0').count();
    &digits[zeros..]
}

#[cfg(test)]
mod tests;
