//! `boothcloud`: the desktop app, a thin shell over the embedded node.
//!
//! Owns: the window, the hand-over of the node's address and operator token to the
//! booth screen, kiosk (fullscreen) mode, native notifications, and the native folder
//! chooser and save dialog (with writing the file the operator saves). Everything else —
//! the manifest, prices, orders, secrets in the OS keyring — is the `boothcloud-node`
//! library, started in-process exactly as `boothcloud-node serve` starts it.
//!
//! With no display (no `DISPLAY`, no `WAYLAND_DISPLAY`) the app serves the node and its
//! web dashboard headless instead of failing, so the same command works on a booth
//! laptop and on a server.
//!
//! Settings come from the environment, as for a desktop launcher: `BOOTHCLOUD_DATA_DIR`,
//! `BOOTHCLOUD_MANIFEST`, `BOOTHCLOUD_LISTEN`, `BOOTHCLOUD_OPERATOR_TOKEN`, and
//! `BOOTHCLOUD_KIOSK=1` (or `--kiosk`) to start fullscreen on the booth touchscreen,, and
//! `BOOTHCLOUD_GPU=1` to let WebKitGTK composite on the GPU (off by default: see
//! `render_without_gpu_compositing`).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use boothcloud_core::clock::SystemClock;
use boothcloud_node::secrets::SecretBackend;
use boothcloud_node::{launch, Node, NodeConfig};
use tauri::{Manager, RunEvent};
use tauri_plugin_notification::NotificationExt;

/// Longest notification title and body the dashboard may send.
const MAX_NOTIFICATION_CHARS: usize = 300;

/// The node running inside the app.
struct Embedded {
    /// Filled once the node listens (or failed to start). The node starts beside the
    /// window, not before it, so WebKit and the node warm up at the same time.
    ready: tokio::sync::watch::Receiver<Option<Result<Listening, String>>>,
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    stopped: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
    launched: Instant,
    rendered: AtomicBool,
}

/// The node, once it listens: its URL and the lead's token in force (it may be rotated
/// while the app runs, so the window is handed the current one each time it asks).
#[derive(Clone)]
struct Listening {
    url: String,
    token: std::sync::Arc<boothcloud_node::operator_token::OperatorToken>,
}

#[derive(Clone, serde::Serialize)]
struct Endpoint {
    /// Where the window reaches the node: loopback on its plain port, e.g. `http://127.0.0.1:8788`.
    url: String,
    /// The operator token (from the OS keyring), so staff never type it on the booth laptop.
    operator_token: String,
}

/// Where the embedded node answers, and the operator token for it; waits until the
/// node listens, and answers the reason in words if it could not start.
#[tauri::command]
async fn node_endpoint(node: tauri::State<'_, Embedded>) -> Result<Endpoint, String> {
    tracing::debug!(
        ms = node.launched.elapsed().as_millis(),
        "the window asked for the node's endpoint"
    );
    let mut ready = node.ready.clone();
    let outcome = ready
        .wait_for(Option::is_some)
        .await
        .map_err(|_| "the booth node stopped before it started".to_owned())?;
    let listening = outcome.clone().expect("waited for Some")?;
    Ok(Endpoint { url: listening.url, operator_token: listening.token.current().to_string() })
}

/// Kiosk mode on the booth touchscreen: fullscreen, no window frame.
#[tauri::command]
fn set_kiosk(window: tauri::WebviewWindow, on: bool) -> Result<(), String> {
    window.set_fullscreen(on).map_err(|e| e.to_string())?;
    window.set_decorations(!on).map_err(|e| e.to_string())
}

/// A native notification, for news staff must see even with the window hidden.
#[tauri::command]
fn notify(app: tauri::AppHandle, title: String, body: String) -> Result<(), String> {
    let clip = |s: String| s.chars().take(MAX_NOTIFICATION_CHARS).collect::<String>();
    app.notification()
        .builder()
        .title(clip(title))
        .body(clip(body))
        .show()
        .map_err(|e| e.to_string())
}

