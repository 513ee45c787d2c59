//! `lvyue-node demo`: a realistic city in a fresh data folder, so a newcomer
//! sees lists, reports and warnings at once.
//!
//! [`build`] initialises a data folder, registers keys for a Baoji-like city
//! (宝鸡市: government departments as source units, the public-resource
//! trading centre as a data feed, a credit service agency, firms with valid
//! GB 32100 codes, natural persons by masked name and commitment), and then
//! plays about two years of contracts of all eight categories through the
//! node's own sequencer, on a [`FixedClock`] it moves from step to step.
//! Every submission is signed with the key of the organisation that would
//! make it and must be admitted: the rules engine is the authority, and the
//! plan is built so it admits everything (docs/RULES.md). The folder can then
//! be served with `lvyue-node serve --data DIR`; the organisations' keys are
//! in `DIR/keys/demo/` (listed in `DIR/keys/demo/index.json`) for signing
//! more events with `lvyue-node submit`.
//!
//! Determinism: the city, the plan and therefore every decision, derived
//! record, score and list come from `seed` alone. The signing keys (node,
//! office, organisations) are fresh random keys, so the log's bytes, key ids
//! and signatures differ from run to run; [`DemoSummary::content_digest`]
//! hashes the log without them and is the same for the same options.
//!
//! After the build the folder is audited in full ([`View::audit`](lvyue_ledger::store::View::audit): chain,
//! signatures, every derived record re-derived, Merkle hashes, checkpoint),
//! and the summary is computed from the log and a fresh replay of the rules
//! engine, not from the plan.
//!
//! The demo's data are made up, and its keys are for play: never serve a
//! demo folder as a real ledger.

mod city;
mod plan;
mod rng;
mod script;
mod summary;

pub use summary::{DemoSummary, Listed};

use crate::clock::FixedClock;
use crate::node::{self, InitOptions, Node};
use crate::sequencer::{SequencerConfig, SubmitError};
use lvyue_ledger::engine::RuleError;
use lvyue_ledger::event::{Event, KeyRegistration};
use lvyue_ledger::keys::{KeyName, Signer};
use lvyue_ledger::record::{Body, Derived, Entry};
use lvyue_ledger::types::{Date, Name, SignerName, Subject};
use plan::{Act, City, Planner, Step, Target, Who, time};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// What to build.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Seed of everything but the keys.
    pub seed: u64,
    /// Source units, 1..=14 (宝鸡市财政局, 住房和城乡建设局, …).
    pub departments: usize,
    /// Firms (at least 12 + the red-list firms, about one in twenty).
    pub firms: usize,
    /// Natural persons (at least 2).
    pub persons: usize,
    /// Background contracts, besides the ~25 of the scripted stories.
    pub contracts: usize,
    /// First simulated day (CST).
    pub start: Date,
    /// Simulated days (at least 450).
    pub days: u32,
    /// Log origin.
    pub origin: String,
}

impl Default for DemoOptions {
    /// About 8,000 entries; a few seconds to build.
    fn default() -> Self {
        DemoOptions {
            seed: 1,
            departments: 12,
            firms: 100,
            persons: 8,
            contracts: 600,
            start: Date::parse("2024-11-01").expect("valid date"),
            days: 730,
            origin: "lvyue.local/baoji-demo".into(),
        }
    }
}

