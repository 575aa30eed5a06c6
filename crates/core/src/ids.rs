//! Integer surrogate keys, one type per table so they cannot be mixed up.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// A listener (with or without a Spotify account link).
    UserId,
    /// A track, podcast episode or audiobook chapter.
    TrackId,
    /// An artist.
    ArtistId,
    /// An album, podcast show or audiobook.
    AlbumId,
    /// One stored listen.
    PlayId,
    /// An API (MCP/admin) bearer token.
    ApiTokenId,
    /// An import job (an uploaded or queued export).
    ImportJobId,
    /// One run of a background job (import, sync, poll, refresh).
    JobRunId,
);
