//! The HTTP surfaces: MCP streamable HTTP at `/mcp`, the legacy `GET /mcp/tools` and
//! `POST /mcp/call`, one `POST /api/tools/{name}` per tool (what the OpenAPI document
//! describes), and `GET /openapi.json`.

use crate::{Catalog, McpServer, RateLimiter, ToolContext, ToolError, invoke, openapi};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde::Deserialize;
use serde_json::{Value, json};
use spotify_history_core::Principal;
use spotify_history_spotify::SpotifyAccess;
use std::sync::Arc;

/// What the tool surfaces need.
#[derive(Debug, Clone)]
pub struct McpState {
    pub catalog: Catalog,
    pub context: ToolContext,
    pub limiter: RateLimiter,
    /// Host names MCP requests may be addressed to (DNS-rebinding protection): loopback plus
    /// the host of PUBLIC_BASE_URL.
    pub allowed_hosts: Vec<String>,
    /// Where clients reach this server (the OpenAPI `servers` entry).
    pub public_base_url: String,
}

impl McpState {
    /// The tool surfaces over `store`. `public_base_url` is where clients reach this server;
    /// its host joins the loopback names MCP requests may be addressed to.
    pub fn new(
        store: spotify_history_store::Store,
        default_min_ms: i64,
        calls_per_minute: u32,
        public_base_url: &str,
    ) -> Self {
        let mut allowed_hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
            .map(String::from)
            .to_vec();
        if let Some(authority) = public_base_url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
        {
            allowed_hosts.push(authority.to_string());
            if let Some((host, _port)) = authority.rsplit_once(':') {
                allowed_hosts.push(host.to_string());
            }
        }
        McpState {
            catalog: Catalog::new(),
            context: ToolContext {
                analytics: spotify_history_analytics::Analytics::new(store, default_min_ms),
                spotify: None,
            },
            limiter: RateLimiter::per_minute(calls_per_minute),
            allowed_hosts,
            public_base_url: public_base_url.trim_end_matches('/').to_string(),
        }
    }

    /// Serves the live Spotify tools through `spotify` (they answer "not configured" without).
    pub fn with_spotify(mut self, spotify: Option<SpotifyAccess>) -> Self {
        self.context.spotify = spotify;
        self
    }
}

/// Routes that need an authenticated [`Principal`] in the request extensions.
pub fn routes(state: McpState) -> Router {
    let server = McpServer::for_http(state.catalog.clone(), state.context.clone());
    // Stateless JSON answers: any API process can serve any request, so several processes
    // can sit behind one load balancer without sticky sessions.
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_allowed_hosts(state.allowed_hosts.clone());
    let mcp = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    Router::new()
        .route_service("/mcp", mcp)
        .route("/mcp/tools", get(list_tools))
        .route("/mcp/call", post(legacy_call))
        .route("/api/tools/{name}", post(tool_call))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .with_state(state)
}

/// Routes open to anyone: the OpenAPI document (ChatGPT imports it without credentials).
pub fn public_routes(state: McpState) -> Router {
    Router::new()
        .route("/openapi.json", get(openapi_document))
        .with_state(state)
}

/// 401 without a principal; 429 with `Retry-After` once a token exceeds its calls per minute.
async fn rate_limit(State(state): State<McpState>, request: Request, next: Next) -> Response {
    let Some(principal) = request.extensions().get::<Principal>().copied() else {
        return error_response(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send Authorization: Bearer <token> (create one with `spotify-history tokens create`)",
        );
    };
    if let Err(wait) = state.limiter.check(&principal) {
        let seconds = wait.as_secs().max(1);
        let mut response = error_response(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            &format!(
                "too many calls for this token (RATE_LIMIT_MCP_PER_MINUTE); retry after {seconds} s"
            ),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return response;
    }
    next.run(request).await
}

fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

impl IntoResponse for ToolError {
    fn into_response(self) -> Response {
        let status = match &self {
            ToolError::BadArguments(_) => StatusCode::BAD_REQUEST,
            ToolError::Forbidden(_) => StatusCode::FORBIDDEN,
            ToolError::NotFound(_) | ToolError::UnknownTool(_) => StatusCode::NOT_FOUND,
            ToolError::SpotifyUnavailable(_) => StatusCode::CONFLICT,
            ToolError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ToolError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ToolError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut response = error_response(status, self.code(), &self.to_string());
        if let ToolError::RateLimited {
            retry_after_secs, ..
        } = &self
        {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*retry_after_secs),
            );
        }
        response
    }
}

/// `GET /mcp/tools`: the catalog with the original system's dotted names.
async fn list_tools(State(state): State<McpState>) -> Json<Value> {
    let tools: Vec<Value> = state
        .catalog
        .tools()
        .iter()
        .map(|tool| {
            json!({
                "name": tool.legacy_name,
                "mcp_name": tool.name,
                "title": tool.title,
                "description": tool.description,
                "input_schema": tool.input_schema,
                "output_schema": tool.output_schema,
            })
        })
        .collect();
    Json(json!({ "tools": tools }))
}

#[derive(Debug, Deserialize)]
struct LegacyCall {
    tool: String,
    #[serde(default)]
    args: Value,
}

/// `POST /mcp/call {"tool", "args"}`: the original system's endpoint.
async fn legacy_call(
    State(state): State<McpState>,
    Extension(principal): Extension<Principal>,
    body: Result<Json<LegacyCall>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, Response> {
    let Json(call) = match body {
        Ok(call) => call,
        // Cut off by the server's body size limit: not a malformed call.
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                &e.body_text(),
            ));
        }
        Err(e) => {
            return Err(ToolError::BadArguments(format!(
                "expected a JSON body {{\"tool\": \"history.top_artists\", \"args\": {{...}}}}: {e}"
            ))
            .into_response());
        }
    };
    let result = invoke(
        &state.catalog,
        &state.context,
        &principal,
        &call.tool,
        call.args,
    )
    .await
    .map_err(IntoResponse::into_response)?;
    Ok(Json(json!({ "tool": call.tool, "result": result })))
}

/// `POST /api/tools/{name}` with the arguments as the body: one typed operation per tool.
async fn tool_call(
    State(state): State<McpState>,
    Extension(principal): Extension<Principal>,
    Path(name): Path<String>,
    body: Option<Json<Value>>,
) -> Result<Json<Value>, ToolError> {
    let args = body.map(|Json(v)| v).unwrap_or(Value::Null);
    let result = invoke(&state.catalog, &state.context, &principal, &name, args).await?;
    Ok(Json(result))
}

async fn openapi_document(State(state): State<McpState>) -> Json<Value> {
    Json(openapi::document(&state.catalog, &state.public_base_url))
}
