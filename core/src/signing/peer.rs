//! Signed peer requests: how one booth proves to another that it holds the event's
//! pairing key, and how an answer proves it came from a holder of the key too.
//!
//! Owns: the `X-Boothcloud-Signature` header and the canonical text it signs, the
//! replay guard, the answer's proof and the pairing fingerprint. Never: decides who is
//! paired (that is `peers`), or touches the network.
//!
//! A request is signed with HMAC-SHA256 under the pairing key over
//!
//! ```text
//! boothcloud-peer-v1 \n METHOD \n path?query \n sha256(body) \n from \n to \n unix-seconds \n nonce
//! ```
//!
//! `to` is the node the request is meant for, so a request captured on its way to one
//! booth cannot be played to another booth of the same event (they share the key).
//! The receiver refuses a time more than [`MAX_SKEW_SECS`] away from its own and a
//! nonce it has already seen in that window, so a captured request cannot be played
//! again. The answer carries `X-Boothcloud-Proof`, an HMAC over the request's MAC, the
//! status and the SHA-256 of the answer's body, which the asker checks before it
//! believes a word.

use std::collections::HashMap;
use std::sync::Mutex;

use hmac::Mac;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{hex, mac, unhex};

pub const SIGNATURE_HEADER: &str = "x-boothcloud-signature";
pub const PROOF_HEADER: &str = "x-boothcloud-proof";
/// Furthest a request's time may be from the receiver's clock.
pub const MAX_SKEW_SECS: i64 = 30;
/// Most nonces remembered at once. Past it (a flood of signed requests within a
/// minute) new requests are refused until old nonces age out: a full guard fails
/// closed, never open.
pub const MAX_NONCES: usize = 200_000;
/// Longest node id accepted in a header.
const MAX_ID: usize = 64;

/// Pairing keys anyone can read (the demo manifest's, and any printed in the docs): a
/// booth never pairs by one of these, whatever its manifest says.
pub const PUBLISHED_KEYS: &[&str] = &["demo-only-pairing-key-change-me-0123456789abcdef"];

/// Whether `key` is one anyone can read ([`PUBLISHED_KEYS`]), spaces around it ignored.
pub fn is_published(key: &str) -> bool {
    PUBLISHED_KEYS.contains(&key.trim())
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeerAuthError {
    #[error("this booth is not paired (it holds no pairing key)")]
    NotPaired,
    #[error("the request is not signed by a peer (no X-Boothcloud-Signature)")]
    Missing,
    #[error("the peer signature is malformed")]
    Malformed,
    #[error("the signed request is meant for another node")]
    WrongAudience,
    #[error("the signed request is too old or from the future (clocks more than {MAX_SKEW_SECS} s apart?)")]
    Expired,
    #[error("the signature does not match this booth's pairing key")]
    BadSignature,
    #[error("this signed request was already used")]
    Replayed,
    #[error("too many signed requests at once; try again in a minute")]
    Busy,
    #[error("the operator unpaired this peer")]
    Unpaired,
}

/// A parsed `X-Boothcloud-Signature`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub from: String,
    pub to: String,
    pub ts: i64,
    pub nonce: u128,
    pub mac: [u8; 32],
}

