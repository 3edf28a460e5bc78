//! Signed quote tokens: the price a kiosk was quoted, sealed so no client can change it.
//!
//! Owns: the token format and its verification. A token is
//! `bcq1.<payload>.<mac>` where payload is base64url (no padding) JSON of `QuoteClaims`
//! and mac is HMAC-SHA256 over `bcq1.<payload>` with the node's quote-signing key.
//! The token carries everything the order needs (lines, totals, currency, event, expiry),
//! so a quote issued under an older manifest is honoured as quoted until it expires.
//! Never: decides whether a token was already used — that is the order queue's unique
//! `quote_id`, checked inside the same transaction that stores the order.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::money::{Currency, Minor};
use crate::pricing::PricedBasket;

const PREFIX: &str = "bcq1";
/// Tokens longer than this are rejected before any decoding.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// What a quote token promises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteClaims {
    /// Unique per quote; an order may use it once.
    pub qid: String,
    /// The event the quote was made for.
    pub event: String,
    pub currency: Currency,
    pub lines: Vec<TokenLine>,
    pub subtotal: Minor,
    pub discount: Minor,
    pub total: Minor,
    pub tier: Option<String>,
    /// Manifest version the quote was priced under.
    pub manifest_version: u64,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenLine {
    pub sku: String,
    pub qty: u32,
    pub unit_price: Minor,
    pub total: Minor,
}

impl From<&crate::pricing::PricedLine> for TokenLine {
    /// What a priced line keeps once sold: the SKU, how many, at what, for how much.
    fn from(l: &crate::pricing::PricedLine) -> TokenLine {
        TokenLine { sku: l.sku.clone(), qty: l.qty, unit_price: l.unit_price, total: l.total }
    }
}

impl QuoteClaims {
    pub fn new(
        qid: String,
        event: String,
        priced: &PricedBasket,
        manifest_version: u64,
        issued_at: Timestamp,
        expires_at: Timestamp,
    ) -> QuoteClaims {
        QuoteClaims {
            qid,
            event,
            currency: priced.currency,
            lines: priced.lines.iter().map(TokenLine::from).collect(),
            subtotal: priced.subtotal,
            discount: priced.discount,
            total: priced.total,
            tier: priced.tier.clone(),
            manifest_version,
            issued_at,
            expires_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteTokenError {
    #[error("the quote token is malformed")]
    Malformed,
    #[error("the quote token's signature is not valid")]
    BadSignature,
    #[error("the quote expired at {0}; ask for a new quote")]
    Expired(Timestamp),
    #[error("the quote was made for another event")]
    WrongEvent,
}

/// Signs and verifies quote tokens. Clones share the key, so a rotation (a runbook step,
/// and teardown) reaches every handler at once.
#[derive(Clone)]
pub struct QuoteSigner {
    key: std::sync::Arc<std::sync::RwLock<[u8; 32]>>,
}

impl std::fmt::Debug for QuoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QuoteSigner(<key>)")
    }
}

impl QuoteSigner {
    pub fn new(key: [u8; 32]) -> QuoteSigner {
        QuoteSigner { key: std::sync::Arc::new(std::sync::RwLock::new(key)) }
    }

    fn mac(&self) -> Hmac<Sha256> {
        let key = *self.key.read().unwrap_or_else(|e| e.into_inner());
        super::mac(&key)
    }

    /// Signs with `key` from now on. Tokens signed with the old key stop verifying at
    /// once: a key is rotated because it may be known to someone else (or the booth is
    /// closing), and kiosks holding an old quote simply ask for a new one.
    pub fn rotate(&self, key: [u8; 32]) {
        *self.key.write().unwrap_or_else(|e| e.into_inner()) = key;
    }

    /// A short fingerprint of the key in use (for the audit log; reveals nothing of it).
    pub fn fingerprint(&self) -> String {
        let key = *self.key.read().unwrap_or_else(|e| e.into_inner());
        let digest = <Sha256 as sha2::Digest>::digest(key);
        digest[..4].iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn sign(&self, claims: &QuoteClaims) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialize"));
        let signed = format!("{PREFIX}.{payload}");
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signed}.{tag}")
    }