/// Builds the demo in `dir`, which must be empty or not exist.
pub fn build(dir: &Path, opts: &DemoOptions) -> Result<DemoSummary, String> {
    check_options(opts)?;
    check_empty(dir)?;
    let (city, mut planner_rng) = make_city(opts)?;
    let signers = city
        .orgs
        .iter()
        .map(|o| KeyName::new(&o.key).and_then(Signer::generate))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("key generation: {e}"))?;
    let start = opts.start.days();
    let steps = {
        let red = (opts.firms / 20).max(2);
        let cast = script::Cast::new(&city.firms, red)?;
        let mut p = Planner::new(
            &city,
            rng::Rng::new(planner_rng.next_u64()),
            start,
            opts.days,
        );
        p.stories(&cast)?;
        let delegations = script::delegations(&mut p, &cast);
        p.background(&cast, opts.contracts, &delegations)?;
        let mut steps = p.steps;
        steps.sort_by_key(|s| (s.t, s.seq));
        steps
    };

    let clock = Arc::new(FixedClock::new(time(start, 8 * 60)));
    let init = InitOptions {
        origin: opts.origin.clone(),
        office_name: "宝鸡市信用办".into(),
        ..InitOptions::default()
    };
    node::init(dir, &init, clock.clone()).map_err(|e| e.to_string())?;
    let config = SequencerConfig {
        // One submission at a time: no batch to wait for.
        max_wait: Duration::ZERO,
        // The demo submits its own Ticks, so the log does not depend on wall time.
        tick_interval: Duration::from_secs(86_400),
        ..SequencerConfig::default()
    };
    let node = node::open(dir, &init, clock.clone(), config).map_err(|e| e.to_string())?;
    let key_files = write_keys(dir, &city, &signers)?;
    let result = run(dir, &node, &clock, &city, signers, &steps, opts);
    node.sequencer.stop();
    let refused = result?;
    let summary = summary::summarize(dir, &node, &city, opts, refused, key_files)?;
    let missing = summary.missing();
    if !missing.is_empty() {
        return Err(format!("the demo lacks {}", missing.join(", ")));
    }
    Ok(summary)
}

fn check_options(o: &DemoOptions) -> Result<(), String> {
    if o.departments == 0 || o.departments > city::MAX_DEPARTMENTS {
        return Err(format!(
            "departments: want 1..={}, got {}",
            city::MAX_DEPARTMENTS,
            o.departments
        ));
    }
    if o.days < script::MIN_DAYS {
        return Err(format!(
            "days: want at least {} (a black listing runs 365 days), got {}",
            script::MIN_DAYS,
            o.days
        ));
    }
    if o.persons < 2 {
        return Err(format!("persons: want at least 2, got {}", o.persons));
    }
    Date::from_days(o.start.days() + o.days as i32 + 400)
        .map(|_| ())
        .map_err(|e| format!("start {} and {} days: {e}", o.start, o.days))
}

fn check_empty(dir: &Path) -> Result<(), String> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(format!(
                "{}: not empty; the demo needs an empty or new folder",
                dir.display()
            )),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("{}: {e}", dir.display())),
    }
}

/// The city of the seed, and the generator the plan continues with.
fn make_city(o: &DemoOptions) -> Result<(City, rng::Rng), String> {
    let mut rng = rng::Rng::new(o.seed);
    let mut codes = city::CodeMaker::new();
    let mut orgs = city::departments(&mut rng, &mut codes, o.departments)?;
    let depts = (0..orgs.len()).collect();
    let [feed, agency] = city::feed_and_agency(&mut rng, &mut codes)?;
    orgs.push(feed);
    orgs.push(agency);
    let firms_from = orgs.len();
    orgs.extend(city::firms(&mut rng, &mut codes, o.firms)?);
    // The office's commitment key, made up for the demo.
    let commitment_key = rng.bytes32();
    let persons = city::persons(&mut rng, &commitment_key, o.persons);
    let city = City {
        depts,
        feed: firms_from - 2,
        agency: firms_from - 1,
        firms: (firms_from..orgs.len()).collect(),
        orgs,
        persons,
    };
    Ok((city, rng))
}

/// Writes every organisation's key to `keys/demo/<key>.key` and an index.
fn write_keys(dir: &Path, city: &City, signers: &[Signer]) -> Result<Vec<String>, String> {
    let demo = dir.join("keys").join("demo");
    std::fs::create_dir_all(&demo).map_err(|e| format!("{}: {e}", demo.display()))?;
    let mut files = Vec::new();
    let mut index = Vec::new();
    for (org, signer) in city.orgs.iter().zip(signers) {
        let rel = format!("keys/demo/{}.key", org.key);
        signer
            .write_file(&dir.join(&rel))
            .map_err(|e| e.to_string())?;
        index.push(serde_json::json!({
            "key": org.key, "file": rel, "holder": org.name, "uscc": org.uscc,
            "role": org.role, "verifier_key": signer.verifier_key().to_string(),
        }));
        files.push(rel);
    }
    index.push(serde_json::json!({
        "key": "credit-office", "file": "keys/office.key", "holder": "宝鸡市信用办",
        "uscc": lvyue_ledger::uscc::Uscc::with_check(node::DEFAULT_OFFICE_USCC)
            .map_err(|e| e.to_string())?
            .to_string(),
        "role": "credit_office",
    }));
    let text = serde_json::to_string_pretty(&index).map_err(|e| e.to_string())?;
    let path = demo.join("index.json");
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    files.push("keys/demo/index.json".into());
    Ok(files)
}

