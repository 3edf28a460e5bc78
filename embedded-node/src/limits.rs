//! Rate limits per client: how often one kiosk or phone may ask for quotes, place
//! orders, upload and fetch assets, so that one misbehaving device cannot take the
//! booth from everyone else.
//!
//! Also staff sign-ins, so PINs cannot be guessed quickly from one address.
//!
//! Owns: the limiters (governor's GCRA, one per group, keyed by client address), which
//! routes belong to which group, and the count of refused requests per route. Never:
//! answers HTTP (`http::limits` does, `429` with `Retry-After`), limits the laptop
//! itself (`127.0.0.1` and `::1`: the app's window, the lead's CLI and scripts on the
//! booth), or limits anything else (the dashboard, the operator and peer APIs).
//!
//! A client is its address; an IPv6 client is its /64, since one device may hold any
//! address of its network's prefix. An enrolled kiosk (`kiosks`) is itself, whatever
//! its address, with [`KIOSK_SHARE`] times a stranger's limits. Clients not seen for a
//! while are forgotten.

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
    /// Staff signing in with a PIN.
    SignIn,
    /// Assets asked for by a paired booth (a signed request: the asset route refuses a
    /// bad signature at once), which may serve many kiosks of its own.
    PeerAssets,
}

impl Group {
    pub const ALL: [Group; 6] = [
        Group::Quotes,
        Group::Orders,
        Group::Uploads,
        Group::Assets,
        Group::SignIn,
        Group::PeerAssets,
    ];

    /// The group of a request by its method and the route template it matched, and
    /// whether it says it comes from a paired booth.
    pub fn of(method: &str, route: &str, peer_signed: bool) -> Option<Group> {
        match (method, route) {
            ("POST", "/api/v1/quotes") => Some(Group::Quotes),
            ("POST", "/api/v1/orders") => Some(Group::Orders),
            ("POST", "/api/v1/staff/session") => Some(Group::SignIn),
            ("POST" | "PATCH" | "HEAD" | "DELETE", r) if r.starts_with("/api/v1/uploads") => {
                Some(Group::Uploads)
            }
            ("GET" | "HEAD", r) if r.starts_with("/assets/") && peer_signed => {
                Some(Group::PeerAssets)
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
            // A person types a PIN now and then; a script guessing PINs is cut to one a
            // second from each address (and each person locks after a few wrong ones).
            Group::SignIn => (1, 10),
            Group::PeerAssets => (1_000, 4_000),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Group::Quotes => "quotes",
            Group::Orders => "orders",
            Group::Uploads => "uploads",
            Group::Assets => "assets",
            Group::SignIn => "sign-in",
            Group::PeerAssets => "asset",
        }
    }
}

/// Checks between two sweeps of forgotten clients.
const SWEEP_EVERY: u64 = 4096;
/// An IPv6 network (/64) may send this many times one device's limit: each device of a
/// venue's network has its own limit, and one device taking new addresses of its
/// network to escape its limit is held by the network's.
const NETWORK_SHARE: u32 = 20;
/// An enrolled kiosk may send this many times a stranger's requests: it is the booth's
/// own, rings up sale after sale, and the lead can revoke it.
pub const KIOSK_SHARE: u32 = 10;

pub struct Limits {
    limiters: [DefaultKeyedRateLimiter<IpAddr>; 6],
    /// Enrolled kiosks, by kiosk id.
    kiosks: [DefaultKeyedRateLimiter<std::sync::Arc<str>>; 6],
    /// The same, per IPv6 /64.
    networks: [DefaultKeyedRateLimiter<IpAddr>; 6],
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
        fn quota(g: Group, times: u32) -> Quota {
            let (per_s, burst) = g.limit();
            Quota::per_second(NonZeroU32::new(per_s * times).expect("a rate above zero"))
                .allow_burst(NonZeroU32::new(burst * times).expect("a burst above zero"))
        }
        let limiter = |g: Group, times: u32| RateLimiter::keyed(quota(g, times));
        Limits {
            limiters: Group::ALL.map(|g| limiter(g, 1)),
            kiosks: Group::ALL.map(|g| RateLimiter::keyed(quota(g, KIOSK_SHARE))),
            networks: Group::ALL.map(|g| limiter(g, NETWORK_SHARE)),
            checks: AtomicU64::new(0),
            refused: Mutex::default(),
        }
    }

