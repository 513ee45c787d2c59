//! `lvyue-node`: see `lvyue-node --help`.
#![forbid(unsafe_code)]

use clap::Parser;
use lvyue_node::cli::{Cli, CliError, Prepared};
use lvyue_node::config::{LogFormat, LogSettings};
use std::io::IsTerminal;
use std::process::ExitCode;

/// mimalloc: glibc malloc was 12–22% of the node's samples under load
/// (many short-lived buffers on several threads; docs/BENCHMARKS.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Logs go to standard error, filtered by `log.level` (env-filter syntax).
fn init_tracing(log: &LogSettings) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_new(&log.level)
        .map_err(|e| format!("log level {:?}: {e}", log.level))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    Ok(())
}

fn fail(e: &CliError, json: bool) -> ExitCode {
    eprintln!("lvyue-node: {e}");
    if json {
        // Best effort: stdout may be closed.
        let _ = lvyue_node::remote::out(&format!("{}\n", e.to_json()));
    }
    ExitCode::from(e.exit_code())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let prepared = match Prepared::new(cli) {
        Ok(p) => p,
        Err(e) => return fail(&e, json),
    };
    if let Err(e) = init_tracing(&prepared.log()) {
        eprintln!("lvyue-node: {e}");
        return ExitCode::from(2);
    }
    match prepared.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e, json),
    }
}
