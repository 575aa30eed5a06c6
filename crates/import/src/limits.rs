//! Safety limits of an import, and the reader that enforces them on the bytes actually read.
//!
//! A ZIP declares each entry's sizes, but declarations can lie: a ZIP bomb says "1 KB" and
//! inflates to terabytes. So the declared sizes are checked when the import is opened, and
//! every byte read is counted again while streaming, against the same limits.

use std::io::{self, Read};

use crate::progress::ByteProgress;

const MIB: u64 = 1024 * 1024;

/// Below this many bytes of output, the compression ratio is not judged: tiny files
/// (`[]`, a short JSON) have meaningless ratios.
const RATIO_FLOOR_BYTES: u64 = MIB;

/// How much an import may read. The defaults match the settings of the same meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest ZIP file accepted (`IMPORT_MAX_ZIP_SIZE_MB`, default 500 MiB).
    pub max_zip_bytes: u64,
    /// Largest uncompressed size of one export file (default 1 GiB; real ones are ~12 MB).
    pub max_uncompressed_bytes_per_entry: u64,
    /// Largest uncompressed size of all export files together (default 8 GiB).
    pub max_total_uncompressed_bytes: u64,
    /// Largest uncompressed/compressed ratio of a ZIP entry (default 100; JSON exports
    /// compress about 10:1, bombs 1000:1).
    pub max_compression_ratio: u64,
    /// Most array elements one import may hold (`IMPORT_MAX_RECORDS`, default 5,000,000).
    pub max_records: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_zip_bytes: 500 * MIB,
            max_uncompressed_bytes_per_entry: 1024 * MIB,
            max_total_uncompressed_bytes: 8 * 1024 * MIB,
            max_compression_ratio: 100,
            max_records: 5_000_000,
        }
    }
}

impl Limits {
    /// The defaults, with the two limits that have settings taken from them.
    pub fn from_settings(max_zip_size_mb: u64, max_records: u64) -> Self {
        Self {
            max_zip_bytes: max_zip_size_mb.saturating_mul(MIB),
            max_records,
            ..Self::default()
        }
    }

    /// Why an entry with these declared sizes must not be extracted, if it must not.
    pub(crate) fn refuse_declared(&self, size: u64, compressed_size: u64) -> Option<String> {
        if size > self.max_uncompressed_bytes_per_entry {
            return Some(format!(
                "declares {} MiB uncompressed, over the {} MiB limit per file",
                size / MIB,
                self.max_uncompressed_bytes_per_entry / MIB
            ));
        }
        if size > RATIO_FLOOR_BYTES
            && size > compressed_size.saturating_mul(self.max_compression_ratio)
        {
            return Some(format!(
                "compression ratio {}:1 is over the {}:1 limit (a ZIP bomb?)",
                size / compressed_size.max(1),
                self.max_compression_ratio
            ));
        }
        None
    }
}

/// A limit tripped while streaming; travels inside an `io::Error` to the import error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LimitExceeded {
    #[error("it inflates past the {limit_mib} MiB limit per file")]
    EntrySize { limit_mib: u64 },
    #[error("the import inflates past the {limit_mib} MiB limit for all files together")]
    TotalSize { limit_mib: u64 },
    #[error(
        "it inflates to more than {ratio} times its {compressed} compressed bytes, though it \
         declared less"
    )]
    Ratio { ratio: u64, compressed: u64 },
}

/// Counts every byte read from one export file, reports it to the progress counter, and fails
/// once a limit is passed.
pub(crate) struct GuardedReader<R> {
    inner: R,
    limits: Limits,
    /// Compressed size of a ZIP entry; `None` for a plain file.
    compressed_size: Option<u64>,
    read: u64,
    progress: ByteProgress,
}

impl<R: Read> GuardedReader<R> {
    pub(crate) fn new(
        inner: R,
        limits: Limits,
        compressed_size: Option<u64>,
        progress: ByteProgress,
    ) -> Self {
        Self {
            inner,
            limits,
            compressed_size,
            read: 0,
            progress,
        }
    }

