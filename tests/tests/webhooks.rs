//! Webhook notifications: an organisation registers a webhook with a
//! signed request; reminders, overdue warnings and defaults reach it at
//! least once, in log order, with a stable idempotency key and the node's
//! signature; a failing receiver is retried with backoff; and notifications
//! appended while it was down are delivered after a node restart (the feed
//! rows are the durable outbox, the cursor survives the restart).

use lvyue_ledger::event::Event;
use lvyue_ledger::keys::{Signer, VerifierKey};
use lvyue_ledger::record::KeyRef;
use lvyue_ledger::types::{Role, SignerName};
use lvyue_ledger::uscc::Uscc;
use lvyue_node::sequencer::SequencerConfig;
use lvyue_node::server::ServerConfig;
use lvyue_node::webhook::{Registration, registration_message};
use lvyue_tests::{T0, TestNode, uscc};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DAY: i64 = 86_400_000;

/// One delivery as the receiver saw it.
#[derive(Clone, Debug)]
struct Delivery {
    idempotency_key: String,
    signature: String,
    body: Vec<u8>,
}

/// A minimal HTTP receiver: answers 500 to the first `fail_first`
/// requests, then 200; records every request.
struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<(u16, Delivery)>>>,
}

fn receiver(fail_first: usize) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let s2 = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                headers.push(line.trim_end().to_string());
            }
            let header = |name: &str| {
                headers
                    .iter()
                    .find_map(|h| {
                        let (k, v) = h.split_once(':')?;
                        k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                    })
                    .unwrap_or_default()
            };
            let len: usize = header("content-length").parse().unwrap_or(0);
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let n = count.fetch_add(1, Ordering::SeqCst);
            let status = if n < fail_first { 500 } else { 200 };
            s2.lock().unwrap().push((
                status,
                Delivery {
                    idempotency_key: header("idempotency-key"),
                    signature: header("lvyue-signature"),
                    body,
                },
            ));
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    Receiver { url, seen }
}

fn filing(id: &str, obligee: &str, obligor: &str, due: &str) -> Event {
    serde_json::from_value(json!({
        "type": "contract_filed",
        "contract": {
            "id": id, "category": "construction", "name": "道路养护",
            "parties": [
                {"subject": {"org": obligee}, "name": "宝鸡市交通运输局", "role": "甲方"},
                {"subject": {"org": obligor}, "name": "某路桥公司", "role": "乙方"}
            ],
            "summary": "养护", "amount": 800_000, "signed": "2025-12-01",
            "milestones": [{"number": 1, "obligor": {"org": obligor}, "obligee": {"org": obligee},
                "due": due, "description": "完工", "amount": 800_000}],
            "document_sha256": null, "source": "department"
        }
    }))
    .expect("filing")
}

fn register_hook(n: &TestNode, key: &Signer, org: &str, url: &str, seq: u64) -> (u16, Value) {
    let org = Uscc::parse(org).expect("uscc");
    let signature = key.sign(&registration_message(&n.origin, &org, url, seq));
    let r = Registration {
        org,
        url: url.to_string(),
        seq,
        signer: KeyRef {
            name: SignerName::new(key.name().as_str()).expect("name"),
            id: key.id(),
        },
        signature,
    };
    n.post_raw("/v1/webhooks", serde_json::to_vec(&r).expect("json"))
}

fn wait_until(what: &str, secs: u64, pred: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn delivered(r: &Receiver) -> Vec<Delivery> {
    r.seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, d)| d.clone())
        .collect()
}

fn config() -> (ServerConfig, SequencerConfig) {
    (
        ServerConfig {
            webhook_poll_ms: 20,
            ..ServerConfig::default()
        },
        SequencerConfig {
            tick_interval: Duration::from_millis(20),
            ..SequencerConfig::default()
        },
    )
}