/// The native folder chooser (teardown's export folder): the chosen absolute path, or
/// `None` when the operator cancelled. The node checks the folder it is given.
#[tauri::command]
async fn choose_folder(app: tauri::AppHandle, title: String) -> Option<String> {
    use tauri_plugin_dialog::DialogExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog().file().set_title(title.chars().take(120).collect::<String>()).pick_folder(
        move |folder| {
            let _ = tx.send(
                folder.and_then(|f| f.into_path().ok()).map(|p| p.to_string_lossy().into_owned()),
            );
        },
    );
    rx.await.ok().flatten()
}

/// Why an export was not saved: the file and the system's reason. Crosses to the window
/// as that sentence, which the booth screen shows after "Not saved:".
#[derive(Debug)]
struct SaveError {
    path: PathBuf,
    source: std::io::Error,
}

impl std::fmt::Display for SaveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} could not be written: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for SaveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl serde::Serialize for SaveError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The native save dialog for an export (the Sync screen's orders): writes `contents`
/// where the operator chose and answers that path once the file is on disk, or `None`
/// when they cancelled. The booth screen says "saved" only on that answer.
#[tauri::command]
async fn save_export(
    app: tauri::AppHandle,
    file_name: String,
    contents: String,
) -> Result<Option<String>, SaveError> {
    use tauri_plugin_dialog::DialogExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog().file().set_file_name(file_name.chars().take(120).collect::<String>()).save_file(
        move |file| {
            let _ = tx.send(file.and_then(|f| f.into_path().ok()));
        },
    );
    let Some(path) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    let target = path.clone();
    let written =
        tauri::async_runtime::spawn_blocking(move || write_whole(&target, contents.as_bytes()))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
    match written {
        Ok(()) => Ok(Some(path.to_string_lossy().into_owned())),
        Err(source) => {
            tracing::warn!(path = %path.display(), error = %source, "an export could not be saved");
            Err(SaveError { path, source })
        }
    }
}

/// Writes `contents` to `path` whole or not at all: into a temporary file in the same
/// folder, synced to disk, then renamed over `path` (and the folder synced, so the new
/// name survives a power cut). A failure leaves no temporary file behind.
fn write_whole(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"))?;
    let temporary = folder.join(format!(".{}.{}.part", name.to_string_lossy(), std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        #[cfg(unix)]
        std::fs::File::open(folder)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// The dashboard has drawn its first live figures: logs the cold-start time once.
#[tauri::command]
fn dashboard_ready(node: tauri::State<'_, Embedded>) {
    if !node.rendered.swap(true, Ordering::SeqCst) {
        let ms = node.launched.elapsed().as_millis();
        tracing::info!(ms, "dashboard rendered");
        println!("dashboard rendered {ms} ms after launch");
    }
}

fn config_from_env() -> Result<NodeConfig, String> {
    let data_dir = std::env::var_os("BOOTHCLOUD_DATA_DIR")
        .map(Into::into)
        .or_else(launch::default_data_dir)
        .ok_or("no data folder: set BOOTHCLOUD_DATA_DIR")?;
    let address = |name: &str| match std::env::var(name) {
        Err(_) => Ok(None),
        Ok(text) => text.parse::<SocketAddr>().map(Some).map_err(|_| {
            format!("{name} `{text}` is not an address and port such as 0.0.0.0:8787")
        }),
    };
    let listen = address("BOOTHCLOUD_LISTEN")?;
    let listen_http = address("BOOTHCLOUD_LISTEN_HTTP")?;
    Ok(NodeConfig {
        data_dir,
        manifest: std::env::var_os("BOOTHCLOUD_MANIFEST").map(Into::into),
        listen,
        listen_http,
        secrets: SecretBackend::Auto,
        operator_token: std::env::var("BOOTHCLOUD_OPERATOR_TOKEN").ok(),
        discovery: true,
        built_at: boothcloud_node::timekeeping::built_at(),
    })
}

fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

fn main() -> ExitCode {
    let launched = Instant::now();
    if has_display() {
        prefer_software_rendering();
    }
    launch::init_logging(false);
    let config = match config_from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !has_display() {
        println!("no display: serving the node and its web dashboard headless");
        return headless(config);
    }
    let kiosk = std::env::args().any(|a| a == "--kiosk")
        || std::env::var("BOOTHCLOUD_KIOSK").is_ok_and(|v| v == "1");
    match desktop(config, kiosk, launched) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn headless(config: NodeConfig) -> ExitCode {
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

fn desktop(
    config: NodeConfig,
    kiosk: bool,
    launched: Instant,
) -> Result<(), Box<dyn std::error::Error>> {
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(tauri::generate_handler![
            node_endpoint,
            set_kiosk,
            notify,
            dashboard_ready,
            choose_folder,
            save_export
        ])
        .setup(move |app| {
            let (announce, ready) = tokio::sync::watch::channel(None);
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let handle = app.handle().clone();
            let running = tauri::async_runtime::spawn(async move {
                let node = match Node::build(config, Arc::new(SystemClock::new())).await {
                    Ok(node) => node,
                    Err(e) => {
                        eprintln!("error: the booth node could not start: {e}");
                        let _ = announce
                            .send(Some(Err(format!("The booth node could not start: {e}"))));
                        handle.exit(1);
                        return;
                    }
                };
                // The window reaches its own node over loopback, on the plain port,
                // which serves loopback everything: nothing crosses the venue network.
                // Kiosks use HTTPS.
                let url = format!("http://{}", launch::shown_plain(&node));
                let services = node.services();
                println!("node listening on https://{}", launch::shown(node.local_addr()));
                println!("window uses {url}");
                match &services.secrets_fallback {
                    None => println!("secrets: {}", services.secrets_kind()),
                    Some(why) => println!("secrets: {} ({why})", services.secrets_kind()),
                }
                let _ = announce
                    .send(Some(Ok(Listening { url, token: services.operator_token.clone() })));
                node.run_until_stopped(async {
                    let _ = stopped.await;
                })
                .await;
            });
            app.manage(Embedded {
                ready,
                stop: Mutex::new(Some(stop)),
                stopped: Mutex::new(Some(running)),
                launched,
                rendered: AtomicBool::new(false),
            });
            // SIGINT/SIGTERM quit the app the same way closing the window does.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                launch::shutdown_signal().await;
                handle.exit(0);
            });
            if let Some(window) = app.get_webview_window("main") {
                render_without_gpu_compositing(&window)?;
            }
            if kiosk {
                if let Some(window) = app.get_webview_window("main") {
                    window.set_fullscreen(true)?;
                    window.set_decorations(false)?;
                }
            }
            Ok(())
        })
        .build(tauri::generate_context!())?;
    app.run(|app, event| {
        if let RunEvent::Exit = event {
            stop_node(app);
        }
    });
    Ok(())
}

/// The booth screen is text, numbers and a table: WebKitGTK's software renderer draws
/// it as fast as GPU compositing does and holds about 100 MB less in the web process
/// (measured with bench/app.sh), and it sidesteps the GPU-driver bugs that leave some
/// Linux webviews blank. `BOOTHCLOUD_GPU=1` turns compositing back on.
fn gpu_wanted() -> bool {
    std::env::var("BOOTHCLOUD_GPU").is_ok_and(|v| v == "1")
}

/// Before GTK starts (and before any thread exists, as `set_var` requires): without GPU
/// compositing, WebKitGTK's DMA-BUF renderer only costs memory (about 10 MB more).
/// A value the user set wins.
fn prefer_software_rendering() {
    if !gpu_wanted() && std::env::var_os("WEBKIT_DISABLE_DMABUF_RENDERER").is_none() {
        std::env::set_var("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
    }
}

fn render_without_gpu_compositing(window: &tauri::WebviewWindow) -> tauri::Result<()> {
    if gpu_wanted() {
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    window.with_webview(|webview| {
        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
        if let Some(settings) = WebViewExt::settings(&webview.inner()) {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    })?;
    #[cfg(not(target_os = "linux"))]
    let _ = window;
    Ok(())
}

/// Stops the embedded node and waits until it has committed what it was handed.
fn stop_node(app: &tauri::AppHandle) {
    let Some(node) = app.try_state::<Embedded>() else {
        return;
    };
    let stop = node.stop.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(stop) = stop {
        let _ = stop.send(());
    }
    let running = node.stopped.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(running) = running {
        let _ = tauri::async_runtime::block_on(running);
        println!("node stopped");
    }
}
