//! The worked examples of docs/RULES.md, one test per example, named after
//! its heading. Each test builds the example with the rules engine exactly as
//! the node drives it (deadlines fired before each entry, then the
//! submission if admitted, then its consequences) and asserts every log
//! entry, index and total the document quotes.
//!
//! Every example starts from the same log prefix (RULES.md, "The cast"):
//! entry 0 is `Genesis` (rule book v1), entries 1–4 register the keys of
//! the source unit SU, the firms A and B and the data feed F, all at
//! 2026-01-01 09:00 CST. So the first entry of every example is index 5.

use lvyue_ledger::engine::{Engine, RuleError, time};
use lvyue_ledger::event::{
    Contract, Event, ExemptionGround, Extent, KeyRegistration, Milestone, Party, Source,
};
use lvyue_ledger::record::{Closure, Derived, ListKind};
use lvyue_ledger::rules::RuleSet;
use lvyue_ledger::types::{Category, ContractId, Date, Fen, Name, Role, SignerName, Subject, Text};
use lvyue_ledger::uscc::Uscc;

// ---------------------------------------------------------------------------
// The cast.

fn org(prefix17: &str) -> Subject {
    Subject::Org(Uscc::with_check(prefix17).unwrap())
}

/// 宝鸡市信用办 (credit office; also holds the node key).
fn office() -> Subject {
    org("11610300MB0000000")
}
/// SU: 宝鸡市某局, a source unit (合同源单位).
fn su() -> Subject {
    org("11610300MB0000011")
}
/// A: 甲公司, a market entity.
fn a() -> Subject {
    org("91610300MA0000001")
}
/// B: 乙公司, a market entity.
fn b() -> Subject {
    org("91610300MA0000002")
}
/// F: 公共资源交易中心, a data feed.
fn feed() -> Subject {
    org("12610300MB0000022")
}

fn key(name: &str, seed: u8, holder: Subject, holder_name: &str, role: Role) -> KeyRegistration {
    KeyRegistration {
        name: SignerName::new(name).unwrap(),
        public_key: [seed; 32],
        holder,
        holder_name: Name::new(holder_name).unwrap(),
        role,
        valid_from_ms: None,
        valid_until_ms: None,
    }
}

#[derive(Clone)]
struct Keys {
    node: KeyRegistration,
    office: KeyRegistration,
    su: KeyRegistration,
    a: KeyRegistration,
    b: KeyRegistration,
    feed: KeyRegistration,
}

fn keys() -> Keys {
    Keys {
        node: key(
            "lvyue.example/baoji",
            1,
            office(),
            "宝鸡市信用办",
            Role::Node,
        ),
        office: key(
            "credit-office",
            2,
            office(),
            "宝鸡市信用办",
            Role::CreditOffice,
        ),
        su: key("su", 3, su(), "宝鸡市某局", Role::SourceUnit),
        a: key("firm-a", 4, a(), "甲公司", Role::MarketEntity),
        b: key("firm-b", 5, b(), "乙公司", Role::MarketEntity),
        feed: key("feed", 6, feed(), "公共资源交易中心", Role::DataFeed),
    }
}

// ---------------------------------------------------------------------------
// Time: "YYYY-MM-DD HH:MM[:SS[.mmm]]" in CST → node time (UTC ms).

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn cst(s: &str) -> i64 {
    let (d, clock) = s.split_once(' ').unwrap();
    let mut parts = clock.split(':');
    let h: i64 = parts.next().unwrap().parse().unwrap();
    let m: i64 = parts.next().unwrap().parse().unwrap();
    let (sec, ms) = match parts.next() {
        None => (0, 0),
        Some(x) => match x.split_once('.') {
            None => (x.parse().unwrap(), 0),
            Some((s, f)) => (s.parse::<i64>().unwrap(), f.parse::<i64>().unwrap()),
        },
    };
    time::start_of(i64::from(date(d).days()), 480) + ((h * 60 + m) * 60 + sec) * 1000 + ms
}

#[test]
fn cst_helper_matches_utc() {
    // 2026-05-01 00:00 CST is 2026-04-30T16:00:00Z.
    assert_eq!(cst("2026-05-01 00:00"), 1_777_564_800_000);
    assert_eq!(cst("2026-05-01 00:00"), cst("2026-04-30 23:59:59.999") + 1);
}

// ---------------------------------------------------------------------------
// Events.

fn text(s: &str) -> Text {
    Text::new(s).unwrap()
}

fn cid(s: &str) -> ContractId {
    ContractId::new(s).unwrap()
}

/// A contract between SU (甲方, obligee) and `obligor` (乙方), every
/// milestone owed by `obligor` to SU, with the given due dates.
fn contract(id: &str, source: Source, obligor: &Subject, signed: &str, dues: &[&str]) -> Event {
    let parties = vec![
        Party {
            subject: su(),
            name: Name::new("宝鸡市某局").unwrap(),
            role: Name::new("甲方").unwrap(),
        },
        Party {
            subject: obligor.clone(),
            name: Name::new("乙方单位").unwrap(),
            role: Name::new("乙方").unwrap(),
        },
    ];
    contract_between(id, source, parties, signed, obligor, &su(), dues)
}

fn contract_between(
    id: &str,
    source: Source,
    parties: Vec<Party>,
    signed: &str,
    obligor: &Subject,
    obligee: &Subject,
    dues: &[&str],
) -> Event {
    let milestones = dues
        .iter()
        .enumerate()
        .map(|(i, due)| Milestone {
            number: i as u32 + 1,
            obligor: obligor.clone(),
            obligee: obligee.clone(),
            due: date(due),
            description: text("交付"),
            amount: Fen::new(100_000).unwrap(),
        })
        .collect();
    Event::ContractFiled {
        contract: Contract {
            id: cid(id),
            category: Category::GovernmentProcurement,
            name: Name::new("采购合同").unwrap(),
            parties,
            summary: text("示例"),
            amount: Fen::new(100_000 * dues.len() as i64).unwrap(),
            signed: date(signed),
            milestones,
            document_sha256: None,
            source,
        },
    }
}

