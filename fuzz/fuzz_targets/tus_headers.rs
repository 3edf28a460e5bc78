//! tus headers a camera or phone sends: `Upload-Metadata` and `Upload-Checksum`.
#![no_main]

use boothcloud_node::media::tus::{parse_checksum, parse_metadata};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(m) = parse_metadata(text) {
        let _ = m.text("filename");
    }
    let _ = parse_checksum(text);
});
