//! Answers stay right while listens are added, merged and deleted after the rollups were
//! built, and when a stored summary is damaged: each answer is checked against expected
//! counts and against the same question answered from the plays.

use crate::handmade::{Heard, analytics, heard, write, write_outcome};
use spotify_history_analytics::{
    Analytics, HeatmapArgs, Period, RepeatArgs, Scope, TasteArgs, TopArgs,
};
use spotify_history_core::Source;
use spotify_history_store::{BackendKind, Store};
use spotify_history_testkit::store_test;

fn all_time() -> Period {
    Period {
        all_time: Some(true),
        ..Period::default()
    }
}

/// Top artists as (name, plays), answered from the rollups; asserts the plays give the same.
async fn top_artists(analytics: &Analytics, scope: &Scope) -> Vec<(String, i64)> {
    let ask = |min_ms| TopArgs {
        period: all_time(),
        limit: Some(10),
        min_ms,
    };
    let shown = |items: Vec<spotify_history_analytics::RankedItem>| {
        items
            .into_iter()
            .map(|i| (i.name, i.plays))
            .collect::<Vec<_>>()
    };
    let rolled = analytics.top_artists(scope, &ask(None)).await.unwrap();
    // No hand-made listen is between 20 and 30 s long, so both rules count the same.
    let read = analytics
        .top_artists(scope, &ask(Some(20_000)))
        .await
        .unwrap();
    assert_eq!(shown(rolled.result.items.clone()), shown(read.result.items));
    assert_eq!(
        rolled.coverage.listens_in_window,
        read.coverage.listens_in_window
    );
    let heatmap = |min_ms| HeatmapArgs {
        period: all_time(),
        min_ms,
    };
    let rolled_heat = analytics
        .listening_heatmap(scope, &heatmap(None))
        .await
        .unwrap();
    let read_heat = analytics
        .listening_heatmap(scope, &heatmap(Some(20_000)))
        .await
        .unwrap();
    let cells = |h: spotify_history_analytics::Heatmap| {
        h.weekdays
            .into_iter()
            .map(|d| d.plays_by_hour)
            .collect::<Vec<_>>()
    };
    assert_eq!(cells(rolled_heat.result), cells(read_heat.result));
    shown(rolled.result.items)
}

/// Top artists of the days `from` to `to` as (name, plays).
async fn top_artists_between(
    analytics: &Analytics,
    scope: &Scope,
    from: &str,
    to: &str,
) -> Vec<(String, i64)> {
    let args = TopArgs {
        period: Period {
            from: Some(from.into()),
            to: Some(to.into()),
            ..Period::default()
        },
        limit: Some(10),
        min_ms: None,
    };
    let top = analytics.top_artists(scope, &args).await.unwrap().result;
    top.items.into_iter().map(|i| (i.name, i.plays)).collect()
}

fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(n, p)| (n.to_string(), *p)).collect()
}

store_test!(answers_follow_listens_added_merged_and_deleted, |db| {
    let store = &db.store;
    let ann = store.create_user("ann", None).await.unwrap().id;
    let analytics = analytics(store);
    let scope = crate::export::scope(ann);
    write(
        store,
        ann,
        &[
            heard("2024-03-01T08:00:00Z", "Alpha", "First"),
            heard("2024-03-01T09:00:00Z", "Alpha", "First"),
            heard("2024-03-01T10:00:00Z", "Alpha", "Second"),
            heard("2024-03-02T10:00:00Z", "Beta", "Only"),
        ],
    )
    .await;
    assert_eq!(
        top_artists(&analytics, &scope).await,
        pairs(&[("Alpha", 3), ("Beta", 1)])
    );

    // Older listens, on a new day and on a day already summarised.
    write(
        store,
        ann,
        &[
            heard("2024-02-15T10:00:00Z", "Beta", "Early"),
            heard("2024-02-15T11:00:00Z", "Beta", "Early"),
            heard("2024-02-15T12:00:00Z", "Beta", "Early"),
            heard("2024-03-01T12:00:00Z", "Gamma", "Newcomer"),
        ],
    )
    .await;
    assert_eq!(
        top_artists(&analytics, &scope).await,
        pairs(&[("Beta", 4), ("Alpha", 3), ("Gamma", 1)])
    );
    let taste = analytics
        .taste_summary(
            &scope,
            &TasteArgs {
                period: all_time(),
                min_ms: None,
            },
        )
        .await
        .unwrap()
        .result;
    assert_eq!((taste.plays, taste.distinct_tracks), (8, 5));

    // Spotify's API confirms a stored listen: merged, not counted twice, sources updated.
    let outcome = write_outcome(
        store,
        ann,
        &[Heard {
            ms: None,
            source: Source::RecentlyPlayed,
            ..heard("2024-03-01T09:00:05Z", "Alpha", "First")
        }],
    )
    .await;
    assert_eq!((outcome.inserted, outcome.merged), (0, 1));
    let answer = analytics
        .top_artists(
            &scope,
            &TopArgs {
                period: all_time(),
                limit: None,
                min_ms: None,
            },
        )
        .await
        .unwrap();
    let sources: Vec<_> = answer
        .coverage
        .sources
        .iter()
        .map(|s| (s.source.as_str(), s.listens))
        .collect();
    assert_eq!(sources, [("extended_export", 8), ("recently_played", 1)]);
    assert_eq!(answer.result.items[1].plays, 3);

    // Bob's listens get the highest ids; deleting him must not hide Ann's next ones.
    let bob = store.create_user("bob", None).await.unwrap().id;
    write(
        store,
        bob,
        &[heard("2024-04-01T10:00:00Z", "Bob Band", "Bobs")],
    )
    .await;
    let bob_scope = crate::export::scope(bob);
    assert_eq!(
        top_artists(&analytics, &bob_scope).await,
        pairs(&[("Bob Band", 1)])
    );
    store.delete_user(bob).await.unwrap();
    write(
        store,
        ann,
        &[
            heard("2024-04-02T10:00:00Z", "Gamma", "Newcomer"),
            heard("2024-04-02T11:00:00Z", "Gamma", "Newcomer"),
        ],
    )
    .await;
    assert_eq!(
        top_artists(&analytics, &scope).await,
        pairs(&[("Beta", 4), ("Alpha", 3), ("Gamma", 3)])
    );
    let repeat = analytics
        .repeat_rate(
            &scope,
            &RepeatArgs {
                period: all_time(),
                limit: Some(1),
                min_ms: None,
            },
        )
        .await
        .unwrap()
        .result;
    let buckets: Vec<_> = repeat
        .buckets
        .iter()
        .map(|b| (b.plays_per_track.as_str(), b.tracks, b.plays))
        .collect();
    // Second and Only once; First twice; Early and Newcomer three times.
    assert_eq!(
        buckets,
        [("1", 2, 2), ("2-4", 3, 8), ("5-9", 0, 0), ("10+", 0, 0)]
    );
    assert_eq!(repeat.most_repeated[0].plays, 3);
});

