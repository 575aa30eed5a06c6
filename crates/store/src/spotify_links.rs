//! A user's link to Spotify: the (encrypted) tokens from sign-in, and process-wide state such
//! as the app's rate-limit "not before" time. The store never sees a token in clear: callers
//! encrypt before writing and decrypt after reading (`spotify::TokenCipher`).

use crate::row::RowExt;
use crate::transaction::{Tx, on_tx};
use crate::{Result, Store, StoreError, now_ms, on_pool};
use spotify_history_core::{User, UserId, checked_display_name};

/// `app_state` key of the time (RFC 3339) before which no Spotify call may be made, set from a
/// 429's Retry-After so every process honours it.
pub const SPOTIFY_NOT_BEFORE: &str = "spotify_not_before";

/// A user's stored Spotify tokens, still encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpotifyLink {
    pub user_id: UserId,
    pub refresh_token: String,
    pub access_token: Option<String>,
    /// Unix ms.
    pub access_expires_at: Option<i64>,
    pub scope: Option<String>,
    /// When the user last signed in (Unix ms); the refresh token dies six months later.
    pub authorized_at: i64,
    pub last_error: Option<String>,
}

/// What sign-in brings: who the listener is on Spotify and their encrypted tokens.
#[derive(Debug, Clone)]
pub struct NewSpotifyLink<'a> {
    pub spotify_user_id: &'a str,
    pub display_name: Option<&'a str>,
    pub refresh_token: &'a str,
    pub access_token: &'a str,
    pub access_expires_at: i64,
    pub scope: &'a str,
}

impl Store {
    /// Saves a sign-in: updates the user linked to this Spotify account, or creates one (named
    /// after the Spotify id, made unique), stores the tokens and clears `needs_reauth`.
    pub async fn link_spotify(&self, link: &NewSpotifyLink<'_>) -> Result<User> {
        self.save_sign_in(None, link).await
    }

    /// Saves a sign-in an administrator started for `user` (e.g. one an import made): links
    /// the Spotify account to that user, unless another user holds it or the user holds
    /// another account ([`StoreError::Conflict`]), and stores the tokens.
    pub async fn link_spotify_to(&self, user: UserId, link: &NewSpotifyLink<'_>) -> Result<User> {
        self.save_sign_in(Some(user), link).await
    }

    async fn save_sign_in(&self, to: Option<UserId>, link: &NewSpotifyLink<'_>) -> Result<User> {
        let mut tx = self.begin().await?;
        let saved = save_sign_in(&mut tx, to, link).await;
        let user = tx.commit_if_ok(saved).await?;
        // A new sign-in is due for its initial sync.
        self.queued_work().await;
        self.get_user(user).await
    }

