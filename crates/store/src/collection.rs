//! Collection state per user (`sync_state`), user leases, and coverage gaps: what the
//! collector reads and writes around each initial sync and poll.
//!
//! Leases keep two collectors (processes sharing one PostgreSQL) off the same user: a lease
//! is taken with one atomic upsert that succeeds only when the user is free, already ours, or
//! held under a lease that ran out (its collector died). Whoever holds it reads the sync state
//! it returns, so a poll always starts from what the previous holder stored.

use crate::import_jobs::lease_ms;
use crate::row::RowExt;
use crate::{Result, Store, StoreError, now_ms, on_pool};
use spotify_history_core::UserId;
use std::time::Duration;

/// A user whose listening the collector should follow: linked to Spotify, not paused, not
/// waiting for a new sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectionCandidate {
    pub user: UserId,
    pub initial_sync_done: bool,
}

/// Where collection stands for a user, as the lease holder reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserSyncState {
    pub user: UserId,
    pub initial_sync_done: bool,
    /// The newest `played_at` (Unix ms) any poll or sync has seen: the next `after` cursor.
    pub newest_played_at: Option<i64>,
    pub last_polled_at: Option<i64>,
    pub consecutive_failures: i64,
}

/// What a successful initial sync or poll found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CollectionSuccess {
    /// The newest play fetched, if any; the stored value only ever moves forward.
    pub newest_played_at: Option<i64>,
    /// True after an initial sync: it is not run again.
    pub initial_sync_done: bool,
}

/// Columns a lease holder reads, in the shape of [`UserSyncState`].
const STATE_COLUMNS: &str = "user_id, initial_sync_done, newest_played_at, last_polled_at,
     CAST(consecutive_failures AS BIGINT) AS consecutive_failures";

fn state_from_row(row: &impl RowExt) -> Result<UserSyncState, sqlx::Error> {
    Ok(UserSyncState {
        user: UserId(row.int("user_id")?),
        initial_sync_done: row.flag("initial_sync_done")?,
        newest_played_at: row.opt_int("newest_played_at")?,
        last_polled_at: row.opt_int("last_polled_at")?,
        consecutive_failures: row.int("consecutive_failures")?,
    })
}

