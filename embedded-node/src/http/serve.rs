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
//! one worker thread (the one on the core its packets arrive on, see [`Workers`]) and
//! stays there: its socket, its timers and its request futures never change core —
//! nginx's shape, one event loop per core. What handlers spawn (a background
//! revalidation, a warm-up) runs on the same worker; the node's long-running jobs stay
//! on the main runtime.

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

use super::cores;
use super::wire::Wire;
use crate::assets::pages::Pages;
use crate::telemetry::{ConnectionSessions, Telemetry};
use tower::ServiceExt;

pub const MAX_HEADERS: usize = 64;
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const DRAIN: Duration = Duration::from_secs(10);

/// The threads that serve connections: one single-threaded tokio runtime per core,
/// each on its own OS thread, held to its core. Started before serving and stopped after
/// everything the node runs has ended, so work a request started on a worker is never
/// cut short by the worker going away first.
///
/// A new connection goes to the worker on the core its packets arrive on (see
/// [`choose`]). On loopback that is the client's core: with kiosks simulated on the
/// booth laptop itself (the benchmarks, the simulator), each client thread and the
/// worker serving it then share a core's turns, and the worker answers in the gaps the
/// client leaves. Dealt round robin instead, a connection's client and worker sat on
/// different cores, each kept busy by the other core's traffic, and answers waited for
/// whole scheduler ticks: the p99 of a cache hit was 7–8 ms against under 1 ms
/// (BENCHMARKS.md, cache run 11). For a network card, it is the core that took the
/// packets off its receive queue, whose caches already hold the connection's socket.
pub struct Workers {
    workers: Vec<Worker>,
    turn: AtomicUsize,
}

struct Worker {
    handle: Handle,
    /// The core the worker's thread is held to; `None` when not pinned.
    cpu: Option<usize>,
    /// Connections it serves now.
    live: Arc<AtomicUsize>,
    stop: tokio::sync::oneshot::Sender<()>,
    ended: tokio::sync::oneshot::Receiver<()>,
}

impl Workers {
    /// One worker per core the process may use, each held to its core when `pin` (and
    /// the process may run on as many cores as it has workers). A worker that cannot be
    /// started (no threads left) is left out; with none, connections are served on the
    /// caller's runtime, as before workers existed.
    pub fn per_core(pin: bool) -> Workers {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Workers::start(cores, pin)
    }

    /// `count` workers (0: serve on the caller's runtime).
    pub fn start(count: usize, pin: bool) -> Workers {
        let mut workers = Workers::none();
        let allowed = cores::allowed();
        let pin = pin && allowed.len() >= count;
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
            let thread = match spawned {
                Ok(thread) => thread,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot start an HTTP worker thread; serving on fewer");
                    break;
                }
            };
            let cpu = allowed.get(i).copied().filter(|_| pin).filter(|&cpu| match cores::pin(&thread, cpu) {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(error = %e, cpu, "cannot hold an HTTP worker to its core; it runs unpinned");
                    false
                }
            });
            workers.workers.push(Worker { handle, cpu, live: Arc::new(AtomicUsize::new(0)), stop, ended });
        }
        workers
    }

    /// No workers: connections are served on the runtime that runs [`serve`].
    pub fn none() -> Workers {
        Workers { workers: Vec::new(), turn: AtomicUsize::new(0) }
    }

    /// The worker for a connection whose packets arrive on core `incoming` (its number
    /// and the worker); `None` with no workers.
    fn pick(&self, incoming: Option<usize>) -> Option<(usize, &Worker)> {
        if self.workers.is_empty() {
            return None;
        }
        let live: Vec<usize> = self.workers.iter().map(|w| w.live.load(Ordering::Relaxed)).collect();
        let local = incoming.and_then(|cpu| self.workers.iter().position(|w| w.cpu == Some(cpu)));
        let i = choose(local, &live, self.turn.fetch_add(1, Ordering::Relaxed));
        Some((i, &self.workers[i]))
    }

    /// Ends every worker and waits until each thread has dropped its runtime.
    pub async fn stop(self) {
        let (stops, ended): (Vec<_>, Vec<_>) = self.workers.into_iter().map(|w| (w.stop, w.ended)).unzip();
        for stop in stops {
            let _ = stop.send(());
        }
        for ended in ended {
            let _ = ended.await;
        }
    }
}

