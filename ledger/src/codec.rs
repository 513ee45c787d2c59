//! The one canonical binary encoding of lvyue records.
//!
//! Byte layout (docs/FORMAT.md, "Canonical encoding"): a version byte
//! ([`FORMAT_VERSION`]) followed by the record encoded with bincode 2.0.1 under
//! [`CONFIG`]: big-endian fixed-width integers, `u64` lengths before strings and
//! sequences, `u32` enum discriminants, `u8` 0/1 for `bool` and `Option` tags,
//! fixed-size arrays written raw.
//!
//! Decoding is strict: the version byte must be known, every byte must be
//! consumed, and the decoded value must re-encode to exactly the input bytes,
//! so each record has exactly one valid byte string.

use bincode::config::{BigEndian, Configuration, Fixint, Limit};
use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};

/// The one bincode configuration used for everything lvyue hashes or signs.
pub const CONFIG: Configuration<BigEndian, Fixint, Limit<{ MAX_RECORD_SIZE }>> =
    bincode::config::standard()
        .with_big_endian()
        .with_fixed_int_encoding()
        .with_limit::<{ MAX_RECORD_SIZE }>();

/// The configuration for decoding: the same layout, with a looser limit.
/// bincode charges a decoder the *in-memory* size of every collection item
/// (e.g. 152 bytes per milestone that may take 68 bytes on the wire), so
/// decoding under [`CONFIG`]'s 65,535-byte limit would refuse records the
/// encoder produced. Inputs are capped at [`MAX_RECORD_SIZE`] bytes before
/// decoding; no item is more than 16 times larger in memory than on the
/// wire, so this limit only bounds allocation against lying length prefixes.
pub const DECODE_CONFIG: Configuration<BigEndian, Fixint, Limit<{ 16 * MAX_RECORD_SIZE }>> =
    bincode::config::standard()
        .with_big_endian()
        .with_fixed_int_encoding()
        .with_limit::<{ 16 * MAX_RECORD_SIZE }>();

/// Version byte that starts every canonical byte string.
pub const FORMAT_VERSION: u8 = 1;

/// Largest canonical record: tlog-tiles entry bundles use u16 lengths.
pub const MAX_RECORD_SIZE: usize = 65_535;

/// Errors of the canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("empty input: no version byte")]
    Empty,
    #[error("unsupported format version {0} (this build knows version {FORMAT_VERSION})")]
    UnknownVersion(u8),
    #[error("record is {size} bytes, over the limit of {MAX_RECORD_SIZE}")]
    TooLarge { size: usize },
    #[error("malformed record: {0}")]
    Malformed(String),
    #[error("{trailing} trailing bytes after the record")]
    TrailingBytes { trailing: usize },
    #[error("non-canonical encoding: the record re-encodes to different bytes")]
    NonCanonical,
}

/// Encodes `value` canonically: version byte, then bincode under [`CONFIG`].
pub fn encode<T: Encode>(value: &T) -> Result<Vec<u8>, CodecError> {
    let mut out = vec![FORMAT_VERSION];
    let body = bincode::encode_to_vec(value, CONFIG).map_err(|e| match e {
        EncodeError::UnexpectedEnd => CodecError::TooLarge {
            size: MAX_RECORD_SIZE + 1,
        },
        other => CodecError::Malformed(other.to_string()),
    })?;
    out.extend_from_slice(&body);
    if out.len() > MAX_RECORD_SIZE {
        return Err(CodecError::TooLarge { size: out.len() });
    }
    Ok(out)
}

/// Decodes canonical bytes strictly (see the module documentation).
pub fn decode<T: Encode + Decode<()>>(bytes: &[u8]) -> Result<T, CodecError> {
    let (&version, body) = bytes.split_first().ok_or(CodecError::Empty)?;
    if version != FORMAT_VERSION {
        return Err(CodecError::UnknownVersion(version));
    }
    if bytes.len() > MAX_RECORD_SIZE {
        return Err(CodecError::TooLarge { size: bytes.len() });
    }
    let (value, used): (T, usize) = bincode::decode_from_slice(body, DECODE_CONFIG)
        .map_err(|e| CodecError::Malformed(e.to_string()))?;
    if used != body.len() {
        return Err(CodecError::TrailingBytes {
            trailing: body.len() - used,
        });
    }
    if encode(&value)? != bytes {
        return Err(CodecError::NonCanonical);
    }
    Ok(value)
}

/// Builds a bincode decode error carrying our own message.
pub(crate) fn invalid(msg: impl Into<String>) -> DecodeError {
    DecodeError::OtherString(msg.into())
}

impl Encode for crate::Hash {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        self.0.encode(e)
    }
}

impl<C> Decode<C> for crate::Hash {
    fn decode<D: Decoder<Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
        Ok(crate::Hash(<[u8; 32]>::decode(d)?))
    }
}
bincode::impl_borrow_decode!(crate::Hash);
