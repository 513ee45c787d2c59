//! The `lvyue-verify` binary's exit codes: 0 verified · 1 violation · 2 could not check.

use lvyue_ledger::checkpoint::{Checkpoint, Origin, sign_checkpoint};
use lvyue_ledger::event::Event;
use lvyue_ledger::keys::{KeyName, Signer};
use lvyue_ledger::record::{Body, Entry, KeyRef, Payload, Signed};
use lvyue_ledger::tlog::{MemoryTree, prove_record};
use lvyue_ledger::tlog_proof::TlogProof;
use lvyue_ledger::types::SignerName;
use std::process::Command;

const ORIGIN: &str = "lvyue.example/cli";

/// A three-entry log; returns the node key and, for entry 1, its bytes and tlog-proof text.
fn log() -> (Signer, Vec<u8>, String) {
    let node = Signer::from_seed(KeyName::new(ORIGIN).unwrap(), [4; 32]);
    let mut tree = MemoryTree::new();
    let mut prev = lvyue_ledger::Hash::ZERO;
    let mut all = Vec::new();
    for i in 0..3u64 {
        let payload = Payload {
            signer: KeyRef {
                name: SignerName::new(ORIGIN).unwrap(),
                id: node.id(),
            },
            nonce: i,
            event: Event::Tick {},
        };
        let signature = node.sign(&payload.signed_message(ORIGIN).unwrap());
        let entry = Entry {
            index: i,
            time_ms: 1_767_225_600_000,
            prev,
            body: Body::Submitted(Signed { payload, signature }),
        };
        let bytes = entry.encode().unwrap();
        prev = lvyue_ledger::hash::leaf_hash(&bytes);
        tree.append(&bytes);
        all.push(bytes);
    }
    let note = sign_checkpoint(
        &Checkpoint::new(Origin::new(ORIGIN).unwrap(), 3, tree.root()),
        &node,
    );
    let proof = TlogProof::new(
        None,
        1,
        prove_record(3, 1, &tree).unwrap(),
        note.into_bytes(),
    )
    .unwrap();
    (node, all[1].clone(), proof.to_text())
}

fn run(args: &[&str]) -> i32 {
    let out = Command::new(env!("CARGO_BIN_EXE_lvyue-verify"))
        .args(args)
        .output()
        .expect("run lvyue-verify");
    out.status.code().expect("exit code")
}

#[test]
fn exit_codes_of_offline_receipt_checks() {
    let (node, entry, proof) = log();
    let dir = tempfile::tempdir().unwrap();
    let (p, e) = (dir.path().join("r.tlog-proof"), dir.path().join("r.entry"));
    std::fs::write(&p, &proof).unwrap();
    std::fs::write(&e, &entry).unwrap();
    let vkey = node.verifier_key().to_string();
    let (p, e) = (p.to_str().unwrap(), e.to_str().unwrap());
    assert_eq!(run(&["receipt", p, "--entry", e, "--vkey", &vkey]), 0);

    let mut bad = entry.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let b = dir.path().join("bad.entry");
    std::fs::write(&b, &bad).unwrap();
    assert_eq!(
        run(&[
            "receipt",
            p,
            "--entry",
            b.to_str().unwrap(),
            "--vkey",
            &vkey
        ]),
        1
    );

    assert_eq!(
        run(&[
            "receipt",
            "/nonexistent.tlog-proof",
            "--entry",
            e,
            "--vkey",
            &vkey
        ]),
        2
    );
    assert_eq!(run(&["receipt", p, "--entry", e, "--vkey", "not-a-key"]), 2);
}
