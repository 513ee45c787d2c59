//! The `lvyue-node` command line: `init`, `serve`, `keygen`, `submit`.
//! All logic lives in the library; `main` only maps the result to an exit code.

use crate::clock::SystemClock;
use crate::node::{self, InitOptions};
use crate::sequencer::{Receipt, SequencerConfig};
use crate::server::{self, ServerConfig};
use clap::{Parser, Subcommand};
use lvyue_ledger::event::Event;
use lvyue_ledger::keys::{KeyName, Signer};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "lvyue-node",
    version,
    about = "lvyue (履约) contract-performance credit ledger node"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create the node key and first credit-office key and append Genesis.
    Init {
        #[arg(long, default_value = "./lvyue-data")]
        data: PathBuf,
        /// Log origin (checkpoint first line, node key name).
        #[arg(long, default_value = node::DEFAULT_ORIGIN)]
        origin: String,
    },
    /// Serve the log over HTTP (runs init first when the data folder is empty).
    Serve {
        #[arg(long, default_value = "./lvyue-data")]
        data: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        #[arg(long, default_value = node::DEFAULT_ORIGIN)]
        origin: String,
        /// Most submissions per durable write.
        #[arg(long, default_value_t = 1024)]
        max_batch: usize,
        /// Longest wait for a batch to fill, milliseconds.
        #[arg(long, default_value_t = 2)]
        max_wait_ms: u64,
        /// Largest request body, bytes.
        #[arg(long, default_value_t = 256 * 1024)]
        body_limit: usize,
        /// When idle this long and a rule deadline has passed, append a Tick (seconds).
        #[arg(long, default_value_t = 60)]
        tick_interval_secs: u64,
        /// Snapshot the rules engine after this many entries.
        #[arg(long, default_value_t = 1_000_000)]
        snapshot_every: u64,
    },
    /// Generate a signing key file (mode 0600) and print its verifier key.
    Keygen {
        #[arg(long)]
        out: PathBuf,
        /// Key name (signed-note rules: no spaces, no '+').
        #[arg(long)]
        name: String,
    },
    /// Sign an event (JSON) locally, submit it, save the receipt.
    Submit {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        node: String,
        #[arg(long)]
        key: PathBuf,
        /// The event as JSON, e.g. {"type": "tick"}.
        event: PathBuf,
        /// Where to write the receipt JSON (default: EVENT.receipt.json).
        #[arg(long)]
        receipt: Option<PathBuf>,
    },
}

/// Runs a parsed command.
pub fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Init { data, origin } => {
            let opts = InitOptions {
                origin,
                ..InitOptions::default()
            };
            node::init(&data, &opts, Arc::new(SystemClock)).map_err(|e| e.to_string())?;
            println!("initialised {}", data.display());
            Ok(())
        }
        Command::Serve {
            data,
            listen,
            origin,
            max_batch,
            max_wait_ms,
            body_limit,
            tick_interval_secs,
            snapshot_every,
        } => {
            let opts = InitOptions {
                origin,
                ..InitOptions::default()
            };
            let config = SequencerConfig {
                max_batch,
                max_wait: Duration::from_millis(max_wait_ms),
                tick_interval: Duration::from_secs(tick_interval_secs.max(1)),
                snapshot_every: snapshot_every.max(1),
                ..SequencerConfig::default()
            };
            serve(
                data,
                listen,
                opts,
                config,
                ServerConfig {
                    body_limit,
                    ..ServerConfig::default()
                },
            )
        }
        Command::Keygen { out, name } => {
            let signer = Signer::generate(KeyName::new(&name).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
            signer.write_file(&out).map_err(|e| e.to_string())?;
            println!("{}", signer.verifier_key());
            Ok(())
        }
        Command::Submit {
            node,
            key,
            event,
            receipt,
        } => submit(&node, &key, &event, receipt),
    }
}

fn serve(
    data: PathBuf,
    listen: String,
    opts: InitOptions,
    config: SequencerConfig,
    server_config: ServerConfig,
) -> Result<(), String> {
    let node =
        node::open(&data, &opts, Arc::new(SystemClock), config).map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen).await.map_err(|e| format!("listen {listen}: {e}"))?;
        tracing::info!(addr = %listen, origin = %node.origin.as_str(), vkey = %node.vkey, "serving");
        println!("lvyue node {} serving on http://{listen}", node.vkey);
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        server::run(listener, node, server_config, shutdown).await.map_err(|e| e.to_string())
    })
}

/// Reads an event file, signs it with `key` for the node's log, submits it
/// and writes the receipt next to the event (or to `receipt`).
pub fn submit(
    node: &str,
    key: &std::path::Path,
    event: &std::path::Path,
    receipt: Option<PathBuf>,
) -> Result<(), String> {
    let signer = Signer::read_file(key).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(event).map_err(|e| format!("{}: {e}", event.display()))?;
    let ev: Event = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", event.display()))?;
    let info: serde_json::Value = ureq::get(&format!("{node}/v1/log"))
        .call()
        .map_err(|e| format!("{node}: {e}"))?
        .body_mut()
        .read_json()
        .map_err(|e| e.to_string())?;
    let origin = info["origin"]
        .as_str()
        .ok_or("node did not say its origin")?;
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| format!("random nonce: {e}"))?;
    let signed = node::sign_event(&signer, origin, ev, u64::from_be_bytes(nonce))?;
    let resp = ureq::post(&format!("{node}/v1/submit"))
        .config()
        .http_status_as_error(false)
        .build()
        .send_json(&signed)
        .map_err(|e| format!("{node}: {e}"))?;
    let status = resp.status();
    let body = resp
        .into_body()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("refused ({status}): {body}"));
    }
    let r: Receipt = serde_json::from_str(&body).map_err(|e| format!("bad receipt: {e}"))?;
    let out = receipt.unwrap_or_else(|| event.with_extension("receipt.json"));
    std::fs::write(&out, &body).map_err(|e| format!("{}: {e}", out.display()))?;
    std::fs::write(out.with_extension("tlog-proof"), &r.proof)
        .map_err(|e| format!("{}: {e}", out.display()))?;
    println!(
        "accepted at index {} (leaf {}); receipt {}",
        r.index,
        r.leaf_hash,
        out.display()
    );
    Ok(())
}
