//! Media against the real binary: the tus protocol and its edge cases, crash safety of
//! uploads, transcodes checked with ffprobe, cancel and timeout leaving no ffmpeg behind,
//! the budget and degrade controls, and forwarding to an upstream across a cut link.
//!
//! Needs ffmpeg and ffprobe (scripts/setup installs them).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use boothcloud_tests::{demo_manifest_in, Options, TestNode, OPERATOR_TOKEN};
use serde_json::{json, Value};

/// The demo manifest with `media` (TOML) as its whole `[media]` section and its presets,
/// and each `(from, to)` line replaced.
fn manifest(dir: &Path, media: &str, replace: &[(&str, &str)]) -> PathBuf {
    let path = demo_manifest_in(dir);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    let mut in_media = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_media = line == "[media]" || line == "[[media.presets]]";
        }
        if in_media {
            continue;
        }
        let line = replace.iter().find(|(from, _)| line == *from).map_or(line, |(_, to)| to);
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(media);
    std::fs::write(&path, out).unwrap();
    path
}

fn start(dir: &Path, media: &str, replace: &[(&str, &str)]) -> TestNode {
    TestNode::start_with(Options {
        manifest: Some(manifest(dir, media, replace)),
        ..Options::default()
    })
}

struct Tus {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Tus {
    async fn new(node: &TestNode, label: &str) -> Tus {
        let http = TestNode::client();
        let token = issue(&http, &node.url, json!({ "label": label })).await["token"]
            .as_str()
            .unwrap()
            .to_owned();
        Tus { base: node.url.clone(), token, http }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let url =
            if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) };
        self.http.request(method, url).bearer_auth(&self.token).header("Tus-Resumable", "1.0.0")
    }

    async fn create(&self, length: usize, filename: &str) -> reqwest::Response {
        let meta =
            format!("filename {}", base64::engine::general_purpose::STANDARD.encode(filename));
        self.req(reqwest::Method::POST, "/api/v1/uploads/")
            .header("Upload-Length", length)
            .header("Upload-Metadata", meta)
            .send()
            .await
            .unwrap()
    }

    async fn location(&self, length: usize, filename: &str) -> String {
        let res = self.create(length, filename).await;
        assert_eq!(res.status(), 201, "{:?}", res.text().await);
        res.headers()["location"].to_str().unwrap().to_owned()
    }

    async fn patch(
        &self,
        location: &str,
        offset: u64,
        body: Vec<u8>,
        checksum: Option<String>,
    ) -> reqwest::Response {
        let mut r = self
            .req(reqwest::Method::PATCH, location)
            .header("Upload-Offset", offset)
            .header("Content-Type", "application/offset+octet-stream");
        if let Some(c) = checksum {
            r = r.header("Upload-Checksum", c);
        }
        r.body(body).send().await.unwrap()
    }

    async fn offset(&self, location: &str) -> (u16, Option<u64>) {
        let res = self.req(reqwest::Method::HEAD, location).send().await.unwrap();
        let offset =
            res.headers().get("upload-offset").map(|v| v.to_str().unwrap().parse().unwrap());
        (res.status().as_u16(), offset)
    }

    /// Uploads `bytes` whole and returns the upload id.
    async fn upload(&self, bytes: &[u8], filename: &str) -> String {
        let loc = self.location(bytes.len(), filename).await;
        let res = self.patch(&loc, 0, bytes.to_vec(), None).await;
        assert_eq!(res.status(), 204);
        loc.rsplit('/').next().unwrap().to_owned()
    }
}

fn res_upload_id(location: &str) -> String {
    location.rsplit('/').next().unwrap().to_owned()
}

