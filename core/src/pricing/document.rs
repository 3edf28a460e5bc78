//! A compiled price book as a document: the exact text an enrolled kiosk prices with
//! while it cannot reach the node, named by its SHA-256 (the *digest*).
//!
//! Owns: the document's format and its check on loading. Never: holds anything that is
//! not needed to price (no tier codes, no secrets: a kiosk's storage is not private),
//! or trusts a document's indices without checking them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::book::{categories_of, Effect, Matcher, PriceBook, PromotionInfo, Rule};
use crate::manifest::Item;
use crate::money::Currency;

/// The document format; bumped when its meaning changes.
pub const FORMAT: u32 = 1;

/// Largest document loaded (a 1,000-rule manifest is about 400 kB).
pub const MAX_DOCUMENT: usize = 4 << 20;

/// Why a document cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("the price book is {0} bytes; at most {MAX_DOCUMENT} are allowed")]
    TooLarge(usize),
    #[error("the price book is not a price book document: {0}")]
    Malformed(String),
    #[error("the price book is format {0}; this engine reads format {FORMAT}")]
    Format(u32),
    #[error("the price book's time zone `{0}` is not known")]
    TimeZone(String),
    #[error("the price book is inconsistent: {0}")]
    Inconsistent(&'static str),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    format: u32,
    currency: Currency,
    timezone: String,
    items: Vec<Item>,
    tiers: Vec<String>,
    rules: Vec<Rule>,
    max_lines: u32,
    max_qty: u32,
    max_units: u32,
    promotions: Vec<PromotionInfo>,
}

/// The SHA-256 of a document, in lower-case hex: its name.
pub fn digest(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

impl PriceBook {
    /// This book as a document (the same book always gives the same text).
    pub fn document(&self) -> String {
        let doc = Document {
            format: FORMAT,
            currency: self.currency,
            timezone: self.timezone_name.clone(),
            items: self.items.clone(),
            tiers: self.tiers.clone(),
            rules: self.rules.clone(),
            max_lines: self.max_lines,
            max_qty: self.max_qty,
            max_units: self.max_units,
            promotions: self.promotions.clone(),
        };
        serde_json::to_string(&doc).expect("a price book serializes")
    }

    /// Loads a document written by [`PriceBook::document`], checking every index in it,
    /// so that pricing with it cannot fail on anything but the basket.
    pub fn from_document(text: &str) -> Result<PriceBook, DocumentError> {
        if text.len() > MAX_DOCUMENT {
            return Err(DocumentError::TooLarge(text.len()));
        }
        let doc: Document =
            serde_json::from_str(text).map_err(|e| DocumentError::Malformed(e.to_string()))?;
        if doc.format != FORMAT {
            return Err(DocumentError::Format(doc.format));
        }
        let timezone = jiff::tz::TimeZone::get(&doc.timezone)
            .map_err(|_| DocumentError::TimeZone(doc.timezone.clone()))?;
        if doc.tiers.len() > 64 {
            return Err(DocumentError::Inconsistent("more than 64 tiers"));
        }
        if doc.items.len() > u32::MAX as usize / 2 {
            return Err(DocumentError::Inconsistent("too many items"));
        }
        if doc.items.iter().any(|i| i.currency != doc.currency || i.price < 0) {
            return Err(DocumentError::Inconsistent(
                "an item has another currency or a negative price",
            ));
        }
        let n = doc.items.len() as u32;
        let known = |m: &Matcher| match m {
            Matcher::Items(idx) => {
                idx.iter().all(|&i| i < n) && idx.windows(2).all(|w| w[0] < w[1])
            }
            Matcher::Category(_) => true,
        };
        let rules_ok = doc.rules.iter().all(|r| {
            let effect_ok = match &r.effect {
                Effect::PercentOffItems(m, p) => known(m) && *p <= 100,
                Effect::AmountOffItems(m, a) => known(m) && *a >= 0,
                Effect::PercentOffBasket(p) => *p <= 100,
                Effect::AmountOffBasket(a) => *a >= 0,
                Effect::Bundle(parts, price) => {
                    *price >= 0
                        && !parts.is_empty()
                        && parts.iter().all(|(m, q)| known(m) && *q > 0)
                }
                Effect::BuyXGetY { buy, get, percent } => {
                    known(&buy.0) && known(&get.0) && buy.1 > 0 && get.1 > 0 && *percent <= 100
                }
            };
            effect_ok
                && r.min_basket >= 0
                && r.cap.is_none_or(|c| c >= 0)
                && r.windows.iter().all(|&(start, len)| {
                    start < super::book::MINUTES_PER_WEEK && len > 0 && len <= 1440
                })
        });
        if !rules_ok {
            return Err(DocumentError::Inconsistent(
                "a promotion refers to something not in the book",
            ));
        }
        let (item_category, _) = categories_of(&doc.items);
        let by_sku =
            doc.items.iter().enumerate().map(|(i, it)| (it.sku.clone(), i as u32)).collect();
        Ok(PriceBook {
            items: doc.items,
            item_category,
            by_sku,
            rules: doc.rules,
            tiers: doc.tiers,
            currency: doc.currency,
            timezone,
            timezone_name: doc.timezone,
            max_lines: doc.max_lines,
            max_qty: doc.max_qty,
            max_units: doc.max_units,
            promotions: doc.promotions,
        })
    }
}
