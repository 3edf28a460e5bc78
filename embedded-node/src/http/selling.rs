//! Selling over HTTP, past the order itself: the public receipt and its QR code, the
//! public pickup board, and the counter's work on orders (next step, void, refund).
//!
//! The receipt and the board are public (a customer's phone, a TV) and show no contact
//! details; the counter's routes need a staff session or the lead's token, and every
//! void and refund is audited by name. Never: changes an order but through the order
//! queue's counter rules.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery, Operator};
use super::Ports;
use crate::audit::Who;
use crate::orders::{
    CounterOrder, Fulfilment, OpenView, PaymentMethod, PickupBoard, Receipt, Refund,
};
use crate::services::Services;
use boothcloud_core::money::Minor;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(receipt))
        .routes(routes!(receipt_qr))
        .routes(routes!(pickup_board))
        .routes(routes!(counter_orders))
        .routes(routes!(advance))
        .routes(routes!(void))
        .routes(routes!(refund))
}

/// Receipt ids are 26 base-32 characters; anything else is not one.
fn receipt_id_ok(id: &str) -> bool {
    id.len() == 26 && id.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

fn names(state: &Services) -> impl Fn(&str) -> String + Sync {
    let loaded = state.manifest.current();
    move |sku: &str| loaded.manifest.item(sku).map_or_else(|| sku.to_owned(), |i| i.name.clone())
}

/// A receipt: what was bought, how it was paid, where the order is (received,
/// preparing, ready, collected). Public by its unguessable id; no contact details.
#[utoipa::path(get, path = "/api/v1/receipts/{receipt_id}", tag = "commerce",
    params(("receipt_id" = String, Path)),
    responses((status = 200, body = Receipt), (status = 404, body = ErrorBody)))]
async fn receipt(
    State(state): State<Services>,
    Path(receipt_id): Path<String>,
) -> Result<Response, ApiError> {
    if !receipt_id_ok(&receipt_id) {
        return Err(ApiError::not_found("this receipt"));
    }
    let mut found = state.orders.receipt(&receipt_id, &names(&state)).await?;
    // The event's name as people read it, while its manifest is the one in force.
    let loaded = state.manifest.current();
    if found.event == loaded.manifest.event.id {
        found.event = loaded.manifest.event.name.clone();
    }
    let mut res = Json(found).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The receipt page's address as a QR code (SVG), for the customer's phone to scan.
/// The address is one a phone can open: HTTPS with the organisation's certificate,
/// else the plain-HTTP port when it serves the shop.
#[utoipa::path(get, path = "/api/v1/receipts/{receipt_id}/qr.svg", tag = "commerce",
    params(("receipt_id" = String, Path)),
    responses((status = 200, description = "an SVG image", content_type = "image/svg+xml"), (status = 404, body = ErrorBody)))]
async fn receipt_qr(
    State(state): State<Services>,
    Extension(ports): Extension<Ports>,
    headers: HeaderMap,
    Path(receipt_id): Path<String>,
) -> Result<Response, ApiError> {
    if !receipt_id_ok(&receipt_id) {
        return Err(ApiError::not_found("this receipt"));
    }
    // Only a receipt that exists gets a code.
    state.orders.receipt(&receipt_id, &|s: &str| s.to_owned()).await?;
    let asked = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(super::plain::host_only)
        .filter(|h| super::plain::valid_host(h))
        .unwrap_or("localhost");
    // From the laptop itself (the app's Sell screen), the address must be one a
    // customer's phone can reach: the booth's first address on the venue network.
    let lan = state.tls.server.addresses().into_iter().find(|ip| {
        !ip.is_loopback()
            && !matches!(ip, std::net::IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
    });
    let host = match (asked, lan) {
        ("localhost" | "127.0.0.1" | "[::1]", Some(std::net::IpAddr::V4(v4))) => v4.to_string(),
        ("localhost" | "127.0.0.1" | "[::1]", Some(std::net::IpAddr::V6(v6))) => format!("[{v6}]"),
        (asked, _) => asked.to_owned(),
    };
    let org_certificate =
        state.tls.server.source() == crate::tls::server::CertificateSource::Manifest;
    let url = if org_certificate || !state.manifest.current().manifest.node.shop_on_http {
        format!("https://{host}:{}/r/{receipt_id}", ports.https)
    } else {
        format!("http://{host}:{}/r/{receipt_id}", ports.http)
    };
    let qr = qrcode::QrCode::new(url.as_bytes()).map_err(ApiError::internal)?;
    let svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml")),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600")),
        ],
        svg,
    )
        .into_response())
}

