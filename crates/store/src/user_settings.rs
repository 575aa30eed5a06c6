//! What an operator changes about a user after creating them: display name and time zone,
//! and "sync now" (making the user due for the collector's next cycle).

use crate::{Result, Store, StoreError, now_ms, on_pool};
use spotify_history_core::{User, UserId, checked_display_name};

/// Changes to a user: `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserChanges<'a> {
    /// Follows [`checked_display_name`]; an empty one clears it.
    pub display_name: Option<Option<&'a str>>,
    /// An IANA zone name; the caller validates it.
    pub time_zone: Option<Option<&'a str>>,
}

impl Store {
    /// Applies `changes` to the user and returns the user as stored afterwards.
    pub async fn update_user(&self, id: UserId, changes: &UserChanges<'_>) -> Result<User> {
        let display_name = match changes.display_name {
            Some(Some(name)) => Some(checked_display_name(name)?),
            other => other,
        };
        let updated = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE users SET
                     display_name = CASE WHEN $2 THEN $3 ELSE display_name END,
                     time_zone = CASE WHEN $4 THEN $5 ELSE time_zone END,
                     updated_at = $6
                 WHERE id = $1",
            )
            .bind(id.0)
            .bind(display_name.is_some())
            .bind(display_name.flatten())
            .bind(changes.time_zone.is_some())
            .bind(changes.time_zone.flatten())
            .bind(now_ms())
            .execute(pool)
            .await?
            .rows_affected()
        });
        if updated == 0 {
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        self.get_user(id).await
    }

    /// Makes the user due at once: the collector polls the least recently polled users
    /// first and skips those polled within its spacing, so forgetting the last poll puts
    /// them first in its next cycle. The `after` cursor (`newest_played_at`) is kept, so
    /// nothing is fetched twice. A user the collector would not poll (not linked to Spotify,
    /// their sign-in refused, collection paused) is a [`StoreError::Conflict`] saying why.
    pub async fn request_sync(&self, id: UserId) -> Result<()> {
        // Only a user who exists can be due; one never polled has no row and is due anyway.
        let status = self.sync_status(id).await?;
        let refused = if status.token_authorized_at.is_none() {
            Some(format!(
                "user {id} is not linked to Spotify, so there is nothing to sync: they sign in at /auth/login (or import an export)"
            ))
        } else if status.needs_reauth {
            Some(format!(
                "Spotify refused user {id}'s token: they must sign in again at /auth/login before a sync can run"
            ))
        } else if status.sync_paused {
            Some(format!(
                "collection is paused for user {id}: resume it first"
            ))
        } else {
            None
        };
        if let Some(why) = refused {
            return Err(StoreError::Conflict(why));
        }
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE sync_state SET last_polled_at = NULL, updated_at = $2 WHERE user_id = $1",
            )
            .bind(id.0)
            .bind(now_ms())
            .execute(pool)
            .await?;
        });
        self.queued_work().await;
        Ok(())
    }
}
