//! Rule book v1 (DESIGN.md), one test per rule, at the level of the pure
//! rules engine: every test drives `Engine::advance` / `check` / `apply` the
//! way the node does (deadlines ≤ t fire before the entry at time t; the
//! submission takes the next index; its derived records follow) and compares
//! the exact derived records — whole `Derived` values with their log indexes
//! and `cause` indexes — and the score totals.
//!
//! Times: node times are UTC ms; contract dates are CST (UTC+8) calendar
//! days. A milestone due D is overdue at 00:00 CST of D+1 and defaults at
//! 00:00 CST of D+16 (15-day grace).

use lvyue_ledger::Hash;
use lvyue_ledger::engine::{Engine, RuleError, time};
use lvyue_ledger::event::{
    Contract, Event, ExemptionGround, Extent, KeyRegistration, Milestone, Party, Source,
};
use lvyue_ledger::record::{Closure, Derived, ListKind};
use lvyue_ledger::rules::RuleSet;
use lvyue_ledger::types::{
    Category, ContractId, Date, Fen, MaskedName, Name, Role, SignerName, Subject, Text,
};
use lvyue_ledger::uscc::Uscc;

// ---------------------------------------------------------------------------
// Identities and keys
// ---------------------------------------------------------------------------

fn org(prefix17: &str) -> Subject {
    Subject::Org(Uscc::with_check(prefix17).expect("valid USCC prefix"))
}

fn node() -> Subject {
    org("11610300MB2950000")
}
/// The credit office (信用办).
fn office() -> Subject {
    org("11610300MB2950001")
}
/// A source unit (a government department).
fn dept() -> Subject {
    org("11610300MB2950002")
}
/// Another source unit, party to nothing.
fn dept2() -> Subject {
    org("11610300MB2950003")
}
/// A data feed.
fn feed() -> Subject {
    org("12610300MB2950004")
}
/// Market entities.
fn a() -> Subject {
    org("91610300MA6X0001A")
}
fn b() -> Subject {
    org("91610300MA6X0002B")
}
fn c() -> Subject {
    org("91610300MA6X0003C")
}
/// A natural person: masked name and a commitment, never in clear.
fn person() -> Subject {
    Subject::Person {
        masked_name: MaskedName::new("王某").unwrap(),
        commitment: Hash([7; 32]),
    }
}

/// A key registration; the engine does not check signatures, so the public key is zero.
fn key(holder: &Subject, role: Role) -> KeyRegistration {
    KeyRegistration {
        name: SignerName::new(format!("{role}-{holder}")).unwrap(),
        public_key: [0; 32],
        holder: holder.clone(),
        holder_name: Name::new(format!("holder {holder}")).unwrap(),
        role,
        valid_from_ms: None,
        valid_until_ms: None,
    }
}

fn node_key() -> KeyRegistration {
    key(&node(), Role::Node)
}
fn office_key() -> KeyRegistration {
    key(&office(), Role::CreditOffice)
}
fn dept_key() -> KeyRegistration {
    key(&dept(), Role::SourceUnit)
}
fn dept2_key() -> KeyRegistration {
    key(&dept2(), Role::SourceUnit)
}
fn feed_key() -> KeyRegistration {
    key(&feed(), Role::DataFeed)
}
fn a_key() -> KeyRegistration {
    key(&a(), Role::MarketEntity)
}
fn b_key() -> KeyRegistration {
    key(&b(), Role::MarketEntity)
}
fn c_key() -> KeyRegistration {
    key(&c(), Role::MarketEntity)
}

// ---------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------

const OFFSET: i32 = 480;
const HOUR: i64 = 3_600_000;
const MINUTE: i64 = 60_000;
const DAY: i64 = time::DAY_MS;

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

/// Node time of 00:00 CST on `day`.
fn midnight(day: &str) -> i64 {
    time::start_after(date(day), 0, OFFSET)
}

/// Node time of hh:mm CST on `day`.
fn at(day: &str, hh: i64, mm: i64) -> i64 {
    midnight(day) + hh * HOUR + mm * MINUTE
}

const GENESIS_DAY: &str = "2026-01-01";
const SIGNED: &str = "2026-01-05";
const DUE: &str = "2026-03-31";

/// When the standard contracts are filed: 2026-01-10 10:00 CST.
fn file_t() -> i64 {
    at("2026-01-10", 10, 0)
}

// ---------------------------------------------------------------------------
// Contracts and events
// ---------------------------------------------------------------------------

fn cid(s: &str) -> ContractId {
    ContractId::new(s).unwrap()
}

fn text(s: &str) -> Text {
    Text::new(s).unwrap()
}

fn ms(number: u32, obligor: &Subject, obligee: &Subject, due: &str) -> Milestone {
    Milestone {
        number,
        obligor: obligor.clone(),
        obligee: obligee.clone(),
        due: date(due),
        description: text(&format!("milestone {number}")),
        amount: Fen::new(10_000).unwrap(),
    }
}

fn party(s: &Subject, role: &str) -> Party {
    let name = match s {
        Subject::Person { masked_name, .. } => Name::new(masked_name.as_str()).unwrap(),
        Subject::Org(u) => Name::new(format!("单位 {u}")).unwrap(),
    };
    Party {
        subject: s.clone(),
        name,
        role: Name::new(role).unwrap(),
    }
}

fn contract(
    id: &str,
    source: Source,
    parties: &[&Subject],
    signed: &str,
    milestones: Vec<Milestone>,
) -> Contract {
    Contract {
        id: cid(id),
        category: Category::GovernmentProcurement,
        name: Name::new(format!("合同 {id}")).unwrap(),
        parties: parties
            .iter()
            .enumerate()
            .map(|(i, s)| party(s, if i == 0 { "甲方" } else { "乙方" }))
            .collect(),
        summary: text("test contract"),
        amount: Fen::new(1_000_000).unwrap(),
        signed: date(signed),
        milestones,
        document_sha256: None,
        source,
    }
}

/// A contract filed by the department: parties dept and `obligor`; every
/// milestone owed by `obligor` to the department.
fn dept_contract(id: &str, obligor: &Subject, dues: &[&str]) -> Contract {
    let milestones = dues
        .iter()
        .enumerate()
        .map(|(i, due)| ms(i as u32 + 1, obligor, &dept(), due))
        .collect();
    contract(
        id,
        Source::Department,
        &[&dept(), obligor],
        SIGNED,
        milestones,
    )
}

/// A contract self-filed by `obligee`, naming `obligor` as the obligor of every milestone.
fn self_contract(id: &str, obligee: &Subject, obligor: &Subject, dues: &[&str]) -> Contract {
    let milestones = dues
        .iter()
        .enumerate()
        .map(|(i, due)| ms(i as u32 + 1, obligor, obligee, due))
        .collect();
    contract(
        id,
        Source::SelfFiled,
        &[obligee, obligor],
        SIGNED,
        milestones,
    )
}

fn file(c: Contract) -> Event {
    Event::ContractFiled { contract: c }
}
fn ack(id: &str, p: &Subject) -> Event {
    Event::FilingAcknowledged {
        contract: cid(id),
        party: p.clone(),
    }
}
fn confirm(id: &str, n: u32, performed: &str) -> Event {
    Event::PerformanceConfirmed {
        contract: cid(id),
        milestone: n,
        performed: date(performed),
        evidence: None,
    }
}
fn claim(id: &str, n: u32, performed: &str) -> Event {
    Event::PerformanceClaimed {
        contract: cid(id),
        milestone: n,
        performed: date(performed),
        evidence: None,
    }
}
fn dispute(id: &str, n: u32) -> Event {
    Event::ClaimDisputed {
        contract: cid(id),
        milestone: n,
        reason: text("not delivered"),
    }
}
fn report(id: &str, n: u32, extent: Extent) -> Event {
    Event::NonPerformanceReported {
        contract: cid(id),
        milestone: n,
        extent,
        reason: text("not performed"),
    }
}
fn amend(id: &str, amendment: u32, milestones: Vec<Milestone>) -> Event {
    Event::ContractAmended {
        contract: cid(id),
        amendment,
        milestones,
        reason: text("agreed change"),
    }
}
fn exemption(id: &str, n: u32, ground: ExemptionGround, event_date: &str) -> Event {
    Event::ExemptionClaimed {
        contract: cid(id),
        milestone: n,
        ground,
        event_date: date(event_date),
        statement: text("statement"),
    }
}
fn decide_exemption(claim_index: u64, approved: bool) -> Event {
    Event::ExemptionDecided {
        claim_index,
        approved,
        reason: text("decided"),
    }
}
fn object(target_index: u64) -> Event {
    Event::ObjectionFiled {
        target_index,
        statement: text("objection"),
    }
}
fn decide_objection(objection_index: u64, upheld: bool) -> Event {
    Event::ObjectionDecided {
        objection_index,
        upheld,
        reason: text("decided"),
    }
}
fn apply_repair(entity: &Subject) -> Event {
    Event::RepairApplied {
        entity: entity.clone(),
        commitment: Hash([9; 32]),
    }
}
fn decide_repair(application_index: u64, approved: bool) -> Event {
    Event::RepairDecided {
        application_index,
        approved,
        reason: text("decided"),
    }
}

