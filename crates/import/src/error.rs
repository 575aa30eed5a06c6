//! What can stop an import, each said with what failed and what to do about it.

use std::path::PathBuf;

/// An import could not go on. Row-level problems are never errors: they are
/// [`SkipReason`](crate::SkipReason)s and the rest of the file continues.
// Variant fields are what their messages say; documenting each again would only repeat them.
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Nothing to import was named.
    #[error("no input given: name a Spotify export ZIP, a folder or JSON files")]
    NoInputs,

    /// A path could not be read from disk.
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A ZIP file is larger than the configured maximum.
    #[error(
        "{path} is {size_mib} MiB, over the {limit_mib} MiB limit: raise IMPORT_MAX_ZIP_SIZE_MB \
         or import the unzipped folder"
    )]
    ZipTooLarge {
        path: PathBuf,
        size_mib: u64,
        limit_mib: u64,
    },

    /// A file given as a ZIP cannot be opened as one.
    #[error(
        "{path} is not a readable ZIP archive ({reason}): check that the download finished, \
         or unzip it and import the folder"
    )]
    NotAZip { path: PathBuf, reason: String },

    /// The declared or actual uncompressed content is beyond the safety limits.
    #[error("{name} looks like a ZIP bomb: {detail}; refusing to extract it")]
    ZipBomb { name: String, detail: String },

    /// All export files together are larger than the configured maximum.
    #[error(
        "the export files hold {total_mib} MiB uncompressed, over the {limit_mib} MiB limit for \
         one import: import fewer files at once"
    )]
    TooLarge { total_mib: u64, limit_mib: u64 },

    /// An entry could not be opened or decompressed.
    #[error("cannot read {name} from the ZIP: {reason}")]
    ZipEntry { name: String, reason: String },

    /// The import holds more records than allowed.
    #[error(
        "the import holds more than {limit} records: raise IMPORT_MAX_RECORDS or import fewer \
         files at once"
    )]
    TooManyRecords { limit: u64 },

    /// The file is JSON (or not) but not a top-level array of records.
    #[error("{name} is not a Spotify streaming-history file: expected a JSON array, found {found}")]
    NotStreamingHistory { name: String, found: String },

    /// The file ends in the middle of the array, e.g. a cut download.
    #[error(
        "{name} is truncated after {records} records: the file ends in the middle of the JSON \
         array; extract or download the export again"
    )]
    Truncated { name: String, records: u64 },

    /// The JSON is broken at a place where the next record cannot be found again.
    #[error("{name} has invalid JSON after {records} records (byte {byte_offset}): {message}")]
    InvalidJson {
        name: String,
        records: u64,
        byte_offset: u64,
        message: String,
    },

    /// One array element is far larger than any real record.
    #[error(
        "{name}: record {index} is larger than {limit_bytes} bytes, which no Spotify record is: \
         the file is not a streaming-history export"
    )]
    RecordTooLarge {
        name: String,
        index: u64,
        limit_bytes: usize,
    },

    /// Reading the content failed part-way (disk or decompression error).
    #[error("reading {name} failed after {records} records: {source}")]
    Read {
        name: String,
        records: u64,
        #[source]
        source: std::io::Error,
    },

    /// A file index outside [`ImportSource::files`](crate::ImportSource::files).
    #[error("there is no export file number {index}; this import has {count}")]
    NoSuchFile { index: usize, count: usize },

    /// The database failed; nothing of the file being imported was stored.
    #[error("the database failed during the import: {0}")]
    Store(#[from] spotify_history_store::StoreError),

    /// A bug: something that cannot happen did.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ImportError {
    /// True when the whole import must stop; otherwise only the file at hand failed and the
    /// other files can still be imported.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            ImportError::ZipBomb { .. }
                | ImportError::ZipEntry { .. }
                | ImportError::NotStreamingHistory { .. }
                | ImportError::Truncated { .. }
                | ImportError::InvalidJson { .. }
                | ImportError::RecordTooLarge { .. }
                | ImportError::Read { .. }
        )
    }
}
