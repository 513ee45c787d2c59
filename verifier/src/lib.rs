//! lvyue-verifier: checks lvyue receipts and whole logs, trusting nothing
//! the node says except what the log's key signed.
//!
//! In scope: offline receipts (entry + C2SP tlog-proof), consistency between
//! two kept checkpoints, and full or incremental audits of a log read from a
//! node over HTTP or from an offline export folder (checkpoint + C2SP tiles
//! and entry bundles, [`source`]). Not in scope: disclosure exports and
//! credit reports. Never links sled, axum or tokio. Exit codes:
//! 0 verified · 1 violation proven · 2 could not check.
#![forbid(unsafe_code)]

pub mod audit;
pub mod exports;
pub mod source;
pub mod state;

use lvyue_ledger::audit::Violation;
use lvyue_ledger::checkpoint::{self, Origin, VerifiedCheckpoint};
use lvyue_ledger::keys::VerifierKey;
use lvyue_ledger::tlog_proof::TlogProof;

pub use audit::{AuditReport, audit};
pub use source::Source;

/// Outcome of a failed check: tampering proven, or unable to check.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The inputs prove a violation (exit code 1).
    #[error("VIOLATION: {0}")]
    Violation(Box<Proven>),
    /// The check could not be completed (exit code 2).
    #[error("could not check: {0}")]
    CouldNotCheck(String),
}

/// A proven violation: what is wrong, where, and what was expected and
/// found instead. It stands on its own (see [`Misbehaviour`]).
#[derive(Debug, Default, serde::Serialize)]
pub struct Proven {
    pub message: String,
    /// The first log index that is wrong, where the violation is about an entry.
    pub first_bad_index: Option<u64>,
    pub expected: Option<String>,
    pub found: Option<String>,
    /// Two signed checkpoints that contradict each other, with the proof.
    pub misbehaviour: Option<Misbehaviour>,
}

impl std::fmt::Display for Proven {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(m) = &self.misbehaviour {
            write!(f, "\n{m}")?;
        }
        Ok(())
    }
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

    /// A violation described by a message only.
    #[must_use]
    pub fn violation(message: String) -> Failure {
        Failure::Violation(Box::new(Proven {
            message,
            ..Proven::default()
        }))
    }
}

