//! The rate-limit gate at the edge: a request over its client's limit (`crate::limits`)
//! is answered `429` with `Retry-After` (whole seconds, at least 1) and the JSON error
//! in words, before any handler runs. Layered inside timing, so a refusal is timed and
//! counted under its route like any answer.
//!
//! A limited request carrying an enrolled kiosk's token (`X-Boothcloud-Kiosk`) is
//! limited as that kiosk, with its larger share; a token that is unknown or revoked is refused
//! (`401 kiosk_not_enrolled`), so a revoked kiosk knows at once.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::kiosks::{Kiosks, KIOSK_HEADER};
use crate::limits::{Group, Limits};

#[derive(Clone)]
pub struct Gate {
    pub limits: Arc<Limits>,
    pub kiosks: Arc<Kiosks>,
}

pub async fn limit(State(gate): State<Gate>, req: Request, next: Next) -> Response {
    // Only the limited routes look at a kiosk's token (the others treat every caller alike).
    let limited = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|r| Group::of(req.method().as_str(), r.as_str(), false).is_some());
    let kiosk = match req.headers().get(KIOSK_HEADER).filter(|_| limited) {
        None => None,
        Some(token) => match token.to_str().ok().and_then(|t| gate.kiosks.check(t.trim())) {
            Some(kiosk) => Some(kiosk),
            None => {
                return ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "kiosk_not_enrolled",
                    "This kiosk is not enrolled with the booth (or the lead revoked it): ask the booth lead to enroll it again.",
                )
                .into_response()
            }
        },
    };
    // Decided on borrowed parts of the request: nothing is copied on this hot path.
    let refused = {
        let route = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
        let client = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let peer_signed =
            req.headers().contains_key(boothcloud_core::signing::peer::SIGNATURE_HEADER);
        match (route, client) {
            (Some(route), Some(client)) => Group::of(req.method().as_str(), route, peer_signed)
                .and_then(|group| {
                    let checked = match &kiosk {
                        // A kiosk key on the laptop itself is the laptop: never limited.
                        Some(_) if crate::limits::is_this_machine(client) => Ok(()),
                        Some(k) => gate.limits.check_kiosk(group, &k.id, route),
                        None => gate.limits.check(group, client, route),
                    };
                    checked.err().map(|w| (group, w))
                }),
            _ => None,
        }
    };
    match refused {
        None => next.run(req).await,
        Some((group, wait)) => {
            let retry = wait.as_secs_f64().ceil().max(1.0) as u64;
            let mut res = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "This device is sending too many {} requests; try again in {retry} s.",
                    group.as_str()
                ),
            )
            .into_response();
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry));
            if group == Group::Uploads {
                // A tus client reads every answer of the endpoint as tus.
                res.headers_mut()
                    .insert("tus-resumable", HeaderValue::from_static(crate::media::tus::VERSION));
            }
            res
        }
    }
}
