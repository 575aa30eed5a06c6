//! What importing a synthetic export must give, counted while it is generated.

use crate::{FileKind, SkipCounts};

/// Exact expected results of importing a [`SyntheticExport`](super::SyntheticExport).
///
/// "Listen" means a valid extended-history row; each has a distinct (end time, item), so the
/// store keeps every one. Distinct counts are by the identity keys of
/// [`identity`](crate::identity): tracks by URI (local files by names), artists and albums by
/// normalised names, episodes and chapters by URI, shows by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroundTruth {
    /// Array elements in all extended-history files, listens and skipped rows together.
    pub extended_records: u64,
    /// Listens the extended history holds (stored listens after importing it alone).
    pub listens: u64,
    /// Listens of music tracks.
    pub track_listens: u64,
    /// Listens of podcast episodes (audio and video).
    pub episode_listens: u64,
    /// Listens of audiobook chapters.
    pub chapter_listens: u64,
    /// Rows the importer must skip, per reason.
    pub skipped: SkipCounts,
    /// Distinct tracks listened to (a local file, having no URI, is a track of its own).
    pub distinct_tracks: u64,
    /// Distinct artists of the tracks listened to.
    pub distinct_artists: u64,
    /// Distinct albums (per artist) of the tracks listened to.
    pub distinct_albums: u64,
    /// Distinct podcast episodes listened to.
    pub distinct_episodes: u64,
    /// Distinct podcast shows of those episodes.
    pub distinct_shows: u64,
    /// Distinct audiobook chapters listened to.
    pub distinct_chapters: u64,
    /// Sum of `ms_played` over all listens.
    pub total_ms_played: i64,
    /// Listens of at least 30 s: plays under the default counting rule.
    pub plays_at_least_30s: u64,
    /// Every listen-bearing file written, in writing order, with its element count.
    pub files: Vec<GeneratedFile>,
    /// Files written that hold no listens (`Userdata.json`, the read-me PDF, ...).
    pub unknown_files: Vec<String>,
    /// Rows in all account-data files.
    pub account_rows: u64,
    /// Rows in the `StreamingHistory_music_*` files (matched and account-only).
    pub account_music_rows: u64,
    /// Rows in the `StreamingHistory_podcast_*` files.
    pub account_podcast_rows: u64,
    /// Account rows that are an extended listen again (same names, same minute): each must
    /// merge into it, never be stored twice.
    pub account_matched: u64,
    /// Account rows with no extended counterpart: each must be stored as a new listen.
    pub account_only_listens: u64,
    /// Distinct tracks among the account-only rows; none is in the extended history, and
    /// their artists all are.
    pub account_only_distinct_tracks: u64,
}

impl GroundTruth {
    /// Listens stored after importing the extended history and the account data.
    pub fn listens_after_merge(&self) -> u64 {
        self.listens + self.account_only_listens
    }

    /// Distinct tracks after importing both parts.
    pub fn distinct_tracks_after_merge(&self) -> u64 {
        self.distinct_tracks + self.account_only_distinct_tracks
    }
}

/// One file of a synthetic export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path inside the ZIP or folder.
    pub name: String,
    /// Its kind, as [`classify`](crate::classify) names it.
    pub kind: FileKind,
    /// Array elements it holds.
    pub records: u64,
}

/// A set of small integers (catalogue indexes), for distinct counts without hashing.
#[derive(Debug, Clone, Default)]
pub(crate) struct IndexSet {
    bits: Vec<u64>,
    len: u64,
}

impl IndexSet {
    pub(crate) fn insert(&mut self, index: usize) {
        let (word, bit) = (index / 64, index % 64);
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        if self.bits[word] & (1 << bit) == 0 {
            self.bits[word] |= 1 << bit;
            self.len += 1;
        }
    }

    pub(crate) fn contains(&self, index: usize) -> bool {
        self.bits
            .get(index / 64)
            .is_some_and(|w| w & (1 << (index % 64)) != 0)
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }
}
