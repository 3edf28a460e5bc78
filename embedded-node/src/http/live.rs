//! The live feed of the booth screen: a server-sent-events stream of the operator's
//! snapshot, once a second.
//!
//! Owns: `GET /api/v1/ops/stream`. Each message is `event: snapshot` with the same JSON
//! as `GET /api/v1/ops/status`; a snapshot that cannot be taken (the database is busy
//! or gone) is sent as `event: problem` with the usual error body, and the stream goes
//! on. The stream ends when the node stops, so shutdown never waits for dashboards, and
//! when the operator token is rotated, so a stream opened with the old token does not
//! outlive it (the dashboard reconnects with the new one).
//! The operator token goes in the `Authorization` header (the dashboard reads the
//! stream with `fetch`, not `EventSource`, so the token never lands in a URL or a log).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ErrorBody;
use super::extract::Operator;
use super::status::ops_snapshot;
use crate::services::Services;

/// How often a snapshot is sent.
pub const PERIOD: Duration = Duration::from_secs(1);

pub fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(stream))
}

/// Live snapshots for the dashboard (`text/event-stream`): one at once, then one a second.
#[utoipa::path(get, path = "/api/v1/ops/stream", tag = "operator", security(("operator" = [])),
    responses(
        (status = 200, content_type = "text/event-stream",
            description = "`event: snapshot` with an `OpsStatus` as data, every second; `event: problem` with an error body when a snapshot fails"),
        (status = 401, body = ErrorBody)))]
async fn stream(
    op: Operator,
    State(state): State<Services>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut ticks = tokio::time::interval(PERIOD);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let stopping = state.stopping.clone();
    let mut rotated = state.operator_token.rotations();
    // A rotation between the token's check and now ends the stream at once.
    if *rotated.borrow() == op.generation {
        rotated.mark_unchanged();
    } else {
        rotated.mark_changed();
    }
    let feed = stream::unfold(
        (state, ticks, stopping, rotated),
        |(state, mut ticks, mut stopping, mut rotated)| async move {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stopping.wait_for(|stop| *stop) => return None,
                _ = rotated.changed() => return None,
            }
            let event = match ops_snapshot(&state).await {
                Ok(snapshot) => Event::default().event("snapshot").json_data(&snapshot),
                Err(e) => Event::default().event("problem").json_data(e.body()),
            };
            let event = event.unwrap_or_else(|_| Event::default().event("problem").data("{}"));
            Some((Ok(event), (state, ticks, stopping, rotated)))
        },
    );
    Sse::new(feed).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
