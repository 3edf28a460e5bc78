//! The deployment manifest: what this booth is, sells and may spend.
//!
//! Owns: the typed `Manifest` (parse, don't validate: once you hold one, every SKU a
//! promotion names exists, every time is a real instant, every amount is in range),
//! the checks that turn TOML text into it with line-precise problems (`parse`, reading
//! with the `toml` crate), the degrade and runbook grammar (`controls`), and the
//! embedded demo manifest. Never: reads a file or watches one (the node does), prices a
//! basket (that is `pricing`), or keeps a half-valid manifest — a manifest with one
//! problem is rejected whole.

pub mod controls;
pub mod parse;
pub mod printing;
pub mod selling;

use core::net::SocketAddr;

use jiff::{civil, tz::TimeZone, SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::money::{Currency, Minor};

pub use controls::{DegradeLevel, Runbook, RunbookStep, Sheddable, TranscodeMode, Trigger};
pub use parse::parse;
pub use printing::{Fallback, Paper, PrinterAddress, PrinterRole, PrinterSettings, Printing};
pub use selling::{KioskOffline, PaymentMethod, Selling, ShopSettings};

/// The demo manifest compiled into the binary: a believable winter-market booth.
pub const DEMO_MANIFEST: &str = include_str!("demo.toml");

/// Largest manifest file the node reads.
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;
pub const MAX_ITEMS: usize = 10_000;
pub const MAX_PROMOTIONS: usize = 5_000;

#[derive(Debug, Clone)]
pub struct Manifest {
    pub event: Event,
    pub node: NodeSettings,
    pub uplink: UplinkSettings,
    pub assets: AssetSettings,
    pub catalogue: Vec<Item>,
    pub pricing: PricingSettings,
    pub promotions: Vec<Promotion>,
    pub costs: CostModel,
    pub budgets: Budgets,
    pub pairing: Pairing,
    pub telemetry: TelemetrySettings,
    pub discovery: DiscoverySettings,
    pub media: MediaSettings,
    pub offline: OfflineLimits,
    /// Degrade levels, lightest first (`normal` is implicit).
    pub degrade: Vec<DegradeLevel>,
    pub runbooks: Vec<Runbook>,
    pub teardown: TeardownSettings,
    /// Payments, pickup numbers and the shop (`[payments]`, `[pickup]`, `[shop]`).
    pub selling: Selling,
    pub printing: Printing,
}

/// The end of the event (`[teardown]`): when teardown starts by itself, where it
/// exports what it could not send upstream, and how long it waits for the upstream.
#[derive(Debug, Clone, PartialEq)]
pub struct TeardownSettings {
    /// Start teardown this long after `event.ends_at` (not at all when absent).
    pub after_end: Option<SignedDuration>,
    /// Where an automatic teardown (or a runbook's) writes orders and media it could
    /// not send upstream, and the report. An absolute path.
    pub export_dir: Option<std::path::PathBuf>,
    /// How long teardown waits for uploads, clips and syncing before it exports.
    pub wait: SignedDuration,
    /// How long the touchscreen counts down, cancellable, before an automatic teardown
    /// closes the booth.
    pub countdown: SignedDuration,
}

impl Default for TeardownSettings {
    fn default() -> Self {
        TeardownSettings {
            after_end: None,
            export_dir: None,
            wait: SignedDuration::from_mins(2),
            countdown: SignedDuration::from_mins(5),
        }
    }
}

/// What the booth may sell while its uplink is down (`[offline]`), like a card
/// terminal's floor limits. Past a limit an order needs the operator's approval.
#[derive(Debug, Clone, PartialEq)]
pub struct OfflineLimits {
    /// Largest single order, minor units.
    pub max_order: Option<Minor>,
    /// Most money in orders not yet delivered upstream, minor units.
    pub max_exposure: Option<Minor>,
    /// Oldest an undelivered order may get before new orders need approval.
    pub max_queue_age: Option<SignedDuration>,
    /// Payment methods the limits apply to (cash carries no payment risk).
    pub applies_to: Vec<String>,
}

impl Default for OfflineLimits {
    fn default() -> Self {
        OfflineLimits {
            max_order: None,
            max_exposure: None,
            max_queue_age: None,
            applies_to: vec!["card".into(), "mobile".into()],
        }
    }
}

/// How the uplink is watched and the queue synced (part of `[uplink]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyncSettings {
    pub probe_every: SignedDuration,
    pub probe_timeout: SignedDuration,
    /// Failed probes in a row before the uplink counts as down.
    pub down_after: u32,
    /// Good probes in a row before it counts as up again.
    pub up_after: u32,
    /// Most orders in one batch to the hub.
    pub batch: u32,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            probe_every: SignedDuration::from_millis(500),
            probe_timeout: SignedDuration::from_millis(600),
            down_after: 2,
            up_after: 3,
            batch: 200,
        }
    }
}

