//! Recently-played plays as listens for the store, and the estimate of how long each lasted.

use crate::models::PlayHistoryItem;
use spotify_history_core::{
    AlbumRef, ArtistRef, EndedAt, ItemKind, ItemRef, NewListen, PlayDetails, Source,
};

/// A URI that names a catalogue item: local files' `spotify:local:` URIs name nothing
/// outside the listener's device, so those items are keyed by their names instead.
fn catalogue_uri(uri: Option<&String>) -> Option<String> {
    uri.filter(|u| !u.is_empty() && !u.starts_with("spotify:local:"))
        .cloned()
}

/// A recently-played play as a listen: `ended_at` is `played_at` (Spotify reports when the
/// play ended), `ms_played` is unknown until [`estimate_ms_played`] fills it in, and the
/// source is [`Source::RecentlyPlayed`] (initial sync sets its own source).
pub fn play_to_listen(item: &PlayHistoryItem) -> NewListen {
    let track = &item.track;
    let kind = match track.kind.as_deref() {
        Some("episode") => ItemKind::Episode,
        _ => ItemKind::Track,
    };
    let mut listen = NewListen {
        ended_at: EndedAt(item.played_at.as_millisecond()),
        item: ItemRef {
            kind,
            uri: catalogue_uri(track.uri.as_ref()),
            name: track.name.clone(),
            artists: track
                .artists
                .iter()
                .map(|a| ArtistRef {
                    uri: catalogue_uri(a.uri.as_ref()),
                    name: a.name.clone(),
                })
                .collect(),
            album: track
                .album
                .as_ref()
                .filter(|a| !a.name.is_empty())
                .map(|a| AlbumRef {
                    uri: catalogue_uri(a.uri.as_ref()),
                    name: a.name.clone(),
                }),
            duration_ms: track.duration_ms.filter(|ms| *ms > 0),
            isrc: track.external_ids.isrc.clone().filter(|i| !i.is_empty()),
        },
        ms_played: None,
        ms_played_estimated: false,
        source: Source::RecentlyPlayed,
        details: PlayDetails::default(),
    };
    listen.replace_nul_characters();
    listen
}

/// Estimates `ms_played` for listens that do not report it, and flags the estimate.
///
/// The rule: `played_at` is when a play *ended*, so a listen lasted at most the time since the
/// previous listen ended, and at most the track's duration:
/// `ms_played = min(duration_ms, ended_at − previous ended_at)`; the first listen of the slice
/// gets its full duration. Listens without a known duration stay unknown, and listens whose
/// source reported `ms_played` are kept as reported (they still bound the next one).
///
/// `listens` must be sorted by `ended_at`, oldest first. Put the newest already-stored listen
/// first so the first new one is bounded too.
pub fn estimate_ms_played(listens: &mut [NewListen]) {
    debug_assert!(
        listens.is_sorted_by_key(|l| l.ended_at),
        "estimate_ms_played needs listens sorted by ended_at"
    );
    let mut previous_end: Option<i64> = None;
    for listen in listens.iter_mut() {
        let reported = listen.ms_played.is_some() && !listen.ms_played_estimated;
        if let (false, Some(duration)) = (reported, listen.item.duration_ms) {
            let since_previous = previous_end.map(|end| (listen.ended_at.0 - end).max(0));
            listen.ms_played = Some(since_previous.map_or(duration, |gap| gap.min(duration)));
            listen.ms_played_estimated = true;
        }
        previous_end = Some(listen.ended_at.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen(ended_at: i64, duration_ms: Option<i64>) -> NewListen {
        NewListen {
            ended_at: EndedAt(ended_at),
            item: ItemRef {
                kind: ItemKind::Track,
                uri: Some("spotify:track:4uLU6hMCjMI75M1A2tKUQC".into()),
                name: "Song".into(),
                artists: Vec::new(),
                album: None,
                duration_ms,
                isrc: None,
            },
            ms_played: None,
            ms_played_estimated: false,
            source: Source::RecentlyPlayed,
            details: PlayDetails::default(),
        }
    }

    #[test]
    fn a_recent_play_with_nul_characters_gets_replacement_characters() {
        let json = r#"{
            "track": {
                "id": "a", "name": "So\u0000ng", "uri": "spotify:track:a", "type": "track",
                "artists": [{"id": "b", "name": "Art\u0000ist", "uri": "spotify:artist:b"}],
                "album": {"id": "c", "name": "\u0000Album", "uri": "spotify:album:c"},
                "duration_ms": 180000
            },
            "played_at": "2026-01-01T10:00:00.123Z",
            "context": null
        }"#;
        let item: PlayHistoryItem = serde_json::from_str(json).unwrap();
        assert_eq!(item.track.name, "So\0ng");
        let listen = play_to_listen(&item);
        assert_eq!(listen.item.name, "So\u{FFFD}ng");
        assert_eq!(listen.item.artists[0].name, "Art\u{FFFD}ist");
        assert_eq!(listen.item.album.unwrap().name, "\u{FFFD}Album");
    }

    fn estimates(listens: &[NewListen]) -> Vec<(Option<i64>, bool)> {
        listens
            .iter()
            .map(|l| (l.ms_played, l.ms_played_estimated))
            .collect()
    }

    #[test]
    fn back_to_back_plays_last_their_duration_and_skips_are_cut_at_the_gap() {
        let mut listens = vec![
            listen(1_000_000, Some(200_000)),
            // Ended 200 s after the previous one: played in full.
            listen(1_200_000, Some(180_000)),
            // Ended 45 s after: skipped after at most 45 s.
            listen(1_245_000, Some(240_000)),
            // An hour later: the gap is long, the duration is the bound.
            listen(4_845_000, Some(210_000)),
        ];
        estimate_ms_played(&mut listens);
        assert_eq!(
            estimates(&listens),
            vec![
                (Some(200_000), true),
                (Some(180_000), true),
                (Some(45_000), true),
                (Some(210_000), true),
            ]
        );
    }

    #[test]
    fn unknown_durations_stay_unknown_but_still_bound_the_next_play() {
        let mut listens = vec![listen(1_000_000, None), listen(1_030_000, Some(200_000))];
        estimate_ms_played(&mut listens);
        assert_eq!(
            estimates(&listens),
            vec![(None, false), (Some(30_000), true)]
        );
    }

    #[test]
    fn reported_durations_are_kept_and_plays_ending_together_get_zero() {
        let mut stored = listen(1_000_000, Some(200_000));
        stored.ms_played = Some(12_345);
        let mut listens = vec![
            stored,
            listen(1_100_000, Some(200_000)),
            listen(1_100_000, Some(200_000)),
        ];
        estimate_ms_played(&mut listens);
        assert_eq!(
            estimates(&listens),
            vec![
                (Some(12_345), false),
                (Some(100_000), true),
                (Some(0), true),
            ]
        );
    }

    #[test]
    fn estimating_again_recomputes_earlier_estimates() {
        let mut listens = vec![listen(1_100_000, Some(200_000))];
        estimate_ms_played(&mut listens);
        assert_eq!(estimates(&listens), vec![(Some(200_000), true)]);
        // The same play, now with the stored play before it: the estimate tightens.
        let mut with_previous = vec![listen(1_000_000, Some(300_000)), listens.remove(0)];
        estimate_ms_played(&mut with_previous);
        assert_eq!(with_previous[1].ms_played, Some(100_000));
    }
}
