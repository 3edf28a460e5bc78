//! The flood guard: a LAN that announces new names far faster than any booth's devices
//! do — a misbehaving device, a hostile one, a venue network with thousands of
//! services — must not make the node spin.
//!
//! Owns, per service type browsed, how many new names it brought in the current
//! window, and whether browsing that type is paused. Pure: time comes in as
//! milliseconds, and the caller stops and starts the browsers.
//!
//! Why pausing is the remedy: mdns-sd walks its whole record cache after every packet
//! it takes in (refreshes, expiry), so its cost is the records it holds times the
//! packets a second. Measured (`bench/discovery.sh`): 3,750 flooded names at 1,000
//! packets a second kept its thread at 100% of a core, long after the inventory was
//! full. Stopping the browse for the flooding type drops that type's records from the
//! cache; the packets that keep coming are read and dropped as "not asked for", which is
//! cheap. The other types — booths, printers — keep being browsed, unless they flood too.
//!
//! Rules: more than [`FLOOD_NAMES`] new names of one type within [`WINDOW_MS`] pauses
//! that type for [`FIRST_PAUSE_MS`], doubling for each pause that follows a pause (a
//! flood still going when browsing resumes), up to [`LONGEST_PAUSE_MS`]; a full window
//! after a resume without a flood forgives the past. What a booth legitimately brings
//! at once — every device on the LAN answering the node's first query — stays well
//! under the limit (the inventory holds at most `max_devices`, 512 by default).

use std::collections::BTreeMap;

/// New names of one type within one window that make a flood.
pub const FLOOD_NAMES: u32 = 256;
pub const WINDOW_MS: i64 = 10_000;
pub const FIRST_PAUSE_MS: i64 = 60_000;
pub const LONGEST_PAUSE_MS: i64 = 600_000;

#[derive(Debug, Default)]
struct TypeState {
    window_start_ms: i64,
    new_names: u32,
    paused_until_ms: Option<i64>,
    /// Pauses in a row (each one after a resume that flooded again).
    strikes: u32,
    /// New names in the window that tripped the last pause.
    flood_names: u32,
}

/// A type whose browsing is paused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PausedType {
    pub service_type: String,
    pub until_ms: i64,
    /// The new names it brought in the window that tripped the guard.
    pub names: u32,
}

#[derive(Debug, Default)]
pub struct FloodGuard {
    types: BTreeMap<String, TypeState>,
}

impl FloodGuard {
    /// A new name of `ty` came in at `now_ms`. `Some(until)` when this trips the guard:
    /// the caller stops browsing `ty` until then.
    pub fn new_name(&mut self, ty: &str, now_ms: i64) -> Option<i64> {
        let state = match self.types.get_mut(ty) {
            Some(s) => s,
            // Bounded: only the types the node browses ever come here.
            None => self
                .types
                .entry(ty.to_owned())
                .or_insert_with(|| TypeState { window_start_ms: now_ms, ..TypeState::default() }),
        };
        if state.paused_until_ms.is_some() {
            // Stragglers already on their way when browsing stopped.
            return None;
        }
        if now_ms - state.window_start_ms >= WINDOW_MS {
            if state.new_names <= FLOOD_NAMES {
                state.strikes = 0;
            }
            state.window_start_ms = now_ms;
            state.new_names = 0;
        }
        state.new_names += 1;
        if state.new_names <= FLOOD_NAMES {
            return None;
        }
        let pause = (FIRST_PAUSE_MS << state.strikes.min(4)).min(LONGEST_PAUSE_MS);
        let until = now_ms + pause;
        state.paused_until_ms = Some(until);
        state.strikes += 1;
        state.flood_names = state.new_names;
        Some(until)
    }

    /// Types whose pause is over at `now_ms`: the caller browses them again. Their
    /// count starts afresh; a flood that goes on trips a longer pause.
    pub fn due(&mut self, now_ms: i64) -> Vec<String> {
        let mut due = Vec::new();
        for (ty, state) in &mut self.types {
            if state.paused_until_ms.is_some_and(|until| now_ms >= until) {
                state.paused_until_ms = None;
                state.window_start_ms = now_ms;
                state.new_names = 0;
                due.push(ty.clone());
            }
        }
        due
    }

    pub fn is_paused(&self, ty: &str) -> bool {
        self.types.get(ty).is_some_and(|s| s.paused_until_ms.is_some())
    }

    /// Every paused type, in name order.
    pub fn paused(&self) -> Vec<PausedType> {
        self.types
            .iter()
            .filter_map(|(ty, s)| {
                s.paused_until_ms.map(|until_ms| PausedType {
                    service_type: ty.clone(),
                    until_ms,
                    names: s.flood_names,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTTP: &str = "_http._tcp";

    /// `n` new names of `ty`, one a millisecond from `at`; the first trip, if any.
    fn names(g: &mut FloodGuard, ty: &str, n: u32, at: i64) -> Option<i64> {
        (0..n).find_map(|i| g.new_name(ty, at + i64::from(i)))
    }

    #[test]
    fn a_busy_lan_answering_at_once_is_no_flood() {
        let mut g = FloodGuard::default();
        assert_eq!(names(&mut g, HTTP, FLOOD_NAMES, 0), None);
        // The next window starts afresh.
        assert_eq!(names(&mut g, HTTP, FLOOD_NAMES, WINDOW_MS), None);
        assert!(g.paused().is_empty());
    }

    #[test]
    fn a_flood_pauses_only_its_own_type() {
        let mut g = FloodGuard::default();
        let until = names(&mut g, HTTP, FLOOD_NAMES + 1, 1_000).expect("tripped");
        assert_eq!(until, 1_000 + i64::from(FLOOD_NAMES) + FIRST_PAUSE_MS);
        assert!(g.is_paused(HTTP));
        assert!(!g.is_paused("_ipp._tcp"));
        assert_eq!(g.new_name("_ipp._tcp", 2_000), None);
        assert_eq!(
            g.paused(),
            vec![PausedType { service_type: HTTP.into(), until_ms: until, names: FLOOD_NAMES + 1 }]
        );
        // Names still arriving while paused change nothing.
        assert_eq!(names(&mut g, HTTP, 1_000, 3_000), None);
        assert!(g.due(until - 1).is_empty());
        assert_eq!(g.due(until), vec![HTTP.to_owned()]);
        assert!(!g.is_paused(HTTP));
    }

    #[test]
    fn a_flood_that_goes_on_is_paused_longer_and_then_forgiven() {
        let mut g = FloodGuard::default();
        let mut now = 0;
        let mut pauses = Vec::new();
        for _ in 0..6 {
            let until = names(&mut g, HTTP, FLOOD_NAMES + 1, now).expect("tripped");
            pauses.push(until - (now + i64::from(FLOOD_NAMES)));
            now = until;
            assert_eq!(g.due(now), vec![HTTP.to_owned()]);
        }
        assert_eq!(pauses, vec![60_000, 120_000, 240_000, 480_000, 600_000, 600_000]);
        // Quiet for a whole window after the resume: the next flood is a first one again.
        assert_eq!(names(&mut g, HTTP, 10, now), None);
        now += WINDOW_MS;
        let until = names(&mut g, HTTP, FLOOD_NAMES + 1, now).expect("tripped");
        assert_eq!(until - (now + i64::from(FLOOD_NAMES)), FIRST_PAUSE_MS);
    }
}
