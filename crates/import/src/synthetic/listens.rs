//! The deterministic sequence of extended-history rows of a synthetic export.
//!
//! The sequence is regenerated from its seed for every pass (ground truth, each kind of file)
//! instead of being kept: a million rows would not fit in memory comfortably, and drawing them
//! again costs less than serialising them once.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::SyntheticConfig;
use super::catalog::Catalog;
use crate::SkipReason;

/// Rows from this time on have the middle generation of fields (no `username`).
const GENERATION_B_FROM_S: i64 = 1_593_561_600; // 2020-07-01
/// Rows from this time on have the newest generation (`ip_addr`, audiobooks, `skipped`).
const GENERATION_C_FROM_S: i64 = 1_664_582_400; // 2022-10-01

/// Which field set a row is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Generation {
    /// `username`, `ip_addr_decrypted`, `user_agent_decrypted`, null `skipped`,
    /// `offline_timestamp` in seconds.
    A,
    /// `ip_addr_decrypted`, null `skipped`, `offline_timestamp` in seconds.
    B,
    /// `ip_addr`, `audiobook_*` fields, boolean `skipped`, `offline_timestamp` in ms.
    C,
}

impl Generation {
    pub(crate) fn of(ts_s: i64) -> Self {
        if ts_s >= GENERATION_C_FROM_S {
            Generation::C
        } else if ts_s >= GENERATION_B_FROM_S {
            Generation::B
        } else {
            Generation::A
        }
    }
}

/// What a row says was heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Content {
    /// A catalogue track; `with_uri: false` is a local file (names only).
    Track {
        track: usize,
        with_uri: bool,
    },
    Episode {
        episode: usize,
    },
    Chapter {
        chapter: usize,
    },
    /// All metadata null.
    Nothing,
}

/// One extended-history row before serialisation.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) ts_s: i64,
    pub(crate) content: Content,
    pub(crate) ms_played: i64,
    /// Goes to a `Streaming_History_Video_*` file.
    pub(crate) video: bool,
    /// The reason the importer must give for skipping it; `None` for a listen.
    pub(crate) expected_skip: Option<SkipReason>,
    pub(crate) generation: Generation,
    /// Seeds the device details, drawn once so every pass writes the same ones.
    pub(crate) detail_seed: u32,
    pub(crate) shuffle: bool,
    pub(crate) offline: bool,
}

impl Row {
    /// The name identity of what was heard, for the one-listen-per-minute rule.
    fn name_id(&self, catalog: &Catalog) -> Option<usize> {
        match self.content {
            Content::Track { track, .. } => Some(track),
            Content::Episode { episode } => Some(catalog.tracks.len() + episode),
            Content::Chapter { chapter } => {
                Some(catalog.tracks.len() + catalog.episodes.len() + chapter)
            }
            Content::Nothing => None,
        }
    }
}

/// Iterates the rows of one synthetic export, in time order.
pub(crate) struct RowStream<'c> {
    catalog: &'c Catalog,
    config: SyntheticConfig,
    rng: StdRng,
    index: u64,
    start_s: i64,
    step_ms: i64,
    previous: Option<Row>,
    /// Listens ending in the current minute, by name identity: none may repeat there, so an
    /// account-data row (names, minute) matches exactly one extended listen.
    minute: i64,
    in_minute: Vec<usize>,
}

impl<'c> RowStream<'c> {
    pub(crate) fn new(catalog: &'c Catalog, config: &SyntheticConfig) -> Self {
        let start_s = year_start_s(config.start_year);
        let end_s = year_start_s(config.start_year + i32::from(config.years.max(1)));
        let step_ms = ((end_s - start_s) * 1000 / config.plays.max(1) as i64).max(1000);
        Self {
            catalog,
            config: config.clone(),
            rng: StdRng::seed_from_u64(config.seed ^ 0x5EED_0F11_57E5),
            index: 0,
            start_s,
            step_ms,
            previous: None,
            minute: i64::MIN,
            in_minute: Vec::new(),
        }
    }

    fn draw_content(&mut self, ts_s: i64) -> (Content, bool) {
        let cfg = &self.config;
        let roll: f64 = self.rng.random();
        if roll < cfg.podcast_share {
            let video = self.rng.random_bool(cfg.video_share_of_podcasts);
            let episode = self.catalog.pick_episode(&mut self.rng);
            (Content::Episode { episode }, video)
        } else if roll < cfg.podcast_share + cfg.audiobook_share
            && Generation::of(ts_s) == Generation::C
        {
            let chapter = self.catalog.pick_chapter(&mut self.rng);
            (Content::Chapter { chapter }, false)
        } else {
            let track = self.catalog.pick_track(&mut self.rng);
            let with_uri = !self.rng.random_bool(cfg.local_file_share);
            (Content::Track { track, with_uri }, false)
        }
    }

