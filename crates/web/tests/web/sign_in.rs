//! Signing in with Spotify over real HTTP, against the fake Spotify: a browser goes to
//! /auth/login, on to Spotify's /authorize and back to /auth/callback, and leaves with an MCP
//! token that works; tokens are stored encrypted; every way sign-in can fail ends on a page
//! that says what to do.

use reqwest::Url;
use reqwest::header::{CACHE_CONTROL, COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE};
use spotify_history_core::{Secret, User, UserId};
use spotify_history_mcp::McpState;
use spotify_history_spotify::{
    SpotifyAccess, SpotifyApp, SpotifyClient, SpotifyConfig, TokenCipher,
};
use spotify_history_store::{Store, StoreError};
use spotify_history_testkit::fake_spotify::{self, Failure, FakeSpotify, FakeUser};
use spotify_history_testkit::store_test;
use spotify_history_web::{AppState, Authenticator, router};

/// Fernet key of the app under test; the test knows it, as an operator knows theirs.
const KEY: &str = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";

/// The app on a real port with Spotify configured against a fake.
pub(crate) struct App {
    pub(crate) base: String,
    pub(crate) spotify: FakeSpotify,
    client: SpotifyClient,
    cipher: TokenCipher,
    store: Store,
}

pub(crate) async fn start(store: &Store, auth_per_minute: u32) -> App {
    let spotify = FakeSpotify::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let redirect_uri = format!("{base}/auth/callback");
    spotify.add_redirect_uri(&redirect_uri);
    let cipher = TokenCipher::new(&Secret::new(KEY)).unwrap();
    let client = SpotifyClient::new(SpotifyConfig {
        app: SpotifyApp {
            client_id: fake_spotify::CLIENT_ID.into(),
            client_secret: Secret::new(fake_spotify::CLIENT_SECRET),
            redirect_uri,
        },
        api_base_url: spotify.api_base(),
        accounts_base_url: spotify.accounts_base(),
        timeout: std::time::Duration::from_secs(10),
    })
    .unwrap();
    let access = SpotifyAccess::new(client.clone(), store.clone(), cipher.clone());
    let app = router(AppState {
        store: store.clone(),
        auth: Authenticator::new(store.clone(), None),
        mcp: McpState::new(store.clone(), 30_000, 1_000, &base).with_spotify(Some(access.clone())),
        spotify: Some(access),
        auth_rate_limit_per_minute: auth_per_minute,
        sessions: spotify_history_web::Sessions::new(cipher.clone(), false),
        uploads: crate::test_uploads(),
    });
    // The real `serve`, so requests carry the client address the rate limit counts by.
    tokio::spawn(spotify_history_web::serve(
        listener,
        app,
        std::future::pending(),
    ));
    App {
        base,
        spotify,
        client,
        cipher,
        store: store.clone(),
    }
}

/// A browser: follows nothing by itself, keeps the app's cookies (sign-in nonce, session,
/// new token) and sends them all back.
pub(crate) struct Browser {
    http: reqwest::Client,
    cookies: std::collections::BTreeMap<String, String>,
}

