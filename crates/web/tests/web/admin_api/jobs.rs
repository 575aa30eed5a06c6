//! `GET /admin/jobs`: job runs, newest first, filtered by kind, user and status, paged.

use super::{Admin, Mode};
use axum::http::StatusCode;
use spotify_history_store::{FinishedRun, JobKind, RunStatus};
use spotify_history_testkit::store_test;

store_test!(job_runs_filter_by_kind_user_and_status, |db| {
    let admin = Admin::new(&db.store, Mode::Token);
    let ann = db.store.create_user("ann", None).await.unwrap().id;
    let bob = db.store.create_user("bob", None).await.unwrap().id;
    let finish = |status, error| FinishedRun {
        status,
        items_fetched: 50,
        items_inserted: 20,
        error,
        details: None,
    };
    let poll_ann = db
        .store
        .start_job_run(JobKind::Poll, Some(ann))
        .await
        .unwrap();
    db.store
        .finish_job_run(poll_ann, &finish(RunStatus::Succeeded, None))
        .await
        .unwrap();
    let poll_bob = db
        .store
        .start_job_run(JobKind::Poll, Some(bob))
        .await
        .unwrap();
    db.store
        .finish_job_run(
            poll_bob,
            &finish(RunStatus::Failed, Some("Spotify answered 502")),
        )
        .await
        .unwrap();
    let sync_ann = db
        .store
        .start_job_run(JobKind::InitialSync, Some(ann))
        .await
        .unwrap();
    let _running = db
        .store
        .start_job_run(JobKind::Import, Some(bob))
        .await
        .unwrap();

    let all = admin.get("/admin/jobs").await;
    let body = all.expect(StatusCode::OK);
    assert_eq!(body["total"], 4);
    assert_eq!(body["runs"].as_array().unwrap().len(), 4);

    let polls = admin.get("/admin/jobs?kind=poll").await;
    let body = polls.expect(StatusCode::OK);
    assert_eq!(body["total"], 2);
    assert!(
        body["runs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["kind"] == "poll")
    );

    let failed = admin
        .get(&format!("/admin/jobs?user_id={bob}&status=failed"))
        .await;
    let body = failed.expect(StatusCode::OK);
    assert_eq!(body["total"], 1);
    assert_eq!(body["runs"][0]["id"], poll_bob.0);
    assert_eq!(body["runs"][0]["error"], "Spotify answered 502");
    assert_eq!(body["runs"][0]["user"], "bob");
    assert_eq!(body["runs"][0]["items_fetched"], 50);

    let seed_style = admin
        .get(&format!("/admin/jobs?type=initial_sync&user_id={ann}"))
        .await;
    let body = seed_style.expect(StatusCode::OK);
    assert_eq!(body["total"], 1);
    assert_eq!(body["runs"][0]["id"], sync_ann.0);
    assert_eq!(body["runs"][0]["status"], "running");

    let page = admin.get("/admin/jobs?limit=3&offset=3").await;
    let body = page.expect(StatusCode::OK);
    assert_eq!(body["total"], 4);
    assert_eq!(body["runs"].as_array().unwrap().len(), 1);
    assert_eq!(
        (body["limit"].as_u64(), body["offset"].as_u64()),
        (Some(3), Some(3))
    );

    let bad_kind = admin.get("/admin/jobs?kind=backup").await;
    bad_kind.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_kind.message().starts_with("kind:"),
        "{}",
        bad_kind.message()
    );
    let bad_status = admin.get("/admin/jobs?status=done").await;
    bad_status.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_status.message().starts_with("status:"));
    admin
        .get("/admin/jobs?user_id=x")
        .await
        .expect(StatusCode::BAD_REQUEST);
    admin
        .get("/admin/jobs?colour=red")
        .await
        .expect(StatusCode::BAD_REQUEST);
    admin
        .get("/admin/jobs?limit=501")
        .await
        .expect(StatusCode::BAD_REQUEST);
});
