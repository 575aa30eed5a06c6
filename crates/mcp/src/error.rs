//! Why a tool call failed, split by who can fix it.

use spotify_history_analytics::AnalyticsError;
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
