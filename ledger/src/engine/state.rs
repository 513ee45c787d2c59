//! The engine's state: contracts, milestones, entities, and the records the
//! rules refer back to by log index. Everything is ordered (BTreeMap) and
//! integer, so the state — and its canonical snapshot — is deterministic.

use crate::Hash;
use crate::event::{ExemptionGround, Extent, Source};
use crate::record::Closure;
use crate::types::{ContractId, Date, Fen, Role, Subject};
use crate::uscc::Uscc;
use bincode::{Decode, Encode};
use std::collections::BTreeMap;

/// Where a milestone stands.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Status {
    /// Not performed yet (possibly overdue).
    Pending,
    /// The obligor claims performance; the obligee may dispute until `deadline_ms`.
    Claimed {
        performed: Date,
        claim_index: u64,
        deadline_ms: i64,
    },
    /// An exemption claim pauses the clock since `since_ms`.
    Exemption {
        claim_index: u64,
        since_ms: i64,
        was_defaulted: bool,
    },
    /// Closed; `on_time` for performance on or before the due date.
    Closed { closure: Closure, on_time: bool },
}

/// One milestone.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct MilestoneState {
    pub obligor: Subject,
    pub obligee: Subject,
    pub due: Date,
    pub amount: Fen,
    pub status: Status,
    /// The overdue warning was issued (for the current due date).
    pub overdue: bool,
    /// Reminders issued for the current due date (lead days).
    pub reminded: Vec<u32>,
    /// Time the clock was paused by exemption claims that were refused.
    pub extension_ms: i64,
    /// The active (not reversed) default on this milestone.
    pub default_index: Option<u64>,
    /// Performance was confirmed after a default.
    pub resolved_after_default: bool,
}

impl MilestoneState {
    /// A milestone as filed or amended: pending, with a fresh clock.
    #[must_use]
    pub fn new(m: &crate::event::Milestone) -> MilestoneState {
        MilestoneState {
            obligor: m.obligor.clone(),
            obligee: m.obligee.clone(),
            due: m.due,
            amount: m.amount,
            status: Status::Pending,
            overdue: false,
            reminded: Vec::new(),
            extension_ms: 0,
            default_index: None,
            resolved_after_default: false,
        }
    }
}

/// One contract.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ContractState {
    pub filed_at: u64,
    pub signed: Date,
    /// Who filed: the key holder, or the principal for a delegated filing.
    pub filer: Subject,
    pub filer_role: Role,
    pub source: Source,
    pub parties: Vec<Subject>,
    /// Parties that acknowledged the filing.
    pub acknowledged: Vec<Subject>,
    pub milestones: BTreeMap<u32, MilestoneState>,
    /// Highest amendment number applied.
    pub amendment: u32,
    /// Amendments being agreed: number → (party, digest of the proposed milestones).
    pub proposals: BTreeMap<u32, Vec<(Subject, Hash)>>,
    pub completed: bool,
}

/// A listing on the black list.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct BlackListing {
    pub notice_index: u64,
    pub since_day: i32,
}

/// One entity's credit state.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct EntityState {
    pub score: i64,
    /// On-time points granted per local calendar year.
    pub on_time_points: BTreeMap<i32, i64>,
    /// Days on which contracts of this obligor were fully performed.
    pub completions: Vec<i32>,
    /// Indexes of the defaults determined against this entity.
    pub defaults: Vec<u64>,
    pub black: Option<BlackListing>,
    pub red: bool,
    /// The next time a red-list re-check is scheduled.
    pub red_check_at: Option<i64>,
}

/// A determined default.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct DefaultRec {
    pub entity: Subject,
    pub contract: ContractId,
    pub milestone: u32,
    pub extent: Extent,
    /// The score delta applied with it (undone exactly on reversal).
    pub delta: i64,
    pub day: i32,
    pub reversed: bool,
}

/// A demand notice.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct NoticeRec {
    pub entity: Subject,
    /// The defaults it rests on.
    pub defaults: Vec<u64>,
    pub delta: i64,
    pub day: i32,
    pub reversed: bool,
}

/// An exemption claim.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ClaimRec {
    pub contract: ContractId,
    pub milestone: u32,
    pub ground: ExemptionGround,
    pub decided: bool,
}

/// An objection against a default or a notice.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ObjectionRec {
    pub target: u64,
    pub decided: bool,
}

/// An application for credit repair.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct RepairRec {
    pub entity: Subject,
    pub decided: bool,
}

/// Time-driven rules waiting for their time.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Deadline {
    Reminder {
        contract: ContractId,
        milestone: u32,
        due: Date,
        days_before: u32,
    },
    Overdue {
        contract: ContractId,
        milestone: u32,
    },
    Default {
        contract: ContractId,
        milestone: u32,
    },
    Deemed {
        contract: ContractId,
        milestone: u32,
        claim_index: u64,
    },
    BlackExpiry {
        entity: Subject,
        notice_index: u64,
    },
    RedCheck {
        entity: Subject,
    },
}

/// A delegation from a principal to a service agency.
pub type Delegations = BTreeMap<(Uscc, Uscc), Option<Date>>;
