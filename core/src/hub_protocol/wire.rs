//! What booths and the hub say to each other: an order as the hub stores it, a batch
//! and its per-order answer, and a booth's report. Shared by both sides so they cannot
//! drift apart.
//!
//! The hub checks an order's arithmetic (lines, subtotal, discount, total) and refuses
//! a bad one for good, with a reason the booth shows its staff; contact details never
//! leave the booth (they are wiped at teardown).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::signing::quote::TokenLine;

/// Most orders in one batch, and the largest batch body the hub reads.
pub const MAX_BATCH_ORDERS: usize = 1000;
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Most lines in one order the hub accepts.
pub const MAX_LINES: usize = 500;

/// One order on its way upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HubOrder {
    pub order_id: String,
    pub event_id: String,
    pub currency: String,
    pub lines: Vec<TokenLine>,
    pub subtotal: i64,
    pub discount: i64,
    pub total: i64,
    pub payment: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrderBatch {
    pub orders: Vec<HubOrder>,
    /// Refunds given at the booth: records of their own, each stored once by its id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<HubRefund>,
}

/// Most refunds in one batch.
pub const MAX_BATCH_REFUNDS: usize = 200;

/// A refund on its way upstream. `by` is the staff member's first name as the lead
/// entered it (or `lead`), for the ops lead's books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HubRefund {
    pub refund_id: String,
    pub order_id: String,
    pub amount: i64,
    pub reason: String,
    pub by: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundOutcome {
    pub refund_id: String,
    pub outcome: Disposition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Stored now.
    Stored,
    /// Already stored by an earlier delivery: nothing new was written.
    Duplicate,
    /// Refused for good; see the reason. Sending it again will not help.
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderOutcome {
    pub order_id: String,
    pub outcome: Disposition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The hub's answer to a batch: one outcome per order, in the batch's order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchAnswer {
    pub results: Vec<OrderOutcome>,
    /// One outcome per refund sent, in the batch's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<RefundOutcome>,
}

/// What a booth reports with every heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BoothReport {
    pub event_id: String,
    pub name: Option<String>,
    /// `online`, `offline` or `relay`, as the booth sees itself.
    pub mode: String,
    pub queue_depth: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub oldest_unsynced: Option<Timestamp>,
    pub quarantined: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    /// The booth's time minus the hub's, as the booth last measured it (ms).
    #[serde(default)]
    pub clock_offset_ms: Option<i64>,
    /// The booth doubts the laptop's clock (a step not yet settled, or a doubt at start).
    #[serde(default)]
    pub clock_in_doubt: bool,
    /// Steps of the laptop's clock the booth saw during this event.
    #[serde(default)]
    pub clock_steps: i64,
    /// Each printer of the booth as its print workers last saw it, so the fleet view
    /// shows a booth whose tickets are not printing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub printers: Vec<PrinterReport>,
}

/// Most printers one report may list.
pub const MAX_REPORT_PRINTERS: usize = 32;
/// Longest reason a printer report may carry (longer ones are cut by the booth).
pub const MAX_PRINTER_DETAIL: usize = 300;

/// One printer in a booth's report: its manifest name and role, its state, and what
/// waits on it. Names and reasons are the booth's own words about its equipment;
/// nothing about a customer.
///
/// Unknown fields are ignored (not refused), so a booth that says more about its
/// printers than this hub knows still keeps its uplink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrinterReport {
    pub name: String,
    /// `receipts`, `tickets` or `labels`.
    pub role: String,
    /// `ready`, `printing`, `paused`, `needs_attention` or `not_checked`.
    pub state: String,
    /// `ok`, `out` or `unknown`.
    pub paper: String,
    /// Jobs waiting to print.
    pub queued: i64,
    /// Jobs waiting for a person: held after an outage, or that may have printed.
    pub waiting_for_staff: i64,
    /// Why it needs attention, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Why the hub will not keep this report, if it will not.
pub fn check_report(r: &BoothReport) -> Result<(), String> {
    if r.printers.len() > MAX_REPORT_PRINTERS {
        return Err(format!(
            "a report lists at most {MAX_REPORT_PRINTERS} printers, this one {}",
            r.printers.len()
        ));
    }
    for p in &r.printers {
        let words = [&p.name, &p.role, &p.state, &p.paper];
        if words.iter().any(|w| !short_text(w, 64)) {
            return Err(format!(
                "printer `{}` has an empty, too long or unreadable field",
                p.name.escape_debug()
            ));
        }
        if p.queued < 0 || p.waiting_for_staff < 0 {
            return Err(format!("printer `{}` has a negative count", p.name.escape_debug()));
        }
        if p.detail.as_ref().is_some_and(|d| !short_text(d, MAX_PRINTER_DETAIL)) {
            return Err(format!(
                "printer `{}`: its detail is empty, longer than {MAX_PRINTER_DETAIL} bytes or has control characters",
                p.name.escape_debug()
            ));
        }
    }
    Ok(())
}

/// `detail` cut to what a report may carry, on a character boundary.
pub fn printer_detail(why: &str) -> Option<String> {
    let one_line: String = why.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let one_line = one_line.trim();
    if one_line.is_empty() {
        return None;
    }
    let mut end = one_line.len().min(MAX_PRINTER_DETAIL);
    while !one_line.is_char_boundary(end) {
        end -= 1;
    }
    Some(one_line[..end].to_owned())
}

/// The hub's answer to a heartbeat: its clock, so a booth can measure its offset and,
/// the answer being proven (`X-Boothcloud-Hub-Proof`), settle a doubt about its time.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeartbeatAnswer {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub now: Timestamp,
}

