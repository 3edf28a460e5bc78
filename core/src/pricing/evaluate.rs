//! Pricing one basket against a `PriceBook` at a given instant.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::book::{Effect, Matcher, PriceBook, Rule};
use super::PricingError;
use crate::money::{percent_of, Currency, Minor};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BasketLine {
    pub sku: String,
    /// Whole units; 1 up to the manifest's `max_qty_per_line`.
    pub qty: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Basket {
    pub lines: Vec<BasketLine>,
    /// A customer tier declared in the manifest, or none.
    #[serde(default)]
    pub tier: Option<String>,
}

/// One promotion's effect on a line (or on the whole basket).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppliedDiscount {
    pub promotion: String,
    pub name: String,
    /// What the promotion does, in words.
    pub reason: String,
    /// Minor units taken off.
    pub amount: Minor,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PricedLine {
    pub sku: String,
    pub name: String,
    pub qty: u32,
    pub unit_price: Minor,
    /// `unit_price × qty`.
    pub subtotal: Minor,
    pub discount: Minor,
    /// `subtotal − discount`.
    pub total: Minor,
    pub discounts: Vec<AppliedDiscount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PricedBasket {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "EUR"))]
    pub currency: Currency,
    pub lines: Vec<PricedLine>,
    /// Each promotion that applied, with what it took off the whole basket.
    pub discounts: Vec<AppliedDiscount>,
    pub subtotal: Minor,
    pub discount: Minor,
    pub total: Minor,
    pub tier: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    Stacked,
    Locked,
}

#[derive(Debug, Clone)]
struct Unit {
    line: usize,
    item: u32,
    category: u32,
    price: Minor,
    state: State,
}

impl Unit {
    fn usable(&self, exclusive: bool) -> bool {
        if exclusive {
            self.state == State::Free
        } else {
            self.state != State::Locked
        }
    }
}

/// The units of a basket being priced and the discounts recorded so far.
struct Work<'a> {
    units: Vec<Unit>,
    /// (line, rule index, amount)
    ledger: Vec<(usize, usize, Minor)>,
    rules: &'a [Rule],
}

impl Work<'_> {
    fn discount(&mut self, u: usize, rule: usize, amount: Minor) {
        if amount <= 0 {
            return;
        }
        let unit = &mut self.units[u];
        debug_assert!(amount <= unit.price);
        unit.price -= amount;
        unit.state =
            if self.rules[rule].exclusive { State::Locked } else { unit.state.max_stacked() };
        let line = unit.line;
        match self.ledger.iter_mut().find(|(l, r, _)| *l == line && *r == rule) {
            Some(entry) => entry.2 += amount,
            None => self.ledger.push((line, rule, amount)),
        }
    }

    fn lock(&mut self, u: usize) {
        self.units[u].state = State::Locked;
    }

    /// Usable units matching `m`, most expensive first (ties: catalogue order, then position).
    fn candidates(&self, exclusive: bool, m: Option<&Matcher>) -> Vec<usize> {
        let mut c: Vec<usize> = (0..self.units.len())
            .filter(|&i| {
                let u = &self.units[i];
                u.usable(exclusive)
                    && u.price > 0
                    && m.is_none_or(|m| m.matches(u.item, u.category))
            })
            .collect();
        c.sort_by_key(|&i| (std::cmp::Reverse(self.units[i].price), self.units[i].item, i));
        c
    }

    /// Spreads `amount` over `set` in proportion to each unit's price (largest remainder).
    fn spread(&mut self, set: &[usize], rule: usize, amount: Minor) {
        let base: i128 = set.iter().map(|&u| i128::from(self.units[u].price)).sum();
        if base <= 0 || amount <= 0 {
            return;
        }
        let amount = i128::from(amount);
        let mut shares: Vec<(usize, Minor, i128)> = set
            .iter()
            .map(|&u| {
                let scaled = amount * i128::from(self.units[u].price);
                (u, (scaled / base) as Minor, scaled % base)
            })
            .collect();
        let given: i128 = shares.iter().map(|s| i128::from(s.1)).sum();
        let mut left = (amount - given) as usize;
        let mut order: Vec<usize> = (0..shares.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(shares[i].2));
        for i in order {
            if left == 0 {
                break;
            }
            if shares[i].2 > 0 {
                shares[i].1 += 1;
                left -= 1;
            }
        }
        for (u, share, _) in shares {
            self.discount(u, rule, share);
        }
    }
}

