//! The booth's trusted time: how it decides what time it is when the laptop's wall clock
//! can be stepped (a wrong NTP or time-zone fix, a reset battery, a user) at any moment.
//!
//! Owns: the rule that trusted time is the last wall time the booth trusted plus the
//! monotonic time elapsed since, what counts as a step, what a second source must say
//! for the booth to believe a new wall time, and the doubts a booth starts with.
//! Never: reads a clock itself (callers bring [`Reading`]s), keeps anything on disk,
//! or decides what an automation does (it only says whether they are held).
//!
//! Invariants:
//! - A step of the wall clock never moves trusted time. Trusted time follows the wall
//!   clock only while the two agree within [`STEP_THRESHOLD`], and jumps to a new wall
//!   time only when a second source (the hub's signed time, a paired booth's) agrees
//!   with it, or the lead says so.
//! - A booth that starts with a wall time it has reason to doubt (before its build,
//!   before its last run, weeks before the event, after the event's end and time to
//!   live) holds every time-based automation until the doubt is settled.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::clock::Clock;

/// A disagreement between the wall clock and trusted time larger than this, appearing
/// between two looks, is a step.
pub const STEP_THRESHOLD: SignedDuration = SignedDuration::from_secs(5);
/// How close a second source's time must be (besides its own uncertainty) to agree.
pub const AGREEMENT: SignedDuration = SignedDuration::from_secs(5);
/// A wall time this long before the event's start is doubted at start.
pub const LONG_BEFORE_EVENT: SignedDuration = SignedDuration::from_hours(24 * 28);

/// Both readings of a clock, taken together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub wall: Timestamp,
    pub mono: Duration,
}

impl Reading {
    pub fn of(clock: &dyn Clock) -> Reading {
        Reading { wall: clock.now(), mono: clock.monotonic() }
    }
}

/// What the booth knows at start besides the clock.
#[derive(Debug, Clone, Default)]
pub struct StartFacts {
    /// When this program was built: no wall time before it is real.
    pub built_at: Option<Timestamp>,
    /// The last trusted time the booth saved before it stopped.
    pub last_trusted: Option<Timestamp>,
    /// How far the wall clock was from trusted time (wall − trusted) when the booth
    /// stopped, if the booth was keeping its own time then.
    pub gap_when_stopped: SignedDuration,
    pub event_starts: Option<Timestamp>,
    /// The event's end plus its time to live.
    pub event_expires: Option<Timestamp>,
}

/// Why a booth doubts the time it started with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartDoubt {
    /// The wall clock reads earlier than the program's build.
    BeforeBuild { built_at: Timestamp },
    /// The wall clock reads earlier than the booth's last run.
    BeforeLastRun { last_trusted: Timestamp },
    /// The laptop's clock was off when the booth stopped; the booth assumes it still is.
    OffWhenStopped { gap: SignedDuration },
    /// Weeks before the event starts.
    LongBeforeEvent { starts: Timestamp },
    /// After the event's end and its time to live.
    AfterEvent { expires: Timestamp },
}

/// A step of the wall clock: by how much (wall − trusted moved by `by`), seen when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub by: SignedDuration,
    /// Trusted time when the step was seen.
    pub at: Timestamp,
    /// The wall clock's reading after the step.
    pub wall: Timestamp,
}

/// What a second source's time did to the booth's doubt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing was in doubt; the source's offset is only a figure.
    NothingInDoubt,
    /// It agrees with the wall clock: the booth now trusts the wall clock.
    WallConfirmed,
    /// It agrees with the booth's trusted time: the laptop's clock is what is off.
    BoothTimeConfirmed,
    /// It agrees with neither; the doubt stays.
    Disagrees,
}

/// The booth's trusted time and its doubts.
#[derive(Debug, Clone)]
pub struct Timekeeper {
    anchor_wall: Timestamp,
    anchor_mono: Duration,
    /// wall − trusted that is accepted without doubt (non-zero once the booth keeps its
    /// own time against a laptop clock that is off).
    accepted_gap: SignedDuration,
    /// wall − trusted at the last look, to tell a new step from the same gap.
    last_gap: SignedDuration,
    start_doubt: Option<StartDoubt>,
}

