//! Several collectors on one database: users and import jobs are leased, so no user is
//! polled by two collectors at once, a live lease is respected, and the lease of a collector
//! that died runs out and is taken over — with nothing collected twice.

use super::*;
use spotify_history_store::NewImportJob;
use spotify_history_testkit::fake_spotify::Failure;
use spotify_history_testkit::store_test;

/// No two runs of one user overlap in time.
fn assert_runs_never_overlap(runs: &[JobRunRow]) {
    let mut spans: Vec<(i64, i64)> = runs
        .iter()
        .map(|r| (r.started_at, r.finished_at.expect("every run finished")))
        .collect();
    spans.sort_unstable();
    for pair in spans.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "two runs of one user overlapped: {pair:?} in {runs:#?}"
        );
    }
}

store_test!(
    two_collectors_share_users_without_polling_one_at_once,
    |db| {
        let h = Harness::new(db).await;
        let mut listeners = Vec::new();
        for name in ["ann", "bob", "cid", "dee"] {
            let (fake, user) = h.listener(name).await;
            h.listen(&fake, 1, 3, 9);
            listeners.push((fake, user));
        }
        let a = h.collector(|_| {});
        let b = h.collector(|_| {});
        assert_ne!(a.config().owner, b.config().owner);

        let mut contended = 0;
        for round in 0..4 {
            // Slow answers keep each lease held long enough for the other collector to meet it.
            h.spotify
                .fail_next(Failure::Slow(Duration::from_millis(60)), 8);
            let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
            let (ra, rb) = (ra.unwrap(), rb.unwrap());
            contended += ra.leased_elsewhere.len() + rb.leased_elsewhere.len();
            assert_eq!(
                ra.failures().count() + rb.failures().count(),
                0,
                "round {round}: {:#?}",
                ra.failures().chain(rb.failures()).collect::<Vec<_>>()
            );
            if round == 0 {
                let syncs = ra.initial_syncs.len() + rb.initial_syncs.len();
                assert_eq!(syncs, 4, "each user synced once, by one of them");
            }
            h.advance_hours(1);
        }
        let finish = cycle(&a).await;
        assert_eq!(finish.failures().count(), 0);

        for (fake, user) in &listeners {
            assert_eq!(h.stored(*user).await, h.played(fake), "user {user}");
            let runs = h.job_runs(*user).await;
            assert_eq!(
                runs.iter().filter(|r| r.kind == "initial_sync").count(),
                1,
                "{runs:#?}"
            );
            assert_runs_never_overlap(&runs);
        }
        assert!(contended > 0, "the collectors met each other's leases");
    }
);

store_test!(
    with_poll_spacing_two_collectors_split_the_polls_between_them,
    |db| {
        let h = Harness::new(db).await;
        let mut users = Vec::new();
        for name in ["ann", "bob", "cid"] {
            let (fake, user) = h.listener(name).await;
            h.listen(&fake, 1, 1, 9);
            users.push(user);
        }
        let spacing = Duration::from_millis(1500);
        let spaced = |c: &mut CollectorConfig| c.poll_spacing = spacing;
        let a = h.collector(spaced);
        let b = h.collector(spaced);
        let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
        assert_eq!(
            ra.unwrap().initial_syncs.len() + rb.unwrap().initial_syncs.len(),
            3
        );
        // An initial sync counts as a poll: the next one is due a spacing later.
        let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
        assert_eq!(ra.unwrap().polls.len() + rb.unwrap().polls.len(), 0);
        tokio::time::sleep(spacing + Duration::from_millis(100)).await;
        h.advance_hours(1);
        let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let mut polled: Vec<UserId> = ra
            .polls
            .iter()
            .chain(&rb.polls)
            .filter_map(|p| p.user)
            .collect();
        polled.sort();
        assert_eq!(polled, users, "every user polled once in all");
        // A third collector right after finds everyone freshly polled.
        let c = h.collector(spaced);
        let rc = cycle(&c).await;
        assert!(rc.polls.is_empty());
        let mut fresh = rc.recently_polled.clone();
        fresh.sort();
        assert_eq!(fresh, users);
    }
);

