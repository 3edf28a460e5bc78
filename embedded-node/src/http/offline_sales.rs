//! Selling without the node, over HTTP, for enrolled kiosks only (`X-Boothcloud-Kiosk`):
//! the offline kit (price book, reserved pickup numbers, limits), delivery of orders
//! taken offline, and the kiosk's word on what it still holds. A phone or a revoked
//! kiosk is refused (`401 kiosk_not_enrolled`).

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::commerce::{print_ticket, receipt_response};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use crate::kiosks::{Enrolled, Waiting, KIOSK_HEADER, MAX_WAITING};
use crate::offline_sales::{OfflineError, OfflineKit, OfflineOrder};
use crate::orders::Captured;
use crate::services::Services;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(kit)).routes(routes!(deliver)).routes(routes!(held))
}

impl From<OfflineError> for ApiError {
    fn from(e: OfflineError) -> ApiError {
        match e {
            OfflineError::Pricing(p) => p.into(),
            OfflineError::Invalid(why) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", why)
            }
            OfflineError::Order(o) => o.into(),
            OfflineError::Database(d) => ApiError::internal(d),
        }
    }
}

/// An enrolled kiosk, by its `X-Boothcloud-Kiosk` token.
pub struct KioskHand(pub Enrolled);

impl FromRequestParts<Services> for KioskHand {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Services) -> Result<Self, ApiError> {
        enrolled(state, &parts.headers).map(KioskHand)
    }
}

fn enrolled(state: &Services, headers: &HeaderMap) -> Result<Enrolled, ApiError> {
    headers
        .get(KIOSK_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| state.kiosks.check(t.trim()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "kiosk_not_enrolled",
                "only a kiosk the booth lead enrolled may sell without the booth (send X-Boothcloud-Kiosk)",
            )
        })
}

/// The kit an enrolled kiosk keeps for selling while it cannot reach the node: the price
/// book in force (kept by the node under its digest), pickup numbers reserved for this
/// kiosk alone, and the limits it must keep to.
#[utoipa::path(get, path = "/api/v1/kiosk/offline-kit", tag = "commerce", operation_id = "kiosk_offline_kit",
    params(("X-Boothcloud-Kiosk" = String, Header, description = "the enrolled kiosk's token")),
    responses((status = 200, body = OfflineKit),
              (status = 401, description = "not an enrolled kiosk (`kiosk_not_enrolled`)", body = ErrorBody),
              (status = 503, description = "storage unavailable; ask again", body = ErrorBody)))]
async fn kit(
    KioskHand(kiosk): KioskHand,
    State(state): State<Services>,
) -> Result<Json<OfflineKit>, ApiError> {
    Ok(Json(state.offline_sales.kit(&kiosk).await?))
}

/// Delivers one order the kiosk took while it could not reach the node, in the order
/// taken. Durable before the 201 (the same receipt as any order); a retry with the same
/// `idempotency_key` and body gets the first answer (`Idempotent-Replayed: true`). The
/// node prices the basket again with the price book the kiosk used: an order whose price
/// differs, or whose pickup number was not reserved for the kiosk, is still taken as the
/// customer was charged and marked for staff at the counter.
#[utoipa::path(post, path = "/api/v1/kiosk/offline-orders", tag = "commerce", operation_id = "kiosk_offline_deliver",
    params(("X-Boothcloud-Kiosk" = String, Header, description = "the enrolled kiosk's token")),
    request_body = OfflineOrder,
    responses((status = 201, body = crate::orders::OrderReceipt, headers(("Location" = String), ("Idempotent-Replayed" = String))),
              (status = 400, description = "malformed JSON", body = ErrorBody),
              (status = 401, description = "not an enrolled kiosk (`kiosk_not_enrolled`)", body = ErrorBody),
              (status = 422, description = "a field out of range, a basket its own price book cannot price, or the key reused with another body (`idempotency_key_reused`)", body = ErrorBody),
              (status = 503, description = "storage unavailable; retry with the same body", body = ErrorBody)))]
async fn deliver(
    KioskHand(kiosk): KioskHand,
    State(state): State<Services>,
    ApiJson(order): ApiJson<OfflineOrder>,
) -> Result<Response, ApiError> {
    let request_hash: [u8; 32] =
        Sha256::digest(serde_json::to_vec(&order).map_err(ApiError::internal)?).into();
    Ok(match state.offline_sales.deliver(&kiosk, order, request_hash).await? {
        Captured::New(response) => {
            print_ticket(&state, &response).await;
            receipt_response(response, false)
        }
        Captured::Replayed(response) => receipt_response(response, true),
    })
}

/// What a kiosk holds in its offline queue.
#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Held {
    /// Orders taken offline and not delivered yet.
    orders: u32,
    /// Their total (minor units).
    total: i64,
}

/// The kiosk says what it still holds; the dashboard shows it beside the kiosk, and the
/// runway counts it.
#[utoipa::path(put, path = "/api/v1/kiosk/held", tag = "commerce", operation_id = "kiosk_held",
    params(("X-Boothcloud-Kiosk" = String, Header, description = "the enrolled kiosk's token")),
    request_body = Held,
    responses((status = 204),
              (status = 400, description = "malformed JSON", body = ErrorBody),
              (status = 401, description = "not an enrolled kiosk (`kiosk_not_enrolled`)", body = ErrorBody),
              (status = 422, description = "a count or amount out of range", body = ErrorBody)))]
async fn held(
    KioskHand(kiosk): KioskHand,
    State(state): State<Services>,
    ApiJson(held): ApiJson<Held>,
) -> Result<StatusCode, ApiError> {
    if held.orders > MAX_WAITING || !(0..=i64::MAX / 4).contains(&held.total) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "orders and total must be counts the kiosk could hold",
        ));
    }
    state.kiosks.report_waiting(&kiosk, Waiting { orders: held.orders, total: held.total });
    Ok(StatusCode::NO_CONTENT)
}