// ---------------------------------------------------------------------------
// Expected derived records
// ---------------------------------------------------------------------------

fn reminder(id: &str, n: u32, due: &str, days_before: u32, cause: u64) -> Derived {
    Derived::ReminderIssued {
        contract: cid(id),
        milestone: n,
        due: date(due),
        days_before,
        cause,
    }
}
fn overdue(id: &str, n: u32, due: &str, cause: u64) -> Derived {
    Derived::OverdueWarning {
        contract: cid(id),
        milestone: n,
        due: date(due),
        cause,
    }
}
fn default(id: &str, n: u32, entity: &Subject, extent: Extent, cause: u64) -> Derived {
    Derived::DefaultDetermined {
        contract: cid(id),
        milestone: n,
        entity: entity.clone(),
        extent,
        cause,
    }
}
fn reversed(default_index: u64, cause: u64) -> Derived {
    Derived::DefaultReversed {
        default_index,
        cause,
    }
}
fn notice(entity: &Subject, defaults: &[u64], cause: u64) -> Derived {
    Derived::DemandNoticePublished {
        entity: entity.clone(),
        defaults: defaults.to_vec(),
        cause,
    }
}
fn score(entity: &Subject, delta: i64, total: i64, rule: &str, cause: u64) -> Derived {
    Derived::ScoreChanged {
        entity: entity.clone(),
        delta,
        total,
        rule: text(rule),
        cause,
    }
}
fn list(entity: &Subject, list: ListKind, listed: bool, reason: &str, cause: u64) -> Derived {
    Derived::ListChanged {
        entity: entity.clone(),
        list,
        listed,
        reason: text(reason),
        cause,
    }
}
fn closed(id: &str, n: u32, closure: Closure, cause: u64) -> Derived {
    Derived::MilestoneClosed {
        contract: cid(id),
        milestone: n,
        closure,
        cause,
    }
}

// ---------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------

/// An engine driven like the node drives it, with every derived record and its index.
#[derive(Clone)]
struct World {
    engine: Engine,
    /// Derived records not yet taken by the test, with their log indexes.
    records: Vec<(u64, Derived)>,
    now: i64,
}

impl World {
    /// A world whose index 0 is the Genesis entry (rule book v1), signed by the node.
    fn new() -> World {
        let mut w = World {
            engine: Engine::new(),
            records: Vec::new(),
            now: at(GENESIS_DAY, 9, 0),
        };
        let genesis = Event::Genesis {
            origin: Name::new("lvyue.test/rules").unwrap(),
            node_key: node_key(),
            office_keys: vec![office_key()],
            rules: RuleSet::default(),
        };
        let i = w.submit(w.now, &node_key(), genesis);
        assert_eq!(i, 0);
        assert_eq!(w.take(), vec![]);
        w
    }

    /// A world with contract C-1 filed by the department at [`file_t`]
    /// (index 1), owed by A, with milestones due on `dues`.
    fn standard(dues: &[&str]) -> (World, u64) {
        let mut w = World::new();
        let f = w.submit(
            file_t(),
            &dept_key(),
            file(dept_contract("C-1", &a(), dues)),
        );
        assert_eq!(f, 1);
        assert_eq!(w.take(), vec![]);
        (w, f)
    }

    fn next(&self) -> u64 {
        self.engine.next_index()
    }

    fn push(&mut self, first: u64, derived: Vec<Derived>) {
        for (i, d) in derived.into_iter().enumerate() {
            self.records.push((first + i as u64, d));
        }
    }

    /// Moves node time to `t` (firing deadlines ≤ t), checks `event` as
    /// `signer`, and applies it. Returns the submission's index.
    fn try_submit(
        &mut self,
        t: i64,
        signer: &KeyRegistration,
        event: Event,
    ) -> Result<u64, RuleError> {
        assert!(t >= self.now, "node time never decreases");
        self.now = t;
        let first = self.engine.next_index();
        let fired = self.engine.advance(t);
        self.push(first, fired);
        self.engine.check(&event, signer, t)?;
        let index = self.engine.next_index();
        let derived = self.engine.apply(&event, signer, t);
        let n = derived.len() as u64;
        self.push(index + 1, derived);
        assert_eq!(self.engine.next_index(), index + 1 + n);
        Ok(index)
    }

    #[track_caller]
    fn submit(&mut self, t: i64, signer: &KeyRegistration, event: Event) -> u64 {
        let kind = event.kind();
        self.try_submit(t, signer, event)
            .unwrap_or_else(|e| panic!("{kind} by {} refused: {e:?}", signer.holder))
    }

    #[track_caller]
    fn refused(&mut self, t: i64, signer: &KeyRegistration, event: Event) -> RuleError {
        let kind = event.kind();
        let before = self.engine.clone();
        match self.try_submit(t, signer, event) {
            Ok(i) => panic!("{kind} by {} admitted at index {i}", signer.holder),
            Err(e) => {
                // A refusal changes nothing but the deadlines that time fired.
                let mut after_advance = before;
                let _ = after_advance.advance(t);
                assert_eq!(
                    self.engine, after_advance,
                    "check() must not change the engine"
                );
                e
            }
        }
    }

    /// A node Tick at `t`. Returns the index the first fired record took
    /// (the Tick's own index when nothing fired).
    fn tick(&mut self, t: i64) -> u64 {
        let first = self.next();
        self.submit(t, &node_key(), Event::Tick {});
        first
    }

    /// Ticks at `t` and asserts nothing was derived.
    #[track_caller]
    fn quiet(&mut self, t: i64) {
        self.tick(t);
        assert_eq!(self.take(), vec![], "nothing should fire up to {t}");
    }

    /// The derived records since the last take.
    fn take(&mut self) -> Vec<(u64, Derived)> {
        std::mem::take(&mut self.records)
    }

    fn score(&self, s: &Subject) -> i64 {
        self.engine.score(s)
    }

    fn black(&self, s: &Subject) -> bool {
        self.engine.listed(s, ListKind::Black)
    }

    fn red(&self, s: &Subject) -> bool {
        self.engine.listed(s, ListKind::Red)
    }
}

#[track_caller]
fn assert_refusal(e: &RuleError, kind: fn(&RuleError) -> bool, needle: &str) {
    assert!(kind(e), "unexpected error kind: {e:?}");
    assert!(
        e.to_string().contains(needle),
        "error {e:?} should mention {needle:?}"
    );
}

fn is_forbidden(e: &RuleError) -> bool {
    matches!(e, RuleError::Forbidden(_))
}
fn is_invalid(e: &RuleError) -> bool {
    matches!(e, RuleError::Invalid(_))
}
fn is_not_found(e: &RuleError) -> bool {
    matches!(e, RuleError::NotFound(_))
}
fn is_conflict(e: &RuleError) -> bool {
    matches!(e, RuleError::Conflict(_))
}

/// Standard world ticked up to (and including) the default of C-1#1 at
/// 2026-04-16 00:00 CST; returns the world, the filing index and the
/// default's index.
fn defaulted_world() -> (World, u64, u64) {
    let (mut w, f) = World::standard(&[DUE]);
    w.tick(midnight("2026-04-16") - 1);
    w.take();
    let k = w.tick(midnight("2026-04-16"));
    assert_eq!(
        w.take(),
        vec![
            (k, default("C-1", 1, &a(), Extent::Full, f)),
            (k + 1, closed("C-1", 1, Closure::Defaulted, k)),
            (k + 2, score(&a(), -20, 980, "full_default", k)),
        ]
    );
    (w, f, k)
}

/// A black-listed A: C-1 (dept) with milestones due 2026-03-31 and
/// 2026-04-30 (and `extra` due dates) defaults on both, on 2026-04-16 and
/// 2026-05-16; the second default brings the demand notice.
struct Listed {
    w: World,
    k1: u64,
    k2: u64,
    notice: u64,
}

