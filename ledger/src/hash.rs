//! SHA-256 hashes and the RFC 6962 hash functions.
//!
//! Every digest lvyue computes is one of the small functions here; each cites
//! its specification. Any other digest we sign carries its own context label
//! (see docs/FORMAT.md, "Context labels").

use sha2::{Digest, Sha256};
use std::fmt;

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The all-zero hash, used as the "previous entry" of entry 0.
    pub const ZERO: Hash = Hash([0; 32]);

    /// Parses 64 lowercase or uppercase hex digits.
    pub fn from_hex(s: &str) -> Result<Hash, HashParseError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| HashParseError(s.to_string()))?;
        Ok(Hash(out))
    }

    /// Lowercase hex.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses a standard base64 encoding of 32 bytes.
    pub fn from_base64(s: &str) -> Result<Hash, HashParseError> {
        use base64::Engine as _;
        let v = base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|_| HashParseError(s.to_string()))?;
        let arr: [u8; 32] = v.try_into().map_err(|_| HashParseError(s.to_string()))?;
        Ok(Hash(arr))
    }

    /// Standard base64 with padding.
    #[must_use]
    pub fn to_base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A string that is not a 32-byte hash in the expected encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed hash {0:?}: want 32 bytes")]
pub struct HashParseError(pub String);

impl serde::Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Hash::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// SHA256(data).
#[must_use]
pub fn sha256(data: &[u8]) -> Hash {
    Hash(Sha256::digest(data).into())
}

/// SHA256(0x00 || data), RFC 6962 §2.1 (RFC 9162 §2.1.1).
#[must_use]
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    Hash(h.finalize().into())
}

/// SHA256(0x01 || left || right), RFC 6962 §2.1 (RFC 9162 §2.1.1).
#[must_use]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// SHA256(label || data) for a fixed context label ending in a newline,
/// so that no digest we sign can be confused with another (docs/FORMAT.md).
#[must_use]
pub fn labelled_hash(label: &[u8], data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(label);
    h.update(data);
    Hash(h.finalize().into())
}
