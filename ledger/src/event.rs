//! Submitted events: what clients sign and the node appends (DESIGN.md, "Records").
//!
//! Every event is a variant of [`Event`]. Its JSON form is internally tagged
//! (`{"type": "contract_filed", ...}`) with unknown fields refused; its
//! canonical form is the bincode layout of docs/FORMAT.md (the variant's
//! position in this enum is its `u32` discriminant, so variants are only ever
//! appended, never reordered).

use crate::Hash;
use crate::rules::RuleSet;
use crate::types::{Category, ContractId, Date, Fen, Name, Role, SignerName, Subject, Text};
use crate::uscc::Uscc;
use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// A public key as registered in the log.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct KeyRegistration {
    /// Signed-note key name (`name` of `name+hex8+base64`).
    pub name: SignerName,
    /// Ed25519 public key.
    #[serde(with = "crate::serde_bytes::b64_32")]
    pub public_key: [u8; 32],
    /// Who holds the key.
    pub holder: Subject,
    pub holder_name: Name,
    pub role: Role,
    /// Node time (UTC ms) from which the key may sign; `None` means at once.
    pub valid_from_ms: Option<i64>,
    /// Node time (UTC ms) after which the key may no longer sign.
    pub valid_until_ms: Option<i64>,
}

/// One performance milestone (履约时间节点) of a contract.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct Milestone {
    /// 1-based number, unique within the contract.
    pub number: u32,
    pub obligor: Subject,
    pub obligee: Subject,
    pub due: Date,
    pub description: Text,
    pub amount: Fen,
}

/// A party (签订主体) and its role in the contract.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub subject: Subject,
    pub name: Name,
    /// Role in the contract, e.g. 甲方 / buyer.
    pub role: Name,
}

/// Where a filing came from.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// Filed by the source unit (a government department).
    Department,
    /// Self-filed by a market entity that is a party.
    SelfFiled,
    /// Imported by a data feed, with the feed's own reference.
    Import { external_ref: Name },
    /// Filed by a service agency on behalf of `principal`.
    Delegated { principal: Uscc },
}

/// A contract as filed.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    pub id: ContractId,
    pub category: Category,
    pub name: Name,
    pub parties: Vec<Party>,
    pub summary: Text,
    pub amount: Fen,
    pub signed: Date,
    pub milestones: Vec<Milestone>,
    /// SHA-256 of the contract document, if given.
    pub document_sha256: Option<Hash>,
    pub source: Source,
}

/// Full or partial non-performance.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(rename_all = "snake_case")]
pub enum Extent {
    Full,
    Partial,
}

/// Grounds on which non-performance is not dishonesty.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(rename_all = "snake_case")]
pub enum ExemptionGround {
    /// 不可抗力
    ForceMajeure,
    /// 意外事件
    Accident,
    /// 情势变更
    ChangedCircumstances,
}

/// Outcome of a pre-litigation mediation (诉前信用调解).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MediationOutcome {
    /// A settlement; when every party has submitted the same settlement it acts as an amendment.
    Settled {
        milestones: Vec<Milestone>,
    },
    Failed,
}

/// Every submitted event kind.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    Genesis {
        origin: Name,
        node_key: KeyRegistration,
        office_keys: Vec<KeyRegistration>,
        rules: RuleSet,
    },
    KeyRegistered {
        key: KeyRegistration,
    },
    KeyRevoked {
        name: SignerName,
        key_id: u32,
        reason: Text,
    },
    RuleSetPublished {
        rules: RuleSet,
    },
    ContractFiled {
        contract: Contract,
    },
    FilingAcknowledged {
        contract: ContractId,
        party: Subject,
    },
    ContractAmended {
        contract: ContractId,
        amendment: u32,
        milestones: Vec<Milestone>,
        reason: Text,
    },
    PerformanceConfirmed {
        contract: ContractId,
        milestone: u32,
        performed: Date,
        evidence: Option<Hash>,
    },
    PerformanceClaimed {
        contract: ContractId,
        milestone: u32,
        performed: Date,
        evidence: Option<Hash>,
    },
    ClaimDisputed {
        contract: ContractId,
        milestone: u32,
        reason: Text,
    },
    NonPerformanceReported {
        contract: ContractId,
        milestone: u32,
        extent: Extent,
        reason: Text,
    },
    ExemptionClaimed {
        contract: ContractId,
        milestone: u32,
        ground: ExemptionGround,
        event_date: Date,
        statement: Text,
    },
    ExemptionDecided {
        claim_index: u64,
        approved: bool,
        reason: Text,
    },
    ObjectionFiled {
        /// Index of the `DefaultDetermined` or `DemandNoticePublished` record objected to.
        target_index: u64,
        statement: Text,
    },
    ObjectionDecided {
        objection_index: u64,
        upheld: bool,
        reason: Text,
    },
    RepairApplied {
        entity: Subject,
        /// SHA-256 of the signed commitment text (信用承诺书).
        commitment: Hash,
    },
    RepairDecided {
        application_index: u64,
        approved: bool,
        reason: Text,
    },
    DelegationGranted {
        principal: Uscc,
        agency: Uscc,
        until: Option<Date>,
    },
    DelegationRevoked {
        principal: Uscc,
        agency: Uscc,
    },
    MediationRecorded {
        contract: ContractId,
        outcome: MediationOutcome,
        summary: Text,
    },
    Tick {},
}

fn milestone_texts<'a>(ms: &'a [Milestone], f: &mut impl FnMut(&'a str)) {
    for m in ms {
        f(m.description.as_str());
    }
}

