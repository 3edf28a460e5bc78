//! How a booth proves to the regional hub who it is, and how a booth that relays for a
//! neighbour vouches for the hand-over.
//!
//! Owns: the booth credential (derived from the hub's key, so the hub keeps no table of
//! secrets and any number of hubs can check it), the `X-Boothcloud-Hub-Auth` and
//! `X-Boothcloud-Hub-Relay` headers and the text they sign. Never: touches the network
//! or the database.
//!
//! A booth's credential is `HMAC-SHA256(hub key, "boothcloud-booth-credential-v1\n" +
//! booth id)`, in hex; the operator prints it with `boothcloud-hub credential ID`
//! and puts it in that booth's manifest (`[uplink] credential`). A request is signed
//! with HMAC-SHA256 under the credential over
//!
//! ```text
//! boothcloud-hub-v1 \n METHOD \n path \n booth \n unix-seconds \n sha256(body)
//! ```
//!
//! A relayed request travels as the booth signed it: the relaying booth never learns
//! the other booth's credential. It adds its own signature over the same text (with its
//! own id and time), so the hub knows, and records, who carried it. The hub refuses a
//! time more than [`MAX_SKEW_SECS`] from its own. There is no nonce: everything a booth
//! sends is idempotent (orders by id, reports by time), so a replay changes nothing.
//!
//! The hub's answer to a heartbeat carries `X-Boothcloud-Hub-Proof`, an HMAC under the
//! booth's credential over the request's MAC, the status and the SHA-256 of the answer's
//! body: the time the hub states in it is the hub's, so a booth may set its clock by it.

use hmac::Mac;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{hex, mac, unhex};

pub const AUTH_HEADER: &str = "x-boothcloud-hub-auth";
pub const RELAY_HEADER: &str = "x-boothcloud-hub-relay";
pub const PROOF_HEADER: &str = "x-boothcloud-hub-proof";
/// Furthest a request's time may be from the hub's clock. Wider than between booths:
/// a relayed batch may wait in a neighbour's queue for a moment.
pub const MAX_SKEW_SECS: i64 = 300;
/// Shortest hub key accepted.
pub const MIN_KEY_BYTES: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HubAuthError {
    #[error("the request is not signed by a booth (no X-Boothcloud-Hub-Auth)")]
    Missing,
    #[error("the booth signature is malformed")]
    Malformed,
    #[error("the booth's clock is more than {MAX_SKEW_SECS} s from the hub's")]
    Expired,
    #[error("the signature does not match this booth's credential")]
    BadSignature,
}

/// A booth id at the hub: 1 to 64 letters, digits, '-', '_' or '.'.
pub fn valid_booth(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// The credential the hub holding `hub_key` expects from booth `booth`.
pub fn credential(hub_key: &[u8], booth: &str) -> String {
    let mut m = mac(hub_key);
    m.update(format!("boothcloud-booth-credential-v1\n{booth}").as_bytes());
    hex(&m.finalize().into_bytes())
}

/// A parsed signature header: `v1 booth=… ts=… mac=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubSignature {
    pub booth: String,
    pub ts: i64,
    mac: [u8; 32],
}

fn compute(
    credential: &str,
    method: &str,
    path: &str,
    booth: &str,
    ts: i64,
    body: &[u8],
) -> [u8; 32] {
    let mut m = mac(credential.as_bytes());
    let digest = hex(&Sha256::digest(body));
    m.update(format!("boothcloud-hub-v1\n{method}\n{path}\n{booth}\n{ts}\n{digest}").as_bytes());
    m.finalize().into_bytes().into()
}

impl HubSignature {
    pub fn sign(
        credential: &str,
        method: &str,
        path: &str,
        booth: &str,
        ts: i64,
        body: &[u8],
    ) -> HubSignature {
        HubSignature {
            booth: booth.to_owned(),
            ts,
            mac: compute(credential, method, path, booth, ts, body),
        }
    }

    pub fn to_header(&self) -> String {
        format!("v1 booth={} ts={} mac={}", self.booth, self.ts, hex(&self.mac))
    }

    pub fn parse(header: Option<&str>) -> Result<HubSignature, HubAuthError> {
        let header = header.ok_or(HubAuthError::Missing)?;
        let rest = header.strip_prefix("v1 ").ok_or(HubAuthError::Malformed)?;
        let (mut booth, mut ts, mut mac) = (None, None, None);
        for part in rest.split(' ') {
            match part.split_once('=') {
                Some(("booth", v)) if valid_booth(v) => booth = Some(v.to_owned()),
                Some(("ts", v)) => ts = v.parse::<i64>().ok(),
                Some(("mac", v)) => mac = unhex::<32>(v),
                _ => return Err(HubAuthError::Malformed),
            }
        }
        match (booth, ts, mac) {
            (Some(booth), Some(ts), Some(mac)) => Ok(HubSignature { booth, ts, mac }),
            _ => Err(HubAuthError::Malformed),
        }
    }

    /// The hub's proof on its answer to this request (`status`, `body`), under the
    /// booth's credential.
    pub fn prove_answer(&self, credential: &str, status: u16, body: &[u8]) -> String {
        let mut m = mac(credential.as_bytes());
        let digest = hex(&Sha256::digest(body));
        m.update(
            format!("boothcloud-hub-v1-answer\n{}\n{status}\n{digest}", hex(&self.mac)).as_bytes(),
        );
        hex(&m.finalize().into_bytes())
    }

