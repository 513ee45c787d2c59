//! The public book: who is on the red and black lists since when and why,
//! the demand notices in force, every entity's current score and name.
//!
//! It is a fold over log entries in index order, kept as key/value rows so
//! that the node can persist it in its store (written in the same atomic
//! batch as the entries it reflects) and the verifier can keep it in memory
//! while it replays a log. Both sides run this one fold, so a disclosure
//! export recomputed by a verifier from the log equals, byte for byte, the
//! one an honest node signed (docs/FORMAT.md, "Disclosure export").
//!
//! Rows (all keys start with `b`; `S` is a subject key, see [`subject_key`]):
//! - `bN‖S` → name (UTF-8) and the index of the record that gave it
//! - `bS‖S` → current score (i64 BE)
//! - `bL‖r|b‖S` → a listing ([`ListRow`]) while the entity is listed
//! - `bn‖index` → a demand notice in force ([`NoticeRow`])
//! - `bR` → the rule parameters the book needs ([`BookRules`])

use crate::engine::time;
use crate::event::Event;
use crate::hash::Hash;
use crate::record::{Derived, ListKind};
use crate::rules::RuleSet;
use crate::types::{Date, Subject};
use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// Errors of a row store.
#[derive(Debug, thiserror::Error)]
#[error("book rows: {0}")]
pub struct RowsError(pub String);

/// Rows as key/value pairs, in key order.
pub type RowList = Vec<(Vec<u8>, Vec<u8>)>;

/// Read access to rows.
pub trait RowsRead {
    /// The value of `key`, if present.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, RowsError>;
    /// Every row whose key starts with `prefix`, in key order.
    fn scan(&self, prefix: &[u8]) -> Result<RowList, RowsError>;
}

/// Write access to rows (reads see earlier writes).
pub trait Rows {
    /// The value of `key`, if present.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, RowsError>;
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>);
    fn remove(&mut self, key: Vec<u8>);
}

/// An in-memory row store (the verifier's).
#[derive(Default, Debug, Clone)]
pub struct MemRows(pub std::collections::BTreeMap<Vec<u8>, Vec<u8>>);

impl Rows for MemRows {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, RowsError> {
        Ok(self.0.get(key).cloned())
    }
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.0.insert(key, value);
    }
    fn remove(&mut self, key: Vec<u8>) {
        self.0.remove(&key);
    }
}

