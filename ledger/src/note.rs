//! Signed notes, <https://c2sp.org/signed-note> (the format of Go's
//! `golang.org/x/mod/sumdb/note`), with Ed25519 signatures only.
//!
//! # Format
//!
//! A signed note is UTF-8 text, byte by byte:
//!
//! ```text
//! text            one or more lines, each ending in 0x0A; may contain empty lines
//! 0x0A            one empty line
//! signature line  one or more (at most MAX_SIGNATURES) of:
//!                 E2 80 94 (U+2014 em dash) 20 <key name> 20 <base64> 0A
//! ```
//!
//! The whole note must be valid UTF-8 with no ASCII control character
//! (below U+0020) other than newline. The text is everything up to and
//! including the newline before the *last* empty line, so the text itself may
//! contain empty lines. `<base64>` is standard RFC 4648 §4 base64 with
//! padding, canonical (no stray trailing bits), of
//!
//! ```text
//! key ID (4 bytes, big-endian) || signature (at least 1 byte)
//! ```
//!
//! An Ed25519 signature is 64 bytes over exactly the text bytes (including
//! the final newline, excluding the blank line). Key names follow
//! [`crate::keys::KeyName`].
//!
//! # Verification rules
//!
//! [`open`] parses strictly (any malformed line rejects the note, at most
//! [`MAX_SIGNATURES`] lines, no two lines with the same key name *and* key
//! ID), then, per the spec: a line whose name and ID both match a known key is
//! verified and a failure rejects the whole note; lines from unknown keys
//! (even if they share the name or the ID, but not both, with a known key)
//! are kept unverified in [`Note::unverified`]; at least one known key must
//! have signed. Unlike Go, which silently drops repeated lines, we reject a
//! repeated `(name, ID)` as malformed.

use crate::keys::{KeyName, Signer, VerifierKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// The most signature lines we accept in one note (the spec requires at
/// least 16; Go's implementation allows 100).
pub const MAX_SIGNATURES: usize = 100;

/// The em dash and space that start a signature line.
const SIG_PREFIX: &str = "\u{2014} ";

/// Errors from signing and opening notes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The note is not valid UTF-8.
    #[error("note is not valid utf-8 at byte {offset}")]
    NotUtf8 {
        /// Where decoding failed.
        offset: usize,
    },
    /// The note contains an ASCII control character other than newline.
    #[error("note contains control character 0x{byte:02x} at byte {offset}")]
    ControlCharacter {
        /// The character.
        byte: u8,
        /// Where.
        offset: usize,
    },
    /// The text to sign is empty or does not end in a newline.
    #[error("note text must end with a newline")]
    TextNotNewlineTerminated,
    /// There is no empty line separating text from signatures.
    #[error("note has no blank line before its signatures")]
    MissingBlankLine,
    /// There are no signature lines, or the last one lacks its newline.
    #[error("note signature block is empty or does not end with a newline")]
    BadSignatureBlock,
    /// A signature line does not start with an em dash and a space.
    #[error("signature line {line} does not start with \"\u{2014} \": {text:?}")]
    BadSignaturePrefix {
        /// 1-based line number within the signature block.
        line: usize,
        /// The line.
        text: String,
    },
    /// A signature line has a malformed key name.
    #[error("signature line {line} has invalid key name {name:?}")]
    BadKeyName {
        /// 1-based line number within the signature block.
        line: usize,
        /// The name.
        name: String,
    },
    /// A signature line's signature is not canonical base64.
    #[error("signature line {line} has malformed base64 {b64:?}")]
    BadBase64 {
        /// 1-based line number within the signature block.
        line: usize,
        /// The text after the key name.
        b64: String,
    },
    /// A signature is too short to hold a key ID and a signature.
    #[error("signature line {line} decodes to {len} bytes: want at least 5")]
    SignatureTooShort {
        /// 1-based line number within the signature block.
        line: usize,
        /// The decoded length.
        len: usize,
    },
    /// More signature lines than [`MAX_SIGNATURES`].
    #[error("note has more than {max} signatures")]
    TooManySignatures {
        /// The limit.
        max: usize,
    },
    /// Two signature lines (or two signers) with the same key name and ID.
    #[error("duplicate signature for key {name}+{id:08x}")]
    DuplicateSignature {
        /// The key name.
        name: String,
        /// The key ID.
        id: u32,
    },
    /// Two different known keys share a key name and ID.
    #[error("ambiguous known keys for {name}+{id:08x}")]
    AmbiguousKey {
        /// The key name.
        name: String,
        /// The key ID.
        id: u32,
    },
    /// A signature from a known key does not verify.
    #[error("invalid signature for key {name}+{id:08x}")]
    InvalidSignature {
        /// The key name.
        name: String,
        /// The key ID.
        id: u32,
    },
    /// No known key signed the note.
    #[error("note has no signature from a known key")]
    NoVerifiedSignature,
    /// [`sign`] was given no signers.
    #[error("no signers given")]
    NoSigners,
}

/// One signature line: key name, key ID and raw signature bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key ID.
    pub id: u32,
    /// The signature bytes (after the 4-byte key ID).
    pub sig: Vec<u8>,
}

/// A note whose signatures from known keys all verified, and at least one
/// did. Only [`open`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    sigs: Vec<NoteSignature>,
    unverified: Vec<NoteSignature>,
}

impl Note {
    /// The signed text, including its final newline.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signatures from known keys, all verified, in note order.
    #[must_use]
    pub fn sigs(&self) -> &[NoteSignature] {
        &self.sigs
    }

