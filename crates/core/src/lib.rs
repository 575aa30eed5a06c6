//! Domain types shared by every part of spotify-history, and the in-memory metrics registry.
//! No I/O lives here.

mod ids;
mod listen;
pub mod metrics;
mod secret;
mod user;

pub use ids::{AlbumId, ApiTokenId, ArtistId, ImportJobId, JobRunId, PlayId, TrackId, UserId};
pub use listen::{
    AlbumRef, ArtistRef, CountingRule, EndedAt, ItemKind, ItemRef, ListenKeys, NewListen,
    PlayDetails, Source, SourceSet,
};
pub use secret::Secret;
pub use user::{ApiToken, InvalidName, Principal, User, checked_display_name, checked_user_name};
