//! Web API objects as Spotify sends them in 2026. Decoding is lenient: unknown fields are
//! ignored, most fields may be missing or null, and fields Spotify removed (`popularity`,
//! `followers`, `available_markets`, `/me` `email`/`country`/`product`) are not modelled.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

/// Missing and `null` both become the default (empty list, empty object).
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Lists can contain `null` entries (search) or items Spotify no longer describes fully (a
/// removed track with `track: null` in recently played); such items are dropped, so that one
/// of them cannot make a whole page unreadable — and, in recently played, stall polling until
/// it falls out of the 50-play window.
fn without_nulls<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let items: Option<Vec<serde_json::Value>> = Option::deserialize(deserializer)?;
    Ok(items
        .unwrap_or_default()
        .into_iter()
        .filter_map(|item| serde_json::from_value(item).ok())
        .collect())
}

/// Cursors are Unix milliseconds sent as strings; numbers are accepted too.
fn millis<'de, D>(deserializer: D) -> Result<Option<i64>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Millis {
        Text(String),
        Number(i64),
    }
    match Option::<Millis>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Millis::Number(ms)) => Ok(Some(ms)),
        Some(Millis::Text(text)) => text.parse().map(Some).map_err(|_| {
            serde::de::Error::custom(format!("cursor {text:?} is not Unix milliseconds"))
        }),
    }
}

/// Links to the Spotify app or web player.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalUrls {
    pub spotify: Option<String>,
}

/// Industry identifiers of a track (back on tracks since March 2026).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalIds {
    pub isrc: Option<String>,
    pub ean: Option<String>,
    pub upc: Option<String>,
}

/// Cover art or a profile picture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub url: String,
    pub height: Option<u32>,
    pub width: Option<u32>,
}

/// The signed-in user (`GET /v1/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// Spotify user id.
    pub id: String,
    pub display_name: Option<String>,
    pub uri: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub external_urls: ExternalUrls,
    #[serde(default, deserialize_with = "null_as_default")]
    pub images: Vec<Image>,
}

/// An artist as credited on a track or album. Local files have no id or URI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimplifiedArtist {
    pub id: Option<String>,
    pub name: String,
    pub uri: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub external_urls: ExternalUrls,
}

/// An artist (`GET /v1/artists/{id}`, top artists, search).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artist {
    pub id: String,
    pub name: String,
    pub uri: String,
    /// Usually empty since 2026.
    #[serde(default, deserialize_with = "null_as_default")]
    pub genres: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub images: Vec<Image>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub external_urls: ExternalUrls,
}

/// An album as shown on a track or in search results. Local files have no id or URI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimplifiedAlbum {
    pub id: Option<String>,
    pub name: String,
    pub uri: Option<String>,
    /// `album`, `single` or `compilation`.
    pub album_type: Option<String>,
    pub release_date: Option<String>,
    /// `year`, `month` or `day`: how much of `release_date` is meaningful.
    pub release_date_precision: Option<String>,
    pub total_tracks: Option<u32>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub artists: Vec<SimplifiedArtist>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub images: Vec<Image>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub external_urls: ExternalUrls,
}

/// An album with its tracks (`GET /v1/albums/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Album {
    pub id: String,
    pub name: String,
    pub uri: String,
    pub album_type: Option<String>,
    pub release_date: Option<String>,
    pub release_date_precision: Option<String>,
    pub total_tracks: Option<u32>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub artists: Vec<SimplifiedArtist>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub images: Vec<Image>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub external_urls: ExternalUrls,
    /// The first page of tracks; these have no `album` and no `external_ids`.
    pub tracks: Option<Page<Track>>,
}

/// A track: full (with `album` and `external_ids`) or as listed in an album.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    /// `None` for local files.
    pub id: Option<String>,
    pub name: String,
    /// `spotify:track:<id>`, or `spotify:local:...` for local files.
    pub uri: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub artists: Vec<SimplifiedArtist>,
    pub album: Option<SimplifiedAlbum>,
    pub duration_ms: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub external_ids: ExternalIds,
    #[serde(default, deserialize_with = "null_as_default")]
    pub explicit: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_local: bool,
    pub track_number: Option<u32>,
    pub disc_number: Option<u32>,
    /// `track`, or `episode` where Spotify mixes podcasts in.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub external_urls: ExternalUrls,
}

