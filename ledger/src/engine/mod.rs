//! The rules engine: rule book v1 (DESIGN.md; docs/RULES.md) as a pure,
//! deterministic function of the log.
//!
//! No clock, no I/O, no randomness, integer arithmetic only. The node and
//! the verifier drive it the same way, entry by entry:
//! - [`Engine::advance`]`(t)` fires, in deadline order, every time-driven
//!   rule whose deadline is ≤ `t` (reminders, overdue warnings, defaults
//!   after the grace period, deemed performance after the dispute window,
//!   black-list expiry, red-list re-checks), returning the derived records
//!   that go into the log *before* the next entry at time `t`;
//! - [`Engine::check`] says whether a submitted event is allowed (party
//!   authorization and validation), without changing anything;
//! - [`Engine::apply`] applies an admitted submission, which takes the next
//!   log index, and returns the derived records that follow it.
//!
//! Each derived record takes the next log index in turn, so records can name
//! each other by index (`cause`, `default_index`, …).

mod apply;
mod check;
pub mod state;
pub mod time;

use crate::event::Extent;
use crate::record::{Closure, Derived, ListKind};
use crate::rules::RuleSet;
use crate::types::{ContractId, Subject, Text};
use bincode::{Decode, Encode};
use state::*;
use std::collections::BTreeMap;

/// The red-list parameters, copied out of the rule set.
struct RedRules {
    min_score: i64,
    min_contracts: u32,
    offset: i32,
}

/// Encoding of engine snapshots.
const SNAPSHOT_CONFIG: bincode::config::Configuration<
    bincode::config::BigEndian,
    bincode::config::Fixint,
> = bincode::config::standard()
    .with_big_endian()
    .with_fixed_int_encoding();

/// Why the rules refuse a submission.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The signer may not do this to this contract or record.
    #[error("{0}")]
    Forbidden(String),
    /// The event names a contract, milestone or record that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The event conflicts with the log (e.g. a contract id already filed).
    #[error("{0}")]
    Conflict(String),
    /// The event is invalid under the rule book.
    #[error("{0}")]
    Invalid(String),
}

/// The engine. See the module documentation.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Engine {
    pub(crate) rules: RuleSet,
    /// Index the next log entry will take.
    pub(crate) next_index: u64,
    pub(crate) contracts: BTreeMap<ContractId, ContractState>,
    pub(crate) entities: BTreeMap<Subject, EntityState>,
    pub(crate) defaults: BTreeMap<u64, DefaultRec>,
    pub(crate) notices: BTreeMap<u64, NoticeRec>,
    pub(crate) claims: BTreeMap<u64, ClaimRec>,
    pub(crate) objections: BTreeMap<u64, ObjectionRec>,
    pub(crate) repairs: BTreeMap<u64, RepairRec>,
    pub(crate) delegations: Delegations,
    /// (time, sequence) → deadline: fired in this order.
    pub(crate) deadlines: BTreeMap<(i64, u64), Deadline>,
    pub(crate) seq: u64,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

impl Engine {
    /// An engine before the genesis entry (rule book v1 until Genesis sets its own).
    #[must_use]
    pub fn new() -> Engine {
        Engine {
            rules: RuleSet::default(),
            next_index: 0,
            contracts: BTreeMap::new(),
            entities: BTreeMap::new(),
            defaults: BTreeMap::new(),
            notices: BTreeMap::new(),
            claims: BTreeMap::new(),
            objections: BTreeMap::new(),
            repairs: BTreeMap::new(),
            delegations: BTreeMap::new(),
            deadlines: BTreeMap::new(),
            seq: 0,
        }
    }

    /// The engine's state as bytes (bincode, for the node's own snapshots;
    /// not part of the log format).
    pub fn snapshot(&self) -> Result<Vec<u8>, String> {
        bincode::encode_to_vec(self, SNAPSHOT_CONFIG).map_err(|e| e.to_string())
    }

