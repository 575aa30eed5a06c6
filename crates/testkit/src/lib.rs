//! Test harness for spotify-history: a fresh database per test on SQLite (always) and on
//! PostgreSQL (when `TEST_DATABASE_URL` is set), and [`store_test!`] to run one test body on
//! both.

mod database;
pub mod fake_spotify;

pub use database::TestDb;
pub use fake_spotify::FakeSpotify;

/// A Spotify sign-in of `spotify_user_id` as the store saves one, with stand-in sealed tokens
/// (tests that call Spotify sign in through the fake instead).
pub fn sign_in_of(spotify_user_id: &str) -> spotify_history_store::NewSpotifyLink<'_> {
    spotify_history_store::NewSpotifyLink {
        spotify_user_id,
        display_name: None,
        refresh_token: "sealed-refresh",
        access_token: "sealed-access",
        access_expires_at: 0,
        scope: "user-read-recently-played",
    }
}

/// Defines a test module with one test per backend running the same body:
/// `name::sqlite` always, `name::postgres` when `TEST_DATABASE_URL` is set.
///
/// ```ignore
/// store_test!(creates_users, |db| {
///     db.store.create_user("ann", None).await.unwrap();
/// });
/// ```
#[macro_export]
macro_rules! store_test {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let $db = $crate::TestDb::sqlite().await;
                $body
            }

            #[tokio::test]
            async fn postgres() {
                let Some($db) = $crate::TestDb::postgres().await else {
                    return;
                };
                $body
            }
        }
    };
}
