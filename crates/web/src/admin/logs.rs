//! `GET /admin/logs` and `POST /admin/logs/purge`: the stored log events, newest first,
//! filtered by level, source, user and text; and deleting old or matching ones.

use super::input::{JsonBody, Page, Params, bad_request, invalid, user_id};
use super::{store_error, utc};
use crate::{AdminAccess, ApiError, AppState};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spotify_history_store::{LogEntry, LogFilter, LogLevel};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/logs", get(list))
        .route("/admin/logs/purge", post(purge))
}

/// The filter of a listing or a purge, as the request spells it.
#[derive(Debug, Default, Deserialize)]
struct FilterInput {
    /// This level and the more severe ones: `error`, `warn`, `info`, `debug`, `trace`.
    level: Option<String>,
    /// Where events come from: `collector`, `web`, `import`, `store`, `mcp`, `spotify`
    /// or any prefix of a Rust module path.
    #[serde(alias = "target")]
    source: Option<String>,
    user_id: Option<i64>,
    /// Text in the message or the fields, ignoring case.
    #[serde(alias = "q")]
    text: Option<String>,
}

impl FilterInput {
    fn filter(&self) -> Result<LogFilter, ApiError> {
        Ok(LogFilter {
            min_level: self
                .level
                .as_deref()
                .filter(|l| !l.trim().is_empty())
                .map(|l| l.parse::<LogLevel>().map_err(|e| invalid("level", e)))
                .transpose()?,
            target_prefix: self
                .source
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(target_prefix),
            user: self.user_id.map(|id| user_id("user_id", id)).transpose()?,
            text: self
                .text
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            before: None,
        })
    }
}

/// A short source name as the target prefix of its crate; anything else is taken as a
/// module path prefix.
fn target_prefix(source: &str) -> String {
    let crate_name = match source.to_ascii_lowercase().as_str() {
        "web" | "api" | "http" => "spotify_history_web",
        "collector" => "spotify_history_collector",
        "import" => "spotify_history_import",
        "store" | "database" => "spotify_history_store",
        "mcp" => "spotify_history_mcp",
        "spotify" => "spotify_history_spotify",
        "analytics" => "spotify_history_analytics",
        _ => return source.to_owned(),
    };
    crate_name.to_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogsQuery {
    level: Option<String>,
    #[serde(alias = "target")]
    source: Option<String>,
    user_id: Option<i64>,
    #[serde(alias = "q")]
    text: Option<String>,
    limit: Option<u32>,
    offset: Option<u64>,
}

/// A stored event. `ts` in UTC, `ts_ms` in Unix milliseconds.
#[derive(Debug, Serialize)]
struct LogView {
    id: i64,
    ts: String,
    ts_ms: i64,
    level: LogLevel,
    target: String,
    message: String,
    fields: Option<Value>,
    user_id: Option<i64>,
}

impl From<LogEntry> for LogView {
    fn from(entry: LogEntry) -> Self {
        LogView {
            id: entry.id,
            ts: utc(entry.ts),
            ts_ms: entry.ts,
            level: entry.level,
            target: entry.target,
            message: entry.message,
            fields: entry.fields,
            user_id: entry.user_id.map(|u| u.0),
        }
    }
}

#[derive(Debug, Serialize)]
struct LogList {
    logs: Vec<LogView>,
    total: u64,
    limit: u32,
    offset: u64,
}

async fn list(
    _: AdminAccess,
    State(state): State<AppState>,
    Params(query): Params<LogsQuery>,
) -> Result<Json<LogList>, ApiError> {
    let page = Page::new(query.limit, query.offset)?;
    let filter = FilterInput {
        level: query.level,
        source: query.source,
        user_id: query.user_id,
        text: query.text,
    }
    .filter()?;
    let found = state
        .store
        .query_logs(&filter, page.limit, page.offset)
        .await
        .map_err(store_error)?;
    Ok(Json(LogList {
        logs: found.entries.into_iter().map(LogView::from).collect(),
        total: found.total,
        limit: page.limit,
        offset: page.offset,
    }))
}

/// What to purge: events older than `older_than_days`, and/or those matching the filter
/// (the same filter as the listing: `level` means that level and more severe ones).
/// Purging everything takes `"all": true`, so an empty body deletes nothing by accident.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PurgeRequest {
    older_than_days: Option<u32>,
    #[serde(default)]
    all: bool,
    level: Option<String>,
    #[serde(alias = "target")]
    source: Option<String>,
    user_id: Option<i64>,
    #[serde(alias = "q")]
    text: Option<String>,
}

async fn purge(
    _: AdminAccess,
    State(state): State<AppState>,
    JsonBody(request): JsonBody<PurgeRequest>,
) -> Result<Json<Value>, ApiError> {
    let mut filter = FilterInput {
        level: request.level,
        source: request.source,
        user_id: request.user_id,
        text: request.text,
    }
    .filter()?;
    if let Some(days) = request.older_than_days {
        let cutoff = jiff::Timestamp::now().as_millisecond() - i64::from(days) * 86_400_000;
        filter.before = Some(cutoff);
    }
    if filter == LogFilter::default() && !request.all {
        return Err(bad_request(
            "say what to purge: older_than_days, a filter (level, source, user_id, text), or \"all\": true for every event",
        ));
    }
    let deleted = state.store.purge_logs(&filter).await.map_err(store_error)?;
    tracing::info!(deleted, "admin purged logs");
    Ok(Json(json!({ "deleted": deleted })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_name_crates_or_module_prefixes() {
        assert_eq!(target_prefix("collector"), "spotify_history_collector");
        assert_eq!(target_prefix("Web"), "spotify_history_web");
        assert_eq!(target_prefix("tower_http::trace"), "tower_http::trace");
        let err = FilterInput {
            level: Some("loud".into()),
            ..FilterInput::default()
        }
        .filter()
        .unwrap_err();
        assert!(err.message.starts_with("level:"), "{}", err.message);
    }
}
