//! `/me`, top lists, search and single-item lookups.

use super::Setup;
use jiff::SignedDuration;
use spotify_history_spotify::{SearchType, SpotifyError, TimeRange, TopItems, TopKind};

#[tokio::test]
async fn me_names_the_user() {
    let setup = Setup::new().await;
    let me = setup.client.me(&setup.access_token()).await.unwrap();
    assert_eq!(me.id, "ann");
    assert_eq!(me.uri.as_deref(), Some("spotify:user:ann"));
    assert_eq!(
        me.external_urls.spotify.as_deref(),
        Some("https://open.spotify.com/user/ann")
    );
}

#[tokio::test]
async fn single_items_are_fetched_by_id_or_uri() {
    let setup = Setup::new().await;
    let token = setup.access_token();
    let catalogue = setup.spotify.catalogue();
    let wanted = catalogue.track_named("Neon 雨");

    let track = setup.client.track(&token, &wanted.uri()).await.unwrap();
    assert_eq!(track.id.as_deref(), Some(wanted.id.as_str()));
    assert_eq!(track.name, "Neon 雨");
    assert_eq!(track.duration_ms, Some(wanted.duration_ms));
    assert_eq!(track.external_ids.isrc, wanted.isrc);
    assert!(track.explicit);
    assert_eq!(track.artists.len(), 2);

    let artist = setup
        .client
        .artist(&token, &wanted.artist_ids[1])
        .await
        .unwrap();
    assert_eq!(artist.name, "서울 Sunset");
    assert!(artist.genres.is_empty());

    let album = setup.client.album(&token, &wanted.album_id).await.unwrap();
    assert_eq!(album.name, "東京 Night Drive");
    let tracks = album.tracks.unwrap();
    assert_eq!(tracks.total, Some(3));
    assert_eq!(tracks.items[1].name, "Neon 雨");
    assert_eq!(tracks.items[1].album, None);
}

#[tokio::test]
async fn unknown_ids_are_not_found_and_malformed_ids_never_leave() {
    let setup = Setup::new().await;
    let token = setup.access_token();
    let error = setup
        .client
        .album(&token, "0000000000000000000000")
        .await
        .unwrap_err();
    assert!(matches!(error, SpotifyError::NotFound { .. }), "{error:?}");

    let error = setup
        .client
        .track(&token, "../me/player")
        .await
        .unwrap_err();
    assert!(
        matches!(error, SpotifyError::InvalidRequest { .. }),
        "{error:?}"
    );
    assert_eq!(setup.spotify.requests().len(), 1);
}

#[tokio::test]
async fn search_finds_by_words_and_refuses_more_than_10_results() {
    let setup = Setup::new().await;
    let token = setup.access_token();
    let results = setup
        .client
        .search(
            &token,
            "crème",
            &[SearchType::Track, SearchType::Artist],
            10,
        )
        .await
        .unwrap();
    let tracks = results.tracks.unwrap();
    assert_eq!(
        tracks
            .items
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Crème brûlée"]
    );
    assert_eq!(results.artists.unwrap().total, Some(0));
    assert_eq!(results.albums, None);

    let by_artist = setup
        .client
        .search(&token, "étoiles", &[SearchType::Album], 1)
        .await
        .unwrap();
    assert_eq!(by_artist.albums.unwrap().items[0].name, "Café de la Gare");

    let error = setup
        .client
        .search(&token, "crème", &[SearchType::Track], 11)
        .await
        .unwrap_err();
    assert!(
        matches!(error, SpotifyError::InvalidRequest { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("1..=10"), "{error}");
    assert_eq!(setup.spotify.requests_to("/v1/search").len(), 2);
}

#[tokio::test]
async fn top_lists_rank_by_plays_in_the_time_range() {
    let setup = Setup::new().await;
    let catalogue = setup.spotify.catalogue();
    let now = setup.spotify.now();
    let favourite = catalogue.track_named("Ñoño");
    let old_favourite = catalogue.track_named("Ночь");
    for minutes in 1..=3 {
        setup.spotify.play(
            &setup.ann,
            favourite,
            now - SignedDuration::from_mins(minutes * 5),
        );
    }
    for days in 40..=44 {
        setup.spotify.play(
            &setup.ann,
            old_favourite,
            now - SignedDuration::from_hours(24 * days),
        );
    }
    let token = setup.access_token();

    let TopItems::Tracks(short) = setup
        .client
        .top(&token, TopKind::Tracks, TimeRange::ShortTerm, 10)
        .await
        .unwrap()
    else {
        panic!("asked for tracks");
    };
    assert_eq!(short.items.len(), 1);
    assert_eq!(short.items[0].name, "Ñoño");

    let TopItems::Tracks(medium) = setup
        .client
        .top(&token, TopKind::Tracks, TimeRange::MediumTerm, 10)
        .await
        .unwrap()
    else {
        panic!("asked for tracks");
    };
    let names: Vec<_> = medium.items.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, vec!["Ночь", "Ñoño"]);

    let TopItems::Artists(artists) = setup
        .client
        .top(&token, TopKind::Artists, TimeRange::ShortTerm, 1)
        .await
        .unwrap()
    else {
        panic!("asked for artists");
    };
    assert_eq!(artists.items[0].name, "DJ Ñandú");
    assert_eq!(artists.total, Some(1));
}

#[tokio::test]
async fn top_lists_need_the_top_read_scope_granted() {
    let setup = Setup::new().await;
    setup.spotify.set_next_login(&setup.ann);
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = setup
        .client
        .authorize_url("s", None, &["user-read-recently-played"]);
    let response = browser.get(url).send().await.unwrap();
    let location = reqwest::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let grant = setup
        .client
        .exchange_code(&code, None, setup.spotify.now())
        .await
        .unwrap();
    let error = setup
        .client
        .top(
            &grant.access_token,
            TopKind::Artists,
            TimeRange::LongTerm,
            5,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, SpotifyError::Forbidden { .. }), "{error:?}");
}
