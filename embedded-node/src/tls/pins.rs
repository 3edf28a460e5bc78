//! Which certificates this booth believes when it calls out: public roots for the hub
//! and origins, and for paired booths the booth CAs whose fingerprints it was given.
//!
//! Owns: the pinned CA fingerprints, each for the host it was learnt for (a LAN
//! booth's address from its mDNS record, a manifest peer's host from its `ca`), and the
//! rustls client configuration every outgoing client of the node uses. Never: accepts a
//! certificate because of a fingerprint alone — the pinned CA must have issued the
//! server's certificate for the name that was asked, and it must be in date; never lets
//! a pin stand for another host (an origin or the hub are checked by the public roots
//! only, whatever a booth on the LAN advertises).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

/// The booth CAs this booth was told to trust, by host and SHA-256 of their certificate.
#[derive(Debug, Default)]
pub struct PeerPins {
    /// Host (an address as text, or a lower-case name) → the CAs pinned for it.
    pins: RwLock<HashMap<String, HashSet<[u8; 32]>>>,
}

/// At most this many hosts are pinned (a LAN flooded with fake booths cannot grow it).
const MAX_HOSTS: usize = 1024;

impl PeerPins {
    /// Trusts the CA `fingerprint` for `host` (an IP address, `[v6]` or a name).
    pub fn pin(&self, host: &str, fingerprint: [u8; 32]) {
        let host = normalise(host);
        let mut pins = self.pins.write().expect("not poisoned");
        if pins.len() >= MAX_HOSTS && !pins.contains_key(&host) {
            return;
        }
        pins.entry(host).or_default().insert(fingerprint);
    }

    pub fn is_pinned(&self, host: &str, fingerprint: &[u8; 32]) -> bool {
        let pins = self.pins.read().expect("not poisoned");
        pins.get(&normalise(host)).is_some_and(|set| set.contains(fingerprint))
    }
}

fn normalise(host: &str) -> String {
    host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase()
}

fn host_of(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(d) => d.as_ref().to_ascii_lowercase(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        _ => String::new(),
    }
}

/// `ab12…` (64 hex digits) for a fingerprint, as the mDNS record and manifest carry it.
pub fn to_hex(fingerprint: &[u8; 32]) -> String {
    hex::encode(fingerprint)
}

/// A fingerprint from hex, with or without colons (`AB:12:…`, as browsers show it).
pub fn from_hex(text: &str) -> Option<[u8; 32]> {
    let digits: String = text.chars().filter(|c| *c != ':').collect();
    hex::decode(digits).ok()?.try_into().ok()
}

/// `AB:12:…`, for people comparing it with what their device shows.
pub fn for_people(fingerprint: &[u8; 32]) -> String {
    fingerprint.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

#[derive(Debug)]
struct Verifier {
    pins: Arc<PeerPins>,
    public: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let host = host_of(server_name);
        let pinned = intermediates.iter().find(|c| {
            let digest: [u8; 32] = Sha256::digest(c.as_ref()).into();
            self.pins.is_pinned(&host, &digest)
        });
        let Some(ca) = pinned else {
            return self.public.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp,
                now,
            );
        };
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone().into_owned())?;
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?;
        verifier.verify_server_cert(end_entity, &[], server_name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.public.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.public.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.public.supported_verify_schemes()
    }
}

/// The check of a server's certificate: a pinned booth CA when one issued it, else the
/// public roots.
pub fn verifier(pins: Arc<PeerPins>) -> Arc<dyn ServerCertVerifier> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let public = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .expect("the public roots are valid trust anchors");
    Arc::new(Verifier { pins, public, provider })
}

/// The client configuration for every call the node makes: the hub, origins and
/// upstreams by the public roots; paired booths by their pinned CA.
pub fn client_config(pins: Arc<PeerPins>) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier(pins))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}