    fn draw_ms_played(&mut self, content: Content) -> i64 {
        let catalog = self.catalog;
        match content {
            Content::Track { track, .. } => {
                let duration = catalog.tracks[track].duration_ms;
                match self.rng.random_range(0..100) {
                    0..65 => (duration - self.rng.random_range(0..3000)).max(1),
                    65..90 => self.rng.random_range(1..30_000),
                    _ => self.rng.random_range(30_000..duration),
                }
            }
            Content::Episode { episode } => self
                .rng
                .random_range(1..=catalog.episodes[episode].duration_ms),
            Content::Chapter { .. } => self.rng.random_range(60_000..1_800_000),
            Content::Nothing => self.rng.random_range(1..10_000),
        }
    }

    fn minute_taken(&mut self, ts_s: i64, name_id: Option<usize>) -> bool {
        let minute = ts_s.div_euclid(60);
        if minute != self.minute {
            self.minute = minute;
            self.in_minute.clear();
        }
        name_id.is_some_and(|id| self.in_minute.contains(&id))
    }
}

impl Iterator for RowStream<'_> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        if self.index >= self.config.plays {
            return None;
        }
        let i = self.index;
        self.index += 1;

        let base_ms = self.start_s * 1000 + i as i64 * self.step_ms;
        let mut ts_s = (base_ms + self.rng.random_range(0..self.step_ms / 2 + 1)) / 1000;
        let overlaps_previous = self.previous.as_ref().is_some_and(|p| {
            p.expected_skip.is_none() && self.rng.random_bool(self.config.overlap_share)
        });
        if let Some(previous) = &self.previous {
            ts_s = if overlaps_previous {
                previous.ts_s
            } else {
                ts_s.max(previous.ts_s + 1)
            };
        }

        let skip_roll: f64 = self.rng.random();
        let expected_skip =
            (!overlaps_previous && skip_roll < self.config.skipped_row_share).then(|| {
                match self.rng.random_range(0..100) {
                    0..50 => SkipReason::NoUriAndNoNames,
                    50..95 => SkipReason::ZeroMsPlayed,
                    _ => SkipReason::AbsurdValue,
                }
            });

        let (content, video, ms_played) = match expected_skip {
            Some(SkipReason::NoUriAndNoNames) => {
                let ms = self.draw_ms_played(Content::Nothing);
                (Content::Nothing, false, ms)
            }
            Some(reason) => {
                let track = self.catalog.pick_track(&mut self.rng);
                let content = Content::Track {
                    track,
                    with_uri: true,
                };
                let ms = if reason == SkipReason::ZeroMsPlayed {
                    0
                } else if self.rng.random_bool(0.5) {
                    -self.rng.random_range(1..1000)
                } else {
                    self.rng.random_range(86_400_001..200_000_000)
                };
                (content, false, ms)
            }
            None => loop {
                let (content, video) = self.draw_content(ts_s);
                let candidate = Row {
                    ts_s,
                    content,
                    ms_played: 0,
                    video,
                    expected_skip: None,
                    generation: Generation::A,
                    detail_seed: 0,
                    shuffle: false,
                    offline: false,
                };
                let name_id = candidate.name_id(self.catalog);
                if !self.minute_taken(ts_s, name_id) {
                    self.in_minute.extend(name_id);
                    let ms = self.draw_ms_played(content);
                    break (content, video, ms);
                }
            },
        };

        let row = Row {
            ts_s,
            content,
            ms_played,
            video,
            expected_skip,
            generation: Generation::of(ts_s),
            detail_seed: self.rng.random(),
            shuffle: self.rng.random_bool(0.4),
            offline: self.rng.random_bool(0.05),
        };
        self.previous = Some(row.clone());
        Some(row)
    }
}

/// Unix seconds of January 1st of `year`, UTC.
pub(crate) fn year_start_s(year: i32) -> i64 {
    let y = i64::from(year) - 1;
    let days =
        365 * (y - 1969) + (y / 4 - 1969 / 4) - (y / 100 - 1969 / 100) + (y / 400 - 1969 / 400);
    days * 86_400
}

/// The calendar year of a Unix time.
pub(crate) fn year_of(ts_s: i64) -> i32 {
    let (year, _, _) = civil_from_days(ts_s.div_euclid(86_400));
    year
}

/// `(year, month, day)` of days since 1970-01-01 (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year as i32, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_helpers_agree_with_jiff() {
        for year in [1970, 2000, 2019, 2024, 2100] {
            let expected = format!("{year}-01-01T00:00:00Z")
                .parse::<jiff::Timestamp>()
                .unwrap()
                .as_second();
            assert_eq!(year_start_s(year), expected, "{year}");
            assert_eq!(year_of(expected), year);
            assert_eq!(year_of(expected - 1), year - 1);
        }
        let ts: jiff::Timestamp = "2024-02-29T12:00:00Z".parse().unwrap();
        assert_eq!(civil_from_days(ts.as_second() / 86_400), (2024, 2, 29));
    }
}
