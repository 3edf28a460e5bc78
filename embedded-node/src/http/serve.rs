//! The accept loop: HTTP/1.1 with bounded headers and timeouts, connections spread
//! over one single-threaded runtime per core, and graceful shutdown.
//!
//! Written out (instead of `axum::serve`) for the limits: at most 64 headers, 32 KiB of
//! request head, and 10 s to send it — a client cannot hold the node with a slow or
//! oversize header. On shutdown the listener closes at once and requests in flight get
//! up to `DRAIN` to finish.
//!
//! Why connections live on [`Workers`] rather than on the node's multi-threaded
//! runtime: a cache hit is a few microseconds of work, and on the work-stealing
//! scheduler a good share of a hit went into the two workers waking and stealing from
//! each other (perf: `finish_task_switch`, cross-core wake-ups) and into sharing the
//! timer wheel that arms each request's header timeout. Each connection is handed to
//! one worker thread (round robin, in accept order) and stays there: its socket, its
//! timers and its request futures never change core — nginx's shape, one event loop
//! per core. What handlers spawn (a background revalidation, a warm-up) runs on the
//! same worker; the node's long-running jobs stay on the main runtime.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use std::convert::Infallible;

use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;

use crate::telemetry::{ConnectionSessions, Telemetry};
use tower::ServiceExt;

pub const MAX_HEADERS: usize = 64;
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const DRAIN: Duration = Duration::from_secs(10);

/// The threads that serve connections: one single-threaded tokio runtime per core,
/// each on its own OS thread. Started before serving and stopped after everything the
/// node runs has ended, so work a request started on a worker is never cut short by
/// the worker going away first.
pub struct Workers {
    handles: Vec<Handle>,
    stops: Vec<tokio::sync::oneshot::Sender<()>>,
    ended: Vec<tokio::sync::oneshot::Receiver<()>>,
    next: AtomicUsize,
}

impl Workers {
    /// One worker per core the process may use. A worker that cannot be started (no
    /// threads left) is left out; with none, connections are served on the caller's
    /// runtime, as before workers existed.
    pub fn per_core() -> Workers {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Workers::start(cores)
    }

    /// `count` workers (0: serve on the caller's runtime).
    pub fn start(count: usize) -> Workers {
        let mut workers = Workers::none();
        for i in 0..count {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot start an HTTP worker; serving on fewer");
                    break;
                }
            };
            let handle = runtime.handle().clone();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let (ended_tx, ended) = tokio::sync::oneshot::channel::<()>();
            let spawned = std::thread::Builder::new().name(format!("http-worker-{i}")).spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
                // Dropping the runtime ends what is still on it (idle keep-alive
                // connections: the drain has already waited for requests in flight).
                drop(runtime);
                let _ = ended_tx.send(());
            });
            match spawned {
                Ok(_) => {
                    workers.handles.push(handle);
                    workers.stops.push(stop);
                    workers.ended.push(ended);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot start an HTTP worker thread; serving on fewer");
                    break;
                }
            }
        }
        workers
    }

    /// No workers: connections are served on the runtime that runs [`serve`].
    pub fn none() -> Workers {
        Workers { handles: Vec::new(), stops: Vec::new(), ended: Vec::new(), next: AtomicUsize::new(0) }
    }

    /// The worker for the next connection (its number and runtime), round robin; `None`
    /// with no workers.
    fn next(&self) -> Option<(usize, &Handle)> {
        if self.handles.is_empty() {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len();
        Some((i, &self.handles[i]))
    }

    /// Ends every worker and waits until each thread has dropped its runtime.
    pub async fn stop(self) {
        for stop in self.stops {
            let _ = stop.send(());
        }
        for ended in self.ended {
            let _ = ended.await;
        }
    }
}

