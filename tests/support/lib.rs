//! Helpers for black-box tests: start the real `boothcloud-node` binary on a random port
//! with a fresh data directory, and talk to it over HTTPS like an enrolled kiosk would.
//!
//! Every test node is given the same booth CA (the test CA, made once per test process
//! and written into its secret store, as a booth keeps its own), so one client checks
//! every node's certificate chain; `Options::own_ca` leaves a node to make its own.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub mod conformance;
pub mod postgres;

/// The operator token every test node is started with.
pub const OPERATOR_TOKEN: &str = "test-operator-token-0123456789";

/// The node binary, built once per test process (a no-op when it is fresh).
/// `BOOTHCLOUD_NODE_BIN` names another one (the benchmarks' release build).
pub fn node_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| match std::env::var_os("BOOTHCLOUD_NODE_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => built("boothcloud-node"),
    })
}

/// The regional hub's binary, built once per test process. `BOOTHCLOUD_HUB_BIN` names another.
pub fn hub_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| match std::env::var_os("BOOTHCLOUD_HUB_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => built("boothcloud-hub"),
    })
}

/// Builds the workspace's binaries and answers the path of `name`.
///
/// The build is workspace-wide with every target, like `scripts/test`: building one
/// package alone resolves dependency features differently and would compile a second
/// copy of the whole dependency graph.
fn built(name: &str) -> PathBuf {
    let workspace =
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // `cargo test` runs this with the test package's CARGO_MANIFEST_DIR, CARGO_PKG_* and
    // so on; some build scripts (ring's) rerun when those change, which would rebuild
    // half the graph here and again in the next plain `cargo build`. Build as a user would.
    let mut build = Command::new(cargo);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let per_package = [
            "CARGO_MANIFEST_",
            "CARGO_PKG_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
            "CARGO_PRIMARY_",
            "CARGO_TARGET_TMPDIR",
        ];
        if per_package.iter().any(|p| key.starts_with(p)) {
            build.env_remove(key.as_ref());
        }
    }
    let status = build
        .args(["build", "--quiet", "--workspace", "--all-targets"])
        .current_dir(&workspace)
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building the workspace failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    target.join("debug").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// The booth CA every test node is given: its secret (as the node stores it), its
/// certificate and its fingerprint (64 hex digits, for a manifest peer's `ca`).
pub struct TestCa {
    pub secret: Vec<u8>,
    pub cert_pem: String,
    pub fingerprint: String,
}

pub fn test_ca() -> &'static TestCa {
    static CA: OnceLock<TestCa> = OnceLock::new();
    CA.get_or_init(|| {
        use rcgen::{
            BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let name = "Boothcloud booth CA tests";
        let key = KeyPair::generate().expect("a key");
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        dn.push(DnType::OrganizationName, "Boothcloud");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2099, 1, 1);
        let cert = params.self_signed(&key).expect("a CA certificate");
        let secret = serde_json::to_vec(&json!({
            "name": name, "key_pem": key.serialize_pem(), "cert_pem": cert.pem(),
        }))
        .expect("json");
        use sha2::Digest;
        let fingerprint = hex::encode(sha2::Sha256::digest(cert.der().as_ref()));
        TestCa { secret, cert_pem: cert.pem(), fingerprint }
    })
}

/// Gives the node in `data_dir` the test CA, unless it already holds a CA.
pub fn seed_test_ca(data_dir: &Path) {
    let secrets = data_dir.join("secrets");
    let path = secrets.join("booth-ca");
    if path.exists() {
        return;
    }
    std::fs::create_dir_all(&secrets).expect("the secrets folder");
    std::fs::write(&path, &test_ca().secret).expect("write the test CA");
}

/// The first two lines a node prints: its HTTPS URL and its plain (enrollment) URL.
pub fn listening_urls(child: &mut Child) -> (String, String) {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        for _ in 0..2 {
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
        }
        for _ in lines {}
    });
    let first = rx.recv_timeout(Duration::from_secs(60)).expect("the node printed its URL");
    let second = rx.recv_timeout(Duration::from_secs(5)).expect("the node printed its second URL");
    let https = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_owned();
    let plain = second
        .strip_prefix("enrollment on ")
        .unwrap_or_else(|| panic!("unexpected second line: {second}"))
        .to_owned();
    (https, plain)
}

