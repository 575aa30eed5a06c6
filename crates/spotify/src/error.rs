//! What can go wrong talking to Spotify, each case saying what to do about it.

use std::time::Duration;

/// How long to wait after a `429` that came without a usable `Retry-After` header.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

/// A failed Spotify call. `endpoint` names the call (e.g. `GET /v1/me`). The client never
/// retries; see [`SpotifyError::retry_after`] and [`SpotifyError::is_transient`].
#[derive(Debug, thiserror::Error)]
pub enum SpotifyError {
    /// 401: the access token expired or is unknown.
    #[error("{endpoint}: Spotify rejected the access token ({message}): refresh it and retry")]
    Unauthorized {
        endpoint: &'static str,
        message: String,
    },

    /// 403 with Spotify's plain-text "User not registered in the Developer Dashboard": the
    /// app is in development mode and this user is not in its User Management.
    #[error(
        "{endpoint}: Spotify answered \"{message}\": add the user in the Spotify app's User \
         Management (Developer Dashboard; at most 5 users in development mode)"
    )]
    NotRegistered {
        endpoint: &'static str,
        /// Spotify's body, verbatim.
        message: String,
    },

    /// Any other 403, e.g. a scope the user did not grant.
    #[error(
        "{endpoint}: Spotify refused access ({message}): the user may need to sign in again at \
         /auth/login to grant the missing permission"
    )]
    Forbidden {
        endpoint: &'static str,
        message: String,
    },

    /// 429: make no call to Spotify for `retry_after` (it can be hours when a quota is spent).
    #[error("{endpoint}: rate limited by Spotify: make no call for {}", human(*retry_after))]
    RateLimited {
        endpoint: &'static str,
        retry_after: Duration,
    },

    /// 400 `invalid_grant`: the refresh token expired (six months after sign-in) or was
    /// revoked, or an authorization code was bad. Retrying cannot help.
    #[error(
        "{endpoint}: Spotify rejected the grant ({description}): the user must sign in again at \
         /auth/login"
    )]
    InvalidGrant {
        endpoint: &'static str,
        description: String,
    },

    /// `invalid_client`: the app's id or secret is wrong.
    #[error(
        "{endpoint}: Spotify rejected the app credentials ({description}): check \
         SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET"
    )]
    InvalidClient {
        endpoint: &'static str,
        description: String,
    },

    /// 400: Spotify found the request invalid.
    #[error("{endpoint}: Spotify rejected the request as invalid ({message})")]
    BadRequest {
        endpoint: &'static str,
        message: String,
    },

    /// 404: no such item (or an endpoint Spotify removed).
    #[error("{endpoint}: not found on Spotify ({message})")]
    NotFound {
        endpoint: &'static str,
        message: String,
    },

    /// 5xx: Spotify's side failed; try again later.
    #[error("{endpoint}: Spotify answered {status}, a failure on its side: try again later")]
    Server { endpoint: &'static str, status: u16 },

    /// A status Spotify does not document for this call.
    #[error("{endpoint}: Spotify answered {status} unexpectedly ({message})")]
    UnexpectedStatus {
        endpoint: &'static str,
        status: u16,
        message: String,
    },

    /// No answer: DNS, connection, TLS or timeout.
    #[error("{endpoint}: could not reach Spotify ({detail}): check the network, then try again")]
    Network {
        endpoint: &'static str,
        detail: String,
        #[source]
        source: reqwest::Error,
    },

    /// A success answer whose JSON does not have the documented shape.
    #[error("{endpoint}: Spotify's answer could not be read: {source}")]
    Decode {
        endpoint: &'static str,
        #[source]
        source: serde_json::Error,
    },

    /// Refused before sending, because Spotify would reject it.
    #[error("not sent to Spotify: {message}")]
    InvalidRequest { message: String },

    /// The client settings cannot work.
    #[error("Spotify settings are invalid: {message}")]
    InvalidConfig { message: String },
}

impl SpotifyError {
    /// How long to make no call after a rate limit; `None` for other errors.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SpotifyError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// True when the same call may succeed later without anyone doing anything: rate limits,
    /// Spotify's 5xx and network failures.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SpotifyError::RateLimited { .. }
                | SpotifyError::Server { .. }
                | SpotifyError::Network { .. }
        )
    }

    /// True when only a new sign-in of the user helps (refresh token dead).
    pub fn needs_reauthorization(&self) -> bool {
        matches!(self, SpotifyError::InvalidGrant { .. })
    }

    /// True when the access token must be refreshed before retrying.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, SpotifyError::Unauthorized { .. })
    }
}

/// A wait in words: "45s", "2h 30m".
fn human(wait: Duration) -> String {
    match jiff::SignedDuration::try_from(wait) {
        Ok(d) => format!("{d:#}"),
        Err(_) => format!("{} s", wait.as_secs()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_message_states_the_wait() {
        let error = SpotifyError::RateLimited {
            endpoint: "GET /v1/me",
            retry_after: Duration::from_secs(2 * 3600 + 30 * 60),
        };
        assert_eq!(
            error.to_string(),
            "GET /v1/me: rate limited by Spotify: make no call for 2h 30m"
        );
        assert_eq!(error.retry_after(), Some(Duration::from_secs(9000)));
        assert!(error.is_transient());
    }
}
