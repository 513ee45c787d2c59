//! Transparency log checkpoints, <https://c2sp.org/tlog-checkpoint>: a signed
//! note ([`crate::note`]) whose text is a Merkle tree head.
//!
//! # Body format
//!
//! The note text is at least three lines, each ending in 0x0A:
//!
//! ```text
//! <origin> 0A            non-empty, no control characters; SHOULD be a schema-less
//!                        URL such as "example.com/log42" (recommended, not enforced)
//! <tree size> 0A         ASCII decimal, no leading zeros unless it is exactly "0"
//! <root hash> 0A         standard RFC 4648 §4 base64, with padding, of exactly the
//!                        32-byte RFC 6962 root hash (44 characters)
//! <extension> 0A ...     zero or more opaque, non-empty extension lines
//! ```
//!
//! Example (a real sum.golang.org tree head; its signature is in the note):
//!
//! ```text
//! go.sum database tree
//! 445646
//! jEFFy4AtYgBBNTSZTiNnQrgQqMbcH0mfO2oP2FxR9VU=
//! ```
//!
//! The spec says the log's key name SHOULD match the origin; it is not
//! required (sum.golang.org signs "go.sum database tree" with the key
//! "sum.golang.org"), so we do not check it. A [`VerifiedCheckpoint`] exists
//! only after its note verified under the expected log key and its origin
//! matched the expected one; signatures from other keys (witness
//! cosignatures) are ignored, as the note spec requires.

use crate::hash::Hash;
use crate::keys::{Signer, VerifierKey};
use crate::note::{self, Note, NoteError};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::fmt;

/// Errors from parsing and opening checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The signed note did not open.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The origin is empty or contains a control character.
    #[error("invalid checkpoint origin {0:?}: must be non-empty without control characters")]
    BadOrigin(String),
    /// The body does not end with a newline.
    #[error("checkpoint body must end with a newline")]
    MissingFinalNewline,
    /// The body has fewer than three lines.
    #[error("checkpoint body has {0} lines: want at least 3")]
    TooFewLines(usize),
    /// The tree size is not a canonical decimal `u64`.
    #[error("invalid checkpoint tree size {0:?}: want decimal without leading zeros")]
    BadSize(String),
    /// The root hash is not canonical base64 of 32 bytes.
    #[error("invalid checkpoint root hash {0:?}: want base64 of 32 bytes")]
    BadRoot(String),
    /// An extension line is empty or contains a control character.
    #[error(
        "invalid checkpoint extension line {0:?}: must be non-empty without control characters"
    )]
    BadExtension(String),
    /// The checkpoint is from another log.
    #[error("checkpoint origin {got:?} is not the expected {want:?}")]
    OriginMismatch {
        /// The origin we expected.
        want: String,
        /// The origin in the checkpoint.
        got: String,
    },
}

/// True if `line` is a non-empty line without control characters.
fn is_plain_line(line: &str) -> bool {
    !line.is_empty() && !line.bytes().any(|b| b < 0x20)
}

/// A log origin: a non-empty line without control characters.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Origin(String);

impl Origin {
    /// Checks `origin` against the tlog-checkpoint rules.
    pub fn new(origin: &str) -> Result<Origin, CheckpointError> {
        if !is_plain_line(origin) {
            return Err(CheckpointError::BadOrigin(origin.to_string()));
        }
        Ok(Origin(origin.to_string()))
    }

    /// The origin as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Origin {
    type Err = CheckpointError;
    fn from_str(s: &str) -> Result<Self, CheckpointError> {
        Origin::new(s)
    }
}

