//! The post-event report, written at teardown before anything is wiped.
//!
//! Owns: `summary.json` (revenue, orders, p95/p99, cache hit ratio, transcode minutes,
//! spend against budget), `orders.csv` (every order, no contact details), the charts as
//! PNG images over the whole event, and `report.html` tying them together with the
//! audit log. Each file is written durably; writing again replaces them.

use std::path::Path;

use jiff::Timestamp;
use serde::Serialize;

use super::export::write_durably;
use super::Scope;
use super::{Run, StepOutcome};
use crate::charts::render::{Size, Theme};
use crate::charts::Span;
use crate::orders::OrderView;
use crate::spend::Component;
use crate::telemetry::serves_customers;
use boothcloud_core::money::{display, Minor};

/// Audit entries the report lists (newest first).
const AUDIT_IN_REPORT: u32 = 500;
/// Clock steps the report lists (a clock stepping more often is broken; the first
/// thousand say so).
const CLOCK_STEPS_IN_REPORT: i64 = 1000;
/// The charts, by file name and title.
const CHARTS: [(&str, &str); 4] = [
    ("latency", "Latency (p95 and p99)"),
    ("hit-ratio", "Cache hit ratio"),
    ("transcodes", "Transcode minutes"),
    ("spend", "Spend against budget"),
];

#[derive(Debug, Serialize)]
pub struct Summary {
    pub event: EventPart,
    #[serde(with = "jiff::fmt::serde::timestamp::second::required")]
    pub generated_at: Timestamp,
    pub teardown_started_by: String,
    pub currency: String,
    pub revenue: Minor,
    pub discounts: Minor,
    pub orders: OrdersPart,
    pub latency: Vec<RoutePart>,
    /// The slowest customer-facing route's p95 and p99 over the event, milliseconds.
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub cache_hit_ratio: Option<f64>,
    pub transcode_minutes: f64,
    pub spend: Minor,
    pub budget: Option<Minor>,
    pub spend_percent_of_budget: Option<f64>,
    pub spend_by_component: Vec<SpendPart>,
    /// Every step of the laptop's clock seen during the event, oldest first.
    pub clock_steps: Vec<crate::timekeeping::ClockStepView>,
}

#[derive(Debug, Serialize)]
pub struct EventPart {
    pub id: String,
    pub name: String,
    pub starts_at: String,
    pub ends_at: String,
}

#[derive(Debug, Serialize)]
pub struct OrdersPart {
    pub total: usize,
    pub synced: usize,
    pub not_synced: usize,
    pub quarantined: usize,
    pub by_payment: Vec<PaymentPart>,
}

#[derive(Debug, Serialize)]
pub struct PaymentPart {
    pub payment: String,
    pub orders: usize,
    pub total: Minor,
}

#[derive(Debug, Serialize)]
pub struct RoutePart {
    pub route: String,
    pub requests: u64,
    pub errors: u64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct SpendPart {
    pub component: String,
    pub usage: u64,
    pub unit: String,
    pub spent: Minor,
    pub budget: Option<Minor>,
}

/// Writes the report into `dir`.
pub(super) async fn write(
    scope: &Scope,
    db: &sqlx::SqlitePool,
    dir: &Path,
    run: &Run,
) -> Result<StepOutcome, String> {
    let orders = scope.orders.all_for_report().await.map_err(|e| e.to_string())?;
    let mut summary = summarise(scope, &orders, run);
    let loaded = scope.manifest.current();
    let event = &loaded.manifest.event;
    summary.clock_steps =
        crate::timekeeping::steps(db, &event.id, &event.timezone, CLOCK_STEPS_IN_REPORT)
            .await
            .map_err(|e| e.to_string())?;
    let audit = scope.audit.list(None, AUDIT_IN_REPORT).await.map_err(|e| e.to_string())?;
    let mut pngs = Vec::new();
    for (name, _) in CHARTS {
        let svg = scope
            .charts
            .draw(name, Span::Event, &Theme::light(), Size { width: 1200, height: 480 })
            .map_err(|e| e.to_string())?;
        let png = scope.charts.to_png(svg).await.map_err(|e| e.to_string())?;
        pngs.push((name, png));
    }
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| e.to_string())?;
    let csv = orders_csv(&orders);
    let html = html(&summary, &audit, scope);
    let shown = dir.display().to_string();
    let dir = dir.to_owned();
    let n = orders.len();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        for (name, png) in &pngs {
            write_durably(&dir.join(format!("{name}.png")), png)?;
        }
        write_durably(&dir.join("summary.json"), &json)?;
        write_durably(&dir.join("orders.csv"), csv.as_bytes())?;
        write_durably(&dir.join("report.html"), html.as_bytes())
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("cannot write the report: {e}"))?;
    Ok(StepOutcome::Done(format!(
        "report.html, summary.json, orders.csv ({n} orders) and 4 charts in {shown}"
    )))
}

