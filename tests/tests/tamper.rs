//! Tamper test: a flipped byte in a stored entry, or in a stored Merkle
//! hash, is caught by the audit, which names the index.

use lvyue_ledger::store::{Store, StoreAuditError, StoreConfig};
use lvyue_ledger::types::Role;
use lvyue_tests::{TestNode, uscc};

/// A stopped node with `n` registered keys (n + 1 entries), and its store path.
fn log_with_entries(n: u32) -> (TestNode, std::path::PathBuf) {
    let mut node = TestNode::start();
    for i in 0..n {
        node.register(&format!("firm-{i}"), Role::MarketEntity, &uscc(i));
    }
    node.audit();
    let origin = node.node.origin.clone();
    let vkey = node.node.vkey.clone();
    node.stop();
    let path = node.path.as_path().join("store");
    // The untampered store audits clean.
    let store = Store::open(&path, &StoreConfig::default()).unwrap();
    store.view().audit(&origin, &vkey).expect("clean log");
    (node, path)
}

#[test]
fn flipped_entry_byte_is_named() {
    let (node, path) = log_with_entries(12);
    let store = Store::open(&path, &StoreConfig::default()).unwrap();
    for (index, offset) in [(5u64, 40usize), (7, 100), (3, 9)] {
        let original = store.view().entry(index).unwrap().unwrap().to_vec();
        let mut bad = original.clone();
        bad[offset] ^= 0x20;
        store.tamper_entry(index, &bad).unwrap();
        let err = store
            .view()
            .audit(&node.node.origin, &node.node.vkey)
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("entry {index}:")),
            "flip in entry {index} at {offset}: {msg}"
        );
        store.tamper_entry(index, &original).unwrap();
    }
    store
        .view()
        .audit(&node.node.origin, &node.node.vkey)
        .expect("restored log is clean");
}

#[test]
fn flipped_stored_hash_is_named() {
    let (node, path) = log_with_entries(12);
    let store = Store::open(&path, &StoreConfig::default()).unwrap();
    // Stored hash 2 is the level-1 hash of leaves 0 and 1; 6 of leaves 2 and 3.
    for index in [2u64, 6] {
        let original = store.view().stored_hash(index).unwrap().unwrap();
        let mut bad = original;
        bad.0[0] ^= 1;
        store.tamper_hash(index, &bad).unwrap();
        match store.view().audit(&node.node.origin, &node.node.vkey) {
            Err(StoreAuditError::StoredHash { index: i, .. }) => assert_eq!(i, index),
            other => panic!("tampered stored hash {index} not named: {other:?}"),
        }
        store.tamper_hash(index, &original).unwrap();
    }
    // Stored hash 4 is the leaf hash of entry 3: reported as entry 3 altered.
    let original = store.view().stored_hash(4).unwrap().unwrap();
    store.tamper_hash(4, &lvyue_ledger::Hash::ZERO).unwrap();
    let err = store
        .view()
        .audit(&node.node.origin, &node.node.vkey)
        .unwrap_err();
    assert!(err.to_string().starts_with("entry 3:"), "{err}");
    store.tamper_hash(4, &original).unwrap();
}

#[test]
fn flipped_byte_in_last_entry_stops_the_store_from_opening() {
    let (_node, path) = log_with_entries(3);
    {
        let store = Store::open(&path, &StoreConfig::default()).unwrap();
        let mut bad = store.view().entry(3).unwrap().unwrap().to_vec();
        bad[20] ^= 1;
        store.tamper_entry(3, &bad).unwrap();
    }
    let err = Store::open(&path, &StoreConfig::default())
        .err()
        .expect("tampered head entry refused");
    assert!(err.to_string().contains("entry 3"), "{err}");
}
