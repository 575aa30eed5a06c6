//! Rollups read lately, kept while the user's rollups are unchanged: one question often
//! asks several things of the same window (the taste summary ranks artists, tracks and
//! albums and counts totals), and an assistant often asks several questions in a row.
//!
//! An entry is found only under the version the user's rollups had when it was read; every
//! refresh that rewrites them gives them a new random version, so a changed history is
//! never answered from the cache, whichever process changed it.

use super::read::{Counting, Parts, Rollup};
use std::sync::{Arc, Mutex};

/// Entries kept; the oldest used is dropped first. A whole-history entry of a million-play
/// listener holds a few MB.
const CAPACITY: usize = 8;

/// What a cached rollup was read for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    /// The database URL: several stores may live in one process (tests, tools).
    pub database: String,
    pub user: i64,
    pub from: i64,
    pub to: i64,
    pub counting: Counting,
    pub version: i64,
}

type Entries = Vec<(Key, Parts, Arc<Rollup>)>;

static ENTRIES: Mutex<Entries> = Mutex::new(Vec::new());

fn entries() -> std::sync::MutexGuard<'static, Entries> {
    // A panic while holding the lock leaves nothing half-done here: keep using it.
    ENTRIES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A rollup read for this key with at least these parts.
pub(crate) fn get(key: &Key, parts: Parts) -> Option<Arc<Rollup>> {
    let mut entries = entries();
    let index = entries
        .iter()
        .position(|(k, p, _)| k == key && p.covers(parts))?;
    let entry = entries.remove(index);
    let rollup = entry.2.clone();
    entries.push(entry);
    Some(rollup)
}

pub(crate) fn put(key: Key, parts: Parts, rollup: Arc<Rollup>) {
    let mut entries = entries();
    entries.retain(|(k, p, _)| !(k == &key && parts.covers(*p)));
    if entries.len() >= CAPACITY {
        entries.remove(0);
    }
    entries.push((key, parts, rollup));
}

impl crate::Store {
    /// Drops what this process keeps of this database's rollups, so the next questions read
    /// them from the database (benchmarks measure both).
    #[doc(hidden)]
    pub fn forget_cached_history(&self) {
        let database = self.url().expose();
        entries().retain(|(key, _, _)| key.database != database);
    }
}