async fn issue(http: &reqwest::Client, url: &str, body: Value) -> Value {
    let res = http
        .post(format!("{url}/api/v1/ops/upload-tokens"))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn ops(
    node: &TestNode,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = TestNode::client()
        .request(method, format!("{}{path}", node.url))
        .bearer_auth(OPERATOR_TOKEN);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let res = r.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// `Upload-Checksum` computed by Python's hashlib: an implementation independent of the node's.
fn sha1_header(bytes: &[u8]) -> String {
    let out = Command::new("python3")
        .args(["-c", "import sys,hashlib,base64;print(base64.b64encode(hashlib.sha1(sys.stdin.buffer.read()).digest()).decode())"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(bytes)?;
            c.wait_with_output()
        })
        .expect("python3");
    format!("sha1 {}", String::from_utf8(out.stdout).unwrap().trim())
}

fn random_bytes(n: usize) -> Vec<u8> {
    use rand::RngCore;
    let mut v = vec![0u8; n];
    rand::rng().fill_bytes(&mut v);
    v
}

#[tokio::test]
async fn tus_core_and_extensions_with_their_edge_cases() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path(), "[media]\nmax_upload = \"1 MiB\"\n", &[]);
    let tus = Tus::new(&node, "Camera 1").await;
    let http = TestNode::client();

    // Discovery: OPTIONS needs no token and says what the node speaks.
    let res = http
        .request(reqwest::Method::OPTIONS, format!("{}/api/v1/uploads/", node.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let h = res.headers();
    assert_eq!(h["tus-version"], "1.0.0");
    assert_eq!(h["tus-resumable"], "1.0.0");
    assert_eq!(h["tus-max-size"], "1048576");
    assert_eq!(h["tus-checksum-algorithm"], "sha1,sha256");
    for ext in ["creation", "creation-with-upload", "expiration", "checksum", "termination"] {
        assert!(h["tus-extension"].to_str().unwrap().split(',').any(|e| e == ext), "{ext}");
    }

    // Who may upload: a token the operator issued, nobody else.
    let anon = http
        .post(format!("{}/api/v1/uploads/", node.url))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", 10)
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    assert_eq!(anon.json::<Value>().await.unwrap()["error"]["code"], "unauthorized");
    let forged = http
        .post(format!("{}/api/v1/uploads/", node.url))
        .bearer_auth("bcu_forged")
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", 10)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);

    // Version, length, size.
    let old = http
        .post(format!("{}/api/v1/uploads/", node.url))
        .bearer_auth(&tus.token)
        .header("Tus-Resumable", "0.2.2")
        .header("Upload-Length", 10)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 412);
    assert_eq!(old.headers()["tus-version"], "1.0.0");
    let no_length = tus.req(reqwest::Method::POST, "/api/v1/uploads/").send().await.unwrap();
    assert_eq!(no_length.status(), 400);
    assert_eq!(no_length.json::<Value>().await.unwrap()["error"]["code"], "upload_length_missing");
    let big = tus.create(2 << 20, "big.mov").await;
    assert_eq!(big.status(), 413);
    assert_eq!(big.headers()["tus-resumable"], "1.0.0", "errors carry the protocol header too");
    let bad_meta = tus
        .req(reqwest::Method::POST, "/api/v1/uploads/")
        .header("Upload-Length", 10)
        .header("Upload-Metadata", "filename !!!")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_meta.status(), 400);

    // Creation, then appends with offset and checksum checks.
    let data = random_bytes(300_000);
    let created = tus.create(data.len(), "booth demo.mp4").await;
    assert_eq!(created.status(), 201);
    assert!(created.headers().contains_key("upload-expires"), "expiration extension");
    let loc = created.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(tus.offset(&loc).await, (200, Some(0)));
    let head = tus.req(reqwest::Method::HEAD, &loc).send().await.unwrap();
    assert_eq!(head.headers()["upload-length"], data.len().to_string().as_str());
    assert_eq!(head.headers()["cache-control"], "no-store");
    assert!(head.headers()["upload-metadata"].to_str().unwrap().starts_with("filename "));

    let first = data[..100_000].to_vec();
    assert_eq!(tus.patch(&loc, 5, first.clone(), None).await.status(), 409, "wrong offset");
    let wrong_type = tus
        .req(reqwest::Method::PATCH, &loc)
        .header("Upload-Offset", 0)
        .header("Content-Type", "video/mp4")
        .body(first.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 415);
    let bad_sum = tus.patch(&loc, 0, first.clone(), Some(sha1_header(b"something else"))).await;
    assert_eq!(bad_sum.status(), 460);
    assert_eq!(bad_sum.json::<Value>().await.unwrap()["error"]["code"], "checksum_mismatch");
    assert_eq!(tus.offset(&loc).await.1, Some(0), "a body that failed its checksum is not kept");
    let md5 = tus.patch(&loc, 0, first.clone(), Some("md5 Zm9v".into())).await;
    assert_eq!(md5.status(), 400, "an unsupported algorithm");
    let ok = tus.patch(&loc, 0, first.clone(), Some(sha1_header(&first))).await;
    assert_eq!(ok.status(), 204);
    assert_eq!(ok.headers()["upload-offset"], "100000");
    assert!(ok.headers().contains_key("upload-expires"));
    let past = tus.patch(&loc, 100_000, random_bytes(250_000), None).await;
    assert_eq!(past.status(), 413, "a body past the declared length");
    assert_eq!(tus.offset(&loc).await.1, Some(100_000));
    let rest = data[100_000..].to_vec();
    let done = tus.patch(&loc, 100_000, rest.clone(), Some(sha1_header(&rest))).await;
    assert_eq!(done.status(), 204);
    assert!(!done.headers().contains_key("upload-expires"), "a finished upload does not expire");
    let id = loc.rsplit('/').next().unwrap();
    let file = http
        .get(format!("{}/api/v1/ops/uploads/{id}/file", node.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(file.bytes().await.unwrap().to_vec(), data, "byte-identical");
    assert_eq!(
        tus.patch(&loc, data.len() as u64, vec![1], None).await.status(),
        409,
        "nothing goes after the end"
    );

    // Another device's upload does not exist for this token.
    let other = Tus::new(&node, "Phone").await;
    assert_eq!(other.offset(&loc).await.0, 404);

    // The operator sees it, labelled with the device.
    let (_, list) = ops(&node, reqwest::Method::GET, "/api/v1/ops/uploads", None).await;
    let row = list.as_array().unwrap().iter().find(|u| u["id"] == id).unwrap();
    assert_eq!(
        (row["filename"].as_str(), row["device"].as_str(), row["state"].as_str()),
        (Some("booth demo.mp4"), Some("Camera 1"), Some("done"))
    );

    // Termination.
    let loc2 = tus.location(10, "x").await;
    assert_eq!(tus.req(reqwest::Method::DELETE, &loc2).send().await.unwrap().status(), 204);
    assert_eq!(tus.offset(&loc2).await.0, 404);
    assert_eq!(tus.patch(&loc2, 0, vec![0; 10], None).await.status(), 404);
}

#[tokio::test]
async fn quota_expiry_allowances_and_revocation() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(
        dir.path(),
        "[media]\nquota = \"1 MiB\"\nmax_open_uploads = 3\nunfinished_expire_after = \"2s\"\n",
        &[],
    );
    let tus = Tus::new(&node, "Camera 1").await;

    // creation-with-upload: a small file in one request.
    let small = random_bytes(2_000);
    let res = tus
        .req(reqwest::Method::POST, "/api/v1/uploads/")
        .header("Upload-Length", small.len())
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Checksum", sha1_header(&small))
        .body(small.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["upload-offset"], "2000");
    let small_location = res.headers()["location"].to_str().unwrap().to_owned();

    // Unfinished uploads count at their declared size: the quota is full before a byte arrives.
    let half = tus.location(600_000, "a").await;
    let over = tus.create(600_000, "b").await;
    assert_eq!(over.status(), 507);
    assert_eq!(over.json::<Value>().await.unwrap()["error"]["code"], "media_quota_full");
    // Abandoned, it expires: 410 for the client, and its bytes are freed for the next upload.
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    assert_eq!(tus.offset(&half).await.0, 410);
    assert_eq!(tus.patch(&half, 0, vec![0; 10], None).await.status(), 410);
    let again = tus.create(600_000, "b").await;
    assert_eq!(again.status(), 201, "the expired upload no longer holds the quota");
    // A clip is not started on a full quota either.
    let fill = tus.create(1_048_576 - 2_000 - 600_000, "fill").await;
    assert_eq!(fill.status(), 201);
    let done = res_upload_id(&small_location);
    let (status, e) = ops(
        &node,
        reqwest::Method::POST,
        "/api/v1/ops/transcodes",
        Some(json!({ "upload_id": done, "preset": "480p" })),
    )
    .await;
    assert_eq!((status, e["error"]["code"].as_str()), (507, Some("media_quota_full")));
    assert_eq!(
        tus.req(reqwest::Method::DELETE, fill.headers()["location"].to_str().unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        204
    );

    // Open uploads are bounded.
    for _ in 0..2 {
        assert_eq!(tus.create(10, "c").await.status(), 201);
    }
    let res = tus.create(10, "d").await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], "too_many_open_uploads");

    // A token's own allowance, and revocation.
    let http = TestNode::client();
    let issued =
        issue(&http, &node.url, json!({ "label": "Phone", "max_uploads": 1, "expires_in_s": 600 }))
            .await;
    let phone = Tus {
        base: node.url.clone(),
        token: issued["token"].as_str().unwrap().into(),
        http: http.clone(),
    };
    tokio::time::sleep(Duration::from_millis(2_300)).await; // the open ones expire
    assert_eq!(phone.create(10, "e").await.status(), 201);
    let res = phone.create(10, "f").await;
    assert_eq!(res.status(), 403);
    assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], "upload_allowance_used");
    let id = issued["id"].as_str().unwrap();
    let (status, revoked) =
        ops(&node, reqwest::Method::DELETE, &format!("/api/v1/ops/upload-tokens/{id}"), None).await;
    assert_eq!((status, revoked["state"].as_str()), (200, Some("revoked")));
    let res = phone.create(10, "g").await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], "upload_token_revoked");
    let (status, _) = ops(
        &node,
        reqwest::Method::POST,
        "/api/v1/ops/upload-tokens",
        Some(json!({ "label": "" })),
    )
    .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn acknowledged_bytes_survive_a_cut_and_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let manifest = manifest(dir.path(), "", &[]);
    let opts = || Options {
        manifest: Some(manifest.clone()),
        data_dir: Some(data_dir.clone()),
        ..Options::default()
    };
    let node = TestNode::start_with(opts());
    let tus = Tus::new(&node, "Camera 1").await;
    let data = random_bytes(6 << 20);
    let loc = tus.location(data.len(), "long take.mov").await;

    // A connection cut mid-body (no checksum): what arrived is kept and reported.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|c| (c, rx))
    }));
    let request = tus
        .req(reqwest::Method::PATCH, &loc)
        .header("Upload-Offset", 0)
        .header("Content-Type", "application/offset+octet-stream")
        .header("Content-Length", data.len())
        .body(body)
        .send();
    let patch = tokio::spawn(request);
    for chunk in data[..2 << 20].chunks(256 << 10) {
        tx.send(Ok(chunk.to_vec())).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    tx.send(Err(std::io::Error::other("the Wi-Fi dropped"))).await.unwrap();
    let _ = patch.await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let offset = loop {
        let (_, offset) = tus.offset(&loc).await;
        if offset == Some(2 << 20) || Instant::now() > deadline {
            break offset;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(offset, Some(2 << 20), "the bytes that arrived before the cut are kept");

    // A crash mid-body: the offset after restart is exactly what was acknowledged, and the
    // file holds exactly that (bytes received but never acknowledged are cut off).
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|c| (c, rx))
    }));
    let request = tus
        .req(reqwest::Method::PATCH, &loc)
        .header("Upload-Offset", 2 << 20)
        .header("Content-Type", "application/offset+octet-stream")
        .header("Content-Length", data.len() - (2 << 20))
        .body(body)
        .send();
    let patch = tokio::spawn(request);
    for chunk in data[2 << 20..3 << 20].chunks(256 << 10) {
        tx.send(Ok(chunk.to_vec())).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let upload_id = loc.rsplit('/').next().unwrap().to_owned();
    node.kill();
    let _ = patch.await;
    let node = TestNode::start_with(opts());
    let tus = Tus { base: node.url.clone(), ..tus };
    let (_, offset) = tus.offset(&loc).await;
    let offset = offset.unwrap();
    assert!((2 << 20..=3 << 20).contains(&offset), "offset {offset}");
    let on_disk = std::fs::read(data_dir.join("media/uploads").join(&upload_id)).unwrap();
    assert_eq!(
        on_disk.len() as u64,
        offset,
        "nothing past the acknowledged offset stays in the file"
    );
    assert_eq!(on_disk[..], data[..offset as usize]);

    // Resume to the end: byte-identical.
    let res = tus.patch(&loc, offset, data[offset as usize..].to_vec(), None).await;
    assert_eq!(res.status(), 204);
    assert_eq!(std::fs::read(data_dir.join("media/uploads").join(&upload_id)).unwrap(), data);
}