impl RowsRead for MemRows {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, RowsError> {
        Ok(self.0.get(key).cloned())
    }
    fn scan(&self, prefix: &[u8]) -> Result<RowList, RowsError> {
        Ok(self
            .0
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

/// A fixed-length key for a subject: `o‖USCC` (19 bytes) or
/// `p‖commitment` (33 bytes).
#[must_use]
pub fn subject_key(s: &Subject) -> Vec<u8> {
    match s {
        Subject::Org(u) => {
            let mut k = Vec::with_capacity(19);
            k.push(b'o');
            k.extend_from_slice(u.as_str().as_bytes());
            k
        }
        Subject::Person { commitment, .. } => {
            let mut k = Vec::with_capacity(33);
            k.push(b'p');
            k.extend_from_slice(&commitment.0);
            k
        }
    }
}

const BINCODE: bincode::config::Configuration<bincode::config::BigEndian, bincode::config::Fixint> =
    bincode::config::standard()
        .with_big_endian()
        .with_fixed_int_encoding();

/// Encodes a row value (bincode, big-endian, fixed-width integers).
#[must_use]
pub fn encode_row<T: Encode>(v: &T) -> Vec<u8> {
    bincode::encode_to_vec(v, BINCODE).unwrap_or_default()
}

/// Decodes a row value.
pub fn decode_row<T: Decode<()>>(b: &[u8]) -> Result<T, RowsError> {
    bincode::decode_from_slice(b, BINCODE)
        .map(|(v, _)| v)
        .map_err(|e| RowsError(e.to_string()))
}

fn k(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The rule parameters the book needs.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct BookRules {
    pub utc_offset_minutes: i32,
    pub initial_score: i64,
    pub black_min_days: u32,
    pub black_max_days: u32,
}

impl From<&RuleSet> for BookRules {
    fn from(r: &RuleSet) -> Self {
        BookRules {
            utc_offset_minutes: r.utc_offset_minutes,
            initial_score: r.initial_score,
            black_min_days: r.black_min_days,
            black_max_days: r.black_max_days,
        }
    }
}

/// A name as last given in the log.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct NameRow {
    pub name: String,
    /// The record that gave the entity this name (the first of a run of
    /// records repeating it).
    pub index: u64,
}

/// A listing in force.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ListRow {
    pub entity: Subject,
    /// Index of the `ListChanged` record that listed the entity.
    pub index: u64,
    pub time_ms: i64,
    /// Calendar day the listing took effect (a black listing: its demand
    /// notice's day, the day the rule applied; otherwise the day of the
    /// entry that recorded it).
    pub day: i32,
    pub reason: String,
    /// The record that caused it (for the black list: the demand notice).
    pub cause: u64,
}

/// A demand notice in force.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct NoticeRow {
    pub entity: Subject,
    pub defaults: Vec<u64>,
    pub time_ms: i64,
    /// Calendar day the notice took effect (the day the rule applied,
    /// which is before the recording entry's day when a deadline fired
    /// while the node was idle).
    pub day: i32,
    pub rules: BookRules,
}

fn list_byte(l: ListKind) -> u8 {
    match l {
        ListKind::Red => b'r',
        ListKind::Black => b'b',
    }
}

fn rules(rows: &impl Rows) -> Result<BookRules, RowsError> {
    match rows.get(b"bR")? {
        Some(b) => decode_row(&b),
        None => Ok(BookRules::from(&RuleSet::default())),
    }
}

fn set_name(rows: &mut impl Rows, s: &Subject, name: &str, index: u64) {
    let key = k(&[b"bN", &subject_key(s)]);
    // A name given again is not a change: the row keeps the record that
    // first gave it (and the store is spared a write per filing).
    if let Ok(Some(b)) = rows.get(&key)
        && decode_row::<NameRow>(&b).is_ok_and(|r| r.name == name)
    {
        return;
    }
    rows.put(
        key,
        encode_row(&NameRow {
            name: name.to_string(),
            index,
        }),
    );
}

/// Folds a submitted event at `index` into the book.
pub fn apply_event(rows: &mut impl Rows, index: u64, event: &Event) {
    match event {
        Event::Genesis {
            office_keys,
            rules,
            node_key,
            ..
        } => {
            rows.put(b"bR".to_vec(), encode_row(&BookRules::from(rules)));
            // The node key first: an office sharing its holder names it last.
            for key in std::iter::once(node_key).chain(office_keys) {
                set_name(rows, &key.holder, key.holder_name.as_str(), index);
            }
        }
        Event::KeyRegistered { key } => {
            set_name(rows, &key.holder, key.holder_name.as_str(), index);
        }
        Event::RuleSetPublished { rules } => {
            rows.put(b"bR".to_vec(), encode_row(&BookRules::from(rules)));
        }
        Event::ContractFiled { contract } => {
            for p in &contract.parties {
                set_name(rows, &p.subject, p.name.as_str(), index);
            }
        }
        _ => {}
    }
}

/// Folds a derived record at `index`, node time `time_ms`, into the book.
/// `notice_day` gives the calendar day on which the rules engine published
/// the demand notice at a log index (the engine's record of it): a notice
/// fired by a deadline takes effect on the deadline's day, which the entry
/// time does not show.
pub fn apply_derived(
    rows: &mut impl Rows,
    index: u64,
    time_ms: i64,
    d: &Derived,
    notice_day: &dyn Fn(u64) -> Option<i32>,
) -> Result<(), RowsError> {
    match d {
        Derived::ScoreChanged { entity, total, .. } => {
            rows.put(
                k(&[b"bS", &subject_key(entity)]),
                total.to_be_bytes().to_vec(),
            );
        }
        Derived::ListChanged {
            entity,
            list,
            listed,
            reason,
            cause,
        } => {
            let key = k(&[b"bL", &[list_byte(*list)], &subject_key(entity)]);
            if *listed {
                let recorded = time::day_of(time_ms, rules(rows)?.utc_offset_minutes);
                let day = match list {
                    ListKind::Black => notice_day(*cause).unwrap_or(recorded),
                    ListKind::Red => recorded,
                };
                rows.put(
                    key,
                    encode_row(&ListRow {
                        entity: entity.clone(),
                        index,
                        time_ms,
                        day,
                        reason: reason.as_str().to_string(),
                        cause: *cause,
                    }),
                );
            } else {
                if *list == ListKind::Black
                    && let Some(old) = rows.get(&key)?
                {
                    let old: ListRow = decode_row(&old)?;
                    rows.remove(k(&[b"bn", &old.cause.to_be_bytes()]));
                }
                rows.remove(key);
            }
        }
        Derived::DemandNoticePublished {
            entity, defaults, ..
        } => {
            let r = rules(rows)?;
            let day =
                notice_day(index).unwrap_or_else(|| time::day_of(time_ms, r.utc_offset_minutes));
            rows.put(
                k(&[b"bn", &index.to_be_bytes()]),
                encode_row(&NoticeRow {
                    entity: entity.clone(),
                    defaults: defaults.clone(),
                    time_ms,
                    day,
                    rules: r,
                }),
            );
        }
        _ => {}
    }
    Ok(())
}

/// One listed entity in a disclosure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct Listing {
    pub entity: Subject,
    pub name: String,
    pub score: i64,
    /// Calendar day (rule-set time zone) it was listed.
    pub since: Date,
    /// Index of the `ListChanged` record that listed it.
    pub since_index: u64,
    pub reason: String,
    /// The record that caused the listing (black list: the demand notice).
    pub cause: u64,
}

