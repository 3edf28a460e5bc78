//! Secrets: the quote-signing key and the operator token, kept in the OS keyring.
//!
//! Owns: where secrets live and how they are created. The OS keyring (Secret Service on
//! Linux, through the `keyring` crate) is the home of every secret. Where no keyring
//! service exists (a headless box with no session bus, CI), the node falls back to a
//! `FileVault`: one file per secret under `<data-dir>/secrets/`, mode 0600, in a 0700
//! folder — and says so at start-up and in the status API, so nobody mistakes it for
//! the keyring. Never: logs a secret or writes one anywhere else.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The keyring service name every Boothcloud secret is filed under.
pub const KEYRING_SERVICE: &str = "boothcloud";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the OS keyring is not available: {0}")]
    KeyringUnavailable(String),
    #[error("the OS keyring failed: {0}")]
    Keyring(String),
    #[error("the secret file {path} could not be used: {source}")]
    File { path: PathBuf, source: std::io::Error },
    #[error("the stored secret `{0}` is not in the expected format")]
    BadFormat(String),
    #[error("BOOTHCLOUD_OPERATOR_TOKEN must be at least {MIN_OPERATOR_TOKEN} characters")]
    WeakOperatorToken,
}

/// A place secrets can be kept.
pub trait SecretStore: Send + Sync + 'static {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, SecretError>;
    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError>;
    /// What this store is, for the status API ("os-keyring" or "file").
    fn kind(&self) -> &'static str;
}

/// The OS keyring. Entries are named `<secret>@<scope>`, the scope being a hash of the
/// data directory, so two nodes on one machine keep separate secrets.
pub struct OsKeyring {
    scope: String,
}

impl OsKeyring {
    /// Opens the keyring and proves it works with a write and a read-back, within
    /// `timeout` (a session bus with no secret service must not hang start-up). A read
    /// alone is not proof: a locked keyring with no way to prompt answers searches but
    /// refuses to store, and the node would only find out when creating its first key.
    pub fn open(data_dir: &Path, timeout: Duration) -> Result<OsKeyring, SecretError> {
        let canonical = data_dir.canonicalize().unwrap_or_else(|_| data_dir.to_path_buf());
        let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
        let store = OsKeyring { scope: hex(&digest[..6]) };
        let (tx, rx) = std::sync::mpsc::channel();
        let probe = OsKeyring { scope: store.scope.clone() };
        std::thread::spawn(move || {
            let proof =
                probe.set("probe", b"boothcloud").and_then(|()| match probe.get("probe")? {
                    Some(v) if v == b"boothcloud" => Ok(()),
                    _ => Err(SecretError::KeyringUnavailable(
                        "the keyring did not give back what was stored".into(),
                    )),
                });
            let _ = tx.send(proof);
        });
        match rx.recv_timeout(timeout) {
            Ok(Ok(())) => Ok(store),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(SecretError::KeyringUnavailable(format!("no answer within {timeout:?}"))),
        }
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(KEYRING_SERVICE, &format!("{name}@{}", self.scope))
            .map_err(keyring_error)
    }
}

fn keyring_error(e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::NoDefaultStore
        | keyring::Error::NoStorageAccess(_)
        | keyring::Error::PlatformFailure(_) => SecretError::KeyringUnavailable(e.to_string()),
        other => SecretError::Keyring(other.to_string()),
    }
}

impl SecretStore for OsKeyring {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, SecretError> {
        match self.entry(name)?.get_secret() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error(e)),
        }
    }

    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
        self.entry(name)?.set_secret(value).map_err(keyring_error)
    }

    fn kind(&self) -> &'static str {
        "os-keyring"
    }
}

/// The documented fallback: files readable only by the node's user.
pub struct FileVault {
    dir: PathBuf,
}

impl FileVault {
    pub fn open(data_dir: &Path) -> Result<FileVault, SecretError> {
        let dir = data_dir.join("secrets");
        let err = |source| SecretError::File { path: dir.clone(), source };
        std::fs::create_dir_all(&dir).map_err(err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
        }
        Ok(FileVault { dir })
    }
}

impl SecretStore for FileVault {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, SecretError> {
        let path = self.dir.join(name);
        match std::fs::read(&path) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SecretError::File { path, source }),
        }
    }

    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
        use std::io::Write;
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let err = |source| SecretError::File { path: path.clone(), source };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(err)?;
        file.write_all(value).map_err(err)?;
        file.sync_all().map_err(err)?;
        std::fs::rename(&tmp, &path).map_err(err)
    }

    fn kind(&self) -> &'static str {
        "file"
    }
}

/// Which store to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecretBackend {
    /// The OS keyring if it answers, else the file vault (with a warning).
    Auto,
    /// The OS keyring or fail.
    Keyring,
    /// The file vault.
    File,
}

/// Where the operator token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenSource {
    Environment,
    Store,
}