store_test!(
    a_live_lease_is_respected_and_a_dead_collectors_lease_is_taken_over,
    |db| {
        let h = Harness::new(db).await;
        let (ann, ann_id) = h.listener("ann").await;
        let (bob, bob_id) = h.listener("bob").await;
        h.listen(&ann, 1, 1, 8);
        h.listen(&bob, 1, 1, 8);
        let collector = h.collector(|_| {});
        cycle(&collector).await;
        h.advance_hours(1);

        let store = h.store();
        let live = store
            .lease_user(bob_id, "collector-still-working", Duration::from_secs(600))
            .await
            .unwrap();
        assert!(live.is_some());
        let dead = store
            .lease_user(ann_id, "collector-that-died", Duration::from_millis(1))
            .await
            .unwrap();
        assert!(dead.is_some());
        tokio::time::sleep(Duration::from_millis(20)).await;

        let report = cycle(&collector).await;
        assert_eq!(report.leased_elsewhere, [bob_id]);
        assert!(outcome_of(&report, JobKind::Poll, ann_id).succeeded());
        assert_eq!(h.stored(ann_id).await, h.played(&ann));
        assert!(
            h.stored(bob_id).await.len() < h.played(&bob).len(),
            "bob waits for his lease"
        );
        let bob_status = store.sync_status(bob_id).await.unwrap();
        assert_eq!(
            bob_status.lease_owner.as_deref(),
            Some("collector-still-working")
        );

        store
            .release_user(bob_id, "collector-still-working")
            .await
            .unwrap();
        cycle(&collector).await;
        assert_eq!(h.stored(bob_id).await, h.played(&bob));
    }
);

store_test!(
    a_collector_killed_mid_poll_is_taken_over_without_duplicates,
    |db| {
        let h = Harness::new(db).await;
        let (ann, user) = h.listener("ann").await;
        h.listen(&ann, 1, 2, 7);
        let lease = Duration::from_millis(300);
        let doomed = h.collector(|c| c.lease = lease);
        cycle(&doomed).await;
        h.advance_hours(1);

        // The poll's answer is slow; the process "dies" while waiting for it.
        h.spotify
            .fail_next(Failure::Slow(Duration::from_millis(500)), 1);
        let killed = tokio::time::timeout(Duration::from_millis(150), doomed.run_once()).await;
        assert!(killed.is_err(), "the cycle was cut off mid-poll");
        let held = h.store().sync_status(user).await.unwrap();
        assert_eq!(
            held.lease_owner.as_deref(),
            Some(doomed.config().owner.as_str())
        );

        let successor = h.collector(|_| {});
        let early = cycle(&successor).await;
        assert_eq!(early.leased_elsewhere, [user], "the lease is still live");
        tokio::time::sleep(lease).await;
        let report = cycle(&successor).await;
        assert!(outcome_of(&report, JobKind::Poll, user).succeeded());
        h.advance_hours(1);
        cycle(&successor).await;
        assert_eq!(
            h.stored(user).await,
            h.played(&ann),
            "complete, no duplicates"
        );
        let runs = h.job_runs(user).await;
        assert_eq!(
            kinds_and_statuses(&runs),
            [
                succeeded(JobKind::InitialSync),
                failed(JobKind::Poll),
                succeeded(JobKind::Poll),
                succeeded(JobKind::Poll)
            ]
        );
        assert_eq!(
            runs[1].error.as_deref(),
            Some(spotify_history_store::ABANDONED_RUN_ERROR)
        );
    }
);

store_test!(an_import_job_of_a_dead_collector_is_resumed, |db| {
    let store = &db.store;
    let user = store.create_user("ann", None).await.unwrap().id;
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("export.zip");
    let export = spotify_history_import::synthetic::SyntheticExport::generate(
        spotify_history_import::synthetic::SyntheticConfig {
            plays: 400,
            seed: 3,
            account_data: false,
            ..Default::default()
        },
    );
    export.write_zip(&zip).unwrap();
    let job = store
        .create_import_job(&NewImportJob {
            user,
            file_name: "export.zip",
            file_path: &zip.to_string_lossy(),
            size_bytes: 1,
        })
        .await
        .unwrap();
    let lease = Duration::from_millis(300);
    let claimed = store
        .claim_import_job("collector-that-died", lease)
        .await
        .unwrap()
        .expect("the pending job");
    assert_eq!((claimed.id, claimed.resumed), (job, false));
    let live = store
        .claim_import_job("another", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        live, None,
        "a running job under a live lease is not claimable"
    );
    tokio::time::sleep(lease).await;

    let collector = Collector::new(store.clone(), None, CollectorConfig::default());
    let report = cycle(&collector).await;
    assert_eq!(report.imports.len(), 1);
    assert!(report.imports[0].succeeded());
    let run = store
        .latest_job_runs(Some(user), 1)
        .await
        .unwrap()
        .remove(0);
    let details: serde_json::Value = serde_json::from_str(run.details.as_deref().unwrap()).unwrap();
    assert_eq!(details["resumed"], true);
    let jobs = store.latest_import_jobs(Some(user), 10).await.unwrap();
    assert_eq!(jobs[0].status, "succeeded");
    assert_eq!(jobs[0].inserted as u64, export.ground_truth().listens);
});
