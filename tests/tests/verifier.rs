//! The standalone verifier against a real node: offline receipts and a full
//! audit over HTTP (checkpoint + entry bundles).

use lvyue_ledger::event::Event;
use lvyue_ledger::keys::{KeyName, Signer};
use lvyue_ledger::types::Role;
use lvyue_tests::{TestNode, uscc};
use lvyue_verifier::Failure;

fn receipt_json(n: &TestNode) -> String {
    let firm = Signer::generate(KeyName::new("firm-r").unwrap()).unwrap();
    let reg = lvyue_tests::registration(&firm, Role::MarketEntity, &uscc(7));
    let (status, body) = n.submit(&n.sign(&n.office, Event::KeyRegistered { key: reg }));
    assert_eq!(status, 200, "{body}");
    body.to_string()
}

#[test]
fn receipt_verifies_offline_and_tampering_is_a_violation() {
    let n = TestNode::start();
    let json = receipt_json(&n);
    let cp = lvyue_verifier::verify_receipt(&json, &n.node.vkey).expect("receipt verifies");
    assert_eq!(cp.size(), 2);

    // A flipped bit in the entry: the proof no longer holds.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let entry = v["entry"].as_str().unwrap().to_string();
    let mut bytes = base64_decode(&entry);
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    v["entry"] = base64_encode(&bytes).into();
    let err = lvyue_verifier::verify_receipt(&v.to_string(), &n.node.vkey).unwrap_err();
    assert!(matches!(err, Failure::Violation(_)), "{err}");
    assert_eq!(err.exit_code(), 1);

    // Another log's key: the checkpoint does not open.
    let other = Signer::generate(KeyName::new(n.node.vkey.name().as_str()).unwrap()).unwrap();
    let err = lvyue_verifier::verify_receipt(&json, &other.verifier_key()).unwrap_err();
    assert_eq!(err.exit_code(), 1, "{err}");

    // Not a receipt at all: could not check.
    let err = lvyue_verifier::verify_receipt("{}", &n.node.vkey).unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
}

#[test]
fn audit_over_http_replays_every_entry() {
    let n = TestNode::start();
    for i in 0..300 {
        n.register(&format!("firm-{i}"), Role::MarketEntity, &uscc(i));
    }
    let summary = lvyue_verifier::audit_url(&n.url, &n.node.vkey, |_, _| {}).expect("audit");
    assert_eq!(summary.size, 301);
    assert_eq!(summary.submitted, 301);
    assert_eq!(summary.root, n.audit().root);
}

#[test]
fn audit_of_an_unreachable_node_could_not_check() {
    let n = TestNode::start();
    let vkey = n.node.vkey.clone();
    let err = lvyue_verifier::audit_url("http://127.0.0.1:9", &vkey, |_, _| {}).unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn consistency_between_kept_checkpoints_and_proofs_of_misbehaviour() {
    use lvyue_ledger::checkpoint::{Checkpoint, sign_checkpoint};
    let n = TestNode::start();
    let old = n.get("/checkpoint").1;
    for i in 0..5 {
        n.register(&format!("c-{i}"), Role::MarketEntity, &uscc(100 + i));
    }
    let new = n.get("/checkpoint").1;
    let fetch = |a, b| lvyue_verifier::fetch_consistency_proof(&n.url, a, b);
    let ok = lvyue_verifier::check_consistency(old.as_bytes(), new.as_bytes(), &n.node.vkey, fetch)
        .expect("consistent");
    assert!(ok.contains("size 6 extends size 1"), "{ok}");

    // A forger with the node key signs another tree of the same size: a fork.
    let node_key =
        lvyue_ledger::keys::Signer::read_file(&n.path.as_path().join("keys/node.key")).unwrap();
    let forged = sign_checkpoint(
        &Checkpoint::new(n.node.origin.clone(), 6, lvyue_ledger::Hash([1; 32])),
        &node_key,
    );
    let err =
        lvyue_verifier::check_consistency(new.as_bytes(), forged.as_bytes(), &n.node.vkey, fetch)
            .unwrap_err();
    assert_eq!(err.exit_code(), 1);
    let text = err.to_string();
    assert!(
        text.contains("fork") && text.contains(&new) && text.contains(&forged),
        "{text}"
    );

    // A newer checkpoint smaller than the one kept: a rollback.
    let err =
        lvyue_verifier::check_consistency(new.as_bytes(), old.as_bytes(), &n.node.vkey, fetch)
            .unwrap_err();
    assert!(err.to_string().contains("rolled back"), "{err}");

    // A forged larger tree that does not extend the kept one: the node's proof fails.
    let forged = sign_checkpoint(
        &Checkpoint::new(n.node.origin.clone(), 6, lvyue_ledger::Hash([2; 32])),
        &node_key,
    );
    let err =
        lvyue_verifier::check_consistency(old.as_bytes(), forged.as_bytes(), &n.node.vkey, fetch)
            .unwrap_err();
    assert_eq!(err.exit_code(), 1, "{err}");
    assert!(err.to_string().contains("does not extend"), "{err}");
}