fn confirm(c: &str, m: u32, performed: &str) -> Event {
    Event::PerformanceConfirmed {
        contract: cid(c),
        milestone: m,
        performed: date(performed),
        evidence: None,
    }
}

fn claim(c: &str, m: u32, performed: &str) -> Event {
    Event::PerformanceClaimed {
        contract: cid(c),
        milestone: m,
        performed: date(performed),
        evidence: None,
    }
}

fn dispute(c: &str, m: u32) -> Event {
    Event::ClaimDisputed {
        contract: cid(c),
        milestone: m,
        reason: text("未收到货物"),
    }
}

fn report(c: &str, m: u32, extent: Extent) -> Event {
    Event::NonPerformanceReported {
        contract: cid(c),
        milestone: m,
        extent,
        reason: text("未按期履行"),
    }
}

fn exemption(c: &str, m: u32, ground: ExemptionGround, event_date: &str) -> Event {
    Event::ExemptionClaimed {
        contract: cid(c),
        milestone: m,
        ground,
        event_date: date(event_date),
        statement: text("情况说明"),
    }
}

fn tick() -> Event {
    Event::Tick {}
}

// ---------------------------------------------------------------------------
// The log as the node writes it.

/// One log entry: a submission (by kind) or a derived record.
#[derive(Clone, Debug, PartialEq)]
enum Rec {
    Sub(&'static str),
    Der(Derived),
}

#[derive(Clone)]
struct Ledger {
    engine: Engine,
    /// (index, node time, entry).
    log: Vec<(u64, i64, Rec)>,
    keys: Keys,
}

impl Ledger {
    /// Entries 0–4: Genesis and the four key registrations.
    fn new() -> Ledger {
        let k = keys();
        let mut l = Ledger {
            engine: Engine::new(),
            log: Vec::new(),
            keys: k.clone(),
        };
        let t = cst("2026-01-01 09:00");
        let genesis = Event::Genesis {
            origin: Name::new("lvyue.example/baoji").unwrap(),
            node_key: k.node.clone(),
            office_keys: vec![k.office.clone()],
            rules: RuleSet::default(),
        };
        l.submit(t, &k.node, genesis).unwrap();
        for reg in [&k.su, &k.a, &k.b, &k.feed] {
            let ev = Event::KeyRegistered { key: reg.clone() };
            l.submit(t, &k.office, ev).unwrap();
        }
        assert_eq!(l.engine.next_index(), 5);
        l
    }

    /// What the node does with one submission at node time `t`: deadlines
    /// passed by `t` first (appended whether or not the submission is
    /// admitted), then admission (role gate) and the rules' check, then the
    /// submission and its consequences. Returns the submission's index.
    fn submit(&mut self, t: i64, signer: &KeyRegistration, ev: Event) -> Result<u64, RuleError> {
        for d in self.engine.advance(t) {
            let i = self.log.len() as u64;
            self.log.push((i, t, Rec::Der(d)));
        }
        if !matches!(ev, Event::Genesis { .. }) && !ev.allowed_roles().contains(&signer.role) {
            return Err(RuleError::Forbidden(format!(
                "role {} may not sign {}",
                signer.role,
                ev.kind()
            )));
        }
        self.engine.check(&ev, signer, t)?;
        let index = self.engine.next_index();
        assert_eq!(index, self.log.len() as u64);
        let out = self.engine.apply(&ev, signer, t);
        self.log.push((index, t, Rec::Sub(ev.kind())));
        for d in out {
            let i = self.log.len() as u64;
            self.log.push((i, t, Rec::Der(d)));
        }
        assert_eq!(self.engine.next_index(), self.log.len() as u64);
        Ok(index)
    }

    fn ok(&mut self, t: &str, signer: &KeyRegistration, ev: Event) -> u64 {
        let at = cst(t);
        match self.submit(at, signer, ev) {
            Ok(i) => i,
            Err(e) => panic!("submission at {t} refused: {e}"),
        }
    }

    fn tick(&mut self, t: &str) -> u64 {
        let node = self.keys.node.clone();
        self.ok(t, &node, tick())
    }

    /// The submission is refused by the rules (checked on a copy, so
    /// nothing is appended to this log).
    fn refused(&self, t: &str, signer: &KeyRegistration, ev: Event) -> RuleError {
        let mut probe = self.clone();
        match probe.submit(cst(t), signer, ev) {
            Ok(i) => panic!("submission at {t} was admitted as index {i}"),
            Err(e) => e,
        }
    }

    fn score(&self, who: &Subject) -> i64 {
        self.engine.score(who)
    }

    fn time_of(&self, index: u64) -> i64 {
        self.log[index as usize].1
    }