    fn check(&self, total: u64) -> Result<(), LimitExceeded> {
        if self.read > self.limits.max_uncompressed_bytes_per_entry {
            return Err(LimitExceeded::EntrySize {
                limit_mib: self.limits.max_uncompressed_bytes_per_entry / MIB,
            });
        }
        if total > self.limits.max_total_uncompressed_bytes {
            return Err(LimitExceeded::TotalSize {
                limit_mib: self.limits.max_total_uncompressed_bytes / MIB,
            });
        }
        if let Some(compressed) = self.compressed_size
            && self.read > RATIO_FLOOR_BYTES
            && self.read > compressed.saturating_mul(self.limits.max_compression_ratio)
        {
            return Err(LimitExceeded::Ratio {
                ratio: self.limits.max_compression_ratio,
                compressed,
            });
        }
        Ok(())
    }
}

impl<R: Read> Read for GuardedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        let total = self.progress.add(n as u64);
        self.check(total).map_err(io::Error::other)?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(reader: &mut impl Read) -> io::Result<u64> {
        io::copy(reader, &mut io::sink())
    }

    fn small_limits() -> Limits {
        Limits {
            max_uncompressed_bytes_per_entry: 4 * MIB,
            max_total_uncompressed_bytes: 6 * MIB,
            max_compression_ratio: 10,
            ..Limits::default()
        }
    }

    fn limit_of(e: &io::Error) -> LimitExceeded {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<LimitExceeded>())
            .expect("a limit error")
            .clone()
    }

    #[test]
    fn entry_size_is_enforced_on_bytes_read_not_declared() {
        let endless = io::repeat(0);
        let mut reader = GuardedReader::new(endless, small_limits(), None, ByteProgress::default());
        let e = drain(&mut reader).unwrap_err();
        assert_eq!(limit_of(&e), LimitExceeded::EntrySize { limit_mib: 4 });
    }

    #[test]
    fn ratio_is_enforced_against_the_compressed_size() {
        let endless = io::repeat(0);
        let mut reader =
            GuardedReader::new(endless, small_limits(), Some(1000), ByteProgress::default());
        let e = drain(&mut reader).unwrap_err();
        assert!(matches!(limit_of(&e), LimitExceeded::Ratio { .. }));
    }

    #[test]
    fn total_counts_across_files_and_feeds_progress() {
        let progress = ByteProgress::default();
        let limits = small_limits();
        let three_mib = io::repeat(1).take(3 * MIB);
        let mut first = GuardedReader::new(three_mib, limits, None, progress.clone());
        assert_eq!(drain(&mut first).unwrap(), 3 * MIB);
        assert_eq!(progress.bytes_read(), 3 * MIB);
        let mut second = GuardedReader::new(io::repeat(1).take(4 * MIB), limits, None, progress);
        let e = drain(&mut second).unwrap_err();
        assert_eq!(limit_of(&e), LimitExceeded::TotalSize { limit_mib: 6 });
    }

    #[test]
    fn declared_sizes_are_judged_at_open() {
        let limits = small_limits();
        assert!(limits.refuse_declared(5 * MIB, 5 * MIB).is_some());
        assert!(limits.refuse_declared(3 * MIB, 100).is_some());
        assert!(limits.refuse_declared(3 * MIB, MIB).is_none());
        assert!(
            limits.refuse_declared(1000, 1).is_none(),
            "tiny files are not judged"
        );
    }

    #[test]
    fn settings_map_to_limits() {
        let limits = Limits::from_settings(20, 1000);
        assert_eq!(limits.max_zip_bytes, 20 * MIB);
        assert_eq!(limits.max_records, 1000);
        assert_eq!(Limits::default().max_zip_bytes, 500 * MIB);
    }
}
