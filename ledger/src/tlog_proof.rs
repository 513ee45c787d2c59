//! Offline inclusion proofs, <https://c2sp.org/tlog-proof> (`@v1`): an entry's
//! index, its Merkle inclusion proof and a signed checkpoint, in one text
//! file (conventionally with extension `.tlog-proof`).
//!
//! # Format
//!
//! Lines separated by newlines (0x0A):
//!
//! ```text
//! c2sp.org/tlog-proof@v1 0A
//! extra 20 <base64> 0A    optional; opaque, NOT authenticated extra data
//! index 20 <decimal> 0A   zero-based entry index, no leading zeros unless "0"
//! <base64> 0A ...         zero or more inclusion proof hashes, 32 bytes each,
//!                         from the leaf's sibling up to the root's child
//!                         (RFC 6962 §2.1.1)
//! 0A                      one empty line
//! <checkpoint>            the signed checkpoint note, verbatim
//!                         (c2sp.org/tlog-checkpoint, with any cosignatures)
//! ```
//!
//! Base64 is standard RFC 4648 §4 with padding, canonical. We are stricter
//! than the format where it leaves room: an `extra` line with no data is
//! refused (with no extra data the line is omitted), at most 64 proof hashes
//! are read (a tree of at most 2^64 leaves never needs more), and the
//! checkpoint must be non-empty. The extra data is returned to the caller as
//! opaque bytes and never used in verification.
//!
//! # Verification
//!
//! [`TlogProof::verify`] opens the checkpoint with the log key and origin
//! ([`crate::checkpoint::open`]), computes the RFC 6962 leaf hash
//! `SHA-256(0x00 || entry)` and checks the inclusion proof of that leaf at
//! `index` against the checkpoint's tree size and root hash.

use crate::checkpoint::{self, CheckpointError, Origin, VerifiedCheckpoint};
use crate::hash::{Hash, leaf_hash};
use crate::keys::VerifierKey;
use crate::tlog::{self, TlogError};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// The first line of every proof.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// The most inclusion proof hashes we read.
pub const MAX_PROOF_HASHES: usize = 64;

/// Errors from building, parsing and verifying proofs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The first line is not [`HEADER`].
    #[error("not a tlog proof: first line is {0:?}, want \"c2sp.org/tlog-proof@v1\"")]
    BadHeader(String),
    /// The text ends before the empty line that precedes the checkpoint.
    #[error("tlog proof is truncated: no empty line before the checkpoint")]
    Truncated,
    /// The extra data is empty or not canonical base64.
    #[error("invalid tlog proof extra data {0:?}: want non-empty base64")]
    BadExtra(String),
    /// The index line is missing or malformed.
    #[error("invalid tlog proof index line {0:?}: want \"index <decimal>\"")]
    BadIndex(String),
    /// A proof line is not base64 of 32 bytes.
    #[error("invalid tlog proof hash {0:?}: want base64 of 32 bytes")]
    BadHash(String),
    /// More than [`MAX_PROOF_HASHES`] proof lines.
    #[error("tlog proof has more than {0} hashes")]
    TooManyHashes(usize),
    /// Nothing follows the empty line.
    #[error("tlog proof has an empty checkpoint")]
    EmptyCheckpoint,
    /// The checkpoint bytes are not UTF-8 text.
    #[error("tlog proof checkpoint is not utf-8 text")]
    CheckpointNotText,
    /// The checkpoint did not open.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The inclusion proof does not verify.
    #[error("inclusion of entry {index} in tree of size {size} does not verify: {source}")]
    Inclusion {
        /// The entry index.
        index: u64,
        /// The checkpoint's tree size.
        size: u64,
        /// What failed.
        source: TlogError,
    },
}

/// A parsed (not yet verified) tlog proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    extra: Option<Vec<u8>>,
    index: u64,
    proof: Vec<Hash>,
    checkpoint: String,
}

