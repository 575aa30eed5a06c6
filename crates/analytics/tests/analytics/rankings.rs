//! Rankings, repeats, totals, podcasts, discoveries and comparisons against the export.

use crate::export::{Kind, Listen, RULES, export, imported, minutes, ms, plays_at, rank};
use crate::handmade::{Heard, heard, write};
use spotify_history_analytics::{
    CompareArgs, DiscoveriesArgs, Period, RankedItem, RepeatArgs, TasteArgs, TopArgs,
};
use spotify_history_core::Source;
use spotify_history_testkit::store_test;
use std::collections::{HashMap, HashSet};

fn all_time() -> Period {
    Period {
        all_time: Some(true),
        ..Period::default()
    }
}

/// Spring 2020 in Berlin (DST began on March 29): [2020-02-29T23:00Z, 2020-05-31T22:00Z).
fn berlin_spring() -> (Period, i64, i64) {
    let period = Period {
        from: Some("2020-03-01".into()),
        to: Some("2020-05-31".into()),
        tz: Some("Europe/Berlin".into()),
        ..Period::default()
    };
    (
        period,
        ms("2020-02-29T23:00:00Z"),
        ms("2020-05-31T22:00:00Z"),
    )
}

fn top(period: Period, limit: u32, min_ms: Option<i64>) -> TopArgs {
    TopArgs {
        period,
        limit: Some(limit),
        min_ms,
    }
}

fn shown(items: &[RankedItem]) -> Vec<(String, Option<String>, i64, f64)> {
    items
        .iter()
        .map(|i| (i.name.clone(), i.by.clone(), i.plays, i.minutes))
        .collect()
}

