//! The kiosk-facing routes: catalogue, quotes and orders.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use crate::checkout::{OrderAttempt, Seller, TierAsk};
use crate::orders::{Captured, Contact, OrderView, PaymentMethod, MAX_IDEMPOTENCY_KEY};
use crate::services::Services;
use boothcloud_core::manifest::Item;
use boothcloud_core::money::Minor;
use boothcloud_core::pricing::{AppliedDiscount, BasketLine, PricedLine, PromotionInfo};

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(catalogue))
        .routes(routes!(create_quote))
        .routes(routes!(create_order))
        .routes(routes!(get_order))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CatalogueItem {
    #[serde(flatten)]
    item: Item,
    /// Units left, for items whose stock is tracked.
    #[serde(skip_serializing_if = "Option::is_none")]
    available: Option<u32>,
}

/// How the shop and the counter look and behave (`[shop]`, `[pickup]`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ShopView {
    /// The event's name, shown as the shop's title.
    name: String,
    theme_color: String,
    background_color: String,
    /// A kiosk left alone this long shows its attract screen and empties the basket.
    attract_after_s: i64,
    /// Stock at or below this is shown as low at the counter.
    low_stock_at: u32,
    /// SKUs first on the counter's grid.
    favourites: Vec<String>,
    pickup_prefix: String,
    /// An enrolled kiosk offers "Print a receipt" after an order.
    kiosk_receipts: bool,
}

/// The ways to pay (`[payments]`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct PaymentsView {
    /// What an enrolled kiosk, staff and the lead may take.
    methods: Vec<PaymentMethod>,
    /// What a device that is neither enrolled nor signed in may choose.
    phones: Vec<PaymentMethod>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Catalogue {
    event: String,
    currency: String,
    manifest_version: u64,
    tiers: Vec<String>,
    items: Vec<CatalogueItem>,
    promotions: Vec<PromotionInfo>,
    shop: ShopView,
    payments: PaymentsView,
}

/// The catalogue and promotions in force.
#[utoipa::path(get, path = "/api/v1/catalogue", tag = "commerce",
    responses((status = 200, body = Catalogue)))]
