//! Helpers shared by the end-to-end tests (`e2e_users.rs`, `e2e_errors.rs`):
//! node times in CST, event builders, submit-and-check, and waiting for the
//! records that time-driven rules append.
// Each test file uses a different part of this module.
#![allow(dead_code)]

use lvyue_ledger::event::Event;
use lvyue_ledger::keys::Signer;
use lvyue_node::sequencer::SequencerConfig;
use lvyue_node::server::ServerConfig;
use lvyue_tests::TestNode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub const DAY: i64 = 86_400_000;
pub const HOUR: i64 = 3_600_000;

/// Node time (UTC ms) of `hour`:00 CST on `date` (docs/RULES.md §2: CST day
/// D starts at D × 86 400 000 − 28 800 000 ms).
pub fn cst(date: &str, hour: i64) -> i64 {
    let d = lvyue_ledger::types::Date::parse(date).expect("date");
    i64::from(d.days()) * DAY - 8 * HOUR + hour * HOUR
}

/// A node whose sequencer appends a `Tick` 20 ms after a deadline passes,
/// so that moving the clock makes the time-driven records appear.
pub fn quick_node() -> TestNode {
    TestNode::start_with(
        ServerConfig::default(),
        SequencerConfig {
            tick_interval: Duration::from_millis(20),
            ..SequencerConfig::default()
        },
    )
}

/// An event from its JSON form.
pub fn event(v: Value) -> Event {
    serde_json::from_value(v).expect("event json")
}

/// A `contract_filed` of `id`, signed 2025-12-01, from `source` (its JSON
/// form): `obligor` owes `obligee` one milestone of 100 000 fen per due date,
/// numbered from 1. Parties are `(uscc, name)`; the obligee is 甲方.
pub fn filing(
    id: &str,
    source: Value,
    obligee: (&str, &str),
    obligor: (&str, &str),
    dues: &[&str],
) -> Event {
    filing_signed(id, "2025-12-01", source, obligee, obligor, dues)
}

/// [`filing`] with another signed date.
pub fn filing_signed(
    id: &str,
    signed: &str,
    source: Value,
    obligee: (&str, &str),
    obligor: (&str, &str),
    dues: &[&str],
) -> Event {
    event(contract_json(id, signed, source, obligee, obligor, dues))
}

/// The JSON form of [`filing_signed`], for tests that edit a field.
pub fn contract_json(
    id: &str,
    signed: &str,
    source: Value,
    obligee: (&str, &str),
    obligor: (&str, &str),
    dues: &[&str],
) -> Value {
    let milestones: Vec<Value> = dues
        .iter()
        .enumerate()
        .map(|(k, due)| milestone(k as u32 + 1, obligor.0, obligee.0, due))
        .collect();
    json!({
        "type": "contract_filed",
        "contract": {
            "id": id, "category": "government_procurement", "name": "办公设备采购",
            "parties": [
                {"subject": {"org": obligee.0}, "name": obligee.1, "role": "甲方"},
                {"subject": {"org": obligor.0}, "name": obligor.1, "role": "乙方"}
            ],
            "summary": "采购", "amount": 100_000 * dues.len() as i64, "signed": signed,
            "milestones": milestones,
            "document_sha256": null, "source": source
        }
    })
}

/// One milestone's JSON form.
pub fn milestone(number: u32, obligor: &str, obligee: &str, due: &str) -> Value {
    json!({"number": number, "obligor": {"org": obligor}, "obligee": {"org": obligee},
        "due": due, "description": "交付", "amount": 100_000})
}

pub fn department() -> Value {
    json!("department")
}

/// Submits `ev` signed by `signer`, asserts a 200 receipt and returns it.
#[track_caller]
pub fn receipt(n: &TestNode, signer: &Signer, ev: Event) -> Value {
    let kind = ev.kind();
    let (status, body) = n.submit(&n.sign(signer, ev));
    assert_eq!(status, 200, "{kind}: {body}");
    body
}

/// Submits `ev` signed by `signer`, asserts it was accepted and returns its index.
#[track_caller]
pub fn accepted(n: &TestNode, signer: &Signer, ev: Event) -> u64 {
    receipt(n, signer, ev)["index"].as_u64().expect("index")
}

/// Asserts a JSON error answer: its status, `error` code, and a `detail`
/// naming each of `needles`.
#[track_caller]
pub fn assert_error(answer: &(u16, Value), status: u16, code: &str, needles: &[&str]) {
    assert_error_in("answer", answer, status, code, needles);
}