/// The URL a node (or hub) prints first ("listening on URL"); the rest of its output is
/// drained so it never blocks on a full pipe.
pub fn listening_url(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(first)) = lines.next() {
            let _ = tx.send(first);
        }
        for _ in lines {}
    });
    let first = rx.recv_timeout(Duration::from_secs(60)).expect("the process printed its URL");
    first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_owned()
}

/// A running node. Killed when dropped.
pub struct TestNode {
    /// `https://127.0.0.1:PORT`
    pub url: String,
    /// `http://127.0.0.1:PORT`: the plain port (from this machine, loopback: everything).
    pub plain_url: String,
    pub data_dir: PathBuf,
    pub manifest: Option<PathBuf>,
    child: Child,
    _dir: Option<tempfile::TempDir>,
}

pub struct Options {
    pub manifest: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub listen: String,
    pub env: Vec<(String, String)>,
    /// Where the node's log goes; `None`: the test's own stderr.
    pub stderr: Option<PathBuf>,
    /// Let the node make its own CA instead of giving it the test CA.
    pub own_ca: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            manifest: None,
            data_dir: None,
            listen: "127.0.0.1:0".into(),
            env: Vec::new(),
            stderr: None,
            own_ca: false,
        }
    }
}

impl TestNode {
    pub fn start() -> TestNode {
        TestNode::start_with(Options::default())
    }

