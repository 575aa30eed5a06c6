//! The collector against the fake Spotify server over real HTTP, on SQLite and (when
//! TEST_DATABASE_URL is set) PostgreSQL: what ends up in the database is compared with the
//! fake's own history of plays.

mod failures;
mod imports;
mod initial_sync;
mod leases;
mod polling;

use jiff::SignedDuration;
use spotify_history_collector::{Collector, CollectorConfig, CycleReport, WorkOutcome};
use spotify_history_core::{CountingRule, Secret, UserId};
use spotify_history_spotify::{
    SpotifyAccess, SpotifyApp, SpotifyClient, SpotifyConfig, TokenCipher,
};
use spotify_history_store::history::{GapRow, JobRunRow, PlayFilter};
use spotify_history_store::{JobKind, NewSpotifyLink, RunStatus, Store};
use spotify_history_testkit::TestDb;
use spotify_history_testkit::fake_spotify::{CLIENT_ID, CLIENT_SECRET, FakeSpotify, FakeUser};
use std::time::Duration;

/// The recently-played endpoint's path, to count requests to it.
pub const RECENTLY_PLAYED: &str = "/v1/me/player/recently-played";
const REDIRECT_URI: &str = "http://127.0.0.1:9/auth/callback";

/// A test database, a fake Spotify and the Spotify access a collector uses.
pub struct Harness {
    pub db: TestDb,
    pub spotify: FakeSpotify,
    pub access: SpotifyAccess,
}

impl Harness {
    pub async fn new(db: TestDb) -> Harness {
        let spotify = FakeSpotify::start().await;
        spotify.add_redirect_uri(REDIRECT_URI);
        let client = SpotifyClient::new(SpotifyConfig {
            app: SpotifyApp {
                client_id: CLIENT_ID.to_owned(),
                client_secret: Secret::new(CLIENT_SECRET),
                redirect_uri: REDIRECT_URI.to_owned(),
            },
            api_base_url: spotify.api_base(),
            accounts_base_url: spotify.accounts_base(),
            timeout: Duration::from_secs(20),
        })
        .expect("a valid client configuration");
        let cipher = TokenCipher::new(&Secret::new(fernet::Fernet::generate_key()))
            .expect("a generated Fernet key");
        let access = SpotifyAccess::new(client, db.store.clone(), cipher);
        Harness {
            db,
            spotify,
            access,
        }
    }

    pub fn store(&self) -> &Store {
        &self.db.store
    }

    /// A Spotify listener of the fake, signed in as a store user (tokens encrypted at rest,
    /// as after the OAuth callback).
    pub async fn listener(&self, spotify_id: &str) -> (FakeUser, UserId) {
        let fake = self.spotify.add_user(spotify_id, spotify_id);
        let tokens = self.spotify.issue_tokens(&fake);
        let cipher = self.access.cipher();
        let refresh_token = cipher.encrypt(&Secret::new(tokens.refresh_token));
        let access_token = cipher.encrypt(&Secret::new(tokens.access_token));
        let expires = jiff::Timestamp::now() + self.spotify.access_token_lifetime();
        let user = self
            .store()
            .link_spotify(&NewSpotifyLink {
                spotify_user_id: spotify_id,
                display_name: None,
                refresh_token: &refresh_token,
                access_token: &access_token,
                access_expires_at: expires.as_millisecond(),
                scope: "user-read-recently-played user-top-read",
            })
            .await
            .expect("link the listener");
        (fake, user.id)
    }

    /// A collector on this harness; polls are not spaced (the fake's clock moves, not the
    /// wall clock) unless `configure` says otherwise.
    pub fn collector(&self, configure: impl FnOnce(&mut CollectorConfig)) -> Collector {
        let mut config = CollectorConfig::with_interval(Duration::from_secs(1));
        config.poll_spacing = Duration::ZERO;
        configure(&mut config);
        Collector::new(self.store().clone(), Some(self.access.clone()), config)
    }

    /// Plays `minutes` apart over the last `hours_back` hours and the next `hours_ahead`
    /// hours of simulated time (future plays appear as the clock moves).
    pub fn listen(&self, user: &FakeUser, hours_back: i64, hours_ahead: i64, minutes: i64) {
        let now = self.spotify.now();
        self.spotify.simulate_listening(
            user,
            now - SignedDuration::from_hours(hours_back),
            now + SignedDuration::from_hours(hours_ahead),
            SignedDuration::from_mins(minutes),
        );
    }

    /// The fake's plays that have happened by now, as (ended_at ms, track URI).
    pub fn played(&self, user: &FakeUser) -> Vec<(i64, String)> {
        let now = self.spotify.now();
        self.spotify
            .plays(user)
            .into_iter()
            .filter(|p| p.played_at <= now)
            .map(|p| (p.played_at.as_millisecond(), p.track.uri()))
            .collect()
    }

    /// The stored listens of a user, as (ended_at ms, track key).
    pub async fn stored(&self, user: UserId) -> Vec<(i64, String)> {
        self.store()
            .stored_listens(user)
            .await
            .expect("read listens")
            .into_iter()
            .map(|l| (l.ended_at, l.track_key))
            .collect()
    }

    /// Every job run of a user, oldest first.
    pub async fn job_runs(&self, user: UserId) -> Vec<JobRunRow> {
        let mut runs = self
            .store()
            .latest_job_runs(Some(user), 1000)
            .await
            .expect("read job runs");
        runs.reverse();
        runs
    }

    pub async fn gaps(&self, user: UserId) -> Vec<GapRow> {
        let all_time = PlayFilter {
            user,
            from_ms: None,
            to_ms: i64::MAX,
            rule: CountingRule::default(),
        };
        self.store()
            .coverage_gaps(&all_time)
            .await
            .expect("read gaps")
    }

    pub fn advance_hours(&self, hours: i64) {
        self.spotify.advance(SignedDuration::from_hours(hours));
    }
}

/// Runs one cycle, which must not fail as a whole.
pub async fn cycle(collector: &Collector) -> CycleReport {
    collector.run_once().await.expect("the cycle runs")
}

/// The outcome of `user`'s unit of `kind` in a cycle.
pub fn outcome_of(report: &CycleReport, kind: JobKind, user: UserId) -> &WorkOutcome {
    report
        .outcomes()
        .find(|o| o.kind == kind && o.user == Some(user))
        .unwrap_or_else(|| panic!("no {kind:?} of user {user} in {report:#?}"))
}

/// Kinds and statuses of job runs, for compact assertions.
pub fn kinds_and_statuses(runs: &[JobRunRow]) -> Vec<(String, String)> {
    runs.iter()
        .map(|r| (r.kind.clone(), r.status.clone()))
        .collect()
}

pub fn succeeded(kind: JobKind) -> (String, String) {
    (
        kind.as_str().to_owned(),
        RunStatus::Succeeded.as_str().to_owned(),
    )
}

pub fn failed(kind: JobKind) -> (String, String) {
    (
        kind.as_str().to_owned(),
        RunStatus::Failed.as_str().to_owned(),
    )
}
