//! TOML text → `Manifest`, collecting every problem with its line and column.
//!
//! The TOML is first read (the `toml` crate) into raw structures whose fields carry their byte
//! spans (`Spanned`), then checked field by field; a problem points at the value that
//! is wrong, not at the table that holds it.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::PathBuf;

use jiff::{civil::Weekday, tz::TimeZone, SignedDuration, Timestamp};
use serde::Deserialize;
use serde_spanned::Spanned;
use toml::Value;

use super::*;
use crate::money::MAX_UNIT_PRICE;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    event: Spanned<RawEvent>,
    #[serde(default)]
    node: RawNode,
    #[serde(default)]
    uplink: RawUplink,
    #[serde(default)]
    assets: RawAssets,
    /// `None` when the text does not name it at all (`read_in_pieces` tells that apart
    /// from an empty inline array, which tables elsewhere may not add to).
    #[serde(default)]
    catalogue: Option<Vec<Spanned<RawItem>>>,
    #[serde(default)]
    pricing: RawPricing,
    #[serde(default)]
    promotions: Option<Vec<Spanned<RawPromotion>>>,
    #[serde(default)]
    costs: RawCosts,
    #[serde(default)]
    budgets: RawBudgets,
    #[serde(default)]
    pairing: RawPairing,
    #[serde(default)]
    telemetry: RawTelemetry,
    #[serde(default)]
    discovery: RawDiscovery,
    #[serde(default)]
    media: RawMedia,
    #[serde(default)]
    offline: RawOffline,
    #[serde(default)]
    degrade: Vec<Spanned<controls::RawDegrade>>,
    #[serde(default)]
    runbooks: Vec<Spanned<controls::RawRunbook>>,
    #[serde(default)]
    teardown: RawTeardown,
    #[serde(default)]
    payments: selling::RawPayments,
    #[serde(default)]
    pickup: selling::RawPickup,
    #[serde(default)]
    shop: selling::RawShop,
    #[serde(default)]
    kiosk_offline: selling::RawKioskOffline,
    #[serde(default)]
    printers: Vec<printing::RawPrinter>,
    #[serde(default)]
    printing: printing::RawPrinting,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTeardown {
    after_end: Option<Spanned<String>>,
    export_dir: Option<Spanned<String>>,
    wait: Option<Spanned<String>>,
    countdown: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    id: Spanned<String>,
    name: Spanned<String>,
    starts_at: Spanned<Value>,
    ends_at: Spanned<Value>,
    timezone: Spanned<String>,
    ttl: Spanned<String>,
    currency: Spanned<String>,
    logo: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawNode {
    listen: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    certificate: Option<Spanned<String>>,
    certificate_key: Option<Spanned<String>>,
    shop_on_http: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTelemetry {
    p95_target_ms: Option<Spanned<i64>>,
    p99_target_ms: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDiscovery {
    enabled: Option<bool>,
    role: Option<Spanned<String>>,
    #[serde(default)]
    extra_types: Vec<Spanned<String>>,
    probe_every: Option<Spanned<String>>,
    gone_after: Option<Spanned<String>>,
    max_devices: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawUplink {
    origin: Option<Spanned<String>>,
    fallback_origin: Option<Spanned<String>>,
    upstream: Option<Spanned<String>>,
    credential: Option<Spanned<String>>,
    booth: Option<Spanned<String>>,
    probe_every: Option<Spanned<String>>,
    probe_timeout: Option<Spanned<String>>,
    down_after: Option<Spanned<i64>>,
    up_after: Option<Spanned<i64>>,
    batch: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawOffline {
    max_order: Option<Spanned<i64>>,
    max_exposure: Option<Spanned<i64>>,
    max_queue_age: Option<Spanned<String>>,
    applies_to: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMedia {
    max_upload: Option<Spanned<String>>,
    quota: Option<Spanned<String>>,
    max_open_uploads: Option<Spanned<i64>>,
    unfinished_expire_after: Option<Spanned<String>>,
    forward: Option<Spanned<bool>>,
    forward_token: Option<Spanned<String>>,
    ffmpeg: Option<Spanned<String>>,
    ffprobe: Option<Spanned<String>>,
    max_transcodes: Option<Spanned<i64>>,
    degraded_transcodes: Option<Spanned<i64>>,
    transcode_timeout: Option<Spanned<String>>,
    max_queued_transcodes: Option<Spanned<i64>>,
    presets: Option<Vec<Spanned<RawPreset>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPreset {
    name: Spanned<String>,
    /// `mp4` or `jpeg`.
    format: Spanned<String>,
    height: Spanned<i64>,
    crf: Option<Spanned<i64>>,
    speed: Option<Spanned<String>>,
    audio_kbps: Option<Spanned<i64>>,
    /// Posters: where in the clip, e.g. "1s".
    at: Option<Spanned<String>>,
    essential: Option<bool>,
    degraded: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAssets {
    memory: Option<Spanned<String>>,
    memory_object: Option<Spanned<String>>,
    disk: Option<Spanned<String>>,
    max_object: Option<Spanned<String>>,
    offline_stale: Option<Spanned<String>>,
    folder_max_age: Option<Spanned<String>>,
    origin_timeout: Option<Spanned<String>>,
    peer_timeout_ms: Option<Spanned<i64>>,
    #[serde(default)]
    warm: Vec<Spanned<String>>,
    warm_listing: Option<Spanned<String>>,
    warm_concurrency: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    sku: Spanned<String>,
    name: Spanned<String>,
    price: Spanned<i64>,
    currency: Option<Spanned<String>>,
    category: Spanned<String>,
    stock: Option<Spanned<i64>>,
    description: Option<Spanned<String>>,
    image: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPricing {
    #[serde(default)]
    tiers: Vec<Spanned<String>>,
    /// Tier → the code that opens it for a customer (a crew badge, a member card).
    #[serde(default)]
    tier_codes: std::collections::BTreeMap<String, Spanned<String>>,
    quote_ttl: Option<Spanned<String>>,
    max_lines: Option<Spanned<i64>>,
    max_qty_per_line: Option<Spanned<i64>>,
    max_units: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPromotion {
    id: Spanned<String>,
    name: Spanned<String>,
    kind: Spanned<String>,
    applies_to: Option<Spanned<Value>>,
    percent: Option<Spanned<i64>>,
    amount: Option<Spanned<i64>>,
    items: Option<Spanned<Vec<Spanned<Value>>>>,
    price: Option<Spanned<i64>>,
    buy: Option<Spanned<Value>>,
    get: Option<Spanned<Value>>,
    priority: Option<Spanned<i64>>,
    stacking: Option<Spanned<String>>,
    #[serde(default)]
    tiers: Vec<Spanned<String>>,
    min_basket: Option<Spanned<i64>>,
    cap: Option<Spanned<i64>>,
    max_applications: Option<Spanned<i64>>,
    #[serde(default)]
    windows: Vec<Spanned<RawWindow>>,
    valid_from: Option<Spanned<Value>>,
    valid_until: Option<Spanned<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    days: Spanned<Vec<Spanned<String>>>,
    from: Spanned<String>,
    to: Spanned<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCosts {
    edge_per_1k_executions: Option<Spanned<i64>>,
    egress_per_gb: Option<Spanned<i64>>,
    transcode_per_minute: Option<Spanned<i64>>,
    upstream_per_1k_calls: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBudgets {
    total: Option<Spanned<i64>>,
    edge: Option<Spanned<i64>>,
    egress: Option<Spanned<i64>>,
    transcode: Option<Spanned<i64>>,
    upstream: Option<Spanned<i64>>,
    warn_at_percent: Option<Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPairing {
    key: Option<Spanned<String>>,
    #[serde(default)]
    peers: Vec<Spanned<RawPeer>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeer {
    name: Spanned<String>,
    url: Spanned<String>,
    ca: Option<Spanned<String>>,
}

/// Collects problems against the source text.
pub(super) struct Checker<'a> {
    text: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    pub(super) fn at(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = line_column(self.text, span.start);
        self.problems.push(Problem { line, column, message: message.into() });
    }

    /// At `span` when there is one, else at the top of the file.
    pub(super) fn at_opt(&mut self, span: Option<Range<usize>>, message: impl Into<String>) {
        self.at(span.unwrap_or(0..0), message);
    }

    /// A name or free text: trimmed, non-empty, at most `max` characters.
    pub(super) fn text(&mut self, value: &Spanned<String>, what: &str, max: usize) -> String {
        let text = value.get_ref().trim();
        if text.is_empty() {
            self.at(value.span(), format!("{what} must not be empty"));
        } else if text.chars().count() > max {
            self.at(value.span(), format!("{what} is longer than {max} characters"));
        } else if text.chars().any(char::is_control) {
            self.at(value.span(), format!("{what} contains control characters"));
        }
        text.to_owned()
    }

    /// An identifier: 1..=64 of letters, digits, '-', '_' and '.'.
    pub(super) fn ident(&mut self, value: &Spanned<String>, what: &str) -> String {
        let text = value.get_ref();
        let ok = !text.is_empty()
            && text.len() <= 64
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !ok {
            self.at(
                value.span(),
                format!("{what} `{text}` must be 1 to 64 letters, digits, '-', '_' or '.'"),
            );
        }
        text.clone()
    }

    pub(super) fn amount(&mut self, value: &Spanned<i64>, what: &str, max: i64) -> Minor {
        let v = *value.get_ref();
        if !(0..=max).contains(&v) {
            self.at(
                value.span(),
                format!("{what} must be between 0 and {max} (minor units), not {v}"),
            );
        }
        v.clamp(0, max)
    }

    pub(super) fn int(&mut self, value: &Spanned<i64>, what: &str, min: i64, max: i64) -> i64 {
        let v = *value.get_ref();
        if !(min..=max).contains(&v) {
            self.at(value.span(), format!("{what} must be between {min} and {max}, not {v}"));
        }
        v.clamp(min, max)
    }

    pub(super) fn count(&mut self, value: &Spanned<i64>, what: &str, min: u32, max: u32) -> u32 {
        self.int(value, what, i64::from(min), i64::from(max)) as u32
    }

    pub(super) fn duration(
        &mut self,
        value: &Spanned<String>,
        what: &str,
        min: SignedDuration,
        max: SignedDuration,
    ) -> SignedDuration {
        match parse_duration(value.get_ref()) {
            Some(d) if d >= min && d <= max => d,
            Some(_) => {
                self.at(
                    value.span(),
                    format!(
                        "{what} must be between {} and {}",
                        show_duration(min),
                        show_duration(max)
                    ),
                );
                min
            }
            None => {
                self.at(
                    value.span(),
                    format!("{what} `{}` is not a duration such as \"90s\", \"5m\", \"72h\" or \"3d 12h\"", value.get_ref()),
                );
                min
            }
        }
    }

    pub(super) fn instant(&mut self, value: &Spanned<Value>, what: &str) -> Option<Timestamp> {
        let text = match value.get_ref() {
            Value::String(s) => s.clone(),
            Value::Datetime(d) => d.to_string(),
            _ => {
                self.at(
                    value.span(),
                    format!("{what} must be a date-time such as 2026-12-05T10:00:00+01:00"),
                );
                return None;
            }
        };
        match text.parse::<Timestamp>() {
            Ok(t) => Some(t),
            Err(_) => {
                self.at(value.span(), format!("{what} `{text}` must be a date-time with an offset, such as 2026-12-05T10:00:00+01:00"));
                None
            }
        }
    }

    /// "64 MiB", "2 GiB", "512 KiB", "1000 B" (binary units), between `min` and `max`.
    pub(super) fn size(&mut self, value: &Spanned<String>, what: &str, min: u64, max: u64) -> u64 {
        match parse_size(value.get_ref()) {
            Some(n) if (min..=max).contains(&n) => n,
            Some(_) => {
                self.at(
                    value.span(),
                    format!("{what} must be between {} and {}", show_size(min), show_size(max)),
                );
                min
            }
            None => {
                self.at(
                    value.span(),
                    format!(
                        "{what} `{}` is not a size such as \"64 MiB\" or \"2 GiB\"",
                        value.get_ref()
                    ),
                );
                min
            }
        }
    }

    /// An asset path as a client would request it under /assets/: relative, no `..`.
    pub(super) fn asset_path(&mut self, value: &Spanned<String>, what: &str) -> String {
        let text = value.get_ref();
        // A prefix ("img/") is checked as the folder it names.
        if crate::cache::key::AssetPath::parse(text.strip_suffix('/').unwrap_or(text)).is_err() {
            self.at(value.span(), format!("{what} `{text}` must be a relative path such as img/mug.jpg (no `..`, no leading `/`)"));
        }
        text.clone()
    }

    pub(super) fn url(&mut self, value: &Spanned<String>, what: &str) -> Option<url::Url> {
        match url::Url::parse(value.get_ref()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Some(u),
            _ => {
                self.at(
                    value.span(),
                    format!("{what} `{}` must be an http:// or https:// URL", value.get_ref()),
                );
                None
            }
        }
    }
}

/// "90s", "5m", "72h", "3d 12h", "500ms": whole numbers with units ms, s, m, h, d (a
/// day is 24 h).
pub(super) fn parse_duration(text: &str) -> Option<SignedDuration> {
    let mut total: i64 = 0;
    let mut parts = 0;
    for part in text.split_whitespace() {
        let split = part.find(|c: char| !c.is_ascii_digit())?;
        let (number, unit) = part.split_at(split);
        let n: i64 = number.parse().ok()?;
        let millis = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(millis)?)?;
        parts += 1;
    }
    (parts > 0).then(|| SignedDuration::from_millis(total))
}

/// "64 MiB", "2GiB", "512 KiB", "100 B", "1000": a whole number with a binary unit.
pub(super) fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let shift = match unit.trim() {
        "" | "B" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        _ => return None,
    };
    n.checked_mul(1 << shift)
}

fn show_size(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

/// The largest whole unit that divides the duration: "1000d", "5m", "90s".
pub fn show_duration(d: SignedDuration) -> String {
    if d.subsec_millis() != 0 {
        return format!("{}ms", d.as_millis());
    }
    let s = d.as_secs();
    match s {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Parses and checks a manifest. On failure, every problem found, in text order.
pub fn parse(text: &str) -> Result<Manifest, Problems> {
    if text.len() > MAX_MANIFEST_BYTES {
        return Err(Problems(vec![Problem {
            line: 1,
            column: 1,
            message: format!("the manifest is larger than {} bytes", MAX_MANIFEST_BYTES),
        }]));
    }
    checked(text, toml::from_str(text))
}

/// Checks what was read; a TOML error is the one problem.
fn checked(text: &str, read: Result<RawManifest, toml::de::Error>) -> Result<Manifest, Problems> {
    let raw = match read {
        Ok(raw) => raw,
        Err(e) => {
            let (line, column) = e.span().map_or((1, 1), |s| line_column(text, s.start));
            return Err(Problems(vec![Problem {
                line,
                column,
                message: e.message().trim().to_owned(),
            }]));
        }
    };
    let mut c = Checker { text, problems: Vec::new() };
    let manifest = check(&mut c, raw);
    if c.problems.is_empty() {
        Ok(manifest)
    } else {
        c.problems.sort_by_key(|p| (p.line, p.column));
        Err(Problems(c.problems))
    }
}

fn check(c: &mut Checker, raw: RawManifest) -> Manifest {
    let event = check_event(c, raw.event);
    let node = NodeSettings {
        listen: raw.node.listen.as_ref().and_then(|l| match l.get_ref().parse() {
            Ok(addr) => Some(addr),
            Err(_) => {
                c.at(
                    l.span(),
                    format!(
                        "node.listen `{}` must be an address and port such as 0.0.0.0:8787",
                        l.get_ref()
                    ),
                );
                None
            }
        }),
        name: raw.node.name.as_ref().map(|n| c.text(n, "node.name", 64)),
        certificate: check_certificate(c, &raw.node),
        shop_on_http: raw.node.shop_on_http.unwrap_or(true),
    };
    let origin = |c: &mut Checker, o: &Spanned<String>, what: &str| {
        let text = o.get_ref();
        if text == "demo:storefront" {
            Some(Origin::DemoStorefront)
        } else if text.starts_with('/') {
            Some(Origin::Folder(text.into()))
        } else {
            c.url(o, what).map(Origin::Url)
        }
    };
    let uplink = UplinkSettings {
        origin: raw.uplink.origin.as_ref().and_then(|o| origin(c, o, "uplink.origin")),
        fallback_origin: raw
            .uplink
            .fallback_origin
            .as_ref()
            .and_then(|o| origin(c, o, "uplink.fallback_origin")),
        upstream: raw.uplink.upstream.as_ref().and_then(|u| c.url(u, "uplink.upstream")),
        credential: raw.uplink.credential.as_ref().map(|v| c.text(v, "uplink.credential", 512)),
        booth: raw.uplink.booth.as_ref().map(|v| c.ident(v, "uplink.booth")),
        sync: {
            let d = SyncSettings::default();
            let ms = SignedDuration::from_millis;
            SyncSettings {
                probe_every: raw.uplink.probe_every.as_ref().map_or(d.probe_every, |v| {
                    c.duration(v, "uplink.probe_every", ms(100), ms(60_000))
                }),
                probe_timeout: raw.uplink.probe_timeout.as_ref().map_or(d.probe_timeout, |v| {
                    c.duration(v, "uplink.probe_timeout", ms(100), ms(30_000))
                }),
                down_after: raw
                    .uplink
                    .down_after
                    .as_ref()
                    .map_or(d.down_after, |v| c.count(v, "uplink.down_after", 1, 20)),
                up_after: raw
                    .uplink
                    .up_after
                    .as_ref()
                    .map_or(d.up_after, |v| c.count(v, "uplink.up_after", 1, 20)),
                batch: raw.uplink.batch.as_ref().map_or(d.batch, |v| {
                    c.count(
                        v,
                        "uplink.batch",
                        1,
                        crate::hub_protocol::wire::MAX_BATCH_ORDERS as u32,
                    )
                }),
            }
        },
    };
    if let (Some(b), None) = (&raw.uplink.booth, &raw.uplink.credential) {
        c.at(b.span(), "uplink.booth needs uplink.credential (print it on the hub with `boothcloud-node hub credential ID`)");
    }
    let assets = check_assets(c, raw.assets);
    let pricing = check_pricing(c, raw.pricing);
    let catalogue =
        check_catalogue(c, raw.catalogue.as_deref().unwrap_or_default(), event.currency);
    let promotions = check_promotions(
        c,
        raw.promotions.as_deref().unwrap_or_default(),
        &catalogue,
        &pricing.tiers,
    );
    let costs = RawCostsChecked::from(c, raw.costs);
    let budgets = check_budgets(c, raw.budgets);
    let pairing = check_pairing(c, raw.pairing);
    let d = TelemetrySettings::default();
    let telemetry = TelemetrySettings {
        p95_target_ms: raw
            .telemetry
            .p95_target_ms
            .as_ref()
            .map_or(d.p95_target_ms, |v| c.count(v, "telemetry.p95_target_ms", 1, 600_000)),
        p99_target_ms: raw
            .telemetry
            .p99_target_ms
            .as_ref()
            .map_or(d.p99_target_ms, |v| c.count(v, "telemetry.p99_target_ms", 1, 600_000)),
    };
    let discovery = check_discovery(c, raw.discovery);
    let media = check_media(c, raw.media, uplink.upstream.is_some());
    let offline = check_offline(c, raw.offline);
    let teardown = check_teardown(c, raw.teardown);
    let skus: Vec<&str> = catalogue.iter().map(|i| i.sku.as_str()).collect();
    let selling =
        selling::check_selling(c, raw.payments, raw.pickup, raw.shop, raw.kiosk_offline, &skus);
    let printing = printing::check_printing(c, raw.printing, &raw.printers);
    let degrade = controls::check_degrade(c, &raw.degrade);
    let runbooks =
        controls::check_runbooks(c, &raw.runbooks, &degrade, raw.uplink.fallback_origin.is_some());
    Manifest {
        event,
        node,
        uplink,
        assets,
        catalogue,
        pricing,
        promotions,
        costs,
        budgets,
        pairing,
        telemetry,
        discovery,
        media,
        offline,
        teardown,
        degrade,
        runbooks,
        selling,
        printing,
    }
}

fn check_event(c: &mut Checker, raw: Spanned<RawEvent>) -> Event {
    let span = raw.span();
    let raw = raw.into_inner();
    let id = c.ident(&raw.id, "event.id");
    let name = c.text(&raw.name, "event.name", 120);
    let starts_at = c.instant(&raw.starts_at, "event.starts_at");
    let ends_at = c.instant(&raw.ends_at, "event.ends_at");
    if let (Some(s), Some(e)) = (starts_at, ends_at) {
        if e <= s {
            c.at(raw.ends_at.span(), "event.ends_at must be after event.starts_at");
        }
    }
    let timezone = match TimeZone::get(raw.timezone.get_ref()) {
        Ok(tz) => tz,
        Err(_) => {
            c.at(
                raw.timezone.span(),
                format!(
                    "event.timezone `{}` is not a known time zone such as Europe/Berlin",
                    raw.timezone.get_ref()
                ),
            );
            TimeZone::UTC
        }
    };
    let ttl = c.duration(
        &raw.ttl,
        "event.ttl",
        SignedDuration::from_mins(1),
        SignedDuration::from_hours(24 * 1000),
    );
    let currency = Currency::parse(raw.currency.get_ref()).unwrap_or_else(|| {
        c.at(
            raw.currency.span(),
            format!(
                "event.currency `{}` must be a three-letter code such as EUR",
                raw.currency.get_ref()
            ),
        );
        Currency::parse("XXX").expect("XXX is a currency code")
    });
    let logo = raw.logo.as_ref().and_then(|v| match crate::cache::key::AssetPath::parse(v.get_ref()) {
        Ok(path) => Some(path),
        Err(_) => {
            c.at(
                v.span(),
                format!(
                    "event.logo `{}` must be the logo's path among the assets, such as img/logo.png (relative, no `..`)",
                    v.get_ref()
                ),
            );
            None
        }
    });
    let starts_at = starts_at.unwrap_or(Timestamp::UNIX_EPOCH);
    let ends_at = ends_at.unwrap_or(starts_at);
    let expires_at = starts_at.checked_add(ttl).unwrap_or_else(|_| {
        c.at(span.clone(), "event.starts_at + event.ttl is out of range");
        starts_at
    });
    Event {
        id,
        name,
        starts_at,
        ends_at,
        timezone,
        timezone_name: raw.timezone.into_inner(),
        ttl,
        expires_at,
        currency,
        logo,
    }
}

fn check_assets(c: &mut Checker, raw: RawAssets) -> AssetSettings {
    const KIB: u64 = 1 << 10;
    const GIB: u64 = 1 << 30;
    let d = AssetSettings::default();
    let size =
        |c: &mut Checker,
         v: &Option<Spanned<String>>,
         what: &str,
         min: u64,
         max: u64,
         default: u64| { v.as_ref().map_or(default, |v| c.size(v, what, min, max)) };
    let duration = |c: &mut Checker, v: &Option<Spanned<String>>, what: &str, min, max, default| {
        v.as_ref().map_or(default, |v| c.duration(v, what, min, max))
    };
    let memory_bytes = size(c, &raw.memory, "assets.memory", 0, 16 * GIB, d.memory_bytes);
    let memory_object_bytes =
        size(c, &raw.memory_object, "assets.memory_object", KIB, 64 << 20, d.memory_object_bytes);
    let disk_bytes = size(c, &raw.disk, "assets.disk", 0, 1 << 40, d.disk_bytes);
    let max_object_bytes =
        size(c, &raw.max_object, "assets.max_object", KIB, 16 * GIB, d.max_object_bytes);
    if raw.warm.len() > 10_000 {
        c.at(
            raw.warm[10_000].span(),
            "assets.warm lists more than 10000 paths; use assets.warm_listing",
        );
    }
    let warm = raw.warm.iter().take(10_000).map(|p| c.asset_path(p, "assets.warm entry")).collect();
    AssetSettings {
        memory_bytes,
        memory_object_bytes,
        disk_bytes,
        max_object_bytes,
        offline_stale: duration(
            c,
            &raw.offline_stale,
            "assets.offline_stale",
            SignedDuration::ZERO,
            SignedDuration::from_hours(24 * 30),
            d.offline_stale,
        ),
        folder_max_age: duration(
            c,
            &raw.folder_max_age,
            "assets.folder_max_age",
            SignedDuration::ZERO,
            SignedDuration::from_hours(24 * 365),
            d.folder_max_age,
        ),
        origin_timeout: duration(
            c,
            &raw.origin_timeout,
            "assets.origin_timeout",
            SignedDuration::from_secs(1),
            SignedDuration::from_mins(30),
            d.origin_timeout,
        ),
        peer_timeout_ms: raw
            .peer_timeout_ms
            .as_ref()
            .map_or(d.peer_timeout_ms, |v| c.count(v, "assets.peer_timeout_ms", 10, 5000)),
        warm,
        warm_listing: raw.warm_listing.as_ref().map(|p| c.asset_path(p, "assets.warm_listing")),
        warm_concurrency: raw
            .warm_concurrency
            .as_ref()
            .map_or(d.warm_concurrency, |v| c.count(v, "assets.warm_concurrency", 1, 64)),
    }
}

/// Shortest and longest tier code (long enough not to be guessed in a few tries; the
/// edge's rate limits do the rest).
const MIN_TIER_CODE: usize = 8;
const MAX_TIER_CODE: usize = 128;

fn check_pricing(c: &mut Checker, raw: RawPricing) -> PricingSettings {
    let d = PricingSettings::default();
    let mut seen = HashSet::new();
    let tiers = raw
        .tiers
        .iter()
        .map(|t| {
            let tier = c.ident(t, "tier");
            if !seen.insert(tier.clone()) {
                c.at(t.span(), format!("tier `{tier}` is listed twice"));
            }
            tier
        })
        .collect::<Vec<_>>();
    if tiers.len() > 32 {
        c.at(raw.tiers[32].span(), "at most 32 tiers");
    }
    let mut tier_codes = std::collections::BTreeMap::new();
    for (tier, code) in &raw.tier_codes {
        if !tiers.contains(tier) {
            c.at(
                code.span(),
                format!("pricing.tier_codes names `{tier}`, which is not in pricing.tiers"),
            );
        } else if !(MIN_TIER_CODE..=MAX_TIER_CODE).contains(&code.get_ref().chars().count())
            || code.get_ref().chars().any(char::is_control)
        {
            c.at(
                code.span(),
                format!("the code for tier `{tier}` must be {MIN_TIER_CODE} to {MAX_TIER_CODE} characters, none of them control characters"),
            );
        } else {
            tier_codes.insert(tier.clone(), code.get_ref().clone());
        }
    }
    PricingSettings {
        tiers,
        tier_codes,
        quote_ttl: raw.quote_ttl.as_ref().map_or(d.quote_ttl, |t| {
            c.duration(
                t,
                "pricing.quote_ttl",
                SignedDuration::from_secs(1),
                SignedDuration::from_hours(24),
            )
        }),
        max_lines: raw
            .max_lines
            .as_ref()
            .map_or(d.max_lines, |v| c.count(v, "pricing.max_lines", 1, 200)),
        max_qty_per_line: raw
            .max_qty_per_line
            .as_ref()
            .map_or(d.max_qty_per_line, |v| c.count(v, "pricing.max_qty_per_line", 1, 10_000)),
        max_units: raw
            .max_units
            .as_ref()
            .map_or(d.max_units, |v| c.count(v, "pricing.max_units", 1, 10_000)),
    }
}

fn check_catalogue(c: &mut Checker, raw: &[Spanned<RawItem>], currency: Currency) -> Vec<Item> {
    if raw.len() > MAX_ITEMS {
        c.at(raw[MAX_ITEMS].span(), format!("the catalogue has more than {MAX_ITEMS} items"));
    }
    let mut seen = HashSet::new();
    raw.iter()
        .map(|item| {
            let r = item.get_ref();
            let sku = c.ident(&r.sku, "sku");
            if !seen.insert(sku.clone()) {
                c.at(r.sku.span(), format!("sku `{sku}` appears twice in the catalogue"));
            }
            if let Some(cur) = &r.currency {
                if cur.get_ref() != currency.as_str() {
                    c.at(
                        cur.span(),
                        format!(
                            "item currency `{}` differs from the event currency {currency}",
                            cur.get_ref()
                        ),
                    );
                }
            }
            Item {
                name: c.text(&r.name, "item name", 120),
                price: c.amount(&r.price, "price", MAX_UNIT_PRICE),
                currency,
                category: c.ident(&r.category, "category"),
                stock: r.stock.as_ref().map(|s| c.count(s, "stock", 0, 10_000_000)),
                description: r.description.as_ref().map(|d| c.text(d, "description", 500)),
                image: r.image.as_ref().map(|i| c.text(i, "image", 300)),
                sku,
            }
        })
        .collect()
}

/// Reads `{ sku = "X" }`, `{ skus = ["X", "Y"] }` or `{ category = "c" }`, with an
/// optional `qty` where `with_qty` (bundle components, buy/get).
fn selector(
    c: &mut Checker,
    value: &Spanned<Value>,
    what: &str,
    skus: &HashSet<&str>,
    categories: &HashSet<&str>,
    with_qty: bool,
) -> Option<(Selector, u32)> {
    let span = value.span();
    let Value::Table(table) = value.get_ref() else {
        c.at(span, format!("{what} must be a table such as {{ sku = \"TEE-01\" }} or {{ category = \"drinks\" }}"));
        return None;
    };
    let mut qty = 1;
    let mut sel = None;
    for (key, v) in table {
        match (key.as_str(), v) {
            ("sku", Value::String(s)) => {
                if !skus.contains(s.as_str()) {
                    c.at(
                        span.clone(),
                        format!("{what} names sku `{s}`, which is not in the catalogue"),
                    );
                }
                sel = Some(Selector::Skus(vec![s.clone()]));
            }
            ("skus", Value::Array(list)) => {
                let mut out = Vec::new();
                for s in list {
                    match s {
                        Value::String(s) if skus.contains(s.as_str()) => out.push(s.clone()),
                        Value::String(s) => c.at(
                            span.clone(),
                            format!("{what} names sku `{s}`, which is not in the catalogue"),
                        ),
                        _ => c.at(span.clone(), format!("{what}: skus must be strings")),
                    }
                }
                if list.is_empty() {
                    c.at(span.clone(), format!("{what}: skus must not be empty"));
                }
                sel = Some(Selector::Skus(out));
            }
            ("category", Value::String(s)) => {
                if !categories.contains(s.as_str()) {
                    c.at(
                        span.clone(),
                        format!("{what} names category `{s}`, which no catalogue item has"),
                    );
                }
                sel = Some(Selector::Category(s.clone()));
            }
            ("qty", Value::Integer(q)) if with_qty => {
                if !(1..=100).contains(q) {
                    c.at(span.clone(), format!("{what}: qty must be between 1 and 100"));
                }
                qty = (*q).clamp(1, 100) as u32;
            }
            (other, _) => {
                c.at(
                    span.clone(),
                    format!(
                        "{what}: unexpected key `{other}` (expected sku, skus, category{})",
                        if with_qty { " or qty" } else { "" }
                    ),
                );
            }
        }
    }
    if sel.is_none() {
        c.at(span, format!("{what} must name a sku, skus or a category"));
    }
    sel.map(|s| (s, qty))
}

fn check_promotions(
    c: &mut Checker,
    raw: &[Spanned<RawPromotion>],
    catalogue: &[Item],
    tiers: &[String],
) -> Vec<Promotion> {
    if raw.len() > MAX_PROMOTIONS {
        c.at(raw[MAX_PROMOTIONS].span(), format!("more than {MAX_PROMOTIONS} promotions"));
    }
    let skus: HashSet<&str> = catalogue.iter().map(|i| i.sku.as_str()).collect();
    let categories: HashSet<&str> = catalogue.iter().map(|i| i.category.as_str()).collect();
    let mut seen = HashMap::new();
    let mut out = Vec::with_capacity(raw.len());
    for spanned in raw {
        let span = spanned.span();
        let r = spanned.get_ref();
        let id = c.ident(&r.id, "promotion id");
        if seen.insert(id.clone(), ()).is_some() {
            c.at(r.id.span(), format!("promotion id `{id}` is used twice"));
        }
        let name = c.text(&r.name, "promotion name", 120);
        let percent = |c: &mut Checker, default: Option<u32>| match (&r.percent, default) {
            (Some(p), _) => Some(c.count(p, "percent", 1, 100)),
            (None, Some(d)) => Some(d),
            (None, None) => {
                c.at(
                    span.clone(),
                    format!("promotion `{id}` of kind {} needs `percent`", r.kind.get_ref()),
                );
                None
            }
        };
        let target = |c: &mut Checker| match &r.applies_to {
            Some(v) if matches!(v.get_ref(), Value::String(s) if s == "basket") => {
                Some(PromotionTarget::Basket)
            }
            Some(v) => selector(c, v, "applies_to", &skus, &categories, false)
                .map(|(s, _)| PromotionTarget::Items(s)),
            None => {
                c.at(
                    span.clone(),
                    format!("promotion `{id}` needs `applies_to` (\"basket\", {{ sku = .. }}, {{ skus = [..] }} or {{ category = .. }})"),
                );
                None
            }
        };
        let kind = match r.kind.get_ref().as_str() {
            "percent_off" => {
                let t = target(c);
                let p = percent(c, None);
                t.zip(p).map(|(target, percent)| PromotionKind::PercentOff { target, percent })
            }
            "amount_off" => {
                let t = target(c);
                let a = match &r.amount {
                    Some(a) => Some(c.amount(a, "amount", MAX_UNIT_PRICE)),
                    None => {
                        c.at(
                            span.clone(),
                            format!("promotion `{id}` of kind amount_off needs `amount`"),
                        );
                        None
                    }
                };
                t.zip(a).map(|(target, amount)| PromotionKind::AmountOff { target, amount })
            }
            "bundle" => {
                let components: Vec<_> = match &r.items {
                    Some(items) if !items.get_ref().is_empty() => items
                        .get_ref()
                        .iter()
                        .filter_map(|v| selector(c, v, "bundle item", &skus, &categories, true))
                        .collect(),
                    _ => {
                        c.at(span.clone(), format!("promotion `{id}` of kind bundle needs `items`, e.g. [{{ sku = \"TEE\", qty = 1 }}]"));
                        Vec::new()
                    }
                };
                let price = match &r.price {
                    Some(p) => Some(c.amount(p, "bundle price", MAX_UNIT_PRICE)),
                    None => {
                        c.at(
                            span.clone(),
                            format!("promotion `{id}` of kind bundle needs `price`"),
                        );
                        None
                    }
                };
                price
                    .filter(|_| !components.is_empty())
                    .map(|price| PromotionKind::Bundle { components, price })
            }
            "buy_x_get_y" => {
                let side = |c: &mut Checker, v: &Option<Spanned<Value>>, what: &str| match v {
                    Some(v) => selector(c, v, what, &skus, &categories, true),
                    None => {
                        c.at(
                            span.clone(),
                            format!("promotion `{id}` of kind buy_x_get_y needs `{what}`, e.g. {{ category = \"stickers\", qty = 2 }}"),
                        );
                        None
                    }
                };
                let buy = side(c, &r.buy, "buy");
                let get = side(c, &r.get, "get");
                let p = percent(c, Some(100));
                match (buy, get, p) {
                    (Some(buy), Some(get), Some(percent)) => {
                        Some(PromotionKind::BuyXGetY { buy, get, percent })
                    }
                    _ => None,
                }
            }
            other => {
                c.at(r.kind.span(), format!("promotion kind `{other}` is not one of percent_off, amount_off, bundle, buy_x_get_y"));
                None
            }
        };
        let stacking = match r.stacking.as_ref().map(|s| s.get_ref().as_str()) {
            None | Some("stackable") => Stacking::Stackable,
            Some("exclusive") => Stacking::Exclusive,
            Some(other) => {
                c.at(
                    r.stacking.as_ref().map(Spanned::span).unwrap_or(span.clone()),
                    format!("stacking `{other}` must be \"stackable\" or \"exclusive\""),
                );
                Stacking::Stackable
            }
        };
        let promo_tiers = r
            .tiers
            .iter()
            .map(|t| {
                if !tiers.contains(t.get_ref()) {
                    c.at(
                        t.span(),
                        format!("tier `{}` is not declared in pricing.tiers", t.get_ref()),
                    );
                }
                t.get_ref().clone()
            })
            .collect();
        let windows = r.windows.iter().filter_map(|w| check_window(c, w)).collect();
        let valid_from = r.valid_from.as_ref().and_then(|v| c.instant(v, "valid_from"));
        let valid_until = r.valid_until.as_ref().and_then(|v| c.instant(v, "valid_until"));
        if let (Some(f), Some(u)) = (valid_from, valid_until) {
            if u <= f {
                c.at(
                    r.valid_until.as_ref().map(Spanned::span).unwrap_or(span.clone()),
                    "valid_until must be after valid_from",
                );
            }
        }
        let promotion = Promotion {
            priority: r
                .priority
                .as_ref()
                .map_or(0, |p| c.int(p, "priority", -1_000_000, 1_000_000) as i32),
            stacking,
            tiers: promo_tiers,
            min_basket: r.min_basket.as_ref().map(|v| c.amount(v, "min_basket", i64::MAX / 4)),
            cap: r.cap.as_ref().map(|v| c.amount(v, "cap", i64::MAX / 4)),
            max_applications: r
                .max_applications
                .as_ref()
                .map(|v| c.count(v, "max_applications", 1, 10_000)),
            windows,
            valid_from,
            valid_until,
            id,
            name,
            kind: PromotionKind::PercentOff { target: PromotionTarget::Basket, percent: 0 },
        };
        if let Some(kind) = kind {
            out.push(Promotion { kind, ..promotion });
        }
    }
    out
}

fn check_window(c: &mut Checker, w: &Spanned<RawWindow>) -> Option<WeeklyWindow> {
    let r = w.get_ref();
    let mut days = Vec::new();
    for d in r.days.get_ref() {
        let day = match d.get_ref().to_ascii_lowercase().as_str() {
            "mon" | "monday" => Weekday::Monday,
            "tue" | "tuesday" => Weekday::Tuesday,
            "wed" | "wednesday" => Weekday::Wednesday,
            "thu" | "thursday" => Weekday::Thursday,
            "fri" | "friday" => Weekday::Friday,
            "sat" | "saturday" => Weekday::Saturday,
            "sun" | "sunday" => Weekday::Sunday,
            "daily" => {
                days.extend([
                    Weekday::Monday,
                    Weekday::Tuesday,
                    Weekday::Wednesday,
                    Weekday::Thursday,
                    Weekday::Friday,
                    Weekday::Saturday,
                    Weekday::Sunday,
                ]);
                continue;
            }
            other => {
                c.at(d.span(), format!("`{other}` is not a day (mon..sun, or daily)"));
                continue;
            }
        };
        days.push(day);
    }
    if r.days.get_ref().is_empty() {
        c.at(r.days.span(), "a window needs at least one day");
    }
    let from = clock_time(c, &r.from)?;
    let to = clock_time(c, &r.to)?;
    if from == to {
        c.at(r.to.span(), "a window's `to` must differ from its `from`");
        return None;
    }
    days.sort_by_key(|d| d.to_monday_zero_offset());
    days.dedup();
    Some(WeeklyWindow { days, from, to })
}

/// "HH:MM" → minutes after midnight; "24:00" is allowed as an end.
fn clock_time(c: &mut Checker, value: &Spanned<String>) -> Option<u16> {
    let text = value.get_ref();
    let parsed = text.split_once(':').and_then(|(h, m)| {
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (m < 60 && (h < 24 || (h == 24 && m == 0)) && text.len() == 5).then_some(h * 60 + m)
    });
    if parsed.is_none() {
        c.at(value.span(), format!("`{text}` is not a time of day such as 17:30"));
    }
    parsed
}

struct RawCostsChecked;

impl RawCostsChecked {
    fn from(c: &mut Checker, raw: RawCosts) -> CostModel {
        let mut rate = |v: &Option<Spanned<i64>>, what: &str| {
            v.as_ref().map(|v| c.amount(v, what, MAX_UNIT_PRICE))
        };
        CostModel {
            edge_per_1k_executions: rate(
                &raw.edge_per_1k_executions,
                "costs.edge_per_1k_executions",
            ),
            egress_per_gb: rate(&raw.egress_per_gb, "costs.egress_per_gb"),
            transcode_per_minute: rate(&raw.transcode_per_minute, "costs.transcode_per_minute"),
            upstream_per_1k_calls: rate(&raw.upstream_per_1k_calls, "costs.upstream_per_1k_calls"),
        }
    }
}

fn check_budgets(c: &mut Checker, raw: RawBudgets) -> Budgets {
    let mut budget =
        |v: &Option<Spanned<i64>>, what: &str| v.as_ref().map(|v| c.amount(v, what, i64::MAX / 4));
    let b = Budgets {
        total: budget(&raw.total, "budgets.total"),
        edge: budget(&raw.edge, "budgets.edge"),
        egress: budget(&raw.egress, "budgets.egress"),
        transcode: budget(&raw.transcode, "budgets.transcode"),
        upstream: budget(&raw.upstream, "budgets.upstream"),
        warn_at_percent: 80,
    };
    Budgets {
        warn_at_percent: raw
            .warn_at_percent
            .as_ref()
            .map_or(80, |w| c.count(w, "budgets.warn_at_percent", 1, 100)),
        ..b
    }
}

fn check_teardown(c: &mut Checker, raw: RawTeardown) -> TeardownSettings {
    let d = TeardownSettings::default();
    let export_dir = raw.export_dir.as_ref().and_then(|v| {
        let path = std::path::Path::new(v.get_ref());
        if !path.is_absolute()
            || v.get_ref().len() > 1024
            || v.get_ref().chars().any(char::is_control)
        {
            c.at(
                v.span(),
                "teardown.export_dir must be an absolute folder path (at most 1024 characters)",
            );
            return None;
        }
        Some(path.to_path_buf())
    });
    TeardownSettings {
        after_end: raw.after_end.as_ref().map(|v| {
            c.duration(
                v,
                "teardown.after_end",
                SignedDuration::ZERO,
                SignedDuration::from_hours(24 * 30),
            )
        }),
        export_dir,
        wait: raw.wait.as_ref().map_or(d.wait, |v| {
            c.duration(
                v,
                "teardown.wait",
                SignedDuration::from_secs(1),
                SignedDuration::from_hours(1),
            )
        }),
        countdown: raw.countdown.as_ref().map_or(d.countdown, |v| {
            c.duration(
                v,
                "teardown.countdown",
                SignedDuration::from_secs(10),
                SignedDuration::from_hours(1),
            )
        }),
    }
}

fn check_offline(c: &mut Checker, raw: RawOffline) -> OfflineLimits {
    let d = OfflineLimits::default();
    let applies_to = match &raw.applies_to {
        None => d.applies_to,
        Some(list) => list
            .iter()
            .filter_map(|m| {
                let ok = matches!(m.get_ref().as_str(), "card" | "cash" | "mobile" | "voucher");
                if !ok {
                    c.at(
                        m.span(),
                        format!(
                            "offline.applies_to: `{}` is not card, cash, mobile or voucher",
                            m.get_ref()
                        ),
                    );
                }
                ok.then(|| m.get_ref().clone())
            })
            .collect(),
    };
    OfflineLimits {
        max_order: raw
            .max_order
            .as_ref()
            .map(|v| c.amount(v, "offline.max_order", crate::money::MAX_UNIT_PRICE * 1000)),
        max_exposure: raw
            .max_exposure
            .as_ref()
            .map(|v| c.amount(v, "offline.max_exposure", i64::MAX / 4)),
        max_queue_age: raw.max_queue_age.as_ref().map(|v| {
            c.duration(
                v,
                "offline.max_queue_age",
                SignedDuration::from_mins(1),
                SignedDuration::from_hours(24 * 30),
            )
        }),
        applies_to,
    }
}

fn check_discovery(c: &mut Checker, raw: RawDiscovery) -> DiscoverySettings {
    let d = DiscoverySettings::default();
    let role = raw.role.as_ref().map_or(d.role.clone(), |r| {
        if !matches!(r.get_ref().as_str(), "booth" | "hub") {
            c.at(r.span(), format!("discovery.role `{}` must be `booth` or `hub`", r.get_ref()));
        }
        r.get_ref().clone()
    });
    if raw.extra_types.len() > MAX_EXTRA_DEVICE_TYPES {
        c.at(
            raw.extra_types[MAX_EXTRA_DEVICE_TYPES].span(),
            format!(
                "discovery.extra_types may list at most {MAX_EXTRA_DEVICE_TYPES} service types"
            ),
        );
    }
    let extra_types = raw
        .extra_types
        .iter()
        .filter_map(|t| {
            if is_service_type(t.get_ref()) {
                Some(t.get_ref().clone())
            } else {
                c.at(t.span(), format!("`{}` is not a DNS-SD service type such as `_pos._tcp` (a name of 1 to 15 letters, digits or '-', then _tcp or _udp)", t.get_ref()));
                None
            }
        })
        .collect();
    let probe_every = raw.probe_every.as_ref().map_or(d.probe_every, |v| {
        c.duration(
            v,
            "discovery.probe_every",
            SignedDuration::from_secs(1),
            SignedDuration::from_secs(300),
        )
    });
    let gone_after = raw.gone_after.as_ref().map_or(d.gone_after, |v| {
        c.duration(
            v,
            "discovery.gone_after",
            SignedDuration::from_secs(2),
            SignedDuration::from_secs(3600),
        )
    });
    if gone_after < probe_every * 2 {
        if let Some(v) = raw.gone_after.as_ref().or(raw.probe_every.as_ref()) {
            c.at(
                v.span(),
                "discovery.gone_after must be at least twice discovery.probe_every, or a device flickers between alive and gone",
            );
        }
    }
    DiscoverySettings {
        enabled: raw.enabled.unwrap_or(d.enabled),
        role,
        extra_types,
        probe_every,
        gone_after,
        max_devices: raw
            .max_devices
            .as_ref()
            .map_or(d.max_devices, |v| c.count(v, "discovery.max_devices", 16, 10_000)),
    }
}

fn check_media(c: &mut Checker, raw: RawMedia, has_upstream: bool) -> MediaSettings {
    let d = MediaSettings::default();
    let program = |c: &mut Checker, v: &Option<Spanned<String>>, what: &str, default: &str| {
        v.as_ref().map_or(default.to_owned(), |v| {
            let text = c.text(v, what, 4096);
            if text.is_empty() || (text.contains('/') && !text.starts_with('/')) {
                c.at(
                    v.span(),
                    format!("{what} must be a program name on PATH or an absolute path"),
                );
            }
            text
        })
    };
    let forward = raw.forward.as_ref().map_or(d.forward, |f| *f.get_ref());
    if let Some(f) = raw.forward.as_ref().filter(|f| *f.get_ref() && !has_upstream) {
        c.at(f.span(), "media.forward needs uplink.upstream: where would the clips go?");
    }
    let forward_token = raw.forward_token.as_ref().map(|t| {
        let token = c.text(t, "media.forward_token", 128);
        if !token.starts_with("bcu_") {
            c.at(t.span(), "media.forward_token must be an upload token the upstream issued (it starts with bcu_)");
        }
        token
    });
    if let Some(f) =
        raw.forward.as_ref().filter(|f| *f.get_ref() && has_upstream && forward_token.is_none())
    {
        c.at(
            f.span(),
            "media.forward needs media.forward_token: an upload token the upstream issued to this booth",
        );
    }
    let max_transcodes = raw
        .max_transcodes
        .as_ref()
        .map_or(d.max_transcodes, |v| c.count(v, "media.max_transcodes", 1, 64));
    let presets = match &raw.presets {
        None => d.presets.clone(),
        Some(list) => {
            if list.len() > MAX_PRESETS {
                c.at(
                    list[MAX_PRESETS].span(),
                    format!("media.presets may list at most {MAX_PRESETS} presets"),
                );
            }
            list.iter().take(MAX_PRESETS).map(|p| check_preset(c, p)).collect()
        }
    };
    for (i, p) in presets.iter().enumerate() {
        let raw_preset = raw.presets.as_ref().map(|l| &l[i]);
        let span = raw_preset.map(|r| r.span());
        if presets[..i].iter().any(|q| q.name == p.name) {
            c.at_opt(span.clone(), format!("media preset `{}` is defined twice", p.name));
        }
        if let Some(to) = &p.degraded {
            match presets.iter().find(|q| &q.name == to) {
                None => c.at_opt(span, format!("media preset `{}` degrades to `{to}`, which is not a preset", p.name)),
                Some(q) if std::mem::discriminant(&q.output) != std::mem::discriminant(&p.output) || q.degraded.is_some() => c.at_opt(
                    span,
                    format!(
                        "media preset `{}` degrades to `{to}`, which must make the same kind of output and not degrade further",
                        p.name
                    ),
                ),
                Some(_) => {}
            }
        }
    }
    MediaSettings {
        max_upload_bytes: raw
            .max_upload
            .as_ref()
            .map_or(d.max_upload_bytes, |v| c.size(v, "media.max_upload", 1 << 10, 1 << 40)),
        quota_bytes: raw
            .quota
            .as_ref()
            .map_or(d.quota_bytes, |v| c.size(v, "media.quota", 1 << 20, 1 << 44)),
        max_open_uploads: raw
            .max_open_uploads
            .as_ref()
            .map_or(d.max_open_uploads, |v| c.count(v, "media.max_open_uploads", 1, 10_000)),
        unfinished_expire_after: raw.unfinished_expire_after.as_ref().map_or(
            d.unfinished_expire_after,
            |v| {
                c.duration(
                    v,
                    "media.unfinished_expire_after",
                    SignedDuration::from_secs(1),
                    SignedDuration::from_hours(24 * 30),
                )
            },
        ),
        forward,
        forward_token,
        ffmpeg: program(c, &raw.ffmpeg, "media.ffmpeg", &d.ffmpeg),
        ffprobe: program(c, &raw.ffprobe, "media.ffprobe", &d.ffprobe),
        max_transcodes,
        degraded_transcodes: raw
            .degraded_transcodes
            .as_ref()
            .map_or(d.degraded_transcodes.min(max_transcodes), |v| {
                c.count(v, "media.degraded_transcodes", 1, max_transcodes)
            }),
        transcode_timeout: raw.transcode_timeout.as_ref().map_or(d.transcode_timeout, |v| {
            c.duration(
                v,
                "media.transcode_timeout",
                SignedDuration::from_secs(1),
                SignedDuration::from_hours(24),
            )
        }),
        max_queued_transcodes: raw
            .max_queued_transcodes
            .as_ref()
            .map_or(d.max_queued_transcodes, |v| {
                c.count(v, "media.max_queued_transcodes", 1, 100_000)
            }),
        presets,
    }
}

fn check_preset(c: &mut Checker, raw: &Spanned<RawPreset>) -> Preset {
    let span = raw.span();
    let raw = raw.get_ref();
    let name = c.ident(&raw.name, "media preset name");
    let height = c.count(&raw.height, "media preset height", 16, 4320);
    let output = match raw.format.get_ref().as_str() {
        "mp4" => PresetOutput::Video {
            // Even heights: H.264 in 4:2:0 needs them.
            height: height & !1,
            crf: raw.crf.as_ref().map_or(23, |v| c.count(v, "media preset crf", 0, 51)),
            speed: raw.speed.as_ref().map_or_else(
                || "veryfast".to_owned(),
                |v| {
                    const SPEEDS: [&str; 9] = [
                        "ultrafast",
                        "superfast",
                        "veryfast",
                        "faster",
                        "fast",
                        "medium",
                        "slow",
                        "slower",
                        "veryslow",
                    ];
                    if !SPEEDS.contains(&v.get_ref().as_str()) {
                        c.at(
                            v.span(),
                            format!(
                                "media preset speed `{}` must be one of {}",
                                v.get_ref(),
                                SPEEDS.join(", ")
                            ),
                        );
                    }
                    v.get_ref().clone()
                },
            ),
            audio_kbps: raw
                .audio_kbps
                .as_ref()
                .map_or(128, |v| c.count(v, "media preset audio_kbps", 16, 512)),
        },
        "jpeg" => PresetOutput::Poster {
            height,
            at_ms: raw.at.as_ref().map_or(1_000, |v| {
                c.duration(
                    v,
                    "media preset at",
                    SignedDuration::ZERO,
                    SignedDuration::from_hours(24),
                )
                .as_millis() as u64
            }),
        },
        other => {
            c.at(
                raw.format.span(),
                format!("media preset format `{other}` must be `mp4` or `jpeg`"),
            );
            PresetOutput::Poster { height, at_ms: 0 }
        }
    };
    if matches!(output, PresetOutput::Poster { .. })
        && (raw.crf.is_some() || raw.speed.is_some() || raw.audio_kbps.is_some())
    {
        c.at(
            span,
            format!("media preset `{name}` is a jpeg: crf, speed and audio_kbps are for mp4"),
        );
    }
    Preset {
        name,
        output,
        essential: raw.essential.unwrap_or(true),
        degraded: raw.degraded.as_ref().map(|v| c.ident(v, "media preset degraded")),
    }
}

/// `_name._tcp` or `_name._udp`, the name 1–15 letters, digits or '-' (RFC 6335).
pub(crate) fn is_service_type(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('_') else { return false };
    let Some((name, proto)) = rest.split_once("._") else { return false };
    (1..=15).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && matches!(proto, "tcp" | "udp")
}

/// The organisation's certificate: two absolute paths, both or neither.
fn check_certificate(c: &mut Checker, raw: &RawNode) -> Option<(PathBuf, PathBuf)> {
    let mut path = |v: &Spanned<String>, what: &str| {
        let p = PathBuf::from(v.get_ref());
        if p.is_absolute() {
            Some(p)
        } else {
            c.at(v.span(), format!("node.{what} `{}` must be an absolute path", v.get_ref()));
            None
        }
    };
    match (&raw.certificate, &raw.certificate_key) {
        (None, None) => None,
        (Some(cert), Some(key)) => {
            let cert = path(cert, "certificate");
            let key = path(key, "certificate_key");
            cert.zip(key)
        }
        (Some(one), None) | (None, Some(one)) => {
            c.at(
                one.span(),
                "node.certificate and node.certificate_key go together: give both, or neither",
            );
            None
        }
    }
}

/// `sha256:`-less 64 hex digits, or the same with colons (as browsers show it).
fn check_ca(c: &mut Checker, v: &Spanned<String>) -> Option<String> {
    let digits: String = v.get_ref().chars().filter(|ch| *ch != ':').collect();
    if digits.len() == 64 && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some(digits.to_ascii_lowercase())
    } else {
        c.at(
            v.span(),
            "peer ca must be the SHA-256 fingerprint of the booth's CA certificate (64 hex digits, colons allowed), as its Devices screen shows it",
        );
        None
    }
}

fn check_pairing(c: &mut Checker, raw: RawPairing) -> Pairing {
    let key = raw.key.as_ref().map(|k| {
        let len = k.get_ref().chars().count();
        if !(32..=256).contains(&len) {
            c.at(k.span(), "pairing.key must be 32 to 256 characters (a long random string)");
        }
        k.get_ref().clone()
    });
    let peers = raw
        .peers
        .iter()
        .filter_map(|p| {
            let r = p.get_ref();
            let name = c.text(&r.name, "peer name", 64);
            let ca = r.ca.as_ref().and_then(|v| check_ca(c, v));
            let url = c.url(&r.url, "peer url")?;
            if url.scheme() != "https" {
                c.at(r.url.span(), format!("peer url `{url}` must be https://: booths talk to each other over HTTPS (its port, 8787 by default)"));
                return None;
            }
            Some(Peer { name, url, ca })
        })
        .collect();
    Pairing { key, peers }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo's settings, then `items` catalogue items and `rules` promotions.
    fn large(items: usize, rules: usize) -> String {
        let mut text = DEMO_MANIFEST.split("# ---- Catalogue").next().unwrap().to_owned();
        for i in 0..items {
            text.push_str(&format!(
                "[[catalogue]]\nsku = \"SKU-{i:04}\"\nname = \"Item {i}\"\nprice = {}\ncategory = \"cat-{}\"\n\n",
                100 + i,
                i % 12
            ));
        }
        for i in 0..rules {
            text.push_str(&format!(
                "[[promotions]]\nid = \"rule-{i}\"\nname = \"Rule {i}\"\nkind = \"percent_off\"\napplies_to = {{ sku = \"SKU-{:04}\" }}\npercent = {}\npriority = {}\n\n",
                i % items,
                5 + i % 30,
                i % 50
            ));
        }
        text.push_str("[budgets]\ntotal = 15000\n");
        text
    }

    #[test]
    fn a_large_manifest_reads_whole() {
        let text = large(200, 1_000);
        let m = parse(&text).expect("valid");
        assert_eq!((m.catalogue.len(), m.promotions.len()), (200, 1_000));
        assert_eq!(m.promotions[700].id, "rule-700");
        assert_eq!(m.budgets.total, Some(15_000));
    }

    #[test]
    fn problems_deep_in_a_large_manifest_point_at_the_values_that_are_wrong() {
        let text = large(200, 1_000)
            .replace(
                "applies_to = { sku = \"SKU-0150\" }\npercent = 25",
                "applies_to = { sku = \"SKU-9999\" }\npercent = 250",
            )
            .replace(
                "[[catalogue]]\nsku = \"SKU-0007\"\nname = \"Item 7\"\nprice = 107",
                "[[catalogue]]\nsku = \"SKU-0007\"\nname = \"Item 7\"\nprice = -107",
            );
        let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
        let problems = parse(&text).unwrap_err().0;
        let at: Vec<(usize, usize)> = problems.iter().map(|p| (p.line, p.column)).collect();
        assert!(at.contains(&(line_of("price = -107"), 9)), "{problems:?}");
        assert!(at.contains(&(line_of("sku = \"SKU-9999\""), 14)), "{problems:?}");
        assert!(at.contains(&(line_of("percent = 250"), 11)), "{problems:?}");
        assert!(at.windows(2).all(|w| w[0] <= w[1]), "in text order: {problems:?}");
    }

    #[test]
    fn a_toml_error_is_the_one_problem_with_its_line() {
        let text = large(200, 1_000).replace("name = \"Rule 700\"", "name = \"Rule 700");
        let problems = parse(&text).unwrap_err().0;
        assert_eq!(problems.len(), 1);
        let line = text.lines().position(|l| l == "name = \"Rule 700").unwrap() + 1;
        assert_eq!(problems[0].line, line, "{problems:?}");
        assert!(problems[0].message.contains("string"), "{problems:?}");
    }
}