fn tracks(listens: impl Iterator<Item = &'static Listen>) -> impl Iterator<Item = &'static Listen> {
    listens.filter(|l| l.kind == Kind::Track)
}

/// Expected top artists: plays count for the album artist of music tracks.
fn expected_artists(
    threshold: i64,
    from: i64,
    to: i64,
    n: usize,
) -> Vec<(String, Option<String>, i64, f64)> {
    rank(tracks(plays_at(threshold, from, to)).map(|l| (l.artist.clone().unwrap(), l.ms)))
        .into_iter()
        .take(n)
        .map(|(name, plays, ms)| (name, None, plays, minutes(ms)))
        .collect()
}

store_test!(top_artists_tracks_and_albums_match_the_export, |db| {
    let (analytics, scope) = imported(&db.store).await;
    // The default rule is answered from the rollups, another one from the plays.
    for (min_ms, threshold) in RULES {
        for (period, from, to) in [(all_time(), i64::MIN, i64::MAX), berlin_spring()] {
            let artists = analytics
                .top_artists(&scope, &top(period.clone(), 10, min_ms))
                .await
                .unwrap();
            assert_eq!(
                shown(&artists.result.items),
                expected_artists(threshold, from, to, 10)
            );
            assert_eq!(artists.result.items[0].rank, 1);

            let tracks_answer = analytics
                .top_tracks(&scope, &top(period.clone(), 15, min_ms))
                .await
                .unwrap();
            let got: Vec<_> = tracks_answer
                .result
                .items
                .iter()
                .map(|i| {
                    (
                        (i.name.clone(), i.by.clone(), i.uri.starts_with("local:")),
                        i.plays,
                        minutes_of(i),
                    )
                })
                .collect();
            let by_key: HashMap<String, &Listen> = tracks(plays_at(threshold, from, to))
                .map(|l| (l.item_key(), l))
                .collect();
            let want: Vec<_> =
                rank(tracks(plays_at(threshold, from, to)).map(|l| (l.item_key(), l.ms)))
                    .into_iter()
                    .take(15)
                    .map(|(key, plays, ms)| (by_key[&key].shown(), plays, minutes(ms)))
                    .collect();
            assert_eq!(got, want);

            let albums = analytics
                .top_albums(&scope, &top(period, 10, min_ms))
                .await
                .unwrap();
            let want: Vec<_> = rank(
                tracks(plays_at(threshold, from, to))
                    .map(|l| ((l.album.clone().unwrap(), l.artist.clone()), l.ms)),
            )
            .into_iter()
            .take(10)
            .map(|((album, artist), plays, ms)| (album, artist, plays, minutes(ms)))
            .collect();
            assert_eq!(shown(&albums.result.items), want);
        }

        // The frame says what the numbers are based on.
        let (period, from, to) = berlin_spring();
        let answer = analytics
            .top_artists(&scope, &top(period, 3, min_ms))
            .await
            .unwrap();
        assert_eq!(answer.window.tz, "Europe/Berlin");
        assert_eq!(
            answer.window.from.as_deref(),
            Some("2020-03-01T00:00:00+01:00")
        );
        assert_eq!(answer.window.to, "2020-06-01T00:00:00+02:00");
        assert_eq!(answer.counting_rule.min_ms_played, threshold);
        assert!(answer.counting_rule.unknown_duration_counted);
        let counted = plays_at(threshold, from, to).count() as i64;
        assert_eq!(answer.coverage.listens_in_window, counted);
        assert_eq!(answer.coverage.sources.len(), 1);
        assert_eq!(answer.coverage.sources[0].source, "extended_export");
        assert_eq!(answer.coverage.sources[0].listens, counted);
        let first = export().listens.first().unwrap().ended_ms;
        assert_eq!(
            answer.coverage.first_listen,
            Some(
                jiff::Timestamp::from_millisecond(first)
                    .unwrap()
                    .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Berlin").unwrap())
                    .strftime("%Y-%m-%dT%H:%M:%S%:z")
                    .to_string()
            )
        );
    }
});

fn minutes_of(item: &RankedItem) -> f64 {
    item.minutes
}

store_test!(the_counting_rule_decides_what_a_play_is, |db| {
    let (analytics, scope) = imported(&db.store).await;
    // Every listen counts with min_ms 0.
    let args = TopArgs {
        period: all_time(),
        limit: Some(5),
        min_ms: Some(0),
    };
    let answer = analytics.top_artists(&scope, &args).await.unwrap();
    let want: Vec<_> = rank(
        export()
            .listens
            .iter()
            .filter(|l| l.kind == Kind::Track)
            .map(|l| (l.artist.clone().unwrap(), l.ms)),
    )
    .into_iter()
    .take(5)
    .map(|(name, plays, ms)| (name, None, plays, minutes(ms)))
    .collect();
    assert_eq!(shown(&answer.result.items), want);
    assert_eq!(answer.counting_rule.min_ms_played, 0);
    assert_eq!(
        answer.coverage.listens_in_window,
        export().listens.len() as i64
    );

    // API plays carry no duration and count; short ones do not.
    let bob = db.store.create_user("bob", None).await.unwrap().id;
    write(
        &db.store,
        bob,
        &[
            Heard {
                ms: None,
                source: Source::RecentlyPlayed,
                ..heard("2021-06-01T10:00:00Z", "Api Band", "Polled")
            },
            Heard {
                ms: None,
                source: Source::RecentlyPlayed,
                ..heard("2021-06-01T10:05:00Z", "Api Band", "Polled Again")
            },
            Heard {
                ms: Some(29_999),
                ..heard("2021-06-01T11:00:00Z", "Skipped Band", "Too Short")
            },
            heard("2021-06-01T12:00:00Z", "Skipped Band", "Long Enough"),
        ],
    )
    .await;
    let bob = crate::export::scope(bob);
    let answer = analytics
        .top_artists(&bob, &top(all_time(), 10, None))
        .await
        .unwrap();
    let got: Vec<_> = answer
        .result
        .items
        .iter()
        .map(|i| (i.name.as_str(), i.plays, i.minutes))
        .collect();
    assert_eq!(got, [("Api Band", 2, 0.0), ("Skipped Band", 1, 3.0)]);
    assert_eq!(answer.coverage.listens_in_window, 3);
    let sources: Vec<_> = answer
        .coverage
        .sources
        .iter()
        .map(|s| (s.source.as_str(), s.listens))
        .collect();
    assert_eq!(sources, [("extended_export", 1), ("recently_played", 2)]);
});

store_test!(repeat_rate_matches_the_export, |db| {
    let (analytics, scope) = imported(&db.store).await;
    // The default rule is answered from the rollups, another one from the plays.
    for (min_ms, threshold) in RULES {
        let (period, from, to) = berlin_spring();
        for (period, from, to) in [(all_time(), i64::MIN, i64::MAX), (period, from, to)] {
            let args = RepeatArgs {
                period,
                limit: Some(3),
                min_ms,
            };
            let answer = analytics.repeat_rate(&scope, &args).await.unwrap().result;
            let per_track =
                rank(tracks(plays_at(threshold, from, to)).map(|l| (l.item_key(), l.ms)));
            let bucket = |lo: i64, hi: i64| {
                let in_bucket: Vec<_> = per_track
                    .iter()
                    .filter(|(_, p, _)| (lo..=hi).contains(p))
                    .collect();
                (
                    in_bucket.len() as i64,
                    in_bucket.iter().map(|(_, p, _)| p).sum::<i64>(),
                )
            };
            let got: Vec<_> = answer
                .buckets
                .iter()
                .map(|b| (b.plays_per_track.as_str(), b.tracks, b.plays))
                .collect();
            let want = [
                ("1", bucket(1, 1).0, bucket(1, 1).1),
                ("2-4", bucket(2, 4).0, bucket(2, 4).1),
                ("5-9", bucket(5, 9).0, bucket(5, 9).1),
                ("10+", bucket(10, i64::MAX).0, bucket(10, i64::MAX).1),
            ];
            assert_eq!(got, want);
            let plays: i64 = per_track.iter().map(|(_, p, _)| p).sum();
            assert_eq!(answer.tracks, per_track.len() as i64);
            assert_eq!(answer.plays, plays);
            assert_eq!(answer.one_hit_tracks, bucket(1, 1).0);
            let repeat_share =
                ((plays - bucket(1, 1).1) as f64 / plays as f64 * 1000.0).round() / 1000.0;
            assert_eq!(answer.repeat_share, repeat_share);
            assert!(answer.repeat_share > 0.0 && answer.one_hit_tracks > 0);
            let most: Vec<i64> = answer.most_repeated.iter().map(|i| i.plays).collect();
            let want: Vec<i64> = per_track.iter().take(3).map(|(_, p, _)| *p).collect();
            assert_eq!(most, want);
        }
    }
});

store_test!(taste_summary_and_podcasts_match_the_export, |db| {
    let (analytics, scope) = imported(&db.store).await;
    // The default rule is answered from the rollups, another one from the plays.
    for (min_ms, threshold) in RULES {
        // 2021 in Tokyo (+09:00 all year): [2020-12-31T15:00Z, 2021-12-31T15:00Z).
        let period = Period {
            from: Some("2021-01-01".into()),
            to: Some("2021-12-31".into()),
            tz: Some("Asia/Tokyo".into()),
            ..Period::default()
        };
        let (from, to) = (ms("2020-12-31T15:00:00Z"), ms("2021-12-31T15:00:00Z"));
        let args = TasteArgs {
            period: period.clone(),
            min_ms,
        };
        let taste = analytics.taste_summary(&scope, &args).await.unwrap().result;
        let plays: Vec<&Listen> = plays_at(threshold, from, to).collect();
        let music: Vec<&Listen> = plays
            .iter()
            .copied()
            .filter(|l| l.kind == Kind::Track)
            .collect();
        let sum = |ls: &[&Listen]| ls.iter().map(|l| l.ms).sum::<i64>();
        assert_eq!(taste.plays, plays.len() as i64);
        assert_eq!(taste.minutes, minutes(sum(&plays)));
        assert_eq!(taste.music_plays, music.len() as i64);
        assert_eq!(taste.music_minutes, minutes(sum(&music)));
        let distinct = |f: &dyn Fn(&Listen) -> String| {
            music.iter().map(|l| f(l)).collect::<HashSet<_>>().len() as i64
        };
        assert_eq!(taste.distinct_tracks, distinct(&|l| l.item_key()));
        assert_eq!(
            taste.distinct_artists,
            distinct(&|l| l.artist.clone().unwrap())
        );
        assert_eq!(
            taste.distinct_albums,
            distinct(&|l| format!("{:?}|{:?}", l.artist, l.album))
        );
        let episodes: Vec<&Listen> = plays
            .iter()
            .copied()
            .filter(|l| l.kind == Kind::Episode)
            .collect();
        assert!(!episodes.is_empty());
        assert_eq!(taste.podcast_minutes, minutes(sum(&episodes)));
        assert_eq!(
            shown(&taste.top_artists),
            expected_artists(threshold, from, to, 5)
        );
        let top_10: i64 = expected_artists(threshold, from, to, 10)
            .iter()
            .map(|a| a.2)
            .sum();
        let share = (top_10 as f64 / music.len() as f64 * 1000.0).round() / 1000.0;
        assert_eq!(taste.diversity.top_10_artists_share, share);
        assert_eq!(taste.top_tracks.len(), 5);
        assert_eq!(taste.top_albums.len(), 5);
        // Weekdays in Tokyo time, busiest first.
        let tz = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
        let mut weekdays = [0i64; 7];
        for l in &plays {
            let local = jiff::Timestamp::from_millisecond(l.ended_ms)
                .unwrap()
                .to_zoned_datetime(tz.clone());
            weekdays[local.weekday().to_monday_zero_offset() as usize] += 1;
        }
        let got: HashMap<String, i64> = taste
            .busiest_weekdays
            .iter()
            .map(|d| (d.weekday.clone(), d.plays))
            .collect();
        let names = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        for (i, name) in names.iter().enumerate() {
            assert_eq!(got[*name], weekdays[i], "{name}");
        }
        assert!(
            taste
                .busiest_weekdays
                .windows(2)
                .all(|w| w[0].plays >= w[1].plays)
        );

        let podcasts = analytics
            .podcasts(&scope, &top(period, 3, min_ms))
            .await
            .unwrap()
            .result;
        assert_eq!(podcasts.minutes, minutes(sum(&episodes)));
        assert_eq!(podcasts.plays, episodes.len() as i64);
        assert_eq!(
            podcasts.episodes,
            episodes
                .iter()
                .map(|l| l.item_key())
                .collect::<HashSet<_>>()
                .len() as i64
        );
        let mut shows = rank(episodes.iter().map(|l| (l.album.clone().unwrap(), l.ms)));
        shows.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)));
        assert_eq!(podcasts.shows, shows.len() as i64);
        let got: Vec<_> = podcasts
            .top_shows
            .iter()
            .map(|s| (s.name.clone(), s.minutes))
            .collect();
        let want: Vec<_> = shows
            .iter()
            .take(3)
            .map(|(name, _, ms)| (name.clone(), minutes(*ms)))
            .collect();
        assert_eq!(got, want);
        assert!(podcasts.top_episodes.iter().all(|e| e.by.is_some()));
    }
});

