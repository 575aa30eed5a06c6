//! Initial sync: backward paging with `before`, and each of its stop rules.

use super::*;
use spotify_history_testkit::store_test;

/// The stop reason and request count a user's initial sync run recorded.
async fn sync_details(h: &Harness, user: UserId) -> (String, u64) {
    let runs = h.job_runs(user).await;
    let run = runs
        .iter()
        .find(|r| r.kind == JobKind::InitialSync.as_str())
        .expect("an initial sync run");
    assert_eq!(run.status, "succeeded", "{run:?}");
    let details: serde_json::Value =
        serde_json::from_str(run.details.as_deref().expect("details")).unwrap();
    (
        details["stop_reason"].as_str().unwrap().to_owned(),
        details["requests"].as_u64().unwrap(),
    )
}

store_test!(initial_sync_pages_back_until_an_empty_page, |db| {
    let h = Harness::new(db).await;
    let (ann, user) = h.listener("ann").await;
    // 80 plays, of which Spotify shows the latest 50.
    h.listen(&ann, 8, 0, 6);
    assert_eq!(h.played(&ann).len(), 80);
    let collector = h.collector(|c| c.initial_sync.page_size = 20);

    let report = cycle(&collector).await;
    let sync = outcome_of(&report, JobKind::InitialSync, user);
    assert_eq!((sync.fetched, sync.inserted), (50, 50));
    assert_eq!(sync_details(&h, user).await, ("empty_page".to_owned(), 4));

    let requests = h.spotify.requests_to(RECENTLY_PLAYED);
    assert_eq!(requests.len(), 4, "20 + 20 + 10 + an empty page");
    assert_eq!(requests[0].query_param("before"), None);
    let played = h.played(&ann);
    let latest_50 = &played[30..];
    assert_eq!(
        requests[1].query_param("before"),
        Some(latest_50[30].0.to_string()),
        "the second page ends before the oldest play of the first"
    );
    assert_eq!(h.stored(user).await, latest_50);
    assert_eq!(
        h.store().sync_status(user).await.unwrap().initial_sync_done,
        Some(true)
    );

    // Done once: the next cycle polls.
    let next = cycle(&collector).await;
    assert!(next.initial_syncs.is_empty());
    assert_eq!(next.polls.len(), 1);
});

store_test!(initial_sync_stops_at_the_request_cap, |db| {
    let h = Harness::new(db).await;
    let (ann, user) = h.listener("ann").await;
    h.listen(&ann, 5, 0, 6);
    let collector = h.collector(|c| {
        c.initial_sync.page_size = 20;
        c.initial_sync.max_requests = 2;
    });
    let report = cycle(&collector).await;
    assert_eq!(outcome_of(&report, JobKind::InitialSync, user).inserted, 40);
    assert_eq!(sync_details(&h, user).await, ("max_requests".to_owned(), 2));
    assert_eq!(h.spotify.requests_to(RECENTLY_PLAYED).len(), 2);
    let played = h.played(&ann);
    assert_eq!(h.stored(user).await, played[played.len() - 40..]);
});

store_test!(initial_sync_stops_at_the_day_limit, |db| {
    let h = Harness::new(db).await;
    let (ann, user) = h.listener("ann").await;
    // One play every two hours for four days: a page of 20 reaches 40 hours back.
    h.listen(&ann, 96, 0, 120);
    let collector = h.collector(|c| {
        c.initial_sync.page_size = 20;
        c.initial_sync.max_days = 1;
    });
    let report = cycle(&collector).await;
    assert_eq!(outcome_of(&report, JobKind::InitialSync, user).inserted, 20);
    assert_eq!(sync_details(&h, user).await, ("max_days".to_owned(), 1));
    assert_eq!(h.spotify.requests_to(RECENTLY_PLAYED).len(), 1);
});

store_test!(
    initial_sync_can_be_switched_off_and_users_are_polled_instead,
    |db| {
        let h = Harness::new(db).await;
        let (ann, user) = h.listener("ann").await;
        h.listen(&ann, 1, 0, 6);
        let collector = h.collector(|c| c.initial_sync.enabled = false);
        let report = cycle(&collector).await;
        assert!(report.initial_syncs.is_empty());
        assert_eq!(outcome_of(&report, JobKind::Poll, user).inserted, 10);
        assert_eq!(h.stored(user).await, h.played(&ann));
        assert_eq!(
            h.store().sync_status(user).await.unwrap().initial_sync_done,
            Some(false)
        );
    }
);
