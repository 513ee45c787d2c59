//! Tampered exports against a clean demo-sized log. A forger holding the
//! node's own key re-signs altered exports, so every signature verifies:
//! the verifier must still prove the alteration, by recomputing the
//! disclosure from the log and the credit report's summary from its
//! proven records. The untampered exports verify.

use lvyue_ledger::book::Disclosure;
use lvyue_ledger::export::{self, CreditReport, SignedExport};
use lvyue_ledger::keys::Signer;
use lvyue_ledger::record::{Body, Derived, Entry};
use lvyue_ledger::store::{Store, StoreConfig};
use lvyue_ledger::types::{Date, Subject};
use lvyue_node::demo::{self, DemoOptions};
use lvyue_node::sequencer::SequencerConfig;
use lvyue_node::server::ServerConfig;
use lvyue_tests::TestNode;
use lvyue_verifier::exports::{check_disclosure, check_report};
use lvyue_verifier::{Failure, Source};

/// A small demo city served by a node, and the node's key (the forger's).
fn demo_node() -> (TestNode, Signer, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("city");
    let opts = DemoOptions {
        firms: 30,
        contracts: 40,
        days: 450,
        start: Date::parse("2025-01-01").expect("date"),
        ..DemoOptions::default()
    };
    demo::build(&path, &opts).expect("demo builds");
    let end = {
        let store = Store::open(&path.join("store"), &StoreConfig::default()).expect("store");
        store.head().time_ms
    };
    let n = TestNode::reopen(
        &path,
        ServerConfig::default(),
        SequencerConfig::default(),
        end,
    );
    let node_key = Signer::read_file(&path.join("keys/node.key")).expect("node key");
    (n, node_key, dir)
}

fn disclosure(n: &TestNode) -> SignedExport<Disclosure> {
    let (status, body) = n.get("/v1/disclosure");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("export json")
}

fn resign<T: export::ExportContent + Clone + serde::Serialize>(
    e: &SignedExport<T>,
    content: T,
    key: &Signer,
) -> Vec<u8> {
    let forged = export::sign(content, e.checkpoint.clone(), key).expect("sign");
    serde_json::to_vec(&forged).expect("json")
}

fn violation(r: Result<impl std::fmt::Debug, Failure>) -> String {
    match r {
        Err(Failure::Violation(p)) => format!("{p}"),
        other => panic!("expected a proven violation, got {other:?}"),
    }
}

