//! Pairing codes: pairing two booths by showing a code on one screen and typing it on
//! the other, for booths whose manifests carry no shared key.
//!
//! Owns: making a code, checking a claim against it, and wrapping the pairing key for
//! the claimant. Never: keeps a key (that is `peers`, through the secret store).
//!
//! The code is 16 characters of Crockford base32 (80 random bits), shown in four
//! groups, valid for [`CODE_LIFETIME_SECS`], for one successful claim, and burnt after
//! [`MAX_WRONG_CLAIMS`] wrong ones. The claimant proves it knows the code with an HMAC
//! keyed by the code over both node ids, the time and a fresh nonce; the holder answers
//! with the pairing key XORed with an HMAC keystream under the code and that nonce,
//! plus an HMAC that binds the wrapped key to the claim. The code itself never crosses
//! the network, and 80 bits keep an eavesdropper from guessing it offline.

use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use boothcloud_core::signing::hex;

/// How long a code may be claimed.
pub const CODE_LIFETIME_SECS: i64 = 300;
/// Wrong claims after which a code is burnt.
pub const MAX_WRONG_CLAIMS: u32 = 5;
/// Longest pairing key that can be handed over (the manifest's limit).
pub const MAX_KEY_BYTES: usize = 256;
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_CHARS: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodeError {
    #[error("no pairing code is being shown on that booth; show one there first")]
    NoCode,
    #[error("that pairing code has expired; show a new one")]
    Expired,
    #[error("that pairing code is wrong")]
    Wrong,
    #[error("that pairing code was tried wrongly too often and no longer works; show a new one")]
    Burnt,
    #[error("a pairing code has 16 letters and digits, e.g. 7KQ2-M9XD-4TRB-H3WN")]
    Malformed,
    #[error("the booth's answer to the pairing code did not check out")]
    BadGrant,
}

fn mac(code: &str) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(code.as_bytes()).expect("HMAC accepts any key length")
}

/// A fresh code, in its canonical form (16 characters, no dashes).
pub fn new_code() -> String {
    let mut rng = rand::rng();
    (0..CODE_CHARS).map(|_| ALPHABET[rng.random_range(0..32)] as char).collect()
}

/// `7KQ2-M9XD-4TRB-H3WN`
pub fn show(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("-")
}

/// What a person typed, as a canonical code: case, spaces and dashes ignored, and the
/// letters people confuse with digits (O, I, L) read as the digits (Crockford).
pub fn normalise(typed: &str) -> Result<String, CodeError> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    if code.len() == CODE_CHARS && code.bytes().all(|b| ALPHABET.contains(&b)) {
        Ok(code)
    } else {
        Err(CodeError::Malformed)
    }
}

/// The claimant's proof of knowing the code.
pub fn claim_proof(code: &str, claimant: &str, holder: &str, ts: i64, nonce: u128) -> String {
    let mut m = mac(code);
    m.update(format!("boothcloud-pair-claim\n{claimant}\n{holder}\n{ts}\n{nonce:032x}").as_bytes());
    hex(&m.finalize().into_bytes())
}

fn keystream(code: &str, nonce: u128, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut block = 0u32;
    while out.len() < len {
        let mut m = mac(code);
        m.update(format!("boothcloud-pair-wrap\n{nonce:032x}\n{block}").as_bytes());
        out.extend_from_slice(&m.finalize().into_bytes());
        block += 1;
    }
    out.truncate(len);
    out
}

/// What the holder sends back: the wrapped key and the HMAC binding it to the claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingGrant {
    pub wrapped: Vec<u8>,
    pub proof: String,
}

fn grant_proof(code: &str, claim: &str, wrapped: &[u8]) -> String {
    let mut m = mac(code);
    m.update(format!("boothcloud-pair-grant\n{claim}\n{}", hex(wrapped)).as_bytes());
    hex(&m.finalize().into_bytes())
}

pub fn grant(code: &str, claim: &str, nonce: u128, key: &[u8]) -> PairingGrant {
    let wrapped: Vec<u8> =
        key.iter().zip(keystream(code, nonce, key.len())).map(|(k, s)| k ^ s).collect();
    let proof = grant_proof(code, claim, &wrapped);
    PairingGrant { wrapped, proof }
}

/// The key inside a grant, if the grant is genuine.
pub fn unwrap(
    code: &str,
    claim: &str,
    nonce: u128,
    grant: &PairingGrant,
) -> Result<Vec<u8>, CodeError> {
    if grant.wrapped.is_empty() || grant.wrapped.len() > MAX_KEY_BYTES {
        return Err(CodeError::BadGrant);
    }
    let expected = grant_proof(code, claim, &grant.wrapped);
    if !bool::from(expected.as_bytes().ct_eq(grant.proof.as_bytes())) {
        return Err(CodeError::BadGrant);
    }
    Ok(grant
        .wrapped
        .iter()
        .zip(keystream(code, nonce, grant.wrapped.len()))
        .map(|(w, s)| w ^ s)
        .collect())
}

/// The code a booth is showing, if any.
#[derive(Debug, Default)]
pub struct Shown {
    active: Option<Active>,
}

#[derive(Debug)]
struct Active {
    code: String,
    expires_at: i64,
    wrong: u32,
}

impl Shown {
    /// Shows a new code (replacing any other); returns it and its expiry (Unix seconds).
    pub fn show_new(&mut self, now: i64) -> (String, i64) {
        let code = new_code();
        let expires_at = now + CODE_LIFETIME_SECS;
        self.active = Some(Active { code: code.clone(), expires_at, wrong: 0 });
        (code, expires_at)
    }

