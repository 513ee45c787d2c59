//! Property tests of the rules engine (docs/RULES.md) over random event
//! sequences.
//!
//! A case is a list of random [`Action`]s. Each action is interpreted against
//! the state reached so far into one concrete submission (time, signer,
//! event): most are aimed at something that exists (a pending milestone, a
//! standing default, an undecided claim …) and signed by the party the rules
//! expect, the rest are wrong on purpose (another signer, an unknown
//! contract or index, a date in the future, …). Every submission goes
//! through what the node does: deadlines passed by its time are fired first,
//! then admission (key, role, USCC), then `Engine::check`; only if both allow
//! it is it signed, appended and applied. Two final ticks, three and six
//! years after the last action, let every remaining deadline fire.
//!
//! Properties:
//! - (a) nothing panics;
//! - (b) replay is deterministic: the concrete script run again from scratch
//!   gives byte-identical canonical entries and an identical engine
//!   snapshot; the standalone audit (`audit::Auditor`) re-derives every
//!   derived record and accepts the log; a node restart (snapshot restored
//!   mid-way, then `Engine::replay`) reaches the same snapshot;
//! - (c) each `ScoreChanged.total` is the running sum 1000 + Σ deltas of that
//!   entity, and `Engine::score` equals it after every entry;
//! - (d) lists: after every submission, an entity is black-listed iff its
//!   last black `ListChanged` was `listed: true`, red-listed iff its last red
//!   `ListChanged` was `listed: true`; red holds exactly when the red-list
//!   predicate holds (not black, score ≥ red_min_score, ≥ red_min_contracts
//!   contracts fully performed and no standing default within
//!   red_window_days — the completion days, which leave no record of their
//!   own when a milestone was late, are read from the engine); a demand
//!   notice is published exactly when a counted default leaves a non-black
//!   entity with ≥ black_defaults standing defaults within
//!   black_window_days, listing exactly those; nobody stays black past
//!   00:00 CST of day black_max_days of its listing, nor under a notice left
//!   with fewer than black_defaults standing defaults; each default is
//!   reversed at most once and each notice's deduction given back at most
//!   once. Days are those records take effect on (a deadline's own time).
//!
//! Two regression tests at the end keep the minimal failing sequences the
//! properties found.
//!
//! `PROPTEST_CASES` overrides the default of 64 cases.

use lvyue_ledger::Hash;
use lvyue_ledger::admission::Registry;
use lvyue_ledger::audit::Auditor;
use lvyue_ledger::checkpoint::{Checkpoint, Origin, open, sign_checkpoint};
use lvyue_ledger::engine::state::{MilestoneState, Status};
use lvyue_ledger::engine::{Engine, time};
use lvyue_ledger::event::{
    Contract, Event, ExemptionGround, Extent, KeyRegistration, MediationOutcome, Milestone, Party,
    Source,
};
use lvyue_ledger::hash::{leaf_hash, sha256};
use lvyue_ledger::keys::{KeyName, Signer};
use lvyue_ledger::record::{Body, Closure, Derived, Entry, KeyRef, ListKind, Payload, Signed};
use lvyue_ledger::rules::RuleSet;
use lvyue_ledger::tlog::MemoryTree;
use lvyue_ledger::types::{
    Category, ContractId, Date, Fen, MaskedName, Name, Role, SignerName, Subject, Text,
};
use lvyue_ledger::uscc::Uscc;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::collections::{BTreeMap, BTreeSet};

const ORIGIN: &str = "lvyue.example/props";
const DAY: i64 = time::DAY_MS;
const OFFSET: i32 = 480;

// ---------------------------------------------------------------------------
// The cast: keys and the subjects they hold.

const NODE: usize = 0;
const OFFICE: usize = 1;
const SOURCE_UNITS: [usize; 2] = [2, 3];
const FIRMS: [usize; 4] = [4, 5, 6, 7];
const FEED: usize = 8;
const AGENCY: usize = 9;
/// A firm whose milestones confirmations and claims prefer and reports avoid.
const GOOD: usize = 7;
const KEYS: usize = 10;

struct Cast {
    signers: Vec<Signer>,
    regs: Vec<KeyRegistration>,
    person: Subject,
}

fn uscc(prefix17: &str) -> Uscc {
    Uscc::with_check(prefix17).unwrap()
}

impl Cast {
    fn new() -> Cast {
        let office = Subject::Org(uscc("11610300MB0000000"));
        let spec: [(&str, Subject, Role); KEYS] = [
            (ORIGIN, office.clone(), Role::Node),
            ("office", office, Role::CreditOffice),
            (
                "su-0",
                Subject::Org(uscc("11610300MB0000101")),
                Role::SourceUnit,
            ),
            (
                "su-1",
                Subject::Org(uscc("11610300MB0000102")),
                Role::SourceUnit,
            ),
            (
                "firm-0",
                Subject::Org(uscc("91610300MA0000200")),
                Role::MarketEntity,
            ),
            (
                "firm-1",
                Subject::Org(uscc("91610300MA0000201")),
                Role::MarketEntity,
            ),
            (
                "firm-2",
                Subject::Org(uscc("91610300MA0000202")),
                Role::MarketEntity,
            ),
            (
                "firm-3",
                Subject::Org(uscc("91610300MA0000203")),
                Role::MarketEntity,
            ),
            (
                "feed",
                Subject::Org(uscc("12610300MB0000301")),
                Role::DataFeed,
            ),
            (
                "agency",
                Subject::Org(uscc("91610300MA0000401")),
                Role::ServiceAgency,
            ),
        ];
        let mut signers = Vec::new();
        let mut regs = Vec::new();
        for (i, (name, holder, role)) in spec.into_iter().enumerate() {
            let s = Signer::from_seed(KeyName::new(name).unwrap(), [i as u8 + 1; 32]);
            regs.push(KeyRegistration {
                name: SignerName::new(name).unwrap(),
                public_key: s.verifier_key().key().to_bytes(),
                holder,
                holder_name: Name::new(format!("单位{i}")).unwrap(),
                role,
                valid_from_ms: None,
                valid_until_ms: None,
            });
            signers.push(s);
        }
        let person = Subject::Person {
            masked_name: MaskedName::new("王某").unwrap(),
            commitment: sha256(b"person"),
        };
        Cast {
            signers,
            regs,
            person,
        }
    }

    fn subject(&self, key: usize) -> Subject {
        self.regs[key].holder.clone()
    }

    fn org(&self, key: usize) -> Uscc {
        match &self.regs[key].holder {
            Subject::Org(u) => *u,
            Subject::Person { .. } => unreachable!(),
        }
    }

    /// The key a subject signs with (source units and firms have one each).
    fn key_of(&self, s: &Subject) -> Option<usize> {
        SOURCE_UNITS
            .iter()
            .chain(&FIRMS)
            .copied()
            .find(|&k| self.regs[k].holder == *s)
    }

    /// Subjects that may be parties to contracts.
    fn party_pool(&self) -> Vec<Subject> {
        let mut v: Vec<Subject> = SOURCE_UNITS
            .iter()
            .chain(&FIRMS)
            .map(|&k| self.subject(k))
            .collect();
        v.push(self.person.clone());
        v
    }
}

// ---------------------------------------------------------------------------
// Actions and their interpretation.

/// One random action: its kind (0..100, weighted below), the time step, a
/// seed for every other choice, and whether the expected signer signs.
#[derive(Clone, Debug)]
struct Action {
    kind: u8,
    dt: u32,
    seed: u64,
    right: bool,
}

fn action() -> impl Strategy<Value = Action> {
    (
        0u8..100,
        any::<u32>(),
        any::<u64>(),
        prop::bool::weighted(0.8),
    )
        .prop_map(|(kind, dt, seed, right)| Action {
            kind,
            dt,
            seed,
            right,
        })
}

