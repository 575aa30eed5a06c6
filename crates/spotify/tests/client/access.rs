//! `SpotifyAccess` on a real store: refreshes that race, the app-wide 429 pause.

use super::Setup;
use spotify_history_core::{Secret, UserId};
use spotify_history_spotify::{
    AccessError, Cursor, MAX_RATE_LIMIT_WAIT, SpotifyAccess, TokenCipher,
};
use spotify_history_store::NewSpotifyLink;
use spotify_history_testkit::fake_spotify::Failure;
use spotify_history_testkit::store_test;

/// Ann's tokens stored (encrypted) for a store user; an access for them.
async fn linked(setup: &Setup, store: &spotify_history_store::Store) -> (SpotifyAccess, UserId) {
    let cipher = TokenCipher::new(&Secret::new(fernet_key())).unwrap();
    let user = store
        .link_spotify(&NewSpotifyLink {
            spotify_user_id: &setup.ann.spotify_id,
            display_name: None,
            refresh_token: &cipher.encrypt(&setup.refresh_token()),
            access_token: &cipher.encrypt(&setup.access_token()),
            access_expires_at: (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1))
                .as_millisecond(),
            scope: "user-read-recently-played user-top-read",
        })
        .await
        .unwrap()
        .id;
    (
        SpotifyAccess::new(setup.client.clone(), store.clone(), cipher),
        user,
    )
}

fn fernet_key() -> String {
    "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=".into()
}

async fn recently_played(access: &SpotifyAccess, user: UserId) -> Result<usize, AccessError> {
    access
        .call(user, |client, token| async move {
            client.recently_played(&token, Cursor::Latest, 10).await
        })
        .await
        .map(|page| page.items.len())
}

store_test!(concurrent_calls_with_an_expired_token_refresh_once, |db| {
    let setup = Setup::new().await;
    let (access, user) = linked(&setup, &db.store).await;
    setup.spotify.expire_access_tokens(&setup.ann);
    // The fake rotates refresh tokens: a second refresh with the old one would be refused
    // with invalid_grant and, without turn-taking, flag the listener for nothing.
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let access = access.clone();
            tokio::spawn(async move { recently_played(&access, user).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().expect("every call succeeds");
    }
    assert_eq!(
        setup.spotify.requests_to("/api/token").len(),
        1,
        "one refresh"
    );
    assert!(!db.store.get_user(user).await.unwrap().needs_reauth);
});

store_test!(
    a_refresh_that_lost_to_another_process_does_not_flag_the_listener,
    |db| {
        let setup = Setup::new().await;
        let (access, user) = linked(&setup, &db.store).await;
        let before = db.store.spotify_link(user).await.unwrap().unwrap();
        // Another process refreshes (rotating the refresh token) and stores its tokens.
        setup.spotify.expire_access_tokens(&setup.ann);
        let other = SpotifyAccess::new(
            setup.client.clone(),
            db.store.clone(),
            TokenCipher::new(&Secret::new(fernet_key())).unwrap(),
        );
        assert!(recently_played(&other, user).await.is_ok());
        // This process still holds the old refresh token: marking is refused, nothing flagged.
        let flagged = db
            .store
            .mark_needs_reauth_if_unchanged(user, "invalid_grant", &before.refresh_token)
            .await
            .unwrap();
        assert!(!flagged);
        assert!(!db.store.get_user(user).await.unwrap().needs_reauth);
        // With the current one it is.
        let now = db.store.spotify_link(user).await.unwrap().unwrap();
        assert!(
            db.store
                .mark_needs_reauth_if_unchanged(user, "invalid_grant", &now.refresh_token)
                .await
                .unwrap()
        );
        assert!(db.store.get_user(user).await.unwrap().needs_reauth);
        assert!(matches!(
            recently_played(&access, user).await,
            Err(AccessError::NeedsReauth(_))
        ));
    }
);

store_test!(
    an_absurd_retry_after_is_capped_and_nothing_is_sent_while_paused,
    |db| {
        let setup = Setup::new().await;
        let (access, user) = linked(&setup, &db.store).await;
        setup.spotify.fail_next(
            Failure::RateLimited {
                retry_after_secs: Some(u64::MAX / 4),
            },
            1,
        );
        let Err(AccessError::RateLimited { wait, .. }) = recently_played(&access, user).await
        else {
            panic!("a 429 is a rate limit");
        };
        assert_eq!(
            wait, MAX_RATE_LIMIT_WAIT,
            "capped, not overflowing the clock"
        );
        let until = access
            .not_before()
            .await
            .unwrap()
            .expect("a pause is stored");
        let requests = setup.spotify.requests().len();
        assert!(matches!(
            recently_played(&access, user).await,
            Err(AccessError::RateLimited { .. })
        ));
        assert_eq!(
            setup.spotify.requests().len(),
            requests,
            "nothing sent while paused"
        );
        assert_eq!(access.not_before().await.unwrap(), Some(until));
    }
);