    /// An engine from [`Engine::snapshot`] bytes.
    pub fn restore(bytes: &[u8]) -> Result<Engine, String> {
        let (engine, used): (Engine, usize) =
            bincode::decode_from_slice(bytes, SNAPSHOT_CONFIG).map_err(|e| e.to_string())?;
        if used != bytes.len() {
            return Err(format!(
                "{} trailing bytes after the engine snapshot",
                bytes.len() - used
            ));
        }
        Ok(engine)
    }

    /// Brings the engine past one log entry without checking it (the log
    /// was verified when it was written): a submission is applied after the
    /// deadlines its time passed; derived records it already produced are
    /// skipped. `registry` supplies signers' registrations.
    pub fn replay(&mut self, entry: &crate::record::Entry, registry: &crate::admission::Registry) {
        if entry.index < self.next_index {
            return;
        }
        let _ = self.advance(entry.time_ms);
        if let crate::record::Body::Submitted(signed) = &entry.body {
            if let Some(signer) = registry.signer_registration(signed).cloned() {
                let _ = self.apply(&signed.payload.event, &signer, entry.time_ms);
            }
        }
    }

    /// Index the next log entry takes.
    #[must_use]
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// The rule set in force.
    #[must_use]
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Time of the earliest pending deadline, if any.
    #[must_use]
    pub fn next_deadline(&self) -> Option<i64> {
        self.deadlines.keys().next().map(|(t, _)| *t)
    }

    /// An entity's current score (the initial score if it has no record).
    #[must_use]
    pub fn score(&self, entity: &Subject) -> i64 {
        self.entities
            .get(entity)
            .map_or(self.rules.initial_score, |e| e.score)
    }

    /// Whether an entity is on the given list.
    #[must_use]
    pub fn listed(&self, entity: &Subject, list: ListKind) -> bool {
        self.entities.get(entity).is_some_and(|e| match list {
            ListKind::Black => e.black.is_some(),
            ListKind::Red => e.red,
        })
    }

    /// Every entity the engine tracks, with its state.
    pub fn entities(&self) -> impl Iterator<Item = (&Subject, &EntityState)> {
        self.entities.iter()
    }

    /// A contract's state.
    #[must_use]
    pub fn contract(&self, id: &ContractId) -> Option<&ContractState> {
        self.contracts.get(id)
    }

    /// The determined default at log index `index`.
    #[must_use]
    pub fn default_record(&self, index: u64) -> Option<&DefaultRec> {
        self.defaults.get(&index)
    }

    /// The exemption claim at log index `index`.
    #[must_use]
    pub fn claim_record(&self, index: u64) -> Option<&ClaimRec> {
        self.claims.get(&index)
    }

    /// The objection at log index `index`.
    #[must_use]
    pub fn objection_record(&self, index: u64) -> Option<&ObjectionRec> {
        self.objections.get(&index)
    }

    /// The demand notice at log index `index`.
    #[must_use]
    pub fn notice_record(&self, index: u64) -> Option<&NoticeRec> {
        self.notices.get(&index)
    }

    /// The repair application at log index `index`.
    #[must_use]
    pub fn repair_record(&self, index: u64) -> Option<&RepairRec> {
        self.repairs.get(&index)
    }

    /// Number of contracts.
    #[must_use]
    pub fn contract_count(&self) -> usize {
        self.contracts.len()
    }

    /// Fires every deadline ≤ `time_ms`, in order. The returned records take
    /// the next log indexes, in order.
    pub fn advance(&mut self, time_ms: i64) -> Vec<Derived> {
        let mut out = Vec::new();
        while let Some(entry) = self.deadlines.first_entry() {
            if entry.key().0 > time_ms {
                break;
            }
            let ((at, _), deadline) = entry.remove_entry();
            self.fire(at, deadline, &mut out);
        }
        out
    }

    /// Records `d` as the next log entry.
    pub(crate) fn emit(&mut self, out: &mut Vec<Derived>, d: Derived) -> u64 {
        let index = self.next_index;
        self.next_index += 1;
        out.push(d);
        index
    }

    pub(crate) fn schedule(&mut self, at: i64, d: Deadline) {
        self.seq += 1;
        self.deadlines.insert((at, self.seq), d);
    }

