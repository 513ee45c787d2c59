//! Bad input over a real socket: every kind of refusal is a clear 4xx JSON
//! `{error, detail}` naming the problem, and nothing is appended (the tree
//! size is unchanged and the whole store still audits clean).

mod e2e_support;
use e2e_support::assert_error as assert_err;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use lvyue_ledger::codec;
use lvyue_ledger::event::Event;
use lvyue_ledger::keys::{KeyName, Signer};
use lvyue_ledger::record::{KeyRef, Payload, Signed};
use lvyue_ledger::tlog_proof::TlogProof;
use lvyue_ledger::types::{Role, SignerName, Text};
use lvyue_node::sequencer::SequencerConfig;
use lvyue_node::server::ServerConfig;
use lvyue_tests::{TestNode, registration, uscc};
use serde_json::{Value, json};
use std::sync::Barrier;
use std::time::Duration;

/// Like [`assert_err`] for a GET answer whose body is text.
#[track_caller]
fn assert_get_err(answer: (u16, String), status: u16, code: &str, needles: &[&str]) {
    let (s, text) = answer;
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("status {s}: body {text:?} is not JSON: {e}"));
    assert_err(&(s, body), status, code, needles);
}

/// Asserts that the log still has `size` entries and audits clean at that size.
#[track_caller]
fn assert_unchanged(n: &TestNode, size: u64) {
    assert_eq!(n.size(), size, "tree size changed");
    assert_eq!(n.audit().size, size, "audited size");
}

/// Waits until the API reports `want` entries (the sequencer publishes its
/// new view just after sending the receipts; see
/// `receipt_is_visible_at_once` for that race), then checks the size and
/// the audit.
#[track_caller]
fn settled(n: &TestNode, want: u64) -> u64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while n.size() != want && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_unchanged(n, want);
    want
}

/// `"firm-a+0123abcd"`: how details name a key.
fn key_ref(s: &Signer) -> String {
    format!("{}+{:08x}", s.name().as_str(), s.id())
}

/// The JSON of a `contract_filed` event between two organisations, built by
/// hand so that any field can be made invalid.
fn contract_json(id: &str, a: &str, b: &str) -> Value {
    json!({
        "type": "contract_filed",
        "contract": {
            "id": id,
            "category": "commercial",
            "name": "供货合同",
            "parties": [
                {"subject": {"org": a}, "name": "甲公司", "role": "甲方"},
                {"subject": {"org": b}, "name": "乙公司", "role": "乙方"}
            ],
            "summary": "钢材供货",
            "amount": 100_000,
            "signed": "2025-12-20",
            "milestones": [
                {
                    "number": 1,
                    "obligor": {"org": b},
                    "obligee": {"org": a},
                    "due": "2026-03-01",
                    "description": "交货",
                    "amount": 100_000
                }
            ],
            "document_sha256": null,
            "source": "self_filed"
        }
    })
}

fn event(v: Value) -> Event {
    serde_json::from_value(v).expect("event json")
}

/// A valid contract filing `id` between the two firms 1 and 2.
fn contract(id: &str) -> Event {
    event(contract_json(id, &uscc(1), &uscc(2)))
}

/// A firm key registered as market entity for `uscc(1)`.
fn firm(n: &TestNode, name: &str) -> Signer {
    n.register(name, Role::MarketEntity, &uscc(1))
}

/// The JSON body of `signed`, with `edit` applied.
fn edited(signed: &Signed, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = serde_json::to_value(signed).expect("json");
    edit(&mut v);
    serde_json::to_vec(&v).expect("json")
}

/// Checks a 200 receipt end to end: its proof verifies the entry it carries
/// against the log key; returns the index.
#[track_caller]
fn check_receipt(n: &TestNode, answer: &(u16, Value)) -> u64 {
    let (status, body) = answer;
    assert_eq!(*status, 200, "{body}");
    let index = body["index"].as_u64().expect("receipt index");
    let entry = B64
        .decode(body["entry"].as_str().expect("receipt entry"))
        .expect("entry base64");
    let proof =
        TlogProof::parse(body["proof"].as_str().expect("receipt proof")).expect("proof parses");
    assert_eq!(proof.index(), index, "proof index");
    let cp = proof
        .verify(&entry, &n.node.origin, &n.node.vkey)
        .expect("receipt proof verifies");
    assert!(cp.size() > index, "checkpoint covers the entry");
    index
}

