//! The origin both caches sit in front of: a plain HTTP server on loopback serving a
//! fixed set of objects with the headers a static host or CDN sends (Cache-Control,
//! ETag, Last-Modified, Vary on text), answering conditional requests with 304, and
//! counting what it was asked (the egress a cache is meant to save).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Response, Uri};

/// One object as the origin serves it.
#[derive(Clone)]
pub struct Object {
    pub body: bytes::Bytes,
    pub content_type: &'static str,
    pub cache_control: String,
    /// Text the origin compresses: `Vary: Accept-Encoding`, and a gzip body (here the
    /// same bytes marked `Content-Encoding: gzip`, which no client of the benchmark
    /// decodes) when gzip is asked for.
    pub varies_on_encoding: bool,
}

#[derive(Default)]
pub struct Counts {
    pub requests: AtomicU64,
    pub not_modified: AtomicU64,
    pub bytes: AtomicU64,
}

struct Shared {
    objects: HashMap<String, Object>,
    counts: Arc<Counts>,
}

pub struct Origin {
    pub url: String,
    pub port: u16,
    pub counts: Arc<Counts>,
    _runtime: tokio::runtime::Runtime,
}

impl Origin {
    /// Serves `objects` (path without a leading `/`) on its own one-thread runtime, so
    /// it never competes with the client for the bench's threads.
    pub fn start(objects: HashMap<String, Object>) -> anyhow::Result<Origin> {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
        let counts = Arc::new(Counts::default());
        let shared = Arc::new(Shared { objects, counts: counts.clone() });
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let port = listener.local_addr()?.port();
        let app = axum::Router::new().fallback(answer).with_state(shared);
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Origin { url: format!("http://127.0.0.1:{port}/"), port, counts, _runtime: runtime })
    }
}

fn etag(body: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    format!("\"{:016x}\"", h.finish())
}

async fn answer(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let path = uri.path().trim_start_matches('/');
    let counts = &shared.counts;
    counts.requests.fetch_add(1, Ordering::Relaxed);
    let Some(object) = shared.objects.get(path) else {
        return Response::builder()
            .status(404)
            .body(Body::from("not found"))
            .expect("valid response");
    };
    let tag = etag(&object.body);
    let mut b = Response::builder()
        .header("cache-control", &object.cache_control)
        .header("content-type", object.content_type)
        .header("etag", &tag)
        .header("last-modified", "Sat, 21 Nov 2026 09:00:00 GMT");
    if object.varies_on_encoding {
        b = b.header("vary", "Accept-Encoding");
        let gzip = headers
            .get("accept-encoding")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("gzip"));
        if gzip {
            b = b.header("content-encoding", "gzip");
        }
    }
    if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(tag.as_str()) {
        counts.not_modified.fetch_add(1, Ordering::Relaxed);
        return b.status(304).body(Body::empty()).expect("valid response");
    }
    counts.bytes.fetch_add(object.body.len() as u64, Ordering::Relaxed);
    b.status(200).body(Body::from(object.body.clone())).expect("valid response")
}