/// splitmix64, for the choices inside one action.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Clone>(&mut self, v: &[T]) -> Option<T> {
        if v.is_empty() {
            None
        } else {
            Some(v[self.below(v.len() as u64) as usize].clone())
        }
    }
}

/// One concrete submission of the script.
#[derive(Clone, Debug)]
struct Step {
    time_ms: i64,
    signer: usize,
    event: Event,
}

fn text(s: &str) -> Text {
    Text::new(s).unwrap()
}

fn day_date(day: i64) -> Date {
    Date::from_days(day as i32).unwrap()
}

/// What the interpreter remembers from the log so far (only what a client
/// could read from the log).
#[derive(Default)]
struct Known {
    contracts: Vec<ContractId>,
    filed: u32,
    /// Standing targets of objections: record index → entity.
    targets: BTreeMap<u64, Subject>,
    claims: BTreeSet<u64>,
    objections: BTreeSet<u64>,
    /// Undecided repair applications: index → applicant.
    repairs: BTreeMap<u64, Subject>,
}

impl Known {
    fn learn(&mut self, index: u64, d: &Derived) {
        match d {
            Derived::DefaultDetermined { entity, .. } => {
                self.targets.insert(index, entity.clone());
            }
            Derived::DemandNoticePublished { entity, .. } => {
                self.targets.insert(index, entity.clone());
            }
            Derived::DefaultReversed { default_index, .. } => {
                self.targets.remove(default_index);
            }
            _ => {}
        }
    }

    fn learn_submission(&mut self, index: u64, event: &Event) {
        match event {
            Event::ContractFiled { contract } => self.contracts.push(contract.id.clone()),
            Event::ExemptionClaimed { .. } => {
                self.claims.insert(index);
            }
            Event::ExemptionDecided { claim_index, .. } => {
                self.claims.remove(claim_index);
            }
            Event::ObjectionFiled { .. } => {
                self.objections.insert(index);
            }
            Event::ObjectionDecided {
                objection_index, ..
            } => {
                self.objections.remove(objection_index);
            }
            Event::RepairApplied { entity, .. } => {
                self.repairs.insert(index, entity.clone());
            }
            Event::RepairDecided {
                application_index, ..
            } => {
                self.repairs.remove(application_index);
            }
            _ => {}
        }
    }
}

/// The next node time: the same, a CST midnight exactly or 1 ms before the
/// next one, or up to 12 days later.
fn next_time(t: i64, dt: u32) -> i64 {
    let next_midnight = time::start_of(i64::from(time::day_of(t, OFFSET)) + 1, OFFSET);
    match dt % 100 {
        0..8 => t,
        8..12 => next_midnight,
        12..15 => (next_midnight - 1).max(t),
        _ => t + i64::from(dt / 100) * 12 * DAY / (i64::from(u32::MAX / 100) + 1),
    }
}

struct Interp<'a> {
    cast: &'a Cast,
    engine: &'a Engine,
    known: &'a mut Known,
    rng: Rng,
    today: i64,
    right: bool,
}