    /// Checks the signature first (constant time), then the claims: a forged token learns
    /// nothing about why it failed beyond "bad signature".
    pub fn verify(
        &self,
        token: &str,
        event: &str,
        now: Timestamp,
    ) -> Result<QuoteClaims, QuoteTokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(QuoteTokenError::Malformed);
        }
        let (signed, tag) = token.rsplit_once('.').ok_or(QuoteTokenError::Malformed)?;
        let payload = signed
            .strip_prefix(PREFIX)
            .and_then(|p| p.strip_prefix('.'))
            .ok_or(QuoteTokenError::Malformed)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| QuoteTokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        mac.verify_slice(&tag).map_err(|_| QuoteTokenError::BadSignature)?;
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| QuoteTokenError::Malformed)?;
        let claims: QuoteClaims =
            serde_json::from_slice(&json).map_err(|_| QuoteTokenError::Malformed)?;
        if claims.event != event {
            return Err(QuoteTokenError::WrongEvent);
        }
        if now >= claims.expires_at {
            return Err(QuoteTokenError::Expired(claims.expires_at));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    fn claims(now: Timestamp) -> QuoteClaims {
        QuoteClaims {
            qid: "q1".into(),
            event: "ev".into(),
            currency: Currency::parse("EUR").unwrap(),
            lines: vec![TokenLine { sku: "A".into(), qty: 2, unit_price: 500, total: 900 }],
            subtotal: 1000,
            discount: 100,
            total: 900,
            tier: None,
            manifest_version: 1,
            issued_at: now,
            expires_at: now + SignedDuration::from_mins(5),
        }
    }

    #[test]
    fn a_rotated_key_refuses_tokens_of_the_old_one_in_every_clone() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let signer = QuoteSigner::new([7; 32]);
        let handler = signer.clone();
        let old = signer.sign(&claims(now));
        let before = signer.fingerprint();
        signer.rotate([8; 32]);
        assert_ne!(signer.fingerprint(), before);
        assert_eq!(handler.verify(&old, "ev", now), Err(QuoteTokenError::BadSignature));
        let new = handler.sign(&claims(now));
        assert!(signer.verify(&new, "ev", now).is_ok());
    }

    #[test]
    fn round_trip_and_expiry() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let signer = QuoteSigner::new([7; 32]);
        let token = signer.sign(&claims(now));
        assert_eq!(signer.verify(&token, "ev", now).unwrap(), claims(now));
        assert_eq!(signer.verify(&token, "other", now), Err(QuoteTokenError::WrongEvent));
        let later = now + SignedDuration::from_mins(5);
        assert!(matches!(signer.verify(&token, "ev", later), Err(QuoteTokenError::Expired(_))));
    }

    #[test]
    fn tampering_is_detected() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let signer = QuoteSigner::new([7; 32]);
        let token = signer.sign(&claims(now));
        // Re-sign cheaper claims with another key: the node's key rejects them.
        let mut cheap = claims(now);
        cheap.total = 1;
        let forged = QuoteSigner::new([8; 32]).sign(&cheap);
        assert_eq!(signer.verify(&forged, "ev", now), Err(QuoteTokenError::BadSignature));
        // Swap the payload of a genuine token.
        let (_, tag) = token.rsplit_once('.').unwrap();
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cheap).unwrap());
        assert_eq!(
            signer.verify(&format!("bcq1.{payload}.{tag}"), "ev", now),
            Err(QuoteTokenError::BadSignature)
        );
        for junk in ["", "bcq1", "bcq1..", "x.y.z", "bcq1.!!.??", &"a".repeat(MAX_TOKEN_BYTES + 1)]
        {
            assert!(signer.verify(junk, "ev", now).is_err(), "{junk:.20}");
        }
    }
}