/// The pickup board: numbers being prepared (new ones included) and numbers ready,
/// oldest first. Public, for a TV by the counter.
#[utoipa::path(get, path = "/api/v1/pickup", tag = "commerce",
    responses((status = 200, body = PickupBoard)))]
async fn pickup_board(State(state): State<Services>) -> Result<Response, ApiError> {
    let (preparing, ready) = state.orders.pickup_board().await?;
    let event_name = state.manifest.current().manifest.event.name.clone();
    let mut res = Json(PickupBoard { event_name, preparing, ready }).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Someone working the counter: a staff member signed in on this device, or the lead.
pub struct CounterHand {
    who: Who,
    /// How refunds name who gave them.
    name: String,
}

impl CounterHand {
    pub fn who(&self) -> &Who {
        &self.who
    }

    /// The staff member's name, or `lead`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl FromRequestParts<Services> for CounterHand {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Services) -> Result<Self, ApiError> {
        if let Some(member) = super::staff::member_of(state, &parts.headers) {
            return Ok(CounterHand {
                who: Who {
                    actor: "staff",
                    client: "device",
                    why: format!("staff {}", member.name).into(),
                },
                name: member.name,
            });
        }
        match Operator::from_request_parts(parts, state).await {
            Ok(op) => Ok(CounterHand { who: op.who, name: "lead".into() }),
            Err(_) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "staff_session_needed",
                "sign in with your name and PIN first (your session may have ended after a while unused)",
            )),
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CounterQuery {
    /// `open` (default): new, preparing and ready, oldest first; `done`: the last
    /// collected and voided, newest first.
    #[serde(default)]
    #[param(inline)]
    view: Option<OpenView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CounterOrders {
    orders: Vec<CounterOrder>,
}

/// The orders to fulfil (or the last ones done), for staff at the counter.
#[utoipa::path(get, path = "/api/v1/counter/orders", tag = "staff", security(("staff" = []), ("operator" = [])),
    params(CounterQuery),
    responses((status = 200, body = CounterOrders), (status = 400, body = ErrorBody),
              (status = 401, description = "no staff session (`staff_session_needed`)", body = ErrorBody)))]
async fn counter_orders(
    _hand: CounterHand,
    State(state): State<Services>,
    ApiQuery(q): ApiQuery<CounterQuery>,
) -> Result<Json<CounterOrders>, ApiError> {
    let view = q.view.unwrap_or(OpenView::Open);
    Ok(Json(CounterOrders { orders: state.orders.counter_orders(view, &names(&state)).await? }))
}

/// A reason as the audit log keeps it: at most 200 characters, no control characters
/// (what a client sent is recorded even when it is refused).
fn clipped(reason: &str) -> String {
    reason.trim().chars().filter(|c| !c.is_control()).take(crate::orders::MAX_REASON).collect()
}

