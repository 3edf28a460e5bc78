//! The accept loop: HTTP/1.1 with bounded headers and timeouts, and graceful shutdown.
//!
//! Written out (instead of `axum::serve`) for the limits: at most 64 headers, 32 KiB of
//! request head, and 10 s to send it — a client cannot hold the node with a slow or
//! oversize header. On shutdown the listener closes at once and requests in flight get
//! up to `DRAIN` to finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::telemetry::Telemetry;
use tower::ServiceExt;

pub const MAX_HEADERS: usize = 64;
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const DRAIN: Duration = Duration::from_secs(10);

/// With `sessions`, each request is counted in its client's session (see
/// `telemetry::arrived`) here, where the connection's address is known.
pub async fn serve(listener: TcpListener, router: Router, shutdown: impl Future<Output = ()>, sessions: Option<Arc<Telemetry>>) {
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
                let telemetry = sessions.clone();
                let service = router.clone().map_request(move |req: axum::http::Request<hyper::body::Incoming>| {
                    if let Some(t) = &telemetry {
                        crate::telemetry::arrived(t, peer, &req);
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
