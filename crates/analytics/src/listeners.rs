//! "Whose histories are here?": every user with the size and span of their history (admin).

use crate::sync_status::utc;
use crate::{Analytics, Result};
use schemars::JsonSchema;
use serde::Serialize;

/// Every user, oldest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Users {
    pub users: Vec<UserSummary>,
}

/// One user and their stored history. Times in UTC.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UserSummary {
    /// Pass as `user_id` to ask about this user.
    pub id: i64,
    pub name: String,
    pub display_name: Option<String>,
    pub spotify_linked: bool,
    /// The user's IANA zone, used when a question names none.
    pub time_zone: Option<String>,
    /// Stored listens, any duration.
    pub listens: i64,
    pub first_listen: Option<String>,
    pub last_listen: Option<String>,
    pub needs_reauth: bool,
    /// Collection paused.
    pub paused: bool,
    pub created_at: String,
}

impl Analytics {
    /// Every user with their listen count and first and last listen.
    pub async fn list_users(&self) -> Result<Users> {
        let rows = self.store().listeners().await?;
        Ok(Users {
            users: rows
                .into_iter()
                .map(|row| UserSummary {
                    id: row.id,
                    name: row.name,
                    display_name: row.display_name,
                    spotify_linked: row.spotify_user_id.is_some(),
                    time_zone: row.time_zone,
                    listens: row.listens,
                    first_listen: row.first_listen_ms.map(utc),
                    last_listen: row.last_listen_ms.map(utc),
                    needs_reauth: row.needs_reauth,
                    paused: row.sync_paused,
                    created_at: utc(row.created_at),
                })
                .collect(),
        })
    }
}