    pub(crate) fn today(&self, time_ms: i64) -> i32 {
        time::day_of(time_ms, self.rules.utc_offset_minutes)
    }

    pub(crate) fn entity(&mut self, s: &Subject) -> &mut EntityState {
        let initial = self.rules.initial_score;
        self.entities
            .entry(s.clone())
            .or_insert_with(|| EntityState {
                score: initial,
                on_time_points: BTreeMap::new(),
                completions: Vec::new(),
                defaults: Vec::new(),
                black: None,
                red: false,
                red_check_at: None,
            })
    }

    /// Whether a contract may move `obligor`'s score and lists: it was filed
    /// by a source unit or a data feed, or every party other than the filer
    /// acknowledged it. So a rival's fake filing never counts against an
    /// entity (it must acknowledge), and an entity's self-filing never counts
    /// for it either (its counterparties must acknowledge — a natural person
    /// without a key cannot, so such a contract never moves a score).
    pub(crate) fn counts(c: &ContractState, _obligor: &Subject) -> bool {
        use crate::types::Role;
        matches!(c.filer_role, Role::SourceUnit | Role::DataFeed)
            || c.parties
                .iter()
                .all(|p| *p == c.filer || c.acknowledged.contains(p))
    }

    /// Changes a score and records it; then re-checks the red list.
    pub(crate) fn change_score(
        &mut self,
        out: &mut Vec<Derived>,
        who: &Subject,
        delta: i64,
        rule: &str,
        cause: u64,
        time_ms: i64,
    ) -> u64 {
        let e = self.entity(who);
        e.score = e.score.saturating_add(delta);
        let total = e.score;
        let rule =
            Text::new(rule).unwrap_or_else(|_| unreachable!("rule ids are short plain text"));
        let index = self.emit(
            out,
            Derived::ScoreChanged {
                entity: who.clone(),
                delta,
                total,
                rule,
                cause,
            },
        );
        self.check_red(out, who, index, time_ms);
        index
    }

    fn list_change(
        &mut self,
        out: &mut Vec<Derived>,
        who: &Subject,
        list: ListKind,
        listed: bool,
        reason: &str,
        cause: u64,
    ) -> u64 {
        let reason =
            Text::new(reason).unwrap_or_else(|_| unreachable!("reasons are short plain text"));
        self.emit(
            out,
            Derived::ListChanged {
                entity: who.clone(),
                list,
                listed,
                reason,
                cause,
            },
        )
    }

    /// Determines a default on a milestone (extent full after the grace
    /// period, or as reported), with its score change and list consequences.
    pub(crate) fn determine_default(
        &mut self,
        out: &mut Vec<Derived>,
        id: &ContractId,
        number: u32,
        extent: Extent,
        cause: u64,
        time_ms: i64,
    ) {
        let today = self.today(time_ms);
        let Some(c) = self.contracts.get(id) else {
            return;
        };
        let Some(m) = c.milestones.get(&number) else {
            return;
        };
        let obligor = m.obligor.clone();
        let counted = Engine::counts(c, &obligor);
        let mut closed_cause = cause;
        let mut index = None;
        if counted {
            let d = Derived::DefaultDetermined {
                contract: id.clone(),
                milestone: number,
                entity: obligor.clone(),
                extent,
                cause,
            };
            let i = self.emit(out, d);
            index = Some(i);
            closed_cause = i;
        }
        self.set_status(
            id,
            number,
            Status::Closed {
                closure: Closure::Defaulted,
                on_time: false,
            },
        );
        if let Some(m) = self.milestone_mut(id, number) {
            m.default_index = index;
        }
        self.emit(
            out,
            Derived::MilestoneClosed {
                contract: id.clone(),
                milestone: number,
                closure: Closure::Defaulted,
                cause: closed_cause,
            },
        );
        let Some(i) = index else { return };
        let delta = match extent {
            Extent::Full => self.rules.full_default_delta,
            Extent::Partial => self.rules.partial_default_delta,
        };
        let rule = match extent {
            Extent::Full => "full_default",
            Extent::Partial => "partial_default",
        };
        self.defaults.insert(
            i,
            DefaultRec {
                entity: obligor.clone(),
                contract: id.clone(),
                milestone: number,
                extent,
                delta,
                day: today,
                reversed: false,
            },
        );
        self.entity(&obligor).defaults.push(i);
        self.change_score(out, &obligor, delta, rule, i, time_ms);
        self.check_black(out, &obligor, i, time_ms);
    }

