//! Listens: where they come from, what was heard, and when a listen counts as a play.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// When a listen ended, in Unix milliseconds (UTC). Exports and the API both give end times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EndedAt(pub i64);

impl EndedAt {
    /// As a `jiff` timestamp, for calendar arithmetic and formatting.
    pub fn timestamp(self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
}

impl From<jiff::Timestamp> for EndedAt {
    fn from(ts: jiff::Timestamp) -> Self {
        Self(ts.as_millisecond())
    }
}

/// Where a listen was learned from. Values are bits so a listen can record every source that
/// confirmed it; a lower rank is a richer source whose fields win in a merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Extended streaming history export (exact ms_played, URIs, device details).
    ExtendedExport = 1,
    /// Account data "past year" export (names only, minute precision).
    AccountData = 2,
    /// Recently-played polling of the Web API (no ms_played).
    RecentlyPlayed = 4,
    /// Backward paging of the Web API at first sign-in.
    InitialSync = 8,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::ExtendedExport,
        Source::AccountData,
        Source::RecentlyPlayed,
        Source::InitialSync,
    ];

    /// The bit of this source in a [`SourceSet`].
    pub fn bit(self) -> i16 {
        self as i16
    }

    /// Lower is richer: extended export > account data > API.
    pub fn rank(self) -> u8 {
        match self {
            Source::ExtendedExport => 0,
            Source::AccountData => 1,
            Source::RecentlyPlayed | Source::InitialSync => 2,
        }
    }

    /// The stable name used in answers and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::ExtendedExport => "extended_export",
            Source::AccountData => "account_data",
            Source::RecentlyPlayed => "recently_played",
            Source::InitialSync => "initial_sync",
        }
    }

    /// The source stored under this bit value.
    pub fn from_bit(bit: i16) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.bit() == bit)
    }
}

/// The set of sources that confirmed one listen, stored as a bitmask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SourceSet(pub i16);

impl SourceSet {
    pub fn with(self, source: Source) -> Self {
        Self(self.0 | source.bit())
    }

    pub fn contains(self, source: Source) -> bool {
        self.0 & source.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Source> {
        Source::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl From<Source> for SourceSet {
    fn from(source: Source) -> Self {
        Self(source.bit())
    }
}

/// What was heard: a music track, a podcast episode or an audiobook chapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Track = 0,
    Episode = 1,
    Chapter = 2,
}

impl ItemKind {
    pub fn code(self) -> i16 {
        self as i16
    }

    pub fn from_code(code: i16) -> Option<ItemKind> {
        match code {
            0 => Some(ItemKind::Track),
            1 => Some(ItemKind::Episode),
            2 => Some(ItemKind::Chapter),
            _ => None,
        }
    }
}

/// Whether a stored listen counts as a play. Decided at query time and stated in every answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountingRule {
    /// Listens shorter than this many milliseconds are not plays.
    pub min_ms_played: i64,
    /// API plays carry no duration; when true they count as plays.
    pub count_unknown_duration: bool,
}

impl Default for CountingRule {
    fn default() -> Self {
        Self {
            min_ms_played: 30_000,
            count_unknown_duration: true,
        }
    }
}

impl CountingRule {
    /// Does a listen of `ms_played` (None = unknown) count?
    pub fn counts(&self, ms_played: Option<i64>) -> bool {
        match ms_played {
            Some(ms) => ms >= self.min_ms_played,
            None => self.count_unknown_duration,
        }
    }
}

/// A Spotify artist as a source names it. `uri` is `spotify:artist:<id>` when known.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ArtistRef {
    pub uri: Option<String>,
    pub name: String,
}

/// An album, podcast show or audiobook as a source names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AlbumRef {
    pub uri: Option<String>,
    pub name: String,
}

/// What was heard, as a source describes it. Sources without URIs (account data) give names
/// only; the store then keys the item by `local:<sha1(artist|name|album)>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemRef {
    pub kind: ItemKind,
    /// `spotify:track:<id>`, `spotify:episode:<id>` or the audiobook chapter URI.
    pub uri: Option<String>,
    pub name: String,
    /// Track artists in credit order; for an episode, empty (its show is the album).
    pub artists: Vec<ArtistRef>,
    /// Album of a track, show of an episode, audiobook of a chapter.
    pub album: Option<AlbumRef>,
    pub duration_ms: Option<i64>,
    pub isrc: Option<String>,
}

/// Device and playback details that only some sources carry. The texts are shared: a history
/// repeats a few platforms, countries and reasons over and over, and an import gives every
/// listen the same copy of each (see the import crate's parser).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlayDetails {
    pub platform: Option<Arc<str>>,
    pub conn_country: Option<Arc<str>>,
    pub reason_start: Option<Arc<str>>,
    pub reason_end: Option<Arc<str>>,
    pub shuffle: Option<bool>,
    pub skipped: Option<bool>,
    pub offline: Option<bool>,
    pub incognito: Option<bool>,
}

impl PlayDetails {
    /// The platform, country and reasons, to rewrite in place.
    pub fn texts_mut(&mut self) -> [&mut Option<Arc<str>>; 4] {
        [
            &mut self.platform,
            &mut self.conn_country,
            &mut self.reason_start,
            &mut self.reason_end,
        ]
    }
}