/// What a play was started from (album, playlist, artist, show).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub uri: Option<String>,
    pub href: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub external_urls: ExternalUrls,
}

/// One play from recently-played.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlayHistoryItem {
    pub track: Track,
    /// When the play ended (UTC, millisecond precision).
    pub played_at: Timestamp,
    pub context: Option<Context>,
}

/// Recently-played's cursors, in Unix milliseconds: `after` is the newest play of the page,
/// `before` the oldest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursors {
    #[serde(default, deserialize_with = "millis")]
    pub after: Option<i64>,
    #[serde(default, deserialize_with = "millis")]
    pub before: Option<i64>,
}

/// A page of recently-played, newest play first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentlyPlayedPage {
    #[serde(default, deserialize_with = "without_nulls")]
    pub items: Vec<PlayHistoryItem>,
    /// `None` when the page is empty.
    pub cursors: Option<Cursors>,
    /// URL of the next (older) page, if Spotify offers one.
    pub next: Option<String>,
    pub limit: Option<u32>,
    pub href: Option<String>,
}

/// An offset-paged list (top lists, search results, album tracks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: serde::de::DeserializeOwned"))]
pub struct Page<T> {
    #[serde(default = "Vec::new", deserialize_with = "without_nulls")]
    pub items: Vec<T>,
    pub href: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    /// How many items exist in all pages.
    pub total: Option<u32>,
    pub next: Option<String>,
    pub previous: Option<String>,
}

/// Search results, one page per requested type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults {
    pub tracks: Option<Page<Track>>,
    pub artists: Option<Page<Artist>>,
    pub albums: Option<Page<SimplifiedAlbum>>,
}

/// A top list: artists or tracks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum TopItems {
    Artists(Page<Artist>),
    Tracks(Page<Track>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_file_play_with_nulls_and_unknown_fields_decodes() {
        let json = r#"{
            "track": {
                "id": null, "name": "Demo Take", "uri": "spotify:local:Me:Tapes:Demo+Take:180",
                "artists": [{"id": null, "name": "Me", "uri": null, "href": null}],
                "album": {"id": null, "name": "Tapes", "uri": null, "album_type": null, "artists": null},
                "duration_ms": 180000, "external_ids": null, "is_local": true, "type": "track",
                "popularity": 0, "available_markets": [], "some_new_field": {"x": 1}
            },
            "played_at": "2026-01-01T10:00:00.123Z",
            "context": null
        }"#;
        let item: PlayHistoryItem = serde_json::from_str(json).unwrap();
        assert!(item.track.is_local);
        assert_eq!(item.track.id, None);
        assert_eq!(item.track.external_ids, ExternalIds::default());
        assert_eq!(item.played_at.as_millisecond(), 1_767_261_600_123);
    }

    #[test]
    fn cursors_accept_strings_and_numbers() {
        let cursors: Cursors =
            serde_json::from_str(r#"{"after":"1767261600123","before":1767261000000}"#).unwrap();
        assert_eq!(cursors.after, Some(1_767_261_600_123));
        assert_eq!(cursors.before, Some(1_767_261_000_000));
        assert!(serde_json::from_str::<Cursors>(r#"{"after":"soon"}"#).is_err());
    }

    #[test]
    fn null_items_in_a_page_are_dropped() {
        let page: Page<Artist> = serde_json::from_str(
            r#"{"items":[null,{"id":"a","name":"A","uri":"spotify:artist:a"}],"total":2}"#,
        )
        .unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].name, "A");
    }

    #[test]
    fn a_play_of_a_removed_track_does_not_spoil_its_page() {
        let page: RecentlyPlayedPage = serde_json::from_str(
            r#"{"items":[
                {"track": null, "played_at": "2026-01-01T10:00:00.000Z"},
                {"track": {"id": "t", "name": "Kept", "uri": "spotify:track:t"},
                 "played_at": "2026-01-01T09:56:00.000Z"}],
               "cursors": {"after": "1767261600000", "before": "1767261360000"}}"#,
        )
        .unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].track.name, "Kept");
        assert_eq!(page.cursors.unwrap().after, Some(1_767_261_600_000));
    }
}
