//! Tampering by someone holding the node's own key: entries rewritten,
//! re-chained and re-signed under a fresh checkpoint. Signatures and the
//! chain then hold, so the audit must catch each change by re-checking
//! admission and re-deriving every derived record — and name the index.

use lvyue_ledger::admission::Registry;
use lvyue_ledger::audit::{Auditor, Summary, Violation};
use lvyue_ledger::checkpoint::{self, Checkpoint, sign_checkpoint};
use lvyue_ledger::event::Event;
use lvyue_ledger::hash::{Hash, leaf_hash};
use lvyue_ledger::keys::Signer;
use lvyue_ledger::record::{Body, Derived, Entry};
use lvyue_ledger::store::{Store, StoreConfig};
use lvyue_ledger::tlog::MemoryTree;
use lvyue_ledger::types::Role;
use lvyue_node::sequencer::SequencerConfig;
use lvyue_node::server::ServerConfig;
use lvyue_tests::{T0, TestNode, uscc};
use serde_json::json;
use std::time::Duration;

const DAY: i64 = 86_400_000;

struct Log {
    entries: Vec<Entry>,
    node_key: Signer,
    origin: String,
    /// A market-entity key of the defaulting firm that the office revoked.
    revoked: Signer,
}

fn filing(id: &str, obligee: &str, obligor: &str) -> Event {
    serde_json::from_value(json!({
        "type": "contract_filed",
        "contract": {
            "id": id, "category": "construction", "name": "道路维修工程",
            "parties": [
                {"subject": {"org": obligee}, "name": "宝鸡市某局", "role": "甲方"},
                {"subject": {"org": obligor}, "name": "某建设公司", "role": "乙方"}
            ],
            "summary": "维修", "amount": 900_000, "signed": "2025-12-01",
            "milestones": [{"number": 1, "obligor": {"org": obligor}, "obligee": {"org": obligee},
                "due": "2026-01-10", "description": "完工", "amount": 900_000}],
            "document_sha256": null, "source": "department"
        }
    }))
    .unwrap()
}

/// A clean log in which a firm defaults twice and is black-listed.
fn clean_log() -> Log {
    let config = SequencerConfig {
        tick_interval: Duration::from_millis(20),
        ..SequencerConfig::default()
    };
    let mut n = TestNode::start_with(ServerConfig::default(), config);
    let dept = n.register("dept", Role::SourceUnit, &uscc(1));
    let revoked = n.register("firm", Role::MarketEntity, &uscc(2));
    let revoke = Event::KeyRevoked {
        name: lvyue_ledger::types::SignerName::new("firm").unwrap(),
        key_id: revoked.id(),
        reason: lvyue_ledger::types::Text::new("key lost").unwrap(),
    };
    let (status, body) = n.submit(&n.sign(&n.office, revoke));
    assert_eq!(status, 200, "{body}");
    for id in ["R-1", "R-2"] {
        let (status, body) = n.submit(&n.sign(&dept, filing(id, &uscc(1), &uscc(2))));
        assert_eq!(status, 200, "{body}");
    }
    n.clock.set(T0 + 40 * DAY);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !n
        .node
        .sequencer
        .view()
        .unwrap()
        .entries(0, u64::MAX)
        .any(|r| {
            matches!(
                Entry::decode(&r.unwrap().1).unwrap().body,
                Body::Derived(Derived::ListChanged { .. })
            )
        })
    {
        assert!(std::time::Instant::now() < deadline, "no black listing");
        std::thread::sleep(Duration::from_millis(10));
    }
    n.audit();
    n.stop();
    let store = Store::open(&n.path.as_path().join("store"), &StoreConfig::default()).unwrap();
    let entries = store
        .view()
        .entries(0, store.head().size)
        .map(|r| Entry::decode(&r.unwrap().1).unwrap())
        .collect();
    let node_key = Signer::read_file(&n.path.as_path().join("keys/node.key")).unwrap();
    Log {
        entries,
        node_key,
        origin: n.origin.clone(),
        revoked,
    }
}

