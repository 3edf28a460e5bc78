//! Printing over HTTP: the printers and their state (the lead), an order's print jobs,
//! a reprint, a receipt a customer asked for, and releasing what a printer held after an
//! outage (staff at the counter, or the lead); and, for paired booths, taking a job of
//! theirs onto a printer here and saying where it is (signed, with proofs).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::Operator;
use super::offline_sales::KioskHand;
use super::peers::{proven, SignedPeer};
use super::selling::CounterHand;
use crate::printing::peer::{ForwardAnswer, ForwardRequest};
use crate::printing::{PrintError, PrintJob, PrinterView};
use crate::services::Services;

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(printers))
        .routes(routes!(jobs))
        .routes(routes!(reprint))
        .routes(routes!(receipt))
        .routes(routes!(label))
        .routes(routes!(release))
        .routes(routes!(kiosk_receipt))
        .routes(routes!(test_print))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(preview))
        .routes(routes!(take_forwarded))
        .routes(routes!(forwarded_job))
}

impl From<PrintError> for ApiError {
    fn from(e: PrintError) -> ApiError {
        match e {
            PrintError::UnknownJob | PrintError::UnknownOrder | PrintError::UnknownPrinter(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            PrintError::NoPrinterFor(_) => {
                ApiError::new(StatusCode::CONFLICT, "no_printer", e.to_string())
            }
            PrintError::NotAtKiosk(_) => {
                ApiError::new(StatusCode::CONFLICT, "not_at_kiosk", e.to_string())
            }
            PrintError::CannotPrint(..) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "printer_unavailable", e.to_string())
            }
            PrintError::BadTicket(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_print_job", e.to_string())
            }
            PrintError::Database(d) => ApiError::internal(d),
        }
    }
}

/// The manifest's printers: identity, address, role, state, paper and queue.
#[utoipa::path(get, path = "/api/v1/ops/printers", tag = "operator", operation_id = "printers_list", security(("operator" = [])),
    responses((status = 200, body = Vec<PrinterView>), (status = 401, body = ErrorBody)))]
