//! Sales an enrolled kiosk takes while it cannot reach the node, and their delivery.
//!
//! Before it ever needs to, a kiosk fetches its *offline kit*: the current price book as
//! a document named by its SHA-256 (kept here, by digest, for as long as the node lives),
//! a range of pickup numbers reserved for it alone, and the manifest's limits. Offline
//! it prices with that very engine (`boothcloud-pricing`, the core compiled to
//! WebAssembly) and queues each order with its idempotency key. On delivery the node
//! prices the basket again with the book the kiosk used; an order whose price differs —
//! from that book, or from the price list in force now — is still taken as the customer
//! was charged, and marked for staff.
//!
//! Owns: the `price_books` table, the kiosks' reserved ranges (through the order
//! writer), and the checks on a delivered order. Never: refuses a delivered order that
//! was paid for because a price or a number is off (it is taken and marked instead),
//! takes an order from anything but an enrolled kiosk, or stores one but through the
//! order queue (durable before it answers, one key one order).

use std::sync::{Arc, Mutex};

use boothcloud_core::clock::Clock;
use boothcloud_core::manifest::KioskOffline;
use boothcloud_core::money::{self, Minor};
use boothcloud_core::pricing::{document, Basket, PriceBook, PricedBasket, PricingError};
use boothcloud_core::signing::quote::{QuoteClaims, TokenLine};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use crate::kiosks::Enrolled;
use crate::live_manifest::LiveManifest;
use crate::orders::{Captured, NewOrder, OfflineTaken, OrderError, OrderQueue, PaymentMethod};

/// Longest idempotency key, as for any order.
pub use crate::orders::MAX_IDEMPOTENCY_KEY;

#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    /// The basket cannot be priced with the kiosk's own book: no engine made it.
    #[error("the basket cannot be priced with the price book it names: {0}")]
    Pricing(#[from] PricingError),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// The limits a kiosk keeps to offline, as it is told them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OfflineLimits {
    /// Ways to pay offline.
    pub methods: Vec<PaymentMethod>,
    /// Largest single order (minor units).
    pub max_order: Minor,
    /// Most money waiting in the kiosk's queue at once.
    pub max_total: Minor,
    /// Most orders waiting at once.
    pub max_orders: u32,
    /// Seconds after it last reached the node that it may keep selling.
    pub max_for_secs: i64,
}

/// Pickup numbers reserved for one kiosk: `PREFIX-first` to `PREFIX-last`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PickupRange {
    pub prefix: String,
    pub first: i64,
    pub last: i64,
    /// The first number of the range this kiosk has not delivered an order with.
    pub next: i64,
}

/// What an enrolled kiosk keeps for selling without the node.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OfflineKit {
    pub event_id: String,
    pub currency: String,
    /// SHA-256 (hex) of `price_book`.
    pub price_book_digest: String,
    /// The price book document, as the engine loads it (JSON text; hashed as sent).
    pub price_book: String,
    pub pickup: PickupRange,
    pub limits: OfflineLimits,
    #[schema(value_type = String, format = DateTime)]
    pub issued_at: Timestamp,
}

/// An order a kiosk took offline, as it delivers it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflineOrder {
    /// The kiosk's key for this order: a retry sends the same.
    pub idempotency_key: String,
    /// The digest of the price book the kiosk priced with.
    pub price_book: String,
    pub basket: Basket,
    /// What the customer was charged: the kiosk's priced lines and totals.
    pub charged: Charged,
    pub payment: PaymentMethod,
    /// The card terminal slip's reference (card).
    #[serde(default)]
    pub reference: Option<String>,
    /// Cash handed over (cash).
    #[serde(default)]
    pub tendered: Option<Minor>,
    /// The number the kiosk handed out, from its reserved range (without the prefix).
    pub pickup: i64,
    #[schema(value_type = String, format = DateTime)]
    pub taken_at: Timestamp,
}

/// The lines and totals a kiosk charged.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Charged {
    pub lines: Vec<TokenLine>,
    pub subtotal: Minor,
    pub discount: Minor,
    pub total: Minor,
}

impl Charged {
    fn of(priced: &PricedBasket) -> Charged {
        Charged {
            lines: priced.lines.iter().map(TokenLine::from).collect(),
            subtotal: priced.subtotal,
            discount: priced.discount,
            total: priced.total,
        }
    }

