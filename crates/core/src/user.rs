//! Listeners and the tokens that act for them.

use crate::{ApiTokenId, UserId};
use serde::Serialize;

/// A listener. A user may exist without a Spotify link (import only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    /// Unique short name used on the command line (`--user NAME`).
    pub name: String,
    pub display_name: Option<String>,
    pub spotify_user_id: Option<String>,
    /// IANA time zone used when a question does not name one.
    pub time_zone: Option<String>,
    pub sync_paused: bool,
    pub needs_reauth: bool,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// An API bearer token as stored: only its hash, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    /// `None` for admin tokens, which act for every user.
    pub user_id: Option<UserId>,
    pub name: String,
    /// The first characters of the token, so a person can tell tokens apart.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl ApiToken {
    /// An admin token acts for every user.
    pub fn is_admin(&self) -> bool {
        self.user_id.is_none()
    }

    /// A revoked token authenticates nobody.
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// Who is asking: decides whose history a request may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// Acts for every user (an admin API token, ADMIN_TOKEN, or a local stdio session).
    Admin { token: Option<ApiTokenId> },
    /// Acts for one user only.
    User {
        user: UserId,
        token: Option<ApiTokenId>,
    },
}

impl Principal {
    /// The token behind the request, for rate limiting; `None` for configured credentials.
    pub fn token(&self) -> Option<ApiTokenId> {
        match self {
            Principal::Admin { token } | Principal::User { token, .. } => *token,
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Principal::Admin { .. })
    }
}

impl From<&ApiToken> for Principal {
    fn from(token: &ApiToken) -> Self {
        match token.user_id {
            Some(user) => Principal::User {
                user,
                token: Some(token.id),
            },
            None => Principal::Admin {
                token: Some(token.id),
            },
        }
    }
}
