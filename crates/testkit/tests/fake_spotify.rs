//! The fake Spotify keeps to the real API: it rejects what Spotify rejects and answers in
//! Spotify's shapes. Checked with a plain HTTP client, not the project's Spotify client.

use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde_json::Value;
use spotify_history_testkit::fake_spotify::{
    CLIENT_ID, CLIENT_SECRET, Failure, FakeSpotify, FakeTokens, NOT_REGISTERED_BODY,
};

const REDIRECT_URI: &str = "http://127.0.0.1:9/cb";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn fake_with_listener() -> (FakeSpotify, FakeTokens) {
    let spotify = FakeSpotify::start().await;
    spotify.add_redirect_uri(REDIRECT_URI);
    let ann = spotify.add_user("ann", "Ann");
    spotify.set_next_login(&ann);
    let now = spotify.now();
    spotify.simulate_listening(
        &ann,
        now - SignedDuration::from_hours(5),
        now,
        SignedDuration::from_mins(5),
    );
    let tokens = spotify.issue_tokens(&ann);
    (spotify, tokens)
}

async fn get(
    spotify: &FakeSpotify,
    token: &FakeTokens,
    path_and_query: &str,
) -> (StatusCode, Value) {
    let response = http()
        .get(format!("{}{path_and_query}", spotify.api_base()))
        .bearer_auth(&token.access_token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn error_message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

/// Runs `/authorize` and returns the redirect's query, or the status when there was none.
async fn authorize(
    spotify: &FakeSpotify,
    query: &str,
) -> Result<Vec<(String, String)>, StatusCode> {
    let response = http()
        .get(format!("{}/authorize?{query}", spotify.accounts_base()))
        .send()
        .await
        .unwrap();
    if response.status() != StatusCode::FOUND {
        return Err(response.status());
    }
    let location = reqwest::Url::parse(response.headers()[LOCATION].to_str().unwrap()).unwrap();
    Ok(location.query_pairs().into_owned().collect())
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn token_request(
    spotify: &FakeSpotify,
    form: &[(&str, &str)],
    basic: bool,
) -> (StatusCode, Value) {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut request = http()
        .post(format!("{}/api/token", spotify.accounts_base()))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body);
    if basic {
        request = request.basic_auth(CLIENT_ID, Some(CLIENT_SECRET));
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn recently_played_has_the_real_shape_and_limits() {
    let (spotify, tokens) = fake_with_listener().await;
    let (status, page) = get(&spotify, &tokens, "/v1/me/player/recently-played?limit=2").await;
    assert_eq!(status, StatusCode::OK);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let played_at = items[0]["played_at"].as_str().unwrap();
    assert_eq!(
        played_at.len(),
        "2026-01-01T10:00:00.000Z".len(),
        "{played_at}"
    );
    assert!(played_at.ends_with('Z'));
    assert!(items[0]["context"].is_null());
    let track = &items[0]["track"];
    assert!(track["external_ids"]["isrc"].is_string());
    for removed in ["popularity", "available_markets"] {
        assert!(
            track.get(removed).is_none(),
            "{removed} was removed from tracks"
        );
    }
    assert!(page["cursors"]["before"].is_string(), "cursors are strings");
    assert!(page["next"].as_str().unwrap().contains("before="));

    let (status, body) = get(
        &spotify,
        &tokens,
        "/v1/me/player/recently-played?after=1&before=2",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["status"], 400);
    let (status, _) = get(&spotify, &tokens, "/v1/me/player/recently-played?limit=51").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, page) = get(&spotify, &tokens, "/v1/me/player/recently-played?limit=50").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"].as_array().unwrap().len(), 50);
    assert!(
        page["next"].is_null(),
        "nothing older is visible than the latest 50"
    );
}

#[tokio::test]
async fn search_allows_at_most_10_results_and_defaults_to_5() {
    let (spotify, tokens) = fake_with_listener().await;
    let (status, body) = get(&spotify, &tokens, "/v1/search?q=e&type=track&limit=11").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_message(&body), "Invalid limit");
    let (status, body) = get(&spotify, &tokens, "/v1/search?q=e&type=track").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["tracks"]["limit"], 5);
    assert_eq!(body["tracks"]["items"].as_array().unwrap().len(), 5);
    assert!(body["tracks"]["total"].as_u64().unwrap() > 5);
    let (status, _) = get(&spotify, &tokens, "/v1/search?q=e&type=song").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn removed_batch_endpoints_and_fields_are_gone() {
    let (spotify, tokens) = fake_with_listener().await;
    let id = &spotify.catalogue().tracks[0].id;
    for kind in ["tracks", "artists", "albums"] {
        let (status, body) = get(&spotify, &tokens, &format!("/v1/{kind}?ids={id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{kind}");
        assert_eq!(body["error"]["status"], 404);
    }
    let (_, me) = get(&spotify, &tokens, "/v1/me").await;
    for removed in ["email", "country", "product"] {
        assert!(me.get(removed).is_none(), "/me no longer has {removed}");
    }
    let artist_id = &spotify.catalogue().artists[0].id;
    let (_, artist) = get(&spotify, &tokens, &format!("/v1/artists/{artist_id}")).await;
    assert!(artist.get("followers").is_none() && artist.get("popularity").is_none());
    assert_eq!(artist["genres"], serde_json::json!([]));
    let (status, _) = get(&spotify, &tokens, "/v1/tracks/not-an-id").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn not_registered_is_plain_text() {
    let (spotify, tokens) = fake_with_listener().await;
    spotify.fail_next(Failure::NotRegistered, 1);
    let response = http()
        .get(format!("{}/v1/me", spotify.api_base()))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(response.text().await.unwrap(), NOT_REGISTERED_BODY);
}

#[tokio::test]
async fn a_missing_or_expired_token_gets_the_json_401() {
    let (spotify, tokens) = fake_with_listener().await;
    let response = http()
        .get(format!("{}/v1/me", spotify.api_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    spotify.advance(spotify.access_token_lifetime());
    let (status, body) = get(&spotify, &tokens, "/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_message(&body), "The access token expired");
}

#[tokio::test]
async fn authorize_refuses_what_spotify_refuses() {
    let (spotify, _) = fake_with_listener().await;
    let ok = format!("client_id={CLIENT_ID}&response_type=code&redirect_uri={REDIRECT_URI}");
    assert_eq!(
        authorize(
            &spotify,
            &format!("client_id=nope&response_type=code&redirect_uri={REDIRECT_URI}")
        )
        .await,
        Err(StatusCode::BAD_REQUEST)
    );
    assert_eq!(
        authorize(
            &spotify,
            &format!(
                "client_id={CLIENT_ID}&response_type=code&redirect_uri=http://127.0.0.1:9/other"
            )
        )
        .await,
        Err(StatusCode::BAD_REQUEST),
        "an unregistered redirect URI is never redirected to"
    );
    let back = authorize(
        &spotify,
        &format!("{ok}&scope=user-read-everything&state=s"),
    )
    .await
    .unwrap();
    assert_eq!(param(&back, "error"), Some("invalid_scope"));
    assert_eq!(param(&back, "state"), Some("s"));
    let back = authorize(
        &spotify,
        &format!("{ok}&code_challenge=abc&code_challenge_method=plain"),
    )
    .await
    .unwrap();
    assert_eq!(param(&back, "error"), Some("invalid_request"));
    let back = authorize(
        &spotify,
        &format!("client_id={CLIENT_ID}&response_type=token&redirect_uri={REDIRECT_URI}"),
    )
    .await
    .unwrap();
    assert_eq!(param(&back, "error"), Some("unsupported_response_type"));
}

#[tokio::test]
#[should_panic(expected = "loopback")]
async fn localhost_redirect_uris_cannot_be_registered() {
    let spotify = FakeSpotify::start().await;
    spotify.add_redirect_uri("http://localhost:8000/auth/callback");
}

#[tokio::test]
async fn the_token_endpoint_is_strict_about_codes_and_clients() {
    let (spotify, _) = fake_with_listener().await;
    let ok = format!(
        "client_id={CLIENT_ID}&response_type=code&redirect_uri={REDIRECT_URI}&scope=user-top-read"
    );
    let code = param(&authorize(&spotify, &ok).await.unwrap(), "code")
        .unwrap()
        .to_owned();
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ];

    let (status, body) = token_request(
        &spotify,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
        ],
        true,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (_, body) = token_request(&spotify, &exchange, true).await;
    assert_eq!(
        body["error"], "invalid_grant",
        "a code is burnt by a failed exchange"
    );

    let code = param(&authorize(&spotify, &ok).await.unwrap(), "code")
        .unwrap()
        .to_owned();
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ];
    let (_, body) = token_request(&spotify, &exchange, false).await;
    assert_eq!(body["error"], "invalid_client", "no secret and no PKCE");
    let mut with_form_auth = exchange.to_vec();
    with_form_auth.extend([("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)]);
    let (status, body) = token_request(&spotify, &with_form_auth, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "user-top-read");
    assert!(body["refresh_token"].is_string());

    let code = param(&authorize(&spotify, &ok).await.unwrap(), "code")
        .unwrap()
        .to_owned();
    spotify.advance(SignedDuration::from_mins(11));
    let (_, body) = token_request(
        &spotify,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ],
        true,
    )
    .await;
    assert_eq!(body["error"], "invalid_grant", "codes expire");

    let response = http()
        .post(format!("{}/api/token", spotify.accounts_base()))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .json(&serde_json::json!({ "grant_type": "refresh_token", "refresh_token": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"], "unsupported_grant_type",
        "only form bodies are read"
    );
}

#[tokio::test]
async fn a_pkce_public_client_needs_no_secret() {
    let (spotify, _) = fake_with_listener().await;
    let verifier = "a-verifier-that-is-long-enough-for-rfc-7636-rules-0123456789";
    let challenge = {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
    };
    let query = format!(
        "client_id={CLIENT_ID}&response_type=code&redirect_uri={REDIRECT_URI}&code_challenge={challenge}&code_challenge_method=S256"
    );
    let code = param(&authorize(&spotify, &query).await.unwrap(), "code")
        .unwrap()
        .to_owned();
    let (status, body) = token_request(
        &spotify,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", CLIENT_ID),
            ("code_verifier", verifier),
        ],
        false,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn the_request_log_shows_what_was_asked_and_answered() {
    let (spotify, tokens) = fake_with_listener().await;
    spotify.fail_next(
        Failure::RateLimited {
            retry_after_secs: Some(30),
        },
        1,
    );
    let response = http()
        .get(format!(
            "{}/v1/me/player/recently-played?limit=5",
            spotify.api_base()
        ))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "30");
    let log = spotify.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/v1/me/player/recently-played");
    assert_eq!(log[0].query_param("limit").as_deref(), Some("5"));
    assert_eq!(log[0].user.as_deref(), Some("ann"));
    assert_eq!(log[0].status, Some(429));
    assert_eq!(log[0].at, spotify.now());
    assert!(log[0].is_web_api());
}