    /// Whether the lines add up as the price engine makes them (what the hub requires).
    fn adds_up(&self) -> bool {
        let mut subtotal: Minor = 0;
        let mut total: Minor = 0;
        for l in &self.lines {
            let Some(full) = l.unit_price.checked_mul(i64::from(l.qty)) else { return false };
            if l.qty == 0 || l.unit_price < 0 || l.total < 0 || l.total > full {
                return false;
            }
            let (Some(s), Some(t)) = (subtotal.checked_add(full), total.checked_add(l.total))
            else {
                return false;
            };
            (subtotal, total) = (s, t);
        }
        !self.lines.is_empty()
            && subtotal == self.subtotal
            && total == self.total
            && self.subtotal - self.total == self.discount
    }
}

/// A price book as served: its digest and document.
struct Served {
    version: u64,
    digest: String,
    document: Arc<str>,
}

pub struct OfflineSales {
    db: SqlitePool,
    orders: OrderQueue,
    manifest: Arc<LiveManifest>,
    clock: Arc<dyn Clock>,
    current: Mutex<Option<Arc<Served>>>,
}

impl OfflineSales {
    pub fn new(
        db: SqlitePool,
        orders: OrderQueue,
        manifest: Arc<LiveManifest>,
        clock: Arc<dyn Clock>,
    ) -> OfflineSales {
        OfflineSales { db, orders, manifest, clock, current: Mutex::new(None) }
    }

