//! The manifest's selling sections: how customers pay (`[payments]`), how their orders
//! are called (`[pickup]`) and how the shop and counter look and behave (`[shop]`).
//!
//! Owns: the payment methods a booth takes, which of them a device that is neither an
//! enrolled kiosk nor signed-in staff may choose (an attendee's phone cannot prove a
//! card was paid, so by default it may only pay at pickup), the pickup numbers' prefix,
//! and the shop's colours, idle time, favourites and low-stock mark. Never: takes a
//! payment or numbers an order (that is the node's order queue).

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use serde_spanned::Spanned;

use super::parse::Checker;

/// How an order is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// On the booth's own card terminal; the slip's reference is recorded.
    Card,
    /// Cash handed to staff (or into the kiosk's till), with change due.
    Cash,
    Mobile,
    Voucher,
    /// Nothing paid yet: the customer pays when they collect.
    PayAtPickup,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 5] = [
        PaymentMethod::Card,
        PaymentMethod::Cash,
        PaymentMethod::Mobile,
        PaymentMethod::Voucher,
        PaymentMethod::PayAtPickup,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Card => "card",
            PaymentMethod::Cash => "cash",
            PaymentMethod::Mobile => "mobile",
            PaymentMethod::Voucher => "voucher",
            PaymentMethod::PayAtPickup => "pay_at_pickup",
        }
    }

    pub fn parse(text: &str) -> Option<PaymentMethod> {
        PaymentMethod::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// Whether the order is paid when it is placed (pay at pickup is not).
    pub fn paid_up_front(self) -> bool {
        self != PaymentMethod::PayAtPickup
    }
}

/// Most favourites the counter's grid shows.
pub const MAX_FAVOURITES: usize = 24;

#[derive(Debug, Clone, PartialEq)]
pub struct Selling {
    /// What the booth takes: from its enrolled kiosks, its staff and its lead.
    pub methods: Vec<PaymentMethod>,
    /// What a device that is neither enrolled nor signed in may choose: pay at pickup,
    /// or nothing.
    pub phones: Vec<PaymentMethod>,
    /// Pickup numbers read `PREFIX-001`, `PREFIX-002`, …; never reused within the event.
    pub pickup_prefix: String,
    pub shop: ShopSettings,
    pub kiosk_offline: KioskOffline,
}

/// What an enrolled kiosk may take while it cannot reach the node (`[kiosk_offline]`).
/// Past any of these the kiosk asks for staff instead of selling.
#[derive(Debug, Clone, PartialEq)]
pub struct KioskOffline {
    /// Ways to pay offline: card on the booth's terminal and cash, as the booth takes them.
    pub methods: Vec<PaymentMethod>,
    /// Largest single order.
    pub max_order: crate::money::Minor,
    /// Most money in the kiosk's queue at once.
    pub max_total: crate::money::Minor,
    /// Most orders in the queue at once; also how many pickup numbers the node reserves
    /// for each kiosk in advance.
    pub max_orders: u32,
    /// How long after it last reached the node a kiosk keeps selling on its own.
    pub max_for: SignedDuration,
}

