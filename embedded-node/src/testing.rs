//! A booth for in-process tests, built through the one wiring the binary uses
//! (`Services::assemble`): a fresh data folder, secrets in files, no mDNS, and a manual
//! clock so expiry, windows and triggers are tested without waiting. Test-only.

use std::sync::Arc;

use boothcloud_core::clock::ManualClock;
use boothcloud_core::pricing::BasketLine;
use jiff::Timestamp;

use crate::checkout::OrderAttempt;
use crate::orders::{Captured, PaymentMethod};
use crate::services::{Lifecycle, NodeConfig, Services};

/// The operator token every test booth has.
pub const OPERATOR_TOKEN: &str = "operator-token-for-tests";

pub struct TestBooth {
    pub services: Services,
    pub clock: ManualClock,
    pub lifecycle: Lifecycle,
    dir: tempfile::TempDir,
}

impl TestBooth {
    /// The demo booth on Wednesday 2026-06-10 at 09:00 in Berlin (outside the demo's
    /// 16:00–18:00 happy hour).
    pub async fn demo() -> TestBooth {
        TestBooth::with(None).await
    }

    /// A booth on `manifest` (TOML text), or on the demo manifest.
    pub async fn with(manifest: Option<&str>) -> TestBooth {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let clock =
            ManualClock::new("2026-06-10T07:00:00Z".parse::<Timestamp>().expect("a valid instant"));
        let mut config = NodeConfig::local(dir.path().to_owned());
        config.operator_token = Some(OPERATOR_TOKEN.into());
        if let Some(text) = manifest {
            let path = dir.path().join("booth.toml");
            std::fs::write(&path, text).expect("write the manifest");
            config.manifest = Some(path);
        }
        let (services, lifecycle) =
            Services::assemble(&config, Arc::new(clock.clone())).await.expect("the booth starts");
        TestBooth { services, clock, lifecycle, dir }
    }

    /// The data folder (database, media, assets).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Quotes `lines` and places the order under `key`, paid by `payment`; the receipt JSON.
    pub async fn sell(
        &self,
        lines: &[(&str, i64)],
        payment: PaymentMethod,
        key: &str,
    ) -> serde_json::Value {
        let lines = lines
            .iter()
            .map(|(sku, qty)| BasketLine { sku: (*sku).to_owned(), qty: *qty })
            .collect();
        let quote = self.services.checkout.quote(lines, None).expect("a quote");
        let attempt = OrderAttempt {
            idempotency_key: key.to_owned(),
            request_hash: sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(
                key.as_bytes(),
            ))
            .into(),
            quote_token: quote.token,
            payment,
            reference: None,
            tendered: None,
            customer: None,
            seller: crate::checkout::Seller::Kiosk,
        };
        let receipt = match self.services.checkout.place_order(attempt).await.expect("an order") {
            Captured::New(r) | Captured::Replayed(r) => r,
        };
        serde_json::from_str(&receipt).expect("a JSON receipt")
    }
}