/// A test clip from ffmpeg's lavfi sources: 1280x720 colour bars and a tone.
fn clip(dir: &Path, seconds: u32) -> Vec<u8> {
    let path = dir.join(format!("clip-{seconds}.mp4"));
    let status = Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=1280x720:rate=30",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
        ])
        .args([
            "-t",
            &seconds.to_string(),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
            "-shortest",
        ])
        .arg(&path)
        .status()
        .expect("ffmpeg is needed for the media tests (scripts/setup installs it)");
    assert!(status.success());
    std::fs::read(path).unwrap()
}

/// ffprobe's view of a file: (video codec, height, audio codec, duration in seconds).
fn probe(bytes: &[u8], dir: &Path) -> (String, u64, Option<String>, f64) {
    let path = dir.join("probe.bin");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name,height:format=duration",
            "-of",
            "json",
        ])
        .arg(&path)
        .output()
        .expect("ffprobe");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let streams = v["streams"].as_array().unwrap();
    let video = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    let audio = streams
        .iter()
        .find(|s| s["codec_type"] == "audio")
        .map(|s| s["codec_name"].as_str().unwrap().to_owned());
    let duration = v["format"]["duration"].as_str().map_or(0.0, |d| d.parse().unwrap());
    (
        video["codec_name"].as_str().unwrap().to_owned(),
        video["height"].as_u64().unwrap(),
        audio,
        duration,
    )
}

