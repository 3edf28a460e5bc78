//! The certificate the booth serves: issued by the booth CA for the names kiosks use
//! to reach it, and issued again when those names change; or the organisation's own,
//! given in the manifest.
//!
//! Owns: the certificate in force (swapped whole, so a handshake sees the old one or the
//! new one), the names it covers, and the rustls server configuration. Never: blocks a
//! handshake on issuing (issuing happens on the refresh loop), or serves a certificate
//! whose key it did not check.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};

use super::authority::{AuthorityError, BoothCa, Names, SERVER_DAYS};

#[derive(Debug, thiserror::Error)]
pub enum ServerCertError {
    #[error(transparent)]
    Authority(#[from] AuthorityError),
    #[error("the manifest's certificate {path} cannot be read: {why}")]
    Provided { path: String, why: String },
}

/// Where the certificate in force came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertificateSource {
    /// Issued by this booth's own CA (kiosks enroll by trusting the CA).
    BoothCa,
    /// The organisation's, named in the manifest.
    Manifest,
}

struct InForce {
    key: Arc<CertifiedKey>,
    names: Names,
    issued: Timestamp,
}

/// The server side of the booth's TLS.
pub struct ServerCerts {
    ca: BoothCa,
    source: CertificateSource,
    /// The booth's mDNS host name and `localhost`: always in the certificate.
    fixed: BTreeSet<String>,
    current: RwLock<InForce>,
    reissued: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for ServerCerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCerts").field("source", &self.source).finish_non_exhaustive()
    }
}

/// A certificate and key from PEM files (the organisation's own).
pub fn load_provided(cert: &Path, key: &Path) -> Result<Arc<CertifiedKey>, ServerCertError> {
    let err = |path: &Path, why: String| ServerCertError::Provided {
        path: path.display().to_string(),
        why,
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| err(cert, e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(err(cert, "no certificate in the file".into()));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| err(key, e.to_string()))?;
    let signer = rustls::crypto::ring::sign::any_supported_type(&private)
        .map_err(|e| err(key, e.to_string()))?;
    let certified = CertifiedKey::new(chain, signer);
    certified
        .keys_match()
        .map_err(|e| err(key, format!("it is not the certificate's key: {e}")))?;
    Ok(Arc::new(certified))
}

impl ServerCerts {
    /// Issues the first certificate for `host` (the mDNS name), `localhost` and `ips`,
    /// or serves `provided` as it is.
    pub fn new(
        ca: BoothCa,
        host: &str,
        ips: BTreeSet<IpAddr>,
        provided: Option<Arc<CertifiedKey>>,
        now: Timestamp,
    ) -> Result<ServerCerts, ServerCertError> {
        let fixed: BTreeSet<String> = [host.to_owned(), "localhost".to_owned()].into();
        let names = Names { dns: fixed.clone(), ips: with_loopback(ips) };
        let (key, source) = match provided {
            Some(key) => (key, CertificateSource::Manifest),
            None => (ca.issue(&names, now)?, CertificateSource::BoothCa),
        };
        Ok(ServerCerts {
            ca,
            source,
            fixed,
            current: RwLock::new(InForce { key, names, issued: now }),
            reissued: Default::default(),
        })
    }

    pub fn ca(&self) -> &BoothCa {
        &self.ca
    }

    pub fn source(&self) -> CertificateSource {
        self.source
    }

    /// The addresses the certificate in force covers.
    pub fn addresses(&self) -> BTreeSet<IpAddr> {
        self.current.read().expect("not poisoned").names.ips.clone()
    }

    /// The chain in force: the server certificate, then the CA's (or the manifest's chain).
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.current.read().expect("not poisoned").key.cert.clone()
    }

    /// How many times the certificate was issued again since start.
    pub fn reissued(&self) -> u64 {
        self.reissued.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// SHA-256 of the certificate in force (the leaf).
    pub fn leaf_fingerprint(&self) -> [u8; 32] {
        let now = self.current.read().expect("not poisoned");
        Sha256::digest(now.key.cert[0].as_ref()).into()
    }

    /// Issues a new certificate when `ips` are not the ones covered, or when the one in
    /// force is past half its life. Returns whether it did. The organisation's
    /// certificate is never replaced.
    pub fn refresh(&self, ips: BTreeSet<IpAddr>, now: Timestamp) -> Result<bool, ServerCertError> {
        if self.source == CertificateSource::Manifest {
            return Ok(false);
        }
        let names = Names { dns: self.fixed.clone(), ips: with_loopback(ips) };
        {
            let current = self.current.read().expect("not poisoned");
            let half_life = jiff::SignedDuration::from_hours(24 * SERVER_DAYS / 2);
            let young = now.duration_since(current.issued) < half_life;
            if current.names == names && young {
                return Ok(false);
            }
        }
        let key = self.ca.issue(&names, now)?;
        *self.current.write().expect("not poisoned") = InForce { key, names, issued: now };
        self.reissued.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(true)
    }

    /// rustls's server configuration: TLS 1.2 and 1.3 (rustls's safe defaults only),
    /// HTTP/1.1, this resolver.
    pub fn server_config(self: &Arc<Self>) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

/// Loopback is always covered: the booth laptop's own browser and scripts use it.
fn with_loopback(mut ips: BTreeSet<IpAddr>) -> BTreeSet<IpAddr> {
    ips.insert(IpAddr::from([127, 0, 0, 1]));
    ips.insert(IpAddr::from(std::net::Ipv6Addr::LOCALHOST));
    ips
}

impl ResolvesServerCert for ServerCerts {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().expect("not poisoned").key.clone())
    }
}