    /// Forgets the user's Spotify link: the account, its tokens, where collection stood (a
    /// later link, to this account or another, starts with an initial sync), and the user's
    /// API tokens (whoever signed in with that account may hold them). Their listens and the
    /// gaps recorded in them stay. Refused ([`StoreError::Conflict`]) while a collector works
    /// on the user: its work would write the collection state back when it ends.
    pub async fn unlink_spotify(&self, user: UserId) -> Result<User> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let unlinked = on_tx!(&mut tx, conn => {
            let leased = sqlx::query("SELECT 1 FROM sync_state WHERE user_id = $1 AND lease_until >= $2")
                .bind(user.0)
                .bind(now)
                .fetch_optional(&mut **conn)
                .await?
                .is_some();
            if leased {
                Err(StoreError::Conflict(format!(
                    "a collector is working on user {user} right now: try again when it is done (within a minute or two)"
                )))
            } else {
                sqlx::query("DELETE FROM spotify_tokens WHERE user_id = $1").bind(user.0).execute(&mut **conn).await?;
                sqlx::query("DELETE FROM sync_state WHERE user_id = $1").bind(user.0).execute(&mut **conn).await?;
                sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                    .bind(user.0)
                    .bind(now)
                    .execute(&mut **conn)
                    .await?;
                let updated = sqlx::query(
                    "UPDATE users SET spotify_user_id = NULL, needs_reauth = FALSE, updated_at = $2 WHERE id = $1",
                )
                .bind(user.0)
                .bind(now)
                .execute(&mut **conn)
                .await?
                .rows_affected();
                if updated == 0 {
                    Err(StoreError::NotFound(format!("user {user}")))
                } else {
                    Ok(())
                }
            }
        });
        tx.commit_if_ok(unlinked).await?;
        self.get_user(user).await
    }

    /// The user's stored tokens, `None` when they never signed in with Spotify.
    pub async fn spotify_link(&self, user: UserId) -> Result<Option<SpotifyLink>> {
        let link = on_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT refresh_token, access_token, access_expires_at, scope, authorized_at, last_error
                 FROM spotify_tokens WHERE user_id = $1",
            )
            .bind(user.0)
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => Some(SpotifyLink {
                    user_id: user,
                    refresh_token: row.text("refresh_token")?,
                    access_token: row.opt_text("access_token")?,
                    access_expires_at: row.opt_int("access_expires_at")?,
                    scope: row.opt_text("scope")?,
                    authorized_at: row.int("authorized_at")?,
                    last_error: row.opt_text("last_error")?,
                }),
            }
        });
        Ok(link)
    }

    /// Saves a refreshed access token, and the new refresh token when Spotify rotated it.
    pub async fn save_access_token(
        &self,
        user: UserId,
        access_token: &str,
        access_expires_at: i64,
        refresh_token: Option<&str>,
    ) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE spotify_tokens SET access_token = $2, access_expires_at = $3,
                     refresh_token = COALESCE($4, refresh_token), updated_at = $5, last_error = NULL
                 WHERE user_id = $1",
            )
            .bind(user.0)
            .bind(access_token)
            .bind(access_expires_at)
            .bind(refresh_token)
            .bind(now_ms())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records that only a new sign-in helps (`invalid_grant`): the user and their data are
    /// kept, collection skips them, and the reason is shown.
    pub async fn mark_needs_reauth(&self, user: UserId, error: &str) -> Result<()> {
        self.flag_needs_reauth(user, error, None).await.map(|_| ())
    }

    /// [`Store::mark_needs_reauth`], but only while the stored refresh token is still
    /// `refresh_token` (encrypted, as read before the failed refresh). Returns false when
    /// another process has rotated it meanwhile: its new tokens work and nothing is marked.
    pub async fn mark_needs_reauth_if_unchanged(
        &self,
        user: UserId,
        error: &str,
        refresh_token: &str,
    ) -> Result<bool> {
        self.flag_needs_reauth(user, error, Some(refresh_token))
            .await
    }

    async fn flag_needs_reauth(
        &self,
        user: UserId,
        error: &str,
        expected_refresh_token: Option<&str>,
    ) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let flagged = on_tx!(&mut tx, conn => {
            let cleared = sqlx::query(
                "UPDATE spotify_tokens SET access_token = NULL, access_expires_at = NULL,
                     last_error = $2, updated_at = $3
                 WHERE user_id = $1 AND ($4 IS NULL OR refresh_token = $4)",
            )
            .bind(user.0)
            .bind(error)
            .bind(now)
            .bind(expected_refresh_token)
            .execute(&mut **conn)
            .await?
            .rows_affected();
            let flag = cleared > 0 || expected_refresh_token.is_none();
            if flag {
                sqlx::query("UPDATE users SET needs_reauth = TRUE, updated_at = $2 WHERE id = $1")
                    .bind(user.0)
                    .bind(now)
                    .execute(&mut **conn)
                    .await?;
            }
            flag
        });
        tx.commit().await?;
        Ok(flagged)
    }

    /// When Spotify calls may start again after a 429 (any process's), if that is still ahead.
    pub async fn spotify_not_before(&self) -> Result<Option<jiff::Timestamp>> {
        let stored = self.app_state(SPOTIFY_NOT_BEFORE).await?;
        let now = jiff::Timestamp::now();
        Ok(stored
            .and_then(|v| v.parse::<jiff::Timestamp>().ok())
            .filter(|until| *until > now))
    }

    /// Pauses every process's Spotify calls until `until`.
    pub async fn set_spotify_not_before(&self, until: jiff::Timestamp) -> Result<()> {
        self.set_app_state(SPOTIFY_NOT_BEFORE, &until.to_string())
            .await
    }

    /// A process-wide value (e.g. the app's rate-limit "not before" time).
    pub async fn app_state(&self, key: &str) -> Result<Option<String>> {
        let value = on_pool!(self, pool => {
            sqlx::query("SELECT value FROM app_state WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await?
                .map(|row| row.text("value"))
                .transpose()?
        });
        Ok(value)
    }

    /// Sets a process-wide value.
    pub async fn set_app_state(&self, key: &str, value: &str) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO app_state (key, value, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(key)
            .bind(value)
            .bind(now_ms())
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}

/// The user a sign-in is saved on (see [`Store::link_spotify`] and [`Store::link_spotify_to`]),
/// with its tokens stored, in `tx`.
async fn save_sign_in(
    tx: &mut Tx<'_>,
    to: Option<UserId>,
    link: &NewSpotifyLink<'_>,
) -> Result<UserId> {
    let now = now_ms();
    // Spotify's display name is whatever its owner typed: one our rules refuse (a NUL, which
    // PostgreSQL cannot store, say) is left out rather than failing the sign-in.
    let display_name = link
        .display_name
        .and_then(|name| checked_display_name(name).ok().flatten());
    let account = link.spotify_user_id;
    let user = on_tx!(tx, conn => {
        let holder = sqlx::query("SELECT id, name FROM users WHERE spotify_user_id = $1")
            .bind(account)
            .fetch_optional(&mut **conn)
            .await?;
        let holder = holder.map(|row| Ok::<_, sqlx::Error>((row.int("id")?, row.text("name")?))).transpose()?;
        // The user the account goes to: the one an administrator names, else its holder.
        let user = match (to, holder) {
            (Some(to), Some((id, name))) if id != to.0 => {
                return Err(StoreError::Conflict(format!(
                    "Spotify account {account} is already linked to user {name:?}"
                )));
            }
            (Some(to), _) => Some(to.0),
            (None, holder) => holder.map(|(id, _)| id),
        };
        match user {
            Some(id) => {
                // Only a user without an account, or with this one, takes it.
                let updated = sqlx::query(
                    "UPDATE users SET spotify_user_id = $2, needs_reauth = FALSE, updated_at = $3,
                     display_name = COALESCE(display_name, $4)
                     WHERE id = $1 AND (spotify_user_id IS NULL OR spotify_user_id = $2)",
                )
                .bind(id)
                .bind(account)
                .bind(now)
                .bind(display_name)
                .execute(&mut **conn)
                .await
                .map_err(|err| linked_meanwhile(err, account))?
                .rows_affected();
                if updated == 0 {
                    let row = sqlx::query("SELECT name, spotify_user_id FROM users WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut **conn)
                        .await?
                        .ok_or_else(|| StoreError::NotFound(format!("user {id}")))?;
                    return Err(StoreError::Conflict(format!(
                        "user {:?} is already linked to Spotify account {}",
                        row.text("name")?,
                        row.opt_text("spotify_user_id")?.unwrap_or_default()
                    )));
                }
                id
            }
            None => {
                let taken = sqlx::query("SELECT name FROM users WHERE name = $1 OR name LIKE $2")
                    .bind(account)
                    .bind(format!("{account}-%"))
                    .fetch_all(&mut **conn)
                    .await?
                    .iter()
                    .map(|row| row.text("name"))
                    .collect::<Result<Vec<_>, _>>()?;
                let name = free_name(account, &taken);
                sqlx::query(
                    "INSERT INTO users (name, display_name, spotify_user_id, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $4) RETURNING id",
                )
                .bind(&name)
                .bind(display_name)
                .bind(account)
                .bind(now)
                .fetch_one(&mut **conn)
                .await?
                .int("id")?
            }
        }
    });
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO spotify_tokens
                 (user_id, refresh_token, access_token, access_expires_at, scope, authorized_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)
             ON CONFLICT (user_id) DO UPDATE SET
                 refresh_token = excluded.refresh_token, access_token = excluded.access_token,
                 access_expires_at = excluded.access_expires_at, scope = excluded.scope,
                 authorized_at = excluded.authorized_at, updated_at = excluded.updated_at,
                 last_error = NULL",
        )
        .bind(user)
        .bind(link.refresh_token)
        .bind(link.access_token)
        .bind(link.access_expires_at)
        .bind(link.scope)
        .bind(now)
        .execute(&mut **conn)
        .await?;
    });
    Ok(UserId(user))
}

/// A link that another sign-in of the same account beat (PostgreSQL's transactions see each
/// other's commits; SQLite's take turns): the unique account refused it.
fn linked_meanwhile(err: sqlx::Error, account: &str) -> StoreError {
    if StoreError::is_unique_violation(&err) {
        StoreError::Conflict(format!(
            "Spotify account {account} was linked by another sign-in at the same moment"
        ))
    } else {
        err.into()
    }
}

/// `wanted` if no user has that name, else `wanted-2`, `wanted-3`, ...
fn free_name(wanted: &str, taken: &[String]) -> String {
    (1..)
        .map(|n| match n {
            1 => wanted.to_owned(),
            n => format!("{wanted}-{n}"),
        })
        .find(|name| !taken.contains(name))
        .expect("some suffix is free")
}
