//! `boothcloud-node`: the headless node, and the manifest tools.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use boothcloud_node::clock::SystemClock;
use boothcloud_node::manifest::{self, watch::read_file};
use boothcloud_node::secrets::SecretBackend;
use boothcloud_node::{Node, NodeConfig};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "boothcloud-node", version, about = "The Boothcloud micro-cloud node for pop-up booths")]
struct Cli {
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "BOOTHCLOUD_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the node.
    Serve {
        /// Where the database and any secret files live (default: the per-user data folder).
        #[arg(long, env = "BOOTHCLOUD_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// The deployment manifest (default: the embedded demo).
        #[arg(long, env = "BOOTHCLOUD_MANIFEST")]
        manifest: Option<PathBuf>,
        /// Address and port to listen on (default: the manifest's node.listen, else 0.0.0.0:8787).
        #[arg(long, env = "BOOTHCLOUD_LISTEN")]
        listen: Option<SocketAddr>,
        /// Where secrets are kept.
        #[arg(long, value_enum, default_value_t = SecretBackend::Auto, env = "BOOTHCLOUD_SECRETS")]
        secrets: SecretBackend,
    },
    /// Work with deployment manifests.
    Manifest {
        #[command(subcommand)]
        command: ManifestCommand,
    },
}

#[derive(Subcommand)]
enum ManifestCommand {
    /// Check a manifest and print each problem with its line and column.
    Check { file: PathBuf },
    /// Print the embedded demo manifest, to start your own from.
    Example,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Manifest { command: ManifestCommand::Example } => {
            print!("{}", manifest::DEMO_MANIFEST);
            Ok(ExitCode::SUCCESS)
        }
        Command::Manifest { command: ManifestCommand::Check { file } } => {
            let outcome = read_file(&file).map_err(anyhow::Error::from).and_then(|text| Ok(manifest::parse(&text)));
            match outcome? {
                Ok(m) => {
                    println!(
                        "{}: ok — event {} ({}), {} items, {} promotions",
                        file.display(),
                        m.event.id,
                        m.event.name,
                        m.catalogue.len(),
                        m.promotions.len()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(problems) => {
                    for p in &problems.0 {
                        println!("{}:{}:{}: {}", file.display(), p.line, p.column, p.message);
                    }
                    println!("{} problem(s)", problems.0.len());
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Serve { data_dir, manifest, listen, secrets } => {
            let data_dir = match data_dir {
                Some(d) => d,
                None => default_data_dir().context("no data directory: pass --data-dir")?,
            };
            let operator_token = std::env::var("BOOTHCLOUD_OPERATOR_TOKEN").ok();
            let config = NodeConfig { data_dir, manifest, listen, secrets, operator_token };
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(serve(config))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(config: NodeConfig) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    let node = Node::build(config, Arc::new(SystemClock)).await?;
    let addr = node.local_addr();
    let shown = if addr.ip().is_unspecified() { SocketAddr::new([127, 0, 0, 1].into(), addr.port()) } else { addr };
    let state = node.state();
    let loaded = state.manifest.current();
    // The first line is for scripts: the URL the node answers on.
    println!("listening on http://{shown}");
    println!("event: {} ({})", loaded.manifest.event.name, state.manifest.source().describe());
    println!("data: {}", data_dir.display());
    println!("secrets: {}", state.secrets_store);
    if addr.ip().is_unspecified() {
        println!("serving on every interface, port {}", addr.port());
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    node.run_until_stopped(shutdown_signal()).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("stopping: finishing requests in flight");
}

/// `$XDG_DATA_HOME/boothcloud`, else `~/.local/share/boothcloud`.
fn default_data_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .map(|d| d.join("boothcloud"))
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BOOTHCLOUD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