impl Store {
    /// Users to collect for, least recently polled first (so a short cycle is fair).
    pub async fn collection_candidates(&self) -> Result<Vec<CollectionCandidate>> {
        const SQL: &str = "
            SELECT u.id, s.initial_sync_done
            FROM users u
            JOIN spotify_tokens t ON t.user_id = u.id
            LEFT JOIN sync_state s ON s.user_id = u.id
            WHERE NOT u.sync_paused AND NOT u.needs_reauth
            ORDER BY COALESCE(s.last_polled_at, 0), u.id";
        let candidates = on_pool!(self, pool => {
            let rows = sqlx::query(SQL).fetch_all(pool).await?;
            rows.iter()
                .map(|row| -> Result<CollectionCandidate, sqlx::Error> {
                    Ok(CollectionCandidate {
                        user: UserId(row.int("id")?),
                        initial_sync_done: row.opt_flag("initial_sync_done")?.unwrap_or(false),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(candidates)
    }

    /// Takes the user's lease for `owner` for `lease`, returning the user's sync state, or
    /// `None` when another owner holds a lease that has not run out.
    pub async fn lease_user(
        &self,
        user: UserId,
        owner: &str,
        lease: Duration,
    ) -> Result<Option<UserSyncState>> {
        let now = now_ms();
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO sync_state (user_id, lease_owner, lease_until, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE SET lease_owner = excluded.lease_owner,
                 lease_until = excluded.lease_until, updated_at = excluded.updated_at
             WHERE sync_state.lease_owner IS NULL OR sync_state.lease_owner = $2
                OR sync_state.lease_until IS NULL OR sync_state.lease_until < $4
             RETURNING {STATE_COLUMNS}"
        ));
        let state = on_pool!(self, pool => {
            sqlx::query(sql)
                .bind(user.0)
                .bind(owner)
                .bind(now + lease_ms(lease))
                .bind(now)
                .fetch_optional(pool)
                .await?
                .map(|row| state_from_row(&row))
                .transpose()?
        });
        Ok(state)
    }

    /// Extends `owner`'s lease on the user; false when it is no longer theirs.
    pub async fn renew_user_lease(
        &self,
        user: UserId,
        owner: &str,
        lease: Duration,
    ) -> Result<bool> {
        let now = now_ms();
        let renewed = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE sync_state SET lease_until = $3, updated_at = $4
                 WHERE user_id = $1 AND lease_owner = $2",
            )
            .bind(user.0)
            .bind(owner)
            .bind(now + lease_ms(lease))
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(renewed > 0)
    }

    /// Gives the user's lease back, if `owner` still holds it.
    pub async fn release_user(&self, user: UserId, owner: &str) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE sync_state SET lease_owner = NULL, lease_until = NULL, updated_at = $3
                 WHERE user_id = $1 AND lease_owner = $2",
            )
            .bind(user.0)
            .bind(owner)
            .bind(now_ms())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records a successful initial sync or poll: when, the newest play seen, and that the
    /// failure streak is over.
    pub async fn record_collection_success(
        &self,
        user: UserId,
        success: &CollectionSuccess,
    ) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO sync_state (user_id, initial_sync_done, initial_sync_finished_at,
                     last_polled_at, newest_played_at, updated_at)
                 VALUES ($1, $2, CASE WHEN $2 THEN $3 END, $3, $4, $3)
                 ON CONFLICT (user_id) DO UPDATE SET
                     initial_sync_done = (sync_state.initial_sync_done OR excluded.initial_sync_done),
                     initial_sync_finished_at = COALESCE(excluded.initial_sync_finished_at,
                                                         sync_state.initial_sync_finished_at),
                     last_polled_at = excluded.last_polled_at,
                     newest_played_at = CASE
                         WHEN sync_state.newest_played_at IS NULL
                           OR sync_state.newest_played_at < excluded.newest_played_at
                         THEN excluded.newest_played_at
                         ELSE sync_state.newest_played_at END,
                     consecutive_failures = 0, last_error = NULL,
                     updated_at = excluded.updated_at",
            )
            .bind(user.0)
            .bind(success.initial_sync_done)
            .bind(now_ms())
            .bind(success.newest_played_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records a failed initial sync or poll: the error, and one more failure in a row.
    pub async fn record_collection_failure(&self, user: UserId, error: &str) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO sync_state (user_id, consecutive_failures, last_error, updated_at)
                 VALUES ($1, 1, $2, $3)
                 ON CONFLICT (user_id) DO UPDATE SET
                     consecutive_failures = sync_state.consecutive_failures + 1,
                     last_error = excluded.last_error, updated_at = excluded.updated_at",
            )
            .bind(user.0)
            .bind(error)
            .bind(now_ms())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records that plays of `user` between `starts_at` and `ends_at` (Unix ms) may be
    /// missing, and why, so coverage answers show it.
    pub async fn record_coverage_gap(
        &self,
        user: UserId,
        starts_at: i64,
        ends_at: i64,
        reason: &str,
    ) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO coverage_gaps (user_id, starts_at, ends_at, reason, detected_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(user.0)
            .bind(starts_at.min(ends_at))
            .bind(ends_at.max(starts_at))
            .bind(reason)
            .bind(now_ms())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// When the user's latest stored listen before `before` (Unix ms) ended: what bounds the
    /// estimated duration of the next listen.
    pub async fn previous_listen_end(&self, user: UserId, before: i64) -> Result<Option<i64>> {
        let end = on_pool!(self, pool => {
            sqlx::query(
                "SELECT MAX(ended_at) AS ended_at FROM plays WHERE user_id = $1 AND ended_at < $2",
            )
            .bind(user.0)
            .bind(before)
            .fetch_one(pool)
            .await?
            .opt_int("ended_at")?
        });
        Ok(end)
    }

    /// Pauses or resumes collection for a user; their data stays either way.
    pub async fn set_sync_paused(&self, user: UserId, paused: bool) -> Result<()> {
        let updated = on_pool!(self, pool => {
            sqlx::query("UPDATE users SET sync_paused = $2, updated_at = $3 WHERE id = $1")
                .bind(user.0)
                .bind(paused)
                .bind(now_ms())
                .execute(pool)
                .await?
                .rows_affected()
        });
        if updated == 0 {
            return Err(StoreError::NotFound(format!("user {user}")));
        }
        Ok(())
    }
}
