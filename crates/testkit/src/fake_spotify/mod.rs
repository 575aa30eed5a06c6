//! A fake Spotify (Accounts service and Web API) over real HTTP, following the 2026 API's
//! shapes and failure modes, with simulated time and injectable failures.
//!
//! ```ignore
//! let spotify = FakeSpotify::start().await;
//! let ann = spotify.add_user("ann", "Ann Ö");
//! spotify.simulate_listening(&ann, spotify.now() - SignedDuration::from_hours(2), spotify.now(), SignedDuration::from_mins(4));
//! let tokens = spotify.issue_tokens(&ann);
//! spotify.fail_next(Failure::RateLimited { retry_after_secs: Some(7) }, 1);
//! // ... point the client at spotify.api_base() and spotify.accounts_base() ...
//! ```
//!
//! The fake is strict where the real API is: exact redirect URIs, single-use codes, PKCE
//! verification, rotated refresh tokens (the old one stops working), refresh tokens that die
//! six months after sign-in, search limits of 10, and a recently-played window of 50 plays.

mod accounts;
mod catalogue;
mod clock;
mod error_answers;
mod failures;
mod objects;
mod recently_played;
mod requests;
mod state;
mod web_api;

pub use catalogue::{Catalogue, FakeAlbum, FakeArtist, FakeTrack};
pub use error_answers::NOT_REGISTERED_BODY;
pub use failures::Failure;
pub use requests::RecordedRequest;

use axum::Router;
use axum::routing::{get, post};
use jiff::{SignedDuration, Timestamp};
use state::{ACCESS_TOKEN_LIFETIME, App, Shared, State, authorized_six_months_before};
use std::net::SocketAddr;
use tokio::task::JoinHandle;

/// Client id of the app registered with every fake.
pub const CLIENT_ID: &str = "fake0spotify0client0id0000000000";
/// Client secret of the app registered with every fake.
pub const CLIENT_SECRET: &str = "fake0spotify0client0secret000000";
/// Both scopes spotify-history asks for.
pub const DEFAULT_SCOPES: [&str; 2] = ["user-read-recently-played", "user-top-read"];

/// A running fake Spotify; the server stops when this is dropped.
pub struct FakeSpotify {
    shared: Shared,
    addr: SocketAddr,
    server: JoinHandle<()>,
}

/// A Spotify user of the fake, by Spotify user id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    pub spotify_id: String,
}

/// Tokens issued without the OAuth dance, for tests of Web API calls.
#[derive(Debug, Clone)]
pub struct FakeTokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// One play of a user's simulated history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakePlay {
    /// When the play ended, as recently-played reports it.
    pub played_at: Timestamp,
    pub track: FakeTrack,
}