/// One listen as a source reports it, before it is matched against what is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewListen {
    pub ended_at: EndedAt,
    pub item: ItemRef,
    /// `None` when the source does not say (Web API plays).
    pub ms_played: Option<i64>,
    /// True when `ms_played` was estimated rather than reported.
    pub ms_played_estimated: bool,
    pub source: Source,
    pub details: PlayDetails,
}

impl NewListen {
    /// Replaces every NUL character of the listen's texts with U+FFFD (the replacement
    /// character). JSON can spell one (`\u0000`), SQLite would store it, and PostgreSQL
    /// refuses any text holding one, which would stop an import there; with this, a listen is
    /// stored alike on both. Texts without NUL, all but crafted ones, are left untouched; the
    /// search costs ~0.07 s of an import's parser per million listens.
    pub fn replace_nul_characters(&mut self) {
        let item = &mut self.item;
        replace_nul(&mut item.name);
        for text in [&mut item.uri, &mut item.isrc].into_iter().flatten() {
            replace_nul(text);
        }
        if let Some(album) = &mut item.album {
            replace_nul(&mut album.name);
            if let Some(uri) = &mut album.uri {
                replace_nul(uri);
            }
        }
        for artist in &mut item.artists {
            replace_nul(&mut artist.name);
            if let Some(uri) = &mut artist.uri {
                replace_nul(uri);
            }
        }
        for text in self.details.texts_mut().into_iter().flatten() {
            if text.contains('\0') {
                *text = text.replace('\0', "\u{FFFD}").into();
            }
        }
    }
}

/// Replaces `text`'s NUL characters, if it has any, by U+FFFD.
fn replace_nul(text: &mut String) {
    if text.contains('\0') {
        *text = text.replace('\0', "\u{FFFD}");
    }
}

/// The catalogue keys of one listen's item, computed from its URIs or names (see the import
/// crate's identity rules). The store uses them to find or create catalogue rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenKeys {
    /// `spotify:track:<id>`-style URI, or `local:<sha1>` of the names.
    pub track: String,
    pub album: Option<String>,
    /// One key per entry of `ItemRef::artists`, same order.
    pub artists: Vec<String>,
    /// Hash of the normalised primary artist (or show) and item name: how name-only sources
    /// (account data, minute precision) are matched to listens from richer sources.
    pub match_key: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_are_replaced_in_every_text_and_nothing_else() {
        let nul = |text: &str| text.replace('#', "\0");
        let listen = |text: &dyn Fn(&str) -> String| NewListen {
            ended_at: EndedAt(1_614_882_125_000),
            item: ItemRef {
                kind: ItemKind::Track,
                uri: Some(text("spotify:track:a#")),
                name: text("So#ng #"),
                artists: vec![
                    ArtistRef {
                        uri: Some(text("spotify:artist:#")),
                        name: text("Art#ist"),
                    },
                    ArtistRef {
                        uri: None,
                        name: text("#Second"),
                    },
                ],
                album: Some(AlbumRef {
                    uri: Some(text("spotify:album:#b")),
                    name: text("Al#bum"),
                }),
                duration_ms: Some(1),
                isrc: Some(text("US#1")),
            },
            ms_played: Some(30_000),
            ms_played_estimated: false,
            source: Source::ExtendedExport,
            details: PlayDetails {
                platform: Some(text("and#roid").into()),
                conn_country: Some(text("#").into()),
                reason_start: Some(text("fwd#btn").into()),
                reason_end: Some(text("trackdone#").into()),
                shuffle: Some(true),
                ..PlayDetails::default()
            },
        };
        let mut scrubbed = listen(&nul);
        assert!(format!("{scrubbed:?}").contains("\\0"));
        scrubbed.replace_nul_characters();
        assert_eq!(scrubbed, listen(&|text| text.replace('#', "\u{FFFD}")));
        let mut clean = listen(&|text| text.replace('#', "x"));
        let before = clean.clone();
        clean.replace_nul_characters();
        assert_eq!(clean, before);
    }

    #[test]
    fn source_set_records_every_source() {
        let set = SourceSet::from(Source::ExtendedExport).with(Source::RecentlyPlayed);
        assert!(set.contains(Source::ExtendedExport));
        assert!(!set.contains(Source::AccountData));
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![Source::ExtendedExport, Source::RecentlyPlayed]
        );
        assert_eq!(Source::from_bit(2), Some(Source::AccountData));
    }

    #[test]
    fn counting_rule_applies_threshold_and_unknowns() {
        let rule = CountingRule::default();
        assert!(rule.counts(Some(30_000)));
        assert!(!rule.counts(Some(29_999)));
        assert!(rule.counts(None));
        let strict = CountingRule {
            count_unknown_duration: false,
            ..rule
        };
        assert!(!strict.counts(None));
    }

    #[test]
    fn ended_at_round_trips_through_jiff() {
        let ts: jiff::Timestamp = "2021-03-04T18:22:05Z".parse().unwrap();
        let ended = EndedAt::from(ts);
        assert_eq!(ended.0, 1_614_882_125_000);
        assert_eq!(ended.timestamp(), ts);
    }
}
