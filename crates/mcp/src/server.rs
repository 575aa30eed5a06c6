//! The MCP server (rmcp): lists the catalog and calls tools for the request's principal.

use crate::{Catalog, ToolContext, ToolError, invoke};
use rmcp::ErrorData as McpError;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    InitializeResult, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
    Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler};
use serde_json::Value;
use spotify_history_core::Principal;
use std::sync::Arc;

const INSTRUCTIONS: &str = "Tools over one listener's complete Spotify listening history \
(imported exports plus continuous collection). Every history answer states its time window \
and time zone, the counting rule (a listen counts as a play from min_ms, default 30 s) and the \
data coverage of the window (sources, first/last listen, known gaps): mention them when they \
matter. Give tz (an IANA zone such as Europe/Berlin) for hours, weekdays and dates in the \
listener's local time.";

/// One MCP server; cheap to clone (one per HTTP request or stdio session).
#[derive(Debug, Clone)]
pub struct McpServer {
    catalog: Catalog,
    context: ToolContext,
    /// The principal of a stdio session; HTTP requests carry their own.
    fixed_principal: Option<Principal>,
}

impl McpServer {
    /// A server for HTTP: each request's principal comes from the authentication middleware
    /// (and its rate from the HTTP rate limiter).
    pub fn for_http(catalog: Catalog, context: ToolContext) -> Self {
        McpServer {
            catalog,
            context,
            fixed_principal: None,
        }
    }

    /// A server for one local stdio session acting as `principal`.
    pub fn for_stdio(catalog: Catalog, context: ToolContext, principal: Principal) -> Self {
        McpServer {
            catalog,
            context,
            fixed_principal: Some(principal),
        }
    }

    fn principal(&self, context: &RequestContext<RoleServer>) -> Option<Principal> {
        self.fixed_principal.or_else(|| {
            context
                .extensions
                .get::<axum::http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<Principal>().copied())
        })
    }
}

/// The catalog entry as an MCP tool.
fn mcp_tool(tool: &crate::ToolDef) -> Tool {
    let mut annotations = ToolAnnotations::default();
    annotations.title = Some(tool.title.to_string());
    annotations.read_only_hint = Some(true);
    annotations.open_world_hint = Some(false);
    Tool::new_with_raw(
        tool.name,
        Some(tool.description.into()),
        Arc::new(tool.input_schema.clone()),
    )
    .with_title(tool.title)
    .with_raw_output_schema(Arc::new(tool.output_schema.clone()))
    .with_annotations(annotations)
}

/// An error the model can read and act on.
fn tool_error(message: impl Into<String>) -> CallToolResponse {
    CallToolResult::error(vec![ContentBlock::text(message.into())]).into()
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        InitializeResult::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "spotify-history",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(
            self.catalog.tools().iter().map(mcp_tool).collect(),
        ))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.catalog.find(name).map(mcp_tool)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let Some(principal) = self.principal(&context) else {
            return Ok(tool_error(
                "not authenticated: send Authorization: Bearer <token>",
            ));
        };
        let args = request.arguments.map(Value::Object).unwrap_or(Value::Null);
        match invoke(
            &self.catalog,
            &self.context,
            &principal,
            &request.name,
            args,
        )
        .await
        {
            Ok(value) => Ok(CallToolResult::structured(value).into()),
            Err(ToolError::UnknownTool(name)) => Err(McpError::invalid_params(
                format!("unknown tool {name:?}"),
                None,
            )),
            Err(err) => Ok(tool_error(err.to_string())),
        }
    }
}
