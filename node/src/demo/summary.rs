//! What a built demo holds, read back from the store: the audit's counts,
//! every kind of record, and the final state of a freshly replayed rules
//! engine (lists, open milestones).

use super::plan::City;
use super::{DemoOptions, subject_name};
use crate::node::Node;
use lvyue_ledger::admission::Registry;
use lvyue_ledger::engine::Engine;
use lvyue_ledger::engine::state::Status;
use lvyue_ledger::event::{Event, Extent, MediationOutcome, Source};
use lvyue_ledger::hash::sha256;
use lvyue_ledger::record::{Body, Closure, Derived, Entry, ListKind};
use lvyue_ledger::store::{Store, StoreConfig};
use lvyue_ledger::types::{ContractId, Date};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// An entity on a list at the end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Listed {
    pub name: String,
    pub subject: String,
    pub score: i64,
}

/// Counts of a built demo (see the module documentation of `demo`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DemoSummary {
    pub seed: u64,
    pub origin: String,
    pub first_day: String,
    pub last_day: String,
    /// Log entries, of which submitted and derived.
    pub entries: u64,
    pub submitted: u64,
    pub derived: u64,
    pub departments: usize,
    pub data_feeds: usize,
    pub service_agencies: usize,
    pub firms: usize,
    pub natural_persons: usize,
    /// Keys in the log: the node's, the office's and one per organisation.
    pub keys: usize,
    pub contracts: usize,
    /// By category (snake_case names of `Category`).
    pub contracts_by_category: BTreeMap<String, usize>,
    /// By source: department, self_filed, import, delegated.
    pub contracts_by_source: BTreeMap<String, usize>,
    pub acknowledgements: usize,
    pub milestones: usize,
    /// Milestones by how they stand at the end (each counted once).
    pub closed_on_time: usize,
    pub closed_late: usize,
    pub closed_deemed: usize,
    pub closed_exempt: usize,
    pub closed_defaulted: usize,
    pub claims_disputed: usize,
    /// Contracts with an amendment in force (agreed by every party).
    pub contracts_amended: usize,
    /// Open at the end, not overdue.
    pub still_pending: usize,
    /// Open at the end, overdue warning issued.
    pub overdue_at_end: usize,
    pub reminders: usize,
    pub overdue_warnings: usize,
    pub defaults_after_grace: usize,
    pub defaults_reported_full: usize,
    pub defaults_reported_partial: usize,
    pub defaults_reversed: usize,
    pub exemptions_approved: usize,
    pub exemptions_refused: usize,
    pub objections_upheld: usize,
    pub objections_refused: usize,
    pub demand_notices: usize,
    pub repairs_approved: usize,
    pub repairs_refused: usize,
    pub delegations_granted: usize,
    pub delegations_revoked: usize,
    pub mediations_settled: usize,
    pub mediations_failed: usize,
    pub score_changes: usize,
    pub red_list: Vec<Listed>,
    pub black_list: Vec<Listed>,
    /// Submissions the plan made to show a refusal (a force-majeure claim
    /// for an event after the due date), all refused.
    pub refused_as_expected: usize,
    /// SHA-256 over every entry's index, time and content, leaving out
    /// keys, nonces and signatures: equal for equal options.
    pub content_digest: String,
    /// Key files written, relative to the data folder.
    pub key_files: Vec<String>,
}