/// Serves `listener` until `shutdown`, each connection on one of `workers`.
///
/// `make` builds the node's service once per worker: a connection gets a clone of its
/// worker's copy, so the reference counts its requests bump (the router's, each route's
/// guard's) belong to one core. With one copy shared by all, every request moved those
/// cache lines between the cores.
///
/// With `sessions`, each request is counted in its client's session (see
/// `telemetry::ConnectionSessions`) here, where the connection's address is known.
pub async fn serve<S>(
    listener: TcpListener,
    make: impl Fn() -> S,
    shutdown: impl Future<Output = ()>,
    sessions: Option<Arc<Telemetry>>,
    workers: &Workers,
) where
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
    let copies: Vec<S> = (0..workers.handles.len().max(1)).map(|_| make()).collect();
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
                let (copy, worker) = match workers.next() {
                    Some((i, worker)) => (&copies[i], Some(worker)),
                    None => (&copies[0], None),
                };
                let stream = match worker {
                    None => stream,
                    // The socket moves to the worker's own I/O driver.
                    Some(worker) => match rehome(stream, worker) {
                        Ok(stream) => stream,
                        Err(e) => {
                            tracing::debug!(error = %e, "cannot hand a connection to a worker");
                            continue;
                        }
                    },
                };
                // The peer's address goes to telemetry's sessions (hashed there, never kept).
                let service = ConnectionService {
                    service: std::cell::RefCell::new(copy.clone()),
                    sessions: sessions.clone().map(|t| ConnectionSessions::new(t, peer)),
                };
                let conn = http.serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                let task = async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                };
                match worker {
                    Some(worker) => drop(worker.spawn(task)),
                    None => drop(tokio::spawn(task)),
                }
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("some requests were still running after {DRAIN:?}; closing them");
    }
}

/// One connection's service: counts each request in its client's session, then hands
/// it to the connection's own copy of the node's service.
///
/// Owned by the connection alone and called once per request, in turn (hyper's HTTP/1
/// dispatcher never calls it while a call is under way), so it needs no lock: the
/// sessions and the service sit in `RefCell`s. Calling the connection's copy in place
/// saves a clone of the node's service per request (as hyper-util's
/// `TowerToHyperService` makes), and with it an increment and a decrement of reference
/// counts that every core shares.
struct ConnectionService<S> {
    service: std::cell::RefCell<S>,
    sessions: Option<ConnectionSessions>,
}

impl<S> hyper::service::Service<Request<Incoming>> for ConnectionService<S>
where
    S: tower::Service<Request<Incoming>, Response = axum::response::Response, Error = Infallible> + Clone,
{
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = futures_util::future::Either<S::Future, tower::util::Oneshot<S, Request<Incoming>>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        use futures_util::future::Either;
        use std::task::{Context, Poll, Waker};
        if let Some(sessions) = &self.sessions {
            sessions.arrived(&req);
        }
        let mut service = self.service.borrow_mut();
        // The node's services are always ready; one that is not would be waited for
        // on a clone, as hyper-util does.
        match service.poll_ready(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Ok(())) => Either::Left(service.call(req)),
            _ => Either::Right(service.clone().oneshot(req)),
        }
    }
}

/// The same socket, registered with `worker`'s I/O driver instead of this runtime's.
fn rehome(stream: TcpStream, worker: &Handle) -> std::io::Result<TcpStream> {
    let std = stream.into_std()?;
    let _inside = worker.enter();
    TcpStream::from_std(std)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;

    /// Each answer names the thread that served it; `Connection: close` makes every
    /// request a new connection.
    async fn threads_serving(workers: &Workers, requests: usize) -> Vec<String> {
        let router = Router::new().route("/thread", get(|| async { std::thread::current().name().unwrap_or("unnamed").to_owned() }));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let client = async move {
            let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
            let mut names = Vec::new();
            for _ in 0..requests {
                let r = http.get(format!("http://{addr}/thread")).header("connection", "close").send().await.unwrap();
                names.push(r.text().await.unwrap());
            }
            let _ = stop.send(());
            names
        };
        let server = serve(
            listener,
            move || router.clone(),
            async {
                let _ = stopped.await;
            },
            None,
            workers,
        );
        let (names, ()) = tokio::join!(client, server);
        names
    }

    #[tokio::test]
    async fn connections_are_dealt_round_robin_to_the_workers() {
        let workers = Workers::start(2);
        let names = threads_serving(&workers, 6).await;
        workers.stop().await;
        assert_eq!(names.iter().filter(|n| *n == "http-worker-0").count(), 3, "{names:?}");
        assert_eq!(names.iter().filter(|n| *n == "http-worker-1").count(), 3, "{names:?}");
    }

    #[tokio::test]
    async fn with_no_workers_the_callers_runtime_serves() {
        let names = threads_serving(&Workers::none(), 2).await;
        assert!(names.iter().all(|n| !n.starts_with("http-worker")), "{names:?}");
    }
}