#[test]
fn bad_signature_is_401() {
    let n = TestNode::start();
    let firm = firm(&n, "firm-sig");
    let size = settled(&n, 2);
    let mut signed = n.sign(&firm, contract("C-SIG-1"));
    signed.signature[10] ^= 0x04;
    let answer = n.submit(&signed);
    assert_err(
        &answer,
        401,
        "bad_signature",
        &["bad signature", &key_ref(&firm)],
    );
    assert_unchanged(&n, size);

    // A signature over another log's origin is just as bad.
    let other = lvyue_node::node::sign_event(&firm, "other.example/log", contract("C-SIG-2"), 7)
        .expect("sign");
    assert_err(&n.submit(&other), 401, "bad_signature", &[&key_ref(&firm)]);
    assert_unchanged(&n, size);
}

#[test]
fn unknown_key_is_401() {
    let n = TestNode::start();
    let size = settled(&n, 1);
    let stranger = Signer::generate(KeyName::new("stranger").expect("name")).expect("keygen");
    let answer = n.submit(&n.sign(&stranger, contract("C-UNK-1")));
    assert_err(
        &answer,
        401,
        "unknown_key",
        &["unknown key", &key_ref(&stranger)],
    );
    assert_unchanged(&n, size);

    // A known name with another key is unknown too.
    let office_name = n.office.name().as_str().to_string();
    let impostor = Signer::generate(KeyName::new(&office_name).expect("name")).expect("keygen");
    let reg = Signer::generate(KeyName::new("victim").expect("name")).expect("keygen");
    let ev = Event::KeyRegistered {
        key: registration(&reg, Role::CreditOffice, &uscc(3)),
    };
    let answer = n.submit(&n.sign(&impostor, ev));
    assert_err(&answer, 401, "unknown_key", &[&key_ref(&impostor)]);
    assert_unchanged(&n, size);
}

#[test]
fn revoked_key_is_403() {
    let n = TestNode::start();
    let firm = firm(&n, "firm-revoked");
    // The firm may file before its revocation.
    check_receipt(&n, &n.submit(&n.sign(&firm, contract("C-REV-1"))));
    let revoke = Event::KeyRevoked {
        name: SignerName::new(firm.name().as_str()).expect("name"),
        key_id: firm.id(),
        reason: Text::new("密钥泄露").expect("text"),
    };
    let revoked_at = check_receipt(&n, &n.submit(&n.sign(&n.office, revoke.clone())));
    assert_eq!(revoked_at, 3);
    let size = settled(&n, revoked_at + 1);

    let answer = n.submit(&n.sign(&firm, contract("C-REV-2")));
    let at = format!("revoked at index {revoked_at}");
    assert_err(&answer, 403, "revoked_key", &[&key_ref(&firm), &at]);
    assert_unchanged(&n, size);

    // Revoking it again is refused as an invalid event, naming the key.
    let again = n.submit(&n.sign(&n.office, revoke));
    assert_err(
        &again,
        422,
        "invalid_event",
        &[&key_ref(&firm), "already revoked"],
    );
    assert_unchanged(&n, size);
}

#[test]
fn wrong_role_is_403() {
    let n = TestNode::start();
    let firm = firm(&n, "firm-role");
    let size = settled(&n, 2);

    let newcomer = Signer::generate(KeyName::new("newcomer").expect("name")).expect("keygen");
    let ev = Event::KeyRegistered {
        key: registration(&newcomer, Role::CreditOffice, &uscc(4)),
    };
    let answer = n.submit(&n.sign(&firm, ev));
    assert_err(
        &answer,
        403,
        "wrong_role",
        &[
            &key_ref(&firm),
            "market_entity",
            "key_registered",
            "credit_office",
        ],
    );
    assert_unchanged(&n, size);

    let answer = n.submit(&n.sign(&n.office, Event::Tick {}));
    assert_err(
        &answer,
        403,
        "wrong_role",
        &[
            &key_ref(&n.office),
            "credit_office",
            "tick",
            "allowed: node",
        ],
    );
    assert_unchanged(&n, size);
}

