//! The local cache mesh: on a miss, ask the event's paired booths whether they hold the
//! object before going to the origin, and answer their questions from this cache.
//!
//! Owns: the question and its checks. A question is `GET /assets/{path}` with
//! `Cache-Control: only-if-cached`, signed like every peer request (`peers::auth`:
//! HMAC under the pairing key over method, path, body hash, both node ids, time and a
//! nonce, refused when replayed); a node answers it only from its own cache (fresh
//! objects; never from its peers or its origin), so a question can never loop. The
//! answer carries `X-Boothcloud-Proof`, binding the question, the status and the body's
//! SHA-256, which the asker checks before it stores anything: an unpaired machine can
//! neither read a booth's cache nor feed one.
//! Peers are asked in parallel with a short timeout; a slow peer never delays a hit
//! (hits never ask) and delays a miss by at most the timeout.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};

use super::origin::kept_header;
use crate::peers::{MeshPeer, Peers};
use boothcloud_core::cache::key::AssetPath;
use boothcloud_core::signing::peer::{Request, PROOF_HEADER, SIGNATURE_HEADER};

/// What a peer handed over, checked.
pub struct PeerObject {
    pub peer: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// How long to wait, and the largest object taken.
pub struct Mesh {
    pub timeout: Duration,
    /// Objects over this size are not taken from peers.
    pub max_bytes: u64,
}

/// Asks every peer at once; the first good answer wins. `None` when no peer holds it
/// in time.
pub async fn ask(
    http: &reqwest::Client,
    peers: &Peers,
    mesh: &Mesh,
    path: &AssetPath,
    forward: &[(&'static str, String)],
) -> Option<PeerObject> {
    let candidates = peers.mesh();
    if candidates.is_empty() {
        return None;
    }
    let asks = candidates
        .into_iter()
        .map(|peer| ask_one(http, peers, mesh.max_bytes, peer, path, forward).boxed());
    let first = async {
        let mut pending: Vec<_> = asks.collect();
        while !pending.is_empty() {
            let (answer, _, rest) = futures_util::future::select_all(pending).await;
            if answer.is_some() {
                return answer;
            }
            pending = rest;
        }
        None
    };
    tokio::time::timeout(mesh.timeout, first).await.ok().flatten()
}

async fn ask_one(
    http: &reqwest::Client,
    peers: &Peers,
    max_bytes: u64,
    peer: MeshPeer,
    path: &AssetPath,
    forward: &[(&'static str, String)],
) -> Option<PeerObject> {
    let id = match peer.id {
        Some(id) => id,
        None => peers.identify(&peer.url).await?.id,
    };
    let url = peer.url.join(&format!("assets/{}", path.as_str())).ok()?;
    // Signed exactly as it goes on the wire, after the URL's own normalisation.
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let sig = peers.sign(&id, &Request { method: "GET", target: &target, body: b"" })?;
    let signature = sig.to_header();
    let asked_url = url.clone();
    let mut req = http
        .get(url)
        .header("cache-control", "only-if-cached")
        .header(SIGNATURE_HEADER, &signature);
    for (name, value) in forward {
        req = req.header(*name, value);
    }
    let asked = peers.stamp();
    let res = req.send().await.ok()?;
    peers.note_time(&id, &res, asked);
    let head = res.headers().clone();
    let sent: Vec<(&str, &str)> =
        [("cache-control", "only-if-cached"), (SIGNATURE_HEADER, signature.as_str())]
            .into_iter()
            .chain(forward.iter().map(|(n, v)| (*n, v.as_str())))
            .collect();
    let metered = |body: usize| peers.metered("GET", &asked_url, &sent, 0, (&head, body));
    if res.status() != reqwest::StatusCode::OK
        || res.content_length().is_some_and(|n| n > max_bytes)
    {
        metered(0);
        return None;
    }
    let proof = res.headers().get(PROOF_HEADER)?.to_str().ok()?.to_owned();
    let headers: Vec<(String, String)> = res
        .headers()
        .iter()
        .filter(|(n, _)| kept_header(n.as_str()) || n.as_str() == "age")
        .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str().to_owned(), v.to_owned())))
        .collect();
    let mut body = Vec::new();
    let mut stream = res.bytes_stream();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.ok()?);
        if body.len() as u64 > max_bytes {
            metered(body.len());
            return None;
        }
    }
    metered(body.len());
    if !peers.check_answer(&sig, 200, &body, &proof) {
        tracing::warn!(peer = %peer.name, "a peer's answer failed its proof; ignored");
        return None;
    }
    Some(PeerObject { peer: peer.name, headers, body: body.into() })
}
