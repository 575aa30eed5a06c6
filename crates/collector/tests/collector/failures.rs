//! Failures of one user or of Spotify: recorded as failed job runs, never stopping the
//! others; a 429 pauses every Spotify call until its Retry-After has passed.

use super::*;
use spotify_history_testkit::fake_spotify::Failure;
use spotify_history_testkit::store_test;

/// Two synced listeners with an hour of new plays waiting.
async fn two_listeners(h: &Harness) -> [(FakeUser, UserId); 2] {
    let ann = h.listener("ann").await;
    let bob = h.listener("bob").await;
    for (fake, _) in [&ann, &bob] {
        h.listen(fake, 1, 1, 8);
    }
    [ann, bob]
}

store_test!(
    a_429_pauses_all_spotify_calls_until_retry_after_has_passed,
    |db| {
        let h = Harness::new(db).await;
        let [(ann, ann_id), (bob, bob_id)] = two_listeners(&h).await;
        let collector = h.collector(|_| {});
        let synced = cycle(&collector).await;
        assert_eq!(synced.initial_syncs.len(), 2);
        h.advance_hours(1);
        h.spotify.clear_requests();

        h.spotify.fail_next(
            Failure::RateLimited {
                retry_after_secs: Some(2),
            },
            1,
        );
        let limited = cycle(&collector).await;
        let until = limited.rate_limited_until.expect("the cycle saw the 429");
        assert_eq!(
            limited.polls.len(),
            1,
            "the first poll met the 429, the second never ran"
        );
        let failed_poll = &limited.polls[0];
        assert!(!failed_poll.succeeded());
        assert!(
            failed_poll.error.as_deref().unwrap().contains("rate limit"),
            "{failed_poll:?}"
        );
        assert_eq!(h.spotify.requests_to(RECENTLY_PLAYED).len(), 1);
        assert_eq!(
            h.access.not_before().await.unwrap(),
            Some(until),
            "persisted for every process"
        );

        // Until Retry-After has passed, a cycle makes no call at all, and writes no run.
        let waiting = cycle(&collector).await;
        assert_eq!(waiting.rate_limited_until, Some(until));
        assert_eq!(waiting.outcomes().count(), 0);
        assert_eq!(h.spotify.requests_to(RECENTLY_PLAYED).len(), 1);

        let left = until.duration_since(jiff::Timestamp::now());
        tokio::time::sleep(
            Duration::try_from(left).unwrap_or_default() + Duration::from_millis(100),
        )
        .await;
        let resumed = cycle(&collector).await;
        assert_eq!(resumed.rate_limited_until, None);
        assert_eq!(resumed.polls.iter().filter(|p| p.succeeded()).count(), 2);
        assert_eq!(h.stored(ann_id).await, h.played(&ann), "nothing lost");
        assert_eq!(h.stored(bob_id).await, h.played(&bob), "nothing lost");
        let failed_user = failed_poll.user.unwrap();
        let status = h.store().sync_status(failed_user).await.unwrap();
        assert_eq!(
            status.consecutive_failures,
            Some(0),
            "a 429 is not the user's failure"
        );
    }
);

store_test!(
    invalid_grant_marks_the_user_for_reauth_and_others_are_still_collected,
    |db| {
        let h = Harness::new(db).await;
        let [(ann, ann_id), (bob, bob_id)] = two_listeners(&h).await;
        let collector = h.collector(|_| {});
        cycle(&collector).await;
        h.advance_hours(1);
        // Six months after ann signed in: her refresh token is dead, her access token expired.
        h.spotify.expire_refresh_token(&ann);
        h.spotify.expire_access_tokens(&ann);

        let report = cycle(&collector).await;
        let ann_poll = outcome_of(&report, JobKind::Poll, ann_id);
        assert!(!ann_poll.succeeded());
        assert!(
            ann_poll
                .error
                .as_deref()
                .unwrap()
                .contains("sign in with Spotify again"),
            "{ann_poll:?}"
        );
        assert!(outcome_of(&report, JobKind::Poll, bob_id).succeeded());
        assert_eq!(h.stored(bob_id).await, h.played(&bob));

        let status = h.store().sync_status(ann_id).await.unwrap();
        assert!(status.needs_reauth, "visible on the user");
        assert!(status.last_error.as_deref().unwrap().contains("sign in"));
        let kept = h.stored(ann_id).await;
        assert!(!kept.is_empty(), "her data stays");

        // Skipped from now on (no run, no call), while bob goes on.
        h.advance_hours(1);
        h.spotify.clear_requests();
        let next = cycle(&collector).await;
        assert!(next.outcomes().all(|o| o.user == Some(bob_id)), "{next:#?}");
        assert_eq!(h.stored(bob_id).await, h.played(&bob));
        assert_eq!(h.stored(ann_id).await, kept);
        let asked_for: Vec<_> = h
            .spotify
            .requests_to(RECENTLY_PLAYED)
            .into_iter()
            .filter_map(|r| r.user)
            .collect();
        assert!(
            asked_for.iter().all(|u| u == "bob") && !asked_for.is_empty(),
            "{asked_for:?}"
        );
        assert_eq!(
            kinds_and_statuses(&h.job_runs(ann_id).await),
            [succeeded(JobKind::InitialSync), failed(JobKind::Poll)]
        );
        assert!(
            h.stored(ann_id).await.len() < h.played(&ann).len(),
            "her new plays wait for her"
        );
    }
);

