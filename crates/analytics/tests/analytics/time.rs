//! Local time: heatmap cells, series buckets and coverage days in zones with DST and odd
//! offsets.

use crate::export::{RULES, export, imported, minutes, ms, plays_at, scope};
use crate::handmade::analytics;
use crate::handmade::{Heard, heard, write};
use spotify_history_analytics::{
    Bucket, CoverageArgs, HeatmapArgs, ListeningTimeArgs, Period, RecentArgs,
};
use spotify_history_core::Source;
use spotify_history_testkit::store_test;
use std::collections::{BTreeMap, BTreeSet};

fn in_zone(tz: &str) -> Period {
    Period {
        all_time: Some(true),
        tz: Some(tz.into()),
        ..Period::default()
    }
}

fn heatmap_args(period: Period) -> HeatmapArgs {
    HeatmapArgs {
        period,
        min_ms: None,
    }
}

fn heatmap_at(period: Period, min_ms: Option<i64>) -> HeatmapArgs {
    HeatmapArgs { period, min_ms }
}

store_test!(heatmap_cells_in_new_york_match_the_export, |db| {
    let (analytics, scope) = imported(&db.store).await;
    // The default rule is answered from the rollups, another one from the plays.
    for (min_ms, threshold) in RULES {
        let answer = analytics
            .listening_heatmap(&scope, &heatmap_at(in_zone("America/New_York"), min_ms))
            .await
            .unwrap();
        assert_eq!(answer.window.tz, "America/New_York");
        let heatmap = answer.result;
        assert_eq!(heatmap.tz, "America/New_York");

        // Each play placed by its own local time: three years, six DST switches.
        let tz = jiff::tz::TimeZone::get("America/New_York").unwrap();
        let mut cells = [[(0i64, 0i64); 24]; 7];
        for l in plays_at(threshold, i64::MIN, i64::MAX) {
            let local = jiff::Timestamp::from_millisecond(l.ended_ms)
                .unwrap()
                .to_zoned_datetime(tz.clone());
            let cell =
                &mut cells[local.weekday().to_monday_zero_offset() as usize][local.hour() as usize];
            cell.0 += 1;
            cell.1 += l.ms;
        }
        for (day, row) in heatmap.weekdays.iter().enumerate() {
            let plays: Vec<i64> = cells[day].iter().map(|c| c.0).collect();
            let mins: Vec<f64> = cells[day].iter().map(|c| minutes(c.1)).collect();
            assert_eq!(row.plays_by_hour, plays, "{}", row.weekday);
            assert_eq!(row.minutes_by_hour, mins, "{}", row.weekday);
        }
        assert_eq!(heatmap.weekdays[0].weekday, "Monday");
        assert_eq!(
            heatmap.plays,
            plays_at(threshold, i64::MIN, i64::MAX).count() as i64
        );
        let busiest = cells.iter().flatten().map(|c| c.0).max().unwrap();
        assert_eq!(heatmap.busiest[0].plays, busiest);
        assert_eq!(heatmap.hours.len(), 24);
    }
});

