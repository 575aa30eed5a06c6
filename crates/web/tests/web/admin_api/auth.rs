//! Nobody reaches the admin API without an admin credential, in either mode; a listener's
//! token is refused; browser-borne credentials pass CSRF checks before changing anything.

use super::{Admin, Call, Credential, Mode};
use axum::http::{Method, StatusCode, header};
use serde_json::json;
use spotify_history_testkit::store_test;

/// Every admin API endpoint, with a request that would succeed for the admin.
fn endpoints(user: i64, token: i64) -> Vec<(Method, String)> {
    vec![
        (Method::GET, "/admin/users".into()),
        (Method::POST, "/admin/users".into()),
        (Method::GET, format!("/admin/users/{user}")),
        (Method::PATCH, format!("/admin/users/{user}")),
        (Method::DELETE, format!("/admin/users/{user}?confirm=ann")),
        (Method::POST, format!("/admin/users/{user}/pause")),
        (Method::POST, format!("/admin/users/{user}/resume")),
        (Method::POST, format!("/admin/users/{user}/sync")),
        (Method::DELETE, format!("/admin/users/{user}/spotify")),
        (Method::GET, "/admin/jobs".into()),
        (Method::GET, "/admin/imports".into()),
        (Method::GET, "/admin/imports/1".into()),
        (
            Method::POST,
            format!("/admin/imports/upload?user_id={user}"),
        ),
        (Method::GET, "/admin/logs".into()),
        (Method::POST, "/admin/logs/purge".into()),
        (Method::GET, "/admin/sync-status".into()),
        (Method::GET, "/admin/tokens".into()),
        (Method::POST, "/admin/tokens".into()),
        (Method::DELETE, format!("/admin/tokens/{token}")),
    ]
}

store_test!(
    token_mode_refuses_missing_wrong_and_listener_tokens_everywhere,
    |db| {
        let admin = Admin::new(&db.store, Mode::Token);
        let ann = db.store.create_user("ann", None).await.unwrap();
        let listener = db
            .store
            .create_api_token(Some(ann.id), "ann's mcp")
            .await
            .unwrap();
        let listener_token = listener.plaintext.expose().to_owned();

        for (method, path) in endpoints(ann.id.0, listener.token.id.0) {
            let answer = admin.send(Call::new(method.clone(), &path)).await;
            answer.expect(StatusCode::UNAUTHORIZED);
            assert_eq!(
                answer.body["error"]["code"], "unauthorized",
                "{method} {path}"
            );
            assert_eq!(
                answer.headers[header::WWW_AUTHENTICATE],
                "Bearer",
                "{method} {path}"
            );

            let wrong =
                Call::new(method.clone(), &path).credential(Credential::Bearer("sph_guess".into()));
            admin.send(wrong).await.expect(StatusCode::UNAUTHORIZED);

            let basic = Call::new(method.clone(), &path).credential(Credential::Basic(
                crate::admin_api::ADMIN_USER.into(),
                crate::admin_api::ADMIN_PASSWORD.into(),
            ));
            admin.send(basic).await.expect(StatusCode::UNAUTHORIZED);

            let as_listener = Call::new(method.clone(), &path)
                .credential(Credential::Bearer(listener_token.clone()));
            let answer = admin.send(as_listener).await;
            answer.expect(StatusCode::FORBIDDEN);
            assert!(
                answer.message().contains("listener"),
                "{method} {path}: {}",
                answer.message()
            );
        }
        // Nothing was touched by any of those.
        let still = db.store.get_user(ann.id).await.unwrap();
        assert!(!still.sync_paused);
        assert!(db.store.list_api_tokens(None).await.unwrap()[0].is_active());
        assert_eq!(db.store.list_users().await.unwrap().len(), 1);
        assert!(admin.uploaded_files().is_empty());

        // An admin API token works like ADMIN_TOKEN.
        let admin_token = db.store.create_api_token(None, "ops").await.unwrap();
        let call = Call::new(Method::GET, "/admin/users").credential(Credential::Bearer(
            admin_token.plaintext.expose().to_owned(),
        ));
        assert_eq!(admin.send(call).await.expect(StatusCode::OK)["total"], 1);
    }
);

