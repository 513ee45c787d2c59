//! Signed exports bound to a checkpoint: the disclosure export (lists,
//! demand notices, scores of listed entities) and the entity credit report
//! for lenders, with the inclusion proofs of the records it summarises.
//!
//! An export is a JSON document `{format, checkpoint, signature, content}`:
//! `checkpoint` is the signed checkpoint the content was computed at,
//! `signature` a signed note by the log's key whose text is the statement
//!
//! ```text
//! <format>\n<origin>\n<size>\n<root base64>\n<content digest base64>\n
//! ```
//!
//! and the content digest is SHA-256 of `"lvyue/export/v1\n"` followed by
//! the content's bincode encoding (big-endian, fixed-width integers, the
//! same rules as entries; docs/FORMAT.md, "Exports"). JSON whitespace and
//! key order therefore do not matter; every value does.

use crate::book::{Disclosure, RowsError};
use crate::checkpoint::{self, VerifiedCheckpoint};
use crate::codec::CodecError;
use crate::event::Event;
use crate::hash::{Hash, labelled_hash, leaf_hash};
use crate::keys::{Signer, VerifierKey};
use crate::note;
use crate::record::{Body, Derived, Entry, ListKind};
use crate::rules::RuleSet;
use crate::tlog;
use crate::types::{Date, Subject};
use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// Format name of the disclosure export.
pub const DISCLOSURE_FORMAT: &str = "lvyue-disclosure/v1";
/// Format name of the entity credit report.
pub const REPORT_FORMAT: &str = "lvyue-credit-report/v1";
/// Label of the content digest.
pub const EXPORT_DIGEST_LABEL: &[u8] = b"lvyue/export/v1\n";

/// What can be wrong with an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("unsupported export format {0:?}")]
    Format(String),
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error("signature: {0}")]
    Signature(String),
    #[error("the signed statement does not match: {0}")]
    Statement(String),
    #[error("the content digest is {found}, the signature covers {signed}")]
    Digest { signed: String, found: String },
    #[error("record {index}: {detail}")]
    Record { index: u64, detail: String },
    #[error("summary: {field} is {found} in the report, {expected} recomputed from its records")]
    Summary {
        field: &'static str,
        expected: String,
        found: String,
    },
    #[error(transparent)]
    Rows(#[from] RowsError),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// Content with a stated tree it was computed at.
pub trait ExportContent: Encode {
    /// The export's format name.
    const FORMAT: &'static str;
    fn origin(&self) -> &str;
    fn size(&self) -> u64;
    fn root(&self) -> Hash;
}

impl ExportContent for Disclosure {
    const FORMAT: &'static str = DISCLOSURE_FORMAT;
    fn origin(&self) -> &str {
        &self.origin
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn root(&self) -> Hash {
        self.root
    }
}

impl ExportContent for CreditReport {
    const FORMAT: &'static str = REPORT_FORMAT;
    fn origin(&self) -> &str {
        &self.origin
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn root(&self) -> Hash {
        self.root
    }
}

/// A signed export document.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedExport<T> {
    pub format: String,
    /// The signed checkpoint (note text) the content was computed at.
    pub checkpoint: String,
    /// The signed statement (note text) binding content and checkpoint.
    pub signature: String,
    pub content: T,
}

/// Content digest: SHA-256(label ‖ bincode(content)).
pub fn digest<T: Encode>(content: &T) -> Result<Hash, ExportError> {
    let config = bincode::config::standard()
        .with_big_endian()
        .with_fixed_int_encoding();
    let bytes = bincode::encode_to_vec(content, config)
        .map_err(|e| ExportError::Codec(CodecError::Malformed(e.to_string())))?;
    Ok(labelled_hash(EXPORT_DIGEST_LABEL, &bytes))
}

fn statement(format: &str, origin: &str, size: u64, root: &Hash, digest: &Hash) -> String {
    format!(
        "{format}\n{origin}\n{size}\n{}\n{}\n",
        root.to_base64(),
        digest.to_base64()
    )
}

/// Signs `content` computed at the tree of `checkpoint` (its signed note text).
pub fn sign<T: ExportContent>(
    content: T,
    checkpoint: String,
    signer: &Signer,
) -> Result<SignedExport<T>, ExportError> {
    let d = digest(&content)?;
    let text = statement(
        T::FORMAT,
        content.origin(),
        content.size(),
        &content.root(),
        &d,
    );
    let signature =
        note::sign(&text, &[signer]).map_err(|e| ExportError::Signature(e.to_string()))?;
    Ok(SignedExport {
        format: T::FORMAT.to_string(),
        checkpoint,
        signature,
        content,
    })
}

/// Checks an export's format, checkpoint, signature and digest against the
/// log's key. Returns the verified checkpoint the content is bound to.
pub fn open<T: ExportContent>(
    e: &SignedExport<T>,
    vkey: &VerifierKey,
) -> Result<VerifiedCheckpoint, ExportError> {
    if e.format != T::FORMAT {
        return Err(ExportError::Format(e.format.clone()));
    }
    let origin = checkpoint::Origin::new(vkey.name().as_str())
        .map_err(|err| ExportError::Checkpoint(err.to_string()))?;
    let cp = checkpoint::open(e.checkpoint.as_bytes(), &origin, vkey)
        .map_err(|err| ExportError::Checkpoint(err.to_string()))?;
    let n = note::open(e.signature.as_bytes(), std::slice::from_ref(vkey))
        .map_err(|err| ExportError::Signature(err.to_string()))?;
    let c = &e.content;
    if c.origin() != cp.checkpoint().origin().as_str()
        || c.size() != cp.size()
        || c.root() != cp.root()
    {
        return Err(ExportError::Statement(format!(
            "content names tree {} of size {} with root {}, the checkpoint {} of size {} with root {}",
            c.origin(),
            c.size(),
            c.root().to_base64(),
            cp.checkpoint().origin(),
            cp.size(),
            cp.root().to_base64()
        )));
    }
    let d = digest(c)?;
    let expected = statement(T::FORMAT, c.origin(), c.size(), &c.root(), &d);
    if n.text() != expected {
        let signed = n.text().lines().nth(4).unwrap_or("").to_string();
        let head_matches = n.text().lines().take(4).eq(expected.lines().take(4));
        if head_matches {
            return Err(ExportError::Digest {
                signed,
                found: d.to_base64(),
            });
        }
        return Err(ExportError::Statement(format!(
            "signed {:?}, content gives {:?}",
            n.text(),
            expected
        )));
    }
    Ok(cp)
}

/// A log record with its inclusion proof in the report's tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct ProvenRecord {
    pub index: u64,
    /// Canonical entry bytes.
    #[serde(with = "crate::serde_bytes::b64_vec")]
    pub entry: Vec<u8>,
    /// RFC 6962 inclusion proof for the report's size and root.
    pub proof: Vec<Hash>,
}

/// The credit summary of one entity, recomputable from the records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct CreditSummary {
    pub name: String,
    pub score: i64,
    /// Day the entity entered the red list, if on it.
    pub red_since: Option<Date>,
    /// Day the entity entered the black list, if on it.
    pub black_since: Option<Date>,
    /// Indexes of its determined defaults not reversed.
    pub active_defaults: Vec<u64>,
    /// Indexes of the demand notices published against it.
    pub demand_notices: Vec<u64>,
    /// Number of score changes.
    pub score_changes: u64,
}