store_test!(heatmap_follows_daylight_saving_and_odd_offsets, |db| {
    let user = db.store.create_user("dst", None).await.unwrap().id;
    write(
        &db.store,
        user,
        &[
            // Saturday 2024-03-09 02:30 EST.
            heard("2024-03-09T07:30:00Z", "Night Owls", "Saturday Late"),
            // Sunday 2024-03-10: 01:30 EST, then clocks jump from 02:00 to 03:00; 03:30 EDT.
            heard("2024-03-10T06:30:00Z", "Night Owls", "Before The Jump"),
            heard("2024-03-10T07:30:00Z", "Night Owls", "After The Jump"),
            // Sunday 2024-11-03: 01:30 EDT, clocks fall back, 01:30 EST again, then 02:30 EST.
            heard("2024-11-03T05:30:00Z", "Night Owls", "First One Thirty"),
            heard("2024-11-03T06:30:00Z", "Night Owls", "Second One Thirty"),
            heard("2024-11-03T07:30:00Z", "Night Owls", "Two Thirty"),
            // Kathmandu is UTC+05:45: Monday 23:55 and Tuesday 00:05 local.
            heard("2024-06-03T18:10:00Z", "Night Owls", "Kathmandu Monday"),
            heard("2024-06-03T18:20:00Z", "Night Owls", "Kathmandu Tuesday"),
        ],
    )
    .await;
    let analytics = analytics(&db.store);
    let scope = scope(user);
    let cells = |heatmap: &spotify_history_analytics::Heatmap| {
        let mut cells = Vec::new();
        for day in &heatmap.weekdays {
            for (hour, plays) in day.plays_by_hour.iter().enumerate() {
                if *plays > 0 {
                    cells.push((day.weekday.clone(), hour, *plays));
                }
            }
        }
        cells
    };
    let new_york = analytics
        .listening_heatmap(&scope, &heatmap_args(in_zone("America/New_York")))
        .await
        .unwrap()
        .result;
    // Kathmandu's two plays are Monday 14:10 and 14:20 EDT in New York.
    let expected: Vec<(String, usize, i64)> = vec![
        ("Monday".into(), 14, 2),
        ("Saturday".into(), 2, 1),
        ("Sunday".into(), 1, 3),
        ("Sunday".into(), 2, 1),
        ("Sunday".into(), 3, 1),
    ];
    assert_eq!(cells(&new_york), expected);

    let kathmandu = analytics
        .listening_heatmap(&scope, &heatmap_args(in_zone("Asia/Kathmandu")))
        .await
        .unwrap()
        .result;
    let got = cells(&kathmandu);
    assert!(got.contains(&("Monday".into(), 23, 1)), "{got:?}");
    assert!(got.contains(&("Tuesday".into(), 0, 1)), "{got:?}");

    // The zone of the user applies when the question names none.
    let mut scope_in_zone = scope.clone();
    scope_in_zone.time_zone = Some("America/New_York".into());
    let default_zone = analytics
        .listening_heatmap(
            &scope_in_zone,
            &heatmap_args(Period {
                all_time: Some(true),
                ..Period::default()
            }),
        )
        .await
        .unwrap();
    assert_eq!(default_zone.window.tz, "America/New_York");
    assert_eq!(cells(&default_zone.result), expected);

    // Local times in answers carry the offset in force at that instant.
    let recent = analytics
        .recent_plays(
            &scope_in_zone,
            &RecentArgs {
                limit: Some(5),
                ..RecentArgs::default()
            },
        )
        .await
        .unwrap()
        .result;
    let times: Vec<&str> = recent.plays.iter().map(|p| p.ended_at.as_str()).collect();
    assert_eq!(
        times,
        [
            "2024-11-03T02:30:00-05:00",
            "2024-11-03T01:30:00-05:00",
            "2024-11-03T01:30:00-04:00",
            "2024-06-03T14:20:00-04:00",
            "2024-06-03T14:10:00-04:00",
        ]
    );
});

store_test!(listening_time_buckets_follow_the_zone, |db| {
    let (analytics, scope) = imported(&db.store).await;
    // The default rule is answered from the rollups, another one from the plays.
    for (min_ms, threshold) in RULES {
        // 2020 in Berlin, by month: each play in the month of its local date.
        let args = ListeningTimeArgs {
            period: Period {
                from: Some("2020-01-01".into()),
                to: Some("2020-12-31".into()),
                tz: Some("Europe/Berlin".into()),
                ..Period::default()
            },
            bucket: Some(Bucket::Month),
            min_ms,
        };
        let answer = analytics
            .listening_time(&scope, &args)
            .await
            .unwrap()
            .result;
        let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        let mut months: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for l in plays_at(
            threshold,
            ms("2019-12-31T23:00:00Z"),
            ms("2020-12-31T23:00:00Z"),
        ) {
            let local = jiff::Timestamp::from_millisecond(l.ended_ms)
                .unwrap()
                .to_zoned_datetime(tz.clone());
            let entry = months
                .entry(local.strftime("%Y-%m-01").to_string())
                .or_default();
            entry.0 += 1;
            entry.1 += l.ms;
        }
        let got: Vec<_> = answer
            .series
            .iter()
            .map(|b| (b.start.clone(), b.plays, b.minutes))
            .collect();
        let want: Vec<_> = months
            .iter()
            .map(|(m, (p, ms))| (m.clone(), *p, minutes(*ms)))
            .collect();
        assert_eq!(got.len(), 12);
        assert_eq!(got, want);
        assert_eq!(answer.plays, months.values().map(|v| v.0).sum::<i64>());

        // Weeks start on Monday; every day of the window is in exactly one bucket.
        let weekly = ListeningTimeArgs {
            bucket: Some(Bucket::Week),
            ..args.clone()
        };
        let weeks = analytics
            .listening_time(&scope, &weekly)
            .await
            .unwrap()
            .result;
        assert_eq!(weeks.series.first().unwrap().start, "2019-12-30");
        assert_eq!(weeks.series.last().unwrap().start, "2020-12-28");
        assert_eq!(weeks.plays, answer.plays);
        let daily = ListeningTimeArgs {
            bucket: None,
            period: Period {
                from: Some("2020-03-01".into()),
                to: Some("2020-03-31".into()),
                tz: Some("Europe/Berlin".into()),
                ..Period::default()
            },
            min_ms,
        };
        let days = analytics
            .listening_time(&scope, &daily)
            .await
            .unwrap()
            .result;
        assert_eq!(days.bucket, Bucket::Day);
        assert_eq!(days.series.len(), 31);
        assert_eq!(days.plays, months["2020-03-01"].0);
    }
});

