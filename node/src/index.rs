//! Query indexes, kept in the store and written in the same atomic batch as
//! the entries they describe, so queries never scan the log and never see
//! an index ahead of (or behind) the head they read.
//!
//! The indexer is fed every entry of a batch as the sequencer builds it
//! (the submitted event with its signer, then each derived record) together
//! with the rules engine, whose state already includes the entry. At the
//! end of the batch it rewrites the status row of every contract the batch
//! touched and moves its due-date rows.
//!
//! Keys (`S` = [`book::subject_key`], `C` = [`contract_key`], integers
//! big-endian):
//! - `b…` — the public book ([`lvyue_ledger::book`])
//! - `xC‖C` → contract view (JSON, [`ContractView`]), with the contract's
//!   history (index and kind of every record about it) inline: the view is
//!   rewritten whenever a record touches the contract, so its history costs
//!   no row of its own
//! - `xe‖S‖index` → kind: records about an entity (its credit archive),
//!   except its filings (listed by `xp`/`xu`) and its score changes (`xg`)
//! - `xg‖S‖index` → "": the entity's score changes
//! - `xp‖S‖filed index` → [`ArchiveLine`] (JSON): contracts naming the entity as a party
//!   that it did not file
//! - `xf‖S‖filed index` → [`ArchiveLine`] (JSON): contracts naming the entity as a party
//!   that it filed itself (one row serves both of its archive's lists)
//! - `xu‖S‖filed index` → [`ArchiveLine`] (JSON): contracts the entity filed without being
//!   a party (a feed, an agency). The line is the contract as the entity's archive shows it,
//!   so an archive reads a few ranges, not a contract row per line; it is rewritten when the
//!   contract changes what it shows (completion, an amendment's milestones)
//! - `xd‖due‖C‖milestone` → "": open milestones by due date (city-wide)
//! - `xo‖S‖due‖C‖milestone` → "": open milestones of an organisation by due date
//! - `xw‖S‖index` → notification (JSON, [`Notification`]): the entity's feed
//! - `xi‖feed S‖external ref` → filing index: bulk-import idempotency
//! - `xr‖index` → "": rule sets published after genesis
//! - `xs` → city statistics (JSON, [`CityStats`])

use lvyue_ledger::book::{self, Rows, RowsError};
use lvyue_ledger::engine::Engine;
use lvyue_ledger::engine::state::{ContractState, Status};
use lvyue_ledger::event::{Event, KeyRegistration, Source};
use lvyue_ledger::record::{Closure, Derived, ListKind};
use lvyue_ledger::store::{Batch, StoreError, View};
use lvyue_ledger::types::{Category, ContractId, Date, Fen, Role, Subject};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Version of the index layout; a store whose index is of another version
/// (or has none) is re-indexed from its log at open.
pub const INDEX_VERSION: &str = "7";
/// Meta row naming the index version.
pub const INDEX_META: &str = "index_version";

/// `len(id) ‖ id`: contract ids of different lengths never share a prefix.
#[must_use]
pub fn contract_key(id: &ContractId) -> Vec<u8> {
    let b = id.as_str().as_bytes();
    let mut k = Vec::with_capacity(2 + b.len());
    k.extend_from_slice(&u16::try_from(b.len()).unwrap_or(u16::MAX).to_be_bytes());
    k.extend_from_slice(b);
    k
}

/// Due dates as order-preserving unsigned keys.
#[must_use]
pub fn day_key(d: Date) -> [u8; 4] {
    (d.days() as u32 ^ 0x8000_0000).to_be_bytes()
}

/// Builds a key from parts.
#[must_use]
pub fn key(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// One party of a contract as filed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartyView {
    pub subject: Subject,
    pub name: String,
    pub role: String,
}

/// One milestone's current status.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct MilestoneView {
    pub number: u32,
    pub obligor: Subject,
    pub obligee: Subject,
    pub due: Date,
    pub amount: Fen,
    /// pending | claimed | exemption_claimed | closed
    pub status: String,
    /// How it closed (when closed): on_time | late | deemed | exempt | defaulted.
    pub closure: Option<Closure>,
    /// The due date passed without performance (an overdue warning was issued).
    pub overdue: bool,
    /// Index of the active (not reversed) default on it.
    pub default_index: Option<u64>,
    /// Lead days of the reminders issued for the current due date.
    pub reminded: Vec<u32>,
}

