//! Request latency of one route over sliding windows: the last minute, the last 15
//! minutes and the whole event, each giving p50/p95/p99/max, the request count and
//! the error count; plus exact Prometheus buckets for `/metrics`.
//!
//! Windows are rings of HDR histograms (1 µs to 10 min, 2 significant digits: a
//! percentile is within 1% of the true value). The minute is six 10 s slots, the 15
//! minutes fifteen 1-minute slots, so "the last minute" covers 50–60 s of requests
//! depending on where in the current slot "now" is, and the 15 minutes 14–15 minutes.
//! Slots are placed by the injected clock (Unix milliseconds), so rollover is tested
//! without waiting. Memory is bounded: 22 histograms of ~7 KiB per route.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Upper bounds of the Prometheus buckets, microseconds (0.5 ms to 10 s).
pub const BUCKETS_US: [u64; 14] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000,
];

const LOWEST_US: u64 = 1;
const HIGHEST_US: u64 = 600_000_000;
const SIGFIG: u8 = 2;
const FINE_MS: i64 = 10_000;
const FINE_SLOTS: usize = 6;
const COARSE_MS: i64 = 60_000;
const COARSE_SLOTS: usize = 15;

/// Which window a figure covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LatencyWindow {
    LastMinute,
    Last15Minutes,
    Event,
}

impl LatencyWindow {
    pub const ALL: [LatencyWindow; 3] =
        [LatencyWindow::LastMinute, LatencyWindow::Last15Minutes, LatencyWindow::Event];
}

/// Percentiles and rates over one window. Latencies in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LatencyFigures {
    pub requests: u64,
    pub errors: u64,
    pub p50_us: u64,
    pub p95_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// Requests per second over the window's span (the event: since the first request).
    pub rate_per_s: f64,
}

fn histogram() -> Histogram<u32> {
    Histogram::new_with_bounds(LOWEST_US, HIGHEST_US, SIGFIG).expect("constant bounds are valid")
}

#[derive(Clone)]
struct Slot {
    /// Start of the slot, Unix ms; `i64::MIN` while unused.
    start_ms: i64,
    hist: Histogram<u32>,
    errors: u64,
    /// Of a fine slot: already added to the 15 minutes and the event (see
    /// `RouteLatency::record`).
    folded: bool,
}

/// A ring of `n` slots of `width_ms` each.
#[derive(Clone)]
struct Ring {
    width_ms: i64,
    slots: Vec<Slot>,
}

impl Ring {
    fn new(width_ms: i64, n: usize) -> Ring {
        Ring {
            width_ms,
            slots: (0..n)
                .map(|_| Slot { start_ms: i64::MIN, hist: histogram(), errors: 0, folded: false })
                .collect(),
        }
    }

    fn index(&self, at_ms: i64) -> (usize, i64) {
        let n = at_ms.div_euclid(self.width_ms);
        (n.rem_euclid(self.slots.len() as i64) as usize, n * self.width_ms)
    }

    /// The slot for the period holding `at_ms`, emptied if it held an older period;
    /// `None` if a newer period holds it (`at_ms` is older than the whole ring).
    fn slot_at(&mut self, at_ms: i64) -> Option<&mut Slot> {
        let (i, start) = self.index(at_ms);
        let slot = &mut self.slots[i];
        if slot.start_ms > start {
            return None;
        }
        if slot.start_ms != start {
            slot.start_ms = start;
            slot.hist.reset();
            slot.errors = 0;
            slot.folded = false;
        }
        Some(slot)
    }

    /// The slots still inside the window that ends at `now_ms`, merged, and their errors.
    fn merged(&self, now_ms: i64) -> (Histogram<u32>, u64) {
        let mut out = histogram();
        let current = now_ms.div_euclid(self.width_ms) * self.width_ms;
        let oldest = current - self.width_ms * (self.slots.len() as i64 - 1);
        let mut errors = 0;
        for s in self.slots.iter().filter(|s| s.start_ms >= oldest && s.start_ms <= current) {
            // Same bounds on both sides: adding cannot fail.
            let _ = out.add(&s.hist);
            errors += s.errors;
        }
        (out, errors)
    }

    fn span_ms(&self) -> i64 {
        self.width_ms * self.slots.len() as i64
    }
}

/// The latency of one route.
#[derive(Clone)]
pub struct RouteLatency {
    fine: Ring,
    coarse: Ring,
    event: Histogram<u32>,
    event_errors: u64,
    first_ms: Option<i64>,
    /// Exact counts per `BUCKETS_US` bound (not cumulative; the last is +Inf).
    buckets: [u64; BUCKETS_US.len() + 1],
    sum_us: u64,
}

impl Default for RouteLatency {
    fn default() -> Self {
        RouteLatency {
            fine: Ring::new(FINE_MS, FINE_SLOTS),
            coarse: Ring::new(COARSE_MS, COARSE_SLOTS),
            event: histogram(),
            event_errors: 0,
            first_ms: None,
            buckets: [0; BUCKETS_US.len() + 1],
            sum_us: 0,
        }
    }
}

