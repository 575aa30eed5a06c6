//! Test harness for spotify-history: a fresh database per test on SQLite (always) and on
//! PostgreSQL (when `TEST_DATABASE_URL` is set), and [`store_test!`] to run one test body on
//! both.

mod database;
pub mod fake_spotify;

pub use database::TestDb;
pub use fake_spotify::FakeSpotify;

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