impl Interp<'_> {
    /// The signer: `expected` if the action is "right" and there is one,
    /// else any key.
    fn signer(&mut self, expected: Option<usize>) -> usize {
        match expected {
            Some(k) if self.right => k,
            _ => self.rng.below(KEYS as u64) as usize,
        }
    }

    /// Milestones of known contracts matching `f`, or now and then any
    /// (possibly unknown) reference.
    fn milestone(
        &mut self,
        f: impl Fn(&MilestoneState) -> bool,
        prefer: &[Subject],
    ) -> (ContractId, u32, Option<MilestoneState>) {
        let mut fitting = Vec::new();
        let mut preferred = Vec::new();
        for id in &self.known.contracts {
            if let Some(c) = self.engine.contract(id) {
                for (n, m) in &c.milestones {
                    if f(m) {
                        fitting.push((id.clone(), *n));
                        if prefer.contains(&m.obligor) {
                            preferred.push((id.clone(), *n));
                        }
                    }
                }
            }
        }
        if !preferred.is_empty() && self.rng.chance(70) {
            fitting = preferred;
        }
        let (id, n) = match self.rng.pick(&fitting) {
            Some(x) if !self.rng.chance(10) => x,
            _ => {
                let id = match self.rng.pick(&self.known.contracts) {
                    Some(id) if !self.rng.chance(10) => id,
                    _ => ContractId::new("NO-SUCH-CONTRACT").unwrap(),
                };
                (id, 1 + self.rng.below(4) as u32)
            }
        };
        let m = self
            .engine
            .contract(&id)
            .and_then(|c| c.milestones.get(&n))
            .cloned();
        (id, n, m)
    }

    /// The key acting as obligee: the obligee's, or the filing source unit's.
    fn obligee_key(&mut self, id: &ContractId, m: &Option<MilestoneState>) -> Option<usize> {
        let c = self.engine.contract(id)?;
        let m = m.as_ref()?;
        let su = (c.filer_role == Role::SourceUnit)
            .then(|| self.cast.key_of(&c.filer))
            .flatten();
        match (self.cast.key_of(&m.obligee), su) {
            (Some(k), Some(s)) => Some(if self.rng.chance(50) { k } else { s }),
            (k, s) => k.or(s),
        }
    }

    /// A performed date near the due date of `m`: on time or late (the
    /// good firm is always on time), mostly not in the future.
    fn date_near(&mut self, m: Option<&MilestoneState>) -> Date {
        let base = m.map_or(self.today, |m| i64::from(m.due.days()));
        let punctual = m.is_some_and(|m| m.obligor == self.cast.subject(GOOD));
        let d = match self.rng.below(4) {
            _ if punctual => base - self.rng.below(4) as i64,
            0 => base + self.rng.below(12) as i64, // late
            _ => base - self.rng.below(4) as i64,  // on time
        };
        // Mostly not in the future.
        let d = if self.rng.chance(95) {
            d.min(self.today)
        } else {
            d
        };
        day_date(d)
    }

    fn interpret(&mut self, a: &Action) -> (usize, Event) {
        match a.kind {
            0..12 => self.file(),
            12..16 => {
                let id = self.rng.pick(&self.known.contracts);
                let c = id.as_ref().and_then(|id| self.engine.contract(id));
                let party = c
                    .and_then(|c| self.rng.pick(&c.parties))
                    .unwrap_or_else(|| self.cast.subject(FIRMS[0]));
                let k = self.cast.key_of(&party);
                let signer = self.signer(k);
                let contract = id.unwrap_or_else(|| ContractId::new("X").unwrap());
                (signer, Event::FilingAcknowledged { contract, party })
            }
            16..21 => self.amend(),
            21..37 => {
                // Applicants for repair settle what they owe; the good firm performs.
                let prefer: Vec<Subject> = if self.known.repairs.is_empty() {
                    vec![self.cast.subject(GOOD)]
                } else {
                    self.known.repairs.values().cloned().collect()
                };
                let (id, n, m) = self.milestone(
                    |m| {
                        !matches!(m.status, Status::Closed { .. } | Status::Exemption { .. })
                            || (matches!(
                                m.status,
                                Status::Closed {
                                    closure: Closure::Defaulted,
                                    ..
                                }
                            ) && !m.resolved_after_default)
                    },
                    &prefer,
                );
                let k = self.obligee_key(&id, &m);
                let performed = self.date_near(m.as_ref());
                let signer = self.signer(k);
                let ev = Event::PerformanceConfirmed {
                    contract: id,
                    milestone: n,
                    performed,
                    evidence: None,
                };
                (signer, ev)
            }
            37..46 => {
                let good = [self.cast.subject(GOOD)];
                let (id, n, m) = self.milestone(|m| matches!(m.status, Status::Pending), &good);
                let k = m.as_ref().and_then(|m| self.cast.key_of(&m.obligor));
                let performed = self.date_near(m.as_ref());
                let signer = self.signer(k);
                let ev = Event::PerformanceClaimed {
                    contract: id,
                    milestone: n,
                    performed,
                    evidence: Some(sha256(b"evidence")),
                };
                (signer, ev)
            }
            46..51 => {
                let (id, n, m) =
                    self.milestone(|m| matches!(m.status, Status::Claimed { .. }), &[]);
                let k = self.obligee_key(&id, &m);
                let signer = self.signer(k);
                let ev = Event::ClaimDisputed {
                    contract: id,
                    milestone: n,
                    reason: text("disputed"),
                };
                (signer, ev)
            }
            51..58 => {
                let today = self.today;
                let good = self.cast.subject(GOOD);
                let (id, n, m) = self.milestone(
                    |m| {
                        matches!(m.status, Status::Pending)
                            && i64::from(m.due.days()) < today
                            && m.obligor != good
                    },
                    &[],
                );
                let k = self.obligee_key(&id, &m);
                let extent = if self.rng.chance(50) {
                    Extent::Full
                } else {
                    Extent::Partial
                };
                let signer = self.signer(k);
                let ev = Event::NonPerformanceReported {
                    contract: id,
                    milestone: n,
                    extent,
                    reason: text("not performed"),
                };
                (signer, ev)
            }
            58..64 => {
                let (id, n, m) = self.milestone(
                    |m| matches!(m.status, Status::Pending) || m.default_index.is_some(),
                    &[],
                );
                let k = m.as_ref().and_then(|m| self.cast.key_of(&m.obligor));
                let ground = match self.rng.below(3) {
                    0 => ExemptionGround::ForceMajeure,
                    1 => ExemptionGround::Accident,
                    _ => ExemptionGround::ChangedCircumstances,
                };
                let due = m.as_ref().map_or(self.today, |m| i64::from(m.due.days()));
                let event_date = if self.rng.chance(80) {
                    due - self.rng.below(20) as i64
                } else {
                    due + 1 + self.rng.below(10) as i64
                };
                let event_date = day_date(event_date.min(self.today + 1));
                let signer = self.signer(k);
                let ev = Event::ExemptionClaimed {
                    contract: id,
                    milestone: n,
                    ground,
                    event_date,
                    statement: text("statement"),
                };
                (signer, ev)
            }
            64..69 => {
                let claims: Vec<u64> = self.known.claims.iter().copied().collect();
                let claim_index = self.index_from(&claims);
                let approved = self.rng.chance(50);
                let signer = self.signer(Some(OFFICE));
                let ev = Event::ExemptionDecided {
                    claim_index,
                    approved,
                    reason: text("decided"),
                };
                (signer, ev)
            }
            69..75 => {
                let targets: Vec<u64> = self.known.targets.keys().copied().collect();
                let target_index = self.index_from(&targets);
                let k = self
                    .known
                    .targets
                    .get(&target_index)
                    .and_then(|e| self.cast.key_of(e));
                let signer = self.signer(k);
                let ev = Event::ObjectionFiled {
                    target_index,
                    statement: text("objection"),
                };
                (signer, ev)
            }
            75..80 => {
                let objections: Vec<u64> = self.known.objections.iter().copied().collect();
                let objection_index = self.index_from(&objections);
                let upheld = self.rng.chance(50);
                let signer = self.signer(Some(OFFICE));
                let ev = Event::ObjectionDecided {
                    objection_index,
                    upheld,
                    reason: text("decided"),
                };
                (signer, ev)
            }
            80..85 => {
                let black: Vec<Subject> = self
                    .engine
                    .entities()
                    .filter(|(_, e)| e.black.is_some())
                    .map(|(s, _)| s.clone())
                    .collect();
                let entity = match self.rng.pick(&black) {
                    Some(s) if !self.rng.chance(10) => s,
                    _ => self.cast.subject(FIRMS[self.rng.below(4) as usize]),
                };
                let k = self.cast.key_of(&entity);
                let signer = self.signer(k);
                let ev = Event::RepairApplied {
                    entity,
                    commitment: sha256(b"commitment"),
                };
                (signer, ev)
            }
            85..90 => {
                let repairs: Vec<u64> = self.known.repairs.keys().copied().collect();
                let application_index = self.index_from(&repairs);
                let approved = self.rng.chance(70);
                let signer = self.signer(Some(OFFICE));
                let ev = Event::RepairDecided {
                    application_index,
                    approved,
                    reason: text("decided"),
                };
                (signer, ev)
            }
            90..93 => {
                let principal = FIRMS[self.rng.below(4) as usize];
                let signer = self.signer(Some(principal));
                let (p, g) = (self.cast.org(principal), self.cast.org(AGENCY));
                let ev = if self.rng.chance(75) {
                    let until = self
                        .rng
                        .chance(50)
                        .then(|| day_date(self.today - 5 + self.rng.below(200) as i64));
                    Event::DelegationGranted {
                        principal: p,
                        agency: g,
                        until,
                    }
                } else {
                    Event::DelegationRevoked {
                        principal: p,
                        agency: g,
                    }
                };
                (signer, ev)
            }
            93..94 => {
                let contract = self
                    .rng
                    .pick(&self.known.contracts)
                    .unwrap_or_else(|| ContractId::new("X").unwrap());
                let signer = self.signer(Some(AGENCY));
                let ev = Event::MediationRecorded {
                    contract,
                    outcome: MediationOutcome::Failed,
                    summary: text("mediation"),
                };
                (signer, ev)
            }
            _ => (self.signer(Some(NODE)), Event::Tick {}),
        }
    }

    /// An index from `v`, or now and then any small index.
    fn index_from(&mut self, v: &[u64]) -> u64 {
        match self.rng.pick(v) {
            Some(i) if !self.rng.chance(10) => i,
            _ => self.rng.below(400),
        }
    }

    fn file(&mut self) -> (usize, Event) {
        let cast = self.cast;
        let pool = cast.party_pool();
        // A quarter of the filings: a department contract owed by the good firm.
        let good = self.rng.chance(25);
        let mode = if good { 0 } else { self.rng.below(4) };
        let (filer, source, first) = match mode {
            0 => {
                let k = SOURCE_UNITS[self.rng.below(2) as usize];
                (k, Source::Department, Some(cast.subject(k)))
            }
            1 => {
                let k = FIRMS[self.rng.below(4) as usize];
                (k, Source::SelfFiled, Some(cast.subject(k)))
            }
            2 => (
                FEED,
                Source::Import {
                    external_ref: Name::new(format!("EXT-{}", self.known.filed)).unwrap(),
                },
                None,
            ),
            _ => {
                let k = FIRMS[self.rng.below(4) as usize];
                let principal = cast.org(k);
                (
                    AGENCY,
                    Source::Delegated { principal },
                    Some(cast.subject(k)),
                )
            }
        };
        let mut parties: Vec<Subject> = first.into_iter().collect();
        if good {
            parties.push(cast.subject(GOOD));
        }
        let want = 2 + self.rng.below(2) as usize;
        while parties.len() < want {
            let p = self.rng.pick(&pool).unwrap();
            // Now and then a duplicate party (refused).
            if !parties.contains(&p) || self.rng.chance(3) {
                parties.push(p);
            }
        }
        let party_list: Vec<Party> = parties
            .iter()
            .map(|s| Party {
                subject: s.clone(),
                name: match s {
                    Subject::Person { masked_name, .. } => Name::new(masked_name.as_str()).unwrap(),
                    Subject::Org(u) => Name::new(format!("单位{u}")).unwrap(),
                },
                role: Name::new("party").unwrap(),
            })
            .collect();
        let signed = self.today - self.rng.below(20) as i64;
        let count = 1 + self.rng.below(4) as u32;
        let mut milestones = Vec::new();
        for n in 1..=count {
            let (i, j, due) = if good {
                (1, 0, self.today + 5 + self.rng.below(60) as i64)
            } else {
                let i = self.rng.below(parties.len() as u64) as usize;
                let j = (i + 1 + self.rng.below(parties.len() as u64 - 1) as usize) % parties.len();
                (i, j, self.today - 5 + self.rng.below(120) as i64)
            };
            milestones.push(Milestone {
                // Now and then a bad number (refused).
                number: if self.rng.chance(2) { 0 } else { n },
                obligor: parties[i].clone(),
                obligee: parties[j].clone(),
                due: day_date(due),
                description: text("milestone"),
                amount: Fen::new(1000).unwrap(),
            });
        }
        self.known.filed += 1;
        let id = match self.rng.pick(&self.known.contracts) {
            Some(old) if self.rng.chance(3) => old,
            _ => ContractId::new(format!("C{}", self.known.filed)).unwrap(),
        };
        let contract = Contract {
            id,
            category: Category::Commercial,
            name: Name::new("contract").unwrap(),
            parties: party_list,
            summary: text("summary"),
            amount: Fen::new(1000 * i64::from(count)).unwrap(),
            signed: day_date(signed),
            milestones,
            document_sha256: None,
            source,
        };
        let signer = self.signer(Some(filer));
        (signer, Event::ContractFiled { contract })
    }

    /// An amendment: the next number, every pending milestone 30 days later
    /// (so parties acting one after another agree), now and then a different
    /// text; signed by a party that has not agreed yet.
    fn amend(&mut self) -> (usize, Event) {
        let Some(id) = self.rng.pick(&self.known.contracts) else {
            return (
                self.signer(None),
                Event::ContractAmended {
                    contract: ContractId::new("X").unwrap(),
                    amendment: 1,
                    milestones: Vec::new(),
                    reason: text("agreed change"),
                },
            );
        };
        let c = self.engine.contract(&id).unwrap();
        let number = c.amendment + if self.rng.chance(95) { 1 } else { 0 };
        let shift = if self.rng.chance(85) { 30 } else { 31 };
        let mut milestones: Vec<Milestone> = c
            .milestones
            .iter()
            .filter(|(_, m)| matches!(m.status, Status::Pending))
            .map(|(n, m)| Milestone {
                number: *n,
                obligor: m.obligor.clone(),
                obligee: m.obligee.clone(),
                due: day_date(i64::from(m.due.days()) + shift),
                description: text("amended"),
                amount: m.amount,
            })
            .collect();
        if milestones.is_empty() || self.rng.chance(5) {
            let (n, m) = c.milestones.iter().next().unwrap();
            milestones.push(Milestone {
                number: n + 10,
                obligor: m.obligor.clone(),
                obligee: m.obligee.clone(),
                due: day_date(self.today + 20),
                description: text("added"),
                amount: m.amount,
            });
        }
        let agreed: Vec<Subject> = c
            .proposals
            .get(&number)
            .map(|v| v.iter().map(|(p, _)| p.clone()).collect())
            .unwrap_or_default();
        let next = c
            .parties
            .iter()
            .filter(|p| !agreed.contains(p))
            .find_map(|p| self.cast.key_of(p));
        let signer = self.signer(next);
        let ev = Event::ContractAmended {
            contract: id,
            amendment: number,
            milestones,
            reason: text("agreed change"),
        };
        (signer, ev)
    }
}

