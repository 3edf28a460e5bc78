//! Cache hits: the node against nginx's proxy_cache (Debian's nginx-light) in front of
//! the same origin, loaded by wrk on loopback in one run.
//!
//! Both are separate processes with the machine's cores as workers (nginx: one worker
//! per core, `reuseport`, sendfile, access log off, unlimited keep-alive requests; the
//! node: its release binary, tokio's default of one worker per core). The objects are
//! fetched once through each and checked to be hits before any load. The order of the
//! two alternates between rounds so neither always runs on a warmer machine.
//!
//! Two kinds of load: **saturating** (each connection sends its next request as soon as
//! the answer arrives: the most each can carry, with wrk on the same cores), and
//! **paced** (each connection waits `--pace-ms` after each answer, via wrk's Lua
//! `delay`), so both face about the same offered load and their latencies compare at
//! equal work, as the kiosks of a booth load a node, rather than at whatever rate each
//! happens to reach. And **split cores**: saturating again, but with the server held to
//! core 0 (every thread of the node, nginx's master and workers, by `taskset`) and wrk
//! to the other cores, as kiosks are other devices; on the shared cores a server that
//! answers faster leaves wrk less CPU, and wrk's own turns then show as the server's
//! latency (BENCHMARKS.md, cache run 9).

use std::collections::HashMap;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use boothcloud_tests::{manifest_with_origin, Options, TestNode};

use crate::origin::{Object, Origin};
use crate::{median, wrk};

#[derive(clap::Args)]
pub struct Args {
    /// Rounds per case; medians are reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Seconds of load per round.
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// wrk threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Connection counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "64,256")]
    connections: Vec<usize>,
    /// Paced rounds: each connection waits this many ms after each answer
    /// (`--pace-ms` with no value: no paced rounds).
    #[arg(long, value_delimiter = ',', num_args = 0.., default_value = "1")]
    pace_ms: Vec<u64>,
    /// Connection counts the paced rounds use.
    #[arg(long, value_delimiter = ',', default_value = "64")]
    paced_connections: Vec<usize>,
    /// Connection counts for split-core rounds (server on core 0, wrk on the rest; needs
    /// two cores or more; `--split-connections` with no value: none).
    #[arg(long, value_delimiter = ',', num_args = 0.., default_value = "64")]
    split_connections: Vec<usize>,
}

/// How the load is made: see the module's documentation.
#[derive(Clone, Copy)]
enum Load {
    Saturating,
    /// ms each connection waits after an answer.
    Paced(u64),
    SplitCores,
}

/// Holds `pid`, every thread of it and its child processes (nginx's workers) to `cpus`.
fn pin(pid: u32, cpus: &str) -> anyhow::Result<()> {
    let children = Command::new("pgrep").args(["-P", &pid.to_string()]).output()?;
    let children = String::from_utf8_lossy(&children.stdout).into_owned();
    for p in std::iter::once(pid.to_string()).chain(children.split_whitespace().map(str::to_owned))
    {
        let status = Command::new("taskset")
            .args(["-a", "-p", "-c", cpus, &p])
            .stdout(Stdio::null())
            .status()?;
        anyhow::ensure!(status.success(), "taskset could not hold process {p} to cores {cpus}");
    }
    Ok(())
}

const OBJECTS: [(&str, usize); 2] =
    [("img/obj-10k.jpg", 10 * 1024), ("img/obj-200k.jpg", 200 * 1024)];