/// How many connections past half again an even share the worker on a connection's own
/// core may hold and still take it. Clients connect one core's burst at a time (a load
/// generator's threads one after the other, 128 connections each at 256), and a tighter
/// bound sent part of the first burst to the other core's worker before the second
/// arrived: those connections' answers then waited for the other core's turns (p99 of
/// 200 KiB hits at 256 connections 1.19x nginx's with a slack of 8, 0.95x with 64).
const LOCAL_SLACK: usize = 64;

/// Which worker takes a new connection, given the connections each serves now (`live`):
/// the one on the connection's own core (`local`), unless it would then hold more than
/// half as many again as an even share, plus [`LOCAL_SLACK`] — a network card with one
/// receive queue hands every packet to one core, and locality alone would put every
/// kiosk on one worker. Otherwise the least busy worker, taking turns among equals.
///
/// The bound is on the even share of all connections, not on the least busy worker's:
/// bursts from one core arrive before the next core's, and a bound on the least busy
/// worker sent the second core's connections away while the first core's were still
/// arriving. With two workers and one receive queue, locality yields past about 260
/// connections; with eight, past about 80.
fn choose(local: Option<usize>, live: &[usize], turn: usize) -> usize {
    let after: usize = live.iter().sum::<usize>() + 1;
    let bound = (3 * after).div_ceil(2 * live.len()) + LOCAL_SLACK;
    if let Some(i) = local.filter(|&i| live[i] < bound) {
        return i;
    }
    let least = live.iter().copied().min().unwrap_or(0);
    let idle: Vec<usize> = (0..live.len()).filter(|&i| live[i] == least).collect();
    idle[turn % idle.len()]
}

/// Counts a connection in its worker's `live` while it is served.
struct Serving(Arc<AtomicUsize>);

