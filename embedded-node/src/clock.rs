//! Time, injected. Owns the `Clock` the node reads "now" from, so that quote expiry,
//! happy-hour windows and TTLs can be tested without waiting. Nothing deeper in the node
//! calls `Timestamp::now()` itself.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<Timestamp>>);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        ManualClock(Arc::new(Mutex::new(start)))
    }

    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now = now.saturating_add(by).unwrap_or(*now);
    }

    pub fn set(&self, to: Timestamp) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
/// The pace of a background task: a tick every `period` of real time until the node
/// starts to stop. `next` answers the tick's number (1, 2, ...) or `None` when stopping.
pub struct Ticker {
    interval: tokio::time::Interval,
    stopping: tokio::sync::watch::Receiver<bool>,
    n: u64,
}

impl Ticker {
    pub fn new(period: std::time::Duration, stopping: tokio::sync::watch::Receiver<bool>) -> Ticker {
        Ticker { interval: tokio::time::interval(period), stopping, n: 0 }
    }

    pub async fn next(&mut self) -> Option<u64> {
        tokio::select! {
            _ = self.interval.tick() => {
                self.n += 1;
                Some(self.n)
            }
            _ = self.stopping.wait_for(|s| *s) => None,
        }
    }
}