store_test!(month_ends_belong_to_the_local_month, |db| {
    let user = db.store.create_user("eve", None).await.unwrap().id;
    write(
        &db.store,
        user,
        &[
            heard("2024-01-31T22:30:00Z", "Late Band", "Still January"),
            // 00:30 on February 1st in Berlin, still January 31st in UTC.
            heard("2024-01-31T23:30:00Z", "Late Band", "Already February"),
            heard("2024-02-15T12:00:00Z", "Late Band", "Mid February"),
        ],
    )
    .await;
    let analytics = analytics(&db.store);
    let months = |tz: &str| ListeningTimeArgs {
        period: Period {
            from: Some("2024-01-01".into()),
            to: Some("2024-02-29".into()),
            tz: Some(tz.into()),
            ..Period::default()
        },
        bucket: Some(Bucket::Month),
        min_ms: None,
    };
    let series = |answer: spotify_history_analytics::ListeningTime| {
        answer
            .series
            .into_iter()
            .map(|b| (b.start, b.plays))
            .collect::<Vec<_>>()
    };
    let berlin = analytics
        .listening_time(&scope(user), &months("Europe/Berlin"))
        .await
        .unwrap();
    assert_eq!(
        series(berlin.result),
        [("2024-01-01".to_string(), 1), ("2024-02-01".to_string(), 2)]
    );
    let utc = analytics
        .listening_time(&scope(user), &months("UTC"))
        .await
        .unwrap();
    assert_eq!(
        series(utc.result),
        [("2024-01-01".to_string(), 2), ("2024-02-01".to_string(), 1)]
    );
});

