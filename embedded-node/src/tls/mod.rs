//! TLS at the booth: the booth's own certificate authority, the certificate it serves
//! kiosks and peers, and whom it believes when it calls out.
//!
//! - [`authority`]: the booth CA (key in the secret store) and the certificates it issues.
//! - [`server`]: the certificate in force, issued again when the machine's addresses change.
//! - [`pins`]: the client side, public roots plus the pinned CAs of paired booths.
//!
//! Owns: [`BoothTls`], made once at start-up, and the loop that follows the machine's
//! addresses. Never: serves or trusts anything without a certificate chain checked by
//! rustls; the CA key never leaves the secret store except into this process.

pub mod authority;
pub mod pins;
pub mod server;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use boothcloud_core::clock::Clock;

use crate::secrets::SecretStore;
use authority::{AuthorityError, BoothCa};
pub use pins::PeerPins;
use server::{ServerCertError, ServerCerts};

/// How often the machine's addresses are read for a new certificate.
pub const ADDRESS_CHECK: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(transparent)]
    Authority(#[from] AuthorityError),
    #[error(transparent)]
    Server(#[from] ServerCertError),
    #[error("the CA certificate could not be written to {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// The booth's TLS, server side (the client side's pins are `peers`').
pub struct BoothTls {
    pub server: Arc<ServerCerts>,
    /// Whether the CA was made at this start (a new booth: kiosks must enroll).
    pub ca_created: bool,
}

impl std::fmt::Debug for BoothTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoothTls").field("server", &self.server).finish_non_exhaustive()
    }
}

/// The booth's name on the LAN (`boothcloud-<id8>.local`), as discovery advertises it.
pub fn host_name(node_id: &str) -> String {
    format!("boothcloud-{}.local", &node_id[..node_id.len().min(8)])
}

/// The machine's addresses other than loopback (IPv4 and IPv6); `None` when they could
/// not be read (then nothing is issued on them).
pub fn machine_addresses() -> Option<BTreeSet<IpAddr>> {
    if_addrs::get_if_addrs()
        .map(|list| list.into_iter().map(|i| i.ip()).filter(|ip| !ip.is_loopback()).collect())
        .ok()
}

impl BoothTls {
    /// Loads (or makes) the CA, issues the first server certificate (or takes the
    /// manifest's), and writes the CA certificate to `<data-dir>/tls/booth-ca.pem` for
    /// scripts (`curl --cacert`).
    pub fn load(
        store: &dyn SecretStore,
        data_dir: &Path,
        node_id: &str,
        provided: Option<(&Path, &Path)>,
        clock: &dyn Clock,
    ) -> Result<BoothTls, TlsError> {
        let now = clock.now();
        let host = host_name(node_id);
        let (ca, ca_created) = BoothCa::load_or_create(store, &host, now)?;
        let dir = data_dir.join("tls");
        let path = dir.join("booth-ca.pem");
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, ca.pem()))
            .map_err(|source| TlsError::Write { path, source })?;
        let provided = match provided {
            Some((cert, key)) => Some(server::load_provided(cert, key)?),
            None => None,
        };
        let ips = machine_addresses().unwrap_or_default();
        let server = ServerCerts::new(ca, &host, ips, provided, now)?;
        Ok(BoothTls { server: Arc::new(server), ca_created })
    }

    /// The CA's fingerprint, hex (the mDNS record's `ca`, a manifest peer's `ca`).
    pub fn ca_fingerprint(&self) -> String {
        pins::to_hex(&self.server.ca().fingerprint())
    }
}

/// Issues the server certificate again whenever the machine's addresses change (a new
/// lease, a roam to another network), until `stop` completes.
pub async fn follow_addresses(
    server: Arc<ServerCerts>,
    clock: Arc<dyn Clock>,
    addresses: impl Fn() -> Option<BTreeSet<IpAddr>> + Send + 'static,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(every) => {}
        }
        // Unreadable for a moment: keep the certificate in force rather than drop the LAN.
        let Some(ips) = addresses() else { continue };
        let server = server.clone();
        let now = clock.now();
        // Issuing signs with the CA key: off the async threads.
        match tokio::task::spawn_blocking(move || server.refresh(ips, now)).await {
            Ok(Ok(true)) => tracing::info!(
                "the machine's addresses changed: a new server certificate is in force"
            ),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the server certificate could not be issued again")
            }
            Err(e) => tracing::warn!(error = %e, "issuing the server certificate failed"),
        }
    }
}

#[cfg(test)]
mod tests;