/// The node's secrets, loaded (or created on first start) at start-up.
#[derive(Clone)]
pub struct Secrets {
    pub store: Arc<dyn SecretStore>,
    pub quote_key: [u8; 32],
    pub operator_token: String,
    pub operator_token_source: TokenSource,
    /// Why the keyring was not used, when it was not.
    pub fallback_reason: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets").field("store", &self.store.kind()).finish_non_exhaustive()
    }
}

pub const QUOTE_KEY: &str = "quote-signing-key";
/// Shortest operator token accepted from the environment.
pub const MIN_OPERATOR_TOKEN: usize = 16;
pub const OPERATOR_TOKEN: &str = "operator-token";

impl Secrets {
    pub fn load(
        data_dir: &Path,
        backend: SecretBackend,
        operator_token_env: Option<String>,
    ) -> Result<Secrets, SecretError> {
        let (store, fallback_reason): (Arc<dyn SecretStore>, _) = match backend {
            SecretBackend::File => (
                Arc::new(FileVault::open(data_dir)?),
                Some("chosen with --secrets file".to_owned()),
            ),
            SecretBackend::Keyring => {
                (Arc::new(OsKeyring::open(data_dir, Duration::from_secs(5))?), None)
            }
            SecretBackend::Auto => match OsKeyring::open(data_dir, Duration::from_secs(3)) {
                Ok(k) => (Arc::new(k), None),
                Err(e) => {
                    tracing::warn!(reason = %e, "OS keyring unavailable; keeping secrets in the data directory (mode 0600)");
                    (Arc::new(FileVault::open(data_dir)?), Some(e.to_string()))
                }
            },
        };
        Self::from_store(store, fallback_reason, operator_token_env)
    }

    pub fn from_store(
        store: Arc<dyn SecretStore>,
        fallback_reason: Option<String>,
        operator_token_env: Option<String>,
    ) -> Result<Secrets, SecretError> {
        let quote_key = get_or_create(store.as_ref(), QUOTE_KEY)?;
        let (operator_token, operator_token_source) =
            match operator_token_env.filter(|t| !t.is_empty()) {
                Some(t) if t.chars().count() < MIN_OPERATOR_TOKEN => {
                    return Err(SecretError::WeakOperatorToken)
                }
                Some(t) => (t, TokenSource::Environment),
                None => (
                    URL_SAFE_NO_PAD.encode(get_or_create(store.as_ref(), OPERATOR_TOKEN)?),
                    TokenSource::Store,
                ),
            };
        Ok(Secrets { store, quote_key, operator_token, operator_token_source, fallback_reason })
    }
}

/// A new quote-signing key, saved in the store before it is returned (so a crash right
/// after a rotation cannot bring the old key back).
pub fn new_quote_key(store: &dyn SecretStore) -> Result<[u8; 32], SecretError> {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    store.set(QUOTE_KEY, &key)?;
    Ok(key)
}

/// A new operator token in the store, in force from the next start (the running node
/// keeps the one it started with, so the screen watching a teardown keeps working).
pub fn new_operator_token(store: &dyn SecretStore) -> Result<(), SecretError> {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    store.set(OPERATOR_TOKEN, &key)
}

/// Reads a 32-byte secret, creating it from the OS's CSPRNG on first use.
fn get_or_create(store: &dyn SecretStore, name: &str) -> Result<[u8; 32], SecretError> {
    if let Some(bytes) = store.get(name)? {
        return bytes.try_into().map_err(|_| SecretError::BadFormat(name.to_owned()));
    }
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    store.set(name, &key)?;
    Ok(key)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_vault_creates_once_and_keeps_secrets_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = Secrets::load(dir.path(), SecretBackend::File, None).unwrap();
        let again = Secrets::load(dir.path(), SecretBackend::File, None).unwrap();
        assert_eq!(first.quote_key, again.quote_key);
        assert_eq!(first.operator_token, again.operator_token);
        assert_eq!(first.operator_token_source, TokenSource::Store);
        assert_ne!(first.quote_key, [0; 32]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secrets").join(QUOTE_KEY))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "secret file readable by others: {mode:o}");
        }
    }

    #[test]
    fn environment_token_wins_and_corrupt_secret_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let s = Secrets::load(dir.path(), SecretBackend::File, Some("from-the-environment".into()))
            .unwrap();
        assert_eq!(s.operator_token, "from-the-environment");
        assert_eq!(s.operator_token_source, TokenSource::Environment);
        assert!(matches!(
            Secrets::load(dir.path(), SecretBackend::File, Some("short".into())),
            Err(SecretError::WeakOperatorToken)
        ));
        std::fs::write(dir.path().join("secrets").join(QUOTE_KEY), b"short").unwrap();
        assert!(matches!(
            Secrets::load(dir.path(), SecretBackend::File, None),
            Err(SecretError::BadFormat(_))
        ));
    }
}
