//! The one HTTP error type. Every module's error becomes `{"error":{"code","message"}}`
//! with the right status here, and nowhere else. Internal errors are logged in full
//! and reach the client only as "internal".

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::checkout::CheckoutError;
use crate::orders::OrderError;
use boothcloud_core::pricing::PricingError;
use boothcloud_core::signing::quote::QuoteTokenError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: clients branch on this.
    pub code: String,
    /// What happened and what to do, for people.
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }

    /// The booth has begun its teardown: `410 Gone`, so kiosks stop retrying.
    pub fn booth_closed(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::GONE,
            "booth_closed",
            format!("This booth has closed for the event and takes no new {what}."),
        )
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("{what} was not found"))
    }

    /// The JSON body this error is sent as.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail { code: self.code.to_owned(), message: self.message.clone() },
        }
    }

    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        tracing::error!(%error, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the node hit an internal error; it has been logged",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        match self.status {
            StatusCode::UNAUTHORIZED => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

impl From<PricingError> for ApiError {
    fn from(e: PricingError) -> ApiError {
        let code = match e {
            PricingError::EmptyBasket => "empty_basket",
            PricingError::TooManyLines { .. } => "too_many_lines",
            PricingError::UnknownSku(_) => "unknown_sku",
            PricingError::BadQuantity { .. } => "bad_quantity",
            PricingError::TooManyUnits { .. } => "too_many_units",
            PricingError::UnknownTier(_) => "unknown_tier",
        };
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string())
    }
}

impl From<QuoteTokenError> for ApiError {
    fn from(e: QuoteTokenError) -> ApiError {
        let code = match e {
            QuoteTokenError::Expired(_) => "quote_expired",
            QuoteTokenError::Malformed
            | QuoteTokenError::BadSignature
            | QuoteTokenError::WrongEvent => "invalid_quote_token",
        };
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string())
    }
}

impl From<OrderError> for ApiError {
    fn from(e: OrderError) -> ApiError {
        match e {
            OrderError::KeyConflict => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                e.to_string(),
            ),
            OrderError::QuoteUsed => {
                ApiError::new(StatusCode::CONFLICT, "quote_already_used", e.to_string())
            }
            OrderError::OutOfStock { .. } => {
                ApiError::new(StatusCode::CONFLICT, "out_of_stock", e.to_string())
            }
            OrderError::Unavailable(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", e.to_string())
            }
            OrderError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "order_not_found", "no order has this id")
            }
            OrderError::WouldLose(_) => {
                ApiError::new(StatusCode::CONFLICT, "unsynced_orders", e.to_string())
            }
            OrderError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<CheckoutError> for ApiError {
    fn from(e: CheckoutError) -> ApiError {
        match e {
            CheckoutError::Closed => ApiError::booth_closed("orders"),
            CheckoutError::TierNotAllowed(_) => {
                ApiError::new(StatusCode::FORBIDDEN, "tier_not_allowed", e.to_string())
            }
            CheckoutError::Pricing(e) => e.into(),
            CheckoutError::Token(e) => e.into(),
            CheckoutError::Order(e) => e.into(),
            CheckoutError::OfflineLimit(why) => {
                ApiError::new(StatusCode::FORBIDDEN, "offline_limit", why)
            }
            CheckoutError::BadContact(why) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_contact", why)
            }
            CheckoutError::PaymentNotAllowed(why) => {
                ApiError::new(StatusCode::FORBIDDEN, "payment_not_allowed", why)
            }
            CheckoutError::BadPayment(why) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_payment", why)
            }
        }
    }
}

impl From<crate::orders::CounterError> for ApiError {
    fn from(e: crate::orders::CounterError) -> ApiError {
        use crate::orders::CounterError as C;
        let (status, code) = match &e {
            C::NotFound => (StatusCode::NOT_FOUND, "order_not_found"),
            C::InvalidTransition { .. } => (StatusCode::CONFLICT, "invalid_transition"),
            C::PaymentNeeded => (StatusCode::UNPROCESSABLE_ENTITY, "payment_needed"),
            C::AlreadySynced => (StatusCode::CONFLICT, "already_synced"),
            C::RefundExceeds { .. } => (StatusCode::CONFLICT, "refund_exceeds"),
            C::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            C::Database(_) => return ApiError::internal(e),
        };
        ApiError::new(status, code, e.to_string())
    }
}