impl Timekeeper {
    /// Anchored at the wall clock, doubting nothing: before the facts are known.
    pub fn at_wall(r: Reading) -> Timekeeper {
        Timekeeper {
            anchor_wall: r.wall,
            anchor_mono: r.mono,
            accepted_gap: SignedDuration::ZERO,
            last_gap: SignedDuration::ZERO,
            start_doubt: None,
        }
    }

    /// The booth's time at start: the wall clock (less the gap it had when the booth
    /// stopped, if it was off then), never earlier than the build or the last run; and
    /// the doubt, if any, that holds automations until it is settled.
    pub fn start(r: Reading, facts: &StartFacts) -> Timekeeper {
        let mut k = Timekeeper::at_wall(r);
        let mut time = r.wall;
        let mut doubt = None;
        if facts.gap_when_stopped.abs() > STEP_THRESHOLD {
            time = r.wall.saturating_sub(facts.gap_when_stopped).unwrap_or(r.wall);
            doubt = Some(StartDoubt::OffWhenStopped { gap: facts.gap_when_stopped });
        }
        if let Some(last) = facts.last_trusted {
            if time < last.saturating_sub(STEP_THRESHOLD).unwrap_or(last) {
                time = last;
                doubt = Some(StartDoubt::BeforeLastRun { last_trusted: last });
            }
        }
        if let Some(built) = facts.built_at {
            if time < built {
                time = built;
                doubt = Some(StartDoubt::BeforeBuild { built_at: built });
            }
        }
        if doubt.is_none() {
            if let Some(expires) = facts.event_expires.filter(|e| time > *e) {
                doubt = Some(StartDoubt::AfterEvent { expires });
            } else if let Some(starts) = facts
                .event_starts
                .filter(|s| time < s.saturating_sub(LONG_BEFORE_EVENT).unwrap_or(*s))
            {
                doubt = Some(StartDoubt::LongBeforeEvent { starts });
            }
        }
        k.anchor_wall = time;
        k.accepted_gap = r.wall.duration_since(time);
        k.last_gap = k.accepted_gap;
        k.start_doubt = doubt;
        k
    }

    /// Trusted time at reading `r`.
    pub fn trusted(&self, r: Reading) -> Timestamp {
        let elapsed = SignedDuration::try_from(r.mono).unwrap_or(SignedDuration::MAX)
            - SignedDuration::try_from(self.anchor_mono).unwrap_or(SignedDuration::MAX);
        self.anchor_wall.saturating_add(elapsed).unwrap_or(self.anchor_wall)
    }

    /// How far the wall clock is from trusted time (wall − trusted).
    pub fn gap(&self, r: Reading) -> SignedDuration {
        r.wall.duration_since(self.trusted(r))
    }

    /// Looks at the clock: answers a step if the wall clock jumped since the last look.
    /// While nothing is in doubt, trusted time follows the wall clock's small corrections.
    pub fn look(&mut self, r: Reading) -> Option<Step> {
        let gap = self.gap(r);
        let moved = gap - self.last_gap;
        self.last_gap = gap;
        if moved.abs() > STEP_THRESHOLD {
            return Some(Step { by: moved, at: self.trusted(r), wall: r.wall });
        }
        if !self.in_doubt(r) {
            self.anchor_wall = r.wall.saturating_sub(self.accepted_gap).unwrap_or(r.wall);
            self.anchor_mono = r.mono;
            self.last_gap = self.accepted_gap;
        }
        None
    }

    /// Whether the booth doubts the wall clock now: it disagrees with trusted time by
    /// more than the threshold, or the start's doubt is not settled.
    pub fn in_doubt(&self, r: Reading) -> bool {
        self.start_doubt.is_some() || (self.gap(r) - self.accepted_gap).abs() > STEP_THRESHOLD
    }