    /// The price book in force, kept by digest before it is served.
    async fn current_book(&self) -> Result<Arc<Served>, OfflineError> {
        let loaded = self.manifest.current();
        if let Some(served) = self.current.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            if served.version == loaded.version {
                return Ok(served);
            }
        }
        let text = loaded.book.document();
        let digest = document::digest(&text);
        sqlx::query(
            "INSERT INTO price_books (digest, event_id, document, first_ms) VALUES (?, ?, ?, ?) \
             ON CONFLICT (digest) DO NOTHING",
        )
        .bind(&digest)
        .bind(&loaded.manifest.event.id)
        .bind(&text)
        .bind(self.clock.now().as_millisecond())
        .execute(&self.db)
        .await?;
        let served = Arc::new(Served { version: loaded.version, digest, document: text.into() });
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(served.clone());
        Ok(served)
    }

    /// The kit for `kiosk`: the current book, its range of pickup numbers (a new one
    /// once less than half of the last is left), and the limits.
    pub async fn kit(&self, kiosk: &Enrolled) -> Result<OfflineKit, OfflineError> {
        let book = self.current_book().await?;
        let loaded = self.manifest.current();
        let event = loaded.manifest.event.id.clone();
        let prefix = loaded.manifest.selling.pickup_prefix.clone();
        let limits = &loaded.manifest.selling.kiosk_offline;
        let size = i64::from(limits.max_orders.max(1));
        let latest: Option<(i64, i64)> = sqlx::query_as(
            "SELECT first, last FROM kiosk_ranges WHERE kiosk_id = ? AND event_id = ? AND prefix = ? \
             ORDER BY first DESC LIMIT 1",
        )
        .bind(&*kiosk.id)
        .bind(&event)
        .bind(&prefix)
        .fetch_optional(&self.db)
        .await?;
        let used = match latest {
            Some((first, last)) => sqlx::query_scalar::<_, Option<i64>>(
                "SELECT MAX(offline_pickup) FROM orders WHERE offline_kiosk = ? AND event_id = ? \
                 AND offline_pickup BETWEEN ? AND ?",
            )
            .bind(&*kiosk.id)
            .bind(&event)
            .bind(first)
            .bind(last)
            .fetch_one(&self.db)
            .await?
            .map(|n| n + 1)
            .unwrap_or(first),
            None => 0,
        };
        let range = match latest {
            Some((first, last)) if (last - used + 1) * 2 >= size => {
                PickupRange { prefix, first, last, next: used }
            }
            _ => {
                let now = self.clock.now();
                let r = self
                    .orders
                    .reserve_pickups(&kiosk.id, &event, &prefix, limits.max_orders.max(1), now)
                    .await?;
                PickupRange { prefix, first: r.first, last: r.last, next: r.first }
            }
        };
        Ok(OfflineKit {
            event_id: event,
            currency: loaded.manifest.event.currency.to_string(),
            price_book_digest: book.digest.clone(),
            price_book: book.document.to_string(),
            pickup: range,
            limits: limits_of(limits),
            issued_at: self.clock.now(),
        })
    }

    /// Takes an order the kiosk took offline: durable before it answers; a retry with
    /// the same key and body answers the first receipt.
    pub async fn deliver(
        &self,
        kiosk: &Enrolled,
        order: OfflineOrder,
        request_hash: [u8; 32],
    ) -> Result<Captured, OfflineError> {
        check_shape(&order)?;
        // A retry is answered before anything else is looked at.
        if let Some((hash, response)) = self.orders.find_by_key(&order.idempotency_key).await? {
            if hash == request_hash {
                return Ok(Captured::Replayed(response));
            }
            // The kiosk sold offline what it had tried to order online under the same key
            // (it never heard the answer), and the node had taken it: the same sale, not a
            // second one. Only the kiosk that made the key knows it.
            return match self.online_twin(&order).await? {
                true => Ok(Captured::Replayed(response)),
                false => Err(OrderError::KeyConflict.into()),
            };
        }
        let now = self.clock.now();
        let loaded = self.manifest.current();
        let event = loaded.manifest.event.id.clone();
        let prefix = loaded.manifest.selling.pickup_prefix.clone();
        let currency = loaded.manifest.event.currency;
        let mut attention: Vec<String> = Vec::new();
        // When it was taken, as the kiosk says, within what is believable.
        let oldest = now - SignedDuration::from_hours(48);
        let taken_at = order.taken_at.clamp(oldest, now);

        // Priced again with the book the kiosk used.
        let document: Option<String> =
            sqlx::query_scalar("SELECT document FROM price_books WHERE digest = ?")
                .bind(&order.price_book)
                .fetch_optional(&self.db)
                .await?;
        let own = match &document {
            Some(text) => Some(
                PriceBook::from_document(text)
                    .map_err(|e| OfflineError::Invalid(format!("stored price book: {e}")))?
                    .price(&order.basket, taken_at)?,
            ),
            None => {
                attention.push("priced with a price list this booth never gave out".into());
                None
            }
        };
        let charged = &order.charged;
        if let Some(own) = &own {
            if own.total != charged.total {
                attention.push(format!(
                    "charged {} but its price list gives {}",
                    money::display(charged.total, currency),
                    money::display(own.total, currency)
                ));
            }
        }
        // And with the price list in force now.
        let current = self.current_book().await?;
        if current.digest != order.price_book {
            match loaded.book.price(&order.basket, taken_at) {
                Ok(now_priced) if now_priced.total != charged.total => attention.push(format!(
                    "price list changed while the kiosk was offline: charged {}, now {}",
                    money::display(charged.total, currency),
                    money::display(now_priced.total, currency)
                )),
                Ok(_) => {}
                Err(e) => {
                    attention.push(format!("the price list in force now cannot price it: {e}"))
                }
            }
        }
        // The lines kept are the kiosk's own when they add up (what was charged and
        // printed), else the node's pricing of them with the kiosk's book.
        let lines = if charged.adds_up() {
            charged.clone()
        } else {
            match &own {
                Some(own) => {
                    attention.push(format!(
                        "the kiosk's lines did not add up: kept as its price list gives them ({}); the customer paid {}",
                        money::display(own.total, currency),
                        money::display(charged.total, currency)
                    ));
                    Charged::of(own)
                }
                None => {
                    return Err(OfflineError::Invalid(
                        "charged: the lines do not add up to the totals".into(),
                    ))
                }
            }
        };
        if let Some(short) = order.tendered.filter(|t| *t < lines.total) {
            attention.push(format!(
                "cash handed over ({}) is less than the total",
                money::display(short, currency)
            ));
        }

        // Sold while the node could not count: stock may have run short meanwhile.
        for line in &lines.lines {
            if let Some(stock) = loaded.book.item(&line.sku).and_then(|i| i.stock) {
                let left = self.orders.available(&line.sku, stock);
                if line.qty > left {
                    attention.push(format!(
                        "sold {} of {} with {left} left in stock",
                        line.qty, line.sku
                    ));
                }
            }
        }
        // The number handed out must be one reserved for this kiosk and not yet used.
        let reserved: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM kiosk_ranges WHERE kiosk_id = ? AND event_id = ? AND prefix = ? \
             AND ? BETWEEN first AND last) \
             AND NOT EXISTS (SELECT 1 FROM orders WHERE event_id = ? AND offline_pickup = ?)",
        )
        .bind(&*kiosk.id)
        .bind(&event)
        .bind(&prefix)
        .bind(order.pickup)
        .bind(&event)
        .bind(order.pickup)
        .fetch_one(&self.db)
        .await?;
        let pickup = if reserved {
            Some(order.pickup)
        } else {
            attention.push(format!(
                "the kiosk handed out {prefix}-{:03}, which was not reserved for it: call the new number",
                order.pickup
            ));
            None
        };

        let qid = format!("offline:{}:{}", kiosk.id, order.idempotency_key);
        let claims = QuoteClaims {
            qid,
            event: event.clone(),
            currency,
            lines: lines.lines,
            subtotal: lines.subtotal,
            discount: lines.discount,
            total: lines.total,
            tier: order.basket.tier.clone(),
            manifest_version: loaded.version,
            issued_at: taken_at,
            expires_at: taken_at,
        };
        let stock =
            claims.lines.iter().map(|l| loaded.book.item(&l.sku).and_then(|i| i.stock)).collect();
        let new = NewOrder {
            idempotency_key: order.idempotency_key,
            request_hash,
            claims,
            payment: order.payment,
            customer: None,
            now: taken_at,
            stock,
            payment_reference: order.reference,
            tendered: order.tendered,
            sold_by: None,
            pickup_prefix: prefix,
            offline: Some(OfflineTaken {
                kiosk: kiosk.id.to_string(),
                pickup,
                price_book: order.price_book,
                taken_at,
                attention: (!attention.is_empty()).then(|| attention.join("; ")),
            }),
        };
        Ok(self.orders.capture(new).await?)
    }
}