    pub fn start_with(opts: Options) -> TestNode {
        let (dir, data_dir) = match opts.data_dir {
            Some(d) => (None, d),
            None => {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().to_path_buf();
                (Some(dir), path)
            }
        };
        if !opts.own_ca {
            seed_test_ca(&data_dir);
        }
        let mut cmd = Command::new(node_binary());
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--listen")
            .arg(&opts.listen)
            .arg("--secrets")
            .arg("file");
        if let Some(m) = &opts.manifest {
            cmd.arg("--manifest").arg(m);
        }
        // Nodes of parallel tests share this machine's network: they must not find and
        // pair with each other. Discovery is tested in network namespaces of its own.
        cmd.env("BOOTHCLOUD_OPERATOR_TOKEN", OPERATOR_TOKEN)
            .env("BOOTHCLOUD_LOG", "warn")
            .env("BOOTHCLOUD_NO_DISCOVERY", "true")
            .envs(opts.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(match &opts.stderr {
                Some(path) => {
                    Stdio::from(std::fs::File::create(path).expect("create the log file"))
                }
                None => Stdio::inherit(),
            });
        let mut child = cmd.spawn().expect("start boothcloud-node");
        let (url, plain_url) = listening_urls(&mut child);
        TestNode { url, plain_url, data_dir, manifest: opts.manifest, child, _dir: dir }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(mut self) -> Option<tempfile::TempDir> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self._dir.take()
    }

    /// SIGTERM, then wait for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "the node did not stop within 20 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the node to stop by itself (after a teardown); `None` if it did not
    /// within `within`.
    pub fn wait_for_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// A client that trusts the test CA and nothing else, as an enrolled kiosk would.
    pub fn client() -> reqwest::Client {
        TestNode::client_builder().build().expect("client")
    }

    pub fn client_builder() -> reqwest::ClientBuilder {
        let ca =
            reqwest::Certificate::from_pem(test_ca().cert_pem.as_bytes()).expect("the test CA");
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            .timeout(Duration::from_secs(20))
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A kiosk: quotes and orders against one node.
#[derive(Clone)]
pub struct Kiosk {
    pub url: String,
    pub http: reqwest::Client,
}

pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Kiosk {
    /// A device the booth knows nothing of (an attendee's phone): it may only choose
    /// the manifest's `payments.phones`.
    pub fn new(url: &str) -> Kiosk {
        Kiosk { url: url.to_owned(), http: TestNode::client() }
    }

    /// One of the booth's own kiosks: enrolled by the lead, sending its key on every
    /// request, so it may take card and cash.
    pub async fn enrolled(url: &str) -> Kiosk {
        let name = format!("test kiosk {:08x}", rand::random::<u32>());
        let r = TestNode::client()
            .post(format!("{url}/api/v1/ops/kiosks"))
            .bearer_auth(OPERATOR_TOKEN)
            .json(&json!({ "name": name }))
            .send()
            .await
            .expect("enroll a kiosk");
        assert_eq!(r.status().as_u16(), 201, "enrolling a kiosk");
        let body: Value = r.json().await.expect("the enrolled kiosk");
        let token = body["token"].as_str().expect("a kiosk key").to_owned();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-boothcloud-kiosk", token.parse().expect("a header value"));
        let http = TestNode::client_builder().default_headers(headers).build().expect("client");
        Kiosk { url: url.to_owned(), http }
    }

    /// The answer to a `method` request, as JSON, checked against the node's OpenAPI
    /// document (see `conformance`).
    pub async fn answer_of(method: &str, r: reqwest::Response) -> Answer {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let path = r.url().path().to_owned();
        let text = r.text().await.expect("body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("status {status}: body is not JSON: {text:.300}"));
        conformance::Document::of_node().check(method, &path, status, &body);
        Answer { status, body, headers }
    }

    pub async fn get(&self, path: &str) -> Answer {
        Kiosk::answer_of(
            "GET",
            self.http.get(format!("{}{path}", self.url)).send().await.expect("GET"),
        )
        .await
    }

    pub async fn ops_get(&self, path: &str) -> Answer {
        Kiosk::answer_of(
            "GET",
            self.http
                .get(format!("{}{path}", self.url))
                .bearer_auth(OPERATOR_TOKEN)
                .send()
                .await
                .expect("GET"),
        )
        .await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST");
        Kiosk::answer_of("POST", r).await
    }

    pub async fn quote(&self, lines: &[(&str, i64)], tier: Option<&str>) -> Answer {
        let lines: Vec<Value> = lines.iter().map(|(s, q)| json!({"sku": s, "qty": q})).collect();
        self.post_raw(
            "/api/v1/quotes",
            "application/json",
            json!({"lines": lines, "tier": tier}).to_string(),
        )
        .await
    }

    /// A quote in a customer tier, with the code that opens it (or none).
    pub async fn quote_in_tier(
        &self,
        lines: &[(&str, i64)],
        tier: &str,
        code: Option<&str>,
    ) -> Answer {
        let lines: Vec<Value> = lines.iter().map(|(s, q)| json!({"sku": s, "qty": q})).collect();
        self.post_raw(
            "/api/v1/quotes",
            "application/json",
            json!({"lines": lines, "tier": tier, "tier_code": code}).to_string(),
        )
        .await
    }

    pub async fn order(&self, key: &str, body: &Value) -> Answer {
        let r = self
            .http
            .post(format!("{}/api/v1/orders", self.url))
            .header("idempotency-key", key)
            .json(body)
            .send()
            .await
            .expect("POST order");
        Kiosk::answer_of("POST", r).await
    }

    /// Quote then order, returning the order answer.
    pub async fn buy(&self, key: &str, lines: &[(&str, i64)]) -> Answer {
        let q = self.quote(lines, None).await;
        assert_eq!(q.status, 200, "{}", q.body);
        self.order(key, &json!({"quote_token": q.body["token"], "payment": {"method": "card"}}))
            .await
    }
}

/// A manifest file in a temporary folder, starting from the embedded demo.
pub fn demo_manifest_in(dir: &Path) -> PathBuf {
    let out = Command::new(node_binary())
        .args(["manifest", "example"])
        .output()
        .expect("manifest example");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("a UTF-8 manifest");
    assert!(text.contains(DEMO_PAIRING_KEY), "the demo manifest holds the demo's pairing key");
    let path = dir.join("booth.toml");
    std::fs::write(&path, text.replace(DEMO_PAIRING_KEY, TEST_PAIRING_KEY))
        .expect("write manifest");
    path
}

/// The demo booth synced to `hub` as `booth`, probing fast, with `extra` TOML sections
/// and `peers` (a TOML array) in [pairing].
pub fn booth_manifest(
    dir: &std::path::Path,
    hub: &str,
    booth: &str,
    credential: &str,
    extra: &str,
    peers: &str,
) -> std::path::PathBuf {
    let path = demo_manifest_in(dir);
    let text = std::fs::read_to_string(&path).unwrap();
    let uplink = format!(
        "[uplink]\norigin = \"demo:storefront\"\nupstream = \"{hub}/api/v1/\"\nbooth = \"{booth}\"\ncredential = \"{credential}\"\n\
         probe_every = \"300ms\"\nprobe_timeout = \"500ms\"\n"
    );
    let start = text.find("[uplink]").unwrap();
    let end = start + text[start..].find("\n[assets]").unwrap();
    let text = format!("{}{uplink}{}", &text[..start], &text[end..]);
    // The demo's offline limits go; `extra` brings a test's own.
    let start = text.find("\n[offline]").unwrap();
    let end = start + text[start..].find("\n# ----").unwrap();
    let text = format!("{}{}", &text[..start], &text[end..])
        .replace("peers = []", &format!("peers = {peers}"))
        .replace("probe_every = \"5s\"", "probe_every = \"1s\"");
    std::fs::write(&path, format!("{text}\n{extra}\n")).unwrap();
    path
}

/// The demo's public pairing key, which a booth refuses to pair by.
pub const DEMO_PAIRING_KEY: &str = "demo-only-pairing-key-change-me-0123456789abcdef";
/// The pairing key of the booths `demo_manifest_in` writes (a key of the tests' own).
pub const TEST_PAIRING_KEY: &str = "tests-own-pairing-key-0123456789abcdef-not-published";

/// The demo manifest exactly as `manifest example` prints it (its public pairing key
/// included).
pub fn demo_manifest_as_printed(dir: &Path) -> PathBuf {
    let path = demo_manifest_in(dir);
    let text = std::fs::read_to_string(&path).expect("read manifest");
    std::fs::write(&path, text.replace(TEST_PAIRING_KEY, DEMO_PAIRING_KEY)).expect("write");
    path
}

/// A manifest for asset-cache tests: the demo booth with `origin` as its origin, and
/// `assets` and `pairing` (TOML lines) as the whole of those sections (no warm-up
/// unless `assets` says so).
pub fn manifest_with_origin(dir: &Path, origin: &str, assets: &str, pairing: &str) -> PathBuf {
    let path = demo_manifest_in(dir);
    let text = std::fs::read_to_string(&path).expect("read manifest");
    let mut out = String::new();
    let mut section = String::new();
    for line in text.lines() {
        if line.starts_with('[') {
            section = line.to_owned();
        }
        match section.as_str() {
            "[uplink]" if line.starts_with("origin") => {
                out.push_str(&format!("origin = \"{origin}\"\n"))
            }
            "[assets]" if line == "[assets]" => out.push_str(&format!("[assets]\n{assets}\n")),
            "[assets]" => {}
            "[pairing]" if line == "[pairing]" => out.push_str(&format!("[pairing]\n{pairing}\n")),
            "[pairing]" => {}
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if !text.contains("\n[pairing]") {
        out.push_str(&format!("\n[pairing]\n{pairing}\n"));
    }
    std::fs::write(&path, out).expect("write manifest");
    path
}

/// A wall clock a test steps under a node, as a user, NTP or a reset battery would:
/// libfaketime (Debian's `faketime`) shifts the wall clock by an offset read from a file,
/// and leaves monotonic time alone (`DONT_FAKE_MONOTONIC=1`), as in real life.
pub struct SteppedClock {
    file: PathBuf,
    _dir: tempfile::TempDir,
}

impl SteppedClock {
    /// The wall clock `offset_s` seconds from the real one.
    pub fn new(offset_s: i64) -> SteppedClock {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = SteppedClock { file: dir.path().join("faketime"), _dir: dir };
        clock.step_to(offset_s);
        clock
    }

    /// From now on the wall clock reads `offset_s` seconds from the real one.
    pub fn step_to(&self, offset_s: i64) {
        let tmp = self.file.with_extension("new");
        std::fs::write(&tmp, format!("{offset_s:+}\n")).expect("write the faketime offset");
        std::fs::rename(&tmp, &self.file).expect("replace the faketime offset");
    }

    /// The environment that puts a child process on this clock.
    pub fn env(&self) -> Vec<(String, String)> {
        let lib = [
            "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
            "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
            "/usr/lib/faketime/libfaketimeMT.so.1",
        ]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("libfaketime is not installed (Debian: apt install faketime; scripts/setup does)");
        vec![
            ("LD_PRELOAD".into(), lib.into()),
            ("FAKETIME_TIMESTAMP_FILE".into(), self.file.display().to_string()),
            // The file is read again at most once a second.
            ("FAKETIME_CACHE_DURATION".into(), "1".into()),
            ("DONT_FAKE_MONOTONIC".into(), "1".into()),
        ]
    }
}
