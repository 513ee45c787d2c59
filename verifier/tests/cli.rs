//! The `lvyue-verify` binary's exit codes: 0 verified · 1 violation · 2 could not check.

use lvyue_ledger::checkpoint::{Checkpoint, Origin, sign_checkpoint};
use lvyue_ledger::event::Event;
use lvyue_ledger::keys::{KeyName, Signer};
use lvyue_ledger::record::{Body, Entry, KeyRef, Payload, Signed};
use lvyue_ledger::tlog::{MemoryTree, prove_record};
use lvyue_ledger::tlog_proof::TlogProof;
use lvyue_ledger::types::SignerName;
use std::path::Path;
use std::process::Command;

mod support;

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
    run_full(args).0
}

/// Exit code, stdout and stderr.
fn run_full(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lvyue-verify"))
        .args(args)
        .output()
        .expect("run lvyue-verify");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs with `--json`: exit code and the one JSON object on stdout.
fn run_json(args: &[&str]) -> (i32, serde_json::Value) {
    let (code, out, err) = run_full(&[&["--json"], args].concat());
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out:?} (stderr {err:?})"));
    assert_eq!(v["exit"], code, "{v}");
    assert_eq!(v["ok"], code == 0, "{v}");
    (code, v)
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

/// A node log exported twice: at size 4 (`old`) and at size 6 (`new`).
fn exported_log(root: &Path) -> String {
    let mut log = support::TestLog::open(&root.join("node"), 1024).unwrap();
    for i in 0..5 {
        let (k, holder) = support::market_key(i);
        log.register(&k, holder).unwrap();
        if i == 2 {
            assert_eq!(
                support::export(&log.view().unwrap(), &root.join("old")),
                Ok(4)
            );
        }
    }
    assert_eq!(
        support::export(&log.view().unwrap(), &root.join("new")),
        Ok(6)
    );
    log.node.sequencer.stop();
    log.node.vkey.to_string()
}

#[test]
fn exit_codes_and_json_of_folder_audits() {
    let tmp = tempfile::tempdir().unwrap();
    let vkey = exported_log(tmp.path());
    let dir = |d: &str| tmp.path().join(d).to_str().unwrap().to_string();
    let (old, new) = (dir("old"), dir("new"));
    let state = dir("audit.state");

    assert_eq!(run(&["audit", "--log", &new, "--vkey", &vkey]), 0);
    let (code, v) = run_json(&["audit", "--log", &new, "--vkey", &vkey]);
    assert_eq!(code, 0);
    assert_eq!(
        (v["size"].as_u64(), v["replayed"].as_u64()),
        (Some(6), Some(6))
    );
    assert!(v["first_bad_index"].is_null(), "{v}");

    // Incremental: the older export, then the newer one replays only 2 entries.
    let (code, v) = run_json(&["audit", "--log", &old, "--vkey", &vkey, "--state", &state]);
    assert_eq!((code, v["replayed"].as_u64()), (0, Some(4)), "{v}");
    let (code, v) = run_json(&["audit", "--log", &new, "--vkey", &vkey, "--state", &state]);
    assert_eq!(
        (code, v["from"].as_u64(), v["replayed"].as_u64()),
        (0, Some(4), Some(2)),
        "{v}"
    );
    // The older export after the newer one: a rollback, proven.
    let (code, v) = run_json(&["audit", "--log", &old, "--vkey", &vkey, "--state", &state]);
    assert_eq!(code, 1, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("rolled back"),
        "{v}"
    );
    assert!(v["misbehaviour"]["old_checkpoint"].is_string(), "{v}");

    // Consistency between the two kept checkpoints, proof from the folder's tiles.
    let (oc, nc) = (format!("{old}/checkpoint"), format!("{new}/checkpoint"));
    let (code, v) = run_json(&["consistency", &oc, &nc, "--log", &new, "--vkey", &vkey]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        run(&["consistency", &nc, &oc, "--log", &new, "--vkey", &vkey]),
        1
    );

    // A flipped byte in entry 3: exit 1 naming the index, expected and found.
    let bundle = tmp.path().join("new/tile/entries/000.p/6");
    let mut data = std::fs::read(&bundle).unwrap();
    let mut at = 0;
    for _ in 0..3 {
        at += 2 + usize::from(u16::from_be_bytes([data[at], data[at + 1]]));
    }
    data[at + 30] ^= 1;
    std::fs::write(&bundle, &data).unwrap();
    let (code, v) = run_json(&["audit", "--log", &new, "--vkey", &vkey]);
    assert_eq!((code, v["first_bad_index"].as_u64()), (1, Some(3)), "{v}");
    assert!(v["expected"].is_string() && v["found"].is_string(), "{v}");
    let (code, _, err) = run_full(&["audit", "--log", &new, "--vkey", &vkey]);
    assert_eq!(code, 1);
    assert!(
        err.contains("first bad index: 3") && err.contains("expected:") && err.contains("found:"),
        "{err}"
    );

    // Missing folder or files: could not check.
    let gone = dir("no-such-export");
    assert_eq!(run(&["audit", "--log", &gone, "--vkey", &vkey]), 2);
    std::fs::remove_file(&bundle).unwrap();
    let (code, v) = run_json(&["audit", "--log", &new, "--vkey", &vkey]);
    assert_eq!(code, 2, "{v}");
    assert!(v["message"].as_str().unwrap().contains("000.p/6"), "{v}");
    // An unreachable node: could not check.
    let (code, _) = run_json(&["audit", "--log", "http://127.0.0.1:9", "--vkey", &vkey]);
    assert_eq!(code, 2);
}