/// One item of a history: the entry's index and kind.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct HistoryItem {
    pub index: u64,
    pub kind: String,
}

/// A contract and the status of each milestone.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ContractView {
    pub id: ContractId,
    pub category: Category,
    pub name: String,
    pub amount: Fen,
    pub signed: Date,
    /// Index of the `ContractFiled` entry.
    pub filed_index: u64,
    pub filed_ms: i64,
    pub filer: Subject,
    pub filer_role: Role,
    pub source: Source,
    pub parties: Vec<PartyView>,
    pub acknowledged: Vec<Subject>,
    pub amendment: u32,
    pub completed: bool,
    pub milestones: Vec<MilestoneView>,
    /// Every record about the contract, oldest first (stored in the row;
    /// the contract query serves it paginated beside the view).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryItem>,
}

/// A contract as one entity's credit archive lists it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArchiveLine {
    pub id: ContractId,
    pub name: String,
    /// The role named in the contract (e.g. 甲方), if a party.
    pub party_role: Option<String>,
    /// Filed by this entity (as source unit, feed, agency or itself).
    pub filer: bool,
    pub obligor_of: Vec<u32>,
    pub obligee_of: Vec<u32>,
    pub completed: bool,
}

impl ArchiveLine {
    /// The line of contract `v` for `who`.
    #[must_use]
    pub fn of(v: &ContractView, who: &Subject) -> ArchiveLine {
        ArchiveLine {
            id: v.id.clone(),
            name: v.name.clone(),
            party_role: v
                .parties
                .iter()
                .find(|p| &p.subject == who)
                .map(|p| p.role.clone()),
            filer: &v.filer == who,
            obligor_of: v
                .milestones
                .iter()
                .filter(|m| &m.obligor == who)
                .map(|m| m.number)
                .collect(),
            obligee_of: v
                .milestones
                .iter()
                .filter(|m| &m.obligee == who)
                .map(|m| m.number)
                .collect(),
            completed: v.completed,
        }
    }
}

/// The archive rows of a contract: one per party (`xp`, or `xf` for the
/// party that filed it) and, when the filer is not a party, one `xu`.
fn archive_rows(v: &ContractView) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, String> {
    let filed = v.filed_index.to_be_bytes();
    let mut out = BTreeMap::new();
    let line =
        |who: &Subject| serde_json::to_vec(&ArchiveLine::of(v, who)).map_err(|e| e.to_string());
    for p in &v.parties {
        let family: &[u8] = if p.subject == v.filer { b"xf" } else { b"xp" };
        out.insert(
            key(&[family, &book::subject_key(&p.subject), &filed]),
            line(&p.subject)?,
        );
    }
    if !v.parties.iter().any(|p| p.subject == v.filer) {
        out.insert(
            key(&[b"xu", &book::subject_key(&v.filer), &filed]),
            line(&v.filer)?,
        );
    }
    Ok(out)
}

/// A notification in an organisation's feed (and to its webhooks).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Notification {
    /// Index of the record notified.
    pub index: u64,
    pub time_ms: i64,
    /// reminder | overdue | default | default_reversed | demand_notice |
    /// exemption_decided | objection_decided | repair_decided | list_changed
    pub kind: String,
    pub contract: Option<ContractId>,
    pub milestone: Option<u32>,
    pub due: Option<Date>,
    /// Why this organisation is told: obligor | obligee | filer | entity.
    pub as_role: String,
    pub detail: String,
}