/// One demand notice (催告公示) in a disclosure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct NoticeItem {
    /// Index of the `DemandNoticePublished` record.
    pub index: u64,
    pub entity: Subject,
    pub name: String,
    /// The determined defaults it rests on.
    pub defaults: Vec<u64>,
    pub published: Date,
    /// First day a repair application may be approved (minimum publicity).
    pub repair_from: Date,
    /// Last day of publicity unless repaired earlier (maximum publicity).
    pub publicity_until: Date,
}

/// The disclosure (信用公示) at one tree size: lists and notices in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct Disclosure {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub red_list: Vec<Listing>,
    pub black_list: Vec<Listing>,
    pub demand_notices: Vec<NoticeItem>,
}

fn date_of_day(day: i32) -> Date {
    Date::from_days(day).unwrap_or_else(|_| {
        Date::from_days(0).unwrap_or_else(|_| unreachable!("day 0 is a valid date"))
    })
}

fn shift(d: Date, days: u32) -> Date {
    Date::from_days(
        d.days()
            .saturating_add(i32::try_from(days).unwrap_or(i32::MAX)),
    )
    .unwrap_or(d)
}

/// The name and score of `s` as the book holds them.
pub fn name_and_score(rows: &impl RowsRead, s: &Subject) -> Result<(String, i64), RowsError> {
    let sk = subject_key(s);
    let name = match rows.get(&k(&[b"bN", &sk]))? {
        Some(b) => decode_row::<NameRow>(&b)?.name,
        None => String::new(),
    };
    let score = match rows.get(&k(&[b"bS", &sk]))? {
        Some(b) => i64::from_be_bytes(
            b.as_slice()
                .try_into()
                .map_err(|_| RowsError("score row is not 8 bytes".into()))?,
        ),
        None => match rows.get(b"bR")? {
            Some(r) => decode_row::<BookRules>(&r)?.initial_score,
            None => RuleSet::default().initial_score,
        },
    };
    Ok((name, score))
}

/// The listing of `s` on `list`, if listed.
pub fn listing_row(
    rows: &impl RowsRead,
    s: &Subject,
    list: ListKind,
) -> Result<Option<ListRow>, RowsError> {
    rows.get(&k(&[b"bL", &[list_byte(list)], &subject_key(s)]))?
        .map(|b| decode_row(&b))
        .transpose()
}

