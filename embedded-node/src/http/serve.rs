//! The accept loop: HTTP/1.1 over TLS (the booth's port) or plain (the enrollment
//! port), with bounded headers and timeouts, a bound on connections, and graceful
//! shutdown.
//!
//! Written out (axum's `serve-with-hyper` example) rather than `axum::serve` for the
//! limits: at most 64 headers, 32 KiB of request head and 10 s to send it, so a client
//! cannot hold the node with a slow or oversize header; and at most
//! [`MAX_CONNECTIONS`] connections at once, past which new ones wait in the listen
//! queue. On shutdown the listener closes at once and requests in flight get up to
//! `DRAIN` to finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

pub const MAX_HEADERS: usize = 64;
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
/// Connections served at once. A booth has tens of devices; this only keeps a flood of
/// connections from exhausting file descriptors.
pub const MAX_CONNECTIONS: usize = 1024;
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A TLS handshake takes milliseconds on a LAN; one that does not finish in this long
/// gives its connection slot back.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// The address a request arrived at (this machine's side of the connection): a client
/// whose own address is this one is on this machine.
#[derive(Debug, Clone, Copy)]
pub struct Arrived(pub SocketAddr);
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight
/// finish (up to `DRAIN`). Each request carries its client's address (`ConnectInfo`).
/// With `tls`, every connection is a TLS one (a handshake that does not finish within
/// the header timeout is dropped); without, plain HTTP.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()>,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS)
        .header_read_timeout(HEADER_TIMEOUT)
        .timer(TokioTimer::new())
        .keep_alive(true);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().ok();
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            if let Some(local) = local {
                req.extensions_mut().insert(Arrived(local));
            }
            app.clone().oneshot(req.map(axum::body::Body::new))
        });
        let watcher = graceful.watcher();
        let http = http.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let ended = match acceptor {
                None => watcher.watch(http.serve_connection(TokioIo::new(stream), service)).await,
                Some(acceptor) => {
                    let stream = match tokio::time::timeout(
                        HANDSHAKE_TIMEOUT,
                        acceptor.accept(stream),
                    )
                    .await
                    {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, %peer, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    };
                    watcher.watch(http.serve_connection(TokioIo::new(stream), service)).await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("some requests were still running after {DRAIN:?}; closing them");
    }
}