    /// Whether time-based automations wait: until the start's doubt is settled.
    pub fn holds_automations(&self) -> bool {
        self.start_doubt.is_some()
    }

    pub fn start_doubt(&self) -> Option<&StartDoubt> {
        self.start_doubt.as_ref()
    }

    /// A second source says it is `theirs` (to within `uncertainty`, e.g. half the round
    /// trip) at reading `r`. If it agrees with the wall clock, the booth trusts the wall
    /// clock; if with trusted time, the booth keeps its time and accepts the laptop's
    /// clock as off.
    pub fn witness(
        &mut self,
        r: Reading,
        theirs: Timestamp,
        uncertainty: SignedDuration,
    ) -> Verdict {
        if !self.in_doubt(r) {
            return Verdict::NothingInDoubt;
        }
        let within = AGREEMENT + uncertainty.abs();
        if theirs.duration_since(r.wall).abs() <= within {
            self.use_wall(r);
            Verdict::WallConfirmed
        } else if theirs.duration_since(self.trusted(r)).abs() <= within {
            self.keep_trusted(r);
            Verdict::BoothTimeConfirmed
        } else {
            Verdict::Disagrees
        }
    }

    /// The lead says the laptop's clock is right.
    pub fn use_wall(&mut self, r: Reading) {
        *self = Timekeeper::at_wall(r);
    }

    /// The lead (or a second source) says the booth's time is right and the laptop's
    /// clock is off by what it is off now.
    pub fn keep_trusted(&mut self, r: Reading) {
        self.accepted_gap = self.gap(r);
        self.last_gap = self.accepted_gap;
        self.start_doubt = None;
    }
}

/// Furthest another clock is believed to be from the booth's (a year): a time further
/// off is noise or an attack, and no arithmetic on it may go out of range.
pub const MAX_OFFSET: SignedDuration = SignedDuration::from_hours(366 * 24);

/// Another clock's offset from ours (theirs − ours, ms) from the time it stated
/// (`theirs_ms`) on an answer to a request sent at `sent_ms` and answered at `now_ms`
/// (all ms), assuming the answer was made halfway through the round trip. `None` when
/// the answer came before the question or the offset is beyond [`MAX_OFFSET`].
pub fn offset_ms(theirs_ms: i64, sent_ms: i64, now_ms: i64) -> Option<i64> {
    let rtt = now_ms.checked_sub(sent_ms).filter(|r| *r >= 0)?;
    let offset = theirs_ms.checked_sub(sent_ms.checked_add(rtt / 2)?)?;
    (u128::from(offset.unsigned_abs()) <= MAX_OFFSET.as_millis().unsigned_abs()).then_some(offset)
}

/// A span in words: "1 h 00 min", "3 min 20 s", "45 s", "2 days 4 h" (sign ignored).
pub fn span_words(d: SignedDuration) -> String {
    // To the nearest second: a step measured at 7,199,999 ms is "2 h 00 min".
    let s = (d.as_millis().unsigned_abs() + 500) / 1000;
    match s {
        s if s >= 2 * 86_400 => format!("{} days {} h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{} min {:02} s", s / 60, s % 60),
        s => format!("{s} s"),
    }
}

/// "forward 1 h 00 min", "back 3 min 00 s".
pub fn step_words(by: SignedDuration) -> String {
    format!("{} {}", if by.is_negative() { "back" } else { "forward" }, span_words(by))
}

