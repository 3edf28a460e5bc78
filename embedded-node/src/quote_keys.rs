//! The key quotes are signed with, as the booth keeps it: the signer every checkout
//! uses, the secret store it lives in, and replacing it (a runbook step, a control, and
//! teardown), audited.
//!
//! Owns: rotation. Never: signs or checks a token itself (`boothcloud_core::signing::quote`
//! does), or decides when to rotate.

use std::sync::Arc;

use boothcloud_core::signing::quote::QuoteSigner;

use crate::audit::{Audit, Who};
use crate::secrets::{SecretError, SecretStore};

#[derive(Clone)]
pub struct QuoteKeys {
    signer: QuoteSigner,
    store: Arc<dyn SecretStore>,
    audit: Arc<Audit>,
    /// One rotation at a time: two at once could leave the signer on a key the store lost.
    rotating: Arc<tokio::sync::Mutex<()>>,
}

impl QuoteKeys {
    pub fn new(signer: QuoteSigner, store: Arc<dyn SecretStore>, audit: Arc<Audit>) -> QuoteKeys {
        QuoteKeys { signer, store, audit, rotating: Arc::default() }
    }

    pub fn signer(&self) -> &QuoteSigner {
        &self.signer
    }

    /// A new key from the OS's CSPRNG, saved, then in force: quotes signed before are
    /// refused from now on (kiosks holding one ask for a new quote). Audited either way.
    pub async fn rotate(&self, who: &Who) -> Result<(), SecretError> {
        let _one = self.rotating.lock().await;
        let before = format!("key {}", self.signer.fingerprint());
        let store = self.store.clone();
        let made =
            tokio::task::spawn_blocking(move || crate::secrets::new_quote_key(store.as_ref()))
                .await
                .unwrap_or_else(|e| Err(SecretError::Keyring(e.to_string())));
        match made {
            Ok(key) => {
                self.signer.rotate(key);
                let after = format!("key {}", self.signer.fingerprint());
                self.audit
                    .record(who, "rotate signing key", Some(before), Some(after), Ok(()))
                    .await;
                Ok(())
            }
            Err(e) => {
                self.audit
                    .record(who, "rotate signing key", Some(before), None, Err(e.to_string()))
                    .await;
                Err(e)
            }
        }
    }
}