impl DemoSummary {
    /// The kinds of record or outcome this demo lacks (empty for every
    /// demo `build` accepts).
    #[must_use]
    pub fn missing(&self) -> Vec<String> {
        let mut out: Vec<String> = [
            ("on-time milestone", self.closed_on_time),
            ("late milestone", self.closed_late),
            ("deemed milestone", self.closed_deemed),
            ("exempt milestone", self.closed_exempt),
            ("defaulted milestone", self.closed_defaulted),
            ("disputed claim", self.claims_disputed),
            ("amended contract", self.contracts_amended),
            ("pending milestone", self.still_pending),
            ("overdue milestone", self.overdue_at_end),
            ("default after grace", self.defaults_after_grace),
            ("reported full default", self.defaults_reported_full),
            ("reported partial default", self.defaults_reported_partial),
            ("reversed default", self.defaults_reversed),
            ("approved exemption", self.exemptions_approved),
            ("refused exemption", self.exemptions_refused),
            ("upheld objection", self.objections_upheld),
            ("refused objection", self.objections_refused),
            ("demand notice", self.demand_notices),
            ("approved repair", self.repairs_approved),
            ("refused repair", self.repairs_refused),
            ("acknowledgement", self.acknowledgements),
            ("delegation", self.delegations_granted),
            ("revoked delegation", self.delegations_revoked),
            ("settled mediation", self.mediations_settled),
            ("failed mediation", self.mediations_failed),
            ("red-listed entity", self.red_list.len()),
            ("black-listed entity", self.black_list.len()),
            ("refused force-majeure claim", self.refused_as_expected),
            ("natural person", self.natural_persons),
        ]
        .into_iter()
        .filter(|&(_, n)| n == 0)
        .map(|(what, _)| what.to_string())
        .collect();
        if self.contracts_by_category.len() < 8 {
            out.push("a contract of every category".into());
        }
        for source in ["department", "self_filed", "import", "delegated"] {
            if !self.contracts_by_source.contains_key(source) {
                out.push(format!("a contract with source {source}"));
            }
        }
        out
    }
}

fn snake<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(m)) => m.keys().next().cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

/// Opens the stopped node's store, audits it in full and counts.
pub fn summarize(
    dir: &Path,
    node: &Node,
    city: &City,
    opts: &DemoOptions,
    refused: usize,
    key_files: Vec<String>,
) -> Result<DemoSummary, String> {
    let store =
        Store::open(&dir.join("store"), &StoreConfig::default()).map_err(|e| e.to_string())?;
    let view = store.view();
    let audit = view
        .audit(&node.origin, &node.vkey)
        .map_err(|e| format!("the demo log fails its audit: {e}"))?;
    let mut registry = Registry::default();
    for state in view.key_states().map_err(|e| e.to_string())? {
        registry.restore(state).map_err(|e| e.to_string())?;
    }
    let last = opts.start.days() + opts.days as i32 - 1;
    let mut s = DemoSummary {
        seed: opts.seed,
        origin: opts.origin.clone(),
        first_day: opts.start.to_string(),
        last_day: Date::from_days(last)?.to_string(),
        entries: audit.size,
        submitted: audit.submitted,
        derived: audit.derived,
        departments: city.depts.len(),
        data_feeds: 1,
        service_agencies: 1,
        firms: city.firms.len(),
        natural_persons: city.persons.len(),
        refused_as_expected: refused,
        key_files,
        ..DemoSummary::default()
    };
    let mut engine = Engine::new();
    let mut digest = Vec::new();
    let mut reports = BTreeSet::new();
    let mut contracts = Vec::new();
    for r in view.entries(0, audit.size) {
        let (i, bytes) = r.map_err(|e| e.to_string())?;
        let entry = Entry::decode(&bytes).map_err(|e| format!("entry {i}: {e}"))?;
        engine.replay(&entry, &registry);
        digest.extend_from_slice(&entry.index.to_be_bytes());
        digest.extend_from_slice(&entry.time_ms.to_be_bytes());
        let content = match &entry.body {
            Body::Submitted(signed) => {
                let e = &signed.payload.event;
                if let Event::ContractFiled { contract } = e {
                    contracts.push(contract.id.clone());
                }
                if let Event::NonPerformanceReported { .. } = e {
                    reports.insert(i);
                }
                s.count_event(e);
                let mut c = signed.payload.signer.name.as_str().as_bytes().to_vec();
                c.extend(event_content(e)?);
                c
            }
            Body::Derived(d) => {
                s.count_derived(d, &reports);
                lvyue_ledger::codec::encode(d).map_err(|e| e.to_string())?
            }
        };
        digest.extend_from_slice(&sha256(&content).0);
    }
    s.content_digest = sha256(&digest).to_hex();
    s.final_state(&engine, &contracts, city);
    Ok(s)
}

/// An event's canonical bytes without the keys it registers (fresh each run).
fn event_content(e: &Event) -> Result<Vec<u8>, String> {
    let e = match e {
        Event::Genesis { .. } => return Ok(b"genesis".to_vec()),
        Event::KeyRegistered { key } => {
            let mut key = key.clone();
            key.public_key = [0; 32];
            Event::KeyRegistered { key }
        }
        other => other.clone(),
    };
    lvyue_ledger::codec::encode(&e).map_err(|e| e.to_string())
}

