//! The price engine in the browser: `boothcloud-core`'s pricing behind a small
//! wasm-bindgen interface, so an enrolled kiosk prices exactly as the node does while it
//! cannot reach it.
//!
//! Owns: the JavaScript-facing surface (JSON text in, JSON text out). Never: holds a rule
//! of its own — every price comes from `boothcloud_core::pricing` — or reads a clock
//! (the kiosk passes the instant it prices at).

use boothcloud_core::pricing::{document, Basket, PriceBook};
use wasm_bindgen::prelude::*;

/// A price book loaded from its document.
#[wasm_bindgen]
pub struct Engine {
    book: PriceBook,
    digest: String,
}

#[wasm_bindgen]
impl Engine {
    /// Loads a price book document as the node served it.
    #[wasm_bindgen(constructor)]
    pub fn new(document: &str) -> Result<Engine, JsError> {
        let book = PriceBook::from_document(document)?;
        Ok(Engine { book, digest: document::digest(document) })
    }

    /// The document's SHA-256 (hex): the name the node knows it by.
    #[wasm_bindgen(getter)]
    pub fn digest(&self) -> String {
        self.digest.clone()
    }

    /// Prices a basket (`{"lines":[{"sku","qty"}],"tier":null}`) at `at_ms` (milliseconds
    /// since the epoch); the priced basket as JSON, exactly as the node's quote has it.
    pub fn price(&self, basket: &str, at_ms: f64) -> Result<String, JsError> {
        price_json(&self.book, basket, at_ms).map_err(|e| JsError::new(&e))
    }
}

/// The engine's work without the JavaScript types (also what the native corpus writer
/// and tests call).
pub fn price_json(book: &PriceBook, basket: &str, at_ms: f64) -> Result<String, String> {
    let basket: Basket =
        serde_json::from_str(basket).map_err(|e| format!("the basket is not valid: {e}"))?;
    if !at_ms.is_finite() {
        return Err("the time to price at is not a number".into());
    }
    let at = jiff::Timestamp::from_millisecond(at_ms as i64)
        .map_err(|_| "the time to price at is out of range".to_owned())?;
    let priced = book.price(&basket, at).map_err(|e| e.to_string())?;
    Ok(serde_json::to_string(&priced).expect("a priced basket serializes"))
}
