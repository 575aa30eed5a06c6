//! Polling with the `after` cursor across cycles, and the coverage gap of a full page.

use super::*;
use spotify_history_collector::{FULL_PAGE_GAP_REASON, POLL_OVERLAP_MS};
use spotify_history_core::Source;
use spotify_history_testkit::store_test;

store_test!(
    polling_across_cycles_collects_every_play_exactly_once,
    |db| {
        let h = Harness::new(db).await;
        let (ann, user) = h.listener("ann").await;
        // An hour of history, then five more hours of listening as the clock moves.
        h.listen(&ann, 1, 5, 7);
        let collector = h.collector(|_| {});

        let first = cycle(&collector).await;
        assert_eq!(first.initial_syncs.len(), 1, "{first:#?}");
        assert!(first.polls.is_empty(), "a new user is synced, not polled");
        assert_eq!(h.stored(user).await, h.played(&ann));

        for hour in 1..=5 {
            h.advance_hours(1);
            let report = cycle(&collector).await;
            let poll = outcome_of(&report, JobKind::Poll, user);
            assert!(poll.succeeded(), "hour {hour}: {poll:#?}");
            assert!(
                (8..=9).contains(&poll.inserted),
                "hour {hour}: an hour at one play per 7 minutes, got {}",
                poll.inserted
            );
            assert_eq!(h.stored(user).await, h.played(&ann), "after hour {hour}");
        }
        // A cycle with nothing new sees again only the overlap (the newest play, within
        // POLL_OVERLAP_MS) and stores nothing.
        let idle = cycle(&collector).await;
        let poll = outcome_of(&idle, JobKind::Poll, user);
        assert_eq!((poll.fetched, poll.inserted), (1, 0));

        let played = h.played(&ann);
        assert_eq!(played.len(), 52, "6 hours at one play per 7 minutes");
        assert_eq!(h.stored(user).await, played, "every play once, none lost");
        let after = h.spotify.requests_to(RECENTLY_PLAYED);
        assert_eq!(
            after.last().and_then(|r| r.query_param("after")),
            Some((played.last().unwrap().0 - POLL_OVERLAP_MS).to_string()),
            "polls ask from a little before the newest play stored"
        );

        let listens = h.store().stored_listens(user).await.unwrap();
        assert!(
            listens
                .iter()
                .all(|l| l.ms_played_estimated && l.ms_played.is_some())
        );
        assert!(
            listens
                .iter()
                .skip(1)
                .all(|l| l.ms_played <= Some(7 * 60_000 + 1_000)),
            "each estimate is bounded by the time since the previous play"
        );
        assert_eq!(listens[0].source, Source::InitialSync.bit());
        assert_eq!(listens.last().unwrap().source, Source::RecentlyPlayed.bit());

        let mut expected_runs = vec![succeeded(JobKind::InitialSync)];
        expected_runs.extend(std::iter::repeat_n(succeeded(JobKind::Poll), 6));
        assert_eq!(kinds_and_statuses(&h.job_runs(user).await), expected_runs);
        let status = h.store().sync_status(user).await.unwrap();
        assert_eq!(status.initial_sync_done, Some(true));
        assert_eq!(status.newest_played_at, Some(played.last().unwrap().0));
        assert_eq!(status.consecutive_failures, Some(0));
        assert_eq!(status.lease_owner, None, "the lease is given back");
        assert!(h.gaps(user).await.is_empty(), "no poll saw a full page");
    }
);

store_test!(a_full_page_between_polls_records_a_coverage_gap, |db| {
    let h = Harness::new(db).await;
    let (ann, user) = h.listener("ann").await;
    h.listen(&ann, 1, 0, 6);
    let collector = h.collector(|_| {});
    cycle(&collector).await;
    let synced = h.stored(user).await;
    assert_eq!(synced.len(), 10);
    let newest_before = synced.last().unwrap().0;

    // Four hours of plays every 3 minutes: 80 plays, of which Spotify shows the latest 50.
    let now = h.spotify.now();
    h.spotify.simulate_listening(
        &ann,
        now,
        now + SignedDuration::from_hours(4),
        SignedDuration::from_mins(3),
    );
    h.advance_hours(4);
    let report = cycle(&collector).await;
    let poll = outcome_of(&report, JobKind::Poll, user);
    assert_eq!((poll.fetched, poll.inserted), (50, 50));

    let played = h.played(&ann);
    let visible = &played[played.len() - 50..];
    let stored = h.stored(user).await;
    assert_eq!(stored.len(), 60);
    assert_eq!(&stored[10..], visible);

    let gaps = h.gaps(user).await;
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0].starts_at, newest_before);
    assert_eq!(gaps[0].ends_at, visible[0].0);
    assert_eq!(gaps[0].reason, FULL_PAGE_GAP_REASON);
    let missing = played
        .iter()
        .filter(|(t, _)| *t > gaps[0].starts_at && *t < gaps[0].ends_at)
        .count();
    assert_eq!(
        missing, 30,
        "the gap spans exactly the plays Spotify no longer shows"
    );
    let run = h.job_runs(user).await.pop().unwrap();
    let details: serde_json::Value = serde_json::from_str(run.details.as_deref().unwrap()).unwrap();
    assert_eq!(details["gap"]["from"], newest_before);

    // The next poll, with fewer plays, records no further gap.
    h.listen(&ann, 0, 1, 10);
    h.advance_hours(1);
    cycle(&collector).await;
    assert_eq!(h.gaps(user).await.len(), 1);
    assert_eq!(h.stored(user).await.len(), 66);
});
