//! What the rollups record, and how it is stored as bytes.
//!
//! The encoding is compact records behind a format byte: counts as LEB128 varints, track
//! records with ids as deltas and times relative to their day, so ten years of daily
//! summaries stay a few megabytes and a long window reads quickly. A blob of another format
//! (or a damaged one) decodes as an error, and the refresh then rebuilds it.

use spotify_history_core::CountingRule;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes ids (dense integers, never attacker-chosen) with one multiplication: the rollup
/// merges hundreds of thousands of entries per question, where SipHash would dominate.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_i64(&mut self, n: i64) {
        self.0 = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_i16(&mut self, n: i16) {
        self.write_i64(i64::from(n));
    }
}

/// A map keyed by ids.
pub(crate) type IdMap<V> = HashMap<i64, V, BuildHasherDefault<IdHasher>>;

pub(crate) const DAY_MS: i64 = 86_400_000;
/// Days summarised together in a block (`block = day / BLOCK_DAYS`, see `history_block_tracks`).
pub(crate) const BLOCK_DAYS: i64 = 64;
pub(crate) const SLOT_MS: i64 = 900_000;

/// The UTC days lying wholly inside `[from, to)`, as `first..end` (empty when `first >= end`);
/// what lies outside them is the window's ragged edges.
pub(crate) fn whole_days(from: i64, to: i64) -> (i64, i64) {
    whole_units(from, to, DAY_MS)
}

/// The units of `unit` (numbered from 0) lying wholly inside `[from, to)`, as `first..end`.
pub(crate) fn whole_units(from: i64, to: i64, unit: i64) -> (i64, i64) {
    (
        from.div_euclid(unit) + i64::from(from.rem_euclid(unit) != 0),
        to.div_euclid(unit),
    )
}

const SLOTS_PER_DAY: i64 = DAY_MS / SLOT_MS;
/// Bumped whenever a layout below changes.
const FORMAT: u8 = 2;

/// The rule the rollup's plays are counted by (the service default: 30 s, unknown durations
/// count). Questions with another rule are answered from the plays themselves.
pub(crate) const ROLLUP_RULE: CountingRule = CountingRule {
    min_ms_played: 30_000,
    count_unknown_duration: true,
};

/// Listens (any duration) and plays (under [`ROLLUP_RULE`]) ending in one 15-minute UTC
/// slot. 32 bits hold far more than fits in 15 minutes of one person's listening: even a
/// slot of hour-long podcast plays reaches only millions of ms.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SlotCounts {
    pub listens: u32,
    pub listen_ms: u32,
    pub plays: u32,
    pub play_ms: u32,
}

impl SlotCounts {
    fn add(&mut self, other: &SlotCounts) {
        self.listens = self.listens.saturating_add(other.listens);
        self.listen_ms = self.listen_ms.saturating_add(other.listen_ms);
        self.plays = self.plays.saturating_add(other.plays);
        self.play_ms = self.play_ms.saturating_add(other.play_ms);
    }
}

/// Listens and plays confirmed by one set of sources (a `plays.sources` bitmask).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SourceCounts {
    pub listens: u64,
    pub plays: u64,
}

/// One track's plays under [`ROLLUP_RULE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TrackPlays {
    pub plays: u64,
    pub ms: u64,
    /// First and last counted play (Unix ms).
    pub first: i64,
    pub last: i64,
}

impl TrackPlays {
    pub(crate) fn add(&mut self, other: &TrackPlays) {
        self.plays += other.plays;
        self.ms += other.ms;
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
    }
}

/// What the catalogue says about a track, kept beside its totals so rankings by artist or
/// album need no join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TrackInfo {
    pub kind: i16,
    /// 0 when none.
    pub album: i64,
    /// The primary artist; 0 when none.
    pub artist: i64,
}

/// The plays of one user in one UTC day, or in any stretch of time.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    /// By absolute slot number (`ended_at / SLOT_MS`), ascending.
    pub slots: Vec<(i64, SlotCounts)>,
    pub sources: HashMap<i16, SourceCounts>,
    pub tracks: IdMap<TrackPlays>,
}

