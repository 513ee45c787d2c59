//! Graceful shutdown of `lvyue-node serve`: on SIGTERM the node stops
//! accepting, finishes its batch, snapshots the rules engine and closes
//! the store, exiting 0; everything acknowledged is in the reopened log.
//! Also: `demo` then `export --data` then the exported folder's checkpoint
//! names the same tree the node serves.

use lvyue_ledger::store::{Store, StoreConfig};
use std::process::Command;
use std::time::{Duration, Instant};

mod support;
use support::{BIN, Node, s};

#[test]
fn sigterm_finishes_the_batch_snapshots_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut node = Node::start(&data);
    let v: serde_json::Value = ureq::get(&format!("{}/healthz", node.url))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(v["status"], "ok");
    let size = v["size"].as_u64().unwrap();
    assert!(size >= 1, "genesis");
    // One acknowledged submission after start: a key registration by the office.
    let key = dir.path().join("firm.key");
    node.run(&["keygen", "--out", s(&key), "--name", "firm"])
        .ok();
    let office = node.office_key();
    node.run(&[
        "register",
        "--key",
        &office,
        "--holder-uscc",
        "91610300000000002M",
        "--holder-name",
        "某公司",
        "--role",
        "market_entity",
        "--key-file",
        s(&key),
    ])
    .ok();
    let size = size + 1;
    let status = Command::new("kill")
        .args(["-TERM", &node.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = node.child.try_wait().unwrap() {
            break status.code();
        }
        assert!(Instant::now() < deadline, "node did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(0), "a clean exit");
    // The folder lock is released and the engine snapshot is at the head.
    let store = Store::open(&data.join("store"), &StoreConfig::default()).expect("reopens");
    assert_eq!(store.head().size, size);
    let snapshot = store
        .view()
        .meta("engine")
        .unwrap()
        .expect("engine snapshot");
    let engine = lvyue_ledger::engine::Engine::restore(&snapshot).expect("snapshot decodes");
    assert_eq!(
        engine.next_index(),
        size,
        "the snapshot saved at shutdown is at the head"
    );
}

#[test]
fn demo_then_export_gives_an_offline_copy_of_the_served_tree() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let out = Command::new(BIN)
        .args(["demo", "--data", data.to_str().unwrap()])
        .args(["--firms", "30", "--contracts", "20", "--days", "450"])
        .output()
        .expect("demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("summary json");
    let entries = summary["entries"].as_u64().expect("entries in summary");
    let exp = dir.path().join("export");
    let out = Command::new(BIN)
        .args(["--json", "export", "--data", data.to_str().unwrap()])
        .args(["--dir", exp.to_str().unwrap()])
        .output()
        .expect("export");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(s["size"].as_u64(), Some(entries));
    let cp = std::fs::read_to_string(exp.join("checkpoint")).unwrap();
    assert_eq!(
        cp.lines().nth(1),
        Some(entries.to_string().as_str()),
        "{cp}"
    );
    assert_eq!(s["entry_bundles"].as_u64(), Some(entries.div_ceil(256)));
    assert!(exp.join("disclosure.json").exists() && exp.join("disclosure.csv").exists());
}