impl DemoSummary {
    fn count_event(&mut self, e: &Event) {
        match e {
            Event::Genesis { office_keys, .. } => self.keys += 1 + office_keys.len(),
            Event::KeyRegistered { .. } => self.keys += 1,
            Event::ContractFiled { contract } => {
                self.contracts += 1;
                self.milestones += contract.milestones.len();
                *self
                    .contracts_by_category
                    .entry(snake(&contract.category))
                    .or_default() += 1;
                let source = match contract.source {
                    Source::Department => "department",
                    Source::SelfFiled => "self_filed",
                    Source::Import { .. } => "import",
                    Source::Delegated { .. } => "delegated",
                };
                *self.contracts_by_source.entry(source.into()).or_default() += 1;
            }
            Event::FilingAcknowledged { .. } => self.acknowledgements += 1,
            Event::ClaimDisputed { .. } => self.claims_disputed += 1,
            Event::ExemptionDecided { approved, .. } => {
                *if *approved {
                    &mut self.exemptions_approved
                } else {
                    &mut self.exemptions_refused
                } += 1;
            }
            Event::ObjectionDecided { upheld, .. } => {
                *if *upheld {
                    &mut self.objections_upheld
                } else {
                    &mut self.objections_refused
                } += 1;
            }
            Event::RepairDecided { approved, .. } => {
                *if *approved {
                    &mut self.repairs_approved
                } else {
                    &mut self.repairs_refused
                } += 1;
            }
            Event::DelegationGranted { .. } => self.delegations_granted += 1,
            Event::DelegationRevoked { .. } => self.delegations_revoked += 1,
            Event::MediationRecorded { outcome, .. } => match outcome {
                MediationOutcome::Settled { .. } => self.mediations_settled += 1,
                MediationOutcome::Failed => self.mediations_failed += 1,
            },
            _ => {}
        }
    }

    fn count_derived(&mut self, d: &Derived, reports: &BTreeSet<u64>) {
        match d {
            Derived::ReminderIssued { .. } => self.reminders += 1,
            Derived::OverdueWarning { .. } => self.overdue_warnings += 1,
            Derived::DefaultDetermined { extent, cause, .. } => {
                match (reports.contains(cause), extent) {
                    (false, _) => self.defaults_after_grace += 1,
                    (true, Extent::Full) => self.defaults_reported_full += 1,
                    (true, Extent::Partial) => self.defaults_reported_partial += 1,
                }
            }
            Derived::DefaultReversed { .. } => self.defaults_reversed += 1,
            Derived::DemandNoticePublished { .. } => self.demand_notices += 1,
            Derived::ScoreChanged { .. } => self.score_changes += 1,
            Derived::ListChanged { .. } => {}
            // Counted from the final state: an exemption approved after a
            // default closes a milestone a second time (RULES.md Example 8).
            Derived::MilestoneClosed { .. } => {}
        }
    }

    /// Open milestones, amendments and lists from the replayed engine.
    fn final_state(&mut self, engine: &Engine, contracts: &[ContractId], city: &City) {
        for id in contracts {
            let Some(c) = engine.contract(id) else {
                continue;
            };
            if c.amendment > 0 {
                self.contracts_amended += 1;
            }
            for m in c.milestones.values() {
                if let Status::Closed { closure, .. } = m.status {
                    *match closure {
                        Closure::OnTime => &mut self.closed_on_time,
                        Closure::Late => &mut self.closed_late,
                        Closure::Deemed => &mut self.closed_deemed,
                        Closure::Exempt => &mut self.closed_exempt,
                        Closure::Defaulted => &mut self.closed_defaulted,
                    } += 1;
                } else if m.overdue {
                    self.overdue_at_end += 1;
                } else {
                    self.still_pending += 1;
                }
            }
        }
        for (subject, e) in engine.entities() {
            let listed = || Listed {
                name: subject_name(city, subject),
                subject: subject.to_string(),
                score: e.score,
            };
            if engine.listed(subject, ListKind::Red) {
                self.red_list.push(listed());
            }
            if engine.listed(subject, ListKind::Black) {
                self.black_list.push(listed());
            }
        }
    }
}