store_test!(discoveries_are_first_plays_inside_the_window, |db| {
    let (analytics, scope) = imported(&db.store).await;
    // The default rule is answered from the rollups, another one from the plays.
    for (min_ms, threshold) in RULES {
        // Early in the history, while less popular artists are still being found.
        let period = Period {
            from: Some("2019-04-01".into()),
            to: Some("2019-09-30".into()),
            ..Period::default()
        };
        let (from, to) = (ms("2019-04-01T00:00:00Z"), ms("2019-10-01T00:00:00Z"));
        let args = DiscoveriesArgs {
            period,
            limit: Some(5),
            min_ms,
        };
        let answer = analytics.discoveries(&scope, &args).await.unwrap().result;

        // First counted play of every track and artist, over the whole export.
        let mut first_track: HashMap<String, i64> = HashMap::new();
        let mut first_artist: HashMap<String, i64> = HashMap::new();
        for l in tracks(plays_at(threshold, i64::MIN, i64::MAX)) {
            first_track.entry(l.item_key()).or_insert(l.ended_ms);
            first_artist
                .entry(l.artist.clone().unwrap())
                .or_insert(l.ended_ms);
        }
        let new_tracks: HashSet<&String> = first_track
            .iter()
            .filter(|(_, t)| (from..to).contains(*t))
            .map(|(k, _)| k)
            .collect();
        let new_artists: HashSet<&String> = first_artist
            .iter()
            .filter(|(_, t)| (from..to).contains(*t))
            .map(|(k, _)| k)
            .collect();
        let in_window: Vec<&Listen> = tracks(plays_at(threshold, from, to)).collect();
        assert_eq!(answer.new_tracks, new_tracks.len() as i64);
        assert_eq!(answer.new_artists, new_artists.len() as i64);
        assert!(answer.new_artists > 0 && answer.new_tracks > answer.new_artists);
        assert_eq!(
            answer.new_track_plays,
            in_window
                .iter()
                .filter(|l| new_tracks.contains(&l.item_key()))
                .count() as i64
        );
        assert_eq!(
            answer.new_artist_plays,
            in_window
                .iter()
                .filter(|l| new_artists.contains(l.artist.as_ref().unwrap()))
                .count() as i64
        );
        let want: Vec<_> = rank(
            in_window
                .iter()
                .filter(|l| new_artists.contains(l.artist.as_ref().unwrap()))
                .map(|l| (l.artist.clone().unwrap(), l.ms)),
        )
        .into_iter()
        .take(5)
        .map(|(name, plays, _)| (name.clone(), plays, first_artist[&name]))
        .collect();
        let got: Vec<_> = answer
            .artists
            .iter()
            .map(|a| (a.name.clone(), a.plays, ms(&a.first_heard)))
            .collect();
        assert_eq!(got, want);
        assert!(
            answer
                .tracks
                .iter()
                .all(|t| ms(&t.first_heard) >= from && t.by.is_some())
        );
    }
});

