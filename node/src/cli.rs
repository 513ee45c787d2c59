//! The `lvyue-node` command line: operator commands (`init`, `serve`,
//! `keygen`) and client commands that sign events locally with the user's
//! key file and submit them to a node (`register`, `file`, `confirm`, …,
//! `import`), plus `report` and `status`.
//!
//! All logic lives in the library; `main` parses, sets up logging from
//! [`Prepared::log`] and maps the result of [`Prepared::run`] to an exit code.
//!
//! Exit codes: 0 done; 1 refused by the node, or failed; 2 invalid input
//! caught before anything was sent (as for clap's usage errors).

use crate::client;
use crate::clock::SystemClock;
use crate::config::{self, LogFormat, LogSettings, Settings};
use crate::import::{self, ImportArgs};
use crate::input::{parse_date, parse_uscc_form};
use crate::node::{self, InitOptions, NodeError};
use crate::remote::{self, ClientError, Ctx, out};
use crate::server;
use clap::{Parser, Subcommand};
use lvyue_ledger::event::Event;
use lvyue_ledger::keys::{KeyName, Signer};
use lvyue_ledger::types::Date;
use lvyue_ledger::uscc::Uscc;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "lvyue-node",
    version,
    about = "lvyue (履约) contract-performance credit ledger: node and client"
)]
pub struct Cli {
    /// Node URL for client commands
    #[arg(
        long,
        global = true,
        env = "LVYUE_NODE",
        default_value = "http://127.0.0.1:8080"
    )]
    pub node: String,
    /// Machine-readable output: receipts, results and errors as JSON on standard output
    #[arg(long, global = true)]
    pub json: bool,
    /// Accept this USCC despite a wrong check character (a legacy code the
    /// credit office allows); repeatable
    #[arg(long, global = true, value_parser = parse_uscc_form)]
    pub allow_legacy_uscc: Vec<Uscc>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create the node key and first credit-office key and append Genesis
    Init {
        #[arg(long, default_value = config::DEFAULT_DATA)]
        data: PathBuf,
        /// Log origin (checkpoint first line, node key name)
        #[arg(long, default_value = node::DEFAULT_ORIGIN)]
        origin: String,
    },
    /// Serve the log over HTTP (runs init first when the data folder is empty)
    Serve(ServeArgs),
    /// Generate a signing key file (mode 0600) and print its verifier key
    Keygen {
        #[arg(long)]
        out: PathBuf,
        /// Key name (signed-note rules: no spaces, no '+')
        #[arg(long)]
        name: String,
    },
    /// Sign an event given as JSON locally, submit it, save the receipt
    Submit {
        #[arg(long)]
        key: PathBuf,
        /// The event as JSON, e.g. {"type": "tick"}
        event: PathBuf,
        /// Where to write the receipt JSON [default: EVENT.receipt.json]
        #[arg(long)]
        receipt: Option<PathBuf>,
    },
    /// Register an organisation's key (credit office)
    Register(client::Register),
    /// Revoke a key (credit office)
    Revoke(client::Revoke),
    /// File a contract, from a Contract JSON file or from flags
    File(client::File),
    /// Amend a contract's milestones (each party submits the same amendment)
    Amend(client::Amend),
    /// Acknowledge a filing that names your organisation
    Acknowledge(client::Acknowledge),
    /// Confirm a milestone was performed (obligee or filing source unit)
    Confirm(client::Performance),
    /// Claim a milestone was performed (obligor)
    Claim(client::Performance),
    /// Dispute a performance claim (obligee)
    Dispute(client::Dispute),
    /// Report non-performance of a milestone (obligee or source unit)
    ReportDefault(client::ReportDefault),
    /// Claim an exemption: force majeure, accident, changed circumstances (obligor)
    ClaimExemption(client::ClaimExemption),
    /// Decide an exemption claim, objection or repair application (credit office)
    Decide {
        #[command(subcommand)]
        what: client::Decide,
    },
    /// Object to a default or demand notice
    Object(client::Object),
    /// Apply for credit repair (listed entity)
    ApplyRepair(client::ApplyRepair),
    /// Grant or revoke a delegation to a service agency (market entity)
    Delegate {
        #[command(subcommand)]
        what: client::Delegate,
    },
    /// Record a pre-litigation mediation (service agency)
    Mediate(client::Mediate),
    /// Bulk-import contracts from an NDJSON or CSV file (data feed); see docs/API.md
    Import(ImportArgs),
    /// Fetch a unit's supervision report
    Report {
        /// USCC of the unit
        #[arg(long, value_parser = parse_uscc_form)]
        unit: Uscc,
        /// First day, YYYY-MM-DD
        #[arg(long, value_parser = parse_date)]
        from: Date,
        /// Last day, YYYY-MM-DD
        #[arg(long, value_parser = parse_date)]
        to: Date,
        /// json (printed pretty) or csv
        #[arg(long, value_parser = ["json", "csv"], default_value = "json")]
        format: String,
    },
    /// Show the node's origin, tree size, verifier key and health
    Status,
    /// Write a complete offline copy of the log (checkpoint, hash tiles,
    /// entry bundles, signed disclosure) for auditors; serve DIR statically and
    /// run `lvyue-verify audit --log URL`
    Export {
        /// Folder to write (created if missing)
        #[arg(long)]
        dir: PathBuf,
        /// Export a data folder whose node is stopped, instead of the node at --node
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Build a demo city (宝鸡-like: departments, firms, two years of contracts) in a new data folder
    Demo {
        /// The data folder to create (must not exist or be empty)
        #[arg(long, default_value = "./lvyue-demo")]
        data: PathBuf,
        /// Seed of the city's content (same seed, same city; keys are fresh)
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Market entities
        #[arg(long, default_value_t = 100)]
        firms: usize,
        /// Background contracts, besides the scripted stories
        #[arg(long, default_value_t = 600)]
        contracts: usize,
        /// Simulated days (at least 450)
        #[arg(long, default_value_t = 730)]
        days: u32,
        /// First simulated day, YYYY-MM-DD [default: DAYS days before today]
        #[arg(long, value_parser = parse_date)]
        start: Option<Date>,
    },
}