// ---------------------------------------------------------------------------
// The node's write path, reduced to what the rules need.

struct Run {
    engine: Engine,
    registry: Registry,
    entries: Vec<Entry>,
    /// The time each entry takes effect at: a submission and its
    /// consequences at the entry's node time, a deadline's records at the
    /// deadline (RULES.md, "Time").
    effective: Vec<i64>,
    bytes: Vec<Vec<u8>>,
    prev: Hash,
    /// Engine snapshots at the start of some steps: (entries so far, bytes).
    snapshots: Vec<(usize, Vec<u8>)>,
}

/// What one step appended.
struct Outcome {
    /// Index of the admitted submission, if it was admitted.
    admitted: Option<u64>,
    /// First index appended by this step.
    first: u64,
}

impl Run {
    fn new() -> Run {
        Run {
            engine: Engine::new(),
            registry: Registry::new([]),
            entries: Vec::new(),
            effective: Vec::new(),
            bytes: Vec::new(),
            prev: Hash::ZERO,
            snapshots: Vec::new(),
        }
    }

    fn push(&mut self, time_ms: i64, effective: i64, body: Body) {
        self.effective.push(effective);
        let entry = Entry {
            index: self.entries.len() as u64,
            time_ms,
            prev: self.prev,
            body,
        };
        let bytes = entry.encode().expect("entry encodes");
        self.prev = leaf_hash(&bytes);
        self.entries.push(entry);
        self.bytes.push(bytes);
    }

    /// Deadlines passed by `time_ms` first (whether or not the submission is
    /// admitted), then admission and the rules; if both allow it, the signed
    /// submission and its consequences.
    fn step(&mut self, cast: &Cast, s: &Step) -> Outcome {
        let first = self.entries.len() as u64;
        if first % 7 == 3 {
            self.snapshots
                .push((self.entries.len(), self.engine.snapshot().unwrap()));
        }
        // Deadline by deadline, to learn the time each record takes effect
        // at; the audit checks that this equals one `advance(time)`.
        while let Some(at) = self.engine.next_deadline().filter(|&at| at <= s.time_ms) {
            for d in self.engine.advance(at) {
                self.push(s.time_ms, at, Body::Derived(d));
            }
        }
        let index = self.entries.len() as u64;
        assert_eq!(self.engine.next_index(), index);
        let signer = &cast.signers[s.signer];
        let payload = Payload {
            signer: KeyRef {
                name: SignerName::new(signer.name().as_str()).unwrap(),
                id: signer.id(),
            },
            nonce: index,
            event: s.event.clone(),
        };
        let msg = payload.signed_message(ORIGIN).expect("payload encodes");
        let signed = Signed {
            signature: signer.sign(&msg),
            payload,
        };
        if self.registry.authorize(&signed, index, s.time_ms).is_err() {
            return Outcome {
                admitted: None,
                first,
            };
        }
        let reg = self
            .registry
            .signer_registration(&signed)
            .cloned()
            .expect("authorized signer is registered");
        if self.engine.check(&s.event, &reg, s.time_ms).is_err() {
            return Outcome {
                admitted: None,
                first,
            };
        }
        self.registry
            .apply(index, &s.event)
            .expect("admitted key events apply");
        let out = self.engine.apply(&s.event, &reg, s.time_ms);
        self.push(s.time_ms, s.time_ms, Body::Submitted(signed));
        for d in out {
            self.push(s.time_ms, s.time_ms, Body::Derived(d));
        }
        assert_eq!(self.engine.next_index(), self.entries.len() as u64);
        Outcome {
            admitted: Some(index),
            first,
        }
    }
}

/// The opening of every log: Genesis, then every other key registered.
fn prelude(cast: &Cast, t0: i64) -> Vec<Step> {
    let mut steps = vec![Step {
        time_ms: t0,
        signer: NODE,
        event: Event::Genesis {
            origin: Name::new(ORIGIN).unwrap(),
            node_key: cast.regs[NODE].clone(),
            office_keys: vec![cast.regs[OFFICE].clone()],
            rules: RuleSet::default(),
        },
    }];
    for k in 2..KEYS {
        steps.push(Step {
            time_ms: t0,
            signer: OFFICE,
            event: Event::KeyRegistered {
                key: cast.regs[k].clone(),
            },
        });
    }
    steps
}