#[test]
fn malformed_json_is_400() {
    let n = TestNode::start();
    let firm = firm(&n, "firm-json");
    let size = settled(&n, 2);
    let good = n.sign(&firm, contract("C-JSON-1"));

    // Not JSON at all.
    let answer = n.post_raw("/v1/submit", b"<html>not json</html>".to_vec());
    assert_err(
        &answer,
        400,
        "malformed_json",
        &["expected value", "line 1 column 1"],
    );
    // Truncated JSON.
    let mut cut = serde_json::to_vec(&good).expect("json");
    cut.truncate(cut.len() / 2);
    assert_err(
        &n.post_raw("/v1/submit", cut),
        400,
        "malformed_json",
        &["EOF"],
    );
    // Empty body.
    assert_err(
        &n.post_raw("/v1/submit", Vec::new()),
        400,
        "malformed_json",
        &["EOF"],
    );
    // JSON of the wrong shape.
    let answer = n.post_raw("/v1/submit", b"[1, 2, 3]".to_vec());
    assert_err(
        &answer,
        400,
        "malformed_json",
        &["invalid type", "expected struct Payload"],
    );
    let answer = n.post_raw(
        "/v1/submit",
        br#"{"payload": 5, "signature": "AA=="}"#.to_vec(),
    );
    assert_err(
        &answer,
        400,
        "malformed_json",
        &["invalid type", "integer `5`"],
    );
    let answer = n.post_raw(
        "/v1/submit",
        edited(&good, |v| {
            v.as_object_mut().expect("object").remove("signature");
        }),
    );
    assert_err(
        &answer,
        400,
        "malformed_json",
        &["missing field `signature`"],
    );
    // A signature of the wrong length or not base64.
    let answer = n.post_raw(
        "/v1/submit",
        edited(&good, |v| v["signature"] = json!("AAAA")),
    );
    assert_err(&answer, 400, "malformed_json", &["3 bytes", "64"]);
    let answer = n.post_raw(
        "/v1/submit",
        edited(&good, |v| v["signature"] = json!("not base64!")),
    );
    assert_err(
        &answer,
        400,
        "malformed_json",
        &["bad base64", "not base64!"],
    );
    // An unknown event type.
    let answer = n.post_raw(
        "/v1/submit",
        edited(&good, |v| {
            v["payload"]["event"]["type"] = json!("contract_burned")
        }),
    );
    assert_err(
        &answer,
        400,
        "malformed_json",
        &["unknown variant", "contract_burned"],
    );
    // Unknown fields: at the top, in the payload, in the event, deep inside.
    let answer = n.post_raw("/v1/submit", edited(&good, |v| v["extra"] = json!(1)));
    assert_err(&answer, 400, "malformed_json", &["unknown field", "extra"]);
    let answer = n.post_raw(
        "/v1/submit",
        edited(&good, |v| v["payload"]["priority"] = json!(1)),
    );
    assert_err(
        &answer,
        400,
        "malformed_json",
        &["unknown field", "priority"],
    );
    let answer = n.post_raw(
        "/v1/submit",
        edited(&good, |v| v["payload"]["event"]["urgent"] = json!(true)),
    );
    assert_err(&answer, 400, "malformed_json", &["unknown field", "urgent"]);
    let answer = n.post_raw(
        "/v1/submit",
        edited(&good, |v| {
            v["payload"]["event"]["contract"]["parties"][0]["phone"] = json!("110")
        }),
    );
    assert_err(&answer, 400, "malformed_json", &["unknown field", "phone"]);
    assert_unchanged(&n, size);

    // The unedited submission is fine.
    check_receipt(&n, &n.submit(&good));
    settled(&n, size + 1);
}