#[test]
fn a_resigned_disclosure_with_a_black_listing_removed_is_proven_altered() {
    let (n, key, _dir) = demo_node();
    let source = Source::parse(&n.url);
    let clean = disclosure(&n);
    assert!(
        !clean.content.black_list.is_empty(),
        "the demo black-lists someone"
    );
    assert!(
        !clean.content.red_list.is_empty(),
        "the demo red-lists someone"
    );
    let json = serde_json::to_vec(&clean).unwrap();
    let csv = clean.content.to_csv();
    let ok = check_disclosure(
        &json,
        Some(csv.as_bytes()),
        &source,
        &n.node.vkey,
        &mut |_, _| {},
    )
    .expect("the untampered disclosure verifies");
    assert_eq!(ok.black_list, clean.content.black_list.len());

    // Each forgery below is re-signed with the node's own key; the
    // recomputation from the log must still prove it.
    let rejected = |forged: &[u8]| {
        violation(check_disclosure(
            forged,
            None,
            &source,
            &n.node.vkey,
            &mut |_, _| {},
        ))
    };

    // A black-listed entity removed, re-signed with the node's key.
    let mut content = clean.content.clone();
    let removed = content.black_list.remove(0);
    let forged = resign(&clean, content, &key);
    let msg = rejected(&forged);
    assert!(msg.contains("black list: missing"), "{msg}");
    assert!(msg.contains(&removed.entity.to_string()), "{msg}");

    // A score of a listed entity raised.
    let mut content = clean.content.clone();
    content.red_list[0].score += 50;
    let who = content.red_list[0].entity.to_string();
    let forged = resign(&clean, content, &key);
    let msg = rejected(&forged);
    assert!(msg.contains("red list") && msg.contains(&who), "{msg}");

    // An entity that is not on the red list added to it.
    let mut content = clean.content.clone();
    let mut fake = content.red_list[0].clone();
    fake.entity = Subject::Org(lvyue_ledger::uscc::Uscc::parse(&lvyue_tests::uscc(999)).unwrap());
    content.red_list.push(fake);
    let forged = resign(&clean, content, &key);
    let msg = rejected(&forged);
    assert!(msg.contains("not in the log"), "{msg}");

    // A demand notice removed.
    let mut content = clean.content.clone();
    let gone = content.demand_notices.remove(0);
    let forged = resign(&clean, content, &key);
    let msg = rejected(&forged);
    assert!(msg.contains(&format!("notice {}", gone.index)), "{msg}");

    // The same set of items, but not the list the log gives: a demand
    // notice repeated, two red listings swapped, a black listing repeated.
    let mut content = clean.content.clone();
    content
        .demand_notices
        .push(content.demand_notices[0].clone());
    let msg = rejected(&resign(&clean, content, &key));
    assert!(
        msg.contains("demand notices: entries out of order or repeated"),
        "{msg}"
    );
    // Two red listings swapped.
    assert!(clean.content.red_list.len() >= 2, "the demo red-lists two");
    let mut content = clean.content.clone();
    content.red_list.swap(0, 1);
    let msg = rejected(&resign(&clean, content, &key));
    assert!(
        msg.contains("red list: entries out of order or repeated"),
        "{msg}"
    );
    // A black listing repeated.
    let mut content = clean.content.clone();
    content.black_list.push(content.black_list[0].clone());
    let msg = rejected(&resign(&clean, content, &key));
    assert!(
        msg.contains("black list: entries out of order or repeated"),
        "{msg}"
    );

    // Unsigned edits fail on the digest; a CSV that is not the JSON's rendering fails.
    let mut edited = clean.clone();
    edited.content.black_list.clear();
    let msg = violation(check_disclosure(
        &serde_json::to_vec(&edited).unwrap(),
        None,
        &source,
        &n.node.vkey,
        &mut |_, _| {},
    ));
    assert!(msg.contains("digest"), "{msg}");
    let msg = violation(check_disclosure(
        &json,
        Some(csv.replacen("black,", "red,", 1).as_bytes()),
        &source,
        &n.node.vkey,
        &mut |_, _| {},
    ));
    assert!(msg.contains("CSV"), "{msg}");
    n.audit();
}

#[test]
fn a_resigned_credit_report_with_a_raised_score_is_proven_altered() {
    let (n, key, _dir) = demo_node();
    let clean = disclosure(&n);
    let who = match &clean.content.black_list[0].entity {
        Subject::Org(u) => u.to_string(),
        other => panic!("black-listed person {other}"),
    };
    let (status, body) = n.get(&format!("/v1/entities/{who}/report"));
    assert_eq!(status, 200, "{body}");
    let report: SignedExport<CreditReport> = serde_json::from_str(&body).expect("report");
    let ok = check_report(body.as_bytes(), &n.node.vkey).expect("the clean report verifies");
    assert_eq!(ok.score, clean.content.black_list[0].score);
    assert!(report.content.summary.black_since.is_some());

    // The score raised and re-signed.
    let mut content = report.content.clone();
    content.summary.score += 100;
    let msg = violation(check_report(&resign(&report, content, &key), &n.node.vkey));
    assert!(msg.contains("score"), "{msg}");

    // The black listing hidden and re-signed.
    let mut content = report.content.clone();
    content.summary.black_since = None;
    let msg = violation(check_report(&resign(&report, content, &key), &n.node.vkey));
    assert!(msg.contains("black_since"), "{msg}");

    // A score change inside a record altered: its inclusion proof fails at its index.
    let mut content = report.content.clone();
    let (pos, index) = content
        .records
        .iter()
        .enumerate()
        .find_map(|(k, r)| {
            let e = Entry::decode(&r.entry).ok()?;
            matches!(e.body, Body::Derived(Derived::ScoreChanged { .. })).then_some((k, r.index))
        })
        .expect("a score change");
    let mut e = Entry::decode(&content.records[pos].entry).unwrap();
    if let Body::Derived(Derived::ScoreChanged { delta, total, .. }) = &mut e.body {
        *delta += 20;
        *total += 20;
    }
    content.records[pos].entry = e.encode().unwrap();
    let msg = violation(check_report(&resign(&report, content, &key), &n.node.vkey));
    assert!(msg.contains(&format!("record {index}")), "{msg}");
    assert!(msg.contains("inclusion proof"), "{msg}");
    n.audit();
}
