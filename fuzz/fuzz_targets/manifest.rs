//! The deployment manifest, as an operator (or a damaged file) may write it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = boothcloud_core::manifest::parse(text);
});
