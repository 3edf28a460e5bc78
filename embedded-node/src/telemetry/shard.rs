//! Keeping the request path free of shared locks: figures recorded on every request are
//! split into a few shards, one per worker thread, and added up when they are read.
//!
//! Owns the shard a thread writes to and the sharded counter. The thread numbering is
//! the one `static` in the node: a counter handing each thread its shard once, holding
//! no state anyone reads.

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
}
