//! Extended streaming history records (`Streaming_History_Audio_*.json`, `endsong_*.json`,
//! `Streaming_History_Video_*.json`), normalised to listens.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Deserialize;
use spotify_history_core::{
    AlbumRef, ArtistRef, EndedAt, ItemKind, ItemRef, NewListen, PlayDetails, Source,
};

use crate::flat_object::{Flat, FlatFields};
use crate::json_array::ElementShape;
use crate::lenient::{Lenient, ObjectOnly, put};
use crate::plausible::{check_ms_played, is_plausible_end};
use crate::timestamp::parse_ts;
use crate::{Record, SkipReason};

/// One extended-history row, every field optional and of any type (see [`Lenient`]).
///
/// Every generation of the format reads into this: old rows add `username`,
/// `user_agent_decrypted` and `ip_addr_decrypted`, new ones `ip_addr` and the `audiobook_*`
/// fields; `offline_timestamp` switched from seconds to milliseconds. Fields not declared here
/// are skipped unparsed: the IP address, user agent, account name and offline timestamp are
/// deliberately never read, because nothing here needs them and they are personal data.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ExtendedRecord<'a> {
    #[serde(default, borrow)]
    ts: Lenient<Cow<'a, str>>,
    #[serde(default, borrow)]
    platform: Lenient<Cow<'a, str>>,
    #[serde(default)]
    ms_played: Lenient<i64>,
    #[serde(default, borrow)]
    conn_country: Lenient<Cow<'a, str>>,
    #[serde(default, borrow)]
    master_metadata_track_name: Lenient<Cow<'a, str>>,
    #[serde(default, borrow)]
    master_metadata_album_artist_name: Lenient<Cow<'a, str>>,
    #[serde(default, borrow)]
    master_metadata_album_album_name: Lenient<Cow<'a, str>>,
    #[serde(default, borrow)]
    spotify_track_uri: Lenient<Cow<'a, str>>,
    #[serde(default, borrow)]
    episode_name: Lenient<Cow<'a, str>>,
    #[serde(default, borrow)]
    episode_show_name: Lenient<Cow<'a, str>>,
    #[serde(default, borrow)]
    spotify_episode_uri: Lenient<Cow<'a, str>>,
    #[serde(default, borrow)]
    audiobook_title: Lenient<Cow<'a, str>>,
    #[serde(default, borrow)]
    audiobook_uri: Lenient<Cow<'a, str>>,
    #[serde(default, borrow)]
    audiobook_chapter_uri: Lenient<Cow<'a, str>>,
    #[serde(default, borrow)]
    audiobook_chapter_title: Lenient<Cow<'a, str>>,
    #[serde(default, borrow)]
    reason_start: Lenient<Cow<'a, str>>,
    #[serde(default, borrow)]
    reason_end: Lenient<Cow<'a, str>>,
    #[serde(default)]
    shuffle: Lenient<bool>,
    #[serde(default)]
    skipped: Lenient<bool>,
    #[serde(default)]
    offline: Lenient<bool>,
    #[serde(default)]
    incognito_mode: Lenient<bool>,
}

impl<'a> FlatFields<'a> for ExtendedRecord<'a> {
    fn field(&mut self, key: &str, value: Flat<'a>) -> bool {
        match key {
            "ts" => put(&mut self.ts, value),
            "platform" => put(&mut self.platform, value),
            "ms_played" => put(&mut self.ms_played, value),
            "conn_country" => put(&mut self.conn_country, value),
            "master_metadata_track_name" => put(&mut self.master_metadata_track_name, value),
            "master_metadata_album_artist_name" => {
                put(&mut self.master_metadata_album_artist_name, value)
            }
            "master_metadata_album_album_name" => {
                put(&mut self.master_metadata_album_album_name, value)
            }
            "spotify_track_uri" => put(&mut self.spotify_track_uri, value),
            "episode_name" => put(&mut self.episode_name, value),
            "episode_show_name" => put(&mut self.episode_show_name, value),
            "spotify_episode_uri" => put(&mut self.spotify_episode_uri, value),
            "audiobook_title" => put(&mut self.audiobook_title, value),
            "audiobook_uri" => put(&mut self.audiobook_uri, value),
            "audiobook_chapter_uri" => put(&mut self.audiobook_chapter_uri, value),
            "audiobook_chapter_title" => put(&mut self.audiobook_chapter_title, value),
            "reason_start" => put(&mut self.reason_start, value),
            "reason_end" => put(&mut self.reason_end, value),
            "shuffle" => put(&mut self.shuffle, value),
            "skipped" => put(&mut self.skipped, value),
            "offline" => put(&mut self.offline, value),
            "incognito_mode" => put(&mut self.incognito_mode, value),
            _ => true,
        }
    }
}