fn blacklisted_world(extra: &[&str]) -> Listed {
    let mut dues = vec![DUE, "2026-04-30"];
    dues.extend_from_slice(extra);
    let (mut w, f) = World::standard(&dues);
    w.tick(midnight("2026-04-16") - 1);
    w.take();
    let k1 = w.tick(midnight("2026-04-16"));
    assert_eq!(
        w.take(),
        vec![
            (k1, default("C-1", 1, &a(), Extent::Full, f)),
            (k1 + 1, closed("C-1", 1, Closure::Defaulted, k1)),
            (k1 + 2, score(&a(), -20, 980, "full_default", k1)),
        ]
    );
    w.tick(midnight("2026-05-16") - 1);
    w.take();
    let k2 = w.tick(midnight("2026-05-16"));
    let n = k2 + 3;
    assert_eq!(
        w.take(),
        vec![
            (k2, default("C-1", 2, &a(), Extent::Full, f)),
            (k2 + 1, closed("C-1", 2, Closure::Defaulted, k2)),
            (k2 + 2, score(&a(), -20, 960, "full_default", k2)),
            (n, notice(&a(), &[k1, k2], k2)),
            (n + 1, score(&a(), -50, 910, "demand_notice", n)),
            (
                n + 2,
                list(&a(), ListKind::Black, true, "demand notice published", n)
            ),
        ]
    );
    Listed {
        w,
        k1,
        k2,
        notice: n,
    }
}

// ---------------------------------------------------------------------------
// Milestone life: reminders, overdue, default
// ---------------------------------------------------------------------------

#[test]
fn reminders_at_30_7_and_1_days_before_due() {
    let (mut w, f) = World::standard(&[DUE]);
    for (days, day) in [(30, "2026-03-01"), (7, "2026-03-24"), (1, "2026-03-30")] {
        let t = midnight(day);
        w.quiet(t - 1);
        let i = w.tick(t);
        assert_eq!(w.take(), vec![(i, reminder("C-1", 1, DUE, days, f))]);
    }

    // Filed 2026-01-10 10:00 with a milestone due 2026-01-15: the 30-day
    // (2025-12-16) and 7-day (2026-01-08) reminders were already past.
    let mut w = World::new();
    let f = w.submit(
        file_t(),
        &dept_key(),
        file(dept_contract("C-1", &a(), &["2026-01-15"])),
    );
    w.quiet(midnight("2026-01-14") - 1);
    let i = w.tick(midnight("2026-01-14"));
    assert_eq!(w.take(), vec![(i, reminder("C-1", 1, "2026-01-15", 1, f))]);
    let i = w.tick(midnight("2026-01-16"));
    assert_eq!(w.take(), vec![(i, overdue("C-1", 1, "2026-01-15", f))]);

    // A milestone confirmed after the 30-day reminder gets no more reminders.
    let (mut w, f) = World::standard(&[DUE]);
    let i = w.tick(midnight("2026-03-01"));
    assert_eq!(w.take(), vec![(i, reminder("C-1", 1, DUE, 30, f))]);
    let s = w.submit(
        at("2026-03-02", 10, 0),
        &dept_key(),
        confirm("C-1", 1, "2026-03-02"),
    );
    assert_eq!(w.take().len(), 3, "closed, +1, +5");
    assert!(s > i);
    w.quiet(midnight("2026-05-01"));
}

#[test]
fn overdue_warning_at_midnight_cst_after_due_date() {
    let (mut w, f) = World::standard(&[DUE]);
    w.tick(midnight("2026-03-30"));
    assert_eq!(w.take().len(), 3, "three reminders");
    let t = midnight("2026-04-01");
    assert_eq!(
        t, 1_774_972_800_000,
        "2026-04-01 00:00 CST = 2026-03-31T16:00:00Z"
    );
    w.quiet(t - 1);
    let i = w.tick(t);
    assert_eq!(w.take(), vec![(i, overdue("C-1", 1, DUE, f))]);
    assert_eq!(w.score(&a()), 1000);
}

#[test]
fn default_after_15_day_grace_full_default_minus_20() {
    let (mut w, f) = World::standard(&[DUE]);
    let i = w.tick(midnight("2026-04-01"));
    let recs = w.take();
    assert_eq!(recs.last(), Some(&(i + 3, overdue("C-1", 1, DUE, f))));
    w.quiet(midnight("2026-04-16") - 1);
    assert_eq!(w.score(&a()), 1000);
    let k = w.tick(midnight("2026-04-16"));
    assert_eq!(
        w.take(),
        vec![
            (k, default("C-1", 1, &a(), Extent::Full, f)),
            (k + 1, closed("C-1", 1, Closure::Defaulted, k)),
            (k + 2, score(&a(), -20, 980, "full_default", k)),
        ]
    );
    assert_eq!(w.score(&a()), 980);
    assert!(!w.black(&a()) && !w.red(&a()));
    // Nothing more happens to this milestone, not even when the default ages out.
    w.quiet(midnight("2028-12-31"));
    assert_eq!(w.score(&a()), 980);
}

// ---------------------------------------------------------------------------
// Performance
// ---------------------------------------------------------------------------

#[test]
fn confirmation_on_time_plus_one_and_contract_bonus() {
    let (mut w, _) = World::standard(&[DUE, "2026-04-30"]);
    let s1 = w.submit(
        at("2026-02-20", 10, 0),
        &dept_key(),
        confirm("C-1", 1, "2026-02-20"),
    );
    assert_eq!(
        w.take(),
        vec![
            (s1 + 1, closed("C-1", 1, Closure::OnTime, s1)),
            (s1 + 2, score(&a(), 1, 1001, "on_time", s1 + 1)),
        ]
    );
    let s2 = w.submit(
        at("2026-02-25", 10, 0),
        &dept_key(),
        confirm("C-1", 2, "2026-02-24"),
    );
    assert_eq!(
        w.take(),
        vec![
            (s2 + 1, closed("C-1", 2, Closure::OnTime, s2)),
            (s2 + 2, score(&a(), 1, 1002, "on_time", s2 + 1)),
            (s2 + 3, score(&a(), 5, 1007, "contract_on_time", s2 + 1)),
        ]
    );
    assert_eq!(w.score(&a()), 1007);
    // No reminder, warning or default for closed milestones.
    w.quiet(midnight("2026-12-31"));
}

#[test]
fn confirmation_late_minus_two_and_no_contract_bonus() {
    let (mut w, f) = World::standard(&[DUE]);
    let i = w.tick(midnight("2026-04-01"));
    assert_eq!(w.take().last(), Some(&(i + 3, overdue("C-1", 1, DUE, f))));
    let s = w.submit(
        at("2026-04-05", 10, 0),
        &dept_key(),
        confirm("C-1", 1, "2026-04-03"),
    );
    assert_eq!(
        w.take(),
        vec![
            (s + 1, closed("C-1", 1, Closure::Late, s)),
            (s + 2, score(&a(), -2, 998, "late", s + 1)),
        ]
    );
    // Performed on the due date but confirmed after it: on time.
    let (mut w, _) = World::standard(&[DUE]);
    w.tick(midnight("2026-04-01"));
    w.take();
    let s = w.submit(at("2026-04-02", 10, 0), &dept_key(), confirm("C-1", 1, DUE));
    assert_eq!(
        w.take(),
        vec![
            (s + 1, closed("C-1", 1, Closure::OnTime, s)),
            (s + 2, score(&a(), 1, 1001, "on_time", s + 1)),
            (s + 3, score(&a(), 5, 1006, "contract_on_time", s + 1)),
        ]
    );
    // The late one never defaults.
    let (mut w, _) = World::standard(&[DUE]);
    w.tick(midnight("2026-04-01"));
    w.submit(
        at("2026-04-05", 10, 0),
        &dept_key(),
        confirm("C-1", 1, "2026-04-03"),
    );
    w.take();
    w.quiet(midnight("2026-05-01"));
    assert_eq!(w.score(&a()), 998);
}

