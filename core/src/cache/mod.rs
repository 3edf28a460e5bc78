//! The asset cache's rules: which responses may be stored and for how long (`policy`),
//! and what names a cached asset (`key`). The cache itself, with its memory and disk
//! tiers, is the node's.

pub mod key;
pub mod policy;