// ---------------------------------------------------------------------------
// The properties' model, kept from the derived records alone.

#[derive(Default)]
struct Model {
    score: BTreeMap<Subject, i64>,
    /// Black-listed: entity → (CST day listed, notice index), from `ListChanged`.
    black: BTreeMap<Subject, (i32, u64)>,
    red: BTreeSet<Subject>,
    /// Default index → (entity, CST day it took effect, reversed).
    defaults: BTreeMap<u64, (Subject, i32, bool)>,
    /// Demand notice index → the defaults it rests on.
    notices: BTreeMap<u64, Vec<u64>>,
    /// The demand notice the last default calls for: (default index, entity, defaults).
    expect_notice: Option<(u64, Subject, Vec<u64>)>,
    /// Every entity seen.
    seen: BTreeSet<Subject>,
    /// Objections filed: index → the record objected to.
    objections: BTreeMap<u64, u64>,
    /// Objection decisions: index → the objection decided.
    decisions: BTreeMap<u64, u64>,
    /// `DefaultReversed` index → `ScoreChanged` records caused by it so far.
    reversals: BTreeMap<u64, u32>,
    /// Demand notice index → times its deduction was given back.
    restored: BTreeMap<u64, u32>,
}

impl Model {
    /// One admitted submission at `index`.
    fn submitted(&mut self, index: u64, event: &Event) {
        match event {
            Event::ObjectionFiled { target_index, .. } => {
                self.objections.insert(index, *target_index);
            }
            Event::ObjectionDecided {
                objection_index, ..
            } => {
                self.decisions.insert(index, *objection_index);
            }
            _ => {}
        }
    }

    /// A demand notice's deduction given back (by repair, by an upheld
    /// objection, or by withdrawal): at most once per notice.
    fn restore(&mut self, index: u64, notice: Option<u64>) -> Result<(), String> {
        let Some(n) = notice.filter(|n| self.notices.contains_key(n)) else {
            return Err(format!(
                "index {index}: a deduction given back for no demand notice"
            ));
        };
        let times = self.restored.entry(n).or_default();
        *times += 1;
        if *times > 1 {
            return Err(format!(
                "index {index}: the deduction of demand notice {n} is given back a second time"
            ));
        }
        Ok(())
    }

    /// Standing defaults of `who` within `window` days of `today`.
    fn standing(&self, who: &Subject, today: i32, window: u32) -> Vec<u64> {
        self.defaults
            .iter()
            .filter(|(_, (e, day, rev))| {
                e == who && !rev && i64::from(today) - i64::from(*day) < i64::from(window)
            })
            .map(|(i, _)| *i)
            .collect()
    }

