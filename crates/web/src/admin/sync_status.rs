//! `GET /admin/sync-status`: where collection stands for every user — last poll, newest
//! play, initial sync, needs re-authorization, token expiry (sign-in + 6 months), Spotify's
//! rate-limit pause, recent failures.

use super::analytics_error;
use super::store_error;
use crate::{AdminAccess, ApiError, AppState};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use spotify_history_analytics::{Scope, SyncStatus};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/admin/sync-status", get(overview))
}

#[derive(Debug, Serialize)]
struct SyncOverview {
    users: Vec<SyncStatus>,
    total: usize,
    /// Users whose Spotify token was refused: they must sign in again.
    needs_reauth: usize,
    paused: usize,
    /// Users whose last collection attempt failed.
    failing: usize,
}

async fn overview(
    _: AdminAccess,
    State(state): State<AppState>,
) -> Result<Json<SyncOverview>, ApiError> {
    let users = state.store.list_users().await.map_err(store_error)?;
    let analytics = &state.mcp.context.analytics;
    let mut statuses = Vec::with_capacity(users.len());
    for user in users {
        let scope = Scope {
            user: user.id,
            time_zone: user.time_zone,
        };
        statuses.push(
            analytics
                .sync_status(&scope)
                .await
                .map_err(analytics_error)?,
        );
    }
    Ok(Json(SyncOverview {
        total: statuses.len(),
        needs_reauth: statuses.iter().filter(|s| s.needs_reauth).count(),
        paused: statuses.iter().filter(|s| s.sync_paused).count(),
        failing: statuses
            .iter()
            .filter(|s| s.consecutive_failures.unwrap_or(0) > 0)
            .count(),
        users: statuses,
    }))
}
