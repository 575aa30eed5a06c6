//! The OpenAPI 3.1 document: one `POST /api/tools/{name}` operation per tool with its typed
//! request and response, bearer auth declared. This is what a ChatGPT Custom GPT imports.

use crate::Catalog;
use serde_json::{Map, Value, json};

/// GPT Actions cut operation descriptions at 300 characters.
const MAX_DESCRIPTION: usize = 300;

/// The document for `catalog`, served at `base_url`.
pub fn document(catalog: &Catalog, base_url: &str) -> Value {
    let mut schemas = Map::new();
    let mut paths = Map::new();
    for tool in catalog.tools() {
        let input = lift_definitions(&tool.input_schema, &mut schemas);
        let output = lift_definitions(&tool.output_schema, &mut schemas);
        let description: String = tool.description.chars().take(MAX_DESCRIPTION).collect();
        paths.insert(
            format!("/api/tools/{}", tool.name),
            json!({
                "post": {
                    "operationId": tool.name,
                    "summary": tool.title,
                    "description": description,
                    "requestBody": {
                        "required": false,
                        "content": { "application/json": { "schema": input } }
                    },
                    "responses": {
                        "200": {
                            "description": "The answer, with its window, counting rule and coverage",
                            "content": { "application/json": { "schema": output } }
                        },
                        "400": { "$ref": "#/components/responses/Error" },
                        "401": { "$ref": "#/components/responses/Error" },
                        "403": { "$ref": "#/components/responses/Error" },
                        "404": { "$ref": "#/components/responses/Error" },
                        "429": { "$ref": "#/components/responses/Error" }
                    }
                }
            }),
        );
    }
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": { "type": "string" },
                        "message": { "type": "string" }
                    },
                    "required": ["code", "message"]
                }
            },
            "required": ["error"]
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "spotify-history",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Questions about one listener's complete Spotify listening history. Every answer states its time window, time zone, counting rule and data coverage."
        },
        "servers": [{ "url": base_url }],
        "security": [{ "bearerAuth": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": { "type": "http", "scheme": "bearer" }
            },
            "schemas": schemas,
            "responses": {
                "Error": {
                    "description": "The call failed; the message says how to fix it",
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
                }
            }
        }
    })
}

/// Moves a root schema's `$defs` into `components/schemas` and points its references there.
fn lift_definitions(schema: &Map<String, Value>, components: &mut Map<String, Value>) -> Value {
    let mut schema = schema.clone();
    schema.remove("$schema");
    if let Some(Value::Object(defs)) = schema.remove("$defs") {
        for (name, mut definition) in defs {
            rewrite_refs(&mut definition);
            components.insert(name, definition);
        }
    }
    let mut schema = Value::Object(schema);
    rewrite_refs(&mut schema);
    schema
}

fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref")
                && let Some(name) = reference.strip_prefix("#/$defs/")
            {
                *reference = format!("#/components/schemas/{name}");
            }
            map.values_mut().for_each(rewrite_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}