/// [`assert_error`], naming the case `what` in every failure message.
#[track_caller]
pub fn assert_error_in(
    what: &str,
    answer: &(u16, Value),
    status: u16,
    code: &str,
    needles: &[&str],
) {
    let (got, body) = answer;
    assert_eq!(*got, status, "{what}: status of {body}");
    assert_eq!(
        body["error"].as_str(),
        Some(code),
        "{what}: error code of {body}"
    );
    let detail = body["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no detail: {body}"));
    for n in needles {
        assert!(
            detail.contains(n),
            "{what}: detail {detail:?} does not name {n:?}"
        );
    }
}

/// Submits `ev`, asserts it is refused as [`assert_error`] says, and that
/// the log did not grow.
#[track_caller]
pub fn refused(
    n: &TestNode,
    signer: &Signer,
    ev: Event,
    status: u16,
    code: &str,
    needles: &[&str],
) {
    let before = n.size();
    assert_error(&n.submit(&n.sign(signer, ev)), status, code, needles);
    assert_eq!(n.size(), before, "a refused submission appended something");
}

/// GETs `path`, asserts 200 and parses the JSON body.
#[track_caller]
pub fn get_json(n: &TestNode, path: &str) -> Value {
    let (status, body) = n.get(path);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// Polls `pred` until it holds (10 s at most).
#[track_caller]
pub fn wait_until(what: &str, mut pred: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until the log has not grown for 200 ms (ten tick intervals of
/// [`quick_node`]): every deadline that has passed has fired.
pub fn settle(n: &TestNode) -> u64 {
    let mut size = n.size();
    let mut quiet_since = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(10);
    while quiet_since.elapsed() < Duration::from_millis(200) {
        assert!(Instant::now() < deadline, "the log does not settle");
        std::thread::sleep(Duration::from_millis(10));
        let now = n.size();
        if now != size {
            size = now;
            quiet_since = Instant::now();
        }
    }
    size
}

/// Moves node time to `ms` and waits until the records it triggers are in.
pub fn set_time(n: &TestNode, ms: i64) -> u64 {
    n.clock.set(ms);
    settle(n)
}

/// A contract's history as (index, kind) pairs.
pub fn history(n: &TestNode, id: &str) -> Vec<(u64, String)> {
    let c = get_json(n, &format!("/v1/contracts/{id}?limit=1000"));
    c["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| {
            (
                h["index"].as_u64().expect("index"),
                h["kind"].as_str().expect("kind").to_string(),
            )
        })
        .collect()
}

/// Indexes of the records of `kind` in a contract's history, oldest first.
pub fn indexes_of(n: &TestNode, id: &str, kind: &str) -> Vec<u64> {
    history(n, id)
        .into_iter()
        .filter(|(_, k)| k == kind)
        .map(|(i, _)| i)
        .collect()
}

/// The closure of milestone `number` of contract `id` (`null` while open).
pub fn closure(n: &TestNode, id: &str, number: u32) -> Value {
    let c = get_json(n, &format!("/v1/contracts/{id}"));
    c["contract"]["milestones"]
        .as_array()
        .expect("milestones")
        .iter()
        .find(|m| m["number"] == number)
        .unwrap_or_else(|| panic!("{id} has no milestone {number}"))["closure"]
        .clone()
}

/// Waits until milestone `number` of `id` is closed as `want`.
#[track_caller]
pub fn wait_closure(n: &TestNode, id: &str, number: u32, want: &str) {
    wait_until(&format!("{id}#{number} closed {want}"), || {
        closure(n, id, number) == want
    });
}

/// An entity's current score.
pub fn score(n: &TestNode, uscc: &str) -> i64 {
    get_json(n, &format!("/v1/entities/{uscc}"))["score"]
        .as_i64()
        .expect("score")
}

/// An entity's score changes, newest first, as (delta, total, rule, cause).
pub fn score_changes(n: &TestNode, uscc: &str) -> Vec<(i64, i64, String, u64)> {
    get_json(n, &format!("/v1/entities/{uscc}"))["score_history"]
        .as_array()
        .expect("score history")
        .iter()
        .map(|s| {
            (
                s["delta"].as_i64().expect("delta"),
                s["total"].as_i64().expect("total"),
                s["rule"].as_str().expect("rule").to_string(),
                s["cause"].as_u64().expect("cause"),
            )
        })
        .collect()
}
