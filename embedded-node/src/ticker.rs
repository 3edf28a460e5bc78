//! The pace of the node's background loops: a tick every period of real time until the
//! node starts to stop. Owns nothing else; what a loop does on a tick is its own.

/// A tick every `period` until the node starts to stop. `next` answers the tick's
/// number (1, 2, ...) or `None` when stopping.
pub struct Ticker {
    interval: tokio::time::Interval,
    stopping: tokio::sync::watch::Receiver<bool>,
    n: u64,
}

impl Ticker {
    pub fn new(
        period: std::time::Duration,
        stopping: tokio::sync::watch::Receiver<bool>,
    ) -> Ticker {
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