/// "3 min 00 s ahead of", "12 s behind": how a clock stands against another.
pub fn offset_words(offset: SignedDuration) -> String {
    format!("{} {}", span_words(offset), if offset.is_negative() { "behind" } else { "ahead of" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const H: SignedDuration = SignedDuration::from_hours(1);

    #[test]
    fn a_step_either_way_is_seen_once_and_does_not_move_trusted_time() {
        let c = ManualClock::new(t("2026-06-10T16:00:00Z"));
        let mut k = Timekeeper::at_wall(Reading::of(&c));
        c.advance(SignedDuration::from_secs(10));
        assert_eq!(k.look(Reading::of(&c)), None);
        c.step_wall(H);
        let step = k.look(Reading::of(&c)).expect("a step");
        assert_eq!(step.by, H);
        assert_eq!(step.at, t("2026-06-10T16:00:10Z"));
        assert_eq!(k.look(Reading::of(&c)), None, "the same gap is not a new step");
        c.advance(SignedDuration::from_secs(50));
        assert_eq!(k.trusted(Reading::of(&c)), t("2026-06-10T16:01:00Z"));
        assert!(k.in_doubt(Reading::of(&c)));
        assert!(!k.holds_automations(), "a step alone holds nothing: time runs on trusted");
        // Put right: a step back, and no doubt left.
        c.step_wall(-H);
        assert_eq!(k.look(Reading::of(&c)).map(|s| s.by), Some(-H));
        assert!(!k.in_doubt(Reading::of(&c)));
        assert_eq!(k.trusted(Reading::of(&c)), c.now());
    }

    #[test]
    fn spans_read_as_words() {
        assert_eq!(step_words(H), "forward 1 h 00 min");
        assert_eq!(step_words(-SignedDuration::from_secs(200)), "back 3 min 20 s");
        assert_eq!(span_words(SignedDuration::from_secs(45)), "45 s");
        assert_eq!(offset_words(-SignedDuration::from_secs(180)), "3 min 00 s behind");
    }

    #[test]
    fn a_backward_step_does_not_turn_trusted_time_back() {
        let c = ManualClock::new(t("2026-06-10T16:00:00Z"));
        let mut k = Timekeeper::at_wall(Reading::of(&c));
        c.step_wall(-H);
        assert!(k.look(Reading::of(&c)).is_some());
        c.advance(SignedDuration::from_secs(1));
        assert_eq!(k.trusted(Reading::of(&c)), t("2026-06-10T16:00:01Z"));
    }

    #[test]
    fn small_corrections_are_followed_without_a_step() {
        let c = ManualClock::new(t("2026-06-10T16:00:00Z"));
        let mut k = Timekeeper::at_wall(Reading::of(&c));
        c.step_wall(SignedDuration::from_secs(2));
        assert_eq!(k.look(Reading::of(&c)), None);
        assert_eq!(k.trusted(Reading::of(&c)), c.now());
    }

    #[test]
    fn a_source_that_agrees_with_the_wall_clock_makes_it_trusted() {
        let c = ManualClock::new(t("2026-06-10T16:00:00Z"));
        let mut k = Timekeeper::at_wall(Reading::of(&c));
        c.step_wall(H);
        k.look(Reading::of(&c));
        let r = Reading::of(&c);
        assert_eq!(
            k.witness(r, t("2026-06-10T16:59:00Z"), SignedDuration::ZERO),
            Verdict::Disagrees
        );
        assert_eq!(
            k.witness(r, t("2026-06-10T17:00:02Z"), SignedDuration::ZERO),
            Verdict::WallConfirmed
        );
        assert_eq!(k.trusted(r), t("2026-06-10T17:00:00Z"));
        assert!(!k.in_doubt(r));
        assert_eq!(
            k.witness(r, t("2026-06-10T17:00:00Z"), SignedDuration::ZERO),
            Verdict::NothingInDoubt
        );
    }

    #[test]
    fn a_source_that_agrees_with_the_booth_settles_the_laptop_as_off() {
        let c = ManualClock::new(t("2026-06-10T16:00:00Z"));
        let mut k = Timekeeper::at_wall(Reading::of(&c));
        c.step_wall(H);
        k.look(Reading::of(&c));
        let r = Reading::of(&c);
        assert_eq!(
            k.witness(r, t("2026-06-10T16:00:01Z"), SignedDuration::ZERO),
            Verdict::BoothTimeConfirmed
        );
        assert!(!k.in_doubt(r));
        c.advance(SignedDuration::from_secs(30));
        assert_eq!(k.look(Reading::of(&c)), None, "the accepted gap is not a step");
        assert_eq!(k.trusted(Reading::of(&c)), t("2026-06-10T16:00:30Z"));
    }

    #[test]
    fn doubts_at_start_hold_automations_until_settled() {
        let c = ManualClock::new(t("2026-06-10T16:00:00Z"));
        let facts = StartFacts {
            built_at: Some(t("2026-01-01T00:00:00Z")),
            event_starts: Some(t("2026-06-10T08:00:00Z")),
            event_expires: Some(t("2026-06-11T18:00:00Z")),
            ..StartFacts::default()
        };
        let k = Timekeeper::start(Reading::of(&c), &facts);
        assert!(!k.holds_automations());
        assert_eq!(k.trusted(Reading::of(&c)), c.now());

        c.set(t("2020-01-01T00:00:00Z"));
        let mut k = Timekeeper::start(Reading::of(&c), &facts);
        assert_eq!(
            k.start_doubt(),
            Some(&StartDoubt::BeforeBuild { built_at: t("2026-01-01T00:00:00Z") })
        );
        assert_eq!(k.trusted(Reading::of(&c)), t("2026-01-01T00:00:00Z"), "never before the build");
        assert!(k.holds_automations());
        k.use_wall(Reading::of(&c));
        assert!(!k.holds_automations());

        c.set(t("2026-06-12T00:00:00Z"));
        let k = Timekeeper::start(Reading::of(&c), &facts);
        assert_eq!(
            k.start_doubt(),
            Some(&StartDoubt::AfterEvent { expires: t("2026-06-11T18:00:00Z") })
        );

        c.set(t("2026-04-01T00:00:00Z"));
        let k = Timekeeper::start(Reading::of(&c), &facts);
        assert!(matches!(k.start_doubt(), Some(StartDoubt::LongBeforeEvent { .. })));

        c.set(t("2026-06-10T15:00:00Z"));
        let last = StartFacts { last_trusted: Some(t("2026-06-10T16:00:00Z")), ..facts.clone() };
        let k = Timekeeper::start(Reading::of(&c), &last);
        assert_eq!(
            k.trusted(Reading::of(&c)),
            t("2026-06-10T16:00:00Z"),
            "never before the last run"
        );
        assert!(k.holds_automations());
    }

    #[test]
    fn a_laptop_off_when_the_booth_stopped_is_assumed_off_after_a_restart() {
        let c = ManualClock::new(t("2026-06-10T17:00:00Z"));
        let facts = StartFacts { gap_when_stopped: H, ..StartFacts::default() };
        let mut k = Timekeeper::start(Reading::of(&c), &facts);
        assert_eq!(k.trusted(Reading::of(&c)), t("2026-06-10T16:00:00Z"));
        assert!(k.holds_automations());
        assert_eq!(k.look(Reading::of(&c)), None, "the known gap is not a step");
        let r = Reading::of(&c);
        assert_eq!(
            k.witness(r, t("2026-06-10T16:00:00Z"), SignedDuration::ZERO),
            Verdict::BoothTimeConfirmed
        );
        assert!(!k.holds_automations());
    }

    #[test]
    fn an_offset_is_measured_from_the_middle_of_the_round_trip_and_bounded() {
        // Asked at 1000, answered at 1200: they stated 181_100, made at ~1100.
        assert_eq!(offset_ms(181_100, 1_000, 1_200), Some(180_000));
        assert_eq!(offset_ms(-400, 1_000, 1_000), Some(-1_400), "behind is negative");
        assert_eq!(offset_ms(5_000, 1_000, 900), None, "an answer before its question");
        let year = MAX_OFFSET.as_millis() as i64;
        assert_eq!(offset_ms(year + 2_000, 1_000, 1_000), None, "beyond a year is noise");
        assert_eq!(offset_ms(i64::MAX, 1_000, 1_000), None);
        assert_eq!(offset_ms(i64::MIN, 1_000, 1_000), None);
    }
}
