//! Sign-in (authorize URL, code exchange with PKCE) and refresh, including six-month expiry.

use super::{REDIRECT_URI, Setup};
use jiff::SignedDuration;
use reqwest::Url;
use reqwest::header::LOCATION;
use spotify_history_core::Secret;
use spotify_history_spotify::{Pkce, SCOPES, SpotifyError};
use spotify_history_testkit::fake_spotify::Failure;
use std::collections::HashMap;

/// Opens the authorize URL as a browser would and returns the redirect's query parameters.
async fn sign_in(authorize_url: &str) -> HashMap<String, String> {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser.get(authorize_url).send().await.unwrap();
    assert_eq!(response.status(), 302, "{}", response.text().await.unwrap());
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(REDIRECT_URI),
        "redirected to {location}"
    );
    Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

#[tokio::test]
async fn a_listener_signs_in_with_pkce_and_the_tokens_work() {
    let setup = Setup::new().await;
    setup.spotify.set_next_login(&setup.ann);
    let pkce = Pkce::generate();
    let state = "signed state/with é & = chars";

    let url = setup
        .client
        .authorize_url(state, Some(&pkce.challenge), &SCOPES);
    let back = sign_in(&url).await;
    assert_eq!(back["state"], state);

    let now = setup.spotify.now();
    let grant = setup
        .client
        .exchange_code(&back["code"], Some(pkce.verifier.expose()), now)
        .await
        .unwrap();
    assert!(grant.refresh_token.is_some());
    assert_eq!(grant.scope, "user-read-recently-played user-top-read");
    assert_eq!(grant.expires_at, now.as_millisecond() + 3_600_000);
    let me = setup.client.me(&grant.access_token).await.unwrap();
    assert_eq!(me.id, "ann");
    assert_eq!(me.display_name.as_deref(), Some("Ann Ångström"));
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_rejected_and_burns_the_code() {
    let setup = Setup::new().await;
    setup.spotify.set_next_login(&setup.ann);
    let pkce = Pkce::generate();
    let back = sign_in(
        &setup
            .client
            .authorize_url("s", Some(&pkce.challenge), &SCOPES),
    )
    .await;
    let now = setup.spotify.now();

    let wrong = Pkce::generate();
    let error = setup
        .client
        .exchange_code(&back["code"], Some(wrong.verifier.expose()), now)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SpotifyError::InvalidGrant { description, .. } if description == "code_verifier was incorrect"),
        "{error:?}"
    );
    assert!(error.needs_reauthorization());
    assert!(error.to_string().contains("/auth/login"), "{error}");

    let retry = setup
        .client
        .exchange_code(&back["code"], Some(pkce.verifier.expose()), now)
        .await
        .unwrap_err();
    assert!(
        matches!(retry, SpotifyError::InvalidGrant { .. }),
        "{retry:?}"
    );
}