impl Browser {
    pub(crate) fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Default::default(),
        }
    }

    pub(crate) async fn get(&mut self, url: &str) -> reqwest::Response {
        let request = self.http.get(url).header("accept", "text/html");
        self.send(request).await
    }

    /// Sends `request` with the cookies, and keeps the ones the answer sets.
    pub(crate) async fn send(&mut self, mut request: reqwest::RequestBuilder) -> reqwest::Response {
        if !self.cookies.is_empty() {
            let header: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header(COOKIE, header.join("; "));
        }
        let response = request.send().await.unwrap();
        for set in response.headers().get_all(SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        response
    }

    pub(crate) fn has_cookie(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }

    /// `/auth/login` (with `query`, e.g. `?next=...`) and Spotify's `/authorize`: returns the
    /// callback URL Spotify sends the browser back to, not yet visited.
    async fn through_spotify(&mut self, app: &App, query: &str) -> String {
        let login = self.get(&format!("{}/auth/login{query}", app.base)).await;
        assert_eq!(login.status(), 302, "{}", login.text().await.unwrap());
        let authorize = location(&login);
        assert!(
            authorize.starts_with(&app.spotify.accounts_base()),
            "{authorize}"
        );
        let back = self.get(&authorize).await;
        assert_eq!(back.status(), 302);
        let callback = location(&back);
        assert!(
            callback.starts_with(&format!("{}/auth/callback?", app.base)),
            "{callback}"
        );
        callback
    }

    /// The whole sign-in; returns the callback's answer.
    pub(crate) async fn sign_in(&mut self, app: &App, query: &str) -> reqwest::Response {
        let callback = self.through_spotify(app, query).await;
        self.get(&callback).await
    }
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

fn param(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut url = Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                value.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.into()
}

/// The new token shown on `/me`, if any.
pub(crate) fn shown_token(page: &str) -> Option<String> {
    let start = page.find(r#"id="new-token">"#)? + r#"id="new-token">"#.len();
    let end = start + page[start..].find("</pre>")?;
    Some(page[start..end].trim().to_owned())
}

async fn spotify_user(store: &Store, spotify_id: &str) -> Vec<User> {
    store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.spotify_user_id.as_deref() == Some(spotify_id))
        .collect()
}

pub(crate) fn ann(app: &App) -> FakeUser {
    let ann = app.spotify.add_user("ann-spotify", "Ann <b>Ö</b>");
    app.spotify.set_next_login(&ann);
    ann
}

store_test!(
    signing_in_shows_a_working_mcp_token_and_stores_tokens_encrypted,
    |db| {
        let app = start(&db.store, 1_000).await;
        ann(&app);
        let mut browser = Browser::new();
        let back = browser.sign_in(&app, "").await;

        // The callback starts a listener session and sends the browser to its own page.
        assert_eq!(back.status(), 303);
        assert_eq!(location(&back), "/me");
        let headers = back.headers().clone();
        assert_eq!(headers[CACHE_CONTROL], "no-store");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        let set: Vec<&str> = headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert!(
            set.iter()
                .any(|c| c.starts_with("sph_sign_in=;") && c.contains("Max-Age=0")),
            "the sign-in cookie is cleared: {set:?}"
        );
        assert!(
            set.iter()
                .any(|c| c.starts_with("sph_session=") && c.contains("HttpOnly"))
        );
        let carried = set
            .iter()
            .find(|c| c.starts_with("sph_new_token="))
            .expect("the first token travels to /me")
            .to_string();
        assert!(!browser.has_cookie("sph_sign_in"));

        let page = browser.get(&format!("{}/me", app.base)).await;
        assert_eq!(page.status(), 200);
        let headers = page.headers().clone();
        assert_eq!(headers[CACHE_CONTROL], "no-store");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let body = page.text().await.unwrap();
        assert!(body.contains("Hello, Ann "), "{body}");
        assert!(
            !body.contains("<b>Ö</b>"),
            "the display name is escaped: {body}"
        );
        let token = shown_token(&body).expect("a token on the page");
        assert!(token.starts_with("sph_"), "{token}");
        let mcp_url = format!("{}/mcp", app.base);
        assert!(
            body.contains(&format!(
                r#"MCP server URL: <code id="mcp-url">{mcp_url}</code>"#
            )),
            "{body}"
        );
        assert!(body.contains(&format!(
        "claude mcp add --transport http spotify-history {mcp_url} --header &#34;Authorization: Bearer {token}&#34;"
    )) || body.contains(&format!(
        "claude mcp add --transport http spotify-history {mcp_url} --header &quot;Authorization: Bearer {token}&quot;"
    )), "{body}");

        assert!(
            !carried.contains(&token),
            "the token travels sealed: {carried}"
        );
        // Shown once: the cookie that carried it is gone, and so is the token on a reload.
        assert!(!browser.has_cookie("sph_new_token"));
        let again = browser
            .get(&format!("{}/me", app.base))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(shown_token(&again), None);
        assert!(!again.contains(&token), "the token is never shown twice");

        // The token works on the tool surface.
        let tools = reqwest::Client::new()
            .get(format!("{}/mcp/tools", app.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(tools.status(), 200);

        // Spotify was asked with PKCE (S256) and the exact redirect URI.
        let authorize = app.spotify.requests_to("/authorize");
        assert_eq!(authorize.len(), 1);
        assert_eq!(
            authorize[0].query_param("code_challenge_method").as_deref(),
            Some("S256")
        );
        assert_eq!(
            authorize[0].query_param("code_challenge").map(|c| c.len()),
            Some(43)
        );
        assert_eq!(
            authorize[0].query_param("redirect_uri"),
            Some(format!("{}/auth/callback", app.base))
        );
        assert_eq!(
            authorize[0].query_param("scope").as_deref(),
            Some("user-read-recently-played user-top-read")
        );

        // The listener exists, linked, with one token named for the sign-in.
        let users = spotify_user(&app.store, "ann-spotify").await;
        assert_eq!(users.len(), 1);
        let user = &users[0];
        assert_eq!(user.display_name.as_deref(), Some("Ann <b>Ö</b>"));
        assert!(!user.needs_reauth);
        let tokens = app.store.list_api_tokens(Some(user.id)).await.unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].name, "mcp (sign-in)");

        // Spotify's tokens are stored encrypted, and decrypt to tokens Spotify accepts.
        let link = app
            .store
            .spotify_link(user.id)
            .await
            .unwrap()
            .expect("a Spotify link");
        let stored_access = link.access_token.clone().expect("an access token");
        let access = app.cipher.decrypt(&stored_access).unwrap();
        let refresh = app.cipher.decrypt(&link.refresh_token).unwrap();
        for (stored, plain) in [(&stored_access, &access), (&link.refresh_token, &refresh)] {
            assert!(!plain.expose().is_empty());
            assert!(
                !stored.contains(plain.expose()),
                "stored in clear: {stored}"
            );
        }
        let me = reqwest::Client::new()
            .get(format!("{}/v1/me", app.spotify.api_base()))
            .bearer_auth(access.expose())
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);
        assert_eq!(
            me.json::<serde_json::Value>().await.unwrap()["id"],
            "ann-spotify"
        );
        let refreshed = app.client.refresh(&refresh, jiff::Timestamp::now()).await;
        assert!(
            refreshed.is_ok(),
            "the stored refresh token works: {refreshed:?}"
        );
    }
);