    /// Black list: `black_defaults` or more active defaults within
    /// `black_window_days` → demand notice, its deduction, the black list.
    fn check_black(&mut self, out: &mut Vec<Derived>, who: &Subject, cause: u64, time_ms: i64) {
        let today = self.today(time_ms);
        let window = i64::from(self.rules.black_window_days);
        if self.entity(who).black.is_some() {
            return;
        }
        let recent: Vec<u64> = self
            .entity(who)
            .defaults
            .clone()
            .into_iter()
            .filter(|i| {
                self.defaults
                    .get(i)
                    .is_some_and(|d| !d.reversed && i64::from(today) - i64::from(d.day) < window)
            })
            .collect();
        if recent.len() < self.rules.black_defaults as usize {
            return;
        }
        let notice = self.emit(
            out,
            Derived::DemandNoticePublished {
                entity: who.clone(),
                defaults: recent.clone(),
                cause,
            },
        );
        let delta = self.rules.demand_notice_delta;
        self.notices.insert(
            notice,
            NoticeRec {
                entity: who.clone(),
                defaults: recent,
                delta,
                day: today,
                reversed: false,
            },
        );
        self.entity(who).black = Some(BlackListing {
            notice_index: notice,
            since_day: today,
        });
        self.change_score(out, who, delta, "demand_notice", notice, time_ms);
        self.list_change(
            out,
            who,
            ListKind::Black,
            true,
            "demand notice published",
            notice,
        );
        self.check_red(out, who, notice, time_ms);
        let expiry = time::start_of(
            i64::from(today) + i64::from(self.rules.black_max_days),
            self.rules.utc_offset_minutes,
        );
        self.schedule(
            expiry,
            Deadline::BlackExpiry {
                entity: who.clone(),
                notice_index: notice,
            },
        );
    }

    /// Takes an entity off the black list.
    pub(crate) fn unlist_black(
        &mut self,
        out: &mut Vec<Derived>,
        who: &Subject,
        reason: &str,
        cause: u64,
        time_ms: i64,
    ) {
        if self.entity(who).black.take().is_some() {
            self.list_change(out, who, ListKind::Black, false, reason, cause);
            self.check_red(out, who, cause, time_ms);
        }
    }

    /// Red list: score ≥ `red_min_score`, ≥ `red_min_contracts` contracts
    /// fully performed on time and no active default within
    /// `red_window_days`, not black-listed. Re-checked whenever the entity
    /// changes, and when the next record ages out of the window.
    pub(crate) fn check_red(
        &mut self,
        out: &mut Vec<Derived>,
        who: &Subject,
        cause: u64,
        time_ms: i64,
    ) {
        let today = i64::from(self.today(time_ms));
        let window = i64::from(self.rules.red_window_days);
        let in_window = |day: i32| today - i64::from(day) < window;
        let default_days: Vec<i32> = self
            .entities
            .get(who)
            .map(|e| e.defaults.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|i| self.defaults.get(i))
            .filter(|d| !d.reversed && in_window(d.day))
            .map(|d| d.day)
            .collect();
        let rules = RedRules {
            min_score: self.rules.red_min_score,
            min_contracts: self.rules.red_min_contracts,
            offset: self.rules.utc_offset_minutes,
        };
        let e = self.entity(who);
        let done: Vec<i32> = e
            .completions
            .iter()
            .copied()
            .filter(|&d| in_window(d))
            .collect();
        let eligible = e.black.is_none()
            && e.score >= rules.min_score
            && done.len() >= rules.min_contracts as usize
            && default_days.is_empty();
        let next_age = done
            .iter()
            .chain(&default_days)
            .map(|&d| time::start_of(i64::from(d) + window, rules.offset))
            .min();
        let was = e.red;
        e.red = eligible;
        let reschedule = next_age.filter(|&t| e.red_check_at.is_none_or(|s| t < s || s <= time_ms));
        if let Some(t) = reschedule {
            e.red_check_at = Some(t);
            self.schedule(
                t,
                Deadline::RedCheck {
                    entity: who.clone(),
                },
            );
        }
        if eligible != was {
            let reason = if eligible {
                "red list criteria met"
            } else {
                "red list criteria no longer met"
            };
            self.list_change(out, who, ListKind::Red, eligible, reason, cause);
        }
    }

