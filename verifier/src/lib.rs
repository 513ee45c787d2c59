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
    let (cp, index) = verify_tlog_proof(&r.proof, &r.entry, vkey)?;
    if index != r.index {
        return Err(Failure::Violation(format!(
            "receipt says index {}, its proof says {index}",
            r.index
        )));
    }
    Ok(cp)
}

/// Verifies a `c2sp.org/tlog-proof@v1` text for canonical `entry` bytes
/// offline: the entry decodes strictly and names the proof's index, and
/// the inclusion proof holds under the checkpoint signed by `vkey`.
/// Returns the verified checkpoint and the index.
pub fn verify_tlog_proof(
    proof_text: &str,
    entry: &[u8],
    vkey: &VerifierKey,
) -> Result<(VerifiedCheckpoint, u64), Failure> {
    let proof = TlogProof::parse(proof_text)
        .map_err(|e| Failure::CouldNotCheck(format!("tlog-proof: {e}")))?;
    let decoded = lvyue_ledger::record::Entry::decode(entry)
        .map_err(|e| Failure::Violation(format!("entry: {e}")))?;
    if decoded.index != proof.index() {
        return Err(Failure::Violation(format!(
            "entry says index {}, its proof says {}",
            decoded.index,
            proof.index()
        )));
    }
    let origin = origin_of(vkey)?;
    let cp = proof
        .verify(entry, &origin, vkey)
        .map_err(|e| Failure::Violation(e.to_string()))?;
    Ok((cp, proof.index()))
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

/// A self-contained proof that a log misbehaved: both signed checkpoints and,
/// where one applies, the consistency proof that fails between them.
#[derive(Debug, serde::Serialize)]
pub struct Misbehaviour {
    pub kind: &'static str,
    pub old_checkpoint: String,
    pub new_checkpoint: String,
    pub proof: Vec<String>,
}

impl std::fmt::Display for Misbehaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "SECURITY ERROR: {}", self.kind)?;
        writeln!(f, "old checkpoint:\n{}", self.old_checkpoint)?;
        writeln!(f, "new checkpoint:\n{}", self.new_checkpoint)?;
        if !self.proof.is_empty() {
            writeln!(f, "consistency proof (hex):")?;
            for h in &self.proof {
                writeln!(f, "{h}")?;
            }
        }
        Ok(())
    }
}

/// Checks that `new` extends `old` (both signed notes, by `vkey`): equal
/// sizes need equal roots; a smaller new size is a rollback; otherwise the
/// consistency proof from `proof_for(old_size, new_size)` must verify.
/// `Ok` carries a one-line summary; a proven violation carries a
/// [`Misbehaviour`] rendering in its message.
pub fn check_consistency(
    old: &[u8],
    new: &[u8],
    vkey: &VerifierKey,
    proof_for: impl FnOnce(u64, u64) -> Result<Vec<lvyue_ledger::Hash>, Failure>,
) -> Result<String, Failure> {
    let origin = origin_of(vkey)?;
    let open = |note: &[u8], which: &str| {
        checkpoint::open(note, &origin, vkey)
            .map_err(|e| Failure::CouldNotCheck(format!("{which} checkpoint: {e}")))
    };
    let (o, n) = (open(old, "old")?, open(new, "new")?);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let proven = |kind: &'static str, proof: &[lvyue_ledger::Hash]| {
        let m = Misbehaviour {
            kind,
            old_checkpoint: text(old),
            new_checkpoint: text(new),
            proof: proof.iter().map(|h| h.to_hex()).collect(),
        };
        Failure::Violation(m.to_string())
    };
    if n.size() < o.size() {
        return Err(proven(
            "rolled back: the newer checkpoint is smaller than the older one",
            &[],
        ));
    }
    if n.size() == o.size() {
        if n.root() != o.root() {
            return Err(proven(
                "fork: two signed checkpoints of one size with different roots",
                &[],
            ));
        }
        return Ok(format!(
            "consistent: both checkpoints are of size {} with root {}",
            n.size(),
            n.root()
        ));
    }
    let proof = proof_for(o.size(), n.size())?;
    lvyue_ledger::tlog::check_tree(&proof, n.size(), &n.root(), o.size(), &o.root()).map_err(
        |_| {
            proven(
                "fork: the newer checkpoint does not extend the older one",
                &proof,
            )
        },
    )?;
    Ok(format!(
        "consistent: size {} extends size {} (proof of {} hashes)",
        n.size(),
        o.size(),
        proof.len()
    ))
}

/// Fetches a consistency proof from a node (`GET /v1/proof/consistency`).
pub fn fetch_consistency_proof(
    base: &str,
    old: u64,
    new: u64,
) -> Result<Vec<lvyue_ledger::Hash>, Failure> {
    let url = format!(
        "{}/v1/proof/consistency?old={old}&new={new}",
        base.trim_end_matches('/')
    );
    let body = fetch(&url)?;
    #[derive(serde::Deserialize)]
    struct Answer {
        proof: Vec<lvyue_ledger::Hash>,
    }
    let a: Answer =
        serde_json::from_slice(&body).map_err(|e| Failure::CouldNotCheck(format!("{url}: {e}")))?;
    Ok(a.proof)
}
