//! Natural keys of what was heard, and the key that matches a names-only listen to a richer one.
//!
//! The store keys tracks, artists and albums by their Spotify URI when a source gives one, and
//! by `local:<sha1>` of their normalised names otherwise, so the same names always land on the
//! same row whichever file they came from.
//!
//! Name normalisation is deliberately conservative, because a wrong merge (two songs counted
//! as one) is worse than a missed one: it lowercases (full Unicode), trims, collapses runs of
//! whitespace to one space, and unifies typographic apostrophes and quotes with their ASCII
//! forms (exports and the API do not always agree on `’` versus `'`). It does not strip other
//! punctuation (`P!nk`, `AC/DC`, `Sunn O)))` are names), accents (`Sigur Rós` is not
//! `Sigur Ros`), or suffixes like ` - Remastered 2011` (a different recording). It does not
//! apply Unicode normalisation forms either: both exports come from the same Spotify catalogue
//! and spell a name with the same code points.

use rustc_hash::FxHashMap;
use sha1::{Digest, Sha1};
use spotify_history_core::{ArtistRef, EndedAt, ItemKind, ItemRef, ListenKeys};

/// Separates names inside hashed keys; a unit separator appears in no real name.
const SEPARATOR: char = '\u{1f}';

/// The natural key of an item: its URI, or `local:<sha1-hex>` of its kind, first artist, name
/// and album when it has none.
pub fn item_key(item: &ItemRef) -> String {
    item_key_by(item, &mut Direct)
}

/// The natural key of an artist: its URI, or `local:<sha1-hex>` of its name.
pub fn artist_key(artist: &ArtistRef) -> String {
    artist_key_by(artist, &mut Direct)
}

/// The natural key of an item's album (or show, or audiobook), if it names one: its URI, or
/// `local:<sha1-hex>` of the item's kind, first artist and the album name, so two artists'
/// "Greatest Hits" stay two albums and a show never merges with an album of the same name.
pub fn album_key(item: &ItemRef) -> Option<String> {
    album_key_by(item, &mut Direct)
}

/// Every key of a listen of `item`.
pub fn listen_keys(item: &ItemRef) -> ListenKeys {
    listen_keys_by(item, &mut Direct)
}

/// The key that matches an account-data row (names only, minute precision) with a listen of
/// the same minute from a richer source: normalised artist and track (or show and episode)
/// names.
pub fn name_match_key(artist: &str, track: &str) -> String {
    let mut key = normalize_name(artist);
    key.push(SEPARATOR);
    key.push_str(&normalize_name(track));
    key
}

