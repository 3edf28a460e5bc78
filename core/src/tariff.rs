//! The arithmetic of spend: metered usage × the manifest's rates → money, and money
//! against a budget. Pure functions only, so every case can be checked by hand.
//!
//! Spend is kept in **micro-minor units** (a millionth of the currency's minor unit,
//! e.g. a millionth of a cent) so that a single edge execution at 2 cents per 1,000
//! (2,000 micro-cents) is counted exactly, and rounded half up to minor units only
//! when it is shown. Integer arithmetic throughout, in `i128` where a product could
//! leave `i64`.

use serde::Serialize;

use crate::manifest::{Budgets, CostModel};
use crate::money::Minor;

/// Micro-minor units in one minor unit.
pub const MICRO: i64 = 1_000_000;

/// What costs money at a booth, each with its own meter, rate and budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// Requests the node answered: each replaces an edge-function execution.
    Edge,
    /// Bytes fetched from the origin or upstream.
    Egress,
    /// Milliseconds of media transcoded.
    Transcode,
    /// Calls the node made to the origin or the upstream services.
    Upstream,
}

impl Component {
    pub const ALL: [Component; 4] =
        [Component::Edge, Component::Egress, Component::Transcode, Component::Upstream];

    pub fn name(self) -> &'static str {
        match self {
            Component::Edge => "edge",
            Component::Egress => "egress",
            Component::Transcode => "transcode",
            Component::Upstream => "upstream",
        }
    }

    pub fn parse(name: &str) -> Option<Component> {
        Component::ALL.into_iter().find(|c| c.name() == name)
    }

    /// What staff read on the screen.
    pub fn label(self) -> &'static str {
        match self {
            Component::Edge => "Requests served",
            Component::Egress => "Data from the origin",
            Component::Transcode => "Video transcoding",
            Component::Upstream => "Calls to upstream",
        }
    }

    /// The unit the meter counts in.
    pub fn unit(self) -> &'static str {
        match self {
            Component::Edge => "executions",
            Component::Egress => "bytes",
            Component::Transcode => "milliseconds",
            Component::Upstream => "calls",
        }
    }

    /// What the manifest's rate is per.
    pub fn rate_unit(self) -> &'static str {
        match self {
            Component::Edge => "per 1,000 executions",
            Component::Egress => "per GB (10^9 bytes)",
            Component::Transcode => "per minute",
            Component::Upstream => "per 1,000 calls",
        }
    }

    pub fn rate(self, costs: &CostModel) -> Option<Minor> {
        match self {
            Component::Edge => costs.edge_per_1k_executions,
            Component::Egress => costs.egress_per_gb,
            Component::Transcode => costs.transcode_per_minute,
            Component::Upstream => costs.upstream_per_1k_calls,
        }
    }

    pub fn budget(self, budgets: &Budgets) -> Option<Minor> {
        match self {
            Component::Edge => budgets.edge,
            Component::Egress => budgets.egress,
            Component::Transcode => budgets.transcode,
            Component::Upstream => budgets.upstream,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// The cost of `usage` (in the component's unit) at `rate` minor units (per the
/// component's rate unit), in micro-minor units, rounded down to the micro-minor.
pub fn cost_micro(component: Component, usage: u64, rate: Minor) -> i64 {
    let (u, r) = (i128::from(usage), i128::from(rate.max(0)));
    let micro = match component {
        // rate / 1,000 minor per unit = rate × 1,000 micro-minor per unit.
        Component::Edge | Component::Upstream => u * r * 1_000,
        // rate per 10^9 bytes = rate × 10^6 / 10^9 micro-minor per byte.
        Component::Egress => u * r / 1_000,
        // rate per 60,000 ms = rate × 10^6 / 60,000 micro-minor per ms.
        Component::Transcode => u * r * 100 / 6,
    };
    micro.min(i128::from(i64::MAX)) as i64
}

/// Micro-minor units shown as minor units, rounded half up.
pub fn to_minor(micro: i64) -> Minor {
    micro.saturating_add(MICRO / 2).div_euclid(MICRO)
}

/// Where spend stands against a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BudgetState {
    /// No budget is set for this.
    Unbudgeted,
    Ok,
    /// At or past the warning share of the budget, or projected to pass the budget by
    /// the event's end.
    Warn,
    /// The budget is spent.
    Over,
}

/// Spend so far, the burn rate and the budget → the state and its reason in words.
pub fn judge(
    spent_micro: i64,
    projected_micro: Option<i64>,
    budget: Option<Minor>,
    warn_at_percent: u32,
) -> (BudgetState, String) {
    let Some(budget) = budget else {
        return (BudgetState::Unbudgeted, "No budget is set.".into());
    };
    let budget_micro = i128::from(budget) * i128::from(MICRO);
    let spent = i128::from(spent_micro);
    if spent >= budget_micro {
        return (BudgetState::Over, "The budget is spent.".into());
    }
    if spent * 100 >= budget_micro * i128::from(warn_at_percent) {
        return (BudgetState::Warn, format!("{warn_at_percent}% or more of the budget is spent."));
    }
    if let Some(projected) = projected_micro {
        if i128::from(projected) > budget_micro {
            let share = i128::from(projected) * 100 / budget_micro.max(1);
            return (
                BudgetState::Warn,
                format!("At this rate the event ends at {share}% of the budget."),
            );
        }
    }
    (BudgetState::Ok, "Within budget.".into())
}

/// Spend per second over a span: `(earlier, now)` as `(unix seconds, micro-minor)`.
/// `None` when the span is under a minute (too little to project from).
pub fn burn_per_second(earlier: (i64, i64), now: (i64, i64)) -> Option<f64> {
    let span = now.0 - earlier.0;
    (span >= 60).then(|| (now.1 - earlier.1).max(0) as f64 / span as f64)
}

/// Spend by the event's end at the current burn rate. After the end it is what was spent.
pub fn project(spent_micro: i64, burn_per_second: f64, now_s: i64, ends_at_s: i64) -> i64 {
    let remaining = (ends_at_s - now_s).max(0) as f64;
    let more = (burn_per_second * remaining).min(i64::MAX as f64 / 2.0) as i64;
    spent_micro.saturating_add(more)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_match_hand_computed_cases() {
        // 2 minor per 1,000 executions: 1 execution = 2,000 µ; 12,345 = 24.69 minor.
        assert_eq!(cost_micro(Component::Edge, 1, 2), 2_000);
        assert_eq!(cost_micro(Component::Edge, 12_345, 2), 24_690_000);
        assert_eq!(to_minor(24_690_000), 25);
        // 9 minor per GB: 1 GB = 9 minor, 1 MB = 0.009 minor = 9,000 µ, 1 byte rounds down to 0.
        assert_eq!(cost_micro(Component::Egress, 1_000_000_000, 9), 9 * MICRO);
        assert_eq!(cost_micro(Component::Egress, 1_000_000, 9), 9_000);
        assert_eq!(cost_micro(Component::Egress, 1, 9), 0);
        // 1 minor per minute: 90 s = 1.5 minor; 1 ms = 16.67 µ → 16.
        assert_eq!(cost_micro(Component::Transcode, 90_000, 1), 1_500_000);
        assert_eq!(cost_micro(Component::Transcode, 1, 1), 16);
        // 4 minor per 1,000 calls: 250 calls = 1 minor.
        assert_eq!(cost_micro(Component::Upstream, 250, 4), MICRO);
        // A rate of zero costs nothing; enormous usage saturates instead of wrapping.
        assert_eq!(cost_micro(Component::Edge, 1_000_000, 0), 0);
        assert_eq!(cost_micro(Component::Edge, u64::MAX, 1_000_000_000), i64::MAX);
    }

    #[test]
    fn minor_units_round_half_up() {
        assert_eq!(to_minor(0), 0);
        assert_eq!(to_minor(499_999), 0);
        assert_eq!(to_minor(500_000), 1);
        assert_eq!(to_minor(1_499_999), 1);
        assert_eq!(to_minor(1_500_000), 2);
        assert_eq!(to_minor(i64::MAX), i64::MAX / MICRO);
    }

    #[test]
    fn states_follow_the_budget_the_warning_share_and_the_projection() {
        let m = MICRO;
        assert_eq!(judge(5 * m, None, None, 80).0, BudgetState::Unbudgeted);
        assert_eq!(judge(79 * m, None, Some(100), 80).0, BudgetState::Ok);
        assert_eq!(judge(80 * m, None, Some(100), 80).0, BudgetState::Warn);
        assert_eq!(judge(100 * m - 1, None, Some(100), 80).0, BudgetState::Warn);
        assert_eq!(judge(100 * m, None, Some(100), 80).0, BudgetState::Over);
        // Well under the warning share, but the burn rate would pass the budget.
        let (state, why) = judge(10 * m, Some(125 * m), Some(100), 80);
        assert_eq!(state, BudgetState::Warn);
        assert_eq!(why, "At this rate the event ends at 125% of the budget.");
        assert_eq!(judge(10 * m, Some(100 * m), Some(100), 80).0, BudgetState::Ok);
        assert_eq!(judge(0, Some(0), Some(0), 80).0, BudgetState::Over);
    }

    #[test]
    fn burn_and_projection() {
        assert_eq!(burn_per_second((0, 0), (59, 1_000)), None);
        // 6 minor in 10 minutes → 0.01 minor/s; 2 hours left → 72 more minor.
        let burn = burn_per_second((0, 0), (600, 6 * MICRO)).unwrap();
        assert_eq!(burn, 10_000.0);
        assert_eq!(project(6 * MICRO, burn, 600, 600 + 7_200), 78 * MICRO);
        // After the end nothing more is projected.
        assert_eq!(project(6 * MICRO, burn, 9_000, 8_000), 6 * MICRO);
    }

    #[test]
    fn names_round_trip() {
        for c in Component::ALL {
            assert_eq!(Component::parse(c.name()), Some(c));
            assert_eq!(Component::ALL[c.index()], c);
        }
    }
}
