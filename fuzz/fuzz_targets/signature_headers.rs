//! The signed-request headers every receiver parses before anything else: a peer's
//! signature, a booth's at the hub, a forwarding booth's on a tus request.
#![no_main]

use boothcloud_core::signing::{hub::HubSignature, peer::Signature, upload::UploadSignature};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(sig) = Signature::parse(text) {
        let _ = sig.to_header();
    }
    if let Ok(sig) = HubSignature::parse(Some(text)) {
        let _ = sig.check(b"a hub key of at least thirty-two bytes!!", "POST", "/x", b"", 0);
    }
    if let Ok(sig) = UploadSignature::parse(text) {
        let req = boothcloud_core::signing::upload::UploadRequest {
            method: "PATCH",
            target: "/api/v1/uploads/x",
            checksum: Some("sha256 x"),
            ..Default::default()
        };
        let _ = sig.check(&[1; 32], &req, sig.ts);
    }
});