    /// Whether `client` may make a request of `group` now; if not, how long until it may.
    /// `route` is what the refusal is counted under.
    pub fn check(&self, group: Group, client: IpAddr, route: &str) -> Result<(), Duration> {
        let Some(key) = client_key(client) else { return Ok(()) };
        self.sweep_now_and_then();
        let own = self.limiters[group as usize].check_key(&key);
        let network = match (own.is_ok(), network_of(key)) {
            (true, Some(net)) => self.networks[group as usize].check_key(&net),
            _ => Ok(()),
        };
        self.refusal(own.and(network), route)
    }

    /// Whether the enrolled kiosk `kiosk` may make a request of `group` now.
    pub fn check_kiosk(
        &self,
        group: Group,
        kiosk: &std::sync::Arc<str>,
        route: &str,
    ) -> Result<(), Duration> {
        self.sweep_now_and_then();
        self.refusal(self.kiosks[group as usize].check_key(kiosk), route)
    }

    fn sweep_now_and_then(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            for l in self.limiters.iter().chain(&self.networks) {
                l.retain_recent();
                l.shrink_to_fit();
            }
            for l in &self.kiosks {
                l.retain_recent();
                l.shrink_to_fit();
            }
        }
    }

    fn refusal(
        &self,
        checked: Result<(), governor::NotUntil<<DefaultClock as governor::clock::Clock>::Instant>>,
        route: &str,
    ) -> Result<(), Duration> {
        checked.map_err(|not_until| {
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

/// The key a client is limited under (its address): `None` for the laptop itself.
/// Whether `client` is the laptop itself (loopback), which no limit applies to: not the
/// desktop window, not a kiosk face opened on the laptop.
pub fn is_this_machine(client: IpAddr) -> bool {
    client_key(client).is_none()
}

fn client_key(client: IpAddr) -> Option<IpAddr> {
    let client = client.to_canonical();
    match client {
        IpAddr::V4(v4) if v4 == std::net::Ipv4Addr::LOCALHOST => None,
        IpAddr::V6(v6) if v6 == Ipv6Addr::LOCALHOST => None,
        _ => Some(client),
    }
}

/// An IPv6 client's network (/64), limited as a whole too.
fn network_of(client: IpAddr) -> Option<IpAddr> {
    match client {
        IpAddr::V4(_) => None,
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
        assert_eq!(Group::of("POST", "/api/v1/quotes", false), Some(Group::Quotes));
        assert_eq!(Group::of("POST", "/api/v1/orders", false), Some(Group::Orders));
        assert_eq!(Group::of("PATCH", "/api/v1/uploads/{id}", false), Some(Group::Uploads));
        assert_eq!(Group::of("GET", "/assets/{*path}", false), Some(Group::Assets));
        assert_eq!(Group::of("GET", "/assets/{*path}", true), Some(Group::PeerAssets));
        assert_eq!(Group::of("POST", "/api/v1/staff/session", false), Some(Group::SignIn));
        assert_eq!(Group::of("GET", "/api/v1/orders/{id}", false), None, "a receipt");
        assert_eq!(Group::of("GET", "/api/v1/ops/status", false), None);
        assert_eq!(Group::of("OPTIONS", "/api/v1/uploads/", false), None);
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
    fn each_ipv6_device_has_its_own_limit_and_its_network_holds_one_that_hops_addresses() {
        let limits = Limits::new();
        let (_, burst) = Group::Orders.limit();
        let device = |n: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, n));
        for _ in 0..burst {
            limits.check(Group::Orders, device(1), "/api/v1/orders").unwrap();
        }
        assert!(limits.check(Group::Orders, device(1), "/api/v1/orders").is_err());
        assert!(
            limits.check(Group::Orders, device(2), "/api/v1/orders").is_ok(),
            "a neighbour on the same network is served"
        );
        // A device hopping addresses of its network is held by the network's limit.
        let served = (100..100 + u32::from(u16::MAX).min(burst * NETWORK_SHARE * 2))
            .filter(|n| limits.check(Group::Orders, device(*n as u16), "/api/v1/orders").is_ok())
            .count() as u32;
        assert!(served <= burst * NETWORK_SHARE + 5, "{served}");
        assert_eq!(
            client_key("::ffff:10.0.0.7".parse().unwrap()),
            Some("10.0.0.7".parse().unwrap())
        );
        assert_eq!(client_key("::ffff:127.0.0.1".parse().unwrap()), None);
        assert_eq!(client_key("::1".parse().unwrap()), None);
        assert_eq!(network_of("10.0.0.7".parse().unwrap()), None);
    }
}
