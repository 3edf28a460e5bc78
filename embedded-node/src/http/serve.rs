//! The accept loop: HTTP/1.1 with bounded headers and timeouts, and graceful shutdown.
//!
//! Written out (instead of `axum::serve`) for the limits: at most 64 headers, 32 KiB of
//! request head, and 10 s to send it — a client cannot hold the node with a slow or
//! oversize header. On shutdown the listener closes at once and requests in flight get
//! up to `DRAIN` to finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use std::convert::Infallible;

use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::telemetry::{ConnectionSessions, Telemetry};
use tower::ServiceExt;

pub const MAX_HEADERS: usize = 64;
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const DRAIN: Duration = Duration::from_secs(10);

/// With `sessions`, each request is counted in its client's session (see
/// `telemetry::ConnectionSessions`) here, where the connection's address is known.
pub async fn serve<S>(listener: TcpListener, router: S, shutdown: impl Future<Output = ()>, sessions: Option<Arc<Telemetry>>)
where
    S: tower::Service<Request<Incoming>, Response = axum::response::Response, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS)
        .header_read_timeout(HEADER_TIMEOUT)
        .timer(TokioTimer::new())
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                // The peer's address goes to telemetry's sessions (hashed there, never kept).
                let connection = sessions.clone().map(|t| Arc::new(ConnectionSessions::new(t, peer)));
                let service = router.clone().map_request(move |req: Request<Incoming>| {
                    if let Some(c) = &connection {
                        c.arrived(&req);
                    }
                    req
                });
                let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("some requests were still running after {DRAIN:?}; closing them");
    }
}