impl State {
    fn max_stacked(self) -> State {
        if self == State::Locked {
            State::Locked
        } else {
            State::Stacked
        }
    }
}

impl PriceBook {
    /// Prices `basket` as of `at`.
    pub fn price(&self, basket: &Basket, at: Timestamp) -> Result<PricedBasket, PricingError> {
        if basket.lines.is_empty() {
            return Err(PricingError::EmptyBasket);
        }
        if basket.lines.len() > self.max_lines as usize {
            return Err(PricingError::TooManyLines {
                lines: basket.lines.len(),
                max: self.max_lines,
            });
        }
        let tier_bit = match &basket.tier {
            None => None,
            Some(t) => match self.tiers.iter().position(|x| x == t) {
                Some(i) => Some(1u64 << i),
                None => return Err(PricingError::UnknownTier(t.clone())),
            },
        };
        // Merge lines by SKU, keeping the order of first appearance.
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(basket.lines.len());
        let mut units_total: u64 = 0;
        for line in &basket.lines {
            let item = *self
                .by_sku
                .get(&line.sku)
                .ok_or_else(|| PricingError::UnknownSku(line.sku.clone()))?;
            if line.qty < 1 || line.qty > i64::from(self.max_qty) {
                return Err(PricingError::BadQuantity {
                    sku: line.sku.clone(),
                    qty: line.qty,
                    max: self.max_qty,
                });
            }
            let qty = line.qty as u32;
            units_total += u64::from(qty);
            match merged.iter_mut().find(|(i, _)| *i == item) {
                Some(m) => {
                    m.1 += qty;
                    if m.1 > self.max_qty {
                        return Err(PricingError::BadQuantity {
                            sku: line.sku.clone(),
                            qty: i64::from(m.1),
                            max: self.max_qty,
                        });
                    }
                }
                None => merged.push((item, qty)),
            }
        }
        if units_total > u64::from(self.max_units) {
            return Err(PricingError::TooManyUnits { units: units_total, max: self.max_units });
        }

        let mut units = Vec::with_capacity(units_total as usize);
        for (line, &(item, qty)) in merged.iter().enumerate() {
            let price = self.items[item as usize].price;
            let category = self.item_category[item as usize];
            units.extend((0..qty).map(|_| Unit {
                line,
                item,
                category,
                price,
                state: State::Free,
            }));
        }
        let subtotal: Minor = units.iter().map(|u| u.price).sum();

        let minute_of_week = {
            let local = at.to_zoned(self.timezone.clone());
            let day = local.weekday().to_monday_zero_offset() as u32;
            day * 1440 + local.hour() as u32 * 60 + local.minute() as u32
        };

        let mut work = Work { units, ledger: Vec::new(), rules: &self.rules };
        for (r, rule) in self.rules.iter().enumerate() {
            let tier_ok = match tier_bit {
                None => rule.tiers == u64::MAX,
                Some(bit) => rule.tiers & bit != 0,
            };
            if !tier_ok || subtotal < rule.min_basket || !rule.in_time(at, minute_of_week) {
                continue;
            }
            apply(&mut work, r, rule);
        }

        let Work { units, ledger, .. } = work;
        let mut lines: Vec<PricedLine> = merged
            .iter()
            .map(|&(item, qty)| {
                let it = &self.items[item as usize];
                PricedLine {
                    sku: it.sku.clone(),
                    name: it.name.clone(),
                    qty,
                    unit_price: it.price,
                    subtotal: it.price * Minor::from(qty),
                    discount: 0,
                    total: 0,
                    discounts: Vec::new(),
                }
            })
            .collect();
        for u in &units {
            lines[u.line].total += u.price;
        }
        let mut discounts: Vec<AppliedDiscount> = Vec::new();
        for &(line, r, amount) in &ledger {
            let rule = &self.rules[r];
            let applied = AppliedDiscount {
                promotion: rule.id.clone(),
                name: rule.name.clone(),
                reason: rule.reason.clone(),
                amount,
            };
            match discounts.iter_mut().find(|d| d.promotion == rule.id) {
                Some(d) => d.amount += amount,
                None => discounts.push(applied.clone()),
            }
            lines[line].discounts.push(applied);
        }
        for l in &mut lines {
            l.discount = l.subtotal - l.total;
        }
        let total: Minor = lines.iter().map(|l| l.total).sum();
        Ok(PricedBasket {
            currency: self.currency,
            lines,
            discounts,
            subtotal,
            discount: subtotal - total,
            total,
            tier: basket.tier.clone(),
        })
    }
}

