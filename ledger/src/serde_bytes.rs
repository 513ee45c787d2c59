//! JSON forms of raw byte arrays: standard base64 with padding.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

fn decode_exact<const N: usize, E: serde::de::Error>(s: &str) -> Result<[u8; N], E> {
    let v = STANDARD
        .decode(s)
        .map_err(|e| E::custom(format!("bad base64 {s:?}: {e}")))?;
    let n = v.len();
    v.try_into()
        .map_err(|_| E::custom(format!("base64 value of {n} bytes: want {N}")))
}

/// `[u8; 32]` as base64.
pub mod b64_32 {
    use super::*;
    pub fn serialize<S: serde::Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        decode_exact::<32, _>(&s)
    }
}

/// `[u8; 64]` as base64.
pub mod b64_64 {
    use super::*;
    pub fn serialize<S: serde::Serializer>(v: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        decode_exact::<64, _>(&s)
    }
}

/// `Vec<u8>` as base64.
pub mod b64_vec {
    use super::*;
    pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        STANDARD
            .decode(s.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("bad base64: {e}")))
    }
}
