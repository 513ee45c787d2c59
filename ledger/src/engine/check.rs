//! Party authorization and validation: whether the rule book allows a
//! submitted event, checked without changing the engine.
//!
//! Role checks (which roles may sign which kind) happen earlier, in
//! admission; here the question is whether *this* signer may act on *this*
//! contract, milestone or record, and whether the event makes sense now.

use super::state::{ContractState, MilestoneState, Status};
use super::{Engine, RuleError};
use crate::event::{Contract, Event, ExemptionGround, KeyRegistration, Milestone, Source};
use crate::record::Closure;
use crate::types::{ContractId, Date, Role, Subject};
use std::collections::BTreeSet;

fn forbidden(msg: String) -> RuleError {
    RuleError::Forbidden(msg)
}

fn invalid(msg: String) -> RuleError {
    RuleError::Invalid(msg)
}

fn show_day(day: i32) -> String {
    Date::from_days(day).map_or_else(|_| format!("day {day}"), |d| d.to_string())
}

fn check_performed(performed: Date, today: i32, id: &ContractId, n: u32) -> Result<(), RuleError> {
    if performed.days() > today {
        return Err(invalid(format!(
            "performed date {performed} of {id}#{n} is in the future"
        )));
    }
    Ok(())
}

impl Engine {
    /// Whether `signer` may submit `event` at node time `time_ms`.
    pub fn check(
        &self,
        event: &Event,
        signer: &KeyRegistration,
        time_ms: i64,
    ) -> Result<(), RuleError> {
        let who = &signer.holder;
        let today = self.today(time_ms);
        match event {
            Event::Genesis { .. }
            | Event::KeyRegistered { .. }
            | Event::KeyRevoked { .. }
            | Event::Tick {} => Ok(()),
            Event::RuleSetPublished { rules } => self.check_rules(rules),
            Event::ContractFiled { contract } => self.check_filing(contract, signer, today),
            Event::FilingAcknowledged { contract, party } => {
                let c = self.contract_ref(contract)?;
                if party != who {
                    return Err(forbidden(format!(
                        "key holder {who} may not acknowledge for {party}"
                    )));
                }
                if !c.parties.contains(party) {
                    return Err(forbidden(format!(
                        "{party} is not a party to contract {contract}"
                    )));
                }
                if c.acknowledged.contains(party) {
                    return Err(RuleError::Conflict(format!(
                        "{party} already acknowledged contract {contract}"
                    )));
                }
                Ok(())
            }
            Event::ContractAmended {
                contract,
                amendment,
                milestones,
                ..
            } => self.check_amendment(contract, *amendment, milestones, who),
            Event::PerformanceConfirmed {
                contract,
                milestone,
                performed,
                ..
            } => {
                let (c, m) = self.milestone_ref(contract, *milestone)?;
                self.may_act_as_obligee(c, m, signer, contract, *milestone)?;
                check_performed(*performed, today, contract, *milestone)?;
                let _ = c;
                match m.status {
                    Status::Closed {
                        closure: Closure::Defaulted,
                        ..
                    } if m.default_index.is_some() && !m.resolved_after_default => Ok(()),
                    Status::Closed { .. } => Err(RuleError::Conflict(format!(
                        "milestone {contract}#{milestone} is already closed"
                    ))),
                    Status::Exemption { .. } => Err(RuleError::Conflict(format!(
                        "milestone {contract}#{milestone} awaits an exemption decision"
                    ))),
                    _ => Ok(()),
                }
            }
            Event::PerformanceClaimed {
                contract,
                milestone,
                performed,
                ..
            } => {
                let (_, m) = self.milestone_ref(contract, *milestone)?;
                if m.obligor != *who {
                    return Err(forbidden(format!(
                        "only the obligor {} may claim performance of {contract}#{milestone}",
                        m.obligor
                    )));
                }
                check_performed(*performed, today, contract, *milestone)?;
                self.require_pending(m, contract, *milestone)
            }
            Event::ClaimDisputed {
                contract,
                milestone,
                ..
            } => {
                let (c, m) = self.milestone_ref(contract, *milestone)?;
                self.may_act_as_obligee(c, m, signer, contract, *milestone)?;
                match m.status {
                    Status::Claimed { deadline_ms, .. } if time_ms < deadline_ms => Ok(()),
                    Status::Claimed { .. } => Err(invalid(format!(
                        "the dispute window for {contract}#{milestone} has closed"
                    ))),
                    _ => Err(RuleError::Conflict(format!(
                        "milestone {contract}#{milestone} has no pending performance claim"
                    ))),
                }
            }
            Event::NonPerformanceReported {
                contract,
                milestone,
                ..
            } => {
                let (c, m) = self.milestone_ref(contract, *milestone)?;
                self.may_act_as_obligee(c, m, signer, contract, *milestone)?;
                if today <= m.due.days() {
                    return Err(invalid(format!(
                        "milestone {contract}#{milestone} is not due until the end of {}",
                        m.due
                    )));
                }
                self.require_pending(m, contract, *milestone)
            }
            Event::ExemptionClaimed {
                contract,
                milestone,
                ground,
                event_date,
                ..
            } => {
                let (_, m) = self.milestone_ref(contract, *milestone)?;
                if m.obligor != *who {
                    return Err(forbidden(format!(
                        "only the obligor {} may claim an exemption for {contract}#{milestone}",
                        m.obligor
                    )));
                }
                if *ground == ExemptionGround::ForceMajeure && *event_date > m.due {
                    return Err(invalid(format!(
                        "force majeure on {event_date} arose after the due date {} of {contract}#{milestone}: no exemption (民法典 590 ¶2)",
                        m.due
                    )));
                }
                if event_date.days() > today {
                    return Err(invalid(format!("event date {event_date} is in the future")));
                }
                match m.status {
                    Status::Pending => Ok(()),
                    Status::Closed {
                        closure: Closure::Defaulted,
                        ..
                    } if m.default_index.is_some() => Ok(()),
                    _ => Err(RuleError::Conflict(format!(
                        "milestone {contract}#{milestone} is not open to an exemption claim"
                    ))),
                }
            }
            Event::ExemptionDecided { claim_index, .. } => match self.claims.get(claim_index) {
                Some(c) if !c.decided => Ok(()),
                Some(_) => Err(RuleError::Conflict(format!(
                    "exemption claim {claim_index} is already decided"
                ))),
                None => Err(RuleError::NotFound(format!(
                    "no exemption claim at index {claim_index}"
                ))),
            },
            Event::ObjectionFiled { target_index, .. } => {
                self.check_objection(*target_index, who, today)
            }
            Event::ObjectionDecided {
                objection_index, ..
            } => match self.objections.get(objection_index) {
                Some(o) if !o.decided => Ok(()),
                Some(_) => Err(RuleError::Conflict(format!(
                    "objection {objection_index} is already decided"
                ))),
                None => Err(RuleError::NotFound(format!(
                    "no objection at index {objection_index}"
                ))),
            },
            Event::RepairApplied { entity, .. } => {
                self.check_repair_application(entity, who, today)
            }
            Event::RepairDecided {
                application_index,
                approved,
                ..
            } => self.check_repair_decision(*application_index, *approved, today),
            Event::DelegationGranted {
                principal, until, ..
            } => {
                if *who != Subject::Org(*principal) {
                    return Err(forbidden(format!(
                        "key holder {who} may not delegate for {principal}"
                    )));
                }
                match until {
                    Some(d) if d.days() < today => {
                        Err(invalid(format!("delegation ends {d}, in the past")))
                    }
                    _ => Ok(()),
                }
            }
            Event::DelegationRevoked { principal, agency } => {
                if *who != Subject::Org(*principal) {
                    return Err(forbidden(format!(
                        "key holder {who} may not revoke delegations of {principal}"
                    )));
                }
                if !self.delegations.contains_key(&(*principal, *agency)) {
                    return Err(RuleError::NotFound(format!(
                        "{principal} has not delegated to {agency}"
                    )));
                }
                Ok(())
            }
            Event::MediationRecorded { contract, .. } => {
                let c = self.contract_ref(contract)?;
                let Subject::Org(agency) = who else {
                    return Err(forbidden(format!("{who} is not a service agency")));
                };
                let delegated = c
                    .parties
                    .iter()
                    .any(|p| matches!(p, Subject::Org(u) if self.delegated(u, agency, today)));
                if delegated {
                    Ok(())
                } else {
                    Err(forbidden(format!(
                        "no party of {contract} has delegated to {agency}"
                    )))
                }
            }
        }
    }