#[test]
fn on_time_points_capped_at_20_per_cst_year() {
    let mut w = World::new();
    let dues = vec!["2027-02-01"; 22];
    let f = w.submit(
        file_t(),
        &dept_key(),
        file(dept_contract("C-1", &a(), &dues)),
    );
    let first = midnight("2026-02-01");
    for n in 1..=20u32 {
        let t = first + i64::from(n) * DAY + 10 * HOUR;
        let day = Date::from_days(time::day_of(t, OFFSET))
            .unwrap()
            .to_string();
        let s = w.submit(t, &dept_key(), confirm("C-1", n, &day));
        assert_eq!(
            w.take(),
            vec![
                (s + 1, closed("C-1", n, Closure::OnTime, s)),
                (s + 2, score(&a(), 1, 1000 + i64::from(n), "on_time", s + 1)),
            ]
        );
    }
    // The 21st on-time milestone in 2026 (23:59 CST on 31 December) gives nothing.
    let s = w.submit(
        at("2026-12-31", 23, 59),
        &dept_key(),
        confirm("C-1", 21, "2026-12-31"),
    );
    assert_eq!(
        w.take(),
        vec![(s + 1, closed("C-1", 21, Closure::OnTime, s))]
    );
    assert_eq!(w.score(&a()), 1020);
    // 2027-01-01 00:30 CST (still 2026 in UTC): a new CST year, the cap resets.
    let s = w.submit(
        at("2027-01-01", 0, 30),
        &dept_key(),
        confirm("C-1", 22, "2027-01-01"),
    );
    assert_eq!(
        w.take(),
        vec![
            (s + 1, closed("C-1", 22, Closure::OnTime, s)),
            (s + 2, score(&a(), 1, 1021, "on_time", s + 1)),
            (s + 3, score(&a(), 5, 1026, "contract_on_time", s + 1)),
        ]
    );
    assert_eq!(f, 1);
}

#[test]
fn claim_not_disputed_is_deemed_performed_at_end_of_window() {
    let (mut w, _) = World::standard(&[DUE]);
    let c = w.submit(
        at("2026-02-10", 15, 0),
        &a_key(),
        claim("C-1", 1, "2026-02-09"),
    );
    assert_eq!(w.take(), vec![]);
    // The obligee may dispute until the end of the 10th day after the claim day.
    let end = midnight("2026-02-21");
    let mut w2 = w.clone();
    w2.submit(end - 1, &dept_key(), dispute("C-1", 1));
    assert_eq!(w2.take(), vec![]);

    w.quiet(end - 1);
    let i = w.tick(end);
    assert_eq!(
        w.take(),
        vec![
            (i, closed("C-1", 1, Closure::Deemed, c)),
            (i + 1, score(&a(), 1, 1001, "on_time", i)),
            (i + 2, score(&a(), 5, 1006, "contract_on_time", i)),
        ]
    );
    let e = w.refused(end + HOUR, &dept_key(), dispute("C-1", 1));
    assert_refusal(&e, is_conflict, "no pending performance claim");
    w.quiet(midnight("2026-06-01"));
    assert_eq!(w.score(&a()), 1006);
}

#[test]
fn claim_disputed_returns_to_pending_and_later_defaults() {
    let (mut w, f) = World::standard(&[DUE]);
    w.tick(midnight("2026-03-24"));
    assert_eq!(w.take().len(), 2, "30- and 7-day reminders");
    let c = w.submit(
        at("2026-03-29", 10, 0),
        &a_key(),
        claim("C-1", 1, "2026-03-28"),
    );
    assert!(c > 1);
    let i = w.tick(midnight("2026-03-30"));
    assert_eq!(w.take(), vec![(i, reminder("C-1", 1, DUE, 1, f))]);
    // While the claim stands, the due date passes without a warning.
    w.quiet(midnight("2026-04-01"));
    let d = w.submit(at("2026-04-02", 10, 0), &dept_key(), dispute("C-1", 1));
    assert_eq!(w.take(), vec![]);
    // Back to pending: the overdue warning follows at the next entry.
    let i = w.tick(at("2026-04-02", 10, 0));
    assert!(i > d);
    assert_eq!(w.take(), vec![(i, overdue("C-1", 1, DUE, f))]);
    // The dispute window's end does not deem anything now.
    w.quiet(midnight("2026-04-16") - 1);
    let k = w.tick(midnight("2026-04-16"));
    assert_eq!(
        w.take(),
        vec![
            (k, default("C-1", 1, &a(), Extent::Full, f)),
            (k + 1, closed("C-1", 1, Closure::Defaulted, k)),
            (k + 2, score(&a(), -20, 980, "full_default", k)),
        ]
    );
    w.quiet(midnight("2026-06-01"));
}

// ---------------------------------------------------------------------------
// Agreed amendment
// ---------------------------------------------------------------------------

#[test]
fn agreed_amendment_by_all_parties_moves_the_due_date() {
    let (mut w, f) = World::standard(&[DUE]);
    w.tick(midnight("2026-03-01"));
    w.take();
    let new_due = "2026-05-31";
    let m = vec![ms(1, &a(), &dept(), new_due)];
    w.submit(
        at("2026-03-20", 10, 0),
        &a_key(),
        amend("C-1", 1, m.clone()),
    );
    w.submit(at("2026-03-21", 10, 0), &dept_key(), amend("C-1", 1, m));
    assert_eq!(w.take(), vec![]);
    // Nothing at the old dates (7- and 1-day reminders, overdue, default).
    w.quiet(midnight("2026-05-01") - 1);
    for (days, day) in [(30, "2026-05-01"), (7, "2026-05-24"), (1, "2026-05-30")] {
        let i = w.tick(midnight(day));
        assert_eq!(w.take(), vec![(i, reminder("C-1", 1, new_due, days, f))]);
    }
    w.quiet(midnight("2026-06-01") - 1);
    let i = w.tick(midnight("2026-06-01"));
    assert_eq!(w.take(), vec![(i, overdue("C-1", 1, new_due, f))]);
    w.quiet(midnight("2026-06-16") - 1);
    let k = w.tick(midnight("2026-06-16"));
    assert_eq!(
        w.take(),
        vec![
            (k, default("C-1", 1, &a(), Extent::Full, f)),
            (k + 1, closed("C-1", 1, Closure::Defaulted, k)),
            (k + 2, score(&a(), -20, 980, "full_default", k)),
        ]
    );
}

#[test]
fn amendment_signed_by_one_party_alone_changes_nothing() {
    let (mut w, f) = World::standard(&[DUE]);
    w.tick(midnight("2026-03-01"));
    w.take();
    let m = vec![ms(1, &a(), &dept(), "2026-05-31")];
    w.submit(at("2026-03-20", 10, 0), &a_key(), amend("C-1", 1, m));
    // The department signs a different amendment under the same number: no agreement.
    let other = vec![ms(1, &a(), &dept(), "2026-06-30")];
    w.submit(at("2026-03-21", 10, 0), &dept_key(), amend("C-1", 1, other));
    assert_eq!(w.take(), vec![]);
    let i = w.tick(midnight("2026-03-24"));
    assert_eq!(w.take(), vec![(i, reminder("C-1", 1, DUE, 7, f))]);
    w.tick(midnight("2026-03-30"));
    w.take();
    let i = w.tick(midnight("2026-04-01"));
    assert_eq!(w.take(), vec![(i, overdue("C-1", 1, DUE, f))]);
    let k = w.tick(midnight("2026-04-16"));
    assert_eq!(
        w.take(),
        vec![
            (k, default("C-1", 1, &a(), Extent::Full, f)),
            (k + 1, closed("C-1", 1, Closure::Defaulted, k)),
            (k + 2, score(&a(), -20, 980, "full_default", k)),
        ]
    );
}

// ---------------------------------------------------------------------------
// Exemptions
// ---------------------------------------------------------------------------

const GROUNDS: [ExemptionGround; 3] = [
    ExemptionGround::ForceMajeure,
    ExemptionGround::Accident,
    ExemptionGround::ChangedCircumstances,
];

#[test]
fn exemption_approved_closes_exempt_and_never_defaults() {
    for ground in GROUNDS {
        let (mut w, f) = World::standard(&[DUE]);
        let i = w.tick(midnight("2026-04-01"));
        assert_eq!(w.take().last(), Some(&(i + 3, overdue("C-1", 1, DUE, f))));
        let c = w.submit(
            at("2026-04-05", 10, 0),
            &a_key(),
            exemption("C-1", 1, ground, "2026-03-25"),
        );
        assert_eq!(w.take(), vec![]);
        // The clock is paused: no default at the end of the grace period.
        w.quiet(midnight("2026-04-16"));
        w.quiet(at("2026-04-20", 9, 0));
        let d = w.submit(
            at("2026-04-20", 10, 0),
            &office_key(),
            decide_exemption(c, true),
        );
        assert_eq!(
            w.take(),
            vec![(d + 1, closed("C-1", 1, Closure::Exempt, d))],
            "{ground:?}"
        );
        w.quiet(midnight("2027-12-31"));
        assert_eq!(w.score(&a()), 1000, "{ground:?}");
        assert!(!w.black(&a()));
    }
}

