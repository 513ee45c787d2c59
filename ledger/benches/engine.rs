//! Rules-engine throughput on a realistic mix, one core, and memory per
//! contract. Run: `cargo bench -p lvyue-ledger --bench engine [-- --contracts N]`.
//!
//! The mix, per contract: one filing (2–4 milestones) by a source unit or a
//! self-filing market entity, an acknowledgement for self-filed ones, then
//! per milestone one of: on-time confirmation (70%), late confirmation
//! (10%), claim left undisputed (10%), nothing (10%, so reminders, overdue
//! warnings and defaults fire). Time advances so every deadline fires. Entries
//! counted = submissions + derived records.

use lvyue_ledger::engine::Engine;
use lvyue_ledger::event::{Contract, Event, KeyRegistration, Milestone, Party, Source};
use lvyue_ledger::rules::RuleSet;
use lvyue_ledger::types::{Category, ContractId, Date, Fen, Name, Role, SignerName, Subject, Text};
use lvyue_ledger::uscc::Uscc;
use std::time::Instant;

const DAY: i64 = 86_400_000;
const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn org(n: u64) -> Subject {
    Subject::Org(Uscc::with_check(&format!("91610300{n:09}")).expect("valid uscc"))
}

fn signer(holder: Subject, role: Role) -> KeyRegistration {
    KeyRegistration {
        name: SignerName::new("k").unwrap(),
        public_key: [0; 32],
        holder,
        holder_name: Name::new("某单位").unwrap(),
        role,
        valid_from_ms: None,
        valid_until_ms: None,
    }
}

fn date(t: i64) -> Date {
    Date::from_days(lvyue_ledger::engine::time::day_of(t, 480)).unwrap()
}

/// One timed event: (time, event, signer).
type Step = (i64, Event, KeyRegistration);

fn workload(contracts: u64, rng: &mut Rng) -> Vec<Step> {
    let entities = (contracts / 20).max(50);
    let mut steps = Vec::new();
    for c in 0..contracts {
        let t = T0 + (c as i64) * (365 * DAY) / contracts as i64;
        let buyer = org(rng.below(entities));
        let seller = org(entities + rng.below(entities));
        let department = rng.below(2) == 0;
        let n = 2 + rng.below(3) as u32;
        let milestones: Vec<Milestone> = (1..=n)
            .map(|k| Milestone {
                number: k,
                obligor: seller.clone(),
                obligee: buyer.clone(),
                due: date(t + i64::from(k) * 30 * DAY),
                description: Text::new("分期交付并验收").unwrap(),
                amount: Fen::new(100_000).unwrap(),
            })
            .collect();
        let id = ContractId::new(format!("BJ-{c}")).unwrap();
        let contract = Contract {
            id: id.clone(),
            category: Category::GovernmentProcurement,
            name: Name::new("办公设备采购合同").unwrap(),
            parties: vec![
                Party {
                    subject: buyer.clone(),
                    name: Name::new("某局").unwrap(),
                    role: Name::new("甲方").unwrap(),
                },
                Party {
                    subject: seller.clone(),
                    name: Name::new("某公司").unwrap(),
                    role: Name::new("乙方").unwrap(),
                },
            ],
            summary: Text::new("按期交付设备").unwrap(),
            amount: Fen::new(100_000 * u64::from(n) as i64).unwrap(),
            signed: date(t),
            milestones: milestones.clone(),
            document_sha256: None,
            source: if department {
                Source::Department
            } else {
                Source::SelfFiled
            },
        };
        let filer = if department {
            signer(buyer.clone(), Role::SourceUnit)
        } else {
            signer(seller.clone(), Role::MarketEntity)
        };
        steps.push((t, Event::ContractFiled { contract }, filer));
        if !department {
            steps.push((
                t + 1,
                Event::FilingAcknowledged {
                    contract: id.clone(),
                    party: buyer.clone(),
                },
                signer(buyer.clone(), Role::MarketEntity),
            ));
        }
        for m in &milestones {
            let due_t = lvyue_ledger::engine::time::start_after(m.due, 0, 480);
            let roll = rng.below(10);
            let (when, event, who) = match roll {
                0..=6 => (
                    due_t - DAY,
                    Event::PerformanceConfirmed {
                        contract: id.clone(),
                        milestone: m.number,
                        performed: date(due_t - DAY),
                        evidence: None,
                    },
                    signer(buyer.clone(), Role::MarketEntity),
                ),
                7 => (
                    due_t + 3 * DAY,
                    Event::PerformanceConfirmed {
                        contract: id.clone(),
                        milestone: m.number,
                        performed: date(due_t + 3 * DAY),
                        evidence: None,
                    },
                    signer(buyer.clone(), Role::MarketEntity),
                ),
                8 => (
                    due_t - 2 * DAY,
                    Event::PerformanceClaimed {
                        contract: id.clone(),
                        milestone: m.number,
                        performed: date(due_t - 2 * DAY),
                        evidence: None,
                    },
                    signer(seller.clone(), Role::MarketEntity),
                ),
                _ => continue,
            };
            steps.push((when, event, who));
        }
    }
    steps.sort_by_key(|s| s.0);
    steps
}