    /// The log from `from` on equals `want`, entry by entry.
    #[track_caller]
    fn assert_log(&self, from: u64, want: &[(u64, Rec)]) {
        let got: Vec<(u64, Rec)> = self.log[from as usize..]
            .iter()
            .map(|(i, _, r)| (*i, r.clone()))
            .collect();
        if got != want {
            let show = |v: &[(u64, Rec)]| {
                v.iter()
                    .map(|(i, r)| format!("  {i}: {r:?}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            panic!(
                "log from index {from} differs\n--- got:\n{}\n--- want:\n{}",
                show(&got),
                show(want)
            );
        }
    }
}

// Derived-record builders (the fields as RULES.md quotes them).

fn reminder(c: &str, m: u32, due: &str, days: u32, cause: u64) -> Rec {
    Rec::Der(Derived::ReminderIssued {
        contract: cid(c),
        milestone: m,
        due: date(due),
        days_before: days,
        cause,
    })
}

fn overdue(c: &str, m: u32, due: &str, cause: u64) -> Rec {
    Rec::Der(Derived::OverdueWarning {
        contract: cid(c),
        milestone: m,
        due: date(due),
        cause,
    })
}

fn defaulted(c: &str, m: u32, who: &Subject, extent: Extent, cause: u64) -> Rec {
    Rec::Der(Derived::DefaultDetermined {
        contract: cid(c),
        milestone: m,
        entity: who.clone(),
        extent,
        cause,
    })
}

fn reversed(default_index: u64, cause: u64) -> Rec {
    Rec::Der(Derived::DefaultReversed {
        default_index,
        cause,
    })
}

fn notice(who: &Subject, defaults: &[u64], cause: u64) -> Rec {
    Rec::Der(Derived::DemandNoticePublished {
        entity: who.clone(),
        defaults: defaults.to_vec(),
        cause,
    })
}

fn score(who: &Subject, delta: i64, total: i64, rule: &str, cause: u64) -> Rec {
    Rec::Der(Derived::ScoreChanged {
        entity: who.clone(),
        delta,
        total,
        rule: text(rule),
        cause,
    })
}

fn listed(who: &Subject, list: ListKind, on: bool, reason: &str, cause: u64) -> Rec {
    Rec::Der(Derived::ListChanged {
        entity: who.clone(),
        list,
        listed: on,
        reason: text(reason),
        cause,
    })
}

fn closed(c: &str, m: u32, closure: Closure, cause: u64) -> Rec {
    Rec::Der(Derived::MilestoneClosed {
        contract: cid(c),
        milestone: m,
        closure,
        cause,
    })
}

fn sub(kind: &'static str) -> Rec {
    Rec::Sub(kind)
}

// ---------------------------------------------------------------------------
// The examples.

/// RULES.md, "Example 1: on-time performance and the contract bonus".
#[test]
fn example_1_on_time_performance_and_the_contract_bonus() {
    let mut l = Ledger::new();
    let k = l.keys.clone();
    let c = "BJ-2026-001";
    l.ok(
        "2026-02-20 10:00",
        &k.su,
        contract(
            c,
            Source::Department,
            &a(),
            "2026-02-18",
            &["2026-03-31", "2026-06-30"],
        ),
    );
    l.ok("2026-03-29 10:00", &k.su, confirm(c, 1, "2026-03-28"));
    l.ok("2026-06-25 10:00", &k.su, confirm(c, 2, "2026-06-24"));
    l.assert_log(
        5,
        &[
            (5, sub("contract_filed")),
            (6, reminder(c, 1, "2026-03-31", 30, 5)),
            (7, reminder(c, 1, "2026-03-31", 7, 5)),
            (8, sub("performance_confirmed")),
            (9, closed(c, 1, Closure::OnTime, 8)),
            (10, score(&a(), 1, 1001, "on_time", 9)),
            (11, reminder(c, 2, "2026-06-30", 30, 5)),
            (12, reminder(c, 2, "2026-06-30", 7, 5)),
            (13, sub("performance_confirmed")),
            (14, closed(c, 2, Closure::OnTime, 13)),
            (15, score(&a(), 1, 1002, "on_time", 14)),
            (16, score(&a(), 5, 1007, "contract_on_time", 14)),
        ],
    );
    // The reminders are dated by the entry that carries them.
    assert_eq!(l.time_of(6), cst("2026-03-29 10:00"));
    assert_eq!(l.score(&a()), 1007);
}

/// RULES.md, "Example 2: overdue warning, grace period and default".
#[test]
fn example_2_overdue_warning_grace_period_and_default() {
    let mut l = Ledger::new();
    let k = l.keys.clone();
    let c = "GGZY-2026-0420";
    let source = Source::Import {
        external_ref: Name::new("GGZY-2026-0420").unwrap(),
    };
    l.ok(
        "2026-04-20 10:00",
        &k.feed,
        contract(c, source, &b(), "2026-04-18", &["2026-04-30"]),
    );
    l.tick("2026-04-30 23:59:59.999");
    l.tick("2026-05-01 00:00");
    l.tick("2026-05-15 23:59:59.999");
    l.tick("2026-05-16 00:00");
    l.assert_log(
        5,
        &[
            (5, sub("contract_filed")),
            (6, reminder(c, 1, "2026-04-30", 7, 5)),
            (7, reminder(c, 1, "2026-04-30", 1, 5)),
            (8, sub("tick")),
            (9, overdue(c, 1, "2026-04-30", 5)),
            (10, sub("tick")),
            (11, sub("tick")),
            (12, defaulted(c, 1, &b(), Extent::Full, 5)),
            (13, closed(c, 1, Closure::Defaulted, 12)),
            (14, score(&b(), -20, 980, "full_default", 12)),
            (15, sub("tick")),
        ],
    );
    // 2026-05-01 00:00 CST is 2026-04-30T16:00:00Z.
    assert_eq!(l.time_of(9), 1_777_564_800_000);
    assert_eq!(l.time_of(12), cst("2026-05-16 00:00"));
    assert_eq!(l.score(&b()), 980);
}

/// RULES.md, "Example 3: a claim deemed performed after the dispute window".
#[test]
fn example_3_a_claim_deemed_performed_after_the_dispute_window() {
    let mut l = Ledger::new();
    let k = l.keys.clone();
    let c = "BJ-2026-003";
    l.ok(
        "2026-03-02 10:00",
        &k.su,
        contract(c, Source::Department, &a(), "2026-03-01", &["2026-03-31"]),
    );
    l.ok("2026-03-20 15:00", &k.a, claim(c, 1, "2026-03-20"));
    // A dispute one millisecond before the window closes would be admitted …
    let mut probe = l.clone();
    assert!(
        probe
            .submit(cst("2026-03-30 23:59:59.999"), &k.su, dispute(c, 1))
            .is_ok()
    );
    // … at 00:00 CST on 2026-03-31 it is refused, after the deemed closure
    // (fired by that very submission's time) was appended.
    let e = l.submit(cst("2026-03-31 00:00"), &k.su, dispute(c, 1));
    assert!(matches!(e, Err(RuleError::Conflict(_))), "{e:?}");
    l.assert_log(
        5,
        &[
            (5, sub("contract_filed")),
            (6, sub("performance_claimed")),
            (7, reminder(c, 1, "2026-03-31", 7, 5)),
            (8, reminder(c, 1, "2026-03-31", 1, 5)),
            (9, closed(c, 1, Closure::Deemed, 6)),
            (10, score(&a(), 1, 1001, "on_time", 9)),
            (11, score(&a(), 5, 1006, "contract_on_time", 9)),
        ],
    );
    assert_eq!(l.time_of(9), cst("2026-03-31 00:00"));
}

/// RULES.md, "Example 4: a disputed claim, then late performance".
#[test]
fn example_4_a_disputed_claim_then_late_performance() {
    let mut l = Ledger::new();
    let k = l.keys.clone();
    let c = "BJ-2026-004";
    l.ok(
        "2026-03-02 10:00",
        &k.su,
        contract(c, Source::Department, &a(), "2026-03-01", &["2026-03-31"]),
    );
    l.ok("2026-03-30 16:00", &k.a, claim(c, 1, "2026-03-30"));
    l.ok("2026-04-02 09:00", &k.su, dispute(c, 1));
    l.ok("2026-04-08 11:00", &k.su, confirm(c, 1, "2026-04-07"));
    l.assert_log(
        5,
        &[
            (5, sub("contract_filed")),
            (6, reminder(c, 1, "2026-03-31", 7, 5)),
            (7, reminder(c, 1, "2026-03-31", 1, 5)),
            (8, sub("performance_claimed")),
            (9, sub("claim_disputed")),
            (10, overdue(c, 1, "2026-03-31", 5)),
            (11, sub("performance_confirmed")),
            (12, closed(c, 1, Closure::Late, 11)),
            (13, score(&a(), -2, 998, "late", 12)),
        ],
    );
    assert_eq!(l.time_of(10), cst("2026-04-08 11:00"));
    // Fully performed (late included): it counts for the red list, without the bonus.
    let completions = l
        .engine
        .entities()
        .find(|(s, _)| **s == a())
        .map(|(_, e)| e.completions.clone())
        .unwrap();
    assert_eq!(completions, vec![date("2026-04-08").days()]);
}

/// RULES.md, "Example 5: a reported partial default, objection upheld".
#[test]
fn example_5_a_reported_partial_default_objection_upheld() {
    let mut l = Ledger::new();
    let k = l.keys.clone();
    let c = "BJ-2026-005";
    l.ok(
        "2026-05-06 10:00",
        &k.su,
        contract(
            c,
            Source::Department,
            &a(),
            "2026-05-06",
            &["2026-06-30", "2026-09-30"],
        ),
    );
    // Not before the day after the due date.
    let e = l.refused("2026-06-30 23:59", &k.su, report(c, 1, Extent::Partial));
    assert!(matches!(e, RuleError::Invalid(_)), "{e:?}");
    l.ok("2026-07-02 10:00", &k.su, report(c, 1, Extent::Partial));
    // The objection window closes at the end of 2026-07-17 (15 days after 07-02).
    let objection = Event::ObjectionFiled {
        target_index: 11,
        statement: text("已部分履行，另有约定"),
    };
    let e = l.refused("2026-07-18 00:00", &k.a, objection.clone());
    assert!(matches!(e, RuleError::Invalid(_)), "{e:?}");
    // Only A may object.
    let e = l.refused("2026-07-10 10:00", &k.b, objection.clone());
    assert!(matches!(e, RuleError::Forbidden(_)), "{e:?}");
    l.ok("2026-07-17 20:00", &k.a, objection);
    l.ok(
        "2026-07-30 10:00",
        &k.office,
        Event::ObjectionDecided {
            objection_index: 14,
            upheld: true,
            reason: text("补充协议约定分期履行"),
        },
    );
    l.assert_log(
        5,
        &[
            (5, sub("contract_filed")),
            (6, reminder(c, 1, "2026-06-30", 30, 5)),
            (7, reminder(c, 1, "2026-06-30", 7, 5)),
            (8, reminder(c, 1, "2026-06-30", 1, 5)),
            (9, overdue(c, 1, "2026-06-30", 5)),
            (10, sub("non_performance_reported")),
            (11, defaulted(c, 1, &a(), Extent::Partial, 10)),
            (12, closed(c, 1, Closure::Defaulted, 11)),
            (13, score(&a(), -10, 990, "partial_default", 11)),
            (14, sub("objection_filed")),
            (15, sub("objection_decided")),
            (16, reversed(11, 15)),
            (17, score(&a(), 10, 1000, "reversal", 16)),
        ],
    );
    assert_eq!(l.score(&a()), 1000);
}

/// RULES.md, "Example 6: two defaults within 365 days, demand notice, black list, repair".
#[test]
fn example_6_two_defaults_within_365_days_demand_notice_black_list_repair() {
    let mut l = Ledger::new();
    let k = l.keys.clone();
    let c = "GGZY-2026-0325";
    let source = Source::Import {
        external_ref: Name::new("GGZY-2026-0325").unwrap(),
    };
    l.ok(
        "2026-03-25 10:00",
        &k.feed,
        contract(c, source, &b(), "2026-03-20", &["2026-03-31", "2026-03-31"]),
    );
    l.ok("2026-04-01 09:00", &k.su, report(c, 1, Extent::Full));
    l.ok("2026-04-01 09:05", &k.su, report(c, 2, Extent::Partial));
    assert!(l.engine.listed(&b(), ListKind::Black));
    // Repair: not before day 90 of the listing (2026-06-30).
    let repair = Event::RepairApplied {
        entity: b(),
        commitment: lvyue_ledger::hash::sha256("信用承诺书".as_bytes()),
    };
    let e = l.refused("2026-06-29 23:00", &k.b, repair.clone());
    assert!(matches!(e, RuleError::Invalid(_)), "{e:?}");
    l.ok("2026-06-30 09:00", &k.b, repair);
    let approve = Event::RepairDecided {
        application_index: 21,
        approved: true,
        reason: text("已履行并作出信用承诺"),
    };
    // Not while B has defaults not followed by performance.
    let e = l.refused("2026-07-01 10:00", &k.office, approve.clone());
    assert!(
        matches!(&e, RuleError::Invalid(m) if m.contains("GGZY-2026-0325#1") && m.contains("GGZY-2026-0325#2")),
        "{e:?}"
    );
    l.ok("2026-07-05 10:00", &k.su, confirm(c, 1, "2026-07-03"));
    l.ok("2026-07-05 10:01", &k.su, confirm(c, 2, "2026-07-04"));
    l.ok("2026-07-06 10:00", &k.office, approve);
    l.assert_log(
        5,
        &[
            (5, sub("contract_filed")),
            (6, reminder(c, 1, "2026-03-31", 1, 5)),
            (7, reminder(c, 2, "2026-03-31", 1, 5)),
            (8, overdue(c, 1, "2026-03-31", 5)),
            (9, overdue(c, 2, "2026-03-31", 5)),
            (10, sub("non_performance_reported")),
            (11, defaulted(c, 1, &b(), Extent::Full, 10)),
            (12, closed(c, 1, Closure::Defaulted, 11)),
            (13, score(&b(), -20, 980, "full_default", 11)),
            (14, sub("non_performance_reported")),
            (15, defaulted(c, 2, &b(), Extent::Partial, 14)),
            (16, closed(c, 2, Closure::Defaulted, 15)),
            (17, score(&b(), -10, 970, "partial_default", 15)),
            (18, notice(&b(), &[11, 15], 15)),
            (19, score(&b(), -50, 920, "demand_notice", 18)),
            (
                20,
                listed(&b(), ListKind::Black, true, "demand notice published", 18),
            ),
            (21, sub("repair_applied")),
            (22, sub("performance_confirmed")),
            (23, sub("performance_confirmed")),
            (24, sub("repair_decided")),
            (25, score(&b(), 50, 970, "repair", 24)),
            (
                26,
                listed(&b(), ListKind::Black, false, "credit repair approved", 24),
            ),
        ],
    );
    assert!(!l.engine.listed(&b(), ListKind::Black));
    assert_eq!(l.score(&b()), 970);
}

/// RULES.md, "Example 6" continued: without repair the listing ends at
/// 00:00 CST on day 365 and the deduction stays.
#[test]
fn example_6_two_defaults_within_365_days_listing_expires_without_repair() {
    let mut l = Ledger::new();
    let k = l.keys.clone();
    let c = "GGZY-2026-0325";
    let source = Source::Import {
        external_ref: Name::new("GGZY-2026-0325").unwrap(),
    };
    l.ok(
        "2026-03-25 10:00",
        &k.feed,
        contract(c, source, &b(), "2026-03-20", &["2026-03-31", "2026-03-31"]),
    );
    l.ok("2026-04-01 09:00", &k.su, report(c, 1, Extent::Full));
    l.ok("2026-04-01 09:05", &k.su, report(c, 2, Extent::Partial));
    l.tick("2027-03-31 23:59:59.999");
    l.tick("2027-04-01 00:00");
    l.assert_log(
        21,
        &[
            (21, sub("tick")),
            (
                22,
                listed(
                    &b(),
                    ListKind::Black,
                    false,
                    "maximum publicity period reached",
                    18,
                ),
            ),
            (23, sub("tick")),
        ],
    );
    assert_eq!(l.score(&b()), 920);
}

/// RULES.md, "Example 7: an exemption refused: the clock pauses and resumes".
#[test]
fn example_7_an_exemption_refused_the_clock_pauses_and_resumes() {
    let mut l = Ledger::new();
    let k = l.keys.clone();
    let c = "BJ-2026-007";
    l.ok(
        "2026-05-20 10:00",
        &k.su,
        contract(c, Source::Department, &a(), "2026-05-20", &["2026-05-31"]),
    );
    l.ok(
        "2026-05-28 14:30",
        &k.a,
        exemption(c, 1, ExemptionGround::Accident, "2026-05-27"),
    );
    l.ok(
        "2026-06-05 10:00",
        &k.office,
        Event::ExemptionDecided {
            claim_index: 7,
            approved: false,
            reason: text("不构成意外事件"),
        },
    );
    // Paused 7 d 19 h 30 min.
    assert_eq!(
        cst("2026-06-05 10:00") - cst("2026-05-28 14:30"),
        675_000_000
    );
    l.tick("2026-06-08 19:29:59.999");
    l.tick("2026-06-08 19:30");
    l.tick("2026-06-23 19:29:59.999");
    l.tick("2026-06-23 19:30");
    l.assert_log(
        5,
        &[
            (5, sub("contract_filed")),
            (6, reminder(c, 1, "2026-05-31", 7, 5)),
            (7, sub("exemption_claimed")),
            (8, reminder(c, 1, "2026-05-31", 1, 5)),
            (9, sub("exemption_decided")),
            (10, sub("tick")),
            (11, overdue(c, 1, "2026-05-31", 5)),
            (12, sub("tick")),
            (13, sub("tick")),
            (14, defaulted(c, 1, &a(), Extent::Full, 5)),
            (15, closed(c, 1, Closure::Defaulted, 14)),
            (16, score(&a(), -20, 980, "full_default", 14)),
            (17, sub("tick")),
        ],
    );
}

/// RULES.md, "Example 8: an exemption approved after a default".
#[test]
fn example_8_an_exemption_approved_after_a_default() {
    let mut l = Ledger::new();
    let k = l.keys.clone();
    let c = "BJ-2026-008";
    l.ok(
        "2026-05-25 10:00",
        &k.su,
        contract(c, Source::Department, &a(), "2026-05-25", &["2026-05-31"]),
    );
    l.tick("2026-06-16 00:00");
    // Force majeure that arose after the due date excuses nothing (民法典 590 ¶2).
    let e = l.refused(
        "2026-06-18 10:00",
        &k.a,
        exemption(c, 1, ExemptionGround::ForceMajeure, "2026-06-01"),
    );
    assert!(matches!(e, RuleError::Invalid(_)), "{e:?}");
    l.ok(
        "2026-06-18 10:00",
        &k.a,
        exemption(c, 1, ExemptionGround::ForceMajeure, "2026-05-29"),
    );
    l.ok(
        "2026-06-25 10:00",
        &k.office,
        Event::ExemptionDecided {
            claim_index: 12,
            approved: true,
            reason: text("暴雨致道路中断"),
        },
    );
    l.assert_log(
        5,
        &[
            (5, sub("contract_filed")),
            (6, reminder(c, 1, "2026-05-31", 1, 5)),
            (7, overdue(c, 1, "2026-05-31", 5)),
            (8, defaulted(c, 1, &a(), Extent::Full, 5)),
            (9, closed(c, 1, Closure::Defaulted, 8)),
            (10, score(&a(), -20, 980, "full_default", 8)),
            (11, sub("tick")),
            (12, sub("exemption_claimed")),
            (13, sub("exemption_decided")),
            (14, reversed(8, 13)),
            (15, score(&a(), 20, 1000, "reversal", 14)),
            (16, closed(c, 1, Closure::Exempt, 13)),
        ],
    );
}

/// RULES.md, "Example 9: a filing against a rival does nothing until the rival acknowledges it".
#[test]
fn example_9_a_filing_against_a_rival_does_nothing_until_the_rival_acknowledges_it() {
    let mut l = Ledger::new();
    let k = l.keys.clone();
    let c = "A-SELF-009";
    let parties = vec![
        Party {
            subject: a(),
            name: Name::new("甲公司").unwrap(),
            role: Name::new("买方").unwrap(),
        },
        Party {
            subject: b(),
            name: Name::new("乙公司").unwrap(),
            role: Name::new("卖方").unwrap(),
        },
    ];
    l.ok(
        "2026-03-02 10:00",
        &k.a,
        contract_between(
            c,
            Source::SelfFiled,
            parties,
            "2026-03-01",
            &b(),
            &a(),
            &["2026-03-31", "2026-04-30"],
        ),
    );
    l.ok("2026-04-01 10:00", &k.a, report(c, 1, Extent::Full));
    assert_eq!(l.score(&b()), 1000);
    l.ok(
        "2026-04-02 10:00",
        &k.b,
        Event::FilingAcknowledged {
            contract: cid(c),
            party: b(),
        },
    );
    l.ok("2026-05-01 10:00", &k.a, report(c, 2, Extent::Full));
    l.assert_log(
        5,
        &[
            (5, sub("contract_filed")),
            (6, reminder(c, 1, "2026-03-31", 7, 5)),
            (7, reminder(c, 1, "2026-03-31", 1, 5)),
            (8, reminder(c, 2, "2026-04-30", 30, 5)),
            (9, overdue(c, 1, "2026-03-31", 5)),
            (10, sub("non_performance_reported")),
            (11, closed(c, 1, Closure::Defaulted, 10)),
            (12, sub("filing_acknowledged")),
            (13, reminder(c, 2, "2026-04-30", 7, 5)),
            (14, reminder(c, 2, "2026-04-30", 1, 5)),
            (15, overdue(c, 2, "2026-04-30", 5)),
            (16, sub("non_performance_reported")),
            (17, defaulted(c, 2, &b(), Extent::Full, 16)),
            (18, closed(c, 2, Closure::Defaulted, 17)),
            (19, score(&b(), -20, 980, "full_default", 17)),
        ],
    );
}

/// RULES.md, "Example 10: red list in and out".
#[test]
fn example_10_red_list_in_and_out() {
    let mut l = Ledger::new();
    let k = l.keys.clone();
    for (c, filed, signed, due, done) in [
        (
            "BJ-2026-101",
            "2026-01-10 10:00",
            "2026-01-09",
            "2026-01-20",
            "2026-01-12",
        ),
        (
            "BJ-2026-102",
            "2026-02-10 10:00",
            "2026-02-09",
            "2026-02-20",
            "2026-02-12",
        ),
        (
            "BJ-2026-103",
            "2026-03-10 10:00",
            "2026-03-09",
            "2026-03-20",
            "2026-03-12",
        ),
    ] {
        l.ok(
            filed,
            &k.su,
            contract(c, Source::Department, &a(), signed, &[due]),
        );
        l.ok(&format!("{done} 10:00"), &k.su, confirm(c, 1, done));
    }
    l.tick("2028-01-11 23:59:59.999");
    l.tick("2028-01-12 00:00");
    let (x1, x2, x3) = ("BJ-2026-101", "BJ-2026-102", "BJ-2026-103");
    l.assert_log(
        5,
        &[
            (5, sub("contract_filed")),
            (6, sub("performance_confirmed")),
            (7, closed(x1, 1, Closure::OnTime, 6)),
            (8, score(&a(), 1, 1001, "on_time", 7)),
            (9, score(&a(), 5, 1006, "contract_on_time", 7)),
            (10, sub("contract_filed")),
            (11, sub("performance_confirmed")),
            (12, closed(x2, 1, Closure::OnTime, 11)),
            (13, score(&a(), 1, 1007, "on_time", 12)),
            (14, score(&a(), 5, 1012, "contract_on_time", 12)),
            (15, sub("contract_filed")),
            (16, sub("performance_confirmed")),
            (17, closed(x3, 1, Closure::OnTime, 16)),
            (18, score(&a(), 1, 1013, "on_time", 17)),
            (19, score(&a(), 5, 1018, "contract_on_time", 17)),
            (
                20,
                listed(&a(), ListKind::Red, true, "red list criteria met", 19),
            ),
            (21, sub("tick")),
            (
                22,
                listed(
                    &a(),
                    ListKind::Red,
                    false,
                    "red list criteria no longer met",
                    21,
                ),
            ),
            (23, sub("tick")),
        ],
    );
    assert_eq!(l.score(&a()), 1018);
    assert!(!l.engine.listed(&a(), ListKind::Red));
}

/// RULES.md, "Example 11: the yearly cap on on-time points counts the CST year".
#[test]
fn example_11_the_yearly_cap_on_on_time_points_counts_the_cst_year() {
    let mut l = Ledger::new();
    let k = l.keys.clone();
    let c = "BJ-2026-011";
    let dues = vec!["2027-02-28"; 22];
    l.ok(
        "2026-12-01 10:00",
        &k.su,
        contract(c, Source::Department, &a(), "2026-12-01", &dues),
    );
    let mut want = vec![(5, sub("contract_filed"))];
    for n in 1..=20u32 {
        let i = l.ok(
            &format!("2026-12-10 10:{:02}", n),
            &k.su,
            confirm(c, n, "2026-12-10"),
        );
        assert_eq!(i, 6 + 3 * (u64::from(n) - 1));
        want.push((i, sub("performance_confirmed")));
        want.push((i + 1, closed(c, n, Closure::OnTime, i)));
        want.push((i + 2, score(&a(), 1, 1000 + i64::from(n), "on_time", i + 1)));
    }
    l.ok(
        "2026-12-31 23:59:59.999",
        &k.su,
        confirm(c, 21, "2026-12-31"),
    );
    // 2027-01-01 00:00 CST is still 2026 in UTC (2026-12-31T16:00:00Z).
    assert_eq!(cst("2027-01-01 00:00"), 1_798_732_800_000);
    l.ok("2027-01-01 00:00", &k.su, confirm(c, 22, "2026-12-31"));
    want.extend([
        (66, sub("performance_confirmed")),
        (67, closed(c, 21, Closure::OnTime, 66)),
        (68, sub("performance_confirmed")),
        (69, closed(c, 22, Closure::OnTime, 68)),
        (70, score(&a(), 1, 1021, "on_time", 69)),
        (71, score(&a(), 5, 1026, "contract_on_time", 69)),
    ]);
    l.assert_log(5, &want);
}

/// RULES.md, "Example 12: an amendment agreed by all parties moves the due date".
#[test]
fn example_12_an_amendment_agreed_by_all_parties_moves_the_due_date() {
    let mut l = Ledger::new();
    let k = l.keys.clone();
    let c = "BJ-2026-012";
    l.ok(
        "2026-04-10 10:00",
        &k.su,
        contract(c, Source::Department, &a(), "2026-04-10", &["2026-04-30"]),
    );
    let amendment = |due: &str| Event::ContractAmended {
        contract: cid(c),
        amendment: 1,
        milestones: vec![Milestone {
            number: 1,
            obligor: a(),
            obligee: su(),
            due: date(due),
            description: text("交付"),
            amount: Fen::new(100_000).unwrap(),
        }],
        reason: text("协商一致变更"),
    };
    l.ok("2026-04-28 10:00", &k.a, amendment("2026-06-30"));
    // SU agreeing to a different text does not complete A's amendment.
    let mut probe = l.clone();
    probe.ok("2026-04-29 09:00", &k.su, amendment("2026-06-15"));
    assert_eq!(
        probe.engine.contract(&cid(c)).unwrap().milestones[&1].due,
        date("2026-04-30")
    );
    l.ok("2026-04-29 09:00", &k.su, amendment("2026-06-30"));
    l.tick("2026-05-01 00:00");
    l.ok("2026-06-30 10:00", &k.su, confirm(c, 1, "2026-06-30"));
    l.assert_log(
        5,
        &[
            (5, sub("contract_filed")),
            (6, reminder(c, 1, "2026-04-30", 7, 5)),
            (7, sub("contract_amended")),
            (8, reminder(c, 1, "2026-04-30", 1, 5)),
            (9, sub("contract_amended")),
            (10, sub("tick")),
            (11, reminder(c, 1, "2026-06-30", 30, 5)),
            (12, reminder(c, 1, "2026-06-30", 7, 5)),
            (13, reminder(c, 1, "2026-06-30", 1, 5)),
            (14, sub("performance_confirmed")),
            (15, closed(c, 1, Closure::OnTime, 14)),
            (16, score(&a(), 1, 1001, "on_time", 15)),
            (17, score(&a(), 5, 1006, "contract_on_time", 15)),
        ],
    );
}

/// RULES.md, "Example 13: a deadline passed late acts at its own time".
#[test]
fn example_13_a_deadline_passed_late_acts_at_its_own_time() {
    let mut l = Ledger::new();
    let k = l.keys.clone();
    let c = "BJ-2026-013";
    l.ok(
        "2026-04-20 10:00",
        &k.su,
        contract(c, Source::Department, &a(), "2026-04-20", &["2026-04-30"]),
    );
    l.tick("2026-05-20 10:00");
    l.assert_log(
        5,
        &[
            (5, sub("contract_filed")),
            (6, reminder(c, 1, "2026-04-30", 7, 5)),
            (7, reminder(c, 1, "2026-04-30", 1, 5)),
            (8, overdue(c, 1, "2026-04-30", 5)),
            (9, defaulted(c, 1, &a(), Extent::Full, 5)),
            (10, closed(c, 1, Closure::Defaulted, 9)),
            (11, score(&a(), -20, 980, "full_default", 9)),
            (12, sub("tick")),
        ],
    );
    assert_eq!(l.time_of(9), cst("2026-05-20 10:00"));
    // The default took effect on 2026-05-16: the objection window ends with 2026-05-31.
    let objection = Event::ObjectionFiled {
        target_index: 9,
        statement: text("异议"),
    };
    let mut probe = l.clone();
    probe.ok("2026-05-31 23:59:59.999", &k.a, objection.clone());
    let e = l.refused("2026-06-01 00:00", &k.a, objection);
    assert!(matches!(e, RuleError::Invalid(_)), "{e:?}");
}

/// RULES.md, "Example 14: a reversal withdraws a demand notice left without its defaults".
#[test]
fn example_14_a_reversal_withdraws_a_demand_notice_left_without_its_defaults() {
    let mut l = Ledger::new();
    let k = l.keys.clone();
    let c = "GGZY-2026-0325";
    let source = Source::Import {
        external_ref: Name::new("GGZY-2026-0325").unwrap(),
    };
    l.ok(
        "2026-03-25 10:00",
        &k.feed,
        contract(c, source, &b(), "2026-03-20", &["2026-03-31", "2026-03-31"]),
    );
    l.ok("2026-04-01 09:00", &k.su, report(c, 1, Extent::Full));
    l.ok("2026-04-01 09:05", &k.su, report(c, 2, Extent::Partial));
    let o = l.ok(
        "2026-04-10 09:00",
        &k.b,
        Event::ObjectionFiled {
            target_index: 11,
            statement: text("已按约定履行"),
        },
    );
    assert_eq!(o, 21);
    l.ok(
        "2026-04-20 10:00",
        &k.office,
        Event::ObjectionDecided {
            objection_index: 21,
            upheld: true,
            reason: text("异议成立"),
        },
    );
    l.assert_log(
        18,
        &[
            (18, notice(&b(), &[11, 15], 15)),
            (19, score(&b(), -50, 920, "demand_notice", 18)),
            (
                20,
                listed(&b(), ListKind::Black, true, "demand notice published", 18),
            ),
            (21, sub("objection_filed")),
            (22, sub("objection_decided")),
            (23, reversed(11, 22)),
            (24, score(&b(), 20, 940, "reversal", 23)),
            (25, score(&b(), 50, 990, "reversal", 23)),
            (
                26,
                listed(
                    &b(),
                    ListKind::Black,
                    false,
                    "demand notice withdrawn: its defaults were reversed",
                    23,
                ),
            ),
        ],
    );
    assert_eq!(l.score(&b()), 990);
    assert!(!l.engine.listed(&b(), ListKind::Black));
}

/// RULES.md, "Example 15: a new rule set does not re-check the lists".
#[test]
fn example_15_a_new_rule_set_does_not_re_check_the_lists() {
    let mut l = Ledger::new();
    let k = l.keys.clone();
    for (c, filed, signed, due, done) in [
        (
            "BJ-2026-101",
            "2026-01-10 10:00",
            "2026-01-09",
            "2026-01-20",
            "2026-01-12",
        ),
        (
            "BJ-2026-102",
            "2026-02-10 10:00",
            "2026-02-09",
            "2026-02-20",
            "2026-02-12",
        ),
        (
            "BJ-2026-103",
            "2026-03-10 10:00",
            "2026-03-09",
            "2026-03-20",
            "2026-03-12",
        ),
    ] {
        l.ok(
            filed,
            &k.su,
            contract(c, Source::Department, &a(), signed, &[due]),
        );
        l.ok(&format!("{done} 10:00"), &k.su, confirm(c, 1, done));
    }
    assert!(l.engine.listed(&a(), ListKind::Red));
    let v2 = RuleSet {
        version: 2,
        red_min_score: 1020,
        ..RuleSet::default()
    };
    l.ok(
        "2026-04-01 10:00",
        &k.office,
        Event::RuleSetPublished { rules: v2 },
    );
    // A (1018) stays red under a minimum of 1020 until its next change.
    assert!(l.engine.listed(&a(), ListKind::Red));
    let c = "BJ-2026-104";
    l.ok(
        "2026-04-10 10:00",
        &k.su,
        contract(c, Source::Department, &a(), "2026-04-09", &["2026-04-30"]),
    );
    l.ok("2026-04-12 10:00", &k.su, confirm(c, 1, "2026-04-12"));
    l.assert_log(
        20,
        &[
            (
                20,
                listed(&a(), ListKind::Red, true, "red list criteria met", 19),
            ),
            (21, sub("rule_set_published")),
            (22, sub("contract_filed")),
            (23, sub("performance_confirmed")),
            (24, closed(c, 1, Closure::OnTime, 23)),
            (25, score(&a(), 1, 1019, "on_time", 24)),
            (
                26,
                listed(
                    &a(),
                    ListKind::Red,
                    false,
                    "red list criteria no longer met",
                    25,
                ),
            ),
            (27, score(&a(), 5, 1024, "contract_on_time", 24)),
            (
                28,
                listed(&a(), ListKind::Red, true, "red list criteria met", 27),
            ),
        ],
    );
}