/// Most presets a manifest may define.
pub const MAX_PRESETS: usize = 32;

/// Uploads from the booth's cameras and phones, and the clips made from them (`[media]`).
#[derive(Debug, Clone, PartialEq)]
pub struct MediaSettings {
    /// Largest single upload (tus `Tus-Max-Size`).
    pub max_upload_bytes: u64,
    /// Disk the media folder may use: uploads (counted at their declared length from
    /// the moment they are created, so unfinished ones cannot overfill it) and clips.
    pub quota_bytes: u64,
    /// Most uploads unfinished at once.
    pub max_open_uploads: u32,
    /// An unfinished upload with no data for this long expires and its bytes are freed.
    pub unfinished_expire_after: SignedDuration,
    /// Send finished uploads and clips to the upstream (`uplink.upstream`, over tus).
    pub forward: bool,
    /// The upload token the upstream issued this booth for forwarding (`bcu_…`): every
    /// forwarded request is signed with it; the token itself is never sent.
    pub forward_token: Option<String>,
    /// The programs run, by name (looked up on PATH) or absolute path.
    pub ffmpeg: String,
    pub ffprobe: String,
    /// Transcodes at once, normally and while degraded.
    pub max_transcodes: u32,
    pub degraded_transcodes: u32,
    /// A transcode running longer than this is stopped.
    pub transcode_timeout: SignedDuration,
    /// Most transcode jobs waiting at once.
    pub max_queued_transcodes: u32,
    pub presets: Vec<Preset>,
}

impl MediaSettings {
    pub fn preset(&self, name: &str) -> Option<&Preset> {
        self.presets.iter().find(|p| p.name == name)
    }
}

impl Default for MediaSettings {
    fn default() -> Self {
        let video = |name: &str, height, degraded: Option<&str>| Preset {
            name: name.into(),
            output: PresetOutput::Video {
                height,
                crf: 23,
                speed: "veryfast".into(),
                audio_kbps: 128,
            },
            essential: true,
            degraded: degraded.map(Into::into),
        };
        MediaSettings {
            max_upload_bytes: 4 << 30,
            quota_bytes: 20 << 30,
            max_open_uploads: 64,
            unfinished_expire_after: SignedDuration::from_hours(24),
            forward: false,
            forward_token: None,
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
            max_transcodes: 2,
            degraded_transcodes: 1,
            transcode_timeout: SignedDuration::from_mins(20),
            max_queued_transcodes: 200,
            presets: vec![
                video("720p", 720, Some("480p")),
                video("480p", 480, None),
                Preset {
                    name: "poster".into(),
                    output: PresetOutput::Poster { height: 720, at_ms: 1_000 },
                    essential: false,
                    degraded: None,
                },
            ],
        }
    }
}

/// What a transcode makes (`[[media.presets]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    pub name: String,
    pub output: PresetOutput,
    /// Essential jobs keep running when the transcode budget is spent; others stop.
    pub essential: bool,
    /// The preset used instead while the booth is degraded.
    pub degraded: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PresetOutput {
    /// H.264/AAC in MP4, scaled to `height` (never up), x264 `crf` and `speed`.
    Video { height: u32, crf: u32, speed: String, audio_kbps: u32 },
    /// One JPEG frame at `at_ms` into the clip.
    Poster { height: u32, at_ms: u64 },
}

/// Service types every node browses for besides its own: printers and web-configurable
/// devices, the booth's usual neighbours.
pub const DEFAULT_DEVICE_TYPES: [&str; 4] =
    ["_ipp._tcp", "_ipps._tcp", "_pdl-datastream._tcp", "_http._tcp"];
/// Most service types a manifest may add.
pub const MAX_EXTRA_DEVICE_TYPES: usize = 16;

/// How the node finds its neighbours on the LAN (`[discovery]`).
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoverySettings {
    /// Advertise and browse over mDNS. Off, the node still serves paired peers named
    /// in `[pairing]` by address.
    pub enabled: bool,
    /// What this node is in the fleet (TXT `role`): `booth` or `hub`.
    pub role: String,
    /// Service types browsed besides `_boothcloud._tcp` and the defaults (a POS
    /// vendor's, say), each `_name._tcp` or `_name._udp`.
    pub extra_types: Vec<String>,
    /// How often each device is probed for reachability.
    pub probe_every: SignedDuration,
    /// A device neither announced nor reachable for this long is gone.
    pub gone_after: SignedDuration,
    /// Most devices kept in the inventory; past it, new devices are not added.
    pub max_devices: u32,
}

