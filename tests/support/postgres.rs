//! A real PostgreSQL for the hub's tests, from Debian's packages: a fresh cluster in a
//! temporary folder on a free port, stopped and removed when dropped. PostgreSQL will
//! not run as root, so as root the cluster belongs to the `postgres` user the package
//! created.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server programs of the newest PostgreSQL installed.
pub fn bin_dir() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (scripts/setup installs Debian's postgresql)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("postgres").exists())
        .collect();
    dirs.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
    });
    dirs.pop().expect("a PostgreSQL server under /usr/lib/postgresql")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct Postgres {
    pub port: u16,
    pub url: String,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Postgres {
    pub fn start() -> Postgres {
        let dir = tempfile::Builder::new().prefix("boothcloud-pg").tempdir().expect("tempdir");
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(ok.success(), "chown the cluster folder to postgres");
        }
        let data = dir.path().join("data");
        let out = as_owner(&bin_dir().join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "-D"])
            .arg(&data)
            .output()
            .expect("run initdb");
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        let mut pg = Postgres { port: 0, url: String::new(), dir, child: None };
        pg.run();
        pg
    }

    /// Starts the server (again, after `stop`).
    fn run(&mut self) {
        let port = if self.port == 0 { free_port() } else { self.port };
        let data = self.dir.path().join("data");
        let mut child = as_owner(&bin_dir().join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-k"])
            .arg(self.dir.path())
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=on",
                "-c",
                "max_connections=200",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start postgres");
        let stderr = child.stderr.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("ready to accept connections") {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(60)).expect("PostgreSQL became ready");
        self.port = port;
        self.url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        self.child = Some(child);
    }

    /// One value from a query, as text.
    pub fn query(&self, sql: &str) -> String {
        // Debian puts psql in the version's bin folder and in /usr/bin.
        let psql = bin_dir().join("psql");
        let out = Command::new(if psql.exists() { psql } else { PathBuf::from("psql") })
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-tAc", sql])
            .output()
            .expect("run psql");
        assert!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.query(sql).parse().unwrap_or_else(|_| panic!("not a number from {sql}"))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGINT: PostgreSQL's fast shutdown.
            let _ = Command::new("kill").arg("-INT").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The hub key every test hub uses.
pub const HUB_KEY: &str = "test-hub-key-0123456789-abcdefghijklmnop";
pub const HUB_OPERATOR_TOKEN: &str = "test-hub-operator-token-0123";

/// A running `boothcloud-hub`. Killed when dropped.
pub struct Hub {
    pub url: String,
    child: Child,
}

impl Hub {
    pub fn start(pg: &Postgres, listen: &str) -> Hub {
        let mut child = Command::new(crate::hub_binary())
            .args(["--database-url", &pg.url, "--listen", listen])
            .env("BOOTHCLOUD_HUB_KEY", HUB_KEY)
            .env("BOOTHCLOUD_HUB_OPERATOR_TOKEN", HUB_OPERATOR_TOKEN)
            .env("BOOTHCLOUD_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the hub");
        let url = crate::listening_url(&mut child);
        Hub { url, child }
    }

    /// The credential of `booth` under the test hub key.
    pub fn credential(booth: &str) -> String {
        let out = Command::new(crate::hub_binary())
            .args(["credential", booth])
            .env("BOOTHCLOUD_HUB_KEY", HUB_KEY)
            .output()
            .expect("hub credential");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// `GET /api/v1/hub/booths` with the hub operator token.
    pub async fn booths(&self) -> serde_json::Value {
        let res = reqwest::Client::new()
            .get(format!("{}/api/v1/hub/booths", self.url))
            .bearer_auth(HUB_OPERATOR_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// SIGKILL.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