    pub(crate) fn milestone_mut(
        &mut self,
        id: &ContractId,
        number: u32,
    ) -> Option<&mut MilestoneState> {
        self.contracts.get_mut(id)?.milestones.get_mut(&number)
    }

    pub(crate) fn set_status(&mut self, id: &ContractId, number: u32, status: Status) {
        if let Some(m) = self.milestone_mut(id, number) {
            m.status = status;
        }
    }

    /// Overdue time of a milestone: 24:00 local of its due date, plus pauses.
    pub(crate) fn overdue_at(&self, m: &MilestoneState) -> i64 {
        time::start_after(m.due, 1, self.rules.utc_offset_minutes) + m.extension_ms
    }

    /// Default time: the overdue time plus the grace period.
    pub(crate) fn default_at(&self, m: &MilestoneState) -> i64 {
        time::start_after(
            m.due,
            1 + i64::from(self.rules.grace_days),
            self.rules.utc_offset_minutes,
        ) + m.extension_ms
    }

    /// Schedules a milestone's next deadline: the first reminder still to
    /// come, else its overdue warning, else its default. Each of them, when
    /// it fires, schedules the one after it, so an open milestone holds one
    /// entry in the deadline queue instead of five.
    pub(crate) fn arm(&mut self, id: &ContractId, number: u32, time_ms: i64) {
        let Some(m) = self
            .contracts
            .get(id)
            .and_then(|c| c.milestones.get(&number))
        else {
            return;
        };
        let offset = self.rules.utc_offset_minutes;
        let next_reminder = self
            .rules
            .reminder_days
            .iter()
            .filter(|d| !m.reminded.contains(d))
            .map(|&d| (time::start_after(m.due, -i64::from(d), offset), d))
            .filter(|&(at, _)| at >= time_ms)
            .min();
        let (at, deadline) = match next_reminder {
            Some((at, days_before)) => (
                at,
                Deadline::Reminder {
                    contract: id.clone(),
                    milestone: number,
                    due: m.due,
                    days_before,
                },
            ),
            None if !m.overdue => (
                self.overdue_at(m).max(time_ms),
                Deadline::Overdue {
                    contract: id.clone(),
                    milestone: number,
                },
            ),
            None => (
                self.default_at(m).max(time_ms),
                Deadline::Default {
                    contract: id.clone(),
                    milestone: number,
                },
            ),
        };
        self.schedule(at, deadline);
    }

    /// One deadline, due at `at`. Everything it does depends on `at`, never
    /// on the node time of the entry that happens to pass it: a deadline
    /// that fires without a record (say, a red-list re-check that changes
    /// nothing) leaves no trace in the log, so the verifier fires it later,
    /// at the next entry it sees, and must reach exactly the same state.
    fn fire(&mut self, at: i64, d: Deadline, out: &mut Vec<Derived>) {
        match d {
            Deadline::Reminder {
                contract,
                milestone,
                due,
                days_before,
            } => self.fire_reminder(out, at, &contract, milestone, due, days_before),
            Deadline::Overdue {
                contract,
                milestone,
            } => self.fire_overdue(out, at, &contract, milestone),
            Deadline::Default {
                contract,
                milestone,
            } => self.fire_default(out, at, &contract, milestone),
            Deadline::Deemed {
                contract,
                milestone,
                claim_index,
            } => self.fire_deemed(out, at, &contract, milestone, claim_index),
            Deadline::BlackExpiry {
                entity,
                notice_index,
            } => {
                if self
                    .entity(&entity)
                    .black
                    .as_ref()
                    .is_some_and(|b| b.notice_index == notice_index)
                {
                    self.unlist_black(
                        out,
                        &entity,
                        "maximum publicity period reached",
                        notice_index,
                        at,
                    );
                }
            }
            Deadline::RedCheck { entity } => {
                self.entity(&entity).red_check_at = None;
                let cause = self.next_index.saturating_sub(1);
                self.check_red(out, &entity, cause, at);
            }
        }
    }

