//! The device inventory: every device seen on the LAN, keyed by a stable identity.
//!
//! Owns: what a device is (kind, name, addresses, TXT), when it was last announced or
//! answered a probe, and whether it is alive or gone. Pure and time-injected: mDNS
//! events and probe results come in as values with the time they happened.
//!
//! Identity: a Boothcloud node is its TXT `id` (its node id survives restarts and
//! address changes); any other device is its DNS-SD instance full name, which mDNS
//! keeps unique on the link. So a new address updates a device, never duplicates it.
//! Bounded: at most `max` devices, each with at most [`MAX_ADDRESSES`] addresses and
//! [`MAX_TXT`] TXT entries of bounded size. When full, a long-gone device makes room;
//! else, when the newcomer's service type holds fewer devices than the largest one, the
//! largest type's newest device makes room (so a flood of one type — thousands of web
//! devices — cannot crowd out the booth's printers and peers); else the newcomer is
//! counted and refused.

use core::net::{IpAddr, SocketAddr};
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// The service type Boothcloud nodes advertise.
pub const BOOTH_TYPE: &str = "_boothcloud._tcp";
pub const MAX_ADDRESSES: usize = 8;
pub const MAX_TXT: usize = 16;
const MAX_TXT_VALUE: usize = 128;
const MAX_NAME: usize = 128;
/// A gone device is forgotten after this long.
pub const FORGET_AFTER_MS: i64 = 10 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// Another Boothcloud node.
    Booth,
    /// An IPP or IPPS printer (receipt and label printers among them).
    Printer,
    /// A device with a web page (`_http._tcp`): routers, cameras, displays.
    WebDevice,
    /// A service type the manifest added.
    Other,
}

impl DeviceKind {
    pub fn of(service_type: &str) -> DeviceKind {
        match service_type {
            BOOTH_TYPE => DeviceKind::Booth,
            "_ipp._tcp" | "_ipps._tcp" | "_printer._tcp" | "_pdl-datastream._tcp" => {
                DeviceKind::Printer
            }
            "_http._tcp" | "_https._tcp" => DeviceKind::WebDevice,
            _ => DeviceKind::Other,
        }
    }
}

/// A resolved DNS-SD service, as the browser hands it over.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// `_ipp._tcp` (no domain).
    pub service_type: String,
    /// `Front printer._ipp._tcp.local.`
    pub fullname: String,
    pub host: String,
    pub port: u16,
    pub addresses: Vec<IpAddr>,
    pub txt: Vec<(String, String)>,
}

/// What a Boothcloud node says about itself in TXT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoothTxt {
    pub id: String,
    pub event: String,
    pub role: String,
    pub version: String,
    /// The pairing fingerprint (`auth::fingerprint`); empty when it holds no key.
    pub fingerprint: String,
    /// The name the booth's manifest gives it.
    pub name: Option<String>,
    /// SHA-256 of its booth CA's certificate (64 hex digits), which its TLS certificate
    /// must chain to; `None` from a booth that did not say.
    pub ca: Option<String>,
}