async fn printers(
    _: Operator,
    State(state): State<Services>,
) -> Result<Json<Vec<PrinterView>>, ApiError> {
    Ok(Json(state.printing.printers().await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JobsQuery {
    /// The order whose jobs to list.
    order: String,
}

/// An order's print jobs (originals and reprints), oldest first.
#[utoipa::path(get, path = "/api/v1/ops/print-jobs", tag = "operator", operation_id = "print_jobs_of_order",
    params(JobsQuery),
    responses((status = 200, body = Vec<PrintJob>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn jobs(
    _: CounterHand,
    State(state): State<Services>,
    Query(q): Query<JobsQuery>,
) -> Result<Json<Vec<PrintJob>>, ApiError> {
    if q.order.is_empty() || q.order.len() > 64 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "order must be an order id",
        ));
    }
    Ok(Json(state.printing.jobs.of_order(&q.order).await.map_err(PrintError::from)?))
}

/// Prints a job again: a new job, the next copy, marked REPRINT and linked to it.
/// Audited.
#[utoipa::path(post, path = "/api/v1/ops/print-jobs/{id}/reprint", tag = "operator", operation_id = "print_jobs_reprint",
    params(("id" = String, Path)),
    responses((status = 201, body = PrintJob), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn reprint(
    hand: CounterHand,
    State(state): State<Services>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<PrintJob>), ApiError> {
    let done = state.printing.reprint(&id, hand.name()).await;
    let result = done.as_ref().map(|_| ()).map_err(ToString::to_string);
    state.audit.record(hand.who(), "reprint", Some(id), None, result).await;
    Ok((StatusCode::CREATED, Json(done?)))
}

/// Prints an order's receipt on the receipts printer (a customer asked for one).
#[utoipa::path(post, path = "/api/v1/ops/orders/{id}/receipt-print", tag = "operator", operation_id = "print_receipt",
    params(("id" = String, Path)),
    responses((status = 202), (status = 401, body = ErrorBody), (status = 409, description = "no printer prints receipts (`no_printer`)", body = ErrorBody)))]
async fn receipt(
    _: CounterHand,
    State(state): State<Services>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.printing.print_receipt(&id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Prints an order's label (its bag or parcel) on the labels printer.
#[utoipa::path(post, path = "/api/v1/ops/orders/{id}/label-print", tag = "operator", operation_id = "print_label",
    params(("id" = String, Path)),
    responses((status = 202), (status = 401, body = ErrorBody), (status = 409, description = "no printer prints labels (`no_printer`)", body = ErrorBody)))]
async fn label(
    _: CounterHand,
    State(state): State<Services>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.printing.print_label(&id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Prints what a printer held after an outage ("Print 14 waiting tickets?"). Answers
/// how many.
#[utoipa::path(post, path = "/api/v1/ops/printers/{name}/release", tag = "operator", operation_id = "printers_release",
    params(("name" = String, Path)),
    responses((status = 200, body = u64), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn release(
    hand: CounterHand,
    State(state): State<Services>,
    Path(name): Path<String>,
) -> Result<Json<u64>, ApiError> {
    let done = state.printing.release(&name).await;
    let result = done.as_ref().map(|_| ()).map_err(ToString::to_string);
    state.audit.record(hand.who(), "print held jobs", Some(name), None, result).await;
    Ok(Json(done?))
}

/// The receipt of the order an enrolled kiosk just took, on the receipts printer (the
/// customer pressed "Print a receipt"). Once per order; only for an order of the last
/// few minutes.
#[utoipa::path(post, path = "/api/v1/kiosk/orders/{id}/receipt-print", tag = "commerce", operation_id = "kiosk_print_receipt",
    params(("id" = String, Path), ("X-Boothcloud-Kiosk" = String, Header, description = "the enrolled kiosk's token")),
    responses((status = 202), (status = 401, description = "not an enrolled kiosk (`kiosk_not_enrolled`)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "no printer prints receipts (`no_printer`), receipts are off at kiosks or the order is not fresh (`not_at_kiosk`)", body = ErrorBody)))]
async fn kiosk_receipt(
    KioskHand(kiosk): KioskHand,
    State(state): State<Services>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if id.is_empty() || id.len() > 64 {
        return Err(PrintError::UnknownOrder.into());
    }
    state.printing.kiosk_receipt(&id).await?;
    tracing::info!(kiosk = %kiosk.name, order = %id, "a customer asked for a printed receipt");
    Ok(StatusCode::ACCEPTED)
}

/// A test page on one printer (what a pickup ticket looks like on its paper), through
/// the queue like any job. Audited.
#[utoipa::path(post, path = "/api/v1/ops/printers/{name}/test-print", tag = "operator", operation_id = "printers_test_print", security(("operator" = [])),
    params(("name" = String, Path)),
    responses((status = 201, body = PrintJob), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn test_print(
    op: Operator,
    State(state): State<Services>,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<PrintJob>), ApiError> {
    let done = state.printing.test_print(&name, "lead").await;
    let result = done.as_ref().map(|_| ()).map_err(ToString::to_string);
    state.audit.record(&op.who, "test print", Some(name), None, result).await;
    Ok((StatusCode::CREATED, Json(done?)))
}

/// Pauses a printer (a roll to change, a jam to clear): nothing is sent to it and no
/// printer hands it jobs; its jobs wait, kept across a restart. Audited.
#[utoipa::path(post, path = "/api/v1/ops/printers/{name}/pause", tag = "operator", operation_id = "printers_pause", security(("operator" = [])),
    params(("name" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn pause(
    op: Operator,
    State(state): State<Services>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_paused(op, state, name, true).await
}

/// Resumes a paused printer: what waited prints, each once. Audited.
#[utoipa::path(post, path = "/api/v1/ops/printers/{name}/resume", tag = "operator", operation_id = "printers_resume", security(("operator" = [])),
    params(("name" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn resume(
    op: Operator,
    State(state): State<Services>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_paused(op, state, name, false).await
}

async fn set_paused(
    op: Operator,
    state: Services,
    name: String,
    paused: bool,
) -> Result<StatusCode, ApiError> {
    let done = state.printing.set_paused(&name, paused, "lead").await;
    let result = done.as_ref().map(|_| ()).map_err(ToString::to_string);
    let what = if paused { "pause printer" } else { "resume printer" };
    state.audit.record(&op.who, what, Some(name), None, result).await;
    done?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a ticket looks like on this printer's paper: a PNG of the very drawing a raster
/// printer gets.
#[utoipa::path(get, path = "/api/v1/ops/printers/{name}/preview", tag = "operator", operation_id = "printers_preview", security(("operator" = [])),
    params(("name" = String, Path)),
    responses((status = 200, content_type = "image/png", body = Vec<u8>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn preview(
    _: Operator,
    State(state): State<Services>,
    Path(name): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let png = state.printing.preview(&name).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/png"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        png,
    )
        .into_response())
}

/// A paired booth's job for a printer here (that booth's printer is down and names this
/// one as its fallback, `printer@booth`). Taken once per (booth, order, kind, copy): sent
/// again, it answers the job it already is. Refused with 503 while the printer here
/// cannot print (the asking booth keeps its job). Signed; answers with a proof.
#[utoipa::path(post, path = "/api/v1/peer/print-jobs", tag = "peers", request_body = ForwardRequest,
    params(("x-boothcloud-signature" = String, Header, description = "v1 from=… to=… ts=… nonce=… mac=…")),
    responses((status = 200, body = ForwardAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no printer of that name here", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, description = "the job or its ticket cannot be read or is out of bounds", body = ErrorBody),
        (status = 503, description = "the printer cannot print now", body = ErrorBody)))]
async fn take_forwarded(
    State(state): State<Services>,
    signed: SignedPeer,
) -> Result<axum::response::Response, ApiError> {
    let req: ForwardRequest = serde_json::from_slice(&signed.body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_print_job",
            format!("the print job could not be read: {e}"),
        )
    })?;
    let answer = state.printing.take_forwarded(&signed.sig.from, &req).await?;
    tracing::info!(from = %signed.sig.from, printer = %req.printer, job = %answer.job_id, "took a paired booth's print job");
    proven(&state, &signed.sig, &answer)
}

/// Where a job this booth took from the asking booth is. Only that booth's own jobs.
/// Signed; answers with a proof.
#[utoipa::path(get, path = "/api/v1/peer/print-jobs/{id}", tag = "peers",
    params(("id" = String, Path), ("x-boothcloud-signature" = String, Header, description = "v1 from=… to=… ts=… nonce=… mac=…")),
    responses((status = 200, body = ForwardAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such job of the asking booth's here", body = ErrorBody)))]
async fn forwarded_job(
    State(state): State<Services>,
    Path(id): Path<String>,
    signed: SignedPeer,
) -> Result<axum::response::Response, ApiError> {
    let answer = state.printing.forwarded_job(&signed.sig.from, &id).await?;
    proven(&state, &signed.sig, &answer)
}
