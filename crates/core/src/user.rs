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

/// Why a user's name or display name cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidName {
    /// `name` or `display_name`.
    pub field: &'static str,
    pub problem: &'static str,
}

/// The longest user name, in bytes.
const MAX_USER_NAME_BYTES: usize = 64;

/// The longest display name, in characters.
const MAX_DISPLAY_NAME_CHARS: usize = 200;

/// `name` without surrounding spaces, if it can be a user's name: one short word that a
/// command line can repeat (`--user NAME`), without control characters (PostgreSQL refuses
/// NUL in any text, so a name with one could not be stored there).
pub fn checked_user_name(name: &str) -> Result<&str, InvalidName> {
    let name = name.trim();
    let problem = if name.is_empty() {
        "must not be empty"
    } else if name.len() > MAX_USER_NAME_BYTES {
        "must be at most 64 bytes"
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "must be one word, without spaces or control characters (it is used as `--user NAME`)"
    } else {
        return Ok(name);
    };
    Err(InvalidName {
        field: "name",
        problem,
    })
}

/// `name` without surrounding spaces, if it can be shown as a user's name; `None` when it is
/// empty, which means no display name.
pub fn checked_display_name(name: &str) -> Result<Option<&str>, InvalidName> {
    let name = name.trim();
    let problem = if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        "must be at most 200 characters"
    } else if name.chars().any(char::is_control) {
        "must not hold control characters"
    } else {
        return Ok(Some(name).filter(|name| !name.is_empty()));
    };
    Err(InvalidName {
        field: "display_name",
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_name_is_one_short_word_without_control_characters() {
        assert_eq!(checked_user_name("  ann "), Ok("ann"));
        assert_eq!(checked_user_name("zoë-2"), Ok("zoë-2"));
        assert_eq!(
            checked_user_name(&"a".repeat(64)),
            Ok("a".repeat(64).as_str())
        );
        for bad in [
            "",
            "   ",
            "ann b",
            "ann\tb",
            "ann\0",
            "a\u{7}",
            &"a".repeat(65),
        ] {
            let err = checked_user_name(bad).unwrap_err();
            assert_eq!(err.field, "name", "{bad:?}");
        }
        // 33 two-byte characters are 66 bytes.
        assert!(checked_user_name(&"é".repeat(33)).is_err());
    }

    #[test]
    fn a_display_name_may_have_spaces_but_no_control_characters() {
        assert_eq!(checked_display_name(" Ann B. "), Ok(Some("Ann B.")));
        assert_eq!(checked_display_name("  "), Ok(None));
        assert_eq!(
            checked_display_name(&"é".repeat(200))
                .unwrap()
                .map(str::len),
            Some(400)
        );
        for bad in ["Ann\0", "Ann\nB", &"a".repeat(201)] {
            let err = checked_display_name(bad).unwrap_err();
            assert_eq!(err.field, "display_name", "{bad:?}");
        }
    }
}
