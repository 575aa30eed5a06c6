//! The admin web UI and the listener's `/me` page over HTTP (in-process): logging in with a
//! token or a user name and password, being sent to the login form without one, pages that
//! show what is stored, actions that need the session's CSRF token, and listeners who see
//! only their own data.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use spotify_history_core::{Secret, UserId};
use spotify_history_import::synthetic::{SyntheticConfig, SyntheticExport};
use spotify_history_import::{ImportOptions, ImportSource, Limits, import};
use spotify_history_mcp::McpState;
use spotify_history_store::{LogLevel, NewLogEntry, Store};
use spotify_history_testkit::store_test;
use spotify_history_web::{AppState, Authenticator, SessionKind, Sessions, Uploads, router};
use tower::ServiceExt;

const ADMIN_TOKEN: &str = "admin-token-for-tests-0123456789";

/// The app, and what a test needs to act as its browsers.
struct Ui {
    router: axum::Router,
    sessions: Sessions,
    uploads_dir: tempfile::TempDir,
}

/// An answer, read whole.
struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers[header::LOCATION].to_str().unwrap()
    }

    /// The `name=value` of a cookie the answer sets.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
            .find(|pair| pair.starts_with(&format!("{name}=")))
    }
}

enum Mode {
    Token,
    Basic,
}

fn ui_with(store: &Store, mode: Mode, logins_per_minute: u32, max_upload: u64) -> Ui {
    let auth = Authenticator::new(store.clone(), Some(&Secret::new(ADMIN_TOKEN)));
    let auth = match mode {
        Mode::Token => auth,
        Mode::Basic => auth.with_basic("operator", &Secret::new("correct horse")),
    };
    let sessions = Sessions::new(crate::test_cipher(), false);
    let uploads = tempfile::tempdir().unwrap();
    let router = router(AppState {
        store: store.clone(),
        auth,
        mcp: McpState::new(store.clone(), 30_000, 1_000, "http://music.example.org"),
        spotify: None,
        auth_rate_limit_per_minute: logins_per_minute,
        sessions: sessions.clone(),
        uploads: Uploads::new(uploads.path(), max_upload),
    });
    Ui {
        router,
        sessions,
        uploads_dir: uploads,
    }
}

fn ui(store: &Store) -> Ui {
    ui_with(store, Mode::Token, 1_000, 64 * 1024 * 1024)
}

