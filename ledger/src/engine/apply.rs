//! Applying admitted submissions: the event-driven rules.

use super::state::*;
use super::{Engine, time};
use crate::Hash;
use crate::event::{Event, ExemptionGround, KeyRegistration, Milestone, Source};
use crate::record::{Closure, Derived};
use crate::types::{ContractId, Date, Subject};

/// Digest of an amendment's milestones: parties agree when theirs match.
fn milestones_digest(ms: &[Milestone]) -> Hash {
    let bytes = crate::codec::encode(&ms.to_vec()).unwrap_or_default();
    crate::hash::labelled_hash(b"lvyue/amendment/v1\n", &bytes)
}

impl Engine {
    /// Applies an admitted submission (checked with [`Engine::check`]) at
    /// node time `time_ms`. The submission takes the next log index; the
    /// returned derived records follow it.
    pub fn apply(&mut self, event: &Event, signer: &KeyRegistration, time_ms: i64) -> Vec<Derived> {
        let index = self.next_index;
        self.next_index += 1;
        let mut out = Vec::new();
        let who = &signer.holder;
        match event {
            Event::Genesis { rules, .. } => self.rules = rules.clone(),
            Event::RuleSetPublished { rules } => {
                self.rules = rules.clone();
                self.rearm_all(time_ms);
            }
            Event::KeyRegistered { .. } | Event::KeyRevoked { .. } | Event::Tick {} => {}
            Event::ContractFiled { contract } => self.file(contract, signer, index, time_ms),
            Event::FilingAcknowledged { contract, party } => {
                if let Some(c) = self.contracts.get_mut(contract) {
                    c.acknowledged.push(party.clone());
                    c.acknowledged.sort();
                }
            }
            Event::ContractAmended {
                contract,
                amendment,
                milestones,
                ..
            } => {
                self.agree_amendment(contract, *amendment, milestones, who, time_ms);
            }
            Event::PerformanceConfirmed {
                contract,
                milestone,
                performed,
                ..
            } => {
                self.confirm(&mut out, contract, *milestone, *performed, index, time_ms);
            }
            Event::PerformanceClaimed {
                contract,
                milestone,
                performed,
                ..
            } => {
                let today = self.today(time_ms);
                let deadline_ms = time::start_of(
                    i64::from(today) + 1 + i64::from(self.rules.dispute_days),
                    self.rules.utc_offset_minutes,
                );
                self.set_status(
                    contract,
                    *milestone,
                    Status::Claimed {
                        performed: *performed,
                        claim_index: index,
                        deadline_ms,
                    },
                );
                self.schedule(
                    deadline_ms,
                    Deadline::Deemed {
                        contract: contract.clone(),
                        milestone: *milestone,
                        claim_index: index,
                    },
                );
            }
            Event::ClaimDisputed {
                contract,
                milestone,
                ..
            } => {
                self.set_status(contract, *milestone, Status::Pending);
                self.arm(contract, *milestone, time_ms);
            }
            Event::NonPerformanceReported {
                contract,
                milestone,
                extent,
                ..
            } => {
                self.determine_default(&mut out, contract, *milestone, *extent, index, time_ms);
            }
            Event::ExemptionClaimed {
                contract,
                milestone,
                ground,
                ..
            } => {
                let was_defaulted = self
                    .milestone_mut(contract, *milestone)
                    .is_some_and(|m| m.default_index.is_some());
                self.set_status(
                    contract,
                    *milestone,
                    Status::Exemption {
                        claim_index: index,
                        since_ms: time_ms,
                        was_defaulted,
                    },
                );
                let rec = ClaimRec {
                    contract: contract.clone(),
                    milestone: *milestone,
                    ground: *ground,
                    decided: false,
                };
                self.claims.insert(index, rec);
            }
            Event::ExemptionDecided {
                claim_index,
                approved,
                ..
            } => self.decide_exemption(&mut out, *claim_index, *approved, index, time_ms),
            Event::ObjectionFiled { target_index, .. } => {
                self.objections.insert(
                    index,
                    ObjectionRec {
                        target: *target_index,
                        decided: false,
                    },
                );
            }
            Event::ObjectionDecided {
                objection_index,
                upheld,
                ..
            } => self.decide_objection(&mut out, *objection_index, *upheld, index, time_ms),
            Event::RepairApplied { entity, .. } => {
                self.repairs.insert(
                    index,
                    RepairRec {
                        entity: entity.clone(),
                        decided: false,
                    },
                );
            }
            Event::RepairDecided {
                application_index,
                approved,
                ..
            } => {
                let Some(r) = self.repairs.get_mut(application_index) else {
                    return out;
                };
                r.decided = true;
                let entity = r.entity.clone();
                if *approved {
                    self.repair(&mut out, &entity, index, time_ms);
                }
            }
            Event::DelegationGranted {
                principal,
                agency,
                until,
            } => {
                self.delegations.insert((*principal, *agency), *until);
            }
            Event::DelegationRevoked { principal, agency } => {
                self.delegations.remove(&(*principal, *agency));
            }
            // A settlement takes effect when every party submits it as a ContractAmended.
            Event::MediationRecorded { .. } => {}
        }
        out
    }

