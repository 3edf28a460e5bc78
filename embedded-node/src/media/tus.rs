//! The tus 1.0 resumable upload protocol, the parts that are text: the version and
//! extensions this node speaks, `Upload-Metadata` and `Upload-Checksum` parsing, the
//! checksum hashers, and HTTP dates for `Upload-Expires`.
//!
//! Spec: <https://tus.io/protocols/resumable-upload> (core, creation,
//! creation-with-upload, expiration, checksum, termination).

use base64::Engine;
use jiff::Timestamp;
use sha1::Digest;

pub const VERSION: &str = "1.0.0";
pub const EXTENSIONS: &str = "creation,creation-with-upload,expiration,checksum,termination";
pub const CHECKSUM_ALGORITHMS: &str = "sha1,sha256";
/// The only body type PATCH accepts.
pub const OFFSET_STREAM: &str = "application/offset+octet-stream";
/// The checksum extension's status for a body that does not match its checksum.
pub const CHECKSUM_MISMATCH: u16 = 460;

/// Longest `Upload-Metadata` header accepted, and most pairs in it.
pub const MAX_METADATA_BYTES: usize = 4096;
pub const MAX_METADATA_PAIRS: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TusError {
    #[error("Upload-Metadata is longer than {MAX_METADATA_BYTES} bytes")]
    MetadataTooLong,
    #[error("Upload-Metadata has more than {MAX_METADATA_PAIRS} pairs")]
    TooManyPairs,
    #[error("Upload-Metadata pair `{0}` is not `key base64value`")]
    BadPair(String),
    #[error("Upload-Metadata names `{0}` twice")]
    DuplicateKey(String),
    #[error("Upload-Checksum must be `<algorithm> <base64 digest>`")]
    BadChecksum,
    #[error(
        "checksum algorithm `{0}` is not supported (this node supports {CHECKSUM_ALGORITHMS})"
    )]
    UnsupportedAlgorithm(String),
}

/// A parsed `Upload-Metadata` header, with the header kept as sent (HEAD returns it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    pub raw: String,
    pub pairs: Vec<(String, Vec<u8>)>,
}

impl Metadata {
    /// A value as short, printable text (a file name, a type), if it is one.
    pub fn text(&self, key: &str) -> Option<String> {
        let value = &self.pairs.iter().find(|(k, _)| k == key)?.1;
        let text = std::str::from_utf8(value).ok()?;
        let clean: String = text.chars().filter(|c| !c.is_control()).take(255).collect();
        (!clean.trim().is_empty()).then(|| clean.trim().to_owned())
    }
}

/// `key base64,key2 base64,key3` (a key without a value has an empty value).
pub fn parse_metadata(header: &str) -> Result<Metadata, TusError> {
    if header.len() > MAX_METADATA_BYTES {
        return Err(TusError::MetadataTooLong);
    }
    let mut pairs: Vec<(String, Vec<u8>)> = Vec::new();
    for part in header.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if pairs.len() == MAX_METADATA_PAIRS {
            return Err(TusError::TooManyPairs);
        }
        let mut words = part.split(' ').filter(|w| !w.is_empty());
        let key = words.next().unwrap_or_default();
        let value = words.next();
        let key_ok = !key.is_empty()
            && key.len() <= 128
            && key.bytes().all(|b| b.is_ascii_graphic() && b != b',');
        if !key_ok || words.next().is_some() {
            return Err(TusError::BadPair(clip(part)));
        }
        let value = match value {
            None => Vec::new(),
            Some(v) => base64::engine::general_purpose::STANDARD
                .decode(v)
                .map_err(|_| TusError::BadPair(clip(part)))?,
        };
        if pairs.iter().any(|(k, _)| k == key) {
            return Err(TusError::DuplicateKey(clip(key)));
        }
        pairs.push((key.to_owned(), value));
    }
    Ok(Metadata { raw: header.trim().to_owned(), pairs })
}

fn clip(text: &str) -> String {
    text.chars().take(60).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
}

/// What a PATCH body's digest must be.
#[derive(Debug, Clone, PartialEq)]
pub struct Checksum {
    pub algorithm: Algorithm,
    pub digest: Vec<u8>,
}

