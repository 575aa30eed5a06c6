//! The live Spotify tools through a real MCP client, against the fake Spotify over real HTTP:
//! answers come from Spotify with the listener's stored (encrypted) sign-in; expired access
//! tokens are refreshed on the way; dead sign-ins, missing links and rate limits come back as
//! tool errors that say what to do.

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};
use spotify_history_core::{Secret, UserId};
use spotify_history_mcp::McpState;
use spotify_history_spotify::{
    SpotifyAccess, SpotifyApp, SpotifyClient, SpotifyConfig, TokenCipher,
};
use spotify_history_store::{NewSpotifyLink, Store};
use spotify_history_testkit::fake_spotify::{self, Failure, FakeSpotify, FakeUser};
use spotify_history_testkit::store_test;
use spotify_history_web::{AppState, Authenticator, router};

struct Live {
    base: String,
    spotify: FakeSpotify,
    fake_ann: FakeUser,
    ann: UserId,
    ann_token: String,
    bob_token: String,
}

const REDIRECT_URI: &str = "http://127.0.0.1:8000/auth/callback";

/// The app with Spotify configured: ann signed in (tokens stored encrypted), bob did not.
async fn start(store: &Store, spotify_configured: bool) -> Live {
    let spotify = FakeSpotify::start().await;
    spotify.add_redirect_uri(REDIRECT_URI);
    let fake_ann = spotify.add_user("ann-spotify", "Ann");
    spotify.simulate_listening(
        &fake_ann,
        spotify.now() - jiff::SignedDuration::from_hours(3),
        spotify.now(),
        jiff::SignedDuration::from_mins(4),
    );
    let cipher = TokenCipher::new(&Secret::new(fernet_key())).unwrap();
    let tokens = spotify.issue_tokens(&fake_ann);
    let ann = store
        .link_spotify(&NewSpotifyLink {
            spotify_user_id: &fake_ann.spotify_id,
            display_name: Some("Ann"),
            refresh_token: &cipher.encrypt(&Secret::new(tokens.refresh_token)),
            access_token: &cipher.encrypt(&Secret::new(tokens.access_token)),
            access_expires_at: (spotify.now() + spotify.access_token_lifetime()).as_millisecond(),
            scope: &fake_spotify::DEFAULT_SCOPES.join(" "),
        })
        .await
        .unwrap()
        .id;
    let bob = store.create_user("bob", None).await.unwrap().id;
    let token = async |user| {
        store
            .create_api_token(Some(user), "t")
            .await
            .unwrap()
            .plaintext
            .expose()
            .to_string()
    };
    let (ann_token, bob_token) = (token(ann).await, token(bob).await);

    let access = spotify_configured.then(|| {
        let client = SpotifyClient::new(SpotifyConfig {
            app: SpotifyApp {
                client_id: fake_spotify::CLIENT_ID.into(),
                client_secret: Secret::new(fake_spotify::CLIENT_SECRET),
                redirect_uri: REDIRECT_URI.into(),
            },
            api_base_url: spotify.api_base(),
            accounts_base_url: spotify.accounts_base(),
            timeout: std::time::Duration::from_secs(10),
        })
        .unwrap();
        SpotifyAccess::new(client, store.clone(), cipher.clone())
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(AppState {
        store: store.clone(),
        auth: Authenticator::new(store.clone(), None),
        mcp: McpState::new(store.clone(), 30_000, 1_000, &base).with_spotify(access.clone()),
        spotify: access,
        auth_rate_limit_per_minute: 1_000,
        sessions: spotify_history_web::Sessions::new(crate::test_cipher(), false),
        uploads: crate::test_uploads(),
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Live {
        base,
        spotify,
        fake_ann,
        ann,
        ann_token,
        bob_token,
    }
}

fn fernet_key() -> String {
    // 32 bytes, URL-safe base64: a fixed test key.
    "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=".into()
}

async fn call(base: &str, token: &str, tool: &str, args: Value) -> CallToolResult {
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(format!("{base}/mcp"))
            .auth_header(token.to_string()),
    );
    let client = ().serve(transport).await.expect("MCP handshake");
    let result = client
        .call_tool(
            CallToolRequestParams::new(tool.to_string())
                .with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    client.cancel().await.unwrap();
    result
}

fn error_text(result: &CallToolResult) -> String {
    assert_eq!(
        result.is_error,
        Some(true),
        "expected a tool error: {result:?}"
    );
    serde_json::to_string(&result.content).unwrap()
}

fn structured(result: CallToolResult) -> Value {
    assert_ne!(result.is_error, Some(true), "{result:?}");
    result.structured_content.expect("structured content")
}

store_test!(
    live_tools_answer_from_spotify_with_the_stored_sign_in,
    |db| {
        let live = start(&db.store, true).await;
        let catalogue = live.spotify.catalogue();

        let plays = live.spotify.plays(&live.fake_ann);
        let recent = structured(
            call(
                &live.base,
                &live.ann_token,
                "spotify_recently_played",
                json!({ "limit": 5 }),
            )
            .await,
        );
        let names: Vec<&str> = recent["plays"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["track"]["name"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = plays
            .iter()
            .rev()
            .take(5)
            .map(|p| p.track.name.as_str())
            .collect();
        assert_eq!(names, expected, "newest first, as Spotify reports them");

        let track = &catalogue.tracks[0];
        let got = structured(
            call(
                &live.base,
                &live.ann_token,
                "spotify_get_track",
                json!({ "id": track.uri() }),
            )
            .await,
        );
        assert_eq!(got["name"], track.name.as_str());
        assert_eq!(got["id"], track.id.as_str());
        assert_eq!(got["album_id"], track.album_id.as_str());

        let artist = &catalogue.artists[0];
        let got = structured(
            call(
                &live.base,
                &live.ann_token,
                "spotify_get_artist",
                json!({ "id": artist.id }),
            )
            .await,
        );
        assert_eq!(got["name"], artist.name.as_str());

        let album = &catalogue.albums[0];
        let got = structured(
            call(
                &live.base,
                &live.ann_token,
                "spotify_get_album",
                json!({ "id": album.id }),
            )
            .await,
        );
        assert_eq!(got["name"], album.name.as_str());
        let album_tracks = catalogue
            .tracks
            .iter()
            .filter(|t| t.album_id == album.id)
            .count();
        assert_eq!(got["tracks"].as_array().unwrap().len(), album_tracks);

        let found = structured(
            call(
                &live.base,
                &live.ann_token,
                "spotify_search",
                json!({ "query": track.name, "types": ["track"], "limit": 3 }),
            )
            .await,
        );
        assert!(
            found["tracks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["id"] == track.id.as_str()),
            "{found}"
        );
        let too_many = call(
            &live.base,
            &live.ann_token,
            "spotify_search",
            json!({ "query": "x", "limit": 11 }),
        )
        .await;
        assert!(error_text(&too_many).contains("between 1 and 10"));

        let top = structured(
            call(
                &live.base,
                &live.ann_token,
                "spotify_get_top",
                json!({ "type": "tracks", "time_range": "short_term", "limit": 3 }),
            )
            .await,
        );
        assert_eq!(top["type"], "tracks");
        assert_eq!(top["tracks"].as_array().unwrap().len(), 3);
    }
);

store_test!(
    an_expired_access_token_is_refreshed_and_the_new_tokens_stored,
    |db| {
        let live = start(&db.store, true).await;
        let before = db.store.spotify_link(live.ann).await.unwrap().unwrap();
        live.spotify.expire_access_tokens(&live.fake_ann);
        let recent = structured(
            call(
                &live.base,
                &live.ann_token,
                "spotify_recently_played",
                json!({}),
            )
            .await,
        );
        assert!(!recent["plays"].as_array().unwrap().is_empty());
        let after = db.store.spotify_link(live.ann).await.unwrap().unwrap();
        assert_ne!(
            after.access_token, before.access_token,
            "new access token saved"
        );
        assert_ne!(
            after.refresh_token, before.refresh_token,
            "rotated refresh token saved"
        );
        assert_eq!(
            live.spotify.requests_to("/api/token").len(),
            1,
            "one refresh"
        );
        // Neither token is stored in clear.
        for stored in [after.access_token.unwrap(), after.refresh_token] {
            assert!(!stored.contains("fake"), "{stored}");
        }
    }
);

store_test!(
    dead_sign_ins_missing_links_and_rate_limits_are_clear_tool_errors,
    |db| {
        let live = start(&db.store, true).await;

        // bob never signed in with Spotify.
        let result = call(
            &live.base,
            &live.bob_token,
            "spotify_recently_played",
            json!({}),
        )
        .await;
        assert!(error_text(&result).contains("/auth/login"), "{result:?}");

        // A 429 pauses every call for Retry-After, on every surface.
        live.spotify.fail_next(
            Failure::RateLimited {
                retry_after_secs: Some(120),
            },
            1,
        );
        let result = call(&live.base, &live.ann_token, "spotify_get_top", json!({})).await;
        assert!(error_text(&result).contains("rate limit"), "{result:?}");
        let requests = live.spotify.requests().len();
        let response = reqwest::Client::new()
            .post(format!("{}/mcp/call", live.base))
            .bearer_auth(&live.ann_token)
            .json(&json!({ "tool": "spotify.get_top", "args": {} }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 429);
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((100..=120).contains(&retry_after), "{retry_after}");
        assert_eq!(
            live.spotify.requests().len(),
            requests,
            "nothing sent while paused"
        );
        db.store
            .set_app_state("spotify_not_before", "2000-01-01T00:00:00Z")
            .await
            .unwrap();

        // Refresh token dead (six months passed): the user is marked, kept, and told to sign in.
        live.spotify.expire_refresh_token(&live.fake_ann);
        live.spotify.expire_access_tokens(&live.fake_ann);
        let result = call(
            &live.base,
            &live.ann_token,
            "spotify_recently_played",
            json!({}),
        )
        .await;
        assert!(
            error_text(&result).contains("sign in with Spotify again"),
            "{result:?}"
        );
        let ann = db.store.get_user(live.ann).await.unwrap();
        assert!(ann.needs_reauth);
        let link = db.store.spotify_link(live.ann).await.unwrap().unwrap();
        assert!(link.last_error.unwrap().contains("rejected the grant"));
        // No further refresh attempts until the listener signs in again.
        let token_requests = live.spotify.requests_to("/api/token").len();
        let again = call(
            &live.base,
            &live.ann_token,
            "spotify_recently_played",
            json!({}),
        )
        .await;
        assert!(error_text(&again).contains("sign in"));
        assert_eq!(live.spotify.requests_to("/api/token").len(), token_requests);
    }
);

store_test!(without_a_spotify_app_the_live_tools_say_so, |db| {
    let live = start(&db.store, false).await;
    let result = call(&live.base, &live.ann_token, "spotify_get_top", json!({})).await;
    assert!(
        error_text(&result).contains("SPOTIFY_CLIENT_ID"),
        "{result:?}"
    );
    assert!(live.spotify.requests().is_empty());
});
