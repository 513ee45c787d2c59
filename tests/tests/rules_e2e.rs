//! The rules engine through a real node: derived records land right after
//! their cause in the same durable batch, deadlines fire on a `Tick` when no
//! traffic comes, the engine state survives restarts (snapshot + replay
//! equals a fresh replay), and the whole log — derived records included —
//! audits clean.

use lvyue_ledger::admission::Registry;
use lvyue_ledger::engine::Engine;
use lvyue_ledger::event::Event;
use lvyue_ledger::record::{Body, Derived, Entry};
use lvyue_ledger::store::{Store, StoreConfig};
use lvyue_ledger::types::Role;
use lvyue_node::sequencer::SequencerConfig;
use lvyue_node::server::ServerConfig;
use lvyue_tests::{T0, TestNode, uscc};
use serde_json::{Value, json};
use std::time::Duration;

const DAY: i64 = 86_400_000;

fn filing(id: &str, obligee: &str, obligor: &str, due: &str) -> Event {
    serde_json::from_value(json!({
        "type": "contract_filed",
        "contract": {
            "id": id, "category": "government_procurement", "name": "办公设备采购",
            "parties": [
                {"subject": {"org": obligee}, "name": "宝鸡市某局", "role": "甲方"},
                {"subject": {"org": obligor}, "name": "某供应商", "role": "乙方"}
            ],
            "summary": "采购", "amount": 500_000, "signed": "2025-12-01",
            "milestones": [{"number": 1, "obligor": {"org": obligor}, "obligee": {"org": obligee},
                "due": due, "description": "交付", "amount": 500_000}],
            "document_sha256": null, "source": "department"
        }
    }))
    .expect("filing json")
}

/// Derived records in the log, in order, with their indexes.
fn derived(n: &TestNode) -> Vec<(u64, Derived)> {
    let view = n.node.sequencer.view().expect("running");
    view.entries(0, view.head().size)
        .map(|r| {
            let (i, bytes) = r.unwrap();
            (i, Entry::decode(&bytes).unwrap())
        })
        .filter_map(|(i, e)| match e.body {
            Body::Derived(d) => Some((i, d)),
            Body::Submitted(_) => None,
        })
        .collect()
}