impl BoothTxt {
    fn from_txt(txt: &BTreeMap<String, String>) -> Option<BoothTxt> {
        let id = txt.get("id")?;
        if id.is_empty()
            || id.len() > 64
            || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return None;
        }
        let get = |k: &str| txt.get(k).cloned().unwrap_or_default();
        Some(BoothTxt {
            id: id.clone(),
            event: get("event"),
            role: get("role"),
            version: get("version"),
            fingerprint: get("fp"),
            name: txt.get("name").cloned(),
            ca: txt
                .get("ca")
                .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
                .map(|v| v.to_ascii_lowercase()),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Liveness {
    Alive,
    Gone,
}

#[derive(Debug, Clone)]
pub struct Device {
    pub key: String,
    pub kind: DeviceKind,
    pub service_type: String,
    pub fullname: String,
    /// The instance name, as people named the device.
    pub name: String,
    pub host: String,
    pub port: u16,
    pub addresses: Vec<IpAddr>,
    pub txt: BTreeMap<String, String>,
    pub booth: Option<BoothTxt>,
    pub first_seen_ms: i64,
    pub announced_ms: i64,
    pub answered_ms: Option<i64>,
    /// When it said goodbye, if it did after its last announcement.
    pub withdrawn_ms: Option<i64>,
    pub rtt_us: Option<u64>,
    pub failed_probes: u32,
    /// Times its addresses changed.
    pub moves: u32,
}

impl Device {
    /// Last sign of life: an announcement or an answered probe.
    pub fn last_seen_ms(&self) -> i64 {
        self.announced_ms.max(self.answered_ms.unwrap_or(i64::MIN))
    }

    pub fn liveness(&self, now_ms: i64, gone_after_ms: i64) -> Liveness {
        if self.withdrawn_ms.is_some() || now_ms - self.last_seen_ms() > gone_after_ms {
            Liveness::Gone
        } else {
            Liveness::Alive
        }
    }

    /// Where to probe it: the first IPv4 address, else the first IPv6 address that is
    /// not link-local. A link-local address (fe80::/10) names no interface, so nothing
    /// can connect to it: a device announced with only that (mDNS often hands over
    /// the AAAA record before the A record) has no endpoint until a usable one comes.
    pub fn endpoint(&self) -> Option<SocketAddr> {
        let usable = |a: &&IpAddr| match a {
            IpAddr::V4(_) => true,
            IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
        };
        let ip = self
            .addresses
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| self.addresses.iter().find(usable))?;
        Some(SocketAddr::new(*ip, self.port))
    }
}

/// What an event did to the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    /// Its addresses changed.
    Moved,
    Updated,
    /// Nothing new: only its last-announced time moved.
    Same,
    /// The inventory is full of live devices.
    Refused,
    /// Not a usable announcement (no address, or a booth TXT without a valid id).
    Ignored,
}

#[derive(Debug)]
pub struct Inventory {
    devices: HashMap<String, Device>,
    by_fullname: HashMap<String, String>,
    max: usize,
    /// This node's own id, never listed.
    me: String,
    pub refused: u64,
}

fn clip(mut s: String, max: usize) -> String {
    if s.len() > max {
        let cut = s.floor_char_boundary(max);
        s.truncate(cut);
    }
    s
}

/// `Front\ printer._ipp._tcp.local.` → `Front printer`
fn instance_name(fullname: &str, service_type: &str) -> String {
    let name = fullname.strip_suffix(".local.").unwrap_or(fullname);
    let name = name.strip_suffix(service_type).and_then(|n| n.strip_suffix('.')).unwrap_or(name);
    clip(name.replace("\\.", ".").replace("\\\\", "\\"), MAX_NAME)
}

impl Inventory {
    pub fn new(me: &str, max: usize) -> Inventory {
        Inventory {
            devices: HashMap::new(),
            by_fullname: HashMap::new(),
            max,
            me: me.to_owned(),
            refused: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.devices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&Device> {
        self.devices.get(key)
    }

    pub fn devices(&self) -> impl Iterator<Item = &Device> {
        self.devices.values()
    }

    /// A resolved announcement arrived at `now_ms`.
    pub fn resolved(&mut self, r: Resolved, now_ms: i64, gone_after_ms: i64) -> Change {
        self.resolve(r, now_ms, gone_after_ms, true)
    }

    /// A resolved announcement of a type whose browsing is paused: it updates a device
    /// already listed, and a new name is counted and refused.
    pub fn resolved_known_only(&mut self, r: Resolved, now_ms: i64, gone_after_ms: i64) -> Change {
        self.resolve(r, now_ms, gone_after_ms, false)
    }

    fn resolve(&mut self, r: Resolved, now_ms: i64, gone_after_ms: i64, admit_new: bool) -> Change {
        let txt: BTreeMap<String, String> = r
            .txt
            .into_iter()
            .take(MAX_TXT)
            .map(|(k, v)| (clip(k.to_ascii_lowercase(), 32), clip(v, MAX_TXT_VALUE)))
            .collect();
        let kind = DeviceKind::of(&r.service_type);
        let booth = if kind == DeviceKind::Booth {
            match BoothTxt::from_txt(&txt) {
                Some(b) if b.id == self.me => return Change::Ignored,
                Some(b) => Some(b),
                None => return Change::Ignored,
            }
        } else {
            None
        };
        let mut addresses = r.addresses;
        addresses.sort_by_key(|a| (!a.is_ipv4(), *a));
        addresses.dedup();
        addresses.truncate(MAX_ADDRESSES);
        if addresses.is_empty() {
            return Change::Ignored;
        }
        let key = match &booth {
            Some(b) => format!("booth:{}", b.id),
            None => clip(r.fullname.to_ascii_lowercase(), 300),
        };
        if let Some(d) = self.devices.get_mut(&key) {
            let moved = d.addresses != addresses;
            let updated = moved
                || d.port != r.port
                || d.txt != txt
                || d.host != r.host
                || d.fullname != r.fullname
                || d.withdrawn_ms.is_some();
            d.announced_ms = now_ms;
            d.withdrawn_ms = None;
            if !updated {
                return Change::Same;
            }
            if d.fullname != r.fullname {
                self.by_fullname.remove(&d.fullname);
                self.by_fullname.insert(r.fullname.clone(), key.clone());
                d.name = instance_name(&r.fullname, &r.service_type);
                d.fullname = r.fullname;
            }
            d.port = r.port;
            d.host = clip(r.host, MAX_NAME);
            d.txt = txt;
            d.booth = booth;
            if moved {
                d.addresses = addresses;
                d.moves += 1;
                // The old address's round trip says nothing about the new one.
                d.rtt_us = None;
                d.answered_ms = None;
                d.failed_probes = 0;
                return Change::Moved;
            }
            return Change::Updated;
        }
        if !admit_new
            || (self.devices.len() >= self.max
                && !self.evict_one(now_ms, gone_after_ms)
                && !self.evict_for(&r.service_type))
        {
            self.refused += 1;
            return Change::Refused;
        }
        self.by_fullname.insert(r.fullname.clone(), key.clone());
        let device = Device {
            key: key.clone(),
            kind,
            name: instance_name(&r.fullname, &r.service_type),
            service_type: r.service_type,
            fullname: r.fullname,
            host: clip(r.host, MAX_NAME),
            port: r.port,
            addresses,
            txt,
            booth,
            first_seen_ms: now_ms,
            announced_ms: now_ms,
            answered_ms: None,
            withdrawn_ms: None,
            rtt_us: None,
            failed_probes: 0,
            moves: 0,
        };
        self.devices.insert(key, device);
        Change::Added
    }

    /// Makes room by dropping the device gone the longest, if any is gone.
    fn evict_one(&mut self, now_ms: i64, gone_after_ms: i64) -> bool {
        let oldest = self
            .devices
            .values()
            .filter(|d| d.liveness(now_ms, gone_after_ms) == Liveness::Gone)
            .min_by_key(|d| d.last_seen_ms())
            .map(|d| d.key.clone());
        match oldest {
            Some(key) => {
                self.forget(&key);
                true
            }
            None => false,
        }
    }

    /// Makes room for a newcomer of `service_type` when another type holds more
    /// devices: that type's newest device goes (a flood's names are the newest).
    fn evict_for(&mut self, service_type: &str) -> bool {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for d in self.devices.values() {
            *counts.entry(d.service_type.as_str()).or_default() += 1;
        }
        let mine = counts.get(service_type).copied().unwrap_or(0);
        let Some((&largest, &most)) =
            counts.iter().max_by_key(|(ty, n)| (**n, std::cmp::Reverse(**ty)))
        else {
            return false;
        };
        // Strictly more after the swap too, so two types never take turns evicting each other.
        if largest == service_type || most <= mine + 1 {
            return false;
        }
        let newest = self
            .devices
            .values()
            .filter(|d| d.service_type == largest)
            .max_by_key(|d| (d.first_seen_ms, d.key.clone()))
            .map(|d| d.key.clone());
        match newest {
            Some(key) => {
                self.forget(&key);
                true
            }
            None => false,
        }
    }

    fn forget(&mut self, key: &str) {
        if let Some(d) = self.devices.remove(key) {
            self.by_fullname.remove(&d.fullname);
        }
    }

    /// The device said goodbye (TTL 0): gone at once.
    pub fn withdrawn(&mut self, fullname: &str, now_ms: i64) -> bool {
        let Some(key) = self.by_fullname.get(fullname) else { return false };
        match self.devices.get_mut(key) {
            Some(d) => {
                d.withdrawn_ms = Some(now_ms);
                true
            }
            None => false,
        }
    }

    /// A reachability probe of `key` at `endpoint` ended at `now_ms`. A result for an
    /// address the device has since left is ignored.
    pub fn probed(&mut self, key: &str, endpoint: SocketAddr, rtt_us: Option<u64>, now_ms: i64) {
        let Some(d) = self.devices.get_mut(key) else { return };
        if d.endpoint() != Some(endpoint) {
            return;
        }
        match rtt_us {
            Some(rtt) => {
                d.rtt_us = Some(rtt);
                d.answered_ms = Some(now_ms);
                d.failed_probes = 0;
            }
            None => {
                d.rtt_us = None;
                d.failed_probes = d.failed_probes.saturating_add(1);
            }
        }
    }

    /// What to probe now: every device not withdrawn and not forgotten.
    pub fn probe_targets(&self) -> Vec<(String, SocketAddr)> {
        self.devices
            .values()
            .filter(|d| d.withdrawn_ms.is_none())
            .filter_map(|d| Some((d.key.clone(), d.endpoint()?)))
            .collect()
    }

    /// Forgets devices gone for [`FORGET_AFTER_MS`].
    pub fn sweep(&mut self, now_ms: i64) {
        let stale: Vec<String> = self
            .devices
            .values()
            .filter(|d| {
                now_ms - d.withdrawn_ms.unwrap_or(d.last_seen_ms()).max(d.last_seen_ms())
                    > FORGET_AFTER_MS
            })
            .map(|d| d.key.clone())
            .collect();
        for key in stale {
            self.forget(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GONE: i64 = 20_000;

    fn printer(name: &str, ip: &str) -> Resolved {
        Resolved {
            service_type: "_ipp._tcp".into(),
            fullname: format!("{name}._ipp._tcp.local."),
            host: "printer.local.".into(),
            port: 631,
            addresses: vec![ip.parse().unwrap()],
            txt: vec![("ty".into(), "Receipt printer".into())],
        }
    }

    fn booth(id: &str, ip: &str) -> Resolved {
        Resolved {
            service_type: BOOTH_TYPE.into(),
            fullname: format!("boothcloud-{id}._boothcloud._tcp.local."),
            host: format!("boothcloud-{id}.local."),
            port: 8787,
            addresses: vec![ip.parse().unwrap()],
            txt: vec![
                ("id".into(), id.into()),
                ("event".into(), "market".into()),
                ("fp".into(), "abc".into()),
            ],
        }
    }

    #[test]
    fn a_device_that_moves_is_updated_not_duplicated() {
        let mut inv = Inventory::new("me", 10);
        assert_eq!(inv.resolved(booth("b1", "10.0.0.2"), 0, GONE), Change::Added);
        let key = "booth:b1";
        inv.probed(key, "10.0.0.2:8787".parse().unwrap(), Some(300), 10);
        assert_eq!(inv.resolved(booth("b1", "10.0.0.2"), 100, GONE), Change::Same);
        assert_eq!(inv.resolved(booth("b1", "10.0.0.9"), 200, GONE), Change::Moved);
        assert_eq!(inv.len(), 1);
        let d = inv.get(key).unwrap();
        assert_eq!(d.addresses, vec!["10.0.0.9".parse::<IpAddr>().unwrap()]);
        assert_eq!((d.moves, d.rtt_us), (1, None));
        // A late probe of the old address does not count for the new one.
        inv.probed(key, "10.0.0.2:8787".parse().unwrap(), Some(300), 210);
        assert_eq!(inv.get(key).unwrap().rtt_us, None);
        // A booth that restarts under another instance name is still the same booth.
        let mut renamed = booth("b1", "10.0.0.9");
        renamed.fullname = "boothcloud-b1 (2)._boothcloud._tcp.local.".into();
        assert_eq!(inv.resolved(renamed, 300, GONE), Change::Updated);
        assert_eq!(inv.len(), 1);
        assert_eq!(inv.get(key).unwrap().name, "boothcloud-b1 (2)");
    }

    #[test]
    fn a_device_is_gone_when_silent_and_unreachable_or_when_it_says_goodbye() {
        let mut inv = Inventory::new("me", 10);
        inv.resolved(printer("Front", "10.0.0.5"), 0, GONE);
        let key = "front._ipp._tcp.local.";
        let at = "10.0.0.5:631".parse().unwrap();
        assert_eq!(inv.get(key).unwrap().liveness(GONE, GONE), Liveness::Alive);
        assert_eq!(inv.get(key).unwrap().liveness(GONE + 1, GONE), Liveness::Gone);
        // Answering probes keeps a quiet device alive.
        inv.probed(key, at, Some(900), 15_000);
        assert_eq!(inv.get(key).unwrap().liveness(30_000, GONE), Liveness::Alive);
        inv.probed(key, at, None, 36_000);
        assert_eq!(inv.get(key).unwrap().failed_probes, 1);
        assert_eq!(inv.get(key).unwrap().liveness(36_000, GONE), Liveness::Gone);
        // A goodbye is immediate, and a new announcement brings it back.
        inv.resolved(printer("Front", "10.0.0.5"), 40_000, GONE);
        assert!(inv.withdrawn("Front._ipp._tcp.local.", 41_000));
        assert_eq!(inv.get(key).unwrap().liveness(41_000, GONE), Liveness::Gone);
        assert!(inv.probe_targets().is_empty(), "a device that said goodbye is not probed");
        assert_eq!(inv.resolved(printer("Front", "10.0.0.5"), 42_000, GONE), Change::Updated);
        assert_eq!(inv.get(key).unwrap().liveness(42_000, GONE), Liveness::Alive);
        // Long gone, it is forgotten.
        inv.sweep(42_000 + FORGET_AFTER_MS + 1);
        assert!(inv.is_empty());
    }

    #[test]
    fn the_inventory_is_bounded_and_prefers_live_devices() {
        let mut inv = Inventory::new("me", 3);
        for n in 0..3 {
            assert_eq!(inv.resolved(printer(&format!("p{n}"), "10.0.0.5"), 0, GONE), Change::Added);
        }
        assert_eq!(inv.resolved(printer("p3", "10.0.0.6"), 1_000, GONE), Change::Refused);
        assert_eq!(inv.refused, 1);
        // Once one is gone, a newcomer takes its place.
        inv.resolved(printer("p1", "10.0.0.5"), 15_000, GONE);
        inv.resolved(printer("p2", "10.0.0.5"), 15_000, GONE);
        assert_eq!(inv.resolved(printer("p3", "10.0.0.6"), 25_000, GONE), Change::Added);
        assert!(inv.get("p0._ipp._tcp.local.").is_none());
        assert_eq!(inv.len(), 3);
    }

    fn web(name: &str) -> Resolved {
        Resolved {
            service_type: "_http._tcp".into(),
            fullname: format!("{name}._http._tcp.local."),
            host: "web.local.".into(),
            port: 80,
            addresses: vec!["10.0.0.8".parse().unwrap()],
            txt: vec![],
        }
    }

    #[test]
    fn a_flood_of_one_type_cannot_crowd_out_the_others() {
        let mut inv = Inventory::new("me", 6);
        assert_eq!(inv.resolved(printer("Front", "10.0.0.5"), 0, GONE), Change::Added);
        for n in 0..5 {
            assert_eq!(inv.resolved(web(&format!("w{n}")), 10 + n, GONE), Change::Added);
        }
        // Full of live devices: more web devices are refused...
        assert_eq!(inv.resolved(web("w5"), 100, GONE), Change::Refused);
        // ...but a printer or a booth takes the newest web device's place.
        assert_eq!(inv.resolved(printer("Back", "10.0.0.6"), 200, GONE), Change::Added);
        assert!(inv.get("w4._http._tcp.local.").is_none(), "the newest web device made room");
        assert_eq!(inv.resolved(booth("b1", "10.0.0.2"), 300, GONE), Change::Added);
        assert_eq!(inv.len(), 6);
        // Only while the flooded type holds more: one more printer would leave the web
        // devices outnumbered, so it waits for room like any newcomer.
        assert_eq!(inv.devices().filter(|d| d.kind == DeviceKind::WebDevice).count(), 3);
        assert_eq!(inv.resolved(printer("Side", "10.0.0.7"), 400, GONE), Change::Refused);
        assert_eq!((inv.refused, inv.len()), (2, 6));
    }

    #[test]
    fn a_link_local_address_alone_is_no_endpoint() {
        let mut inv = Inventory::new("me", 10);
        let mut b = booth("b1", "fe80::7cdb:b9ff:fe45:6761");
        assert_eq!(inv.resolved(b.clone(), 0, GONE), Change::Added);
        assert_eq!(inv.get("booth:b1").unwrap().endpoint(), None);
        assert!(inv.probe_targets().is_empty());
        b.addresses.push("fd00::2".parse().unwrap());
        inv.resolved(b.clone(), 10, GONE);
        assert_eq!(
            inv.get("booth:b1").unwrap().endpoint(),
            Some("[fd00::2]:8787".parse().unwrap())
        );
        b.addresses.push("10.0.0.2".parse().unwrap());
        inv.resolved(b, 20, GONE);
        assert_eq!(inv.get("booth:b1").unwrap().endpoint(), Some("10.0.0.2:8787".parse().unwrap()));
    }

    #[test]
    fn a_paused_type_updates_known_devices_and_admits_no_new_ones() {
        let mut inv = Inventory::new("me", 10);
        assert_eq!(inv.resolved(web("w0"), 0, GONE), Change::Added);
        let mut moved = web("w0");
        moved.addresses = vec!["10.0.0.9".parse().unwrap()];
        assert_eq!(inv.resolved_known_only(moved, 100, GONE), Change::Moved);
        assert_eq!(inv.resolved_known_only(web("w1"), 100, GONE), Change::Refused);
        assert_eq!((inv.len(), inv.refused), (1, 1));
    }

    #[test]
    fn hostile_announcements_are_clipped_or_ignored() {
        let mut inv = Inventory::new("me", 10);
        let mut big = printer(&"x".repeat(5_000), "10.0.0.5");
        big.txt = (0..1_000).map(|n| (format!("k{n}"), "v".repeat(10_000))).collect();
        big.addresses = (0..100).map(|n| IpAddr::from([10, 0, 1, n])).collect();
        assert_eq!(inv.resolved(big, 0, GONE), Change::Added);
        let d = inv.devices().next().unwrap();
        assert!(
            d.name.len() <= MAX_NAME
                && d.txt.len() <= MAX_TXT
                && d.addresses.len() <= MAX_ADDRESSES
        );
        assert!(d.txt.values().all(|v| v.len() <= MAX_TXT_VALUE));
        let mut no_id = booth("x", "10.0.0.2");
        no_id.txt.retain(|(k, _)| k != "id");
        assert_eq!(inv.resolved(no_id, 0, GONE), Change::Ignored);
        let mut bad_id = booth("x", "10.0.0.2");
        bad_id.txt[0].1 = "../../etc".into();
        assert_eq!(inv.resolved(bad_id, 0, GONE), Change::Ignored);
        let mut no_address = printer("p", "10.0.0.5");
        no_address.addresses.clear();
        assert_eq!(inv.resolved(no_address, 0, GONE), Change::Ignored);
        assert_eq!(
            inv.resolved(booth("me", "10.0.0.2"), 0, GONE),
            Change::Ignored,
            "a node does not list itself"
        );
    }

    #[test]
    fn instance_names_are_unescaped_for_people() {
        assert_eq!(
            instance_name("Front\\.desk printer._ipp._tcp.local.", "_ipp._tcp"),
            "Front.desk printer"
        );
        assert_eq!(DeviceKind::of("_ipps._tcp"), DeviceKind::Printer);
        assert_eq!(DeviceKind::of("_pos._tcp"), DeviceKind::Other);
    }
}