/// City-wide counters for the credit office's dashboard.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CityStats {
    pub contracts: u64,
    pub contracts_by_category: BTreeMap<String, u64>,
    pub amount_fen: i128,
    /// Milestones of every contract as they stand now (an amendment replaces them).
    pub milestones: u64,
    /// Milestones closed, by how they stand now (a reversed default no longer counts).
    pub closed_on_time: u64,
    pub closed_late: u64,
    pub closed_deemed: u64,
    pub closed_exempt: u64,
    pub closed_defaulted: u64,
    pub reminders: u64,
    pub overdue_warnings: u64,
    pub defaults: u64,
    pub defaults_reversed: u64,
    pub demand_notices: u64,
    pub red_list: u64,
    pub black_list: u64,
    pub score_changes: u64,
    pub keys_registered: u64,
    pub objections: u64,
    pub exemption_claims: u64,
    pub mediations: u64,
}

impl CityStats {
    /// Adds (`sign` 1) or removes (`sign` -1) a contract's milestones from
    /// the milestone counters.
    fn count_milestones(&mut self, v: &ContractView, sign: i64) {
        let add = |c: &mut u64| *c = c.saturating_add_signed(sign);
        for m in &v.milestones {
            add(&mut self.milestones);
            match m.closure {
                Some(Closure::OnTime) => add(&mut self.closed_on_time),
                Some(Closure::Late) => add(&mut self.closed_late),
                Some(Closure::Deemed) => add(&mut self.closed_deemed),
                Some(Closure::Exempt) => add(&mut self.closed_exempt),
                Some(Closure::Defaulted) => add(&mut self.closed_defaulted),
                None => {}
            }
        }
    }
}

/// The batch's pending index rows over the committed store.
struct Overlay<'a> {
    view: &'a View,
    pending: &'a mut BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl Rows for Overlay<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, RowsError> {
        if let Some(v) = self.pending.get(key) {
            return Ok(v.clone());
        }
        self.view
            .index_row(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| RowsError(e.to_string()))
    }
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.pending.insert(key, Some(value));
    }
    fn remove(&mut self, key: Vec<u8>) {
        self.pending.insert(key, None);
    }
}

/// Index rows to set (`Some`) or remove (`None`).
pub type RowChanges = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// The index writer of the sequencer.
pub struct Indexer {
    pending: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Contracts whose status row must be rewritten, with their static part
    /// when filed in this batch.
    touched: BTreeMap<ContractId, Option<ContractView>>,
    /// History items of this batch, by contract.
    histories: BTreeMap<ContractId, Vec<HistoryItem>>,
    stats: CityStats,
    error: Option<String>,
}

fn kind_of(d: &Derived) -> &'static str {
    match d {
        Derived::ReminderIssued { .. } => "reminder_issued",
        Derived::OverdueWarning { .. } => "overdue_warning",
        Derived::DefaultDetermined { .. } => "default_determined",
        Derived::DefaultReversed { .. } => "default_reversed",
        Derived::DemandNoticePublished { .. } => "demand_notice_published",
        Derived::ScoreChanged { .. } => "score_changed",
        Derived::ListChanged { .. } => "list_changed",
        Derived::MilestoneClosed { .. } => "milestone_closed",
    }
}

fn status_name(s: &Status) -> &'static str {
    match s {
        Status::Pending => "pending",
        Status::Claimed { .. } => "claimed",
        Status::Exemption { .. } => "exemption_claimed",
        Status::Closed { .. } => "closed",
    }
}

/// Fills the dynamic part of a contract view from the engine's state.
fn refresh(view: &mut ContractView, c: &ContractState) {
    view.acknowledged.clone_from(&c.acknowledged);
    view.amendment = c.amendment;
    view.completed = c.completed;
    view.milestones = c
        .milestones
        .iter()
        .map(|(n, m)| MilestoneView {
            number: *n,
            obligor: m.obligor.clone(),
            obligee: m.obligee.clone(),
            due: m.due,
            amount: m.amount,
            status: status_name(&m.status).to_string(),
            closure: match &m.status {
                Status::Closed { closure, .. } => Some(*closure),
                _ => None,
            },
            overdue: m.overdue,
            default_index: m.default_index,
            reminded: m.reminded.clone(),
        })
        .collect();
}

