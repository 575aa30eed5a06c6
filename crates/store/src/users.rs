//! Listeners: create, find, list, delete (with all their data).

use crate::row::RowExt;
use crate::transaction::on_tx;
use crate::{Result, Store, StoreError, now_ms, on_pool};
use spotify_history_core::{User, UserId, checked_display_name, checked_user_name};

const USER_COLUMNS: &str = "id, name, display_name, spotify_user_id, time_zone, sync_paused, \
                            needs_reauth, created_at";

fn user_from_row(row: &impl RowExt) -> Result<User, sqlx::Error> {
    Ok(User {
        id: UserId(row.int("id")?),
        name: row.text("name")?,
        display_name: row.opt_text("display_name")?,
        spotify_user_id: row.opt_text("spotify_user_id")?,
        time_zone: row.opt_text("time_zone")?,
        sync_paused: row.flag("sync_paused")?,
        needs_reauth: row.flag("needs_reauth")?,
        created_at: row.int("created_at")?,
    })
}

impl Store {
    /// Creates an import-only user (no Spotify link yet). Names are unique and follow
    /// [`checked_user_name`]; an empty display name is none.
    pub async fn create_user(&self, name: &str, display_name: Option<&str>) -> Result<User> {
        let name = checked_user_name(name)?;
        let display_name = display_name
            .map(checked_display_name)
            .transpose()?
            .flatten();
        let now = now_ms();
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO users (name, display_name, created_at, updated_at) VALUES ($1, $2, $3, $3)
             RETURNING {USER_COLUMNS}"
        ));
        let result = on_pool!(self, pool => {
            sqlx::query(sql)
                .bind(name)
                .bind(display_name)
                .bind(now)
                .fetch_one(pool)
                .await
                .and_then(|row| user_from_row(&row))
        });
        result.map_err(|err| {
            if StoreError::is_unique_violation(&err) {
                StoreError::Conflict(format!("a user named {name:?} already exists"))
            } else {
                err.into()
            }
        })
    }

    /// All users, oldest first.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users ORDER BY id"));
        let users = on_pool!(self, pool => {
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter().map(user_from_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(users)
    }

    /// The user with this name, if any.
    pub async fn find_user_by_name(&self, name: &str) -> Result<Option<User>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1"));
        let user = on_pool!(self, pool => {
            sqlx::query(sql).bind(name).fetch_optional(pool).await?.map(|r| user_from_row(&r)).transpose()?
        });
        Ok(user)
    }

    /// The user with this id.
    pub async fn get_user(&self, id: UserId) -> Result<User> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"));
        let user = on_pool!(self, pool => {
            sqlx::query(sql).bind(id.0).fetch_optional(pool).await?.map(|r| user_from_row(&r)).transpose()?
        });
        user.ok_or_else(|| StoreError::NotFound(format!("user {id}")))
    }

    /// Deletes a user and everything stored for them (plays, tokens, jobs, sync state).
    /// Shared catalogue rows (tracks, artists, albums) stay for other users.
    pub async fn delete_user(&self, id: UserId) -> Result<()> {
        let mut tx = self.begin().await?;
        // Plays have no foreign keys (see the migration), so they go first, explicitly.
        let deleted = on_tx!(&mut tx, conn => {
            sqlx::query("DELETE FROM play_sources WHERE play_id IN (SELECT id FROM plays WHERE user_id = $1)")
                .bind(id.0)
                .execute(&mut **conn)
                .await?;
            sqlx::query("DELETE FROM plays WHERE user_id = $1").bind(id.0).execute(&mut **conn).await?;
            sqlx::query("DELETE FROM users WHERE id = $1").bind(id.0).execute(&mut **conn).await?.rows_affected()
        });
        if deleted == 0 {
            tx.rollback().await?;
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        tx.commit().await?;
        Ok(())
    }
}
