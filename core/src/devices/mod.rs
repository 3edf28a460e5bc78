//! The devices around the booth, as discovery reports them: the bounded inventory keyed
//! by identity (`inventory`) and the guard against a flood of mDNS names (`flood`).
//! Both are pure and take the time as an argument; mDNS itself is the node's.

pub mod flood;
pub mod inventory;
