//! The order queue: capture an order durably, answer retries the same way, and hold
//! every order in an explicit state until it is synced upstream.
//!
//! Owns: the `orders` and `stock_sold` tables. An order's life is
//! `captured → syncing → synced`, or `quarantined` with a reason; the sync worker only
//! ever takes `captured` orders that are due, so a quarantined (poisonous) order never
//! blocks the ones behind it.
//!
//! Invariants:
//! - An order is acknowledged only after the transaction holding it has committed
//!   (WAL, synchronous = FULL). Many concurrent orders share one commit (`queue`).
//! - One `Idempotency-Key`, one order: a retry with the same body gets the first
//!   response verbatim; another body gets `KeyConflict`.
//! - One quote token, one order (`quote_id` is unique).
//! - Tracked stock never goes below zero: the check and the decrement are in the same
//!   transaction as the order.

mod closing;
mod counter;
mod queue;
mod states;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use boothcloud_core::money::Minor;
use boothcloud_core::signing::quote::{QuoteClaims, TokenLine};

pub use counter::{
    CounterError, CounterOrder, Fulfilment, NamedLine, OpenView, PickupBoard, Receipt, Refund,
    MAX_REASON,
};
pub use queue::{OrderQueue, QueueWriter, ReservedRange};
pub use states::SyncState;

/// Longest `Idempotency-Key` accepted.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("this Idempotency-Key was already used for a different order")]
    KeyConflict,
    #[error("this quote was already used for another order; ask for a new quote")]
    QuoteUsed,
    #[error("only {available} of `{sku}` left in stock")]
    OutOfStock { sku: String, available: u32 },
    #[error("the order could not be stored ({0}); nothing was charged — retry with the same Idempotency-Key")]
    Unavailable(String),
    #[error("no such order")]
    NotFound,
    #[error("{0} orders are neither synced upstream nor exported; wiping now would lose them")]
    WouldLose(i64),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

pub use boothcloud_core::manifest::PaymentMethod;

/// Contact details a customer chose to leave (for a receipt). Personal data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl Contact {
    /// Whether the details look like an e-mail address and a phone number; the problem
    /// in words otherwise.
    pub fn check(&self) -> Result<(), &'static str> {
        if let Some(email) = &self.email {
            let ok = email.len() <= 254
                && email.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
                })
                && !email.chars().any(|ch| ch.is_whitespace() || ch.is_control());
            if !ok {
                return Err("customer.email is not an e-mail address");
            }
        }
        if let Some(phone) = &self.phone {
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            let ok = phone.len() <= 32
                && digits >= 6
                && phone.chars().all(|ch| ch.is_ascii_digit() || " +-()./".contains(ch));
            if !ok {
                return Err("customer.phone is not a phone number");
            }
        }
        Ok(())
    }
}

/// An order ready to be stored: the token is verified, the request hashed.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub idempotency_key: String,
    pub request_hash: [u8; 32],
    pub claims: QuoteClaims,
    pub payment: PaymentMethod,
    pub customer: Option<Contact>,
    pub now: Timestamp,
    /// For each line, the SKU's stock in the manifest now in force (`None`: not tracked).
    pub stock: Vec<Option<u32>>,
    /// The card terminal slip's reference (card only).
    pub payment_reference: Option<String>,
    /// Cash handed over (cash only; at least the total).
    pub tendered: Option<Minor>,
    /// The staff member who rang it up (`lead` for the booth lead); `None` for a kiosk
    /// or a phone.
    pub sold_by: Option<String>,
    /// The booth's pickup number prefix (`A` gives `A-001`).
    pub pickup_prefix: String,
    /// Set for an order an enrolled kiosk took while it could not reach the node.
    pub offline: Option<OfflineTaken>,
}

/// What the node keeps of an order taken offline by a kiosk.
#[derive(Debug, Clone)]
pub struct OfflineTaken {
    pub kiosk: String,
    /// The pickup number the kiosk handed out, from its reserved range; `None` when it
    /// was not reserved for the kiosk (the order then gets the next number, and
    /// `attention` says so).
    pub pickup: Option<i64>,
    /// The digest of the price book it priced with.
    pub price_book: String,
    pub taken_at: Timestamp,
    /// Why staff should look at it, in words (a price that differs); `None` when all is
    /// as the node would have done it.
    pub attention: Option<String>,
}

/// The answer to a successful `POST /api/v1/orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderReceipt {
    pub order_id: String,
    pub status: SyncState,
    pub currency: String,
    pub lines: Vec<TokenLine>,
    pub subtotal: Minor,
    pub discount: Minor,
    pub total: Minor,
    pub payment: PaymentMethod,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Called out at the counter and shown on the pickup board (`A-042`); never reused
    /// within the event.
    pub pickup_number: String,
    /// The public receipt's id: unguessable, no contact details behind it.
    pub receipt_id: String,
    /// The digital receipt, which follows the order live (`/r/<receipt_id>`).
    pub receipt_url: String,
    /// Cash handed over minus the total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_due: Option<Minor>,
    /// The card terminal slip's reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_reference: Option<String>,
}

/// How a capture ended.
#[derive(Debug, Clone)]
pub enum Captured {
    /// Stored now.
    New(String),
    /// The same key and body were seen before: the first response, verbatim.
    Replayed(String),
}

/// An order as staff and kiosks see it. Contact details are included only in the
/// operator's view.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    pub order_id: String,
    pub status: SyncState,
    /// Why an order is quarantined or was retried.
    pub status_reason: Option<String>,
    pub currency: String,
    pub lines: Vec<TokenLine>,
    pub subtotal: Minor,
    pub discount: Minor,
    pub total: Minor,
    pub payment: String,
    pub sync_attempts: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub synced_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<Contact>,
    /// Where the order is at the counter.
    pub fulfilment: Fulfilment,
    /// `None` for orders taken before pickup numbers existed.
    pub pickup_number: Option<String>,
    /// Whether it is paid (a pay-at-pickup order is not until it is collected).
    pub paid: bool,
}

/// Orders per state, for the dashboard and the status API.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct QueueCounts {
    pub captured: i64,
    pub syncing: i64,
    pub synced: i64,
    pub quarantined: i64,
    /// Sum of totals of every order not voided, less refunds.
    pub revenue: Minor,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub oldest_unsynced: Option<Timestamp>,
}

pub(crate) fn millis(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub(crate) fn from_millis(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests;
