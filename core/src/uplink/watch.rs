//! Whether the uplink works, decided with hysteresis so a flapping link does not flap
//! the booth's mode.
//!
//! Owns: the up/down decision from probe results (pure, time passed in). A link that
//! was up is declared down after `down_after` failures in a row; a link that was down
//! is declared up only after `up_after` successes in a row — never on the first
//! answer, which is the trap that leaves point-of-sale systems stuck: a link that
//! answers once between drops is not back. At start nothing is known; the first
//! answer decides.

use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LinkHealth {
    /// No probe has answered or failed enough yet.
    Checking,
    Up,
    Down,
}

#[derive(Debug, Clone)]
pub struct LinkWatch {
    health: LinkHealth,
    /// Results in a row that disagree with `health`.
    streak: u32,
    since: Timestamp,
    /// The last failure, in words.
    pub last_error: Option<String>,
    pub last_ok: Option<Timestamp>,
    pub rtt_ms: Option<f64>,
    /// How often the health changed since the node started.
    pub changes: u64,
}

impl LinkWatch {
    pub fn new(now: Timestamp) -> LinkWatch {
        LinkWatch {
            health: LinkHealth::Checking,
            streak: 0,
            since: now,
            last_error: None,
            last_ok: None,
            rtt_ms: None,
            changes: 0,
        }
    }

    pub fn health(&self) -> LinkHealth {
        self.health
    }

    pub fn since(&self) -> Timestamp {
        self.since
    }

    /// Whether a failure streak has begun on a link still counted as up (the caller
    /// probes again sooner to confirm).
    pub fn wavering(&self) -> bool {
        self.health != LinkHealth::Down && self.streak > 0
    }

    /// Takes one probe result; returns the new health when it changed.
    pub fn observe(
        &mut self,
        result: Result<f64, String>,
        down_after: u32,
        up_after: u32,
        now: Timestamp,
    ) -> Option<LinkHealth> {
        let next = match (&result, self.health) {
            (Ok(_), LinkHealth::Checking | LinkHealth::Up) => {
                self.streak = 0;
                LinkHealth::Up
            }
            (Ok(_), LinkHealth::Down) => {
                self.streak += 1;
                if self.streak >= up_after {
                    LinkHealth::Up
                } else {
                    LinkHealth::Down
                }
            }
            (Err(_), LinkHealth::Down) => {
                self.streak = 0;
                LinkHealth::Down
            }
            (Err(_), LinkHealth::Checking | LinkHealth::Up) => {
                self.streak += 1;
                if self.streak >= down_after {
                    LinkHealth::Down
                } else {
                    self.health
                }
            }
        };
        match result {
            Ok(rtt) => {
                self.last_ok = Some(now);
                self.rtt_ms = Some(rtt);
            }
            Err(e) => self.last_error = Some(e),
        }
        if next == self.health {
            return None;
        }
        self.health = next;
        self.streak = 0;
        self.since = now;
        self.changes += 1;
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn the_first_answer_decides_at_start() {
        let mut w = LinkWatch::new(at(0));
        assert_eq!(w.observe(Ok(3.0), 2, 3, at(1)), Some(LinkHealth::Up));
        let mut w = LinkWatch::new(at(0));
        assert_eq!(w.observe(Err("refused".into()), 2, 3, at(1)), None);
        assert_eq!(w.observe(Err("refused".into()), 2, 3, at(2)), Some(LinkHealth::Down));
    }

    #[test]
    fn down_after_failures_in_a_row_and_up_only_after_successes_in_a_row() {
        let mut w = LinkWatch::new(at(0));
        w.observe(Ok(1.0), 2, 3, at(0));
        assert_eq!(
            w.observe(Err("timeout".into()), 2, 3, at(1)),
            None,
            "one failure is not an outage"
        );
        assert!(w.wavering());
        assert_eq!(w.observe(Ok(1.0), 2, 3, at(2)), None, "a success resets the streak");
        assert!(!w.wavering());
        w.observe(Err("timeout".into()), 2, 3, at(3));
        assert_eq!(w.observe(Err("timeout".into()), 2, 3, at(4)), Some(LinkHealth::Down));
        assert_eq!(w.since(), at(4));
        assert_eq!(w.last_error.as_deref(), Some("timeout"));
        // A link that answers once between drops is not back.
        assert_eq!(w.observe(Ok(1.0), 2, 3, at(5)), None);
        assert_eq!(w.observe(Ok(1.0), 2, 3, at(6)), None);
        assert_eq!(w.observe(Err("timeout".into()), 2, 3, at(7)), None);
        assert_eq!(w.observe(Ok(1.0), 2, 3, at(8)), None);
        assert_eq!(w.observe(Ok(1.0), 2, 3, at(9)), None);
        assert_eq!(w.observe(Ok(1.0), 2, 3, at(10)), Some(LinkHealth::Up));
        assert_eq!(w.changes, 3);
    }

    #[test]
    fn a_link_flapping_faster_than_the_hysteresis_keeps_one_mode() {
        let mut w = LinkWatch::new(at(0));
        w.observe(Err("x".into()), 2, 3, at(0));
        w.observe(Err("x".into()), 2, 3, at(1));
        let changes = w.changes;
        for i in 0..100 {
            let r = if i % 2 == 0 { Ok(1.0) } else { Err("x".into()) };
            w.observe(r, 2, 3, at(2 + i));
        }
        assert_eq!(w.health(), LinkHealth::Down);
        assert_eq!(w.changes, changes, "alternating answers never bring it back");
    }
}
