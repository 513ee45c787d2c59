//! Log entries: the records that are hashed, chained and Merkle-logged.
//!
//! An [`Entry`] holds its index, the node time (UTC milliseconds, never
//! decreasing), the leaf hash of the previous entry and a [`Body`]: either a
//! [`Signed`] submission or a [`Derived`] record the node computed. The
//! canonical bytes of an entry (codec::encode) are the Merkle leaf data.

use crate::codec::{self, CodecError};
use crate::event::{Event, Extent};
use crate::hash::{Hash, labelled_hash, leaf_hash};
use crate::types::{ContractId, Date, SignerName, Subject, Text};
use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// Context label of a submission signature (docs/FORMAT.md, "Signatures").
pub const SUBMISSION_LABEL: &[u8] = b"lvyue/submission/v1\n";

/// Context label of a submission id, the digest used to refuse replays.
pub const SUBMISSION_ID_LABEL: &[u8] = b"lvyue/submission-id/v1\n";

/// Names a registered key: the signed-note name and key id.
#[derive(
    Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize, Encode, Decode,
)]
#[serde(deny_unknown_fields)]
pub struct KeyRef {
    pub name: SignerName,
    /// Signed-note key id: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[0..4], big-endian.
    pub id: u32,
}

impl std::fmt::Display for KeyRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}+{:08x}", self.name, self.id)
    }
}

/// What a client signs: who signs, a nonce that lets identical events be
/// submitted twice on purpose, and the event.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    pub signer: KeyRef,
    pub nonce: u64,
    pub event: Event,
}

impl Payload {
    /// The exact bytes the signer signs for a log named `origin`:
    /// `SUBMISSION_LABEL ‖ origin ‖ 0x0A ‖ canonical(payload)`.
    pub fn signed_message(&self, origin: &str) -> Result<Vec<u8>, CodecError> {
        Ok(signed_message(origin, &codec::encode(self)?))
    }
}

/// `SUBMISSION_LABEL ‖ origin ‖ 0x0A ‖ payload_canonical`: what a submitter signs.
#[must_use]
pub fn signed_message(origin: &str, payload_canonical: &[u8]) -> Vec<u8> {
    let mut msg =
        Vec::with_capacity(SUBMISSION_LABEL.len() + origin.len() + 1 + payload_canonical.len());
    msg.extend_from_slice(SUBMISSION_LABEL);
    msg.extend_from_slice(origin.as_bytes());
    msg.push(b'\n');
    msg.extend_from_slice(payload_canonical);
    msg
}

/// The replay-protection id of a payload given its canonical bytes.
#[must_use]
pub fn submission_id(payload_canonical: &[u8]) -> Hash {
    labelled_hash(SUBMISSION_ID_LABEL, payload_canonical)
}

/// A signed submission, as posted by a client and as stored in the log.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    pub payload: Payload,
    /// Ed25519 signature over [`Payload::signed_message`].
    #[serde(with = "crate::serde_bytes::b64_64")]
    pub signature: [u8; 64],
}

impl Signed {
    /// The replay-protection id: SHA-256(SUBMISSION_ID_LABEL ‖ canonical(payload)).
    /// Two submissions with the same id are the same submission.
    pub fn submission_id(&self) -> Result<Hash, CodecError> {
        Ok(labelled_hash(
            SUBMISSION_ID_LABEL,
            &codec::encode(&self.payload)?,
        ))
    }
}

/// Which list.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    Red,
    Black,
}

/// How a milestone ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(rename_all = "snake_case")]
pub enum Closure {
    OnTime,
    Late,
    /// Claimed by the obligor and not disputed in time.
    Deemed,
    Exempt,
    Defaulted,
}

/// Records the node derives from the log by the rule book.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Derived {
    ReminderIssued {
        contract: ContractId,
        milestone: u32,
        due: Date,
        days_before: u32,
        cause: u64,
    },
    OverdueWarning {
        contract: ContractId,
        milestone: u32,
        due: Date,
        cause: u64,
    },
    DefaultDetermined {
        contract: ContractId,
        milestone: u32,
        entity: Subject,
        extent: Extent,
        cause: u64,
    },
    DefaultReversed {
        default_index: u64,
        cause: u64,
    },
    DemandNoticePublished {
        entity: Subject,
        defaults: Vec<u64>,
        cause: u64,
    },
    ScoreChanged {
        entity: Subject,
        delta: i64,
        total: i64,
        rule: Text,
        cause: u64,
    },
    ListChanged {
        entity: Subject,
        list: ListKind,
        listed: bool,
        reason: Text,
        cause: u64,
    },
    MilestoneClosed {
        contract: ContractId,
        milestone: u32,
        closure: Closure,
        cause: u64,
    },
}

/// The body of an entry.
///
/// Submitted bodies are much larger than derived ones; entries are decoded
/// one at a time, so boxing would only add an allocation to the hot path.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[allow(clippy::large_enum_variant)]
pub enum Body {
    Submitted(Signed),
    Derived(Derived),
}

/// One log entry.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub index: u64,
    /// Node time, UTC milliseconds; never less than the previous entry's.
    pub time_ms: i64,
    /// Leaf hash of entry `index - 1`; all zero for entry 0.
    pub prev: Hash,
    pub body: Body,
}

impl Entry {
    /// Canonical bytes (the Merkle leaf data).
    pub fn encode(&self) -> Result<Vec<u8>, CodecError> {
        codec::encode(self)
    }

    /// Strictly decodes canonical bytes.
    pub fn decode(bytes: &[u8]) -> Result<Entry, CodecError> {
        codec::decode(bytes)
    }

    /// Canonical bytes of a submitted entry, built from the canonical bytes
    /// of its payload without re-encoding: by the layout of docs/FORMAT.md,
    /// `0x01 ‖ index ‖ time ‖ prev ‖ u32 0 (Body::Submitted) ‖ payload
    /// without its version byte ‖ signature`. Equal to
    /// `Entry { .. Body::Submitted(..) }.encode()` (tested).
    pub fn submitted_bytes(
        index: u64,
        time_ms: i64,
        prev: &Hash,
        payload_canonical: &[u8],
        signature: &[u8; 64],
    ) -> Result<Vec<u8>, CodecError> {
        let body = payload_canonical.get(1..).ok_or(CodecError::Empty)?;
        let size = 1 + 8 + 8 + 32 + 4 + body.len() + 64;
        if size > codec::MAX_RECORD_SIZE {
            return Err(CodecError::TooLarge { size });
        }
        let mut out = Vec::with_capacity(size);
        out.push(codec::FORMAT_VERSION);
        out.extend_from_slice(&index.to_be_bytes());
        out.extend_from_slice(&time_ms.to_be_bytes());
        out.extend_from_slice(&prev.0);
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(signature);
        Ok(out)
    }

    /// RFC 6962 leaf hash of the canonical bytes.
    pub fn leaf_hash(&self) -> Result<Hash, CodecError> {
        Ok(leaf_hash(&self.encode()?))
    }
}
