//! The made-up catalogue a synthetic history listens to: artists with albums and tracks,
//! podcast shows with episodes, audiobooks with chapters, and how popular each is.
//!
//! Names are unique where identity depends on them (artists; albums and tracks within an
//! artist; shows), compared as [`normalize_name`] compares them, so ground-truth counts by
//! catalogue index equal counts by identity key.

use std::collections::HashSet;
use std::ops::Range;

use rand::Rng;
use rand::rngs::StdRng;

use crate::identity::normalize_name;

/// Real names with accents, scripts and punctuation that break naive parsers and keys.
const FAMOUS_ARTISTS: &[&str] = &[
    "Sigur Rós",
    "Beyoncé",
    "坂本龍一",
    "Björk",
    "Motörhead",
    "Røyksopp",
    "Ólafur Arnalds",
    "宇多田ヒカル",
    "방탄소년단",
    "Аквариум",
    "Café Tacvba",
    "Céline Dion",
    "Sezen Aksu",
    "Fela Kuti",
    "AC/DC",
    "P!nk",
    "Sunn O)))",
    "\"Weird Al\" Yankovic",
    "Guns N' Roses",
    "Zoë Keating",
    "Mötley Crüe",
    "Nils Frahm",
    "Khruangbin",
    "Tinariwen",
    "Amadou & Mariam",
    "Los Ángeles Azules",
    "Hiromi",
    "Ludovico Einaudi",
    "Angèle",
    "Stromae",
];

const WORDS: &[&str] = &[
    "Midnight",
    "Harbor",
    "Velvet",
    "Echo",
    "Golden",
    "Paper",
    "Glass",
    "River",
    "Northern",
    "Lights",
    "Summer",
    "Rain",
    "Electric",
    "Dream",
    "Silver",
    "Ocean",
    "Fire",
    "Winter",
    "Garden",
    "Shadow",
    "Neon",
    "Desert",
    "Wild",
    "Heart",
    "Morning",
    "Static",
    "Crystal",
    "Thunder",
    "Hollow",
    "Wave",
    "Lantern",
    "Orbit",
    "Sugar",
    "Stone",
    "Satellite",
    "Feather",
    "Copper",
    "Violet",
    "Mirror",
    "Island",
    "Canyon",
    "Signal",
    "Ember",
    "Meadow",
    "Tide",
    "Cathedral",
    "Pulse",
    "Horizon",
    "Saudade",
    "Fjörður",
    "Lumière",
    "Sehnsucht",
    "夜明け",
    "Corazón",
    "Мечта",
];

const DECORATIONS: &[&str] = &[
    "",
    "",
    "",
    "",
    "",
    " - Remastered 2011",
    " (feat. Beyoncé)",
    " (Live)",
    " 🌙",
    " ✨",
    " (Acoustic)",
    " - Radio Edit",
];

const SHOWS: &[&str] = &[
    "Science Hour",
    "The Daily Brief",
    "Hljóðvarp",
    "Café Philo",
    "ラジオの時間",
    "History Untold",
    "Code & Coffee",
    "Der Nachrichtenpodcast",
    "Mindful Minutes 🧘",
    "True Crime Weekly",
    "Football Tactics",
    "Cooking with Zoë",
];

const BOOKS: &[&str] = &[
    "Njáls saga",
    "Moby-Dick",
    "吾輩は猫である",
    "Le Petit Prince",
];

/// Zipf exponent of artist popularity: a few artists get most plays, as in real histories.
const ARTIST_SKEW: f64 = 1.1;
/// Zipf exponent of track popularity within one artist.
const TRACK_SKEW: f64 = 0.9;

pub(crate) struct Album {
    pub(crate) artist: usize,
    pub(crate) name: String,
}

pub(crate) struct Track {
    pub(crate) album: usize,
    pub(crate) name: String,
    pub(crate) uri: String,
    pub(crate) duration_ms: i64,
}

pub(crate) struct Show {
    pub(crate) name: String,
}

pub(crate) struct Episode {
    pub(crate) show: usize,
    pub(crate) name: String,
    pub(crate) uri: String,
    pub(crate) duration_ms: i64,
}

pub(crate) struct Book {
    pub(crate) title: String,
    pub(crate) uri: String,
}

pub(crate) struct Chapter {
    pub(crate) book: usize,
    pub(crate) title: String,
    pub(crate) uri: String,
}

pub(crate) struct Catalog {
    pub(crate) artists: Vec<String>,
    pub(crate) albums: Vec<Album>,
    pub(crate) tracks: Vec<Track>,
    /// Tracks of artist `a` are `tracks[artist_tracks[a]]`.
    pub(crate) artist_tracks: Vec<Range<usize>>,
    artist_cdf: Vec<f64>,
    track_cdf: Vec<f64>,
    pub(crate) shows: Vec<Show>,
    pub(crate) episodes: Vec<Episode>,
    show_episodes: Vec<Range<usize>>,
    show_cdf: Vec<f64>,
    pub(crate) books: Vec<Book>,
    pub(crate) chapters: Vec<Chapter>,
}