    fn check_rules(&self, rules: &crate::rules::RuleSet) -> Result<(), RuleError> {
        if rules.version <= self.rules.version {
            return Err(invalid(format!(
                "rule set version {} is not above the version in force, {}",
                rules.version, self.rules.version
            )));
        }
        if rules.black_min_days > rules.black_max_days || rules.black_defaults == 0 {
            return Err(invalid("rule set: black_min_days must not exceed black_max_days, black_defaults must be ≥ 1".into()));
        }
        Ok(())
    }

    pub(crate) fn delegated(
        &self,
        principal: &crate::uscc::Uscc,
        agency: &crate::uscc::Uscc,
        today: i32,
    ) -> bool {
        match self.delegations.get(&(*principal, *agency)) {
            Some(None) => true,
            Some(Some(until)) => until.days() >= today,
            None => false,
        }
    }

    fn contract_ref(&self, id: &ContractId) -> Result<&ContractState, RuleError> {
        self.contracts
            .get(id)
            .ok_or_else(|| RuleError::NotFound(format!("unknown contract {id}")))
    }

    fn milestone_ref(
        &self,
        id: &ContractId,
        number: u32,
    ) -> Result<(&ContractState, &MilestoneState), RuleError> {
        let c = self.contract_ref(id)?;
        let m = c.milestones.get(&number).ok_or_else(|| {
            RuleError::NotFound(format!("contract {id} has no milestone {number}"))
        })?;
        Ok((c, m))
    }

