//! Every failure mode the real API has, each surfacing as its typed error.

use super::{Setup, client_for};
use jiff::SignedDuration;
use spotify_history_core::Secret;
use spotify_history_spotify::{Cursor, DEFAULT_RETRY_AFTER, SpotifyError};
use spotify_history_testkit::fake_spotify::{CLIENT_SECRET, Failure, NOT_REGISTERED_BODY};
use std::time::Duration;

#[tokio::test]
async fn an_expired_access_token_is_unauthorized_until_refreshed() {
    let setup = Setup::new().await;
    setup.spotify.fail_next(Failure::ExpiredAccessToken, 1);
    let token = setup.access_token();
    for _ in 0..2 {
        let error = setup.client.me(&token).await.unwrap_err();
        assert!(
            matches!(&error, SpotifyError::Unauthorized { message, .. } if message == "The access token expired"),
            "{error:?}"
        );
        assert!(error.is_unauthorized());
        assert!(error.to_string().contains("refresh"), "{error}");
    }
    let grant = setup
        .client
        .refresh(&setup.refresh_token(), setup.spotify.now())
        .await
        .unwrap();
    setup.client.me(&grant.access_token).await.unwrap();
}

#[tokio::test]
async fn access_tokens_expire_after_an_hour_of_simulated_time() {
    let setup = Setup::new().await;
    let token = setup.access_token();
    setup.spotify.advance(SignedDuration::from_mins(59));
    setup.client.me(&token).await.unwrap();
    setup.spotify.advance(SignedDuration::from_mins(1));
    let error = setup.client.me(&token).await.unwrap_err();
    assert!(error.is_unauthorized(), "{error:?}");

    let unknown = setup
        .client
        .me(&Secret::new("BQnot-a-token"))
        .await
        .unwrap_err();
    assert!(unknown.is_unauthorized(), "{unknown:?}");
}

#[tokio::test]
async fn not_registered_keeps_spotify_plain_text_verbatim() {
    let setup = Setup::new().await;
    setup
        .spotify
        .fail_next_for(&setup.ann, Failure::NotRegistered, 1);
    let error = setup
        .client
        .recently_played(&setup.access_token(), Cursor::Latest, 50)
        .await
        .unwrap_err();
    let SpotifyError::NotRegistered { message, .. } = &error else {
        panic!("expected NotRegistered, got {error:?}");
    };
    assert_eq!(message, NOT_REGISTERED_BODY);
    assert!(
        error
            .to_string()
            .contains("User not registered in the Developer Dashboard"),
        "{error}"
    );
    assert!(error.to_string().contains("User Management"), "{error}");
    assert!(!error.is_transient());

    setup.client.me(&setup.access_token()).await.unwrap();
    setup.spotify.set_registered(&setup.ann, false);
    let error = setup.client.me(&setup.access_token()).await.unwrap_err();
    assert!(
        matches!(error, SpotifyError::NotRegistered { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn rate_limits_carry_retry_after_or_a_default() {
    let setup = Setup::new().await;
    let token = setup.access_token();
    setup.spotify.fail_next(
        Failure::RateLimited {
            retry_after_secs: Some(7200),
        },
        1,
    );
    let error = setup.client.me(&token).await.unwrap_err();
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7200)));
    assert!(error.is_transient());
    assert!(error.to_string().contains("2h"), "{error}");

    setup.spotify.fail_next(
        Failure::RateLimited {
            retry_after_secs: None,
        },
        1,
    );
    let error = setup.client.me(&token).await.unwrap_err();
    assert_eq!(error.retry_after(), Some(DEFAULT_RETRY_AFTER));

    setup
        .client
        .me(&token)
        .await
        .expect("the limit was injected twice");
    let statuses: Vec<_> = setup.spotify.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![Some(429), Some(429), Some(200)]);
}

#[tokio::test]
async fn server_errors_of_any_body_are_transient() {
    let setup = Setup::new().await;
    let token = setup.access_token();
    for status in [500, 502, 503] {
        setup.spotify.fail_next(Failure::ServerError(status), 1);
        let error = setup.client.me(&token).await.unwrap_err();
        assert!(
            matches!(error, SpotifyError::Server { status: s, .. } if s == status),
            "{status}: {error:?}"
        );
        assert!(error.is_transient());
    }
    assert_eq!(setup.spotify.pending_failures(), 0);
}

#[tokio::test]
async fn failures_for_one_user_leave_others_alone() {
    let setup = Setup::new().await;
    let bob = setup.spotify.add_user("bob", "Bob");
    let bob_token = Secret::new(setup.spotify.issue_tokens(&bob).access_token);
    setup
        .spotify
        .fail_next_for(&setup.ann, Failure::ServerError(503), 1);

    assert_eq!(setup.client.me(&bob_token).await.unwrap().id, "bob");
    let error = setup.client.me(&setup.access_token()).await.unwrap_err();
    assert!(
        matches!(error, SpotifyError::Server { status: 503, .. }),
        "{error:?}"
    );
    let users: Vec<_> = setup
        .spotify
        .requests()
        .into_iter()
        .map(|r| r.user)
        .collect();
    assert_eq!(users, vec![Some("bob".to_owned()), Some("ann".to_owned())]);
}

#[tokio::test]
async fn a_slow_answer_times_out_as_a_network_failure() {
    let setup = Setup::new().await;
    let impatient = client_for(&setup.spotify, CLIENT_SECRET, Duration::from_millis(300));
    setup
        .spotify
        .fail_next(Failure::Slow(Duration::from_secs(3)), 1);
    let error = impatient.me(&setup.access_token()).await.unwrap_err();
    assert!(matches!(error, SpotifyError::Network { .. }), "{error:?}");
    assert!(error.to_string().contains("no answer within"), "{error}");
    assert!(error.is_transient());
    assert_eq!(setup.spotify.requests_to("/v1/me").len(), 1);
}

#[tokio::test]
async fn an_unreachable_spotify_is_a_network_failure() {
    let setup = Setup::new().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = listener.local_addr().unwrap().port();
    drop(listener);
    let client =
        spotify_history_spotify::SpotifyClient::new(spotify_history_spotify::SpotifyConfig {
            api_base_url: format!("http://127.0.0.1:{closed_port}"),
            ..spotify_history_spotify::SpotifyConfig::new(setup.client.app().clone())
        })
        .unwrap();
    let error = client.me(&setup.access_token()).await.unwrap_err();
    assert!(matches!(error, SpotifyError::Network { .. }), "{error:?}");
}
