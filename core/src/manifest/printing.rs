//! The manifest's printers (`[[printers]]`) and printing rules (`[printing]`).
//!
//! Owns: what a printer is to the booth — a name, where it is (a URI, or a DNS-SD
//! instance name resolved when a job is printed), what it prints (its role), its paper,
//! and which printer takes its jobs when it cannot — and when the booth prints by
//! itself. Never: talks to a printer (that is the node's `printing`).

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use serde_spanned::Spanned;

use super::parse::Checker;

/// What a printer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PrinterRole {
    /// The customer's receipt.
    Receipts,
    /// The pickup ticket for the prep table.
    Tickets,
    /// Labels (A6).
    Labels,
}

impl PrinterRole {
    pub fn as_str(self) -> &'static str {
        match self {
            PrinterRole::Receipts => "receipts",
            PrinterRole::Tickets => "tickets",
            PrinterRole::Labels => "labels",
        }
    }

    pub fn parse(text: &str) -> Option<PrinterRole> {
        [PrinterRole::Receipts, PrinterRole::Tickets, PrinterRole::Labels]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// How to reach a printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterAddress {
    /// IPP or IPP Everywhere: `ipp://host:port/path`.
    Ipp(url::Url),
    /// Raw ESC/POS over TCP: `socket://host:9100`.
    Socket { host: String, port: u16 },
    /// A DNS-SD instance name (`Receipts._ipp._tcp`), resolved at print time.
    DnsSd(String),
}

/// The paper a printer holds: receipt rolls by width, or A6 labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Paper {
    #[serde(rename = "58mm")]
    Roll58,
    #[serde(rename = "80mm")]
    Roll80,
    #[serde(rename = "a6")]
    A6,
}

impl Paper {
    pub fn parse(text: &str) -> Option<Paper> {
        match text {
            "58mm" => Some(Paper::Roll58),
            "80mm" => Some(Paper::Roll80),
            "a6" => Some(Paper::A6),
            _ => None,
        }
    }

    /// Characters per line in the printer's normal font (Font A).
    pub fn columns(self) -> usize {
        match self {
            Paper::Roll58 => 32,
            Paper::Roll80 => 48,
            Paper::A6 => 40,
        }
    }

    /// Printable width in dots at 203 dpi.
    pub fn dots(self) -> u32 {
        match self {
            Paper::Roll58 => 384,
            Paper::Roll80 => 576,
            Paper::A6 => 832,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PrinterSettings {
    /// What the booth calls it; jobs and fallbacks name it.
    pub name: String,
    pub address: PrinterAddress,
    pub role: PrinterRole,
    pub paper: Paper,
    /// The printer that takes this one's jobs when it cannot print.
    pub fallback: Option<Fallback>,
    /// The IPP `printer-uuid` this must be (`urn:uuid:…`, lower case): a printer that
    /// answers at its address (or under its DNS-SD name) with another is not printed to.
    pub uuid: Option<String>,
}

/// `urn:uuid:` and a UUID in its 8-4-4-4-12 hex form, lower-cased; `None` otherwise.
pub fn printer_uuid(text: &str) -> Option<String> {
    let t = text.trim().to_ascii_lowercase();
    let hex = t.strip_prefix("urn:uuid:")?;
    let groups: Vec<&str> = hex.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    let ok = groups.len() == 5
        && groups
            .iter()
            .zip(lengths)
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    ok.then_some(t)
}

/// Where a printer's jobs go while it cannot print: another printer of this booth
/// (`fallback = "front"`), or a printer of a paired booth reached over the signed peer
/// API (`fallback = "prep@Hall B"`: its printer `prep`, the booth named `Hall B`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fallback {
    Printer(String),
    Peer { printer: String, booth: String },
}

impl Fallback {
    /// `printer` or `printer@booth`; `None` when either side is empty.
    pub fn parse(text: &str) -> Option<Fallback> {
        let text = text.trim();
        match text.split_once('@') {
            None if !text.is_empty() => Some(Fallback::Printer(text.to_owned())),
            Some((printer, booth)) => {
                let (printer, booth) = (printer.trim(), booth.trim());
                (!printer.is_empty() && !booth.is_empty() && !booth.contains('@')).then(|| {
                    Fallback::Peer { printer: printer.to_owned(), booth: booth.to_owned() }
                })
            }
            None => None,
        }
    }
}

impl std::fmt::Display for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fallback::Printer(p) => f.write_str(p),
            Fallback::Peer { printer, booth } => write!(f, "{printer}@{booth}"),
        }
    }
}

