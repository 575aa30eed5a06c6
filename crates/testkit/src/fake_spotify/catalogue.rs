//! The fake's built-in catalogue: a few artists, albums and tracks with Spotify-shaped ids,
//! durations, ISRCs and non-ASCII names, so clients meet what the real catalogue holds.

use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// An artist of the built-in catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeArtist {
    /// 22-character base62 Spotify id.
    pub id: String,
    pub name: String,
}

impl FakeArtist {
    /// `spotify:artist:<id>`.
    pub fn uri(&self) -> String {
        format!("spotify:artist:{}", self.id)
    }
}

/// An album of the built-in catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeAlbum {
    pub id: String,
    pub name: String,
    /// `album`, `single` or `compilation`.
    pub album_type: &'static str,
    /// `YYYY-MM-DD` or `YYYY`, as Spotify gives it.
    pub release_date: &'static str,
    /// Album artists in credit order.
    pub artist_ids: Vec<String>,
}

impl FakeAlbum {
    /// `spotify:album:<id>`.
    pub fn uri(&self) -> String {
        format!("spotify:album:{}", self.id)
    }
}

/// A track of the built-in catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeTrack {
    pub id: String,
    pub name: String,
    pub album_id: String,
    /// Track artists in credit order.
    pub artist_ids: Vec<String>,
    pub duration_ms: i64,
    /// `None` for the one track whose `external_ids` is empty, as happens in the real API.
    pub isrc: Option<String>,
    pub track_number: u32,
    pub explicit: bool,
}

impl FakeTrack {
    /// `spotify:track:<id>`.
    pub fn uri(&self) -> String {
        format!("spotify:track:{}", self.id)
    }
}

/// Every artist, album and track the fake knows.
#[derive(Debug)]
pub struct Catalogue {
    pub artists: Vec<FakeArtist>,
    pub albums: Vec<FakeAlbum>,
    pub tracks: Vec<FakeTrack>,
}

impl Catalogue {
    /// The built-in catalogue (the same in every fake).
    pub fn builtin() -> &'static Catalogue {
        static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(build);
        &CATALOGUE
    }

    pub fn artist(&self, id: &str) -> Option<&FakeArtist> {
        self.artists.iter().find(|a| a.id == id)
    }

    pub fn album(&self, id: &str) -> Option<&FakeAlbum> {
        self.albums.iter().find(|a| a.id == id)
    }

    pub fn track(&self, id: &str) -> Option<&FakeTrack> {
        self.tracks.iter().find(|t| t.id == id)
    }

    /// The first track whose name is `name`; panics when there is none (a typo in a test).
    pub fn track_named(&self, name: &str) -> &FakeTrack {
        self.tracks
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no track named {name:?} in the fake catalogue"))
    }

    /// The tracks of an album, in track-number order.
    pub fn album_tracks<'a>(&'a self, album_id: &'a str) -> impl Iterator<Item = &'a FakeTrack> {
        self.tracks.iter().filter(move |t| t.album_id == album_id)
    }

    /// Artist names of a track, in credit order.
    pub fn artist_names(&self, track: &FakeTrack) -> Vec<&str> {
        track
            .artist_ids
            .iter()
            .filter_map(|id| self.artist(id))
            .map(|a| a.name.as_str())
            .collect()
    }
}