#[test]
fn invalid_values_are_refused() {
    let n = TestNode::start();
    let firm = firm(&n, "firm-values");
    let size = settled(&n, 2);

    // A party USCC of the right form with a wrong check character passes the
    // JSON form checks and is refused at admission.
    let good = uscc(5);
    let last = good.chars().last().expect("char");
    let wrong = if last == '0' { '1' } else { '0' };
    let bad_uscc = format!("{}{wrong}", &good[..17]);
    let ev = event(contract_json("C-VAL-1", &uscc(1), &bad_uscc));
    let answer = n.submit(&n.sign(&firm, ev));
    let want = format!("want {last:?}");
    assert_err(
        &answer,
        422,
        "invalid_event",
        &[&bad_uscc, "check character", &want],
    );
    assert_unchanged(&n, size);

    let signed = n.sign(&firm, contract("C-VAL-2"));
    let contract_edit = |f: &dyn Fn(&mut Value)| {
        n.post_raw(
            "/v1/submit",
            edited(&signed, |v| f(&mut v["payload"]["event"]["contract"])),
        )
    };
    // Negative amounts, at the top and in a milestone.
    let answer = contract_edit(&|c| c["amount"] = json!(-5));
    assert_err(
        &answer,
        400,
        "malformed_json",
        &["amount -5", "must not be negative"],
    );
    let answer = contract_edit(&|c| c["milestones"][0]["amount"] = json!(-1));
    assert_err(
        &answer,
        400,
        "malformed_json",
        &["amount -1", "must not be negative"],
    );
    // Amounts beyond i64, and fractional amounts.
    let answer = n.post_raw(
        "/v1/submit",
        String::from_utf8(edited(&signed, |_| {}))
            .expect("utf8")
            .replacen("\"amount\":100000", "\"amount\":9223372036854775808", 1)
            .into_bytes(),
    );
    assert_err(
        &answer,
        400,
        "malformed_json",
        &["9223372036854775808", "out of range"],
    );
    let answer = n.post_raw(
        "/v1/submit",
        String::from_utf8(edited(&signed, |_| {}))
            .expect("utf8")
            .replacen(
                "\"amount\":100000",
                "\"amount\":100000000000000000000000",
                1,
            )
            .into_bytes(),
    );
    assert_err(
        &answer,
        400,
        "malformed_json",
        &["amount", "integer number of fen"],
    );
    let answer = contract_edit(&|c| c["amount"] = json!(12.5));
    assert_err(
        &answer,
        400,
        "malformed_json",
        &["amount 12.5", "integer number of fen"],
    );
    // Impossible and non-canonical dates.
    let answer = contract_edit(&|c| c["signed"] = json!("2026-02-30"));
    assert_err(&answer, 400, "malformed_json", &["2026-02-30"]);
    let answer = contract_edit(&|c| c["milestones"][0]["due"] = json!("2026-3-1"));
    assert_err(&answer, 400, "malformed_json", &["2026-3-1"]);
    let answer = contract_edit(&|c| c["signed"] = json!("2300-01-01"));
    assert_err(
        &answer,
        400,
        "malformed_json",
        &["2300-01-01", "1900..=2199"],
    );
    // Malformed USCCs fail the form check already.
    let answer =
        contract_edit(&|c| c["parties"][0]["subject"]["org"] = json!("91610300000000001I"));
    assert_err(
        &answer,
        400,
        "malformed_json",
        &["91610300000000001I", "'I'", "position 18"],
    );
    let answer = contract_edit(&|c| c["parties"][0]["subject"]["org"] = json!("9161"));
    assert_err(&answer, 400, "malformed_json", &["9161", "18 characters"]);
    // Over-long text and a bad contract id.
    let answer = contract_edit(&|c| c["summary"] = json!("长".repeat(2001)));
    assert_err(
        &answer,
        400,
        "malformed_json",
        &["2001 characters", "at most 2000"],
    );
    let answer = contract_edit(&|c| c["id"] = json!("C 1"));
    assert_err(&answer, 400, "malformed_json", &["\"C 1\""]);
    assert_unchanged(&n, size);

    check_receipt(&n, &n.submit(&signed));
    settled(&n, size + 1);
}