impl CreditSummary {
    /// The first field (in declaration order) where `found` differs from
    /// `self`, with both values as text.
    #[must_use]
    pub fn first_difference(
        &self,
        found: &CreditSummary,
    ) -> Option<(&'static str, String, String)> {
        let fields: [(&'static str, String, String); 7] = [
            ("name", self.name.clone(), found.name.clone()),
            ("score", self.score.to_string(), found.score.to_string()),
            (
                "red_since",
                format!("{:?}", self.red_since),
                format!("{:?}", found.red_since),
            ),
            (
                "black_since",
                format!("{:?}", self.black_since),
                format!("{:?}", found.black_since),
            ),
            (
                "active_defaults",
                format!("{:?}", self.active_defaults),
                format!("{:?}", found.active_defaults),
            ),
            (
                "demand_notices",
                format!("{:?}", self.demand_notices),
                format!("{:?}", found.demand_notices),
            ),
            (
                "score_changes",
                self.score_changes.to_string(),
                found.score_changes.to_string(),
            ),
        ];
        fields.into_iter().find(|(_, e, f)| e != f)
    }
}

/// The entity credit report (信用报告) for lenders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct CreditReport {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub entity: Subject,
    pub summary: CreditSummary,
    /// Genesis (index 0, the rule set), the record that named the entity,
    /// and every score, list, default, reversal and notice record about it,
    /// in index order.
    pub records: Vec<ProvenRecord>,
}

impl CreditReport {
    /// Checks every record's inclusion proof against the report's tree and
    /// recomputes the summary from the records. The caller has checked the
    /// signature and checkpoint ([`open`]).
    pub fn recompute(&self) -> Result<CreditSummary, ExportError> {
        let mut sum = Summarizer::new(self.entity.clone());
        let mut last = None;
        for r in &self.records {
            let bad = |detail: String| ExportError::Record {
                index: r.index,
                detail,
            };
            if last.is_some_and(|l| r.index <= l) {
                return Err(bad("records are not in increasing index order".into()));
            }
            last = Some(r.index);
            tlog::check_record(
                &r.proof,
                self.size,
                &self.root,
                r.index,
                &leaf_hash(&r.entry),
            )
            .map_err(|e| bad(format!("inclusion proof: {e}")))?;
            let entry = Entry::decode(&r.entry).map_err(|e| bad(e.to_string()))?;
            if entry.index != r.index {
                return Err(bad(format!("the entry says index {}", entry.index)));
            }
            sum.feed(&entry).map_err(bad)?;
        }
        Ok(sum.finish())
    }

