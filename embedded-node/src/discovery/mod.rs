//! Discovery: this node on the LAN over mDNS/DNS-SD, and the devices around it.
//!
//! Owns: the mDNS daemon (mdns-sd), the `_boothcloud._tcp` advertisement and its TXT
//! record, the browsers for other booths, printers, web-configurable devices and the
//! manifest's extra service types, the reachability probes, and the inventory they
//! feed ([`inventory`]). Never: decides whom to trust — a booth found here is only a
//! candidate; `peers` pairs it (or not) through signed requests.
//!
//! - **Advertise.** Instance `boothcloud-<id8>` on host `boothcloud-<id8>.local.`, TXT
//!   `id`, `event`, `role`, `version`, `port`, `fp` (the pairing fingerprint, public), `ca` (the booth CA's fingerprint),
//!   `name`. Addresses follow the machine's (mdns-sd's `addr_auto`, checked every
//!   [`IP_CHECK_SECS`] s). When the machine's IPv4 addresses change (a new lease, a
//!   Wi-Fi roam) the daemon is restarted and the service announced afresh: mdns-sd
//!   0.21 cannot join the multicast group again on an interface that lost its only
//!   IPv4 address and kept an IPv6 one, and would go on announcing no IPv4 address.
//!   The advertisement is withdrawn (goodbye packets) when the node stops.
//! - **Browse.** One browser per service type; events are folded into the inventory as
//!   they come, on one task per type. Nothing is allocated per packet here beyond
//!   what mdns-sd hands over; the inventory is bounded.
//! - **Probe.** Every `probe_every`, each device is probed with a TCP connect to its
//!   service port (at most [`PROBE_CONCURRENCY`] at once, [`PROBE_TIMEOUT`] each); the
//!   connect time is its round-trip time.
//! - **Flood guard.** A service type that brings hundreds of new names within seconds
//!   is no longer browsed for a while ([`flood`]): mdns-sd's cost grows with what it
//!   caches, and a flood would otherwise keep its thread at a full core.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mdns_sd::{ServiceDaemon, ServiceEvent, ServiceInfo};

use crate::live_manifest::LiveManifest;
use boothcloud_core::clock::Clock;
use boothcloud_core::devices::flood;
use boothcloud_core::devices::inventory::{Inventory, Resolved, BOOTH_TYPE};
use boothcloud_core::manifest::DEFAULT_DEVICE_TYPES;

/// How often mdns-sd looks for address changes to re-announce.
pub const IP_CHECK_SECS: u32 = 2;
pub const PROBE_CONCURRENCY: usize = 32;
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("mDNS is not available: {0}")]
    Mdns(#[from] mdns_sd::Error),
}

/// What this node says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    pub id: String,
    pub event: String,
    pub role: String,
    pub name: Option<String>,
    /// Empty when the node holds no pairing key.
    pub fingerprint: String,
    pub port: u16,
    /// SHA-256 of the booth CA's certificate, hex: peers pin it.
    pub ca: String,
    /// A specific address to advertise; `None` follows every address of the machine.
    pub ip: Option<IpAddr>,
}

impl Advert {
    pub fn instance(&self) -> String {
        format!("boothcloud-{}", &self.id[..self.id.len().min(8)])
    }

    fn info(&self) -> Result<ServiceInfo, mdns_sd::Error> {
        let instance = self.instance();
        let port = self.port.to_string();
        let mut txt = vec![
            ("id", self.id.as_str()),
            ("event", self.event.as_str()),
            ("role", self.role.as_str()),
            ("version", env!("CARGO_PKG_VERSION")),
            ("port", port.as_str()),
            ("fp", self.fingerprint.as_str()),
            ("ca", self.ca.as_str()),
        ];
        if let Some(name) = &self.name {
            txt.push(("name", name.as_str()));
        }
        let host = format!("{instance}.local.");
        let ty = format!("{BOOTH_TYPE}.local.");
        match self.ip {
            Some(ip) => ServiceInfo::new(&ty, &instance, &host, ip, self.port, &txt[..]),
            None => Ok(ServiceInfo::new(&ty, &instance, &host, "", self.port, &txt[..])?
                .enable_addr_auto()),
        }
    }
}

