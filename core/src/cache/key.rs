//! What names an asset: the path a client asks for under `/assets/`, checked, and the
//! variant key that tells apart responses the origin varies (`Vary`).
//!
//! Owns: `AssetPath` (relative, normalised, bounded, never escapes the origin) and
//! `VariantKey`. A path is checked once, here; everything after trusts it.

use std::fmt;

/// Longest path (with its query) the cache accepts.
pub const MAX_PATH_BYTES: usize = 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PathError {
    #[error("the asset path is empty")]
    Empty,
    #[error("the asset path is longer than {MAX_PATH_BYTES} bytes")]
    TooLong,
    #[error("the asset path has a `..`, `.` or empty segment, or a backslash")]
    Escapes,
    #[error("the asset path has a control character or is not valid percent-encoding")]
    BadCharacter,
}

/// A checked asset path: `img/mug.jpg`, optionally with a query (`app.js?v=3`). No
/// leading `/`, no `.`/`..`/empty segments, no backslash or control character, valid
/// UTF-8 after percent-decoding. The text is kept as the client sent it (still
/// percent-encoded), which is also how it is asked of an HTTP origin.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssetPath {
    text: String,
    path_len: usize,
}

impl AssetPath {
    pub fn parse(text: &str) -> Result<AssetPath, PathError> {
        if text.is_empty() {
            return Err(PathError::Empty);
        }
        if text.len() > MAX_PATH_BYTES {
            return Err(PathError::TooLong);
        }
        let path_len = text.find('?').unwrap_or(text.len());
        let (path, query) = text.split_at(path_len);
        if path.is_empty() {
            return Err(PathError::Empty);
        }
        if text.chars().any(|c| c.is_control() || c == '#') {
            return Err(PathError::BadCharacter);
        }
        // Most paths have no escapes: checked as they are, with no decoded copy made.
        let decoded = if path.contains('%') {
            let decoded = percent_decode(path).ok_or(PathError::BadCharacter)?;
            if decoded.chars().any(char::is_control) {
                return Err(PathError::BadCharacter);
            }
            std::borrow::Cow::Owned(decoded)
        } else {
            std::borrow::Cow::Borrowed(path)
        };
        if decoded.contains('\\')
            || decoded.split('/').any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(PathError::Escapes);
        }
        let _ = query;
        Ok(AssetPath { text: text.to_owned(), path_len })
    }

    /// As the client sent it, with the query.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The path without the query, percent-decoded: a file name under a folder origin.
    pub fn file_path(&self) -> String {
        percent_decode(&self.text[..self.path_len]).unwrap_or_default()
    }

    /// The first segment (`img` for `img/mug.jpg`, `index.html` for `index.html`):
    /// figures are kept per route prefix.
    pub fn prefix(&self) -> &str {
        let path = &self.text[..self.path_len];
        match path.find('/') {
            Some(i) => &path[..i],
            None => "/",
        }
    }

    /// Whether this path is `prefix` or lies under it (`img/` covers `img/mug.jpg`).
    pub fn is_under(&self, prefix: &str) -> bool {
        self.text.starts_with(prefix)
    }
}

impl fmt::Display for AssetPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Request headers an origin may vary on that the cache forwards and matches. A `Vary`
/// naming anything else (or `*`) makes the response uncacheable. The two
/// `access-control-request-*` headers are what CORS-enabled origins (object stores, CDNs)
/// put in `Vary` on every response; only preflights carry them, so a GET's value is
/// always empty and they cost nothing.
pub const VARY_HEADERS: [&str; 6] = [
    "accept-encoding",
    "accept",
    "accept-language",
    "origin",
    "access-control-request-method",
    "access-control-request-headers",
];

/// One stored variant: the path, plus the request's values of the headers the origin's
/// `Vary` named, in `VARY_HEADERS` order (empty string for absent).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct VariantKey {
    pub path: String,
    pub vary: Vec<(String, String)>,
}

impl VariantKey {
    /// A stable file name for the disk tier.
    pub fn file_stem(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.path.as_bytes());
        for (name, value) in &self.vary {
            h.update([0]);
            h.update(name.as_bytes());
            h.update([0]);
            h.update(value.as_bytes());
        }
        h.finalize().iter().take(20).map(|b| format!("{b:02x}")).collect()
    }
}

