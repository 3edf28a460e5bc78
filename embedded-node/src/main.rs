//! `boothcloud-node`: the headless node, and the manifest tools.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use boothcloud_core::manifest;
use boothcloud_node::live_manifest::read_file;
use boothcloud_node::secrets::{SecretBackend, Secrets};
use boothcloud_node::{launch, simulate, NodeConfig};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "boothcloud-node",
    version,
    about = "The Boothcloud micro-cloud node for pop-up booths"
)]
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
        /// HTTPS address and port (default: the manifest's node.listen, else 0.0.0.0:8787).
        #[arg(long, env = "BOOTHCLOUD_LISTEN")]
        listen: Option<SocketAddr>,
        /// Plain-HTTP address and port: enrollment, the CA, the public shop, redirects
        /// (default: the HTTPS port + 1).
        #[arg(long, env = "BOOTHCLOUD_LISTEN_HTTP")]
        listen_http: Option<SocketAddr>,
        /// Where secrets are kept.
        #[arg(long, value_enum, default_value_t = SecretBackend::Auto, env = "BOOTHCLOUD_SECRETS")]
        secrets: SecretBackend,
        /// Neither advertise nor browse over mDNS (the manifest's [discovery] enabled = false
        /// does the same); peers named in the manifest are still served.
        #[arg(long, env = "BOOTHCLOUD_NO_DISCOVERY")]
        no_discovery: bool,
    },
    /// Print the booth CA certificate (PEM), making the CA on first use: to install it on
    /// kiosks and tablets ahead of time, by device management.
    Ca {
        #[arg(long, env = "BOOTHCLOUD_DATA_DIR")]
        data_dir: Option<PathBuf>,
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
        /// Make a new token and print it: the running node at `--node` refuses the old one
        /// at once; with no node running there, the store gets the new one for its start.
        #[arg(long)]
        rotate: bool,
        /// The running node to rotate the token of.
        #[arg(long, default_value = "https://127.0.0.1:8787")]
        node: url::Url,
    },
    /// Play a booth against a node: kiosks pricing and ordering, phones loading the
    /// storefront, and bursts of visitors. Prints figures every 5 s and a JSON summary.
    Simulate {
        /// The node's URL: its HTTPS port (with --ca), or from the laptop itself its
        /// plain port, which serves loopback everything.
        #[arg(long, default_value = "http://127.0.0.1:8788")]
        target: url::Url,
        /// The booth CA to trust for an https:// target (`<data-dir>/tls/booth-ca.pem`).
        #[arg(long)]
        ca: Option<PathBuf>,
        /// Kiosks pricing baskets and ordering.
        #[arg(long, default_value_t = 4)]
        kiosks: u32,
        /// Phones browsing the storefront.
        #[arg(long, default_value_t = 20)]
        phones: u32,
        /// How long to play, e.g. "90s", "10m".
        #[arg(long, default_value = "60s", value_parser = parse_duration)]
        duration: std::time::Duration,
        /// Think-time multiplier: 1 plays people, 0 plays as fast as the node answers.
        #[arg(long, default_value_t = 1.0)]
        pace: f64,
        /// A crowd arrives this often ("0s" for none).
        #[arg(long, default_value = "30s", value_parser = parse_duration)]
        burst_every: std::time::Duration,
        /// Phones in each crowd.
        #[arg(long, default_value_t = 30)]
        burst_size: u32,
        /// Seed for the random choices, to repeat a run.
        #[arg(long, default_value_t = 14)]
        seed: u64,
    },
    /// Print the HTTP API's OpenAPI document (as `GET /api/v1/openapi.json` serves it).
    Openapi,
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
        Command::Openapi => {
            let text = serde_json::to_string_pretty(&boothcloud_node::http::document())?;
            // A reader that stops early (`| head`) is not an error.
            let _ = writeln!(std::io::stdout().lock(), "{text}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Manifest { command: ManifestCommand::Example } => {
            print!("{}", manifest::DEMO_MANIFEST);
            Ok(ExitCode::SUCCESS)
        }
        Command::Manifest { command: ManifestCommand::Check { file } } => {
            let outcome =
                read_file(&file).map_err(anyhow::Error::from).map(|text| manifest::parse(&text));
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
        Command::Ca { data_dir, secrets } => {
            let data_dir = data_dir_or_default(data_dir)?;
            std::fs::create_dir_all(&data_dir)
                .with_context(|| format!("cannot create {}", data_dir.display()))?;
            let loaded = Secrets::load(&data_dir, secrets, None)?;
            let label = whoami::devicename();
            let (ca, made) = boothcloud_node::tls::authority::BoothCa::load_or_create(
                loaded.store.as_ref(),
                &label,
                jiff::Timestamp::now(),
            )?;
            print!("{}", ca.pem());
            eprintln!(
                "{} booth CA, fingerprint (SHA-256) {}",
                if made { "New" } else { "The" },
                boothcloud_node::tls::pins::for_people(&ca.fingerprint())
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::OperatorToken { data_dir, secrets, rotate, node } => {
            let data_dir = data_dir_or_default(data_dir)?;
            std::fs::create_dir_all(&data_dir)
                .with_context(|| format!("cannot create {}", data_dir.display()))?;
            let loaded =
                Secrets::load(&data_dir, secrets, std::env::var("BOOTHCLOUD_OPERATOR_TOKEN").ok())?;
            if !rotate {
                println!("{}", loaded.operator_token);
                return Ok(ExitCode::SUCCESS);
            }
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let url = node.join("api/v1/ops/operator-token/rotate")?;
            // The node's own CA, from the same data folder: the call goes over HTTPS.
            let mut client = reqwest::Client::builder();
            if let Ok(pem) = std::fs::read(data_dir.join("tls/booth-ca.pem")) {
                client = client.add_root_certificate(reqwest::Certificate::from_pem(&pem)?);
            }
            let client = client.build()?;
            let asked = runtime.block_on(async {
                client
                    .post(url)
                    .bearer_auth(&loaded.operator_token)
                    .timeout(std::time::Duration::from_secs(10))
                    .send()
                    .await
            });
            match asked {
                Ok(res) if res.status().is_success() => {
                    let answer: serde_json::Value = runtime.block_on(res.json())?;
                    println!("{}", answer["token"].as_str().unwrap_or_default());
                    eprintln!("{}", answer["note"].as_str().unwrap_or_default());
                    Ok(ExitCode::SUCCESS)
                }
                Ok(res) => anyhow::bail!(
                    "the node at {node} refused ({}): is it this data folder's node?",
                    res.status()
                ),
                // Only "nobody listens there" means the node is not running; a TLS
                // failure does not, and must not rotate behind a running node's back.
                Err(e) if connection_refused(&e) => {
                    boothcloud_node::secrets::new_operator_token(loaded.store.as_ref())?;
                    let again = Secrets::load(&data_dir, secrets, None)?;
                    println!("{}", again.operator_token);
                    eprintln!("No node answers at {node}: the new token is in the store for its next start.");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Simulate {
            target,
            ca,
            kiosks,
            phones,
            duration,
            pace,
            burst_every,
            burst_size,
            seed,
        } => {
            anyhow::ensure!(pace.is_finite() && pace >= 0.0, "--pace must be 0 or more");
            anyhow::ensure!(kiosks + phones > 0, "nobody to play: give --kiosks or --phones");
            let burst_every = (!burst_every.is_zero()).then_some(burst_every);
            let ca_pem = match ca {
                Some(path) => Some(std::fs::read(&path).map_err(|e| {
                    anyhow::anyhow!("cannot read the CA certificate {}: {e}", path.display())
                })?),
                None => None,
            };
            let plan = simulate::Simulation {
                target,
                ca_pem,
                kiosks,
                phones,
                duration,
                pace,
                burst_every,
                burst_size,
                seed,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let report = runtime.block_on(simulate::run(plan, |r| {
                eprintln!(
                    "{:>5.0} s  {:>7} requests ({:.0}/s)  {} orders  {} failed  p95 {:.1} ms",
                    r.seconds,
                    r.requests,
                    r.requests_per_second,
                    r.orders,
                    r.failures + r.unreachable,
                    r.p95_ms
                )
            }))?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(if report.unreachable > 0 || report.failures > 0 {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Serve { data_dir, manifest, listen, listen_http, secrets, no_discovery } => {
            let data_dir = data_dir_or_default(data_dir)?;
            let operator_token = std::env::var("BOOTHCLOUD_OPERATOR_TOKEN").ok();
            let config = NodeConfig {
                data_dir,
                manifest,
                listen,
                listen_http,
                secrets,
                operator_token,
                discovery: !no_discovery,
                built_at: boothcloud_node::timekeeping::built_at(),
            };
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(launch::serve_until_signal(config))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = text
        .trim()
        .split_at(text.trim().find(|c: char| !c.is_ascii_digit()).unwrap_or(text.trim().len()));
    let n: u64 =
        number.parse().map_err(|_| format!("`{text}` is not a duration such as 90s, 10m or 1h"))?;
    let secs = match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("`{text}` is not a duration such as 90s, 10m or 1h")),
    };
    Ok(std::time::Duration::from_secs(secs))
}

fn data_dir_or_default(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    given.or_else(launch::default_data_dir).context("no data directory: pass --data-dir")
}

fn init_logging(format: LogFormat) {
    launch::init_logging(matches!(format, LogFormat::Json));
}

/// Whether nothing listened at the address (the node is not running).
fn connection_refused(e: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        source = err.source();
    }
    false
}