/// Re-chains `entries` (indexes and prev hashes), re-signs a checkpoint
/// with the node key, and audits the result.
fn forge_and_audit(log: &Log, mut entries: Vec<Entry>) -> Result<Summary, Violation> {
    let mut prev = Hash::ZERO;
    let mut tree = MemoryTree::new();
    let mut bytes = Vec::new();
    for (i, e) in entries.iter_mut().enumerate() {
        e.index = i as u64;
        e.prev = prev;
        let b = e.encode().unwrap();
        prev = leaf_hash(&b);
        tree.append(&b);
        bytes.push(b);
    }
    let origin = checkpoint::Origin::new(&log.origin).unwrap();
    let note = sign_checkpoint(
        &Checkpoint::new(origin.clone(), tree.size, tree.root()),
        &log.node_key,
    );
    let cp = checkpoint::open(note.as_bytes(), &origin, &log.node_key.verifier_key()).unwrap();
    let mut auditor = Auditor::new(&log.origin, Registry::default());
    for b in &bytes {
        auditor.feed(b)?;
    }
    auditor.finish(&cp)
}

fn position(log: &Log, pred: impl Fn(&Derived) -> bool) -> usize {
    log.entries
        .iter()
        .position(|e| matches!(&e.body, Body::Derived(d) if pred(d)))
        .expect("record present")
}

fn index_of(v: &Violation) -> u64 {
    match v {
        Violation::Decode { index, .. }
        | Violation::WrongIndex { index, .. }
        | Violation::BrokenChain { index, .. }
        | Violation::TimeWentBack { index, .. }
        | Violation::NotAdmissible { index, .. }
        | Violation::Replay { index, .. }
        | Violation::BadSignature { index, .. }
        | Violation::UnexpectedDerived { index }
        | Violation::MissingDerived { index, .. }
        | Violation::DerivedMismatch { index, .. } => *index,
        Violation::RootMismatch { size, .. } | Violation::TooShort { size, .. } => *size,
    }
}

#[test]
fn untampered_log_audits_clean() {
    let log = clean_log();
    let s = forge_and_audit(&log, log.entries.clone()).expect("clean");
    assert!(s.derived >= 8, "{s:?}");
}

#[test]
fn changed_score_delta_is_named() {
    let log = clean_log();
    let i = position(&log, |d| matches!(d, Derived::ScoreChanged { .. }));
    let mut entries = log.entries.clone();
    if let Body::Derived(Derived::ScoreChanged { delta, total, .. }) = &mut entries[i].body {
        *delta = -5;
        *total = 995;
    }
    let v = forge_and_audit(&log, entries).unwrap_err();
    assert!(matches!(v, Violation::DerivedMismatch { .. }), "{v}");
    assert_eq!(index_of(&v), i as u64, "{v}");
}

#[test]
fn dropped_derived_record_is_named() {
    let log = clean_log();
    let i = position(&log, |d| matches!(d, Derived::DemandNoticePublished { .. }));
    let mut entries = log.entries.clone();
    entries.remove(i);
    let v = forge_and_audit(&log, entries).unwrap_err();
    assert_eq!(index_of(&v), i as u64, "{v}");
}

#[test]
fn forged_derived_record_is_named() {
    let log = clean_log();
    let i = position(&log, |d| matches!(d, Derived::ListChanged { .. }));
    let mut entries = log.entries.clone();
    let mut forged = entries[i].clone();
    forged.body = Body::Derived(Derived::ListChanged {
        entity: lvyue_ledger::types::Subject::Org(
            lvyue_ledger::uscc::Uscc::parse(&uscc(1)).unwrap(),
        ),
        list: lvyue_ledger::record::ListKind::Red,
        listed: true,
        reason: lvyue_ledger::types::Text::new("red list criteria met").unwrap(),
        cause: 0,
    });
    entries.insert(i + 1, forged);
    let v = forge_and_audit(&log, entries).unwrap_err();
    assert_eq!(index_of(&v), i as u64 + 1, "{v}");
}

