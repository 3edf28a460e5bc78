//! What the hub reads from booths: order batches and heartbeat reports, then its checks.
#![no_main]

use boothcloud_core::hub_protocol::wire::{check_order, BoothReport, OrderBatch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(batch) = serde_json::from_slice::<OrderBatch>(data) {
        for o in &batch.orders {
            let _ = check_order(o);
        }
    }
    let _ = serde_json::from_slice::<BoothReport>(data);
});