impl Serving {
    fn start(live: &Arc<AtomicUsize>) -> Serving {
        live.fetch_add(1, Ordering::Relaxed);
        Serving(live.clone())
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
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
/// With `pages`, answers from the memory tier's sealed bodies are sent from their
/// memory files (see `http::wire`).
pub async fn serve<S>(
    listener: TcpListener,
    make: impl Fn() -> S,
    shutdown: impl Future<Output = ()>,
    sessions: Option<Arc<Telemetry>>,
    pages: Option<Arc<Pages>>,
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
    let copies: Vec<S> = (0..workers.workers.len().max(1)).map(|_| make()).collect();
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
                let (copy, worker) = match workers.pick(cores::incoming(&stream)) {
                    Some((i, worker)) => (&copies[i], Some(worker)),
                    None => (&copies[0], None),
                };
                let stream = match worker {
                    None => stream,
                    // The socket moves to the worker's own I/O driver.
                    Some(worker) => match rehome(stream, &worker.handle) {
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
                let conn = http.serve_connection(TokioIo::new(Wire::new(stream, pages.clone())), service);
                let conn = graceful.watch(conn);
                let serving = worker.map(|w| Serving::start(&w.live));
                let task = async move {
                    let _serving = serving;
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                };
                match worker {
                    Some(worker) => drop(worker.handle.spawn(task)),
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
    use std::io::{Read, Write};

    /// One request per entry of `clients`, each on a new connection from a thread held
    /// to that core (`None`: anywhere), one after the other. Each answer names the
    /// thread that served it.
    async fn threads_serving(workers: &Workers, clients: Vec<Option<usize>>) -> Vec<String> {
        let router = Router::new().route("/thread", get(|| async { std::thread::current().name().unwrap_or("unnamed").to_owned() }));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let client = async move {
            let mut names = Vec::new();
            for core in clients {
                names.push(tokio::task::spawn_blocking(move || ask_from(core, addr)).await.unwrap());
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
            None,
            workers,
        );
        let (names, ()) = tokio::join!(client, server);
        names
    }

    /// `GET /thread` with `Connection: close` from a thread held to `core`; the body.
    fn ask_from(core: Option<usize>, addr: std::net::SocketAddr) -> String {
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let client = std::thread::spawn(move || {
            wait.recv().unwrap();
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream.write_all(b"GET /thread HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n").unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or(answer)
        });
        if let Some(core) = core {
            cores::pin(&client, core).unwrap();
        }
        go.send(()).unwrap();
        client.join().unwrap()
    }

    #[tokio::test]
    async fn a_connection_is_served_on_the_core_its_client_runs_on() {
        let allowed = cores::allowed();
        if allowed.len() < 2 {
            eprintln!("skipped: this process may run on {} core(s); the test needs two", allowed.len());
            return;
        }
        let workers = Workers::start(2, true);
        let cpus: Vec<Option<usize>> = workers.workers.iter().map(|w| w.cpu).collect();
        assert_eq!(cpus, vec![Some(allowed[0]), Some(allowed[1])], "each worker held to its own core");
        let clients = [0, 0, 1, 1, 0, 1].map(|i| Some(allowed[i]));
        let names = threads_serving(&workers, clients.to_vec()).await;
        workers.stop().await;
        let expected: Vec<String> = [0, 0, 1, 1, 0, 1].iter().map(|i| format!("http-worker-{i}")).collect();
        assert_eq!(names, expected);
    }

    #[tokio::test]
    async fn unpinned_workers_take_connections_in_turn() {
        let workers = Workers::start(2, false);
        assert!(workers.workers.iter().all(|w| w.cpu.is_none()));
        let names = threads_serving(&workers, vec![None; 6]).await;
        workers.stop().await;
        let expected: Vec<String> = (0..6).map(|i| format!("http-worker-{}", i % 2)).collect();
        assert_eq!(names, expected);
    }

    #[tokio::test]
    async fn with_no_workers_the_callers_runtime_serves() {
        let names = threads_serving(&Workers::none(), vec![None; 2]).await;
        assert!(names.iter().all(|n| !n.starts_with("http-worker")), "{names:?}");
    }

    #[test]
    fn the_worker_on_the_connections_core_takes_it_while_near_its_share() {
        assert_eq!(choose(Some(1), &[0, 0], 0), 1);
        // Alone with an idle worker, up to 258 connections: half again its share of 259
        // (195) and the slack.
        assert_eq!(choose(Some(0), &[258, 0], 1), 0);
        assert_eq!(choose(Some(0), &[259, 0], 1), 1, "past it: the least busy");
        assert_eq!(choose(Some(2), &[10, 10, 148], 0), 2, "under half again a third of 169 (85), and the slack");
        assert_eq!(choose(Some(2), &[10, 10, 149], 0), 0, "at it");
        assert_eq!(choose(Some(2), &[10, 10, 149], 1), 1, "the least busy in turn");
    }

    /// A load generator's two threads connect one after the other, 128 each, from two
    /// cores: every connection stays on its own core's worker.
    #[test]
    fn one_core_connecting_after_another_each_keeps_its_own() {
        let mut live = vec![0usize; 2];
        for (turn, core) in std::iter::repeat_n(0, 128).chain(std::iter::repeat_n(1, 128)).enumerate() {
            let i = choose(Some(core), &live, turn);
            assert_eq!(i, core, "connection {turn} with {live:?}");
            live[i] += 1;
        }
    }

    #[test]
    fn without_a_worker_on_its_core_the_least_busy_takes_it_in_turn() {
        assert_eq!(choose(None, &[3, 1, 2], 0), 1);
        assert_eq!((0..4).map(|turn| choose(None, &[2, 5, 2], turn)).collect::<Vec<_>>(), vec![0, 2, 0, 2]);
    }

    /// Every connection arriving on one core (a network card with one receive queue)
    /// still spreads: the local worker ends near half again its share, the others
    /// level with each other.
    #[test]
    fn connections_all_arriving_on_one_core_still_spread() {
        let mut live = vec![0usize; 4];
        for turn in 0..400 {
            let i = choose(Some(0), &live, turn);
            live[i] += 1;
        }
        assert!(live[0] <= 150 + LOCAL_SLACK, "{live:?}");
        assert!(live[0] >= 150, "locality kept up to its bound: {live:?}");
        let least = *live.iter().min().unwrap();
        assert!(live[1..].iter().all(|&n| n - least <= 1), "{live:?}");
    }
}
