//! Where the cache fetches from: the manifest's origin — an HTTP(S) base URL, a local
//! folder (the fully offline booth), or the demo storefront bundled in the binary.
//!
//! Owns: turning an asset path into an origin request (forwarding the headers the cache
//! varies on and its validators), and giving folder and bundled files the headers an
//! HTTP origin would send (type, length, ETag, Last-Modified, the manifest's max-age),
//! including 304s for conditional requests. Bodies arrive as a stream; nothing here
//! decodes `Content-Encoding`.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use include_dir::{include_dir, Dir};

use boothcloud_core::cache::key::AssetPath;
use boothcloud_core::cache::policy;
use boothcloud_core::manifest::Origin;

/// The demo storefront: a real-looking booth storefront served as the demo's origin.
pub static DEMO_STOREFRONT: Dir<'static> =
    include_dir!("$CARGO_MANIFEST_DIR/src/assets/demo-storefront");

pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

#[derive(Debug, thiserror::Error, Clone)]
pub enum OriginError {
    #[error("no origin is set in the manifest ([uplink] origin)")]
    NotConfigured,
    #[error("the origin did not answer in time")]
    Timeout,
    #[error("the origin cannot be reached: {0}")]
    Unreachable(String),
    #[error("the origin answered {0}")]
    Failed(u16),
}

impl OriginError {
    /// Whether this is the origin failing (stale may be served) rather than a setup problem.
    pub fn is_outage(&self) -> bool {
        !matches!(self, OriginError::NotConfigured)
    }
}

/// What the cache asks of the origin.
pub struct OriginRequest<'a> {
    pub path: &'a AssetPath,
    /// The varied request headers the client sent (lower-case name, value).
    pub forward: Vec<(&'static str, String)>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
}

pub struct OriginResponse {
    pub status: u16,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: BodyStream,
}

impl OriginResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Response headers never stored or forwarded: hop-by-hop, and those the node sets.
const NOT_KEPT: [&str; 12] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "set-cookie",
    "age",
    "x-cache",
    "content-length",
];

pub fn kept_header(name: &str) -> bool {
    !NOT_KEPT.contains(&name) && !name.starts_with("x-boothcloud-")
}

/// Fetches from origins. One HTTP client (connection pool) for the node's life.
#[derive(Clone)]
pub struct Fetcher {
    http: reqwest::Client,
}

impl Fetcher {
    /// `tls`: the node's client configuration (paired booths' pinned CAs, for the mesh);
    /// `None`: the public roots only.
    pub fn new(tls: Option<rustls::ClientConfig>) -> Fetcher {
        let builder = match tls {
            Some(config) => reqwest::Client::builder().use_preconfigured_tls(config),
            None => reqwest::Client::builder(),
        };
        let http = builder
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("boothcloud-node/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Fetcher { http }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub async fn fetch(
        &self,
        origin: Option<&Origin>,
        req: &OriginRequest<'_>,
        timeout: Duration,
        max_age: u64,
    ) -> Result<OriginResponse, OriginError> {
        match origin {
            None => Err(OriginError::NotConfigured),
            Some(Origin::Url(base)) => self.fetch_url(base, req, timeout).await,
            Some(Origin::Folder(dir)) => fetch_folder(dir, req, max_age).await,
            Some(Origin::DemoStorefront) => Ok(fetch_demo(req, max_age)),
        }
    }

    async fn fetch_url(
        &self,
        base: &url::Url,
        req: &OriginRequest<'_>,
        timeout: Duration,
    ) -> Result<OriginResponse, OriginError> {
        let url =
            base.join(req.path.as_str()).map_err(|e| OriginError::Unreachable(e.to_string()))?;
        let mut request = self.http.get(url).timeout(timeout);
        for (name, value) in &req.forward {
            request = request.header(*name, value);
        }
        if let Some(v) = &req.if_none_match {
            request = request.header("if-none-match", v);
        }
        if let Some(v) = &req.if_modified_since {
            request = request.header("if-modified-since", v);
        }
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                OriginError::Timeout
            } else {
                OriginError::Unreachable(root_cause(&e))
            }
        })?;
        let status = response.status().as_u16();
        if status >= 500 {
            return Err(OriginError::Failed(status));
        }
        let headers = response
            .headers()
            .iter()
            .filter(|(n, _)| kept_header(n.as_str()))
            .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str().to_owned(), v.to_owned())))
            .collect();
        let body = response
            .bytes_stream()
            .map(|r| {
                r.map_err(|e| {
                    std::io::Error::other(if e.is_timeout() {
                        "the origin timed out mid-body".to_owned()
                    } else {
                        root_cause(&e)
                    })
                })
            })
            .boxed();
        Ok(OriginResponse { status, headers, body })
    }
}

