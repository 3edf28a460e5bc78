//! Every HMAC scheme the booth uses, and the one threat model they answer.
//!
//! Owns: the token and header formats and the text each one signs. Never: keeps a key
//! (the node's secret store does), draws randomness (callers bring nonces), or reads
//! the clock (callers bring the time).
//!
//! - [`quote`]: quote tokens (`bcq1.…`), so a kiosk cannot change a price it was quoted.
//! - [`peer`]: signed requests between the booths of one event, and proofs on answers.
//! - [`hub`]: booth credentials derived from the hub's key, and signed booth→hub requests.
//! - [`upload`]: signed tus requests, so a booth forwards media to an upstream under the
//!   upload token it was issued without ever sending the token.
//!
//! # Threat model
//!
//! Who we defend against, and how:
//! - **A customer's device or a stranger on the venue Wi-Fi** sees and sends anything.
//!   Quote tokens are sealed with HMAC-SHA256 under a key only the node holds: a changed
//!   line, total, event or expiry fails the MAC, checked in constant time before the
//!   claims are read. A token buys one order (the order queue's unique `quote_id`).
//! - **A recording of booth-to-booth traffic** (the venue network is shared). A peer
//!   request signs method, path and query, the body's SHA-256, sender, receiver, time
//!   and a 128-bit nonce: it cannot be changed, sent to another booth of the same event,
//!   or played again (the receiver keeps the nonces of its time window, bounded, and
//!   refuses when full rather than forgetting). Answers carry a proof over the request's
//!   MAC, status and body, so an answer cannot be swapped either.
//! - **A booth that should not speak for another.** Each booth signs hub requests with
//!   its own credential, `HMAC(hub key, booth id)`: the hub stores no per-booth secret,
//!   and a booth that relays a neighbour's batch forwards the neighbour's signature
//!   untouched and adds its own, so it never learns the neighbour's credential. Hub
//!   requests carry no nonce: everything a booth sends is idempotent (orders by id,
//!   reports by time), so a replay changes nothing.
//! - **Clocks that disagree.** Signed requests are accepted within a skew window
//!   ([`peer::MAX_SKEW_SECS`], [`hub::MAX_SKEW_SECS`]); outside it they are refused as
//!   expired, never accepted late.
//!
//! Not covered here: transport confidentiality (that is TLS, at the node's edge), and a
//! stolen laptop (keys live in the OS keyring, and teardown rotates them).

/// The header every answer of a booth to a peer, and of the hub to a booth, states the
/// answerer's time in (Unix ms, unsigned): so a sender whose clock is off can sign its
/// next request in the receiver's time. It is never a second source for trusted time
/// (a proven answer is), and a false one can only make a signature fail.
pub const TIME_HEADER: &str = "x-boothcloud-time";

pub mod hub;
pub mod peer;
pub mod quote;
pub mod upload;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 under `key`.
fn mac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length")
}

/// Lower-case hex, as every header and token here writes bytes.
pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// `N` bytes from exactly `2 * N` hex digits.
pub fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}
