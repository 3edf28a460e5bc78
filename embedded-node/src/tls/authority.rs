//! The booth's own certificate authority: made once, kept in the secret store, and used
//! only to issue this booth's server certificates.
//!
//! Owns: the CA key and certificate (one secret, `booth-ca`: its name, key and
//! certificate), issuing a server certificate for a set of names, and the CA's
//! fingerprint (SHA-256 of its certificate) that kiosks and paired booths check.
//! Never: writes the CA key outside the secret store, or issues a certificate that is
//! itself a CA or good for anything but serving TLS.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

use jiff::Timestamp;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::secrets::{SecretError, SecretStore};

/// The secret holding the CA (key and certificate, as JSON).
pub const CA_SECRET: &str = "booth-ca";
/// How long the booth CA is good for: the life of the laptop, give or take.
const CA_DAYS: i64 = 3650;
/// How long a server certificate is good for. It is re-issued at every start and when
/// the addresses change, so this only bounds a stolen one.
pub const SERVER_DAYS: i64 = 90;
/// Backdating, for kiosks whose clock runs behind.
const BACKDATE_DAYS: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum AuthorityError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("the booth certificate authority could not be made: {0}")]
    Make(#[from] rcgen::Error),
    #[error("the stored booth certificate authority is damaged: {0}")]
    Stored(String),
    #[error("the server key cannot be used for TLS: {0}")]
    Key(#[from] rustls::Error),
}

#[derive(Serialize, Deserialize)]
struct Stored {
    name: String,
    key_pem: String,
    cert_pem: String,
}

/// The names a server certificate is for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Names {
    pub dns: BTreeSet<String>,
    pub ips: BTreeSet<IpAddr>,
}

/// The booth CA, loaded.
pub struct BoothCa {
    issuer: Issuer<'static, KeyPair>,
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    fingerprint: [u8; 32],
}

impl BoothCa {
    /// The CA in `store`, or a new one (saved before it is used) named after `label`.
    /// Returns whether it was made now.
    pub fn load_or_create(
        store: &dyn SecretStore,
        label: &str,
        now: Timestamp,
    ) -> Result<(BoothCa, bool), AuthorityError> {
        if let Some(bytes) = store.get(CA_SECRET)? {
            let stored: Stored = serde_json::from_slice(&bytes)
                .map_err(|e| AuthorityError::Stored(e.to_string()))?;
            return Ok((Self::from_stored(stored)?, false));
        }
        let name = format!("Boothcloud booth CA {label}");
        let key = KeyPair::generate()?;
        let params = ca_params(&name, now);
        let cert = params.self_signed(&key)?;
        let stored = Stored { name, key_pem: key.serialize_pem(), cert_pem: cert.pem() };
        let bytes = serde_json::to_vec(&stored).expect("plain strings serialise");
        store.set(CA_SECRET, &bytes)?;
        Ok((Self::from_stored(stored)?, true))
    }

    fn from_stored(stored: Stored) -> Result<BoothCa, AuthorityError> {
        let key = KeyPair::from_pem(&stored.key_pem)
            .map_err(|e| AuthorityError::Stored(e.to_string()))?;
        let cert_der = CertificateDer::from_pem_slice(stored.cert_pem.as_bytes())
            .map_err(|e| AuthorityError::Stored(format!("certificate: {e}")))?;
        // The issuer is the CA's name and key; the dates of these params do not matter.
        let issuer = Issuer::new(ca_params(&stored.name, Timestamp::UNIX_EPOCH), key);
        let fingerprint = Sha256::digest(cert_der.as_ref()).into();
        Ok(BoothCa { issuer, cert_der, cert_pem: stored.cert_pem, fingerprint })
    }

    pub fn pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// SHA-256 of the CA certificate.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// A server certificate for `names`, chained to this CA (the CA certificate is sent
    /// with it, so a client that pins the CA's fingerprint finds it in the handshake).
    pub fn issue(
        &self,
        names: &Names,
        now: Timestamp,
    ) -> Result<Arc<CertifiedKey>, AuthorityError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, names.dns.iter().next().cloned().unwrap_or_default());
        params.distinguished_name = dn;
        for dns in &names.dns {
            params.subject_alt_names.push(SanType::DnsName(dns.clone().try_into()?));
        }
        params.subject_alt_names.extend(names.ips.iter().map(|ip| SanType::IpAddress(*ip)));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(serial());
        set_validity(&mut params, now, SERVER_DAYS);
        let cert = params.signed_by(&key, &self.issuer)?;
        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signer = rustls::crypto::ring::sign::any_supported_type(&private)?;
        Ok(Arc::new(CertifiedKey::new(vec![cert.der().clone(), self.cert_der.clone()], signer)))
    }
}

fn ca_params(name: &str, now: Timestamp) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn.push(DnType::OrganizationName, "Boothcloud");
    params.distinguished_name = dn;
    // It issues server certificates and nothing below them.
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.serial_number = Some(serial());
    set_validity(&mut params, now, CA_DAYS);
    params
}

fn serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] &= 0x7f; // positive
    SerialNumber::from_slice(&bytes)
}

/// From a day before `now` to `days` after it, in whole days (UTC).
fn set_validity(params: &mut CertificateParams, now: Timestamp, days: i64) {
    let day = |t: Timestamp| {
        let d = t.to_zoned(jiff::tz::TimeZone::UTC).date();
        rcgen::date_time_ymd(i32::from(d.year()), d.month() as u8, d.day() as u8)
    };
    let span = |n: i64| jiff::SignedDuration::from_hours(24 * n);
    params.not_before = day(now.saturating_sub(span(BACKDATE_DAYS)).unwrap_or(now));
    params.not_after = day(now.saturating_add(span(days)).unwrap_or(now));
}
