//! What the booth sends and receives beyond itself, by purpose: the hub's heartbeats and
//! order batches, batches relayed for a paired booth, forwarded media, the storefront's
//! origin, and calls to paired booths.
//!
//! Owns: a byte and call counter per purpose, and a minute of per-second snapshots for
//! "bytes per minute now". Never: prices anything (every call and every byte that
//! crosses the uplink is also put on spend's meters by [`super::Meters::upstream`]).
//!
//! Bytes are HTTP bytes as the booth sends and reads them: the request line, the
//! headers it sets and gets, and the bodies (not TCP, TLS or retransmissions).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;

/// Why the booth talked to something beyond itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Heartbeats to the hub.
    Heartbeat,
    /// This booth's order batches to the hub.
    Sync,
    /// A paired booth's order batches, carried to the hub by this booth.
    Relay,
    /// Finished uploads and clips sent to the upstream.
    Forward,
    /// The storefront's origin (cache misses and revalidations).
    Origin,
    /// Calls to paired booths on the venue network (status, assets, relayed batches):
    /// not over the uplink, so not priced as egress.
    Peers,
}

impl Purpose {
    pub const ALL: [Purpose; 6] = [
        Purpose::Heartbeat,
        Purpose::Sync,
        Purpose::Relay,
        Purpose::Forward,
        Purpose::Origin,
        Purpose::Peers,
    ];

    /// Whether its bytes cross the booth's uplink (and cost egress).
    pub fn over_the_uplink(self) -> bool {
        self != Purpose::Peers
    }

    pub fn label(self) -> &'static str {
        match self {
            Purpose::Heartbeat => "Heartbeats to the hub",
            Purpose::Sync => "Orders sent to the hub",
            Purpose::Relay => "Orders relayed for a paired booth",
            Purpose::Forward => "Media forwarded",
            Purpose::Origin => "Storefront files from the origin",
            Purpose::Peers => "Calls to paired booths (venue network)",
        }
    }
}

/// Snapshots kept for the per-minute figure (one a second).
const WINDOW: usize = 61;

#[derive(Default)]
pub struct Traffic {
    bytes: [AtomicU64; 6],
    calls: [AtomicU64; 6],
    /// (second, bytes per purpose) once a second, oldest first.
    snapshots: Mutex<VecDeque<(i64, [u64; 6])>>,
}

/// One purpose's traffic, for the Spend screen.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrafficLine {
    pub purpose: Purpose,
    pub label: &'static str,
    /// Since the node started.
    pub bytes: u64,
    pub calls: u64,
    /// Over the last minute (absent until the node has seen one).
    pub bytes_per_minute: Option<u64>,
    pub over_the_uplink: bool,
}

impl Traffic {
    /// One call of `bytes` (sent and received).
    pub fn add(&self, purpose: Purpose, bytes: u64) {
        self.add_bytes(purpose, bytes);
        self.calls[purpose as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Bytes of a call already counted.
    pub fn add_bytes(&self, purpose: Purpose, bytes: u64) {
        self.bytes[purpose as usize].fetch_add(bytes, Ordering::Relaxed);
    }

    /// Bytes of one call of `purpose`, on average so far (`None` before the first).
    pub fn average(&self, purpose: Purpose) -> Option<u64> {
        let i = purpose as usize;
        let calls = self.calls[i].load(Ordering::Relaxed);
        (calls > 0).then(|| self.bytes[i].load(Ordering::Relaxed) / calls)
    }

    fn read(&self) -> [u64; 6] {
        std::array::from_fn(|i| self.bytes[i].load(Ordering::Relaxed))
    }

    /// Takes the second's snapshot (spend's loop, once a second).
    pub fn snapshot(&self, now_s: i64) {
        let bytes = self.read();
        let mut s = self.snapshots.lock().unwrap_or_else(|e| e.into_inner());
        if s.back().is_some_and(|(at, _)| *at == now_s) {
            return;
        }
        s.push_back((now_s, bytes));
        while s.len() > WINDOW {
            s.pop_front();
        }
    }

    /// Every purpose: totals, and bytes over the last minute.
    pub fn lines(&self, now_s: i64) -> Vec<TrafficLine> {
        let bytes = self.read();
        let minute_ago = self
            .snapshots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(at, _)| *at >= now_s - 60)
            .filter(|(at, _)| *at <= now_s - 59)
            .map(|(_, b)| *b);
        Purpose::ALL
            .into_iter()
            .map(|p| {
                let i = p as usize;
                TrafficLine {
                    purpose: p,
                    label: p.label(),
                    bytes: bytes[i],
                    calls: self.calls[i].load(Ordering::Relaxed),
                    bytes_per_minute: minute_ago.map(|b| bytes[i].saturating_sub(b[i])),
                    over_the_uplink: p.over_the_uplink(),
                }
            })
            .collect()
    }
}

/// HTTP/1.1 bytes of a request the booth sends: its first line, `Host`,
/// `Content-Length`, the `headers` it sets, and a body of `body` bytes.
pub fn request_bytes(method: &str, url: &url::Url, headers: &[(&str, &str)], body: usize) -> u64 {
    let target = url.path().len() + url.query().map_or(0, |q| q.len() + 1);
    let host =
        url.host_str().map_or(0, str::len) + url.port().map_or(0, |p| p.to_string().len() + 1);
    let set: usize = headers.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
    let length = "content-length: \r\n".len() + body.to_string().len();
    (method.len()
        + 1
        + target
        + " HTTP/1.1\r\n".len()
        + "host: \r\n".len()
        + host
        + length
        + set
        + 2
        + body) as u64
}

/// HTTP/1.1 bytes of an answer the booth read: a status line, `headers`, and a body of
/// `body` bytes.
pub fn answer_bytes(headers: &reqwest::header::HeaderMap, body: usize) -> u64 {
    let head: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    ("HTTP/1.1 200 OK\r\n".len() + head + 2 + body) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_counted_as_it_goes_on_the_wire() {
        let url: url::Url = "http://10.0.0.5:8790/api/v1/hub/heartbeat".parse().unwrap();
        let wire = "POST /api/v1/hub/heartbeat HTTP/1.1\r\nhost: 10.0.0.5:8790\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}";
        assert_eq!(
            request_bytes("POST", &url, &[("content-type", "application/json")], 2),
            wire.len() as u64
        );
    }

    #[test]
    fn bytes_per_minute_are_read_over_the_last_minute_once_one_was_seen() {
        let t = Traffic::default();
        t.snapshot(1_000);
        t.add(Purpose::Heartbeat, 500);
        assert_eq!(t.lines(1_030)[0].bytes_per_minute, None, "no minute seen yet");
        for s in 1_001..=1_060 {
            t.snapshot(s);
            t.add(Purpose::Heartbeat, 100);
        }
        let line = &t.lines(1_060)[0];
        assert_eq!((line.bytes, line.calls), (6_500, 61));
        // Since the snapshot at 1000, a minute ago: 500 + 60 × 100.
        assert_eq!(line.bytes_per_minute, Some(6_500));
        assert!(!t.lines(1_060)[5].over_the_uplink, "peers are on the venue network");
    }
}
