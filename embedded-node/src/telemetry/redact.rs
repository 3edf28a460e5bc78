//! Redaction: the last guard before text leaves the node as a log line or a label.
//!
//! Telemetry is built from route templates and counters, so personal data should never
//! reach it; this catches what slips through anyway (an e-mail in a file name, a phone
//! number in an error message, an address in a peer's error). It replaces IPv4 and IPv6
//! addresses, e-mail addresses, phone numbers and bearer or token-like secrets with a
//! word in brackets saying what was there.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// One pattern per kind, most specific first (an e-mail before a token, an IPv6
/// address before a phone number).
static PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        // Authorization values and key=value secrets.
        (r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+", "$1 [token]"),
        (r"(?i)\b(token|key|secret|password|pairing|signature)=[^\s&,;]+", "$1=[token]"),
        // Signed tokens: JWTs, and the node's own `payload.signature` quote tokens.
        (r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?", "[token]"),
        (r"\b[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\b", "[token]"),
        (r"(?i)\b[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}\b", "[email]"),
        // IPv6: groups of hex with colons (full, compressed, or with an embedded IPv4).
        (r"(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b", "[ip]"),
        (r"(?i)(?:\b(?:[0-9a-f]{1,4}:){1,7}|::)(?::[0-9a-f]{1,4}){1,7}\b", "[ip]"),
        (r"(?i)\b(?:[0-9a-f]{1,4}:){1,7}:", "[ip]"),
        (r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b", "[ip]"),
        // Long opaque strings: quote tokens, order contacts' hashes, API keys (24+ chars
        // of base64url/hex holding both letters and digits).
        (r"\b[A-Za-z0-9_-]*[0-9][A-Za-z0-9_-]*[A-Za-z][A-Za-z0-9_-]*\b|\b[A-Za-z0-9_-]*[A-Za-z][A-Za-z0-9_-]*[0-9][A-Za-z0-9_-]*\b", ""),
        // Phone numbers: 9–15 digits with optional separators, or any number written
        // with a +country code or an (area code). Dates are kept (see `redact`).
        (r"(?:\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d(?:[\s.-]?\d){5,13}|\(\d{1,4}\)[\s.-]?\d(?:[\s.-]?\d){5,10}|\b\d(?:[\s.-]?\d){8,14})\b", "[phone]"),
    ]
    .into_iter()
    .map(|(p, r)| (Regex::new(p).expect("the patterns are valid"), r))
    .collect()
});

const TOKEN_MIN: usize = 24;

static DATE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d{4}-\d{2}-\d{2}").expect("valid"));

/// `text` with personal data and secrets replaced. Errs on the side of caution: any run
/// of 9 or more digits is taken for a phone number (better a lost figure in a log line
/// than a leaked number).
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    for (re, with) in PATTERNS.iter() {
        if with.is_empty() {
            // The token pattern: only long words are secrets; "v1" or "p99" are not.
            if re.find_iter(&out).any(|m| m.len() >= TOKEN_MIN) {
                let replaced = re.replace_all(&out, |c: &regex::Captures<'_>| {
                    if c[0].len() >= TOKEN_MIN {
                        "[token]".to_owned()
                    } else {
                        c[0].to_owned()
                    }
                });
                out = Cow::Owned(replaced.into_owned());
            }
        } else if *with == "[phone]" {
            // A date followed by an hour reads like a phone number; keep dates.
            if re.find_iter(&out).any(|m| !DATE.is_match(m.as_str())) {
                let replaced = re.replace_all(&out, |c: &regex::Captures<'_>| {
                    if DATE.is_match(&c[0]) {
                        c[0].to_owned()
                    } else {
                        "[phone]".to_owned()
                    }
                });
                out = Cow::Owned(replaced.into_owned());
            }
        } else if re.is_match(&out) {
            out = Cow::Owned(re.replace_all(&out, *with).into_owned());
        }
    }
    out
}