/// `serve` options: every setting (see `config`) plus the config file.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// TOML config file [env: LVYUE_CONFIG] [default: DATA/lvyue.toml if present]
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Print the settings serve would run with (as TOML) and exit
    #[arg(long)]
    pub print_config: bool,
    #[command(flatten)]
    pub settings: config::Layer,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error("{0}")]
    Serve(String),
}

impl CliError {
    /// The process exit code (see the module doc).
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Client(e) => e.exit_code(),
            CliError::Config(_) => 2,
            CliError::Node(_) | CliError::Serve(_) => 1,
        }
    }

    /// The JSON form printed with `--json`: `{error, detail}` (and the
    /// node's HTTP status when it refused).
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        let (code, status, detail) = match self {
            CliError::Client(ClientError::Refused {
                status,
                error,
                detail,
            }) => (error.as_str(), Some(*status), detail.clone()),
            CliError::Client(e) => (e.code(), None, e.to_string()),
            CliError::Config(e) => ("config", None, e.to_string()),
            CliError::Node(e) => ("node", None, e.to_string()),
            CliError::Serve(e) => ("serve", None, e.clone()),
        };
        let mut v = serde_json::json!({"error": code, "detail": detail});
        if let Some(s) = status {
            v["status"] = s.into();
        }
        v
    }
}

/// A parsed command with its settings worked out, ready to run.
pub struct Prepared {
    cli: Cli,
    serve: Option<config::Loaded>,
}

impl Prepared {
    /// Resolves `serve`'s settings (flags, environment, config file).
    pub fn new(cli: Cli) -> Result<Prepared, CliError> {
        let serve = match &cli.command {
            Command::Serve(a) => Some(config::load(&a.settings, a.config.as_deref(), &|k| {
                std::env::var(k).ok()
            })?),
            _ => None,
        };
        Ok(Prepared { cli, serve })
    }