async fn wait_for(node: &TestNode, job: &str, states: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, v) =
            ops(node, reqwest::Method::GET, &format!("/api/v1/ops/transcodes/{job}"), None).await;
        if states.contains(&v["state"].as_str().unwrap_or("")) {
            return v;
        }
        assert!(Instant::now() < deadline, "job {job} never reached {states:?}: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn transcode(node: &TestNode, body: Value) -> (u16, Value) {
    ops(node, reqwest::Method::POST, "/api/v1/ops/transcodes", Some(body)).await
}

#[tokio::test]
async fn transcodes_make_the_presets_and_are_metered() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path(), "", &[]);
    let tus = Tus::new(&node, "Camera 1").await;
    let source = clip(dir.path(), 3);
    let upload = tus.upload(&source, "demo.mp4").await;

    let (s1, trimmed) = transcode(
        &node,
        json!({ "upload_id": upload, "preset": "480p", "start_s": 0.5, "end_s": 2.5 }),
    )
    .await;
    let (s2, full) = transcode(&node, json!({ "upload_id": upload, "preset": "720p" })).await;
    let (s3, poster) = transcode(&node, json!({ "upload_id": upload, "preset": "poster" })).await;
    assert_eq!((s1, s2, s3), (202, 202, 202));
    assert_eq!(trimmed["state"], "queued");

    let http = TestNode::client();
    let fetch = |job: Value| {
        let http = http.clone();
        let url = node.url.clone();
        async move {
            let url = format!("{url}{}", job["output_url"].as_str().unwrap());
            http.get(url).send().await.unwrap().bytes().await.unwrap().to_vec()
        }
    };
    // One long poll answers when the job has ended: no polling loop.
    let res = TestNode::client()
        .get(format!(
            "{}/api/v1/ops/transcodes/{}?wait=60",
            node.url,
            trimmed["id"].as_str().unwrap()
        ))
        .bearer_auth(OPERATOR_TOKEN)
        .timeout(Duration::from_secs(90))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let t: Value = res.json().await.unwrap();
    assert_eq!(t["state"], "done", "{t}");
    for bad in ["wait=61", "wait=-1", "wait=soon", "until=5"] {
        let (status, e) = ops(
            &node,
            reqwest::Method::GET,
            &format!("/api/v1/ops/transcodes/{}?{bad}", t["id"].as_str().unwrap()),
            None,
        )
        .await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (400, Some("invalid_query")),
            "{bad}: {e}"
        );
    }
    let (status, e) = ops(
        &node,
        reqwest::Method::GET,
        &format!("/api/v1/ops/transcodes/{}?wait=5", "0".repeat(32)),
        None,
    )
    .await;
    assert_eq!(status, 404, "{e}");
    let (codec, height, audio, duration) = probe(&fetch(t.clone()).await, dir.path());
    assert_eq!((codec.as_str(), height, audio.as_deref()), ("h264", 480, Some("aac")));
    assert!((duration - 2.0).abs() < 0.15, "trimmed to 2 s: {duration}");
    assert_eq!(t["media_ms"], 2000);
    assert!(t["wall_ms"].as_u64().unwrap() > 0);
    assert_eq!(t["progress"], 1.0);
    assert!(t["command"].as_array().unwrap().iter().any(|a| a == "libx264"));

    let f = wait_for(&node, full["id"].as_str().unwrap(), &["done", "failed"]).await;
    assert_eq!(f["state"], "done", "{f}");
    let (_, height, _, duration) = probe(&fetch(f.clone()).await, dir.path());
    assert_eq!(height, 720);
    assert!((duration - 3.0).abs() < 0.15, "{duration}");

    let p = wait_for(&node, poster["id"].as_str().unwrap(), &["done", "failed"]).await;
    assert_eq!(p["state"], "done", "{p}");
    let (codec, height, _, _) = probe(&fetch(p.clone()).await, dir.path());
    assert_eq!((codec.as_str(), height), ("mjpeg", 720));

    // Served with byte ranges, for seeking in a player.
    let range = http
        .get(format!("{}{}", node.url, f["output_url"].as_str().unwrap()))
        .header("Range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(range.status(), 206);
    assert_eq!(range.bytes().await.unwrap().len(), 100);
    let missing = http
        .get(format!("{}/media/clips/{}/other.mp4", node.url, f["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // Metered: media minutes into spend and /metrics, today's minutes on the booth screen.
    let (_, media) = ops(&node, reqwest::Method::GET, "/api/v1/ops/media", None).await;
    assert!(media["transcodes"]["ffmpeg_ok"].as_bool().unwrap(), "{media}");
    let minutes = media["transcodes"]["media_minutes_today"].as_f64().unwrap();
    assert!((minutes - 5.0 / 60.0).abs() < 0.001, "2 s + 3 s of media: {minutes}");
    assert!(media["transcodes"]["peak"].as_u64().unwrap() >= 1);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, status) = ops(&node, reqwest::Method::GET, "/api/v1/ops/status", None).await;
        let usage = status["spend"]["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["component"] == "transcode")
            .unwrap()["usage"]
            .as_u64()
            .unwrap();
        if usage == 5_000 {
            break;
        }
        assert!(Instant::now() < deadline, "transcode usage {usage} ms, expected 5000");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Degraded: 720p runs as its reduced preset.
    let (status, _) = ops(
        &node,
        reqwest::Method::PUT,
        "/api/v1/ops/media/degraded",
        Some(json!({ "degraded": true })),
    )
    .await;
    assert_eq!(status, 200);
    let (_, job) =
        transcode(&node, json!({ "upload_id": upload, "preset": "720p", "end_s": 1 })).await;
    let d = wait_for(&node, job["id"].as_str().unwrap(), &["done", "failed"]).await;
    assert_eq!((d["preset"].as_str(), d["ran_preset"].as_str()), (Some("720p"), Some("480p")));
    assert_eq!(probe(&fetch(d).await, dir.path()).1, 480);

    // Bad requests: clear errors.
    let (status, e) = transcode(&node, json!({ "upload_id": upload, "preset": "8k" })).await;
    assert_eq!((status, e["error"]["code"].as_str()), (422, Some("unknown_preset")));
    let (status, e) = transcode(
        &node,
        json!({ "upload_id": upload, "preset": "480p", "start_s": 2, "end_s": 1 }),
    )
    .await;
    assert_eq!((status, e["error"]["code"].as_str()), (422, Some("bad_trim")));
    let (status, e) =
        transcode(&node, json!({ "upload_id": "0".repeat(32), "preset": "480p" })).await;
    assert_eq!((status, e["error"]["code"].as_str()), (422, Some("upload_not_ready")));
}

/// Processes whose command line mentions `needle` (ffmpeg children of a job).
fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) && !cmd.contains("processes_with") {
                found.push(cmd);
            }
        }
    }
    found
}

