//! Compiling a manifest's catalogue and promotions into a `PriceBook`.

use std::collections::HashMap;

use jiff::{civil::Weekday, tz::TimeZone, Timestamp};
use serde::{Deserialize, Serialize};

use crate::manifest::{Item, Manifest, PromotionKind, PromotionTarget, Selector, Stacking};
use crate::money::{self, Currency, Minor};

/// A selector resolved to catalogue indices.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) enum Matcher {
    /// Sorted item indices.
    Items(Vec<u32>),
    Category(u32),
}

impl Matcher {
    pub(super) fn matches(&self, item: u32, category: u32) -> bool {
        match self {
            Matcher::Items(items) => items.binary_search(&item).is_ok(),
            Matcher::Category(c) => *c == category,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) enum Effect {
    PercentOffItems(Matcher, u32),
    AmountOffItems(Matcher, Minor),
    PercentOffBasket(u32),
    AmountOffBasket(Minor),
    Bundle(Vec<(Matcher, u32)>, Minor),
    BuyXGetY { buy: (Matcher, u32), get: (Matcher, u32), percent: u32 },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Rule {
    pub id: String,
    pub name: String,
    pub reason: String,
    pub effect: Effect,
    pub exclusive: bool,
    /// Bit i set: tier i may use it. `u64::MAX` when the rule lists no tiers.
    pub tiers: u64,
    pub min_basket: Minor,
    pub cap: Option<Minor>,
    pub max_applications: u32,
    /// Half-open minute-of-week ranges (Monday 00:00 = 0), possibly wrapping.
    pub windows: Vec<(u32, u32)>,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
}

pub(super) const MINUTES_PER_WEEK: u32 = 7 * 24 * 60;

impl Rule {
    pub(super) fn in_time(&self, at: Timestamp, minute_of_week: u32) -> bool {
        if self.valid_from.is_some_and(|f| at < f) || self.valid_until.is_some_and(|u| at >= u) {
            return false;
        }
        self.windows.is_empty()
            || self.windows.iter().any(|&(start, len)| {
                (minute_of_week + MINUTES_PER_WEEK - start) % MINUTES_PER_WEEK < len
            })
    }
}

/// What a kiosk is told about a promotion.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromotionInfo {
    pub id: String,
    pub name: String,
    /// What it does, in words.
    pub description: String,
    pub stacking: Stacking,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<String>,
    /// The items it applies to (for a shop's badges); absent for a whole-basket one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skus: Option<Vec<String>>,
}

/// The SKUs a promotion's selectors pick out of `items`; `None` for the whole basket.
fn promotion_skus(kind: &PromotionKind, items: &[Item]) -> Option<Vec<String>> {
    let selectors: Vec<&Selector> = match kind {
        PromotionKind::PercentOff { target: PromotionTarget::Items(s), .. }
        | PromotionKind::AmountOff { target: PromotionTarget::Items(s), .. } => vec![s],
        PromotionKind::PercentOff { .. } | PromotionKind::AmountOff { .. } => return None,
        PromotionKind::Bundle { components, .. } => components.iter().map(|(s, _)| s).collect(),
        PromotionKind::BuyXGetY { buy, get, .. } => vec![&buy.0, &get.0],
    };
    let picked = |i: &Item| {
        selectors.iter().any(|s| match s {
            Selector::Skus(skus) => skus.contains(&i.sku),
            Selector::Category(c) => &i.category == c,
        })
    };
    Some(items.iter().filter(|i| picked(i)).map(|i| i.sku.clone()).collect())
}

/// The compiled catalogue and promotions of one manifest version.
#[derive(Debug)]
pub struct PriceBook {
    pub(super) items: Vec<Item>,
    pub(super) item_category: Vec<u32>,
    pub(super) by_sku: HashMap<String, u32>,
    pub(super) rules: Vec<Rule>,
    pub(super) tiers: Vec<String>,
    pub(super) currency: Currency,
    pub(super) timezone: TimeZone,
    /// The IANA name of `timezone` (what a price book document carries).
    pub(super) timezone_name: String,
    pub(super) max_lines: u32,
    pub(super) max_qty: u32,
    pub(super) max_units: u32,
    pub(super) promotions: Vec<PromotionInfo>,
}

impl PriceBook {
    /// Compiles a manifest. Cannot fail: the manifest is already checked.
    pub fn compile(manifest: &Manifest) -> PriceBook {
        let items = manifest.catalogue.clone();
        let by_sku: HashMap<String, u32> =
            items.iter().enumerate().map(|(i, it)| (it.sku.clone(), i as u32)).collect();
        let (item_category, categories) = categories_of(&items);
        let currency = manifest.event.currency;
        let matcher = |s: &Selector| match s {
            Selector::Skus(skus) => {
                let mut idx: Vec<u32> =
                    skus.iter().filter_map(|s| by_sku.get(s).copied()).collect();
                idx.sort_unstable();
                idx.dedup();
                Matcher::Items(idx)
            }
            // An unknown category cannot reach here; u32::MAX matches nothing.
            Selector::Category(c) => {
                Matcher::Category(categories.get(c.as_str()).copied().unwrap_or(u32::MAX))
            }
        };
        let tiers = manifest.pricing.tiers.clone();
        let mut described: Vec<String> =
            manifest.promotions.iter().map(|p| describe(&p.kind, currency)).collect();
        let mut order: Vec<usize> = (0..manifest.promotions.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(manifest.promotions[i].priority));
        let rules = order
            .iter()
            .map(|&i| {
                let p = &manifest.promotions[i];
                let effect = match &p.kind {
                    PromotionKind::PercentOff { target: PromotionTarget::Items(s), percent } => {
                        Effect::PercentOffItems(matcher(s), *percent)
                    }
                    PromotionKind::PercentOff { target: PromotionTarget::Basket, percent } => {
                        Effect::PercentOffBasket(*percent)
                    }
                    PromotionKind::AmountOff { target: PromotionTarget::Items(s), amount } => {
                        Effect::AmountOffItems(matcher(s), *amount)
                    }
                    PromotionKind::AmountOff { target: PromotionTarget::Basket, amount } => {
                        Effect::AmountOffBasket(*amount)
                    }
                    PromotionKind::Bundle { components, price } => Effect::Bundle(
                        components.iter().map(|(s, q)| (matcher(s), *q)).collect(),
                        *price,
                    ),
                    PromotionKind::BuyXGetY { buy, get, percent } => Effect::BuyXGetY {
                        buy: (matcher(&buy.0), buy.1),
                        get: (matcher(&get.0), get.1),
                        percent: *percent,
                    },
                };
                let tier_mask = if p.tiers.is_empty() {
                    u64::MAX
                } else {
                    p.tiers
                        .iter()
                        .filter_map(|t| tiers.iter().position(|x| x == t))
                        .fold(0u64, |m, i| m | (1 << i))
                };
                let windows = p
                    .windows
                    .iter()
                    .flat_map(|w| {
                        let len = (u32::from(w.to) + 1440 - u32::from(w.from)) % 1440;
                        let len = if len == 0 { 1440 } else { len };
                        w.days.iter().map(move |d| (day_index(*d) * 1440 + u32::from(w.from), len))
                    })
                    .collect();
                Rule {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    reason: described[i].clone(),
                    effect,
                    exclusive: p.stacking == Stacking::Exclusive,
                    tiers: tier_mask,
                    min_basket: p.min_basket.unwrap_or(0),
                    cap: p.cap,
                    max_applications: p.max_applications.unwrap_or(u32::MAX),
                    windows,
                    valid_from: p.valid_from,
                    valid_until: p.valid_until,
                }
            })
            .collect();
        let promotions = manifest
            .promotions
            .iter()
            .zip(described.iter_mut())
            .map(|(p, description)| PromotionInfo {
                id: p.id.clone(),
                name: p.name.clone(),
                description: std::mem::take(description),
                stacking: p.stacking,
                tiers: p.tiers.clone(),
                skus: promotion_skus(&p.kind, &manifest.catalogue),
            })
            .collect();
        PriceBook {
            items,
            item_category,
            by_sku,
            rules,
            tiers,
            currency,
            timezone: manifest.event.timezone.clone(),
            timezone_name: manifest.event.timezone_name.clone(),
            max_lines: manifest.pricing.max_lines,
            max_qty: manifest.pricing.max_qty_per_line,
            max_units: manifest.pricing.max_units,
            promotions,
        }
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn promotions(&self) -> &[PromotionInfo] {
        &self.promotions
    }

    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn item(&self, sku: &str) -> Option<&Item> {
        self.by_sku.get(sku).map(|&i| &self.items[i as usize])
    }
}

/// Each item's category index (categories numbered in order of first appearance), and
/// the numbering.
pub(super) fn categories_of(items: &[Item]) -> (Vec<u32>, HashMap<&str, u32>) {
    let mut categories: HashMap<&str, u32> = HashMap::new();
    let item_category = items
        .iter()
        .map(|it| {
            let next = categories.len() as u32;
            *categories.entry(it.category.as_str()).or_insert(next)
        })
        .collect();
    (item_category, categories)
}

fn day_index(d: Weekday) -> u32 {
    d.to_monday_zero_offset() as u32
}

/// What a promotion does, in words: written once per promotion at compile time, into
/// one string (a 1,000-rule manifest's cold start counts every allocation).
fn describe(kind: &PromotionKind, currency: Currency) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(48);
    // Writing to a String cannot fail.
    let _ = match kind {
        PromotionKind::PercentOff { target: PromotionTarget::Basket, percent } => {
            write!(out, "{percent}% off the basket")
        }
        PromotionKind::PercentOff { target: PromotionTarget::Items(s), percent } => {
            let _ = write!(out, "{percent}% off ");
            selector(&mut out, s)
        }
        PromotionKind::AmountOff { target: PromotionTarget::Basket, amount } => {
            write!(out, "{} off the basket", money::display(*amount, currency))
        }
        PromotionKind::AmountOff { target: PromotionTarget::Items(s), amount } => {
            let _ = write!(out, "{} off each of ", money::display(*amount, currency));
            selector(&mut out, s)
        }
        PromotionKind::Bundle { components, price } => {
            for (i, (s, q)) in components.iter().enumerate() {
                let _ = write!(out, "{}{q} × ", if i == 0 { "" } else { " + " });
                let _ = selector(&mut out, s);
            }
            write!(out, " for {}", money::display(*price, currency))
        }
        PromotionKind::BuyXGetY { buy, get, percent } => {
            let _ = write!(out, "buy {} of ", buy.1);
            let _ = selector(&mut out, &buy.0);
            let _ = write!(out, ", get {} of ", get.1);
            let _ = selector(&mut out, &get.0);
            match percent {
                100 => write!(out, " free"),
                _ => write!(out, " {percent}% off"),
            }
        }
    };
    out
}

fn selector(out: &mut String, s: &Selector) -> std::fmt::Result {
    match s {
        Selector::Skus(skus) => {
            for (i, sku) in skus.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(sku);
            }
            Ok(())
        }
        Selector::Category(c) => {
            out.push_str("category ");
            out.push_str(c);
            Ok(())
        }
    }
}
