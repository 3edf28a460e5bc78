//! Checkout: a basket priced into a signed quote, and a quote turned into an order.
//!
//! Owns the use cases kiosks, phones and the counter run: [`Checkout::quote`] (closed
//! booths refuse, oversize baskets are refused before pricing, stock is checked, the
//! quote is sealed) and [`Checkout::place_order`] (the token checked, a retry answered
//! from the first response, offline limits applied, the order captured durably).
//! Never: speaks HTTP (the edge parses requests into these calls), prices by itself
//! (`boothcloud_core::pricing`), or stores anything but through the order queue.

use std::sync::Arc;

use boothcloud_core::clock::Clock;
use boothcloud_core::money::Minor;
use boothcloud_core::pricing::{Basket, BasketLine, PricedBasket, PricingError};
use boothcloud_core::signing::quote::{QuoteClaims, QuoteSigner, QuoteTokenError, MAX_TOKEN_BYTES};
use jiff::Timestamp;

use crate::live_manifest::LiveManifest;
use crate::orders::{Captured, Contact, NewOrder, OrderError, OrderQueue, PaymentMethod};
use crate::teardown::Teardown;
use crate::uplink::Uplink;

/// Longest SKU a basket line may name (checked before pricing).
pub const MAX_SKU_BYTES: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// The booth began its teardown: it takes no new quotes or orders.
    #[error("this booth has closed for the event")]
    Closed,
    #[error(transparent)]
    Pricing(#[from] PricingError),
    #[error(transparent)]
    Token(#[from] QuoteTokenError),
    #[error(transparent)]
    Order(#[from] OrderError),
    /// Offline, past a limit the manifest sets: the lead must approve it first.
    #[error("{0}")]
    OfflineLimit(String),
    #[error("{0}")]
    BadContact(&'static str),
    /// A way to pay this device may not choose (a phone naming card or cash).
    #[error("{0}")]
    PaymentNotAllowed(String),
    /// A payment detail that does not fit the method.
    #[error("{0}")]
    BadPayment(&'static str),
    /// A tier named without what opens it (its code, or a staff session).
    #[error(
        "the `{0}` prices need the tier's code (a crew badge, a member card) or a staff session"
    )]
    TierNotAllowed(String),
}

/// The customer tier a quote asks for, and what opens it: its code, or a staff member
/// signed in on the device asking.
#[derive(Debug, Clone)]
pub struct TierAsk {
    pub tier: String,
    pub code: Option<String>,
    pub by_staff: bool,
}

/// A priced basket, sealed.
#[derive(Debug, Clone)]
pub struct Quote {
    pub quote_id: String,
    pub priced: PricedBasket,
    pub manifest_version: u64,
    pub priced_at: Timestamp,
    pub expires_at: Timestamp,
    /// Pass this back to place the order before `expires_at`. Opaque; signed.
    pub token: String,
}

/// Who is placing an order, as the edge established it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seller {
    /// A device that is neither enrolled nor signed in: an attendee's phone.
    Phone,
    /// An enrolled kiosk.
    Kiosk,
    /// A staff member signed in on the device, by name.
    Staff(String),
    /// The booth lead (operator token).
    Lead,
}

/// Longest card terminal reference; most cash a customer may hand over (minor units).
pub const MAX_REFERENCE: usize = 40;
pub const MAX_TENDERED: Minor = 10_000_000;

/// One attempt at placing an order, as a client sent it.
#[derive(Debug, Clone)]
pub struct OrderAttempt {
    pub idempotency_key: String,
    /// SHA-256 of the request as sent: a retry must send the same.
    pub request_hash: [u8; 32],
    pub quote_token: String,
    pub payment: PaymentMethod,
    /// The card terminal slip's reference (card only).
    pub reference: Option<String>,
    /// Cash handed over (cash only).
    pub tendered: Option<Minor>,
    pub customer: Option<Contact>,
    pub seller: Seller,
}

/// What checkout uses: exactly these services.
#[derive(Clone)]
pub struct Checkout {
    pub manifest: Arc<LiveManifest>,
    pub clock: Arc<dyn Clock>,
    pub orders: OrderQueue,
    pub signer: QuoteSigner,
    pub uplink: Arc<Uplink>,
    pub teardown: Arc<Teardown>,
}

impl Checkout {
    /// Prices `lines` (for a tier, when its code opens it) with the promotions in force
    /// now and seals the quote.
    pub fn quote(
        &self,
        lines: Vec<BasketLine>,
        tier: Option<TierAsk>,
    ) -> Result<Quote, CheckoutError> {
        if self.teardown.is_closed() {
            return Err(CheckoutError::Closed);
        }
        let loaded = self.manifest.current();
        // Checked before pricing so an oversize request costs nothing to refuse.
        let max_lines = loaded.manifest.pricing.max_lines;
        if lines.len() > max_lines as usize {
            return Err(PricingError::TooManyLines { lines: lines.len(), max: max_lines }.into());
        }
        if let Some(line) = lines.iter().find(|l| l.sku.len() > MAX_SKU_BYTES) {
            let shown = &line.sku[..line.sku.floor_char_boundary(MAX_SKU_BYTES)];
            return Err(PricingError::UnknownSku(format!("{shown}…")).into());
        }
        let pricing = &loaded.manifest.pricing;
        // An unknown tier is the price engine's to refuse (422); a known one needs its code.
        if let Some(ask) = tier.as_ref().filter(|a| pricing.tiers.contains(&a.tier)) {
            if !ask.by_staff
                && !boothcloud_core::pricing::code_opens_tier(
                    pricing,
                    &ask.tier,
                    ask.code.as_deref(),
                )
            {
                return Err(CheckoutError::TierNotAllowed(ask.tier.clone()));
            }
        }
        let now = self.clock.now();
        let tier = tier.map(|a| a.tier);
        let priced = loaded.book.price(&Basket { lines, tier }, now)?;
        for line in &priced.lines {
            if let Some(stock) = loaded.book.item(&line.sku).and_then(|i| i.stock) {
                let available = self.orders.available(&line.sku, stock);
                if line.qty > available {
                    return Err(OrderError::OutOfStock { sku: line.sku.clone(), available }.into());
                }
            }
        }
        let expires_at = now.saturating_add(loaded.manifest.pricing.quote_ttl).unwrap_or(now);
        let quote_id = uuid::Uuid::new_v4().to_string();
        let claims = QuoteClaims::new(
            quote_id.clone(),
            loaded.manifest.event.id.clone(),
            &priced,
            loaded.version,
            now,
            expires_at,
        );
        let token = self.signer.sign(&claims);
        Ok(Quote {
            quote_id,
            priced,
            manifest_version: loaded.version,
            priced_at: now,
            expires_at,
            token,
        })
    }

    /// Places the order a quote token promises. Durable before it answers; a retry with
    /// the same key and request is answered with the first receipt (`Captured::Replayed`),
    /// even once the booth has closed or the quote has expired.
    pub async fn place_order(&self, attempt: OrderAttempt) -> Result<Captured, CheckoutError> {
        if let Some(contact) = &attempt.customer {
            contact.check().map_err(CheckoutError::BadContact)?;
        }
        // A retry of an order already taken gets its receipt even if what this device
        // may claim has changed since (a session ended, the manifest was edited).
        if let Err(refused) = self.check_payment(&attempt) {
            return match self.replay(&attempt).await? {
                Some(receipt) => Ok(receipt),
                None => Err(refused),
            };
        }
        if attempt.quote_token.len() > MAX_TOKEN_BYTES {
            return Err(QuoteTokenError::Malformed.into());
        }
        // Closed: only a retry of an order already taken is answered.
        if self.teardown.is_closed() {
            return match self.replay(&attempt).await? {
                Some(receipt) => Ok(receipt),
                None => Err(CheckoutError::Closed),
            };
        }
        let now = self.clock.now();
        let loaded = self.manifest.current();
        let claims = match self.signer.verify(&attempt.quote_token, &loaded.manifest.event.id, now)
        {
            Ok(claims) => claims,
            // A retry is answered from the first response even if its quote has since
            // expired; the lookup is only paid when the token fails. (A retry with a
            // valid token is recognised by the order writer itself.)
            Err(token_error) => {
                return match self.orders.find_by_key(&attempt.idempotency_key).await? {
                    Some((hash, response)) if hash == attempt.request_hash => {
                        Ok(Captured::Replayed(response))
                    }
                    Some(_) => Err(OrderError::KeyConflict.into()),
                    None => Err(token_error.into()),
                };
            }
        };
        if attempt.tendered.is_some_and(|t| t < claims.total) {
            return Err(CheckoutError::BadPayment(
                "payment.tendered is less than the total: the customer still owes some",
            ));
        }
        // Offline, past a limit, an order waits for the lead's approval — unless it is a
        // retry of one already taken.
        if let Err(needs) =
            self.uplink.admit(&claims.qid, claims.total, attempt.payment.as_str()).await
        {
            return match self.replay(&attempt).await? {
                Some(receipt) => Ok(receipt),
                None => Err(CheckoutError::OfflineLimit(needs.to_string())),
            };
        }
        let stock =
            claims.lines.iter().map(|l| loaded.book.item(&l.sku).and_then(|i| i.stock)).collect();
        let order = NewOrder {
            idempotency_key: attempt.idempotency_key,
            request_hash: attempt.request_hash,
            claims,
            payment: attempt.payment,
            customer: attempt.customer,
            now,
            stock,
            payment_reference: attempt.reference,
            tendered: attempt.tendered,
            sold_by: match attempt.seller {
                Seller::Staff(name) => Some(name),
                Seller::Lead => Some("lead".into()),
                Seller::Phone | Seller::Kiosk => None,
            },
            pickup_prefix: loaded.manifest.selling.pickup_prefix.clone(),
            offline: None,
        };
        Ok(self.orders.capture(order).await?)
    }

    /// The method is one this booth takes, and one this device may choose (a phone
    /// cannot prove it paid by card or cash); its details fit it.
    fn check_payment(&self, attempt: &OrderAttempt) -> Result<(), CheckoutError> {
        let loaded = self.manifest.current();
        let selling = &loaded.manifest.selling;
        let method = attempt.payment;
        if !selling.methods.contains(&method) {
            return Err(CheckoutError::PaymentNotAllowed(format!(
                "this booth does not take `{}`",
                method.as_str()
            )));
        }
        if attempt.seller == Seller::Phone && !selling.phones.contains(&method) {
            let allowed: Vec<&str> = selling.phones.iter().map(|m| m.as_str()).collect();
            return Err(CheckoutError::PaymentNotAllowed(format!(
                "`{}` is taken at a kiosk or the counter; from this device: {}",
                method.as_str(),
                allowed.join(", ")
            )));
        }
        if let Some(reference) = &attempt.reference {
            if method != PaymentMethod::Card {
                return Err(CheckoutError::BadPayment("payment.reference is for card payments"));
            }
            let ok = !reference.trim().is_empty()
                && reference.len() <= MAX_REFERENCE
                && reference.chars().all(|c| c.is_ascii_graphic() || c == ' ');
            if !ok {
                return Err(CheckoutError::BadPayment(
                    "payment.reference must be 1 to 40 letters, digits or signs from the card slip",
                ));
            }
        }
        if let Some(tendered) = attempt.tendered {
            if method != PaymentMethod::Cash {
                return Err(CheckoutError::BadPayment("payment.tendered is for cash payments"));
            }
            if !(0..=MAX_TENDERED).contains(&tendered) {
                return Err(CheckoutError::BadPayment("payment.tendered is not an amount of cash"));
            }
        }
        Ok(())
    }

    /// The first receipt for this attempt's key, if the same request was taken before.
    async fn replay(&self, attempt: &OrderAttempt) -> Result<Option<Captured>, CheckoutError> {
        Ok(match self.orders.find_by_key(&attempt.idempotency_key).await? {
            Some((hash, response)) if hash == attempt.request_hash => {
                Some(Captured::Replayed(response))
            }
            _ => None,
        })
    }
}
