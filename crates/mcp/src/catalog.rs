//! One definition per tool: name, description for a model, input and output schemas and the
//! handler. Every surface (MCP, legacy endpoint, OpenAPI) is generated from this catalog.

use crate::{ToolContext, ToolError};
use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use spotify_history_analytics::Scope;
use std::future::Future;
use std::sync::Arc;

type Handler = Arc<
    dyn Fn(ToolContext, Option<Scope>, Value) -> BoxFuture<'static, Result<Value, ToolError>>
        + Send
        + Sync,
>;

/// Who may call a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Any token; reads the history of the caller's user (admins: any `user_id`).
    User,
    /// Admin tokens only.
    Admin,
}

/// A tool, as every surface presents it.
#[derive(Clone)]
pub struct ToolDef {
    /// MCP and OpenAI-safe name, e.g. `history_top_artists`.
    pub name: &'static str,
    /// The original system's dotted name, e.g. `history.top_artists` (legacy endpoint).
    pub legacy_name: String,
    pub title: &'static str,
    pub description: &'static str,
    pub access: Access,
    /// JSON Schema of the arguments, including `user_id`.
    pub input_schema: Map<String, Value>,
    /// JSON Schema of the result.
    pub output_schema: Map<String, Value>,
    handler: Handler,
}

impl std::fmt::Debug for ToolDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolDef")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ToolDef {
    /// A tool about one user's history; schemas come from the argument and result types.
    pub fn new<A, R, F, Fut>(
        name: &'static str,
        title: &'static str,
        description: &'static str,
        handler: F,
    ) -> Self
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        R: Serialize + JsonSchema + 'static,
        F: Fn(ToolContext, Scope, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, ToolError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        Self::erased::<A, R>(
            name,
            title,
            description,
            Access::User,
            move |context, scope, args| {
                let handler = Arc::clone(&handler);
                Box::pin(async move {
                    let scope =
                        scope.ok_or_else(|| ToolError::Internal("no user resolved".into()))?;
                    let result = handler(context, scope, parse(args)?).await?;
                    serde_json::to_value(result).map_err(|e| ToolError::Internal(e.to_string()))
                })
            },
        )
    }

    /// An admin-only tool that is not about one user.
    pub fn admin<A, R, F, Fut>(
        name: &'static str,
        title: &'static str,
        description: &'static str,
        handler: F,
    ) -> Self
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        R: Serialize + JsonSchema + 'static,
        F: Fn(ToolContext, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, ToolError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        Self::erased::<A, R>(
            name,
            title,
            description,
            Access::Admin,
            move |context, _, args| {
                let handler = Arc::clone(&handler);
                Box::pin(async move {
                    let result = handler(context, parse(args)?).await?;
                    serde_json::to_value(result).map_err(|e| ToolError::Internal(e.to_string()))
                })
            },
        )
    }

    fn erased<A: JsonSchema, R: JsonSchema>(
        name: &'static str,
        title: &'static str,
        description: &'static str,
        access: Access,
        handler: impl Fn(
            ToolContext,
            Option<Scope>,
            Value,
        ) -> BoxFuture<'static, Result<Value, ToolError>>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        ToolDef {
            name,
            legacy_name: name.replacen('_', ".", 1),
            title,
            description,
            access,
            input_schema: input_schema::<A>(access),
            output_schema: schema_object::<R>(),
            handler: Arc::new(handler),
        }
    }

    /// Runs the tool with JSON arguments (without `user_id`); `scope` is `None` for admin tools.
    pub(crate) async fn call(
        &self,
        context: ToolContext,
        scope: Option<Scope>,
        args: Value,
    ) -> Result<Value, ToolError> {
        (self.handler)(context, scope, args).await
    }
}

fn parse<A: DeserializeOwned>(args: Value) -> Result<A, ToolError> {
    serde_json::from_value(args)
        .map_err(|e| ToolError::BadArguments(format!("invalid arguments: {e}")))
}

/// The JSON Schema of `T` as an object (what MCP's `inputSchema`/`outputSchema` hold).
fn schema_object<T: JsonSchema>() -> Map<String, Value> {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    match serde_json::to_value(schema) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The argument schema plus the `user_id` every tool accepts.
fn input_schema<A: JsonSchema>(access: Access) -> Map<String, Value> {
    let mut schema = schema_object::<A>();
    schema.insert("type".into(), json!("object"));
    let properties = schema
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let mut with_user = Map::new();
    if access == Access::User {
        with_user.insert(
            "user_id".into(),
            json!({
                "type": "integer",
                "description": "Whose history to read. Only admin tokens may name a user; a user's own token always reads that user's history, and with a single user in the database it may be left out."
            }),
        );
    }
    with_user.extend(properties);
    schema.insert("properties".into(), Value::Object(with_user));
    schema
}

/// Every tool, in presentation order.
#[derive(Debug, Clone)]
pub struct Catalog {
    tools: Arc<Vec<ToolDef>>,
}

impl Catalog {
    /// The full catalog.
    pub fn new() -> Self {
        let mut tools = crate::tools::history::tools();
        tools.extend(crate::tools::spotify::tools());
        tools.extend(crate::tools::ops::tools());
        Catalog {
            tools: Arc::new(tools),
        }
    }

    pub fn tools(&self) -> &[ToolDef] {
        &self.tools
    }

    /// A tool by MCP name (`history_top_artists`) or legacy dotted name (`history.top_artists`).
    pub fn find(&self, name: &str) -> Option<&ToolDef> {
        self.tools
            .iter()
            .find(|tool| tool.name == name || tool.legacy_name == name)
    }
}

impl Default for Catalog {
    fn default() -> Self {
        Self::new()
    }
}