/// Log output with [`redact`] applied to every event before it is written: wrap the
/// subscriber's writer in it (`fmt().with_writer(Redacted(std::io::stderr))`).
pub struct Redacted<M>(pub M);

impl<'a, M: tracing_subscriber::fmt::MakeWriter<'a>> tracing_subscriber::fmt::MakeWriter<'a>
    for Redacted<M>
{
    type Writer = EventBuffer<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        EventBuffer { text: Vec::with_capacity(256), to: self.0.make_writer() }
    }
}

/// One event's text, written out redacted when the formatter is done with it.
pub struct EventBuffer<W: std::io::Write> {
    text: Vec<u8>,
    to: W,
}

impl<W: std::io::Write> std::io::Write for EventBuffer<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<W: std::io::Write> Drop for EventBuffer<W> {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.text);
        let _ = self.to.write_all(redact(&text).as_bytes());
        let _ = self.to.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_redacted_in_text_and_json() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        for json in [false, true] {
            let sink = Sink::default();
            let writer = Redacted({
                let sink = sink.clone();
                move || sink.clone()
            });
            let builder = tracing_subscriber::fmt().with_writer(writer).with_ansi(false);
            let emit = || {
                tracing::info!(
                    client = "192.168.4.20",
                    contact = "ana.silva@example.org",
                    "order from +351 912 345 678 placed"
                );
                tracing::warn!(
                    error = "peer 10.0.0.9 refused Bearer abcdefghijklmnopqrstuvwxyz012345",
                    "peer question refused"
                );
            };
            if json {
                tracing::subscriber::with_default(builder.json().finish(), emit);
            } else {
                tracing::subscriber::with_default(builder.finish(), emit);
            }
            let out = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
            for bad in
                ["192.168", "ana.silva", "example.org", "912 345", "10.0.0.9", "abcdefghijkl"]
            {
                assert!(!out.contains(bad), "{bad:?} survived (json: {json}):\n{out}");
            }
            assert!(
                out.contains("order from [phone] placed") && out.contains("peer question refused"),
                "{out}"
            );
            if json {
                for line in out.lines() {
                    serde_json::from_str::<serde_json::Value>(line).expect("still JSON");
                }
            }
        }
    }

    #[track_caller]
    fn clean(text: &str, must_not_contain: &[&str]) -> String {
        let out = redact(text).into_owned();
        for bad in must_not_contain {
            assert!(!out.contains(bad), "{bad:?} survived in {out:?}");
        }
        out
    }

    #[test]
    fn addresses_go() {
        let out = clean(
            "peer 192.168.1.23:8787 and 10.0.0.7 asked; v6 fe80::1c2b:3aff:fe4d:5e6f and 2001:db8:85a3:0:0:8a2e:370:7334 too",
            &["192.168", "10.0.0.7", "fe80", "2001:db8"],
        );
        assert!(out.contains("peer [ip]:8787"), "{out}");
    }

    #[test]
    fn emails_and_phones_go() {
        clean(
            "order contact jane.doe+booth@example.co.uk, call +44 20 7946 0958 or (555) 123-4567 or 0612345678",
            &["jane", "example.co.uk", "7946", "123-4567", "0612345678"],
        );
    }

    #[test]
    fn secrets_go() {
        clean(
            "Authorization: Bearer op_9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c token=abc123def456 \
             quote eyJhbGciOiJIUzI1NiJ9.eyJxIjoxfQ.dGhpc2lzYXNpZ25hdHVyZTEyMzQ1Ng",
            &["9f8e7d6c", "abc123def456", "eyJhbGci", "dGhpc2lz"],
        );
    }

    #[test]
    fn ordinary_text_stays() {
        for text in [
            "GET /api/v1/quotes 200 in 412 µs",
            "p99 over target on /assets/{*path}",
            "order 3 of 12 synced; 2026-11-23T10:00:00Z",
            "started 2026-11-23 10:00:00 +01:00, 28600000 bytes warmed",
            "sku MUG-01 out of stock",
        ] {
            assert_eq!(redact(text), text);
        }
    }
}