/// Plays the plan through the node; returns how many submissions were
/// refused as the plan expected.
fn run(
    dir: &Path,
    node: &Node,
    clock: &FixedClock,
    city: &City,
    signers: Vec<Signer>,
    steps: &[Step],
    opts: &DemoOptions,
) -> Result<usize, String> {
    let read =
        |name: &str| Signer::read_file(&dir.join("keys").join(name)).map_err(|e| e.to_string());
    let mut ex = Executor {
        node,
        clock,
        origin: node.origin.as_str().to_string(),
        nonce: 0,
        office: read("office.key")?,
        node_key: read("node.key")?,
        signers,
        receipts: vec![None; steps.len()],
        log: LogIndex::default(),
        refused: 0,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    rt.block_on(async {
        let t0 = time(opts.start.days(), 8 * 60);
        for (i, org) in city.orgs.iter().enumerate() {
            let key = KeyRegistration {
                name: SignerName::new(org.key.as_str())?,
                public_key: ex.signers[i].verifier_key().key().to_bytes(),
                holder: Subject::Org(org.uscc),
                holder_name: Name::new(org.name.as_str())?,
                role: org.role,
                valid_from_ms: None,
                valid_until_ms: None,
            };
            let at = t0 + 1000 * (i as i64 + 1);
            ex.submit(at, Who::Office, Event::KeyRegistered { key })
                .await
                .map_err(|e| format!("registering {}: {e}", org.key))?;
        }
        for step in steps {
            ex.step(step)
                .await
                .map_err(|e| format!("{}: {e}", describe(step, city)))?;
        }
        let end = time(opts.start.days() + opts.days as i32, 0) - 1;
        ex.submit(end, Who::Node, Event::Tick {})
            .await
            .map_err(|e| format!("final tick: {e}"))?;
        Ok::<(), String>(())
    })?;
    Ok(ex.refused)
}

fn describe(step: &Step, city: &City) -> String {
    let who = match step.who {
        Who::Office => "credit-office",
        Who::Node => "node",
        Who::Org(i) => city.orgs[i].key.as_str(),
    };
    let kind = match &step.act {
        Act::Event(e) | Act::Refused(e) => e.kind(),
        Act::DecideExemption { .. } => "exemption_decided",
        Act::Object { .. } => "objection_filed",
        Act::DecideObjection { .. } => "objection_decided",
        Act::DecideRepair { .. } => "repair_decided",
    };
    let day = lvyue_ledger::engine::time::day_of(step.t, plan::CST);
    let day = Date::from_days(day).map_or_else(|_| format!("{} ms", step.t), |d| d.to_string());
    format!("step {} ({kind} by {who} on {day})", step.seq)
}

/// Records of the log the executor looks up by what they are about.
#[derive(Default)]
struct LogIndex {
    next: u64,
    defaults: BTreeMap<(String, u32), u64>,
    notices: BTreeMap<Subject, u64>,
}

struct Executor<'a> {
    node: &'a Node,
    clock: &'a FixedClock,
    origin: String,
    nonce: u64,
    office: Signer,
    node_key: Signer,
    signers: Vec<Signer>,
    /// Log index of each step's submission, by step number.
    receipts: Vec<Option<u64>>,
    log: LogIndex,
    refused: usize,
}