/// A contract filing from `firm` whose canonical payload is exactly
/// `target` bytes: as many milestones as fit with 2,000-character CJK
/// descriptions (6,000 bytes each), then padding in the summary and in the
/// description of one last milestone.
fn contract_of_size(firm: &Signer, id: &str, target: usize) -> Event {
    let build = |full: usize, summary: &str, last: &str| {
        let mut v = contract_json(id, &uscc(1), &uscc(2));
        let one = v["contract"]["milestones"][0].clone();
        let mut list = Vec::new();
        for k in 0..=full {
            let mut m = one.clone();
            m["number"] = json!(k + 1);
            m["description"] = json!(if k < full {
                "交".repeat(2000)
            } else {
                last.to_string()
            });
            list.push(m);
        }
        v["contract"]["milestones"] = json!(list);
        v["contract"]["summary"] = json!(summary);
        event(v)
    };
    let encoded = |ev: Event| {
        let p = Payload {
            signer: KeyRef {
                name: SignerName::new(firm.name().as_str()).expect("name"),
                id: firm.id(),
            },
            nonce: 0,
            event: ev,
        };
        match codec::encode(&p) {
            Ok(b) => b.len(),
            Err(codec::CodecError::TooLarge { size }) => size,
            Err(e) => panic!("encode: {e}"),
        }
    };
    let mut full = 0;
    while encoded(build(full + 1, "", "")) <= target {
        full += 1;
    }
    let base = encoded(build(full, "", ""));
    let rest = target - base;
    let summary = "s".repeat(rest.min(2000));
    let rest = rest - summary.len();
    // 3-byte and 1-byte characters, at most 2,000 in all.
    let last = format!("{}{}", "约".repeat(rest / 3), "l".repeat(rest % 3));
    assert!(last.chars().count() <= 2000, "cannot pad {rest} bytes");
    let ev = build(full, &summary, &last);
    assert_eq!(encoded(ev.clone()), target);
    ev
}

#[test]
fn entry_over_65535_bytes_is_413() {
    let n = TestNode::start_with(
        ServerConfig {
            body_limit: 1 << 20,
            ..ServerConfig::default()
        },
        SequencerConfig::default(),
    );
    let firm = firm(&n, "firm-large");
    let size = settled(&n, 2);
    // The entry adds index, time, previous hash, body tag and signature
    // (116 bytes) to the payload: a payload just under the limit (so it can
    // be signed) gives an entry just over it.
    let ev = contract_of_size(&firm, "C-BIG-1", codec::MAX_RECORD_SIZE - 50);
    let signed = n.sign(&firm, ev);
    let body = serde_json::to_vec(&signed).expect("json");
    assert!(body.len() < (1 << 20), "JSON body of {} bytes", body.len());
    let answer = n.post_raw("/v1/submit", body);
    let entry_size = (codec::MAX_RECORD_SIZE - 50 + 116).to_string();
    assert_err(&answer, 413, "entry_too_large", &[&entry_size, "65535"]);
    assert_unchanged(&n, size);

    // The largest payload whose entry fits is accepted, and its entry is
    // exactly at the limit.
    let ev = contract_of_size(&firm, "C-BIG-2", codec::MAX_RECORD_SIZE - 116);
    let answer = n.submit(&n.sign(&firm, ev));
    check_receipt(&n, &answer);
    let entry = B64
        .decode(answer.1["entry"].as_str().expect("entry"))
        .expect("b64");
    assert_eq!(entry.len(), codec::MAX_RECORD_SIZE);
    settled(&n, size + 1);
}

