//! Account-data records (`StreamingHistory_music_*.json`, `StreamingHistory_podcast_*.json`,
//! older `StreamingHistory<N>.json`), normalised to listens.
//!
//! These rows carry names only and an end time to the minute (newer variants to the second).
//! The same listens usually also come from the extended history; the store matches them by
//! [`name_match_key`](crate::identity::name_match_key) and minute, so they are not counted twice.

use std::borrow::Cow;

use serde::Deserialize;
use spotify_history_core::{
    AlbumRef, ArtistRef, EndedAt, ItemKind, ItemRef, NewListen, PlayDetails, Source,
};

use crate::flat_object::{Flat, FlatFields};
use crate::json_array::ElementShape;
use crate::lenient::{Lenient, ObjectOnly, put};
use crate::plausible::{check_ms_played, is_plausible_end};
use crate::timestamp::parse_end_time;
use crate::{Record, SkipReason};

/// One account-data row; music rows name artist and track, podcast rows show and episode.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AccountRecord<'a> {
    #[serde(default, borrow, rename = "endTime")]
    end_time: Lenient<Cow<'a, str>>,
    #[serde(default, borrow, rename = "artistName")]
    artist_name: Lenient<Cow<'a, str>>,
    #[serde(default, borrow, rename = "trackName")]
    track_name: Lenient<Cow<'a, str>>,
    #[serde(default, borrow, rename = "podcastName")]
    podcast_name: Lenient<Cow<'a, str>>,
    #[serde(default, borrow, rename = "episodeName")]
    episode_name: Lenient<Cow<'a, str>>,
    #[serde(default, rename = "msPlayed")]
    ms_played: Lenient<i64>,
}

impl<'a> FlatFields<'a> for AccountRecord<'a> {
    fn field(&mut self, key: &str, value: Flat<'a>) -> bool {
        match key {
            "endTime" => put(&mut self.end_time, value),
            "artistName" => put(&mut self.artist_name, value),
            "trackName" => put(&mut self.track_name, value),
            "podcastName" => put(&mut self.podcast_name, value),
            "episodeName" => put(&mut self.episode_name, value),
            "msPlayed" => put(&mut self.ms_played, value),
            _ => true,
        }
    }
}

/// The array element type of account-data files.
pub(crate) struct AccountShape;

impl ElementShape for AccountShape {
    type Element<'de> = ObjectOnly<AccountRecord<'de>>;
}

/// Normalise one element (`None`: not an object) to a listen or a skip, checking
/// shape → when → what → how long, like the extended history.
pub(crate) fn normalize(element: Option<ObjectOnly<AccountRecord<'_>>>, now: EndedAt) -> Record {
    let Some(ObjectOnly(row)) = element else {
        return Record::Skipped(SkipReason::MalformedRecord);
    };
    match listen_of(row, now) {
        Ok(listen) => Record::Listen(listen),
        Err(reason) => Record::Skipped(reason),
    }
}

fn listen_of(row: AccountRecord<'_>, now: EndedAt) -> Result<NewListen, SkipReason> {
    let fields_ok = [
        &row.end_time,
        &row.artist_name,
        &row.track_name,
        &row.podcast_name,
        &row.episode_name,
    ]
    .iter()
    .all(|field| !field.is_invalid());
    if !fields_ok || row.ms_played.is_invalid() {
        return Err(SkipReason::MalformedRecord);
    }
    let ended_at = row
        .end_time
        .text()
        .and_then(parse_end_time)
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
        source: Source::AccountData,
        details: PlayDetails::default(),
    })
}