    /// A new rule set applies to milestones already open: their deadlines
    /// are scheduled again under the new parameters (stale ones do nothing
    /// when they fire; a deadline that moved later re-schedules itself).
    fn rearm_all(&mut self, time_ms: i64) {
        let open: Vec<(ContractId, u32)> = self
            .contracts
            .iter()
            .flat_map(|(id, c)| {
                c.milestones
                    .iter()
                    .filter(|(_, m)| matches!(m.status, Status::Pending))
                    .map(move |(n, _)| (id.clone(), *n))
            })
            .collect();
        for (id, n) in open {
            self.arm(&id, n, time_ms);
        }
    }

    fn file(
        &mut self,
        c: &crate::event::Contract,
        signer: &KeyRegistration,
        index: u64,
        time_ms: i64,
    ) {
        let filer = match &c.source {
            Source::Delegated { principal } => Subject::Org(*principal),
            _ => signer.holder.clone(),
        };
        let milestones = c
            .milestones
            .iter()
            .map(|m| (m.number, MilestoneState::new(m)))
            .collect();
        let state = ContractState {
            filed_at: index,
            signed: c.signed,
            filer,
            filer_role: signer.role,
            source: c.source.clone(),
            parties: c.parties.iter().map(|p| p.subject.clone()).collect(),
            acknowledged: Vec::new(),
            milestones,
            amendment: 0,
            proposals: Default::default(),
            completed: false,
        };
        self.contracts.insert(c.id.clone(), state);
        for m in &c.milestones {
            self.arm(&c.id, m.number, time_ms);
        }
    }

    /// Records one party's agreement; applies the amendment once every party agreed.
    fn agree_amendment(
        &mut self,
        id: &ContractId,
        number: u32,
        ms: &[Milestone],
        who: &Subject,
        time_ms: i64,
    ) {
        let digest = milestones_digest(ms);
        let Some(c) = self.contracts.get_mut(id) else {
            return;
        };
        let agreed = c.proposals.entry(number).or_default();
        agreed.push((who.clone(), digest));
        let all = c
            .parties
            .iter()
            .all(|p| agreed.iter().any(|(q, d)| q == p && *d == digest));
        if !all {
            return;
        }
        c.proposals.retain(|n, _| *n > number);
        c.amendment = number;
        for m in ms {
            c.milestones.insert(m.number, MilestoneState::new(m));
        }
        for m in ms {
            self.arm(id, m.number, time_ms);
        }
    }

    fn confirm(
        &mut self,
        out: &mut Vec<Derived>,
        id: &ContractId,
        n: u32,
        performed: Date,
        cause: u64,
        time_ms: i64,
    ) {
        let Some(m) = self.milestone_mut(id, n) else {
            return;
        };
        if m.default_index.is_some() {
            // Performance after a determined default resolves it for repair; it does not undo it.
            m.resolved_after_default = true;
            return;
        }
        let closure = if performed <= m.due {
            Closure::OnTime
        } else {
            Closure::Late
        };
        self.close_performed(out, id, n, performed, closure, cause, time_ms);
    }

