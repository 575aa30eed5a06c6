//! Why a tool call failed, split by who can fix it.

use spotify_history_analytics::AnalyticsError;
use spotify_history_spotify::{AccessError, SpotifyError};
use thiserror::Error;

/// A failed tool call. Argument and permission problems are the caller's to fix and reach
/// the model as tool errors (`isError: true`); `Internal` is ours.
#[derive(Debug, Error)]
pub enum ToolError {
    #[error("{0}")]
    BadArguments(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("unknown tool {0:?}: list the tools with tools/list (MCP) or GET /mcp/tools")]
    UnknownTool(String),
    /// Spotify cannot be called for this listener (not configured, not linked, needs a new
    /// sign-in): the message says what to do.
    #[error("{0}")]
    SpotifyUnavailable(String),
    /// Spotify asked for a pause; nothing is sent before `retry_after_secs` have passed.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// Spotify failed (5xx, network, refused): worth trying again later.
    #[error("{0}")]
    Upstream(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ToolError {
    /// A stable code for JSON error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            ToolError::BadArguments(_) => "bad_arguments",
            ToolError::Forbidden(_) => "forbidden",
            ToolError::NotFound(_) => "not_found",
            ToolError::UnknownTool(_) => "unknown_tool",
            ToolError::SpotifyUnavailable(_) => "spotify_unavailable",
            ToolError::RateLimited { .. } => "rate_limited",
            ToolError::Upstream(_) => "spotify_failed",
            ToolError::Internal(_) => "internal",
        }
    }
}

impl From<AnalyticsError> for ToolError {
    fn from(err: AnalyticsError) -> Self {
        match err {
            AnalyticsError::BadArgument(message) => ToolError::BadArguments(message),
            AnalyticsError::NotFound(what) => ToolError::NotFound(format!("{what} not found")),
            AnalyticsError::Store(err) => {
                tracing::error!(error = %err, "tool failed in the store");
                ToolError::Internal("the database failed; try again later".into())
            }
        }
    }
}

impl From<spotify_history_store::StoreError> for ToolError {
    fn from(err: spotify_history_store::StoreError) -> Self {
        AnalyticsError::Store(err).into()
    }
}

impl From<AccessError> for ToolError {
    fn from(err: AccessError) -> Self {
        match err {
            AccessError::NotLinked(_)
            | AccessError::NeedsReauth(_)
            | AccessError::Undecryptable(_) => ToolError::SpotifyUnavailable(err.to_string()),
            AccessError::RateLimited { wait, .. } => ToolError::RateLimited {
                retry_after_secs: u64::try_from(wait.as_secs()).unwrap_or(0).max(1),
                message: err.to_string(),
            },
            AccessError::Spotify(err) => match err {
                SpotifyError::InvalidRequest { message } => ToolError::BadArguments(message),
                SpotifyError::NotFound { .. } => ToolError::NotFound(err.to_string()),
                SpotifyError::BadRequest { .. } => ToolError::BadArguments(err.to_string()),
                other => ToolError::Upstream(other.to_string()),
            },
            AccessError::Store(err) => err.into(),
        }
    }
}