impl Default for DiscoverySettings {
    fn default() -> Self {
        DiscoverySettings {
            enabled: true,
            role: "booth".into(),
            extra_types: Vec::new(),
            probe_every: SignedDuration::from_secs(5),
            gone_after: SignedDuration::from_secs(20),
            max_devices: 512,
        }
    }
}

/// What the dashboard colours as slow: per route, over the last minute.
#[derive(Debug, Clone)]
pub struct TelemetrySettings {
    pub p95_target_ms: u32,
    pub p99_target_ms: u32,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        TelemetrySettings { p95_target_ms: 250, p99_target_ms: 1_000 }
    }
}

#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub name: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub timezone: TimeZone,
    pub timezone_name: String,
    /// How long the deployment may live from `starts_at`; past `expires_at` it is due
    /// for teardown even if `ends_at` says otherwise.
    pub ttl: SignedDuration,
    pub expires_at: Timestamp,
    pub currency: Currency,
    /// The event's logo among the assets (`img/logo.png`; PNG, JPEG, GIF, WebP or SVG),
    /// printed atop tickets, receipts and labels.
    pub logo: Option<crate::cache::key::AssetPath>,
}

#[derive(Debug, Clone)]
pub struct NodeSettings {
    pub listen: Option<SocketAddr>,
    pub name: Option<String>,
    /// The organisation's own TLS certificate and key (PEM files), served instead of one
    /// from the booth's CA.
    pub certificate: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// Whether the plain-HTTP port serves the public shop (catalogue, quotes, orders) to
    /// phones that cannot trust the booth's CA. Default on.
    pub shop_on_http: bool,
}

impl Default for NodeSettings {
    fn default() -> Self {
        NodeSettings { listen: None, name: None, certificate: None, shop_on_http: true }
    }
}

#[derive(Debug, Clone)]
pub struct UplinkSettings {
    /// Where cached assets come from: an http(s) base URL or a local folder.
    pub origin: Option<Origin>,
    /// A second source of the same storefront (a mirror, or a folder with a copy), used
    /// when a runbook says `origin fallback`.
    pub fallback_origin: Option<Origin>,
    /// The regional hub orders sync to.
    pub upstream: Option<url::Url>,
    /// This booth's credential at the hub: it signs order batches and heartbeats, and is
    /// never sent.
    pub credential: Option<String>,
    /// This booth's id at the hub; the credential is issued for it.
    pub booth: Option<String>,
    pub sync: SyncSettings,
}

impl UplinkSettings {
    /// Where and as whom orders sync, when the manifest says enough to sync at all.
    pub fn hub(&self) -> Option<(&url::Url, &str, &str)> {
        Some((self.upstream.as_ref()?, self.booth.as_deref()?, self.credential.as_deref()?))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    Url(url::Url),
    Folder(std::path::PathBuf),
    /// The demo storefront bundled in the binary (`origin = "demo:storefront"`), so the
    /// demo booth's cache works with no network and no files.
    DemoStorefront,
}

/// How the asset cache behaves (`[assets]`). Sizes are bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetSettings {
    /// The memory tier: total size, and the largest object it holds.
    pub memory_bytes: u64,
    pub memory_object_bytes: u64,
    /// The disk tier (in the data folder): total size, and the largest object cached.
    pub disk_bytes: u64,
    pub max_object_bytes: u64,
    /// How long past its freshness an object may still be served while the origin
    /// cannot be reached (the offline booth), unless the origin said must-revalidate.
    pub offline_stale: SignedDuration,
    /// Freshness given to objects from a folder or the demo storefront, which carry
    /// no caching headers of their own.
    pub folder_max_age: SignedDuration,
    /// Origin fetch timeout (whole response).
    pub origin_timeout: SignedDuration,
    /// How long to wait for a paired peer before going to the origin.
    pub peer_timeout_ms: u32,
    /// Paths to fetch at start; one ending in '/' is a prefix (every file under it, for
    /// folder and demo origins).
    pub warm: Vec<String>,
    /// A file at the origin listing paths to warm, one per line.
    pub warm_listing: Option<String>,
    pub warm_concurrency: u32,
}

impl Default for AssetSettings {
    fn default() -> Self {
        AssetSettings {
            memory_bytes: 64 << 20,
            memory_object_bytes: 1 << 20,
            disk_bytes: 2 << 30,
            max_object_bytes: 256 << 20,
            offline_stale: SignedDuration::from_hours(24),
            folder_max_age: SignedDuration::from_mins(5),
            origin_timeout: SignedDuration::from_secs(30),
            peer_timeout_ms: 150,
            warm: Vec::new(),
            warm_listing: None,
            warm_concurrency: 8,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Item {
    pub sku: String,
    pub name: String,
    /// Minor units of `currency`.
    pub price: Minor,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "EUR"))]
    pub currency: Currency,
    pub category: String,
    /// Units the booth brought; `None` when stock is not tracked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PricingSettings {
    /// Customer tiers a quote may name (e.g. "member", "staff").
    pub tiers: Vec<String>,
    /// The code that opens a tier to a customer (tier → code). A tier without one is
    /// priced only for staff.
    pub tier_codes: std::collections::BTreeMap<String, String>,
    /// How long a quote token stays valid.
    pub quote_ttl: SignedDuration,
    pub max_lines: u32,
    pub max_qty_per_line: u32,
    pub max_units: u32,
}