impl Executor<'_> {
    async fn submit(&mut self, t: i64, who: Who, event: Event) -> Result<u64, SubmitError> {
        self.clock.set(t);
        self.nonce += 1;
        let signer = match who {
            Who::Office => &self.office,
            Who::Node => &self.node_key,
            Who::Org(i) => &self.signers[i],
        };
        let signed = node::sign_event(signer, &self.origin, event, self.nonce)
            .map_err(SubmitError::Storage)?;
        let result = self.node.sequencer.submit(signed).await;
        self.scan().map_err(SubmitError::Storage)?;
        result.map(|r| r.index)
    }

    /// Indexes the entries appended since the last scan.
    fn scan(&mut self) -> Result<(), String> {
        let view = self.node.sequencer.view().ok_or("the node stopped")?;
        for r in view.entries(self.log.next, view.head().size) {
            let (i, bytes) = r.map_err(|e| e.to_string())?;
            let entry = Entry::decode(&bytes).map_err(|e| format!("entry {i}: {e}"))?;
            match entry.body {
                Body::Derived(Derived::DefaultDetermined {
                    contract,
                    milestone,
                    ..
                }) => {
                    self.log
                        .defaults
                        .insert((contract.as_str().to_string(), milestone), i);
                }
                Body::Derived(Derived::DemandNoticePublished { entity, .. }) => {
                    self.log.notices.insert(entity, i);
                }
                _ => {}
            }
            self.log.next = i + 1;
        }
        Ok(())
    }

    fn receipt(&self, seq: usize) -> Result<u64, String> {
        self.receipts[seq].ok_or_else(|| format!("step {seq} it answers has no receipt"))
    }

    fn lookup(&self, target: &Target) -> Option<u64> {
        match target {
            Target::Default {
                contract,
                milestone,
            } => self
                .log
                .defaults
                .get(&(contract.as_str().to_string(), *milestone))
                .copied(),
            Target::Notice(entity) => self.log.notices.get(entity).copied(),
        }
    }

    async fn step(&mut self, step: &Step) -> Result<(), String> {
        let text = |s: &str| lvyue_ledger::types::Text::new(s);
        let event = match &step.act {
            Act::Event(e) => e.clone(),
            Act::Refused(e) => {
                return match self.submit(step.t, step.who, e.clone()).await {
                    Err(SubmitError::Rule(RuleError::Invalid(_))) => {
                        self.refused += 1;
                        Ok(())
                    }
                    Err(e) => Err(format!("refused, but not as planned: {e}")),
                    Ok(i) => Err(format!("admitted at {i}; the plan expected a refusal")),
                };
            }
            Act::DecideExemption {
                claim,
                approved,
                reason,
            } => Event::ExemptionDecided {
                claim_index: self.receipt(*claim)?,
                approved: *approved,
                reason: text(reason)?,
            },
            Act::DecideObjection {
                objection,
                upheld,
                reason,
            } => Event::ObjectionDecided {
                objection_index: self.receipt(*objection)?,
                upheld: *upheld,
                reason: text(reason)?,
            },
            Act::DecideRepair {
                application,
                approved,
                reason,
            } => Event::RepairDecided {
                application_index: self.receipt(*application)?,
                approved: *approved,
                reason: text(reason)?,
            },
            Act::Object { target, statement } => {
                if self.lookup(target).is_none() {
                    // A default after the grace period is in the log only once
                    // an entry passes its deadline: let a Tick pass it.
                    self.submit(step.t, Who::Node, Event::Tick {})
                        .await
                        .map_err(|e| format!("tick: {e}"))?;
                }
                let target_index = self
                    .lookup(target)
                    .ok_or_else(|| format!("no record for the objection to target: {target:?}"))?;
                Event::ObjectionFiled {
                    target_index,
                    statement: text(statement)?,
                }
            }
        };
        let index = self
            .submit(step.t, step.who, event)
            .await
            .map_err(|e| e.to_string())?;
        self.receipts[step.seq] = Some(index);
        Ok(())
    }
}

/// A party's display name, for the summary's lists.
fn subject_name(city: &City, s: &Subject) -> String {
    match s {
        Subject::Org(u) => city
            .orgs
            .iter()
            .find(|o| o.uscc == *u)
            .map_or_else(|| u.to_string(), |o| o.name.clone()),
        Subject::Person { masked_name, .. } => masked_name.to_string(),
    }
}