    fn fire_reminder(
        &mut self,
        out: &mut Vec<Derived>,
        at: i64,
        id: &ContractId,
        number: u32,
        due: crate::types::Date,
        days: u32,
    ) {
        let Some(c) = self.contracts.get(id) else {
            return;
        };
        let cause = c.filed_at;
        let Some(m) = c.milestones.get(&number) else {
            return;
        };
        let open = matches!(
            m.status,
            Status::Pending | Status::Claimed { .. } | Status::Exemption { .. }
        );
        if m.due != due || !open || m.reminded.contains(&days) {
            return;
        }
        if let Some(m) = self.milestone_mut(id, number) {
            m.reminded.push(days);
        }
        self.emit(
            out,
            Derived::ReminderIssued {
                contract: id.clone(),
                milestone: number,
                due,
                days_before: days,
                cause,
            },
        );
        self.arm(id, number, at);
    }

    /// Whether a milestone's overdue warning (`overdue`) or default is due at
    /// `at`: the milestone is pending (closed or paused milestones are
    /// re-armed when the pause ends), the warning was not issued yet, and
    /// `at` has reached its target time. A deadline that fires before its
    /// target (the clock was extended) re-schedules itself at the target.
    /// Returns the filing index, the cause of the record to derive.
    fn stage_due(&mut self, at: i64, id: &ContractId, number: u32, overdue: bool) -> Option<u64> {
        let c = self.contracts.get(id)?;
        let m = c.milestones.get(&number)?;
        if !matches!(m.status, Status::Pending) || (overdue && m.overdue) {
            return None;
        }
        let (target, deadline) = if overdue {
            (
                self.overdue_at(m),
                Deadline::Overdue {
                    contract: id.clone(),
                    milestone: number,
                },
            )
        } else {
            (
                self.default_at(m),
                Deadline::Default {
                    contract: id.clone(),
                    milestone: number,
                },
            )
        };
        let cause = c.filed_at;
        if at < target {
            self.schedule(target, deadline);
            return None;
        }
        Some(cause)
    }

    fn fire_overdue(&mut self, out: &mut Vec<Derived>, at: i64, id: &ContractId, number: u32) {
        let Some(cause) = self.stage_due(at, id, number, true) else {
            return;
        };
        let Some(m) = self.milestone_mut(id, number) else {
            return;
        };
        m.overdue = true;
        let due = m.due;
        self.emit(
            out,
            Derived::OverdueWarning {
                contract: id.clone(),
                milestone: number,
                due,
                cause,
            },
        );
        self.arm(id, number, at);
    }

    fn fire_default(&mut self, out: &mut Vec<Derived>, at: i64, id: &ContractId, number: u32) {
        if let Some(cause) = self.stage_due(at, id, number, false) {
            self.determine_default(out, id, number, Extent::Full, cause, at);
        }
    }

    fn fire_deemed(
        &mut self,
        out: &mut Vec<Derived>,
        now: i64,
        id: &ContractId,
        number: u32,
        claim_index: u64,
    ) {
        let Some(m) = self
            .contracts
            .get(id)
            .and_then(|c| c.milestones.get(&number))
        else {
            return;
        };
        let Status::Claimed {
            performed,
            claim_index: current,
            ..
        } = m.status
        else {
            return;
        };
        if current != claim_index {
            return;
        }
        self.close_performed(
            out,
            id,
            number,
            performed,
            Closure::Deemed,
            claim_index,
            now,
        );
    }
}