store_test!(a_damaged_summary_is_rebuilt_from_the_plays, |db| {
    let store = &db.store;
    let ann = store.create_user("ann", None).await.unwrap().id;
    let analytics = analytics(store);
    let scope = crate::export::scope(ann);
    write(
        store,
        ann,
        &[
            heard("2024-05-01T08:00:00Z", "Alpha", "One"),
            heard("2024-05-02T08:00:00Z", "Beta", "Two"),
        ],
    )
    .await;
    assert_eq!(
        top_artists(&analytics, &scope).await,
        pairs(&[("Alpha", 1), ("Beta", 1)])
    );
    let damage_everything = match store.backend() {
        BackendKind::Sqlite => {
            "UPDATE history_totals SET tracks = X'00'; UPDATE history_day_tracks SET tracks = X'FF';
             UPDATE history_days SET slots = X'FF'"
        }
        BackendKind::Postgres => {
            "UPDATE history_totals SET tracks = '\\x00'::bytea; UPDATE history_day_tracks SET tracks = '\\xff'::bytea;
             UPDATE history_days SET slots = '\\xff'::bytea"
        }
    };
    store.execute_ddl(damage_everything).await.unwrap();
    // Still right: answered from the plays while the summaries cannot be read, then from
    // summaries rebuilt...
    for _ in 0..2 {
        assert_eq!(
            top_artists(&analytics, &scope).await,
            pairs(&[("Alpha", 1), ("Beta", 1)])
        );
    }
    // ...and kept up to date with the next change.
    write(store, ann, &[heard("2024-05-03T08:00:00Z", "Beta", "Two")]).await;
    assert_eq!(
        top_artists(&analytics, &scope).await,
        pairs(&[("Beta", 2), ("Alpha", 1)])
    );

    // A damaged day alone (the totals readable) is found by a question about part of the
    // history, which is answered from the plays and has every summary rebuilt.
    damage(store, "history_day_tracks").await;
    for _ in 0..2 {
        assert_eq!(
            top_artists_between(&analytics, &scope, "2024-05-02", "2024-05-31").await,
            pairs(&[("Beta", 2)])
        );
    }
    assert_rebuilt(store, "history_day_tracks").await;
    write(store, ann, &[heard("2024-05-04T08:00:00Z", "Beta", "Two")]).await;
    assert_eq!(
        top_artists(&analytics, &scope).await,
        pairs(&[("Beta", 3), ("Alpha", 1)])
    );

    // So is a damaged block of days, by a question about a stretch that holds it whole
    // (and is not the whole history, which is read from the totals).
    write(
        store,
        ann,
        &[heard("2024-07-15T08:00:00Z", "Gamma", "Three")],
    )
    .await;
    damage(store, "history_block_tracks").await;
    for _ in 0..2 {
        assert_eq!(
            top_artists_between(&analytics, &scope, "2024-04-01", "2024-06-30").await,
            pairs(&[("Beta", 3), ("Alpha", 1)])
        );
    }
    assert_rebuilt(store, "history_block_tracks").await;
});

/// Makes every track summary in `table` unreadable (a single byte of no known format).
async fn damage(store: &Store, table: &str) {
    let value = match store.backend() {
        BackendKind::Sqlite => "X'FF'",
        BackendKind::Postgres => "'\\xff'::bytea",
    };
    store
        .execute_ddl(&format!("UPDATE {table} SET tracks = {value}"))
        .await
        .unwrap();
}

/// Fails unless every track summary in `table` is readable again (none is a single byte).
async fn assert_rebuilt(store: &Store, table: &str) {
    let check = match store.backend() {
        BackendKind::Sqlite => format!(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM {table} WHERE length(tracks) < 2)
             THEN json('damaged summaries remain') END"
        ),
        BackendKind::Postgres => format!(
            "DO $$ BEGIN
                 IF EXISTS (SELECT 1 FROM {table} WHERE length(tracks) < 2) THEN
                     RAISE EXCEPTION 'damaged summaries remain';
                 END IF;
             END $$"
        ),
    };
    store
        .execute_ddl(&check)
        .await
        .unwrap_or_else(|e| panic!("the damaged summaries in {table} were rebuilt: {e}"));
}
