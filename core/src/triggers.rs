//! When a runbook's trigger fires: a pure function of the booth's figures and the time,
//! so it is tested with an injected clock and made-up figures.
//!
//! A trigger fires once when its condition has held long enough, then not again until
//! the condition has cleared and the runbook's cooldown has passed — a p99 hovering
//! around its threshold runs the runbook once, not every second.

use jiff::{SignedDuration, Timestamp};

use crate::manifest::Trigger;

/// Fewest requests a route needs in the last minute for its p99 to count: one slow
/// request in a quiet minute is not a slow booth.
pub const MIN_REQUESTS_FOR_P99: u64 = 20;

/// What the triggers look at, read once a second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signals {
    pub now: Timestamp,
    /// The slowest customer route's p99 over the last minute (routes with enough requests).
    pub p99: Option<SignedDuration>,
    pub uplink_down_since: Option<Timestamp>,
    /// Since when some printer has needed a person (none while every printer is well).
    pub printer_attention_since: Option<Timestamp>,
    /// Total spend as a percent of the total budget, when there is one.
    pub budget_percent: Option<f64>,
    pub ends_at: Timestamp,
    /// The booth doubts its time (see `timekeeping`): triggers that read the time of day
    /// (`at`, `before end`) wait.
    pub time_held: bool,
}

/// One runbook's trigger state.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Arming {
    /// Since when the condition has held (unbroken).
    pub holding_since: Option<Timestamp>,
    /// Fired during this stretch of the condition holding.
    pub spent: bool,
    pub last_fired: Option<Timestamp>,
}

/// Whether the condition holds now; `None` for a manual runbook.
pub fn condition(trigger: &Trigger, s: &Signals) -> Option<bool> {
    Some(match trigger {
        Trigger::Manual => return None,
        Trigger::P99 { over, .. } => s.p99.is_some_and(|p| p > *over),
        Trigger::UplinkDown { held } => {
            s.uplink_down_since.is_some_and(|since| s.now.duration_since(since) >= *held)
        }
        Trigger::PrinterAttention { held } => {
            s.printer_attention_since.is_some_and(|since| s.now.duration_since(since) >= *held)
        }
        Trigger::Budget { percent } => s.budget_percent.is_some_and(|p| p >= f64::from(*percent)),
        Trigger::BeforeEnd(_) | Trigger::At(_) if s.time_held => false,
        Trigger::BeforeEnd(before) => s.now >= s.ends_at - *before && s.now < s.ends_at,
        Trigger::At(at) => s.now >= *at,
    })
}

