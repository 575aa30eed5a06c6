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
use std::sync::Arc;

/// Separates names inside hashed keys; a unit separator appears in no real name.
const SEPARATOR: char = '\u{1f}';

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

/// The keys of items already seen, for a parser that keys many listens (a transaction's):
/// normalising and hashing names is most of what keying a listen costs, and a history repeats
/// its tracks. Keys are shared, not copied, so a repeat costs no allocation. An item's keys are
/// found again only for the very same item: every field they depend on, spelled out. (A map
/// keyed by the items themselves, cloned, held 16 MB more and cost the parser 8% more.)
#[derive(Debug, Default)]
pub struct KeyMemo {
    keys: FxHashMap<Box<[u8]>, Arc<ListenKeys>>,
    /// The item being looked up, spelled out (see [`KeyMemo::spell`]).
    spelling: Vec<u8>,
}

impl KeyMemo {
    /// Items kept before the memo starts over: bounds its memory (~30 MB at most).
    const MAX_ENTRIES: usize = 100_000;

    /// Every key of a listen of `item`, as [`listen_keys`] makes them.
    pub fn listen_keys(&mut self, item: &ItemRef) -> Arc<ListenKeys> {
        self.spell(item);
        if let Some(keys) = self.keys.get(self.spelling.as_slice()) {
            return Arc::clone(keys);
        }
        let keys = Arc::new(listen_keys(item));
        if self.keys.len() >= Self::MAX_ENTRIES {
            self.keys.clear();
        }
        self.keys
            .insert(self.spelling.as_slice().into(), Arc::clone(&keys));
        keys
    }

    /// What the keys of `item` depend on, each text behind its length and each optional one
    /// behind whether it is there, so two different items never spell the same.
    fn spell(&mut self, item: &ItemRef) {
        fn text(out: &mut Vec<u8>, text: &str) {
            out.extend_from_slice(&(text.len() as u64).to_le_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        fn optional(out: &mut Vec<u8>, value: Option<&str>) {
            out.push(u8::from(value.is_some()));
            text(out, value.unwrap_or(""));
        }
        let out = &mut self.spelling;
        out.clear();
        out.push(item.kind.code() as u8);
        optional(out, item.uri.as_deref());
        text(out, &item.name);
        out.extend_from_slice(&(item.artists.len() as u64).to_le_bytes());
        for artist in &item.artists {
            optional(out, artist.uri.as_deref());
            text(out, &artist.name);
        }
        match &item.album {
            Some(album) => {
                out.push(1);
                optional(out, album.uri.as_deref());
                text(out, &album.name);
            }
            None => out.push(0),
        }
    }
}

/// A URI a source gave, if any.
fn given(uri: &Option<String>) -> Option<&str> {
    uri.as_deref().filter(|u| !u.is_empty())
}

/// The natural key of an item: its URI, or `local:<sha1-hex>` of its kind, first artist, name
/// and album when it has none.
pub fn item_key(item: &ItemRef) -> String {
    if let Some(uri) = given(&item.uri) {
        return uri.to_owned();
    }
    let artist = item.artists.first().map_or("", |a| a.name.as_str());
    let album = item.album.as_ref().map_or("", |a| a.name.as_str());
    local_key(&[kind_tag(item.kind), artist, &item.name, album])
}

/// The natural key of an artist: its URI, or `local:<sha1-hex>` of its name.
pub fn artist_key(artist: &ArtistRef) -> String {
    match given(&artist.uri) {
        Some(uri) => uri.to_owned(),
        None => local_key(&[&artist.name]),
    }
}

/// The natural key of an item's album (or show, or audiobook), if it names one: its URI, or
/// `local:<sha1-hex>` of the item's kind, first artist and the album name, so two artists'
/// "Greatest Hits" stay two albums and a show never merges with an album of the same name.
pub fn album_key(item: &ItemRef) -> Option<String> {
    let album = item.album.as_ref()?;
    if let Some(uri) = given(&album.uri) {
        return Some(uri.to_owned());
    }
    let artist = item.artists.first().map_or("", |a| a.name.as_str());
    Some(local_key(&[kind_tag(item.kind), artist, &album.name]))
}

/// Every key of a listen of `item`.
pub fn listen_keys(item: &ItemRef) -> ListenKeys {
    let (artist, name) = match_names(item);
    ListenKeys {
        track: item_key(item),
        album: album_key(item),
        artists: item.artists.iter().map(artist_key).collect(),
        match_key: name_match_hash(artist, name),
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
    let mut separator = [0; 4];
    let separator = SEPARATOR.encode_utf8(&mut separator).as_bytes();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update(separator);
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

    fn with_uris(mut item: ItemRef, artist: Option<&str>, album: Option<&str>) -> ItemRef {
        item.artists[0].uri = artist.map(str::to_owned);
        if let Some(a) = item.album.as_mut() {
            a.uri = album.map(str::to_owned);
        }
        item
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
            // Items differing only in a URI of their artist or album, or in a further artist.
            with_uris(
                track(None, "a", "bc", Some("d")),
                Some("spotify:artist:a"),
                None,
            ),
            with_uris(
                track(None, "a", "bc", Some("d")),
                None,
                Some("spotify:album:d"),
            ),
            with_uris(track(None, "a", "bc", Some("d")), None, None),
            {
                let mut two = track(None, "a", "bc", Some("d"));
                two.artists.push(ArtistRef {
                    uri: None,
                    name: "e".into(),
                });
                two
            },
            track(Some(""), "a", "bc", Some("d")),
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
                    *memo.listen_keys(item),
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
