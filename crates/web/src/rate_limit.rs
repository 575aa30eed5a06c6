//! Per-client-address rate limiting (RATE_LIMIT_AUTH_PER_MINUTE on the sign-in routes and
//! admin logins): they need no credential, so the client's IP address is the only thing to
//! count by. Behind reverse proxies named in TRUSTED_PROXIES, the client is the address the
//! proxies say they forwarded for (`X-Forwarded-For`).

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use ipnet::IpNet;
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
    proxies: TrustedProxies,
}

impl std::fmt::Debug for IpRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IpRateLimiter")
    }
}

impl IpRateLimiter {
    /// `requests` per minute per address; 0 is treated as 1, since 0 would lock everyone out.
    /// Clients behind `proxies` are told apart by what the proxies forwarded.
    pub(crate) fn per_minute(requests: u32, proxies: TrustedProxies) -> IpRateLimiter {
        let requests = NonZeroU32::new(requests).unwrap_or(NonZeroU32::MIN);
        IpRateLimiter {
            limiter: Arc::new(governor::RateLimiter::keyed(Quota::per_minute(requests))),
            proxies,
        }
    }

    /// `Ok` if `request` may go ahead now, else how long to wait.
    pub(crate) fn check_request(&self, request: &Request) -> Result<(), Duration> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        self.check(self.proxies.client(peer, request.headers()))
    }

    /// `Ok` if a request from `client` may go ahead now, else how long to wait. An IPv6
    /// client counts by its /64 network: one host commonly holds a whole /64, and would get a
    /// new allowance from each of its addresses.
    fn check(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        if self.limiter.len() > MAX_TRACKED_ADDRESSES {
            self.limiter.retain_recent();
        }
        let client = client.map(|address| match address {
            IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
            v4 => v4,
        });
        self.limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed (TRUSTED_PROXIES): IP addresses
/// or networks. Empty (the default) believes no header: the client is the connection's peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses TRUSTED_PROXIES: comma-separated addresses (`127.0.0.1`, `::1`) or networks
    /// (`10.0.0.0/8`).
    pub fn parse(value: &str) -> Result<TrustedProxies, String> {
        value
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{item:?} is not an IP address or network (CIDR)"))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client of a request that came from `peer`: the peer itself, unless it is a trusted
    /// proxy; then the nearest address in `X-Forwarded-For` (read from the right, where each
    /// proxy appends who it heard from) that is not a trusted proxy. Addresses left of that one
    /// are whatever the client claimed and are ignored. An IPv4 client on a dual-stack socket
    /// (`::ffff:a.b.c.d`) counts as `a.b.c.d`.
    pub(crate) fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let mut client = peer?.to_canonical();
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','));
        for hop in forwarded.rev() {
            if !self.trusts(client) {
                break;
            }
            match hop.trim().parse::<IpAddr>() {
                Ok(address) => client = address.to_canonical(),
                // Not an address (an `unknown` or a port): the last proxy is all we know.
                Err(_) => break,
            }
        }
        Some(client)
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
        let limiter = IpRateLimiter::per_minute(2, TrustedProxies::default());
        let client = |peer: &str| {
            let peer: SocketAddr = peer.parse().unwrap();
            limiter.proxies.client(Some(peer.ip()), &HeaderMap::new())
        };
        let ann = client("192.0.2.1:5000");
        let ann_other_port = client("192.0.2.1:6000");
        let ann_mapped = client("[::ffff:192.0.2.1]:7000");
        let bob = client("192.0.2.2:5000");
        assert!(limiter.check(ann).is_ok());
        assert!(limiter.check(ann_other_port).is_ok());
        let wait = limiter.check(ann_mapped).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert!(limiter.check(bob).is_ok());
        assert!(limiter.check(None).is_ok());
        // IPv6 addresses of one /64 share an allowance.
        let v6 = |text: &str| Some(text.parse::<IpAddr>().unwrap());
        assert!(limiter.check(v6("2001:db8:1:2::1")).is_ok());
        assert!(limiter.check(v6("2001:db8:1:2::2")).is_ok());
        assert!(limiter.check(v6("2001:db8:1:2:ffff::3")).is_err());
        assert!(limiter.check(v6("2001:db8:1:3::1")).is_ok());
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn only_trusted_proxies_say_who_the_client_is() {
        let proxies = TrustedProxies::parse(" 127.0.0.1, 10.0.0.0/8 ,::1").unwrap();
        let ip = |text: &str| Some(text.parse::<IpAddr>().unwrap());
        let client = |peer: &str, headers: &[&str]| proxies.client(ip(peer), &forwarded(headers));
        // A client straight from the internet cannot pick its address.
        assert_eq!(client("198.51.100.7", &["192.0.2.1"]), ip("198.51.100.7"));
        // Through the proxy: the address it appended, not what the client sent before it.
        assert_eq!(
            client("127.0.0.1", &["203.0.113.9, 192.0.2.1"]),
            ip("192.0.2.1")
        );
        assert_eq!(client("::1", &["192.0.2.1"]), ip("192.0.2.1"));
        // Through two trusted proxies (and header lines), to the first untrusted address.
        assert_eq!(
            client("127.0.0.1", &["203.0.113.9, 192.0.2.1", "10.1.2.3"]),
            ip("192.0.2.1")
        );
        // Only proxies, or no header: the last proxy. Garbage stops the walk there too.
        assert_eq!(client("127.0.0.1", &["10.1.2.3"]), ip("10.1.2.3"));
        assert_eq!(client("127.0.0.1", &[]), ip("127.0.0.1"));
        assert_eq!(
            client("127.0.0.1", &["192.0.2.1, unknown"]),
            ip("127.0.0.1")
        );
        assert_eq!(client("127.0.0.1", &["::ffff:192.0.2.1"]), ip("192.0.2.1"));
        assert_eq!(proxies.client(None, &forwarded(&["192.0.2.1"])), None);
        // Nothing trusted by default.
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), &forwarded(&["192.0.2.1"])),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        assert_eq!(
            TrustedProxies::parse("").unwrap(),
            TrustedProxies::default()
        );
        assert!(TrustedProxies::parse("10.0.0.0/8,fd00::/8,192.0.2.1").is_ok());
        let err = TrustedProxies::parse("127.0.0.1, proxy.local").unwrap_err();
        assert!(err.contains("proxy.local"), "{err}");
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(29_001)), 30);
        assert_eq!(retry_after_secs(Duration::from_secs(30)), 30);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