store_test!(
    signing_in_again_updates_the_same_user_and_makes_no_second_token,
    |db| {
        let app = start(&db.store, 1_000).await;
        ann(&app);
        let mut browser = Browser::new();
        browser.sign_in(&app, "").await;
        let first = browser
            .get(&format!("{}/me", app.base))
            .await
            .text()
            .await
            .unwrap();
        let first_token = shown_token(&first).unwrap();
        let user = spotify_user(&app.store, "ann-spotify").await.remove(0);
        app.store
            .mark_needs_reauth(user.id, "refresh token expired")
            .await
            .unwrap();

        let mut browser = Browser::new();
        let again = browser.sign_in(&app, "").await;
        assert_eq!(again.status(), 303);
        assert_eq!(location(&again), "/me");
        assert!(
            !browser.has_cookie("sph_new_token"),
            "no new token to carry"
        );
        let again = browser.get(&format!("{}/me", app.base)).await;
        assert_eq!(again.headers()[CACHE_CONTROL], "no-store");
        let body = again.text().await.unwrap();
        assert!(body.contains("Hello, Ann"), "{body}");
        assert!(
            body.contains("mcp (sign-in)"),
            "the existing token is listed: {body}"
        );
        assert!(body.contains("Create token"), "{body}");
        assert_eq!(shown_token(&body), None);
        assert!(!body.contains(&first_token), "old tokens are never shown");

        let users = spotify_user(&app.store, "ann-spotify").await;
        assert_eq!(users.len(), 1, "the same user");
        assert_eq!(users[0].id, user.id);
        assert!(!users[0].needs_reauth, "a new sign-in clears needs_reauth");
        assert_eq!(app.store.list_users().await.unwrap().len(), 1);
        assert_eq!(
            app.store
                .list_api_tokens(Some(user.id))
                .await
                .unwrap()
                .len(),
            1
        );
        let link = app.store.spotify_link(user.id).await.unwrap().unwrap();
        assert!(link.access_token.is_some(), "fresh tokens stored");
        assert_eq!(link.last_error, None);
    }
);

