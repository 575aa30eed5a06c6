//! Realistic, deterministic Spotify exports for tests, benchmarks and the `demo` command.
//!
//! [`SyntheticExport::generate`] draws a listening history from a seed: Zipf-popular artists
//! and tracks with Unicode names, podcasts, a few audiobook chapters and local files, ~2.5 %
//! overlapping streams (same `ts`, another item), rows the importer must skip, and every
//! generation of the extended-history fields. It writes the extended history and, optionally,
//! the account-data export of its last 365 days, as a ZIP or a folder laid out like Spotify's.
//!
//! Nothing is held per listen: the history is regenerated from the seed for each file, and
//! the [`GroundTruth`] is counted while generating, so a million listens need little memory.
//!
//! Guarantees that keep the ground truth exact:
//! - every listen has a distinct (end time, item), so the store keeps all of them;
//! - no two listens with the same names end in the same minute, so each account-data row
//!   matches exactly one extended listen (or, for the extra account-only rows, none);
//! - account-data rows are exactly the extended track and episode listens (not chapters,
//!   which account data does not list) ending in the last 365 days of the span, plus the
//!   configured account-only listens of tracks the extended history never names.

mod catalog;
mod listens;
mod truth;
mod write;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::io;
use std::iter::Peekable;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use self::catalog::Catalog;
use self::listens::{Content, Row, RowStream, year_of, year_start_s};
use self::truth::IndexSet;
use self::write::{
    ExportSink, JsonArrayWriter, write_account_music, write_account_podcast, write_extended,
};
use crate::classify;

pub use self::truth::{GeneratedFile, GroundTruth};

const EXTENDED_DIR: &str = "Spotify Extended Streaming History";
const ACCOUNT_DIR: &str = "Spotify Account Data";
const LEGACY_DIR: &str = "MyData";
const SECONDS_PER_YEAR: i64 = 365 * 86_400;

/// What to generate. The defaults are a plausible five-year history of 10,000 streams.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticConfig {
    /// Extended-history rows (listens and skipped rows together).
    pub plays: u64,
    /// Everything drawn follows from it: the same seed gives the same export.
    pub seed: u64,
    /// The history runs from January 1st of this year...
    pub start_year: i32,
    /// ... for this many years.
    pub years: u16,
    /// Share of rows that are podcast episodes.
    pub podcast_share: f64,
    /// Share of episodes that are video podcasts (written to `Streaming_History_Video_*`).
    pub video_share_of_podcasts: f64,
    /// Share of rows that are audiobook chapters (only from late 2022, when they appeared).
    pub audiobook_share: f64,
    /// Share of track rows that are local files: names, no URI.
    pub local_file_share: f64,
    /// Share of rows ending at the same second as the previous one (two devices, crossfade).
    pub overlap_share: f64,
    /// Share of rows the importer must skip (no metadata, zero or absurd `ms_played`).
    pub skipped_row_share: f64,
    /// Most rows per file, like Spotify's ~16,000.
    pub records_per_file: u64,
    /// Also write the account-data export of the last 365 days.
    pub account_data: bool,
    /// Account-data listens that the extended history does not have (new listens on merge).
    pub account_only_listens: u64,
    /// Name files as older exports did (`MyData/endsong_N.json`, `StreamingHistoryN.json`).
    pub legacy_file_names: bool,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        Self {
            plays: 10_000,
            seed: 42,
            start_year: 2019,
            years: 5,
            podcast_share: 0.06,
            video_share_of_podcasts: 0.05,
            audiobook_share: 0.004,
            local_file_share: 0.005,
            overlap_share: 0.025,
            skipped_row_share: 0.012,
            records_per_file: 16_000,
            account_data: true,
            account_only_listens: 0,
            legacy_file_names: false,
        }
    }
}

/// A generated export, ready to be written as many times as needed (always the same bytes
/// of JSON for the same configuration).
pub struct SyntheticExport {
    config: SyntheticConfig,
    catalog: Catalog,
    truth: GroundTruth,
    plan: Plan,
    extras: Vec<AccountOnly>,
    /// Names of the account-only tracks, indexed by [`AccountOnly::track`].
    extra_tracks: Vec<String>,
}

#[derive(Default)]
struct Plan {
    audio: Vec<PlannedFile>,
    video: Vec<PlannedFile>,
    music: Vec<PlannedFile>,
    podcast: Vec<PlannedFile>,
    unknown: Vec<(String, &'static [u8])>,
}

struct PlannedFile {
    name: String,
    records: u64,
    first_year: i32,
    last_year: i32,
}

/// An account-data listen with no extended counterpart.
struct AccountOnly {
    ts_s: i64,
    artist: usize,
    track: usize,
    ms_played: i64,
}

/// A row of the account-data music file, borrowed from the catalogue.
struct MusicRow<'a> {
    ts_s: i64,
    artist: &'a str,
    track: &'a str,
    ms_played: i64,
}

