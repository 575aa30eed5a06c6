//! Calling Spotify on a user's behalf: the stored (encrypted) tokens, refreshed ahead of
//! expiry; the app-wide rate-limit pause shared by every process through the database; and
//! `invalid_grant` turned into a visible "needs re-authorization" on the user.

use crate::cipher::TokenCipher;
use crate::client::SpotifyClient;
use crate::error::SpotifyError;
use crate::oauth::TokenGrant;
use jiff::{SignedDuration, Timestamp};
use spotify_history_core::{Secret, User, UserId};
use spotify_history_store::{NewSpotifyLink, SpotifyLink, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Access tokens this close to expiry are refreshed before use.
pub const REFRESH_AHEAD: SignedDuration = SignedDuration::from_mins(5);
/// The longest 429 pause honoured; longer Retry-After values are capped to it.
pub const MAX_RATE_LIMIT_WAIT: SignedDuration = SignedDuration::from_hours(24);

/// Why a call on a user's behalf did not happen or failed.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("user {0} has no Spotify account linked: sign in with Spotify at /auth/login")]
    NotLinked(UserId),
    #[error(
        "Spotify access of user {0} has ended (refresh token expired or revoked): sign in with Spotify again at /auth/login"
    )]
    NeedsReauth(UserId),
    #[error("Spotify rate limit: no call before {until} ({wait} from now)")]
    RateLimited {
        until: Timestamp,
        wait: SignedDuration,
    },
    #[error(
        "the stored Spotify tokens of user {0} cannot be decrypted (was TOKEN_ENCRYPTION_KEY changed?): sign in with Spotify again"
    )]
    Undecryptable(UserId),
    #[error(transparent)]
    Spotify(#[from] SpotifyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The Spotify client plus the user's stored tokens. Cheap to clone; share one per process.
#[derive(Debug, Clone)]
pub struct SpotifyAccess {
    client: SpotifyClient,
    store: Store,
    cipher: TokenCipher,
    refresh_turns: Arc<Mutex<HashMap<UserId, Arc<tokio::sync::Mutex<()>>>>>,
}

impl SpotifyAccess {
    pub fn new(client: SpotifyClient, store: Store, cipher: TokenCipher) -> SpotifyAccess {
        SpotifyAccess {
            client,
            store,
            cipher,
            refresh_turns: Arc::default(),
        }
    }

    pub fn client(&self) -> &SpotifyClient {
        &self.client
    }

    pub fn cipher(&self) -> &TokenCipher {
        &self.cipher
    }

    /// Finishes a sign-in: exchanges the code, asks Spotify who signed in, and stores the
    /// encrypted tokens on that listener's user: the one linked to that Spotify account (made
    /// if new), or `to` when an administrator started the sign-in to link that user.
    pub async fn sign_in(
        &self,
        code: &str,
        code_verifier: Option<&str>,
        to: Option<UserId>,
    ) -> Result<User, AccessError> {
        self.check_not_before().await?;
        let grant = self
            .rate_limited(
                self.client
                    .exchange_code(code, code_verifier, Timestamp::now())
                    .await,
            )
            .await?;
        let me = self
            .rate_limited(self.client.me(&grant.access_token).await)
            .await?;
        let refresh = grant
            .refresh_token
            .as_ref()
            .expect("exchange_code refuses grants without a refresh token");
        let refresh_token = self.cipher.encrypt(refresh);
        let access_token = self.cipher.encrypt(&grant.access_token);
        let link = NewSpotifyLink {
            spotify_user_id: &me.id,
            display_name: me.display_name.as_deref(),
            refresh_token: &refresh_token,
            access_token: &access_token,
            access_expires_at: grant.expires_at,
            scope: &grant.scope,
        };
        let user = match to {
            Some(user) => self.store.link_spotify_to(user, &link).await?,
            None => self.store.link_spotify(&link).await?,
        };
        Ok(user)
    }

    /// A usable access token for `user`, refreshed first when it expires within
    /// [`REFRESH_AHEAD`].
    pub async fn access_token(&self, user: UserId) -> Result<Secret, AccessError> {
        let link = self.link(user).await?;
        self.token_for(&link).await
    }

    /// The access token of `link`, refreshed first when it expires within [`REFRESH_AHEAD`].
    async fn token_for(&self, link: &SpotifyLink) -> Result<Secret, AccessError> {
        match fresh_access_token(link) {
            Some(token) => self.decrypt(link.user_id, token),
            None => self.refresh(link).await,
        }
    }

    /// Runs one Web API call with the user's access token. A 401 gets one refresh and one
    /// retry; a 429 pauses every call of the app (all processes) for its Retry-After.
    ///
    /// `call` gets its own client handle and token, so the future it returns borrows nothing
    /// from here and stays `Send`:
    /// `access.call(user, |client, token| async move { client.me(&token).await })`.
    pub async fn call<T, F, Fut>(&self, user: UserId, call: F) -> Result<T, AccessError>
    where
        F: Fn(SpotifyClient, Secret) -> Fut,
        Fut: Future<Output = Result<T, SpotifyError>>,
    {
        self.check_not_before().await?;
        // The link as it was when the token was used: a refresh after a 401 compares with it
        // to see whether another task has renewed the token meanwhile.
        let link = self.link(user).await?;
        let token = self.token_for(&link).await?;
        let token = match call(self.client.clone(), token).await {
            Err(err) if err.is_unauthorized() => self.refresh(&link).await?,
            other => return self.rate_limited(other).await,
        };
        let result = call(self.client.clone(), token).await;
        self.rate_limited(result).await
    }

    /// When calls may start again after a 429, if that is still ahead.
    pub async fn not_before(&self) -> Result<Option<Timestamp>, AccessError> {
        Ok(self.store.spotify_not_before().await?)
    }

    /// The user's link, refused when there is none or it needs a new sign-in.
    async fn link(&self, user: UserId) -> Result<SpotifyLink, AccessError> {
        let account = self.store.get_user(user).await?;
        if account.needs_reauth {
            return Err(AccessError::NeedsReauth(user));
        }
        self.store
            .spotify_link(user)
            .await?
            .ok_or(AccessError::NotLinked(user))
    }

    /// A fresh access token in place of the one in `stale`. Refreshes of one user take turns
    /// in this process, and one that finds the token already renewed by another task uses
    /// that; across processes, a refresh that loses the race to a rotation (its refresh token
    /// now revoked) takes the winner's tokens instead of flagging the user.
    async fn refresh(&self, stale: &SpotifyLink) -> Result<Secret, AccessError> {
        let user = stale.user_id;
        let turn = self.refresh_turn(user);
        let _turn = turn.lock().await;
        let link = self.link(user).await?;
        if let Some(token) = renewed_since(&link, stale) {
            return self.decrypt(user, token);
        }
        self.check_not_before().await?;
        let refresh_token = self.decrypt(user, &link.refresh_token)?;
        let grant = match self.client.refresh(&refresh_token, Timestamp::now()).await {
            Ok(grant) => grant,
            Err(err) if err.needs_reauthorization() => {
                let flagged = self
                    .store
                    .mark_needs_reauth_if_unchanged(user, &err.to_string(), &link.refresh_token)
                    .await?;
                if !flagged
                    && let Some(now_stored) = self.store.spotify_link(user).await?
                    && let Some(token) = &now_stored.access_token
                {
                    return self.decrypt(user, token);
                }
                return Err(AccessError::NeedsReauth(user));
            }
            Err(err) => return self.rate_limited(Err(err)).await,
        };
        self.save(user, &grant).await?;
        Ok(grant.access_token)
    }

    /// The lock refreshes of `user` take turns on in this process.
    fn refresh_turn(&self, user: UserId) -> Arc<tokio::sync::Mutex<()>> {
        let mut turns = self.refresh_turns.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(turns.entry(user).or_default())
    }

    async fn save(&self, user: UserId, grant: &TokenGrant) -> Result<(), AccessError> {
        let access = self.cipher.encrypt(&grant.access_token);
        let refresh = grant.refresh_token.as_ref().map(|t| self.cipher.encrypt(t));
        self.store
            .save_access_token(user, &access, grant.expires_at, refresh.as_deref())
            .await?;
        Ok(())
    }

    fn decrypt(&self, user: UserId, token: &str) -> Result<Secret, AccessError> {
        self.cipher
            .decrypt(token)
            .map_err(|_| AccessError::Undecryptable(user))
    }

    async fn check_not_before(&self) -> Result<(), AccessError> {
        match self.not_before().await? {
            Some(until) => Err(AccessError::RateLimited {
                until,
                wait: until.duration_since(Timestamp::now()),
            }),
            None => Ok(()),
        }
    }

    /// Passes a result through, remembering a 429's Retry-After for every process.
    async fn rate_limited<T>(&self, result: Result<T, SpotifyError>) -> Result<T, AccessError> {
        match result {
            Err(err) => match err.retry_after() {
                Some(wait) => {
                    spotify_history_core::metrics::spotify_rate_limited();
                    // A proxy's absurd Retry-After must not overflow the clock.
                    let wait = SignedDuration::try_from(wait)
                        .unwrap_or(MAX_RATE_LIMIT_WAIT)
                        .min(MAX_RATE_LIMIT_WAIT);
                    let until = Timestamp::now() + wait;
                    // Keep the later pause: a short default wait must not cut a long one short.
                    if self.not_before().await?.is_none_or(|stored| stored < until) {
                        self.store.set_spotify_not_before(until).await?;
                    }
                    Err(AccessError::RateLimited { until, wait })
                }
                None => Err(err.into()),
            },
            Ok(value) => Ok(value),
        }
    }
}

/// The (encrypted) access token of `link` if it stays valid beyond [`REFRESH_AHEAD`].
fn fresh_access_token(link: &SpotifyLink) -> Option<&String> {
    let fresh_until = (Timestamp::now() + REFRESH_AHEAD).as_millisecond();
    link.access_token.as_ref().filter(|_| {
        link.access_expires_at
            .is_some_and(|expires| expires > fresh_until)
    })
}

/// Whether `link` holds an access token renewed since `stale` was read and still fresh.
fn renewed_since<'a>(link: &'a SpotifyLink, stale: &SpotifyLink) -> Option<&'a String> {
    fresh_access_token(link).filter(|_| link.access_token != stale.access_token)
}
