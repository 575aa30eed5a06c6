//! Bad arguments are refused with a message that says how to fix the call.

use crate::handmade::analytics;
use spotify_history_analytics::{
    AnalyticsError, ArtistArgs, Bucket, CompareArgs, ListeningTimeArgs, Period, RecentArgs,
    SearchArgs, TopArgs,
};
use spotify_history_testkit::TestDb;

fn bad<T: std::fmt::Debug>(result: Result<T, AnalyticsError>) -> String {
    match result {
        Err(AnalyticsError::BadArgument(message)) => message,
        other => panic!("expected a bad-argument error, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_arguments_are_explained() {
    let db = TestDb::sqlite().await;
    let user = db.store.create_user("ann", None).await.unwrap().id;
    let analytics = analytics(&db.store);
    let scope = crate::export::scope(user);
    let top = |period: Period, limit: Option<u32>, min_ms: Option<i64>| TopArgs {
        period,
        limit,
        min_ms,
    };
    let period = |from: Option<&str>, to: Option<&str>, tz: Option<&str>| Period {
        from: from.map(Into::into),
        to: to.map(Into::into),
        tz: tz.map(Into::into),
        ..Period::default()
    };

    let message = bad(analytics
        .top_artists(
            &scope,
            &top(period(None, None, Some("Europe/Berlinn")), None, None),
        )
        .await);
    assert!(
        message.contains("\"Europe/Berlinn\"") && message.contains("IANA"),
        "{message}"
    );
    let message = bad(analytics
        .top_tracks(
            &scope,
            &top(period(Some("2024-13-01"), None, None), None, None),
        )
        .await);
    assert!(
        message.contains("from") && message.contains("2024-12-01"),
        "{message}"
    );
    let message = bad(analytics
        .top_albums(
            &scope,
            &top(period(None, Some("yesterday"), None), None, None),
        )
        .await);
    assert!(message.contains("to must be"), "{message}");
    let message = bad(analytics
        .top_artists(
            &scope,
            &top(
                period(Some("2024-02-01"), Some("2024-01-01"), None),
                None,
                None,
            ),
        )
        .await);
    assert!(message.contains("empty"), "{message}");
    for limit in [0, 1000] {
        let message = bad(analytics
            .top_artists(&scope, &top(Period::default(), Some(limit), None))
            .await);
        assert!(
            message.contains("between 1 and 100") && message.contains(&limit.to_string()),
            "{message}"
        );
    }
    let message = bad(analytics
        .top_artists(&scope, &top(Period::default(), None, Some(-1)))
        .await);
    assert!(message.contains("min_ms"), "{message}");
    let days = Period {
        days: Some(0),
        ..Period::default()
    };
    assert!(bad(analytics.top_artists(&scope, &top(days, None, None)).await).contains("all_time"));

    for (args, hint) in [
        (
            RecentArgs {
                limit: Some(201),
                ..RecentArgs::default()
            },
            "between 1 and 200",
        ),
        (
            RecentArgs {
                page: Some(0),
                ..RecentArgs::default()
            },
            "from 1",
        ),
        (
            RecentArgs {
                before: Some("soon".into()),
                ..RecentArgs::default()
            },
            "next_before",
        ),
    ] {
        let message = bad(analytics.recent_plays(&scope, &args).await);
        assert!(message.contains(hint), "{message}");
    }

    let search = SearchArgs {
        query: "  ".into(),
        ..SearchArgs::default()
    };
    assert!(bad(analytics.search_plays(&scope, &search).await).contains("query is empty"));
    let artist = ArtistArgs::default();
    assert!(bad(analytics.artist_detail(&scope, &artist).await).contains("artist is empty"));

    let daily_decade = ListeningTimeArgs {
        period: Period {
            days: Some(3650),
            ..Period::default()
        },
        bucket: Some(Bucket::Day),
        min_ms: None,
    };
    let message = bad(analytics.listening_time(&scope, &daily_decade).await);
    assert!(message.contains("\"week\" or \"month\""), "{message}");

    let compare = CompareArgs {
        b: Some(Period {
            all_time: Some(true),
            ..Period::default()
        }),
        ..CompareArgs::default()
    };
    assert!(bad(analytics.compare_periods(&scope, &compare).await).contains("give a"));
}