#[tokio::test]
async fn cancel_and_timeout_leave_no_ffmpeg_running_and_failures_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let media = "[media]\ntranscode_timeout = \"2s\"\nmax_transcodes = 2\n\n\
        [[media.presets]]\nname = \"slow\"\nformat = \"mp4\"\nheight = 720\nspeed = \"veryslow\"\n\n\
        [[media.presets]]\nname = \"poster\"\nformat = \"jpeg\"\nheight = 360\nessential = false\n";
    let node = start(dir.path(), media, &[]);
    let tus = Tus::new(&node, "Camera 1").await;
    let upload = tus.upload(&clip(dir.path(), 12), "long.mp4").await;

    let (_, timed) = transcode(&node, json!({ "upload_id": upload, "preset": "slow" })).await;
    let (_, cancelled) = transcode(&node, json!({ "upload_id": upload, "preset": "slow" })).await;
    let cancel_id = cancelled["id"].as_str().unwrap();
    let running = wait_for(&node, cancel_id, &["running"]).await;
    assert_eq!(running["state"], "running");
    // "running" is said as ffmpeg is spawned; on a loaded machine it may take a moment to show.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while processes_with(cancel_id).is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!processes_with(cancel_id).is_empty(), "ffmpeg runs for the job");
    // A caller waiting for the job hears of its end when it is cancelled, not when its
    // wait runs out.
    let waiting = {
        let path = format!("/api/v1/ops/transcodes/{cancel_id}?wait=60");
        let url = node.url.clone();
        tokio::spawn(async move {
            let began = Instant::now();
            let v: Value = TestNode::client()
                .get(format!("{url}{path}"))
                .bearer_auth(OPERATOR_TOKEN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (v, began.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, after) = ops(
        &node,
        reqwest::Method::POST,
        &format!("/api/v1/ops/transcodes/{cancel_id}/cancel"),
        None,
    )
    .await;
    assert_eq!((status, after["state"].as_str()), (200, Some("cancelled")), "{after}");
    let (heard, waited) = waiting.await.unwrap();
    assert_eq!(heard["state"], "cancelled", "{heard}");
    assert!(
        waited < Duration::from_secs(30),
        "answered at the cancel, not at the end of the wait: {waited:?}"
    );
    assert!(
        processes_with(cancel_id).is_empty(),
        "no ffmpeg left after cancel: {:?}",
        processes_with(cancel_id)
    );
    let (status, _) = ops(
        &node,
        reqwest::Method::POST,
        &format!("/api/v1/ops/transcodes/{cancel_id}/cancel"),
        None,
    )
    .await;
    assert_eq!(status, 409, "a finished job cannot be cancelled again");

    let timed_id = timed["id"].as_str().unwrap();
    let t = wait_for(&node, timed_id, &["timed_out", "done", "failed"]).await;
    assert_eq!(t["state"], "timed_out", "{t}");
    assert!(t["reason"].as_str().unwrap().contains("2s"), "{t}");
    assert!(processes_with(timed_id).is_empty(), "no ffmpeg left after a timeout");

    // A file that is not a video fails with the reason, and does not hang.
    let text = tus.upload(b"this is not a video at all", "notes.txt").await;
    let (_, job) = transcode(&node, json!({ "upload_id": text, "preset": "poster" })).await;
    let f = wait_for(&node, job["id"].as_str().unwrap(), &["failed", "done"]).await;
    assert_eq!(f["state"], "failed");
    assert!(f["reason"].as_str().unwrap().contains("not a video"), "{f}");
}

#[tokio::test]
async fn a_missing_ffmpeg_and_a_spent_budget_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let media = "[media]\nffmpeg = \"/nonexistent/ffmpeg\"\nffprobe = \"/nonexistent/ffprobe\"\n";
    let node = start(dir.path(), media, &[("transcode = 6000", "transcode = 0")]);
    let tus = Tus::new(&node, "Camera 1").await;
    let upload = tus.upload(&random_bytes(1000), "x.mp4").await;

    // The budget is spent: non-essential presets are refused, essential ones still run.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, e) =
            transcode(&node, json!({ "upload_id": upload, "preset": "poster" })).await;
        if status == 409 {
            assert_eq!(e["error"]["code"], "transcode_budget_spent");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the poster preset was not held by the spent budget: {e}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, job) = transcode(&node, json!({ "upload_id": upload, "preset": "480p" })).await;
    assert_eq!(status, 202);
    let f = wait_for(&node, job["id"].as_str().unwrap(), &["failed", "done"]).await;
    assert_eq!(f["state"], "failed");
    assert!(f["reason"].as_str().unwrap().contains("not installed"), "{f}");
    let (_, media) = ops(&node, reqwest::Method::GET, "/api/v1/ops/media", None).await;
    assert_eq!(media["transcodes"]["ffmpeg_ok"], false);
    assert!(media["transcodes"]["budget_held"].as_bool().unwrap());
}

/// A TCP proxy that cuts its first connection after `cut_after` bytes toward the
/// upstream, then lets everything through. Returns its address, the bytes it carried,
/// and whether `secret` ever crossed it toward the upstream.
async fn cutting_proxy(
    upstream: std::net::SocketAddr,
    cut_after: u64,
    secret: &str,
) -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicU64>,
    std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let carried = Arc::new(AtomicU64::new(0));
    let cut_done = Arc::new(AtomicBool::new(false));
    let total = carried.clone();
    let leaked = Arc::new(AtomicBool::new(false));
    let leaks = leaked.clone();
    let secret = secret.as_bytes().to_vec();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let carried = total.clone();
            let cut_done = cut_done.clone();
            let (leaked, secret) = (leaks.clone(), secret.clone());
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else { return };
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let up = async {
                    let mut buf = vec![0u8; 64 << 10];
                    // The tail of the last read, so a secret split across reads is found.
                    let mut tail: Vec<u8> = Vec::new();
                    loop {
                        let n = cr.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        tail.extend_from_slice(&buf[..n]);
                        if tail.windows(secret.len()).any(|w| w == secret.as_slice()) {
                            leaked.store(true, Ordering::Relaxed);
                        }
                        let keep = tail.len().saturating_sub(secret.len());
                        tail.drain(..keep);
                        let so_far = carried.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
                        if so_far > cut_after && !cut_done.swap(true, Ordering::Relaxed) {
                            break; // the link dies here
                        }
                        if sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                };
                let down = tokio::io::copy(&mut sr, &mut cw);
                tokio::select! { () = up => {}, _ = down => {} }
            });
        }
    });
    (format!("http://{addr}"), carried, leaked)
}

