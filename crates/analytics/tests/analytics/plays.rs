//! Individual plays: paging, search, and the artist and track detail questions.

use crate::export::{
    Kind, Listen, RULES, export, imported, minutes, ms, plays_at, plays_between, rank,
};
use crate::handmade::{heard, write};
use spotify_history_analytics::{
    AnalyticsError, ArtistArgs, Period, RecentArgs, SearchArgs, TrackArgs,
};
use spotify_history_testkit::store_test;
use std::collections::HashMap;

fn december_2021() -> Period {
    Period {
        from: Some("2021-12-01".into()),
        to: Some("2021-12-31".into()),
        ..Period::default()
    }
}

store_test!(recent_plays_page_through_the_window, |db| {
    let (analytics, scope) = imported(&db.store).await;
    let mut want: Vec<(i64, String)> =
        plays_between(ms("2021-12-01T00:00:00Z"), ms("2022-01-01T00:00:00Z"))
            .map(|l| (l.ended_ms, l.name.clone()))
            .collect();
    want.sort_by(|a, b| b.cmp(a));
    assert!(want.len() > 60, "{} plays in December", want.len());

    let mut got: Vec<(i64, String)> = Vec::new();
    let mut before = None;
    let mut pages = 0;
    loop {
        let args = RecentArgs {
            period: december_2021(),
            limit: Some(25),
            before: before.clone(),
            ..RecentArgs::default()
        };
        let page = analytics.recent_plays(&scope, &args).await.unwrap().result;
        pages += 1;
        assert!(page.plays.len() <= 25);
        got.extend(
            page.plays
                .iter()
                .map(|p| (ms(&p.ended_at), p.track.clone())),
        );
        match page.next_before {
            Some(cursor) => before = Some(cursor),
            None => break,
        }
    }
    assert_eq!(pages, want.len().div_ceil(25));
    // Plays ending in the same second come in track-id order, which the export cannot know.
    let times = |v: &[(i64, String)]| v.iter().map(|p| p.0).collect::<Vec<_>>();
    assert_eq!(times(&got), times(&want));
    got.sort_by(|a, b| b.cmp(a));
    assert_eq!(got, want);

    // Page numbers reach the same plays as cursors.
    let second = analytics
        .recent_plays(
            &scope,
            &RecentArgs {
                period: december_2021(),
                limit: Some(25),
                page: Some(2),
                ..RecentArgs::default()
            },
        )
        .await
        .unwrap()
        .result;
    assert_eq!(
        times(
            &second
                .plays
                .iter()
                .map(|p| (ms(&p.ended_at), p.track.clone()))
                .collect::<Vec<_>>()
        ),
        times(&want[25..50])
    );

    // A date-time as `before`; the default window is the whole history.
    let older = analytics
        .recent_plays(
            &scope,
            &RecentArgs {
                before: Some("2020-06-01T12:00".into()),
                limit: Some(3),
                ..RecentArgs::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(older.window.from, None);
    let newest_before: Vec<i64> = {
        let mut v: Vec<i64> = plays_between(i64::MIN, ms("2020-06-01T12:00:00Z"))
            .map(|l| l.ended_ms)
            .collect();
        v.sort_by(|a, b| b.cmp(a));
        v.truncate(3);
        v
    };
    let got: Vec<i64> = older.result.plays.iter().map(|p| ms(&p.ended_at)).collect();
    assert_eq!(got, newest_before);
    let first = &older.result.plays[0];
    assert_eq!(first.sources, ["extended_export"]);
    assert!(first.ms_played.unwrap() >= 30_000 && !first.ms_played_estimated);
});

/// Plays (of at least `threshold` ms) per item whose track, artist or album name contains
/// `needle`.
fn expected_matches(threshold: i64, needle: &str) -> Vec<(String, i64)> {
    let hits = |l: &&Listen| {
        [Some(&l.name), l.artist.as_ref(), l.album.as_ref()]
            .into_iter()
            .flatten()
            .any(|n| n.to_lowercase().contains(needle))
    };
    let names: HashMap<String, String> = export()
        .listens
        .iter()
        .map(|l| (l.item_key(), l.name.clone()))
        .collect();
    rank(
        plays_at(threshold, i64::MIN, i64::MAX)
            .filter(hits)
            .map(|l| (l.item_key(), l.ms)),
    )
    .into_iter()
    .map(|(key, plays, _)| (names[&key].clone(), plays))
    .collect()
}

store_test!(search_ignores_case_in_every_script, |db| {
    let (analytics, scope) = imported(&db.store).await;
    let search = |query: &str, limit: u32| SearchArgs {
        query: query.into(),
        limit: Some(limit),
        ..SearchArgs::default()
    };
    // "Ólafur Arnalds" is stored with a capital Ó, which SQLite's LOWER does not fold.
    // The default rule is answered from the rollups, another one from the plays.
    for (min_ms, threshold) in RULES {
        for (query, needle) in [
            ("BJÖRK", "björk"),
            ("ólafur ARNALDS", "ólafur arnalds"),
            ("greatest hits", "greatest hits"),
        ] {
            let want = expected_matches(threshold, needle);
            assert!(!want.is_empty(), "the export has plays matching {needle}");
            let args = SearchArgs {
                min_ms,
                ..search(query, 100)
            };
            let answer = analytics.search_plays(&scope, &args).await.unwrap().result;
            let got: Vec<_> = answer
                .matches
                .iter()
                .map(|m| (m.track.clone(), m.plays))
                .collect();
            assert_eq!(got, want, "{query}");
            assert_eq!(answer.query, needle);
            assert_eq!(answer.plays, want.iter().map(|m| m.1).sum::<i64>());
        }
        // Only what matched, however few.
        let args = SearchArgs {
            min_ms,
            ..search("GREATEST", 2)
        };
        let two = analytics.search_plays(&scope, &args).await.unwrap().result;
        let want = expected_matches(threshold, "greatest");
        assert_eq!(
            two.matches
                .iter()
                .map(|m| (m.track.clone(), m.plays))
                .collect::<Vec<_>>(),
            want[..2]
        );
        assert!(two.matches.iter().all(|m| m.matched_on == ["album"]));
    }
    let bjork = analytics
        .search_plays(&scope, &search("björk", 100))
        .await
        .unwrap()
        .result;
    assert!(
        bjork
            .matches
            .iter()
            .all(|m| m.matched_on == ["artist"] && m.artist.as_deref() == Some("Björk"))
    );

    // LIKE wildcards are plain characters.
    let none = analytics
        .search_plays(&scope, &search("%", 10))
        .await
        .unwrap()
        .result;
    assert!(none.matches.is_empty(), "{:?}", none.matches);

    // The latest plays of the matches, newest first.
    let args = SearchArgs {
        include_plays: Some(true),
        ..search("björk", 5)
    };
    let answer = analytics.search_plays(&scope, &args).await.unwrap().result;
    let plays = answer.latest_plays.unwrap();
    assert_eq!(plays.len(), 5);
    assert!(plays.iter().all(|p| p.artist.as_deref() == Some("Björk")));
    let mut newest: Vec<i64> = plays_between(i64::MIN, i64::MAX)
        .filter(|l| l.artist.as_deref() == Some("Björk"))
        .map(|l| l.ended_ms)
        .collect();
    newest.sort_by(|a, b| b.cmp(a));
    assert_eq!(
        plays.iter().map(|p| ms(&p.ended_at)).collect::<Vec<_>>(),
        newest[..5]
    );
});

store_test!(artist_and_track_detail_match_the_export, |db| {
    let (analytics, scope) = imported(&db.store).await;
    // The default rule is answered from the rollups, another one from the plays.
    for (min_ms, threshold) in RULES {
        let music = || plays_at(threshold, i64::MIN, i64::MAX).filter(|l| l.kind == Kind::Track);
        let (top_artist, plays, ms_played) =
            rank(music().map(|l| (l.artist.clone().unwrap(), l.ms))).remove(0);
        let artist_plays: Vec<&Listen> = music()
            .filter(|l| l.artist.as_ref() == Some(&top_artist))
            .collect();
        let utc = |ms: i64| {
            jiff::Timestamp::from_millisecond(ms)
                .unwrap()
                .strftime("%Y-%m-%dT%H:%M:%S+00:00")
                .to_string()
        };

        let args = ArtistArgs {
            artist: top_artist.to_uppercase(),
            min_ms,
            ..ArtistArgs::default()
        };
        let detail = analytics.artist_detail(&scope, &args).await.unwrap();
        assert_eq!(
            detail.window.from, None,
            "the default window is the whole history"
        );
        let detail = detail.result;
        assert_eq!(detail.artist, top_artist);
        assert_eq!((detail.plays_all_time, detail.plays), (plays, plays));
        assert_eq!(detail.minutes_all_time, minutes(ms_played));
        assert_eq!(detail.first_heard, Some(utc(artist_plays[0].ended_ms)));
        assert_eq!(
            detail.last_heard,
            Some(utc(artist_plays.last().unwrap().ended_ms))
        );
        assert_eq!(
            detail.plays_by_month.iter().map(|m| m.plays).sum::<i64>(),
            plays
        );
        let first_month = utc(artist_plays[0].ended_ms)[..7].to_string() + "-01";
        assert_eq!(detail.plays_by_month[0].start, first_month);
        assert_eq!(detail.plays_by_month.last().unwrap().start, "2021-12-01");
        // Months of New York: every play in the month of its local date, across DST
        // switches and the UTC days a local midnight splits.
        let new_york = jiff::tz::TimeZone::get("America/New_York").unwrap();
        let mut expected: std::collections::BTreeMap<String, i64> = Default::default();
        for l in &artist_plays {
            let local = jiff::Timestamp::from_millisecond(l.ended_ms)
                .unwrap()
                .to_zoned_datetime(new_york.clone());
            *expected
                .entry(local.strftime("%Y-%m-01").to_string())
                .or_default() += 1;
        }
        let in_new_york = ArtistArgs {
            period: Period {
                tz: Some("America/New_York".into()),
                ..Period::default()
            },
            ..args.clone()
        };
        let months: std::collections::BTreeMap<String, i64> = analytics
            .artist_detail(&scope, &in_new_york)
            .await
            .unwrap()
            .result
            .plays_by_month
            .into_iter()
            .filter(|m| m.plays > 0)
            .map(|m| (m.start, m.plays))
            .collect();
        assert_eq!(months, expected);
        let top_track = rank(artist_plays.iter().map(|l| (l.item_key(), l.ms))).remove(0);
        assert_eq!(detail.top_tracks[0].plays, top_track.1);
        assert_eq!(detail.albums.iter().map(|a| a.plays).sum::<i64>(), plays);

        // A window narrows the counts but not first and last heard.
        let in_2020 = ArtistArgs {
            period: Period {
                from: Some("2020-01-01".into()),
                to: Some("2020-12-31".into()),
                ..Period::default()
            },
            ..args.clone()
        };
        let narrow = analytics
            .artist_detail(&scope, &in_2020)
            .await
            .unwrap()
            .result;
        let plays_2020 = artist_plays
            .iter()
            .filter(|l| {
                (ms("2020-01-01T00:00:00Z")..ms("2021-01-01T00:00:00Z")).contains(&l.ended_ms)
            })
            .count() as i64;
        assert_eq!(narrow.plays, plays_2020);
        assert_eq!(narrow.plays_all_time, plays);
        assert_eq!(narrow.plays_by_month.len(), 12);
        assert_eq!(narrow.first_heard, detail.first_heard);

        // The most played track, by name and artist, then by URI.
        let (key, plays, _) = rank(music().map(|l| (l.item_key(), l.ms))).remove(0);
        let track = music().find(|l| l.item_key() == key).unwrap();
        let args = TrackArgs {
            track: track.name.to_lowercase(),
            artist: track.artist.clone(),
            min_ms,
            ..TrackArgs::default()
        };
        let by_name = analytics.track_detail(&scope, &args).await.unwrap().result;
        assert_eq!(by_name.track, track.name);
        assert_eq!(by_name.artist, track.artist);
        assert_eq!(by_name.plays_all_time, plays);
        let track_plays: Vec<&Listen> = music().filter(|l| l.item_key() == key).collect();
        assert_eq!(by_name.first_heard, Some(utc(track_plays[0].ended_ms)));
        assert_eq!(
            by_name.plays_by_month.iter().map(|m| m.plays).sum::<i64>(),
            plays
        );
        let by_uri = TrackArgs {
            track: by_name.uri.clone(),
            artist: None,
            min_ms,
            ..TrackArgs::default()
        };
        assert_eq!(
            analytics
                .track_detail(&scope, &by_uri)
                .await
                .unwrap()
                .result
                .plays_all_time,
            plays
        );
    }
});

store_test!(
    unknown_names_are_not_found_with_hints_from_this_history_only,
    |db| {
        let (analytics, scope) = imported(&db.store).await;
        let bob = db.store.create_user("bob", None).await.unwrap().id;
        write(
            &db.store,
            bob,
            &[heard("2021-03-01T10:00:00Z", "Secret Band", "Hidden Track")],
        )
        .await;

        let artist = |name: &str| ArtistArgs {
            artist: name.into(),
            ..ArtistArgs::default()
        };
        let err = analytics
            .artist_detail(&scope, &artist("Björk Guðmundsdóttir"))
            .await
            .unwrap_err();
        let AnalyticsError::NotFound(message) = err else {
            panic!("expected NotFound, got {err:?}");
        };
        assert!(
            message.contains("Björk Guðmundsdóttir") && message.contains("\"Björk\""),
            "{message}"
        );

        // Another user's artist is not found, and no hint reveals it.
        let err = analytics
            .artist_detail(&scope, &artist("Secret Band"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, AnalyticsError::NotFound(m) if m.matches("Secret").count() == 1),
            "{err:?}"
        );
        let track = TrackArgs {
            track: "Hidden Track".into(),
            ..TrackArgs::default()
        };
        assert!(matches!(
            analytics.track_detail(&scope, &track).await,
            Err(AnalyticsError::NotFound(_))
        ));
        let bob_scope = crate::export::scope(bob);
        let found = analytics
            .artist_detail(&bob_scope, &artist("secret band"))
            .await
            .unwrap();
        assert_eq!(found.result.plays_all_time, 1);

        // Nor do another user's plays reach this user's answers.
        let search = SearchArgs {
            query: "secret".into(),
            ..SearchArgs::default()
        };
        assert!(
            analytics
                .search_plays(&scope, &search)
                .await
                .unwrap()
                .result
                .matches
                .is_empty()
        );
        assert_eq!(
            analytics
                .search_plays(&bob_scope, &search)
                .await
                .unwrap()
                .result
                .matches
                .len(),
            1
        );

        // Names stored after the first search are found too.
        write(
            &db.store,
            bob,
            &[heard(
                "2021-03-02T10:00:00Z",
                "Secret Later Band",
                "Newer Song",
            )],
        )
        .await;
        let newer = SearchArgs {
            query: "NEWER".into(),
            ..SearchArgs::default()
        };
        let found = analytics
            .search_plays(&bob_scope, &newer)
            .await
            .unwrap()
            .result;
        let names: Vec<_> = found.matches.iter().map(|m| m.track.as_str()).collect();
        assert_eq!(names, ["Newer Song"]);
        let bands = analytics
            .search_plays(&bob_scope, &search)
            .await
            .unwrap()
            .result;
        assert_eq!(bands.matches.len(), 2);
    }
);

store_test!(
    a_track_name_two_artists_share_finds_the_most_listened,
    |db| {
        let store = &db.store;
        let ann = store.create_user("ann", None).await.unwrap().id;
        // First Band's "Home" was listened to three times (twice only briefly), Second Band's
        // twice in full: listens of any length decide which one a bare name means.
        let brief = |at| {
            let mut listen = heard(at, "First Band", "Home");
            listen.ms = Some(5_000);
            listen
        };
        write(
            store,
            ann,
            &[
                heard("2024-01-01T10:00:00Z", "First Band", "Home"),
                heard("2024-01-02T10:00:00Z", "Second Band", "Home"),
                heard("2024-01-03T10:00:00Z", "Second Band", "Home"),
                brief("2024-01-04T10:00:00Z"),
                brief("2024-01-05T10:00:00Z"),
            ],
        )
        .await;
        let analytics = crate::handmade::analytics(store);
        let scope = crate::export::scope(ann);
        let home = |artist: Option<&str>| TrackArgs {
            track: "HOME".into(),
            artist: artist.map(str::to_string),
            ..TrackArgs::default()
        };
        let detail = analytics
            .track_detail(&scope, &home(None))
            .await
            .unwrap()
            .result;
        assert_eq!(detail.artist.as_deref(), Some("First Band"));
        assert_eq!(detail.plays_all_time, 1);
        let others: Vec<_> = detail
            .other_matches
            .iter()
            .map(|m| (m.artist.as_deref(), m.listens))
            .collect();
        assert_eq!(others, [(Some("Second Band"), 2)]);

        // Naming the artist chooses, and leaves nothing else to list.
        let second = analytics
            .track_detail(&scope, &home(Some("second band")))
            .await
            .unwrap()
            .result;
        assert_eq!(second.artist.as_deref(), Some("Second Band"));
        assert_eq!(second.plays_all_time, 2);
        assert!(second.other_matches.is_empty());
    }
);
