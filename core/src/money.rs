//! Money in integer minor units, and the one rounding rule the price engine uses.
//!
//! Owns: the `Minor` amount type, currency codes, and `percent_of` (the only place a
//! percentage becomes money). Never: floating point. A price is an `i64` count of the
//! currency's minor unit (cents for EUR), so sums are exact and a total can be checked
//! by adding its lines.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The largest unit price the manifest accepts (ten million in major units at two
/// decimals). With the basket limits this keeps every total far inside `i64`.
pub const MAX_UNIT_PRICE: i64 = 1_000_000_000;

/// An amount of money in minor units of the event's currency.
pub type Minor = i64;

/// `percent`% of `amount`, rounded half up to the minor unit.
///
/// This is the documented rounding rule: a percentage discount is computed on the
/// amount it applies to and rounded half up (0.5 of a minor unit goes to the
/// customer). `amount` is never negative and `percent` is in 0..=100, so the result is
/// in `0..=amount`.
pub fn percent_of(amount: Minor, percent: u32) -> Minor {
    debug_assert!(amount >= 0 && percent <= 100);
    let scaled = i128::from(amount) * i128::from(percent);
    // Half up: add 50 before the integer division by 100.
    ((scaled + 50) / 100) as Minor
}

/// An ISO 4217 currency code: three upper-case ASCII letters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(text: &str) -> Option<Currency> {
        let bytes = text.as_bytes();
        if bytes.len() == 3 && bytes.iter().all(u8::is_ascii_uppercase) {
            Some(Currency([bytes[0], bytes[1], bytes[2]]))
        } else {
            None
        }
    }

    pub fn as_str(&self) -> &str {
        // Constructed only from ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Currency::parse(&value)
            .ok_or_else(|| format!("`{value}` is not a three-letter currency code"))
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> String {
        value.as_str().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

/// Formats minor units for people ("12.50 EUR"), assuming two decimals; used only in
/// human-readable reasons, never in amounts a client computes with.
pub fn display(amount: Minor, currency: Currency) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounds_half_up() {
        assert_eq!(percent_of(350, 15), 53); // 52.5 -> 53
        assert_eq!(percent_of(333, 10), 33); // 33.3 -> 33
        assert_eq!(percent_of(335, 10), 34); // 33.5 -> 34
        assert_eq!(percent_of(999, 100), 999);
        assert_eq!(percent_of(999, 0), 0);
        assert_eq!(percent_of(MAX_UNIT_PRICE * 1000, 33), 330_000_000_000);
    }

    #[test]
    fn currency_codes_are_three_capitals() {
        assert_eq!(Currency::parse("EUR").map(|c| c.to_string()), Some("EUR".into()));
        assert!(Currency::parse("eur").is_none());
        assert!(Currency::parse("EURO").is_none());
        assert!(Currency::parse("€").is_none());
    }

    #[test]
    fn display_is_for_people() {
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(display(1250, eur), "12.50 EUR");
        assert_eq!(display(5, eur), "0.05 EUR");
    }
}