#[test]
fn exemption_refused_resumes_clock_extended_by_the_pause() {
    for ground in GROUNDS {
        let (mut w, f) = World::standard(&[DUE]);
        w.tick(midnight("2026-03-24"));
        assert_eq!(w.take().len(), 2);
        // Claimed 2026-03-29 12:00, refused 2026-04-05 12:00: paused exactly 7 days.
        let c = w.submit(
            at("2026-03-29", 12, 0),
            &a_key(),
            exemption("C-1", 1, ground, "2026-03-28"),
        );
        let i = w.tick(midnight("2026-03-30"));
        assert_eq!(w.take(), vec![(i, reminder("C-1", 1, DUE, 1, f))]);
        w.quiet(midnight("2026-04-01"));
        w.submit(
            at("2026-04-05", 12, 0),
            &office_key(),
            decide_exemption(c, false),
        );
        assert_eq!(w.take(), vec![], "{ground:?}");
        w.quiet(midnight("2026-04-08") - 1);
        let i = w.tick(midnight("2026-04-08"));
        assert_eq!(w.take(), vec![(i, overdue("C-1", 1, DUE, f))], "{ground:?}");
        w.quiet(midnight("2026-04-23") - 1);
        let k = w.tick(midnight("2026-04-23"));
        assert_eq!(
            w.take(),
            vec![
                (k, default("C-1", 1, &a(), Extent::Full, f)),
                (k + 1, closed("C-1", 1, Closure::Defaulted, k)),
                (k + 2, score(&a(), -20, 980, "full_default", k)),
            ],
            "{ground:?}"
        );
    }
}

#[test]
fn force_majeure_arising_after_due_date_is_refused_590() {
    let (mut w, _) = World::standard(&[DUE]);
    w.tick(midnight("2026-04-05"));
    w.take();
    let e = w.refused(
        at("2026-04-05", 10, 0),
        &a_key(),
        exemption("C-1", 1, ExemptionGround::ForceMajeure, "2026-04-01"),
    );
    assert_refusal(&e, is_invalid, "590");
    // On the due date itself it still excuses.
    w.submit(
        at("2026-04-05", 10, 0),
        &a_key(),
        exemption("C-1", 1, ExemptionGround::ForceMajeure, DUE),
    );
    assert_eq!(w.take(), vec![]);
    // Accident and changed circumstances are not restricted by 590 ¶2.
    let (mut w, _) = World::standard(&[DUE]);
    w.tick(midnight("2026-04-05"));
    w.submit(
        at("2026-04-05", 10, 0),
        &a_key(),
        exemption("C-1", 1, ExemptionGround::Accident, "2026-04-01"),
    );
}

#[test]
fn exemption_approved_after_default_reverses_it() {
    let (mut w, _, k) = defaulted_world();
    let c = w.submit(
        at("2026-04-20", 10, 0),
        &a_key(),
        exemption("C-1", 1, ExemptionGround::Accident, "2026-03-20"),
    );
    assert_eq!(w.take(), vec![]);
    let d = w.submit(
        at("2026-04-25", 10, 0),
        &office_key(),
        decide_exemption(c, true),
    );
    assert_eq!(
        w.take(),
        vec![
            (d + 1, reversed(k, d)),
            (d + 2, score(&a(), 20, 1000, "reversal", d + 1)),
            (d + 3, closed("C-1", 1, Closure::Exempt, d)),
        ]
    );
    assert_eq!(w.score(&a()), 1000);
    w.quiet(midnight("2028-12-31"));
}

// ---------------------------------------------------------------------------
// Reported non-performance, objections
// ---------------------------------------------------------------------------

#[test]
fn reported_non_performance_is_a_default_at_once() {
    for (extent, delta, rule) in [
        (Extent::Full, -20, "full_default"),
        (Extent::Partial, -10, "partial_default"),
    ] {
        let (mut w, _) = World::standard(&[DUE]);
        w.tick(midnight("2026-03-31"));
        w.take();
        // Not before the due date has passed.
        let e = w.refused(
            at("2026-03-31", 20, 0),
            &dept_key(),
            report("C-1", 1, extent),
        );
        assert_refusal(&e, is_invalid, "not due");
        w.tick(midnight("2026-04-01"));
        w.take();
        let r = w.submit(
            at("2026-04-01", 10, 0),
            &dept_key(),
            report("C-1", 1, extent),
        );
        assert_eq!(
            w.take(),
            vec![
                (r + 1, default("C-1", 1, &a(), extent, r)),
                (r + 2, closed("C-1", 1, Closure::Defaulted, r + 1)),
                (r + 3, score(&a(), delta, 1000 + delta, rule, r + 1)),
            ]
        );
        // The grace-period default does not come on top.
        w.quiet(midnight("2026-06-01"));
        assert_eq!(w.score(&a()), 1000 + delta);
    }
}

#[test]
fn objection_upheld_reverses_default_exactly() {
    let (mut w, _, k) = defaulted_world();
    let o = w.submit(at("2026-04-20", 10, 0), &a_key(), object(k));
    assert_eq!(w.take(), vec![]);
    let u = w.submit(
        at("2026-04-22", 10, 0),
        &office_key(),
        decide_objection(o, true),
    );
    assert_eq!(
        w.take(),
        vec![
            (u + 1, reversed(k, u)),
            (u + 2, score(&a(), 20, 1000, "reversal", u + 1)),
        ]
    );
    assert_eq!(w.score(&a()), 1000);

    // A partial default is undone by exactly its own deduction.
    let (mut w, _) = World::standard(&[DUE]);
    w.tick(midnight("2026-04-01"));
    let r = w.submit(
        at("2026-04-01", 10, 0),
        &dept_key(),
        report("C-1", 1, Extent::Partial),
    );
    w.take();
    let o = w.submit(at("2026-04-03", 10, 0), &a_key(), object(r + 1));
    let u = w.submit(
        at("2026-04-04", 10, 0),
        &office_key(),
        decide_objection(o, true),
    );
    assert_eq!(
        w.take(),
        vec![
            (u + 1, reversed(r + 1, u)),
            (u + 2, score(&a(), 10, 1000, "reversal", u + 1)),
        ]
    );
}

#[test]
fn objection_rejected_changes_nothing() {
    let (mut w, _, k) = defaulted_world();
    let o = w.submit(at("2026-04-20", 10, 0), &a_key(), object(k));
    let u = w.submit(
        at("2026-04-22", 10, 0),
        &office_key(),
        decide_objection(o, false),
    );
    assert!(u > o);
    assert_eq!(w.take(), vec![]);
    assert_eq!(w.score(&a()), 980);
    let e = w.refused(
        at("2026-04-23", 10, 0),
        &office_key(),
        decide_objection(o, true),
    );
    assert_refusal(&e, is_conflict, "already decided");
}

#[test]
fn objection_after_15_days_is_refused() {
    let (w, _, k) = defaulted_world();
    // Default on 2026-04-16: objections until the end of 2026-05-01.
    let mut ok = w.clone();
    ok.submit(at("2026-05-01", 23, 59), &a_key(), object(k));
    let mut late = w;
    let e = late.refused(midnight("2026-05-02"), &a_key(), object(k));
    assert_refusal(&e, is_invalid, "15-day objection window");
}

#[test]
fn objection_to_demand_notice_upheld_undoes_notice_and_listing() {
    let Listed {
        mut w, notice: n, ..
    } = blacklisted_world(&[]);
    let o = w.submit(at("2026-05-20", 10, 0), &a_key(), object(n));
    let u = w.submit(
        at("2026-05-21", 10, 0),
        &office_key(),
        decide_objection(o, true),
    );
    assert_eq!(
        w.take(),
        vec![
            (u + 1, score(&a(), 50, 960, "reversal", u)),
            (
                u + 2,
                list(&a(), ListKind::Black, false, "objection upheld", u)
            ),
        ]
    );
    assert!(!w.black(&a()));
}

// ---------------------------------------------------------------------------
// Black list
// ---------------------------------------------------------------------------

