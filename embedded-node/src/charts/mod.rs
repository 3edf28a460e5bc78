//! The booth's charts: latency (p95/p99 of the busiest routes against the targets), cache
//! hit ratio, spend against budget with the projection, and transcodes, over the last
//! hour or the event.
//!
//! Owns the figures over time ([`history`]) and their drawing ([`render`]): SVG for the
//! dashboard's tiles and detail views, PNG for the post-event report. The HTTP routes
//! that serve them, and the sampler that feeds the history, are in `http::charts`.

pub mod history;
pub mod render;

use std::sync::{Arc, OnceLock};

use resvg::usvg::fontdb;

pub use history::{History, Point, RoutePoint, Span};

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("could not draw the chart: {0}")]
    Draw(String),
    #[error("could not turn the chart into a PNG: {0}")]
    Png(String),
}

/// The history, and the fonts PNGs are drawn with (loaded on first use: reading the
/// system's fonts takes a moment the node should not spend at start).
#[derive(Default)]
pub struct Charts {
    pub history: History,
    fonts: OnceLock<Arc<fontdb::Database>>,
}

impl Charts {
    pub fn fonts(&self) -> Arc<fontdb::Database> {
        self.fonts.get_or_init(|| Arc::new(render::load_fonts())).clone()
    }
}