fn wait_for(n: &TestNode, pred: impl Fn(&TestNode) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !pred(n) {
        assert!(
            std::time::Instant::now() < deadline,
            "condition not reached"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn quick_ticks() -> SequencerConfig {
    SequencerConfig {
        tick_interval: Duration::from_millis(20),
        snapshot_every: 7,
        ..SequencerConfig::default()
    }
}

#[test]
fn default_after_grace_is_appended_on_a_tick_and_audits_clean() {
    let n = TestNode::start_with(ServerConfig::default(), quick_ticks());
    let dept = n.register("dept", Role::SourceUnit, &uscc(1));
    let (status, body) = n.submit(&n.sign(&dept, filing("BJ-1", &uscc(1), &uscc(2), "2026-01-10")));
    assert_eq!(status, 200, "{body}");
    let filed_at = body["index"].as_u64().unwrap();

    // No traffic: time passes the 1-day reminder, the due date and the grace period.
    n.clock.set(T0 + 40 * DAY);
    wait_for(&n, |n| {
        derived(n)
            .iter()
            .any(|(_, d)| matches!(d, Derived::ScoreChanged { .. }))
    });
    let records: Vec<Derived> = derived(&n).into_iter().map(|(_, d)| d).collect();
    let kinds: Vec<String> = records
        .iter()
        .map(|d| {
            serde_json::to_value(d).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "reminder_issued",
            "reminder_issued",
            "overdue_warning",
            "default_determined",
            "milestone_closed",
            "score_changed"
        ],
        "{records:#?}"
    );
    let Derived::ScoreChanged {
        delta,
        total,
        cause,
        ..
    } = &records[5]
    else {
        unreachable!()
    };
    assert_eq!((*delta, *total), (-20, 980));
    let Derived::DefaultDetermined {
        cause: default_cause,
        ..
    } = &records[3]
    else {
        unreachable!()
    };
    assert_eq!(*default_cause, filed_at);
    assert!(*cause > filed_at);

    // The derived records sit right before the node's Tick, in one batch.
    let view = n.node.sequencer.view().unwrap();
    let last = Entry::decode(&view.entry(view.head().size - 1).unwrap().unwrap()).unwrap();
    let Body::Submitted(tick) = last.body else {
        panic!("last entry is derived")
    };
    assert_eq!(tick.payload.event, Event::Tick {});
    assert_eq!(n.audit().derived, 6);
}

#[test]
fn rule_refusals_name_the_problem_and_append_nothing() {
    let n = TestNode::start();
    let dept = n.register("dept", Role::SourceUnit, &uscc(1));
    let rival = n.register("rival", Role::MarketEntity, &uscc(3));
    let size = n.size();
    // A market entity may not file a contract it is not party to.
    let (status, body) = n.submit(&n.sign(&rival, {
        let mut v: Value =
            serde_json::to_value(filing("X-1", &uscc(1), &uscc(2), "2026-03-01")).unwrap();
        v["contract"]["source"] = json!("self_filed");
        serde_json::from_value(v).unwrap()
    }));
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("not_allowed")),
        "{body}"
    );
    // Confirming a milestone of an unknown contract.
    let confirm = Event::PerformanceConfirmed {
        contract: lvyue_ledger::types::ContractId::new("NOPE").unwrap(),
        milestone: 1,
        performed: lvyue_ledger::types::Date::parse("2026-01-01").unwrap(),
        evidence: None,
    };
    let (status, body) = n.submit(&n.sign(&dept, confirm));
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("unknown contract NOPE"),
        "{body}"
    );
    assert_eq!(n.size(), size);
    n.audit();
}

#[test]
fn engine_state_after_restart_equals_a_fresh_replay() {
    let mut n = TestNode::start_with(ServerConfig::default(), quick_ticks());
    let dept = n.register("dept", Role::SourceUnit, &uscc(1));
    for i in 0..12 {
        let (status, body) = n.submit(&n.sign(
            &dept,
            filing(&format!("C-{i}"), &uscc(1), &uscc(10 + i), "2026-01-20"),
        ));
        assert_eq!(status, 200, "{body}");
        n.clock.advance(DAY);
    }
    n.clock.set(T0 + 60 * DAY);
    wait_for(&n, |n| {
        derived(n)
            .iter()
            .filter(|(_, d)| matches!(d, Derived::DefaultDetermined { .. }))
            .count()
            == 12
    });
    n.audit();
    n.stop();

    let store = Store::open(&n.path.as_path().join("store"), &StoreConfig::default()).unwrap();
    let mut registry = Registry::default();
    for s in store.view().key_states().unwrap() {
        registry.restore(s).unwrap();
    }
    assert!(
        store.view().meta("engine").unwrap().is_some(),
        "a snapshot was written"
    );
    let persisted = lvyue_node::node::load_engine(&store, &registry).unwrap();
    let entries: Vec<Entry> = store
        .view()
        .entries(0, store.head().size)
        .map(|r| Entry::decode(&r.unwrap().1).unwrap())
        .collect();
    let mut fresh = Engine::new();
    for e in &entries {
        fresh.replay(e, &registry);
    }
    assert_eq!(fresh.next_index(), store.head().size);
    assert_eq!(persisted.snapshot().unwrap(), fresh.snapshot().unwrap());

    // A snapshot from the middle of the log, brought forward by replaying the rest.
    let mut half = Engine::new();
    for e in &entries[..entries.len() / 2] {
        half.replay(e, &registry);
    }
    store.put_meta("engine", &half.snapshot().unwrap()).unwrap();
    let resumed = lvyue_node::node::load_engine(&store, &registry).unwrap();
    assert_eq!(resumed.snapshot().unwrap(), fresh.snapshot().unwrap());
}