#[test]
fn two_defaults_within_365_days_bring_demand_notice_and_black_list() {
    let Listed {
        w, k1, k2, notice, ..
    } = blacklisted_world(&[]);
    assert_eq!(notice, k2 + 3);
    assert!(k1 < k2);
    assert_eq!(w.score(&a()), 910);
    assert!(w.black(&a()));
    assert!(!w.red(&a()));
}

#[test]
fn defaults_365_days_apart_bring_no_demand_notice() {
    // Defaults on 2026-04-16 and 2027-04-16.
    let (mut w, f) = World::standard(&[DUE, "2027-03-31"]);
    w.tick(midnight("2026-04-16"));
    w.take();
    w.tick(midnight("2027-04-16") - 1);
    w.take();
    let k = w.tick(midnight("2027-04-16"));
    assert_eq!(
        w.take(),
        vec![
            (k, default("C-1", 2, &a(), Extent::Full, f)),
            (k + 1, closed("C-1", 2, Closure::Defaulted, k)),
            (k + 2, score(&a(), -20, 960, "full_default", k)),
        ]
    );
    assert!(!w.black(&a()));
}

#[test]
fn repair_applied_before_90_day_minimum_is_refused() {
    // Listed on 2026-05-16: repair may be applied for from 2026-08-14.
    let Listed { mut w, .. } = blacklisted_world(&[]);
    let e = w.refused(midnight("2026-08-14") - 1, &a_key(), apply_repair(&a()));
    assert_refusal(&e, is_invalid, "minimum publicity of 90 days");
    w.submit(midnight("2026-08-14"), &a_key(), apply_repair(&a()));
    assert_eq!(w.take(), vec![]);
    assert!(w.black(&a()));
}

#[test]
fn repair_approval_refused_while_overdue_milestones_unresolved() {
    // C-1#3, due 2026-08-10, is overdue and unperformed when repair is decided.
    let Listed { mut w, .. } = blacklisted_world(&["2026-08-10"]);
    w.tick(midnight("2026-08-14"));
    w.take();
    let app = w.submit(at("2026-08-14", 9, 0), &a_key(), apply_repair(&a()));
    let e = w.refused(
        at("2026-08-14", 10, 0),
        &office_key(),
        decide_repair(app, true),
    );
    assert_refusal(&e, is_invalid, "C-1#1, C-1#2, C-1#3");
    // Performance after the defaults resolves those, not the open one.
    w.submit(
        at("2026-08-14", 11, 0),
        &dept_key(),
        confirm("C-1", 1, "2026-08-01"),
    );
    w.submit(
        at("2026-08-14", 11, 0),
        &dept_key(),
        confirm("C-1", 2, "2026-08-01"),
    );
    assert_eq!(w.take(), vec![]);
    let e = w.refused(
        at("2026-08-14", 12, 0),
        &office_key(),
        decide_repair(app, true),
    );
    assert_refusal(&e, is_invalid, "unresolved overdue milestones: C-1#3;");
    assert!(w.black(&a()));
    // A refusal decision is still possible.
    w.submit(
        at("2026-08-14", 13, 0),
        &office_key(),
        decide_repair(app, false),
    );
    assert_eq!(w.take(), vec![]);
    assert!(w.black(&a()));
}

#[test]
fn repair_approved_restores_notice_deduction_and_unlists() {
    let Listed { mut w, .. } = blacklisted_world(&[]);
    w.submit(
        at("2026-06-01", 10, 0),
        &dept_key(),
        confirm("C-1", 1, "2026-06-01"),
    );
    w.submit(
        at("2026-06-01", 10, 0),
        &dept_key(),
        confirm("C-1", 2, "2026-06-01"),
    );
    assert_eq!(w.take(), vec![]);
    let app = w.submit(midnight("2026-08-14"), &a_key(), apply_repair(&a()));
    let d = w.submit(
        at("2026-08-15", 10, 0),
        &office_key(),
        decide_repair(app, true),
    );
    assert_eq!(
        w.take(),
        vec![
            (d + 1, score(&a(), 50, 960, "repair", d)),
            (
                d + 2,
                list(&a(), ListKind::Black, false, "credit repair approved", d)
            ),
        ]
    );
    assert!(!w.black(&a()));
    // The maximum-period expiry does not fire again.
    w.quiet(midnight("2027-12-31"));
}

#[test]
fn black_list_expires_after_365_days() {
    let Listed { mut w, notice, .. } = blacklisted_world(&[]);
    w.quiet(midnight("2027-05-16") - 1);
    assert!(w.black(&a()));
    let i = w.tick(midnight("2027-05-16"));
    assert_eq!(
        w.take(),
        vec![(
            i,
            list(
                &a(),
                ListKind::Black,
                false,
                "maximum publicity period reached",
                notice
            )
        )]
    );
    assert!(!w.black(&a()));
    assert_eq!(w.score(&a()), 910);
}

// ---------------------------------------------------------------------------
// Red list
// ---------------------------------------------------------------------------

/// A with contracts C-1..C-3 (and C-4 if `c4`) due 2026-06-30, C-1..C-3
/// fully performed on time on 2026-02-01, -02, -03; returns the world and
/// the index of the ScoreChanged that put A on the red list.
fn red_world(c4: bool) -> (World, u64) {
    let mut w = World::new();
    let n = if c4 { 4 } else { 3 };
    for i in 1..=n {
        w.submit(
            file_t(),
            &dept_key(),
            file(dept_contract(&format!("C-{i}"), &a(), &["2026-06-30"])),
        );
    }
    let mut last = 0;
    for (i, day) in [(1, "2026-02-01"), (2, "2026-02-02"), (3, "2026-02-03")] {
        let id = format!("C-{i}");
        let s = w.submit(at(day, 10, 0), &dept_key(), confirm(&id, 1, day));
        let total = 1000 + 6 * i64::from(i);
        let mut want = vec![
            (s + 1, closed(&id, 1, Closure::OnTime, s)),
            (s + 2, score(&a(), 1, total - 5, "on_time", s + 1)),
            (s + 3, score(&a(), 5, total, "contract_on_time", s + 1)),
        ];
        if i == 3 {
            want.push((
                s + 4,
                list(&a(), ListKind::Red, true, "red list criteria met", s + 3),
            ));
        }
        assert_eq!(w.take(), want, "C-{i}");
        last = s + 3;
    }
    (w, last)
}

#[test]
fn red_list_entry_with_score_1010_and_three_contracts() {
    let (w, _) = red_world(false);
    assert_eq!(w.score(&a()), 1018);
    assert!(w.red(&a()));
}

#[test]
fn red_list_lost_after_a_default() {
    let (mut w, _) = red_world(true);
    w.tick(midnight("2026-07-16") - 1);
    w.take();
    let k = w.tick(midnight("2026-07-16"));
    assert_eq!(
        w.take(),
        vec![
            (k, default("C-4", 1, &a(), Extent::Full, 4)),
            (k + 1, closed("C-4", 1, Closure::Defaulted, k)),
            (k + 2, score(&a(), -20, 998, "full_default", k)),
            (
                k + 3,
                list(
                    &a(),
                    ListKind::Red,
                    false,
                    "red list criteria no longer met",
                    k + 2
                )
            ),
        ]
    );
    assert!(!w.red(&a()));
}

#[test]
fn red_list_lost_when_completions_age_out_of_730_days() {
    let (mut w, _) = red_world(false);
    // 2026-02-01 + 730 days = 2028-02-01.
    w.quiet(midnight("2028-02-01") - 1);
    assert!(w.red(&a()));
    let i = w.tick(midnight("2028-02-01"));
    // The RedCheck deadline names the entry before it as its cause.
    assert_eq!(
        w.take(),
        vec![(
            i,
            list(
                &a(),
                ListKind::Red,
                false,
                "red list criteria no longer met",
                i - 1
            )
        )]
    );
    assert!(!w.red(&a()));
    assert_eq!(w.score(&a()), 1018);
    w.quiet(midnight("2028-03-01"));
}