async fn catalogue(State(state): State<Services>) -> Json<Catalogue> {
    let loaded = state.manifest.current();
    let book = &loaded.book;
    Json(Catalogue {
        event: loaded.manifest.event.id.clone(),
        currency: book.currency().to_string(),
        manifest_version: loaded.version,
        tiers: loaded.manifest.pricing.tiers.clone(),
        items: book
            .items()
            .iter()
            .map(|i| CatalogueItem {
                item: i.clone(),
                available: i.stock.map(|s| state.orders.available(&i.sku, s)),
            })
            .collect(),
        promotions: book.promotions().to_vec(),
        shop: {
            let m = &loaded.manifest;
            let shop = &m.selling.shop;
            ShopView {
                name: m.event.name.clone(),
                theme_color: shop.theme_color.clone(),
                background_color: shop.background_color.clone(),
                attract_after_s: shop.attract_after.as_secs(),
                low_stock_at: shop.low_stock_at,
                favourites: shop.favourites.clone(),
                pickup_prefix: m.selling.pickup_prefix.clone(),
                kiosk_receipts: m.printing.receipts_at_kiosk
                    && m.printing
                        .for_role(boothcloud_core::manifest::PrinterRole::Receipts)
                        .is_some(),
            }
        },
        payments: PaymentsView {
            methods: loaded.manifest.selling.methods.clone(),
            phones: loaded.manifest.selling.phones.clone(),
        },
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    lines: Vec<BasketLine>,
    /// A customer tier (`GET /api/v1/catalogue` lists them); needs `tier_code`.
    #[serde(default)]
    tier: Option<String>,
    /// The code that opens `tier` (the manifest's `pricing.tier_codes`: a crew badge, a
    /// member card).
    #[serde(default)]
    tier_code: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct QuoteResponse {
    quote_id: String,
    currency: String,
    lines: Vec<PricedLine>,
    discounts: Vec<AppliedDiscount>,
    subtotal: Minor,
    discount: Minor,
    total: Minor,
    tier: Option<String>,
    manifest_version: u64,
    #[schema(value_type = String, format = DateTime)]
    priced_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
    /// Pass this to `POST /api/v1/orders` before `expires_at`. Opaque; signed.
    token: String,
}

/// Prices a basket with the promotions in force and returns a signed quote token.
#[utoipa::path(post, path = "/api/v1/quotes", tag = "commerce", request_body = QuoteRequest,
    responses((status = 200, body = QuoteResponse),
              (status = 401, description = "an `Authorization` that is no longer a live staff session (`staff_session_needed`)", body = ErrorBody),
              (status = 409, description = "not enough stock", body = ErrorBody),
              (status = 403, description = "a tier without its code or a staff session (`tier_not_allowed`)", body = ErrorBody),
              (status = 410, description = "the booth has closed (teardown) (`booth_closed`)", body = ErrorBody),
              (status = 422, description = "unknown sku, bad quantity, oversize basket, unknown tier", body = ErrorBody)))]
async fn create_quote(
    State(state): State<Services>,
    headers: axum::http::HeaderMap,
    ApiJson(req): ApiJson<QuoteRequest>,
) -> Result<Json<QuoteResponse>, ApiError> {
    // Staff signed in on this device, or the lead, may price any tier (the counter).
    let by_staff = matches!(seller(&state, &headers)?, Seller::Staff(_) | Seller::Lead);
    let tier = req.tier.map(|tier| TierAsk { tier, code: req.tier_code, by_staff });
    let quote = state.checkout.quote(req.lines, tier)?;
    let priced = quote.priced;
    Ok(Json(QuoteResponse {
        quote_id: quote.quote_id,
        currency: priced.currency.to_string(),
        lines: priced.lines,
        discounts: priced.discounts,
        subtotal: priced.subtotal,
        discount: priced.discount,
        total: priced.total,
        tier: priced.tier,
        manifest_version: quote.manifest_version,
        priced_at: quote.priced_at,
        expires_at: quote.expires_at,
        token: quote.token,
    }))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Payment {
    method: PaymentMethod,
    /// The card terminal slip's reference (card only; 1–40 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    /// Cash handed over, in minor units (cash only; at least the total): the receipt
    /// says the change due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tendered: Option<Minor>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    quote_token: String,
    payment: Payment,
    /// For a receipt; optional. Personal data: never logged, wiped at teardown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    customer: Option<Contact>,
}

/// Places an order for a quote. Durable in SQLite before the 201, which carries the
/// order's pickup number and its receipt's address. A device that is neither an
/// enrolled kiosk (`X-Boothcloud-Kiosk`) nor signed-in staff or the lead
/// (`Authorization`) may choose only the manifest's `payments.phones`.
#[utoipa::path(post, path = "/api/v1/orders", tag = "commerce", request_body = OrderRequest,
    params(("Idempotency-Key" = String, Header, description = "1–128 visible ASCII characters; a retry with the same key and body returns the first response")),
    responses((status = 201, body = crate::orders::OrderReceipt, headers(("Location" = String), ("Idempotent-Replayed" = String))),
              (status = 400, description = "missing or invalid Idempotency-Key, malformed JSON", body = ErrorBody),
              (status = 401, description = "an `Authorization` that is no longer a live staff session (`staff_session_needed`)", body = ErrorBody),
              (status = 403, description = "offline and over an offline limit: the operator must approve it first (`offline_limit`); a way to pay this booth or this device may not use (`payment_not_allowed`)", body = ErrorBody),
              (status = 409, description = "quote already used, or out of stock", body = ErrorBody),
              (status = 410, description = "the booth has closed (teardown): no new orders (`booth_closed`)", body = ErrorBody),
              (status = 422, description = "invalid or expired quote token, key reused with another body, bad contact, payment details that do not fit the method (`invalid_payment`)", body = ErrorBody),
              (status = 503, description = "storage unavailable; retry with the same key", body = ErrorBody)))]
