//! Per-token rate limiting of tool calls (RATE_LIMIT_MCP_PER_MINUTE).

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use spotify_history_core::Principal;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// Allows each token a number of calls per minute (with a burst of the same size).
#[derive(Clone)]
pub struct RateLimiter {
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RateLimiter")
    }
}

impl RateLimiter {
    pub fn per_minute(calls: u32) -> Self {
        let calls = NonZeroU32::new(calls).unwrap_or(NonZeroU32::MIN);
        RateLimiter {
            limiter: Arc::new(governor::RateLimiter::keyed(Quota::per_minute(calls))),
        }
    }

    /// `Ok` if `principal` may call now, else how long to wait.
    pub fn check(&self, principal: &Principal) -> Result<(), Duration> {
        let key = match principal.token() {
            Some(token) => format!("token:{token}"),
            None => "configured-admin".to_string(),
        };
        self.limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}
