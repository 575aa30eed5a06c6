//! The history questions answered from real databases (SQLite always, PostgreSQL when
//! TEST_DATABASE_URL is set), checked against answers computed independently in the tests:
//! from the generated export's JSON files, or from hand-written listens.

mod arguments;
mod export;
mod handmade;
mod ops;
mod plays;
mod rankings;
mod rollups;
mod time;
