//! The booth lead's token: the one in force, checked in constant time, and rotated at
//! once on the lead's word.
//!
//! Owns: the token in force in memory, and writing a new one to the secret store before
//! it is used. Never: decides who may rotate (the HTTP edge checks the lead's token), or
//! logs or audits a token.
//!
//! Invariants: from the moment `rotate` answers, the old token is refused everywhere
//! (and every live stream opened with it ends: they watch [`OperatorToken::rotations`]),
//! and the new one is what the store hands the next start (unless
//! `BOOTHCLOUD_OPERATOR_TOKEN` sets it there). Rotations run one at a time, so the
//! token in force is always the one the store holds.

use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use subtle::ConstantTimeEq;

use crate::secrets::{SecretError, SecretStore, TokenSource, OPERATOR_TOKEN};

pub struct OperatorToken {
    current: RwLock<Arc<str>>,
    /// How many times the token was rotated since start.
    rotations: tokio::sync::watch::Sender<u64>,
    /// Held through a rotation: two at once could leave the store and memory apart.
    rotating: tokio::sync::Mutex<()>,
    /// Where the token at start came from: the environment sets it at every start.
    source: TokenSource,
    store: Arc<dyn SecretStore>,
}

/// A token just made: shown once.
pub struct Rotated {
    pub token: String,
    /// `BOOTHCLOUD_OPERATOR_TOKEN` set the token at start: the next start takes it again.
    pub environment_wins_at_start: bool,
}

impl OperatorToken {
    pub fn new(token: String, source: TokenSource, store: Arc<dyn SecretStore>) -> OperatorToken {
        OperatorToken {
            current: RwLock::new(token.into()),
            rotations: tokio::sync::watch::Sender::new(0),
            rotating: tokio::sync::Mutex::new(()),
            source,
            store,
        }
    }

    /// Changes at every rotation: what a stream opened with the token watches to end
    /// when that token stops being the one in force.
    pub fn rotations(&self) -> tokio::sync::watch::Receiver<u64> {
        self.rotations.subscribe()
    }

    /// How many rotations so far: read before a token is checked, it says which token a
    /// request was let in with.
    pub fn generation(&self) -> u64 {
        *self.rotations.borrow()
    }

    /// The token in force (for the desktop app's window, which runs beside the node).
    pub fn current(&self) -> Arc<str> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether `presented` is the token in force (constant time).
    pub fn is(&self, presented: &str) -> bool {
        bool::from(presented.as_bytes().ct_eq(self.current().as_bytes()))
    }

    /// A new token, saved in the secret store, then in force: the old one is refused from
    /// the moment this answers.
    pub async fn rotate(&self) -> Result<Rotated, SecretError> {
        let _one_at_a_time = self.rotating.lock().await;
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.set(OPERATOR_TOKEN, &key))
            .await
            .map_err(|e| SecretError::Keyring(e.to_string()))??;
        let token = URL_SAFE_NO_PAD.encode(key);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = token.clone().into();
        self.rotations.send_modify(|n| *n += 1);
        Ok(Rotated { token, environment_wins_at_start: self.source == TokenSource::Environment })
    }
}