/// A stable 22-character base62 id, the shape of real Spotify ids.
fn base62_id(kind: &str, name: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let digest = Sha256::digest(format!("fake-spotify:{kind}:{name}"));
    digest
        .iter()
        .take(22)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

const ARTISTS: &[&str] = &[
    "Sigrún Ólafsdóttir",
    "Kōhai Lights",
    "Мирослава",
    "Les Étoiles Filantes",
    "Zoë & the Λambdas",
    "DJ Ñandú",
    "서울 Sunset",
    "Plain Quartet",
];

/// (name, album type, release date, album artist index).
const ALBUMS: &[(&str, &str, &str, usize)] = &[
    ("Norðurljós", "album", "2019-03-01", 0),
    ("東京 Night Drive", "album", "2021-07-16", 1),
    ("Белые ночи", "album", "2018", 2),
    ("Café de la Gare", "album", "2023-10-06", 3),
    ("Λ-Calculus Love Songs", "album", "2020-02-14", 4),
    ("Ritmo Ñ", "single", "2024-05-31", 5),
    ("Han River Tapes", "album", "2022-09-09", 6),
    ("Standards", "compilation", "2015-01-01", 7),
];

/// (name, album index, artist indexes in credit order, duration ms, has ISRC, explicit).
type TrackRow = (&'static str, usize, &'static [usize], i64, bool, bool);

const TRACKS: &[TrackRow] = &[
    ("Jökulsárlón", 0, &[0], 251_733, true, false),
    ("Hæ hæ", 0, &[0, 7], 187_204, true, false),
    ("Dögun", 0, &[0], 302_480, true, false),
    ("Shibuya 午前3時", 1, &[1], 214_006, true, false),
    ("Neon 雨", 1, &[1, 6], 199_999, true, true),
    ("Last Train ✈", 1, &[1], 243_512, true, false),
    ("Ночь", 2, &[2], 231_000, true, false),
    ("Звёзды над Невой", 2, &[2, 3], 276_345, true, false),
    ("Crème brûlée", 3, &[3], 178_120, true, false),
    ("Déjà vu à Montréal", 3, &[3, 4], 205_667, true, false),
    ("Œuvre №5", 3, &[3], 412_000, true, false),
    ("Fixed Point", 4, &[4], 160_001, true, false),
    ("Y Combinator Blues", 4, &[4], 222_222, true, true),
    ("λx.x", 4, &[4, 5], 95_500, false, false),
    ("Ñoño", 5, &[5], 180_000, true, false),
    ("Pájaro 🐦", 5, &[5, 2], 199_321, true, false),
    ("한강 Midnight", 6, &[6], 233_100, true, false),
    ("Seoul 서울 Sunrise", 6, &[6, 1], 247_800, true, false),
    ("Autumn Leaves (Live)", 7, &[7], 389_400, true, false),
    ("So What — Take 2", 7, &[7], 318_000, true, false),
];

fn build() -> Catalogue {
    let artists: Vec<FakeArtist> = ARTISTS
        .iter()
        .map(|name| FakeArtist {
            id: base62_id("artist", name),
            name: (*name).to_owned(),
        })
        .collect();
    let albums: Vec<FakeAlbum> = ALBUMS
        .iter()
        .map(|(name, album_type, release_date, artist)| FakeAlbum {
            id: base62_id("album", name),
            name: (*name).to_owned(),
            album_type,
            release_date,
            artist_ids: vec![artists[*artist].id.clone()],
        })
        .collect();
    let mut tracks: Vec<FakeTrack> = Vec::with_capacity(TRACKS.len());
    for (n, (name, album, track_artists, duration_ms, has_isrc, explicit)) in
        TRACKS.iter().enumerate()
    {
        let album_id = albums[*album].id.clone();
        let track_number = 1 + tracks.iter().filter(|t| t.album_id == album_id).count() as u32;
        tracks.push(FakeTrack {
            id: base62_id("track", name),
            name: (*name).to_owned(),
            album_id,
            artist_ids: track_artists
                .iter()
                .map(|a| artists[*a].id.clone())
                .collect(),
            duration_ms: *duration_ms,
            isrc: has_isrc.then(|| format!("QZFAK26{:05}", n + 1)),
            track_number,
            explicit: *explicit,
        });
    }
    Catalogue {
        artists,
        albums,
        tracks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_base62_of_spotify_length() {
        let catalogue = Catalogue::builtin();
        let ids: Vec<&str> = catalogue
            .artists
            .iter()
            .map(|a| a.id.as_str())
            .chain(catalogue.albums.iter().map(|a| a.id.as_str()))
            .chain(catalogue.tracks.iter().map(|t| t.id.as_str()))
            .collect();
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
        assert!(
            ids.iter()
                .all(|id| id.len() == 22 && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        );
    }

    #[test]
    fn isrcs_have_the_twelve_character_shape() {
        let catalogue = Catalogue::builtin();
        let isrcs: Vec<&str> = catalogue
            .tracks
            .iter()
            .filter_map(|t| t.isrc.as_deref())
            .collect();
        assert_eq!(isrcs.len(), catalogue.tracks.len() - 1);
        assert!(isrcs.iter().all(|i| i.len() == 12));
    }
}
