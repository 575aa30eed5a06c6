//! What reading one array element yields: a listen, or a skip with its reason.

use spotify_history_core::NewListen;

/// One element of an export file's array, normalised.
// Not boxed: nearly every record is a listen, moved once into a batch; a box would cost an
// allocation per listen to save space only on skips.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A listen to store (or merge with one already stored).
    Listen(NewListen),
    /// An element that carries no listen, with the reason the import report shows.
    Skipped(SkipReason),
}

/// Why an element was not imported. Every skipped element is counted under one reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// No track, episode or chapter URI and no track + artist names: nothing was heard.
    NoUriAndNoNames,
    /// `ms_played` is 0: the stream started and stopped at once.
    ZeroMsPlayed,
    /// Something was heard, but of a kind this service does not store (unknown URI scheme,
    /// an episode or audiobook named without URI and without its show).
    UnsupportedKind,
    /// Not a JSON object, or a field of the wrong type (e.g. `ts` as a number).
    MalformedRecord,
    /// `ts` / `endTime` missing or not a date-time.
    MalformedTimestamp,
    /// Negative or more than 24 h `ms_played`, or an end time before 2006 or in the future.
    AbsurdValue,
}

impl SkipReason {
    /// Every reason, in report order.
    pub const ALL: [SkipReason; 6] = [
        SkipReason::NoUriAndNoNames,
        SkipReason::ZeroMsPlayed,
        SkipReason::UnsupportedKind,
        SkipReason::MalformedRecord,
        SkipReason::MalformedTimestamp,
        SkipReason::AbsurdValue,
    ];

    /// The stable snake_case name used in reports and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::NoUriAndNoNames => "no_uri_and_no_names",
            SkipReason::ZeroMsPlayed => "zero_ms_played",
            SkipReason::UnsupportedKind => "unsupported_kind",
            SkipReason::MalformedRecord => "malformed_record",
            SkipReason::MalformedTimestamp => "malformed_timestamp",
            SkipReason::AbsurdValue => "absurd_value",
        }
    }

    /// The reason stored under this name.
    pub fn from_name(name: &str) -> Option<SkipReason> {
        SkipReason::ALL.into_iter().find(|r| r.as_str() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many elements were skipped, per reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkipCounts([u64; SkipReason::ALL.len()]);

impl SkipCounts {
    /// Count one more skip for `reason`.
    pub fn add(&mut self, reason: SkipReason) {
        self.0[reason.index()] += 1;
    }

    /// Skips counted for `reason`.
    pub fn get(&self, reason: SkipReason) -> u64 {
        self.0[reason.index()]
    }

    /// Skips of every reason together.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Each reason with its count, zeros included, in report order.
    pub fn iter(&self) -> impl Iterator<Item = (SkipReason, u64)> + '_ {
        SkipReason::ALL.into_iter().map(|r| (r, self.get(r)))
    }

    /// Add another file's counts to these.
    pub fn merge(&mut self, other: &SkipCounts) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine += theirs;
        }
    }
}

/// What reading one export file did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSummary {
    /// Elements of the array seen, including the `skip_first` ones passed over on resume.
    /// This is the checkpoint to store once everything delivered is committed.
    pub records: u64,
    /// Elements passed over because an earlier run already committed them.
    pub resumed_past: u64,
    /// Listens delivered.
    pub listens: u64,
    /// Elements delivered as skipped, per reason.
    pub skipped: SkipCounts,
    /// True when the callback asked to stop before the end of the file.
    pub stopped_early: bool,
}