    /// Closes a milestone as performed on `performed` (confirmed or deemed):
    /// +1 on time (capped per year) or −2 late for the obligor, then the
    /// contract bonus when every milestone closed on time.
    #[allow(clippy::too_many_arguments)] // one rule, its inputs
    pub(crate) fn close_performed(
        &mut self,
        out: &mut Vec<Derived>,
        id: &ContractId,
        n: u32,
        performed: Date,
        closure: Closure,
        cause: u64,
        time_ms: i64,
    ) {
        let Some(c) = self.contracts.get(id) else {
            return;
        };
        let Some(m) = c.milestones.get(&n) else {
            return;
        };
        let on_time = performed <= m.due;
        let obligor = m.obligor.clone();
        let counted = Engine::counts(c, &obligor);
        self.set_status(id, n, Status::Closed { closure, on_time });
        let closed = self.emit(
            out,
            Derived::MilestoneClosed {
                contract: id.clone(),
                milestone: n,
                closure,
                cause,
            },
        );
        if counted {
            if on_time {
                self.on_time_point(out, &obligor, closed, time_ms);
            } else {
                let delta = self.rules.late_delta;
                self.change_score(out, &obligor, delta, "late", closed, time_ms);
            }
        }
        self.maybe_complete(out, id, closed, time_ms);
    }

    fn on_time_point(&mut self, out: &mut Vec<Derived>, who: &Subject, cause: u64, time_ms: i64) {
        let year = time::year_of(self.today(time_ms));
        let (delta, cap) = (self.rules.on_time_delta, self.rules.on_time_yearly_cap);
        let e = self.entity(who);
        let used = e.on_time_points.get(&year).copied().unwrap_or(0);
        let grant = delta.min(cap - used).max(0);
        if grant == 0 {
            return;
        }
        e.on_time_points.insert(year, used + grant);
        self.change_score(out, who, grant, "on_time", cause, time_ms);
    }

    /// When every milestone is closed on time: +5 to each obligor it counts for.
    fn maybe_complete(
        &mut self,
        out: &mut Vec<Derived>,
        id: &ContractId,
        cause: u64,
        time_ms: i64,
    ) {
        let Some(c) = self.contracts.get(id) else {
            return;
        };
        let all_closed = c
            .milestones
            .values()
            .all(|m| matches!(m.status, Status::Closed { .. }));
        if c.completed || !all_closed {
            return;
        }
        let performed =
            |closure: Closure| matches!(closure, Closure::OnTime | Closure::Late | Closure::Deemed);
        // Fully performed: every milestone performed (late included); the bonus needs every one on time.
        let fully_performed = c
            .milestones
            .values()
            .all(|m| matches!(m.status, Status::Closed { closure, .. } if performed(closure)));
        let all_on_time = fully_performed
            && c.milestones
                .values()
                .all(|m| matches!(m.status, Status::Closed { on_time: true, .. }));
        let mut obligors: Vec<Subject> = c
            .milestones
            .values()
            .map(|m| m.obligor.clone())
            .filter(|o| Engine::counts(c, o))
            .collect();
        obligors.sort();
        obligors.dedup();
        if let Some(c) = self.contracts.get_mut(id) {
            c.completed = true;
        }
        if !fully_performed {
            return;
        }
        let today = self.today(time_ms);
        let delta = self.rules.contract_on_time_delta;
        for o in obligors {
            self.entity(&o).completions.push(today);
            if all_on_time {
                self.change_score(out, &o, delta, "contract_on_time", cause, time_ms);
            } else {
                self.check_red(out, &o, cause, time_ms);
            }
        }
    }

    fn decide_exemption(
        &mut self,
        out: &mut Vec<Derived>,
        claim: u64,
        approved: bool,
        index: u64,
        time_ms: i64,
    ) {
        let Some(rec) = self.claims.get_mut(&claim) else {
            return;
        };
        rec.decided = true;
        let (id, n, ground) = (rec.contract.clone(), rec.milestone, rec.ground);
        let _ = ground == ExemptionGround::ForceMajeure;
        let Some(m) = self.milestone_mut(&id, n) else {
            return;
        };
        let Status::Exemption {
            since_ms,
            was_defaulted,
            ..
        } = m.status
        else {
            return;
        };
        if approved {
            let default = m.default_index.take();
            m.status = Status::Closed {
                closure: Closure::Exempt,
                on_time: false,
            };
            if let Some(d) = default {
                self.reverse_default(out, d, index, time_ms);
            }
            self.emit(
                out,
                Derived::MilestoneClosed {
                    contract: id.clone(),
                    milestone: n,
                    closure: Closure::Exempt,
                    cause: index,
                },
            );
            self.maybe_complete(out, &id, index, time_ms);
            return;
        }
        if was_defaulted {
            m.status = Status::Closed {
                closure: Closure::Defaulted,
                on_time: false,
            };
            return;
        }
        // Refused: the clock resumes, extended by the pause.
        m.extension_ms += time_ms - since_ms;
        m.status = Status::Pending;
        self.arm(&id, n, time_ms);
    }

