//! Every user with the size and span of their stored history (the admin's user list).

use super::PlayFilter;
use super::rollup::Parts;
use crate::row::RowExt;
use crate::{Result, Store, on_pool};
use spotify_history_core::{CountingRule, UserId};

/// A user and their stored listens (any duration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerRow {
    pub id: i64,
    pub name: String,
    pub display_name: Option<String>,
    pub spotify_user_id: Option<String>,
    pub time_zone: Option<String>,
    pub sync_paused: bool,
    pub needs_reauth: bool,
    pub created_at: i64,
    pub listens: i64,
    pub first_listen_ms: Option<i64>,
    pub last_listen_ms: Option<i64>,
}

impl Store {
    /// All users, oldest first, with their listen counts and first and last listen.
    pub async fn listeners(&self) -> Result<Vec<ListenerRow>> {
        // Correlated subqueries per user: each is answered from one end of the user's part of
        // the plays index. Counting is left to the rollups, which do not read every play.
        const SQL: &str = "
            SELECT u.id, u.name, u.display_name, u.spotify_user_id, u.time_zone, u.sync_paused,
                   u.needs_reauth, u.created_at,
                   (SELECT MIN(p.ended_at) FROM plays p WHERE p.user_id = u.id) AS first_listen_ms,
                   (SELECT MAX(p.ended_at) FROM plays p WHERE p.user_id = u.id) AS last_listen_ms
            FROM users u
            ORDER BY u.id";
        let mut rows = on_pool!(self, pool => {
            let rows = sqlx::query(SQL).fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    Ok(ListenerRow {
                        id: row.int("id")?,
                        name: row.text("name")?,
                        display_name: row.opt_text("display_name")?,
                        spotify_user_id: row.opt_text("spotify_user_id")?,
                        time_zone: row.opt_text("time_zone")?,
                        sync_paused: row.flag("sync_paused")?,
                        needs_reauth: row.flag("needs_reauth")?,
                        created_at: row.int("created_at")?,
                        listens: 0,
                        first_listen_ms: row.opt_int("first_listen_ms")?,
                        last_listen_ms: row.opt_int("last_listen_ms")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        for row in &mut rows {
            row.listens = self.listen_count(UserId(row.id)).await?;
        }
        Ok(rows)
    }

    /// How many listens `user` has stored, of any duration.
    async fn listen_count(&self, user: UserId) -> Result<i64> {
        let every_listen = PlayFilter {
            user,
            from_ms: None,
            to_ms: i64::MAX,
            rule: CountingRule {
                min_ms_played: 0,
                count_unknown_duration: true,
            },
        };
        if let Some(rollup) = self.rollup(&every_listen, Parts::SOURCES).await? {
            return Ok(rollup
                .summary
                .sources
                .values()
                .map(|c| c.listens as i64)
                .sum());
        }
        let count = on_pool!(self, pool => {
            sqlx::query("SELECT COUNT(*) AS n FROM plays WHERE user_id = $1")
                .bind(user.0)
                .fetch_one(pool)
                .await?
                .int("n")?
        });
        Ok(count)
    }
}