impl SyntheticExport {
    /// Draw the catalogue and count the ground truth; files are written on demand.
    pub fn generate(config: SyntheticConfig) -> Self {
        let mut catalog_rng = StdRng::seed_from_u64(config.seed);
        let catalog = Catalog::generate(&mut catalog_rng, config.plays);
        let mut export = Self {
            config,
            catalog,
            truth: GroundTruth::default(),
            plan: Plan::default(),
            extras: Vec::new(),
            extra_tracks: Vec::new(),
        };
        export.count();
        export
    }

    /// What importing this export must give.
    pub fn ground_truth(&self) -> &GroundTruth {
        &self.truth
    }

    /// The configuration it was generated from.
    pub fn config(&self) -> &SyntheticConfig {
        &self.config
    }

    /// Write it as a ZIP like Spotify's download, with nested folders, deflated, streamed.
    pub fn write_zip(&self, path: &Path) -> io::Result<()> {
        let mut sink = ExportSink::zip(path)?;
        self.write_to(&mut sink)?;
        sink.finish()
    }

    /// Write it as the folder the ZIP unpacks to.
    pub fn write_dir(&self, path: &Path) -> io::Result<()> {
        let mut sink = ExportSink::dir(path)?;
        self.write_to(&mut sink)?;
        sink.finish()
    }

