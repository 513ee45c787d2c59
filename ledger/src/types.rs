//! Validated value types used inside records: amounts, calendar dates,
//! contract ids, parties, roles and categories.
//!
//! Each type checks its invariant in its constructor, its JSON deserializer
//! and its canonical decoder, so an invalid value cannot be represented.

use crate::codec::invalid;
use crate::uscc::Uscc;
use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of money in fen (1/100 yuan): an integer in `0..=i64::MAX`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize)]
#[serde(transparent)]
pub struct Fen(i64);

impl Fen {
    /// Accepts `0..=i64::MAX`.
    pub fn new(v: i64) -> Result<Fen, String> {
        if v < 0 {
            return Err(format!("amount {v}: must not be negative"));
        }
        Ok(Fen(v))
    }
    #[must_use]
    pub fn get(self) -> i64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Fen {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Fen;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer amount in fen")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Fen, E> {
                Fen::new(v).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Fen, E> {
                let v = i64::try_from(v).map_err(|_| {
                    E::custom(format!(
                        "amount {v}: out of range (at most {} fen)",
                        i64::MAX
                    ))
                })?;
                Fen::new(v).map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Fen, E> {
                Err(E::custom(format!(
                    "amount {v}: must be an integer number of fen"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

impl Encode for Fen {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        self.0.encode(e)
    }
}
impl<C> Decode<C> for Fen {
    fn decode<D: Decoder<Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
        Fen::new(i64::decode(d)?).map_err(invalid)
    }
}
bincode::impl_borrow_decode!(Fen);

/// A calendar date in China Standard Time, stored as days since 1970-01-01.
/// JSON form `YYYY-MM-DD`; years 1900..=2199 only.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

const MIN_DAY: i32 = -25_567; // 1900-01-01
const MAX_DAY: i32 = 84_005; // 2199-12-31

impl Date {
    /// From days since 1970-01-01.
    pub fn from_days(days: i32) -> Result<Date, String> {
        if !(MIN_DAY..=MAX_DAY).contains(&days) {
            return Err(format!(
                "date {days} days from 1970-01-01: outside 1900..=2199"
            ));
        }
        Ok(Date(days))
    }
    /// Days since 1970-01-01.
    #[must_use]
    pub fn days(self) -> i32 {
        self.0
    }
    /// Parses `YYYY-MM-DD`, refusing impossible dates such as 2026-02-30.
    pub fn parse(s: &str) -> Result<Date, String> {
        let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|e| format!("date {s:?}: {e} (want YYYY-MM-DD)"))?;
        if d.format("%Y-%m-%d").to_string() != s {
            return Err(format!("date {s:?}: not in canonical YYYY-MM-DD form"));
        }
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch");
        let days = i32::try_from((d - epoch).num_days())
            .map_err(|_| format!("date {s:?}: out of range"))?;
        Date::from_days(days).map_err(|_| format!("date {s:?}: outside 1900..=2199"))
    }
    fn naive(self) -> chrono::NaiveDate {
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch");
        epoch + chrono::Days::new(0) + chrono::TimeDelta::days(i64::from(self.0))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.naive().format("%Y-%m-%d"))
    }
}
impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}
impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Date::parse(&s).map_err(serde::de::Error::custom)
    }
}
impl Encode for Date {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        self.0.encode(e)
    }
}
impl<C> Decode<C> for Date {
    fn decode<D: Decoder<Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
        Date::from_days(i32::decode(d)?).map_err(invalid)
    }
}
bincode::impl_borrow_decode!(Date);

/// Generates a validated string newtype with serde and bincode impls.
macro_rules! checked_string {
    ($(#[$m:meta])* $name:ident, $check:expr) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps `s`.
            pub fn new(s: impl Into<String>) -> Result<Self, String> {
                let s = s.into();
                let check: fn(&str) -> Result<(), String> = $check;
                check(&s)?;
                Ok($name(s))
            }
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $name::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }
        impl Encode for $name {
            fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
                self.0.encode(e)
            }
        }
        impl<C> Decode<C> for $name {
            fn decode<D: Decoder<Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
                $name::new(String::decode(d)?).map_err(invalid)
            }
        }
        bincode::impl_borrow_decode!($name);
    };
}