impl Default for PricingSettings {
    fn default() -> Self {
        PricingSettings {
            tiers: Vec::new(),
            tier_codes: std::collections::BTreeMap::new(),
            quote_ttl: SignedDuration::from_mins(5),
            max_lines: 50,
            max_qty_per_line: 99,
            max_units: 500,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Promotion {
    pub id: String,
    pub name: String,
    pub kind: PromotionKind,
    /// Higher runs first; ties keep manifest order.
    pub priority: i32,
    pub stacking: Stacking,
    /// Empty: everyone. Otherwise only quotes for one of these tiers.
    pub tiers: Vec<String>,
    /// Minimum basket subtotal at list prices.
    pub min_basket: Option<Minor>,
    /// Most this promotion may take off one order.
    pub cap: Option<Minor>,
    /// Most units (percent/amount off items) or sets (bundles, buy-X-get-Y) per order.
    pub max_applications: Option<u32>,
    pub windows: Vec<WeeklyWindow>,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Stacking {
    /// Applies only to units no other promotion has discounted, and then no other
    /// promotion touches those units.
    Exclusive,
    /// Combines with other stackable promotions, each on the price left by the ones
    /// before it.
    Stackable,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PromotionKind {
    PercentOff { target: PromotionTarget, percent: u32 },
    AmountOff { target: PromotionTarget, amount: Minor },
    Bundle { components: Vec<(Selector, u32)>, price: Minor },
    BuyXGetY { buy: (Selector, u32), get: (Selector, u32), percent: u32 },
}

#[derive(Debug, Clone, PartialEq)]
pub enum PromotionTarget {
    Items(Selector),
    Basket,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    Skus(Vec<String>),
    Category(String),
}

/// A weekly window in the event's time zone, e.g. Fri–Sat 17:00–19:00. A window whose
/// end is not after its start runs past midnight into the next day.
#[derive(Debug, Clone, PartialEq)]
pub struct WeeklyWindow {
    pub days: Vec<civil::Weekday>,
    /// Minutes after midnight.
    pub from: u16,
    pub to: u16,
}

#[derive(Debug, Clone, Default)]
pub struct CostModel {
    pub edge_per_1k_executions: Option<Minor>,
    pub egress_per_gb: Option<Minor>,
    pub transcode_per_minute: Option<Minor>,
    pub upstream_per_1k_calls: Option<Minor>,
}

#[derive(Debug, Clone)]
pub struct Budgets {
    pub total: Option<Minor>,
    pub edge: Option<Minor>,
    pub egress: Option<Minor>,
    pub transcode: Option<Minor>,
    pub upstream: Option<Minor>,
    /// Percent of a budget at which spend turns from ok to warn.
    pub warn_at_percent: u32,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            total: None,
            edge: None,
            egress: None,
            transcode: None,
            upstream: None,
            warn_at_percent: 80,
        }
    }
}

#[derive(Clone, Default)]
pub struct Pairing {
    /// Shared secret of the booths of one event. Never logged.
    pub key: Option<String>,
    pub peers: Vec<Peer>,
}

impl std::fmt::Debug for Pairing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pairing")
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("peers", &self.peers)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct Peer {
    pub name: String,
    pub url: url::Url,
    /// SHA-256 of the peer's booth CA certificate (64 lowercase hex digits); its TLS
    /// certificate must chain to that CA. `None`: the public roots (an organisation's
    /// certificate).
    pub ca: Option<String>,
}

/// One thing wrong with a manifest, where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

/// Every problem found in a manifest (never empty).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the manifest has {} problem(s); first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
pub struct Problems(pub Vec<Problem>);

impl Manifest {
    pub fn item(&self, sku: &str) -> Option<&Item> {
        self.catalogue.iter().find(|i| i.sku == sku)
    }

    /// A degrade level by name; `normal` is always there.
    pub fn level(&self, name: &str) -> Option<DegradeLevel> {
        if name == controls::NORMAL {
            return Some(DegradeLevel::normal());
        }
        self.degrade.iter().find(|l| l.name == name).cloned()
    }
}

#[cfg(test)]
mod tests;
