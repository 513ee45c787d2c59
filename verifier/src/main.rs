//! `lvyue-verify`: see `lvyue-verify --help`.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use lvyue_ledger::keys::VerifierKey;
use lvyue_verifier::Failure;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "lvyue-verify",
    version,
    about = "Verify lvyue receipts and logs (exit 0 verified, 1 violation, 2 could not check)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify a receipt saved by `lvyue-node submit` offline.
    Receipt {
        /// A receipt JSON saved by `lvyue-node submit`, or a `.tlog-proof` file with `--entry`.
        file: PathBuf,
        /// The canonical entry bytes the `.tlog-proof` file proves.
        #[arg(long)]
        entry: Option<PathBuf>,
        /// The log's verifier key, `name+hex8+base64`.
        #[arg(long)]
        vkey: String,
        /// A newer signed checkpoint: also prove the entry is still in the log.
        #[arg(long, requires = "log")]
        checkpoint: Option<PathBuf>,
        /// The node to fetch the consistency proof from (with `--checkpoint`).
        #[arg(long)]
        log: Option<String>,
    },
    /// Prove that NEW extends OLD (two signed checkpoints you kept), with a
    /// consistency proof from the node; print a proof of misbehaviour if not.
    Consistency {
        old: PathBuf,
        new: PathBuf,
        #[arg(long)]
        log: String,
        #[arg(long)]
        vkey: String,
    },
    /// Replay a whole log from a node over HTTP and check it against its signed checkpoint.
    Audit {
        #[arg(long)]
        log: String,
        #[arg(long)]
        vkey: String,
        #[arg(long)]
        quiet: bool,
    },
}

fn vkey(s: &str) -> Result<VerifierKey, Failure> {
    VerifierKey::parse(s).map_err(|e| Failure::CouldNotCheck(format!("--vkey: {e}")))
}

fn run(cli: Cli) -> Result<String, Failure> {
    match cli.command {
        Command::Receipt {
            file,
            entry,
            vkey: k,
            checkpoint,
            log,
        } => {
            let k = vkey(&k)?;
            let read = |p: &PathBuf| {
                std::fs::read(p)
                    .map_err(|e| Failure::CouldNotCheck(format!("{}: {e}", p.display())))
            };
            let text = String::from_utf8_lossy(&read(&file)?).into_owned();
            let cp = match &entry {
                Some(e) => lvyue_verifier::verify_tlog_proof(&text, &read(e)?, &k)?.0,
                None => lvyue_verifier::verify_receipt(&text, &k)?,
            };
            let mut msg = format!(
                "verified: entry is in {} at tree size {}",
                cp.checkpoint().origin().as_str(),
                cp.size()
            );
            if let (Some(newer), Some(log)) = (checkpoint, log) {
                let still = lvyue_verifier::check_consistency(
                    cp.note_bytes(),
                    &read(&newer)?,
                    &k,
                    |a, b| lvyue_verifier::fetch_consistency_proof(&log, a, b),
                )?;
                msg.push_str(&format!("; still in the log: {still}"));
            }
            Ok(msg)
        }
        Command::Consistency {
            old,
            new,
            log,
            vkey: k,
        } => {
            let k = vkey(&k)?;
            let read = |p: &PathBuf| {
                std::fs::read(p)
                    .map_err(|e| Failure::CouldNotCheck(format!("{}: {e}", p.display())))
            };
            let (o, n) = (read(&old)?, read(&new)?);
            lvyue_verifier::check_consistency(&o, &n, &k, |a, b| {
                lvyue_verifier::fetch_consistency_proof(&log, a, b)
            })
        }
        Command::Audit {
            log,
            vkey: k,
            quiet,
        } => {
            let k = vkey(&k)?;
            let s = lvyue_verifier::audit_url(&log, &k, |done, total| {
                if !quiet {
                    eprint!("\raudited {done}/{total}");
                }
            })?;
            if !quiet {
                eprintln!();
            }
            Ok(format!(
                "verified: {} entries ({} submitted), root {}",
                s.size, s.submitted, s.root
            ))
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(f) => {
            eprintln!("lvyue-verify: {f}");
            ExitCode::from(f.exit_code())
        }
    }
}