/// nginx with proxy_cache, from a temporary folder, stopped when dropped.
struct Nginx {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Nginx {
    fn start(origin_port: u16) -> anyhow::Result<Nginx> {
        let dir = tempfile::tempdir()?;
        let port = free_port()?;
        let d = dir.path().display();
        // Running as root, nginx's workers would switch to www-data and then fail to
        // write the cache in a root-owned temporary folder.
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.starts_with(b"0"))
            .unwrap_or(false);
        let user = if root { "user root;" } else { "" };
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let conf = format!(
            r#"{user}
worker_processes {workers};
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 10000000;
    open_file_cache max=1000 inactive=60s;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    proxy_cache_path {d}/cache levels=1:2 keys_zone=booth:10m max_size=1g inactive=1d use_temp_path=off;
    upstream origin {{ server 127.0.0.1:{origin_port}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port} reuseport;
        location /assets/ {{
            proxy_pass http://origin/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache booth;
            proxy_cache_lock on;
            proxy_cache_use_stale error timeout updating;
            add_header X-Cache $upstream_cache_status always;
        }}
    }}
}}
"#
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf)?;
        let nginx = ["/usr/sbin/nginx", "nginx"]
            .into_iter()
            .find(|p| Path::new(p).exists() || *p == "nginx")
            .unwrap_or("nginx");
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                anyhow::anyhow!(
                    "nginx could not be started ({e}); bench/cache.sh installs nginx-light"
                )
            })?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "nginx did not listen within 10 s; see {d}/error.log"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Nginx { child, port, _dir: dir })
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGQUIT: graceful stop of master and workers.
        let _ = Command::new("kill").arg("-QUIT").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Fetches `url` twice; the second answer must be a cache hit.
fn prime(url: &str) -> anyhow::Result<()> {
    let client = reqwest::blocking::Client::new();
    for attempt in 0..2 {
        let r = client.get(url).send()?;
        anyhow::ensure!(r.status() == 200, "{url}: {}", r.status());
        let x_cache =
            r.headers().get("x-cache").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        r.bytes()?;
        if attempt == 1 {
            anyhow::ensure!(
                x_cache == "HIT",
                "{url} is not a cache hit on the second request (X-Cache: {x_cache})"
            );
        }
    }
    Ok(())
}

struct Row {
    object: &'static str,
    size: usize,
    connections: usize,
    load: Load,
    nginx: Vec<wrk::Load>,
    node: Vec<wrk::Load>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let objects: HashMap<String, Object> = OBJECTS
        .iter()
        .map(|(path, size)| {
            let body: Vec<u8> =
                (0..*size).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
            (
                (*path).to_owned(),
                Object {
                    body: body.into(),
                    content_type: "image/jpeg",
                    cache_control: "public, max-age=86400".into(),
                    varies_on_encoding: false,
                },
            )
        })
        .collect();
    let origin = Origin::start(objects)?;
    let nginx = Nginx::start(origin.port)?;
    let dir = tempfile::tempdir()?;
    let manifest = manifest_with_origin(dir.path(), &origin.url, "", "");
    let node = TestNode::start_with(Options { manifest: Some(manifest), ..Options::default() });
    let nginx_base = format!("http://127.0.0.1:{}/assets/", nginx.port);
    let node_base = format!("{}/assets/", node.url);
    for (path, _) in OBJECTS {
        prime(&format!("{nginx_base}{path}"))?;
        prime(&format!("{node_base}{path}"))?;
    }
    let origin_requests = origin.counts.requests.load(std::sync::atomic::Ordering::Relaxed);

