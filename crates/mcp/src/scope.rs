//! Whose history a call reads: a user token is bound to its user; an admin may name any
//! `user_id`; with a single user in the database, `user_id` may be left out.

use crate::ToolError;
use spotify_history_analytics::Scope;
use spotify_history_core::{Principal, UserId};
use spotify_history_store::{Store, StoreError};

/// The scope of a call by `principal` naming `user_id` (or not).
pub(crate) async fn resolve(
    store: &Store,
    principal: &Principal,
    user_id: Option<i64>,
) -> Result<Scope, ToolError> {
    let user = match (principal, user_id) {
        (Principal::User { user, .. }, None) => *user,
        (Principal::User { user, .. }, Some(asked)) if asked == user.0 => *user,
        (Principal::User { .. }, Some(_)) => {
            return Err(ToolError::Forbidden(
                "this token belongs to one user and cannot read another user's history: leave out user_id".into(),
            ));
        }
        (Principal::Admin { .. }, Some(asked)) => UserId(asked),
        (Principal::Admin { .. }, None) => {
            let users = store.list_users().await?;
            match users.as_slice() {
                [only] => only.id,
                [] => {
                    return Err(ToolError::NotFound(
                        "no users yet: import an export or sign in with Spotify first".into(),
                    ));
                }
                _ => {
                    let names: Vec<String> = users
                        .iter()
                        .map(|u| format!("{} ({})", u.id, u.name))
                        .collect();
                    return Err(ToolError::BadArguments(format!(
                        "there are several users; pass user_id, one of: {}",
                        names.join(", ")
                    )));
                }
            }
        }
    };
    match store.get_user(user).await {
        Ok(found) => Ok(Scope {
            user: found.id,
            time_zone: found.time_zone,
        }),
        Err(StoreError::NotFound(_)) => Err(ToolError::NotFound(format!(
            "user {} does not exist (list_users shows who does)",
            user.0
        ))),
        Err(err) => Err(err.into()),
    }
}