#[test]
fn notifications_reach_the_webhook_in_order_with_retries() {
    let (sc, qc) = config();
    let n = TestNode::start_with(sc, qc);
    let dept = n.register("dept", Role::SourceUnit, &uscc(1));
    let firm_key = n.register("firm", Role::MarketEntity, &uscc(2));
    // The receiver fails twice first: deliveries are retried, not lost.
    let rx = receiver(2);
    let (s, b) = register_hook(&n, &firm_key, &uscc(2), &rx.url, 1);
    assert_eq!(s, 200, "{b}");

    // Registration errors name the problem and store nothing.
    let (s, b) = register_hook(&n, &firm_key, &uscc(2), &rx.url, 1);
    assert_eq!(
        (s, b["error"].as_str()),
        (409, Some("stale_registration")),
        "{b}"
    );
    let (s, b) = register_hook(&n, &dept, &uscc(2), "http://elsewhere.example/x", 2);
    assert_eq!((s, b["error"].as_str()), (403, Some("not_holder")), "{b}");
    let (s, b) = register_hook(&n, &firm_key, &uscc(2), "ftp://x", 3);
    assert_eq!((s, b["error"].as_str()), (422, Some("invalid_url")), "{b}");
    let stranger = Signer::generate(lvyue_ledger::keys::KeyName::new("stranger").unwrap()).unwrap();
    let (s, b) = register_hook(&n, &stranger, &uscc(2), &rx.url, 4);
    assert_eq!((s, b["error"].as_str()), (401, Some("unknown_key")), "{b}");
    let (_, st) = n.get(&format!("/v1/webhooks/{}", uscc(2)));
    let st: Value = serde_json::from_str(&st).unwrap();
    assert_eq!(st["url"], rx.url.as_str());
    assert_eq!(st["seq"], 1);

    let (s, b) = n.submit(&n.sign(&dept, filing("RD-1", &uscc(1), &uscc(2), "2026-01-10")));
    assert_eq!(s, 200, "{b}");
    // Past due and grace: 30/7/1-day reminders (only 7 and 1 are still ahead
    // of a filing on 2026-01-01), overdue warning, default, score change.
    n.clock.set(T0 + 40 * DAY);
    wait_until("default delivered", 20, || {
        delivered(&rx)
            .iter()
            .any(|d| serde_json::from_slice::<Value>(&d.body).unwrap()["kind"] == "default")
    });
    let got = delivered(&rx);
    let kinds: Vec<String> = got
        .iter()
        .map(|d| {
            serde_json::from_slice::<Value>(&d.body).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        ["reminder", "reminder", "overdue", "default"],
        "{kinds:?}"
    );
    let indexes: Vec<u64> = got
        .iter()
        .map(|d| {
            serde_json::from_slice::<Value>(&d.body).unwrap()["index"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(
        indexes.windows(2).all(|w| w[0] < w[1]),
        "log order: {indexes:?}"
    );
    // The two failed attempts were for the first notification, retried with the same key.
    let all = rx.seen.lock().unwrap().clone();
    assert_eq!(all[0].0, 500);
    assert_eq!(all[0].1.idempotency_key, all[2].1.idempotency_key);
    assert_eq!(
        got[0].idempotency_key,
        format!("{}/{}/{}", n.origin, indexes[0], uscc(2))
    );
    // Each body is signed by the node key.
    let vkey: &VerifierKey = &n.node.vkey;
    for d in &got {
        let sig = d.signature.splitn(3, '+').nth(2).unwrap();
        let sig: [u8; 64] = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, sig)
            .unwrap()
            .try_into()
            .unwrap();
        vkey.verify_strict(&d.body, &sig).expect("node signature");
    }
    // Removal (empty URL) keeps the seq: the old registration cannot be replayed.
    let (s, b) = register_hook(&n, &firm_key, &uscc(2), "", 5);
    assert_eq!((s, b["url"].is_null()), (200, true), "{b}");
    assert_eq!(n.get(&format!("/v1/webhooks/{}", uscc(2))).0, 404);
    let (s, b) = register_hook(&n, &firm_key, &uscc(2), &rx.url, 1);
    assert_eq!(
        (s, b["error"].as_str()),
        (409, Some("stale_registration")),
        "{b}"
    );
    let (s, b) = register_hook(&n, &firm_key, &uscc(2), &rx.url, 6);
    assert_eq!(s, 200, "{b}");
    n.audit();
}

#[test]
fn notifications_appended_while_the_receiver_is_down_survive_a_restart() {
    let (sc, qc) = config();
    let mut n = TestNode::start_with(sc.clone(), qc.clone());
    let dept = n.register("dept", Role::SourceUnit, &uscc(1));
    let firm_key = n.register("firm", Role::MarketEntity, &uscc(2));
    // Receiver down: nothing listens on this port.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/hook", dead.local_addr().unwrap());
    drop(dead);
    let (s, b) = register_hook(&n, &firm_key, &uscc(2), &dead_url, 1);
    assert_eq!(s, 200, "{b}");
    let (s, b) = n.submit(&n.sign(&dept, filing("RD-2", &uscc(1), &uscc(2), "2026-01-10")));
    assert_eq!(s, 200, "{b}");
    let before = n.size();
    n.clock.set(T0 + 40 * DAY);
    wait_until("default appended", 10, || n.size() >= before + 6);
    // Restart the node on the same folder, then bring a receiver up and
    // point the webhook at it.
    let dir = n.path.clone();
    n.stop();
    let n2 = TestNode::reopen(&dir, sc, qc, T0 + 40 * DAY);
    let rx = receiver(0);
    let (s, b) = register_hook(&n2, &firm_key, &uscc(2), &rx.url, 2);
    assert_eq!(s, 200, "{b}");
    wait_until("backlog delivered", 20, || delivered(&rx).len() >= 4);
    let kinds: Vec<String> = delivered(&rx)
        .iter()
        .map(|d| {
            serde_json::from_slice::<Value>(&d.body).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        ["reminder", "reminder", "overdue", "default"],
        "{kinds:?}"
    );
    n2.audit();
    drop(n);
}