impl RouteLatency {
    /// Records one request that took `us` microseconds, answered at `now_ms`.
    ///
    /// Only into the 10 s slot: a slot is added to the 15 minutes and the event when
    /// the ring turns over it (and, for reading, whenever figures are asked for), so a
    /// request costs one histogram record, not three.
    pub fn record(&mut self, now_ms: i64, us: u64, error: bool) {
        let us = us.clamp(LOWEST_US, HIGHEST_US);
        let (i, start) = self.fine.index(now_ms);
        if self.fine.slots[i].start_ms < start {
            self.fold(i);
        }
        if let Some(slot) = self.fine.slot_at(now_ms) {
            slot.hist.saturating_record(us);
            slot.errors += u64::from(error);
        }
        self.first_ms.get_or_insert(now_ms);
        let bucket = BUCKETS_US.iter().position(|&b| us <= b).unwrap_or(BUCKETS_US.len());
        self.buckets[bucket] += 1;
        self.sum_us += us;
    }

    /// Adds fine slot `i` to the 15 minutes and the event, once.
    fn fold(&mut self, i: usize) {
        let slot = &mut self.fine.slots[i];
        if slot.folded || slot.start_ms == i64::MIN {
            return;
        }
        slot.folded = true;
        let _ = self.event.add(&slot.hist);
        self.event_errors += slot.errors;
        if let Some(coarse) = self.coarse.slot_at(slot.start_ms) {
            let _ = coarse.hist.add(&slot.hist);
            coarse.errors += slot.errors;
        }
    }

    /// Fine slots not yet folded.
    fn unfolded(&self) -> impl Iterator<Item = &Slot> {
        self.fine.slots.iter().filter(|s| !s.folded && s.start_ms != i64::MIN)
    }

    pub fn figures(&self, window: LatencyWindow, now_ms: i64) -> LatencyFigures {
        let (hist, errors, span_ms) = match window {
            LatencyWindow::LastMinute => {
                let (h, e) = self.fine.merged(now_ms);
                (h, e, self.fine.span_ms())
            }
            LatencyWindow::Last15Minutes => {
                let (mut h, mut e) = self.coarse.merged(now_ms);
                // The slots not yet folded, where folding would put them.
                let current = self.coarse.index(now_ms).1;
                let oldest = current - self.coarse.width_ms * (self.coarse.slots.len() as i64 - 1);
                for s in self
                    .unfolded()
                    .filter(|s| self.coarse.index(s.start_ms).1 >= oldest && s.start_ms <= now_ms)
                {
                    let _ = h.add(&s.hist);
                    e += s.errors;
                }
                (h, e, self.coarse.span_ms())
            }
            LatencyWindow::Event => {
                let span = self.first_ms.map_or(0, |f| now_ms - f).max(1000);
                let mut h = self.event.clone();
                for s in self.unfolded() {
                    let _ = h.add(&s.hist);
                }
                (h, self.event_errors(), span)
            }
        };
        figures_of(&hist, errors, span_ms)
    }

    /// 5xx answers over the whole event.
    pub fn event_errors(&self) -> u64 {
        self.event_errors + self.unfolded().map(|s| s.errors).sum::<u64>()
    }

    /// Cumulative Prometheus buckets `(le_us, count)` (the last is +Inf), the sum in
    /// microseconds and the count, for the whole event.
    pub fn prometheus(&self) -> (Vec<(Option<u64>, u64)>, u64, u64) {
        let mut running = 0;
        let mut out = Vec::with_capacity(self.buckets.len());
        for (i, n) in self.buckets.iter().enumerate() {
            running += n;
            out.push((BUCKETS_US.get(i).copied(), running));
        }
        (out, self.sum_us, running)
    }
}