impl Catalog {
    /// A catalogue sized for `plays` listens.
    pub(crate) fn generate(rng: &mut StdRng, plays: u64) -> Self {
        let artist_count = (plays / 40).clamp(30, 5000) as usize;
        let mut artist_names = HashSet::new();
        let mut artists = Vec::with_capacity(artist_count);
        for i in 0..artist_count {
            let base = match FAMOUS_ARTISTS.get(i) {
                Some(name) => (*name).to_owned(),
                None => match rng.random_range(0..3) {
                    0 => format!("The {} {}s", pick(rng, WORDS), pick(rng, WORDS)),
                    1 => format!("{} {}", pick(rng, WORDS), pick(rng, WORDS)),
                    _ => format!("DJ {}", pick(rng, WORDS)),
                },
            };
            artists.push(unique(base, &mut artist_names));
        }

        let mut albums = Vec::new();
        let mut tracks = Vec::new();
        let mut artist_tracks = Vec::with_capacity(artist_count);
        let mut max_tracks = 0;
        for artist in 0..artist_count {
            let first = tracks.len();
            let mut album_names = HashSet::new();
            let mut track_names = HashSet::new();
            for a in 0..rng.random_range(1..=4) {
                // Several artists share "Greatest Hits": album keys must keep them apart.
                let base = if a == 0 && artist % 7 == 3 {
                    "Greatest Hits".to_owned()
                } else {
                    format!("{} {}", pick(rng, WORDS), pick(rng, WORDS))
                };
                albums.push(Album {
                    artist,
                    name: unique(base, &mut album_names),
                });
                for _ in 0..rng.random_range(4..=12) {
                    let base = format!(
                        "{} {}{}",
                        pick(rng, WORDS),
                        pick(rng, WORDS),
                        pick(rng, DECORATIONS)
                    );
                    tracks.push(Track {
                        album: albums.len() - 1,
                        name: unique(base, &mut track_names),
                        uri: format!("spotify:track:{}", base62_id(rng)),
                        duration_ms: rng.random_range(90_000..420_000),
                    });
                }
            }
            max_tracks = max_tracks.max(tracks.len() - first);
            artist_tracks.push(first..tracks.len());
        }

        let normalized_artists: HashSet<String> =
            artists.iter().map(|a| normalize_name(a)).collect();
        let mut shows = Vec::new();
        let mut episodes = Vec::new();
        let mut show_episodes = Vec::new();
        for name in SHOWS {
            // A show named like an artist would blur the name match of episodes and tracks.
            debug_assert!(!normalized_artists.contains(&normalize_name(name)));
            let show = shows.len();
            shows.push(Show {
                name: (*name).to_owned(),
            });
            let first = episodes.len();
            for n in 1..=rng.random_range(20..=120) {
                episodes.push(Episode {
                    show,
                    name: format!("#{n}: {} {}", pick(rng, WORDS), pick(rng, WORDS)),
                    uri: format!("spotify:episode:{}", base62_id(rng)),
                    duration_ms: rng.random_range(600_000..5_400_000),
                });
            }
            show_episodes.push(first..episodes.len());
        }

        let mut books = Vec::new();
        let mut chapters = Vec::new();
        for title in BOOKS {
            let book = books.len();
            books.push(Book {
                title: (*title).to_owned(),
                uri: format!("spotify:audiobook:{}", base62_id(rng)),
            });
            for n in 1..=rng.random_range(10..=40) {
                chapters.push(Chapter {
                    book,
                    title: format!("Chapter {n}"),
                    uri: format!("spotify:chapter:{}", base62_id(rng)),
                });
            }
        }

        Self {
            artist_cdf: zipf_cdf(artist_count, ARTIST_SKEW),
            track_cdf: zipf_cdf(max_tracks, TRACK_SKEW),
            show_cdf: zipf_cdf(shows.len(), 1.0),
            artists,
            albums,
            tracks,
            artist_tracks,
            shows,
            episodes,
            show_episodes,
            books,
            chapters,
        }
    }

    /// A track, popular ones more often.
    pub(crate) fn pick_track(&self, rng: &mut StdRng) -> usize {
        let artist = sample(&self.artist_cdf, rng);
        let range = self.artist_tracks[artist].clone();
        let within = sample(&self.track_cdf[..range.len()], rng);
        range.start + within
    }

    /// An episode of a show, popular shows more often, episodes evenly.
    pub(crate) fn pick_episode(&self, rng: &mut StdRng) -> usize {
        let show = sample(&self.show_cdf, rng);
        rng.random_range(self.show_episodes[show].clone())
    }

    pub(crate) fn pick_chapter(&self, rng: &mut StdRng) -> usize {
        rng.random_range(0..self.chapters.len())
    }

    pub(crate) fn artist_of(&self, track: usize) -> usize {
        self.albums[self.tracks[track].album].artist
    }
}

fn pick<'a>(rng: &mut StdRng, words: &[&'a str]) -> &'a str {
    words[rng.random_range(0..words.len())]
}

/// `base`, or `base N` for the smallest N that makes it unique among `taken`.
fn unique(base: String, taken: &mut HashSet<String>) -> String {
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(normalize_name(&name)) {
        name = format!("{base} {n}");
        n += 1;
    }
    name
}

fn base62_id(rng: &mut StdRng) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..22)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Cumulative Zipf weights of ranks `0..n`.
fn zipf_cdf(n: usize, skew: f64) -> Vec<f64> {
    let mut total = 0.0;
    (0..n)
        .map(|rank| {
            total += 1.0 / ((rank + 1) as f64).powf(skew);
            total
        })
        .collect()
}

/// A rank drawn from a (prefix of a) cumulative weight table.
fn sample(cdf: &[f64], rng: &mut StdRng) -> usize {
    let total = cdf[cdf.len() - 1];
    let x = rng.random_range(0.0..total);
    cdf.partition_point(|&c| c <= x).min(cdf.len() - 1)
}