#[test]
fn payload_over_65535_bytes_is_413() {
    // A payload that is itself over the limit has no canonical encoding, so
    // it cannot be signed; it must still be answered as too large.
    let n = TestNode::start_with(
        ServerConfig {
            body_limit: 1 << 20,
            ..ServerConfig::default()
        },
        SequencerConfig::default(),
    );
    let firm = firm(&n, "firm-huge");
    let size = settled(&n, 2);
    let ev = contract_of_size(&firm, "C-HUGE-1", 80_000);
    let payload = Payload {
        signer: KeyRef {
            name: SignerName::new(firm.name().as_str()).expect("name"),
            id: firm.id(),
        },
        nonce: 1,
        event: ev,
    };
    let signed = Signed {
        signature: firm.sign(b"no canonical message exists"),
        payload,
    };
    let answer = n.submit(&signed);
    assert_err(&answer, 413, "entry_too_large", &["65535"]);
    assert_unchanged(&n, size);
}

#[test]
fn body_over_limit_is_413() {
    let n = TestNode::start_with(
        ServerConfig {
            body_limit: 1024,
            ..ServerConfig::default()
        },
        SequencerConfig::default(),
    );
    let size = settled(&n, 1);
    let newcomer = Signer::generate(KeyName::new("newcomer").expect("name")).expect("keygen");
    let ev = Event::KeyRegistered {
        key: registration(&newcomer, Role::MarketEntity, &uscc(6)),
    };
    let signed = n.sign(&n.office, ev);
    let json = serde_json::to_vec(&signed).expect("json");
    assert!(json.len() < 1024, "{} bytes", json.len());
    // The same valid submission padded with whitespace to 2 KiB.
    let mut padded = json.clone();
    padded.resize(2048, b' ');
    let (status, body) = n.post_raw("/v1/submit", padded);
    assert_eq!(status, 413, "{body}");
    eprintln!("body-limit answer (is JSON: {}): {body}", !body.is_string());
    assert_unchanged(&n, size);

    // Unpadded, it is accepted.
    check_receipt(&n, &n.post_raw("/v1/submit", json));
    settled(&n, size + 1);
}

#[test]
fn duplicate_submission_is_409() {
    let n = TestNode::start();
    let firm = firm(&n, "firm-dup");
    let signed = n.sign(&firm, contract("C-DUP-1"));
    let first = check_receipt(&n, &n.submit(&signed));
    let size = settled(&n, first + 1);
    let at = format!("at index {first}");
    assert_err(&n.submit(&signed), 409, "duplicate", &["duplicate", &at]);
    assert_unchanged(&n, size);

    // A copy with a broken signature is still a duplicate of the entry.
    let mut copy = signed.clone();
    copy.signature[3] ^= 1;
    let answer = n.submit(&copy);
    assert!(answer.0 == 409 || answer.0 == 401, "{answer:?}");
    assert_unchanged(&n, size);

    // The same event with a new nonce is a new submission: it passes the
    // replay check and meets the rules, which refuse a second filing of C-DUP-1.
    assert_err(
        &n.submit(&n.sign(&firm, contract("C-DUP-1"))),
        409,
        "conflict",
        &["C-DUP-1", "already filed"],
    );
    assert_unchanged(&n, size);
}

#[test]
fn concurrent_duplicates_append_once() {
    let n = TestNode::start();
    let firm = firm(&n, "firm-race");
    for round in 0..5 {
        let size = settled(&n, 2 + round);
        let signed = n.sign(&firm, contract(&format!("C-RACE-{round}")));
        let barrier = Barrier::new(2);
        let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        n.submit(&signed)
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        let ok: Vec<_> = answers.iter().filter(|a| a.0 == 200).collect();
        let dup: Vec<_> = answers.iter().filter(|a| a.0 == 409).collect();
        assert_eq!((ok.len(), dup.len()), (1, 1), "round {round}: {answers:?}");
        let index = check_receipt(&n, ok[0]);
        assert_err(dup[0], 409, "duplicate", &["duplicate"]);
        let detail = dup[0].1["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(&format!("at index {index}")) || detail.contains("within one batch"),
            "{detail}"
        );
        settled(&n, size + 1);
    }
}