/// The organisations told about a milestone, with why.
fn milestone_orgs(v: &ContractView, number: u32) -> Vec<(Subject, &'static str)> {
    let mut out: Vec<(Subject, &'static str)> = Vec::new();
    if let Some(m) = v.milestones.iter().find(|m| m.number == number) {
        out.push((m.obligor.clone(), "obligor"));
        out.push((m.obligee.clone(), "obligee"));
    }
    out.push((v.filer.clone(), "filer"));
    let mut seen = BTreeSet::new();
    out.retain(|(s, _)| seen.insert(s.clone()));
    out
}

/// The due-date rows of a contract's open milestones.
fn due_rows(v: &ContractView) -> BTreeSet<Vec<u8>> {
    let ck = contract_key(&v.id);
    let mut out = BTreeSet::new();
    for m in &v.milestones {
        if m.status == "closed" {
            continue;
        }
        let n = m.number.to_be_bytes();
        let day = day_key(m.due);
        out.insert(key(&[b"xd", &day, &ck, &n]));
        for (s, _) in milestone_orgs(v, m.number) {
            out.insert(key(&[b"xo", &book::subject_key(&s), &day, &ck, &n]));
        }
    }
    out
}

impl Indexer {
    /// An indexer continuing the store's counters.
    pub fn load(view: &View) -> Result<Indexer, StoreError> {
        let stats = match view.index_row(b"xs")? {
            Some(b) => serde_json::from_slice(&b).unwrap_or_default(),
            None => CityStats::default(),
        };
        Ok(Indexer {
            pending: BTreeMap::new(),
            touched: BTreeMap::new(),
            histories: BTreeMap::new(),
            stats,
            error: None,
        })
    }

    /// The city statistics as of the last batch.
    #[must_use]
    pub fn stats(&self) -> &CityStats {
        &self.stats
    }

    /// The index of the filing that imported `external_ref` from `feed`,
    /// in the store or earlier in this batch.
    #[must_use]
    pub fn imported(&self, view: &View, feed: &Subject, external_ref: &str) -> Option<u64> {
        let k = key(&[b"xi", &book::subject_key(feed), external_ref.as_bytes()]);
        let v = match self.pending.get(&k) {
            Some(v) => v.clone(),
            None => view.index_row(&k).ok().flatten().map(|v| v.to_vec()),
        }?;
        v.as_slice().try_into().ok().map(u64::from_be_bytes)
    }

    fn put(&mut self, k: Vec<u8>, v: Vec<u8>) {
        self.pending.insert(k, Some(v));
    }

    fn history(&mut self, s: &Subject, index: u64, kind: &str) {
        self.put(
            key(&[b"xe", &book::subject_key(s), &index.to_be_bytes()]),
            kind.as_bytes().to_vec(),
        );
    }

    fn contract_history(&mut self, id: &ContractId, index: u64, kind: &str) {
        self.touched.entry(id.clone()).or_default();
        self.histories
            .entry(id.clone())
            .or_default()
            .push(HistoryItem {
                index,
                kind: kind.to_string(),
            });
    }

    fn contract_view(&self, view: &View, id: &ContractId) -> Option<ContractView> {
        if let Some(Some(v)) = self.touched.get(id) {
            return Some(v.clone());
        }
        let k = key(&[b"xC", &contract_key(id)]);
        let bytes = match self.pending.get(&k) {
            Some(v) => v.clone(),
            None => view.index_row(&k).ok().flatten().map(|v| v.to_vec()),
        }?;
        serde_json::from_slice(&bytes).ok()
    }

    fn notify(&mut self, view: &View, to: Vec<(Subject, &'static str)>, n: Notification) {
        for (s, role) in to {
            if !matches!(s, Subject::Org(_)) {
                continue;
            }
            let mut n = n.clone();
            n.as_role = role.to_string();
            match serde_json::to_vec(&n) {
                Ok(b) => self.put(
                    key(&[b"xw", &book::subject_key(&s), &n.index.to_be_bytes()]),
                    b,
                ),
                Err(e) => self.error = Some(e.to_string()),
            }
        }
        let _ = view;
    }

    fn notification(index: u64, time_ms: i64, kind: &str, detail: String) -> Notification {
        Notification {
            index,
            time_ms,
            kind: kind.to_string(),
            contract: None,
            milestone: None,
            due: None,
            as_role: String::new(),
            detail,
        }
    }

    fn milestone_notice(&mut self, view: &View, mut n: Notification, id: &ContractId, number: u32) {
        self.touched.entry(id.clone()).or_default();
        let Some(v) = self.contract_view(view, id) else {
            return;
        };
        n.contract = Some(id.clone());
        n.milestone = Some(number);
        n.due = v
            .milestones
            .iter()
            .find(|m| m.number == number)
            .map(|m| m.due);
        let to = milestone_orgs(&v, number);
        self.notify(view, to, n);
    }

    /// Indexes submitted entry `index` (already applied to `engine`).
    pub fn submitted(
        &mut self,
        view: &View,
        engine: &Engine,
        index: u64,
        time_ms: i64,
        event: &Event,
        signer: &KeyRegistration,
    ) {
        {
            let mut rows = Overlay {
                view,
                pending: &mut self.pending,
            };
            book::apply_event(&mut rows, index, event);
        }
        let note = |kind: &str, detail: String| Self::notification(index, time_ms, kind, detail);
        match event {
            Event::Genesis { .. } => {}
            Event::KeyRegistered { key: k } => {
                self.stats.keys_registered += 1;
                self.history(&k.holder, index, "key_registered");
            }
            Event::ContractFiled { contract } => {
                let filer = engine
                    .contract(&contract.id)
                    .map_or_else(|| signer.holder.clone(), |c| c.filer.clone());
                let mut v = ContractView {
                    id: contract.id.clone(),
                    category: contract.category,
                    name: contract.name.as_str().to_string(),
                    amount: contract.amount,
                    signed: contract.signed,
                    filed_index: index,
                    filed_ms: time_ms,
                    filer: filer.clone(),
                    filer_role: signer.role,
                    source: contract.source.clone(),
                    parties: contract
                        .parties
                        .iter()
                        .map(|p| PartyView {
                            subject: p.subject.clone(),
                            name: p.name.as_str().to_string(),
                            role: p.role.as_str().to_string(),
                        })
                        .collect(),
                    acknowledged: Vec::new(),
                    amendment: 0,
                    completed: false,
                    milestones: Vec::new(),
                    history: Vec::new(),
                };
                if let Some(c) = engine.contract(&contract.id) {
                    refresh(&mut v, c);
                }
                // A filing is in its parties' and filer's archives through
                // `xp`/`xu`, written with the contract row (`finish_rows`).
                let filed = index.to_be_bytes();
                if let Source::Import { external_ref } = &contract.source {
                    self.put(
                        key(&[
                            b"xi",
                            &book::subject_key(&signer.holder),
                            external_ref.as_str().as_bytes(),
                        ]),
                        filed.to_vec(),
                    );
                }
                self.stats.contracts += 1;
                *self
                    .stats
                    .contracts_by_category
                    .entry(
                        serde_json::to_value(contract.category)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default(),
                    )
                    .or_default() += 1;
                self.stats.amount_fen += i128::from(contract.amount.get());
                self.touched.insert(contract.id.clone(), Some(v));
                self.contract_history(&contract.id, index, "contract_filed");
            }
            Event::FilingAcknowledged { contract, party } => {
                self.contract_history(contract, index, event.kind());
                self.history(party, index, event.kind());
            }
            Event::ContractAmended { contract, .. } => {
                self.contract_history(contract, index, event.kind());
            }
            Event::PerformanceConfirmed { contract, .. }
            | Event::PerformanceClaimed { contract, .. }
            | Event::ClaimDisputed { contract, .. }
            | Event::NonPerformanceReported { contract, .. } => {
                self.contract_history(contract, index, event.kind());
            }
            Event::ExemptionClaimed { contract, .. } => {
                self.stats.exemption_claims += 1;
                self.contract_history(contract, index, event.kind());
            }
            Event::MediationRecorded { contract, .. } => {
                self.stats.mediations += 1;
                self.contract_history(contract, index, event.kind());
            }
            Event::ExemptionDecided {
                claim_index,
                approved,
                ..
            } => {
                if let Some(c) = engine.claim_record(*claim_index) {
                    let (id, m) = (c.contract.clone(), c.milestone);
                    self.contract_history(&id, index, event.kind());
                    let verdict = if *approved { "approved" } else { "refused" };
                    self.milestone_notice(
                        view,
                        note(
                            "exemption_decided",
                            format!("exemption claim {claim_index} {verdict}"),
                        ),
                        &id,
                        m,
                    );
                }
            }
            Event::ObjectionFiled { target_index, .. } => {
                self.stats.objections += 1;
                if let Some(d) = engine.default_record(*target_index) {
                    let id = d.contract.clone();
                    self.contract_history(&id, index, event.kind());
                    let e = d.entity.clone();
                    self.history(&e, index, event.kind());
                } else if let Some(n) = engine.notice_record(*target_index) {
                    let e = n.entity.clone();
                    self.history(&e, index, event.kind());
                }
            }
            Event::ObjectionDecided {
                objection_index,
                upheld,
                ..
            } => {
                let target = engine.objection_record(*objection_index).map(|o| o.target);
                let verdict = if *upheld { "upheld" } else { "refused" };
                let n = note(
                    "objection_decided",
                    format!("objection {objection_index} {verdict}"),
                );
                if let Some(d) = target.and_then(|t| engine.default_record(t)) {
                    let (id, m, e) = (d.contract.clone(), d.milestone, d.entity.clone());
                    self.contract_history(&id, index, event.kind());
                    self.history(&e, index, event.kind());
                    self.milestone_notice(view, n, &id, m);
                } else if let Some(nr) = target.and_then(|t| engine.notice_record(t)) {
                    let e = nr.entity.clone();
                    self.history(&e, index, event.kind());
                    self.notify(view, vec![(e, "entity")], n);
                }
            }
            Event::RepairApplied { entity, .. } => self.history(entity, index, event.kind()),
            Event::RepairDecided {
                application_index,
                approved,
                ..
            } => {
                if let Some(r) = engine.repair_record(*application_index) {
                    let e = r.entity.clone();
                    self.history(&e, index, event.kind());
                    let verdict = if *approved { "approved" } else { "refused" };
                    let n = note(
                        "repair_decided",
                        format!("repair application {application_index} {verdict}"),
                    );
                    self.notify(view, vec![(e, "entity")], n);
                }
            }
            Event::DelegationGranted {
                principal, agency, ..
            }
            | Event::DelegationRevoked { principal, agency } => {
                self.history(&Subject::Org(*principal), index, event.kind());
                self.history(&Subject::Org(*agency), index, event.kind());
            }
            Event::RuleSetPublished { .. } => {
                self.put(key(&[b"xr", &index.to_be_bytes()]), Vec::new());
            }
            Event::KeyRevoked { .. } | Event::Tick {} => {}
        }
    }

    /// Indexes derived entry `index` (the engine's state includes it).
    pub fn derived(&mut self, view: &View, engine: &Engine, index: u64, time_ms: i64, d: &Derived) {
        {
            let mut rows = Overlay {
                view,
                pending: &mut self.pending,
            };
            let notice_day = |i: u64| engine.notice_record(i).map(|n| n.day);
            if let Err(e) = book::apply_derived(&mut rows, index, time_ms, d, &notice_day) {
                self.error = Some(e.to_string());
            }
        }
        let kind = kind_of(d);
        let note = |k: &str, detail: String| Self::notification(index, time_ms, k, detail);
        match d {
            Derived::ReminderIssued {
                contract,
                milestone,
                days_before,
                ..
            } => {
                self.stats.reminders += 1;
                self.contract_history(contract, index, kind);
                let n = note("reminder", format!("due in {days_before} days"));
                self.milestone_notice(view, n, contract, *milestone);
            }
            Derived::OverdueWarning {
                contract,
                milestone,
                ..
            } => {
                self.stats.overdue_warnings += 1;
                self.contract_history(contract, index, kind);
                let n = note("overdue", "the due date passed without performance".into());
                self.milestone_notice(view, n, contract, *milestone);
            }
            Derived::DefaultDetermined {
                contract,
                milestone,
                entity,
                extent,
                ..
            } => {
                self.stats.defaults += 1;
                self.contract_history(contract, index, kind);
                self.history(entity, index, kind);
                let n = note(
                    "default",
                    format!("{extent:?} default determined").to_lowercase(),
                );
                self.milestone_notice(view, n, contract, *milestone);
            }
            Derived::DefaultReversed { default_index, .. } => {
                self.stats.defaults_reversed += 1;
                if let Some(r) = engine.default_record(*default_index) {
                    let (id, m, e) = (r.contract.clone(), r.milestone, r.entity.clone());
                    self.contract_history(&id, index, kind);
                    self.history(&e, index, kind);
                    let n = note(
                        "default_reversed",
                        format!("default {default_index} reversed"),
                    );
                    self.milestone_notice(view, n, &id, m);
                }
            }
            Derived::DemandNoticePublished { entity, .. } => {
                self.stats.demand_notices += 1;
                self.history(entity, index, kind);
                let n = note("demand_notice", "demand notice (催告公示) published".into());
                self.notify(view, vec![(entity.clone(), "entity")], n);
            }
            Derived::ScoreChanged { entity, .. } => {
                self.stats.score_changes += 1;
                self.put(
                    key(&[b"xg", &book::subject_key(entity), &index.to_be_bytes()]),
                    Vec::new(),
                );
            }
            Derived::ListChanged {
                entity,
                list,
                listed,
                reason,
                ..
            } => {
                let counter = match list {
                    ListKind::Red => &mut self.stats.red_list,
                    ListKind::Black => &mut self.stats.black_list,
                };
                if *listed {
                    *counter += 1;
                } else {
                    *counter = counter.saturating_sub(1);
                }
                self.history(entity, index, kind);
                let what = if *listed { "entered" } else { "left" };
                let n = note(
                    "list_changed",
                    format!("{what} the {list:?} list: {reason}").to_lowercase(),
                );
                self.notify(view, vec![(entity.clone(), "entity")], n);
            }
            Derived::MilestoneClosed { contract, .. } => {
                self.contract_history(contract, index, kind);
            }
        }
    }

    /// Rewrites the status rows of the contracts the batch touched, moves
    /// their due-date rows, and puts every pending row into `batch`.
    pub fn finish(
        &mut self,
        view: &View,
        engine: &Engine,
        batch: &mut Batch,
    ) -> Result<(), String> {
        for (k, v) in self.finish_rows(view, engine)? {
            batch.put_index_row(k, v);
        }
        Ok(())
    }

    /// [`Indexer::finish`], returning the rows.
    pub fn finish_rows(&mut self, view: &View, engine: &Engine) -> Result<RowChanges, String> {
        if let Some(e) = self.error.take() {
            self.abandon();
            return Err(e);
        }
        let touched = std::mem::take(&mut self.touched);
        for (id, fresh) in touched {
            let old = self.contract_view(view, &id);
            let Some(mut v) = fresh.or_else(|| old.clone()) else {
                continue;
            };
            if let Some(c) = engine.contract(&id) {
                refresh(&mut v, c);
            }
            if let Some(items) = self.histories.remove(&id) {
                v.history.extend(items);
            }
            // Milestone counters follow the contracts' current state.
            if let Some(o) = &old {
                self.stats.count_milestones(o, -1);
            }
            self.stats.count_milestones(&v, 1);
            let before = old.as_ref().map(due_rows).unwrap_or_default();
            let after = due_rows(&v);
            for k in before.difference(&after) {
                self.pending.insert(k.clone(), None);
            }
            for k in after.difference(&before) {
                self.pending.insert(k.clone(), Some(Vec::new()));
            }
            // Archive lines: written when new or when what they show changed.
            let before = old
                .as_ref()
                .map(archive_rows)
                .transpose()?
                .unwrap_or_default();
            let after = archive_rows(&v)?;
            for k in before.keys() {
                if !after.contains_key(k) {
                    self.pending.insert(k.clone(), None);
                }
            }
            for (k, line) in after {
                if before.get(&k) != Some(&line) {
                    self.pending.insert(k, Some(line));
                }
            }
            let bytes = serde_json::to_vec(&v).map_err(|e| e.to_string())?;
            self.pending
                .insert(key(&[b"xC", &contract_key(&id)]), Some(bytes));
        }
        let stats = serde_json::to_vec(&self.stats).map_err(|e| e.to_string())?;
        self.pending.insert(b"xs".to_vec(), Some(stats));
        Ok(std::mem::take(&mut self.pending).into_iter().collect())
    }

    /// Forgets a batch that was not committed (the sequencer then refuses
    /// everything until a restart re-reads the store).
    pub fn abandon(&mut self) {
        self.pending.clear();
        self.touched.clear();
        self.histories.clear();
    }
}

/// Reads a contract view.
pub fn read_contract(view: &View, id: &ContractId) -> Result<Option<ContractView>, String> {
    let k = key(&[b"xC", &contract_key(id)]);
    match view.index_row(&k).map_err(|e| e.to_string())? {
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| e.to_string()),
        None => Ok(None),
    }
}

/// Rebuilds the query indexes from the log when the store has none or an
/// index of another layout version (e.g. a store written by an older
/// build): every `b`/`x` row is dropped and the whole log is replayed
/// through a fresh rules engine and indexer.
pub fn ensure(
    store: &mut lvyue_ledger::store::Store,
    registry: &lvyue_ledger::admission::Registry,
) -> Result<(), String> {
    let view = store.view().clone();
    let current = view.meta(INDEX_META).map_err(|e| e.to_string())?;
    if current.as_deref() == Some(INDEX_VERSION.as_bytes()) || view.head().size == 0 {
        return Ok(());
    }
    tracing::info!(
        size = view.head().size,
        "rebuilding query indexes from the log"
    );
    let mut stale = Vec::new();
    for prefix in [b"b", b"x"] {
        for (k, _) in view.index_prefix(prefix).map_err(|e| e.to_string())? {
            // Webhook registrations and cursors are not derived from the log: kept.
            if k.starts_with(b"xH") || k.starts_with(b"xK") {
                continue;
            }
            stale.push((k.to_vec(), None));
        }
    }
    store.write_index_rows(stale).map_err(|e| e.to_string())?;
    let mut engine = Engine::new();
    let mut indexer = Indexer {
        pending: BTreeMap::new(),
        touched: BTreeMap::new(),
        histories: BTreeMap::new(),
        stats: CityStats::default(),
        error: None,
    };
    let head = view.head().size;
    let mut since_flush = 0;
    for r in view.entries(0, head) {
        let (i, bytes) = r.map_err(|e| e.to_string())?;
        let entry =
            lvyue_ledger::record::Entry::decode(&bytes).map_err(|e| format!("entry {i}: {e}"))?;
        engine.replay(&entry, registry);
        match &entry.body {
            lvyue_ledger::record::Body::Submitted(s) => {
                let signer = registry
                    .signer_registration(s)
                    .cloned()
                    .ok_or_else(|| format!("entry {i}: signer {} unknown", s.payload.signer))?;
                indexer.submitted(&view, &engine, i, entry.time_ms, &s.payload.event, &signer);
            }
            lvyue_ledger::record::Body::Derived(d) => {
                indexer.derived(&view, &engine, i, entry.time_ms, d);
            }
        }
        since_flush += 1;
        if since_flush >= 50_000 {
            let rows = indexer.finish_rows(&view, &engine)?;
            store.write_index_rows(rows).map_err(|e| e.to_string())?;
            since_flush = 0;
        }
    }
    let mut rows = indexer.finish_rows(&view, &engine)?;
    rows.push((
        [b"m".as_slice(), INDEX_META.as_bytes()].concat(),
        Some(INDEX_VERSION.as_bytes().to_vec()),
    ));
    store.write_index_rows(rows).map_err(|e| e.to_string())?;
    Ok(())
}