impl Event {
    /// Calls `f` with every free-text string of the event (names, summaries,
    /// descriptions, reasons, references, ids) — the strings a person could
    /// type an identity number into. Codes, digests and keys are not text.
    pub fn texts<'a>(&'a self, f: &mut impl FnMut(&'a str)) {
        match self {
            Event::Genesis {
                origin,
                node_key,
                office_keys,
                ..
            } => {
                f(origin.as_str());
                for k in std::iter::once(node_key).chain(office_keys) {
                    f(k.name.as_str());
                    f(k.holder_name.as_str());
                }
            }
            Event::KeyRegistered { key } => {
                f(key.name.as_str());
                f(key.holder_name.as_str());
            }
            Event::KeyRevoked { name, reason, .. } => {
                f(name.as_str());
                f(reason.as_str());
            }
            Event::ContractFiled { contract: c } => {
                for s in [c.id.as_str(), c.name.as_str(), c.summary.as_str()] {
                    f(s);
                }
                for p in &c.parties {
                    f(p.name.as_str());
                    f(p.role.as_str());
                }
                milestone_texts(&c.milestones, f);
                if let Source::Import { external_ref } = &c.source {
                    f(external_ref.as_str());
                }
            }
            Event::ContractAmended {
                contract,
                milestones,
                reason,
                ..
            } => {
                f(contract.as_str());
                f(reason.as_str());
                milestone_texts(milestones, f);
            }
            Event::MediationRecorded {
                contract,
                outcome,
                summary,
            } => {
                f(contract.as_str());
                f(summary.as_str());
                if let MediationOutcome::Settled { milestones } = outcome {
                    milestone_texts(milestones, f);
                }
            }
            Event::FilingAcknowledged { contract, .. }
            | Event::PerformanceConfirmed { contract, .. }
            | Event::PerformanceClaimed { contract, .. } => f(contract.as_str()),
            Event::ClaimDisputed {
                contract, reason, ..
            }
            | Event::NonPerformanceReported {
                contract, reason, ..
            } => {
                f(contract.as_str());
                f(reason.as_str());
            }
            Event::ExemptionClaimed {
                contract,
                statement,
                ..
            } => {
                f(contract.as_str());
                f(statement.as_str());
            }
            Event::ExemptionDecided { reason, .. }
            | Event::ObjectionDecided { reason, .. }
            | Event::RepairDecided { reason, .. } => {
                f(reason.as_str());
            }
            Event::ObjectionFiled { statement, .. } => f(statement.as_str()),
            Event::RuleSetPublished { .. }
            | Event::RepairApplied { .. }
            | Event::DelegationGranted { .. }
            | Event::DelegationRevoked { .. }
            | Event::Tick {} => {}
        }
    }

    /// The snake_case name of the event kind, as in its JSON `type` field.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Genesis { .. } => "genesis",
            Event::KeyRegistered { .. } => "key_registered",
            Event::KeyRevoked { .. } => "key_revoked",
            Event::RuleSetPublished { .. } => "rule_set_published",
            Event::ContractFiled { .. } => "contract_filed",
            Event::FilingAcknowledged { .. } => "filing_acknowledged",
            Event::ContractAmended { .. } => "contract_amended",
            Event::PerformanceConfirmed { .. } => "performance_confirmed",
            Event::PerformanceClaimed { .. } => "performance_claimed",
            Event::ClaimDisputed { .. } => "claim_disputed",
            Event::NonPerformanceReported { .. } => "non_performance_reported",
            Event::ExemptionClaimed { .. } => "exemption_claimed",
            Event::ExemptionDecided { .. } => "exemption_decided",
            Event::ObjectionFiled { .. } => "objection_filed",
            Event::ObjectionDecided { .. } => "objection_decided",
            Event::RepairApplied { .. } => "repair_applied",
            Event::RepairDecided { .. } => "repair_decided",
            Event::DelegationGranted { .. } => "delegation_granted",
            Event::DelegationRevoked { .. } => "delegation_revoked",
            Event::MediationRecorded { .. } => "mediation_recorded",
            Event::Tick {} => "tick",
        }
    }

    /// The roles whose keys may sign this kind of event (DESIGN.md, "Records").
    ///
    /// This is the first gate; the rules engine adds the per-contract checks
    /// (that a confirming key belongs to the obligee, and so on).
    #[must_use]
    pub fn allowed_roles(&self) -> &'static [Role] {
        use Role::*;
        match self {
            Event::Genesis { .. } | Event::Tick {} => &[Node],
            Event::KeyRegistered { .. }
            | Event::KeyRevoked { .. }
            | Event::RuleSetPublished { .. }
            | Event::ExemptionDecided { .. }
            | Event::ObjectionDecided { .. }
            | Event::RepairDecided { .. } => &[CreditOffice],
            Event::ContractFiled { .. } => &[SourceUnit, MarketEntity, DataFeed, ServiceAgency],
            Event::PerformanceConfirmed { .. } | Event::NonPerformanceReported { .. } => {
                &[SourceUnit, MarketEntity]
            }
            Event::FilingAcknowledged { .. }
            | Event::ContractAmended { .. }
            | Event::PerformanceClaimed { .. }
            | Event::ClaimDisputed { .. }
            | Event::ExemptionClaimed { .. }
            | Event::ObjectionFiled { .. }
            | Event::RepairApplied { .. } => &[SourceUnit, MarketEntity],
            Event::DelegationGranted { .. } | Event::DelegationRevoked { .. } => &[MarketEntity],
            Event::MediationRecorded { .. } => &[ServiceAgency],
        }
    }
}