impl From<Violation> for Failure {
    fn from(v: Violation) -> Failure {
        let message = v.to_string();
        let some = |s: String| Some(s);
        let (index, expected, found) = match v {
            Violation::Decode { index, error } => (
                Some(index),
                some("a canonical entry (docs/FORMAT.md)".into()),
                some(error),
            ),
            Violation::WrongIndex { index, found } => (
                Some(index),
                some(format!("index {index}")),
                some(format!("index {found}")),
            ),
            Violation::BrokenChain {
                index,
                expected,
                found,
            } => (Some(index), some(expected.to_hex()), some(found.to_hex())),
            Violation::TimeWentBack {
                index,
                previous,
                found,
            } => (
                Some(index),
                some(format!("node time >= {previous}")),
                some(found.to_string()),
            ),
            Violation::NotAdmissible { index, reason } => (
                Some(index),
                some("an admissible submission".into()),
                some(reason),
            ),
            Violation::Replay { index, first } => (
                Some(index),
                some("a new submission".into()),
                some(format!("a replay of entry {first}")),
            ),
            Violation::BadSignature { index, key } => (
                Some(index),
                some(format!("a valid signature by {key}")),
                some("an invalid signature".into()),
            ),
            Violation::UnexpectedDerived { index } => (
                Some(index),
                some("no derived record".into()),
                some("a derived record".into()),
            ),
            Violation::MissingDerived { index, expected } => {
                (Some(index), some(expected), some("another entry".into()))
            }
            Violation::DerivedMismatch {
                index,
                expected,
                found,
            } => (Some(index), some(expected), some(found)),
            Violation::RootMismatch {
                computed, signed, ..
            } => (None, some(signed.to_hex()), some(computed.to_hex())),
            Violation::TooShort { size, found } => (
                Some(found),
                some(format!("{size} entries")),
                some(format!("{found} entries")),
            ),
        };
        Failure::Violation(Box::new(Proven {
            message,
            first_bad_index: index,
            expected,
            found,
            misbehaviour: None,
        }))
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
pub(crate) fn origin_of(vkey: &VerifierKey) -> Result<Origin, Failure> {
    Origin::new(vkey.name().as_str())
        .map_err(|e| Failure::CouldNotCheck(format!("verifier key name is not an origin: {e}")))
}

/// Verifies a receipt JSON offline: the entry decodes canonically, and the
/// tlog-proof proves it at its index under a checkpoint signed by `vkey`.
pub fn verify_receipt(json: &str, vkey: &VerifierKey) -> Result<VerifiedCheckpoint, Failure> {
    verify_receipt_at(json, vkey).map(|(cp, _)| cp)
}

/// [`verify_receipt`], also returning the entry's index.
pub fn verify_receipt_at(
    json: &str,
    vkey: &VerifierKey,
) -> Result<(VerifiedCheckpoint, u64), Failure> {
    let r: ReceiptFile =
        serde_json::from_str(json).map_err(|e| Failure::CouldNotCheck(format!("receipt: {e}")))?;
    let (cp, index) = verify_tlog_proof(&r.proof, &r.entry, vkey)?;
    if index != r.index {
        return Err(Failure::Violation(Box::new(Proven {
            message: format!("receipt says index {}, its proof says {index}", r.index),
            first_bad_index: Some(r.index),
            expected: Some(format!("index {index}")),
            found: Some(format!("index {}", r.index)),
            misbehaviour: None,
        })));
    }
    Ok((cp, index))
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
    let decoded = lvyue_ledger::record::Entry::decode(entry).map_err(|e| {
        Failure::Violation(Box::new(Proven {
            message: format!("entry: {e}"),
            first_bad_index: Some(proof.index()),
            expected: Some("a canonical entry (docs/FORMAT.md)".into()),
            found: Some(e.to_string()),
            misbehaviour: None,
        }))
    })?;
    if decoded.index != proof.index() {
        return Err(Failure::Violation(Box::new(Proven {
            message: format!(
                "entry says index {}, its proof says {}",
                decoded.index,
                proof.index()
            ),
            first_bad_index: Some(proof.index()),
            expected: Some(format!("index {}", proof.index())),
            found: Some(format!("index {}", decoded.index)),
            misbehaviour: None,
        })));
    }
    let origin = origin_of(vkey)?;
    let cp = proof.verify(entry, &origin, vkey).map_err(|e| {
        // A checkpoint that does not open under the key names no bad entry:
        // the receipt is not one of this log's.
        let (message, first_bad_index) = match e {
            lvyue_ledger::tlog_proof::ProofError::Checkpoint(c) => (
                format!(
                    "the receipt's checkpoint does not verify with the log's key {}+{:08x}: {c}",
                    vkey.name().as_str(),
                    vkey.id()
                ),
                None,
            ),
            other => (other.to_string(), Some(proof.index())),
        };
        Failure::Violation(Box::new(Proven {
            message,
            first_bad_index,
            ..Proven::default()
        }))
    })?;
    Ok((cp, proof.index()))
}

/// Audits a node over HTTP from scratch: [`audit()`] with a URL and no state.
pub fn audit_url(
    base: &str,
    vkey: &VerifierKey,
    mut progress: impl FnMut(u64, u64),
) -> Result<AuditReport, Failure> {
    audit(&Source::parse(base), vkey, None, &mut progress)
}

/// A self-contained proof that a log misbehaved: both signed checkpoints and,
/// where one applies, the consistency proof that fails between them.
#[derive(Debug, Clone, serde::Serialize)]
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
        Failure::Violation(Box::new(Proven {
            message: format!("{kind} (old size {}, new size {})", o.size(), n.size()),
            first_bad_index: None,
            expected: Some(format!(
                "a tree of size >= {} extending root {}",
                o.size(),
                o.root()
            )),
            found: Some(format!("size {} with root {}", n.size(), n.root())),
            misbehaviour: Some(m),
        }))
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
    let node = Source::parse(base);
    let path = format!("v1/proof/consistency?old={old}&new={new}");
    let url = node.locate(&path);
    let body = node.get(&path)?;
    #[derive(serde::Deserialize)]
    struct Answer {
        proof: Vec<lvyue_ledger::Hash>,
    }
    let a: Answer =
        serde_json::from_slice(&body).map_err(|e| Failure::CouldNotCheck(format!("{url}: {e}")))?;
    Ok(a.proof)
}
