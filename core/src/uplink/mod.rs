//! The booth's link to the regional hub, as rules: the modes it can be in and the ways
//! upstream an operator can choose, the heartbeat watch that decides up and down with
//! hysteresis (`watch`), and what the booth may sell while the link is down (`runway`).
//! The heartbeat loop and the sync worker are the node's.

pub mod runway;
pub mod watch;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// No hub in the manifest: orders stay on this laptop.
    Local,
    Online,
    Offline,
    Relay,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Local => "local",
            Mode::Online => "online",
            Mode::Offline => "offline",
            Mode::Relay => "relay",
        }
    }
}

/// The operator's choice of way upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "route", rename_all = "snake_case", deny_unknown_fields)]
pub enum Route {
    /// Straight to the hub while the uplink works, else through a paired booth, else
    /// kept here.
    Auto,
    /// Straight to the hub only; never through a booth.
    Regional,
    /// Through this paired booth only.
    Peer { peer: String },
    /// Keep every order here; send nothing.
    OfflineOnly,
}

impl Route {
    /// As the audit log and `POST /api/v1/ops/failover` write it.
    pub fn path(&self) -> String {
        match self {
            Route::Auto => "auto".into(),
            Route::Regional => "regional".into(),
            Route::Peer { peer } => format!("peer:{peer}"),
            Route::OfflineOnly => "offline".into(),
        }
    }

    /// `regional`, `offline`, `peer:<node id>` or `auto`.
    pub fn from_path(path: &str) -> Option<Route> {
        match path {
            "auto" => Some(Route::Auto),
            "regional" => Some(Route::Regional),
            "offline" => Some(Route::OfflineOnly),
            p => p
                .strip_prefix("peer:")
                .filter(|id| !id.is_empty() && id.len() <= 64)
                .map(|id| Route::Peer { peer: id.to_owned() }),
        }
    }
}
