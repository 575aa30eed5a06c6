//! The Spotify client against the fake Spotify server, over real HTTP.

mod access;
mod failures;
mod oauth;
mod recently_played;
mod web_api;

use spotify_history_core::Secret;
use spotify_history_spotify::{SpotifyApp, SpotifyClient, SpotifyConfig};
use spotify_history_testkit::fake_spotify::{
    CLIENT_ID, CLIENT_SECRET, FakeSpotify, FakeTokens, FakeUser,
};
use std::time::Duration;

/// Registered with the fake; nothing listens there, the tests read the redirect instead.
const REDIRECT_URI: &str = "http://127.0.0.1:9/auth/callback";

/// A fake Spotify with one signed-in listener and a client pointed at it.
struct Setup {
    spotify: FakeSpotify,
    client: SpotifyClient,
    ann: FakeUser,
    tokens: FakeTokens,
}

impl Setup {
    async fn new() -> Setup {
        let spotify = FakeSpotify::start().await;
        spotify.add_redirect_uri(REDIRECT_URI);
        let ann = spotify.add_user("ann", "Ann Ångström");
        let tokens = spotify.issue_tokens(&ann);
        let client = client_for(&spotify, CLIENT_SECRET, Duration::from_secs(20));
        Setup {
            spotify,
            client,
            ann,
            tokens,
        }
    }

    fn access_token(&self) -> Secret {
        Secret::new(&self.tokens.access_token)
    }

    fn refresh_token(&self) -> Secret {
        Secret::new(&self.tokens.refresh_token)
    }
}

fn client_for(spotify: &FakeSpotify, client_secret: &str, timeout: Duration) -> SpotifyClient {
    SpotifyClient::new(SpotifyConfig {
        app: SpotifyApp {
            client_id: CLIENT_ID.to_owned(),
            client_secret: Secret::new(client_secret),
            redirect_uri: REDIRECT_URI.to_owned(),
        },
        api_base_url: spotify.api_base(),
        accounts_base_url: spotify.accounts_base(),
        timeout,
    })
    .expect("a valid client configuration")
}