/// The array element type of extended-history files.
pub(crate) struct ExtendedShape;

impl ElementShape for ExtendedShape {
    type Element<'de> = ObjectOnly<ExtendedRecord<'de>>;
}

/// Normalise one element (`None`: not an object) to a listen or a skip.
///
/// Checks run in the order shape → when → what → how long, so a row with several problems
/// is counted under the first.
pub(crate) fn normalize(element: Option<ObjectOnly<ExtendedRecord<'_>>>, now: EndedAt) -> Record {
    let Some(ObjectOnly(row)) = element else {
        return Record::Skipped(SkipReason::MalformedRecord);
    };
    match listen_of(row, now) {
        Ok(listen) => Record::Listen(listen),
        Err(reason) => Record::Skipped(reason),
    }
}

fn listen_of(row: ExtendedRecord<'_>, now: EndedAt) -> Result<NewListen, SkipReason> {
    let essential_fields_ok = [
        &row.ts,
        &row.master_metadata_track_name,
        &row.master_metadata_album_artist_name,
        &row.master_metadata_album_album_name,
        &row.spotify_track_uri,
        &row.episode_name,
        &row.episode_show_name,
        &row.spotify_episode_uri,
        &row.audiobook_title,
        &row.audiobook_uri,
        &row.audiobook_chapter_uri,
        &row.audiobook_chapter_title,
    ]
    .iter()
    .all(|field| !field.is_invalid());
    if !essential_fields_ok || row.ms_played.is_invalid() {
        return Err(SkipReason::MalformedRecord);
    }
    let ended_at = row
        .ts
        .text()
        .and_then(parse_ts)
        .ok_or(SkipReason::MalformedTimestamp)?;
    if !is_plausible_end(ended_at, now) {
        return Err(SkipReason::AbsurdValue);
    }
    let item = item_of(&row)?;
    let ms_played = check_ms_played(row.ms_played)?;
    Ok(NewListen {
        ended_at: EndedAt(ended_at),
        item,
        ms_played,
        ms_played_estimated: false,
        source: Source::ExtendedExport,
        details: PlayDetails {
            platform: owned(&row.platform),
            conn_country: owned(&row.conn_country),
            reason_start: owned(&row.reason_start),
            reason_end: owned(&row.reason_end),
            shuffle: row.shuffle.ok(),
            skipped: row.skipped.ok(),
            offline: row.offline.ok(),
            incognito: row.incognito_mode.ok(),
        },
    })
}