impl KioskOffline {
    fn defaults(taken: &[PaymentMethod]) -> KioskOffline {
        KioskOffline {
            methods: [PaymentMethod::Card, PaymentMethod::Cash]
                .into_iter()
                .filter(|m| taken.contains(m))
                .collect(),
            max_order: 10_000,
            max_total: 100_000,
            max_orders: 50,
            max_for: SignedDuration::from_hours(2),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ShopSettings {
    /// `#rrggbb`, for the installed app's bar and the shop's accents.
    pub theme_color: String,
    pub background_color: String,
    /// A kiosk left alone this long shows its attract screen and empties the basket.
    pub attract_after: SignedDuration,
    /// Stock at or below this shows a warning at the counter.
    pub low_stock_at: u32,
    /// SKUs first on the counter's grid.
    pub favourites: Vec<String>,
}

impl Default for Selling {
    fn default() -> Self {
        Selling {
            methods: PaymentMethod::ALL.to_vec(),
            phones: vec![PaymentMethod::PayAtPickup],
            pickup_prefix: "A".into(),
            shop: ShopSettings {
                theme_color: "#0b3d5c".into(),
                background_color: "#ffffff".into(),
                attract_after: SignedDuration::from_secs(60),
                low_stock_at: 5,
                favourites: Vec::new(),
            },
            kiosk_offline: KioskOffline::defaults(&PaymentMethod::ALL),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPayments {
    methods: Option<Vec<Spanned<String>>>,
    phones: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPickup {
    prefix: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawShop {
    theme_color: Option<Spanned<String>>,
    background_color: Option<Spanned<String>>,
    attract_after: Option<Spanned<String>>,
    low_stock_at: Option<Spanned<i64>>,
    favourites: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKioskOffline {
    methods: Option<Vec<Spanned<String>>>,
    max_order: Option<Spanned<i64>>,
    max_total: Option<Spanned<i64>>,
    max_orders: Option<Spanned<i64>>,
    max_for: Option<Spanned<String>>,
}

pub(super) fn check_selling(
    c: &mut Checker,
    payments: RawPayments,
    pickup: RawPickup,
    shop: RawShop,
    offline: RawKioskOffline,
    skus: &[&str],
) -> Selling {
    let d = Selling::default();
    let methods = |c: &mut Checker, list: &[Spanned<String>], what: &str| {
        let mut out: Vec<PaymentMethod> = Vec::new();
        for v in list {
            match PaymentMethod::parse(v.get_ref()) {
                Some(m) if !out.contains(&m) => out.push(m),
                Some(_) => c.at(v.span(), format!("{what} names `{}` twice", v.get_ref())),
                None => c.at(
                    v.span(),
                    format!(
                        "{what}: `{}` is not a payment method (card, cash, mobile, voucher, pay_at_pickup)",
                        v.get_ref()
                    ),
                ),
            }
        }
        out
    };
    let taken = match &payments.methods {
        Some(list) if list.is_empty() => {
            c.at_opt(None, "payments.methods must name at least one way to pay");
            d.methods.clone()
        }
        Some(list) => methods(c, list, "payments.methods"),
        None => d.methods.clone(),
    };
    // A phone cannot prove it paid: it may only order ahead and pay at pickup (or, with
    // `phones = []`, not order at all).
    let phones = match &payments.phones {
        Some(list) => {
            let phones = methods(c, list, "payments.phones");
            for (m, v) in phones.iter().zip(list) {
                if m.paid_up_front() {
                    c.at(v.span(), format!("payments.phones names `{}`: a phone cannot prove it paid, so phones may only use pay_at_pickup", m.as_str()));
                } else if !taken.contains(m) {
                    c.at(
                        v.span(),
                        format!(
                            "payments.phones names `{}`, which payments.methods does not take",
                            m.as_str()
                        ),
                    );
                }
            }
            phones
        }
        None => d.phones.iter().copied().filter(|m| taken.contains(m)).collect(),
    };
    let pickup_prefix = match &pickup.prefix {
        Some(p) => {
            let text = p.get_ref();
            let ok = (1..=3).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_uppercase());
            if !ok {
                c.at(
                    p.span(),
                    format!("pickup.prefix `{text}` must be 1 to 3 capital letters (A, B, BAR)"),
                );
            }
            text.clone()
        }
        None => d.pickup_prefix.clone(),
    };
    let colour = |c: &mut Checker, v: &Option<Spanned<String>>, what: &str, default: &str| match v {
        Some(v) => {
            let text = v.get_ref();
            let ok = text.len() == 7
                && text.starts_with('#')
                && text[1..].bytes().all(|b| b.is_ascii_hexdigit());
            if !ok {
                c.at(v.span(), format!("{what} `{text}` must be a colour such as #0b3d5c"));
            }
            text.to_ascii_lowercase()
        }
        None => default.to_owned(),
    };
    let theme_color = colour(c, &shop.theme_color, "shop.theme_color", &d.shop.theme_color);
    let background_color =
        colour(c, &shop.background_color, "shop.background_color", &d.shop.background_color);
    let attract_after = shop.attract_after.as_ref().map_or(d.shop.attract_after, |v| {
        c.duration(
            v,
            "shop.attract_after",
            SignedDuration::from_secs(10),
            SignedDuration::from_secs(3600),
        )
    });
    let low_stock_at = shop
        .low_stock_at
        .as_ref()
        .map_or(d.shop.low_stock_at, |v| c.count(v, "shop.low_stock_at", 0, 100_000));
    let favourites = shop.favourites.as_deref().unwrap_or_default();
    if favourites.len() > MAX_FAVOURITES {
        c.at(
            favourites[MAX_FAVOURITES].span(),
            format!("shop.favourites names more than {MAX_FAVOURITES} items"),
        );
    }
    for f in favourites {
        if !skus.contains(&f.get_ref().as_str()) {
            c.at(
                f.span(),
                format!("shop.favourites names `{}`, which is not in the catalogue", f.get_ref()),
            );
        }
    }
    let kiosk_offline = check_kiosk_offline(c, offline, &taken, methods);
    Selling {
        methods: taken,
        phones,
        kiosk_offline,
        pickup_prefix,
        shop: ShopSettings {
            theme_color,
            background_color,
            attract_after,
            low_stock_at,
            favourites: favourites
                .iter()
                .take(MAX_FAVOURITES)
                .map(|f| f.get_ref().clone())
                .collect(),
        },
    }
}

fn check_kiosk_offline(
    c: &mut Checker,
    raw: RawKioskOffline,
    taken: &[PaymentMethod],
    methods: impl Fn(&mut Checker, &[Spanned<String>], &str) -> Vec<PaymentMethod>,
) -> KioskOffline {
    let d = KioskOffline::defaults(taken);
    let offline_methods = match &raw.methods {
        Some(list) => {
            let chosen = methods(c, list, "kiosk_offline.methods");
            for (m, v) in chosen.iter().zip(list) {
                if !matches!(m, PaymentMethod::Card | PaymentMethod::Cash) {
                    c.at(v.span(), format!("kiosk_offline.methods names `{}`: offline, a kiosk takes only card on the booth's terminal and cash", m.as_str()));
                } else if !taken.contains(m) {
                    c.at(v.span(), format!("kiosk_offline.methods names `{}`, which payments.methods does not take", m.as_str()));
                }
            }
            chosen
        }
        None => d.methods,
    };
    let max_order = raw
        .max_order
        .as_ref()
        .map_or(d.max_order, |v| c.amount(v, "kiosk_offline.max_order", 100_000_000));
    let max_total = raw
        .max_total
        .as_ref()
        .map_or(d.max_total, |v| c.amount(v, "kiosk_offline.max_total", 1_000_000_000));
    let max_orders = raw
        .max_orders
        .as_ref()
        .map_or(d.max_orders, |v| c.count(v, "kiosk_offline.max_orders", 0, 1000));
    let max_for = raw.max_for.as_ref().map_or(d.max_for, |v| {
        c.duration(v, "kiosk_offline.max_for", SignedDuration::ZERO, SignedDuration::from_hours(24))
    });
    KioskOffline { methods: offline_methods, max_order, max_total, max_orders, max_for }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    const EVENT: &str = "[event]\nid = \"e\"\nname = \"E\"\nstarts_at = 2026-12-01T09:00:00Z\nends_at = 2026-12-01T18:00:00Z\ntimezone = \"UTC\"\nttl = \"2d\"\ncurrency = \"EUR\"\n\n[[catalogue]]\nsku = \"COCOA\"\nname = \"Cocoa\"\nprice = 400\ncategory = \"drinks\"\n";

    #[test]
    fn a_booth_that_says_nothing_takes_every_method_and_phones_only_pay_at_pickup() {
        let m = parse(EVENT).expect("valid");
        assert_eq!(m.selling.methods, PaymentMethod::ALL.to_vec());
        assert_eq!(m.selling.phones, vec![PaymentMethod::PayAtPickup]);
        assert_eq!(m.selling.pickup_prefix, "A");
        let no_pickup = format!("{EVENT}\n[payments]\nmethods = [\"card\", \"cash\"]\n");
        assert!(
            parse(&no_pickup).expect("valid").selling.phones.is_empty(),
            "then phones order nothing"
        );
    }

    #[test]
    fn phones_may_be_held_to_paying_at_pickup() {
        let text = format!("{EVENT}\n[payments]\nmethods = [\"card\", \"cash\", \"pay_at_pickup\"]\nphones = [\"pay_at_pickup\"]\n[pickup]\nprefix = \"B\"\n[shop]\nfavourites = [\"COCOA\"]\nattract_after = \"45s\"\ntheme_color = \"#AA0000\"\n");
        let m = parse(&text).expect("valid");
        assert_eq!(m.selling.phones, vec![PaymentMethod::PayAtPickup]);
        assert_eq!(m.selling.pickup_prefix, "B");
        assert_eq!(m.selling.shop.favourites, vec!["COCOA".to_owned()]);
        assert_eq!(m.selling.shop.attract_after, SignedDuration::from_secs(45));
        assert_eq!(m.selling.shop.theme_color, "#aa0000");
    }

    #[test]
    fn every_mistake_is_named_at_its_value() {
        let text = format!("{EVENT}\n[payments]\nmethods = [\"card\", \"card\", \"bitcoin\"]\nphones = [\"cash\", \"pay_at_pickup\"]\n[pickup]\nprefix = \"a-1\"\n[shop]\nfavourites = [\"NOPE\"]\ntheme_color = \"blue\"\n");
        let problems: Vec<String> =
            parse(&text).expect_err("invalid").0.iter().map(|p| p.message.clone()).collect();
        let problems = problems.join("\n");
        for said in [
            "names `card` twice",
            "`bitcoin` is not a payment method",
            "payments.phones names `cash`: a phone cannot prove it paid",
            "payments.phones names `pay_at_pickup`, which payments.methods does not take",
            "pickup.prefix `a-1`",
            "shop.favourites names `NOPE`",
            "shop.theme_color `blue`",
        ] {
            assert!(problems.contains(said), "{said} missing from: {problems}");
        }
    }

    #[test]
    fn a_kiosk_offline_takes_card_and_cash_within_its_limits() {
        let d = parse(EVENT).expect("valid").selling.kiosk_offline;
        assert_eq!(d.methods, vec![PaymentMethod::Card, PaymentMethod::Cash]);
        assert_eq!((d.max_orders, d.max_for), (50, SignedDuration::from_hours(2)));
        let only_cash = format!("{EVENT}\n[payments]\nmethods = [\"cash\", \"pay_at_pickup\"]\n");
        let taken = parse(&only_cash).expect("valid").selling.kiosk_offline;
        assert_eq!(taken.methods, vec![PaymentMethod::Cash], "only what the booth takes");
        let set = format!("{EVENT}\n[kiosk_offline]\nmethods = [\"card\"]\nmax_order = 5000\nmax_total = 20000\nmax_orders = 10\nmax_for = \"30m\"\n");
        let k = parse(&set).expect("valid").selling.kiosk_offline;
        assert_eq!((k.max_order, k.max_total, k.max_orders), (5000, 20000, 10));
        assert_eq!(
            (k.methods, k.max_for),
            (vec![PaymentMethod::Card], SignedDuration::from_mins(30))
        );
        let bad = format!("{EVENT}\n[kiosk_offline]\nmethods = [\"mobile\"]\nmax_orders = 5000\nmax_for = \"3d\"\nmax_order = -1\n");
        let problems: Vec<String> =
            parse(&bad).expect_err("invalid").0.iter().map(|p| p.message.clone()).collect();
        let problems = problems.join("\n");
        for said in [
            "kiosk_offline.methods names `mobile`: offline, a kiosk takes only card",
            "kiosk_offline.max_orders must be between 0 and 1000",
            "kiosk_offline.max_for",
            "kiosk_offline.max_order must be between 0",
        ] {
            assert!(problems.contains(said), "{said} missing from: {problems}");
        }
    }
}
