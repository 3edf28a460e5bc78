//! The black-box tests: the real `boothcloud-node` (and `boothcloud-hub`) binaries, each
//! started on port 0 with a fresh data folder, driven over HTTP as kiosks, phones,
//! paired booths and the operator drive them. One module per capability; the helpers
//! that start nodes, hubs and PostgreSQL are the `boothcloud-tests` library (`support/`).

mod assets;
mod clock;
mod commerce;
mod controls;
mod crash;
mod kiosks;
mod limits;
mod manifest;
mod media;
mod offline_sales;
mod operator_token;
mod pairing;
mod printing;
mod robustness;
mod selling;
mod staff;
mod telemetry;
mod tls;
mod uplink;