    /// The signatures from unknown keys, not verified, in note order.
    #[must_use]
    pub fn unverified(&self) -> &[NoteSignature] {
        &self.unverified
    }
}

/// Checks that `bytes` is UTF-8 without control characters other than
/// newline, and returns it as text.
fn check_chars(bytes: &[u8]) -> Result<&str, NoteError> {
    let text = std::str::from_utf8(bytes).map_err(|e| NoteError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    match bytes.iter().position(|&b| b < 0x20 && b != b'\n') {
        Some(offset) => Err(NoteError::ControlCharacter {
            byte: bytes[offset],
            offset,
        }),
        None => Ok(text),
    }
}

/// Checks that `text` may be signed: valid characters, ends in newline.
fn check_text(text: &str) -> Result<(), NoteError> {
    check_chars(text.as_bytes())?;
    if !text.ends_with('\n') {
        return Err(NoteError::TextNotNewlineTerminated);
    }
    Ok(())
}

/// One signature line, `— <name> base64(id || sig)`.
fn signature_line(name: &KeyName, id: u32, sig: &[u8]) -> String {
    let mut raw = Vec::with_capacity(4 + sig.len());
    raw.extend_from_slice(&id.to_be_bytes());
    raw.extend_from_slice(sig);
    format!("{SIG_PREFIX}{name} {}\n", BASE64.encode(raw))
}

/// Signs `text` with each signer, in order, and returns the signed note.
pub fn sign(text: &str, signers: &[&Signer]) -> Result<String, NoteError> {
    check_text(text)?;
    if signers.is_empty() {
        return Err(NoteError::NoSigners);
    }
    let mut out = format!("{text}\n");
    let mut seen = std::collections::HashSet::new();
    for signer in signers {
        let (name, id) = (signer.name(), signer.id());
        if !seen.insert((name.as_str(), id)) {
            return Err(NoteError::DuplicateSignature {
                name: name.to_string(),
                id,
            });
        }
        out.push_str(&signature_line(name, id, &signer.sign(text.as_bytes())));
    }
    Ok(out)
}

/// Parses one signature line (without its newline); `line_no` is 1-based.
fn parse_signature_line(line_no: usize, line: &str) -> Result<NoteSignature, NoteError> {
    let rest = line
        .strip_prefix(SIG_PREFIX)
        .ok_or_else(|| NoteError::BadSignaturePrefix {
            line: line_no,
            text: line.to_string(),
        })?;
    let (name, b64) = rest.split_once(' ').unwrap_or((rest, ""));
    if KeyName::new(name).is_err() {
        return Err(NoteError::BadKeyName {
            line: line_no,
            name: name.to_string(),
        });
    }
    let raw = BASE64.decode(b64).map_err(|_| NoteError::BadBase64 {
        line: line_no,
        b64: b64.to_string(),
    })?;
    if raw.len() < 5 {
        return Err(NoteError::SignatureTooShort {
            line: line_no,
            len: raw.len(),
        });
    }
    let id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
    Ok(NoteSignature {
        name: name.to_string(),
        id,
        sig: raw[4..].to_vec(),
    })
}

/// Splits a note into its text and parsed signature lines, without
/// verifying anything.
fn parse(msg: &[u8]) -> Result<(&str, Vec<NoteSignature>), NoteError> {
    let all = check_chars(msg)?;
    let split = all.rfind("\n\n").ok_or(NoteError::MissingBlankLine)?;
    let (text, block) = (&all[..=split], &all[split + 2..]);
    let Some(block) = block.strip_suffix('\n') else {
        return Err(NoteError::BadSignatureBlock);
    };
    let mut sigs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in block.split('\n').enumerate() {
        if i == MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        let sig = parse_signature_line(i + 1, line)?;
        if !seen.insert((sig.name.clone(), sig.id)) {
            return Err(NoteError::DuplicateSignature {
                name: sig.name,
                id: sig.id,
            });
        }
        sigs.push(sig);
    }
    Ok((text, sigs))
}

/// The known key for a signature's `(name, id)`, if any.
fn find_key<'k>(
    known: &'k [VerifierKey],
    sig: &NoteSignature,
) -> Result<Option<&'k VerifierKey>, NoteError> {
    let mut matches = known
        .iter()
        .filter(|k| k.name().as_str() == sig.name && k.id() == sig.id);
    let first = matches.next();
    if let Some(k) = first {
        if matches.any(|other| other != k) {
            return Err(NoteError::AmbiguousKey {
                name: sig.name.clone(),
                id: sig.id,
            });
        }
    }
    Ok(first)
}

/// Parses `msg` strictly and verifies it against `known` keys (see the
/// module doc for the rules).
pub fn open(msg: &[u8], known: &[VerifierKey]) -> Result<Note, NoteError> {
    let (text, all_sigs) = parse(msg)?;
    let mut note = Note {
        text: text.to_string(),
        sigs: Vec::new(),
        unverified: Vec::new(),
    };
    for sig in all_sigs {
        let Some(key) = find_key(known, &sig)? else {
            note.unverified.push(sig);
            continue;
        };
        let ok = <&[u8; 64]>::try_from(sig.sig.as_slice())
            .is_ok_and(|s| key.verify_strict(text.as_bytes(), s).is_ok());
        if !ok {
            return Err(NoteError::InvalidSignature {
                name: sig.name,
                id: sig.id,
            });
        }
        note.sigs.push(sig);
    }
    if note.sigs.is_empty() {
        return Err(NoteError::NoVerifiedSignature);
    }
    Ok(note)
}