async fn create_order(
    State(state): State<Services>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<OrderRequest>,
) -> Result<Response, ApiError> {
    let idempotency_key = idempotency_key(&headers)?;
    let request_hash: [u8; 32] =
        Sha256::digest(serde_json::to_vec(&req).map_err(ApiError::internal)?).into();
    let attempt = OrderAttempt {
        idempotency_key,
        request_hash,
        quote_token: req.quote_token,
        payment: req.payment.method,
        reference: req.payment.reference,
        tendered: req.payment.tendered,
        customer: req.customer,
        seller: seller(&state, &headers)?,
    };
    Ok(match state.checkout.place_order(attempt).await? {
        Captured::New(response) => {
            print_ticket(&state, &response).await;
            receipt_response(response, false)
        }
        Captured::Replayed(response) => receipt_response(response, true),
    })
}

/// Who is asking: the lead, a staff member signed in on the device, an enrolled kiosk,
/// or anyone else (a phone). A bearer token that is neither the lead's nor a live staff
/// session is refused (`401 staff_session_needed`) rather than taken for a phone: the
/// counter must hear that its session ended, not have its sale turned into a stranger's.
pub(super) fn seller(state: &Services, headers: &HeaderMap) -> Result<Seller, ApiError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if bearer.is_some_and(|t| state.operator_token.is(t)) {
        return Ok(Seller::Lead);
    }
    if let Some(member) = super::staff::member_of(state, headers) {
        return Ok(Seller::Staff(member.name));
    }
    if headers.contains_key(header::AUTHORIZATION) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "staff_session_needed",
            "this session has ended (after a while unused, a new PIN or a restart): sign in again",
        ));
    }
    let kiosk = headers
        .get(crate::kiosks::KIOSK_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| state.kiosks.check(t.trim()));
    if kiosk.is_some() {
        return Ok(Seller::Kiosk);
    }
    Ok(Seller::Phone)
}

/// The pickup ticket of an order just taken, queued for the prep table's printer. A
/// failure to queue it never fails the order (it is durable already); the printer's
/// worker finds orders without a ticket and queues them.
pub(super) async fn print_ticket(state: &Services, response: &str) {
    let loaded = state.manifest.current();
    let printing = &loaded.manifest.printing;
    if !printing.tickets_on_order
        || printing.for_role(boothcloud_core::manifest::PrinterRole::Tickets).is_none()
    {
        return;
    }
    let id = serde_json::from_str::<serde_json::Value>(response)
        .ok()
        .and_then(|v| v.get("order_id").and_then(|id| id.as_str()).map(str::to_owned));
    if let Some(id) = id {
        if let Err(e) = state.printing.order_taken(&id).await {
            tracing::warn!(error = %e, order = %id, "the pickup ticket could not be queued now");
        }
    }
}

pub(super) fn receipt_response(body: String, replayed: bool) -> Response {
    let location = serde_json::from_str::<serde_json::Value>(&body).ok().and_then(|v| {
        v.get("order_id").and_then(|id| id.as_str()).map(|id| format!("/api/v1/orders/{id}"))
    });
    let mut response = (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response();
    if let Some(loc) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, loc);
    }
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let value = headers.get("idempotency-key").ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_idempotency_key",
            "send an Idempotency-Key header (for example a UUID) so a retry cannot place the order twice",
        )
    })?;
    let bytes = value.as_bytes();
    if bytes.is_empty()
        || bytes.len() > MAX_IDEMPOTENCY_KEY
        || !bytes.iter().all(|b| (0x21..=0x7e).contains(b))
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            format!(
                "the Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"
            ),
        ));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// An order, where it is on its way upstream and where it is at the counter. Contact
/// details are not shown here.
#[utoipa::path(get, path = "/api/v1/orders/{order_id}", tag = "commerce",
    params(("order_id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody)))]
async fn get_order(
    State(state): State<Services>,
    Path(order_id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    if uuid::Uuid::parse_str(&order_id).is_err() {
        return Err(crate::orders::OrderError::NotFound.into());
    }
    Ok(Json(state.orders.get(&order_id, false).await?))
}