fn order_id_ok(id: &str) -> Result<(), ApiError> {
    uuid::Uuid::parse_str(id).map(|_| ()).map_err(|_| {
        ApiError::new(StatusCode::NOT_FOUND, "order_not_found", "no order has this id")
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// `preparing`, `ready` or `collected`.
    state: Fulfilment,
    /// For an order paid at pickup, how it was paid when collected (`card`, `cash`).
    #[serde(default)]
    paid_with: Option<PaymentMethod>,
}

/// Moves an order on: new → preparing → ready → collected (collected may follow any
/// open step). Collecting an order paid at pickup needs `paid_with`.
#[utoipa::path(post, path = "/api/v1/counter/orders/{order_id}/fulfilment", tag = "staff", security(("staff" = []), ("operator" = [])),
    params(("order_id" = String, Path)), request_body = Step,
    responses((status = 200, body = CounterOrder),
              (status = 401, description = "no staff session (`staff_session_needed`)", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "not the next step (`invalid_transition`)", body = ErrorBody),
              (status = 422, description = "paid at pickup: say how (`payment_needed`); a bad body", body = ErrorBody)))]
async fn advance(
    _hand: CounterHand,
    State(state): State<Services>,
    Path(order_id): Path<String>,
    ApiJson(step): ApiJson<Step>,
) -> Result<Json<CounterOrder>, ApiError> {
    order_id_ok(&order_id)?;
    state.orders.advance(&order_id, step.state, step.paid_with, state.clock.now()).await?;
    Ok(Json(state.orders.counter_order(&order_id, &names(&state)).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Void {
    /// Why, in a few words (1–200 characters).
    reason: String,
}

/// Voids an order not yet sent upstream: it never syncs, its stock comes back, it
/// leaves the pickup board. Audited.
#[utoipa::path(post, path = "/api/v1/counter/orders/{order_id}/void", tag = "staff", security(("staff" = []), ("operator" = [])),
    params(("order_id" = String, Path)), request_body = Void,
    responses((status = 200, body = CounterOrder),
              (status = 401, description = "no staff session (`staff_session_needed`)", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "already on its way upstream: refund it (`already_synced`); already voided (`invalid_transition`)", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn void(
    hand: CounterHand,
    State(state): State<Services>,
    Path(order_id): Path<String>,
    ApiJson(req): ApiJson<Void>,
) -> Result<Json<CounterOrder>, ApiError> {
    order_id_ok(&order_id)?;
    let done = state.orders.void(&order_id, &req.reason, state.clock.now()).await;
    let result = done.as_ref().map(|_| ()).map_err(ToString::to_string);
    let said = format!("order {order_id}: {}", clipped(&req.reason));
    state.audit.record(&hand.who, "void order", None, Some(said), result).await;
    done?;
    Ok(Json(state.orders.counter_order(&order_id, &names(&state)).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRefund {
    /// Minor units; at most what is left of the order's total.
    amount: Minor,
    /// Why, in a few words (1–200 characters).
    reason: String,
}

/// Refunds an order (in part or whole): a record of its own, synced upstream and
/// audited. Refunds never add up to more than the total.
#[utoipa::path(post, path = "/api/v1/counter/orders/{order_id}/refunds", tag = "staff", security(("staff" = []), ("operator" = [])),
    params(("order_id" = String, Path)), request_body = NewRefund,
    responses((status = 201, body = Refund),
              (status = 401, description = "no staff session (`staff_session_needed`)", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "more than is left (`refund_exceeds`); a voided order (`invalid_transition`)", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn refund(
    hand: CounterHand,
    State(state): State<Services>,
    Path(order_id): Path<String>,
    ApiJson(req): ApiJson<NewRefund>,
) -> Result<(StatusCode, Json<Refund>), ApiError> {
    order_id_ok(&order_id)?;
    let done = state
        .orders
        .refund(&order_id, req.amount, &req.reason, &hand.name, state.clock.now())
        .await;
    let result = done.as_ref().map(|_| ()).map_err(ToString::to_string);
    let said = format!("order {order_id}: {} ({})", req.amount, clipped(&req.reason));
    state.audit.record(&hand.who, "refund", None, Some(said), result).await;
    Ok((StatusCode::CREATED, Json(done?)))
}