/// `Upload-Checksum: sha1 <base64>`.
pub fn parse_checksum(header: &str) -> Result<Checksum, TusError> {
    let (name, value) = header.trim().split_once(' ').ok_or(TusError::BadChecksum)?;
    let algorithm = match name.to_ascii_lowercase().as_str() {
        "sha1" => Algorithm::Sha1,
        "sha256" => Algorithm::Sha256,
        other => return Err(TusError::UnsupportedAlgorithm(clip(other))),
    };
    let digest = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| TusError::BadChecksum)?;
    let expected_len = match algorithm {
        Algorithm::Sha1 => 20,
        Algorithm::Sha256 => 32,
    };
    if digest.len() != expected_len {
        return Err(TusError::BadChecksum);
    }
    Ok(Checksum { algorithm, digest })
}

/// Hashes a body as it streams in.
pub enum Hasher {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(bytes),
            Hasher::Sha256(h) => h.update(bytes),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

/// The `Upload-Checksum` header for `bytes` (what the forwarder sends upstream).
/// `Upload-Checksum: sha256 <base64>` (what a booth forwarding media sends: the chunk's
/// signature covers it).
pub fn sha256_header(bytes: &[u8]) -> String {
    format!(
        "sha256 {}",
        base64::engine::general_purpose::STANDARD
            .encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))
    )
}

pub fn sha1_header(bytes: &[u8]) -> String {
    format!("sha1 {}", base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(bytes)))
}

/// An HTTP date (RFC 9110 IMF-fixdate), as `Upload-Expires` needs.
pub fn http_date(at: Timestamp) -> String {
    at.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_pairs_decode_and_keep_the_header() {
        let m = parse_metadata(
            "filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential, filetype dmlkZW8vbXA0",
        )
        .unwrap();
        assert_eq!(m.text("filename").as_deref(), Some("world_domination_plan.pdf"));
        assert_eq!(m.text("filetype").as_deref(), Some("video/mp4"));
        assert_eq!(m.pairs[1], ("is_confidential".to_owned(), Vec::new()));
        assert_eq!(m.text("is_confidential"), None);
        assert!(m.raw.starts_with("filename "));
        assert_eq!(parse_metadata("").unwrap().pairs.len(), 0);
    }

    #[test]
    fn bad_metadata_is_refused_with_a_reason() {
        assert!(matches!(parse_metadata("filename !!notbase64"), Err(TusError::BadPair(_))));
        assert!(matches!(parse_metadata("a Zg== extra"), Err(TusError::BadPair(_))));
        assert!(matches!(parse_metadata("a Zg==,a Zg=="), Err(TusError::DuplicateKey(_))));
        let many: Vec<String> = (0..40).map(|i| format!("k{i} Zg==")).collect();
        assert_eq!(parse_metadata(&many.join(",")), Err(TusError::TooManyPairs));
        assert_eq!(parse_metadata(&"a".repeat(5000)), Err(TusError::MetadataTooLong));
    }

    #[test]
    fn control_characters_never_reach_a_file_name() {
        let m = parse_metadata(&format!(
            "filename {}",
            base64::engine::general_purpose::STANDARD.encode("clip\n\u{7}.mp4")
        ))
        .unwrap();
        assert_eq!(m.text("filename").as_deref(), Some("clip.mp4"));
    }

    #[test]
    fn checksums_parse_and_hash() {
        let body = b"hello tus";
        let header = sha1_header(body);
        let c = parse_checksum(&header).unwrap();
        assert_eq!(c.algorithm, Algorithm::Sha1);
        let mut h = Hasher::new(c.algorithm);
        h.update(&body[..4]);
        h.update(&body[4..]);
        assert_eq!(h.finish(), c.digest);
        assert_eq!(parse_checksum("md5 Zg=="), Err(TusError::UnsupportedAlgorithm("md5".into())));
        assert_eq!(
            parse_checksum("sha1 Zg=="),
            Err(TusError::BadChecksum),
            "a digest of the wrong length"
        );
        assert_eq!(parse_checksum("sha1"), Err(TusError::BadChecksum));
    }

    #[test]
    fn expiry_dates_are_http_dates() {
        let t: Timestamp = "2026-12-05T10:00:00Z".parse().unwrap();
        assert_eq!(http_date(t), "Sat, 05 Dec 2026 10:00:00 GMT");
    }
}
