//! Crash test: SIGKILL the node while clients submit; after restart every
//! entry whose receipt was returned is present, the head is consistent and
//! the whole log re-verifies.

use lvyue_ledger::checkpoint::Origin;
use lvyue_ledger::event::{Event, KeyRegistration};
use lvyue_ledger::keys::{KeyName, Signer};
use lvyue_ledger::store::{Store, StoreConfig};
use lvyue_ledger::types::{Name, Role, SignerName, Subject};
use lvyue_ledger::uscc::Uscc;
use lvyue_node::node::{DEFAULT_ORIGIN, sign_event};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(dir: &Path, port: u16) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_lvyue-node"))
        .args([
            "serve",
            "--data",
            dir.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn node");
    let deadline = Instant::now() + Duration::from_secs(20);
    while ureq::get(&format!("http://127.0.0.1:{port}/v1/log"))
        .call()
        .is_err()
    {
        assert!(Instant::now() < deadline, "node did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn key_event(n: u64) -> Event {
    let s = Signer::from_seed(KeyName::new(&format!("k{n}")).unwrap(), {
        let mut seed = [7u8; 32];
        seed[..8].copy_from_slice(&n.to_be_bytes());
        seed
    });
    Event::KeyRegistered {
        key: KeyRegistration {
            name: SignerName::new(s.name().as_str()).unwrap(),
            public_key: s.verifier_key().key().to_bytes(),
            holder: Subject::Org(Uscc::with_check("91610300MA6X00001").unwrap()),
            holder_name: Name::new("崩溃测试").unwrap(),
            role: Role::MarketEntity,
            valid_from_ms: None,
            valid_until_ms: None,
        },
    }
}

/// Submits until the node dies; returns (index, leaf hash hex) of every receipt.
fn hammer(
    port: u16,
    office: Arc<Signer>,
    counter: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    got: Arc<Mutex<Vec<(u64, String)>>>,
) {
    let url = format!("http://127.0.0.1:{port}/v1/submit");
    while !stop.load(Ordering::SeqCst) {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let signed = sign_event(&office, DEFAULT_ORIGIN, key_event(n), n).unwrap();
        match ureq::post(&url).send_json(&signed) {
            Ok(mut resp) => {
                let v: serde_json::Value = resp.body_mut().read_json().unwrap();
                let leaf = v["leaf_hash"].as_str().unwrap().to_string();
                got.lock()
                    .unwrap()
                    .push((v["index"].as_u64().unwrap(), leaf));
            }
            Err(e) => {
                eprintln!("client stops: {e}");
                return;
            }
        }
    }
}

#[test]
fn sigkill_during_submissions_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let counter = Arc::new(AtomicU64::new(0));
    for round in 0..3u64 {
        let port = free_port();
        let mut child = start(dir.path(), port);
        let office = Arc::new(Signer::read_file(&dir.path().join("keys/office.key")).unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..8)
            .map(|_| {
                let (o, c, s, g) = (office.clone(), counter.clone(), stop.clone(), got.clone());
                std::thread::spawn(move || hammer(port, o, c, s, g))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(400 + 300 * round));
        child.kill().expect("SIGKILL"); // std's kill sends SIGKILL on unix
        child.wait().unwrap();
        stop.store(true, Ordering::SeqCst);
        for c in clients {
            c.join().unwrap();
        }
        check(dir.path(), &got.lock().unwrap());
    }
    let n = got.lock().unwrap().len();
    eprintln!("{n} acknowledged entries survived 3 SIGKILLs");
    assert!(n > 50, "too few receipts ({n}) to prove anything");
}

fn check(dir: &Path, receipts: &[(u64, String)]) {
    let store = Store::open(&dir.join("store"), &StoreConfig::default())
        .expect("store reopens after SIGKILL");
    let view = store.view();
    let size = view.head().size;
    for (index, leaf) in receipts {
        assert!(
            *index < size,
            "acknowledged entry {index} lost: head size is {size}"
        );
        let bytes = view.entry(*index).unwrap().expect("entry present");
        assert_eq!(
            &lvyue_ledger::hash::leaf_hash(&bytes).to_hex(),
            leaf,
            "entry {index} changed"
        );
    }
    let vkey = Signer::read_file(&dir.join("keys/node.key"))
        .unwrap()
        .verifier_key();
    let summary = view
        .audit(&Origin::new(DEFAULT_ORIGIN).unwrap(), &vkey)
        .expect("log re-verifies after crash");
    assert_eq!(summary.size, size);
}