#[tokio::test]
async fn finished_uploads_and_clips_are_forwarded_and_resume_after_a_cut() {
    let dir = tempfile::tempdir().unwrap();
    let hub_dir = dir.path().join("hub");
    std::fs::create_dir_all(&hub_dir).unwrap();
    let hub = start(&hub_dir, "", &[]);
    let hub_token = issue(&TestNode::client(), &hub.url, json!({ "label": "Stand 14" })).await
        ["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The upstream node's plain port, from loopback: the proxy reads what crosses the wire.
    let hub_addr: std::net::SocketAddr =
        hub.plain_url.trim_start_matches("http://").parse().unwrap();
    let (proxy, carried, leaked) = cutting_proxy(hub_addr, 10 << 20, &hub_token).await;

    // The booth holds the upload token the upstream issued it, and signs every
    // forwarded request with it; the token itself never crosses the wire.
    let booth_dir = dir.path().join("booth");
    std::fs::create_dir_all(&booth_dir).unwrap();
    let upstream = format!("upstream = \"{proxy}/api/v1/\"");
    let booth = start(
        &booth_dir,
        &format!("[media]\nforward = true\nforward_token = \"{hub_token}\"\n"),
        &[("upstream = \"https://hub.harbour-lights.example/api/v1/\"", &upstream)],
    );
    let tus = Tus::new(&booth, "Camera 1").await;
    let data = random_bytes(20 << 20);
    let upload = tus.upload(&data, "wide shot.mov").await;

    let deadline = Instant::now() + Duration::from_secs(60);
    let summary = loop {
        let (_, media) = ops(&booth, reqwest::Method::GET, "/api/v1/ops/media", None).await;
        if media["forwarding"]["sent"] == 1 || Instant::now() > deadline {
            break media["forwarding"].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(summary["sent"], 1, "{summary}");
    assert_eq!(summary["pending"], 0);

    // At the hub: one upload (resumed, not started again), byte-identical, with its name.
    let (_, uploads) = ops(&hub, reqwest::Method::GET, "/api/v1/ops/uploads", None).await;
    let uploads = uploads.as_array().unwrap();
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    assert_eq!(
        (uploads[0]["filename"].as_str(), uploads[0]["device"].as_str()),
        (Some("wide shot.mov"), Some("Stand 14"))
    );
    let id = uploads[0]["id"].as_str().unwrap();
    let got = TestNode::client()
        .get(format!("{}/api/v1/ops/uploads/{id}/file", hub.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(got.bytes().await.unwrap().to_vec(), data);
    let sent = carried.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        sent < (data.len() as u64) * 3 / 2,
        "resumed from the hub's offset, not from zero: {sent} bytes for {}",
        data.len()
    );

    assert!(!leaked.load(std::sync::atomic::Ordering::Relaxed), "the token crossed the wire");

    // A clip is forwarded too, once done.
    let source = clip(&booth_dir, 1);
    let video = tus.upload(&source, "demo.mp4").await;
    let (_, job) = transcode(&booth, json!({ "upload_id": video, "preset": "poster" })).await;
    wait_for(&booth, job["id"].as_str().unwrap(), &["done"]).await;
    let _ = upload;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, uploads) = ops(&hub, reqwest::Method::GET, "/api/v1/ops/uploads", None).await;
        let names: Vec<_> = uploads
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["state"] == "done")
            .map(|u| u["filename"].as_str().unwrap_or("").to_owned())
            .collect();
        if names.iter().any(|n| n == "demo-poster.jpg") && names.iter().any(|n| n == "demo.mp4") {
            break;
        }
        assert!(Instant::now() < deadline, "the clip did not reach the hub: {names:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