    fn rows(&self) -> RowStream<'_> {
        RowStream::new(&self.catalog, &self.config)
    }

    fn end_s(&self) -> i64 {
        year_start_s(self.config.start_year + i32::from(self.config.years.max(1)))
    }

    fn account_cutoff_s(&self) -> i64 {
        self.end_s() - SECONDS_PER_YEAR
    }

    /// Does this row reappear in the account data?
    fn in_account_data(&self, row: &Row) -> bool {
        self.config.account_data
            && row.expected_skip.is_none()
            && row.ts_s >= self.account_cutoff_s()
            && matches!(row.content, Content::Track { .. } | Content::Episode { .. })
    }

    /// One pass over the history: the ground truth and the file plan.
    fn count(&mut self) {
        let per_file = self.config.records_per_file.max(1);
        let mut truth = GroundTruth::default();
        let (mut audio, mut video) = (Vec::new(), Vec::new());
        let (mut audio_rows, mut video_rows) = (0u64, 0u64);
        let (mut music_rows, mut podcast_rows) = (0u64, 0u64);
        let mut tracks = IndexSet::default();
        let mut artists = IndexSet::default();
        let mut albums = IndexSet::default();
        let mut episodes = IndexSet::default();
        let mut shows = IndexSet::default();
        let mut chapters = IndexSet::default();

        for row in self.rows() {
            truth.extended_records += 1;
            let (files, n) = if row.video {
                (&mut video, &mut video_rows)
            } else {
                (&mut audio, &mut audio_rows)
            };
            plan_row(files, *n, per_file, year_of(row.ts_s));
            *n += 1;
            if let Some(reason) = row.expected_skip {
                truth.skipped.add(reason);
                continue;
            }
            truth.listens += 1;
            truth.total_ms_played += row.ms_played;
            truth.plays_at_least_30s += u64::from(row.ms_played >= 30_000);
            match row.content {
                Content::Track { track, with_uri } => {
                    truth.track_listens += 1;
                    tracks.insert(track * 2 + usize::from(with_uri));
                    artists.insert(self.catalog.artist_of(track));
                    albums.insert(self.catalog.tracks[track].album);
                }
                Content::Episode { episode } => {
                    truth.episode_listens += 1;
                    episodes.insert(episode);
                    shows.insert(self.catalog.episodes[episode].show);
                }
                Content::Chapter { chapter } => {
                    truth.chapter_listens += 1;
                    chapters.insert(chapter);
                }
                Content::Nothing => unreachable!("rows without metadata are always skipped"),
            }
            if self.in_account_data(&row) {
                match row.content {
                    Content::Episode { .. } => podcast_rows += 1,
                    _ => music_rows += 1,
                }
            }
        }
        truth.distinct_tracks = tracks.len();
        truth.distinct_artists = artists.len();
        truth.distinct_albums = albums.len();
        truth.distinct_episodes = episodes.len();
        truth.distinct_shows = shows.len();
        truth.distinct_chapters = chapters.len();
        truth.account_matched = music_rows + podcast_rows;

        if self.config.account_data {
            (self.extras, self.extra_tracks) = self.draw_account_only(&artists);
            let distinct: HashSet<usize> = self.extras.iter().map(|e| e.track).collect();
            truth.account_only_listens = self.extras.len() as u64;
            truth.account_only_distinct_tracks = distinct.len() as u64;
            music_rows += truth.account_only_listens;
        }
        truth.account_music_rows = music_rows;
        truth.account_podcast_rows = podcast_rows;
        truth.account_rows = music_rows + podcast_rows;

        self.plan = self.name_files(audio, video, music_rows, podcast_rows);
        truth.files = [
            &self.plan.audio,
            &self.plan.video,
            &self.plan.music,
            &self.plan.podcast,
        ]
        .into_iter()
        .flatten()
        .map(|f| GeneratedFile {
            name: f.name.clone(),
            kind: classify(&f.name),
            records: f.records,
        })
        .collect();
        truth.unknown_files = self.plan.unknown.iter().map(|(n, _)| n.clone()).collect();
        self.truth = truth;
    }

    /// Account-only listens: tracks named `Radio Session N` (a name the catalogue never uses)
    /// by artists the extended history has, so merging adds listens and tracks, not artists.
    fn draw_account_only(&self, heard_artists: &IndexSet) -> (Vec<AccountOnly>, Vec<String>) {
        let count = self.config.account_only_listens;
        if count == 0 {
            return (Vec::new(), Vec::new());
        }
        let mut rng = StdRng::seed_from_u64(self.config.seed ^ 0xACC0_0417);
        let artists: Vec<usize> = (0..self.catalog.artists.len())
            .filter(|&a| heard_artists.contains(a))
            .collect();
        let artists = if artists.is_empty() { vec![0] } else { artists };
        let pool = count.div_ceil(3) as usize;
        let track_artist: Vec<usize> = (0..pool)
            .map(|_| artists[rng.random_range(0..artists.len())])
            .collect();
        let mut taken = HashSet::new();
        let mut extras: Vec<AccountOnly> = (0..count)
            .map(|_| {
                loop {
                    let ts_s = rng.random_range(self.account_cutoff_s()..self.end_s());
                    let track = rng.random_range(0..pool);
                    if taken.insert((ts_s.div_euclid(60), track)) {
                        break AccountOnly {
                            ts_s,
                            artist: track_artist[track],
                            track,
                            ms_played: rng.random_range(1_000..300_000),
                        };
                    }
                }
            })
            .collect();
        extras.sort_by_key(|e| (e.ts_s, e.track));
        let names = (1..=pool)
            .map(|n| format!("Radio Session {n} 📻"))
            .collect();
        (extras, names)
    }

    fn name_files(
        &self,
        mut audio: Vec<PlannedFile>,
        mut video: Vec<PlannedFile>,
        music_rows: u64,
        podcast_rows: u64,
    ) -> Plan {
        let legacy = self.config.legacy_file_names;
        let years = |f: &PlannedFile| {
            if f.first_year == f.last_year {
                f.first_year.to_string()
            } else {
                format!("{}-{}", f.first_year, f.last_year)
            }
        };
        for (k, file) in audio.iter_mut().enumerate() {
            file.name = if legacy {
                format!("{LEGACY_DIR}/endsong_{k}.json")
            } else {
                format!(
                    "{EXTENDED_DIR}/Streaming_History_Audio_{}_{k}.json",
                    years(file)
                )
            };
        }
        for (k, file) in video.iter_mut().enumerate() {
            file.name = match (legacy, k) {
                (true, _) => format!("{LEGACY_DIR}/endvideo_{k}.json"),
                (false, 0) => format!(
                    "{EXTENDED_DIR}/Streaming_History_Video_{}.json",
                    years(file)
                ),
                (false, _) => {
                    format!(
                        "{EXTENDED_DIR}/Streaming_History_Video_{}_{k}.json",
                        years(file)
                    )
                }
            };
        }
        let per_file = self.config.records_per_file.max(1);
        let split = |rows: u64, name: &dyn Fn(usize) -> String| -> Vec<PlannedFile> {
            (0..rows.div_ceil(per_file) as usize)
                .map(|k| PlannedFile {
                    name: name(k),
                    records: per_file.min(rows - k as u64 * per_file),
                    first_year: 0,
                    last_year: 0,
                })
                .collect()
        };
        let (music, podcast) = if legacy {
            (
                split(music_rows, &|k| {
                    format!("{LEGACY_DIR}/StreamingHistory{k}.json")
                }),
                split(podcast_rows, &|k| {
                    format!("{LEGACY_DIR}/StreamingHistory_podcast_{k}.json")
                }),
            )
        } else {
            (
                split(music_rows, &|k| {
                    format!("{ACCOUNT_DIR}/StreamingHistory_music_{k}.json")
                }),
                split(podcast_rows, &|k| {
                    format!("{ACCOUNT_DIR}/StreamingHistory_podcast_{k}.json")
                }),
            )
        };
        let mut unknown: Vec<(String, &'static [u8])> = Vec::new();
        let (extended_dir, account_dir) = if legacy {
            (LEGACY_DIR, LEGACY_DIR)
        } else {
            (EXTENDED_DIR, ACCOUNT_DIR)
        };
        unknown.push((
            format!("{extended_dir}/ReadMeFirst_ExtendedStreamingHistory.pdf"),
            b"%PDF-1.4\n% synthetic read-me: not a real PDF\n",
        ));
        if self.config.account_data {
            unknown.push((
                format!("{account_dir}/Userdata.json"),
                br#"{"username":"synthetic-listener","country":"IS"}"#,
            ));
            unknown.push((
                format!("{account_dir}/Playlist1.json"),
                br#"{"playlists":[]}"#,
            ));
        }
        Plan {
            audio,
            video,
            music,
            podcast,
            unknown,
        }
    }

    fn write_to(&self, sink: &mut ExportSink) -> io::Result<()> {
        self.write_extended_files(sink, &self.plan.audio, false)?;
        self.write_extended_files(sink, &self.plan.video, true)?;
        let mut music = self.music_rows();
        for file in &self.plan.music {
            let mut out = JsonArrayWriter::begin(sink.start(&file.name)?)?;
            for row in music.by_ref().take(file.records as usize) {
                write_account_music(&mut out, row.ts_s, row.artist, row.track, row.ms_played)?;
            }
            out.end()?;
        }
        let mut podcasts = self.rows().filter(|row| {
            self.in_account_data(row) && matches!(row.content, Content::Episode { .. })
        });
        for file in &self.plan.podcast {
            let mut out = JsonArrayWriter::begin(sink.start(&file.name)?)?;
            for row in podcasts.by_ref().take(file.records as usize) {
                let Content::Episode { episode } = row.content else {
                    unreachable!("filtered to episodes")
                };
                let e = &self.catalog.episodes[episode];
                let show = &self.catalog.shows[e.show].name;
                write_account_podcast(&mut out, row.ts_s, show, &e.name, row.ms_played)?;
            }
            out.end()?;
        }
        for (name, content) in &self.plan.unknown {
            sink.start(name)?.write_all(content)?;
        }
        Ok(())
    }

    fn write_extended_files(
        &self,
        sink: &mut ExportSink,
        files: &[PlannedFile],
        video: bool,
    ) -> io::Result<()> {
        let mut rows = self.rows().filter(|row| row.video == video);
        for file in files {
            let mut out = JsonArrayWriter::begin(sink.start(&file.name)?)?;
            for row in rows.by_ref().take(file.records as usize) {
                write_extended(&mut out, &self.catalog, &row)?;
            }
            out.end()?;
        }
        Ok(())
    }

    /// Account music rows in time order: extended track listens of the last year merged with
    /// the account-only listens.
    fn music_rows(&self) -> impl Iterator<Item = MusicRow<'_>> {
        let catalog = &self.catalog;
        let mut from_history: Peekable<_> = self
            .rows()
            .filter_map(move |row| match row.content {
                Content::Track { track, .. } if self.in_account_data(&row) => {
                    let t = &catalog.tracks[track];
                    Some(MusicRow {
                        ts_s: row.ts_s,
                        artist: &catalog.artists[catalog.albums[t.album].artist],
                        track: &t.name,
                        ms_played: row.ms_played,
                    })
                }
                _ => None,
            })
            .peekable();
        let mut extras = self.extras.iter().peekable();
        std::iter::from_fn(move || {
            let extra_first = match (from_history.peek(), extras.peek()) {
                (Some(h), Some(e)) => e.ts_s <= h.ts_s,
                (None, Some(_)) => true,
                (_, None) => false,
            };
            if extra_first {
                let e = extras.next()?;
                Some(MusicRow {
                    ts_s: e.ts_s,
                    artist: &catalog.artists[e.artist],
                    track: &self.extra_tracks[e.track],
                    ms_played: e.ms_played,
                })
            } else {
                from_history.next()
            }
        })
    }
}

/// Extend the plan of one kind of extended file by a row of `year`.
fn plan_row(files: &mut Vec<PlannedFile>, rows_so_far: u64, per_file: u64, year: i32) {
    if rows_so_far.is_multiple_of(per_file) {
        files.push(PlannedFile {
            name: String::new(),
            records: 0,
            first_year: year,
            last_year: year,
        });
    }
    let file = files.last_mut().expect("a file was just planned");
    file.records += 1;
    file.first_year = file.first_year.min(year);
    file.last_year = file.last_year.max(year);
}