    println!(
        "boothcloud-bench cache: {} rounds of {} s per case, wrk -t{} on loopback, {} cores\n",
        args.runs,
        args.seconds,
        args.threads,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let scripts = tempfile::tempdir()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let split = if cores >= 2 { args.split_connections.as_slice() } else { &[] };
    if cores < 2 && !args.split_connections.is_empty() {
        eprintln!("one core: no split-core rounds");
    }
    let cases: Vec<(usize, Load)> = args
        .connections
        .iter()
        .map(|&c| (c, Load::Saturating))
        .chain(
            args.paced_connections
                .iter()
                .flat_map(|&c| args.pace_ms.iter().map(move |&ms| (c, Load::Paced(ms)))),
        )
        .chain(split.iter().map(|&c| (c, Load::SplitCores)))
        .collect();
    let all_cores = format!("0-{}", cores - 1);
    let client_cores = if cores == 2 { "1".to_owned() } else { format!("1-{}", cores - 1) };
    let mut rows = Vec::new();
    for (path, size) in OBJECTS {
        for &(connections, load_kind) in &cases {
            let mut row = Row {
                object: path,
                size,
                connections,
                load: load_kind,
                nginx: Vec::new(),
                node: Vec::new(),
            };
            let script = match load_kind {
                Load::Paced(ms) => {
                    let file = scripts.path().join(format!("pace-{ms}.lua"));
                    std::fs::write(&file, format!("function delay()\n  return {ms}\nend\n"))?;
                    Some(file)
                }
                Load::Saturating | Load::SplitCores => None,
            };
            let (cpus, threads) = match load_kind {
                Load::SplitCores => {
                    pin(node.pid(), "0")?;
                    pin(nginx.child.id(), "0")?;
                    (Some(client_cores.as_str()), cores - 1)
                }
                Load::Saturating | Load::Paced(_) => (None, args.threads),
            };
            let load = |url: &str, seconds: u64| {
                wrk::run_on(cpus, url, threads, connections, seconds, script.as_deref(), &[])
            };
            // A short unmeasured load first: both get their connections and caches hot.
            load(&format!("{nginx_base}{path}"), 2)?;
            load(&format!("{node_base}{path}"), 2)?;
            let case = match load_kind {
                Load::Paced(ms) => format!("c{connections} paced {ms} ms"),
                Load::SplitCores => format!("c{connections} split cores"),
                Load::Saturating => format!("c{connections}"),
            };
            for round in 0..args.runs {
                for node_first in [round % 2 == 1, round % 2 == 0] {
                    let (label, url) =
                        if node_first { ("node", &node_base) } else { ("nginx", &nginx_base) };
                    let load = load(&format!("{url}{path}"), args.seconds)?;
                    eprintln!(
                        "{path} {case} round {round} {label}: {:.0} req/s, p50 {:.0} µs, p99 {:.0} µs, {} errors",
                        load.requests_per_s, load.p50_us, load.p99_us, load.errors
                    );
                    if node_first { &mut row.node } else { &mut row.nginx }.push(load);
                }
            }
            if let Load::SplitCores = load_kind {
                pin(node.pid(), &all_cores)?;
                pin(nginx.child.id(), &all_cores)?;
            }
            rows.push(row);
        }
    }
    let after = origin.counts.requests.load(std::sync::atomic::Ordering::Relaxed);
    anyhow::ensure!(
        after == origin_requests,
        "the origin was asked {} more times under load: not all hits",
        after - origin_requests
    );

    println!(
        "| object | connections (load) | nginx req/s | node req/s | node / nginx | nginx p50 / p99 | node p50 / p99 | p99 node / nginx | errors |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let m = |v: &[wrk::Load], f: fn(&wrk::Load) -> f64| median(v.iter().map(f).collect());
        let (nr, or) = (m(&r.nginx, |l| l.requests_per_s), m(&r.node, |l| l.requests_per_s));
        let (n50, n99) = (m(&r.nginx, |l| l.p50_us), m(&r.nginx, |l| l.p99_us));
        let (o50, o99) = (m(&r.node, |l| l.p50_us), m(&r.node, |l| l.p99_us));
        let errors: u64 = r.nginx.iter().chain(&r.node).map(|l| l.errors).sum();
        let load = match r.load {
            Load::Paced(ms) => format!("{} (paced: {ms} ms between requests)", r.connections),
            Load::Saturating => format!("{} (saturating)", r.connections),
            Load::SplitCores => format!(
                "{} (saturating, server on core 0, wrk -t{} on core(s) {client_cores})",
                r.connections,
                cores - 1
            ),
        };
        println!(
            "| {} ({} KiB) | {} | {:.0} | {:.0} | {:.2} | {} / {} | {} / {} | {:.2} | {} |",
            r.object,
            r.size / 1024,
            load,
            nr,
            or,
            or / nr,
            ms(n50),
            ms(n99),
            ms(o50),
            ms(o99),
            o99 / n99,
            errors
        );
    }
    println!("\nThe origin was asked {origin_requests} times in all (priming only); every measured request was a hit.");
    Ok(())
}

fn ms(us: f64) -> String {
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}