/// Rule book: "at least 3 contracts fully performed within 730 days" — a
/// contract performed in full, one milestone late, is fully performed.
#[test]
fn red_list_counts_contracts_fully_performed_even_if_late() {
    let mut w = World::new();
    for id in ["C-1", "C-2"] {
        w.submit(
            file_t(),
            &dept_key(),
            file(dept_contract(id, &a(), &["2026-06-30"])),
        );
    }
    w.submit(
        file_t(),
        &dept_key(),
        file(dept_contract("C-3", &a(), &["2026-06-30", "2026-06-30"])),
    );
    for (id, day) in [("C-1", "2026-02-01"), ("C-2", "2026-02-02")] {
        w.submit(at(day, 10, 0), &dept_key(), confirm(id, 1, day));
    }
    w.submit(
        at("2026-02-03", 10, 0),
        &dept_key(),
        confirm("C-3", 1, "2026-02-03"),
    );
    w.take();
    assert_eq!(w.score(&a()), 1013);
    w.tick(midnight("2026-07-01"));
    w.take();
    let s = w.submit(
        at("2026-07-05", 10, 0),
        &dept_key(),
        confirm("C-3", 2, "2026-07-02"),
    );
    assert_eq!(
        w.take(),
        vec![
            (s + 1, closed("C-3", 2, Closure::Late, s)),
            (s + 2, score(&a(), -2, 1011, "late", s + 1)),
            // The completion of C-3 (its closing record) is what meets the criteria.
            (
                s + 3,
                list(&a(), ListKind::Red, true, "red list criteria met", s + 1)
            ),
        ]
    );
    assert!(
        w.red(&a()),
        "score 1011 ≥ 1010, three contracts fully performed, no default"
    );
}

// ---------------------------------------------------------------------------
// Authorization
// ---------------------------------------------------------------------------

#[test]
fn only_obligee_or_filing_source_unit_may_confirm() {
    // Filed by dept: C-1#1 owed by A to B, C-1#2 owed by A to dept.
    let mut w = World::new();
    let t = file_t();
    let c = contract(
        "C-1",
        Source::Department,
        &[&dept(), &a(), &b()],
        SIGNED,
        vec![ms(1, &a(), &b(), DUE), ms(2, &a(), &dept(), DUE)],
    );
    w.submit(t, &dept_key(), file(c));
    // The obligor, a department that did not file it, a stranger.
    for k in [a_key(), dept2_key(), c_key()] {
        let e = w.refused(t, &k, confirm("C-1", 1, "2026-01-10"));
        assert_refusal(&e, is_forbidden, "only the obligee");
    }
    let e = w.refused(t, &b_key(), confirm("C-1", 2, "2026-01-10"));
    assert_refusal(&e, is_forbidden, "only the obligee");
    w.submit(t, &dept_key(), confirm("C-1", 1, "2026-01-10"));
    w.submit(t, &dept_key(), confirm("C-1", 2, "2026-01-10"));
    assert_eq!(w.take().len(), 5);

    // Self-filed by A (obligee) against B: a source unit that did not file it may not act.
    let mut w = World::new();
    w.submit(t, &a_key(), file(self_contract("S-1", &a(), &b(), &[DUE])));
    let e = w.refused(t, &dept_key(), confirm("S-1", 1, "2026-01-10"));
    assert_refusal(&e, is_forbidden, "only the obligee");
    let e = w.refused(t, &b_key(), confirm("S-1", 1, "2026-01-10"));
    assert_refusal(&e, is_forbidden, "only the obligee");
    w.submit(t, &a_key(), confirm("S-1", 1, "2026-01-10"));

    // The same gate for reports: the obligor may not report itself.
    let (mut w, _) = World::standard(&[DUE]);
    w.tick(midnight("2026-04-02"));
    let e = w.refused(
        midnight("2026-04-02"),
        &a_key(),
        report("C-1", 1, Extent::Full),
    );
    assert_refusal(&e, is_forbidden, "only the obligee");
}

#[test]
fn only_obligor_may_claim_performance_or_exemption() {
    let (mut w, _) = World::standard(&[DUE]);
    let t = at("2026-02-01", 10, 0);
    for k in [dept_key(), b_key()] {
        let e = w.refused(t, &k, claim("C-1", 1, "2026-02-01"));
        assert_refusal(&e, is_forbidden, "only the obligor");
        let e = w.refused(
            t,
            &k,
            exemption("C-1", 1, ExemptionGround::Accident, "2026-02-01"),
        );
        assert_refusal(&e, is_forbidden, "only the obligor");
    }
    w.submit(t, &a_key(), claim("C-1", 1, "2026-02-01"));
    assert_eq!(w.take(), vec![]);
}

#[test]
fn only_all_parties_together_may_amend() {
    let (mut w, _) = World::standard(&[DUE]);
    let m = vec![ms(1, &a(), &dept(), "2026-05-31")];
    let t = at("2026-02-01", 10, 0);
    let e = w.refused(t, &b_key(), amend("C-1", 1, m.clone()));
    assert_refusal(&e, is_forbidden, "not a party");
    w.submit(t, &a_key(), amend("C-1", 1, m.clone()));
    let e = w.refused(t, &a_key(), amend("C-1", 1, m.clone()));
    assert_refusal(&e, is_conflict, "already agreed");
    assert_eq!(
        w.engine.contract(&cid("C-1")).unwrap().milestones[&1].due,
        date(DUE)
    );
    w.submit(t, &dept_key(), amend("C-1", 1, m));
    assert_eq!(
        w.engine.contract(&cid("C-1")).unwrap().milestones[&1].due,
        date("2026-05-31")
    );
    assert_eq!(w.take(), vec![]);
}

#[test]
fn only_the_entity_concerned_may_object() {
    let (mut w, f, k) = defaulted_world();
    let t = at("2026-04-20", 10, 0);
    for key in [b_key(), dept_key()] {
        let e = w.refused(t, &key, object(k));
        assert_refusal(&e, is_forbidden, "may object");
    }
    let e = w.refused(t, &a_key(), object(f));
    assert_refusal(&e, is_not_found, "no standing default");
    w.submit(t, &a_key(), object(k));
    let e = w.refused(t, &a_key(), object(k));
    assert_refusal(&e, is_conflict, "already pending");
}

#[test]
fn market_entity_may_not_file_a_contract_it_is_not_party_to() {
    let mut w = World::new();
    let t = file_t();
    let between_b_and_c = self_contract("X-1", &b(), &c(), &[DUE]);
    let e = w.refused(t, &a_key(), file(between_b_and_c));
    assert_refusal(&e, is_forbidden, "may not file contract X-1");
    // A market entity may not pose as a department either, nor a non-party department.
    let e = w.refused(t, &a_key(), file(dept_contract("X-2", &a(), &[DUE])));
    assert_refusal(&e, is_forbidden, "may not file contract X-2");
    let e = w.refused(t, &dept2_key(), file(dept_contract("X-3", &a(), &[DUE])));
    assert_refusal(&e, is_forbidden, "may not file contract X-3");
    // Parties file; a data feed imports.
    w.submit(t, &b_key(), file(self_contract("X-1", &b(), &c(), &[DUE])));
    let mut imported = dept_contract("X-4", &a(), &[DUE]);
    imported.source = Source::Import {
        external_ref: Name::new("GGZY-2026-1").unwrap(),
    };
    w.submit(t, &feed_key(), file(imported));
}