impl OfflineSales {
    /// Whether the order under this key was taken online; if so, staff are told that the
    /// kiosk also handed out its own number for it.
    async fn online_twin(&self, order: &OfflineOrder) -> Result<bool, OfflineError> {
        let loaded = self.manifest.current();
        let prefix = &loaded.manifest.selling.pickup_prefix;
        let note = format!(
            "the kiosk lost the answer and also gave the customer {prefix}-{:03}: call both numbers",
            order.pickup
        );
        let marked = sqlx::query(
            "UPDATE orders SET attention = CASE WHEN attention IS NULL THEN ?1 \
             WHEN instr(attention, ?1) > 0 THEN attention ELSE attention || '; ' || ?1 END \
             WHERE idempotency_key = ?2 AND offline_kiosk IS NULL",
        )
        .bind(&note)
        .bind(&order.idempotency_key)
        .execute(&self.db)
        .await?;
        Ok(marked.rows_affected() == 1)
    }
}

fn limits_of(l: &KioskOffline) -> OfflineLimits {
    OfflineLimits {
        methods: l.methods.clone(),
        max_order: l.max_order,
        max_total: l.max_total,
        max_orders: l.max_orders,
        max_for_secs: l.max_for.as_secs(),
    }
}

/// Sizes and forms a client controls, checked before anything is looked up.
fn check_shape(o: &OfflineOrder) -> Result<(), OfflineError> {
    let bad = |m: &str| Err(OfflineError::Invalid(m.to_owned()));
    if o.idempotency_key.is_empty()
        || o.idempotency_key.len() > MAX_IDEMPOTENCY_KEY
        || !o.idempotency_key.bytes().all(|b| b.is_ascii_graphic())
    {
        return bad("idempotency_key must be 1 to 128 visible ASCII characters");
    }
    if o.price_book.len() != 64 || !o.price_book.bytes().all(|b| b.is_ascii_hexdigit()) {
        return bad("price_book must be the SHA-256 (hex) of the price book used");
    }
    if o.basket.lines.is_empty() || o.basket.lines.len() > 200 || o.charged.lines.len() > 200 {
        return bad("an order has 1 to 200 lines");
    }
    if o.basket.lines.iter().any(|l| l.sku.len() > crate::checkout::MAX_SKU_BYTES) {
        return bad("a basket line names an SKU longer than any in a catalogue");
    }
    if !o.payment.paid_up_front() {
        return bad("an order taken offline is paid at the kiosk: card or cash");
    }
    if !(1..=1_000_000).contains(&o.pickup) {
        return bad("pickup must be a number from the kiosk's reserved range");
    }
    if o.charged.total < 0 || o.charged.subtotal < 0 || o.charged.discount < 0 {
        return bad("charged amounts cannot be negative");
    }
    if let Some(r) = &o.reference {
        if r.trim().is_empty()
            || r.len() > crate::checkout::MAX_REFERENCE
            || !r.chars().all(|c| c.is_ascii_graphic() || c == ' ')
        {
            return bad("reference must be 1 to 40 letters, digits or signs from the card slip");
        }
    }
    if o.tendered.is_some_and(|t| !(0..=crate::checkout::MAX_TENDERED).contains(&t)) {
        return bad("tendered is not an amount of cash");
    }
    Ok(())
}
