//! recently-played: paging with cursors within Spotify's 50-play window, and plays as listens.

use super::Setup;
use jiff::SignedDuration;
use spotify_history_core::{ItemKind, Source};
use spotify_history_spotify::{Cursor, SpotifyError, estimate_ms_played, play_to_listen};

const PATH: &str = "/v1/me/player/recently-played";

#[tokio::test]
async fn paging_back_with_before_walks_the_latest_50_plays_and_no_further() {
    let setup = Setup::new().await;
    let now = setup.spotify.now();
    let history = setup.spotify.simulate_listening(
        &setup.ann,
        now - SignedDuration::from_hours(6),
        now,
        SignedDuration::from_mins(3),
    );
    assert_eq!(history.len(), 120);
    let token = setup.access_token();

    let mut seen = Vec::new();
    let mut cursor = Cursor::Latest;
    let mut pages = 0;
    loop {
        let page = setup
            .client
            .recently_played(&token, cursor, 20)
            .await
            .unwrap();
        pages += 1;
        let Some(cursors) = page.cursors else {
            assert!(page.items.is_empty());
            assert_eq!(page.next, None);
            break;
        };
        assert!(page.items.len() <= 20);
        assert!(
            page.items
                .windows(2)
                .all(|pair| pair[0].played_at > pair[1].played_at),
            "newest first"
        );
        assert_eq!(
            cursors.before,
            Some(page.items.last().unwrap().played_at.as_millisecond())
        );
        assert_eq!(
            cursors.after,
            Some(page.items[0].played_at.as_millisecond())
        );
        seen.extend(page.items);
        cursor = Cursor::Before(cursors.before.unwrap());
        assert!(pages < 10, "paging must end");
    }

    assert_eq!(pages, 4, "20 + 20 + 10 + an empty page");
    let expected: Vec<_> = history
        .iter()
        .rev()
        .take(50)
        .map(|p| (p.played_at, p.track.uri()))
        .collect();
    let got: Vec<_> = seen
        .iter()
        .map(|item| (item.played_at, item.track.uri.clone().unwrap()))
        .collect();
    assert_eq!(got, expected);

    let requests = setup.spotify.requests_to(PATH);
    assert_eq!(requests.len(), 4);
    assert_eq!(requests[0].query_param("before"), None);
    assert_eq!(requests[0].query_param("limit").as_deref(), Some("20"));
    assert_eq!(
        requests[3].query_param("before"),
        Some(expected[49].0.as_millisecond().to_string())
    );
}

#[tokio::test]
async fn polling_with_after_returns_only_the_new_plays() {
    let setup = Setup::new().await;
    let now = setup.spotify.now();
    let every = SignedDuration::from_mins(4);
    setup.spotify.simulate_listening(
        &setup.ann,
        now - SignedDuration::from_hours(1),
        now + SignedDuration::from_mins(13),
        every,
    );
    let token = setup.access_token();
    let first = setup
        .client
        .recently_played(&token, Cursor::Latest, 50)
        .await
        .unwrap();
    // Plays end a few hundred milliseconds into their 4-minute slot, so the play of the slot
    // starting now has not ended yet: it and later ones are not visible.
    assert_eq!(first.items.len(), 15);
    let newest = first.cursors.unwrap().after.unwrap();

    let nothing_new = setup
        .client
        .recently_played(&token, Cursor::After(newest), 50)
        .await
        .unwrap();
    assert!(nothing_new.items.is_empty());
    assert_eq!(nothing_new.cursors, None);

    setup.spotify.advance(SignedDuration::from_mins(15));
    let poll = setup
        .client
        .recently_played(&token, Cursor::After(newest), 50)
        .await
        .unwrap();
    // The plays of the slots starting 0, 4, 8 and 12 minutes after the first poll.
    assert_eq!(poll.items.len(), 4);
    assert!(
        poll.items
            .iter()
            .all(|item| item.played_at.as_millisecond() > newest)
    );
    let requests = setup.spotify.requests_to(PATH);
    assert_eq!(requests[2].query_param("after"), Some(newest.to_string()));
}

#[tokio::test]
async fn plays_become_listens_with_everything_spotify_says() {
    let setup = Setup::new().await;
    let catalogue = setup.spotify.catalogue();
    let duet = catalogue.track_named("Déjà vu à Montréal");
    let no_isrc = catalogue.track_named("λx.x");
    let now = setup.spotify.now();
    let first_end = now - SignedDuration::from_secs(600) + SignedDuration::from_millis(123);
    let second_end = first_end + SignedDuration::from_secs(40);
    setup.spotify.play(&setup.ann, duet, first_end);
    setup.spotify.play(&setup.ann, no_isrc, second_end);

    let page = setup
        .client
        .recently_played(&setup.access_token(), Cursor::Latest, 10)
        .await
        .unwrap();
    let mut listens: Vec<_> = page.items.iter().rev().map(play_to_listen).collect();

    let listen = &listens[0];
    assert_eq!(listen.ended_at.0, first_end.as_millisecond());
    assert_eq!(listen.source, Source::RecentlyPlayed);
    assert_eq!(listen.ms_played, None);
    assert!(!listen.ms_played_estimated);
    assert_eq!(listen.item.kind, ItemKind::Track);
    assert_eq!(listen.item.uri, Some(duet.uri()));
    assert_eq!(listen.item.name, "Déjà vu à Montréal");
    let artists: Vec<_> = listen
        .item
        .artists
        .iter()
        .map(|a| (a.uri.clone().unwrap(), a.name.as_str()))
        .collect();
    let expected_artists: Vec<_> = duet
        .artist_ids
        .iter()
        .map(|id| {
            let artist = catalogue.artist(id).unwrap();
            (artist.uri(), artist.name.as_str())
        })
        .collect();
    assert_eq!(artists, expected_artists);
    assert_eq!(artists[0].1, "Les Étoiles Filantes");
    let album = listen.item.album.as_ref().unwrap();
    assert_eq!(album.name, "Café de la Gare");
    assert_eq!(
        album.uri,
        Some(catalogue.album(&duet.album_id).unwrap().uri())
    );
    assert_eq!(listen.item.duration_ms, Some(duet.duration_ms));
    assert_eq!(listen.item.isrc, duet.isrc);
    assert!(listen.item.isrc.is_some());
    assert_eq!(listens[1].item.isrc, None);

    estimate_ms_played(&mut listens);
    assert_eq!(listens[0].ms_played, Some(duet.duration_ms));
    assert_eq!(listens[1].ms_played, Some(40_000));
    assert!(listens[1].ms_played_estimated);
}

#[tokio::test]
async fn a_limit_above_50_is_refused_without_a_request() {
    let setup = Setup::new().await;
    for limit in [0, 51] {
        let error = setup
            .client
            .recently_played(&setup.access_token(), Cursor::Latest, limit)
            .await
            .unwrap_err();
        assert!(
            matches!(error, SpotifyError::InvalidRequest { .. }),
            "{error:?}"
        );
    }
    assert!(setup.spotify.requests().is_empty());
}
