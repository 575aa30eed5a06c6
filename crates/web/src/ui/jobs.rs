//! `GET /admin/ui/jobs`: background job runs, newest first, filtered by kind, user and
//! status, 50 a page.

use super::{AdminPage, Frame, UiError, format, render};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use spotify_history_core::UserId;
use spotify_history_store::history::JobRunRow;
use spotify_history_store::{JobKind, JobRunFilter};

const PAGE_SIZE: u32 = 50;

/// A job run as tables show it.
#[derive(Debug, Clone)]
pub(crate) struct RunRow {
    pub id: i64,
    pub kind: String,
    pub user_id: Option<i64>,
    pub user: String,
    pub status: String,
    pub started_at: String,
    pub duration: String,
    pub fetched: String,
    pub inserted: String,
    pub error: Option<String>,
}

pub(crate) fn run_rows(rows: Vec<JobRunRow>) -> Vec<RunRow> {
    rows.into_iter()
        .map(|row| RunRow {
            id: row.id,
            kind: row.kind,
            user_id: row.user_id,
            user: row.user_name.unwrap_or_default(),
            status: row.status,
            started_at: format::ms_utc(row.started_at),
            duration: row
                .finished_at
                .map(|end| format!("{:.1} s", (end - row.started_at) as f64 / 1000.0))
                .unwrap_or_else(|| "running".into()),
            fetched: format::count(row.items_fetched),
            inserted: format::count(row.items_inserted),
            error: row.error,
        })
        .collect()
}

/// The kinds a filter offers.
const KINDS: [JobKind; 4] = [
    JobKind::Import,
    JobKind::InitialSync,
    JobKind::Poll,
    JobKind::Refresh,
];
const STATUSES: [&str; 3] = ["running", "succeeded", "failed"];

#[derive(Debug, Default, Deserialize)]
pub(crate) struct JobsQuery {
    kind: Option<String>,
    user: Option<String>,
    status: Option<String>,
    page: Option<u32>,
}

/// A user a filter can pick.
pub(crate) struct UserChoice {
    pub id: String,
    pub name: String,
}

pub(crate) async fn user_choices(app: &AppState) -> Result<Vec<UserChoice>, UiError> {
    Ok(app
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|u| UserChoice {
            id: u.id.to_string(),
            name: u.display_name.unwrap_or(u.name),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "ui/jobs.html")]
struct JobsPage {
    frame: Frame,
    kinds: Vec<&'static str>,
    statuses: [&'static str; 3],
    users: Vec<UserChoice>,
    kind: String,
    user: String,
    status: String,
    runs_shown: Vec<RunRow>,
    total: String,
    page: u32,
    previous: Option<String>,
    next: Option<String>,
}

pub(crate) async fn page(
    State(app): State<AppState>,
    page: AdminPage,
    Query(query): Query<JobsQuery>,
) -> Result<Response, UiError> {
    let kind = query
        .kind
        .as_deref()
        .and_then(|k| KINDS.into_iter().find(|kind| kind.as_str() == k));
    let user = query
        .user
        .as_deref()
        .and_then(|u| u.parse::<i64>().ok())
        .map(UserId);
    let status = query
        .status
        .as_deref()
        .filter(|s| STATUSES.contains(s))
        .map(str::to_owned);
    let filter = JobRunFilter {
        kind,
        user,
        status: status.clone(),
    };
    let number = query.page.unwrap_or(1).max(1);
    let runs = app
        .store
        .job_runs_page(&filter, PAGE_SIZE, u64::from((number - 1) * PAGE_SIZE))
        .await?;
    let link = |to: u32| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(kind) = kind {
            query.append_pair("kind", kind.as_str());
        }
        if let Some(user) = user {
            query.append_pair("user", &user.to_string());
        }
        if let Some(status) = &status {
            query.append_pair("status", status);
        }
        query.append_pair("page", &to.to_string());
        format!("/admin/ui/jobs?{}", query.finish())
    };
    let shown_until = u64::from(number * PAGE_SIZE);
    Ok(render(&JobsPage {
        frame: page.frame.in_section("jobs"),
        kinds: KINDS.iter().map(|k| k.as_str()).collect(),
        statuses: STATUSES,
        users: user_choices(&app).await?,
        kind: kind.map(|k| k.as_str().to_owned()).unwrap_or_default(),
        user: user.map(|u| u.to_string()).unwrap_or_default(),
        status: status.clone().unwrap_or_default(),
        runs_shown: run_rows(runs.runs),
        total: format::count(i64::try_from(runs.total).unwrap_or(i64::MAX)),
        page: number,
        previous: (number > 1).then(|| link(number - 1)),
        next: (runs.total > shown_until).then(|| link(number + 1)),
    }))
}