    /// Undoes a default exactly: `DefaultReversed` and the opposite score change.
    fn reverse_default(&mut self, out: &mut Vec<Derived>, default: u64, cause: u64, time_ms: i64) {
        let Some(d) = self.defaults.get_mut(&default) else {
            return;
        };
        if d.reversed {
            return;
        }
        d.reversed = true;
        let (entity, delta, id, n) = (d.entity.clone(), d.delta, d.contract.clone(), d.milestone);
        if let Some(m) = self.milestone_mut(&id, n) {
            if m.default_index == Some(default) {
                m.default_index = None;
            }
        }
        let r = self.emit(
            out,
            Derived::DefaultReversed {
                default_index: default,
                cause,
            },
        );
        self.change_score(out, &entity, -delta, "reversal", r, time_ms);
        self.withdraw_unsupported_notice(out, &entity, r, time_ms);
    }

    /// After a reversal: if the entity's standing demand notice no longer
    /// rests on `black_defaults` active defaults, the notice is withdrawn —
    /// its deduction undone and the entity taken off the black list.
    fn withdraw_unsupported_notice(
        &mut self,
        out: &mut Vec<Derived>,
        entity: &Subject,
        cause: u64,
        time_ms: i64,
    ) {
        let Some(black) = self.entities.get(entity).and_then(|e| e.black.clone()) else {
            return;
        };
        let Some(n) = self.notices.get(&black.notice_index) else {
            return;
        };
        let standing = n
            .defaults
            .iter()
            .filter(|i| self.defaults.get(i).is_some_and(|d| !d.reversed))
            .count();
        if n.reversed || standing >= self.rules.black_defaults as usize {
            return;
        }
        let delta = n.delta;
        if let Some(n) = self.notices.get_mut(&black.notice_index) {
            n.reversed = true;
        }
        self.change_score(out, entity, -delta, "reversal", cause, time_ms);
        self.unlist_black(
            out,
            entity,
            "demand notice withdrawn: its defaults were reversed",
            cause,
            time_ms,
        );
    }

    fn decide_objection(
        &mut self,
        out: &mut Vec<Derived>,
        objection: u64,
        upheld: bool,
        index: u64,
        time_ms: i64,
    ) {
        let Some(o) = self.objections.get_mut(&objection) else {
            return;
        };
        o.decided = true;
        let target = o.target;
        if !upheld {
            return;
        }
        if self.defaults.contains_key(&target) {
            self.reverse_default(out, target, index, time_ms);
            return;
        }
        let Some(n) = self.notices.get_mut(&target) else {
            return;
        };
        if n.reversed {
            return;
        }
        n.reversed = true;
        let (entity, delta) = (n.entity.clone(), n.delta);
        self.change_score(out, &entity, -delta, "reversal", index, time_ms);
        if self
            .entities
            .get(&entity)
            .and_then(|e| e.black.as_ref())
            .is_some_and(|b| b.notice_index == target)
        {
            self.unlist_black(out, &entity, "objection upheld", index, time_ms);
        }
    }

    /// Repair approved: the demand-notice deduction is restored and the entity leaves the black list.
    fn repair(&mut self, out: &mut Vec<Derived>, entity: &Subject, index: u64, time_ms: i64) {
        let Some(black) = self.entities.get(entity).and_then(|e| e.black.clone()) else {
            return;
        };
        let delta = self
            .notices
            .get(&black.notice_index)
            .filter(|n| !n.reversed)
            .map_or(0, |n| n.delta);
        // The deduction is given back once: a later objection or withdrawal finds it undone.
        if let Some(n) = self.notices.get_mut(&black.notice_index) {
            n.reversed = true;
        }
        if delta != 0 {
            self.change_score(out, entity, -delta, "repair", index, time_ms);
        }
        self.unlist_black(out, entity, "credit repair approved", index, time_ms);
    }
}