    /// The obligee, or the source unit that filed the contract.
    fn may_act_as_obligee(
        &self,
        c: &ContractState,
        m: &MilestoneState,
        signer: &KeyRegistration,
        id: &ContractId,
        n: u32,
    ) -> Result<(), RuleError> {
        // The filing source unit speaks for the obligee side, never for itself as obligor.
        let source_unit = signer.role == Role::SourceUnit
            && c.filer_role == Role::SourceUnit
            && c.filer == signer.holder
            && m.obligor != signer.holder;
        if m.obligee == signer.holder || source_unit {
            return Ok(());
        }
        Err(forbidden(format!(
            "only the obligee {} or the filing source unit may act on {id}#{n}",
            m.obligee
        )))
    }

    fn require_pending(
        &self,
        m: &MilestoneState,
        id: &ContractId,
        n: u32,
    ) -> Result<(), RuleError> {
        match m.status {
            Status::Pending => Ok(()),
            _ => Err(RuleError::Conflict(format!(
                "milestone {id}#{n} is not open (it is closed, claimed or awaiting a decision)"
            ))),
        }
    }

    fn check_filing(
        &self,
        c: &Contract,
        signer: &KeyRegistration,
        today: i32,
    ) -> Result<(), RuleError> {
        if self.contracts.contains_key(&c.id) {
            return Err(RuleError::Conflict(format!(
                "contract {} is already filed",
                c.id
            )));
        }
        let parties: BTreeSet<&Subject> = c.parties.iter().map(|p| &p.subject).collect();
        if parties.len() < 2 || parties.len() != c.parties.len() {
            return Err(invalid(format!(
                "contract {} needs at least two distinct parties",
                c.id
            )));
        }
        for p in &c.parties {
            if let Subject::Person { masked_name, .. } = &p.subject {
                if p.name.as_str() != masked_name.as_str() {
                    return Err(invalid(format!(
                        "natural person party of {}: name must be the masked name {masked_name}",
                        c.id
                    )));
                }
            }
        }
        if c.signed.days() > today {
            return Err(invalid(format!(
                "contract {} signed date {} is in the future",
                c.id, c.signed
            )));
        }
        self.check_milestones(&c.id, &c.milestones, &parties, c.signed)?;
        self.check_source(c, signer, &parties, today)
    }