/// [`name_match_key`] as a 64-bit number, for a compact database column or index.
pub fn name_match_hash(artist: &str, track: &str) -> i64 {
    let digest = Sha1::digest(name_match_key(artist, track).as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Keys names the way [`local_key`] and [`name_match_hash`] do, directly or from a memo.
trait Keyer {
    fn local_key(&mut self, parts: &[&str]) -> String;
    fn match_hash(&mut self, artist: &str, track: &str) -> i64;
}

/// Computes every key anew.
struct Direct;

impl Keyer for Direct {
    fn local_key(&mut self, parts: &[&str]) -> String {
        local_key(parts)
    }

    fn match_hash(&mut self, artist: &str, track: &str) -> i64 {
        name_match_hash(artist, track)
    }
}

/// The keys of names already seen, for a parser that keys a whole file of listens:
/// normalising and hashing names is most of what keying a listen costs, and a history repeats
/// its artists, albums and tracks. A key is found again only for the very same names.
#[derive(Debug, Default)]
pub struct KeyMemo {
    local_keys: FxHashMap<Box<[u8]>, String>,
    match_hashes: FxHashMap<Box<[u8]>, i64>,
    /// The names being looked up, each behind its length.
    names: Vec<u8>,
}

impl KeyMemo {
    /// Entries kept per table before it starts over: bounds memory whatever the export.
    const MAX_ENTRIES: usize = 100_000;

    /// Every key of a listen of `item`, as [`listen_keys`] makes them.
    pub fn listen_keys(&mut self, item: &ItemRef) -> ListenKeys {
        listen_keys_by(item, self)
    }

    /// `parts`, each behind its length, in the lookup buffer.
    fn spell(&mut self, parts: &[&str]) {
        self.names.clear();
        for part in parts {
            self.names
                .extend_from_slice(&(part.len() as u64).to_le_bytes());
            self.names.extend_from_slice(part.as_bytes());
        }
    }
}

impl Keyer for KeyMemo {
    fn local_key(&mut self, parts: &[&str]) -> String {
        self.spell(parts);
        if let Some(key) = self.local_keys.get(self.names.as_slice()) {
            return key.clone();
        }
        let key = local_key(parts);
        remember(&mut self.local_keys, &self.names, key.clone());
        key
    }

    fn match_hash(&mut self, artist: &str, track: &str) -> i64 {
        self.spell(&[artist, track]);
        if let Some(&hash) = self.match_hashes.get(self.names.as_slice()) {
            return hash;
        }
        let hash = name_match_hash(artist, track);
        remember(&mut self.match_hashes, &self.names, hash);
        hash
    }
}

fn remember<V>(memo: &mut FxHashMap<Box<[u8]>, V>, names: &[u8], value: V) {
    if memo.len() >= KeyMemo::MAX_ENTRIES {
        memo.clear();
    }
    memo.insert(names.into(), value);
}

/// A URI a source gave, if any.
fn given(uri: &Option<String>) -> Option<&str> {
    uri.as_deref().filter(|u| !u.is_empty())
}

fn item_key_by(item: &ItemRef, keyer: &mut impl Keyer) -> String {
    if let Some(uri) = given(&item.uri) {
        return uri.to_owned();
    }
    let artist = item.artists.first().map_or("", |a| a.name.as_str());
    let album = item.album.as_ref().map_or("", |a| a.name.as_str());
    keyer.local_key(&[kind_tag(item.kind), artist, &item.name, album])
}

fn artist_key_by(artist: &ArtistRef, keyer: &mut impl Keyer) -> String {
    match given(&artist.uri) {
        Some(uri) => uri.to_owned(),
        None => keyer.local_key(&[&artist.name]),
    }
}

fn album_key_by(item: &ItemRef, keyer: &mut impl Keyer) -> Option<String> {
    let album = item.album.as_ref()?;
    if let Some(uri) = given(&album.uri) {
        return Some(uri.to_owned());
    }
    let artist = item.artists.first().map_or("", |a| a.name.as_str());
    Some(keyer.local_key(&[kind_tag(item.kind), artist, &album.name]))
}

fn listen_keys_by(item: &ItemRef, keyer: &mut impl Keyer) -> ListenKeys {
    let (artist, name) = match_names(item);
    ListenKeys {
        track: item_key_by(item, keyer),
        album: album_key_by(item, keyer),
        artists: item
            .artists
            .iter()
            .map(|artist| artist_key_by(artist, keyer))
            .collect(),
        match_key: keyer.match_hash(artist, name),
    }
}

/// The names an item is matched by: artist and track for a track, show and episode for an
/// episode, audiobook and chapter for a chapter.
pub fn match_names(item: &ItemRef) -> (&str, &str) {
    let owner = match item.kind {
        ItemKind::Track => item.artists.first().map(|a| a.name.as_str()),
        ItemKind::Episode | ItemKind::Chapter => item.album.as_ref().map(|a| a.name.as_str()),
    };
    (owner.unwrap_or(""), &item.name)
}

/// The minute an end time falls in (Unix minutes): account data gives no finer time.
pub fn end_minute(ended_at: EndedAt) -> i64 {
    ended_at.0.div_euclid(60_000)
}

/// A name as compared for identity (see the module notes for what is and is not folded).
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending_space = false;
    for c in name.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match c {
            '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{02BC}' | '\u{2032}' | '\u{00B4}' | '`' => {
                out.push('\'')
            }
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => out.push('"'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

fn kind_tag(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Track => "track",
        ItemKind::Episode => "episode",
        ItemKind::Chapter => "chapter",
    }
}

fn local_key(parts: &[&str]) -> String {
    let mut hasher = Sha1::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update(SEPARATOR.to_string().as_bytes());
        }
        hasher.update(normalize_name(part).as_bytes());
    }
    format!("local:{}", hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use spotify_history_core::AlbumRef;

    fn track(uri: Option<&str>, artist: &str, name: &str, album: Option<&str>) -> ItemRef {
        ItemRef {
            kind: ItemKind::Track,
            uri: uri.map(str::to_owned),
            name: name.to_owned(),
            artists: vec![ArtistRef {
                uri: None,
                name: artist.to_owned(),
            }],
            album: album.map(|name| AlbumRef {
                uri: None,
                name: name.to_owned(),
            }),
            duration_ms: None,
            isrc: None,
        }
    }

    #[test]
    fn uri_is_the_key_when_known() {
        let t = track(
            Some("spotify:track:abc"),
            "Björk",
            "Jóga",
            Some("Homogenic"),
        );
        assert_eq!(item_key(&t), "spotify:track:abc");
    }

    #[test]
    fn local_keys_are_stable_and_ignore_case_and_spacing() {
        let a = track(None, "Sigur Rós", "Hoppípolla", Some("Takk..."));
        let b = track(None, "  SIGUR  RÓS ", "hoppípolla", Some("takk..."));
        let key = item_key(&a);
        assert!(key.starts_with("local:") && key.len() == "local:".len() + 40);
        assert_eq!(key, item_key(&b));
        assert_ne!(
            key,
            item_key(&track(None, "Sigur Ros", "Hoppipolla", Some("Takk...")))
        );
    }

    #[test]
    fn album_keys_separate_artists_and_kinds() {
        let a = track(None, "Queen", "Bohemian Rhapsody", Some("Greatest Hits"));
        let b = track(None, "ABBA", "Waterloo", Some("Greatest Hits"));
        assert_ne!(album_key(&a), album_key(&b));
        let mut show = b.clone();
        show.kind = ItemKind::Episode;
        show.artists.clear();
        let mut album_without_artist = show.clone();
        album_without_artist.kind = ItemKind::Track;
        assert_ne!(album_key(&show), album_key(&album_without_artist));
        let mut no_album = a.clone();
        no_album.album = None;
        assert_eq!(album_key(&no_album), None);
    }

    #[test]
    fn artist_keys() {
        let by_name = ArtistRef {
            uri: None,
            name: "Beyoncé".into(),
        };
        let same = ArtistRef {
            uri: None,
            name: "beyoncé".into(),
        };
        assert_eq!(artist_key(&by_name), artist_key(&same));
        let by_uri = ArtistRef {
            uri: Some("spotify:artist:6vWDO969PvNqNYHIOW5v0m".into()),
            name: "Beyoncé".into(),
        };
        assert_eq!(artist_key(&by_uri), "spotify:artist:6vWDO969PvNqNYHIOW5v0m");
    }

    #[test]
    fn name_matching_is_conservative() {
        assert_eq!(
            name_match_key("坂本龍一", " Merry  Christmas Mr. Lawrence"),
            name_match_key("坂本龍一", "merry christmas mr. lawrence")
        );
        assert_eq!(
            name_match_key("Guns N’ Roses", "Sweet Child O’ Mine"),
            name_match_key("Guns N' Roses", "Sweet Child O' Mine")
        );
        assert_eq!(
            name_match_key("ΑΒΓ", "Straße"),
            name_match_key("αβγ", "STRAẞE")
        );
        assert_ne!(
            name_match_key("P!nk", "So What"),
            name_match_key("Pnk", "So What")
        );
        assert_ne!(
            name_match_key("The Beatles", "Help! - Remastered 2009"),
            name_match_key("The Beatles", "Help!")
        );
        assert_ne!(name_match_key("a b", "c"), name_match_key("a", "b c"));
        assert_eq!(
            name_match_hash("Beyoncé", "Halo 🌟"),
            name_match_hash("BEYONCÉ", "halo 🌟")
        );
    }

    #[test]
    fn the_memo_gives_the_keys_computed_anew() {
        let mut episode = track(None, "", "Episode 1", Some("The Show"));
        episode.kind = ItemKind::Episode;
        episode.artists.clear();
        let items = [
            track(None, "Sigur Rós", "Hoppípolla", Some("Takk...")),
            track(None, "  SIGUR  RÓS ", "hoppípolla", Some("takk...")),
            // The same names in other roles and splits must not find each other's keys.
            track(None, "Takk...", "Sigur Rós", Some("Hoppípolla")),
            track(None, "ab", "c", Some("")),
            track(None, "a", "bc", Some("")),
            track(None, "a", "bc", None),
            track(
                Some("spotify:track:abc"),
                "Björk",
                "Jóga",
                Some("Homogenic"),
            ),
            episode,
        ];
        let mut memo = KeyMemo::default();
        for round in 0..2 {
            for item in &items {
                assert_eq!(
                    memo.listen_keys(item),
                    listen_keys(item),
                    "round {round}: {item:?}"
                );
            }
        }
    }

    #[test]
    fn normalization_details() {
        assert_eq!(normalize_name("  Motörhead\t\n Ace  "), "motörhead ace");
        assert_eq!(normalize_name("ÅÉÎ"), "åéî");
        assert_eq!(
            normalize_name("“Weird Al” Yankovic"),
            "\"weird al\" yankovic"
        );
        assert_eq!(normalize_name(""), "");
    }

    #[test]
    fn match_names_per_kind() {
        let t = track(None, "Artist", "Song", Some("Album"));
        assert_eq!(match_names(&t), ("Artist", "Song"));
        let mut e = t.clone();
        e.kind = ItemKind::Episode;
        e.artists.clear();
        assert_eq!(match_names(&e), ("Album", "Song"));
    }

    #[test]
    fn end_minute_floors() {
        assert_eq!(end_minute(EndedAt(119_999)), 1);
        assert_eq!(end_minute(EndedAt(120_000)), 2);
        assert_eq!(end_minute(EndedAt(-1)), -1);
    }
}
