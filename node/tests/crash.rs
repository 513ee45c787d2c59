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

/// An acknowledged submission: its tag (a filing's contract id, else
/// empty), its index and its leaf hash (hex).
type Acked = (String, u64, String);

/// Posts `make(n)` for n taken from the shared counter until the node dies
/// (or `stop`), keeping every receipt in `got`.
fn submit_until_killed(
    port: u16,
    counter: &AtomicU64,
    stop: &AtomicBool,
    got: &Mutex<Vec<Acked>>,
    make: impl Fn(u64) -> (String, lvyue_ledger::record::Signed),
) {
    let url = format!("http://127.0.0.1:{port}/v1/submit");
    while !stop.load(Ordering::SeqCst) {
        let (tag, signed) = make(counter.fetch_add(1, Ordering::SeqCst));
        match ureq::post(&url).send_json(&signed) {
            Ok(mut resp) => {
                let v: serde_json::Value = resp.body_mut().read_json().unwrap();
                let leaf = v["leaf_hash"].as_str().unwrap().to_string();
                got.lock()
                    .unwrap()
                    .push((tag, v["index"].as_u64().unwrap(), leaf));
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
                std::thread::spawn(move || {
                    submit_until_killed(port, &c, &s, &g, |n| {
                        let signed = sign_event(&o, DEFAULT_ORIGIN, key_event(n), n).unwrap();
                        (String::new(), signed)
                    });
                })
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

fn check(dir: &Path, receipts: &[Acked]) {
    let store = Store::open(&dir.join("store"), &StoreConfig::default())
        .expect("store reopens after SIGKILL");
    let view = store.view();
    let size = view.head().size;
    for (_, index, leaf) in receipts {
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

/// Firm `i`'s USCC (valid check character).
fn firm(i: u64) -> Uscc {
    Uscc::with_check(&format!("91610300MA6Y{i:05}")).unwrap()
}

/// Firm `t`'s key.
fn firm_key(t: u64) -> Signer {
    let mut seed = [9u8; 32];
    seed[..8].copy_from_slice(&t.to_be_bytes());
    Signer::from_seed(KeyName::new(&format!("firm{t}")).unwrap(), seed)
}

/// Contract `id` filed by firm `t` (乙方) with firm `t + 1` as 甲方: one or two
/// milestones due in 2027, so no deadline fires while the test runs.
fn filing(id: &str, t: u64, n: u64) -> Event {
    let (buyer, seller) = (firm((t + 1) % FIRMS), firm(t));
    let dues: &[&str] = if n % 2 == 0 {
        &["2027-03-31"]
    } else {
        &["2027-03-31", "2027-09-30"]
    };
    let milestones: Vec<serde_json::Value> = dues
        .iter()
        .enumerate()
        .map(|(k, due)| {
            serde_json::json!({"number": k + 1, "obligor": {"org": seller.as_str()},
                "obligee": {"org": buyer.as_str()}, "due": due, "description": "交付",
                "amount": 50_000})
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "type": "contract_filed",
        "contract": {
            "id": id, "category": "commercial", "name": "设备维修合同",
            "parties": [
                {"subject": {"org": buyer.as_str()}, "name": "甲方公司", "role": "甲方"},
                {"subject": {"org": seller.as_str()}, "name": "乙方公司", "role": "乙方"}
            ],
            "summary": "崩溃测试", "amount": 50_000 * dues.len() as i64, "signed": "2026-01-15",
            "milestones": milestones, "document_sha256": null, "source": "self_filed"
        }
    }))
    .unwrap()
}

const FIRMS: u64 = 4;

/// A filing found in the log.
struct InLog {
    id: String,
    index: u64,
    buyer: Subject,
    seller: Subject,
}

fn get_json(port: u16, path: &str) -> (u16, serde_json::Value) {
    let resp = ureq::get(&format!("http://127.0.0.1:{port}{path}"))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.into_body().read_json().unwrap())
}

/// Contract filings write query-index rows in the same atomic batch as their
/// entries: after each SIGKILL the log keeps every acknowledged filing and
/// audits clean, and the restarted node answers for each of them from its
/// index — no filing in the log without its contract view, none shown twice.
#[test]
fn sigkill_during_filings_keeps_every_receipt_and_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let got = Arc::new(Mutex::new(Vec::<Acked>::new()));
    let counter = Arc::new(AtomicU64::new(0));
    let mut port = free_port();
    let mut child = start(dir.path(), port);
    // The office registers the firms' keys (before any kill).
    let office = Signer::read_file(&dir.path().join("keys/office.key")).unwrap();
    for t in 0..FIRMS {
        let key = firm_key(t);
        let event = Event::KeyRegistered {
            key: KeyRegistration {
                name: SignerName::new(key.name().as_str()).unwrap(),
                public_key: key.verifier_key().key().to_bytes(),
                holder: Subject::Org(firm(t)),
                holder_name: Name::new(format!("测试公司{t}")).unwrap(),
                role: Role::MarketEntity,
                valid_from_ms: None,
                valid_until_ms: None,
            },
        };
        let signed = sign_event(&office, DEFAULT_ORIGIN, event, 1_000_000 + t).unwrap();
        ureq::post(&format!("http://127.0.0.1:{port}/v1/submit"))
            .send_json(&signed)
            .expect("key registered");
    }
    for round in 0..3u64 {
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..FIRMS)
            .flat_map(|t| [t, t])
            .map(|t| {
                let (c, s, g) = (counter.clone(), stop.clone(), got.clone());
                std::thread::spawn(move || {
                    let key = firm_key(t);
                    submit_until_killed(port, &c, &s, &g, |n| {
                        let id = format!("CRASH-{n}");
                        let signed =
                            sign_event(&key, DEFAULT_ORIGIN, filing(&id, t, n), n).unwrap();
                        (id, signed)
                    });
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(500 + 300 * round));
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        stop.store(true, Ordering::SeqCst);
        for c in clients {
            c.join().unwrap();
        }
        check(dir.path(), &got.lock().unwrap());

        // Every filing in the log, acknowledged or not (a batch can be durable
        // before its receipts are sent): the index must know each of them.
        let in_log: Vec<InLog> = {
            let store = Store::open(&dir.path().join("store"), &StoreConfig::default()).unwrap();
            let view = store.view();
            (0..view.head().size)
                .filter_map(|i| {
                    let bytes = view.entry(i).unwrap().unwrap();
                    match lvyue_ledger::record::Entry::decode(&bytes).unwrap().body {
                        lvyue_ledger::record::Body::Submitted(s) => match s.payload.event {
                            Event::ContractFiled { contract } => Some(InLog {
                                id: contract.id.as_str().to_string(),
                                index: i,
                                buyer: contract.parties[0].subject.clone(),
                                seller: contract.parties[1].subject.clone(),
                            }),
                            _ => None,
                        },
                        lvyue_ledger::record::Body::Derived(_) => None,
                    }
                })
                .collect()
        };
        port = free_port();
        child = start(dir.path(), port);
        let (status, stats) = get_json(port, "/v1/stats");
        assert_eq!(status, 200, "{stats}");
        assert_eq!(
            stats["contracts"].as_u64(),
            Some(in_log.len() as u64),
            "city counters after restart {round}"
        );
        for f in &in_log {
            let (status, c) = get_json(port, &format!("/v1/contracts/{}", f.id));
            assert_eq!(status, 200, "contract {} after restart {round}: {c}", f.id);
            assert_eq!(
                c["contract"]["filed_index"].as_u64(),
                Some(f.index),
                "{}",
                f.id
            );
        }
        let acked = got.lock().unwrap().len();
        assert!(
            in_log.len() >= acked,
            "{} filings in the log, {acked} acknowledged",
            in_log.len()
        );
        for (id, index, _) in got.lock().unwrap().iter() {
            assert!(
                in_log.iter().any(|f| &f.id == id && f.index == *index),
                "acknowledged filing {id} at {index} is not in the log"
            );
        }
        // Each firm's archive lists the contracts naming it, and those it
        // filed, each once, newest first: exactly those in the log.
        for t in 0..FIRMS {
            let me = Subject::Org(firm(t));
            let (status, a) = get_json(
                port,
                &format!("/v1/entities/{}?limit=1000", firm(t).as_str()),
            );
            assert_eq!(status, 200, "{a}");
            let listed = |list: &str| -> Vec<(String, u64)> {
                a[list]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| {
                        let id = c["id"].as_str().unwrap().to_string();
                        (id, c["filed_index"].as_u64().unwrap())
                    })
                    .collect()
            };
            let expect = |keep: &dyn Fn(&InLog) -> bool| -> Vec<(String, u64)> {
                let mut v: Vec<(String, u64)> = in_log
                    .iter()
                    .filter(|f| keep(f))
                    .map(|f| (f.id.clone(), f.index))
                    .collect();
                v.reverse();
                v.truncate(1000);
                v
            };
            assert_eq!(
                listed("contracts"),
                expect(&|f| f.buyer == me || f.seller == me),
                "contracts[] of firm {t} after restart {round}"
            );
            assert_eq!(
                listed("filed"),
                expect(&|f| f.seller == me),
                "filed[] of firm {t} after restart {round}"
            );
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let n = got.lock().unwrap().len();
    eprintln!("{n} acknowledged filings survived 3 SIGKILLs");
    assert!(n > 50, "too few receipts ({n}) to prove anything");
}
