//! Calling a tool on behalf of a principal: the one path every surface takes.

use crate::catalog::Access;
use crate::{Catalog, ToolContext, ToolError, scope};
use serde_json::{Map, Value};
use spotify_history_core::{Principal, metrics};

/// Runs tool `name` (MCP or legacy name) for `principal` with JSON object `args`, and
/// counts the call by tool and outcome (`ok` or the error code) for `/metrics`.
pub async fn invoke(
    catalog: &Catalog,
    context: &ToolContext,
    principal: &Principal,
    name: &str,
    args: Value,
) -> Result<Value, ToolError> {
    let result = run_tool(catalog, context, principal, name, args).await;
    // Unknown names are one series, so callers cannot mint new ones.
    let tool = catalog.find(name).map_or("unknown", |tool| tool.name);
    let outcome = result.as_ref().map_or_else(ToolError::code, |_| "ok");
    metrics::tool_call(tool, outcome);
    result
}

async fn run_tool(
    catalog: &Catalog,
    context: &ToolContext,
    principal: &Principal,
    name: &str,
    args: Value,
) -> Result<Value, ToolError> {
    let tool = catalog
        .find(name)
        .ok_or_else(|| ToolError::UnknownTool(name.to_string()))?;
    let mut args = match args {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => {
            return Err(ToolError::BadArguments(format!(
                "arguments must be a JSON object, got {other}"
            )));
        }
    };
    let user_id = match args.remove("user_id") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
        Some(other) => {
            return Err(ToolError::BadArguments(format!(
                "user_id must be an integer, got {other}"
            )));
        }
    };
    let scope = match tool.access {
        Access::Admin if !principal.is_admin() => {
            return Err(ToolError::Forbidden(format!(
                "{} needs an admin token",
                tool.name
            )));
        }
        Access::Admin => None,
        Access::User => Some(scope::resolve(context.analytics.store(), principal, user_id).await?),
    };
    tool.call(context.clone(), scope, Value::Object(args)).await
}