    fn check_milestones(
        &self,
        id: &ContractId,
        ms: &[Milestone],
        parties: &BTreeSet<&Subject>,
        signed: Date,
    ) -> Result<(), RuleError> {
        if ms.is_empty() {
            return Err(invalid(format!("contract {id} has no milestones")));
        }
        let mut numbers = BTreeSet::new();
        for m in ms {
            if m.number == 0 || !numbers.insert(m.number) {
                return Err(invalid(format!(
                    "contract {id}: milestone numbers must be unique and ≥ 1 (got {})",
                    m.number
                )));
            }
            for (what, s) in [("obligor", &m.obligor), ("obligee", &m.obligee)] {
                if !parties.contains(s) {
                    return Err(invalid(format!(
                        "contract {id}#{}: {what} {s} is not a party",
                        m.number
                    )));
                }
            }
            if m.obligor == m.obligee {
                return Err(invalid(format!(
                    "contract {id}#{}: obligor and obligee are the same",
                    m.number
                )));
            }
            if m.due < signed {
                return Err(invalid(format!(
                    "contract {id}#{}: due date {} is before the signed date {signed}",
                    m.number, m.due
                )));
            }
        }
        Ok(())
    }

    /// Who may file: a source unit or market entity that is a party, a data
    /// feed importing, a service agency under a live delegation from a party.
    fn check_source(
        &self,
        c: &Contract,
        signer: &KeyRegistration,
        parties: &BTreeSet<&Subject>,
        today: i32,
    ) -> Result<(), RuleError> {
        let who = &signer.holder;
        let ok = match (&signer.role, &c.source) {
            (Role::SourceUnit, Source::Department) | (Role::MarketEntity, Source::SelfFiled) => {
                parties.contains(who)
            }
            (Role::DataFeed, Source::Import { .. }) => true,
            (Role::ServiceAgency, Source::Delegated { principal }) => {
                let Subject::Org(agency) = who else {
                    return Err(forbidden(format!("{who} is not an agency")));
                };
                parties.contains(&Subject::Org(*principal))
                    && self.delegated(principal, agency, today)
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(forbidden(format!(
                "{} key of {who} may not file contract {} with source {:?}",
                signer.role, c.id, c.source
            )))
        }
    }

    fn check_amendment(
        &self,
        id: &ContractId,
        number: u32,
        ms: &[Milestone],
        who: &Subject,
    ) -> Result<(), RuleError> {
        let c = self.contract_ref(id)?;
        if !c.parties.contains(who) {
            return Err(forbidden(format!("{who} is not a party to contract {id}")));
        }
        if number <= c.amendment {
            return Err(invalid(format!(
                "amendment {number} of {id}: amendments up to {} are already applied",
                c.amendment
            )));
        }
        if c.proposals
            .get(&number)
            .is_some_and(|v| v.iter().any(|(p, _)| p == who))
        {
            return Err(RuleError::Conflict(format!(
                "{who} already agreed to amendment {number} of {id}"
            )));
        }
        let parties: BTreeSet<&Subject> = c.parties.iter().collect();
        if ms.is_empty() {
            return Err(invalid(format!(
                "amendment {number} of {id} replaces no milestones"
            )));
        }
        let mut numbers = BTreeSet::new();
        for m in ms {
            if !numbers.insert(m.number) || m.number == 0 {
                return Err(invalid(format!(
                    "amendment {number} of {id}: milestone numbers must be unique and ≥ 1"
                )));
            }
            if m.due < c.signed {
                return Err(invalid(format!(
                    "amendment {number} of {id}#{}: due date {} is before the signed date {}",
                    m.number, m.due, c.signed
                )));
            }
            if !parties.contains(&m.obligor)
                || !parties.contains(&m.obligee)
                || m.obligor == m.obligee
            {
                return Err(invalid(format!(
                    "amendment {number} of {id}#{}: obligor and obligee must be two different parties",
                    m.number
                )));
            }
            if let Some(old) = c.milestones.get(&m.number) {
                if !matches!(old.status, Status::Pending) {
                    return Err(RuleError::Conflict(format!(
                        "amendment {number} of {id}: milestone {} is not open",
                        m.number
                    )));
                }
            }
        }
        Ok(())
    }

    fn check_objection(&self, target: u64, who: &Subject, today: i32) -> Result<(), RuleError> {
        let (entity, day) = if let Some(d) = self.defaults.get(&target).filter(|d| !d.reversed) {
            (&d.entity, d.day)
        } else if let Some(n) = self.notices.get(&target).filter(|n| !n.reversed) {
            (&n.entity, n.day)
        } else {
            return Err(RuleError::NotFound(format!(
                "no standing default or demand notice at index {target}"
            )));
        };
        if entity != who {
            return Err(forbidden(format!(
                "only {entity} may object to the record at index {target}"
            )));
        }
        if i64::from(today) - i64::from(day) > i64::from(self.rules.objection_days) {
            return Err(invalid(format!(
                "the {}-day objection window for index {target} has closed",
                self.rules.objection_days
            )));
        }
        if self
            .objections
            .values()
            .any(|o| o.target == target && !o.decided)
        {
            return Err(RuleError::Conflict(format!(
                "an objection to index {target} is already pending"
            )));
        }
        Ok(())
    }

    fn check_repair_application(
        &self,
        entity: &Subject,
        who: &Subject,
        today: i32,
    ) -> Result<(), RuleError> {
        if entity != who {
            return Err(forbidden(format!(
                "only {entity} may apply for its own credit repair"
            )));
        }
        let Some(black) = self.entities.get(entity).and_then(|e| e.black.as_ref()) else {
            return Err(invalid(format!("{entity} is not on the black list")));
        };
        let earliest = i64::from(black.since_day) + i64::from(self.rules.black_min_days);
        if i64::from(today) < earliest {
            return Err(invalid(format!(
                "{entity} may apply for repair only after the minimum publicity of {} days: listed on {}, earliest {}",
                self.rules.black_min_days,
                show_day(black.since_day),
                show_day(i32::try_from(earliest).unwrap_or(i32::MAX))
            )));
        }
        if self
            .repairs
            .values()
            .any(|r| r.entity == *entity && !r.decided)
        {
            return Err(RuleError::Conflict(format!(
                "{entity} already has a repair application pending"
            )));
        }
        Ok(())
    }

    fn check_repair_decision(
        &self,
        application: u64,
        approved: bool,
        _today: i32,
    ) -> Result<(), RuleError> {
        let r = match self.repairs.get(&application) {
            Some(r) if !r.decided => r,
            Some(_) => {
                return Err(RuleError::Conflict(format!(
                    "repair application {application} is already decided"
                )));
            }
            None => {
                return Err(RuleError::NotFound(format!(
                    "no repair application at index {application}"
                )));
            }
        };
        if !approved {
            return Ok(());
        }
        let unresolved = self.unresolved_overdue(&r.entity);
        if !unresolved.is_empty() {
            return Err(invalid(format!(
                "{} has unresolved overdue milestones: {}; repair cannot be approved",
                r.entity,
                unresolved.join(", ")
            )));
        }
        Ok(())
    }

    /// Milestones of `entity` (as obligor, in contracts that count for it)
    /// that are overdue and neither performed nor exempted.
    pub(crate) fn unresolved_overdue(&self, entity: &Subject) -> Vec<String> {
        let mut out = Vec::new();
        for (id, c) in &self.contracts {
            for (n, m) in &c.milestones {
                if m.obligor != *entity || !Engine::counts(c, entity) {
                    continue;
                }
                let open_overdue = m.overdue
                    && matches!(
                        m.status,
                        Status::Pending | Status::Claimed { .. } | Status::Exemption { .. }
                    );
                let defaulted = m.default_index.is_some() && !m.resolved_after_default;
                if open_overdue || defaulted {
                    out.push(format!("{id}#{n}"));
                }
            }
        }
        out
    }
}
