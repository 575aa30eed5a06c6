//! `/admin/imports`: uploads stream to disk and become pending import jobs; the limits hold
//! and leave nothing behind; import jobs list and show their reports.

use super::{Admin, Answer, Call, Credential, Mode};
use axum::body::{Body, Bytes};
use axum::http::{Method, StatusCode, header};
use serde_json::json;
use spotify_history_core::{ImportJobId, UserId};
use spotify_history_import::synthetic::{SyntheticConfig, SyntheticExport};
use spotify_history_store::{FinishedImportJob, ImportJobCounts, RunStatus};
use spotify_history_testkit::store_test;
use std::time::Duration;

/// A generated export as ZIP bytes.
pub(crate) fn export_zip(seed: u64) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("my_spotify_data.zip");
    SyntheticExport::generate(SyntheticConfig {
        plays: 400,
        seed,
        account_data: false,
        start_year: 2021,
        years: 1,
        ..SyntheticConfig::default()
    })
    .write_zip(&zip)
    .unwrap();
    std::fs::read(zip).unwrap()
}

/// Uploads a generated export for `user` as the raw body.
pub(crate) async fn upload_export(admin: &Admin, user: UserId, seed: u64) -> Answer {
    let call = Call::new(
        Method::POST,
        &format!("/admin/imports/upload?user_id={user}"),
    )
    .credential(admin.credential())
    .body("application/zip", Body::from(export_zip(seed)));
    admin.send(call).await
}

/// A body that arrives in `chunk`-sized pieces without a Content-Length, as a browser
/// streaming a large file might send it.
fn streamed(bytes: Vec<u8>, chunk: usize) -> Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Body::from_stream(futures::stream::iter(chunks))
}

