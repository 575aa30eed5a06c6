//! The tool catalog of spotify-history and every surface that serves it: MCP over streamable
//! HTTP and stdio, the legacy `POST /mcp/call` + `GET /mcp/tools` endpoints, and an OpenAPI
//! document with one operation per tool. Each tool is defined once (name, description for a
//! model, input and output schema, handler) in [`catalog`]; the surfaces only translate.
//!
//! Authentication happens before a request reaches these surfaces: HTTP middleware puts a
//! [`Principal`](spotify_history_core::Principal) into the request extensions; stdio sessions
//! are given one at start.

pub mod catalog;
mod error;
mod http;
mod invoke;
mod openapi;
mod rate_limit;
mod scope;
mod server;
mod tools;

pub use catalog::{Catalog, ToolDef};
pub use error::ToolError;
pub use http::{McpState, public_routes, routes};
pub use invoke::invoke;
pub use rate_limit::RateLimiter;
pub use server::McpServer;

use spotify_history_analytics::Analytics;
use spotify_history_spotify::SpotifyAccess;

/// What tool handlers can reach.
#[derive(Debug, Clone)]
pub struct ToolContext {
    pub analytics: Analytics,
    /// Live Spotify calls on the listener's behalf; `None` without a configured Spotify app.
    pub spotify: Option<SpotifyAccess>,
}
