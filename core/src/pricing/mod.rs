//! The price engine: the catalogue and promotion rules, compiled once per manifest into
//! a `PriceBook` that prices a basket in microseconds.
//!
//! Owns: the pricing rules and their documented semantics, below. Never: reads the
//! clock (the time a basket is priced at is passed in), allocates per rule per quote,
//! or uses floating point.
//!
//! # How a basket is priced
//! 1. Lines with the same SKU are merged; the basket is expanded into units, each with
//!    its list price and its current price.
//! 2. A promotion is *active* if the quote's time is inside its `valid_from`/`valid_until`
//!    and one of its weekly windows (event time zone), the quote's tier is one of its
//!    tiers (if it lists any), and the basket's subtotal at list prices reaches its
//!    `min_basket`.
//! 3. Active promotions run in priority order (higher first; ties keep manifest order).
//!    An **exclusive** promotion may only use units no promotion has discounted yet and
//!    locks the units it uses; a **stackable** one may use any unit not locked, and works
//!    on the price earlier promotions left.
//!    - `percent_off`/`amount_off` on items: each matching unit, most expensive first,
//!      up to `max_applications` units.
//!    - `percent_off`/`amount_off` on the basket: once, on the current prices of all
//!      usable units; the discount is spread over those units in proportion to their
//!      price (largest remainder), so every line shows its share.
//!    - `bundle`: as many complete sets as possible (up to `max_applications`), taking
//!      the most expensive usable units for each component (components with fewer
//!      qualifying units are filled first), while the set costs more than the bundle
//!      price; the difference is spread over the set's units.
//!    - `buy_x_get_y`: repeatedly, the most expensive `x` qualifying units are bought and
//!      the cheapest `y` other qualifying units get `percent` off (100 = free).
//! 4. A promotion's `cap` bounds what it takes off the order; the application that would
//!    cross it is reduced to meet it exactly.
//! 5. Rounding: percentages are computed per unit (per basket for basket promotions) and
//!    rounded half up to the minor unit (`money::percent_of`). No unit ever goes below 0.

mod book;
pub mod document;
mod evaluate;

pub use book::{PriceBook, PromotionInfo};
pub use document::DocumentError;
pub use evaluate::{AppliedDiscount, Basket, BasketLine, PricedBasket, PricedLine};

/// Why a basket cannot be priced. Each names the problem for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("the basket is empty")]
    EmptyBasket,
    #[error("the basket has {lines} lines; at most {max} are allowed")]
    TooManyLines { lines: usize, max: u32 },
    #[error("unknown sku `{0}`")]
    UnknownSku(String),
    #[error("quantity {qty} for `{sku}` is out of range (1 to {max})")]
    BadQuantity { sku: String, qty: i64, max: u32 },
    #[error("the basket has {units} units; at most {max} are allowed")]
    TooManyUnits { units: u64, max: u32 },
    #[error("unknown customer tier `{0}`")]
    UnknownTier(String),
}

/// Whether a customer who names `tier` and brings `code` may be priced in it: only with
/// the code the manifest sets for that tier (compared in constant time). A tier with no
/// code is for staff only. Unknown tiers are the price engine's to refuse.
pub fn code_opens_tier(
    settings: &crate::manifest::PricingSettings,
    tier: &str,
    code: Option<&str>,
) -> bool {
    use subtle::ConstantTimeEq;
    match (settings.tier_codes.get(tier), code) {
        (Some(expected), Some(given)) => expected.as_bytes().ct_eq(given.as_bytes()).into(),
        _ => false,
    }
}

#[cfg(any(test, feature = "corpus"))]
pub mod corpus;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
