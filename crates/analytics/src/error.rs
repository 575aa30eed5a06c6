//! Why a question could not be answered.

use thiserror::Error;

/// An unanswerable question. `BadArgument` is the caller's to fix (and is shown to the model
/// as a tool error it can act on); `Store` is ours.
#[derive(Debug, Error)]
pub enum AnalyticsError {
    #[error("{0}")]
    BadArgument(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] spotify_history_store::StoreError),
}
