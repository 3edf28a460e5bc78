//! Quote tokens as kiosks send them back: any string, and any payload under a valid
//! MAC (so the claims parser behind the MAC is reached too).
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use boothcloud_core::signing::quote::QuoteSigner;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

const KEY: [u8; 32] = [7; 32];

fuzz_target!(|data: &[u8]| {
    let signer = QuoteSigner::new(KEY);
    let now = jiff::Timestamp::from_second(1_780_000_000).unwrap();
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = signer.verify(text, "harbour-lights-2026", now);
    }
    // The same bytes as a payload signed with the booth's key.
    let signed = format!("bcq1.{}", URL_SAFE_NO_PAD.encode(data));
    let mut mac = Hmac::<Sha256>::new_from_slice(&KEY).unwrap();
    mac.update(signed.as_bytes());
    let token = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    let _ = signer.verify(&token, "harbour-lights-2026", now);
});