impl Ui {
    async fn send(&self, request: Request<Body>) -> Page {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Page {
        let mut request = Request::get(path).header(header::ACCEPT, "text/html");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    async fn post_form(&self, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut request =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    async fn post_file(
        &self,
        path: &str,
        cookie: &str,
        fields: &[(&str, &str)],
        file: &[u8],
    ) -> Page {
        let boundary = "----spotify-history-test-boundary";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"my_spotify_data.zip\"\r\nContent-Type: application/zip\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = Request::post(path)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header(header::COOKIE, cookie)
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// A session cookie (`name=value`) and its CSRF token.
    fn session(&self, kind: SessionKind) -> (String, String) {
        Self::cookie_and_csrf(self.sessions.start(kind))
    }

    /// The session of a listener who signed in with the Spotify account `user` is linked to.
    async fn listener_session(&self, store: &Store, user: UserId) -> (String, String) {
        let account = store.get_user(user).await.unwrap().spotify_user_id.unwrap();
        Self::cookie_and_csrf(self.sessions.start_listener(user, &account))
    }

    fn cookie_and_csrf(
        (session, cookie): (spotify_history_web::Session, header::HeaderValue),
    ) -> (String, String) {
        let pair = cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        (pair, session.csrf)
    }
}

/// Imports a small generated export for `user`; returns how many listens it stored.
async fn import_history(store: &Store, user: UserId, seed: u64) -> i64 {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("export.zip");
    export_zip(seed, &zip);
    let source = ImportSource::open(&[zip], Limits::default()).unwrap();
    let options = ImportOptions::new(user);
    import(store, source, options, |_| {}).await.unwrap();
    store.listen_totals(user).await.unwrap().listens
}

/// Links `user` to a Spotify account named after them, as their sign-in would: a listener's
/// session lasts only while the user is linked.
async fn link_spotify(store: &Store, user: UserId) {
    let name = store.get_user(user).await.unwrap().name;
    store
        .link_spotify_to(
            user,
            &spotify_history_testkit::sign_in_of(&format!("{name}-spotify")),
        )
        .await
        .unwrap();
}

fn export_zip(seed: u64, path: &std::path::Path) {
    SyntheticExport::generate(SyntheticConfig {
        plays: 400,
        seed,
        account_data: false,
        start_year: 2022,
        years: 1,
        ..SyntheticConfig::default()
    })
    .write_zip(path)
    .unwrap();
}

store_test!(without_a_session_admin_pages_send_to_the_login_form, |db| {
    let ui = ui(&db.store);
    for path in [
        "/admin",
        "/admin/ui/users",
        "/admin/ui/users/1",
        "/admin/ui/jobs",
        "/admin/ui/imports",
        "/admin/ui/imports/live",
        "/admin/ui/logs",
    ] {
        let page = ui.get(path, None).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location(), "/admin/login", "{path}");
    }
    // Changes too, and a forged cookie is no session.
    let page = ui
        .post_form(
            "/admin/ui/users/1/pause",
            Some("sph_session=gAAAAABforged"),
            &[],
        )
        .await;
    assert_eq!(page.location(), "/admin/login");
    // A listener's session is not an admin's.
    let ann = db.store.create_user("ann", None).await.unwrap();
    let (cookie, _) = ui.session(SessionKind::Listener(ann.id));
    let page = ui.get("/admin", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
});

store_test!(an_admin_logs_in_with_a_token_and_out_again, |db| {
    let ui = ui(&db.store);
    let form = ui.get("/admin/login", None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(r#"name="token""#), "{}", form.body);
    assert!(!form.body.contains(r#"name="password""#));
    assert_eq!(form.headers[header::CACHE_CONTROL], "no-store");
    assert!(
        form.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );

    for wrong in ["", "nope", "Bearer x\u{7f}"] {
        let page = ui
            .post_form("/admin/login", None, &[("token", wrong)])
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{wrong:?}");
        assert!(
            page.body.contains("This is not an admin token"),
            "{}",
            page.body
        );
        assert_eq!(page.cookie("sph_session"), None);
    }
    // A listener's API token is no admin token.
    let ann = db.store.create_user("ann", None).await.unwrap();
    let listener_token = db.store.create_api_token(Some(ann.id), "t").await.unwrap();
    let page = ui
        .post_form(
            "/admin/login",
            None,
            &[("token", listener_token.plaintext.expose())],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);

    // ADMIN_TOKEN, and an admin API token from `tokens create --admin`.
    let stored_admin = db.store.create_api_token(None, "ops").await.unwrap();
    for token in [ADMIN_TOKEN, stored_admin.plaintext.expose()] {
        let page = ui
            .post_form("/admin/login", None, &[("token", token)])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), "/admin");
        let set = page.headers[header::SET_COOKIE].to_str().unwrap();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        let cookie = page.cookie("sph_session").unwrap();
        let dashboard = ui.get("/admin", Some(&cookie)).await;
        assert_eq!(dashboard.status, StatusCode::OK);
        assert!(dashboard.body.contains("<h1>Dashboard</h1>"));
        // Signed in already: the form sends to the dashboard.
        assert_eq!(
            ui.get("/admin/login", Some(&cookie)).await.location(),
            "/admin"
        );
    }

    // Logging out needs the CSRF token, then ends the session.
    let login = ui
        .post_form("/admin/login", None, &[("token", ADMIN_TOKEN)])
        .await;
    let cookie = login.cookie("sph_session").unwrap();
    let dashboard = ui.get("/admin", Some(&cookie)).await;
    let csrf = between(&dashboard.body, "/admin/logout?csrf=", "\"");
    let refused = ui.post_form("/admin/logout", Some(&cookie), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let out = ui
        .post_form(&format!("/admin/logout?csrf={csrf}"), Some(&cookie), &[])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/admin/login");
    assert!(
        out.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
});

store_test!(
    an_admin_logs_in_with_user_name_and_password_in_basic_mode,
    |db| {
        let ui = ui_with(&db.store, Mode::Basic, 1_000, 1 << 20);
        let form = ui.get("/admin/login", None).await;
        assert!(
            form.body.contains(r#"name="username""#) && form.body.contains(r#"name="password""#)
        );
        for (user, password) in [
            ("operator", "wrong"),
            ("Operator", "correct horse"),
            ("", ""),
        ] {
            let page = ui
                .post_form(
                    "/admin/login",
                    None,
                    &[("username", user), ("password", password)],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{user}/{password}");
            assert!(page.body.contains("Wrong user name or password."));
            assert!(
                page.body.contains(&format!(r#"value="{user}""#)),
                "the name is kept"
            );
        }
        let page = ui
            .post_form(
                "/admin/login",
                None,
                &[("username", "operator"), ("password", "correct horse")],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let cookie = page.cookie("sph_session").unwrap();
        assert_eq!(
            ui.get("/admin/ui/users", Some(&cookie)).await.status,
            StatusCode::OK
        );

        // The browser's basic credentials work as well.
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode("operator:correct horse");
        let request = Request::get("/admin")
            .header(header::AUTHORIZATION, format!("Basic {basic}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(ui.send(request).await.status, StatusCode::OK);

        // A login form posted from another site is refused.
        let request = Request::post("/admin/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::HOST, "music.example.org")
            .header(header::ORIGIN, "https://evil.example")
            .body(Body::from("username=operator&password=correct+horse"))
            .unwrap();
        assert_eq!(ui.send(request).await.status, StatusCode::FORBIDDEN);
    }
);

store_test!(failed_logins_are_rate_limited, |db| {
    let ui = ui_with(&db.store, Mode::Token, 3, 1 << 20);
    for _ in 0..3 {
        let page = ui
            .post_form("/admin/login", None, &[("token", "guess")])
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    let page = ui
        .post_form("/admin/login", None, &[("token", ADMIN_TOKEN)])
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.headers.contains_key(header::RETRY_AFTER));
    assert!(page.body.contains("Too many login attempts"));
    // Pages themselves are not counted.
    assert_eq!(ui.get("/admin/login", None).await.status, StatusCode::OK);
});

store_test!(admin_pages_show_users_charts_jobs_imports_and_logs, |db| {
    let ui = ui(&db.store);
    let ann = db
        .store
        .create_user("ann", Some("Ann <i>A</i>"))
        .await
        .unwrap();
    let listens = import_history(&db.store, ann.id, 7).await;
    assert!(listens > 100);
    db.store
        .insert_logs(&[NewLogEntry {
            ts: jiff::Timestamp::now().as_millisecond(),
            level: LogLevel::Warn,
            target: "spotify_history_collector::poll".into(),
            message: "poll failed <script>".into(),
            fields: None,
            user_id: Some(ann.id),
        }])
        .await
        .unwrap();
    let (cookie, csrf) = ui.session(SessionKind::Admin);

    let dashboard = ui.get("/admin", Some(&cookie)).await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.body.contains(r#"id="plays-per-day-chart""#));
    assert!(
        dashboard.body.contains("Ann &#60;i&#62;A&#60;/i&#62;")
            || dashboard.body.contains("Ann &lt;i&gt;"),
        "escaped"
    );
    assert!(!dashboard.body.contains("<i>A</i>"));
    // htmx sends the CSRF token on every request (the JSON is entity-escaped in the attribute).
    assert!(
        dashboard.body.contains(&format!(
            "hx-headers='{{&#34;X-CSRF-Token&#34;:&#34;{csrf}&#34;}}'"
        )),
        "{}",
        dashboard.body
    );
    assert!(dashboard.body.contains("imports only"));

    let users = ui.get("/admin/ui/users", Some(&cookie)).await;
    assert!(
        users
            .body
            .contains(&format!(r#"href="/admin/ui/users/{}""#, ann.id))
    );

    let detail = ui
        .get(&format!("/admin/ui/users/{}", ann.id), Some(&cookie))
        .await;
    assert_eq!(detail.status, StatusCode::OK);
    for id in [
        "listening-time-chart",
        "heatmap-chart",
        "top-artists",
        "stats",
        "delete-form",
        "upload-form",
    ] {
        assert!(detail.body.contains(&format!(r#"id="{id}""#)), "{id}");
    }
    assert_eq!(detail.body.matches(r#"<rect class="cell""#).count(), 7 * 24);
    assert!(
        detail.body.matches(r#"<rect class="bar""#).count() >= 12,
        "a bar per month"
    );
    assert!(
        detail
            .body
            .contains(&format!("/admin/ui/users/{}/pause?csrf={csrf}", ann.id))
    );
    let month = ui
        .get(
            &format!("/admin/ui/users/{}?period=30", ann.id),
            Some(&cookie),
        )
        .await;
    assert!(
        month.body.contains("No plays in this period"),
        "the export is from 2022"
    );
    assert_eq!(
        ui.get("/admin/ui/users/999999", Some(&cookie)).await.status,
        StatusCode::NOT_FOUND
    );

    let logs = ui
        .get(
            "/admin/ui/logs?level=warn&source=spotify_history_collector",
            Some(&cookie),
        )
        .await;
    assert!(
        logs.body.contains("poll failed &#60;script&#62;")
            || logs.body.contains("poll failed &lt;script&gt;")
    );
    let none = ui.get("/admin/ui/logs?level=error", Some(&cookie)).await;
    assert!(!none.body.contains("poll failed"));
    assert!(none.body.contains("0 events match"));

    let jobs = ui
        .get("/admin/ui/jobs?kind=poll&status=failed", Some(&cookie))
        .await;
    assert_eq!(jobs.status, StatusCode::OK);
    assert!(jobs.body.contains(r#"<option value="poll" selected>"#));
    let imports = ui.get("/admin/ui/imports", Some(&cookie)).await;
    assert!(
        imports.body.contains(r#"id="upload-form""#) && imports.body.contains(r#"<option value=""#)
    );
});

store_test!(
    admin_actions_need_the_csrf_token_and_do_what_they_say,
    |db| {
        let ui = ui(&db.store);
        let ann = db.store.create_user("ann", None).await.unwrap();
        let (cookie, csrf) = ui.session(SessionKind::Admin);
        let pause = format!("/admin/ui/users/{}/pause", ann.id);

        let refused = ui.post_form(&pause, Some(&cookie), &[]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let refused = ui
            .post_form(&format!("{pause}?csrf=wrong"), Some(&cookie), &[])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(!db.store.get_user(ann.id).await.unwrap().sync_paused);

        let done = ui
            .post_form(&format!("{pause}?csrf={csrf}"), Some(&cookie), &[])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        assert_eq!(
            done.location(),
            format!("/admin/ui/users/{}?notice=paused", ann.id)
        );
        assert!(db.store.get_user(ann.id).await.unwrap().sync_paused);
        let page = ui.get(done.location(), Some(&cookie)).await;
        assert!(page.body.contains("Collection is paused for this user."));
        assert!(page.body.contains(r#"id="resume""#));
        let resumed = ui
            .post_form(
                &format!("/admin/ui/users/{}/resume?csrf={csrf}", ann.id),
                Some(&cookie),
                &[],
            )
            .await;
        assert_eq!(resumed.status, StatusCode::SEE_OTHER);
        assert!(!db.store.get_user(ann.id).await.unwrap().sync_paused);
        // "Sync now" for a user the collector would not poll says why, as the API does; the
        // page offers it only for a linked, collecting user.
        let page = ui
            .get(&format!("/admin/ui/users/{}", ann.id), Some(&cookie))
            .await;
        assert!(!page.body.contains(r#"id="sync-now""#));
        let sync_path = format!("/admin/ui/users/{}/sync?csrf={csrf}", ann.id);
        let sync = ui.post_form(&sync_path, Some(&cookie), &[]).await;
        assert_eq!(sync.status, StatusCode::CONFLICT);
        assert!(sync.body.contains("not linked to Spotify"), "{}", sync.body);
        link_spotify(&db.store, ann.id).await;
        let page = ui
            .get(&format!("/admin/ui/users/{}", ann.id), Some(&cookie))
            .await;
        assert!(page.body.contains(r#"id="sync-now""#));
        let sync = ui.post_form(&sync_path, Some(&cookie), &[]).await;
        assert_eq!(sync.status, StatusCode::SEE_OTHER);
        db.store.set_sync_paused(ann.id, true).await.unwrap();
        let sync = ui.post_form(&sync_path, Some(&cookie), &[]).await;
        assert_eq!(sync.status, StatusCode::CONFLICT);
        assert!(sync.body.contains("resume it first"), "{}", sync.body);

        // Deleting needs the name typed.
        let delete = format!("/admin/ui/users/{}/delete?csrf={csrf}", ann.id);
        let wrong = ui
            .post_form(&delete, Some(&cookie), &[("confirm", "bob")])
            .await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
        assert!(wrong.body.contains("Nothing was deleted"));
        db.store.get_user(ann.id).await.unwrap();
        let gone = ui
            .post_form(&delete, Some(&cookie), &[("confirm", "ann")])
            .await;
        assert_eq!(gone.status, StatusCode::SEE_OTHER);
        assert!(db.store.get_user(ann.id).await.is_err());

        // Purging logs needs the confirmation box.
        db.store
            .insert_logs(&[NewLogEntry {
                ts: 1_000,
                level: LogLevel::Info,
                target: "t".into(),
                message: "old".into(),
                fields: None,
                user_id: None,
            }])
            .await
            .unwrap();
        let purge = format!("/admin/ui/logs/purge?csrf={csrf}");
        let unconfirmed = ui
            .post_form(&purge, Some(&cookie), &[("older_than_days", "1")])
            .await;
        assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
        let purged = ui
            .post_form(
                &purge,
                Some(&cookie),
                &[("older_than_days", "1"), ("confirm", "yes")],
            )
            .await;
        assert_eq!(purged.status, StatusCode::SEE_OTHER);
        let left = db
            .store
            .query_logs(&Default::default(), 10, 0)
            .await
            .unwrap();
        assert!(left.entries.iter().all(|e| e.message != "old"));
    }
);

store_test!(an_admin_adds_a_user_on_the_users_page, |db| {
    let ui = ui(&db.store);
    let (cookie, csrf) = ui.session(SessionKind::Admin);
    let empty = ui.get("/admin/ui/users", Some(&cookie)).await;
    assert!(empty.body.contains("No users yet"));
    assert!(
        empty
            .body
            .contains(&format!(r#"action="/admin/ui/users?csrf={csrf}""#)),
        "{}",
        empty.body
    );
    let add = format!("/admin/ui/users?csrf={csrf}");

    let forged = ui
        .post_form("/admin/ui/users", Some(&cookie), &[("name", "ann")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // Names a command line cannot repeat, or PostgreSQL cannot store, are refused with the
    // rule, and nothing is stored.
    for (name, display_name, says) in [
        ("ann b", "", "one word"),
        ("ann\0", "", "control characters"),
        ("  ", "", "must not be empty"),
        (
            "ann",
            "Ann\0B",
            "display name must not hold control characters",
        ),
    ] {
        let refused = ui
            .post_form(
                &add,
                Some(&cookie),
                &[("name", name), ("display_name", display_name)],
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{name:?}");
        assert!(refused.body.contains(says), "{name:?}: {}", refused.body);
    }
    assert!(db.store.list_users().await.unwrap().is_empty());

    let added = ui
        .post_form(
            &add,
            Some(&cookie),
            &[("name", " ann "), ("display_name", "Ann B.")],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let ann = db.store.find_user_by_name("ann").await.unwrap().unwrap();
    assert_eq!(ann.display_name.as_deref(), Some("Ann B."));
    assert_eq!(
        added.location(),
        format!("/admin/ui/users/{}?notice=created", ann.id)
    );
    let page = ui.get(added.location(), Some(&cookie)).await;
    assert!(page.body.contains("User added"));
    assert!(page.body.contains(r#"id="upload-form""#));

    // Without a display name the user has none; a taken name is a conflict.
    let bob = ui.post_form(&add, Some(&cookie), &[("name", "bob")]).await;
    assert_eq!(bob.status, StatusCode::SEE_OTHER);
    let bob = db.store.find_user_by_name("bob").await.unwrap().unwrap();
    assert_eq!(bob.display_name, None);
    let taken = ui.post_form(&add, Some(&cookie), &[("name", "ann")]).await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(taken.body.contains("already exists"));
    assert_eq!(db.store.list_users().await.unwrap().len(), 2);
});

store_test!(
    uploads_from_the_admin_ui_and_from_me_become_import_jobs,
    |db| {
        let ui = ui_with(&db.store, Mode::Token, 1_000, 1024 * 1024);
        let ann = db.store.create_user("ann", None).await.unwrap();
        link_spotify(&db.store, ann.id).await;
        let bob = db.store.create_user("bob", None).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("export.zip");
        export_zip(3, &zip);
        let bytes = std::fs::read(&zip).unwrap();
        let (admin, csrf) = ui.session(SessionKind::Admin);

        // The imports page's form names the user in a field before the file.
        let id = bob.id.to_string();
        let page = ui
            .post_file(
                &format!("/admin/ui/imports/upload?csrf={csrf}"),
                &admin,
                &[("user_id", &id)],
                &bytes,
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location(), "/admin/ui/imports?notice=uploaded");
        let jobs = db
            .store
            .import_jobs_page(&Default::default(), 10, 0)
            .await
            .unwrap();
        assert_eq!(jobs.jobs.len(), 1);
        assert_eq!(jobs.jobs[0].user_id, bob.id.0);
        assert_eq!(jobs.jobs[0].file_name, "my_spotify_data.zip");
        assert_eq!(jobs.jobs[0].size_bytes, bytes.len() as i64);
        let imports = ui.get("/admin/ui/imports", Some(&admin)).await;
        assert!(imports.body.contains("status-pending"));
        assert!(
            imports.body.contains(r#"hx-trigger="every 2s""#),
            "pending jobs refresh"
        );

        // Without CSRF, or without a user, nothing is queued.
        let page = ui
            .post_file(
                "/admin/ui/imports/upload",
                &admin,
                &[("user_id", &id)],
                &bytes,
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        let page = ui
            .post_file(
                &format!("/admin/ui/imports/upload?csrf={csrf}"),
                &admin,
                &[],
                &bytes,
            )
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);

        // A listener uploads for themselves only, whatever the form says.
        let (listener, listener_csrf) = ui.listener_session(&db.store, ann.id).await;
        let page = ui
            .post_file(
                &format!("/me/imports/upload?csrf={listener_csrf}"),
                &listener,
                &[("user_id", &id)],
                &bytes,
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location(), "/me?notice=uploaded");
        let jobs = db
            .store
            .import_jobs_page(&Default::default(), 10, 0)
            .await
            .unwrap();
        assert_eq!(jobs.jobs.len(), 2);
        assert_eq!(jobs.jobs[0].user_id, ann.id.0);

        // Over IMPORT_MAX_ZIP_SIZE_MB: refused while streaming, nothing kept.
        let big = vec![b'x'; 2 * 1024 * 1024];
        let page = ui
            .post_file(
                &format!("/me/imports/upload?csrf={listener_csrf}"),
                &listener,
                &[],
                &big,
            )
            .await;
        assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            db.store
                .import_jobs_page(&Default::default(), 10, 0)
                .await
                .unwrap()
                .jobs
                .len(),
            2
        );
        let files = std::fs::read_dir(ui.uploads_dir.path()).unwrap().count();
        assert_eq!(files, 2, "the partial file is gone");
    }
);

store_test!(me_needs_a_listener_session, |db| {
    let ui = ui(&db.store);
    let page = ui.get("/me", None).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.body.contains(r#"href="/auth/login""#));
    let (admin, _) = ui.session(SessionKind::Admin);
    assert_eq!(
        ui.get("/me", Some(&admin)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ui.post_form("/me/tokens", None, &[("name", "x")])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        ui.get("/me/export", None).await.status,
        StatusCode::UNAUTHORIZED
    );
});

store_test!(a_listener_sees_and_changes_only_their_own_data, |db| {
    let ui = ui(&db.store);
    let ann = db.store.create_user("ann", Some("Ann")).await.unwrap();
    let bob = db
        .store
        .create_user("bob", Some("Bobby Tables"))
        .await
        .unwrap();
    link_spotify(&db.store, ann.id).await;
    let ann_listens = import_history(&db.store, ann.id, 1).await;
    import_history(&db.store, bob.id, 2).await;
    let bob_token = db
        .store
        .create_api_token(Some(bob.id), "bob's claude")
        .await
        .unwrap();
    let (cookie, csrf) = ui.listener_session(&db.store, ann.id).await;
    // Only a session of the account the user is linked to is theirs.
    let (other, _) = ui.session(SessionKind::Listener(ann.id));
    assert_eq!(
        ui.get("/me", Some(&other)).await.status,
        StatusCode::UNAUTHORIZED
    );

    let me = ui.get("/me", Some(&cookie)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.headers[header::CACHE_CONTROL], "no-store");
    assert!(me.body.contains("Hello, Ann"));
    assert!(
        !me.body.contains("Bobby Tables")
            && !me.body.contains("bob&#39;s claude")
            && !me.body.contains("bob's claude")
    );
    for id in [
        "listening-time-chart",
        "heatmap-chart",
        "tokens",
        "connect",
        "me-upload-form",
        "delete-account",
        "reauthorize",
    ] {
        assert!(me.body.contains(&format!(r#"id="{id}""#)), "{id}");
    }
    for client in ["Claude Code", "Claude Desktop", "Cursor", "ChatGPT"] {
        assert!(me.body.contains(client), "{client}");
    }
    assert!(me.body.contains("http://music.example.org/mcp"));

    // Changes need the session's CSRF token.
    let refused = ui
        .post_form("/me/tokens", Some(&cookie), &[("name", "cursor")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        db.store
            .list_api_tokens(Some(ann.id))
            .await
            .unwrap()
            .is_empty()
    );
    // Without a Spotify app there is no key to carry the token to /me: it is shown at once.
    let created = ui
        .post_form(
            &format!("/me/tokens?csrf={csrf}"),
            Some(&cookie),
            &[("name", "cursor")],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let token = between(&created.body, r#"id="new-token">"#, "<").to_owned();
    assert!(token.starts_with("sph_"), "{token}");
    let own = db.store.list_api_tokens(Some(ann.id)).await.unwrap();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].name, "cursor");

    // Another listener's token cannot be revoked from here.
    let other = ui
        .post_form(
            &format!("/me/tokens/{}/revoke?csrf={csrf}", bob_token.token.id),
            Some(&cookie),
            &[],
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert!(db.store.list_api_tokens(Some(bob.id)).await.unwrap()[0].is_active());
    let revoke = format!("/me/tokens/{}/revoke", own[0].id);
    assert_eq!(
        ui.post_form(&revoke, Some(&cookie), &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let revoked = ui
        .post_form(&format!("{revoke}?csrf={csrf}"), Some(&cookie), &[])
        .await;
    assert_eq!(revoked.location(), "/me?notice=token_revoked");
    assert!(!db.store.list_api_tokens(Some(ann.id)).await.unwrap()[0].is_active());

    // The export holds ann's listens and nobody else's.
    let jsonl = ui.get("/me/export?format=jsonl", Some(&cookie)).await;
    assert_eq!(jsonl.status, StatusCode::OK);
    assert_eq!(jsonl.headers[header::CONTENT_TYPE], "application/x-ndjson");
    assert!(
        jsonl.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("spotify-history-export-ann.jsonl")
    );
    assert_eq!(jsonl.body.lines().count() as i64, ann_listens);
    let first: serde_json::Value =
        serde_json::from_str(jsonl.body.lines().next().unwrap()).unwrap();
    assert!(first["track_key"].is_string() && first["ts"].is_string());
    let csv = ui.get("/me/export?format=csv", Some(&cookie)).await;
    assert!(
        csv.body.starts_with("ts,"),
        "{}",
        &csv.body[..80.min(csv.body.len())]
    );
    assert_eq!(csv.body.lines().count() as i64, ann_listens + 1);
    // The download is an export `import` reads back: the same listens for a new user.
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("spotify-history-export-ann.jsonl");
    std::fs::write(&file, &jsonl.body).unwrap();
    let copy = db.store.create_user("ann-copy", None).await.unwrap().id;
    let source = spotify_history_import::ImportSource::open(
        &[file],
        spotify_history_import::Limits::default(),
    )
    .unwrap();
    let options = spotify_history_import::ImportOptions::new(copy);
    let report = spotify_history_import::import(&db.store, source, options, |_| {})
        .await
        .unwrap();
    assert_eq!(report.inserted as i64, ann_listens, "{report:?}");
    let keys = |listens: Vec<spotify_history_store::StoredListen>| {
        listens
            .into_iter()
            .map(|l| (l.ended_at, l.track_key, l.ms_played))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(db.store.stored_listens(copy).await.unwrap()),
        keys(db.store.stored_listens(ann.id).await.unwrap())
    );
    assert_eq!(
        ui.get("/me/export?format=xml", Some(&cookie)).await.status,
        StatusCode::BAD_REQUEST
    );

    // Deleting the account needs CSRF and the typed name; then the session is over.
    let delete = ui
        .post_form("/me/delete", Some(&cookie), &[("confirm", "ann")])
        .await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
    let wrong = ui
        .post_form(
            &format!("/me/delete?csrf={csrf}"),
            Some(&cookie),
            &[("confirm", "bob")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    db.store.get_user(ann.id).await.unwrap();
    let deleted = ui
        .post_form(
            &format!("/me/delete?csrf={csrf}"),
            Some(&cookie),
            &[("confirm", "ann")],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(deleted.location(), "/me?notice=account_deleted");
    assert!(
        deleted.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert!(db.store.get_user(ann.id).await.is_err());
    assert!(
        db.store.listen_totals(bob.id).await.unwrap().listens > 0,
        "bob keeps his"
    );
    let after = ui.get("/me?notice=account_deleted", None).await;
    assert!(
        after
            .body
            .contains("Your account and all its data were deleted.")
    );
});

store_test!(assets_are_served_from_the_binary_with_a_long_cache, |db| {
    let ui = ui(&db.store);
    for (path, content_type) in [
        ("/assets/htmx.min.js", "text/javascript; charset=utf-8"),
        ("/assets/app.js", "text/javascript; charset=utf-8"),
        ("/assets/app.css", "text/css; charset=utf-8"),
    ] {
        let page = ui.get(path, None).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(page.headers[header::CONTENT_TYPE], content_type);
        assert!(
            page.headers[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("max-age=31536000")
        );
        assert!(!page.body.is_empty());
    }
    assert!(
        ui.get("/assets/htmx.min.js", None)
            .await
            .body
            .contains("htmx")
    );
    assert_eq!(
        ui.get("/assets/nope.js", None).await.status,
        StatusCode::NOT_FOUND
    );
    let login = ui.get("/admin/login", None).await;
    let version = between(&login.body, "/assets/htmx.min.js?v=", "\"");
    assert_eq!(version.len(), 12);
});

/// The text between `start` and the next `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {text}"))
        + start.len();
    let to = from + text[from..].find(end).unwrap();
    &text[from..to]
}
