//! `/admin/tokens`: create (plaintext once), list, revoke.

use super::{Admin, Call, Credential, Mode};
use axum::http::{Method, StatusCode};
use serde_json::json;
use spotify_history_core::Principal;
use spotify_history_testkit::store_test;

store_test!(tokens_are_created_once_listed_and_revoked, |db| {
    let admin = Admin::new(&db.store, Mode::Token);
    let ann = db.store.create_user("ann", None).await.unwrap().id;

    let created = admin
        .call(
            Method::POST,
            "/admin/tokens",
            Some(json!({ "user_id": null, "name": "ops laptop" })),
        )
        .await;
    let body = created.expect(StatusCode::CREATED).clone();
    let plaintext = body["plaintext"].as_str().unwrap().to_owned();
    assert!(plaintext.starts_with("sph_"));
    assert_eq!(body["token"]["admin"], true);
    assert!(plaintext.starts_with(body["token"]["prefix"].as_str().unwrap()));
    // It works as an admin credential at once.
    let call =
        Call::new(Method::GET, "/admin/users").credential(Credential::Bearer(plaintext.clone()));
    admin.send(call).await.expect(StatusCode::OK);

    let for_ann = admin
        .call(
            Method::POST,
            "/admin/tokens",
            Some(json!({ "user_id": ann.0, "name": "claude" })),
        )
        .await;
    let body = for_ann.expect(StatusCode::CREATED).clone();
    let stored = db
        .store
        .authenticate_api_token(body["plaintext"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        Principal::from(&stored),
        Principal::User {
            user: ann,
            token: Some(stored.id)
        }
    );

    let list = admin.get("/admin/tokens").await;
    let listed = list.expect(StatusCode::OK);
    assert_eq!(listed["total"], 2);
    assert!(
        !listed.to_string().contains(&plaintext),
        "lists never show a token"
    );
    let of_ann = admin.get(&format!("/admin/tokens?user_id={ann}")).await;
    let listed = of_ann.expect(StatusCode::OK);
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["tokens"][0]["name"], "claude");

    let admin_token_id = {
        let all = db.store.list_api_tokens(None).await.unwrap();
        all.iter().find(|t| t.is_admin()).unwrap().id
    };
    let revoked = admin
        .call(
            Method::DELETE,
            &format!("/admin/tokens/{admin_token_id}"),
            None,
        )
        .await;
    let body = revoked.expect(StatusCode::OK);
    assert_eq!(body["active"], false);
    assert!(body["revoked_at"].is_string());
    assert!(
        db.store
            .authenticate_api_token(&plaintext)
            .await
            .unwrap()
            .is_none()
    );
    let call = Call::new(Method::GET, "/admin/users").credential(Credential::Bearer(plaintext));
    admin.send(call).await.expect(StatusCode::UNAUTHORIZED);

    admin
        .call(Method::DELETE, "/admin/tokens/999", None)
        .await
        .expect(StatusCode::NOT_FOUND);
    let unknown_user = admin
        .call(
            Method::POST,
            "/admin/tokens",
            Some(json!({ "user_id": 999, "name": "x" })),
        )
        .await;
    unknown_user.expect(StatusCode::NOT_FOUND);
    let no_name = admin
        .call(Method::POST, "/admin/tokens", Some(json!({ "name": " " })))
        .await;
    no_name.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_name.message().starts_with("name:"));
    let missing = admin
        .call(Method::POST, "/admin/tokens", Some(json!({})))
        .await;
    missing.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.message().contains("name"));
    assert_eq!(db.store.list_api_tokens(None).await.unwrap().len(), 2);
});