/// A tree head: origin, tree size, root hash and extension lines.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Checkpoint {
    origin: Origin,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    #[must_use]
    pub fn new(origin: Origin, size: u64, root: Hash) -> Checkpoint {
        Checkpoint {
            origin,
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// A checkpoint with extension lines, each of which must be non-empty
    /// and free of control characters.
    pub fn with_extensions(
        origin: Origin,
        size: u64,
        root: Hash,
        extensions: Vec<String>,
    ) -> Result<Checkpoint, CheckpointError> {
        if let Some(bad) = extensions.iter().find(|e| !is_plain_line(e)) {
            return Err(CheckpointError::BadExtension(bad.clone()));
        }
        Ok(Checkpoint {
            origin,
            size,
            root,
            extensions,
        })
    }

    /// The log origin.
    #[must_use]
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The tree size (number of leaves).
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The RFC 6962 root hash.
    #[must_use]
    pub fn root(&self) -> Hash {
        self.root
    }

    /// The extension lines, without newlines.
    #[must_use]
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The note text: origin, size, root and extension lines, each ending
    /// in a newline.
    #[must_use]
    pub fn to_body(&self) -> String {
        let mut body = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for ext in &self.extensions {
            body.push_str(ext);
            body.push('\n');
        }
        body
    }

    /// Parses a note text strictly (see the module doc).
    pub fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
        let body = body
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingFinalNewline)?;
        let lines: Vec<&str> = body.split('\n').collect();
        let [origin, size, root, extensions @ ..] = lines.as_slice() else {
            return Err(CheckpointError::TooFewLines(lines.len()));
        };
        let extensions = extensions.iter().map(|e| e.to_string()).collect();
        Checkpoint::with_extensions(
            Origin::new(origin)?,
            parse_size(size)?,
            parse_root(root)?,
            extensions,
        )
    }
}

/// Parses a canonical decimal tree size.
fn parse_size(s: &str) -> Result<u64, CheckpointError> {
    let bad = || CheckpointError::BadSize(s.to_string());
    let digits_only = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || (s.len() > 1 && s.starts_with('0')) {
        return Err(bad());
    }
    s.parse().map_err(|_| bad())
}

/// Parses canonical base64 of exactly 32 bytes.
fn parse_root(s: &str) -> Result<Hash, CheckpointError> {
    let bad = || CheckpointError::BadRoot(s.to_string());
    let raw = BASE64.decode(s).map_err(|_| bad())?;
    let arr: [u8; 32] = raw.try_into().map_err(|_| bad())?;
    Ok(Hash(arr))
}

/// Signs `cp` as a note with `signer` and returns the signed note text.
#[must_use]
pub fn sign_checkpoint(cp: &Checkpoint, signer: &Signer) -> String {
    // A Checkpoint's body always ends in a newline and has no control
    // characters, and one signer cannot be a duplicate, so this cannot fail.
    note::sign(&cp.to_body(), &[signer]).expect("checkpoint body is a valid note text")
}

/// A checkpoint whose note verified under the expected log key and whose
/// origin is the expected one. Only [`open`] makes one.
#[derive(Clone, Debug)]
pub struct VerifiedCheckpoint {
    checkpoint: Checkpoint,
    note: Note,
    note_bytes: Vec<u8>,
}

impl VerifiedCheckpoint {
    /// The checkpoint.
    #[must_use]
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The opened note (its verified and unverified signatures).
    #[must_use]
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// The signed note exactly as received.
    #[must_use]
    pub fn note_bytes(&self) -> &[u8] {
        &self.note_bytes
    }

    /// The tree size.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.checkpoint.size
    }

    /// The root hash.
    #[must_use]
    pub fn root(&self) -> Hash {
        self.checkpoint.root
    }
}

/// Verifies a signed checkpoint note with the log key `vkey`, parses its
/// body and checks that it is from the log `origin`.
pub fn open(
    note_bytes: &[u8],
    origin: &Origin,
    vkey: &VerifierKey,
) -> Result<VerifiedCheckpoint, CheckpointError> {
    let note = note::open(note_bytes, std::slice::from_ref(vkey))?;
    let checkpoint = Checkpoint::parse_body(note.text())?;
    if checkpoint.origin != *origin {
        return Err(CheckpointError::OriginMismatch {
            want: origin.0.clone(),
            got: checkpoint.origin.0,
        });
    }
    Ok(VerifiedCheckpoint {
        checkpoint,
        note,
        note_bytes: note_bytes.to_vec(),
    })
}