#[tokio::test]
async fn a_challenged_code_needs_its_verifier() {
    let setup = Setup::new().await;
    setup.spotify.set_next_login(&setup.ann);
    let pkce = Pkce::generate();
    let back = sign_in(
        &setup
            .client
            .authorize_url("s", Some(&pkce.challenge), &SCOPES),
    )
    .await;
    let error = setup
        .client
        .exchange_code(&back["code"], None, setup.spotify.now())
        .await
        .unwrap_err();
    assert!(
        matches!(error, SpotifyError::InvalidGrant { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn sign_in_without_pkce_works_for_a_confidential_app() {
    let setup = Setup::new().await;
    setup.spotify.set_next_login(&setup.ann);
    let back = sign_in(&setup.client.authorize_url("s", None, &SCOPES)).await;
    let grant = setup
        .client
        .exchange_code(&back["code"], None, setup.spotify.now())
        .await
        .unwrap();
    assert_eq!(
        setup.client.me(&grant.access_token).await.unwrap().id,
        "ann"
    );
}

#[tokio::test]
async fn a_refused_sign_in_comes_back_as_access_denied() {
    let setup = Setup::new().await;
    setup.spotify.set_next_login(&setup.ann);
    setup.spotify.deny_next_login();
    let back = sign_in(&setup.client.authorize_url("xyz", None, &SCOPES)).await;
    assert_eq!(back.get("error").map(String::as_str), Some("access_denied"));
    assert_eq!(back["state"], "xyz");
    assert!(!back.contains_key("code"));
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let setup = Setup::new().await;
    let now = setup.spotify.now();
    let grant = setup
        .client
        .refresh(&setup.refresh_token(), now)
        .await
        .unwrap();
    assert_eq!(grant.expires_at, now.as_millisecond() + 3_600_000);
    let new_refresh = grant.refresh_token.expect("a rotated refresh token");
    assert_ne!(new_refresh.expose(), setup.tokens.refresh_token);
    assert_eq!(
        setup.client.me(&grant.access_token).await.unwrap().id,
        "ann"
    );

    let old = setup
        .client
        .refresh(&setup.refresh_token(), now)
        .await
        .unwrap_err();
    assert!(old.needs_reauthorization(), "{old:?}");
    setup.client.refresh(&new_refresh, now).await.unwrap();
}

#[tokio::test]
async fn a_refresh_without_a_new_refresh_token_keeps_the_old_one_usable() {
    let setup = Setup::new().await;
    setup
        .spotify
        .fail_next(Failure::RefreshWithoutRefreshToken, 1);
    let now = setup.spotify.now();
    let grant = setup
        .client
        .refresh(&setup.refresh_token(), now)
        .await
        .unwrap();
    assert_eq!(grant.refresh_token, None);
    assert_eq!(
        setup.client.me(&grant.access_token).await.unwrap().id,
        "ann"
    );
    let again = setup
        .client
        .refresh(&setup.refresh_token(), now)
        .await
        .unwrap();
    assert!(again.refresh_token.is_some());
}

#[tokio::test]
async fn refresh_tokens_die_six_months_after_sign_in_whatever_refreshes_happened() {
    let setup = Setup::new().await;
    setup.spotify.advance(SignedDuration::from_hours(24 * 150));
    let grant = setup
        .client
        .refresh(&setup.refresh_token(), setup.spotify.now())
        .await
        .expect("five months after sign-in the token still works");
    let rotated = grant.refresh_token.unwrap();

    setup.spotify.advance(SignedDuration::from_hours(24 * 40));
    let error = setup
        .client
        .refresh(&rotated, setup.spotify.now())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SpotifyError::InvalidGrant { description, .. } if description == "Refresh token revoked"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("the user must sign in again at /auth/login"),
        "{error}"
    );
    assert!(!error.is_transient());
}

#[tokio::test]
async fn an_expired_or_revoked_refresh_token_is_invalid_grant() {
    let setup = Setup::new().await;
    setup.spotify.expire_refresh_token(&setup.ann);
    let error = setup
        .client
        .refresh(&setup.refresh_token(), setup.spotify.now())
        .await
        .unwrap_err();
    assert!(error.needs_reauthorization(), "{error:?}");

    let other = setup.spotify.add_user("bob", "Bob");
    let bob = setup.spotify.issue_tokens(&other);
    setup.spotify.fail_next(Failure::InvalidGrant, 1);
    let error = setup
        .client
        .refresh(&Secret::new(&bob.refresh_token), setup.spotify.now())
        .await
        .unwrap_err();
    assert!(error.needs_reauthorization(), "{error:?}");

    let unknown = setup
        .client
        .refresh(&Secret::new("AQnot-a-token"), setup.spotify.now())
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown, SpotifyError::InvalidGrant { description, .. } if description == "Invalid refresh token"),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn a_wrong_client_secret_is_reported_as_a_settings_problem() {
    let setup = Setup::new().await;
    let client = super::client_for(
        &setup.spotify,
        "not-the-secret",
        super::Duration::from_secs(5),
    );
    let error = client
        .refresh(&setup.refresh_token(), setup.spotify.now())
        .await
        .unwrap_err();
    assert!(
        matches!(error, SpotifyError::InvalidClient { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("SPOTIFY_CLIENT_SECRET"),
        "{error}"
    );
}

#[tokio::test]
async fn an_accounts_outage_is_transient() {
    let setup = Setup::new().await;
    setup.spotify.fail_next(Failure::AccountsUnavailable, 1);
    let error = setup
        .client
        .refresh(&setup.refresh_token(), setup.spotify.now())
        .await
        .unwrap_err();
    assert!(
        matches!(error, SpotifyError::Server { status: 503, .. }),
        "{error:?}"
    );
    assert!(error.is_transient());
    setup
        .client
        .refresh(&setup.refresh_token(), setup.spotify.now())
        .await
        .expect("the refresh token survives an outage");
}
