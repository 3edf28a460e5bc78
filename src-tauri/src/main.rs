//! `boothcloud`: the desktop app, a thin shell over the embedded node.
//!
//! This first release runs the embedded node in-process with the embedded demo
//! manifest (or `BOOTHCLOUD_MANIFEST`) and the per-user data folder, exactly as
//! `boothcloud-node serve` does — same library, no second copy of any logic. The
//! Tauri window and the touch dashboard are built on top of this in the desktop-app
//! issue; until then the app serves kiosks and the API headless.

use std::process::ExitCode;

use boothcloud_node::secrets::SecretBackend;
use boothcloud_node::{launch, NodeConfig};

fn main() -> ExitCode {
    launch::init_logging(false);
    let Some(data_dir) = std::env::var_os("BOOTHCLOUD_DATA_DIR").map(Into::into).or_else(launch::default_data_dir) else {
        eprintln!("error: no data folder: set BOOTHCLOUD_DATA_DIR");
        return ExitCode::FAILURE;
    };
    let listen = match std::env::var("BOOTHCLOUD_LISTEN") {
        Err(_) => None,
        Ok(text) => match text.parse() {
            Ok(addr) => Some(addr),
            Err(_) => {
                eprintln!("error: BOOTHCLOUD_LISTEN `{text}` is not an address and port such as 0.0.0.0:8787");
                return ExitCode::FAILURE;
            }
        },
    };
    let config = NodeConfig {
        data_dir,
        manifest: std::env::var_os("BOOTHCLOUD_MANIFEST").map(Into::into),
        listen,
        secrets: SecretBackend::Auto,
        operator_token: std::env::var("BOOTHCLOUD_OPERATOR_TOKEN").ok(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(launch::serve_until_signal(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
