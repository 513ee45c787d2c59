//! `lvyue-verify`: see `lvyue-verify --help` and docs/VERIFY.md.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use lvyue_ledger::keys::VerifierKey;
use lvyue_verifier::{Failure, Source};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "lvyue-verify",
    version,
    about = "Verify lvyue receipts and logs (exit 0 verified, 1 violation, 2 could not check)"
)]
struct Cli {
    /// Print one JSON object on stdout instead of text (see docs/VERIFY.md).
    #[arg(long, global = true)]
    json: bool,
    /// No progress bar.
    #[arg(long, global = true)]
    quiet: bool,
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
        /// The node URL or export folder whose hash tiles give the consistency proof (with `--checkpoint`).
        #[arg(long)]
        log: Option<String>,
    },
    /// Prove that NEW extends OLD (two signed checkpoints you kept), with a
    /// consistency proof computed from the log's hash tiles; print a proof
    /// of misbehaviour if not.
    Consistency {
        old: PathBuf,
        new: PathBuf,
        /// The node URL or export folder to read hash tiles from.
        #[arg(long)]
        log: String,
        #[arg(long)]
        vkey: String,
    },
    /// Replay a whole log (a node URL or an export folder) and check it
    /// against its signed checkpoint.
    Audit {
        /// `http(s)://…` for a node, otherwise an export folder.
        #[arg(long)]
        log: String,
        #[arg(long)]
        vkey: String,
        /// Resume from (and then save) the last verified checkpoint and auditor state.
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Check a signed disclosure export (lists, demand notices, scores):
    /// signature, checkpoint, and every item recomputed from the log.
    Disclosure {
        /// The export JSON (`GET /v1/disclosure`, or disclosure.json of an export folder).
        export: PathBuf,
        /// Its CSV rendering, to check too.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// The node URL or export folder holding the log (at the export's size or larger).
        #[arg(long)]
        log: String,
        #[arg(long)]
        vkey: String,
    },
    /// Check a signed entity credit report offline: signature, inclusion
    /// proofs of its records, and the summary recomputed from them.
    Report {
        /// The report JSON (`GET /v1/entities/{uscc}/report`).
        report: PathBuf,
        #[arg(long)]
        vkey: String,
        /// Also prove the report complete against the log (node URL or export folder).
        #[arg(long)]
        log: Option<String>,
    },
}

/// What a successful check prints: a line of text, and the fields of the JSON object.
struct Verified {
    message: String,
    fields: Value,
}

fn vkey(s: &str) -> Result<VerifierKey, Failure> {
    VerifierKey::parse(s).map_err(|e| Failure::CouldNotCheck(format!("--vkey: {e}")))
}

fn read(p: &PathBuf) -> Result<Vec<u8>, Failure> {
    std::fs::read(p).map_err(|e| Failure::CouldNotCheck(format!("{}: {e}", p.display())))
}

fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Receipt { .. } => "receipt",
        Command::Consistency { .. } => "consistency",
        Command::Audit { .. } => "audit",
        Command::Disclosure { .. } => "disclosure",
        Command::Report { .. } => "report",
    }
}

fn run(cli: Cli) -> Result<Verified, Failure> {
    match cli.command {
        c @ (Command::Disclosure { .. } | Command::Report { .. }) => {
            run_exports(c, cli.quiet || cli.json)
        }
        Command::Receipt {
            file,
            entry,
            vkey: k,
            checkpoint,
            log,
        } => {
            let k = vkey(&k)?;
            let text = String::from_utf8_lossy(&read(&file)?).into_owned();
            let (cp, index) = match &entry {
                Some(e) => lvyue_verifier::verify_tlog_proof(&text, &read(e)?, &k)?,
                None => lvyue_verifier::verify_receipt_at(&text, &k)?,
            };
            let mut message = format!(
                "verified: entry {index} is in {} at tree size {}",
                cp.checkpoint().origin().as_str(),
                cp.size()
            );
            let mut fields = json!({"index": index, "size": cp.size(), "root": cp.root()});
            if let (Some(newer), Some(log)) = (checkpoint, log) {
                let source = Source::parse(&log);
                let still = lvyue_verifier::check_consistency(
                    cp.note_bytes(),
                    &read(&newer)?,
                    &k,
                    |a, b| lvyue_verifier::audit::tile_consistency_proof(&source, a, b),
                )?;
                message.push_str(&format!("; still in the log: {still}"));
                fields["consistency"] = still.into();
            }
            Ok(Verified { message, fields })
        }
        Command::Consistency {
            old,
            new,
            log,
            vkey: k,
        } => {
            let k = vkey(&k)?;
            let (o, n) = (read(&old)?, read(&new)?);
            let source = Source::parse(&log);
            let message = lvyue_verifier::check_consistency(&o, &n, &k, |a, b| {
                lvyue_verifier::audit::tile_consistency_proof(&source, a, b)
            })?;
            Ok(Verified {
                fields: json!({"consistency": message}),
                message,
            })
        }
        Command::Audit {
            log,
            vkey: k,
            state,
        } => {
            let k = vkey(&k)?;
            let bar = progress_bar(cli.quiet || cli.json);
            let report = lvyue_verifier::audit(
                &Source::parse(&log),
                &k,
                state.as_deref(),
                &mut |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
            );
            bar.finish_and_clear();
            let r = report?;
            let mut message = format!(
                "verified: {} entries ({} submitted, {} derived), root {}; replayed {} new entries from size {}",
                r.size, r.submitted, r.derived, r.root, r.replayed, r.from
            );
            if let Some(c) = &r.consistency {
                message.push_str(&format!("; {c}"));
            }
            Ok(Verified {
                message,
                fields: serde_json::to_value(&r).unwrap_or(Value::Null),
            })
        }
    }
}