fn short_text(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && !s.chars().any(char::is_control)
}

/// Why the hub will never accept this order, if it will not.
pub fn check_order(o: &HubOrder) -> Result<(), String> {
    if !short_text(&o.order_id, 64) {
        return Err("the order id is empty, too long or has control characters".into());
    }
    if !crate::signing::hub::valid_booth(&o.event_id) {
        return Err("the event id is not a valid identifier".into());
    }
    if o.currency.len() != 3 || !o.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!("`{}` is not a currency code", o.currency.escape_debug()));
    }
    if crate::manifest::PaymentMethod::parse(&o.payment).is_none() {
        return Err(format!("`{}` is not a payment method", o.payment.escape_debug()));
    }
    if o.lines.is_empty() || o.lines.len() > MAX_LINES {
        return Err(format!("an order has 1 to {MAX_LINES} lines, this one {}", o.lines.len()));
    }
    // As the price engine makes them: a line's total is after its share of the
    // discounts, at most quantity × unit price; the subtotal is before any discount,
    // the total the sum of the lines, the discount the difference.
    let (mut subtotal, mut total): (i64, i64) = (0, 0);
    for l in &o.lines {
        if !short_text(&l.sku, 64) || l.qty == 0 || l.unit_price < 0 || l.total < 0 {
            return Err(format!("line `{}` is not a valid line", l.sku.escape_debug()));
        }
        let full = l
            .unit_price
            .checked_mul(i64::from(l.qty))
            .ok_or("a line adds up past any real amount")?;
        if l.total > full {
            return Err(format!(
                "line `{}`: {} is more than {} × {}",
                l.sku, l.total, l.qty, l.unit_price
            ));
        }
        subtotal = subtotal.checked_add(full).ok_or("the lines add up past any real amount")?;
        total = total.checked_add(l.total).ok_or("the lines add up past any real amount")?;
    }
    if subtotal != o.subtotal {
        return Err(format!(
            "the lines add up to a subtotal of {subtotal}, the order says {}",
            o.subtotal
        ));
    }
    if total != o.total {
        return Err(format!(
            "the lines add up to {total}, the order says its total is {}",
            o.total
        ));
    }
    if o.discount != o.subtotal - o.total {
        return Err(format!(
            "subtotal {} less discount {} is not the total {}",
            o.subtotal, o.discount, o.total
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> HubOrder {
        HubOrder {
            order_id: "0190a1b2-0000-7000-8000-000000000001".into(),
            event_id: "harbour-lights-2026".into(),
            currency: "EUR".into(),
            lines: vec![
                TokenLine { sku: "MUG".into(), qty: 2, unit_price: 1400, total: 2520 },
                TokenLine { sku: "TOTE".into(), qty: 1, unit_price: 900, total: 900 },
            ],
            subtotal: 3700,
            discount: 280,
            total: 3420,
            payment: "card".into(),
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_consistent_order_passes() {
        assert_eq!(check_order(&order()), Ok(()));
    }

    #[test]
    fn every_way_a_booth_takes_payment_is_accepted_pay_at_pickup_too() {
        for method in crate::manifest::PaymentMethod::ALL {
            let o = HubOrder { payment: method.as_str().into(), ..order() };
            assert_eq!(check_order(&o), Ok(()), "{}", method.as_str());
        }
    }

    #[test]
    fn inconsistent_arithmetic_and_bad_fields_are_refused_with_a_reason() {
        type Spoil = fn(&mut HubOrder);
        let cases: Vec<(Spoil, &str)> = vec![
            (|o| o.total = 3500, "its total is 3500"),
            (|o| o.lines[0].total = 2900, "more than 2 × 1400"),
            (|o| o.subtotal = 100, "subtotal of 3700"),
            (|o| o.discount = 5000, "less discount"),
            (|o| o.lines[1].total = -1, "not a valid line"),
            (|o| o.currency = "eur".into(), "currency"),
            (|o| o.payment = "iou".into(), "payment"),
            (|o| o.lines.clear(), "lines"),
            (|o| o.order_id = String::new(), "order id"),
            (|o| o.lines[0].qty = 0, "not a valid line"),
        ];
        for (spoil, why) in cases {
            let mut o = order();
            spoil(&mut o);
            let reason = check_order(&o).unwrap_err();
            assert!(reason.contains(why), "{reason} should mention {why}");
        }
    }

    fn report(printers: Vec<PrinterReport>) -> BoothReport {
        BoothReport {
            event_id: "harbour-lights-2026".into(),
            name: None,
            mode: "online".into(),
            queue_depth: 0,
            oldest_unsynced: None,
            quarantined: 0,
            at: Timestamp::UNIX_EPOCH,
            clock_offset_ms: None,
            clock_in_doubt: false,
            clock_steps: 0,
            printers,
        }
    }

    fn printer(name: &str) -> PrinterReport {
        PrinterReport {
            name: name.into(),
            role: "tickets".into(),
            state: "needs_attention".into(),
            paper: "out".into(),
            queued: 3,
            waiting_for_staff: 1,
            detail: printer_detail("the printer is out of paper"),
        }
    }

    #[test]
    fn a_report_without_printers_reads_as_before_and_one_with_them_round_trips() {
        let old = serde_json::to_value(report(Vec::new())).unwrap();
        assert!(old.get("printers").is_none(), "{old}");
        let back: BoothReport = serde_json::from_value(old).unwrap();
        assert!(back.printers.is_empty());
        let r = report(vec![printer("prep")]);
        assert_eq!(check_report(&r), Ok(()));
        let back: BoothReport = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn a_report_with_too_many_or_unreadable_printers_is_refused_with_a_reason() {
        let many = report((0..=MAX_REPORT_PRINTERS).map(|i| printer(&format!("p{i}"))).collect());
        assert!(check_report(&many).unwrap_err().contains("at most 32"));
        type Spoil = fn(&mut PrinterReport);
        let cases: Vec<(Spoil, &str)> = vec![
            (|p| p.name = String::new(), "unreadable"),
            (|p| p.state = "x".repeat(65), "too long"),
            (|p| p.queued = -1, "negative"),
            (|p| p.detail = Some("a\nb".into()), "detail"),
            (|p| p.detail = Some("x".repeat(MAX_PRINTER_DETAIL + 1)), "detail"),
        ];
        for (spoil, why) in cases {
            let mut p = printer("prep");
            spoil(&mut p);
            let reason = check_report(&report(vec![p])).unwrap_err();
            assert!(reason.contains(why), "{reason} should mention {why}");
        }
    }

    #[test]
    fn a_long_reason_is_cut_to_one_line_on_a_character_boundary() {
        let long = format!("papier\n{}", "é".repeat(400));
        let cut = printer_detail(&long).unwrap();
        assert!(cut.len() <= MAX_PRINTER_DETAIL && !cut.contains('\n'));
        assert!(cut.starts_with("papier é"));
        assert_eq!(printer_detail(" \t "), None);
    }
}