fn rss_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn run(steps: &[Step]) -> (Engine, u64, f64) {
    let mut engine = Engine::new();
    let node = signer(org(0), Role::Node);
    let genesis = Event::Genesis {
        origin: Name::new("bench").unwrap(),
        node_key: node.clone(),
        office_keys: vec![],
        rules: RuleSet::default(),
    };
    engine.apply(&genesis, &node, T0);
    let start = Instant::now();
    let mut entries = 1u64;
    let mut refused = 0u64;
    for (t, event, who) in steps {
        entries += engine.advance(*t).len() as u64;
        if engine.check(event, who, *t).is_err() {
            refused += 1;
            continue;
        }
        entries += 1 + engine.apply(event, who, *t).len() as u64;
    }
    entries += engine.advance(T0 + 3 * 365 * DAY).len() as u64;
    let secs = start.elapsed().as_secs_f64();
    assert!(
        refused * 100 <= steps.len() as u64,
        "workload refused {refused} of {} steps",
        steps.len()
    );
    (engine, entries, secs)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let contracts: u64 = args
        .iter()
        .position(|a| a == "--contracts")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1_000_000);
    let throughput_contracts = contracts.min(200_000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    println!("== Rules engine throughput (one core), {throughput_contracts} contracts ==");
    let steps = workload(throughput_contracts, &mut rng);
    let mut rates = Vec::new();
    for _ in 0..5 {
        let (_, entries, secs) = run(&steps);
        rates.push(entries as f64 / secs);
        println!(
            "  run: {entries} entries in {secs:.3} s = {:.0} entries/s",
            entries as f64 / secs
        );
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    println!(
        "  median {median:.0} entries/s (target >= 300,000: {})",
        if median >= 300_000.0 { "PASS" } else { "FAIL" }
    );

    println!("== Engine memory, {contracts} contracts ==");
    let steps = workload(contracts, &mut rng);
    let before = rss_kb();
    let (engine, entries, secs) = run(&steps);
    let after = rss_kb();
    drop(steps);
    let snapshot = engine.snapshot().map(|b| b.len()).unwrap_or(0);
    println!(
        "  {entries} entries in {secs:.1} s ({:.0} entries/s)",
        entries as f64 / secs
    );
    println!(
        "  RSS grew {} MiB while building the state = {} bytes per contract",
        (after.saturating_sub(before)) / 1024,
        (after.saturating_sub(before)) * 1024 / contracts
    );
    println!(
        "  engine snapshot {} MiB = {} bytes per contract",
        snapshot >> 20,
        snapshot as u64 / contracts
    );
}