    /// Whether `proof` is the hub's proof of this answer.
    pub fn answer_is_proven(
        &self,
        credential: &str,
        status: u16,
        body: &[u8],
        proof: &str,
    ) -> bool {
        self.prove_answer(credential, status, body).as_bytes().ct_eq(proof.as_bytes()).into()
    }

    /// Checks the signature under the hub key: the booth's credential is derived, never
    /// stored.
    pub fn check(
        &self,
        hub_key: &[u8],
        method: &str,
        path: &str,
        body: &[u8],
        now: i64,
    ) -> Result<(), HubAuthError> {
        if self.ts.abs_diff(now) > MAX_SKEW_SECS.unsigned_abs() {
            return Err(HubAuthError::Expired);
        }
        let expected =
            compute(&credential(hub_key, &self.booth), method, path, &self.booth, self.ts, body);
        if bool::from(expected.ct_eq(&self.mac)) {
            Ok(())
        } else {
            Err(HubAuthError::BadSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"a hub key of at least thirty-two bytes!!";

    #[test]
    fn a_booth_signs_with_its_derived_credential_and_the_hub_checks_it() {
        let cred = credential(KEY, "stand-14");
        assert_eq!(cred.len(), 64);
        assert_ne!(cred, credential(KEY, "stand-15"), "each booth has its own credential");
        let sig = HubSignature::sign(&cred, "POST", "/api/v1/hub/orders", "stand-14", 1000, b"{}");
        let parsed = HubSignature::parse(Some(&sig.to_header())).unwrap();
        assert_eq!(parsed, sig);
        assert_eq!(parsed.check(KEY, "POST", "/api/v1/hub/orders", b"{}", 1010), Ok(()));
    }

    #[test]
    fn tampering_another_booth_another_key_or_a_stale_time_is_refused() {
        let cred = credential(KEY, "stand-14");
        let sig = HubSignature::sign(
            &cred,
            "POST",
            "/api/v1/hub/orders",
            "stand-14",
            1000,
            b"{\"orders\":[]}",
        );
        assert_eq!(
            sig.check(KEY, "POST", "/api/v1/hub/orders", b"{\"orders\":[1]}", 1000),
            Err(HubAuthError::BadSignature)
        );
        assert_eq!(
            sig.check(KEY, "POST", "/api/v1/hub/heartbeat", b"{\"orders\":[]}", 1000),
            Err(HubAuthError::BadSignature)
        );
        assert_eq!(
            sig.check(
                b"another hub key, also long enough....",
                "POST",
                "/api/v1/hub/orders",
                b"{\"orders\":[]}",
                1000
            ),
            Err(HubAuthError::BadSignature)
        );
        assert_eq!(
            sig.check(
                KEY,
                "POST",
                "/api/v1/hub/orders",
                b"{\"orders\":[]}",
                1000 + MAX_SKEW_SECS + 1
            ),
            Err(HubAuthError::Expired)
        );
        // Claiming to be another booth with one's own credential fails.
        let forged =
            HubSignature::sign(&cred, "POST", "/api/v1/hub/orders", "stand-15", 1000, b"{}");
        assert_eq!(
            forged.check(KEY, "POST", "/api/v1/hub/orders", b"{}", 1000),
            Err(HubAuthError::BadSignature)
        );
    }

    #[test]
    fn the_hubs_answer_is_proven_under_the_booths_credential_only() {
        let cred = credential(b"hub-key-of-at-least-thirty-two-bytes!!", "stand-14");
        let other = credential(b"hub-key-of-at-least-thirty-two-bytes!!", "stand-15");
        let sig =
            HubSignature::sign(&cred, "POST", "/api/v1/hub/heartbeat", "stand-14", 1000, b"{}");
        let body = br#"{"now":"2026-06-10T16:00:00Z"}"#;
        let proof = sig.prove_answer(&cred, 200, body);
        assert!(sig.answer_is_proven(&cred, 200, body, &proof));
        assert!(!sig.answer_is_proven(&cred, 200, br#"{"now":"2026-06-10T17:00:00Z"}"#, &proof));
        assert!(!sig.answer_is_proven(&cred, 201, body, &proof));
        assert!(!sig.answer_is_proven(&other, 200, body, &proof));
    }

    #[test]
    fn malformed_headers_are_refused() {
        assert_eq!(HubSignature::parse(None), Err(HubAuthError::Missing));
        for bad in [
            "",
            "v2 booth=a ts=1 mac=00",
            "v1 booth=a ts=1",
            "v1 booth=a b ts=1 mac=00",
            "v1 booth=../x ts=1 mac=00",
        ] {
            assert!(HubSignature::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_time_at_the_edge_of_the_integers_is_expired_not_a_panic() {
        // Found by reading for the fuzz target `signature_headers`; kept as a regression.
        let sig = HubSignature::parse(Some("v1 booth=a ts=-9223372036854775808 mac=0000000000000000000000000000000000000000000000000000000000000000")).unwrap();
        assert_eq!(sig.check(KEY, "POST", "/x", b"", 1_000), Err(HubAuthError::Expired));
        let sig = HubSignature::parse(Some("v1 booth=a ts=9223372036854775807 mac=0000000000000000000000000000000000000000000000000000000000000000")).unwrap();
        assert_eq!(sig.check(KEY, "POST", "/x", b"", -1_000), Err(HubAuthError::Expired));
    }
}