/// What a signature covers besides the parties and the time.
pub struct Request<'a> {
    pub method: &'a str,
    /// Path and query, exactly as sent.
    pub target: &'a str,
    pub body: &'a [u8],
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl Signature {
    fn compute(
        key: &[u8],
        req: &Request<'_>,
        from: &str,
        to: &str,
        ts: i64,
        nonce: u128,
    ) -> [u8; 32] {
        let mut m = mac(key);
        let body = hex(&Sha256::digest(req.body));
        m.update(
            format!(
                "boothcloud-peer-v1\n{}\n{}\n{body}\n{from}\n{to}\n{ts}\n{nonce:032x}",
                req.method, req.target
            )
            .as_bytes(),
        );
        m.finalize().into_bytes().into()
    }

    /// Signs `req` from node `from` to node `to` at `ts` (Unix seconds). `nonce` must be
    /// fresh and random (the caller brings it: this crate draws no randomness).
    pub fn sign(
        key: &[u8],
        req: &Request<'_>,
        from: &str,
        to: &str,
        ts: i64,
        nonce: u128,
    ) -> Signature {
        let mac = Self::compute(key, req, from, to, ts, nonce);
        Signature { from: from.to_owned(), to: to.to_owned(), ts, nonce, mac }
    }

    /// `v1 from=… to=… ts=… nonce=… mac=…`
    pub fn to_header(&self) -> String {
        format!(
            "v1 from={} to={} ts={} nonce={:032x} mac={}",
            self.from,
            self.to,
            self.ts,
            self.nonce,
            hex(&self.mac)
        )
    }

    pub fn parse(header: &str) -> Result<Signature, PeerAuthError> {
        let mut parts = header.split(' ');
        if parts.next() != Some("v1") {
            return Err(PeerAuthError::Malformed);
        }
        let mut field = |name: &str| -> Result<&str, PeerAuthError> {
            parts
                .next()
                .and_then(|p| p.strip_prefix(name))
                .and_then(|p| p.strip_prefix('='))
                .ok_or(PeerAuthError::Malformed)
        };
        let from = field("from")?.to_owned();
        let to = field("to")?.to_owned();
        let ts = field("ts")?.parse().map_err(|_| PeerAuthError::Malformed)?;
        let nonce = field("nonce")?;
        let nonce = if nonce.len() == 32 {
            u128::from_str_radix(nonce, 16).map_err(|_| PeerAuthError::Malformed)?
        } else {
            return Err(PeerAuthError::Malformed);
        };
        let mac = unhex::<32>(field("mac")?).ok_or(PeerAuthError::Malformed)?;
        if parts.next().is_some() || !valid_id(&from) || !valid_id(&to) {
            return Err(PeerAuthError::Malformed);
        }
        Ok(Signature { from, to, ts, nonce, mac })
    }

    /// Checks everything but the nonce's freshness: meant for `me`, in time, and made
    /// with `key` over exactly this request.
    pub fn check(
        &self,
        key: &[u8],
        req: &Request<'_>,
        me: &str,
        now: i64,
    ) -> Result<(), PeerAuthError> {
        if self.to != me {
            return Err(PeerAuthError::WrongAudience);
        }
        if now.abs_diff(self.ts) > MAX_SKEW_SECS.unsigned_abs() {
            return Err(PeerAuthError::Expired);
        }
        let expected = Self::compute(key, req, &self.from, &self.to, self.ts, self.nonce);
        if bool::from(expected.ct_eq(&self.mac)) {
            Ok(())
        } else {
            Err(PeerAuthError::BadSignature)
        }
    }

    /// The proof an answer to this request carries, given the hex SHA-256 of its body
    /// (a cached object's digest is already known; see [`body_digest`]).
    pub fn prove_answer(&self, key: &[u8], status: u16, body_sha256: &str) -> String {
        let mut m = mac(key);
        m.update(
            format!("boothcloud-peer-v1-answer\n{}\n{status}\n{body_sha256}", hex(&self.mac))
                .as_bytes(),
        );
        hex(&m.finalize().into_bytes())
    }

    /// Whether `proof` is the proof of this answer.
    pub fn answer_is_proven(&self, key: &[u8], status: u16, body: &[u8], proof: &str) -> bool {
        self.prove_answer(key, status, &body_digest(body)).as_bytes().ct_eq(proof.as_bytes()).into()
    }
}

/// The hex SHA-256 of a body, as answer proofs use it.
pub fn body_digest(body: &[u8]) -> String {
    hex(&Sha256::digest(body))
}

/// The nonces seen in the last skew window, bounded.
#[derive(Default)]
pub struct ReplayGuard {
    seen: Mutex<Nonces>,
}

#[derive(Default)]
struct Nonces {
    /// Nonce → the second after which its request is refused as expired anyway.
    until: HashMap<u128, i64>,
    last_purge: i64,
}

