//! "Is my history being collected?": the account flags, sync state and Spotify link of a user.

use crate::jobs::JobRun;
use crate::{Analytics, Result, Scope};
use jiff::{Timestamp, ToSpan};
use schemars::JsonSchema;
use serde::Serialize;

/// A time in answers about operations: ISO-8601 in UTC.
pub(crate) fn utc(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(|ts| ts.to_string())
        .unwrap_or_default()
}

/// Where collection stands for one user. Fields the collector has not written yet are null.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SyncStatus {
    pub user_id: i64,
    pub name: String,
    pub display_name: Option<String>,
    /// The state in words.
    pub summary: String,
    /// Whether the user has signed in with Spotify (otherwise the history comes from
    /// imported exports only).
    pub spotify_linked: bool,
    pub sync_paused: bool,
    /// Spotify refused the stored token: the user must sign in again at /auth/login.
    pub needs_reauth: bool,
    pub initial_sync_done: Option<bool>,
    pub initial_sync_finished_at: Option<String>,
    pub last_polled_at: Option<String>,
    /// The newest play the collector has seen.
    pub newest_played_at: Option<String>,
    pub consecutive_failures: Option<i64>,
    pub last_error: Option<String>,
    /// The collector process working on this user, and until when.
    pub lease_owner: Option<String>,
    pub lease_until: Option<String>,
    pub spotify_authorized_at: Option<String>,
    /// Spotify refresh tokens last six months from sign-in.
    pub refresh_token_expires_at: Option<String>,
    pub token_last_error: Option<String>,
    /// Spotify rate-limited the app (429): no Spotify call, for anyone, before this time.
    pub spotify_not_before: Option<String>,
    /// The user's latest failed job runs (at most 5 of the last 50 runs), newest first.
    pub recent_failures: Vec<JobRun>,
    /// The user's first and last stored listen.
    pub first_listen: Option<String>,
    pub last_listen: Option<String>,
}

impl Analytics {
    /// The collection state of the scope's user (times in UTC).
    pub async fn sync_status(&self, scope: &Scope) -> Result<SyncStatus> {
        let row = self.store().sync_status(scope.user).await?;
        let bounds = self.store().listen_bounds(scope.user).await?;
        let spotify_linked = row.spotify_user_id.is_some() || row.token_authorized_at.is_some();
        let summary = if row.needs_reauth {
            "Spotify access was revoked or expired: the user must sign in again at /auth/login."
        } else if row.sync_paused {
            "Collection is paused for this user."
        } else if !spotify_linked {
            "Not linked to Spotify: the history holds imported exports only."
        } else if row.initial_sync_done != Some(true) {
            "Linked to Spotify; the initial sync has not finished yet."
        } else {
            "Linked to Spotify and collecting recently played tracks."
        };
        let expires = row.token_authorized_at.and_then(|ms| {
            let ts = Timestamp::from_millisecond(ms).ok()?;
            let zoned = ts.to_zoned_datetime(jiff::tz::TimeZone::UTC);
            Some(zoned.checked_add(6.months()).ok()?.timestamp().to_string())
        });
        let not_before = self
            .store()
            .spotify_not_before()
            .await?
            .map(|until| until.to_string());
        let recent_failures = self
            .store()
            .latest_job_runs(Some(scope.user), 50)
            .await?
            .into_iter()
            .filter(|run| run.status == "failed")
            .take(5)
            .map(JobRun::from)
            .collect();
        Ok(SyncStatus {
            user_id: row.user_id,
            name: row.name,
            display_name: row.display_name,
            summary: summary.to_string(),
            spotify_linked,
            sync_paused: row.sync_paused,
            needs_reauth: row.needs_reauth,
            initial_sync_done: row.initial_sync_done,
            initial_sync_finished_at: row.initial_sync_finished_at.map(utc),
            last_polled_at: row.last_polled_at.map(utc),
            newest_played_at: row.newest_played_at.map(utc),
            consecutive_failures: row.consecutive_failures,
            last_error: row.last_error,
            lease_owner: row.lease_owner,
            lease_until: row.lease_until.map(utc),
            spotify_authorized_at: row.token_authorized_at.map(utc),
            refresh_token_expires_at: expires,
            token_last_error: row.token_last_error,
            spotify_not_before: not_before,
            recent_failures,
            first_listen: bounds.first_ms.map(utc),
            last_listen: bounds.last_ms.map(utc),
        })
    }
}
