//! The local cache mesh: on a miss, ask the event's paired booths whether they hold the
//! object before going to the origin, and answer their questions from this cache.
//!
//! Owns: the peer handshake. A question is `GET /assets/{path}` with
//! `Cache-Control: only-if-cached` and `X-Boothcloud-Peer: <unix seconds>.<hmac>`, the
//! HMAC-SHA256 under the manifest's pairing key of the time and the path; a node
//! answers it only if the signature is good and no more than `MAX_SKEW` old, and only
//! from its own cache (fresh objects; never from its peers or its origin), so a
//! question can never loop. The answer carries `X-Boothcloud-Proof`, an HMAC of the
//! question's signature and the body's SHA-256, which the asker checks before it
//! stores anything: an unpaired machine can neither read a booth's cache nor feed one.
//! Peers are asked in parallel with a short timeout; a slow peer never delays a hit
//! (hits never ask) and delays a miss by at most the timeout.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::key::AssetPath;
use super::origin::kept_header;

pub const PEER_HEADER: &str = "x-boothcloud-peer";
pub const PROOF_HEADER: &str = "x-boothcloud-proof";
/// Oldest (or furthest in the future) a question's time may be.
pub const MAX_SKEW: i64 = 60;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeerAuthError {
    #[error("this node is not paired (no pairing key in the manifest)")]
    NotPaired,
    #[error("the peer signature is malformed")]
    Malformed,
    #[error("the peer signature is too old or from the future")]
    Expired,
    #[error("the peer signature does not match the pairing key")]
    BadSignature,
}

fn mac(key: &str) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key length")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `X-Boothcloud-Peer` value for asking about `path` at `now` (Unix seconds).
pub fn sign_question(key: &str, path: &str, now: i64) -> String {
    let mut m = mac(key);
    m.update(format!("boothcloud-peer-question\n{now}\n{path}").as_bytes());
    format!("{now}.{}", hex(&m.finalize().into_bytes()))
}

/// Checks a question's signature.
pub fn verify_question(key: Option<&str>, path: &str, header: &str, now: i64) -> Result<(), PeerAuthError> {
    let key = key.ok_or(PeerAuthError::NotPaired)?;
    let (time, signature) = header.split_once('.').ok_or(PeerAuthError::Malformed)?;
    let time: i64 = time.parse().map_err(|_| PeerAuthError::Malformed)?;
    if (now - time).abs() > MAX_SKEW {
        return Err(PeerAuthError::Expired);
    }
    let expected = sign_question(key, path, time);
    let expected = expected.split_once('.').map(|(_, s)| s).unwrap_or_default();
    if subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), signature.as_bytes()).into() {
        Ok(())
    } else {
        Err(PeerAuthError::BadSignature)
    }
}

/// The `X-Boothcloud-Proof` for an answer with this body digest.
pub fn sign_answer(key: &str, question: &str, body_sha256: &str) -> String {
    let mut m = mac(key);
    m.update(format!("boothcloud-peer-answer\n{question}\n{body_sha256}").as_bytes());
    hex(&m.finalize().into_bytes())
}

/// What a peer handed over, checked.
pub struct PeerObject {
    pub peer: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// Who to ask and how long to wait.
pub struct Mesh<'a> {
    pub key: &'a str,
    pub peers: &'a [crate::manifest::Peer],
    pub timeout: Duration,
    /// Objects over this size are not taken from peers.
    pub max_bytes: u64,
}

/// Asks every peer at once; the first good answer wins. `None` when no peer holds it
/// in time.
pub async fn ask(
    http: &reqwest::Client,
    mesh: &Mesh<'_>,
    path: &AssetPath,
    forward: &[(&'static str, String)],
    now: i64,
) -> Option<PeerObject> {
    let Mesh { key, peers, timeout, max_bytes } = *mesh;
    if peers.is_empty() {
        return None;
    }
    let question = sign_question(key, path.as_str(), now);
    let asks = peers.iter().map(|peer| {
        let question = question.clone();
        async move {
            let url = peer.url.join(&format!("assets/{}", path.as_str())).ok()?;
            let mut req = http.get(url).header("cache-control", "only-if-cached").header(PEER_HEADER, &question);
            for (name, value) in forward {
                req = req.header(*name, value);
            }
            let res = req.send().await.ok()?;
            if res.status() != reqwest::StatusCode::OK || res.content_length().is_some_and(|n| n > max_bytes) {
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
                    return None;
                }
            }
            let digest = hex(&Sha256::digest(&body));
            let expected = sign_answer(key, &question, &digest);
            if !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), proof.as_bytes())) {
                tracing::warn!(peer = %peer.name, "a peer's answer failed its proof; ignored");
                return None;
            }
            Some(PeerObject { peer: peer.name.clone(), headers, body: body.into() })
        }
        .boxed()
    });
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
    tokio::time::timeout(timeout, first).await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "a-pairing-key-of-at-least-32-characters";

    #[test]
    fn a_question_verifies_only_with_the_key_path_and_time_it_was_made_for() {
        let q = sign_question(KEY, "img/a.jpg", 1000);
        assert_eq!(verify_question(Some(KEY), "img/a.jpg", &q, 1030), Ok(()));
        assert_eq!(verify_question(Some(KEY), "img/b.jpg", &q, 1030), Err(PeerAuthError::BadSignature));
        assert_eq!(verify_question(Some("another-key-that-is-long-enough-too"), "img/a.jpg", &q, 1030), Err(PeerAuthError::BadSignature));
        assert_eq!(verify_question(Some(KEY), "img/a.jpg", &q, 1000 + MAX_SKEW + 1), Err(PeerAuthError::Expired));
        assert_eq!(verify_question(None, "img/a.jpg", &q, 1000), Err(PeerAuthError::NotPaired));
        assert_eq!(verify_question(Some(KEY), "img/a.jpg", "nonsense", 1000), Err(PeerAuthError::Malformed));
        let forged = format!("{}.{}", 1000, "0".repeat(64));
        assert_eq!(verify_question(Some(KEY), "img/a.jpg", &forged, 1000), Err(PeerAuthError::BadSignature));
    }

    #[test]
    fn an_answer_proof_binds_the_question_and_the_body() {
        let q = sign_question(KEY, "x", 1);
        let a = sign_answer(KEY, &q, "abc");
        assert_ne!(a, sign_answer(KEY, &q, "abd"));
        assert_ne!(a, sign_answer(KEY, &sign_question(KEY, "x", 2), "abc"));
    }
}
