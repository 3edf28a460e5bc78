//! The asset cache against the real binary and a real origin server started here, whose
//! headers, bodies, delays and failures each test controls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Response, Uri};
use boothcloud_tests::{manifest_with_origin, Kiosk, Options, TestNode, OPERATOR_TOKEN};
use serde_json::json;

/// What the origin answers for one path.
#[derive(Clone)]
struct Spec {
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    delay: Duration,
    status: u16,
}

impl Spec {
    fn new(cache_control: &str, body: impl Into<Vec<u8>>) -> Spec {
        Spec {
            headers: vec![("cache-control", cache_control.to_owned())],
            body: body.into(),
            delay: Duration::ZERO,
            status: 200,
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Spec {
        self.headers.push((name, value.to_owned()));
        self
    }
}

#[derive(Default)]
struct OriginState {
    specs: HashMap<String, Spec>,
    /// (path, request headers) of every request, in order.
    seen: Vec<(String, HeaderMap)>,
}

/// A real HTTP origin on a random port.
struct Origin {
    url: String,
    state: Arc<Mutex<OriginState>>,
    server: tokio::task::JoinHandle<()>,
}

async fn answer(
    State(state): State<Arc<Mutex<OriginState>>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response<Body> {
    let path = uri.path().trim_start_matches('/').to_owned();
    let spec = {
        let mut s = state.lock().unwrap();
        s.seen.push((path.clone(), headers.clone()));
        s.specs.get(&path).cloned()
    };
    let Some(spec) = spec else {
        return Response::builder().status(404).body(Body::from("no such file")).unwrap();
    };
    tokio::time::sleep(spec.delay).await;
    let header = |name: &str| spec.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
    // The origin honours validators as a real one does.
    let inm = headers.get("if-none-match").and_then(|v| v.to_str().ok());
    let ims = headers.get("if-modified-since").and_then(|v| v.to_str().ok());
    let not_modified = match (inm, header("etag"), ims, header("last-modified")) {
        (Some(inm), Some(etag), _, _) => inm == etag,
        (None, _, Some(ims), Some(lm)) => ims == lm,
        _ => false,
    };
    let mut b = Response::builder().status(if not_modified { 304 } else { spec.status });
    // A body that depends on Accept-Encoding, for the Vary test.
    let gzip = headers
        .get("accept-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"));
    for (name, value) in &spec.headers {
        b = b.header(*name, value);
    }
    let vary_encoding =
        header("vary").is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding"));
    let body = if not_modified {
        Vec::new()
    } else if vary_encoding && gzip {
        b = b.header("content-encoding", "gzip");
        [b"gz:".as_slice(), &spec.body].concat()
    } else {
        spec.body.clone()
    };
    b.body(Body::from(body)).unwrap()
}

impl Origin {
    async fn start() -> Origin {
        let state = Arc::new(Mutex::new(OriginState::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(answer).with_state(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Origin { url, state, server }
    }

    fn set(&self, path: &str, spec: Spec) {
        self.state.lock().unwrap().specs.insert(path.to_owned(), spec);
    }

    fn requests(&self, path: &str) -> Vec<HeaderMap> {
        self.state
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, h)| h.clone())
            .collect()
    }

    /// The origin goes away: connections are refused from now on.
    fn stop(&self) {
        self.server.abort();
    }
}

fn node_for(origin: &str, assets: &str, pairing: &str) -> (TestNode, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with_origin(dir.path(), origin, assets, pairing);
    (TestNode::start_with(Options { manifest: Some(manifest), ..Options::default() }), dir)
}

struct Got {
    status: u16,
    x_cache: String,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

async fn get(node: &TestNode, path: &str, headers: &[(&str, &str)]) -> Got {
    let mut req = TestNode::client().get(format!("{}/assets/{path}", node.url));
    for (n, v) in headers {
        req = req.header(*n, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let x_cache = headers
        .get("x-cache")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no X-Cache on {path} ({status})"));
    Got { status, x_cache, headers, body: res.bytes().await.unwrap().to_vec() }
}

async fn figures(node: &TestNode) -> serde_json::Value {
    let a = Kiosk::enrolled(&node.url).await.ops_get("/api/v1/ops/assets").await;
    assert_eq!(a.status, 200);
    a.body
}

#[tokio::test]
async fn fresh_objects_are_hits_and_stale_ones_are_revalidated() {
    let origin = Origin::start().await;
    // A long-lived object for freshness, a one-second one for revalidation: the first
    // check must not depend on how quickly a loaded machine answers two requests.
    origin.set("fresh.txt", Spec::new("max-age=600", "fresh for ten minutes"));
    origin.set("etag.txt", Spec::new("max-age=1", "version one").header("etag", "\"v1\""));
    origin.set(
        "lm.txt",
        Spec::new("max-age=0", "dated").header("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"),
    );
    let (node, _m) = node_for(&origin.url, "", "");

    let first = get(&node, "fresh.txt", &[]).await;
    assert_eq!(
        (first.status, first.x_cache.as_str(), first.body.as_slice()),
        (200, "MISS", &b"fresh for ten minutes"[..])
    );
    let second = get(&node, "fresh.txt", &[]).await;
    assert_eq!(
        (second.x_cache.as_str(), second.body.as_slice()),
        ("HIT", &b"fresh for ten minutes"[..])
    );
    assert_eq!(origin.requests("fresh.txt").len(), 1, "a fresh object never goes to the origin");

    let first = get(&node, "etag.txt", &[]).await;
    assert_eq!(
        (first.status, first.x_cache.as_str(), first.body.as_slice()),
        (200, "MISS", &b"version one"[..])
    );
    assert_eq!(origin.requests("etag.txt").len(), 1);

    // Stale after a second: revalidated with If-None-Match, the origin says 304.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let third = get(&node, "etag.txt", &[]).await;
    assert_eq!((third.x_cache.as_str(), third.body.as_slice()), ("HIT", &b"version one"[..]));
    let asked = origin.requests("etag.txt");
    assert_eq!(asked.len(), 2);
    assert_eq!(asked[1].get("if-none-match").unwrap(), "\"v1\"");
    assert!(
        third.headers["age"].to_str().unwrap().parse::<u64>().unwrap() < 2,
        "a 304 makes the object young again"
    );

    // A new version at the origin replaces the stored one once it is stale.
    origin.set("etag.txt", Spec::new("max-age=60", "version two").header("etag", "\"v2\""));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fourth = get(&node, "etag.txt", &[]).await;
    assert_eq!((fourth.x_cache.as_str(), fourth.body.as_slice()), ("MISS", &b"version two"[..]));

    // Last-Modified validators work the same way (max-age=0: every use revalidates).
    assert_eq!(get(&node, "lm.txt", &[]).await.x_cache, "MISS");
    let again = get(&node, "lm.txt", &[]).await;
    assert_eq!((again.x_cache.as_str(), again.body.as_slice()), ("HIT", &b"dated"[..]));
    assert_eq!(
        origin.requests("lm.txt")[1].get("if-modified-since").unwrap(),
        "Sun, 06 Nov 1994 08:49:37 GMT"
    );

    let f = figures(&node).await;
    assert_eq!(f["figures"]["total"]["revalidations"], 2);
    assert_eq!(f["figures"]["by_prefix"]["/"]["misses"], 4);
}

/// A folder origin answers a revalidation with a 304 that has no Date (a static file has
/// none to give): the refreshed object must be young again, not revalidated on every
/// request from then on.
#[tokio::test]
async fn a_folder_origin_revalidates_once_per_freshness_lifetime() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("menu.txt"), "hot cocoa").unwrap();
    let origin = folder.path().display().to_string();
    let (node, _m) = node_for(&origin, "folder_max_age = \"3s\"", "");

    let first = get(&node, "menu.txt", &[]).await;
    assert_eq!((first.x_cache.as_str(), first.body.as_slice()), ("MISS", &b"hot cocoa"[..]));
    tokio::time::sleep(Duration::from_millis(4100)).await;
    let revalidated = get(&node, "menu.txt", &[]).await;
    assert_eq!(
        (revalidated.x_cache.as_str(), revalidated.body.as_slice()),
        ("HIT", &b"hot cocoa"[..])
    );
    let age = |g: &Got| g.headers["age"].to_str().unwrap().parse::<u64>().unwrap();
    assert!(age(&revalidated) < 2, "the 304 made it young again (age {})", age(&revalidated));
    let before = figures(&node).await["figures"]["total"]["revalidations"].as_u64().unwrap();
    assert_eq!(before, 1);
    for _ in 0..5 {
        assert_eq!(get(&node, "menu.txt", &[]).await.x_cache, "HIT");
    }
    let after = figures(&node).await["figures"]["total"]["revalidations"].as_u64().unwrap();
    assert_eq!(after, 1, "fresh again after the 304: nothing more went to the folder");

    // A changed file replaces the stored one when it is next stale.
    std::fs::write(folder.path().join("menu.txt"), "mulled apple").unwrap();
    tokio::time::sleep(Duration::from_millis(4100)).await;
    let changed = get(&node, "menu.txt", &[]).await;
    assert_eq!((changed.x_cache.as_str(), changed.body.as_slice()), ("MISS", &b"mulled apple"[..]));
}

/// A 200 KiB object sits in the memory tier in a sealed memory file and is sent from it
/// (`sendfile`): whole, in ranges, and to many clients at once, byte for byte.
#[tokio::test]
async fn a_large_memory_tier_object_arrives_byte_for_byte_whole_and_in_ranges() {
    let origin = Origin::start().await;
    let poster: Vec<u8> =
        (0..204_800u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    origin.set("img/poster.jpg", Spec::new("max-age=600", poster.clone()).header("etag", "\"p1\""));
    let (node, _m) = node_for(&origin.url, "", "");

    assert_eq!(get(&node, "img/poster.jpg", &[]).await.x_cache, "MISS");
    let hits =
        futures_util::future::join_all((0..16).map(|_| get(&node, "img/poster.jpg", &[]))).await;
    for hit in &hits {
        assert_eq!(hit.x_cache, "HIT");
        assert!(hit.body == poster, "a hit's body is the origin's");
    }
    for (from, to) in [(0usize, 99usize), (65_535, 65_536), (70_000, 204_799), (1, 150_000)] {
        let part = get(&node, "img/poster.jpg", &[("range", &format!("bytes={from}-{to}"))]).await;
        assert_eq!(part.status, 206);
        assert!(part.body == poster[from..=to], "bytes {from}-{to}");
    }
    assert_eq!(origin.requests("img/poster.jpg").len(), 1);
}

#[tokio::test]
async fn no_store_and_private_are_never_stored_and_vary_keeps_variants_apart() {
    let origin = Origin::start().await;
    origin.set("nostore.json", Spec::new("no-store", "{\"n\":1}"));
    origin.set("private.json", Spec::new("private, max-age=600", "{\"mine\":true}"));
    origin.set(
        "app.js",
        Spec::new("max-age=600", "console.log(1)").header("vary", "Accept-Encoding"),
    );
    let (node, _m) = node_for(&origin.url, "", "");

    for path in ["nostore.json", "private.json"] {
        for _ in 0..2 {
            let g = get(&node, path, &[]).await;
            assert_eq!((g.status, g.x_cache.as_str()), (200, "MISS"), "{path}");
        }
        assert_eq!(origin.requests(path).len(), 2, "{path} was stored");
    }

    // Chromium over plain HTTP; the cache asks the origin for gzip alone.
    let gz = get(&node, "app.js", &[("accept-encoding", "gzip, deflate")]).await;
    assert_eq!((gz.x_cache.as_str(), gz.body.as_slice()), ("MISS", &b"gz:console.log(1)"[..]));
    assert_eq!(origin.requests("app.js")[0]["accept-encoding"], "gzip");
    let plain = get(&node, "app.js", &[]).await;
    assert_eq!((plain.x_cache.as_str(), plain.body.as_slice()), ("MISS", &b"console.log(1)"[..]));
    // Another browser's spelling of the same choice shares the variant.
    let gz = get(&node, "app.js", &[("accept-encoding", "deflate, gzip;q=0.8, identity")]).await;
    assert_eq!((gz.x_cache.as_str(), gz.body.as_slice()), ("HIT", &b"gz:console.log(1)"[..]));
    assert_eq!(gz.headers["content-encoding"], "gzip", "Content-Encoding passes through untouched");
    assert!(gz.headers["vary"].to_str().unwrap().to_ascii_lowercase().contains("accept-encoding"));
    let plain = get(&node, "app.js", &[("accept-encoding", "gzip;q=0")]).await;
    assert_eq!(
        (plain.x_cache.as_str(), plain.body.as_slice()),
        ("HIT", &b"console.log(1)"[..]),
        "gzip refused: identity"
    );
    assert!(plain.headers.get("content-encoding").is_none());
    // Brotli is a variant of its own (this origin has no Brotli, so it answers plain).
    assert_eq!(
        get(&node, "app.js", &[("accept-encoding", "gzip, deflate, br, zstd")]).await.x_cache,
        "MISS"
    );
    let asked: Vec<_> = origin
        .requests("app.js")
        .iter()
        .map(|h| h.get("accept-encoding").map(|v| v.to_str().unwrap().to_owned()))
        .collect();
    assert_eq!(asked, [Some("gzip".to_owned()), None, Some("br".to_owned())]);
}

#[tokio::test]
async fn warm_up_fetches_the_listing_with_progress_and_kiosks_then_hit() {
    let origin = Origin::start().await;
    let listing: String =
        (0..30).map(|i| format!("img/p{i}.jpg\n")).collect::<String>() + "# comment\n\napp.js\n";
    origin.set("warm.txt", Spec::new("max-age=600", listing));
    for i in 0..30 {
        origin.set(
            &format!("img/p{i}.jpg"),
            Spec::new("max-age=600", vec![i as u8; 5_000]).header("etag", &format!("\"p{i}\"")),
        );
    }
    origin.set(
        "app.js",
        Spec::new("max-age=600", "console.log(1)").header("vary", "Accept-Encoding"),
    );
    let (node, _m) = node_for(
        &origin.url,
        "warm_listing = \"warm.txt\"\nwarm = [\"missing.css\"]\nwarm_concurrency = 4",
        "",
    );

    let mut warm = serde_json::Value::Null;
    for _ in 0..100 {
        warm = figures(&node).await["warm_up"].clone();
        if warm["running"] == false && warm["total"].as_u64() > Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        (warm["total"].as_u64(), warm["done"].as_u64(), warm["failed"].as_u64()),
        (Some(32), Some(32), Some(1)),
        "{warm}"
    );
    assert_eq!(warm["bytes"].as_u64(), Some(30 * 5_000 + "gz:console.log(1)".len() as u64));
    assert!(warm["duration_ms"].as_u64().is_some());
    assert!(warm["problems"][0].as_str().unwrap().contains("missing.css"), "{warm}");

    // Kiosks ask as browsers do on the LAN: every listed file is already a hit,
    // including the gzip variant of the file that varies on encoding.
    for i in 0..30 {
        assert_eq!(
            get(&node, &format!("img/p{i}.jpg"), &[("accept-encoding", "gzip, deflate")])
                .await
                .x_cache,
            "HIT"
        );
    }
    let js = get(&node, "app.js", &[("accept-encoding", "gzip, deflate")]).await;
    assert_eq!((js.x_cache.as_str(), js.body.as_slice()), ("HIT", &b"gz:console.log(1)"[..]));
    assert_eq!(origin.requests("img/p7.jpg").len(), 1);

    // Re-warm: everything is fresh, so nothing is fetched again; a second call while
    // it runs would be refused with 409 (it finishes too fast here to catch reliably).
    let r = TestNode::client()
        .post(format!("{}/api/v1/ops/assets/warm", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(origin.requests("img/p7.jpg").len(), 1, "a fresh object is not fetched again");
    let anonymous = TestNode::client()
        .post(format!("{}/api/v1/ops/assets/warm", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn clients_get_304s_ranges_and_heads() {
    let origin = Origin::start().await;
    let video: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    origin.set(
        "video/reel.mp4",
        Spec::new("max-age=600", video.clone())
            .header("etag", "\"reel-1\"")
            .header("content-type", "video/mp4"),
    );
    origin.set(
        "small.css",
        Spec::new("max-age=600", "body{}").header("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"),
    );
    let (node, _m) = node_for(&origin.url, "memory_object = \"64 KiB\"", "");

    assert_eq!(get(&node, "video/reel.mp4", &[]).await.body, video);
    let not_modified = get(&node, "video/reel.mp4", &[("if-none-match", "W/\"reel-1\"")]).await;
    assert_eq!((not_modified.status, not_modified.x_cache.as_str()), (304, "HIT"));
    assert!(not_modified.body.is_empty());
    assert_eq!(
        get(&node, "small.css", &[("if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT")])
            .await
            .status,
        304
    );
    assert_eq!(
        get(&node, "small.css", &[("if-modified-since", "Sat, 05 Nov 1994 08:49:37 GMT")])
            .await
            .status,
        200
    );

    // Seeking in the video (served from the disk tier: it is over the memory tier's object size).
    let part = get(&node, "video/reel.mp4", &[("range", "bytes=100000-100099")]).await;
    assert_eq!((part.status, part.x_cache.as_str()), (206, "HIT"));
    assert_eq!(part.headers["content-range"], "bytes 100000-100099/300000");
    assert_eq!(part.body, &video[100_000..100_100]);
    let tail = get(&node, "video/reel.mp4", &[("range", "bytes=-10")]).await;
    assert_eq!(tail.body, &video[299_990..]);
    let past = get(&node, "video/reel.mp4", &[("range", "bytes=300000-")]).await;
    assert_eq!(past.status, 416);
    assert_eq!(past.headers["content-range"], "bytes */300000");
    let changed =
        get(&node, "video/reel.mp4", &[("range", "bytes=0-9"), ("if-range", "\"reel-0\"")]).await;
    assert_eq!(
        (changed.status, changed.body.len()),
        (200, 300_000),
        "If-Range with another tag gets the whole file"
    );
    let same =
        get(&node, "video/reel.mp4", &[("range", "bytes=0-9"), ("if-range", "\"reel-1\"")]).await;
    assert_eq!(same.status, 206);

    let head = TestNode::client()
        .head(format!("{}/assets/video/reel.mp4", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(head.headers()["content-length"], "300000");
    assert_eq!(head.headers()["x-cache"], "HIT");
    assert_eq!(origin.requests("video/reel.mp4").len(), 1);

    // Bad paths are refused in JSON, with X-Cache.
    let bad = get(&node, "img/%00x", &[]).await;
    assert_eq!((bad.status, bad.x_cache.as_str()), (400, "MISS"));
    let body: serde_json::Value = serde_json::from_slice(&bad.body).unwrap();
    assert_eq!(body["error"]["code"], "bad_asset_path");

    // Only GET and HEAD take the front door to the cache; another method gets the
    // router's JSON 405, and the origin is not asked.
    let post = TestNode::client()
        .post(format!("{}/assets/video/reel.mp4", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
    assert_eq!(
        (post.headers()["allow"].to_str().unwrap(), post.headers()["x-cache"].to_str().unwrap()),
        ("GET, HEAD", "MISS")
    );
    let body: serde_json::Value = post.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
    assert_eq!(origin.requests("video/reel.mp4").len(), 1);
}

#[tokio::test]
async fn stale_while_revalidate_answers_at_once_and_refreshes_behind() {
    let origin = Origin::start().await;
    origin.set("menu.json", Spec::new("max-age=1, stale-while-revalidate=60", "old menu"));
    let (node, _m) = node_for(&origin.url, "", "");
    assert_eq!(get(&node, "menu.json", &[]).await.x_cache, "MISS");
    origin.set(
        "menu.json",
        Spec { delay: Duration::from_millis(1500), ..Spec::new("max-age=60", "new menu") },
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let started = std::time::Instant::now();
    let stale = get(&node, "menu.json", &[]).await;
    assert_eq!((stale.x_cache.as_str(), stale.body.as_slice()), ("STALE", &b"old menu"[..]));
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "a stale answer does not wait for the origin"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let g = get(&node, "menu.json", &[]).await;
        if g.body == b"new menu" {
            assert_eq!(g.x_cache, "HIT");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the background refresh never landed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(origin.requests("menu.json").len(), 2, "one background refresh");
    assert!(figures(&node).await["figures"]["total"]["stale"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn with_the_origin_down_the_storefront_is_served_stale_even_after_a_restart() {
    let origin = Origin::start().await;
    origin.set("index.html", Spec::new("max-age=1", "<h1>Stand 14</h1>"));
    origin.set("strict.json", Spec::new("max-age=1, must-revalidate", "{}"));
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with_origin(dir.path(), &origin.url, "offline_stale = \"1h\"", "");
    let data = tempfile::tempdir().unwrap();
    let opts = || Options {
        manifest: Some(manifest.clone()),
        data_dir: Some(data.path().to_owned()),
        ..Options::default()
    };
    let node = TestNode::start_with(opts());
    assert_eq!(get(&node, "index.html", &[]).await.x_cache, "MISS");
    assert_eq!(get(&node, "strict.json", &[]).await.x_cache, "MISS");

    origin.stop();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let stale = get(&node, "index.html", &[]).await;
    assert_eq!(
        (stale.status, stale.x_cache.as_str(), stale.body.as_slice()),
        (200, "STALE", &b"<h1>Stand 14</h1>"[..])
    );
    let strict = get(&node, "strict.json", &[]).await;
    assert_eq!(
        (strict.status, strict.x_cache.as_str()),
        (502, "MISS"),
        "must-revalidate is never served stale"
    );
    let never = get(&node, "never-cached.png", &[]).await;
    assert_eq!(never.status, 502);
    let body: serde_json::Value = serde_json::from_slice(&never.body).unwrap();
    assert_eq!(body["error"]["code"], "origin_unavailable");
    assert!(figures(&node).await["figures"]["total"]["origin_errors"].as_u64().unwrap() >= 2);

    // The booth laptop restarts during the outage: the disk tier still has the storefront.
    assert!(node.terminate().success());
    let node = TestNode::start_with(opts());
    let after = get(&node, "index.html", &[]).await;
    assert_eq!(
        (after.status, after.x_cache.as_str(), after.body.as_slice()),
        (200, "STALE", &b"<h1>Stand 14</h1>"[..])
    );
    let f = figures(&node).await;
    assert!(
        f["figures"]["total"]["misses"].as_u64().unwrap() >= 2,
        "the event's figures survive the restart: {f}"
    );
}

#[tokio::test]
async fn concurrent_misses_make_one_origin_request() {
    let origin = Origin::start().await;
    origin.set(
        "img/hero.jpg",
        Spec { delay: Duration::from_millis(400), ..Spec::new("max-age=600", vec![7u8; 50_000]) },
    );
    let (node, _m) = node_for(&origin.url, "", "");
    let asks = (0..24).map(|_| {
        let url = format!("{}/assets/img/hero.jpg", node.url);
        tokio::spawn(async move {
            let r = TestNode::client().get(url).send().await.unwrap();
            (r.status().as_u16(), r.bytes().await.unwrap().len())
        })
    });
    for ask in asks.collect::<Vec<_>>() {
        assert_eq!(ask.await.unwrap(), (200, 50_000));
    }
    assert_eq!(origin.requests("img/hero.jpg").len(), 1, "24 concurrent misses, one origin fetch");
}

#[tokio::test]
async fn the_disk_tier_stays_within_its_bound_and_evicts_the_least_recent() {
    let origin = Origin::start().await;
    for i in 0..8 {
        origin.set(&format!("img/{i}.jpg"), Spec::new("max-age=600", vec![i as u8; 10_000]));
    }
    let (node, _m) = node_for(&origin.url, "disk = \"40 KiB\"\nmemory = \"0\"", "");
    for i in 0..8 {
        assert_eq!(get(&node, &format!("img/{i}.jpg"), &[]).await.x_cache, "MISS");
        // Keep img/0 the most recently used.
        assert_eq!(get(&node, "img/0.jpg", &[]).await.x_cache, "HIT");
    }
    let storage = figures(&node).await["storage"].clone();
    assert!(storage["disk_bytes"].as_u64().unwrap() <= 40 * 1024, "{storage}");
    assert!(storage["objects"].as_u64().unwrap() <= 3, "{storage}");
    assert_eq!(get(&node, "img/0.jpg", &[]).await.x_cache, "HIT", "the most recently used stays");
    assert_eq!(get(&node, "img/7.jpg", &[]).await.x_cache, "HIT", "the newest stays");
    assert_eq!(get(&node, "img/1.jpg", &[]).await.x_cache, "MISS", "an old one was evicted");
}

#[tokio::test]
async fn the_operator_purges_an_object_a_prefix_or_everything() {
    let origin = Origin::start().await;
    for path in ["img/a.jpg", "img/b.jpg", "css/store.css"] {
        origin.set(path, Spec::new("max-age=600", path));
    }
    let (node, _m) = node_for(&origin.url, "", "");
    let kiosk = Kiosk::enrolled(&node.url).await;
    let purge = |body: serde_json::Value| {
        let url = format!("{}/api/v1/ops/assets/purge", node.url);
        async move {
            TestNode::client()
                .post(url)
                .bearer_auth(OPERATOR_TOKEN)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    for path in ["img/a.jpg", "img/b.jpg", "css/store.css"] {
        get(&node, path, &[]).await;
    }
    let r = purge(json!({"path": "img/a.jpg"})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["purged"], 1);
    assert_eq!(get(&node, "img/a.jpg", &[]).await.x_cache, "MISS");
    assert_eq!(get(&node, "img/b.jpg", &[]).await.x_cache, "HIT");
    assert_eq!(
        purge(json!({"prefix": "img/"})).await.json::<serde_json::Value>().await.unwrap()["purged"],
        2
    );
    assert_eq!(get(&node, "img/b.jpg", &[]).await.x_cache, "MISS");
    assert_eq!(
        purge(json!({"all": true})).await.json::<serde_json::Value>().await.unwrap()["purged"],
        2,
        "css and the re-fetched img/b"
    );
    assert_eq!(figures(&node).await["storage"]["objects"], 0);

    assert_eq!(purge(json!({"path": "a", "all": true})).await.status(), 400);
    assert_eq!(purge(json!({"path": "../x"})).await.status(), 400);
    let anonymous = TestNode::client()
        .post(format!("{}/api/v1/ops/assets/purge", node.url))
        .json(&json!({"all": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(kiosk.get("/api/v1/ops/assets").await.status, 401);
}

const PAIRING: &str = "key = \"mesh-test-pairing-key-0123456789abcdef\"";

#[tokio::test]
async fn a_miss_is_served_by_a_paired_booth_before_the_origin() {
    let origin = Origin::start().await;
    origin.set(
        "img/poster.jpg",
        Spec::new("max-age=600", vec![42u8; 20_000]).header("etag", "\"p1\""),
    );
    let (a, _ma) = node_for(&origin.url, "", PAIRING);
    assert_eq!(get(&a, "img/poster.jpg", &[]).await.x_cache, "MISS");

    // Booth B's own origin is unreachable; its paired neighbour A has the poster.
    let dead = "http://127.0.0.1:9/";
    let (b, _mb) = node_for(
        dead,
        "",
        &format!(
            "{PAIRING}\npeers = [{{ name = \"stand 15\", url = \"{}/\", ca = \"{}\" }}]",
            a.url,
            boothcloud_tests::test_ca().fingerprint
        ),
    );
    let from_peer = get(&b, "img/poster.jpg", &[]).await;
    assert_eq!((from_peer.status, from_peer.x_cache.as_str()), (200, "PEER"));
    assert_eq!(from_peer.body, vec![42u8; 20_000]);
    assert_eq!(get(&b, "img/poster.jpg", &[]).await.x_cache, "HIT", "a peer's object is stored");
    assert_eq!(figures(&b).await["figures"]["total"]["peer"], 1);
    assert_eq!(origin.requests("img/poster.jpg").len(), 1, "the origin was asked once, by A");

    // A booth with another key gets nothing from A, and A answers strangers with 401.
    let (c, _mc) =
        node_for(dead, "", &format!("key = \"another-event-pairing-key-0123456789\"\npeers = [{{ name = \"a\", url = \"{}/\", ca = \"{}\" }}]", a.url, boothcloud_tests::test_ca().fingerprint));
    assert_eq!(get(&c, "img/poster.jpg", &[]).await.status, 502);
    let stranger = get(
        &a,
        "img/poster.jpg",
        &[("x-boothcloud-signature", "v1 from=x to=y ts=1 nonce=00 mac=00")],
    )
    .await;
    assert_eq!(stranger.status, 401);
    // A peer's question about something A does not hold is not passed on.
    let unknown = get(&a, "img/unknown.jpg", &[("cache-control", "only-if-cached")]).await;
    assert_eq!(unknown.status, 504);
    assert!(origin.requests("img/unknown.jpg").is_empty());
}