/// Advances `arming` to `s.now`; true when the runbook is to run now.
pub fn due(trigger: &Trigger, s: &Signals, arming: &mut Arming, cooldown: SignedDuration) -> bool {
    let Some(holds) = condition(trigger, s) else { return false };
    if !holds {
        arming.holding_since = None;
        arming.spent = false;
        return false;
    }
    let since = *arming.holding_since.get_or_insert(s.now);
    let must_hold = match trigger {
        Trigger::P99 { held, .. } => *held,
        _ => SignedDuration::ZERO,
    };
    if arming.spent || s.now.duration_since(since) < must_hold {
        return false;
    }
    if arming.last_fired.is_some_and(|last| s.now.duration_since(last) < cooldown) {
        return false;
    }
    arming.spent = true;
    arming.last_fired = Some(s.now);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::controls::parse_trigger;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_780_000_000 + s).unwrap()
    }

    fn quiet(now: Timestamp) -> Signals {
        Signals {
            now,
            p99: None,
            uplink_down_since: None,
            printer_attention_since: None,
            budget_percent: None,
            ends_at: at(100_000),
            time_held: false,
        }
    }

    fn ms(n: i64) -> Option<SignedDuration> {
        Some(SignedDuration::from_millis(n))
    }

    /// Feeds one signal a second from `from` to `to` (inclusive) and answers the seconds
    /// at which the runbook ran.
    fn play(
        trigger: &str,
        cooldown_s: i64,
        from: i64,
        to: i64,
        signal: impl Fn(i64) -> Signals,
    ) -> Vec<i64> {
        let trigger = parse_trigger(trigger).unwrap();
        let mut arming = Arming::default();
        (from..=to)
            .filter(|&t| {
                due(&trigger, &signal(t), &mut arming, SignedDuration::from_secs(cooldown_s))
            })
            .collect()
    }

    #[test]
    fn p99_fires_once_after_holding_for_its_time_and_again_only_after_clearing_and_cooldown() {
        // Slow from t=10 to t=100, fine until 130, slow again from 130 to 300.
        let slow = |t: i64| (10..=100).contains(&t) || t >= 130;
        let fired = play("p99 over 800ms for 30s", 60, 0, 300, |t| Signals {
            p99: if slow(t) { ms(950) } else { ms(120) },
            ..quiet(at(t))
        });
        // Held 30 s from t=10 → fires at 40; cleared at 101; held again from 130 → 160
        // (100 s after the last run, past the 60 s cooldown).
        assert_eq!(fired, [40, 160]);
    }

    #[test]
    fn a_p99_that_dips_below_the_threshold_starts_the_hold_again() {
        // Slow every second except t=25: the 30 s hold restarts at 26.
        let fired = play("p99 over 800ms for 30s", 60, 0, 100, |t| Signals {
            p99: if t == 25 { ms(100) } else { ms(900) },
            ..quiet(at(t))
        });
        assert_eq!(fired, [56]);
    }

    #[test]
    fn the_cooldown_holds_back_a_condition_that_flaps() {
        // Slow for 5 s out of every 10, held 1 s: it would run every 10 s, but the
        // cooldown of 60 s lets it run at 1, 61 and 121 only.
        let fired = play("p99 over 1ms for 1s", 60, 0, 125, |t| Signals {
            p99: if t % 10 < 5 { ms(5) } else { None },
            ..quiet(at(t))
        });
        assert_eq!(fired, [1, 61, 121]);
    }

    #[test]
    fn no_figures_is_not_slow() {
        assert!(play("p99 over 800ms for 1s", 60, 0, 100, |t| quiet(at(t))).is_empty());
    }

    #[test]
    fn uplink_down_counts_from_when_the_link_went_down() {
        // Down since t=50 (the watch says so), looked at every second.
        let fired = play("uplink down for 2m", 300, 0, 400, |t| Signals {
            uplink_down_since: (t >= 50).then(|| at(50)),
            ..quiet(at(t))
        });
        assert_eq!(fired, [170]);
    }

    #[test]
    fn a_printer_needing_a_person_fires_once_per_stretch_after_its_time() {
        // Out of paper from t=10 to t=200 (fixed at 201), again from t=400.
        let fired = play("printer needs attention for 1m", 60, 0, 600, |t| Signals {
            printer_attention_since: match t {
                10..=200 => Some(at(10)),
                400.. => Some(at(400)),
                _ => None,
            },
            ..quiet(at(t))
        });
        assert_eq!(fired, [70, 460]);
    }

    #[test]
    fn budget_and_end_time_triggers() {
        let fired = play("budget 90%", 300, 0, 100, |t| Signals {
            budget_percent: Some(t as f64),
            ..quiet(at(t))
        });
        assert_eq!(fired, [90]);
        // 15 minutes before the end, once; not after the end.
        let fired = play("before end 15m", 60, 99_000, 100_500, |t| quiet(at(t)));
        assert_eq!(fired, [100_000 - 900]);
        let fired = play("before end 15m", 60, 100_001, 100_500, |t| quiet(at(t)));
        assert!(fired.is_empty());
        // While the booth doubts its time, a time-of-day trigger waits; once settled, it fires.
        let fired = play("before end 15m", 60, 99_000, 100_500, |t| Signals {
            time_held: t < 99_500,
            ..quiet(at(t))
        });
        assert_eq!(fired, [99_500]);
    }

    #[test]
    fn manual_runbooks_never_fire_by_themselves() {
        let trigger = parse_trigger("manual").unwrap();
        let loud = Signals {
            p99: ms(60_000),
            uplink_down_since: Some(at(0)),
            printer_attention_since: Some(at(0)),
            budget_percent: Some(500.0),
            ..quiet(at(10_000))
        };
        assert_eq!(condition(&trigger, &loud), None);
        assert!(!due(&trigger, &loud, &mut Arming::default(), SignedDuration::ZERO));
    }
}
