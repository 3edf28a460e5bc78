//! Rate limits per client: how often one kiosk or phone may ask for quotes, place
//! orders, upload and fetch assets, so that one misbehaving device cannot take the
//! booth from everyone else.
//!
//! Owns: the limiters (governor's GCRA, one per group, keyed by client address), which
//! routes belong to which group, and the count of refused requests per route. Never:
//! answers HTTP (`http::limits` does, `429` with `Retry-After`), limits the laptop
//! itself (`127.0.0.1` and `::1`: the app's window, the lead's CLI and scripts on the
//! booth), or limits anything else (the dashboard, the operator and peer APIs).
//!
//! A client is its address; an IPv6 client is its /64, since one device may hold any
//! address of its network's prefix. Clients not seen for a while are forgotten.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// What a request is, for its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Quotes,
    Orders,
    Uploads,
    Assets,
}

impl Group {
    pub const ALL: [Group; 4] = [Group::Quotes, Group::Orders, Group::Uploads, Group::Assets];

    /// The group of a request by its method and the route template it matched.
    pub fn of(method: &str, route: &str) -> Option<Group> {
        match (method, route) {
            ("POST", "/api/v1/quotes") => Some(Group::Quotes),
            ("POST", "/api/v1/orders") => Some(Group::Orders),
            ("POST" | "PATCH" | "HEAD" | "DELETE", r) if r.starts_with("/api/v1/uploads") => {
                Some(Group::Uploads)
            }
            ("GET" | "HEAD", r) if r.starts_with("/assets/") => Some(Group::Assets),
            _ => None,
        }
    }

    /// Requests per second one client may keep up, and how many it may send at once.
    ///
    /// A kiosk quotes on each basket change and orders once a sale; a storefront page is
    /// a few dozen assets; a tus upload is a handful of requests per chunk. These leave a
    /// busy kiosk far from its limit while a flood is cut to a trickle.
    pub const fn limit(self) -> (u32, u32) {
        match self {
            Group::Quotes => (10, 50),
            Group::Orders => (5, 25),
            Group::Uploads => (30, 120),
            Group::Assets => (100, 400),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Group::Quotes => "quotes",
            Group::Orders => "orders",
            Group::Uploads => "uploads",
            Group::Assets => "assets",
        }
    }
}

/// Checks between two sweeps of forgotten clients.
const SWEEP_EVERY: u64 = 4096;

pub struct Limits {
    limiters: [DefaultKeyedRateLimiter<IpAddr>; 4],
    checks: AtomicU64,
    /// Refused requests, by route template.
    refused: Mutex<BTreeMap<String, u64>>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new()
    }
}

impl Limits {
    pub fn new() -> Limits {
        let limiter = |g: Group| {
            let (per_s, burst) = g.limit();
            let quota = Quota::per_second(NonZeroU32::new(per_s).expect("a rate above zero"))
                .allow_burst(NonZeroU32::new(burst).expect("a burst above zero"));
            RateLimiter::keyed(quota)
        };
        Limits {
            limiters: Group::ALL.map(limiter),
            checks: AtomicU64::new(0),
            refused: Mutex::default(),
        }
    }

    /// Whether `client` may make a request of `group` now; if not, how long until it may.
    /// `route` is what the refusal is counted under.
    pub fn check(&self, group: Group, client: IpAddr, route: &str) -> Result<(), Duration> {
        let Some(key) = client_key(client) else { return Ok(()) };
        let limiter = &self.limiters[group as usize];
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            for l in &self.limiters {
                l.retain_recent();
                l.shrink_to_fit();
            }
        }
        limiter.check_key(&key).map_err(|not_until| {
            *self
                .refused
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(route.to_owned())
                .or_default() += 1;
            not_until.wait_time_from(DefaultClock::default().now())
        })
    }

    /// Refused requests so far, by route template.
    pub fn refused(&self) -> BTreeMap<String, u64> {
        self.refused.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The key a client is limited under: `None` for the laptop itself.
fn client_key(client: IpAddr) -> Option<IpAddr> {
    let client = client.to_canonical();
    match client {
        IpAddr::V4(v4) if v4 == std::net::Ipv4Addr::LOCALHOST => None,
        IpAddr::V6(v6) if v6 == Ipv6Addr::LOCALHOST => None,
        IpAddr::V4(_) => Some(client),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_fall_in_their_groups_and_nothing_else_is_limited() {
        assert_eq!(Group::of("POST", "/api/v1/quotes"), Some(Group::Quotes));
        assert_eq!(Group::of("POST", "/api/v1/orders"), Some(Group::Orders));
        assert_eq!(Group::of("PATCH", "/api/v1/uploads/{id}"), Some(Group::Uploads));
        assert_eq!(Group::of("GET", "/assets/{*path}"), Some(Group::Assets));
        assert_eq!(Group::of("GET", "/api/v1/orders/{id}"), None, "a receipt");
        assert_eq!(Group::of("GET", "/api/v1/ops/status"), None);
        assert_eq!(Group::of("OPTIONS", "/api/v1/uploads/"), None);
    }

    #[test]
    fn a_flooding_client_is_refused_while_others_and_the_laptop_are_served() {
        let limits = Limits::new();
        let (flood, other): (IpAddr, IpAddr) =
            ("10.0.0.7".parse().unwrap(), "10.0.0.8".parse().unwrap());
        let (_, burst) = Group::Orders.limit();
        let served = (0..burst * 2)
            .filter(|_| limits.check(Group::Orders, flood, "/api/v1/orders").is_ok())
            .count() as u32;
        assert!((burst..burst + 5).contains(&served), "the burst, and little more: {served}");
        let wait = limits.check(Group::Orders, flood, "/api/v1/orders").unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1), "{wait:?}");
        assert!(limits.check(Group::Orders, other, "/api/v1/orders").is_ok());
        assert!(limits.check(Group::Quotes, flood, "/api/v1/quotes").is_ok(), "per group");
        for _ in 0..burst * 4 {
            limits.check(Group::Orders, "127.0.0.1".parse().unwrap(), "/api/v1/orders").unwrap();
        }
        assert!(limits.refused()["/api/v1/orders"] >= u64::from(burst) - 5);
    }

    #[test]
    fn an_ipv6_client_is_its_64_and_a_mapped_ipv4_is_the_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(
            client_key("::ffff:10.0.0.7".parse().unwrap()),
            Some("10.0.0.7".parse().unwrap())
        );
        assert_eq!(client_key("::ffff:127.0.0.1".parse().unwrap()), None);
        assert_eq!(client_key("::1".parse().unwrap()), None);
    }
}