impl FakeSpotify {
    /// Starts a fake on 127.0.0.1 at a free port. Its clock is frozen at the current wall
    /// time (whole seconds) until set, advanced or run.
    pub async fn start() -> FakeSpotify {
        FakeSpotify::start_on(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind the fake Spotify server on 127.0.0.1")
    }

    /// Starts a fake on the given address (the `fake-spotify` binary uses a fixed port).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<FakeSpotify> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = App {
            client_id: CLIENT_ID.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            redirect_uris: Vec::new(),
        };
        let shared = Shared::new(State::new(format!("http://{addr}"), app));
        let router = Router::new()
            .route("/authorize", get(accounts::authorize))
            .route("/api/token", post(accounts::token))
            .route("/v1/me", get(web_api::me))
            .route(
                "/v1/me/player/recently-played",
                get(recently_played::recently_played),
            )
            .route("/v1/me/top/{kind}", get(web_api::top))
            .route("/v1/search", get(web_api::search))
            .route("/v1/tracks/{id}", get(web_api::track))
            .route("/v1/artists/{id}", get(web_api::artist))
            .route("/v1/albums/{id}", get(web_api::album))
            .fallback(web_api::fallback)
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                requests::record,
            ))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            // The server runs until the fake is dropped; an accept error ends it early and the
            // test then fails on connection errors, which point here.
            let _ = axum::serve(listener, router).await;
        });
        Ok(FakeSpotify {
            shared,
            addr,
            server,
        })
    }

    /// Base URL of the Web API (SPOTIFY_API_BASE_URL), e.g. `http://127.0.0.1:41234`.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Base URL of the Accounts service (SPOTIFY_ACCOUNTS_BASE_URL); the same server.
    pub fn accounts_base(&self) -> String {
        self.api_base()
    }

    /// Allows a redirect URI for the app; `/authorize` and code exchange require an exact
    /// match. Like Spotify, only HTTPS or loopback `http://127.0.0.1` URIs are accepted.
    pub fn add_redirect_uri(&self, uri: &str) {
        assert!(
            uri.starts_with("https://")
                || uri.starts_with("http://127.0.0.1:")
                || uri.starts_with("http://[::1]:"),
            "Spotify accepts only HTTPS or loopback 127.0.0.1/[::1] redirect URIs, not {uri}"
        );
        self.shared.lock().app.redirect_uris.push(uri.to_owned());
    }

    /// Registers a user in the app's User Management, with no plays yet.
    pub fn add_user(&self, spotify_id: &str, display_name: &str) -> FakeUser {
        let mut state = self.shared.lock();
        state.users.insert(
            spotify_id.to_owned(),
            state::UserState {
                display_name: display_name.to_owned(),
                registered: true,
                plays: Vec::new(),
            },
        );
        FakeUser {
            spotify_id: spotify_id.to_owned(),
        }
    }

    /// Adds or removes the user from the app's User Management: Web API calls with their
    /// tokens get the plain-text 403 "User not registered" while removed.
    pub fn set_registered(&self, user: &FakeUser, registered: bool) {
        self.shared.lock().user_mut(&user.spotify_id).registered = registered;
    }

    /// The user who signs in at `/authorize` from now on.
    pub fn set_next_login(&self, user: &FakeUser) {
        self.shared.lock().login.user = Some(user.spotify_id.clone());
    }

    /// The next `/authorize` redirects back with `error=access_denied` (the user said no).
    pub fn deny_next_login(&self) {
        self.shared.lock().login.deny_next = true;
    }

    /// Tokens for the user as if they had just signed in with [`DEFAULT_SCOPES`].
    pub fn issue_tokens(&self, user: &FakeUser) -> FakeTokens {
        let mut state = self.shared.lock();
        assert!(
            state.users.contains_key(&user.spotify_id),
            "unknown user {}",
            user.spotify_id
        );
        let scopes: Vec<String> = DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
        let now = state.now();
        FakeTokens {
            access_token: state.issue_access_token(&user.spotify_id, &scopes),
            refresh_token: state.issue_refresh_token(&user.spotify_id, &scopes, now, false),
        }
    }

    /// Ends the user's refresh tokens as if six months had passed since sign-in: the next
    /// refresh answers `invalid_grant`.
    pub fn expire_refresh_token(&self, user: &FakeUser) {
        let mut state = self.shared.lock();
        let now = state.now();
        for token in state
            .refresh_tokens
            .values_mut()
            .filter(|t| t.user == user.spotify_id)
        {
            // Backdating sign-in keeps the six-month rule the only way a token expires.
            token.authorized_at = authorized_six_months_before(now);
        }
    }

    /// Expires the user's access tokens now (as an hour passing would).
    pub fn expire_access_tokens(&self, user: &FakeUser) {
        let mut state = self.shared.lock();
        let now = state.now();
        for token in state
            .access_tokens
            .values_mut()
            .filter(|t| t.user == user.spotify_id)
        {
            token.expires_at = now;
        }
    }

    /// Records a play that ended at `played_at`. Plays in the simulated future become visible
    /// once the clock reaches them.
    pub fn play(&self, user: &FakeUser, track: &FakeTrack, played_at: Timestamp) {
        self.shared
            .lock()
            .add_play(&user.spotify_id, track, played_at);
    }

    /// Adds a play in every `every`-long slot from `from` (inclusive) to `to` (exclusive),
    /// cycling through the catalogue from where the user's history left off; returns them
    /// oldest first. Each play ends within the first second of its slot, at a varying
    /// millisecond, as real `played_at` values do.
    pub fn simulate_listening(
        &self,
        user: &FakeUser,
        from: Timestamp,
        to: Timestamp,
        every: SignedDuration,
    ) -> Vec<FakePlay> {
        assert!(every.is_positive(), "plays need a positive interval");
        let catalogue = Catalogue::builtin();
        let mut state = self.shared.lock();
        let mut n = state.user_mut(&user.spotify_id).plays.len();
        // Different users start at different tracks, so their histories differ.
        let offset: usize = user.spotify_id.bytes().map(usize::from).sum();
        let mut added = Vec::new();
        let mut at = from;
        while at < to {
            // 7 is coprime with the catalogue size, so every track comes round.
            let track = &catalogue.tracks[(offset + n * 7) % catalogue.tracks.len()];
            let played_at = at + SignedDuration::from_millis((n as i64 * 389) % 1000);
            state.add_play(&user.spotify_id, track, played_at);
            added.push(FakePlay {
                played_at,
                track: track.clone(),
            });
            n += 1;
            at += every;
        }
        added
    }

    /// The user's whole history, oldest first, including plays not yet visible.
    pub fn plays(&self, user: &FakeUser) -> Vec<FakePlay> {
        let state = self.shared.lock();
        state
            .users
            .get(&user.spotify_id)
            .map(|u| {
                u.plays
                    .iter()
                    .map(|p| FakePlay {
                        played_at: p.played_at,
                        track: Catalogue::builtin().tracks[p.track].clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The built-in catalogue.
    pub fn catalogue(&self) -> &'static Catalogue {
        Catalogue::builtin()
    }

    /// Simulated now.
    pub fn now(&self) -> Timestamp {
        self.shared.lock().now()
    }

    /// Moves the simulated clock to `at` (backwards too).
    pub fn set_now(&self, at: Timestamp) {
        self.shared.lock().clock.set(at);
    }

    /// Moves the simulated clock forward.
    pub fn advance(&self, by: SignedDuration) {
        self.shared.lock().clock.advance(by);
    }

    /// Lets the simulated clock follow real time from now on (for manual runs).
    pub fn run_clock(&self) {
        self.shared.lock().clock.run();
    }

    /// How long issued access tokens live.
    pub fn access_token_lifetime(&self) -> SignedDuration {
        ACCESS_TOKEN_LIFETIME
    }

    /// The next `times` requests the failure applies to fail with it, whoever asks.
    pub fn fail_next(&self, failure: Failure, times: u32) {
        self.shared.lock().failures.push(None, failure, times);
    }

    /// The user's next `times` requests the failure applies to fail with it.
    pub fn fail_next_for(&self, user: &FakeUser, failure: Failure, times: u32) {
        self.shared
            .lock()
            .failures
            .push(Some(user.spotify_id.clone()), failure, times);
    }

    /// How many injected failures have not happened yet.
    pub fn pending_failures(&self) -> u32 {
        self.shared.lock().failures.pending()
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Requests to one path (e.g. `/v1/me/player/recently-played`), oldest first.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }
}

impl Drop for FakeSpotify {
    fn drop(&mut self) {
        self.server.abort();
    }
}