/// The value a header is compared by: trimmed and inner whitespace collapsed; for
/// Accept-Encoding, the one coding the cache will ask the origin for (see
/// [`negotiate_encoding`]), so every browser that takes gzip shares one variant.
pub fn normalise_header(name: &str, value: &str) -> String {
    if name == "accept-encoding" {
        return negotiate_encoding(value).unwrap_or_default().to_owned();
    }
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The Accept-Encoding the cache forwards for a client's: `br` if it takes Brotli, else
/// `gzip`, else none (identity). Browsers differ in what they list (`gzip, deflate`,
/// `gzip, deflate, br, zstd`, q-values); a variant per spelling would store the same
/// body many times and leave most kiosks missing what warm-up fetched, so the cache
/// asks the origin only for these, as CDNs do. A coding with `q=0` is refused; `*`
/// with a non-zero q takes anything not named.
pub fn negotiate_encoding(value: &str) -> Option<&'static str> {
    let mut named = Vec::new();
    let mut star = false;
    for part in value.split(',') {
        let mut fields = part.split(';');
        let coding = fields.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = fields
            .filter_map(|f| f.trim().strip_prefix("q=").or_else(|| f.trim().strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if coding == "*" {
            star = q > 0.0;
        } else if !coding.is_empty() {
            named.push((coding, q > 0.0));
        }
    }
    let takes = |c: &str| {
        named
            .iter()
            .find(|(n, _)| n == c || (c == "gzip" && n == "x-gzip"))
            .map_or(star, |(_, ok)| *ok)
    };
    ["br", "gzip"].into_iter().find(|c| takes(c))
}

/// What warm-up asks with: kiosks and phones reach the node over plain HTTP on the
/// LAN, where browsers offer gzip but not Brotli (they send `br` only over HTTPS), so
/// this is the variant they will ask for when the origin varies on encoding.
pub const WARM_ACCEPT_ENCODING: &str = "gzip";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_paths_and_keeps_their_query() {
        let p = AssetPath::parse("img/mug%20glow.jpg?v=3").unwrap();
        assert_eq!(p.file_path(), "img/mug glow.jpg");
        assert_eq!(p.as_str(), "img/mug%20glow.jpg?v=3");
        assert_eq!(p.prefix(), "img");
        assert_eq!(AssetPath::parse("index.html").unwrap().prefix(), "/");
        assert!(p.is_under("img/"));
        assert!(!p.is_under("video/"));
    }

    #[test]
    fn refuses_paths_that_escape_or_are_malformed() {
        for bad in [
            "../etc/passwd",
            "img/../../x",
            "img//x",
            "./x",
            "img/%2e%2e/x",
            "a\\b",
            "a%5c..",
            "%zz",
            "/abs",
            "a\u{1}b",
            "a%00b",
        ] {
            assert!(AssetPath::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(AssetPath::parse(""), Err(PathError::Empty));
        assert_eq!(AssetPath::parse(&"a".repeat(MAX_PATH_BYTES + 1)), Err(PathError::TooLong));
    }

    #[test]
    fn accept_encoding_variants_do_not_depend_on_order_or_spacing() {
        assert_eq!(
            normalise_header("accept-encoding", "gzip, br"),
            normalise_header("accept-encoding", "br,gzip")
        );
        assert_ne!(
            normalise_header("accept-encoding", "gzip"),
            normalise_header("accept-encoding", "br")
        );
    }

    #[test]
    fn browsers_map_to_one_coding_each() {
        let cases = [
            ("gzip, deflate", Some("gzip")), // Chromium and Firefox over plain HTTP
            ("gzip, deflate, br, zstd", Some("br")), // Chromium over HTTPS
            ("br;q=1.0, gzip;q=0.8, *;q=0.1", Some("br")), // with q-values
            ("gzip;q=0, deflate", None),     // gzip refused
            ("br;q=0, gzip", Some("gzip")),
            ("x-gzip", Some("gzip")),
            ("*", Some("br")),
            ("*;q=0", None),
            ("identity", None),
            ("", None),
            ("GZIP , Deflate", Some("gzip")),
        ];
        for (value, expected) in cases {
            assert_eq!(negotiate_encoding(value), expected, "{value:?}");
        }
        assert_eq!(
            normalise_header("accept-encoding", "gzip, deflate"),
            normalise_header("accept-encoding", "deflate, gzip;q=0.9")
        );
    }

    #[test]
    fn variant_file_names_differ_by_vary_values() {
        let a =
            VariantKey { path: "x".into(), vary: vec![("accept-encoding".into(), "gzip".into())] };
        let b =
            VariantKey { path: "x".into(), vary: vec![("accept-encoding".into(), "br".into())] };
        assert_ne!(a.file_stem(), b.file_stem());
        assert_eq!(a.file_stem().len(), 40);
    }
}
