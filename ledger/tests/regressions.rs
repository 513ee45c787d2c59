//! Regression tests for loopholes found while writing docs/RULES.md.

use lvyue_ledger::engine::{Engine, RuleError};
use lvyue_ledger::event::{Contract, Event, KeyRegistration, Milestone, Party, Source};
use lvyue_ledger::rules::RuleSet;
use lvyue_ledger::types::{
    Category, ContractId, Date, Fen, MaskedName, Name, Role, SignerName, Subject, Text,
};
use lvyue_ledger::uscc::Uscc;

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const DAY: i64 = 86_400_000;

fn key(holder: Subject, role: Role) -> KeyRegistration {
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

fn org(n: u32) -> Subject {
    Subject::Org(Uscc::with_check(&format!("9161030000000{n:04}")).unwrap())
}

fn engine() -> Engine {
    let mut e = Engine::new();
    let node = key(org(0), Role::Node);
    let genesis = Event::Genesis {
        origin: Name::new("t").unwrap(),
        node_key: node.clone(),
        office_keys: vec![],
        rules: RuleSet::default(),
    };
    e.apply(&genesis, &node, T0);
    e
}

fn contract(id: &str, a: &Subject, b: &Subject, obligor: &Subject, source: Source) -> Event {
    let obligee = if obligor == a { b } else { a };
    let party = |s: &Subject| Party {
        subject: s.clone(),
        name: match s {
            Subject::Person { masked_name, .. } => Name::new(masked_name.as_str()).unwrap(),
            Subject::Org(_) => Name::new("某公司").unwrap(),
        },
        role: Name::new("方").unwrap(),
    };
    Event::ContractFiled {
        contract: Contract {
            id: ContractId::new(id).unwrap(),
            category: Category::Commercial,
            name: Name::new("合同").unwrap(),
            parties: vec![party(a), party(b)],
            summary: Text::new("").unwrap(),
            amount: Fen::new(100).unwrap(),
            signed: Date::parse("2025-12-01").unwrap(),
            milestones: vec![Milestone {
                number: 1,
                obligor: obligor.clone(),
                obligee: obligee.clone(),
                due: Date::parse("2026-01-20").unwrap(),
                description: Text::new("交付").unwrap(),
                amount: Fen::new(100).unwrap(),
            }],
            document_sha256: None,
            source,
        },
    }
}

fn submit(e: &mut Engine, event: &Event, who: &KeyRegistration, t: i64) -> Result<(), RuleError> {
    e.advance(t);
    e.check(event, who, t)?;
    e.apply(event, who, t);
    Ok(())
}

/// A firm self-files contracts with a keyless natural person, claims
/// performance and is deemed to have performed: no points, no red list.
#[test]
fn regression_self_dealing_with_a_natural_person_moves_no_score() {
    let mut e = engine();
    let firm = org(1);
    let person = Subject::Person {
        masked_name: MaskedName::new("王某").unwrap(),
        commitment: lvyue_ledger::Hash([7; 32]),
    };
    let firm_key = key(firm.clone(), Role::MarketEntity);
    for i in 0..3 {
        let id = format!("S-{i}");
        submit(
            &mut e,
            &contract(&id, &firm, &person, &firm, Source::SelfFiled),
            &firm_key,
            T0 + i,
        )
        .unwrap();
        let claim = Event::PerformanceClaimed {
            contract: ContractId::new(id).unwrap(),
            milestone: 1,
            performed: Date::parse("2026-01-02").unwrap(),
            evidence: None,
        };
        submit(&mut e, &claim, &firm_key, T0 + DAY + i).unwrap();
    }
    e.advance(T0 + 60 * DAY);
    assert_eq!(e.score(&firm), 1000);
    assert!(!e.listed(&firm, lvyue_ledger::record::ListKind::Red));
}

/// The filing source unit may confirm its counterparty's milestones, not its own.
#[test]
fn regression_source_unit_cannot_confirm_its_own_performance() {
    let mut e = engine();
    let (dept, firm) = (org(2), org(3));
    let dept_key = key(dept.clone(), Role::SourceUnit);
    submit(
        &mut e,
        &contract("D-1", &dept, &firm, &dept, Source::Department),
        &dept_key,
        T0,
    )
    .unwrap();
    let confirm = Event::PerformanceConfirmed {
        contract: ContractId::new("D-1").unwrap(),
        milestone: 1,
        performed: Date::parse("2026-01-02").unwrap(),
        evidence: None,
    };
    let err = submit(&mut e, &confirm, &dept_key, T0 + DAY).unwrap_err();
    assert!(matches!(err, RuleError::Forbidden(_)), "{err}");
    assert_eq!(e.score(&dept), 1000);
}
