//! Signed tus requests: how a booth forwards finished media to an upstream that issued
//! it an upload token, without ever sending the token.
//!
//! The key is the SHA-256 of the token's secret (what the upstream already stores for
//! its tokens); the token is named by its public id. A request signs its method, target,
//! time, a 128-bit nonce and every tus header that says what it does (`Upload-Length`,
//! `Upload-Offset`, `Upload-Metadata`, `Upload-Checksum`): a chunk's body is bound by
//! its checksum, which the upstream checks (a signed `PATCH` without one is refused).
//! The upstream accepts a request within [`MAX_SKEW_SECS`] of its clock, once.

use hmac::Mac;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{hex, mac, unhex};

pub const SIGNATURE_HEADER: &str = "x-boothcloud-upload-signature";
/// The upstream's proof on its answer to a signed request.
pub const PROOF_HEADER: &str = "x-boothcloud-upload-proof";
/// Furthest a request's time may be from the upstream's clock.
pub const MAX_SKEW_SECS: i64 = 300;
/// Longest token id accepted.
const MAX_ID: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UploadAuthError {
    #[error("the upload signature is malformed")]
    Malformed,
    #[error("the sender's clock is more than {MAX_SKEW_SECS} s from this node's")]
    Expired,
    #[error("the upload signature does not match the token")]
    BadSignature,
    #[error("a signed upload chunk needs Upload-Checksum")]
    Unbound,
}

/// What a tus request does, as signed.
#[derive(Debug, Clone, Copy, Default)]
pub struct UploadRequest<'a> {
    pub method: &'a str,
    /// Path and query, as sent.
    pub target: &'a str,
    pub length: Option<&'a str>,
    pub offset: Option<&'a str>,
    pub metadata: Option<&'a str>,
    pub checksum: Option<&'a str>,
    pub content_type: Option<&'a str>,
    /// The request carries bytes (a body, whatever its method): then its checksum must
    /// be signed too. Not signed itself; the receiver sets it from what arrived.
    pub carries_bytes: bool,
}

/// The signing key of a token: the SHA-256 of its secret.
pub fn key_of(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A token's public id, as the upstream lists it: a digest of its secret apart from the
/// key (six bytes, in hex), so the id says nothing about the key.
pub fn token_id(secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"boothcloud-upload-token-id\n");
    h.update(secret.as_bytes());
    hex(&h.finalize()[..6])
}

/// A parsed `X-Boothcloud-Upload-Signature`: `v1 token=… ts=… nonce=… mac=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSignature {
    /// The token's public id.
    pub token: String,
    pub ts: i64,
    pub nonce: u128,
    mac: [u8; 32],
}

fn compute(key: &[u8; 32], token: &str, ts: i64, nonce: u128, r: &UploadRequest<'_>) -> [u8; 32] {
    let mut m = mac(key);
    let field = |v: Option<&str>| v.unwrap_or("-").trim().to_owned();
    m.update(
        format!(
            "boothcloud-upload-v1\n{}\n{}\n{token}\n{ts}\n{nonce:032x}\n{}\n{}\n{}\n{}\n{}",
            r.method,
            r.target,
            field(r.length),
            field(r.offset),
            field(r.metadata),
            field(r.checksum),
            field(r.content_type),
        )
        .as_bytes(),
    );
    m.finalize().into_bytes().into()
}

/// What an answer to a signed request says that the sender acts on.
#[derive(Debug, Clone, Copy, Default)]
pub struct UploadAnswer<'a> {
    pub status: u16,
    pub offset: Option<&'a str>,
    pub location: Option<&'a str>,
}

impl UploadSignature {
    /// The upstream's proof of its answer to this request, under the token's key: a
    /// forged "all received" cannot make the sender count a file as sent.
    pub fn prove_answer(&self, key: &[u8; 32], a: &UploadAnswer<'_>) -> String {
        let mut m = mac(key);
        m.update(
            format!(
                "boothcloud-upload-v1-answer\n{}\n{}\n{}\n{}",
                hex(&self.mac),
                a.status,
                a.offset.unwrap_or("-").trim(),
                a.location.unwrap_or("-").trim()
            )
            .as_bytes(),
        );
        hex(&m.finalize().into_bytes())
    }

    /// Whether `proof` is the upstream's proof of answer `a`.
    pub fn answer_is_proven(&self, key: &[u8; 32], a: &UploadAnswer<'_>, proof: &str) -> bool {
        self.prove_answer(key, a).as_bytes().ct_eq(proof.trim().as_bytes()).into()
    }

    pub fn sign(
        key: &[u8; 32],
        token: &str,
        req: &UploadRequest<'_>,
        ts: i64,
        nonce: u128,
    ) -> UploadSignature {
        UploadSignature {
            token: token.to_owned(),
            ts,
            nonce,
            mac: compute(key, token, ts, nonce, req),
        }
    }

    pub fn to_header(&self) -> String {
        format!(
            "v1 token={} ts={} nonce={:032x} mac={}",
            self.token,
            self.ts,
            self.nonce,
            hex(&self.mac)
        )
    }

    pub fn parse(header: &str) -> Result<UploadSignature, UploadAuthError> {
        let rest = header.strip_prefix("v1 ").ok_or(UploadAuthError::Malformed)?;
        let (mut token, mut ts, mut nonce, mut mac) = (None, None, None, None);
        for part in rest.split(' ') {
            match part.split_once('=') {
                Some(("token", v))
                    if !v.is_empty()
                        && v.len() <= MAX_ID
                        && v.bytes().all(|b| b.is_ascii_alphanumeric()) =>
                {
                    token = Some(v.to_owned())
                }
                Some(("ts", v)) => ts = v.parse::<i64>().ok(),
                Some(("nonce", v)) if v.len() == 32 => nonce = u128::from_str_radix(v, 16).ok(),
                Some(("mac", v)) => mac = unhex::<32>(v),
                _ => return Err(UploadAuthError::Malformed),
            }
        }
        match (token, ts, nonce, mac) {
            (Some(token), Some(ts), Some(nonce), Some(mac)) => {
                Ok(UploadSignature { token, ts, nonce, mac })
            }
            _ => Err(UploadAuthError::Malformed),
        }
    }

