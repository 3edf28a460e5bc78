//! Finding a printer the manifest names by its DNS-SD instance (`dns_sd = "Receipts._ipp._tcp"`)
//! among the devices discovery has seen, as the address to print to now. Printing asks
//! at every look and every job, so a printer that came back from the venue's DHCP with
//! another address is found at the new one.
//!
//! Owns: which announcement stands for the printer (alive, its instance name, IPP
//! before raw TCP, the newest announcement first) and the address it gives (`ipp://`
//! with the TXT `rp` path, or `socket://` for `_pdl-datastream._tcp`). Never does IO:
//! the devices and the time are handed in.

use crate::devices::inventory::{Device, DeviceKind, Liveness};
use crate::manifest::printing::PrinterAddress;

/// The service types a printer is printed to through, best first. `_ipps._tcp` is seen
/// but not printed to (the booth has no IPPS client certificates story yet).
const PRINTABLE: [&str; 2] = ["_ipp._tcp", "_pdl-datastream._tcp"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error(
        "`{0}` is not announced on this network now (no printer of that name answers over mDNS)"
    )]
    NotFound(String),
    #[error("`{0}` is announced only over IPPS, which this booth does not print to yet: give its ipp:// address")]
    OnlyIpps(String),
    #[error("`{0}` is announced without an address this booth can reach")]
    NoAddress(String),
}

/// `Receipts._ipp._tcp` → (`Receipts`, Some(`_ipp._tcp`)); `Receipts` → (`Receipts`, None).
/// A trailing `.local.` is allowed.
pub fn split_instance(text: &str) -> (&str, Option<&str>) {
    let text = text.trim();
    let text = text.strip_suffix(".local.").or_else(|| text.strip_suffix(".local")).unwrap_or(text);
    for ty in ["_ipp._tcp", "_ipps._tcp", "_pdl-datastream._tcp", "_printer._tcp"] {
        if let Some(name) = text.strip_suffix(ty).and_then(|n| n.strip_suffix('.')) {
            return (name, Some(ty));
        }
    }
    (text, None)
}