store_test!(
    an_artists_months_follow_the_zone_and_the_window_edges,
    |db| {
        let user = db.store.create_user("eve", None).await.unwrap().id;
        write(
            &db.store,
            user,
            &[
                heard("2024-01-31T22:30:00Z", "Late Band", "Still January"),
                // 00:30 on February 1st in Berlin, 18:30 on January 31st in New York.
                heard("2024-01-31T23:30:00Z", "Late Band", "Already February"),
                heard("2024-02-15T12:00:00Z", "Late Band", "Mid February"),
                heard("2024-02-15T12:05:00Z", "Other Band", "Not Counted"),
                // Berlin is on summer time (UTC+2) from March 31st, 01:00 UTC.
                heard("2024-03-31T21:30:00Z", "Late Band", "Last Of March"),
                heard("2024-03-31T22:30:00Z", "Late Band", "First Of April"),
                heard("2024-04-10T10:00:00Z", "Late Band", "Mid April"),
                heard("2024-04-10T11:00:00Z", "Late Band", "Mid April Again"),
                // April 30th in New York, May 1st in Berlin and UTC.
                heard("2024-05-01T02:00:00Z", "Late Band", "Night Into May"),
            ],
        )
        .await;
        let analytics = analytics(&db.store);
        let months = |tz: &str, from: Option<&str>, min_ms: Option<i64>| {
            let args = spotify_history_analytics::ArtistArgs {
                artist: "Late Band".into(),
                period: Period {
                    from: from.map(Into::into),
                    tz: Some(tz.into()),
                    ..Period::default()
                },
                min_ms,
                ..Default::default()
            };
            let analytics = &analytics;
            async move {
                analytics
                    .artist_detail(&scope(user), &args)
                    .await
                    .unwrap()
                    .result
                    .plays_by_month
                    .into_iter()
                    // The series runs on to "now" (2025): the rest are empty months.
                    .take(5)
                    .map(|m| (m.start[..7].to_string(), m.plays))
                    .collect::<Vec<_>>()
            }
        };
        let expect = |months: &[(&str, i64)]| {
            months
                .iter()
                .map(|(m, n)| (m.to_string(), *n))
                .collect::<Vec<_>>()
        };
        // The default rule is answered from the day summaries, another one from the plays.
        for min_ms in [None, Some(20_000)] {
            assert_eq!(
                months("Europe/Berlin", None, min_ms).await,
                expect(&[
                    ("2024-01", 1),
                    ("2024-02", 2),
                    ("2024-03", 1),
                    ("2024-04", 3),
                    ("2024-05", 1)
                ])
            );
            assert_eq!(
                months("America/New_York", None, min_ms).await,
                expect(&[
                    ("2024-01", 2),
                    ("2024-02", 1),
                    ("2024-03", 2),
                    ("2024-04", 3),
                    ("2024-05", 0)
                ])
            );
            assert_eq!(
                months("UTC", None, min_ms).await,
                expect(&[
                    ("2024-01", 2),
                    ("2024-02", 1),
                    ("2024-03", 2),
                    ("2024-04", 2),
                    ("2024-05", 1)
                ])
            );
            // A window starting inside a UTC day (23:45 in Berlin is 22:45 UTC).
            assert_eq!(
                months("Europe/Berlin", Some("2024-01-31T23:45:00"), min_ms).await,
                expect(&[
                    ("2024-01", 0),
                    ("2024-02", 2),
                    ("2024-03", 1),
                    ("2024-04", 3),
                    ("2024-05", 1)
                ])
            );
        }
    }
);

store_test!(a_busy_artists_months_come_from_the_day_summaries, |db| {
    // Forty plays a day around a month end: enough for the day summaries to be the quicker
    // read, so they are what the default rule counts from.
    let user = db.store.create_user("eve", None).await.unwrap().id;
    let times: Vec<String> = ["2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02"]
        .iter()
        .flat_map(|day| {
            (0..40).map(move |i| format!("{day}T{:02}:{:02}:00Z", 2 + i / 2, (i % 2) * 30))
        })
        .chain(["2024-01-31T23:30:00Z".to_string()])
        .collect();
    let listens: Vec<Heard> = times
        .iter()
        .enumerate()
        .map(|(i, at)| heard(at, "Busy Band", if i % 2 == 0 { "Even" } else { "Odd" }))
        .collect();
    write(&db.store, user, &listens).await;
    let analytics = analytics(&db.store);
    for min_ms in [None, Some(20_000)] {
        let args = spotify_history_analytics::ArtistArgs {
            artist: "Busy Band".into(),
            period: Period {
                tz: Some("Europe/Berlin".into()),
                ..Period::default()
            },
            min_ms,
            ..Default::default()
        };
        let months: Vec<(String, i64)> = analytics
            .artist_detail(&scope(user), &args)
            .await
            .unwrap()
            .result
            .plays_by_month
            .into_iter()
            .take(2)
            .map(|m| (m.start, m.plays))
            .collect();
        // 23:30 UTC on January 31st is February in Berlin.
        assert_eq!(
            months,
            [
                ("2024-01-01".to_string(), 80),
                ("2024-02-01".to_string(), 81)
            ]
        );
    }
});