store_test!(
    not_registered_and_server_errors_fail_one_user_each_and_are_recorded,
    |db| {
        let h = Harness::new(db).await;
        let [(ann, ann_id), (bob, bob_id)] = two_listeners(&h).await;
        let (cid, cid_id) = h.listener("cid").await;
        h.listen(&cid, 1, 1, 8);
        let collector = h.collector(|_| {});
        cycle(&collector).await;
        h.advance_hours(1);

        h.spotify.set_registered(&ann, false);
        h.spotify.fail_next_for(&bob, Failure::ServerError(503), 1);
        let report = cycle(&collector).await;
        let ann_poll = outcome_of(&report, JobKind::Poll, ann_id);
        assert!(
            ann_poll
                .error
                .as_deref()
                .unwrap()
                .contains("User not registered"),
            "{ann_poll:?}"
        );
        let bob_poll = outcome_of(&report, JobKind::Poll, bob_id);
        assert!(
            bob_poll.error.as_deref().unwrap().contains("503"),
            "{bob_poll:?}"
        );
        assert!(outcome_of(&report, JobKind::Poll, cid_id).succeeded());
        assert_eq!(h.stored(cid_id).await, h.played(&cid));
        for user in [ann_id, bob_id] {
            let runs = h.job_runs(user).await;
            let last = runs.last().unwrap();
            assert_eq!(
                (last.kind.as_str(), last.status.as_str()),
                ("poll", "failed")
            );
            assert_eq!(
                last.error,
                report
                    .polls
                    .iter()
                    .find(|p| p.user == Some(user))
                    .unwrap()
                    .error
            );
            let status = h.store().sync_status(user).await.unwrap();
            assert_eq!(status.consecutive_failures, Some(1));
            assert_eq!(status.last_error, last.error);
        }

        // Once the causes are gone, the next cycle catches up: nothing was lost.
        h.spotify.set_registered(&ann, true);
        let recovered = cycle(&collector).await;
        assert_eq!(recovered.failures().count(), 0, "{recovered:#?}");
        assert_eq!(h.stored(ann_id).await, h.played(&ann));
        assert_eq!(h.stored(bob_id).await, h.played(&bob));
        assert_eq!(
            h.store()
                .sync_status(ann_id)
                .await
                .unwrap()
                .consecutive_failures,
            Some(0)
        );
    }
);

store_test!(
    an_expired_access_token_is_refreshed_and_paused_users_are_left_alone,
    |db| {
        let h = Harness::new(db).await;
        let [(ann, ann_id), (bob, bob_id)] = two_listeners(&h).await;
        let collector = h.collector(|_| {});
        cycle(&collector).await;
        h.store().set_sync_paused(bob_id, true).await.unwrap();
        h.advance_hours(1);
        h.spotify
            .fail_next_for(&ann, Failure::ExpiredAccessToken, 1);
        let report = cycle(&collector).await;
        assert_eq!(report.polls.len(), 1, "bob is paused");
        assert!(outcome_of(&report, JobKind::Poll, ann_id).succeeded());
        assert_eq!(h.stored(ann_id).await, h.played(&ann));
        assert!(h.stored(bob_id).await.len() < h.played(&bob).len());
    }
);