checked_string!(
    /// A contract id: 1..=64 characters from `A-Z a-z 0-9 . _ : / -`.
    ContractId,
    |s| {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:/-".contains(&b));
        if ok { Ok(()) } else { Err(format!("contract id {s:?}: want 1..=64 characters from A-Z a-z 0-9 . _ : / -")) }
    }
);

checked_string!(
    /// Free text of at most 2,000 characters without control characters other than newline.
    Text,
    |s| {
        let n = s.chars().count();
        if n > 2000 {
            return Err(format!("text of {n} characters: at most 2000"));
        }
        if let Some(c) = s.chars().find(|&c| c.is_control() && c != '\n') {
            return Err(format!("text: control character {c:?} not allowed"));
        }
        Ok(())
    }
);

checked_string!(
    /// A short name (organisation, contract, key holder): 1..=200 characters, one line.
    Name,
    |s| {
        let n = s.chars().count();
        if n == 0 || n > 200 {
            return Err(format!("name of {n} characters: want 1..=200"));
        }
        if let Some(c) = s.chars().find(|c| c.is_control()) {
            return Err(format!("name {s:?}: control character {c:?} not allowed"));
        }
        Ok(())
    }
);

checked_string!(
    /// A masked natural-person name: a surname followed by 某, e.g. 王某.
    MaskedName,
    |s| {
        let n = s.chars().count();
        if (2..=4).contains(&n) && s.ends_with('某') && !s[..s.len() - '某'.len_utf8()].contains('某') {
            Ok(())
        } else {
            Err(format!("masked name {s:?}: want a surname followed by 某"))
        }
    }
);

/// A party to a contract or the subject of a record: an organisation by USCC,
/// or a natural person by masked name and a keyed commitment of the ID number
/// (never the ID number itself).
#[derive(
    Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize, Encode, Decode,
)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Subject {
    Org(Uscc),
    Person {
        masked_name: MaskedName,
        commitment: crate::Hash,
    },
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Org(u) => write!(f, "{u}"),
            Subject::Person {
                masked_name,
                commitment,
            } => {
                write!(f, "{masked_name}#{}", &commitment.to_hex()[..16])
            }
        }
    }
}

/// The role a registered key acts in (DESIGN.md, "Who uses it").
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize, Encode, Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The node itself: Genesis and Tick.
    Node,
    /// 信用办: registers keys, publishes rule sets, decides.
    CreditOffice,
    /// 合同源单位: a government department filing its contracts.
    SourceUnit,
    /// 市场主体: a firm or other market entity.
    MarketEntity,
    /// A procurement or public-resource trading data feed.
    DataFeed,
    /// 信用服务机构: files under delegation, records mediation.
    ServiceAgency,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string));
        f.write_str(s.as_deref().unwrap_or("?"))
    }
}

/// The eight contract categories of the policy.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize, Encode, Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 政府采购合同
    GovernmentProcurement,
    /// 招商引资合同
    InvestmentPromotion,
    /// 政府和社会资本合作 (PPP)
    PublicPrivatePartnership,
    /// 工程建设合同
    Construction,
    /// 国有产权交易合同
    StateAssetTransaction,
    /// 公共资源交易合同
    PublicResourceTrading,
    /// 政策兑现 / 扶持协议
    PolicySupport,
    /// 其他市场主体之间的合同
    Commercial,
}

checked_string!(
    /// A signed-note key name: 1..=100 characters, no whitespace, no `+`.
    SignerName,
    |s| {
        let n = s.chars().count();
        if n == 0 || n > 100 || s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '+') {
            return Err(format!("key name {s:?}: want 1..=100 characters without spaces or '+'"));
        }
        Ok(())
    }
);

/// Context label of a natural person's commitment (docs/FORMAT.md, "Context labels").
pub const PERSON_COMMITMENT_LABEL: &[u8] = b"lvyue/person/v1\n";

/// The keyed commitment that stands for a natural person's resident
/// identity number: SHA-256(label ‖ key ‖ id number in upper case). The
/// 32-byte key is the credit office's secret, so nobody can test guesses of
/// ID numbers against the log; the office can recompute a commitment to
/// link filings about the same person.
#[must_use]
pub fn person_commitment(key: &[u8; 32], id_number: &str) -> crate::Hash {
    let mut data = Vec::with_capacity(32 + id_number.len());
    data.extend_from_slice(key);
    data.extend_from_slice(id_number.trim().to_ascii_uppercase().as_bytes());
    crate::hash::labelled_hash(PERSON_COMMITMENT_LABEL, &data)
}
