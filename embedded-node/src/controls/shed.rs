//! Shedding: the gate in front of the booth's non-essential routes.
//!
//! Owns: which route groups the current degrade level refuses, and the refusal itself
//! (`503` with `Retry-After` and a JSON error in words). The gate is layered only on
//! the sheddable routers (uploads, clips, `/metrics`, charts), so quotes, orders and the
//! storefront cannot be shed by construction and pay nothing for it.

use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::{ready, Either, Ready};

use crate::http::error::ApiError;
use crate::manifest::{DegradeLevel, Sheddable};

#[derive(Default)]
pub struct ShedGate {
    /// One bit per `Sheddable`.
    mask: AtomicU8,
    retry_after_s: AtomicU32,
    level: Mutex<Arc<str>>,
}

impl ShedGate {
    pub fn set(&self, level: &DegradeLevel) {
        *self.level.lock().unwrap_or_else(|e| e.into_inner()) = level.name.as_str().into();
        self.retry_after_s.store(level.retry_after.as_secs().clamp(1, 3600) as u32, Ordering::Relaxed);
        self.mask.store(level.shed.iter().fold(0, |m, s| m | s.bit()), Ordering::Release);
    }

    pub fn sheds(&self, what: Sheddable) -> bool {
        self.mask.load(Ordering::Acquire) & what.bit() != 0
    }

    /// The answer to a request for `what` while it is shed.
    pub fn refusal(&self, what: Sheddable) -> Option<Response> {
        if !self.sheds(what) {
            return None;
        }
        let retry = self.retry_after_s.load(Ordering::Relaxed);
        let level = self.level.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut res = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shed",
            format!("The booth is in {level} mode and has paused {}; try again in {retry} s. Sales are not affected.", what.name()),
        )
        .into_response();
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry));
        Some(res)
    }
}

/// The layer in front of one sheddable router. Hand-written (like the timing layer)
/// so that a request passing the gate costs one atomic load and nothing boxed.
#[derive(Clone)]
pub struct ShedLayer {
    pub gate: Arc<ShedGate>,
    pub what: Sheddable,
}

impl<S> tower::Layer<S> for ShedLayer {
    type Service = Shed<S>;

    fn layer(&self, inner: S) -> Shed<S> {
        Shed { inner, gate: self.gate.clone(), what: self.what }
    }
}

#[derive(Clone)]
pub struct Shed<S> {
    inner: S,
    gate: Arc<ShedGate>,
    what: Sheddable,
}

impl<S> tower::Service<Request> for Shed<S>
where
    S: tower::Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        match self.gate.refusal(self.what) {
            Some(refused) => Either::Left(ready(Ok(refused))),
            None => Either::Right(self.inner.call(req)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_named_groups_are_refused_and_the_answer_says_when_to_come_back() {
        let gate = ShedGate::default();
        assert!(Sheddable::ALL.iter().all(|s| gate.refusal(*s).is_none()), "nothing is shed at first");
        let level = DegradeLevel {
            name: "essential".into(),
            shed: vec![Sheddable::Uploads, Sheddable::Charts],
            retry_after: jiff::SignedDuration::from_secs(45),
            ..DegradeLevel::normal()
        };
        gate.set(&level);
        let res = gate.refusal(Sheddable::Uploads).unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()[header::RETRY_AFTER], "45");
        assert!(gate.refusal(Sheddable::Charts).is_some());
        assert!(gate.refusal(Sheddable::Metrics).is_none() && gate.refusal(Sheddable::Clips).is_none());
        gate.set(&DegradeLevel::normal());
        assert!(Sheddable::ALL.iter().all(|s| gate.refusal(*s).is_none()), "back to normal sheds nothing");
    }
}
