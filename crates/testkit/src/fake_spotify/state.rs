//! Everything the fake remembers: its app registration, users and their plays, grants and
//! tokens, injected failures and the request log.

use super::catalogue::{Catalogue, FakeTrack};
use super::clock::Clock;
use super::failures::Failures;
use super::requests::RecordedRequest;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use rand::Rng;
use rand::distr::Alphanumeric;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// How long an access token lives, as Spotify's `expires_in`.
pub(crate) const ACCESS_TOKEN_LIFETIME: SignedDuration = SignedDuration::from_secs(3600);
/// How long an authorization code can be exchanged.
pub(crate) const CODE_LIFETIME: SignedDuration = SignedDuration::from_mins(10);
/// recently-played only ever shows this many of a user's latest plays.
pub(crate) const RECENTLY_PLAYED_WINDOW: usize = 50;

/// The state behind one fake server, shared by its handlers and its controlling test.
#[derive(Clone)]
pub(crate) struct Shared(Arc<Mutex<State>>);

impl Shared {
    pub(crate) fn new(state: State) -> Shared {
        Shared(Arc::new(Mutex::new(state)))
    }

    /// A panic in one handler must not wedge every later request, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The one Spotify app registered with the fake.
pub(crate) struct App {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) redirect_uris: Vec<String>,
}

pub(crate) struct UserState {
    pub(crate) display_name: String,
    /// False for a user missing from the app's User Management (development mode).
    pub(crate) registered: bool,
    /// Sorted by `played_at`, oldest first.
    pub(crate) plays: Vec<Play>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Play {
    /// Index into the built-in catalogue's tracks.
    pub(crate) track: usize,
    pub(crate) played_at: Timestamp,
}

pub(crate) struct AuthCode {
    pub(crate) user: String,
    pub(crate) redirect_uri: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) code_challenge: Option<String>,
    pub(crate) issued_at: Timestamp,
}

pub(crate) struct AccessToken {
    pub(crate) user: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) expires_at: Timestamp,
}

pub(crate) struct RefreshToken {
    pub(crate) user: String,
    pub(crate) scopes: Vec<String>,
    /// When the user signed in; the token dies six months later whatever refreshes happen.
    pub(crate) authorized_at: Timestamp,
    /// Issued to a PKCE client that authenticated without its secret.
    pub(crate) public_client: bool,
    pub(crate) revoked: bool,
}

impl RefreshToken {
    pub(crate) fn expires_at(&self) -> Timestamp {
        refresh_token_expiry(self.authorized_at)
    }
}

/// Refresh tokens expire six calendar months after the user authorized.
pub(crate) fn refresh_token_expiry(authorized_at: Timestamp) -> Timestamp {
    authorized_at
        .to_zoned_datetime(TimeZone::UTC)
        .saturating_add(6.months())
        .timestamp()
}

/// A sign-in time whose refresh tokens have just expired at `now`.
pub(crate) fn authorized_six_months_before(now: Timestamp) -> Timestamp {
    now.to_zoned_datetime(TimeZone::UTC)
        .saturating_sub(6.months())
        .timestamp()
}

/// Who signs in at `/authorize`.
#[derive(Default)]
pub(crate) struct Login {
    pub(crate) user: Option<String>,
    /// The next sign-in is refused with `error=access_denied`.
    pub(crate) deny_next: bool,
}

pub(crate) struct State {
    pub(crate) clock: Clock,
    /// Base URL of the server, for `href` and `next` links.
    pub(crate) base_url: String,
    pub(crate) app: App,
    pub(crate) users: BTreeMap<String, UserState>,
    pub(crate) login: Login,
    pub(crate) codes: HashMap<String, AuthCode>,
    pub(crate) access_tokens: HashMap<String, AccessToken>,
    pub(crate) refresh_tokens: HashMap<String, RefreshToken>,
    pub(crate) failures: Failures,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) next_request_id: u64,
}

impl State {
    pub(crate) fn new(base_url: String, app: App) -> State {
        State {
            clock: Clock::frozen_at_wall_time(),
            base_url,
            app,
            users: BTreeMap::new(),
            login: Login::default(),
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            failures: Failures::default(),
            requests: Vec::new(),
            next_request_id: 0,
        }
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn user_mut(&mut self, spotify_id: &str) -> &mut UserState {
        self.users
            .get_mut(spotify_id)
            .unwrap_or_else(|| panic!("fake Spotify has no user {spotify_id:?}"))
    }

    pub(crate) fn add_play(&mut self, user: &str, track: &FakeTrack, played_at: Timestamp) -> Play {
        let index = Catalogue::builtin()
            .tracks
            .iter()
            .position(|t| t.id == track.id)
            .unwrap_or_else(|| panic!("track {} is not in the fake catalogue", track.id));
        let play = Play {
            track: index,
            played_at,
        };
        let plays = &mut self.user_mut(user).plays;
        let at = plays.partition_point(|p| p.played_at <= played_at);
        plays.insert(at, play);
        play
    }

    /// The plays recently-played can show now: the latest 50 that have happened, oldest first.
    pub(crate) fn visible_plays(&self, user: &str) -> &[Play] {
        let Some(state) = self.users.get(user) else {
            return &[];
        };
        let now = self.now();
        let happened = state.plays.partition_point(|p| p.played_at <= now);
        &state.plays[happened.saturating_sub(RECENTLY_PLAYED_WINDOW)..happened]
    }

    /// Plays that have happened since `from` (exclusive), for top lists.
    pub(crate) fn plays_since(&self, user: &str, from: Timestamp) -> Vec<Play> {
        let now = self.now();
        self.users.get(user).map_or_else(Vec::new, |state| {
            state
                .plays
                .iter()
                .filter(|p| p.played_at > from && p.played_at <= now)
                .copied()
                .collect()
        })
    }

    pub(crate) fn issue_code(
        &mut self,
        user: String,
        redirect_uri: String,
        scopes: Vec<String>,
        code_challenge: Option<String>,
    ) -> String {
        let code = random_token("AQ", 120);
        let issued_at = self.now();
        self.codes.insert(
            code.clone(),
            AuthCode {
                user,
                redirect_uri,
                scopes,
                code_challenge,
                issued_at,
            },
        );
        code
    }

    pub(crate) fn issue_access_token(&mut self, user: &str, scopes: &[String]) -> String {
        let token = random_token("BQ", 150);
        let expires_at = self.now() + ACCESS_TOKEN_LIFETIME;
        self.access_tokens.insert(
            token.clone(),
            AccessToken {
                user: user.to_owned(),
                scopes: scopes.to_vec(),
                expires_at,
            },
        );
        token
    }

    pub(crate) fn issue_refresh_token(
        &mut self,
        user: &str,
        scopes: &[String],
        authorized_at: Timestamp,
        public_client: bool,
    ) -> String {
        let token = random_token("AQ", 130);
        self.refresh_tokens.insert(
            token.clone(),
            RefreshToken {
                user: user.to_owned(),
                scopes: scopes.to_vec(),
                authorized_at,
                public_client,
                revoked: false,
            },
        );
        token
    }

    /// The user an access token belongs to, expired or not.
    pub(crate) fn access_token_user(&self, token: &str) -> Option<&str> {
        self.access_tokens.get(token).map(|t| t.user.as_str())
    }
}

/// A token in Spotify's style: a short prefix and URL-safe random characters.
fn random_token(prefix: &str, len: usize) -> String {
    let random: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect();
    format!("{prefix}{random}")
}