#[test]
fn deleted_and_swapped_submissions_are_named() {
    let log = clean_log();
    // The department's key registration (entry 1) deleted: its first filing,
    // now at index 3 after re-chaining, is signed by an unknown key.
    let mut entries = log.entries.clone();
    entries.remove(1);
    let v = forge_and_audit(&log, entries).unwrap_err();
    assert!(
        matches!(v, Violation::NotAdmissible { index: 3, .. }),
        "{v}"
    );
    assert!(v.to_string().contains("unknown key dept"), "{v}");

    // The two filings swapped: the derived records name the wrong causes.
    let filings: Vec<usize> = log
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(&e.body, Body::Submitted(s) if s.payload.event.kind() == "contract_filed"))
        .map(|(i, _)| i)
        .collect();
    let mut entries = log.entries.clone();
    entries.swap(filings[0], filings[1]);
    let v = forge_and_audit(&log, entries).unwrap_err();
    // The first derived record after the filings (a reminder) names the wrong contract.
    assert!(matches!(v, Violation::DerivedMismatch { .. }), "{v}");
    assert_eq!(index_of(&v), filings[1] as u64 + 1, "{v}");
}

#[test]
fn rule_set_changed_after_the_fact_is_named() {
    let log = clean_log();
    let mut entries = log.entries.clone();
    // Genesis re-signed by the node key with a milder full-default deduction.
    let Body::Submitted(genesis) = &mut entries[0].body else {
        panic!()
    };
    if let Event::Genesis { rules, .. } = &mut genesis.payload.event {
        rules.full_default_delta = -5;
    }
    let msg = genesis.payload.signed_message(&log.origin).unwrap();
    genesis.signature = log.node_key.sign(&msg);
    let v = forge_and_audit(&log, entries).unwrap_err();
    let first_score = position(&log, |d| matches!(d, Derived::ScoreChanged { .. }));
    assert!(matches!(v, Violation::DerivedMismatch { .. }), "{v}");
    assert_eq!(index_of(&v), first_score as u64, "{v}");
}

#[test]
fn record_signed_by_a_revoked_key_is_named() {
    let log = clean_log();
    let mut entries = log.entries.clone();
    // The revoked key signs one more record, which the forger appends.
    let event = Event::FilingAcknowledged {
        contract: lvyue_ledger::types::ContractId::new("R-1").unwrap(),
        party: lvyue_ledger::types::Subject::Org(
            lvyue_ledger::uscc::Uscc::parse(&uscc(2)).unwrap(),
        ),
    };
    let signed = lvyue_node::node::sign_event(&log.revoked, &log.origin, event, 99).unwrap();
    let t = entries.last().unwrap().time_ms;
    entries.push(Entry {
        index: 0,
        time_ms: t,
        prev: Hash::ZERO,
        body: Body::Submitted(signed),
    });
    let v = forge_and_audit(&log, entries.clone()).unwrap_err();
    assert!(
        matches!(v, Violation::NotAdmissible { .. }) && v.to_string().contains("revoked"),
        "{v}"
    );
    assert_eq!(index_of(&v), entries.len() as u64 - 1, "{v}");
}

#[test]
fn altered_signature_is_named_even_when_rechained_and_resigned() {
    let log = clean_log();
    let mut entries = log.entries.clone();
    let i = entries
        .iter()
        .rposition(|e| matches!(e.body, Body::Submitted(_)))
        .unwrap()
        - 1;
    let i = (1..=i)
        .rev()
        .find(|&k| matches!(entries[k].body, Body::Submitted(_)))
        .unwrap();
    let Body::Submitted(s) = &mut entries[i].body else {
        unreachable!()
    };
    s.signature[10] ^= 1;
    let v = forge_and_audit(&log, entries).unwrap_err();
    assert!(matches!(v, Violation::BadSignature { .. }), "{v}");
    assert_eq!(index_of(&v), i as u64, "{v}");
}