#[test]
fn fake_filings_against_a_rival_do_not_count_until_acknowledged() {
    let mut w = World::new();
    let t = file_t();
    let f1 = w.submit(t, &a_key(), file(self_contract("F-1", &a(), &b(), &[DUE])));
    let f2 = w.submit(t, &a_key(), file(self_contract("F-2", &a(), &b(), &[DUE])));
    let f3 = w.submit(
        t,
        &a_key(),
        file(self_contract("F-3", &a(), &b(), &["2026-04-30"])),
    );
    // B acknowledges F-3 only.
    w.submit(at("2026-01-20", 10, 0), &b_key(), ack("F-3", &b()));
    w.tick(midnight("2026-04-01"));
    w.take();
    // A reports B's non-performance of F-2: closed, but no default against B.
    let r = w.submit(
        at("2026-04-01", 10, 0),
        &a_key(),
        report("F-2", 1, Extent::Full),
    );
    assert_eq!(
        w.take(),
        vec![(r + 1, closed("F-2", 1, Closure::Defaulted, r))]
    );
    // F-1 passes its grace period: closed, no default.
    let k = w.tick(midnight("2026-04-16"));
    assert_eq!(
        w.take(),
        vec![(k, closed("F-1", 1, Closure::Defaulted, f1))]
    );
    assert_eq!(w.score(&b()), 1000);
    assert!(!w.black(&b()));
    // F-3, acknowledged by B, counts — and alone brings no demand notice.
    w.tick(midnight("2026-05-16") - 1);
    w.take();
    let k = w.tick(midnight("2026-05-16"));
    assert_eq!(
        w.take(),
        vec![
            (k, default("F-3", 1, &b(), Extent::Full, f3)),
            (k + 1, closed("F-3", 1, Closure::Defaulted, k)),
            (k + 2, score(&b(), -20, 980, "full_default", k)),
        ]
    );
    assert_eq!(w.score(&b()), 980);
    assert!(!w.black(&b()));
    assert_eq!(w.score(&a()), 1000);
    assert!(f2 > f1);
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

#[test]
fn filing_needs_two_distinct_parties() {
    let mut w = World::new();
    let one = contract(
        "V-1",
        Source::Department,
        &[&dept()],
        SIGNED,
        vec![ms(1, &dept(), &dept(), DUE)],
    );
    let e = w.refused(file_t(), &dept_key(), file(one));
    assert_refusal(&e, is_invalid, "at least two distinct parties");
    let twice = contract(
        "V-1",
        Source::Department,
        &[&dept(), &dept()],
        SIGNED,
        vec![ms(1, &dept(), &dept(), DUE)],
    );
    let e = w.refused(file_t(), &dept_key(), file(twice));
    assert_refusal(&e, is_invalid, "at least two distinct parties");
}

#[test]
fn filing_obligor_must_be_a_party() {
    let mut w = World::new();
    let c = contract(
        "V-2",
        Source::Department,
        &[&dept(), &a()],
        SIGNED,
        vec![ms(1, &b(), &dept(), DUE)],
    );
    let e = w.refused(file_t(), &dept_key(), file(c));
    assert_refusal(&e, is_invalid, "obligor");
    assert_refusal(&e, is_invalid, "is not a party");
}

#[test]
fn filing_due_date_before_signed_date_is_refused() {
    let mut w = World::new();
    let e = w.refused(
        file_t(),
        &dept_key(),
        file(dept_contract("V-3", &a(), &["2026-01-04"])),
    );
    assert_refusal(&e, is_invalid, "before the signed date");
}

#[test]
fn filing_duplicate_contract_id_is_refused() {
    let (mut w, _) = World::standard(&[DUE]);
    let e = w.refused(
        file_t(),
        &dept_key(),
        file(dept_contract("C-1", &b(), &[DUE])),
    );
    assert_refusal(&e, is_conflict, "already filed");
}

#[test]
fn unknown_contract_or_milestone_is_refused() {
    let (mut w, _) = World::standard(&[DUE]);
    let t = at("2026-02-01", 10, 0);
    let e = w.refused(t, &dept_key(), confirm("C-9", 1, "2026-02-01"));
    assert_refusal(&e, is_not_found, "unknown contract C-9");
    let e = w.refused(t, &dept_key(), confirm("C-1", 7, "2026-02-01"));
    assert_refusal(&e, is_not_found, "has no milestone 7");
    let e = w.refused(t, &a_key(), claim("C-1", 7, "2026-02-01"));
    assert_refusal(&e, is_not_found, "has no milestone 7");
}

#[test]
fn natural_person_party_named_in_clear_is_refused() {
    let mut w = World::new();
    let mut c = dept_contract("V-6", &person(), &[DUE]);
    c.parties[1].name = Name::new("王小明").unwrap();
    let e = w.refused(file_t(), &dept_key(), file(c));
    assert_refusal(&e, is_invalid, "masked name");
    // Under the masked name it is accepted.
    w.submit(
        file_t(),
        &dept_key(),
        file(dept_contract("V-6", &person(), &[DUE])),
    );
}

// ---------------------------------------------------------------------------
// Rule sets, reversals and closures
// ---------------------------------------------------------------------------

fn publish_grace(w: &mut World, grace_days: u32) {
    let rules = RuleSet {
        version: 2,
        grace_days,
        ..RuleSet::default()
    };
    w.submit(
        at("2026-02-01", 10, 0),
        &office_key(),
        Event::RuleSetPublished { rules },
    );
    assert_eq!(w.take(), vec![]);
}

/// Rule-set parameters are in force from their log time, for milestones
/// already pending too: a longer grace period postpones their default.
#[test]
fn rule_set_longer_grace_postpones_pending_defaults() {
    let (mut w, f) = World::standard(&[DUE]);
    publish_grace(&mut w, 20);
    w.tick(midnight("2026-04-01"));
    w.take();
    w.quiet(midnight("2026-04-21") - 1);
    let k = w.tick(midnight("2026-04-21"));
    assert_eq!(
        w.take(),
        vec![
            (k, default("C-1", 1, &a(), Extent::Full, f)),
            (k + 1, closed("C-1", 1, Closure::Defaulted, k)),
            (k + 2, score(&a(), -20, 980, "full_default", k)),
        ]
    );
}

/// … and a shorter one brings it forward (due 2026-03-31, grace 10 days:
/// default at 2026-04-11 00:00 CST).
#[test]
fn rule_set_shorter_grace_brings_pending_defaults_forward() {
    let (mut w, f) = World::standard(&[DUE]);
    publish_grace(&mut w, 10);
    w.tick(midnight("2026-04-01"));
    w.take();
    w.quiet(midnight("2026-04-11") - 1);
    let k = w.tick(midnight("2026-04-11"));
    assert_eq!(
        w.take(),
        vec![
            (k, default("C-1", 1, &a(), Extent::Full, f)),
            (k + 1, closed("C-1", 1, Closure::Defaulted, k)),
            (k + 2, score(&a(), -20, 980, "full_default", k)),
        ]
    );
}

/// An exempted milestone was "never a default": when one of the two
/// defaults behind a demand notice is reversed, the entity no longer has
/// two determined defaults within 365 days, so the notice (−50) and the
/// black listing premised on them should not stand.
#[test]
fn reversing_a_default_behind_a_demand_notice_withdraws_the_notice() {
    let Listed { mut w, k1, .. } = blacklisted_world(&[]);
    let c = w.submit(
        at("2026-05-20", 10, 0),
        &a_key(),
        exemption("C-1", 1, ExemptionGround::Accident, "2026-03-01"),
    );
    let d = w.submit(
        at("2026-05-21", 10, 0),
        &office_key(),
        decide_exemption(c, true),
    );
    let recs = w.take();
    assert_eq!(
        recs[..5],
        [
            (d + 1, reversed(k1, d)),
            (d + 2, score(&a(), 20, 930, "reversal", d + 1)),
            (d + 3, score(&a(), 50, 980, "reversal", d + 1)),
            (
                d + 4,
                Derived::ListChanged {
                    entity: a(),
                    list: ListKind::Black,
                    listed: false,
                    reason: Text::new("demand notice withdrawn: its defaults were reversed")
                        .unwrap(),
                    cause: d + 1,
                }
            ),
            (d + 5, closed("C-1", 1, Closure::Exempt, d)),
        ]
    );
    assert!(
        !w.black(&a()),
        "one standing default left, yet still black-listed; records: {recs:?}"
    );
    assert_eq!(w.score(&a()), 980, "1000 − 20 for the one standing default");
}

/// Amended milestones are validated like filed ones.
#[test]
fn amendment_due_date_before_signed_date_is_refused() {
    let (mut w, _) = World::standard(&[DUE]);
    let m = vec![ms(1, &a(), &dept(), "2026-01-01")];
    let e = w.refused(at("2026-02-01", 10, 0), &a_key(), amend("C-1", 1, m));
    assert_refusal(&e, is_invalid, "before the signed date");
}

/// A milestone is closed once. After it closed as defaulted, a later
/// confirmation resolves it (for repair) but does not close it again with
/// a fresh score change — as for a counted default (see
/// `repair_approved_restores_notice_deduction_and_unlists`).
#[test]
fn milestone_closed_as_defaulted_is_not_closed_again() {
    let mut w = World::new();
    let f = w.submit(
        file_t(),
        &a_key(),
        file(self_contract("F-1", &a(), &b(), &[DUE])),
    );
    w.tick(midnight("2026-04-16") - 1);
    w.take();
    let k = w.tick(midnight("2026-04-16"));
    assert_eq!(w.take(), vec![(k, closed("F-1", 1, Closure::Defaulted, f))]);
    w.submit(at("2026-04-20", 9, 0), &b_key(), ack("F-1", &b()));
    let e = w.refused(
        at("2026-04-20", 10, 0),
        &a_key(),
        confirm("F-1", 1, "2026-04-10"),
    );
    assert!(e.to_string().contains("already closed"), "{e}");
    assert_eq!(w.take(), vec![]);
    assert_eq!(w.score(&b()), 1000);
}