    pub fn withdraw(&mut self) {
        self.active = None;
    }

    /// The code on show and its expiry, while it can still be claimed.
    pub fn current(&self, now: i64) -> Option<(&str, i64)> {
        self.active
            .as_ref()
            .filter(|a| now <= a.expires_at && a.wrong < MAX_WRONG_CLAIMS)
            .map(|a| (a.code.as_str(), a.expires_at))
    }

    /// Checks a claim; the code is used up by a good one and burnt by too many bad ones.
    /// Returns the code, which keys the grant.
    pub fn claim(
        &mut self,
        claimant: &str,
        holder: &str,
        ts: i64,
        nonce: u128,
        proof: &str,
        now: i64,
    ) -> Result<String, CodeError> {
        let active = self.active.as_mut().ok_or(CodeError::NoCode)?;
        if active.wrong >= MAX_WRONG_CLAIMS {
            return Err(CodeError::Burnt);
        }
        if now > active.expires_at {
            return Err(CodeError::Expired);
        }
        let expected = claim_proof(&active.code, claimant, holder, ts, nonce);
        if (now - ts).abs() > boothcloud_core::signing::peer::MAX_SKEW_SECS
            || !bool::from(expected.as_bytes().ct_eq(proof.as_bytes()))
        {
            active.wrong += 1;
            return Err(if active.wrong >= MAX_WRONG_CLAIMS {
                CodeError::Burnt
            } else {
                CodeError::Wrong
            });
        }
        let code = active.code.clone();
        self.active = None;
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sixteen_unambiguous_characters_and_read_back_as_typed() {
        let code = new_code();
        assert_eq!(code.len(), 16);
        assert!(!code.contains(['I', 'L', 'O', 'U']));
        assert_ne!(code, new_code());
        let shown = show(&code);
        assert_eq!(shown.len(), 19);
        assert_eq!(normalise(&shown.to_lowercase()), Ok(code.clone()));
        assert_eq!(normalise(&shown.replace('-', " ")), Ok(code));
        assert_eq!(normalise("o1l0-0000-0000-0000"), Ok("0110000000000000".into()));
        assert_eq!(normalise("7KQ2-M9XD"), Err(CodeError::Malformed));
        assert_eq!(normalise("7KQ2-M9XD-4TRB-H3WU"), Err(CodeError::Malformed));
    }

    #[test]
    fn a_good_claim_gets_the_key_once() {
        let mut shown = Shown::default();
        let (code, expires) = shown.show_new(1_000);
        assert_eq!(expires, 1_000 + CODE_LIFETIME_SECS);
        let claim = claim_proof(&code, "b", "a", 1_010, 99);
        let used = shown.claim("b", "a", 1_010, 99, &claim, 1_010).unwrap();
        let g = grant(&used, &claim, 99, b"the-event-pairing-key-of-32-chars-or-more");
        assert_ne!(
            &g.wrapped[..],
            b"the-event-pairing-key-of-32-chars-or-more",
            "the key is not sent in the clear"
        );
        assert_eq!(
            unwrap(&code, &claim, 99, &g).unwrap(),
            b"the-event-pairing-key-of-32-chars-or-more"
        );
        assert_eq!(
            shown.claim("b", "a", 1_010, 99, &claim, 1_011),
            Err(CodeError::NoCode),
            "one claim per code"
        );
    }

    #[test]
    fn a_tampered_grant_or_another_code_is_refused() {
        let claim = claim_proof("0000000000000000", "b", "a", 1, 5);
        let mut g = grant("0000000000000000", &claim, 5, b"k".repeat(40).as_slice());
        assert_eq!(unwrap("0000000000000001", &claim, 5, &g), Err(CodeError::BadGrant));
        g.wrapped[0] ^= 1;
        assert_eq!(unwrap("0000000000000000", &claim, 5, &g), Err(CodeError::BadGrant));
    }

    #[test]
    fn wrong_claims_burn_the_code_and_late_ones_find_it_expired() {
        let mut shown = Shown::default();
        let (code, _) = shown.show_new(1_000);
        for n in 1..MAX_WRONG_CLAIMS {
            assert_eq!(
                shown.claim("b", "a", 1_000, u128::from(n), "00", 1_000),
                Err(CodeError::Wrong)
            );
        }
        assert_eq!(shown.claim("b", "a", 1_000, 0, "00", 1_000), Err(CodeError::Burnt));
        // Even the right proof no longer works.
        let right = claim_proof(&code, "b", "a", 1_000, 1);
        assert_eq!(shown.claim("b", "a", 1_000, 1, &right, 1_000), Err(CodeError::Burnt));
        assert!(shown.current(1_000).is_none());

        let (code, _) = shown.show_new(2_000);
        let late = 2_000 + CODE_LIFETIME_SECS + 1;
        let proof = claim_proof(&code, "b", "a", late, 1);
        assert_eq!(shown.claim("b", "a", late, 1, &proof, late), Err(CodeError::Expired));
        // A proof for another pair of booths does not count as this one's.
        let (code, _) = shown.show_new(3_000);
        let for_c = claim_proof(&code, "c", "a", 3_000, 1);
        assert_eq!(shown.claim("b", "a", 3_000, 1, &for_c, 3_000), Err(CodeError::Wrong));
    }
}
