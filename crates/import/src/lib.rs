//! Spotify export parsers.
