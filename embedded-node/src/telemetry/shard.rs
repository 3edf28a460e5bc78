//! Keeping the request path free of shared locks: figures recorded on every request are
//! split into a few shards, one per worker thread, and added up when they are read.
//!
//! Owns the shard a thread writes to, the sharded counter, and the cheap hasher the
//! per-request maps use. The thread numbering is the node's one `static`: a counter
//! handing each thread its shard once, holding no state anyone reads.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Shards per figure: worker threads beyond this share shards.
pub const SHARDS: usize = 4;

static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SHARD: usize = NEXT_THREAD.fetch_add(1, Ordering::Relaxed) % SHARDS;
}

/// The shard the current thread writes to.
pub fn current() -> usize {
    SHARD.with(|s| *s)
}

/// One shard of a counter, alone on its cache line so shards never contend.
#[derive(Default)]
#[repr(align(128))]
struct Padded(AtomicU64);

/// A counter bumped from many threads at once and read rarely.
#[derive(Default)]
pub struct Counter([Padded; SHARDS]);

impl Counter {
    pub fn add(&self, n: u64) {
        self.0[current()].0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn sum(&self) -> u64 {
        self.0.iter().map(|p| p.0.load(Ordering::Relaxed)).sum()
    }
}

/// FxHash (rustc's): a multiply and a rotate per word. Only for keys no client can
/// choose the hash of: route templates from the node's own router, and sessions' keys,
/// which are already the output of a keyed hash (a client cannot aim at a bucket
/// without the key). Std's SipHash there was most of what timing a request cost.
#[derive(Default)]
pub struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_adds_up_every_thread_s_shard() {
        let c = Counter::default();
        std::thread::scope(|s| {
            for _ in 0..SHARDS + 2 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        c.add(1);
                    }
                    assert!(current() < SHARDS);
                });
            }
        });
        assert_eq!(c.sum(), 1000 * (SHARDS as u64 + 2));
    }

    #[test]
    fn fx_hashes_tell_route_templates_apart() {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let b = BuildHasherDefault::<FxHasher>::default();
        let routes = ["/api/v1/quotes", "/api/v1/orders", "/api/v1/orders/{id}", "/assets/{*path}", "/healthz", "(unmatched)"];
        let hashes: std::collections::BTreeSet<u64> = routes.iter().map(|r| b.hash_one(r)).collect();
        assert_eq!(hashes.len(), routes.len());
        assert_eq!(b.hash_one("/healthz"), b.hash_one(String::from("/healthz")));
    }
}