    /// Logging for this command: `serve`'s settings, else text at
    /// `RUST_LOG` (default `warn`, so client output stays clean).
    #[must_use]
    pub fn log(&self) -> LogSettings {
        match &self.serve {
            Some(loaded) => loaded.settings.log(),
            None => LogSettings {
                format: LogFormat::Text,
                level: std::env::var("RUST_LOG")
                    .ok()
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| "warn".into()),
            },
        }
    }

    /// Whether errors are to be printed as JSON.
    #[must_use]
    pub fn json(&self) -> bool {
        self.cli.json
    }

    /// Runs the command.
    pub fn run(self) -> Result<(), CliError> {
        let ctx = Ctx {
            node: self.cli.node.clone(),
            json: self.cli.json,
            legacy: self.cli.allow_legacy_uscc.clone(),
        };
        let send = |sign: &remote::SignOpts, e: Result<Event, ClientError>| {
            client::send(&ctx, sign, e).map_err(CliError::from)
        };
        match self.cli.command {
            Command::Init { data, origin } => {
                let opts = InitOptions {
                    origin,
                    ..InitOptions::default()
                };
                node::init(&data, &opts, Arc::new(SystemClock))?;
                Ok(out(&format!("initialised {}\n", data.display()))?)
            }
            Command::Serve(a) => {
                let loaded = self.serve.expect("serve settings were loaded");
                if a.print_config {
                    let from = loaded.file.as_ref().map_or("no config file".into(), |f| {
                        format!("config file {}", f.display())
                    });
                    return Ok(out(&format!("# {from}\n{}", loaded.settings.to_toml()))?);
                }
                serve(&loaded.settings)
            }
            Command::Keygen { out: path, name } => keygen(&ctx, &path, &name),
            Command::Submit {
                key,
                event,
                receipt,
            } => submit(&ctx, &key, &event, receipt),
            Command::Register(a) => send(&a.sign, a.event()),
            Command::Revoke(a) => send(&a.sign, a.event()),
            Command::File(a) => send(&a.sign, a.event()),
            Command::Amend(a) => send(&a.sign, a.event()),
            Command::Acknowledge(a) => send(&a.sign, a.event()),
            Command::Confirm(a) => send(&a.sign, a.confirmed()),
            Command::Claim(a) => send(&a.sign, a.claimed()),
            Command::Dispute(a) => send(&a.sign, a.event()),
            Command::ReportDefault(a) => send(&a.sign, a.event()),
            Command::ClaimExemption(a) => send(&a.sign, a.event()),
            Command::Decide { what } => send(what.sign(), what.event()),
            Command::Object(a) => send(&a.sign, a.event()),
            Command::ApplyRepair(a) => send(&a.sign, a.event()),
            Command::Delegate { what } => send(what.sign(), what.event()),
            Command::Mediate(a) => send(&a.sign, a.event()),
            Command::Import(a) => Ok(import::run(&ctx, &a)?),
            Command::Report {
                unit,
                from,
                to,
                format,
            } => {
                if to < from {
                    return Err(
                        ClientError::Input(format!("--to {to} is before --from {from}")).into(),
                    );
                }
                let csv = format == "csv" && !ctx.json;
                Ok(remote::report(&ctx, &unit, from, to, csv)?)
            }
            Command::Status => Ok(remote::status(&ctx)?),
            Command::Export { dir, data } => {
                let summary = match &data {
                    Some(d) => crate::export::from_data_dir(d, &dir),
                    None => crate::export::from_node(ctx.node.trim_end_matches('/'), &dir),
                }
                .map_err(CliError::Serve)?;
                if ctx.json {
                    return Ok(out(&format!(
                        "{}\n",
                        serde_json::to_string(&summary).unwrap_or_default()
                    ))?);
                }
                Ok(out(&format!(
                    "exported tree size {} to {}: {} hash tiles, {} entry bundles, {} bytes\n",
                    summary.size,
                    dir.display(),
                    summary.hash_tiles,
                    summary.entry_bundles,
                    summary.bytes
                ))?)
            }
            Command::Demo {
                data,
                seed,
                firms,
                contracts,
                days,
                start,
            } => {
                let start = match start {
                    Some(d) => d,
                    None => {
                        let today = lvyue_ledger::engine::time::day_of(
                            crate::clock::Clock::now_ms(&SystemClock),
                            480,
                        );
                        Date::from_days(today - i32::try_from(days).unwrap_or(730))
                            .map_err(CliError::Serve)?
                    }
                };
                let opts = crate::demo::DemoOptions {
                    seed,
                    firms,
                    contracts,
                    days,
                    start,
                    ..crate::demo::DemoOptions::default()
                };
                let summary = crate::demo::build(&data, &opts).map_err(CliError::Serve)?;
                let json = serde_json::to_string_pretty(&summary).unwrap_or_default();
                Ok(out(&format!("{json}\n"))?)
            }
        }
    }
}

fn keygen(ctx: &Ctx, path: &Path, name: &str) -> Result<(), CliError> {
    let name = KeyName::new(name).map_err(ClientError::Key)?;
    let signer = Signer::generate(name).map_err(ClientError::Key)?;
    signer.write_file(path).map_err(ClientError::Key)?;
    let vkey = signer.verifier_key().to_string();
    if ctx.json {
        let v = serde_json::json!({"vkey": vkey, "file": path});
        return Ok(out(&format!("{v}\n"))?);
    }
    Ok(out(&format!("{vkey}\n"))?)
}

fn serve(s: &Settings) -> Result<(), CliError> {
    let node = node::open(
        &s.data,
        &s.init_options(),
        Arc::new(SystemClock),
        s.sequencer(),
    )?;
    let rt = tokio::runtime::Runtime::new().map_err(|e| CliError::Serve(e.to_string()))?;
    let listen = s.listen.clone();
    let server_config = s.server();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|e| CliError::Serve(format!("listen {listen}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_or(listen.clone(), |a| a.to_string());
        tracing::info!(addr = %addr, origin = %node.origin.as_str(), vkey = %node.vkey, "serving");
        out(&format!(
            "lvyue node {} serving on http://{addr}\n",
            node.vkey
        ))?;
        let shutdown = shutdown_signal();
        server::run(listener, node, server_config, shutdown)
            .await
            .map_err(|e| CliError::Serve(e.to_string()))
    })
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM (what `systemctl stop`,
/// `docker stop` and Kubernetes send), so both shut the node down gracefully.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            tracing::info!("shutdown signal received");
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// `submit`: signs an event file and submits it; writes the receipt next
/// to the event (or to `receipt`).
fn submit(ctx: &Ctx, key: &Path, event: &Path, receipt: Option<PathBuf>) -> Result<(), CliError> {
    let text = remote::read_input_text(event)?;
    let ev: Event = serde_json::from_str(&text)
        .map_err(|e| ClientError::Input(format!("{}: {e}", event.display())))?;
    let opts = remote::SignOpts {
        key: key.to_path_buf(),
        receipt: Some(receipt.unwrap_or_else(|| event.with_extension("receipt.json"))),
        origin: None,
        dry_run: false,
        nonce: None,
    };
    Ok(remote::send(ctx, &opts, ev)?)
}