store_test!(coverage_counts_local_days_and_the_stretches_between, |db| {
    let user = db.store.create_user("cov", None).await.unwrap().id;
    write(
        &db.store,
        user,
        &[
            heard("2024-01-01T10:00:00Z", "Cover Band", "One"),
            heard("2024-01-02T10:00:00Z", "Cover Band", "Two"),
            // Jan 5th in UTC, Jan 6th 00:30 in Berlin.
            heard("2024-01-05T23:30:00Z", "Cover Band", "Three"),
            heard("2024-01-10T10:00:00Z", "Cover Band", "Four"),
            // A skip still shows there was data that day.
            Heard {
                ms: Some(5_000),
                ..heard("2024-01-11T10:00:00Z", "Cover Band", "Five")
            },
            Heard {
                ms: None,
                source: Source::RecentlyPlayed,
                ..heard("2024-01-11T12:00:00Z", "Cover Band", "Six")
            },
        ],
    )
    .await;
    db.store
        .execute_ddl(&format!(
            "INSERT INTO coverage_gaps (user_id, starts_at, ends_at, reason, detected_at)
             VALUES ({}, {}, {}, 'more_than_50_plays_between_polls', 0)",
            user.0,
            ms("2024-01-03T00:00:00Z"),
            ms("2024-01-04T00:00:00Z")
        ))
        .await
        .unwrap();
    let analytics = analytics(&db.store);
    let args = |tz: &str| CoverageArgs {
        period: Period {
            from: Some("2024-01-01".into()),
            to: Some("2024-01-15".into()),
            tz: Some(tz.into()),
            ..Period::default()
        },
    };
    let stretches = |report: &spotify_history_analytics::CoverageReport| {
        report
            .longest_stretches_without_data
            .iter()
            .map(|s| (s.from.clone(), s.to.clone(), s.days))
            .collect::<Vec<_>>()
    };
    let s = |from: &str, to: &str, days: i64| (from.to_string(), to.to_string(), days);

    let berlin = analytics
        .coverage_report(&scope(user), &args("Europe/Berlin"))
        .await
        .unwrap();
    let report = &berlin.result;
    assert_eq!((report.days_in_window, report.days_with_data), (15, 5));
    assert_eq!(report.share_of_days_with_data, 0.333);
    assert_eq!(
        stretches(report),
        [
            s("2024-01-12", "2024-01-15", 4),
            s("2024-01-03", "2024-01-05", 3),
            s("2024-01-07", "2024-01-09", 3)
        ]
    );
    assert_eq!(report.listens, 6);
    let sources: Vec<_> = report
        .listens_by_source
        .iter()
        .map(|c| (c.source.as_str(), c.listens))
        .collect();
    assert_eq!(sources, [("extended_export", 5), ("recently_played", 1)]);
    assert_eq!(report.known_gaps.len(), 1);
    assert_eq!(report.known_gaps[0].from, "2024-01-03T01:00:00+01:00");
    assert_eq!(
        report.known_gaps[0].reason,
        "more_than_50_plays_between_polls"
    );
    assert_eq!(
        report.first_listen.as_deref(),
        Some("2024-01-01T11:00:00+01:00")
    );
    assert_eq!(
        report.last_listen.as_deref(),
        Some("2024-01-11T13:00:00+01:00")
    );
    // The frame counts plays under the rule; the report counts every listen.
    assert_eq!(berlin.coverage.listens_in_window, 5);

    let utc = analytics
        .coverage_report(&scope(user), &args("UTC"))
        .await
        .unwrap()
        .result;
    assert_eq!(
        stretches(&utc),
        [
            s("2024-01-06", "2024-01-09", 4),
            s("2024-01-12", "2024-01-15", 4),
            s("2024-01-03", "2024-01-04", 2)
        ]
    );

    // The default window is the whole history, up to now.
    let all = analytics
        .coverage_report(&scope(user), &CoverageArgs::default())
        .await
        .unwrap()
        .result;
    assert_eq!(all.days_with_data, 5);
    let now_days = (ms(crate::handmade::NOW) - ms("2024-01-01T00:00:00Z")) / 86_400_000;
    assert_eq!(all.days_in_window, now_days);
});

store_test!(coverage_of_the_export_counts_every_listen_day, |db| {
    let (analytics, scope) = imported(&db.store).await;
    let report = analytics
        .coverage_report(&scope, &CoverageArgs::default())
        .await
        .unwrap()
        .result;
    let days: BTreeSet<i64> = export()
        .listens
        .iter()
        .map(|l| l.ended_ms.div_euclid(86_400_000))
        .collect();
    assert_eq!(report.days_with_data, days.len() as i64);
    assert_eq!(report.listens, export().listens.len() as i64);
    let first = *days.first().unwrap();
    let last = ms(crate::export::NOW) / 86_400_000 - 1;
    assert_eq!(report.days_in_window, last - first + 1);
});
