use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

use boothcloud_core::clock::ManualClock;
use jiff::{SignedDuration, Timestamp};
use rustls::pki_types::{ServerName, UnixTime};
use sha2::Digest;

use super::authority::{BoothCa, CA_SECRET};
use super::pins::{self, PeerPins};
use super::server::{CertificateSource, ServerCerts};
use super::BoothTls;
use crate::secrets::{FileVault, SecretStore};

fn now() -> Timestamp {
    "2026-12-03T10:00:00Z".parse().unwrap()
}

/// Every name the tests ask for.
const HOSTS: [&str; 9] = [
    "boothcloud-1234abcd.local",
    "boothcloud-99999999.local",
    "localhost",
    "example.com",
    "10.0.0.7",
    "10.0.0.8",
    "192.168.4.20",
    "127.0.0.1",
    "::1",
];

/// Pins `fp` for every host the tests ask for.
fn pinned(pins: &PeerPins, fp: [u8; 32]) {
    for h in HOSTS {
        pins.pin(h, fp);
    }
}

fn ips(list: &[&str]) -> BTreeSet<IpAddr> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

/// Checks `server`'s certificate in force as a client that pinned `pins` would.
fn check(
    pins: Arc<PeerPins>,
    server: &ServerCerts,
    name: &str,
    at: Timestamp,
) -> Result<(), rustls::Error> {
    let hello_free = server.chain();
    let verifier = pins::verifier(pins);
    let name = ServerName::try_from(name.to_owned()).unwrap();
    let when = UnixTime::since_unix_epoch(std::time::Duration::from_secs(at.as_second() as u64));
    verifier.verify_server_cert(&hello_free[0], &hello_free[1..], &name, &[], when).map(|_| ())
}

#[test]
fn the_ca_is_made_once_and_kept_in_the_secret_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileVault::open(dir.path()).unwrap();
    let (first, made) = BoothCa::load_or_create(&store, "booth", now()).unwrap();
    assert!(made);
    assert!(store.get(CA_SECRET).unwrap().is_some());
    let (again, made) = BoothCa::load_or_create(&store, "booth", now()).unwrap();
    assert!(!made);
    assert_eq!(first.fingerprint(), again.fingerprint());
    assert_eq!(first.pem(), again.pem());
    // A certificate issued by the reloaded CA chains to the CA certificate of the first.
    let server =
        ServerCerts::new(again, "boothcloud-1234abcd.local", ips(&["10.0.0.7"]), None, now())
            .unwrap();
    let pins = Arc::new(PeerPins::default());
    pinned(&pins, first.fingerprint());
    check(pins, &server, "10.0.0.7", now()).unwrap();
}

#[test]
fn the_server_certificate_covers_the_mdns_name_localhost_and_the_addresses_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileVault::open(dir.path()).unwrap();
    let (ca, _) = BoothCa::load_or_create(&store, "booth", now()).unwrap();
    let fp = ca.fingerprint();
    let server =
        ServerCerts::new(ca, "boothcloud-1234abcd.local", ips(&["10.0.0.7"]), None, now()).unwrap();
    let pins = Arc::new(PeerPins::default());
    pinned(&pins, fp);
    for name in ["boothcloud-1234abcd.local", "localhost", "10.0.0.7", "127.0.0.1", "::1"] {
        check(pins.clone(), &server, name, now()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for name in ["10.0.0.8", "example.com", "boothcloud-99999999.local"] {
        assert!(check(pins.clone(), &server, name, now()).is_err(), "{name} was accepted");
    }
    // Out of date past its 90 days.
    let later = now() + SignedDuration::from_hours(24 * 91);
    assert!(check(pins.clone(), &server, "localhost", later).is_err());
}

#[test]
fn a_booth_ca_nobody_pinned_is_not_believed() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileVault::open(dir.path()).unwrap();
    let (ca, _) = BoothCa::load_or_create(&store, "booth", now()).unwrap();
    let server = ServerCerts::new(ca, "boothcloud-1234abcd.local", ips(&[]), None, now()).unwrap();
    let err = check(Arc::new(PeerPins::default()), &server, "localhost", now()).unwrap_err();
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
    // Another booth's CA pinned does not stand for this one.
    let other_dir = tempfile::tempdir().unwrap();
    let other = FileVault::open(other_dir.path()).unwrap();
    let (other_ca, _) = BoothCa::load_or_create(&other, "other", now()).unwrap();
    let pins = Arc::new(PeerPins::default());
    pinned(&pins, other_ca.fingerprint());
    assert!(check(pins, &server, "localhost", now()).is_err());
}