/// The disclosure the book holds, for a tree of `size` and `root`.
pub fn disclosure(
    rows: &impl RowsRead,
    origin: &str,
    size: u64,
    root: Hash,
) -> Result<Disclosure, RowsError> {
    let listings = |list: u8| -> Result<Vec<Listing>, RowsError> {
        let mut out = Vec::new();
        for (_, v) in rows.scan(&[b'b', b'L', list])? {
            let r: ListRow = decode_row(&v)?;
            let (name, score) = name_and_score(rows, &r.entity)?;
            out.push(Listing {
                entity: r.entity,
                name,
                score,
                since: date_of_day(r.day),
                since_index: r.index,
                reason: r.reason,
                cause: r.cause,
            });
        }
        // Oldest listing first; the index makes the order total.
        out.sort_by_key(|l| l.since_index);
        Ok(out)
    };
    let red_list = listings(b'r')?;
    let black_list = listings(b'b')?;
    let mut demand_notices = Vec::new();
    for (key, v) in rows.scan(b"bn")? {
        let index = u64::from_be_bytes(
            key.get(2..10)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| RowsError("notice key is not 10 bytes".into()))?,
        );
        let n: NoticeRow = decode_row(&v)?;
        let (name, _) = name_and_score(rows, &n.entity)?;
        let published = date_of_day(n.day);
        demand_notices.push(NoticeItem {
            index,
            entity: n.entity,
            name,
            defaults: n.defaults,
            published,
            repair_from: shift(published, n.rules.black_min_days),
            publicity_until: shift(published, n.rules.black_max_days),
        });
    }
    Ok(Disclosure {
        origin: origin.to_string(),
        size,
        root,
        red_list,
        black_list,
        demand_notices,
    })
}

/// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
#[must_use]
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn subject_text(s: &Subject) -> String {
    match s {
        Subject::Org(u) => u.as_str().to_string(),
        Subject::Person {
            masked_name,
            commitment,
        } => format!("{}#{}", masked_name, commitment.to_hex()),
    }
}

impl Disclosure {
    /// The CSV rendering (RFC 4180, CRLF line ends, UTF-8): one row per
    /// listing and per notice, in the order of the JSON document. A pure
    /// function of the disclosure, so a verifier re-renders and compares.
    #[must_use]
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "section,entity,name,score,date,index,reason,defaults,repair_from,publicity_until\r\n",
        );
        for (section, list) in [("red", &self.red_list), ("black", &self.black_list)] {
            for l in list {
                out.push_str(&format!(
                    "{section},{},{},{},{},{},{},,,\r\n",
                    csv_field(&subject_text(&l.entity)),
                    csv_field(&l.name),
                    l.score,
                    l.since,
                    l.since_index,
                    csv_field(&l.reason),
                ));
            }
        }
        for n in &self.demand_notices {
            let defaults: Vec<String> = n.defaults.iter().map(u64::to_string).collect();
            out.push_str(&format!(
                "notice,{},{},,{},{},,{},{},{}\r\n",
                csv_field(&subject_text(&n.entity)),
                csv_field(&n.name),
                n.published,
                n.index,
                defaults.join(" "),
                n.repair_from,
                n.publicity_until,
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uscc::Uscc;

    /// Counts the writes that reach the rows.
    #[derive(Default)]
    struct Counting {
        rows: MemRows,
        puts: usize,
    }

    impl Rows for Counting {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, RowsError> {
            Rows::get(&self.rows, key)
        }
        fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
            self.puts += 1;
            self.rows.put(key, value);
        }
        fn remove(&mut self, key: Vec<u8>) {
            self.rows.remove(key);
        }
    }

    fn name_row(rows: &Counting, s: &Subject) -> NameRow {
        let b = Rows::get(&rows.rows, &k(&[b"bN", &subject_key(s)]))
            .unwrap()
            .unwrap();
        decode_row(&b).unwrap()
    }

    #[test]
    fn a_name_given_again_is_not_rewritten_and_a_new_name_is() {
        let s = Subject::Org(Uscc::parse("91350100M000100Y43").unwrap());
        let mut rows = Counting::default();
        set_name(&mut rows, &s, "某供应商", 3);
        set_name(&mut rows, &s, "某供应商", 9);
        assert_eq!(rows.puts, 1, "the repeat wrote a row");
        assert_eq!(
            name_row(&rows, &s),
            NameRow {
                name: "某供应商".into(),
                index: 3
            }
        );
        set_name(&mut rows, &s, "某供应商有限公司", 12);
        assert_eq!(rows.puts, 2);
        let (name, _) = name_and_score(&rows.rows, &s).unwrap();
        assert_eq!(name, "某供应商有限公司");
        assert_eq!(name_row(&rows, &s).index, 12);
    }
}
