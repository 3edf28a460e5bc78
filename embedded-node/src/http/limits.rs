//! The rate-limit gate at the edge: a request over its client's limit (`crate::limits`)
//! is answered `429` with `Retry-After` (whole seconds, at least 1) and the JSON error
//! in words, before any handler runs. Layered inside timing, so a refusal is timed and
//! counted under its route like any answer.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::limits::{Group, Limits};

pub async fn limit(State(limits): State<Arc<Limits>>, req: Request, next: Next) -> Response {
    // Decided on borrowed parts of the request: nothing is copied on this hot path.
    let refused = {
        let route = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
        let client = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let peer_signed =
            req.headers().contains_key(boothcloud_core::signing::peer::SIGNATURE_HEADER);
        match (route, client) {
            (Some(route), Some(client)) => Group::of(req.method().as_str(), route, peer_signed)
                .and_then(|group| limits.check(group, client, route).err().map(|w| (group, w))),
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