#[test]
fn a_pin_stands_for_its_host_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileVault::open(dir.path()).unwrap();
    let (ca, _) = BoothCa::load_or_create(&store, "booth", now()).unwrap();
    let pins = Arc::new(PeerPins::default());
    pins.pin("10.0.0.7", ca.fingerprint());
    let server =
        ServerCerts::new(ca, "boothcloud-1234abcd.local", ips(&["10.0.0.7"]), None, now()).unwrap();
    check(pins.clone(), &server, "10.0.0.7", now()).unwrap();
    // The same certificate names localhost too, but this CA was pinned for 10.0.0.7 only:
    // a booth advertising its CA cannot stand in for another host (an origin, the hub).
    assert!(check(pins.clone(), &server, "localhost", now()).is_err());
    assert!(check(pins, &server, "boothcloud-1234abcd.local", now()).is_err());
}

#[test]
fn a_new_address_brings_a_new_certificate_that_covers_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileVault::open(dir.path()).unwrap();
    let (ca, _) = BoothCa::load_or_create(&store, "booth", now()).unwrap();
    let pins = Arc::new(PeerPins::default());
    pinned(&pins, ca.fingerprint());
    let server =
        ServerCerts::new(ca, "boothcloud-1234abcd.local", ips(&["10.0.0.7"]), None, now()).unwrap();
    let before = server.leaf_fingerprint();
    assert!(!server.refresh(ips(&["10.0.0.7"]), now()).unwrap(), "nothing changed");
    assert_eq!(server.reissued(), 0);
    assert!(check(pins.clone(), &server, "192.168.4.20", now()).is_err());

    assert!(server.refresh(ips(&["192.168.4.20"]), now()).unwrap());
    assert_ne!(server.leaf_fingerprint(), before);
    assert_eq!(server.reissued(), 1);
    check(pins.clone(), &server, "192.168.4.20", now()).unwrap();
    assert!(check(pins.clone(), &server, "10.0.0.7", now()).is_err(), "the old address is gone");

    // Past half its life, the same addresses get a fresh certificate.
    let later = now() + SignedDuration::from_hours(24 * 46);
    assert!(server.refresh(ips(&["192.168.4.20"]), later).unwrap());
    check(pins, &server, "192.168.4.20", later + SignedDuration::from_hours(24 * 60)).unwrap();
}

#[test]
fn the_organisations_certificate_is_served_as_given_and_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileVault::open(dir.path()).unwrap();
    let org_key = rcgen::KeyPair::generate().unwrap();
    let org = rcgen::CertificateParams::new(vec!["booth.example.org".to_owned()])
        .unwrap()
        .self_signed(&org_key)
        .unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, org.pem()).unwrap();
    std::fs::write(&key, org_key.serialize_pem()).unwrap();
    let provided = super::server::load_provided(&cert, &key).unwrap();
    let org_fp: [u8; 32] = sha2::Sha256::digest(org.der().as_ref()).into();

    let (ca, _) = BoothCa::load_or_create(&store, "booth", now()).unwrap();
    let server =
        ServerCerts::new(ca, "boothcloud-1234abcd.local", ips(&[]), Some(provided), now()).unwrap();
    assert_eq!(server.source(), CertificateSource::Manifest);
    assert_eq!(server.leaf_fingerprint(), org_fp);
    assert!(!server.refresh(ips(&["10.9.9.9"]), now()).unwrap());
    assert_eq!(server.leaf_fingerprint(), org_fp);

    // A key that is not the certificate's is refused at start.
    let other = dir.path().join("other.pem");
    std::fs::write(&other, rcgen::KeyPair::generate().unwrap().serialize_pem()).unwrap();
    let err = super::server::load_provided(&cert, &other).unwrap_err();
    assert!(err.to_string().contains("not the certificate's key"), "{err}");
}

#[test]
fn fingerprints_read_back_in_either_spelling() {
    let fp: [u8; 32] = std::array::from_fn(|i| i as u8 * 7);
    assert_eq!(pins::from_hex(&pins::to_hex(&fp)), Some(fp));
    assert_eq!(pins::from_hex(&pins::for_people(&fp)), Some(fp));
    assert_eq!(pins::from_hex("abcd"), None);
    assert_eq!(pins::from_hex("zz"), None);
}

#[test]
fn booth_tls_writes_the_ca_for_scripts_and_keeps_it_across_starts() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileVault::open(dir.path()).unwrap();
    let clock = ManualClock::new(now());
    let first = BoothTls::load(&store, dir.path(), "1234abcd-0000", None, &clock).unwrap();
    assert!(first.ca_created);
    let written = std::fs::read_to_string(dir.path().join("tls/booth-ca.pem")).unwrap();
    assert_eq!(written, first.server.ca().pem());
    let again = BoothTls::load(&store, dir.path(), "1234abcd-0000", None, &clock).unwrap();
    assert!(!again.ca_created);
    assert_eq!(first.ca_fingerprint(), again.ca_fingerprint());
    assert_eq!(first.server.source(), CertificateSource::BoothCa);
}
