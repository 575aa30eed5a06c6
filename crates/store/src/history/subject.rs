//! Narrowing a question to one artist's or one track's plays (artist and track detail).

use spotify_history_core::{ArtistId, TrackId};

/// Whose plays a detail question counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// Plays of the tracks this artist is the primary artist of (as in the artist ranking).
    Artist(ArtistId),
    /// Plays of this track.
    Track(TrackId),
}

impl Subject {
    /// The extra condition on `p` (plays), with the subject's id as placeholder `$n`.
    pub(crate) fn condition(subject: Option<Subject>, n: usize) -> String {
        match subject {
            None => String::new(),
            Some(Subject::Artist(_)) => format!(
                " AND p.track_id IN (SELECT sa.track_id FROM track_artists sa
                                     WHERE sa.artist_id = ${n} AND sa.position = 0)"
            ),
            Some(Subject::Track(_)) => format!(" AND p.track_id = ${n}"),
        }
    }

    /// The id bound to the condition's placeholder.
    pub(crate) fn id(self) -> i64 {
        match self {
            Subject::Artist(id) => id.0,
            Subject::Track(id) => id.0,
        }
    }
}

/// Binds the subject's id when there is one (the condition then references it).
macro_rules! bind_subject {
    ($query:expr, $subject:expr) => {
        match $subject {
            Some(subject) => $query.bind(subject.id()),
            None => $query,
        }
    };
}
pub(crate) use bind_subject;
