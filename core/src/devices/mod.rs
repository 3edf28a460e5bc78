//! The devices around the booth, as discovery reports them: the bounded inventory keyed
//! by identity (`inventory`), the guard against a flood of mDNS names (`flood`), and a
//! printer named by its DNS-SD instance found among them (`printers`).
//! All are pure and take the time as an argument; mDNS itself is the node's.

pub mod flood;
pub mod inventory;
pub mod printers;