fn summarise(scope: &Scope, orders: &[OrderView], run: &Run) -> Summary {
    let now = scope.clock.now();
    let loaded = scope.manifest.current();
    let m = &loaded.manifest;
    let count = |s: crate::orders::SyncState| orders.iter().filter(|o| o.status == s).count();
    let mut by_payment: Vec<PaymentPart> = Vec::new();
    for o in orders {
        match by_payment.iter_mut().find(|p| p.payment == o.payment) {
            Some(p) => {
                p.orders += 1;
                p.total += o.total;
            }
            None => by_payment.push(PaymentPart {
                payment: o.payment.clone(),
                orders: 1,
                total: o.total,
            }),
        }
    }
    let latency: Vec<RoutePart> = scope
        .telemetry
        .route_figures()
        .into_iter()
        .filter(|r| serves_customers(&r.route) && r.event.requests > 0)
        .map(|r| RoutePart {
            route: format!("{} {}", r.method, r.route),
            requests: r.event.requests,
            errors: r.event.errors,
            p95_ms: r.event.p95_us as f64 / 1000.0,
            p99_ms: r.event.p99_us as f64 / 1000.0,
        })
        .collect();
    let worst = |f: fn(&RoutePart) -> f64| latency.iter().map(f).reduce(f64::max);
    let spend = scope.spend.view(now, m);
    let transcode_ms = spend
        .components
        .iter()
        .find(|c| c.component == Component::Transcode)
        .map_or(0, |c| c.usage);
    Summary {
        event: EventPart {
            id: m.event.id.clone(),
            name: m.event.name.clone(),
            starts_at: m.event.starts_at.to_string(),
            ends_at: m.event.ends_at.to_string(),
        },
        generated_at: now,
        teardown_started_by: run.started_by.clone(),
        currency: m.event.currency.to_string(),
        revenue: orders.iter().map(|o| o.total).sum(),
        discounts: orders.iter().map(|o| o.discount).sum(),
        orders: OrdersPart {
            total: orders.len(),
            synced: count(crate::orders::SyncState::Synced),
            not_synced: orders.len() - count(crate::orders::SyncState::Synced),
            quarantined: count(crate::orders::SyncState::Quarantined),
            by_payment,
        },
        p95_ms: worst(|r| r.p95_ms),
        p99_ms: worst(|r| r.p99_ms),
        latency,
        cache_hit_ratio: scope.assets.figures().view().hit_ratio_event,
        transcode_minutes: (transcode_ms as f64 / 60_000.0 * 10.0).round() / 10.0,
        spend: spend.total.spent,
        budget: spend.total.budget,
        spend_percent_of_budget: spend.total.percent_of_budget,
        spend_by_component: spend
            .components
            .iter()
            .map(|c| SpendPart {
                component: c.label.into(),
                usage: c.usage,
                unit: c.unit.into(),
                spent: c.line.spent,
                budget: c.line.budget,
            })
            .collect(),
        clock_steps: Vec::new(),
    }
}