#[test]
fn forged_copy_does_not_block_the_genuine_submission() {
    // A long batch window puts both submissions in one batch, the forged
    // copy (same payload, broken signature) first.
    let seq = SequencerConfig {
        max_wait: Duration::from_millis(400),
        ..SequencerConfig::default()
    };
    let n = TestNode::start_with(ServerConfig::default(), seq);
    let firm = firm(&n, "firm-victim");
    let size = settled(&n, 2);
    let genuine = n.sign(&firm, contract("C-FRONT-1"));
    let mut forged = genuine.clone();
    forged.signature[0] ^= 0x80;
    let (forged_answer, genuine_answer) = std::thread::scope(|s| {
        let f = s.spawn(|| n.submit(&forged));
        std::thread::sleep(Duration::from_millis(100));
        let g = s.spawn(|| n.submit(&genuine));
        (f.join().expect("thread"), g.join().expect("thread"))
    });
    assert_err(&forged_answer, 401, "bad_signature", &[&key_ref(&firm)]);
    check_receipt(&n, &genuine_answer);
    settled(&n, size + 1);
}

#[test]
fn bad_proof_and_read_requests() {
    let n = TestNode::start();
    let _firm = firm(&n, "firm-reads");
    let size = settled(&n, 2);
    assert_eq!(size, 2);

    // Inclusion proofs.
    let answer = n.get("/v1/proof/inclusion?index=2&size=2");
    assert_get_err(answer, 400, "bad_query", &["index 2", "size 2"]);
    let answer = n.get("/v1/proof/inclusion?index=5");
    assert_get_err(answer, 400, "bad_query", &["index 5", "size 2"]);
    let answer = n.get("/v1/proof/inclusion?index=0&size=100");
    assert_get_err(answer, 400, "bad_query", &["size 100", "tree size 2"]);
    let answer = n.get("/v1/proof/inclusion?index=abc");
    assert_get_err(answer, 400, "bad_query", &["index"]);
    let answer = n.get("/v1/proof/inclusion");
    assert_get_err(answer, 400, "bad_query", &["index"]);
    let answer = n.get("/v1/proof/inclusion?index=-1");
    assert_get_err(answer, 400, "bad_query", &["index"]);
    let (s, _) = n.get("/v1/proof/inclusion?index=1&size=2");
    assert_eq!(s, 200);

    // Consistency proofs.
    let answer = n.get("/v1/proof/consistency?old=5&new=2");
    assert_get_err(answer, 400, "bad_query", &["old size 5", "new size 2"]);
    let answer = n.get("/v1/proof/consistency?old=1&new=9");
    assert_get_err(answer, 400, "bad_query", &["new size 9", "tree size 2"]);
    let answer = n.get("/v1/proof/consistency?old=3");
    assert_get_err(answer, 400, "bad_query", &["old size 3", "new size 2"]);
    let answer = n.get("/v1/proof/consistency?old=x&new=2");
    assert_get_err(answer, 400, "bad_query", &["old"]);
    let (s, _) = n.get("/v1/proof/consistency?old=1&new=2");
    assert_eq!(s, 200);

    // Entries.
    let answer = n.get("/v1/entries/99999");
    assert_get_err(answer, 404, "not_found", &["99999", "tree size 2"]);
    let answer = n.get("/v1/entries/2");
    assert_get_err(answer, 404, "not_found", &["index 2", "tree size 2"]);
    let answer = n.get("/v1/entries/abc");
    assert_get_err(answer, 400, "bad_index", &["\"abc\""]);
    let answer = n.get("/v1/entries/-1");
    assert_get_err(answer, 400, "bad_index", &["\"-1\""]);
    let answer = n.get("/v1/entries/18446744073709551616");
    assert_get_err(answer, 400, "bad_index", &["18446744073709551616"]);

    // Tiles beyond the tree.
    let answer = n.get("/tile/0/x001/000");
    assert_get_err(
        answer,
        404,
        "not_found",
        &["tile/0/x001/000", "tree size 2"],
    );
    let answer = n.get("/tile/0/000");
    assert_get_err(answer, 404, "not_found", &["tile/0/000"]);
    let answer = n.get("/tile/0/000.p/3");
    assert_get_err(answer, 404, "not_found", &["tile/0/000.p/3"]);
    let answer = n.get("/tile/entries/000.p/5");
    assert_get_err(answer, 404, "not_found", &["tile/entries/000.p/5"]);
    let (s, _) = n.get("/tile/0/000.p/2");
    assert_eq!(s, 200);
    let (s, _) = n.get("/tile/entries/000.p/2");
    assert_eq!(s, 200);
    // Malformed tile paths.
    for path in [
        "tile/0/abc",
        "tile/0/1",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/x000/001",
        "tile/64/000",
        "tile/00/000",
        "tile/entries/1",
        "tile/entries/000.p/",
    ] {
        let answer = n.get(&format!("/{path}"));
        assert_get_err(answer, 400, "bad_path", &[path]);
    }
    assert_unchanged(&n, size);
}