fn apply(work: &mut Work, r: usize, rule: &Rule) {
    let mut cap_left = rule.cap.unwrap_or(Minor::MAX);
    let excl = rule.exclusive;
    match &rule.effect {
        Effect::PercentOffItems(m, _) | Effect::AmountOffItems(m, _) => {
            let mut applied = 0;
            for u in work.candidates(excl, Some(m)) {
                if applied >= rule.max_applications || cap_left == 0 {
                    break;
                }
                let price = work.units[u].price;
                let d = match rule.effect {
                    Effect::PercentOffItems(_, p) => percent_of(price, p),
                    Effect::AmountOffItems(_, a) => a.min(price),
                    _ => 0,
                }
                .min(cap_left);
                if d > 0 {
                    work.discount(u, r, d);
                    cap_left -= d;
                    applied += 1;
                }
            }
        }
        Effect::PercentOffBasket(_) | Effect::AmountOffBasket(_) => {
            let set = work.candidates(excl, None);
            let base: Minor = set.iter().map(|&u| work.units[u].price).sum();
            let d = match rule.effect {
                Effect::PercentOffBasket(p) => percent_of(base, p),
                Effect::AmountOffBasket(a) => a.min(base),
                _ => 0,
            }
            .min(cap_left);
            if d > 0 {
                work.spread(&set, r, d);
                if excl {
                    set.iter().for_each(|&u| work.lock(u));
                }
            }
        }
        Effect::Bundle(components, price) => {
            let mut used = vec![false; work.units.len()];
            // Fill the components with the fewest candidates first, so a broad component
            // (a whole category) does not take the only unit a narrow one could use.
            let mut comps: Vec<(Vec<usize>, u32)> =
                components.iter().map(|(m, q)| (work.candidates(excl, Some(m)), *q)).collect();
            comps.sort_by_key(|(c, _)| c.len());
            let mut applied = 0;
            'sets: while applied < rule.max_applications && cap_left > 0 {
                let mut set = Vec::new();
                for (cands, qty) in &comps {
                    let mut need = *qty;
                    for &u in cands {
                        if need == 0 {
                            break;
                        }
                        if !used[u] && !set.contains(&u) {
                            set.push(u);
                            need -= 1;
                        }
                    }
                    if need > 0 {
                        break 'sets;
                    }
                }
                let base: Minor = set.iter().map(|&u| work.units[u].price).sum();
                if base <= *price {
                    break;
                }
                let d = (base - price).min(cap_left);
                work.spread(&set, r, d);
                cap_left -= d;
                for &u in &set {
                    used[u] = true;
                    if excl {
                        work.lock(u);
                    }
                }
                applied += 1;
            }
        }
        Effect::BuyXGetY { buy, get, percent } => {
            let mut used = vec![false; work.units.len()];
            let all = work.candidates(excl, None);
            let mut applied = 0;
            while applied < rule.max_applications && cap_left > 0 {
                let bought: Vec<usize> = all
                    .iter()
                    .copied()
                    .filter(|&u| {
                        !used[u] && buy.0.matches(work.units[u].item, work.units[u].category)
                    })
                    .take(buy.1 as usize)
                    .collect();
                if bought.len() < buy.1 as usize {
                    break;
                }
                let got: Vec<usize> = all
                    .iter()
                    .rev()
                    .copied()
                    .filter(|&u| {
                        !used[u]
                            && !bought.contains(&u)
                            && get.0.matches(work.units[u].item, work.units[u].category)
                    })
                    .take(get.1 as usize)
                    .collect();
                if got.len() < get.1 as usize {
                    break;
                }
                let mut total = 0;
                for &u in &got {
                    let d = percent_of(work.units[u].price, *percent).min(cap_left);
                    work.discount(u, r, d);
                    cap_left -= d;
                    total += d;
                }
                if total == 0 {
                    break;
                }
                for &u in bought.iter().chain(&got) {
                    used[u] = true;
                    if excl {
                        work.lock(u);
                    }
                }
                applied += 1;
            }
        }
    }
}