/// The running discovery: the daemon, what it advertises, and the inventory.
pub struct Discovery {
    daemon: std::sync::RwLock<ServiceDaemon>,
    inventory: Mutex<Inventory>,
    advertised: Mutex<Option<(Advert, String)>>,
    manifest: Arc<LiveManifest>,
    clock: Arc<dyn Clock>,
    /// mDNS events folded into the inventory (for the flood benchmark).
    events: AtomicU64,
    started: Instant,
    /// Set at teardown: the booth is never announced again by this process.
    silent: std::sync::atomic::AtomicBool,
    guard: Mutex<flood::FloodGuard>,
    /// When the browsers started (wall clock, ms): with each device's first sighting, it
    /// says how long discovery took, without the node's own start-up.
    browsing_since_ms: std::sync::atomic::AtomicI64,
}

impl Discovery {
    /// Starts the daemon and the browsers; `me` (this node's id) is never listed.
    pub fn start(
        me: &str,
        manifest: Arc<LiveManifest>,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Discovery>, DiscoveryError> {
        let settings = manifest.current().manifest.discovery.clone();
        let discovery = Arc::new(Discovery {
            daemon: std::sync::RwLock::new(ServiceDaemon::new()?),
            inventory: Mutex::new(Inventory::new(me, settings.max_devices as usize)),
            advertised: Mutex::new(None),
            manifest,
            clock,
            events: AtomicU64::new(0),
            started: Instant::now(),
            silent: std::sync::atomic::AtomicBool::new(false),
            guard: Mutex::default(),
            browsing_since_ms: std::sync::atomic::AtomicI64::new(0),
        });
        discovery.browsing_since_ms.store(discovery.now_ms(), Ordering::Relaxed);
        discovery.browse(&discovery.daemon())?;
        Ok(discovery)
    }

    fn daemon(&self) -> std::sync::RwLockReadGuard<'_, ServiceDaemon> {
        self.daemon.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Every service type this node browses: booths, the common devices, the manifest's.
    fn service_types(&self) -> Vec<String> {
        let settings = &self.manifest.current().manifest.discovery;
        let mut types: Vec<String> = std::iter::once(BOOTH_TYPE.to_owned())
            .chain(DEFAULT_DEVICE_TYPES.iter().map(|t| (*t).to_owned()))
            .chain(settings.extra_types.iter().cloned())
            .collect();
        types.dedup();
        types
    }

    /// Starts a browser per service type on `daemon` (except the ones the flood guard
    /// holds), each folding into the inventory.
    fn browse(self: &Arc<Self>, daemon: &ServiceDaemon) -> Result<(), DiscoveryError> {
        daemon.set_ip_check_interval(IP_CHECK_SECS)?;
        for ty in self.service_types() {
            if !self.guard().is_paused(&ty) {
                self.browse_one(daemon, ty)?;
            }
        }
        Ok(())
    }

    fn browse_one(
        self: &Arc<Self>,
        daemon: &ServiceDaemon,
        ty: String,
    ) -> Result<(), DiscoveryError> {
        let rx = daemon.browse(&format!("{ty}.local."))?;
        tokio::spawn(follow(Arc::downgrade(self), ty, rx));
        Ok(())
    }

    fn guard(&self) -> MutexGuard<'_, flood::FloodGuard> {
        self.guard.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Service types whose browsing the flood guard holds now.
    pub fn paused(&self) -> Vec<flood::PausedType> {
        self.guard().paused()
    }

    /// Browses again the types whose pause is over.
    fn resume_due(self: &Arc<Self>) {
        let due = self.guard().due(self.now_ms());
        for ty in due {
            tracing::info!(service_type = %ty, "browsing for this service type again after a flood");
            if let Err(e) = self.browse_one(&self.daemon(), ty) {
                tracing::warn!(error = %e, "could not browse again after a flood");
            }
        }
    }

    /// A fresh daemon, browsers and advertisement, after the machine's addresses
    /// changed. The old daemon stops without goodbyes: peers keep this booth listed
    /// and take its new address from the new announcement.
    pub fn restart(self: &Arc<Self>) -> Result<(), DiscoveryError> {
        let fresh = ServiceDaemon::new()?;
        self.browsing_since_ms.store(self.now_ms(), Ordering::Relaxed);
        self.browse(&fresh)?;
        let old =
            std::mem::replace(&mut *self.daemon.write().unwrap_or_else(|p| p.into_inner()), fresh);
        let _ = old.shutdown();
        let advert =
            self.advertised.lock().unwrap_or_else(|p| p.into_inner()).take().map(|(a, _)| a);
        if let Some(advert) = advert {
            self.advertise(&advert)?;
        }
        tracing::info!(
            "the machine's addresses changed: mDNS restarted and this booth announced again"
        );
        Ok(())
    }

    /// Advertises (or re-advertises, when anything in it changed) this node.
    pub fn advertise(&self, advert: &Advert) -> Result<(), DiscoveryError> {
        if self.silent.load(std::sync::atomic::Ordering::Acquire) {
            return Ok(());
        }
        let mut current = self.advertised.lock().unwrap_or_else(|p| p.into_inner());
        if current.as_ref().is_some_and(|(a, _)| a == advert) {
            return Ok(());
        }
        let info = advert.info()?;
        let fullname = info.get_fullname().to_owned();
        if let Some((_, old)) = current.as_ref().filter(|(_, old)| *old != fullname) {
            let _ = self.daemon().unregister(old);
        }
        self.daemon().register(info)?;
        tracing::info!(instance = %advert.instance(), port = advert.port, "advertising over mDNS as {BOOTH_TYPE}");
        *current = Some((advert.clone(), fullname));
        Ok(())
    }

    /// What is advertised now, if anything.
    pub fn advertised(&self) -> Option<Advert> {
        self.advertised.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|(a, _)| a.clone())
    }

