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

/// A contract's milestones by number, in ascending order.
///
/// A sorted vector, not a `BTreeMap`: a contract has one to a few
/// milestones, and a map's first node reserves room for eleven — about
/// 2.5 kB per contract, most of the engine's memory at a million contracts
/// (docs/BENCHMARKS.md, "Issue 4, third session"). It encodes exactly as
/// `BTreeMap<u32, MilestoneState>` does (the count, then each number and
/// milestone), so engine snapshots keep their bytes, and decoding refuses
/// numbers that are not strictly ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode)]
pub struct Milestones(Vec<(u32, MilestoneState)>);

impl Milestones {
    fn position(&self, number: u32) -> Result<usize, usize> {
        self.0.binary_search_by_key(&number, |(n, _)| *n)
    }

    /// The milestone numbered `number`.
    #[must_use]
    pub fn get(&self, number: &u32) -> Option<&MilestoneState> {
        self.position(*number).ok().map(|i| &self.0[i].1)
    }

    /// The milestone numbered `number`, to change it.
    pub fn get_mut(&mut self, number: &u32) -> Option<&mut MilestoneState> {
        self.position(*number).ok().map(|i| &mut self.0[i].1)
    }

    /// Sets milestone `number`, returning the one it replaces.
    pub fn insert(&mut self, number: u32, m: MilestoneState) -> Option<MilestoneState> {
        match self.position(number) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, m)),
            Err(i) => {
                self.0.insert(i, (number, m));
                None
            }
        }
    }

    /// Numbers and milestones, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (&u32, &MilestoneState)> {
        self.0.iter().map(|(n, m)| (n, m))
    }

    /// Milestones, by ascending number.
    pub fn values(&self) -> impl Iterator<Item = &MilestoneState> {
        self.0.iter().map(|(_, m)| m)
    }

    /// Number of milestones.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `milestones[&n]`, as on a map: panics when there is no milestone `n`.
impl std::ops::Index<&u32> for Milestones {
    type Output = MilestoneState;
    fn index(&self, number: &u32) -> &MilestoneState {
        self.get(number)
            .unwrap_or_else(|| panic!("no milestone {number}"))
    }
}

impl FromIterator<(u32, MilestoneState)> for Milestones {
    fn from_iter<I: IntoIterator<Item = (u32, MilestoneState)>>(iter: I) -> Self {
        let mut out = Milestones::default();
        for (n, m) in iter {
            out.insert(n, m);
        }
        out.0.shrink_to_fit();
        out
    }
}

impl<'a> IntoIterator for &'a Milestones {
    type Item = (&'a u32, &'a MilestoneState);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (u32, MilestoneState)>,
        fn(&'a (u32, MilestoneState)) -> (&'a u32, &'a MilestoneState),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(n, m)| (n, m))
    }
}

impl<Context> Decode<Context> for Milestones {
    fn decode<D: bincode::de::Decoder<Context = Context>>(
        decoder: &mut D,
    ) -> Result<Self, bincode::error::DecodeError> {
        let items: Vec<(u32, MilestoneState)> = Decode::decode(decoder)?;
        if items.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(bincode::error::DecodeError::Other(
                "milestone numbers are not strictly ascending",
            ));
        }
        Ok(Milestones(items))
    }
}
bincode::impl_borrow_decode!(Milestones);

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
    pub milestones: Milestones,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec;

    fn milestone(day: i32) -> MilestoneState {
        let who = Subject::Org(Uscc::parse("91610300MA6X12345D").expect("valid uscc"));
        MilestoneState {
            obligor: who.clone(),
            obligee: who,
            due: Date::from_days(day).expect("date"),
            amount: Fen::new(100).expect("amount"),
            status: Status::Pending,
            overdue: false,
            reminded: vec![7],
            extension_ms: 0,
            default_index: None,
            resolved_after_default: false,
        }
    }

    #[test]
    fn milestones_encode_as_the_map_they_replace() {
        let pairs = [(3, milestone(30)), (1, milestone(10)), (2, milestone(20))];
        let ours: Milestones = pairs.iter().cloned().collect();
        let map: BTreeMap<u32, MilestoneState> = pairs.iter().cloned().collect();
        // The engine snapshot's configuration (engine/mod.rs) and the log's.
        let snapshot = bincode::config::standard()
            .with_big_endian()
            .with_fixed_int_encoding();
        let bytes = bincode::encode_to_vec(&ours, snapshot).expect("encode");
        assert_eq!(
            bytes,
            bincode::encode_to_vec(&map, snapshot).expect("encode")
        );
        let (back, used): (Milestones, usize) =
            bincode::decode_from_slice(&bytes, snapshot).expect("decode");
        assert_eq!((back, used), (ours.clone(), bytes.len()));
        let bytes = codec::encode(&ours).expect("encode");
        assert_eq!(bytes, codec::encode(&map).expect("encode"));
        assert_eq!(codec::decode::<Milestones>(&bytes).expect("decode"), ours);
        assert_eq!(ours.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn milestones_insert_replaces_by_number_and_keeps_the_order() {
        let mut ms: Milestones = [(2, milestone(20))].into_iter().collect();
        assert!(ms.insert(1, milestone(10)).is_none());
        let old = ms.insert(2, milestone(25)).expect("replaced");
        assert_eq!(old.due, Date::from_days(20).expect("date"));
        assert_eq!(ms.get(&2).map(|m| m.due), Date::from_days(25).ok());
        assert!(ms.get(&3).is_none());
        assert_eq!(ms.len(), 2);
        assert_eq!(ms.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn milestones_out_of_order_or_repeated_do_not_decode() {
        for numbers in [[2u32, 1], [1, 1]] {
            let list: Vec<(u32, MilestoneState)> =
                numbers.iter().map(|n| (*n, milestone(10))).collect();
            let bytes = codec::encode(&list).expect("encode");
            assert!(codec::decode::<Milestones>(&bytes).is_err(), "{numbers:?}");
        }
    }
}
