//! The one layer every route runs inside: a handler that panics answers the JSON 500
//! instead of taking its connection down, and every request is timed into telemetry
//! under the route template the router matched (when timing is on).
//!
//! Why one layer for both: axum wraps every route in each layer given to
//! `Router::layer`, and each wrap costs a boxed clone and an allocation on every
//! request. As two layers (tower-http's panic catcher and a timing layer) timing cost
//! ~1,000 more instructions per request than the timing itself (callgrind,
//! `bench/callgrind-telemetry.sh`); sharing the wrap the panic catcher needs anyway
//! leaves timing only its own work. Never: decides anything about the request.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::MatchedPath;
use axum::http::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::telemetry::{RouteTiming, Telemetry, Timer, UNMATCHED};

/// `telemetry`: `None` when timing is off (only to measure what timing costs).
#[derive(Clone)]
pub struct GuardLayer {
    pub telemetry: Option<Arc<Telemetry>>,
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = Guard<S>;

    /// Called once per route and method the router lays out: each gets its own
    /// [`RouteTiming`], shared by the clones the router makes per request.
    fn layer(&self, inner: S) -> Guard<S> {
        Guard { inner, timing: self.telemetry.clone().map(|t| Arc::new(RouteTiming::new(t))), template: None }
    }
}

#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    timing: Option<Arc<RouteTiming>>,
    /// The route template to time under when the service is not behind the router
    /// (which names it in `MatchedPath`).
    template: Option<&'static str>,
}

impl<S> Guard<S> {
    /// A guard for one service reached without the router, timed under `template`.
    pub fn fixed(inner: S, telemetry: Option<Arc<Telemetry>>, template: &'static str) -> Guard<S> {
        Guard { inner, timing: telemetry.map(|t| Arc::new(RouteTiming::new(t))), template: Some(template) }
    }
}

fn panicked() -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the node hit an internal error; it has been logged").into_response()
}

impl<S, B> tower::Service<Request<B>> for Guard<S>
where
    S: tower::Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Guarded<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let timer = self.timing.as_ref().map(|t| {
            let template = self.template.unwrap_or_else(|| req.extensions().get::<MatchedPath>().map_or(UNMATCHED, MatchedPath::as_str));
            t.timer(req.method(), template)
        });
        let inner = &mut self.inner;
        match catch_unwind(AssertUnwindSafe(|| inner.call(req))) {
            Ok(future) => Guarded { future: Some(future), timer },
            // The 500 is made (and timed) when polled.
            Err(_) => Guarded { future: None, timer },
        }
    }
}

pin_project_lite::pin_project! {
    /// The route's future; `None` when the call itself panicked (the 500 is made on poll).
    pub struct Guarded<F> {
        #[pin]
        future: Option<F>,
        timer: Option<Timer>,
    }
}

impl<F, E> Future for Guarded<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = match this.future.as_pin_mut() {
            None => Ok(panicked()),
            Some(future) => match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(out)) => out,
                Err(_) => Ok(panicked()),
            },
        };
        if let (Some(timer), Ok(response)) = (this.timer.take(), &out) {
            timer.finish(response.status().as_u16());
        }
        Poll::Ready(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    async fn boom() -> &'static str {
        panic!("a bug in a handler")
    }

    fn app(telemetry: Option<Arc<Telemetry>>) -> Router {
        Router::new().route("/boom/{n}", get(boom)).route("/fine", get(|| async { "fine" })).layer(GuardLayer { telemetry })
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_the_json_500_and_is_timed_as_one() {
        let clock = ManualClock::new("2026-12-01T10:00:00Z".parse().unwrap());
        let telemetry = Arc::new(Telemetry::new(Arc::new(clock)));
        let app = app(Some(telemetry.clone()));
        let res = app.clone().oneshot(Request::get("/boom/7").body(axum::body::Body::empty()).unwrap()).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(res.into_body(), 4096).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], "internal");
        // The router goes on serving, and both answers are recorded under their templates.
        let res = app.oneshot(Request::get("/fine").body(axum::body::Body::empty()).unwrap()).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let routes = telemetry.routes();
        let boom = routes.iter().find(|r| r.route == "/boom/{n}").expect("the panic is timed");
        assert_eq!((boom.event.requests, boom.event.errors), (1, 1));
        assert!(routes.iter().any(|r| r.route == "/fine" && r.event.requests == 1 && r.event.errors == 0));
    }

    #[tokio::test]
    async fn with_timing_off_a_panic_is_still_caught() {
        let res = app(None).oneshot(Request::get("/boom/1").body(axum::body::Body::empty()).unwrap()).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
