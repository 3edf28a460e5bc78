//! Time, injected. Owns the `Clock` every rule reads "now" from, so that quote expiry,
//! happy-hour windows, TTLs and triggers can be tested without waiting. Nothing that
//! takes a `Clock` calls `Timestamp::now()` itself.
//!
//! A clock gives two readings: the wall time (which a user, NTP or a reset battery can
//! step at any moment) and monotonic time (which only runs forward, at the rate of real
//! time). `timekeeping` builds the booth's trusted time out of the two.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;

    /// Time elapsed since some fixed moment (the clock's making), never going back.
    fn monotonic(&self) -> Duration;

    /// Unix milliseconds.
    fn now_ms(&self) -> i64 {
        self.now().as_millisecond()
    }
}

/// The operating system's wall and monotonic clocks.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock { origin: Instant::now() }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// How far back before its making a manual clock's monotonic reading can be `set`.
const TEST_TRAVEL: SignedDuration = SignedDuration::from_hours(24 * 366 * 10);

/// A clock that only moves when told to; for tests.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<Readings>>);

#[derive(Debug)]
struct Readings {
    wall: Timestamp,
    /// Monotonic time in nanoseconds (signed: `set` may travel back, as tests do).
    mono: i128,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        ManualClock(Arc::new(Mutex::new(Readings { wall: start, mono: TEST_TRAVEL.as_nanos() })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Readings> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Time passes: both readings move by `by`.
    pub fn advance(&self, by: SignedDuration) {
        let mut r = self.lock();
        r.wall = r.wall.saturating_add(by).unwrap_or(r.wall);
        r.mono += by.as_nanos();
    }

    /// The test's world is now at `to`: both readings move (as if that much time passed,
    /// or, going back, as if the test began earlier). Not a step of the wall clock.
    pub fn set(&self, to: Timestamp) {
        let mut r = self.lock();
        r.mono += to.duration_since(r.wall).as_nanos();
        r.wall = to;
    }

    /// Only the wall clock jumps (a user, NTP or a time zone fix); monotonic time does not.
    pub fn step_wall(&self, by: SignedDuration) {
        let mut r = self.lock();
        r.wall = r.wall.saturating_add(by).unwrap_or(r.wall);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.lock().wall
    }

    fn monotonic(&self) -> Duration {
        // Monotonic time starts years in, so tests may `set` the world back that far.
        Duration::from_nanos(u64::try_from(self.lock().mono.max(0)).unwrap_or(u64::MAX))
    }
}
