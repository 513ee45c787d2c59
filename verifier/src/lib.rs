//! lvyue-verifier: checks lvyue receipts and whole logs, trusting nothing
//! the node says except what the log's key signed.
//!
//! In scope: offline receipts (entry + C2SP tlog-proof), full audits of a
//! node over HTTP (checkpoint + C2SP entry bundles). Never links sled, axum
//! or tokio. Exit codes: 0 verified · 1 violation proven · 2 could not check.
#![forbid(unsafe_code)]

use lvyue_ledger::admission::Registry;
use lvyue_ledger::audit::{Auditor, Summary, Violation};
use lvyue_ledger::checkpoint::{self, Origin, VerifiedCheckpoint};
use lvyue_ledger::keys::VerifierKey;
use lvyue_ledger::tlog::{TILE_WIDTH, Tile};
use lvyue_ledger::tlog_proof::TlogProof;

/// Outcome of a failed check: tampering proven, or unable to check.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The inputs prove a violation (exit code 1).
    #[error("VIOLATION: {0}")]
    Violation(String),
    /// The check could not be completed (exit code 2).
    #[error("could not check: {0}")]
    CouldNotCheck(String),
}

impl Failure {
    /// The process exit code for this failure.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Violation(_) => 1,
            Failure::CouldNotCheck(_) => 2,
        }
    }
}

impl From<Violation> for Failure {
    fn from(v: Violation) -> Failure {
        Failure::Violation(v.to_string())
    }
}

/// A receipt as the node returns it (`POST /v1/submit`).
#[derive(serde::Deserialize)]
struct ReceiptFile {
    index: u64,
    #[serde(with = "lvyue_ledger::serde_bytes::b64_vec")]
    entry: Vec<u8>,
    proof: String,
}

/// The origin of a log is the name of its key.
fn origin_of(vkey: &VerifierKey) -> Result<Origin, Failure> {
    Origin::new(vkey.name().as_str())
        .map_err(|e| Failure::CouldNotCheck(format!("verifier key name is not an origin: {e}")))
}

/// Verifies a receipt JSON offline: the entry decodes canonically, and the
/// tlog-proof proves it at its index under a checkpoint signed by `vkey`.
pub fn verify_receipt(json: &str, vkey: &VerifierKey) -> Result<VerifiedCheckpoint, Failure> {
    let r: ReceiptFile =
        serde_json::from_str(json).map_err(|e| Failure::CouldNotCheck(format!("receipt: {e}")))?;
    let proof = TlogProof::parse(&r.proof)
        .map_err(|e| Failure::CouldNotCheck(format!("tlog-proof: {e}")))?;
    if proof.index() != r.index {
        return Err(Failure::Violation(format!(
            "receipt says index {}, its proof says {}",
            r.index,
            proof.index()
        )));
    }
    let entry = lvyue_ledger::record::Entry::decode(&r.entry)
        .map_err(|e| Failure::Violation(format!("entry: {e}")))?;
    if entry.index != r.index {
        return Err(Failure::Violation(format!(
            "entry says index {}, receipt says {}",
            entry.index, r.index
        )));
    }
    let origin = origin_of(vkey)?;
    proof
        .verify(&r.entry, &origin, vkey)
        .map_err(|e| Failure::Violation(e.to_string()))
}

/// Fetches `url` as bytes.
fn fetch(url: &str) -> Result<Vec<u8>, Failure> {
    let resp = ureq::get(url)
        .call()
        .map_err(|e| Failure::CouldNotCheck(format!("{url}: {e}")))?;
    resp.into_body()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .map_err(|e| Failure::CouldNotCheck(format!("{url}: {e}")))
}

/// Splits a C2SP entry bundle into entries.
fn split_bundle<'a>(data: &'a [u8], want: u64, tile: &str) -> Result<Vec<&'a [u8]>, Failure> {
    let mut out = Vec::new();
    let mut rest = data;
    while let [a, b, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*a, *b]));
        if tail.len() < len {
            return Err(Failure::Violation(format!(
                "{tile}: truncated entry bundle"
            )));
        }
        out.push(&tail[..len]);
        rest = &tail[len..];
    }
    if !rest.is_empty() || out.len() as u64 != want {
        return Err(Failure::Violation(format!(
            "{tile}: bundle holds {} entries, want {want}",
            out.len()
        )));
    }
    Ok(out)
}

/// Audits a node over HTTP: its signed checkpoint, then every entry from
/// the entry bundles (see `lvyue_ledger::audit` for the steps).
pub fn audit_url(
    base: &str,
    vkey: &VerifierKey,
    mut progress: impl FnMut(u64, u64),
) -> Result<Summary, Failure> {
    let base = base.trim_end_matches('/');
    let origin = origin_of(vkey)?;
    let note = fetch(&format!("{base}/checkpoint"))?;
    let cp = checkpoint::open(&note, &origin, vkey)
        .map_err(|e| Failure::Violation(format!("checkpoint: {e}")))?;
    let size = cp.size();
    let mut auditor = Auditor::new(origin.as_str(), Registry::default());
    let mut n = 0;
    while n * TILE_WIDTH < size {
        let width = (size - n * TILE_WIDTH).min(TILE_WIDTH);
        let tile = Tile {
            level: 0,
            n,
            width: width as u16,
        };
        let path = tile.entries_path();
        let data = fetch(&format!("{base}/{path}"))?;
        for entry in split_bundle(&data, width, &path)? {
            auditor.feed(entry)?;
        }
        n += 1;
        progress(auditor.size(), size);
    }
    Ok(auditor.finish(&cp)?)
}
