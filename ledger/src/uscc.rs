//! Unified Social Credit Codes (统一社会信用代码), GB 32100-2015.
//!
//! A code is 18 characters from the 31-character alphabet
//! `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O, S, V, Z). Character 18 is a
//! check character: with values v₁…v₁₇ (the index of each character in the
//! alphabet) and weights wᵢ = 3^(i−1) mod 31, the check value is
//! `31 − (Σ vᵢ·wᵢ mod 31)`, with 31 written as 0.
//!
//! [`Uscc::parse`] checks all of that. [`Uscc::parse_legacy`] checks only the
//! alphabet and the length: it exists for codes the operator explicitly
//! allows (known legacy codes with a wrong check character), and for decoding
//! records that were admitted that way.

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};
use std::fmt;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A syntactically valid USCC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uscc([u8; 18]);

/// Why a string is not a USCC.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("uscc {code}: want 18 characters, got {len}")]
    Length { code: String, len: usize },
    #[error("uscc {code}: invalid character {ch:?} at position {pos}")]
    Character { code: String, ch: char, pos: usize },
    #[error("uscc {code}: check character is {found:?}, want {want:?}")]
    Check {
        code: String,
        found: char,
        want: char,
    },
}

fn value_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

impl Uscc {
    /// Parses a code and verifies its check character.
    pub fn parse(s: &str) -> Result<Uscc, UsccError> {
        let code = Uscc::parse_legacy(s)?;
        let want = code.expected_check();
        let found = code.0[17] as char;
        if found != want {
            return Err(UsccError::Check {
                code: s.to_string(),
                found,
                want,
            });
        }
        Ok(code)
    }

    /// Parses a code checking only its length and alphabet (operator-allowed legacy codes).
    pub fn parse_legacy(s: &str) -> Result<Uscc, UsccError> {
        let len = s.chars().count();
        if len != 18 {
            return Err(UsccError::Length {
                code: s.to_string(),
                len,
            });
        }
        let mut out = [0u8; 18];
        for (i, ch) in s.chars().enumerate() {
            if !ch.is_ascii() || value_of(ch as u8).is_none() {
                return Err(UsccError::Character {
                    code: s.to_string(),
                    ch,
                    pos: i + 1,
                });
            }
            out[i] = ch as u8;
        }
        Ok(Uscc(out))
    }

    /// The check character the first 17 characters call for.
    #[must_use]
    pub fn expected_check(&self) -> char {
        let sum: u32 = self.0[..17]
            .iter()
            .zip(WEIGHTS)
            .map(|(&c, w)| value_of(c).unwrap_or(0) * w)
            .sum();
        let check = (31 - sum % 31) % 31;
        ALPHABET[check as usize] as char
    }

    /// Whether the check character is correct.
    #[must_use]
    pub fn has_valid_check(&self) -> bool {
        self.0[17] as char == self.expected_check()
    }

    /// The code as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // The constructor admits ASCII only.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// Builds a valid code from a 17-character prefix by appending its check character.
    pub fn with_check(prefix17: &str) -> Result<Uscc, UsccError> {
        let mut code = Uscc::parse_legacy(&format!("{prefix17}0"))?;
        code.0[17] = code.expected_check() as u8;
        Ok(code)
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uscc({})", self.as_str())
    }
}

impl std::str::FromStr for Uscc {
    type Err = UsccError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uscc::parse(s)
    }
}

impl serde::Serialize for Uscc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// JSON input is checked for form only; the check character is enforced at
/// admission, where the operator's legacy allow-list is known.
impl<'de> serde::Deserialize<'de> for Uscc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Uscc::parse_legacy(&s).map_err(serde::de::Error::custom)
    }
}

impl Encode for Uscc {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        self.0.encode(e)
    }
}

impl<C> Decode<C> for Uscc {
    fn decode<D: Decoder<Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
        let raw = <[u8; 18]>::decode(d)?;
        let s = std::str::from_utf8(&raw).map_err(|_| crate::codec::invalid("uscc: not ascii"))?;
        Uscc::parse_legacy(s).map_err(|e| crate::codec::invalid(e.to_string()))
    }
}
bincode::impl_borrow_decode!(Uscc);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_good_codes() {
        for c in ["91350100M000100Y43", "91110000802100433B"] {
            assert!(Uscc::parse(c).is_ok(), "{c}: {:?}", Uscc::parse(c));
        }
    }

    #[test]
    fn bad_check_character_names_both() {
        let e = Uscc::parse("91350100M000100Y44").unwrap_err();
        assert_eq!(
            e.to_string(),
            "uscc 91350100M000100Y44: check character is '4', want '3'"
        );
        assert!(Uscc::parse_legacy("91350100M000100Y44").is_ok());
    }

    #[test]
    fn bad_character_names_position() {
        let e = Uscc::parse("91350100M000100Y4I").unwrap_err();
        assert_eq!(
            e.to_string(),
            "uscc 91350100M000100Y4I: invalid character 'I' at position 18"
        );
    }

    #[test]
    fn wrong_length() {
        assert!(matches!(
            Uscc::parse("9135"),
            Err(UsccError::Length { len: 4, .. })
        ));
    }

    #[test]
    fn with_check_builds_valid_codes() {
        let c = Uscc::with_check("91610301MA6X00001").unwrap();
        assert!(c.has_valid_check());
    }
}
