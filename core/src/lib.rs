//! Boothcloud's rules: what a booth is, sells, charges and promises, with no IO and no
//! framework. The booth's node and the regional hub both build on it; a kiosk can run
//! its pricing too. Nothing here opens a file, a socket or a database, spawns a task or
//! reads the clock except through [`clock::Clock`].
//!
//! - [`money`]: integer minor units, currencies, the one rounding rule.
//! - [`clock`]: the injected clock (wall and monotonic readings), and a manual one for tests.
//! - [`timekeeping`]: the booth's trusted time, what counts as a step of the wall clock,
//!   and what settles a doubt.
//! - [`manifest`]: the deployment manifest's schema and checks (TOML in, a typed
//!   `Manifest` or every problem with its line and column out), and the embedded demo.
//! - [`pricing`]: the price engine — a `PriceBook` compiled from the manifest prices a basket.
//! - [`signing`]: every HMAC scheme the booth uses (quote tokens, peer requests, hub
//!   requests) and the threat model they answer.
//! - [`tariff`]: metered usage priced by the cost model, against the budgets.
//! - [`uplink`]: the uplink's modes and routes, the heartbeat watch with hysteresis,
//!   offline limits and the runway.
//! - [`triggers`]: when a runbook's trigger fires.
//! - [`devices`]: the inventory of devices around the booth, and the mDNS flood guard.
//! - [`cache`]: HTTP caching rules and the names of cached assets.
//! - [`hub_protocol`]: what booths and the hub say to each other, and where.

pub mod cache;
pub mod clock;
pub mod devices;
pub mod hub_protocol;
pub mod manifest;
pub mod money;
pub mod pricing;
pub mod signing;
pub mod tariff;
pub mod timekeeping;
pub mod triggers;
pub mod uplink;
