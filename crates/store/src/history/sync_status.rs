//! Where collection stands for a user: the account flags, the sync state and the Spotify token.

use crate::row::RowExt;
use crate::{Result, Store, StoreError, on_pool};
use spotify_history_core::UserId;

/// A user's collection state as stored (times in Unix ms). Columns of `sync_state` and
/// `spotify_tokens` are `None` until the collector and sign-in have written them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStatusRow {
    pub user_id: i64,
    pub name: String,
    pub display_name: Option<String>,
    pub spotify_user_id: Option<String>,
    pub sync_paused: bool,
    pub needs_reauth: bool,
    pub initial_sync_done: Option<bool>,
    pub initial_sync_finished_at: Option<i64>,
    pub last_polled_at: Option<i64>,
    pub newest_played_at: Option<i64>,
    pub consecutive_failures: Option<i64>,
    pub last_error: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    /// When the user last authorised Spotify access (the refresh token lasts 6 months).
    pub token_authorized_at: Option<i64>,
    pub token_last_error: Option<String>,
}

impl Store {
    /// The collection state of `user`.
    pub async fn sync_status(&self, user: UserId) -> Result<SyncStatusRow> {
        // consecutive_failures is INTEGER on PostgreSQL: cast for one row type.
        const SQL: &str = "
            SELECT u.id, u.name, u.display_name, u.spotify_user_id, u.sync_paused, u.needs_reauth,
                   s.initial_sync_done, s.initial_sync_finished_at, s.last_polled_at,
                   s.newest_played_at, CAST(s.consecutive_failures AS BIGINT) AS consecutive_failures,
                   s.last_error, s.lease_owner, s.lease_until,
                   tk.authorized_at AS token_authorized_at, tk.last_error AS token_last_error
            FROM users u
            LEFT JOIN sync_state s ON s.user_id = u.id
            LEFT JOIN spotify_tokens tk ON tk.user_id = u.id
            WHERE u.id = $1";
        let row = on_pool!(self, pool => {
            let Some(row) = sqlx::query(SQL).bind(user.0).fetch_optional(pool).await? else {
                return Err(StoreError::NotFound(format!("user {user}")));
            };
            SyncStatusRow {
                user_id: row.int("id")?,
                name: row.text("name")?,
                display_name: row.opt_text("display_name")?,
                spotify_user_id: row.opt_text("spotify_user_id")?,
                sync_paused: row.flag("sync_paused")?,
                needs_reauth: row.flag("needs_reauth")?,
                initial_sync_done: row.opt_flag("initial_sync_done")?,
                initial_sync_finished_at: row.opt_int("initial_sync_finished_at")?,
                last_polled_at: row.opt_int("last_polled_at")?,
                newest_played_at: row.opt_int("newest_played_at")?,
                consecutive_failures: row.opt_int("consecutive_failures")?,
                last_error: row.opt_text("last_error")?,
                lease_owner: row.opt_text("lease_owner")?,
                lease_until: row.opt_int("lease_until")?,
                token_authorized_at: row.opt_int("token_authorized_at")?,
                token_last_error: row.opt_text("token_last_error")?,
            }
        });
        Ok(row)
    }
}
