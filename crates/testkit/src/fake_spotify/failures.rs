//! Failures a test injects: the real API's failure modes, answered on the next matching
//! requests, for every user or for one.

use std::time::Duration;

/// A failure mode of the real Spotify API. Each applies to the endpoints its doc names;
/// requests to other endpoints leave it queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Web API: `401` "The access token expired". The presented token stays expired, as a real
    /// one would, so only a refresh gets the client going again.
    ExpiredAccessToken,
    /// Web API: `403` with the plain-text body "User not registered in the Developer Dashboard",
    /// what a development-mode app answers for a user missing from its User Management.
    NotRegistered,
    /// Web API: `429` with `Retry-After: <seconds>`, or without the header when `None`.
    RateLimited { retry_after_secs: Option<u64> },
    /// Web API: this status (500, 502 or 503). 502 comes with an HTML body, as from a proxy.
    ServerError(u16),
    /// Web API: the normal answer, after this real-time delay (for client timeouts).
    Slow(Duration),
    /// Token endpoint, refresh grant: `400 invalid_grant` "Refresh token revoked". The
    /// presented refresh token is revoked for good, as after a real invalid_grant.
    InvalidGrant,
    /// Token endpoint, refresh grant: a normal answer that omits `refresh_token`; the old
    /// refresh token stays valid.
    RefreshWithoutRefreshToken,
    /// Token endpoint, any grant: `503`.
    AccountsUnavailable,
}

/// Which kind of request is asking, to pick the failures that apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    WebApi,
    AuthorizationCodeGrant,
    RefreshGrant,
}

impl Failure {
    fn applies_to(&self, endpoint: Endpoint) -> bool {
        match self {
            Failure::ExpiredAccessToken
            | Failure::NotRegistered
            | Failure::RateLimited { .. }
            | Failure::ServerError(_)
            | Failure::Slow(_) => endpoint == Endpoint::WebApi,
            Failure::InvalidGrant | Failure::RefreshWithoutRefreshToken => {
                endpoint == Endpoint::RefreshGrant
            }
            Failure::AccountsUnavailable => endpoint != Endpoint::WebApi,
        }
    }
}

#[derive(Debug)]
struct Injected {
    /// Spotify user id the failure is limited to; `None` for every user.
    user: Option<String>,
    failure: Failure,
    remaining: u32,
}

/// Queued failures, taken in the order they were injected.
#[derive(Debug, Default)]
pub(crate) struct Failures {
    queue: Vec<Injected>,
}

impl Failures {
    pub(crate) fn push(&mut self, user: Option<String>, failure: Failure, times: u32) {
        if times > 0 {
            self.queue.push(Injected {
                user,
                failure,
                remaining: times,
            });
        }
    }

    /// The first queued failure for this endpoint and user (counted down), if any. A request
    /// whose user is unknown only meets failures injected for every user.
    pub(crate) fn take(&mut self, endpoint: Endpoint, user: Option<&str>) -> Option<Failure> {
        let index = self.queue.iter().position(|injected| {
            injected.failure.applies_to(endpoint)
                && injected
                    .user
                    .as_deref()
                    .is_none_or(|only| Some(only) == user)
        })?;
        let injected = &mut self.queue[index];
        injected.remaining -= 1;
        let failure = injected.failure.clone();
        if injected.remaining == 0 {
            self.queue.remove(index);
        }
        Some(failure)
    }

    /// How many injected failures have not happened yet.
    pub(crate) fn pending(&self) -> u32 {
        self.queue.iter().map(|i| i.remaining).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_counted_and_scoped_to_endpoint_and_user() {
        let mut failures = Failures::default();
        failures.push(Some("ann".into()), Failure::ServerError(500), 2);
        failures.push(None, Failure::InvalidGrant, 1);

        assert_eq!(failures.take(Endpoint::WebApi, Some("bob")), None);
        assert_eq!(failures.take(Endpoint::WebApi, None), None);
        assert_eq!(
            failures.take(Endpoint::WebApi, Some("ann")),
            Some(Failure::ServerError(500))
        );
        assert_eq!(
            failures.take(Endpoint::RefreshGrant, Some("bob")),
            Some(Failure::InvalidGrant)
        );
        assert_eq!(failures.pending(), 1);
        assert_eq!(
            failures.take(Endpoint::WebApi, Some("ann")),
            Some(Failure::ServerError(500))
        );
        assert_eq!(failures.take(Endpoint::WebApi, Some("ann")), None);
        assert_eq!(failures.pending(), 0);
    }
}
