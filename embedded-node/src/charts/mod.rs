//! The booth's charts: latency (p95/p99 of the busiest routes against the targets), cache
//! hit ratio, spend against budget with the projection, and transcodes, over the last
//! hour or the event.
//!
//! Owns the figures over time ([`history`]), the sampler that records a point every ten
//! seconds, and their drawing ([`render`]): SVG for the dashboard's tiles and detail
//! views, PNG for the post-event report. Reads the services it charts through
//! [`Sources`]; never changes them.

pub mod history;
pub mod render;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use boothcloud_core::clock::Clock;
use resvg::usvg::fontdb;

use crate::assets::AssetCache;
use crate::live_manifest::LiveManifest;
use crate::spend::{Component, Ledger, MICRO};
use crate::telemetry::{serves_customers, Telemetry};
pub use history::{History, Point, RoutePoint, Span};
use render::{Axis, Size, SpendSeries, Theme};

/// Routes a latency point keeps.
const ROUTES_PER_POINT: usize = 5;

/// The names of the charts, as `draw` takes them.
pub const NAMES: [&str; 4] = ["latency", "hit-ratio", "spend", "transcodes"];

/// What the charts read: exactly these services.
#[derive(Clone)]
pub struct Sources {
    pub manifest: Arc<LiveManifest>,
    pub clock: Arc<dyn Clock>,
    pub telemetry: Arc<Telemetry>,
    pub spend: Arc<Ledger>,
    pub assets: Arc<AssetCache>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("could not draw the chart: {0}")]
    Draw(String),
    #[error("could not turn the chart into a PNG: {0}")]
    Png(String),
}

/// The history, what it is sampled from, and the fonts PNGs are drawn with (loaded on
/// first use: reading the system's fonts takes a moment the node should not spend at
/// start).
pub struct Charts {
    pub history: History,
    sources: Sources,
    fonts: OnceLock<Arc<fontdb::Database>>,
}

impl Charts {
    pub fn new(sources: Sources) -> Charts {
        Charts { history: History::default(), sources, fonts: OnceLock::new() }
    }

    pub fn fonts(&self) -> Arc<fontdb::Database> {
        self.fonts.get_or_init(|| Arc::new(render::load_fonts())).clone()
    }

    /// An SVG as a PNG, off the async threads (rasterising takes tens of milliseconds).
    pub async fn to_png(&self, svg: String) -> Result<Vec<u8>, ChartError> {
        let fonts = self.fonts();
        tokio::task::spawn_blocking(move || render::to_png(&svg, fonts))
            .await
            .map_err(|e| ChartError::Png(e.to_string()))?
    }

    /// One chart as SVG: `latency`, `hit-ratio`, `transcodes` or `spend` (anything else).
    pub fn draw(
        &self,
        name: &str,
        span: Span,
        theme: &Theme,
        size: Size,
    ) -> Result<String, ChartError> {
        let src = &self.sources;
        let now = src.clock.now();
        let current = src.manifest.current();
        let m = &current.manifest;
        let axis = Axis { tz: &m.event.timezone };
        // The recorded points, and one for this moment, so a chart is never behind the tiles.
        let mut points = self.history.points(span, now.as_second());
        points.push(self.point());
        Ok(match name {
            "latency" => render::latency(
                &points,
                (m.telemetry.p95_target_ms, m.telemetry.p99_target_ms),
                &axis,
                theme,
                size,
            )?,
            "hit-ratio" => render::hit_ratio(&points, &axis, theme, size)?,
            "transcodes" => render::transcodes(&points, &axis, theme, size)?,
            _ => {
                let (mut samples, latest) = src.spend.history(now, &m.costs);
                samples.push(latest);
                let since = if span == Span::Hour { now.as_second() - 3_600 } else { i64::MIN };
                let total = |s: &[i64; 4]| s.iter().sum::<i64>() as f64 / MICRO as f64;
                let samples: Vec<(i64, f64)> = samples
                    .iter()
                    .filter(|(at, _)| *at >= since)
                    .map(|(at, s)| (*at, total(s)))
                    .collect();
                let view = src.spend.view(now, m);
                let projection = view.total.projected.map(|p| {
                    ((now.as_second(), total(&latest.1)), (m.event.ends_at.as_second(), p as f64))
                });
                let currency = m.event.currency.to_string();
                let series = SpendSeries {
                    samples: &samples,
                    budget: m.budgets.total.map(|b| b as f64),
                    projection,
                    currency: &currency,
                    minor_per_major: 100.0,
                };
                render::spend(&series, &axis, theme, size)?
            }
        })
    }

    /// What the charts record now.
    pub fn point(&self) -> Point {
        let src = &self.sources;
        let now = src.clock.now();
        let routes = src
            .telemetry
            .last_minute()
            .into_iter()
            .filter(|(_, route, m)| serves_customers(route) && m.requests > 0)
            .take(ROUTES_PER_POINT)
            .map(|(method, route, m)| RoutePoint {
                route: format!("{method} {route}"),
                p95_ms: m.p95_us as f64 / 1000.0,
                p99_ms: m.p99_us as f64 / 1000.0,
            })
            .collect();
        let spend = src.spend.view(now, &src.manifest.current().manifest);
        let transcode_ms = spend
            .components
            .iter()
            .find(|c| c.component == Component::Transcode)
            .map_or(0, |c| c.usage);
        Point {
            at: now.as_second(),
            routes,
            hit_ratio: src.assets.figures().view().hit_ratio_now,
            transcode_minutes: transcode_ms as f64 / 60_000.0,
            transcodes_running: spend.transcodes_running,
        }
    }

    /// Records a point every ten seconds until the node stops, and ends idle sessions.
    pub async fn keep_recording(self: Arc<Self>, stopping: tokio::sync::watch::Receiver<bool>) {
        let mut ticks = crate::ticker::Ticker::new(Duration::from_secs(10), stopping);
        while ticks.next().await.is_some() {
            self.history.record(self.point());
            self.sources.telemetry.sessions().sweep(self.sources.telemetry.now_ms());
        }
    }
}