/// What was heard: the first URI decides the kind. A URI without its name keeps the URI as
/// name, so the listen is still counted and the name can be filled in later.
fn item_of(row: &ExtendedRecord<'_>) -> Result<ItemRef, SkipReason> {
    let track_name = row.master_metadata_track_name.text();
    let artist_name = row.master_metadata_album_artist_name.text();
    let album_name = row.master_metadata_album_album_name.text();
    if let Some(uri) = row.spotify_track_uri.text() {
        // Local files have had `spotify:local:...` URIs that name no catalogue track.
        if !uri.starts_with("spotify:track:") && !uri.starts_with("spotify:local:") {
            return Err(SkipReason::UnsupportedKind);
        }
        let uri = uri.starts_with("spotify:track:").then_some(uri);
        if uri.is_none() && (track_name.is_none() || artist_name.is_none()) {
            return Err(SkipReason::UnsupportedKind);
        }
        return Ok(track(uri, track_name, artist_name, album_name));
    }
    if let Some(uri) = row.spotify_episode_uri.text() {
        if !uri.starts_with("spotify:episode:") {
            return Err(SkipReason::UnsupportedKind);
        }
        return Ok(ItemRef {
            kind: ItemKind::Episode,
            uri: Some(uri.to_owned()),
            name: row.episode_name.text().unwrap_or(uri).to_owned(),
            artists: Vec::new(),
            album: album(None, row.episode_show_name.text()),
            duration_ms: None,
            isrc: None,
        });
    }
    if let Some(uri) = row.audiobook_chapter_uri.text() {
        if !uri.starts_with("spotify:") {
            return Err(SkipReason::UnsupportedKind);
        }
        let book_uri = row.audiobook_uri.text();
        return Ok(ItemRef {
            kind: ItemKind::Chapter,
            uri: Some(uri.to_owned()),
            name: row.audiobook_chapter_title.text().unwrap_or(uri).to_owned(),
            artists: Vec::new(),
            album: album(book_uri, row.audiobook_title.text().or(book_uri)),
            duration_ms: None,
            isrc: None,
        });
    }
    if let (Some(_), Some(_)) = (track_name, artist_name) {
        // A local file or a track gone from the catalogue: the store keys it by names.
        return Ok(track(None, track_name, artist_name, album_name));
    }
    let any_name = [
        track_name,
        artist_name,
        album_name,
        row.episode_name.text(),
        row.episode_show_name.text(),
        row.audiobook_title.text(),
        row.audiobook_chapter_title.text(),
        row.audiobook_uri.text(),
    ]
    .iter()
    .any(Option::is_some);
    Err(if any_name {
        SkipReason::UnsupportedKind
    } else {
        SkipReason::NoUriAndNoNames
    })
}

fn track(
    uri: Option<&str>,
    name: Option<&str>,
    artist: Option<&str>,
    album_name: Option<&str>,
) -> ItemRef {
    ItemRef {
        kind: ItemKind::Track,
        uri: uri.map(str::to_owned),
        name: name.or(uri).unwrap_or_default().to_owned(),
        artists: artist
            .map(|name| {
                vec![ArtistRef {
                    uri: None,
                    name: name.to_owned(),
                }]
            })
            .unwrap_or_default(),
        album: album(None, album_name),
        duration_ms: None,
        isrc: None,
    }
}

fn album(uri: Option<&str>, name: Option<&str>) -> Option<AlbumRef> {
    name.map(|name| AlbumRef {
        uri: uri.map(str::to_owned),
        name: name.to_owned(),
    })
}