impl ReplayGuard {
    /// Admits a nonce once. Call only after the signature checked out, so forged
    /// requests cannot fill the guard.
    pub fn admit(&self, nonce: u128, ts: i64, now: i64) -> Result<(), PeerAuthError> {
        self.admit_until(nonce, ts + MAX_SKEW_SECS, now)
    }

    /// `admit`, for a scheme whose requests expire at `until` (Unix seconds).
    pub fn admit_until(&self, nonce: u128, until: i64, now: i64) -> Result<(), PeerAuthError> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.until.len() >= MAX_NONCES / 2 && seen.last_purge != now {
            seen.until.retain(|_, until| *until >= now);
            seen.last_purge = now;
        }
        if seen.until.contains_key(&nonce) {
            return Err(PeerAuthError::Replayed);
        }
        if seen.until.len() >= MAX_NONCES {
            return Err(PeerAuthError::Busy);
        }
        seen.until.insert(nonce, until);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).until.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A short, public digest of a pairing key: two booths showing the same fingerprint
/// hold the same key. Advertised over mDNS (TXT `fp`); says nothing usable about a key
/// of 32 characters or more.
pub fn fingerprint(key: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"boothcloud-pairing-fingerprint\n");
    h.update(key);
    hex(&h.finalize()[..6])
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"a-pairing-key-of-at-least-32-characters";
    const A: &str = "node-a";
    const B: &str = "node-b";

    fn req(body: &[u8]) -> Request<'_> {
        Request { method: "GET", target: "/api/v1/peer/status", body }
    }

    #[test]
    fn a_signature_round_trips_through_its_header_and_checks_out() {
        let sig = Signature::sign(KEY, &req(b""), A, B, 1_000, 7);
        let parsed = Signature::parse(&sig.to_header()).unwrap();
        assert_eq!(parsed, sig);
        assert_eq!(parsed.check(KEY, &req(b""), B, 1_010), Ok(()));
    }

    #[test]
    fn any_change_to_what_was_signed_breaks_the_signature() {
        let sig = Signature::sign(KEY, &req(b"{}"), A, B, 1_000, 7);
        let other = |method, target, body| Request { method, target, body };
        assert_eq!(
            sig.check(KEY, &other("POST", "/api/v1/peer/status", b"{}"), B, 1_000),
            Err(PeerAuthError::BadSignature)
        );
        assert_eq!(
            sig.check(KEY, &other("GET", "/api/v1/peer/status?x=1", b"{}"), B, 1_000),
            Err(PeerAuthError::BadSignature)
        );
        assert_eq!(
            sig.check(KEY, &other("GET", "/api/v1/peer/status", b"{ }"), B, 1_000),
            Err(PeerAuthError::BadSignature)
        );
        assert_eq!(
            sig.check(b"another-pairing-key-also-32-characters!", &req(b"{}"), B, 1_000),
            Err(PeerAuthError::BadSignature)
        );
        let mut from_c = sig.clone();
        from_c.from = "node-c".into();
        assert_eq!(from_c.check(KEY, &req(b"{}"), B, 1_000), Err(PeerAuthError::BadSignature));
        let mut later = sig.clone();
        later.ts += 1;
        assert_eq!(later.check(KEY, &req(b"{}"), B, 1_000), Err(PeerAuthError::BadSignature));
        let mut nonce = sig.clone();
        nonce.nonce ^= 1;
        assert_eq!(nonce.check(KEY, &req(b"{}"), B, 1_000), Err(PeerAuthError::BadSignature));
    }

    #[test]
    fn a_request_for_one_booth_is_refused_by_another_and_stale_ones_by_all() {
        let sig = Signature::sign(KEY, &req(b""), A, B, 1_000, 7);
        assert_eq!(sig.check(KEY, &req(b""), "node-c", 1_000), Err(PeerAuthError::WrongAudience));
        assert_eq!(
            sig.check(KEY, &req(b""), B, 1_000 + MAX_SKEW_SECS + 1),
            Err(PeerAuthError::Expired)
        );
        assert_eq!(
            sig.check(KEY, &req(b""), B, 1_000 - MAX_SKEW_SECS - 1),
            Err(PeerAuthError::Expired)
        );
    }

    #[test]
    fn malformed_headers_are_refused_not_guessed_at() {
        let good = Signature::sign(KEY, &req(b""), A, B, 1_000, 7).to_header();
        assert!(Signature::parse(&good).is_ok());
        for bad in [
            "",
            "v2 from=a to=b ts=1 nonce=00000000000000000000000000000000 mac=00",
            &good.replace("v1 ", "v1  "),
            &good.replace("from=node-a", "from=node a"),
            &good.replace("from=node-a", &format!("from={}", "x".repeat(65))),
            &good.replace("ts=1000", "ts=soon"),
            &format!("{good} extra=1"),
            &good[..good.len() - 2],
        ] {
            assert_eq!(Signature::parse(bad), Err(PeerAuthError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn a_nonce_is_admitted_once_and_forgotten_only_after_its_window() {
        let guard = ReplayGuard::default();
        assert_eq!(guard.admit(7, 1_000, 1_000), Ok(()));
        assert_eq!(guard.admit(7, 1_000, 1_020), Err(PeerAuthError::Replayed));
        assert_eq!(guard.admit(8, 1_000, 1_000), Ok(()));
        assert_eq!(guard.len(), 2);
    }

    #[test]
    fn a_full_guard_refuses_rather_than_forgets_and_recovers_as_nonces_age() {
        let guard = ReplayGuard::default();
        for n in 0..MAX_NONCES as u128 {
            guard.admit(n, 1_000, 1_000).unwrap();
        }
        assert_eq!(guard.admit(u128::MAX, 1_000, 1_000), Err(PeerAuthError::Busy));
        // A replay of an admitted nonce is still a replay, not "busy".
        assert_eq!(guard.admit(3, 1_000, 1_000), Err(PeerAuthError::Replayed));
        // Once their window has passed, the old nonces make room.
        assert_eq!(guard.admit(u128::MAX, 1_040, 1_040), Ok(()));
        assert_eq!(guard.len(), 1);
    }

    #[test]
    fn an_answer_proof_binds_the_request_the_status_and_the_body() {
        let sig = Signature::sign(KEY, &req(b""), A, B, 1_000, 7);
        let proof = sig.prove_answer(KEY, 200, &body_digest(b"{\"ok\":true}"));
        assert!(sig.answer_is_proven(KEY, 200, b"{\"ok\":true}", &proof));
        assert!(!sig.answer_is_proven(KEY, 200, b"{\"ok\":false}", &proof));
        assert!(!sig.answer_is_proven(KEY, 500, b"{\"ok\":true}", &proof));
        let other = Signature::sign(KEY, &req(b""), A, B, 1_000, 8);
        assert!(!other.answer_is_proven(KEY, 200, b"{\"ok\":true}", &proof));
        assert!(!sig.answer_is_proven(
            b"another-pairing-key-also-32-characters!",
            200,
            b"{\"ok\":true}",
            &proof
        ));
    }

    #[test]
    fn fingerprints_match_only_for_the_same_key() {
        assert_eq!(fingerprint(KEY), fingerprint(KEY));
        assert_ne!(fingerprint(KEY), fingerprint(b"another-pairing-key-also-32-characters!"));
        assert_eq!(fingerprint(KEY).len(), 12);
    }

    #[test]
    fn a_time_at_the_edge_of_the_integers_is_expired_not_a_panic() {
        let header = "v1 from=a to=b ts=-9223372036854775808 nonce=00000000000000000000000000000001 mac=0000000000000000000000000000000000000000000000000000000000000000";
        let sig = Signature::parse(header).unwrap();
        let req = Request { method: "GET", target: "/x", body: b"" };
        assert_eq!(sig.check(b"k", &req, "b", 1_000), Err(PeerAuthError::Expired));
    }
}
