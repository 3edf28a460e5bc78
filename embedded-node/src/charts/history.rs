//! The figures over time that the charts draw: a point every ten seconds for the last
//! hour, and a point a minute for the event (up to a week), in memory.
//!
//! Spend over time is not kept here: it comes from the spend ledger's samples, which
//! are in SQLite and survive a restart. Latency and hit ratio history start again when
//! the node restarts (their event totals do not: those are in the telemetry registry
//! and the cache's figures).

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Points a chart of the last hour has (one per ten seconds).
pub const FINE_POINTS: usize = 360;
/// Points of the event (one per minute): a week.
pub const COARSE_POINTS: usize = 7 * 24 * 60;

/// One route's latency over the minute before a point.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutePoint {
    /// `METHOD /route/template`.
    pub route: String,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

/// What the booth looked like at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Unix seconds.
    pub at: i64,
    /// The busiest customer routes of the last minute.
    pub routes: Vec<RoutePoint>,
    /// Share of asset requests served without the origin over the last minute.
    pub hit_ratio: Option<f64>,
    /// Minutes of media transcoded in the event so far.
    pub transcode_minutes: f64,
    pub transcodes_running: u64,
}

/// How far back a chart looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    #[default]
    Hour,
    Event,
}

#[derive(Default)]
pub struct History {
    fine: Mutex<VecDeque<Point>>,
    coarse: Mutex<VecDeque<Point>>,
}

fn push(ring: &Mutex<VecDeque<Point>>, point: Point, cap: usize) {
    let mut ring = ring.lock().unwrap_or_else(|e| e.into_inner());
    ring.push_back(point);
    while ring.len() > cap {
        ring.pop_front();
    }
}

impl History {
    pub fn record(&self, point: Point) {
        let new_minute = {
            let coarse = self.coarse.lock().unwrap_or_else(|e| e.into_inner());
            coarse.back().is_none_or(|last| point.at.div_euclid(60) > last.at.div_euclid(60))
        };
        if new_minute {
            push(&self.coarse, point.clone(), COARSE_POINTS);
        }
        push(&self.fine, point, FINE_POINTS);
    }

    /// The points of `span` up to `now` (Unix seconds), oldest first.
    pub fn points(&self, span: Span, now: i64) -> Vec<Point> {
        match span {
            Span::Hour => {
                let fine = self.fine.lock().unwrap_or_else(|e| e.into_inner());
                fine.iter().filter(|p| p.at > now - 3_600).cloned().collect()
            }
            Span::Event => {
                self.coarse.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(at: i64) -> Point {
        Point {
            at,
            routes: Vec::new(),
            hit_ratio: Some(0.9),
            transcode_minutes: 0.0,
            transcodes_running: 0,
        }
    }

    #[test]
    fn the_hour_keeps_ten_second_points_and_the_event_one_a_minute() {
        let h = History::default();
        for i in 0..(2 * 360) {
            h.record(point(i * 10));
        }
        let now = 719 * 10;
        let hour = h.points(Span::Hour, now);
        assert_eq!(hour.len(), 360);
        assert_eq!(hour[0].at, now - 3_590);
        let event = h.points(Span::Event, now);
        assert_eq!(event.len(), 120);
        assert!(event.windows(2).all(|w| w[1].at - w[0].at == 60));
    }
}