store_test!(compare_periods_finds_rising_and_falling_artists, |db| {
    let (analytics, scope) = imported(&db.store).await;
    // The default rule is answered from the rollups, another one from the plays.
    for (min_ms, threshold) in RULES {
        let year = |y: i32| Period {
            from: Some(format!("{y}-01-01")),
            to: Some(format!("{y}-12-31")),
            ..Period::default()
        };
        let args = CompareArgs {
            a: Some(year(2020)),
            b: Some(year(2021)),
            limit: Some(5),
            min_ms,
        };
        let answer = analytics.compare_periods(&scope, &args).await.unwrap();
        let comparison = answer.result;
        let (a_from, a_to, b_to) = (
            ms("2020-01-01T00:00:00Z"),
            ms("2021-01-01T00:00:00Z"),
            ms("2022-01-01T00:00:00Z"),
        );
        assert_eq!(
            comparison.a.plays,
            plays_at(threshold, a_from, a_to).count() as i64
        );
        assert_eq!(
            comparison.b.plays,
            plays_at(threshold, a_to, b_to).count() as i64
        );
        assert_eq!(
            answer.window.from.as_deref(),
            Some("2020-01-01T00:00:00+00:00")
        );

        let count = |from, to| {
            let mut plays: HashMap<String, i64> = HashMap::new();
            for l in tracks(plays_at(threshold, from, to)) {
                *plays.entry(l.artist.clone().unwrap()).or_default() += 1;
            }
            plays
        };
        let (a, b) = (count(a_from, a_to), count(a_to, b_to));
        let names: HashSet<&String> = a.keys().chain(b.keys()).collect();
        let mut changes: Vec<(String, i64, i64, i64)> = names
            .into_iter()
            .map(|n| {
                let (pa, pb) = (
                    a.get(n).copied().unwrap_or(0),
                    b.get(n).copied().unwrap_or(0),
                );
                (n.clone(), pa, pb, pb - pa)
            })
            .collect();
        changes.sort_by(|x, y| y.3.cmp(&x.3).then(y.2.cmp(&x.2)).then(x.0.cmp(&y.0)));
        let rising: Vec<_> = changes
            .iter()
            .filter(|c| c.3 > 0)
            .take(5)
            .cloned()
            .collect();
        changes.sort_by(|x, y| x.3.cmp(&y.3).then(y.1.cmp(&x.1)).then(x.0.cmp(&y.0)));
        let falling: Vec<_> = changes
            .iter()
            .filter(|c| c.3 < 0)
            .take(5)
            .cloned()
            .collect();
        let got = |list: &[spotify_history_analytics::Change]| {
            list.iter()
                .map(|c| (c.name.clone(), c.plays_a, c.plays_b, c.change))
                .collect::<Vec<_>>()
        };
        assert_eq!(got(&comparison.rising_artists), rising);
        assert_eq!(got(&comparison.falling_artists), falling);
        assert_eq!(comparison.rising_tracks.len(), 5);
        assert!(
            comparison
                .falling_tracks
                .iter()
                .all(|c| c.change < 0 && c.by.is_some())
        );

        // Without `a`, the baseline is the same length right before `b`.
        let args = CompareArgs {
            a: None,
            b: Some(Period {
                days: Some(30),
                ..Period::default()
            }),
            limit: None,
            min_ms,
        };
        let answer = analytics.compare_periods(&scope, &args).await.unwrap();
        assert_eq!(
            answer.result.a.window.to,
            answer.result.b.window.from.clone().unwrap()
        );
        assert_eq!(
            answer.result.a.window.from.as_deref(),
            Some("2021-11-02T00:00:00+00:00")
        );
        assert_eq!(
            answer.result.b.plays,
            plays_at(
                threshold,
                ms("2021-12-02T00:00:00Z"),
                ms("2022-01-01T00:00:00Z")
            )
            .count() as i64
        );
    }
});
