//! `GET /admin`: the dashboard — every user's collection health (last poll, needs-reauth
//! alerts, refresh-token countdown), plays per day over everyone, recent job runs and
//! failures.

use super::jobs::{RunRow, run_rows};
use super::users::{UserHealth, health};
use super::{AdminPage, Frame, UiError, analytics, format, render};
use crate::AppState;
use crate::chart::{self, Bar};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use spotify_history_analytics::{Bucket, ListeningTimeArgs, Period, Scope};
use spotify_history_core::UserId;
use spotify_history_store::JobRunFilter;
use std::collections::BTreeMap;

/// Days of the plays-per-day chart.
const CHART_DAYS: u32 = 90;

#[derive(Template)]
#[template(path = "ui/dashboard.html")]
struct Dashboard {
    frame: Frame,
    users: Vec<UserHealth>,
    needs_reauth: Vec<String>,
    plays_chart: String,
    plays_total: String,
    /// Rendered tables (the same template twice).
    runs: String,
    failures: Option<String>,
}

#[derive(Template)]
#[template(path = "ui/runs_table.html")]
struct RunsTable {
    runs_shown: Vec<RunRow>,
}

fn runs_table(runs: Vec<RunRow>) -> String {
    RunsTable { runs_shown: runs }
        .render()
        .unwrap_or_else(|err| {
            tracing::error!(error = %err, "cannot render a table of job runs");
            String::new()
        })
}

pub(crate) async fn page(
    State(app): State<AppState>,
    page: AdminPage,
) -> Result<Response, UiError> {
    let analytics = analytics(&app);
    let users = health(analytics).await?;
    // Per-day plays over every user, in UTC so the days line up.
    let mut per_day: BTreeMap<String, (i64, f64)> = BTreeMap::new();
    for user in &users {
        let series = analytics
            .listening_time(
                &Scope {
                    user: UserId(user.id),
                    time_zone: None,
                },
                &ListeningTimeArgs {
                    period: Period {
                        days: Some(CHART_DAYS),
                        tz: Some("UTC".into()),
                        ..Period::default()
                    },
                    bucket: Some(Bucket::Day),
                    min_ms: None,
                },
            )
            .await?;
        for bucket in series.result.series {
            let day = per_day.entry(bucket.start).or_default();
            day.0 += bucket.plays;
            day.1 += bucket.minutes;
        }
    }
    let total: i64 = per_day.values().map(|(plays, _)| plays).sum();
    let bars: Vec<Bar> = per_day
        .iter()
        .map(|(day, (plays, minutes))| Bar {
            label: day.get(5..).unwrap_or(day).to_owned(),
            value: *plays as f64,
            title: format!(
                "{day}: {} plays, {}",
                format::count(*plays),
                format::minutes(*minutes)
            ),
        })
        .collect();
    let runs = app
        .store
        .job_runs_page(&JobRunFilter::default(), 10, 0)
        .await?;
    let failures = app
        .store
        .job_runs_page(
            &JobRunFilter {
                status: Some("failed".into()),
                ..JobRunFilter::default()
            },
            5,
            0,
        )
        .await?;
    Ok(render(&Dashboard {
        frame: page.frame.in_section("dashboard"),
        needs_reauth: users
            .iter()
            .filter(|u| u.needs_reauth)
            .map(|u| u.display_name.clone())
            .collect(),
        users,
        plays_chart: chart::bar_chart(
            "plays-per-day-chart",
            &format!("Plays per day, last {CHART_DAYS} days, all users (UTC)"),
            "plays",
            &bars,
        ),
        plays_total: format::count(total),
        runs: runs_table(run_rows(runs.runs)),
        failures: (!failures.runs.is_empty()).then(|| runs_table(run_rows(failures.runs))),
    }))
}
