//! Per-client-address rate limiting (RATE_LIMIT_AUTH_PER_MINUTE on the sign-in routes):
//! sign-in needs no credential, so the client's IP address is the only thing to count by.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// Beyond this many tracked addresses, idle ones are forgotten so memory stays bounded.
const MAX_TRACKED_ADDRESSES: usize = 10_000;

/// Allows each client address a number of requests per minute (with a burst of that size).
/// Requests whose address is unknown (no `ConnectInfo`, as in in-process tests) share one
/// allowance.
#[derive(Clone)]
pub(crate) struct IpRateLimiter {
    limiter: Arc<DefaultKeyedRateLimiter<Option<IpAddr>>>,
}

impl std::fmt::Debug for IpRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IpRateLimiter")
    }
}

impl IpRateLimiter {
    /// `requests` per minute per address; 0 is treated as 1, since 0 would lock everyone out.
    pub(crate) fn per_minute(requests: u32) -> IpRateLimiter {
        let requests = NonZeroU32::new(requests).unwrap_or(NonZeroU32::MIN);
        IpRateLimiter {
            limiter: Arc::new(governor::RateLimiter::keyed(Quota::per_minute(requests))),
        }
    }

    /// `Ok` if a request from `client` may go ahead now, else how long to wait.
    pub(crate) fn check(&self, client: Option<SocketAddr>) -> Result<(), Duration> {
        if self.limiter.len() > MAX_TRACKED_ADDRESSES {
            self.limiter.retain_recent();
        }
        // An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d: count it as a.b.c.d.
        let key = client.map(|addr| addr.ip().to_canonical());
        self.limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// Whole seconds to put in `Retry-After`: rounded up, so a client that waits that long is let in.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_allowance() {
        let limiter = IpRateLimiter::per_minute(2);
        let ann: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        let ann_other_port: SocketAddr = "192.0.2.1:6000".parse().unwrap();
        let ann_mapped: SocketAddr = "[::ffff:192.0.2.1]:7000".parse().unwrap();
        let bob: SocketAddr = "192.0.2.2:5000".parse().unwrap();
        assert!(limiter.check(Some(ann)).is_ok());
        assert!(limiter.check(Some(ann_other_port)).is_ok());
        let wait = limiter.check(Some(ann_mapped)).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert!(limiter.check(Some(bob)).is_ok());
        assert!(limiter.check(None).is_ok());
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(29_001)), 30);
        assert_eq!(retry_after_secs(Duration::from_secs(30)), 30);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