#[test]
fn consistency_from_the_empty_tree_is_400() {
    // A consistency proof from size 0 is not defined: that is a client
    // error, not a server failure.
    let n = TestNode::start();
    let _firm = firm(&n, "firm-empty");
    let size = settled(&n, 2);
    for path in [
        "/v1/proof/consistency?old=0&new=2",
        "/v1/proof/consistency?old=0",
    ] {
        assert_get_err(n.get(path), 400, "bad_query", &["0"]);
    }
    assert_unchanged(&n, size);
}

#[test]
fn good_submissions_land_beside_bad_ones() {
    let n = TestNode::start();
    let firm = firm(&n, "firm-mixed");
    let size = settled(&n, 2);
    let submissions: Vec<(bool, Signed)> = (0..20)
        .map(|k| {
            let mut s = n.sign(&firm, contract(&format!("C-MIX-{k}")));
            let good = k % 2 == 0;
            if !good {
                s.signature[k % 64] ^= 1 << (k % 8);
            }
            (good, s)
        })
        .collect();
    let barrier = Barrier::new(submissions.len());
    let answers: Vec<(bool, (u16, Value))> = std::thread::scope(|sc| {
        let hs: Vec<_> = submissions
            .iter()
            .map(|(good, s)| {
                let barrier = &barrier;
                let n = &n;
                sc.spawn(move || {
                    barrier.wait();
                    (*good, n.submit(s))
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let mut indexes = Vec::new();
    for (good, answer) in &answers {
        if *good {
            indexes.push(check_receipt(&n, answer));
        } else {
            assert_err(answer, 401, "bad_signature", &[&key_ref(&firm)]);
        }
    }
    indexes.sort_unstable();
    indexes.dedup();
    assert_eq!(indexes.len(), 10, "distinct indexes {indexes:?}");
    assert!(
        indexes.iter().all(|&i| i >= size && i < size + 10),
        "{indexes:?}"
    );
    settled(&n, size + 10);
}

#[test]
fn receipt_is_visible_at_once() {
    // A client holding a receipt for index i must find entry i in the log
    // (many clients at once, so that batches answer many receipts).
    let n = TestNode::start();
    let firm = firm(&n, "firm-reader");
    settled(&n, 2);
    let (threads, rounds) = (16, 50);
    let stale: Vec<String> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let (n, firm) = (&n, &firm);
                sc.spawn(move || {
                    let mut stale = Vec::new();
                    for k in 0..rounds {
                        let ev = contract(&format!("C-RYW-{t}-{k}"));
                        let index = check_receipt(n, &n.submit(&n.sign(firm, ev)));
                        let (status, _) = n.get(&format!("/v1/entries/{index}"));
                        if status != 200 {
                            stale.push(format!("/v1/entries/{index} answered {status}"));
                        }
                    }
                    stale
                })
            })
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect()
    });
    assert!(
        stale.is_empty(),
        "entries missing right after their receipts: {stale:?}"
    );
    settled(&n, 2 + threads * rounds);
}