/// Where to print to the printer announced as `instance`, now.
pub fn printer_address<'a>(
    instance: &str,
    devices: impl IntoIterator<Item = &'a Device>,
    now_ms: i64,
    gone_after_ms: i64,
) -> Result<PrinterAddress, LookupError> {
    let (name, wanted) = split_instance(instance);
    // DNS-SD instance names compare without regard to ASCII case.
    let mut named: Vec<&Device> = devices
        .into_iter()
        .filter(|d| d.kind == DeviceKind::Printer && d.name.eq_ignore_ascii_case(name))
        .filter(|d| wanted.is_none_or(|t| d.service_type == t))
        .filter(|d| d.liveness(now_ms, gone_after_ms) == Liveness::Alive)
        .collect();
    if named.is_empty() {
        return Err(LookupError::NotFound(instance.to_owned()));
    }
    let rank = |d: &Device| PRINTABLE.iter().position(|t| *t == d.service_type);
    named.sort_by_key(|d| (rank(d).unwrap_or(usize::MAX), std::cmp::Reverse(d.last_seen_ms())));
    let best = named[0];
    if rank(best).is_none() {
        return Err(if best.service_type == "_ipps._tcp" {
            LookupError::OnlyIpps(instance.to_owned())
        } else {
            LookupError::NotFound(instance.to_owned())
        });
    }
    let at = best.endpoint().ok_or_else(|| LookupError::NoAddress(instance.to_owned()))?;
    if best.service_type == "_pdl-datastream._tcp" {
        return Ok(PrinterAddress::Socket { host: at.ip().to_string(), port: at.port() });
    }
    // The resource path (TXT `rp`, "ipp/print" for an IPP Everywhere printer).
    let rp = best.txt.get("rp").map_or("ipp/print", String::as_str).trim_start_matches('/');
    url::Url::parse(&format!("ipp://{at}/{rp}"))
        .map(PrinterAddress::Ipp)
        .map_err(|_| LookupError::NoAddress(instance.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::inventory::{Inventory, Resolved};

    const GONE: i64 = 20_000;

    fn announce(
        inv: &mut Inventory,
        name: &str,
        ty: &str,
        ip: &str,
        port: u16,
        rp: Option<&str>,
        at: i64,
    ) {
        let mut txt = vec![("ty".to_owned(), "Receipt printer".to_owned())];
        if let Some(rp) = rp {
            txt.push(("rp".into(), rp.into()));
        }
        inv.resolved(
            Resolved {
                service_type: ty.into(),
                fullname: format!("{name}.{ty}.local."),
                host: "printer.local.".into(),
                port,
                addresses: vec![ip.parse().unwrap()],
                txt,
            },
            at,
            GONE,
        );
    }

    fn find(inv: &Inventory, instance: &str, now: i64) -> Result<String, LookupError> {
        printer_address(instance, inv.devices(), now, GONE).map(|a| match a {
            PrinterAddress::Ipp(u) => u.to_string(),
            PrinterAddress::Socket { host, port } => format!("socket://{host}:{port}"),
            PrinterAddress::DnsSd(n) => n,
        })
    }

    #[test]
    fn instance_names_read_with_or_without_their_type() {
        assert_eq!(split_instance("Receipts._ipp._tcp"), ("Receipts", Some("_ipp._tcp")));
        assert_eq!(
            split_instance("Prep table._pdl-datastream._tcp.local."),
            ("Prep table", Some("_pdl-datastream._tcp"))
        );
        assert_eq!(split_instance(" Label maker "), ("Label maker", None));
    }

    #[test]
    fn a_printer_is_found_by_its_name_at_its_newest_address() {
        let mut inv = Inventory::new("me", 10);
        announce(&mut inv, "Prep table", "_ipp._tcp", "10.0.0.7", 631, Some("ipp/print"), 0);
        assert_eq!(find(&inv, "Prep table._ipp._tcp", 10).unwrap(), "ipp://10.0.0.7:631/ipp/print");
        // The venue's DHCP gave it another address: the next job goes there.
        announce(&mut inv, "Prep table", "_ipp._tcp", "10.0.0.42", 631, Some("ipp/print"), 5_000);
        assert_eq!(
            find(&inv, "prep TABLE._ipp._tcp", 5_010).unwrap(),
            "ipp://10.0.0.42:631/ipp/print"
        );
        // A name that is not announced, or no longer, is said so.
        assert_eq!(
            find(&inv, "Bar._ipp._tcp", 5_010),
            Err(LookupError::NotFound("Bar._ipp._tcp".into()))
        );
        assert!(matches!(
            find(&inv, "Prep table._ipp._tcp", 5_000 + GONE + 1),
            Err(LookupError::NotFound(_))
        ));
    }

    #[test]
    fn ipp_is_preferred_then_raw_tcp_and_ipps_alone_is_refused_in_words() {
        let mut inv = Inventory::new("me", 10);
        announce(&mut inv, "Till", "_pdl-datastream._tcp", "10.0.0.9", 9100, None, 0);
        assert_eq!(find(&inv, "Till", 10).unwrap(), "socket://10.0.0.9:9100");
        announce(&mut inv, "Till", "_ipp._tcp", "10.0.0.9", 631, Some("/printers/till"), 20);
        assert_eq!(find(&inv, "Till", 30).unwrap(), "ipp://10.0.0.9:631/printers/till");
        assert_eq!(find(&inv, "Till._pdl-datastream._tcp", 30).unwrap(), "socket://10.0.0.9:9100");
        announce(&mut inv, "Labels", "_ipps._tcp", "10.0.0.5", 631, None, 0);
        assert_eq!(find(&inv, "Labels", 10), Err(LookupError::OnlyIpps("Labels".into())));
    }
}