fn run_exports(command: Command, hide_progress: bool) -> Result<Verified, Failure> {
    match command {
        Command::Disclosure {
            export,
            csv,
            log,
            vkey: k,
        } => {
            let k = vkey(&k)?;
            let csv = csv.as_ref().map(read).transpose()?;
            let bar = progress_bar(hide_progress);
            let r = lvyue_verifier::exports::check_disclosure(
                &read(&export)?,
                csv.as_deref(),
                &Source::parse(&log),
                &k,
                &mut |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
            );
            bar.finish_and_clear();
            let r = r?;
            Ok(Verified {
                message: format!(
                    "verified: the disclosure at tree size {} matches the log: {} red-listed, {} black-listed, {} demand notices",
                    r.size, r.red_list, r.black_list, r.demand_notices
                ),
                fields: serde_json::to_value(&r).unwrap_or(Value::Null),
            })
        }
        Command::Report {
            report,
            vkey: k,
            log,
        } => {
            let k = vkey(&k)?;
            let source = log.as_deref().map(Source::parse);
            let bar = progress_bar(hide_progress || source.is_none());
            let r = lvyue_verifier::exports::check_report_with_log(
                &read(&report)?,
                &k,
                source.as_ref(),
                &mut |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
            );
            bar.finish_and_clear();
            let r = r?;
            let complete = if r.complete == Some(true) {
                "; complete: every record about it in the log up to that size is in the report"
            } else {
                " (completeness not checked: pass --log)"
            };
            Ok(Verified {
                message: format!(
                    "verified: credit report of {} at tree size {}: score {} recomputed from {} records, each proven in the log{complete}",
                    r.entity, r.size, r.score, r.records
                ),
                fields: serde_json::to_value(&r).unwrap_or(Value::Null),
            })
        }
        _ => Err(Failure::CouldNotCheck("not an export command".into())),
    }
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
fn progress_bar(hidden: bool) -> indicatif::ProgressBar {
    if hidden {
        return indicatif::ProgressBar::hidden();
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {human_pos}/{human_len} entries ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Prints the outcome; a broken stdout pipe is not an error.
fn emit(json_out: bool, command: &str, outcome: &Result<Verified, Failure>) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if json_out {
        let mut obj = json!({
            "command": command,
            "first_bad_index": null,
            "expected": null,
            "found": null,
            "misbehaviour": null,
        });
        match outcome {
            Ok(v) => {
                obj["ok"] = true.into();
                obj["exit"] = 0.into();
                obj["message"] = v.message.clone().into();
                if let Value::Object(fields) = &v.fields {
                    for (key, val) in fields {
                        obj[key] = val.clone();
                    }
                }
            }
            Err(f) => {
                obj["ok"] = false.into();
                obj["exit"] = f.exit_code().into();
                match f {
                    Failure::Violation(p) => {
                        obj["message"] = p.message.clone().into();
                        obj["first_bad_index"] = json!(p.first_bad_index);
                        obj["expected"] = json!(p.expected);
                        obj["found"] = json!(p.found);
                        obj["misbehaviour"] = json!(p.misbehaviour);
                    }
                    Failure::CouldNotCheck(m) => obj["message"] = m.clone().into(),
                }
            }
        }
        let _ = writeln!(stdout, "{obj}");
        return;
    }
    match outcome {
        Ok(v) => {
            let _ = writeln!(stdout, "{}", v.message);
        }
        Err(f) => {
            eprintln!("lvyue-verify: {f}");
            if let Failure::Violation(p) = f {
                if let Some(i) = p.first_bad_index {
                    eprintln!("  first bad index: {i}");
                }
                if let Some(e) = &p.expected {
                    eprintln!("  expected: {e}");
                }
                if let Some(x) = &p.found {
                    eprintln!("  found:    {x}");
                }
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (json_out, command) = (cli.json, command_name(&cli.command));
    let outcome = run(cli);
    emit(json_out, command, &outcome);
    match outcome {
        Ok(_) => ExitCode::SUCCESS,
        Err(f) => ExitCode::from(f.exit_code()),
    }
}