    /// One derived record at `index`, taking effect at `effective`.
    fn record(
        &mut self,
        r: &RuleSet,
        index: u64,
        effective: i64,
        d: &Derived,
    ) -> Result<(), String> {
        let today = time::day_of(effective, r.utc_offset_minutes);
        if let Some((cause, ..)) = &self.expect_notice {
            // The notice follows the default's MilestoneClosed and
            // ScoreChanged (and a red-list exit, if any) at once.
            let between = matches!(
                d,
                Derived::MilestoneClosed { .. }
                    | Derived::ScoreChanged { .. }
                    | Derived::ListChanged {
                        list: ListKind::Red,
                        ..
                    }
            );
            if !matches!(d, Derived::DemandNoticePublished { .. })
                && (!between || index > cause + 3)
            {
                return Err(format!(
                    "index {index}: the demand notice the default at {cause} calls for is missing"
                ));
            }
        }
        match d {
            Derived::ScoreChanged {
                entity,
                delta,
                total,
                rule,
                cause,
            } => {
                self.seen.insert(entity.clone());
                let s = self.score.entry(entity.clone()).or_insert(r.initial_score);
                if *total != *s + delta {
                    return Err(format!(
                        "index {index}: ScoreChanged total {total} != running {s} + delta {delta}"
                    ));
                }
                *s = *total;
                let listing = self.black.get(entity).map(|(_, n)| *n);
                match rule.as_str() {
                    "repair" => self.restore(index, listing)?,
                    "reversal" => match self.reversals.get_mut(cause) {
                        // The default's own reversal, then perhaps its notice's withdrawal.
                        Some(0) => self.reversals.insert(*cause, 1).map_or((), |_| ()),
                        Some(_) => self.restore(index, listing)?,
                        // An upheld objection to a demand notice.
                        None => {
                            let target = self
                                .decisions
                                .get(cause)
                                .and_then(|o| self.objections.get(o))
                                .copied();
                            self.restore(index, target)?;
                        }
                    },
                    _ => {}
                }
            }
            Derived::DefaultDetermined { entity, .. } => {
                self.seen.insert(entity.clone());
                self.defaults.insert(index, (entity.clone(), today, false));
                if !self.black.contains_key(entity) {
                    let standing = self.standing(entity, today, r.black_window_days);
                    if standing.len() >= r.black_defaults as usize {
                        self.expect_notice = Some((index, entity.clone(), standing));
                    }
                }
            }
            Derived::DefaultReversed { default_index, .. } => {
                self.reversals.insert(index, 0);
                match self.defaults.get_mut(default_index) {
                    Some((_, _, rev)) if !*rev => *rev = true,
                    _ => {
                        return Err(format!(
                            "index {index}: reverses {default_index}, not a standing default"
                        ));
                    }
                }
            }
            Derived::DemandNoticePublished {
                entity,
                defaults,
                cause,
            } => {
                let want = self.expect_notice.take();
                if want.as_ref() != Some(&(*cause, entity.clone(), defaults.clone())) {
                    return Err(format!(
                        "index {index}: demand notice {entity} {defaults:?} cause {cause}, the predicate calls for {want:?}"
                    ));
                }
                self.notices.insert(index, defaults.clone());
            }
            Derived::ListChanged {
                entity,
                list,
                listed,
                reason,
                cause,
            } => {
                self.seen.insert(entity.clone());
                match (list, listed) {
                    (ListKind::Black, true) => {
                        if !self.notices.contains_key(cause) {
                            return Err(format!(
                                "index {index}: {entity} black-listed without a demand notice at {cause}"
                            ));
                        }
                        if self.black.insert(entity.clone(), (today, *cause)).is_some() {
                            return Err(format!("index {index}: {entity} black-listed twice"));
                        }
                    }
                    (ListKind::Black, false) => {
                        let Some((since, _)) = self.black.remove(entity) else {
                            return Err(format!(
                                "index {index}: {entity} leaves a list it is not on"
                            ));
                        };
                        let expired =
                            i64::from(today) - i64::from(since) >= i64::from(r.black_max_days);
                        if reason.as_str() == "maximum publicity period reached" && !expired {
                            return Err(format!(
                                "index {index}: black listing of {entity} since day {since} expired early"
                            ));
                        }
                    }
                    (ListKind::Red, true) => {
                        if !self.red.insert(entity.clone()) {
                            return Err(format!("index {index}: {entity} red-listed twice"));
                        }
                    }
                    (ListKind::Red, false) => {
                        if !self.red.remove(entity) {
                            return Err(format!(
                                "index {index}: {entity} leaves the red list it is not on"
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The model against the engine after a step at node time `time_ms`.
    fn compare(&self, r: &RuleSet, engine: &Engine, time_ms: i64) -> Result<(), String> {
        if let Some((cause, ..)) = &self.expect_notice {
            return Err(format!(
                "the demand notice the default at {cause} calls for is missing"
            ));
        }
        let today = time::day_of(time_ms, r.utc_offset_minutes);
        let mut all: BTreeSet<Subject> = self.seen.clone();
        all.extend(engine.entities().map(|(s, _)| s.clone()));
        for who in &all {
            let score = self.score.get(who).copied().unwrap_or(r.initial_score);
            if engine.score(who) != score {
                return Err(format!(
                    "{who}: engine score {} != 1000 + Σ ScoreChanged deltas = {score}",
                    engine.score(who)
                ));
            }
            let black = self.black.get(who);
            if engine.listed(who, ListKind::Black) != black.is_some() {
                return Err(format!(
                    "{who}: engine black {} but the last black ListChanged says {}",
                    engine.listed(who, ListKind::Black),
                    black.is_some()
                ));
            }
            if let Some((since, notice)) = black {
                if i64::from(today) - i64::from(*since) >= i64::from(r.black_max_days) {
                    return Err(format!(
                        "{who}: still black on day {today}, listed since {since}"
                    ));
                }
                let standing = self.notices[notice]
                    .iter()
                    .filter(|i| self.defaults.get(i).is_some_and(|d| !d.2))
                    .count();
                if standing < r.black_defaults as usize {
                    return Err(format!(
                        "{who}: still black under notice {notice}, which rests on {standing} standing defaults"
                    ));
                }
            }
            let red = self.red.contains(who);
            if engine.listed(who, ListKind::Red) != red {
                return Err(format!(
                    "{who}: engine red {} but the last red ListChanged says {red}",
                    engine.listed(who, ListKind::Red)
                ));
            }
            // Contracts fully performed leave no record of their own when
            // one milestone was late, so their days come from the engine.
            let window = i64::from(r.red_window_days);
            let done = engine
                .entities()
                .find(|(s, _)| *s == who)
                .map_or(0, |(_, e)| {
                    e.completions
                        .iter()
                        .filter(|&&d| i64::from(today) - i64::from(d) < window)
                        .count()
                });
            let standing = self.standing(who, today, r.red_window_days);
            let eligible = black.is_none()
                && score >= r.red_min_score
                && done >= r.red_min_contracts as usize
                && standing.is_empty();
            if red != eligible {
                return Err(format!(
                    "{who}: red {red} on day {today}, but the predicate says {eligible} (score {score}, {done} contracts done, standing defaults {standing:?}, black {black:?})"
                ));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// One case.

/// Interprets `actions` into a script while running it, checking (c) and
/// (d) after every step. Returns the script and the run.
/// Runs steps as the node does and checks (c) and (d) after each.
struct Checker<'a> {
    cast: &'a Cast,
    rules: RuleSet,
    run: Run,
    model: Model,
    known: Known,
    script: Vec<Step>,
}

impl<'a> Checker<'a> {
    fn new(cast: &'a Cast) -> Checker<'a> {
        Checker {
            cast,
            rules: RuleSet::default(),
            run: Run::new(),
            model: Model::default(),
            known: Known::default(),
            script: Vec::new(),
        }
    }

    fn feed(&mut self, s: Step) -> Result<(), String> {
        let out = self.run.step(self.cast, &s);
        if let Some(i) = out.admitted {
            self.known.learn_submission(i, &s.event);
            self.model.submitted(i, &s.event);
        }
        let checked = (|| {
            for e in &self.run.entries[out.first as usize..] {
                if let Body::Derived(d) = &e.body {
                    self.known.learn(e.index, d);
                    let effective = self.run.effective[e.index as usize];
                    self.model.record(&self.rules, e.index, effective, d)?;
                }
            }
            self.model.compare(&self.rules, &self.run.engine, s.time_ms)
        })();
        self.script.push(s);
        checked.map_err(|e| format!("{e}\nlog:\n{}", render_log(&self.run.entries)))
    }
}

/// Node time of the first entry: 2026-01-01 09:00 CST.
fn start_time() -> i64 {
    time::start_of(i64::from(Date::parse("2026-01-01").unwrap().days()), OFFSET) + 9 * 3_600_000
}

/// Interprets `actions` into a script while running it, checking (c) and
/// (d) after every step. Returns the script and the run.
fn build(cast: &Cast, actions: &[Action]) -> Result<(Vec<Step>, Run), String> {
    let t0 = start_time();
    let mut ck = Checker::new(cast);
    for s in prelude(cast, t0) {
        ck.feed(s)?;
    }
    let mut t = t0;
    for a in actions {
        t = next_time(t, a.dt);
        let mut interp = Interp {
            cast,
            engine: &ck.run.engine,
            known: &mut ck.known,
            rng: Rng(a.seed),
            today: i64::from(time::day_of(t, OFFSET)),
            right: a.right,
        };
        let (signer, event) = interp.interpret(a);
        let s = Step {
            time_ms: t,
            signer,
            event,
        };
        ck.feed(s).map_err(|e| format!("at action {a:?}: {e}"))?;
    }
    // Far in the future: every deadline fires; then the ones those created.
    for years in [3, 6] {
        ck.feed(Step {
            time_ms: t + years * 366 * DAY,
            signer: NODE,
            event: Event::Tick {},
        })?;
    }
    let run = ck.run;
    if let Some(at) = run.engine.next_deadline() {
        return Err(format!(
            "a deadline at {at} is still pending after the final ticks"
        ));
    }
    for (who, _) in run.engine.entities() {
        if run.engine.listed(who, ListKind::Black) || run.engine.listed(who, ListKind::Red) {
            return Err(format!(
                "{who} is still listed six years after the last action"
            ));
        }
    }
    Ok((ck.script, run))
}

/// (b): the script again from scratch, the audit, and a restart.
fn replays(cast: &Cast, script: &[Step], first: &Run) -> Result<(), String> {
    let mut again = Run::new();
    for s in script {
        again.step(cast, s);
    }
    if again.bytes != first.bytes {
        let i = again
            .bytes
            .iter()
            .zip(&first.bytes)
            .position(|(a, b)| a != b)
            .unwrap_or(again.bytes.len().min(first.bytes.len()));
        return Err(format!("second run differs from the first at entry {i}"));
    }
    if again.engine.snapshot()? != first.engine.snapshot()? {
        return Err("second run ends in a different engine state".into());
    }

    // The standalone audit re-derives every derived record.
    let mut auditor = Auditor::new(ORIGIN, Registry::new([]));
    let mut tree = MemoryTree::new();
    for b in &first.bytes {
        auditor.feed(b).map_err(|e| format!("audit: {e}"))?;
        tree.append(b);
    }
    let origin = Origin::new(ORIGIN).unwrap();
    let note = sign_checkpoint(
        &Checkpoint::new(origin.clone(), first.bytes.len() as u64, tree.root()),
        &cast.signers[NODE],
    );
    let cp = open(note.as_bytes(), &origin, &cast.signers[NODE].verifier_key())
        .map_err(|e| format!("checkpoint: {e}"))?;
    let summary = auditor.finish(&cp).map_err(|e| format!("audit: {e}"))?;
    if summary.size != first.bytes.len() as u64 {
        return Err("audit covered a different size".into());
    }
    // The log alone determines the engine: the audit's engine and one
    // replaying the log from scratch are identical.
    let mut replayed = Engine::new();
    for e in &first.entries {
        replayed.replay(e, &first.registry);
    }
    if replayed.snapshot()? != auditor.engine().snapshot()? {
        return Err("replaying the log and auditing it end in different states".into());
    }
    // The node's own engine also fired deadlines at refused submissions,
    // which the log does not show; as deadlines act at their own time, it
    // ends in the very same state (see
    // `audit_accepts_a_log_after_a_refused_submission_fired_a_red_check`).
    if auditor.engine().snapshot()? != first.engine.snapshot()? {
        return Err("the audit's engine ends in a different state than the node's".into());
    }

    // A restart: a mid-way snapshot restored, the rest replayed.
    if let Some((at, snap)) = first.snapshots.get(first.snapshots.len() / 2) {
        let mut engine = Engine::restore(snap)?;
        for e in &first.entries[*at..] {
            engine.replay(e, &first.registry);
        }
        if engine.snapshot()? != first.engine.snapshot()? {
            return Err(format!("restart from the snapshot at entry {at} diverges"));
        }
    }
    Ok(())
}

/// The log from the first entry after the key registrations, one entry a
/// line: index, CST time, the submission (kind, signer, event) or the
/// derived record, as JSON.
fn render_log(entries: &[Entry]) -> String {
    entries
        .iter()
        .skip(KEYS - 1)
        .map(|e| {
            let local = e.time_ms + i64::from(OFFSET) * 60_000;
            let day = day_date(local.div_euclid(DAY));
            let ms = local.rem_euclid(DAY);
            let clock = format!(
                "{:02}:{:02}:{:02}.{:03}",
                ms / 3_600_000,
                ms / 60_000 % 60,
                ms / 1000 % 60,
                ms % 1000
            );
            let body = match &e.body {
                Body::Submitted(s) => format!(
                    "{} {}",
                    s.payload.signer.name,
                    serde_json::to_string(&s.payload.event).unwrap()
                ),
                Body::Derived(d) => serde_json::to_string(d).unwrap(),
            };
            format!("  {} {day} {clock} {body}", e.index)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn render(script: &[Step]) -> String {
    script
        .iter()
        .skip(KEYS - 1)
        .map(|s| {
            format!(
                "  t={} (day {}) signer={} {}",
                s.time_ms,
                time::day_of(s.time_ms, OFFSET),
                s.signer,
                serde_json::to_string(&s.event).unwrap()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn check_case(cast: &Cast, actions: &[Action]) -> Result<Run, String> {
    let (script, run) = build(cast, actions)?;
    replays(cast, &script, &run).map_err(|e| format!("{e}\nscript:\n{}", render(&script)))?;
    Ok(run)
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_sequences_keep_the_rule_book(actions in prop::collection::vec(action(), 1..160)) {
        let cast = Cast::new();
        if let Err(e) = check_case(&cast, &actions) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// The generator reaches every rule: over a fixed set of random cases, every
/// kind of derived record (and the interesting variants) occurs.
#[test]
fn generator_reaches_every_rule() {
    let cast = Cast::new();
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let strategy = prop::collection::vec(action(), 100..160);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..160 {
        let actions = strategy.new_tree(&mut runner).unwrap().current();
        let run = check_case(&cast, &actions).unwrap();
        for e in &run.entries {
            let key = match &e.body {
                Body::Submitted(s) => format!("submitted {}", s.payload.event.kind()),
                Body::Derived(d) => match d {
                    Derived::ScoreChanged { rule, .. } => format!("score {rule}"),
                    Derived::ListChanged {
                        list,
                        listed,
                        reason,
                        ..
                    } => {
                        format!("list {list:?} {listed} {reason}")
                    }
                    Derived::MilestoneClosed { closure, .. } => format!("closed {closure:?}"),
                    Derived::DefaultDetermined { extent, .. } => format!("default {extent:?}"),
                    other => serde_json::to_value(other).unwrap()["type"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                },
            };
            *seen.entry(key).or_default() += 1;
        }
    }
    let want = [
        "reminder_issued",
        "overdue_warning",
        "default Full",
        "default Partial",
        "default_reversed",
        "demand_notice_published",
        "score on_time",
        "score late",
        "score contract_on_time",
        "score full_default",
        "score partial_default",
        "score demand_notice",
        "score reversal",
        "score repair",
        "closed OnTime",
        "closed Late",
        "closed Deemed",
        "closed Exempt",
        "closed Defaulted",
        "list Black true demand notice published",
        "list Black false credit repair approved",
        "list Black false maximum publicity period reached",
        "list Black false objection upheld",
        "list Red true red list criteria met",
        "list Red false red list criteria no longer met",
        "list Black false demand notice withdrawn: its defaults were reversed",
        "submitted contract_amended",
        "submitted filing_acknowledged",
        "submitted claim_disputed",
        "submitted exemption_decided",
        "submitted objection_decided",
        "submitted repair_decided",
        "submitted mediation_recorded",
    ];
    let missing: Vec<&str> = want
        .iter()
        .copied()
        .filter(|k| !seen.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "never reached: {missing:?}\nseen: {seen:#?}"
    );
}

/// Regression for property (b), "the standalone audit re-derives every
/// derived record": the minimal sequence (shrunk by hand from a random case
/// whose node and audit engines ended in different states) on which an
/// honest node's log failed the audit while deadlines acted at the time of
/// the entry that passed them. Fixed by making every deadline act at its own
/// time (RULES.md, "Time"). Firm E, contracts filed by source unit SU;
/// day 0 = 2026-01-05:
///
/// - day 0: C1 (due day 5) filed and confirmed on time (completion, day 0);
///   C0 (due day 9) filed; day 10: C0 reported not performed (default D0,
///   day 10); days 20–23: C2–C5 filed and confirmed on time. E: 1010 points,
///   not red (D0 stands). A red-list re-check is due at 00:00 CST of day 730
///   (C1's completion ages out); C6 (due day 719, filed day 30) defaults at
///   00:00 CST of day 735; D0 ages out at 00:00 CST of day 740.
/// - day 725: a tick (reminders and the overdue warning of C6).
/// - day 732: a submission the node refuses (a `Tick` signed by E's key:
///   wrong role). The node fires the day-730 re-check before admission; it
///   changes nothing, so nothing is appended.
/// - day 741: a tick. The node fires C6's default, then the day-740
///   re-check. The auditor never saw day 732 and fires the day-730 re-check
///   at day 741. When a deadline acted at the passing entry's time, that
///   re-check saw D0 aged out and C6 not yet defaulted and expected
///   `ListChanged red true` before the default: `DerivedMismatch` at
///   entry 48. Now the logs with and without the refused submission are
///   the same bytes, and both audit.
#[test]
fn audit_accepts_a_log_after_a_refused_submission_fired_a_red_check() {
    let cast = Cast::new();
    let t0 = start_time();
    let day0 = i64::from(Date::parse("2026-01-05").unwrap().days());
    let at = |d: i64, h: i64| time::start_of(day0 + d, OFFSET) + h * 3_600_000;
    let (e, su) = (FIRMS[0], SOURCE_UNITS[0]);
    let party = |k: usize| Party {
        subject: cast.subject(k),
        name: Name::new(format!("单位{k}")).unwrap(),
        role: Name::new("party").unwrap(),
    };
    let file = |id: &str, signed: i64, due: i64| Event::ContractFiled {
        contract: Contract {
            id: ContractId::new(id).unwrap(),
            category: Category::GovernmentProcurement,
            name: Name::new("contract").unwrap(),
            parties: vec![party(su), party(e)],
            summary: text("summary"),
            amount: Fen::new(1000).unwrap(),
            signed: day_date(day0 + signed),
            milestones: vec![Milestone {
                number: 1,
                obligor: cast.subject(e),
                obligee: cast.subject(su),
                due: day_date(day0 + due),
                description: text("milestone"),
                amount: Fen::new(1000).unwrap(),
            }],
            document_sha256: None,
            source: Source::Department,
        },
    };
    let confirm = |id: &str, d: i64| Event::PerformanceConfirmed {
        contract: ContractId::new(id).unwrap(),
        milestone: 1,
        performed: day_date(day0 + d),
        evidence: None,
    };
    let step = |time_ms: i64, signer: usize, event: Event| Step {
        time_ms,
        signer,
        event,
    };
    let mut steps = prelude(&cast, t0);
    steps.push(step(at(0, 10), su, file("C1", 0, 5)));
    steps.push(step(at(0, 11), su, confirm("C1", 0)));
    steps.push(step(at(0, 12), su, file("C0", 0, 9)));
    steps.push(step(
        at(10, 9),
        su,
        Event::NonPerformanceReported {
            contract: ContractId::new("C0").unwrap(),
            milestone: 1,
            extent: Extent::Full,
            reason: text("not performed"),
        },
    ));
    for (i, d) in [20, 21, 22, 23].into_iter().enumerate() {
        let id = format!("C{}", i + 2);
        steps.push(step(at(d, 10), su, file(&id, d, d + 5)));
        steps.push(step(at(d, 11), su, confirm(&id, d)));
    }
    steps.push(step(at(30, 10), su, file("C6", 30, 719)));
    steps.push(step(at(725, 10), NODE, Event::Tick {}));
    let refused = step(at(732, 10), e, Event::Tick {});
    let last = step(at(741, 10), NODE, Event::Tick {});

    let audit = |run: &Run| -> Result<(), String> {
        let mut auditor = Auditor::new(ORIGIN, Registry::new([]));
        for b in &run.bytes {
            auditor.feed(b).map_err(|v| v.to_string())?;
        }
        Ok(())
    };
    // Without the refused submission.
    let mut plain = Run::new();
    for s in steps.iter().chain([&last]) {
        plain.step(&cast, s);
    }
    assert_eq!(audit(&plain), Ok(()));
    let kinds: Vec<String> = plain.entries[plain.entries.len() - 4..]
        .iter()
        .map(|e| match &e.body {
            Body::Derived(d) => serde_json::to_value(d).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string(),
            Body::Submitted(s) => s.payload.event.kind().to_string(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "default_determined",
            "milestone_closed",
            "score_changed",
            "tick"
        ]
    );

    // With it: the node appends nothing at day 732, and its log is the same.
    let mut run = Run::new();
    for s in &steps {
        run.step(&cast, s);
    }
    let before = run.entries.len();
    assert_eq!(run.step(&cast, &refused).admitted, None);
    assert_eq!(
        run.entries.len(),
        before,
        "the refused submission appends nothing"
    );
    run.step(&cast, &last);
    assert_eq!(
        audit(&run),
        Ok(()),
        "an honest log fails the audit: the node fired a red-list re-check at a refused \
         submission (day 732) that the log does not show"
    );
    assert!(
        run.bytes == plain.bytes,
        "the refused submission changed the log"
    );
}

/// Regression for property (d) "each demand notice's deduction is given back
/// at most once": the minimal form of a failure the random test found about
/// once in a few thousand cases. Firm E, a contract imported by the data
/// feed F with two milestones owed to source unit SU, both due 2026-03-31:
///
/// - 2026-04-01: SU reports both not performed → defaults at 15 and 19,
///   demand notice 22 (−50), E black-listed (E: 920);
/// - 2026-04-10: E objects to notice 22 (within 15 days, objection 25); the
///   credit office leaves the objection undecided;
/// - 2026-07-05: SU confirms both milestones performed (after the defaults);
/// - 2026-07-06: E applies for repair (28; day 96 of the listing) and the
///   office approves: +50 "repair", E leaves the black list (E: 970);
/// - 2026-07-07: the office upholds the objection to notice 22. While a
///   repair did not mark the notice undone, this gave +50 "reversal" a
///   second time (E: 1020, although both defaults, −30, stand). Now the
///   repair marks it undone and the decision gives nothing back.
#[test]
fn a_demand_notice_deduction_is_given_back_at_most_once() {
    let cast = Cast::new();
    let day = |d: &str, hh: i64| {
        time::start_of(i64::from(Date::parse(d).unwrap().days()), OFFSET) + hh * 3_600_000
    };
    let (e, su) = (FIRMS[0], SOURCE_UNITS[0]);
    let id = ContractId::new("GGZY-1").unwrap();
    let party = |k: usize| Party {
        subject: cast.subject(k),
        name: Name::new(format!("单位{k}")).unwrap(),
        role: Name::new("party").unwrap(),
    };
    let milestone = |n: u32| Milestone {
        number: n,
        obligor: cast.subject(e),
        obligee: cast.subject(su),
        due: Date::parse("2026-03-31").unwrap(),
        description: text("milestone"),
        amount: Fen::new(1000).unwrap(),
    };
    let step = |time_ms: i64, signer: usize, event: Event| Step {
        time_ms,
        signer,
        event,
    };
    let mut ck = Checker::new(&cast);
    for s in prelude(&cast, start_time()) {
        ck.feed(s).unwrap();
    }
    let steps = vec![
        step(
            day("2026-03-25", 10),
            FEED,
            Event::ContractFiled {
                contract: Contract {
                    id: id.clone(),
                    category: Category::PublicResourceTrading,
                    name: Name::new("contract").unwrap(),
                    parties: vec![party(su), party(e)],
                    summary: text("summary"),
                    amount: Fen::new(2000).unwrap(),
                    signed: Date::parse("2026-03-20").unwrap(),
                    milestones: vec![milestone(1), milestone(2)],
                    document_sha256: None,
                    source: Source::Import {
                        external_ref: Name::new("GGZY-1").unwrap(),
                    },
                },
            },
        ),
        step(
            day("2026-04-01", 9),
            su,
            Event::NonPerformanceReported {
                contract: id.clone(),
                milestone: 1,
                extent: Extent::Full,
                reason: text("not performed"),
            },
        ),
        step(
            day("2026-04-01", 10),
            su,
            Event::NonPerformanceReported {
                contract: id.clone(),
                milestone: 2,
                extent: Extent::Partial,
                reason: text("not performed"),
            },
        ),
        step(
            day("2026-04-10", 9),
            e,
            Event::ObjectionFiled {
                target_index: 22,
                statement: text("objection"),
            },
        ),
        step(
            day("2026-07-05", 10),
            su,
            Event::PerformanceConfirmed {
                contract: id.clone(),
                milestone: 1,
                performed: Date::parse("2026-07-03").unwrap(),
                evidence: None,
            },
        ),
        step(
            day("2026-07-05", 11),
            su,
            Event::PerformanceConfirmed {
                contract: id.clone(),
                milestone: 2,
                performed: Date::parse("2026-07-04").unwrap(),
                evidence: None,
            },
        ),
        step(
            day("2026-07-06", 9),
            e,
            Event::RepairApplied {
                entity: cast.subject(e),
                commitment: sha256(b"commitment"),
            },
        ),
        step(
            day("2026-07-06", 10),
            OFFICE,
            Event::RepairDecided {
                application_index: 28,
                approved: true,
                reason: text("repaired"),
            },
        ),
        step(
            day("2026-07-07", 10),
            OFFICE,
            Event::ObjectionDecided {
                objection_index: 25,
                upheld: true,
                reason: text("upheld"),
            },
        ),
    ];
    let mut result = Ok(());
    for s in steps {
        let before = ck.run.entries.len();
        let kind = s.event.kind();
        result = ck.feed(s);
        let admitted = ck.run.entries[before..]
            .iter()
            .any(|e| matches!(e.body, Body::Submitted(_)));
        assert!(admitted, "{kind} was refused");
        if result.is_err() {
            break;
        }
    }
    assert!(matches!(
        ck.run.entries[22].body,
        Body::Derived(Derived::DemandNoticePublished { .. })
    ));
    assert_eq!(
        ck.run.engine.score(&cast.subject(e)),
        970,
        "E's score: 1000 − 20 − 10 (the defaults stand)"
    );
    assert_eq!(result, Ok(()));
}
