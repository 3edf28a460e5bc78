//! `boothcloud-node`: the headless node, and the manifest tools.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use boothcloud_node::manifest::{self, watch::read_file};
use boothcloud_node::secrets::{SecretBackend, Secrets};
use boothcloud_node::{launch, NodeConfig};
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
    /// Print the operator token (from the OS keyring, or the file fallback), creating it
    /// on first use. `BOOTHCLOUD_OPERATOR_TOKEN`, when set, wins.
    OperatorToken {
        #[arg(long, env = "BOOTHCLOUD_DATA_DIR")]
        data_dir: Option<PathBuf>,
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
            let outcome = read_file(&file).map_err(anyhow::Error::from).map(|text| manifest::parse(&text));
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
        Command::OperatorToken { data_dir, secrets } => {
            let data_dir = data_dir_or_default(data_dir)?;
            std::fs::create_dir_all(&data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
            let loaded = Secrets::load(&data_dir, secrets, std::env::var("BOOTHCLOUD_OPERATOR_TOKEN").ok())?;
            println!("{}", loaded.operator_token);
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { data_dir, manifest, listen, secrets } => {
            let data_dir = data_dir_or_default(data_dir)?;
            let operator_token = std::env::var("BOOTHCLOUD_OPERATOR_TOKEN").ok();
            let config = NodeConfig { data_dir, manifest, listen, secrets, operator_token };
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(launch::serve_until_signal(config))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn data_dir_or_default(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    given.or_else(launch::default_data_dir).context("no data directory: pass --data-dir")
}

fn init_logging(format: LogFormat) {
    launch::init_logging(matches!(format, LogFormat::Json));
}