impl TlogProof {
    /// Assembles a proof. `extra`, if given, must be non-empty; `proof` has
    /// at most [`MAX_PROOF_HASHES`] hashes; `checkpoint` is the signed note,
    /// non-empty UTF-8.
    pub fn new(
        extra: Option<Vec<u8>>,
        index: u64,
        proof: Vec<Hash>,
        checkpoint: Vec<u8>,
    ) -> Result<TlogProof, ProofError> {
        if extra.as_ref().is_some_and(Vec::is_empty) {
            return Err(ProofError::BadExtra(String::new()));
        }
        if proof.len() > MAX_PROOF_HASHES {
            return Err(ProofError::TooManyHashes(MAX_PROOF_HASHES));
        }
        let checkpoint =
            String::from_utf8(checkpoint).map_err(|_| ProofError::CheckpointNotText)?;
        if checkpoint.is_empty() {
            return Err(ProofError::EmptyCheckpoint);
        }
        Ok(TlogProof {
            extra,
            index,
            proof,
            checkpoint,
        })
    }

    /// The unauthenticated extra data, if any.
    #[must_use]
    pub fn extra(&self) -> Option<&[u8]> {
        self.extra.as_deref()
    }

    /// The entry index.
    #[must_use]
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The inclusion proof hashes.
    #[must_use]
    pub fn proof(&self) -> &[Hash] {
        &self.proof
    }

    /// The signed checkpoint note, verbatim.
    #[must_use]
    pub fn checkpoint(&self) -> &[u8] {
        self.checkpoint.as_bytes()
    }

    /// The proof in its text format.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", BASE64.encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            out.push_str(&h.to_base64());
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Parses the text format strictly (see the module doc).
    pub fn parse(text: &str) -> Result<TlogProof, ProofError> {
        let mut rest = text;
        let header = next_line(&mut rest)?;
        if header != HEADER {
            return Err(ProofError::BadHeader(header.to_string()));
        }
        let mut line = next_line(&mut rest)?;
        let mut extra = None;
        if let Some(b64) = line.strip_prefix("extra ") {
            extra = Some(parse_extra(b64)?);
            line = next_line(&mut rest)?;
        }
        let index = parse_index(line)?;
        let mut proof = Vec::new();
        loop {
            let line = next_line(&mut rest)?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_HASHES {
                return Err(ProofError::TooManyHashes(MAX_PROOF_HASHES));
            }
            proof.push(parse_hash(line)?);
        }
        TlogProof::new(extra, index, proof, rest.as_bytes().to_vec())
    }

    /// Verifies that `entry` is at [`Self::index`] in the log `origin` whose
    /// key is `vkey`, returning the verified checkpoint.
    pub fn verify(
        &self,
        entry: &[u8],
        origin: &Origin,
        vkey: &VerifierKey,
    ) -> Result<VerifiedCheckpoint, ProofError> {
        let cp = checkpoint::open(self.checkpoint.as_bytes(), origin, vkey)?;
        let leaf = leaf_hash(entry);
        tlog::check_record(&self.proof, cp.size(), &cp.root(), self.index, &leaf).map_err(
            |source| ProofError::Inclusion {
                index: self.index,
                size: cp.size(),
                source,
            },
        )?;
        Ok(cp)
    }
}

/// Takes the next newline-terminated line off `rest`.
fn next_line<'a>(rest: &mut &'a str) -> Result<&'a str, ProofError> {
    let (line, tail) = rest.split_once('\n').ok_or(ProofError::Truncated)?;
    *rest = tail;
    Ok(line)
}

/// Parses non-empty canonical base64 extra data.
fn parse_extra(b64: &str) -> Result<Vec<u8>, ProofError> {
    match BASE64.decode(b64) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(ProofError::BadExtra(b64.to_string())),
    }
}

/// Parses `index <decimal>` with no leading zeros.
fn parse_index(line: &str) -> Result<u64, ProofError> {
    let bad = || ProofError::BadIndex(line.to_string());
    let digits = line.strip_prefix("index ").ok_or_else(bad)?;
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !canonical {
        return Err(bad());
    }
    digits.parse().map_err(|_| bad())
}

/// Parses one base64 proof hash.
fn parse_hash(line: &str) -> Result<Hash, ProofError> {
    let raw = BASE64
        .decode(line)
        .map_err(|_| ProofError::BadHash(line.to_string()))?;
    let arr: [u8; 32] = raw
        .try_into()
        .map_err(|_| ProofError::BadHash(line.to_string()))?;
    Ok(Hash(arr))
}
