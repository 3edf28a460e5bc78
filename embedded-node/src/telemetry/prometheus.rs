//! The Prometheus text exposition (format 0.0.4) behind `GET /metrics`: a writer that
//! gets names, `# HELP`/`# TYPE` lines, label escaping and redaction right, and the
//! request-latency histogram. Other parts of the node add their own families.

use std::fmt::{Display, Write};

use super::latency::BUCKETS_US;
use super::redact::redact;
use super::Telemetry;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metrics page being written. Families must be written whole, one after another.
#[derive(Default)]
pub struct Exposition {
    out: String,
}

/// What kind of metric a family is.
#[derive(Clone, Copy)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

impl Exposition {
    pub fn family(&mut self, name: &str, kind: MetricKind, help: &str) -> &mut Self {
        let kind = match kind {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        };
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        self
    }

    /// One sample. Label values are redacted, then escaped.
    pub fn sample(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        value: impl Display,
    ) -> &mut Self {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let v = redact(v);
                let _ = write!(
                    self.out,
                    "{k}=\"{}\"",
                    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
                );
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
        self
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Seconds from microseconds, as Prometheus wants them.
fn seconds(us: u64) -> f64 {
    us as f64 / 1e6
}

/// `boothcloud_http_request_duration_seconds` (a histogram per method and route) and
/// `boothcloud_http_request_errors_total` (answers with a 5xx status).
pub fn write_latency(ex: &mut Exposition, telemetry: &Telemetry) {
    const NAME: &str = "boothcloud_http_request_duration_seconds";
    ex.family(
        NAME,
        MetricKind::Histogram,
        "Time from a request's arrival to its response head, by route template.",
    );
    let mut errors = Vec::new();
    telemetry.each_route(|route, method, r| {
        let (buckets, sum_us, count) = r.prometheus();
        for (le, n) in buckets {
            let le = le.map_or_else(|| "+Inf".to_owned(), |us| seconds(us).to_string());
            ex.sample(
                &format!("{NAME}_bucket"),
                &[("method", method), ("route", route), ("le", &le)],
                n,
            );
        }
        ex.sample(&format!("{NAME}_sum"), &[("method", method), ("route", route)], seconds(sum_us));
        ex.sample(&format!("{NAME}_count"), &[("method", method), ("route", route)], count);
        errors.push((method.to_owned(), route.to_owned(), r.event_errors()));
    });
    ex.family(
        "boothcloud_http_request_errors_total",
        MetricKind::Counter,
        "Requests answered with a 5xx status, by route template.",
    );
    for (method, route, n) in errors {
        ex.sample(
            "boothcloud_http_request_errors_total",
            &[("method", &method), ("route", &route)],
            n,
        );
    }
    debug_assert_eq!(BUCKETS_US.len() + 1, 15);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::http::Method;

    use super::*;
    use boothcloud_core::clock::SystemClock;

    #[test]
    fn a_histogram_is_written_in_the_text_format() {
        let t = Telemetry::new(Arc::new(SystemClock::new()));
        t.record(&Method::POST, "/api/v1/quotes", 200, 300);
        t.record(&Method::POST, "/api/v1/quotes", 503, 2_000_000);
        let mut ex = Exposition::default();
        write_latency(&mut ex, &t);
        let text = ex.finish();
        assert!(
            text.contains("# TYPE boothcloud_http_request_duration_seconds histogram\n"),
            "{text}"
        );
        assert!(
            text.contains("boothcloud_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/quotes\",le=\"0.0005\"} 1\n")
        );
        assert!(text.contains("boothcloud_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/quotes\",le=\"+Inf\"} 2\n"));
        assert!(text.contains("boothcloud_http_request_duration_seconds_sum{method=\"POST\",route=\"/api/v1/quotes\"} 2.0003\n"));
        assert!(text.contains("boothcloud_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/quotes\"} 2\n"));
        assert!(text.contains(
            "boothcloud_http_request_errors_total{method=\"POST\",route=\"/api/v1/quotes\"} 1\n"
        ));
    }

    #[test]
    fn label_values_are_escaped_and_redacted() {
        let mut ex = Exposition::default();
        ex.family("x_total", MetricKind::Counter, "help");
        ex.sample("x_total", &[("prefix", "a\"b\\c\nd"), ("who", "jane@example.com")], 1);
        let text = ex.finish();
        assert!(text.contains(r#"x_total{prefix="a\"b\\c\nd",who="[email]"} 1"#), "{text}");
    }
}