    /// From now on nothing is advertised (teardown); follow with [`withdraw`](Self::withdraw).
    pub fn stop_advertising(&self) {
        self.silent.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Withdraws the advertisement with goodbye packets, waiting up to a second for
    /// them to be sent.
    pub async fn withdraw(&self) {
        let fullname =
            self.advertised.lock().unwrap_or_else(|p| p.into_inner()).take().map(|(_, f)| f);
        if let Some(fullname) = fullname {
            let unregistered = self.daemon().unregister(&fullname);
            if let Ok(rx) = unregistered {
                let _ = tokio::time::timeout(Duration::from_secs(1), rx.recv_async()).await;
                tracing::info!("withdrew the mDNS advertisement");
            }
        }
    }

    /// Stops the daemon (after [`withdraw`](Self::withdraw)).
    pub async fn shutdown(&self) {
        let stopped = self.daemon().shutdown();
        if let Ok(rx) = stopped {
            let _ = tokio::time::timeout(Duration::from_secs(1), rx.recv_async()).await;
        }
    }

    pub fn inventory(&self) -> MutexGuard<'_, Inventory> {
        self.inventory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// When the browsers (re)started, wall clock in milliseconds.
    pub fn browsing_since_ms(&self) -> i64 {
        self.browsing_since_ms.load(Ordering::Relaxed)
    }

    pub fn events_seen(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    fn now_ms(&self) -> i64 {
        self.clock.now().as_millisecond()
    }

    pub fn gone_after_ms(&self) -> i64 {
        self.manifest.current().manifest.discovery.gone_after.as_millis() as i64
    }

    fn fold(&self, ty: &str, event: ServiceEvent) {
        self.events.fetch_add(1, Ordering::Relaxed);
        let now = self.now_ms();
        match event {
            // A new name in mdns-sd's cache: what the flood guard counts.
            ServiceEvent::ServiceFound(..) => {
                let tripped = self.guard().new_name(ty, now);
                if let Some(until) = tripped {
                    let names = self
                        .guard()
                        .paused()
                        .into_iter()
                        .find(|p| p.service_type == ty)
                        .map_or(0, |p| p.names);
                    tracing::warn!(
                        service_type = %ty, names, pause_s = (until - now) / 1000,
                        "a flood of mDNS names: browsing for this service type is paused"
                    );
                    let _ = self.daemon().stop_browse(&format!("{ty}.local."));
                }
            }
            ServiceEvent::ServiceResolved(s) => {
                let resolved = Resolved {
                    service_type: ty.to_owned(),
                    fullname: s.fullname.clone(),
                    host: s.host.clone(),
                    port: s.port,
                    addresses: s.addresses.iter().map(|a| a.to_ip_addr()).collect(),
                    txt: s
                        .txt_properties
                        .iter()
                        .map(|p| (p.key().to_owned(), p.val_str().to_owned()))
                        .collect(),
                };
                // Names still in flight when the guard tripped are not let in: the
                // flood stops at the guard, not at the inventory's bound.
                let paused = self.guard().is_paused(ty);
                let change = if paused {
                    self.inventory().resolved_known_only(resolved, now, self.gone_after_ms())
                } else {
                    self.inventory().resolved(resolved, now, self.gone_after_ms())
                };
                tracing::debug!(fullname = %s.fullname, ?change, "mDNS: resolved");
            }
            ServiceEvent::ServiceRemoved(_, fullname)
                if self.inventory().withdrawn(&fullname, now) =>
            {
                tracing::debug!(%fullname, "mDNS: said goodbye");
            }
            _ => {}
        }
    }
}

/// Folds one browser's events into the inventory until the daemon stops or the
/// discovery is dropped.
async fn follow(
    discovery: std::sync::Weak<Discovery>,
    ty: String,
    rx: mdns_sd::Receiver<ServiceEvent>,
) {
    while let Ok(event) = rx.recv_async().await {
        let Some(d) = discovery.upgrade() else { break };
        d.fold(&ty, event);
    }
}

/// One TCP connect: its time, or `None` when refused or too slow.
pub async fn probe(at: SocketAddr) -> Option<u64> {
    let started = Instant::now();
    match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(at)).await {
        Ok(Ok(_)) => Some(started.elapsed().as_micros() as u64),
        _ => None,
    }
}

/// The machine's IPv4 addresses, loopback aside.
fn ipv4_addresses() -> std::collections::BTreeSet<IpAddr> {
    if_addrs::get_if_addrs()
        .map(|list| {
            list.into_iter()
                .map(|i| i.ip())
                .filter(|ip| ip.is_ipv4() && !ip.is_loopback())
                .collect()
        })
        .unwrap_or_default()
}

/// Restarts mDNS when the machine's IPv4 addresses change, and browses again the
/// service types whose flood pause is over, until the node stops.
pub async fn follow_addresses(
    discovery: Arc<Discovery>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let mut known = ipv4_addresses();
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(u64::from(IP_CHECK_SECS))) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
        discovery.resume_due();
        let now = ipv4_addresses();
        if now != known && !now.is_empty() {
            if let Err(e) = discovery.restart() {
                tracing::warn!(error = %e, "could not restart mDNS after an address change");
                continue;
            }
        }
        known = now;
    }
}

/// Probes every device each `probe_every` and forgets the long gone, until the node stops.
pub async fn keep_probing(
    discovery: Arc<Discovery>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let every = discovery.manifest.current().manifest.discovery.probe_every.unsigned_abs();
        let targets = discovery.inventory().probe_targets();
        let round = futures_util::stream::iter(targets)
            .map(|(key, at)| async move { (key, at, probe(at).await) })
            .buffer_unordered(PROBE_CONCURRENCY)
            .collect::<Vec<_>>();
        // A round over hundreds of silent devices takes seconds (a second each, 32 at
        // once); a stopping node does not wait for it, so its goodbye goes out at once.
        let results = tokio::select! {
            results = round => results,
            _ = stopping.wait_for(|s| *s) => return,
        };
        {
            let now = discovery.now_ms();
            let mut inventory = discovery.inventory();
            for (key, at, rtt) in results {
                inventory.probed(&key, at, rtt, now);
            }
            inventory.sweep(now);
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
    }
}