fn owned(field: &Lenient<Cow<'_, str>>) -> Option<Arc<str>> {
    field.text().map(Arc::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: EndedAt = EndedAt(1_893_456_000_000); // 2030-01-01

    fn parse(json: &str) -> Record {
        let element: Option<ObjectOnly<ExtendedRecord<'_>>> = serde_json::from_str(json).ok();
        normalize(element, NOW)
    }

    fn listen(json: &str) -> NewListen {
        match parse(json) {
            Record::Listen(l) => l,
            other => panic!("expected a listen from {json}, got {other:?}"),
        }
    }

    fn skip(json: &str) -> SkipReason {
        match parse(json) {
            Record::Skipped(r) => r,
            other => panic!("expected a skip from {json}, got {other:?}"),
        }
    }

    const OLD_ROW: &str = r#"{"ts":"2016-07-01T20:15:09Z","username":"someone","platform":"Android OS 6.0.1 API 23 (samsung, SM-G920F)","ms_played":201000,"conn_country":"IS","ip_addr_decrypted":"10.0.0.1","user_agent_decrypted":"unknown","master_metadata_track_name":"Hoppípolla","master_metadata_album_artist_name":"Sigur Rós","master_metadata_album_album_name":"Takk...","spotify_track_uri":"spotify:track:6eTGxxQxiTFE6LfZHC33Wm","episode_name":null,"episode_show_name":null,"spotify_episode_uri":null,"reason_start":"trackdone","reason_end":"trackdone","shuffle":false,"skipped":null,"offline":false,"offline_timestamp":1467403900,"incognito_mode":false}"#;

    const NEW_ROW: &str = r#"{"ts":"2024-03-04T18:22:05Z","platform":"android","ms_played":4000,"conn_country":"JP","ip_addr":"10.0.0.2","master_metadata_track_name":"Merry Christmas Mr. Lawrence","master_metadata_album_artist_name":"坂本龍一","master_metadata_album_album_name":"Coda","spotify_track_uri":"spotify:track:1a2b3c","episode_name":null,"episode_show_name":null,"spotify_episode_uri":null,"audiobook_title":null,"audiobook_uri":null,"audiobook_chapter_uri":null,"audiobook_chapter_title":null,"reason_start":"clickrow","reason_end":"fwdbtn","shuffle":true,"skipped":true,"offline":false,"offline_timestamp":1709576520000,"incognito_mode":false}"#;

    #[test]
    fn old_generation_track_row() {
        let l = listen(OLD_ROW);
        assert_eq!(l.ended_at, EndedAt(1_467_404_109_000));
        assert_eq!(l.source, Source::ExtendedExport);
        assert_eq!(l.ms_played, Some(201_000));
        assert_eq!(l.item.kind, ItemKind::Track);
        assert_eq!(
            l.item.uri.as_deref(),
            Some("spotify:track:6eTGxxQxiTFE6LfZHC33Wm")
        );
        assert_eq!(l.item.name, "Hoppípolla");
        assert_eq!(l.item.artists[0].name, "Sigur Rós");
        assert_eq!(l.item.album.as_ref().unwrap().name, "Takk...");
        assert_eq!(l.details.skipped, None, "null skipped stays unknown");
        assert_eq!(l.details.shuffle, Some(false));
        assert_eq!(l.details.conn_country.as_deref(), Some("IS"));
        assert_eq!(l.details.reason_end.as_deref(), Some("trackdone"));
    }

    #[test]
    fn new_generation_track_row() {
        let l = listen(NEW_ROW);
        assert_eq!(l.item.artists[0].name, "坂本龍一");
        assert_eq!(l.details.skipped, Some(true));
        assert_eq!(l.details.platform.as_deref(), Some("android"));
        assert_eq!(l.details.incognito, Some(false));
    }

    #[test]
    fn lenient_skipped_values_of_old_files() {
        let as_number = NEW_ROW.replace(r#""skipped":true"#, r#""skipped":1"#);
        assert_eq!(listen(&as_number).details.skipped, Some(true));
        let as_string = NEW_ROW.replace(r#""skipped":true"#, r#""skipped":"false""#);
        assert_eq!(listen(&as_string).details.skipped, Some(false));
        let as_garbage = NEW_ROW.replace(r#""skipped":true"#, r#""skipped":{"x":1}"#);
        assert_eq!(listen(&as_garbage).details.skipped, None);
    }

    #[test]
    fn episode_and_chapter_rows() {
        let l = listen(
            r#"{"ts":"2023-01-02T08:00:00Z","ms_played":1800000,"spotify_episode_uri":"spotify:episode:abc","episode_name":"Ep. 12 — Glaciers","episode_show_name":"Science Hour"}"#,
        );
        assert_eq!(l.item.kind, ItemKind::Episode);
        assert_eq!(l.item.name, "Ep. 12 — Glaciers");
        assert!(l.item.artists.is_empty());
        assert_eq!(l.item.album.unwrap().name, "Science Hour");

        let l = listen(
            r#"{"ts":"2024-01-02T08:00:00Z","ms_played":600000,"audiobook_chapter_uri":"spotify:chapter:c1","audiobook_chapter_title":"Chapter 1","audiobook_uri":"spotify:audiobook:b1","audiobook_title":"Njáls saga"}"#,
        );
        assert_eq!(l.item.kind, ItemKind::Chapter);
        assert_eq!(l.item.name, "Chapter 1");
        let book = l.item.album.unwrap();
        assert_eq!(book.uri.as_deref(), Some("spotify:audiobook:b1"));
        assert_eq!(book.name, "Njáls saga");
    }

    #[test]
    fn names_without_uri_are_kept_as_a_track() {
        let l = listen(
            r#"{"ts":"2019-05-05T10:00:00Z","ms_played":120000,"master_metadata_track_name":"Demo","master_metadata_album_artist_name":"Beyoncé","spotify_track_uri":null}"#,
        );
        assert_eq!(l.item.uri, None);
        assert_eq!(l.item.name, "Demo");
        assert_eq!(l.item.album, None);
    }

    #[test]
    fn every_skip_reason() {
        let base =
            |extra: &str| format!(r#"{{"ts":"2020-01-01T00:00:00Z","ms_played":5000{extra}}}"#);
        let with_track = |extra: &str| {
            base(&format!(
                r#","spotify_track_uri":"spotify:track:x","master_metadata_track_name":"T","master_metadata_album_artist_name":"A"{extra}"#
            ))
        };
        assert_eq!(skip(&base("")), SkipReason::NoUriAndNoNames);
        assert_eq!(
            skip(&base(
                r#","master_metadata_track_name":null,"episode_name":"  ""#
            )),
            SkipReason::NoUriAndNoNames
        );
        assert_eq!(
            skip(&with_track("").replace("5000", "0")),
            SkipReason::ZeroMsPlayed
        );
        assert_eq!(
            skip(&with_track("").replace("5000", "-1")),
            SkipReason::AbsurdValue
        );
        assert_eq!(
            skip(&with_track("").replace("5000", "86400001")),
            SkipReason::AbsurdValue
        );
        assert_eq!(
            skip(&with_track("").replace("2020-01-01", "2001-01-01")),
            SkipReason::AbsurdValue
        );
        assert_eq!(
            skip(&with_track("").replace("2020-01-01", "2030-01-03")),
            SkipReason::AbsurdValue
        );
        assert_eq!(
            skip(&with_track("").replace("2020-01-01T00:00:00Z", "01/01/2020")),
            SkipReason::MalformedTimestamp
        );
        assert_eq!(
            skip(r#"{"ms_played":5000,"spotify_track_uri":"spotify:track:x"}"#),
            SkipReason::MalformedTimestamp
        );
        assert_eq!(
            skip(&with_track("").replace(r#""2020-01-01T00:00:00Z""#, "1577836800")),
            SkipReason::MalformedRecord
        );
        assert_eq!(
            skip(&with_track("").replace("5000", r#"{"ms":5000}"#)),
            SkipReason::MalformedRecord
        );
        assert_eq!(skip("[1,2]"), SkipReason::MalformedRecord);
        assert_eq!(skip(r#""a string""#), SkipReason::MalformedRecord);
        assert_eq!(
            skip(&base(r#","spotify_track_uri":"spotify:video:v1""#)),
            SkipReason::UnsupportedKind
        );
        assert_eq!(
            skip(&base(r#","episode_name":"Ep without show or uri""#)),
            SkipReason::UnsupportedKind
        );
    }

    #[test]
    fn numeric_strings_and_floats_for_ms_played_are_accepted() {
        let l = listen(&NEW_ROW.replace(r#""ms_played":4000"#, r#""ms_played":"4000""#));
        assert_eq!(l.ms_played, Some(4000));
        let l = listen(&NEW_ROW.replace(r#""ms_played":4000"#, r#""ms_played":4000.0"#));
        assert_eq!(l.ms_played, Some(4000));
    }

    #[test]
    fn unknown_fields_are_ignored_and_missing_ms_is_unknown() {
        let l = listen(
            r#"{"ts":"2020-01-01T00:00:00Z","future_field":{"deep":[1,2]},"spotify_track_uri":"spotify:track:x"}"#,
        );
        assert_eq!(l.ms_played, None);
        assert_eq!(
            l.item.name, "spotify:track:x",
            "URI stands in for a missing name"
        );
    }
}