/// One line per order: id, time, scope, money, payment and the lines as `sku×qty`.
/// No contact details: the report outlives the wipe.
pub fn orders_csv(orders: &[OrderView]) -> String {
    let mut out = String::from(
        "order_id,created_at,status,currency,subtotal,discount,total,payment,lines,synced_at\n",
    );
    for o in orders {
        let lines: Vec<String> = o.lines.iter().map(|l| format!("{}x{}", l.sku, l.qty)).collect();
        let fields = [
            o.order_id.clone(),
            o.created_at.to_string(),
            o.status.as_str().to_owned(),
            o.currency.clone(),
            o.subtotal.to_string(),
            o.discount.to_string(),
            o.total.to_string(),
            o.payment.clone(),
            lines.join(" "),
            o.synced_at.map(|t| t.to_string()).unwrap_or_default(),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// RFC 4180 quoting, and a leading `'` before `=`, `+`, `-`, `@` so a spreadsheet never
/// runs a cell as a formula.
fn csv_field(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn html(s: &Summary, audit: &[crate::audit::AuditEntry], scope: &Scope) -> String {
    let currency = scope.manifest.current().manifest.event.currency;
    let money = |m: Minor| esc(&display(m, currency));
    let ms = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.1} ms"));
    let pct = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.0}%"));
    let mut h = String::with_capacity(16 * 1024);
    h.push_str("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    h.push_str(&esc(&format!("{} — post-event report", s.event.name)));
    h.push_str(
        "</title><style>body{font-family:system-ui,sans-serif;max-width:1240px;margin:2rem auto;padding:0 1rem;color:#111}\
         table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #bbb;padding:.35rem .6rem;text-align:left}\
         th{background:#eee}img{max-width:100%;border:1px solid #ddd}.figures td:first-child{font-weight:600}</style></head><body>",
    );
    h.push_str(&format!(
        "<h1>{}</h1><p>{} to {} · report written {}</p>",
        esc(&s.event.name),
        esc(&s.event.starts_at),
        esc(&s.event.ends_at),
        s.generated_at
    ));
    h.push_str("<h2>Figures</h2><table class=\"figures\">");
    let rows = [
        ("Revenue", money(s.revenue)),
        ("Discounts given", money(s.discounts)),
        (
            "Orders",
            format!(
                "{} ({} synced upstream, {} not synced, {} quarantined)",
                s.orders.total, s.orders.synced, s.orders.not_synced, s.orders.quarantined
            ),
        ),
        (
            "Slowest p95 / p99 (customer routes, whole event)",
            format!("{} / {}", ms(s.p95_ms), ms(s.p99_ms)),
        ),
        ("Cache hit ratio", s.cache_hit_ratio.map_or("—".into(), |r| format!("{:.1}%", r * 100.0))),
        ("Transcode minutes", format!("{:.1}", s.transcode_minutes)),
        (
            "Spend",
            format!(
                "{} of {} ({})",
                money(s.spend),
                s.budget.map_or("no budget".into(), money),
                pct(s.spend_percent_of_budget)
            ),
        ),
        ("Teardown started by", esc(&s.teardown_started_by)),
    ];
    for (k, v) in rows {
        h.push_str(&format!("<tr><td>{}</td><td>{v}</td></tr>", esc(k)));
    }
    h.push_str("</table><h2>Orders by payment</h2><table><tr><th>Payment</th><th>Orders</th><th>Total</th></tr>");
    for p in &s.orders.by_payment {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&p.payment),
            p.orders,
            money(p.total)
        ));
    }
    h.push_str("</table><p>Every order, without contact details: <a href=\"orders.csv\">orders.csv</a>. The figures as data: <a href=\"summary.json\">summary.json</a>.</p>");
    h.push_str(
        "<h2>Latency by route (whole event)</h2><table><tr><th>Route</th><th>Requests</th><th>Errors</th><th>p95</th><th>p99</th></tr>",
    );
    for r in &s.latency {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1} ms</td><td>{:.1} ms</td></tr>",
            esc(&r.route),
            r.requests,
            r.errors,
            r.p95_ms,
            r.p99_ms
        ));
    }
    h.push_str("</table><h2>Spend by component</h2><table><tr><th>Component</th><th>Usage</th><th>Spent</th><th>Budget</th></tr>");
    for c in &s.spend_by_component {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.component),
            c.usage,
            esc(&c.unit),
            money(c.spent),
            c.budget.map_or("—".into(), money)
        ));
    }
    h.push_str("</table><h2>The laptop's clock</h2>");
    if s.clock_steps.is_empty() {
        h.push_str("<p>No steps of the laptop's clock were seen during the event.</p>");
    } else {
        h.push_str("<p>The booth kept counting on its own time through each of these:</p><ul>");
        for step in &s.clock_steps {
            h.push_str(&format!("<li>{}</li>", esc(&step.words)));
        }
        h.push_str("</ul>");
    }
    h.push_str("<h2>Charts</h2>");
    for (name, title) in CHARTS {
        h.push_str(&format!(
            "<h3>{}</h3><img src=\"{name}.png\" alt=\"{}\" width=\"1200\" height=\"480\">",
            esc(title),
            esc(title)
        ));
    }
    h.push_str(
        "<h2>Control actions</h2><table><tr><th>When</th><th>Who</th><th>What</th><th>From</th><th>To</th><th>Why</th><th>Result</th></tr>",
    );
    for a in audit {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{} ({}{})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            a.at,
            esc(&a.actor),
            esc(&a.client),
            a.desktop_user.as_deref().map(|u| format!(", {}", esc(u))).unwrap_or_default(),
            esc(&a.action),
            esc(a.before.as_deref().unwrap_or("")),
            esc(a.after.as_deref().unwrap_or("")),
            esc(&a.why),
            esc(&a.result)
        ));
    }
    h.push_str("</table></body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_run_as_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-5"), "'-5");
    }

    #[test]
    fn html_text_is_escaped() {
        assert_eq!(esc("<script>&\""), "&lt;script&gt;&amp;&quot;");
    }
}