/// Older files mix music and podcasts, so each row's own fields decide its kind.
fn item_of(row: &AccountRecord<'_>) -> Result<ItemRef, SkipReason> {
    let named = |name: &str| name.to_owned();
    match (row.artist_name.text(), row.track_name.text()) {
        (Some(artist), Some(track)) => {
            return Ok(ItemRef {
                kind: ItemKind::Track,
                uri: None,
                name: named(track),
                artists: vec![ArtistRef {
                    uri: None,
                    name: named(artist),
                }],
                album: None,
                duration_ms: None,
                isrc: None,
            });
        }
        (None, None) => {}
        _ => return Err(SkipReason::UnsupportedKind),
    }
    match (row.podcast_name.text(), row.episode_name.text()) {
        (Some(show), Some(episode)) => Ok(ItemRef {
            kind: ItemKind::Episode,
            uri: None,
            name: named(episode),
            artists: Vec::new(),
            album: Some(AlbumRef {
                uri: None,
                name: named(show),
            }),
            duration_ms: None,
            isrc: None,
        }),
        (None, None) => Err(SkipReason::NoUriAndNoNames),
        _ => Err(SkipReason::UnsupportedKind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: EndedAt = EndedAt(1_893_456_000_000); // 2030-01-01

    fn parse(json: &str) -> Record {
        let element: Option<ObjectOnly<AccountRecord<'_>>> = serde_json::from_str(json).ok();
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

    #[test]
    fn music_row_ends_at_the_minute_start() {
        let l = listen(
            r#"{"endTime":"2024-05-01 13:45","artistName":"Beyoncé","trackName":"CUFF IT","msPlayed":225000}"#,
        );
        assert_eq!(l.ended_at, EndedAt(1_714_571_100_000));
        assert_eq!(l.source, Source::AccountData);
        assert_eq!(l.item.kind, ItemKind::Track);
        assert_eq!(l.item.uri, None);
        assert_eq!(l.item.artists[0].name, "Beyoncé");
        assert_eq!(l.item.name, "CUFF IT");
        assert_eq!(l.ms_played, Some(225_000));
        assert_eq!(l.details, PlayDetails::default());
    }

    #[test]
    fn seconds_are_kept_when_given() {
        let l = listen(
            r#"{"endTime":"2024-05-01 13:45:30","artistName":"A","trackName":"T","msPlayed":1}"#,
        );
        assert_eq!(l.ended_at, EndedAt(1_714_571_130_000));
    }

    #[test]
    fn podcast_rows_and_mixed_files() {
        let l = listen(
            r#"{"endTime":"2020-02-02 02:02","podcastName":"Science Hour","episodeName":"Glaciers","msPlayed":60000}"#,
        );
        assert_eq!(l.item.kind, ItemKind::Episode);
        assert_eq!(l.item.album.unwrap().name, "Science Hour");
        assert!(l.item.artists.is_empty());
    }

    #[test]
    fn every_skip_reason() {
        assert_eq!(
            skip(r#"{"endTime":"2024-05-01 13:45","msPlayed":1000}"#),
            SkipReason::NoUriAndNoNames
        );
        assert_eq!(
            skip(r#"{"endTime":"2024-05-01 13:45","artistName":"A","trackName":"T","msPlayed":0}"#),
            SkipReason::ZeroMsPlayed
        );
        assert_eq!(
            skip(r#"{"endTime":"2024-05-01 13:45","artistName":"A","msPlayed":10}"#),
            SkipReason::UnsupportedKind
        );
        assert_eq!(
            skip(
                r#"{"endTime":"2024-05-01 13:45","artistName":"A","trackName":"T","msPlayed":"x"}"#
            ),
            SkipReason::MalformedRecord
        );
        assert_eq!(skip("42"), SkipReason::MalformedRecord);
        assert_eq!(
            skip(r#"{"endTime":"May 1st","artistName":"A","trackName":"T","msPlayed":10}"#),
            SkipReason::MalformedTimestamp
        );
        assert_eq!(
            skip(
                r#"{"endTime":"1999-05-01 13:45","artistName":"A","trackName":"T","msPlayed":10}"#
            ),
            SkipReason::AbsurdValue
        );
        assert_eq!(
            skip(
                r#"{"endTime":"2024-05-01 13:45","artistName":"A","trackName":"T","msPlayed":-10}"#
            ),
            SkipReason::AbsurdValue
        );
    }
}