impl Summary {
    /// Adds one stored listen.
    pub(crate) fn add_listen(&mut self, ended_at: i64, track: i64, ms: Option<i64>, sources: i16) {
        let counted = ROLLUP_RULE.counts(ms);
        let ms = ms.unwrap_or(0).max(0) as u64;
        let slot = ended_at.div_euclid(SLOT_MS);
        let slot_ms = u32::try_from(ms).unwrap_or(u32::MAX);
        let counts = SlotCounts {
            listens: 1,
            listen_ms: slot_ms,
            plays: u32::from(counted),
            play_ms: if counted { slot_ms } else { 0 },
        };
        match self.slots.last_mut() {
            Some((last, existing)) if *last == slot => existing.add(&counts),
            // Listens arrive in time order from every reader, so slots stay sorted.
            _ => self.slots.push((slot, counts)),
        }
        let source = self.sources.entry(sources).or_default();
        source.listens += 1;
        source.plays += u64::from(counted);
        if counted {
            let play = TrackPlays {
                plays: 1,
                ms,
                first: ended_at,
                last: ended_at,
            };
            self.tracks
                .entry(track)
                .and_modify(|t| t.add(&play))
                .or_insert(play);
        }
    }

    /// Adds another summary of later (or the same) time.
    pub(crate) fn absorb(&mut self, other: Summary) {
        for (slot, counts) in other.slots {
            match self.slots.last_mut() {
                Some((last, existing)) if *last == slot => existing.add(&counts),
                _ => self.slots.push((slot, counts)),
            }
        }
        for (sources, counts) in other.sources {
            let entry = self.sources.entry(sources).or_default();
            entry.listens += counts.listens;
            entry.plays += counts.plays;
        }
        for (track, plays) in other.tracks {
            self.tracks
                .entry(track)
                .and_modify(|t| t.add(&plays))
                .or_insert(plays);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

/// Writes fixed-width little-endian fields.
struct Writer(Vec<u8>);

impl Writer {
    fn new(capacity: usize) -> Writer {
        let mut bytes = Vec::with_capacity(capacity + 5);
        bytes.push(FORMAT);
        Writer(bytes)
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i16(&mut self, v: i16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    /// A signed number as a varint: small magnitudes of either sign stay short.
    fn zigzag(&mut self, v: i64) {
        self.varint(((v << 1) ^ (v >> 63)) as u64);
    }
    /// LEB128: seven bits a byte, small numbers (most counts) in one byte.
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
}

/// Reads what [`Writer`] wrote; `None` on a short or foreign blob.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Option<Reader<'a>> {
        match bytes.split_first() {
            Some((&FORMAT, rest)) => Some(Reader(rest)),
            _ => None,
        }
    }
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
    fn i16(&mut self) -> Option<i16> {
        self.take().map(i16::from_le_bytes)
    }
    /// A LEB128 varint; most values of a summary take one to four bytes.
    #[inline(always)]
    fn varint(&mut self) -> Option<u64> {
        let bytes = self.0;
        let mut value = 0u64;
        let mut i = 0;
        while i < bytes.len().min(10) {
            let byte = bytes[i];
            value |= u64::from(byte & 0x7f) << (7 * i);
            i += 1;
            if byte < 0x80 {
                self.0 = &bytes[i..];
                return Some(value);
            }
        }
        None
    }
    #[inline(always)]
    fn zigzag(&mut self) -> Option<i64> {
        let v = self.varint()?;
        Some((v >> 1) as i64 ^ -((v & 1) as i64))
    }
    fn varint32(&mut self) -> Option<u32> {
        u32::try_from(self.varint()?).ok()
    }
}

/// A day's slots: slot within the day, then the four counts as varints (a typical slot
/// takes 9 bytes, a day under a kilobyte).
pub(crate) fn encode_slots(day: i64, slots: &[(i64, SlotCounts)]) -> Vec<u8> {
    let mut w = Writer::new(2 + slots.len() * 10);
    w.varint(slots.len() as u64);
    for (slot, c) in slots {
        w.0.push((slot - day * SLOTS_PER_DAY) as u8);
        w.varint(c.listens.into());
        w.varint(c.listen_ms.into());
        w.varint(c.plays.into());
        w.varint(c.play_ms.into());
    }
    w.0
}

pub(crate) fn decode_slots(day: i64, bytes: &[u8], out: &mut Vec<(i64, SlotCounts)>) -> Option<()> {
    let mut r = Reader::new(bytes)?;
    for _ in 0..r.varint()? {
        let [slot] = r.take::<1>()?;
        out.push((
            day * SLOTS_PER_DAY + i64::from(slot),
            SlotCounts {
                listens: r.varint32()?,
                listen_ms: r.varint32()?,
                plays: r.varint32()?,
                play_ms: r.varint32()?,
            },
        ));
    }
    Some(())
}

pub(crate) fn encode_sources(sources: &HashMap<i16, SourceCounts>) -> Vec<u8> {
    let mut w = Writer::new(4 + sources.len() * 18);
    w.u32(sources.len() as u32);
    let mut sorted: Vec<_> = sources.iter().collect();
    sorted.sort_by_key(|(s, _)| **s);
    for (set, c) in sorted {
        w.i16(*set);
        w.u64(c.listens);
        w.u64(c.plays);
    }
    w.0
}

pub(crate) fn decode_sources(bytes: &[u8], out: &mut HashMap<i16, SourceCounts>) -> Option<()> {
    let mut r = Reader::new(bytes)?;
    for _ in 0..r.u32()? {
        let set = r.i16()?;
        let entry = out.entry(set).or_default();
        entry.listens += r.u64()?;
        entry.plays += r.u64()?;
    }
    Some(())
}

/// A day's tracks, by track id, each with what the catalogue says about it (so questions
/// about a window need not read the totals).
pub(crate) fn encode_day_tracks(
    day: i64,
    tracks: &IdMap<TrackPlays>,
    info: impl Fn(i64) -> TrackInfo,
) -> Vec<u8> {
    let mut sorted: Vec<_> = tracks.iter().map(|(id, t)| (*id, info(*id), *t)).collect();
    sorted.sort_unstable_by_key(|(id, _, _)| *id);
    encode_tracks(day * DAY_MS, &sorted)
}

/// Adds a track's plays to `tracks`.
pub(crate) fn add_track(
    tracks: &mut IdMap<(TrackInfo, TrackPlays)>,
    id: i64,
    info: TrackInfo,
    plays: TrackPlays,
) {
    tracks
        .entry(id)
        .and_modify(|(_, t)| t.add(&plays))
        .or_insert((info, plays));
}

/// Adds the tracks of a day or block starting at `start_ms` to `out`.
pub(crate) fn add_tracks(
    start_ms: i64,
    bytes: &[u8],
    out: &mut IdMap<(TrackInfo, TrackPlays)>,
) -> Option<()> {
    for_each_track(start_ms, bytes, |id, info, plays| {
        add_track(out, id, info, plays)
    })
}

/// Calls `f` with each of a day's tracks.
pub(crate) fn for_each_day_track(
    day: i64,
    bytes: &[u8],
    f: impl FnMut(i64, TrackInfo, TrackPlays),
) -> Option<()> {
    for_each_track(day * DAY_MS, bytes, f)
}

/// Calls `f` with each track of a day or block starting at `start_ms`.
pub(crate) fn for_each_track(
    start_ms: i64,
    bytes: &[u8],
    mut f: impl FnMut(i64, TrackInfo, TrackPlays),
) -> Option<()> {
    let mut tracks = TrackReader::new(start_ms, bytes)?;
    while let Some((id, info, plays)) = tracks.next_track()? {
        f(id, info, plays);
    }
    Some(())
}

/// A block's tracks (its days' tracks merged), by track id.
pub(crate) fn encode_block_tracks(block: i64, tracks: IdMap<(TrackInfo, TrackPlays)>) -> Vec<u8> {
    let mut sorted: Vec<_> = tracks
        .into_iter()
        .map(|(id, (info, plays))| (id, info, plays))
        .collect();
    sorted.sort_unstable_by_key(|(id, _, _)| *id);
    encode_tracks(block * BLOCK_DAYS * DAY_MS, &sorted)
}

/// A user's totals: one record per track, sorted by track id.
pub(crate) fn encode_totals(totals: &[(i64, TrackInfo, TrackPlays)]) -> Vec<u8> {
    encode_tracks(0, totals)
}

pub(crate) fn decode_totals(bytes: &[u8]) -> Option<Vec<(i64, TrackInfo, TrackPlays)>> {
    let mut tracks = TrackReader::new(0, bytes)?;
    let mut totals = Vec::with_capacity(tracks.len());
    while let Some(track) = tracks.next_track()? {
        totals.push(track);
    }
    Some(totals)
}

/// Track records sorted by id: the count, then per track the id's distance from the one
/// before, kind, album, artist, plays, time, and first and last play relative to `base`
/// (a day's start) and to each other, all varints: about 20 bytes a track.
fn encode_tracks(base: i64, tracks: &[(i64, TrackInfo, TrackPlays)]) -> Vec<u8> {
    let mut w = Writer::new(5 + tracks.len() * 24);
    w.varint(tracks.len() as u64);
    let mut previous = 0i64;
    for (id, info, t) in tracks {
        w.zigzag(id.wrapping_sub(previous));
        previous = *id;
        w.zigzag(info.kind.into());
        w.zigzag(info.album);
        w.zigzag(info.artist);
        w.varint(t.plays);
        w.varint(t.ms);
        w.zigzag(t.first.wrapping_sub(base));
        w.zigzag(t.last.wrapping_sub(t.first));
    }
    w.0
}

/// Reads what [`encode_tracks`] wrote, one track at a time.
struct TrackReader<'a> {
    r: Reader<'a>,
    base: i64,
    left: u64,
    previous: i64,
}

impl<'a> TrackReader<'a> {
    fn new(base: i64, bytes: &'a [u8]) -> Option<TrackReader<'a>> {
        let mut r = Reader::new(bytes)?;
        let left = r.varint()?;
        Some(TrackReader {
            r,
            base,
            left,
            previous: 0,
        })
    }

    /// Tracks still to read (a hint for allocations: never more than the bytes left).
    fn len(&self) -> usize {
        usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(self.r.0.len())
    }

    /// The next track; `Some(None)` after the last, `None` if the blob is damaged.
    #[inline(always)]
    fn next_track(&mut self) -> Option<Option<(i64, TrackInfo, TrackPlays)>> {
        if self.left == 0 {
            return Some(None);
        }
        self.left -= 1;
        let r = &mut self.r;
        let id = self.previous.wrapping_add(r.zigzag()?);
        self.previous = id;
        let info = TrackInfo {
            kind: i16::try_from(r.zigzag()?).ok()?,
            album: r.zigzag()?,
            artist: r.zigzag()?,
        };
        let plays = r.varint()?;
        let ms = r.varint()?;
        let first = self.base.wrapping_add(r.zigzag()?);
        let last = first.wrapping_add(r.zigzag()?);
        Some(Some((
            id,
            info,
            TrackPlays {
                plays,
                ms,
                first,
                last,
            },
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_count_listens_and_plays_and_round_trip() {
        let day = 19_000;
        let t0 = day * DAY_MS + 5 * SLOT_MS;
        let mut summary = Summary::default();
        summary.add_listen(t0, 7, Some(200_000), 1);
        summary.add_listen(t0 + 60_000, 7, Some(10_000), 1);
        summary.add_listen(t0 + SLOT_MS, 8, None, 5);
        assert_eq!(summary.slots.len(), 2);
        assert_eq!(
            summary.slots[0].1,
            SlotCounts {
                listens: 2,
                listen_ms: 210_000,
                plays: 1,
                play_ms: 200_000
            }
        );
        assert_eq!(summary.tracks[&7].plays, 1);
        assert_eq!(summary.tracks[&8].ms, 0);
        assert_eq!(
            summary.sources[&1],
            SourceCounts {
                listens: 2,
                plays: 1
            }
        );

        let mut slots = Vec::new();
        decode_slots(day, &encode_slots(day, &summary.slots), &mut slots).unwrap();
        assert_eq!(slots, summary.slots);
        let mut sources = HashMap::new();
        decode_sources(&encode_sources(&summary.sources), &mut sources).unwrap();
        assert_eq!(sources, summary.sources);
        let info = TrackInfo {
            kind: 0,
            album: 3,
            artist: 4,
        };
        let mut tracks = IdMap::default();
        add_tracks(
            day * DAY_MS,
            &encode_day_tracks(day, &summary.tracks, |_| info),
            &mut tracks,
        )
        .unwrap();
        let expected: IdMap<_> = summary
            .tracks
            .iter()
            .map(|(id, t)| (*id, (info, *t)))
            .collect();
        assert_eq!(tracks, expected);
        // A block holds its days' tracks, times relative to its own start.
        let block = day.div_euclid(BLOCK_DAYS);
        let mut merged = IdMap::default();
        let block_start = block * BLOCK_DAYS * DAY_MS;
        add_tracks(
            block_start,
            &encode_block_tracks(block, tracks),
            &mut merged,
        )
        .unwrap();
        assert_eq!(merged, expected);

        let totals = vec![(7, info, summary.tracks[&7])];
        assert_eq!(decode_totals(&encode_totals(&totals)).unwrap(), totals);
        assert!(decode_totals(&[FORMAT + 1, 0]).is_none());
        assert!(
            decode_totals(&[FORMAT - 1, 0]).is_none(),
            "the old fixed-width format"
        );
        let mut w = Writer::new(0);
        for v in [0, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            w.varint(v);
        }
        let mut r = Reader::new(&w.0).unwrap();
        for v in [0, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(r.varint(), Some(v));
        }
        assert_eq!(r.varint(), None);
        let encoded = encode_totals(&totals);
        assert!(decode_totals(&encoded[..encoded.len() - 1]).is_none());
    }
}