impl Default for Fetcher {
    fn default() -> Self {
        Fetcher::new(None)
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// A file's headers as a static origin would send them.
fn file_headers(
    path: &str,
    etag: &str,
    last_modified: Option<i64>,
    max_age: u64,
) -> Vec<(String, String)> {
    let mut headers = vec![
        ("content-type".to_owned(), content_type(path).to_owned()),
        ("etag".to_owned(), etag.to_owned()),
        ("cache-control".to_owned(), format!("max-age={max_age}")),
    ];
    if let Some(lm) = last_modified {
        headers.push(("last-modified".to_owned(), policy::format_http_date(lm)));
    }
    headers
}

fn not_modified(req: &OriginRequest<'_>, etag: &str, last_modified: Option<i64>) -> bool {
    match (&req.if_none_match, &req.if_modified_since) {
        (Some(inm), _) => policy::none_match(inm, Some(etag)),
        (None, Some(ims)) => {
            matches!((policy::parse_http_date(ims), last_modified), (Some(since), Some(lm)) if lm <= since)
        }
        _ => false,
    }
}

async fn fetch_folder(
    dir: &Path,
    req: &OriginRequest<'_>,
    max_age: u64,
) -> Result<OriginResponse, OriginError> {
    let path: PathBuf = dir.join(req.path.file_path());
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(not_found()),
        Err(e) => return Err(OriginError::Unreachable(format!("the origin folder: {e}"))),
    };
    let meta = file.metadata().await.map_err(|e| OriginError::Unreachable(e.to_string()))?;
    if !meta.is_file() {
        return Ok(not_found());
    }
    let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    let etag = format!("\"{:x}-{:x}\"", meta.len(), mtime.map_or(0, |d| d.as_nanos()));
    let last_modified = mtime.map(|d| d.as_secs() as i64);
    if not_modified(req, &etag, last_modified) {
        return Ok(OriginResponse {
            status: 304,
            headers: file_headers(&req.path.file_path(), &etag, last_modified, max_age),
            body: empty(),
        });
    }
    let body = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024).boxed();
    Ok(OriginResponse {
        status: 200,
        headers: file_headers(&req.path.file_path(), &etag, last_modified, max_age),
        body,
    })
}

fn fetch_demo(req: &OriginRequest<'_>, max_age: u64) -> OriginResponse {
    let name = req.path.file_path();
    let Some(file) = DEMO_STOREFRONT.get_file(&name) else { return not_found() };
    let contents = file.contents();
    let etag = format!("\"{}\"", demo_etag(contents));
    if not_modified(req, &etag, None) {
        return OriginResponse {
            status: 304,
            headers: file_headers(&name, &etag, None, max_age),
            body: empty(),
        };
    }
    OriginResponse {
        status: 200,
        headers: file_headers(&name, &etag, None, max_age),
        body: futures_util::stream::once(async move { Ok(Bytes::from_static(contents)) }).boxed(),
    }
}

fn demo_etag(contents: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(contents).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Every file under `prefix` in a folder or the demo storefront (for warm-up).
pub fn list(origin: &Origin, prefix: &str) -> Result<Vec<String>, String> {
    match origin {
        Origin::Url(_) => {
            Err(format!("`{prefix}`: a prefix can only be listed on a folder origin; name the files or use assets.warm_listing"))
        }
        Origin::DemoStorefront => {
            let mut out = Vec::new();
            collect_demo(&DEMO_STOREFRONT, prefix, &mut out);
            out.sort();
            Ok(out)
        }
        Origin::Folder(dir) => {
            let mut out = Vec::new();
            let mut stack = vec![dir.join(prefix)];
            while let Some(d) = stack.pop() {
                let entries = std::fs::read_dir(&d).map_err(|e| format!("`{prefix}`: {e}"))?;
                for entry in entries.flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if let Ok(rel) = path.strip_prefix(dir) {
                        if let Some(rel) = rel.to_str() {
                            out.push(encode_path(rel));
                        }
                    }
                    if out.len() > 100_000 {
                        return Err(format!("`{prefix}` holds more than 100000 files"));
                    }
                }
            }
            out.sort();
            Ok(out)
        }
    }
}

fn collect_demo(dir: &Dir<'static>, prefix: &str, out: &mut Vec<String>) {
    for file in dir.files() {
        if let Some(p) = file.path().to_str() {
            if p.starts_with(prefix) {
                out.push(encode_path(p));
            }
        }
    }
    for sub in dir.dirs() {
        collect_demo(sub, prefix, out);
    }
}

/// Percent-encodes what a path segment may not hold as is.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn not_found() -> OriginResponse {
    let body = br#"{"error":{"code":"not_found","message":"the origin has no such file"}}"#;
    OriginResponse {
        status: 404,
        headers: vec![("content-type".into(), "application/json".into())],
        body: futures_util::stream::once(async { Ok(Bytes::from_static(body)) }).boxed(),
    }
}

fn empty() -> BodyStream {
    futures_util::stream::empty().boxed()
}

/// The media type of a file, by extension.
pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or_default().to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}
