//! `GET /admin/ui/logs`: stored log events, newest first, filtered by level, source, user
//! and text; `POST /admin/ui/logs/purge` deletes the matching ones (optionally only those
//! older than some days).

use super::jobs::{UserChoice, user_choices};
use super::{AdminPage, Frame, UiError, done, format, render};
use crate::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use spotify_history_core::UserId;
use spotify_history_store::{LogFilter, LogLevel};

const PAGE_SIZE: u32 = 100;
const LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

/// The filter fields, as the query string (page) or the form (purge) carry them.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LogsQuery {
    #[serde(default)]
    level: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    text: String,
    page: Option<u32>,
    /// Purge only: events older than this many days.
    #[serde(default)]
    older_than_days: String,
    /// Purge only: must be `yes`.
    #[serde(default)]
    confirm: String,
}

impl LogsQuery {
    fn filter(&self) -> LogFilter {
        let nonempty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        LogFilter {
            min_level: self.level.parse::<LogLevel>().ok(),
            target_prefix: nonempty(&self.source),
            user: self.user.trim().parse().ok().map(UserId),
            text: nonempty(&self.text),
            before: None,
        }
    }
}

/// A log event as the table shows it.
struct LogRow {
    ts: String,
    level: String,
    target: String,
    message: String,
    user_id: Option<i64>,
    fields: String,
}

#[derive(Template)]
#[template(path = "ui/logs.html")]
struct LogsPage {
    frame: Frame,
    levels: [&'static str; 5],
    users: Vec<UserChoice>,
    level: String,
    source: String,
    user: String,
    text: String,
    entries: Vec<LogRow>,
    total: String,
    previous: Option<String>,
    next: Option<String>,
}

pub(crate) async fn page(
    State(app): State<AppState>,
    page: AdminPage,
    Query(query): Query<LogsQuery>,
) -> Result<Response, UiError> {
    let filter = query.filter();
    let number = query.page.unwrap_or(1).max(1);
    let logs = app
        .store
        .query_logs(&filter, PAGE_SIZE, u64::from((number - 1) * PAGE_SIZE))
        .await?;
    let link = |to: u32| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("level", &query.level),
            ("source", &query.source),
            ("user", &query.user),
            ("text", &query.text),
        ] {
            if !value.is_empty() {
                q.append_pair(key, value);
            }
        }
        q.append_pair("page", &to.to_string());
        format!("/admin/ui/logs?{}", q.finish())
    };
    Ok(render(&LogsPage {
        frame: page.frame.in_section("logs"),
        levels: LEVELS,
        users: user_choices(&app).await?,
        level: filter
            .min_level
            .map(|l| l.as_str().to_ascii_lowercase())
            .unwrap_or_default(),
        source: query.source.clone(),
        user: query.user.clone(),
        text: query.text.clone(),
        entries: logs
            .entries
            .into_iter()
            .map(|e| LogRow {
                ts: format::ms_utc(e.ts),
                level: e.level.as_str().to_owned(),
                target: e.target,
                message: e.message,
                user_id: e.user_id.map(|u| u.0),
                fields: e.fields.map(|f| f.to_string()).unwrap_or_default(),
            })
            .collect(),
        total: format::count(i64::try_from(logs.total).unwrap_or(i64::MAX)),
        previous: (number > 1).then(|| link(number - 1)),
        next: (logs.total > u64::from(number * PAGE_SIZE)).then(|| link(number + 1)),
    }))
}

/// Deletes the events matching the form's filter, when the form confirms it.
pub(crate) async fn purge(
    State(app): State<AppState>,
    _page: AdminPage,
    Form(form): Form<LogsQuery>,
) -> Result<Response, UiError> {
    if form.confirm != "yes" {
        return Err(UiError::bad_request(
            "Nothing was deleted: tick the box that confirms the purge.",
        ));
    }
    let mut filter = form.filter();
    if let Some(days) = form
        .older_than_days
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|d| *d > 0)
    {
        filter.before = Some(jiff::Timestamp::now().as_millisecond() - days * 86_400_000);
    }
    let deleted = app.store.purge_logs(&filter).await?;
    tracing::info!(deleted, "log events purged from the admin UI");
    Ok(done("/admin/ui/logs", "purged"))
}