fn figures_of(h: &Histogram<u32>, errors: u64, span_ms: i64) -> LatencyFigures {
    if h.is_empty() {
        return LatencyFigures::default();
    }
    // hdrhistogram reports the highest value equivalent to the recorded one; clamp the
    // percentiles to the true maximum so p99 never reads above max.
    let max = h.max();
    let q = |p: f64| h.value_at_quantile(p).min(max);
    LatencyFigures {
        requests: h.len(),
        errors,
        p50_us: q(0.50),
        p95_us: q(0.95),
        p99_us: q(0.99),
        max_us: max,
        rate_per_s: h.len() as f64 / (span_ms.max(1) as f64 / 1000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000_000;

    fn within_precision(got: u64, want: u64) -> bool {
        // Two significant digits: within 1% (and 1 µs at the bottom).
        got.abs_diff(want) as f64 <= (want as f64 * 0.01).max(1.0)
    }

    #[test]
    fn percentiles_of_a_uniform_distribution() {
        let mut r = RouteLatency::default();
        // 1..=10_000 µs, once each: p50 = 5000, p95 = 9500, p99 = 9900.
        for us in 1..=10_000u64 {
            r.record(T0, us, false);
        }
        let f = r.figures(LatencyWindow::Event, T0);
        assert_eq!(f.requests, 10_000);
        for (got, want) in [(f.p50_us, 5_000), (f.p95_us, 9_500), (f.p99_us, 9_900)] {
            assert!(within_precision(got, want), "got {got}, want {want} within 1%");
        }
        assert!(within_precision(f.max_us, 10_000));
    }

    #[test]
    fn percentiles_of_a_bimodal_distribution() {
        // 97% fast (200 µs), 3% slow (80 ms): p95 is fast, p99 is slow. A mean would hide it.
        let mut r = RouteLatency::default();
        for i in 0..10_000u64 {
            r.record(T0, if i % 100 < 97 { 200 } else { 80_000 }, false);
        }
        let f = r.figures(LatencyWindow::LastMinute, T0 + 5);
        assert!(within_precision(f.p50_us, 200), "{f:?}");
        assert!(within_precision(f.p95_us, 200), "{f:?}");
        assert!(within_precision(f.p99_us, 80_000), "{f:?}");
    }

    #[test]
    fn the_last_minute_forgets_and_the_event_remembers() {
        let mut r = RouteLatency::default();
        for _ in 0..100 {
            r.record(T0, 50_000, true);
        }
        // 30 s later: still in the minute.
        assert_eq!(r.figures(LatencyWindow::LastMinute, T0 + 30_000).requests, 100);
        // Two minutes later fast requests arrive; the slow ones have left the minute
        // but not the 15 minutes or the event.
        let later = T0 + 120_000;
        for _ in 0..100 {
            r.record(later, 1_000, false);
        }
        let minute = r.figures(LatencyWindow::LastMinute, later);
        assert_eq!((minute.requests, minute.errors), (100, 0));
        assert!(within_precision(minute.p99_us, 1_000));
        let quarter = r.figures(LatencyWindow::Last15Minutes, later);
        assert_eq!((quarter.requests, quarter.errors), (200, 100));
        assert!(within_precision(quarter.p99_us, 50_000));
        // 15 minutes after the last of them, only the event still has them.
        let much_later = later + 15 * 60_000;
        assert_eq!(r.figures(LatencyWindow::Last15Minutes, much_later).requests, 0);
        let event = r.figures(LatencyWindow::Event, much_later);
        assert_eq!((event.requests, event.errors), (200, 100));
    }

    #[test]
    fn a_slot_reused_by_the_ring_starts_empty() {
        let mut r = RouteLatency::default();
        r.record(T0, 10, false);
        // Exactly one ring turn later, the same slot index: the old count must not leak in.
        let turn = T0 + FINE_MS * FINE_SLOTS as i64;
        r.record(turn, 10, false);
        assert_eq!(r.figures(LatencyWindow::LastMinute, turn).requests, 1);
    }

    #[test]
    fn a_clock_that_steps_back_and_forth_loses_nothing() {
        // The hot slot must follow the clock whichever way it moves: forward to a new
        // period, back into a period the ring still holds, and back past the ring.
        let mut r = RouteLatency::default();
        let steps = [
            T0,
            T0 + 9_999,
            T0 + 10_000,
            T0 + 5_000,
            T0 + 25_000,
            T0 + 10_001,
            T0 - 120_000,
            T0 + 25_001,
        ];
        for at in steps {
            r.record(at, 100, false);
        }
        let now = T0 + 25_001;
        // Only the request older than the whole ring is left out of the windows.
        assert_eq!(r.figures(LatencyWindow::LastMinute, now).requests, 7);
        assert_eq!(r.figures(LatencyWindow::Event, now).requests, 7);
        assert_eq!(r.prometheus().2, 8, "the exposition counts every request");
        // Once they have left the minute, the 15 minutes still hold them.
        let later = T0 + 100_000;
        r.record(later, 100, false);
        assert_eq!(r.figures(LatencyWindow::Last15Minutes, later).requests, 8);
        assert_eq!(r.figures(LatencyWindow::LastMinute, later).requests, 1);
    }

    #[test]
    fn rate_is_per_second_over_the_window() {
        let mut r = RouteLatency::default();
        for _ in 0..600 {
            r.record(T0, 100, false);
        }
        let f = r.figures(LatencyWindow::LastMinute, T0);
        assert!((f.rate_per_s - 10.0).abs() < 1e-9, "{f:?}");
    }

    #[test]
    fn prometheus_buckets_are_exact_and_cumulative() {
        let mut r = RouteLatency::default();
        for us in [400, 500, 501, 9_000, 20_000_000] {
            r.record(T0, us, false);
        }
        let (buckets, sum, count) = r.prometheus();
        assert_eq!(count, 5);
        assert_eq!(sum, 400 + 500 + 501 + 9_000 + 20_000_000);
        assert_eq!(buckets[0], (Some(500), 2)); // le 0.5 ms: 400 and 500
        assert_eq!(buckets[1], (Some(1_000), 3));
        assert_eq!(buckets[4], (Some(10_000), 4));
        assert_eq!(buckets.last(), Some(&(None, 5)));
        assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1));
    }

    #[test]
    fn an_idle_route_reads_zero() {
        let r = RouteLatency::default();
        assert_eq!(r.figures(LatencyWindow::Event, T0), LatencyFigures::default());
    }
}