store_test!(
    basic_mode_asks_for_a_password_and_refuses_foreign_origins,
    |db| {
        let admin = Admin::new(&db.store, Mode::Basic);
        let ann = db.store.create_user("ann", None).await.unwrap();
        let listener = db
            .store
            .create_api_token(Some(ann.id), "ann's mcp")
            .await
            .unwrap();

        for (method, path) in endpoints(ann.id.0, listener.token.id.0) {
            let answer = admin.send(Call::new(method.clone(), &path)).await;
            answer.expect(StatusCode::UNAUTHORIZED);
            let challenge = answer.headers[header::WWW_AUTHENTICATE].to_str().unwrap();
            assert!(
                challenge.starts_with("Basic realm="),
                "{method} {path}: {challenge}"
            );

            let wrong = Call::new(method.clone(), &path).credential(Credential::Basic(
                crate::admin_api::ADMIN_USER.into(),
                "wrong".into(),
            ));
            admin.send(wrong).await.expect(StatusCode::UNAUTHORIZED);
            let wrong_user = Call::new(method.clone(), &path).credential(Credential::Basic(
                "root".into(),
                crate::admin_api::ADMIN_PASSWORD.into(),
            ));
            admin
                .send(wrong_user)
                .await
                .expect(StatusCode::UNAUTHORIZED);

            let as_listener = Call::new(method.clone(), &path)
                .credential(Credential::Bearer(listener.plaintext.expose().to_owned()));
            admin.send(as_listener).await.expect(StatusCode::FORBIDDEN);

            if method != Method::GET {
                // A page of another site submitting with the browser's cached credentials.
                let cross_site = Call::new(method.clone(), &path)
                    .credential(admin.credential())
                    .header(header::ORIGIN, "https://evil.example");
                let answer = admin.send(cross_site).await;
                answer.expect(StatusCode::FORBIDDEN);
                assert!(
                    answer.message().contains("cross-site"),
                    "{}",
                    answer.message()
                );
            }
        }
        assert!(!db.store.get_user(ann.id).await.unwrap().sync_paused);
        assert!(db.store.list_api_tokens(None).await.unwrap()[0].is_active());

        // The right password works, and so does a change from this server's own pages.
        admin.get("/admin/users").await.expect(StatusCode::OK);
        let same_site = Call::new(Method::POST, &format!("/admin/users/{}/pause", ann.id))
            .credential(admin.credential())
            .header(header::ORIGIN, "http://admin.test");
        admin.send(same_site).await.expect(StatusCode::OK);
        assert!(db.store.get_user(ann.id).await.unwrap().sync_paused);
        // Without `Origin` (curl, scripts) it works too.
        admin
            .call(
                Method::POST,
                &format!("/admin/users/{}/resume", ann.id),
                None,
            )
            .await
            .expect(StatusCode::OK);
        assert!(!db.store.get_user(ann.id).await.unwrap().sync_paused);
    }
);

store_test!(
    a_session_reads_freely_but_changes_only_with_its_csrf_token,
    |db| {
        for mode in [Mode::Token, Mode::Basic] {
            let admin = Admin::new(&db.store, mode);
            let name = format!("ann-{mode:?}");
            let ann = db.store.create_user(&name, None).await.unwrap();
            let (cookie, csrf) = admin.session();
            let as_browser = |method: Method, path: &str| {
                Call::new(method, path).credential(Credential::Cookie(cookie.clone()))
            };

            let answer = admin
                .send(as_browser(Method::GET, &format!("/admin/users/{}", ann.id)))
                .await;
            assert_eq!(answer.expect(StatusCode::OK)["user"]["name"], name.as_str());

            // Without the token: refused, nothing changed.
            let pause = format!("/admin/users/{}/pause", ann.id);
            let answer = admin.send(as_browser(Method::POST, &pause)).await;
            answer.expect(StatusCode::FORBIDDEN);
            assert!(answer.message().contains("CSRF"), "{}", answer.message());
            let patch = as_browser(Method::PATCH, &format!("/admin/users/{}", ann.id))
                .json(Some(json!({ "display_name": "Hijacked" })));
            admin.send(patch).await.expect(StatusCode::FORBIDDEN);
            let delete = as_browser(
                Method::DELETE,
                &format!("/admin/users/{}?confirm={name}", ann.id),
            );
            admin.send(delete).await.expect(StatusCode::FORBIDDEN);
            let token =
                as_browser(Method::POST, "/admin/tokens").json(Some(json!({ "name": "x" })));
            admin.send(token).await.expect(StatusCode::FORBIDDEN);
            let wrong = as_browser(Method::POST, &pause).header(
                axum::http::HeaderName::from_static(spotify_history_web::CSRF_HEADER),
                "not-the-token",
            );
            admin.send(wrong).await.expect(StatusCode::FORBIDDEN);
            let stored = db.store.get_user(ann.id).await.unwrap();
            assert!(!stored.sync_paused);
            assert_eq!(stored.display_name, None);
            assert!(db.store.list_api_tokens(None).await.unwrap().is_empty());
            assert!(db.store.get_user(ann.id).await.is_ok());

            // With it, in the header or the query: done.
            let pause_with = as_browser(Method::POST, &pause).header(
                axum::http::HeaderName::from_static(spotify_history_web::CSRF_HEADER),
                &csrf,
            );
            admin.send(pause_with).await.expect(StatusCode::OK);
            assert!(db.store.get_user(ann.id).await.unwrap().sync_paused);
            let resume = format!("/admin/users/{}/resume?csrf={csrf}", ann.id);
            admin
                .send(as_browser(Method::POST, &resume))
                .await
                .expect(StatusCode::OK);
            assert!(!db.store.get_user(ann.id).await.unwrap().sync_paused);
            let patch = as_browser(
                Method::PATCH,
                &format!("/admin/users/{}?csrf={csrf}", ann.id),
            )
            .json(Some(json!({ "display_name": "Ann" })));
            admin.send(patch).await.expect(StatusCode::OK);
            assert_eq!(
                db.store
                    .get_user(ann.id)
                    .await
                    .unwrap()
                    .display_name
                    .as_deref(),
                Some("Ann")
            );
            let delete = as_browser(
                Method::DELETE,
                &format!("/admin/users/{}?confirm={name}&csrf={csrf}", ann.id),
            );
            admin.send(delete).await.expect(StatusCode::OK);
            assert!(db.store.get_user(ann.id).await.is_err());

            // A listener's session is no admin session.
            let (_, listener_cookie) = admin
                .sessions()
                .start(spotify_history_web::SessionKind::Listener(ann.id));
            let pair = listener_cookie
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned();
            let call = Call::new(Method::GET, "/admin/users").credential(Credential::Cookie(pair));
            admin.send(call).await.expect(StatusCode::UNAUTHORIZED);
        }
    }
);
