//! Offline limits and the offline runway: how much longer, and how much more, the booth
//! can sell with no uplink before a limit is reached.
//!
//! Owns: the arithmetic (pure, time and figures passed in). The limits, like a card
//! terminal's floor limits, are the manifest's `[offline]`: a cap per order, a cap on
//! the money in orders not yet delivered (exposure), and the oldest an undelivered
//! order may get; besides those, the prices' own lifetime (the manifest's expiry) and
//! the disk. Each limit's time left is estimated from the last 15 minutes' sales.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::manifest::OfflineLimits;
use crate::money::{Currency, Minor};

/// Sales are averaged over this window to estimate how fast limits approach.
pub const RATE_WINDOW: SignedDuration = SignedDuration::from_mins(15);
/// Disk kept free for everything else the node writes.
pub const DISK_RESERVE_BYTES: u64 = 256 * 1024 * 1024;

/// What the runway is computed from.
#[derive(Debug, Clone, Default)]
pub struct OfflineFigures {
    /// Money in undelivered orders paid by a method the limits apply to.
    pub exposure: Minor,
    pub oldest_unsynced: Option<Timestamp>,
    /// Orders, and money (limited methods), in the last [`RATE_WINDOW`].
    pub recent_orders: i64,
    pub recent_money: Minor,
    pub disk_free_bytes: Option<u64>,
    /// What one order takes on disk, averaged.
    pub bytes_per_order: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunwayLimit {
    /// `per_order`, `exposure`, `queue_age`, `prices`, `disk`.
    pub limit: &'static str,
    /// The limit and where the booth stands, in words.
    pub detail: String,
    /// Seconds of selling left at the recent pace; absent when no sales are being made
    /// or the limit is not about time.
    pub seconds: Option<i64>,
    /// Money (exposure) or orders (disk) left before the limit.
    pub left: Option<i64>,
    pub reached: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Runway {
    /// Seconds until the first limit is reached at the recent pace (none in sight: absent).
    pub seconds: Option<i64>,
    /// The limit that comes first.
    pub binding: Option<&'static str>,
    pub limits: Vec<RunwayLimit>,
}

fn money(m: Minor, currency: Currency) -> String {
    crate::money::display(m, currency)
}

/// The runway now.
pub fn runway(
    limits: &OfflineLimits,
    f: &OfflineFigures,
    prices_until: Timestamp,
    currency: Currency,
    now: Timestamp,
) -> Runway {
    let window = RATE_WINDOW.as_secs() as f64;
    let orders_per_s = f.recent_orders as f64 / window;
    let money_per_s = f.recent_money as f64 / window;
    let mut out = Vec::new();
    if let Some(cap) = limits.max_order {
        out.push(RunwayLimit {
            limit: "per_order",
            detail: format!("Each order up to {} without approval.", money(cap, currency)),
            seconds: None,
            left: None,
            reached: false,
        });
    }
    if let Some(cap) = limits.max_exposure {
        let left = (cap - f.exposure).max(0);
        out.push(RunwayLimit {
            limit: "exposure",
            detail: format!(
                "{} of {} in orders not yet delivered.",
                money(f.exposure, currency),
                money(cap, currency)
            ),
            seconds: (money_per_s > 0.0).then(|| (left as f64 / money_per_s) as i64),
            left: Some(left),
            reached: left == 0,
        });
    }
    if let Some(cap) = limits.max_queue_age {
        let age = f
            .oldest_unsynced
            .map_or(SignedDuration::ZERO, |t| now.duration_since(t))
            .max(SignedDuration::ZERO);
        let left = (cap - age).as_secs().max(0);
        out.push(RunwayLimit {
            limit: "queue_age",
            detail: match f.oldest_unsynced {
                Some(_) => format!(
                    "The oldest undelivered order is {} old; the limit is {}.",
                    words(age.as_secs()),
                    words(cap.as_secs())
                ),
                None => format!(
                    "Every order is delivered; an undelivered order may wait {}.",
                    words(cap.as_secs())
                ),
            },
            // The clock runs only once an order is waiting.
            seconds: f.oldest_unsynced.map(|_| left),
            left: None,
            reached: f.oldest_unsynced.is_some() && left == 0,
        });
    }
    let prices_left = prices_until.duration_since(now).as_secs().max(0);
    out.push(RunwayLimit {
        limit: "prices",
        detail: format!("The price list is valid for {} more.", words(prices_left)),
        seconds: Some(prices_left),
        left: None,
        reached: prices_left == 0,
    });
    if let Some(free) = f.disk_free_bytes {
        let orders_left =
            (free.saturating_sub(DISK_RESERVE_BYTES) / f.bytes_per_order.max(1)) as i64;
        out.push(RunwayLimit {
            limit: "disk",
            detail: format!("Room on disk for about {orders_left} more orders."),
            seconds: (orders_per_s > 0.0).then(|| (orders_left as f64 / orders_per_s) as i64),
            left: Some(orders_left),
            reached: orders_left == 0,
        });
    }
    let first = out.iter().filter_map(|l| l.seconds.map(|s| (s, l.limit))).min();
    Runway { seconds: first.map(|f| f.0), binding: first.map(|f| f.1), limits: out }
}

/// "3 h 20 min", "12 min", "40 s".
pub fn words(seconds: i64) -> String {
    match seconds {
        s if s >= 2 * 86_400 => format!("{} days", s / 86_400),
        s if s >= 3600 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// Why an order needs the operator's approval while offline, if it does.
pub fn needs_approval(
    limits: &OfflineLimits,
    f: &OfflineFigures,
    total: Minor,
    currency: Currency,
    now: Timestamp,
) -> Option<String> {
    if let Some(cap) = limits.max_order.filter(|cap| total > *cap) {
        return Some(format!("it is over the offline limit of {} per order", money(cap, currency)));
    }
    if let (Some(cap), Some(oldest)) = (limits.max_queue_age, f.oldest_unsynced) {
        if now.duration_since(oldest) >= cap {
            return Some(format!(
                "orders have waited {} for the uplink, the offline limit",
                words(cap.as_secs())
            ));
        }
    }
    if let Some(cap) = limits.max_exposure.filter(|cap| f.exposure + total > *cap) {
        return Some(format!(
            "it would take the money in undelivered orders to {}, over the offline limit of {}",
            money(f.exposure + total, currency),
            money(cap, currency)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> OfflineLimits {
        OfflineLimits {
            max_order: Some(10_000),
            max_exposure: Some(100_000),
            max_queue_age: Some(SignedDuration::from_hours(4)),
            applies_to: vec!["card".into()],
        }
    }

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn the_runway_is_the_first_limit_reached_at_the_recent_pace() {
        // 60,000 of exposure used, 40,000 left; 400 a minute (6,000 per 15 min) → 100 min.
        let f = OfflineFigures {
            exposure: 60_000,
            oldest_unsynced: Some(at(-3600)),
            recent_orders: 30,
            recent_money: 6_000,
            disk_free_bytes: Some(DISK_RESERVE_BYTES + 2048 * 1000),
            bytes_per_order: 2048,
        };
        let r = runway(&limits(), &f, at(86_400), eur(), at(0));
        let by = |name: &str| r.limits.iter().find(|l| l.limit == name).unwrap().clone();
        assert_eq!(by("exposure").left, Some(40_000));
        assert_eq!(by("exposure").seconds, Some(6000));
        assert_eq!(by("queue_age").seconds, Some(3 * 3600));
        assert_eq!(by("disk").left, Some(1000));
        assert_eq!(by("disk").seconds, Some(1000 * 900 / 30));
        assert_eq!(by("prices").seconds, Some(86_400));
        assert_eq!((r.seconds, r.binding), (Some(6000), Some("exposure")));
        assert!(by("exposure").detail.contains("600.00 EUR of 1000.00 EUR"));
    }

    #[test]
    fn with_no_sales_only_clocks_run() {
        let f = OfflineFigures { bytes_per_order: 2048, ..OfflineFigures::default() };
        let r = runway(&limits(), &f, at(7200), eur(), at(0));
        assert_eq!((r.seconds, r.binding), (Some(7200), Some("prices")));
        assert!(r.limits.iter().all(|l| !l.reached));
    }

    #[test]
    fn approval_is_needed_past_each_limit_with_the_reason_in_words() {
        let f = OfflineFigures {
            exposure: 95_000,
            oldest_unsynced: Some(at(-60)),
            ..OfflineFigures::default()
        };
        assert_eq!(needs_approval(&limits(), &f, 4_000, eur(), at(0)), None);
        assert!(needs_approval(&limits(), &f, 12_000, eur(), at(0))
            .unwrap()
            .contains("100.00 EUR per order"));
        assert!(needs_approval(&limits(), &f, 6_000, eur(), at(0))
            .unwrap()
            .contains("1010.00 EUR"));
        let old =
            OfflineFigures { oldest_unsynced: Some(at(-5 * 3600)), ..OfflineFigures::default() };
        assert!(needs_approval(&limits(), &old, 100, eur(), at(0)).unwrap().contains("4 h 0 min"));
        assert_eq!(
            needs_approval(&OfflineLimits::default(), &f, 1_000_000, eur(), at(0)),
            None,
            "no limits, no approvals"
        );
    }
}
