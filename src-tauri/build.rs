//! Generates the Tauri context and one `allow-…` permission per app command, so the
//! capability file can grant exactly the commands the dashboard uses and nothing else.

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(&[
        "node_endpoint",
        "set_kiosk",
        "notify",
        "dashboard_ready",
        "choose_folder",
        "save_export",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri build");
}
