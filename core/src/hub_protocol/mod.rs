//! The booth↔hub protocol: where a booth sends its orders and heartbeats, and what they
//! carry (`wire`). Shared by the booth's uplink and the hub so the two cannot drift
//! apart; how a request is signed is [`crate::signing::hub`].

pub mod wire;

/// A booth's batch of orders (`POST`, signed).
pub const ORDERS_PATH: &str = "/api/v1/hub/orders";
/// A booth's heartbeat and health report (`POST`, signed).
pub const HEARTBEAT_PATH: &str = "/api/v1/hub/heartbeat";
/// Every booth the hub has heard from (`GET`, the hub operator's token).
pub const BOOTHS_PATH: &str = "/api/v1/hub/booths";
