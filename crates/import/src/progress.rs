//! A byte counter the import thread updates and a progress display reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Uncompressed bytes read so far by an import, shared between threads. Compare it with
/// [`ImportSource::total_bytes`](crate::ImportSource::total_bytes) for a progress bar.
#[derive(Debug, Clone, Default)]
pub struct ByteProgress(Arc<AtomicU64>);

impl ByteProgress {
    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Count `n` more bytes; returns the new total.
    pub(crate) fn add(&self, n: u64) -> u64 {
        // Relaxed: the number is only displayed and compared with a limit by the one thread
        // that adds to it.
        self.0.fetch_add(n, Ordering::Relaxed) + n
    }

    /// Goes back to `n` bytes read (files read again count once).
    pub(crate) fn set(&self, n: u64) {
        self.0.store(n, Ordering::Relaxed);
    }
}