store_test!(next_urls_with_dots_and_ports_are_redirected_to, |db| {
    let app = start(&db.store, 1_000).await;
    ann(&app);
    let next = "https://music.example.co.uk:8443/after.sign-in/v1.2?x=1.5&y=a.b";
    let query = format!(
        "?next={}",
        form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    let answer = Browser::new().sign_in(&app, &query).await;
    assert_eq!(answer.status(), 303);
    assert_eq!(location(&answer), next);

    let answer = Browser::new().sign_in(&app, "?next=/healthz").await;
    assert_eq!(answer.status(), 303);
    assert_eq!(location(&answer), "/healthz");

    // A loopback app on another port, as a local MCP client would use.
    let answer = Browser::new()
        .sign_in(&app, "?next=http://127.0.0.1:33418/done")
        .await;
    assert_eq!(location(&answer), "http://127.0.0.1:33418/done");

    let user = spotify_user(&app.store, "ann-spotify").await.remove(0);
    assert!(
        app.store
            .list_api_tokens(Some(user.id))
            .await
            .unwrap()
            .is_empty(),
        "no token is made that nobody would see"
    );

    let mut browser = Browser::new();
    for bad in [
        "javascript:alert(1)",
        "ftp://example.org/x",
        "//evil.example/x",
        "relative",
    ] {
        let query = form_urlencoded::byte_serialize(bad.as_bytes()).collect::<String>();
        let answer = browser
            .get(&format!("{}/auth/login?next={query}", app.base))
            .await;
        assert_eq!(answer.status(), 400, "{bad}");
        let body = answer.text().await.unwrap();
        assert!(body.contains("http(s) URL"), "{bad}: {body}");
    }
});

store_test!(tampered_expired_or_foreign_states_are_refused, |db| {
    let app = start(&db.store, 1_000).await;
    ann(&app);
    let mut browser = Browser::new();
    let callback = browser.through_spotify(&app, "").await;
    let state = param(&callback, "state").unwrap();

    // Altered.
    let mut altered = state.clone().into_bytes();
    let middle = altered.len() / 2;
    altered[middle] = if altered[middle] == b'A' { b'B' } else { b'A' };
    let altered = with_param(&callback, "state", std::str::from_utf8(&altered).unwrap());
    let answer = browser.get(&altered).await;
    assert_eq!(answer.status(), 400);
    let body = answer.text().await.unwrap();
    assert!(
        body.contains("expired") && body.contains("/auth/login"),
        "{body}"
    );

    // The same state, sealed again with the server's key as if made 11 minutes ago.
    let fernet = fernet::Fernet::new(KEY).unwrap();
    let payload = fernet.decrypt(&state).unwrap();
    let now = jiff::Timestamp::now().as_second() as u64;
    let expired = with_param(
        &callback,
        "state",
        &fernet.encrypt_at_time(&payload, now - 11 * 60),
    );
    let answer = browser.get(&expired).await;
    assert_eq!(answer.status(), 400);
    assert!(answer.text().await.unwrap().contains("within 10 minutes"));

    // Another browser (no sign-in cookie) with the genuine URL.
    let answer = Browser::new().get(&callback).await;
    assert_eq!(answer.status(), 400);
    assert!(answer.text().await.unwrap().contains("another browser"));
    assert!(
        app.store.list_users().await.unwrap().is_empty(),
        "nobody was signed in"
    );
    assert!(
        app.spotify.requests_to("/api/token").is_empty(),
        "no code was exchanged"
    );

    // 9 minutes old is still fine: the code was never spent, and the sign-in completes.
    let recent = with_param(
        &callback,
        "state",
        &fernet.encrypt_at_time(&payload, now - 9 * 60),
    );
    let answer = browser.get(&recent).await;
    assert_eq!(answer.status(), 303);
    assert_eq!(location(&answer), "/me");
    assert_eq!(spotify_user(&app.store, "ann-spotify").await.len(), 1);
});

store_test!(
    refusals_and_failures_at_spotify_end_on_pages_that_say_what_to_do,
    |db| {
        let app = start(&db.store, 1_000).await;
        let ann = ann(&app);

        // The listener clicks "Cancel" at Spotify.
        app.spotify.deny_next_login();
        let answer = Browser::new().sign_in(&app, "").await;
        assert_eq!(answer.status(), 403);
        let body = answer.text().await.unwrap();
        assert!(
            body.contains("not allowed") && body.contains("/auth/login"),
            "{body}"
        );

        // A code Spotify does not know: invalid_grant.
        let mut browser = Browser::new();
        let callback = browser.through_spotify(&app, "").await;
        let answer = browser
            .get(&with_param(&callback, "code", "made-up-code"))
            .await;
        assert_eq!(answer.status(), 400);
        let body = answer.text().await.unwrap();
        assert!(
            body.contains("Spotify did not accept this sign-in")
                && body.contains("Start again at /auth/login"),
            "{body}"
        );

        // PKCE: a real code, finished with another sign-in's state (so another verifier).
        let mut first = Browser::new();
        let first_callback = first.through_spotify(&app, "").await;
        let mut second = Browser::new();
        let second_callback = second.through_spotify(&app, "").await;
        let swapped = with_param(
            &second_callback,
            "code",
            &param(&first_callback, "code").unwrap(),
        );
        let answer = second.get(&swapped).await;
        assert_eq!(answer.status(), 400);
        assert!(
            answer
                .text()
                .await
                .unwrap()
                .contains("code_verifier was incorrect")
        );

        // A Spotify account missing from the app's User Management (development mode).
        app.spotify.set_registered(&ann, false);
        let answer = Browser::new().sign_in(&app, "").await;
        assert_eq!(answer.status(), 403);
        let body = answer.text().await.unwrap();
        assert!(
            body.contains("User not registered") && body.contains("User Management"),
            "{body}"
        );
        app.spotify.set_registered(&ann, true);

        // Spotify's Accounts service is down.
        app.spotify.fail_next(Failure::AccountsUnavailable, 1);
        let answer = Browser::new().sign_in(&app, "").await;
        assert_eq!(answer.status(), 502);
        assert!(
            answer
                .text()
                .await
                .unwrap()
                .contains("Spotify could not be reached")
        );

        assert!(
            app.store.list_users().await.unwrap().is_empty(),
            "no failed sign-in made a user"
        );

        // Spotify rate-limits the app: the listener is told when to come back.
        app.spotify.fail_next(
            Failure::RateLimited {
                retry_after_secs: Some(120),
            },
            1,
        );
        let answer = Browser::new().sign_in(&app, "").await;
        assert_eq!(answer.status(), 503);
        let retry: u64 = answer.headers()[RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((100..=120).contains(&retry), "{retry}");
        assert!(
            answer
                .text()
                .await
                .unwrap()
                .contains("Spotify is asking this server to wait")
        );
        assert!(app.store.list_users().await.unwrap().is_empty());
    }
);

store_test!(sign_in_is_rate_limited_per_client_address, |db| {
    let app = start(&db.store, 3).await;
    let mut browser = Browser::new();
    for _ in 0..3 {
        let login = browser.get(&format!("{}/auth/login", app.base)).await;
        assert_eq!(login.status(), 302);
    }
    for path in ["/auth/login", "/auth/callback?code=x&state=y"] {
        let answer = browser.get(&format!("{}{path}", app.base)).await;
        assert_eq!(answer.status(), 429, "{path}");
        let retry: u64 = answer.headers()[RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert!(
            answer
                .text()
                .await
                .unwrap()
                .contains("Too many sign-in attempts")
        );
    }
    // Other routes are not counted.
    let health = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert_eq!(health.status(), 200);
});

store_test!(without_a_spotify_app_sign_in_answers_503, |db| {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let app = crate::app(&db.store);
    for path in ["/auth/login", "/auth/callback?code=x&state=y"] {
        for accept in ["application/json", "text/html"] {
            let request = axum::http::Request::get(path)
                .header("accept", accept)
                .body(Body::empty())
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), 503, "{path}");
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            let body = String::from_utf8(bytes.to_vec()).unwrap();
            assert!(
                body.contains("SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET"),
                "{body}"
            );
            if accept == "application/json" {
                let json: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(json["error"]["code"], "spotify_not_configured");
            } else {
                assert!(body.starts_with("<!doctype html>"), "{body}");
            }
        }
    }
});

impl Browser {
    /// Signs in to the admin UI with a new admin token.
    async fn admin_session(&mut self, app: &App) {
        let token = app.store.create_api_token(None, "admin").await.unwrap();
        let request = self
            .http
            .post(format!("{}/admin/login", app.base))
            .form(&[("token", token.plaintext.expose())]);
        let answer = self.send(request).await;
        assert_eq!(answer.status(), 303);
    }

    /// The admin page of `user`, and the CSRF token its forms carry.
    async fn user_page(&mut self, app: &App, user: UserId) -> (String, String) {
        let page = self
            .get(&format!("{}/admin/ui/users/{user}", app.base))
            .await;
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        let start = page.find("?csrf=").expect("a form with the CSRF token") + "?csrf=".len();
        let csrf = page[start..].split('"').next().unwrap().to_owned();
        (page, csrf)
    }

    /// Posts the user page's form for `action` (`link-spotify`, `unlink-spotify`) with
    /// `csrf`, `host` overriding the request's Host; returns the answer.
    async fn post_action(
        &mut self,
        app: &App,
        user: UserId,
        action: &str,
        csrf: &str,
        host: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.http.post(format!(
            "{}/admin/ui/users/{user}/{action}?csrf={csrf}",
            app.base
        ));
        if let Some(host) = host {
            request = request.header(reqwest::header::HOST, host);
        }
        self.send(request).await
    }

    /// Presses "Link a Spotify account" on the user's admin page (`host` overriding the
    /// request's Host); returns the answer.
    async fn press_link(
        &mut self,
        app: &App,
        user: UserId,
        host: Option<&str>,
    ) -> reqwest::Response {
        let (page, csrf) = self.user_page(app, user).await;
        assert!(page.contains(r#"id="link-spotify""#), "{page}");
        self.post_action(app, user, "link-spotify", &csrf, host)
            .await
    }

    /// Links the Spotify account that signs in next to `user` from its admin page, through
    /// Spotify; returns the callback URL, not yet visited.
    async fn link_through_spotify(&mut self, app: &App, user: UserId) -> String {
        // A page that goes on to Spotify: the admin pages let forms, and their redirects,
        // lead to this site only.
        let start = self.press_link(app, user, None).await;
        assert_eq!(start.status(), 200);
        let page = start.text().await.unwrap();
        let link = r#"id="continue-to-spotify" href=""#;
        let escaped = &page[page.find(link).expect("a link on to Spotify") + link.len()..];
        let escaped = &escaped[..escaped.find('"').unwrap()];
        assert!(
            page.contains(&format!(
                r#"<meta http-equiv="refresh" content="0; url={escaped}">"#
            )),
            "{page}"
        );
        let authorize = escaped.replace("&#38;", "&").replace("&amp;", "&");
        assert!(
            authorize.starts_with(&app.spotify.accounts_base()),
            "{authorize}"
        );
        // Spotify asks who signs in, even in a browser that approved the app before.
        assert_eq!(param(&authorize, "show_dialog").as_deref(), Some("true"));
        let back = self.get(&authorize).await;
        assert_eq!(back.status(), 302);
        location(&back)
    }

    async fn link_spotify(&mut self, app: &App, user: UserId) -> reqwest::Response {
        let callback = self.link_through_spotify(app, user).await;
        self.get(&callback).await
    }
}

store_test!(
    an_administrator_links_an_imported_user_to_the_spotify_account_that_signs_in,
    |db| {
        let app = start(&db.store, 1_000).await;
        let me = db.store.create_user("me", None).await.unwrap();
        let ann = ann(&app);
        let mut admin = Browser::new();
        admin.admin_session(&app).await;

        let back = admin.link_spotify(&app, me.id).await;
        assert_eq!(back.status(), 303);
        assert_eq!(
            location(&back),
            format!("/admin/ui/users/{}?notice=linked", me.id)
        );
        // No listener session and no MCP token: the administrator only linked.
        assert!(
            back.headers().get_all(SET_COOKIE).iter().all(|c| !c
                .to_str()
                .unwrap()
                .starts_with("sph_session=")
                && !c.to_str().unwrap().starts_with("sph_new_token="))
        );
        assert!(
            db.store
                .list_api_tokens(Some(me.id))
                .await
                .unwrap()
                .is_empty()
        );
        // The imported user holds the account and its tokens; no user was made for it.
        let linked = spotify_user(&db.store, "ann-spotify").await;
        assert_eq!(linked.iter().map(|u| u.id).collect::<Vec<_>>(), [me.id]);
        assert_eq!(linked[0].display_name.as_deref(), Some("Ann <b>Ö</b>"));
        assert!(db.store.spotify_link(me.id).await.unwrap().is_some());
        assert_eq!(db.store.list_users().await.unwrap().len(), 1);
        let page = admin.get(&format!("{}{}", app.base, location(&back))).await;
        let page = page.text().await.unwrap();
        assert!(page.contains("Spotify account linked"), "{page}");
        assert!(!page.contains(r#"id="link-spotify""#));

        // The listener's own sign-in now reaches the same user.
        app.spotify.set_next_login(&ann);
        let mut own = Browser::new();
        assert_eq!(location(&own.sign_in(&app, "").await), "/me");
        assert_eq!(db.store.list_users().await.unwrap().len(), 1);
        assert_eq!(own.get(&format!("{}/me", app.base)).await.status(), 200);

        // A wrong account is unlinked from the same page, and another one linked.
        let (page, csrf) = admin.user_page(&app, me.id).await;
        assert!(
            page.contains("Unlink Spotify account ann-spotify"),
            "{page}"
        );
        let unlinked = admin
            .post_action(&app, me.id, "unlink-spotify", &csrf, None)
            .await;
        assert_eq!(
            location(&unlinked),
            format!("/admin/ui/users/{}?notice=unlinked", me.id)
        );
        assert!(spotify_user(&db.store, "ann-spotify").await.is_empty());
        assert!(db.store.spotify_link(me.id).await.unwrap().is_none());
        // Whoever signed in with that account is out: their session and tokens end with it.
        assert_eq!(own.get(&format!("{}/me", app.base)).await.status(), 401);
        let tokens = db.store.list_api_tokens(Some(me.id)).await.unwrap();
        assert!(!tokens.is_empty() && tokens.iter().all(|t| !t.is_active()));
        let bob = app.spotify.add_user("bob-spotify", "Bob");
        app.spotify.set_next_login(&bob);
        assert_eq!(admin.link_spotify(&app, me.id).await.status(), 303);
        assert_eq!(spotify_user(&db.store, "bob-spotify").await[0].id, me.id);
        assert_eq!(db.store.list_users().await.unwrap().len(), 1);
        // Linked to another account, the user is not the first account owner's again.
        assert_eq!(own.get(&format!("{}/me", app.base)).await.status(), 401);
    }
);

store_test!(
    a_spotify_account_is_linked_to_one_user_and_a_user_to_one_account,
    |db| {
        let app = start(&db.store, 1_000).await;
        ann(&app);
        let signed_in = Browser::new().sign_in(&app, "").await;
        assert_eq!(location(&signed_in), "/me");
        let holder = spotify_user(&db.store, "ann-spotify").await.remove(0);
        let imported = db.store.create_user("imported", None).await.unwrap();
        let mut admin = Browser::new();
        admin.admin_session(&app).await;

        // Ann's account is held by the user her own sign-in made.
        ann(&app);
        let refused = admin.link_spotify(&app, imported.id).await;
        assert_eq!(refused.status(), 409);
        let page = refused.text().await.unwrap();
        assert!(
            page.contains(&format!("already linked to user &#34;{}&#34;", holder.name)),
            "{page}"
        );
        assert!(page.contains("Nothing was changed"));
        assert!(
            !admin.has_cookie("sph_sign_in"),
            "the refused sign-in is over"
        );
        assert_eq!(
            db.store
                .get_user(imported.id)
                .await
                .unwrap()
                .spotify_user_id,
            None
        );
        assert!(db.store.spotify_link(imported.id).await.unwrap().is_none());
        assert_eq!(spotify_user(&db.store, "ann-spotify").await, [holder]);

        // Linked to Bob's account, the user takes no other; Bob's again renews the tokens.
        let bob = app.spotify.add_user("bob-spotify", "Bob");
        app.spotify.set_next_login(&bob);
        assert_eq!(admin.link_spotify(&app, imported.id).await.status(), 303);
        let link = spotify_history_testkit::sign_in_of;
        match db
            .store
            .link_spotify_to(imported.id, &link("carl-spotify"))
            .await
        {
            Err(StoreError::Conflict(why)) => {
                assert!(
                    why.contains("is already linked to Spotify account bob-spotify"),
                    "{why}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(spotify_user(&db.store, "carl-spotify").await.is_empty());
        let again = db
            .store
            .link_spotify_to(imported.id, &link("bob-spotify"))
            .await
            .unwrap();
        assert_eq!(again.id, imported.id);
        assert_eq!(
            db.store
                .spotify_link(imported.id)
                .await
                .unwrap()
                .unwrap()
                .refresh_token,
            "sealed-refresh"
        );
        assert_eq!(db.store.list_users().await.unwrap().len(), 2);
    }
);

store_test!(a_link_ends_clearly_when_it_cannot_be_made, |db| {
    let app = start(&db.store, 1_000).await;
    let gone = db.store.create_user("gone", None).await.unwrap();
    ann(&app);
    let mut admin = Browser::new();
    admin.admin_session(&app).await;

    // The user was deleted while the administrator was at Spotify.
    let callback = admin.link_through_spotify(&app, gone.id).await;
    db.store.delete_user(gone.id).await.unwrap();
    let answer = admin.get(&callback).await;
    assert_eq!(answer.status(), 404);
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .contains("The user to link is gone")
    );
    assert!(db.store.list_users().await.unwrap().is_empty());

    // A link's way back from Spotify finishes only in the browser that started it.
    let me = db.store.create_user("me", None).await.unwrap();
    let callback = admin.link_through_spotify(&app, me.id).await;
    let elsewhere = Browser::new().get(&callback).await;
    assert_eq!(elsewhere.status(), 400);
    assert!(
        elsewhere
            .text()
            .await
            .unwrap()
            .contains("started in another browser")
    );
    assert_eq!(
        db.store.get_user(me.id).await.unwrap().spotify_user_id,
        None
    );

    // Only an administrator's form starts a link: not without its CSRF token, not a listener.
    let path = format!("{}/admin/ui/users/{}/link-spotify", app.base, me.id);
    let forged = admin.send(admin.http.post(&path)).await;
    assert_eq!(forged.status(), 403);
    assert!(
        forged
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("sph_sign_in=")),
        "no sign-in was started"
    );
    let signed_in = {
        let mut listener = Browser::new();
        assert_eq!(location(&listener.sign_in(&app, "").await), "/me");
        listener
    };
    let mut listener = signed_in;
    let refused = listener.send(listener.http.post(&path)).await;
    assert_ne!(refused.status(), 200, "{refused:?}");
    assert!(
        !listener.has_cookie("sph_sign_in"),
        "no sign-in was started"
    );
    assert!(
        !refused
            .text()
            .await
            .unwrap()
            .contains("continue-to-spotify")
    );
    assert_eq!(
        db.store.get_user(me.id).await.unwrap().spotify_user_id,
        None
    );

    // A user linked already is refused before Spotify is asked.
    let ann_user = spotify_user(&db.store, "ann-spotify").await.remove(0);
    let (_, csrf) = admin.user_page(&app, ann_user.id).await;
    let linked = admin
        .post_action(&app, ann_user.id, "link-spotify", &csrf, None)
        .await;
    assert_eq!(linked.status(), 409);

    // On `localhost`, Spotify would send the browser back to 127.0.0.1, without the session.
    let port = app.base.rsplit(':').next().unwrap();
    let refused = admin
        .press_link(&app, me.id, Some(&format!("localhost:{port}")))
        .await;
    assert_eq!(refused.status(), 400);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains(&format!("{}/admin/ui/users/{}", app.base, me.id)),
        "{page}"
    );
});

store_test!(a_listeners_own_sign_in_never_links_another_user, |db| {
    let app = start(&db.store, 1_000).await;
    let me = db.store.create_user("me", None).await.unwrap();
    ann(&app);
    // No address can name a user to link: such a parameter is no part of a sign-in.
    let back = Browser::new()
        .sign_in(
            &app,
            &format!("?link={}&link_user={}&u={}", me.id, me.id, me.id),
        )
        .await;
    assert_eq!(location(&back), "/me");
    assert_eq!(
        db.store.get_user(me.id).await.unwrap().spotify_user_id,
        None
    );
    assert_eq!(spotify_user(&db.store, "ann-spotify").await.len(), 1);
});

store_test!(
    a_display_name_our_rules_refuse_is_left_out_of_a_sign_in,
    |db| {
        let app = start(&db.store, 1_000).await;
        let odd = app.spotify.add_user("odd-spotify", "Odd\u{0}Name");
        app.spotify.set_next_login(&odd);
        let back = Browser::new().sign_in(&app, "").await;
        assert_eq!(location(&back), "/me");
        let user = spotify_user(&db.store, "odd-spotify").await.remove(0);
        assert_eq!(user.display_name, None);
    }
);