    /// [`CreditReport::recompute`] and compare with the stated summary,
    /// naming the first field that differs.
    pub fn check(&self) -> Result<(), ExportError> {
        let got = self.recompute()?;
        let s = &self.summary;
        let diff = |field: &'static str, expected: String, found: String| {
            Err(ExportError::Summary {
                field,
                expected,
                found,
            })
        };
        match got.first_difference(s) {
            Some((field, expected, found)) => diff(field, expected, found),
            None => Ok(()),
        }
    }
}

/// Computes an entity's credit summary from log entries in index order.
/// Fed every entry of a log (or only those [`Summarizer::concerns`]
/// selects — the same result), it gives the summary the node states.
pub struct Summarizer {
    entity: Subject,
    rules: RuleSet,
    name: String,
    score: Option<i64>,
    score_changes: u64,
    red_since: Option<Date>,
    black_since: Option<Date>,
    defaults: Vec<u64>,
    notices: Vec<u64>,
}

impl Summarizer {
    /// A summary of `entity` before any entry.
    #[must_use]
    pub fn new(entity: Subject) -> Summarizer {
        Summarizer {
            entity,
            rules: RuleSet::default(),
            name: String::new(),
            score: None,
            score_changes: 0,
            red_since: None,
            black_since: None,
            defaults: Vec::new(),
            notices: Vec::new(),
        }
    }

    /// Whether `entry` bears on the summary: rule sets, records naming the
    /// entity, and its score, list, default, reversal and notice records.
    #[must_use]
    pub fn concerns(&self, entry: &Entry) -> bool {
        let who = &self.entity;
        match &entry.body {
            Body::Submitted(s) => match &s.payload.event {
                Event::Genesis { .. } | Event::RuleSetPublished { .. } => true,
                Event::KeyRegistered { key } => key.holder == *who,
                Event::ContractFiled { contract } => {
                    contract.parties.iter().any(|p| p.subject == *who)
                }
                _ => false,
            },
            Body::Derived(d) => match d {
                Derived::ScoreChanged { entity, .. }
                | Derived::ListChanged { entity, .. }
                | Derived::DefaultDetermined { entity, .. }
                | Derived::DemandNoticePublished { entity, .. } => entity == who,
                Derived::DefaultReversed { default_index, .. } => {
                    self.defaults.contains(default_index)
                }
                _ => false,
            },
        }
    }

    /// Folds one entry in.
    pub fn feed(&mut self, entry: &Entry) -> Result<(), String> {
        let who = self.entity.clone();
        let offset = self.rules.utc_offset_minutes;
        let day = |t: i64| Date::from_days(crate::engine::time::day_of(t, offset)).ok();
        match &entry.body {
            Body::Submitted(s) => match &s.payload.event {
                Event::Genesis {
                    rules,
                    node_key,
                    office_keys,
                    ..
                } => {
                    self.rules = rules.clone();
                    for k in std::iter::once(node_key).chain(office_keys) {
                        if k.holder == who {
                            self.name = k.holder_name.as_str().to_string();
                        }
                    }
                }
                Event::RuleSetPublished { rules } => self.rules = rules.clone(),
                Event::KeyRegistered { key } if key.holder == who => {
                    self.name = key.holder_name.as_str().to_string();
                }
                Event::ContractFiled { contract } => {
                    if let Some(p) = contract.parties.iter().find(|p| p.subject == who) {
                        self.name = p.name.as_str().to_string();
                    }
                }
                _ => {}
            },
            Body::Derived(d) => match d {
                Derived::ScoreChanged {
                    entity,
                    delta,
                    total,
                    ..
                } if *entity == who => {
                    let before = self.score.unwrap_or(self.rules.initial_score);
                    if before.checked_add(*delta) != Some(*total) {
                        return Err(format!(
                            "score {before} {delta:+} is not the stated total {total}"
                        ));
                    }
                    self.score = Some(*total);
                    self.score_changes += 1;
                }
                Derived::ListChanged {
                    entity,
                    list,
                    listed,
                    ..
                } if *entity == who => {
                    let since = if *listed { day(entry.time_ms) } else { None };
                    match list {
                        ListKind::Red => self.red_since = since,
                        ListKind::Black => self.black_since = since,
                    }
                }
                Derived::DefaultDetermined { entity, .. } if *entity == who => {
                    self.defaults.push(entry.index);
                }
                Derived::DefaultReversed { default_index, .. } => {
                    self.defaults.retain(|i| i != default_index);
                }
                Derived::DemandNoticePublished { entity, .. } if *entity == who => {
                    self.notices.push(entry.index);
                }
                _ => {}
            },
        }
        Ok(())
    }

    /// The summary of everything fed.
    #[must_use]
    pub fn finish(self) -> CreditSummary {
        CreditSummary {
            name: self.name,
            score: self.score.unwrap_or(self.rules.initial_score),
            red_since: self.red_since,
            black_since: self.black_since,
            active_defaults: self.defaults,
            demand_notices: self.notices,
            score_changes: self.score_changes,
        }
    }
}
