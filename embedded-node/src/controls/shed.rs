//! Shedding: which of the booth's non-essential route groups the current degrade level
//! pauses, and for how long clients are told to wait.
//!
//! Owns: the gate's state, set by the controls when a level is applied. The HTTP edge
//! asks it on the sheddable routers only (uploads, clips, `/metrics`, charts), so quotes,
//! orders and the storefront cannot be shed by construction. Never: answers a request
//! itself.

use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use boothcloud_core::manifest::{DegradeLevel, Sheddable};

#[derive(Default)]
pub struct ShedGate {
    /// One bit per `Sheddable`.
    mask: AtomicU8,
    retry_after_s: AtomicU32,
    level: Mutex<Arc<str>>,
}

/// Why a request for a paused group is refused, for the words of the refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub level: Arc<str>,
    pub what: Sheddable,
    pub retry_after_s: u32,
}

impl ShedGate {
    pub fn set(&self, level: &DegradeLevel) {
        *self.level.lock().unwrap_or_else(|e| e.into_inner()) = level.name.as_str().into();
        self.retry_after_s
            .store(level.retry_after.as_secs().clamp(1, 3600) as u32, Ordering::Relaxed);
        self.mask.store(level.shed.iter().fold(0, |m, s| m | s.bit()), Ordering::Release);
    }

    pub fn sheds(&self, what: Sheddable) -> bool {
        self.mask.load(Ordering::Acquire) & what.bit() != 0
    }

    /// `Some` while `what` is paused.
    pub fn paused(&self, what: Sheddable) -> Option<Pause> {
        if !self.sheds(what) {
            return None;
        }
        Some(Pause {
            level: self.level.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            what,
            retry_after_s: self.retry_after_s.load(Ordering::Relaxed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_named_groups_are_paused_and_the_gate_says_when_to_come_back() {
        let gate = ShedGate::default();
        assert!(
            Sheddable::ALL.iter().all(|s| gate.paused(*s).is_none()),
            "nothing is shed at first"
        );
        let level = DegradeLevel {
            name: "essential".into(),
            shed: vec![Sheddable::Uploads, Sheddable::Charts],
            retry_after: jiff::SignedDuration::from_secs(45),
            ..DegradeLevel::normal()
        };
        gate.set(&level);
        let paused = gate.paused(Sheddable::Uploads).unwrap();
        assert_eq!((&*paused.level, paused.retry_after_s), ("essential", 45));
        assert!(gate.paused(Sheddable::Charts).is_some());
        assert!(
            gate.paused(Sheddable::Metrics).is_none() && gate.paused(Sheddable::Clips).is_none()
        );
        gate.set(&DegradeLevel::normal());
        assert!(
            Sheddable::ALL.iter().all(|s| gate.paused(*s).is_none()),
            "back to normal sheds nothing"
        );
    }
}