/// A multipart/form-data body with the file in the field `file`.
fn multipart(file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----admin-api-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/zip\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

store_test!(
    an_uploaded_export_becomes_a_pending_job_with_its_bytes_on_disk,
    |db| {
        let admin = Admin::new(&db.store, Mode::Token);
        let ann = db.store.create_user("ann", None).await.unwrap().id;
        let zip = export_zip(11);

        // The raw body, arriving in pieces.
        let call = Call::new(
            Method::POST,
            &format!("/admin/imports/upload?user_id={ann}&file_name=my_spotify_data.zip"),
        )
        .credential(admin.credential())
        .body("application/zip", streamed(zip.clone(), 8 * 1024));
        let answer = admin.send(call).await;
        let body = answer.expect(StatusCode::ACCEPTED).clone();
        let id = body["import"]["id"].as_i64().unwrap();
        assert_eq!(
            answer.headers[header::LOCATION],
            format!("/admin/imports/{id}")
        );
        assert_eq!(body["import"]["status"], "pending");
        assert_eq!(body["import"]["user_id"], ann.0);
        assert_eq!(body["import"]["file_name"], "my_spotify_data.zip");
        assert_eq!(body["import"]["size_bytes"], zip.len() as i64);

        // The collector's view: a claimable job whose file holds exactly the uploaded bytes.
        let claimed = db
            .store
            .claim_import_job("test-collector", Duration::from_secs(60))
            .await
            .unwrap()
            .expect("a pending job");
        assert_eq!(claimed.id, ImportJobId(id));
        assert_eq!(claimed.user, ann);
        let path = std::path::PathBuf::from(claimed.file_path.unwrap());
        assert!(path.is_absolute(), "{}", path.display());
        assert!(path.starts_with(admin.upload_dir().canonicalize().unwrap()));
        assert_eq!(std::fs::read(&path).unwrap(), zip);
        assert_eq!(
            admin.uploaded_files(),
            vec![path.clone()],
            "no partial files left"
        );

        // Multipart, as a form sends it, from a browser session with the CSRF token in the query.
        let (cookie, csrf) = admin.session();
        let (content_type, form) = multipart("C:\\Downloads\\export two.zip", &zip);
        let call = Call::new(
            Method::POST,
            &format!("/admin/imports/upload?user_id={ann}&csrf={csrf}"),
        )
        .credential(Credential::Cookie(cookie.clone()))
        .body(&content_type, Body::from(form.clone()));
        let answer = admin.send(call).await;
        let second = answer.expect(StatusCode::ACCEPTED)["import"].clone();
        assert_eq!(second["file_name"], "export two.zip");
        assert_eq!(second["size_bytes"], zip.len() as i64);
        assert_eq!(admin.uploaded_files().len(), 2);
        for file in admin.uploaded_files() {
            assert_eq!(std::fs::read(file).unwrap(), zip);
        }
        // The same form without the CSRF token changes nothing.
        let call = Call::new(
            Method::POST,
            &format!("/admin/imports/upload?user_id={ann}"),
        )
        .credential(Credential::Cookie(cookie))
        .body(&content_type, Body::from(form));
        admin.send(call).await.expect(StatusCode::FORBIDDEN);
        assert_eq!(admin.uploaded_files().len(), 2);

        let list = admin.get("/admin/imports").await;
        let body = list.expect(StatusCode::OK);
        assert_eq!(body["total"], 2);
        assert_eq!(body["imports"][0]["id"], second["id"], "newest first");
        let pending = admin.get("/admin/imports?status=pending").await;
        assert_eq!(pending.expect(StatusCode::OK)["total"], 1);
    }
);

store_test!(
    uploads_over_the_limit_or_not_zip_are_refused_and_leave_nothing,
    |db| {
        let admin = Admin::new(&db.store, Mode::Basic).with_max_upload(8 * 1024);
        let ann = db.store.create_user("ann", None).await.unwrap().id;
        let zip = export_zip(12);
        assert!(
            zip.len() > 8 * 1024,
            "the export must be over the tiny limit"
        );
        let path = format!("/admin/imports/upload?user_id={ann}");

        // Declared too large: refused before reading.
        let declared = Call::new(Method::POST, &path)
            .credential(admin.credential())
            .body("application/zip", Body::from(zip.clone()));
        let answer = admin.send(declared).await;
        answer.expect(StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            answer.message().contains("IMPORT_MAX_ZIP_SIZE_MB"),
            "{}",
            answer.message()
        );

        // Streamed without a length: cut off while streaming, the partial file removed.
        let streamed_call = Call::new(Method::POST, &path)
            .credential(admin.credential())
            .body("application/zip", streamed(zip.clone(), 1024));
        admin
            .send(streamed_call)
            .await
            .expect(StatusCode::PAYLOAD_TOO_LARGE);
        let (content_type, form) = multipart("big.zip", &zip);
        let form_call = Call::new(Method::POST, &path)
            .credential(admin.credential())
            .body(&content_type, streamed(form, 1024));
        admin
            .send(form_call)
            .await
            .expect(StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            admin.uploaded_files().is_empty(),
            "{:?}",
            admin.uploaded_files()
        );

        // Not a ZIP.
        let json_file = Call::new(Method::POST, &path)
            .credential(admin.credential())
            .body(
                "application/zip",
                Body::from(r#"[{"ts":"2024-01-01T00:00:00Z"}]"#),
            );
        let answer = admin.send(json_file).await;
        answer.expect(StatusCode::BAD_REQUEST);
        assert!(
            answer.message().contains("not a ZIP"),
            "{}",
            answer.message()
        );
        let tiny = Call::new(Method::POST, &path)
            .credential(admin.credential())
            .body("application/zip", Body::from("PK"));
        admin.send(tiny).await.expect(StatusCode::BAD_REQUEST);
        let empty_form = multipart("x.zip", b"");
        let call = Call::new(Method::POST, &path)
            .credential(admin.credential())
            .body(&empty_form.0, Body::from(empty_form.1));
        admin.send(call).await.expect(StatusCode::BAD_REQUEST);

        // No file field, wrong content type, unknown or missing user.
        let (content_type, _) = multipart("x.zip", b"");
        let no_file = "------admin-api-test-boundary\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n------admin-api-test-boundary--\r\n";
        let call = Call::new(Method::POST, &path)
            .credential(admin.credential())
            .body(&content_type, Body::from(no_file));
        let answer = admin.send(call).await;
        answer.expect(StatusCode::BAD_REQUEST);
        assert!(answer.message().contains("`file`"), "{}", answer.message());
        let call = Call::new(Method::POST, &path)
            .credential(admin.credential())
            .body("text/plain", Body::from("hello"));
        admin
            .send(call)
            .await
            .expect(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let call = Call::new(Method::POST, "/admin/imports/upload?user_id=999")
            .credential(admin.credential())
            .body("application/zip", Body::from(vec![b'P', b'K', 3, 4]));
        admin.send(call).await.expect(StatusCode::NOT_FOUND);
        let call = Call::new(Method::POST, "/admin/imports/upload")
            .credential(admin.credential())
            .body("application/zip", Body::from(vec![b'P', b'K', 3, 4]));
        let answer = admin.send(call).await;
        answer.expect(StatusCode::BAD_REQUEST);
        assert!(answer.message().contains("user_id"), "{}", answer.message());

        assert!(
            admin.uploaded_files().is_empty(),
            "{:?}",
            admin.uploaded_files()
        );
        let list = admin.get("/admin/imports").await;
        assert_eq!(list.expect(StatusCode::OK)["total"], 0, "no job was queued");
    }
);

store_test!(an_import_job_shows_its_report, |db| {
    let admin = Admin::new(&db.store, Mode::Token);
    let ann = db.store.create_user("ann", None).await.unwrap().id;
    let bob = db.store.create_user("bob", None).await.unwrap().id;
    upload_export(&admin, ann, 13)
        .await
        .expect(StatusCode::ACCEPTED);
    upload_export(&admin, bob, 14)
        .await
        .expect(StatusCode::ACCEPTED);
    let claimed = db
        .store
        .claim_import_job("test-collector", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let report = json!({ "skipped": { "no_metadata": 4 }, "files": ["endsong_0.json"] });
    db.store
        .finish_import_job(
            claimed.id,
            "test-collector",
            &FinishedImportJob {
                status: RunStatus::Succeeded,
                counts: ImportJobCounts {
                    bytes_read: 10,
                    records_read: 400,
                    inserted: 390,
                    duplicates: 0,
                    merged: 6,
                    skipped: 4,
                },
                report: Some(&report),
                error: None,
            },
        )
        .await
        .unwrap();

    let detail = admin.get(&format!("/admin/imports/{}", claimed.id)).await;
    let body = detail.expect(StatusCode::OK);
    assert_eq!(body["import"]["status"], "succeeded");
    assert_eq!(body["import"]["inserted"], 390);
    assert_eq!(body["import"]["skipped"], 4);
    assert_eq!(body["import"]["report"], report);
    assert!(body["import"]["finished_at"].is_string());

    let of_bob = admin.get(&format!("/admin/imports?user_id={bob}")).await;
    let body = of_bob.expect(StatusCode::OK);
    assert_eq!(body["total"], 1);
    assert_eq!(body["imports"][0]["user"], "bob");
    assert!(
        body["imports"][0].get("report").is_none(),
        "lists leave reports out"
    );
    let paged = admin.get("/admin/imports?limit=1&offset=1").await;
    let body = paged.expect(StatusCode::OK);
    assert_eq!(body["total"], 2);
    assert_eq!(body["imports"].as_array().unwrap().len(), 1);
    let bad = admin.get("/admin/imports?status=lost").await;
    bad.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.message().starts_with("status:"));
    admin
        .get("/admin/imports/999")
        .await
        .expect(StatusCode::NOT_FOUND);
});

store_test!(
    uploads_larger_than_the_request_body_limits_stream_through,
    |db| {
        // Over axum's 2 MB extractor default and the server's 1 MiB JSON limit; only
        // IMPORT_MAX_ZIP_SIZE_MB applies to uploads.
        let admin = Admin::new(&db.store, Mode::Token);
        let ann = db.store.create_user("ann", None).await.unwrap().id;
        let mut big = b"PK\x03\x04".to_vec();
        big.extend((0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8));
        let path = format!("/admin/imports/upload?user_id={ann}");

        let raw = Call::new(Method::POST, &path)
            .credential(admin.credential())
            .body("application/zip", Body::from(big.clone()));
        let answer = admin.send(raw).await;
        assert_eq!(
            answer.expect(StatusCode::ACCEPTED)["import"]["size_bytes"],
            big.len() as i64
        );
        let (content_type, form) = multipart("big.zip", &big);
        let form_call = Call::new(Method::POST, &path)
            .credential(admin.credential())
            .body(&content_type, streamed(form, 64 * 1024));
        admin.send(form_call).await.expect(StatusCode::ACCEPTED);

        let files = admin.uploaded_files();
        assert_eq!(files.len(), 2);
        for file in files {
            assert_eq!(std::fs::read(file).unwrap(), big);
        }
    }
);