/// Most printers a booth may list.
pub const MAX_PRINTERS: usize = 16;

#[derive(Debug, Clone, PartialEq)]
pub struct Printing {
    pub printers: Vec<PrinterSettings>,
    /// A pickup ticket for each order, to the tickets printer, as the order is taken.
    pub tickets_on_order: bool,
    /// An enrolled kiosk offers "Print a receipt" after an order, when a printer prints
    /// receipts.
    pub receipts_at_kiosk: bool,
    /// Jobs that waited longer than this for a printer ask staff before they print
    /// ("Print 14 waiting tickets?"), so a printer back after an outage does not spew.
    pub backlog_after: SignedDuration,
    /// Tries per job before it needs a person.
    pub max_attempts: u32,
}

impl Default for Printing {
    fn default() -> Self {
        Printing {
            printers: Vec::new(),
            tickets_on_order: true,
            receipts_at_kiosk: true,
            backlog_after: SignedDuration::from_mins(10),
            max_attempts: 5,
        }
    }
}

impl Printing {
    pub fn printer(&self, name: &str) -> Option<&PrinterSettings> {
        self.printers.iter().find(|p| p.name == name)
    }

    /// The first printer for `role`, if any.
    pub fn for_role(&self, role: PrinterRole) -> Option<&PrinterSettings> {
        self.printers.iter().find(|p| p.role == role)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrinter {
    name: Spanned<String>,
    uri: Option<Spanned<String>>,
    dns_sd: Option<Spanned<String>>,
    role: Spanned<String>,
    paper: Option<Spanned<String>>,
    fallback: Option<Spanned<String>>,
    uuid: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrinting {
    tickets_on_order: Option<bool>,
    receipts_at_kiosk: Option<bool>,
    backlog_after: Option<Spanned<String>>,
    max_attempts: Option<Spanned<i64>>,
}

pub(super) fn check_printing(
    c: &mut Checker,
    raw: RawPrinting,
    printers: &[RawPrinter],
) -> Printing {
    let d = Printing::default();
    if printers.len() > MAX_PRINTERS {
        c.at(printers[MAX_PRINTERS].name.span(), format!("at most {MAX_PRINTERS} printers"));
    }
    let mut out: Vec<PrinterSettings> = Vec::new();
    // Where each kept printer's fallback was written (printers with mistakes are not kept).
    let mut fallback_spans = Vec::new();
    for p in printers.iter().take(MAX_PRINTERS) {
        let name = c.ident(&p.name, "printers.name");
        if out.iter().any(|o| o.name == name) {
            c.at(p.name.span(), format!("printers: `{name}` is named twice"));
        }
        let address = match (&p.uri, &p.dns_sd) {
            (Some(uri), None) => address_of(c, uri),
            (None, Some(instance)) => {
                let text = instance.get_ref().trim();
                if text.is_empty() || text.len() > 255 || text.chars().any(char::is_control) {
                    c.at(
                        instance.span(),
                        "printers.dns_sd must be a DNS-SD instance name (Receipts._ipp._tcp)",
                    );
                }
                Some(PrinterAddress::DnsSd(text.to_owned()))
            }
            _ => {
                c.at(
                    p.name.span(),
                    format!("printer `{name}` needs exactly one of uri and dns_sd"),
                );
                None
            }
        };
        let role = PrinterRole::parse(p.role.get_ref()).unwrap_or_else(|| {
            c.at(
                p.role.span(),
                format!("printers.role `{}` must be receipts, tickets or labels", p.role.get_ref()),
            );
            PrinterRole::Receipts
        });
        let paper = match &p.paper {
            Some(v) => Paper::parse(v.get_ref()).unwrap_or_else(|| {
                c.at(
                    v.span(),
                    format!("printers.paper `{}` must be 58mm, 80mm or a6", v.get_ref()),
                );
                Paper::Roll80
            }),
            None if role == PrinterRole::Labels => Paper::A6,
            None => Paper::Roll80,
        };
        let uuid = p.uuid.as_ref().and_then(|u| {
            let parsed = printer_uuid(u.get_ref());
            if parsed.is_none() {
                c.at(
                    u.span(),
                    format!(
                        "printers.uuid `{}` must be the printer's printer-uuid (urn:uuid:…)",
                        u.get_ref()
                    ),
                );
            } else if matches!(address, Some(PrinterAddress::Socket { .. }))
                || matches!(&address, Some(PrinterAddress::DnsSd(i)) if i.to_ascii_lowercase().ends_with("._pdl-datastream._tcp"))
            {
                c.at(
                    u.span(),
                    format!(
                        "printer `{name}`: a socket (ESC/POS) printer says no printer-uuid; uuid is for ipp:// and dns_sd printers"
                    ),
                );
            }
            parsed
        });
        if let Some(address) = address {
            fallback_spans.push(p.fallback.as_ref().map(Spanned::span));
            out.push(PrinterSettings {
                name,
                address,
                role,
                paper,
                fallback: p.fallback.as_ref().and_then(|f| {
                    let parsed = Fallback::parse(f.get_ref());
                    if parsed.is_none() || f.get_ref().len() > 255 {
                        c.at(
                            f.span(),
                            format!(
                                "printers.fallback `{}` must name a printer here (front) or a paired booth's (prep@Hall B)",
                                f.get_ref()
                            ),
                        );
                    }
                    parsed
                }),
                uuid,
            });
        }
    }
    for (p, span) in out.iter().zip(fallback_spans) {
        let Some(span) = span else { continue };
        if let Some(Fallback::Printer(f)) = &p.fallback {
            if f == &p.name {
                c.at(span, format!("printer `{}` cannot be its own fallback", p.name));
            } else if !out.iter().any(|o| &o.name == f) {
                c.at(span, format!("printers.fallback names `{f}`, which is not a printer here"));
            }
        }
    }
    Printing {
        printers: out,
        tickets_on_order: raw.tickets_on_order.unwrap_or(d.tickets_on_order),
        receipts_at_kiosk: raw.receipts_at_kiosk.unwrap_or(d.receipts_at_kiosk),
        backlog_after: raw.backlog_after.as_ref().map_or(d.backlog_after, |v| {
            c.duration(
                v,
                "printing.backlog_after",
                SignedDuration::from_secs(1),
                SignedDuration::from_hours(24),
            )
        }),
        max_attempts: raw
            .max_attempts
            .as_ref()
            .map_or(d.max_attempts, |v| c.count(v, "printing.max_attempts", 1, 50)),
    }
}

fn address_of(c: &mut Checker, uri: &Spanned<String>) -> Option<PrinterAddress> {
    let bad = |c: &mut Checker| {
        c.at(
            uri.span(),
            format!(
                "printers.uri `{}` must be ipp://host[:port]/path or socket://host:port",
                uri.get_ref()
            ),
        );
        None
    };
    let Ok(url) = url::Url::parse(uri.get_ref()) else { return bad(c) };
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else { return bad(c) };
    match url.scheme() {
        "ipp" => Some(PrinterAddress::Ipp(url.clone())),
        "ipps" => {
            c.at(
                uri.span(),
                format!(
                    "printers.uri `{}`: IPP over TLS is not supported yet; use ipp://",
                    uri.get_ref()
                ),
            );
            None
        }
        "socket" => match url.port() {
            Some(port) => Some(PrinterAddress::Socket {
                host: host.trim_matches(['[', ']']).to_owned(),
                port,
            }),
            None => bad(c),
        },
        _ => bad(c),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    const EVENT: &str = "[event]\nid = \"e\"\nname = \"E\"\nstarts_at = 2026-12-01T09:00:00Z\nends_at = 2026-12-01T18:00:00Z\ntimezone = \"UTC\"\nttl = \"2d\"\ncurrency = \"EUR\"\n";

    #[test]
    fn printers_are_named_placed_and_given_a_role() {
        let text = format!(
            "{EVENT}\n[[printers]]\nname = \"prep\"\nuri = \"socket://10.0.0.9:9100\"\nrole = \"tickets\"\npaper = \"58mm\"\nfallback = \"front\"\n\n\
             [[printers]]\nname = \"front\"\nuri = \"ipp://10.0.0.8:631/ipp/print\"\nrole = \"receipts\"\nfallback = \"till@Hall B\"\n\n\
             [[printers]]\nname = \"labels\"\ndns_sd = \"Label maker._ipp._tcp\"\nrole = \"labels\"\nuuid = \"URN:UUID:3C1B2A8E-0D4F-4E6A-9B7C-1F2E3D4C5B6A\"\n\n[printing]\nbacklog_after = \"5m\"\n"
        );
        let p = parse(&text).expect("valid").printing;
        assert_eq!(p.printers.len(), 3);
        assert_eq!(
            p.printer("labels").unwrap().uuid.as_deref(),
            Some("urn:uuid:3c1b2a8e-0d4f-4e6a-9b7c-1f2e3d4c5b6a"),
            "kept lower-cased, as printers compare"
        );
        assert_eq!(p.printer("prep").unwrap().uuid, None);
        let prep = p.printer("prep").unwrap();
        assert_eq!(prep.address, PrinterAddress::Socket { host: "10.0.0.9".into(), port: 9100 });
        assert_eq!(
            (prep.role, prep.paper, prep.fallback.clone()),
            (PrinterRole::Tickets, Paper::Roll58, Some(Fallback::Printer("front".into())))
        );
        assert_eq!(
            p.printer("front").unwrap().fallback,
            Some(Fallback::Peer { printer: "till".into(), booth: "Hall B".into() })
        );
        assert_eq!(Fallback::parse(" till @ Hall B ").unwrap().to_string(), "till@Hall B");
        assert!(
            matches!(&p.printer("front").unwrap().address, PrinterAddress::Ipp(u) if u.port() == Some(631))
        );
        assert_eq!(p.printer("labels").unwrap().paper, Paper::A6);
        assert_eq!(p.for_role(PrinterRole::Receipts).unwrap().name, "front");
        assert_eq!(p.backlog_after, SignedDuration::from_mins(5));
        assert!(p.tickets_on_order && p.receipts_at_kiosk);
        assert!(parse(EVENT).unwrap().printing.printers.is_empty());
    }

    #[test]
    fn every_printer_mistake_is_named() {
        let text = format!(
            "{EVENT}\n[[printers]]\nname = \"a\"\nuri = \"http://x/\"\nrole = \"menus\"\nfallback = \"a\"\n\n\
             [[printers]]\nname = \"b\"\nrole = \"tickets\"\nfallback = \"nowhere\"\n\n\
             [[printers]]\nname = \"c\"\nuri = \"socket://10.0.0.1\"\nrole = \"tickets\"\npaper = \"A4\"\n\n\
             [[printers]]\nname = \"d\"\nuri = \"socket://10.0.0.2:9100\"\nrole = \"tickets\"\nfallback = \"@Hall B\"\n\n\
             [[printers]]\nname = \"e\"\nuri = \"socket://10.0.0.3:9100\"\nrole = \"tickets\"\nfallback = \"e\"\n\n\
             [[printers]]\nname = \"f\"\nuri = \"socket://10.0.0.4:9100\"\nrole = \"tickets\"\nfallback = \"nowhere\"\n\n\
             [[printers]]\nname = \"g\"\nuri = \"socket://10.0.0.5:9100\"\nrole = \"tickets\"\nuuid = \"urn:uuid:3c1b2a8e-0d4f-4e6a-9b7c-1f2e3d4c5b6a\"\n\n\
             [[printers]]\nname = \"h\"\ndns_sd = \"Prep._ipp._tcp\"\nrole = \"tickets\"\nuuid = \"3c1b2a8e\"\n\n\
             [[printers]]\nname = \"i\"\ndns_sd = \"Till._pdl-datastream._tcp\"\nrole = \"receipts\"\nuuid = \"urn:uuid:3c1b2a8e-0d4f-4e6a-9b7c-1f2e3d4c5b6a\"\n"
        );
        let problems: Vec<String> =
            parse(&text).expect_err("invalid").0.iter().map(|p| p.message.clone()).collect();
        let problems = problems.join("\n");
        for said in [
            "printers.uri `http://x/` must be",
            "printers.role `menus`",
            "printer `b` needs exactly one of uri and dns_sd",
            "printers.uri `socket://10.0.0.1` must be",
            "printers.paper `A4`",
            "printers.fallback `@Hall B` must name a printer here (front) or a paired booth's (prep@Hall B)",
            "printer `e` cannot be its own fallback",
            "printers.fallback names `nowhere`, which is not a printer here",
            "printer `g`: a socket (ESC/POS) printer says no printer-uuid",
            "printer `i`: a socket (ESC/POS) printer says no printer-uuid",
            "printers.uuid `3c1b2a8e` must be the printer's printer-uuid",
        ] {
            assert!(problems.contains(said), "{said} missing from: {problems}");
        }
    }
}