    /// Checks the signature under the token's key (the upstream's stored hash of its
    /// secret), at the upstream's time `now` (Unix seconds). The caller then admits the
    /// nonce once.
    pub fn check(
        &self,
        key: &[u8; 32],
        req: &UploadRequest<'_>,
        now: i64,
    ) -> Result<(), UploadAuthError> {
        if (req.method == "PATCH" || req.carries_bytes) && req.checksum.is_none() {
            return Err(UploadAuthError::Unbound);
        }
        if self.ts.abs_diff(now) > MAX_SKEW_SECS.unsigned_abs() {
            return Err(UploadAuthError::Expired);
        }
        let expected = compute(key, &self.token, self.ts, self.nonce, req);
        if bool::from(expected.ct_eq(&self.mac)) {
            Ok(())
        } else {
            Err(UploadAuthError::BadSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "bcu_a-secret-the-upstream-issued";

    fn patch<'a>(checksum: Option<&'a str>) -> UploadRequest<'a> {
        UploadRequest {
            method: "PATCH",
            target: "/api/v1/uploads/abc",
            offset: Some("8388608"),
            checksum,
            ..UploadRequest::default()
        }
    }

    #[test]
    fn a_signed_request_checks_out_under_the_tokens_stored_hash() {
        let key = key_of(SECRET);
        let req = patch(Some("sha256 q1w2e3="));
        let sig = UploadSignature::sign(&key, "0a1b2c3d4e5f", &req, 1_000, 7);
        let header = sig.to_header();
        assert!(!header.contains(SECRET), "the secret never travels");
        let parsed = UploadSignature::parse(&header).unwrap();
        assert_eq!(parsed, sig);
        assert_eq!(parsed.check(&key, &req, 1_200), Ok(()));
    }

    #[test]
    fn another_chunk_offset_target_token_or_a_stale_time_is_refused() {
        let key = key_of(SECRET);
        let req = patch(Some("sha256 q1w2e3="));
        let sig = UploadSignature::sign(&key, "0a1b2c3d4e5f", &req, 1_000, 7);
        let bad = Err(UploadAuthError::BadSignature);
        assert_eq!(sig.check(&key, &patch(Some("sha256 other=")), 1_000), bad);
        assert_eq!(sig.check(&key, &UploadRequest { offset: Some("0"), ..req }, 1_000), bad);
        assert_eq!(
            sig.check(&key, &UploadRequest { target: "/api/v1/uploads/xyz", ..req }, 1_000),
            bad
        );
        assert_eq!(sig.check(&key_of("bcu_another"), &req, 1_000), bad);
        assert_eq!(sig.check(&key, &req, 1_301), Err(UploadAuthError::Expired));
        assert_eq!(sig.check(&key, &patch(None), 1_000), Err(UploadAuthError::Unbound));
        // A creation that carries bytes (creation-with-upload) must bind them too.
        let create = UploadRequest {
            method: "POST",
            target: "/api/v1/uploads/",
            length: Some("10"),
            ..UploadRequest::default()
        };
        let sig = UploadSignature::sign(&key, "0a1b2c3d4e5f", &create, 1_000, 9);
        assert_eq!(sig.check(&key, &create, 1_000), Ok(()));
        assert_eq!(
            sig.check(&key, &UploadRequest { carries_bytes: true, ..create }, 1_000),
            Err(UploadAuthError::Unbound)
        );
        let typed =
            UploadRequest { content_type: Some("application/offset+octet-stream"), ..create };
        assert_eq!(sig.check(&key, &typed, 1_000), Err(UploadAuthError::BadSignature));
    }

    #[test]
    fn an_answer_is_proven_only_as_it_was_given() {
        let key = key_of(SECRET);
        let req = patch(Some("sha256 q1w2e3="));
        let sig = UploadSignature::sign(&key, "0a1b2c3d4e5f", &req, 1_000, 7);
        let got = UploadAnswer { status: 204, offset: Some("16777216"), location: None };
        let proof = sig.prove_answer(&key, &got);
        assert!(sig.answer_is_proven(&key, &got, &proof));
        let forged = UploadAnswer { offset: Some("20971520"), ..got };
        assert!(!sig.answer_is_proven(&key, &forged, &proof), "another offset");
        let other = UploadSignature::sign(&key, "0a1b2c3d4e5f", &req, 1_000, 8);
        assert!(!other.answer_is_proven(&key, &got, &proof), "another request's answer");
        assert!(!sig.answer_is_proven(&key_of("bcu_other"), &got, &proof));
    }

    #[test]
    fn malformed_headers_are_refused() {
        for h in [
            "",
            "v2 token=a ts=1 nonce=00000000000000000000000000000007 mac=00",
            "v1 token=a ts=1",
            "v1 token=a/b ts=1 nonce=00000000000000000000000000000007 mac=0000000000000000000000000000000000000000000000000000000000000000",
            "v1 token=a ts=x nonce=00000000000000000000000000000007 mac=0000000000000000000000000000000000000000000000000000000000000000",
            "v1 token=a ts=1 nonce=7 mac=0000000000000000000000000000000000000000000000000000000000000000",
        ] {
            assert_eq!(UploadSignature::parse(h), Err(UploadAuthError::Malformed), "{h}");
        }
    }
}
