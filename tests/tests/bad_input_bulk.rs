//! Adversarial input to the bulk routes, `POST /v1/import` (NDJSON from a
//! data feed) and `POST /v1/submit/batch`: every bad row or item is refused
//! on its own with its status, `error` code and a `detail` naming the
//! problem; only the good rows are appended (checked by index and tree
//! size), and the log audits clean afterwards.

mod e2e_support;

use e2e_support::*;
use lvyue_ledger::event::Event;
use lvyue_ledger::keys::{KeyName, Signer};
use lvyue_ledger::record::Signed;
use lvyue_ledger::types::{Role, SignerName, Text};
use lvyue_node::sequencer::SequencerConfig;
use lvyue_node::server::ServerConfig;
use lvyue_tests::{TestNode, uscc};
use serde_json::{Value, json};

/// "name+0123abcd": how details name a key.
fn key_ref(s: &Signer) -> String {
    format!("{}+{:08x}", s.name().as_str(), s.id())
}

/// The office revokes `key` (registered as `name`); returns the revocation's index.
fn revoke(n: &TestNode, name: &str, key: &Signer) -> u64 {
    let ev = Event::KeyRevoked {
        name: SignerName::new(name).unwrap(),
        key_id: key.id(),
        reason: Text::new("密钥泄露").unwrap(),
    };
    accepted(n, &n.office, ev)
}

/// The JSON form of an import filing `id` with external reference `ext`,
/// between the department (uscc 1) and `obligor`.
fn import_json(id: &str, ext: &str, obligor: &str) -> Value {
    contract_json(
        id,
        "2025-12-01",
        json!({"import": {"external_ref": ext}}),
        (&uscc(1), "宝鸡市某局"),
        (obligor, "某中标企业"),
        &["2026-03-31"],
    )
}

/// One NDJSON line: `ev` signed by `signer`.
fn line(n: &TestNode, signer: &Signer, ev: Event) -> String {
    serde_json::to_string(&n.sign(signer, ev)).unwrap()
}

/// One NDJSON line: a good import row signed by `signer`, with `edit`
/// applied to the contract after signing (for values no `Event` can hold).
fn edited_line(n: &TestNode, signer: &Signer, id: &str, edit: impl Fn(&mut Value)) -> String {
    let ev = event(import_json(id, &format!("EXT-{id}"), &uscc(20)));
    let mut v = serde_json::to_value(n.sign(signer, ev)).unwrap();
    edit(&mut v["payload"]["event"]["contract"]);
    v.to_string()
}

/// A good import row of contract `id` signed by `signer`.
fn good_row(n: &TestNode, signer: &Signer, id: &str) -> String {
    edited_line(n, signer, id, |_| {})
}

/// POSTs `body` to `path`, asserts a 200 answer and returns it.
fn post_bulk(n: &TestNode, path: &str, body: Vec<u8>) -> Value {
    let ndjson = path == "/v1/import";
    let ct = if ndjson {
        "application/x-ndjson"
    } else {
        "application/json"
    };
    let a = n.post_answer(path, ct, body);
    assert_eq!(a.status, 200, "{path}: {}", a.body);
    a.json()
}

/// POSTs NDJSON `lines` (joined with newlines) to `/v1/import`.
fn import(n: &TestNode, lines: &[String]) -> Value {
    let body = format!("{}\n", lines.join("\n"));
    post_bulk(n, "/v1/import", body.into_bytes())
}

/// What a result must be: row, status, http status, error code (None when
/// accepted) and the substrings its detail must contain.
type Want<'a> = (u64, &'a str, u64, Option<&'a str>, Vec<String>);

/// Checks each result of a bulk answer against `want`, and the counts;
/// returns the indexes of the accepted rows, in row order.
#[track_caller]
fn check_results(answer: &Value, want: &[Want]) -> Vec<u64> {
    let results = answer["results"].as_array().expect("results");
    assert_eq!(results.len(), want.len(), "{answer}");
    let mut indexes = Vec::new();
    for (r, (row, status, http, error, needles)) in results.iter().zip(want) {
        let got = (
            r["row"].as_u64(),
            r["status"].as_str(),
            r["http_status"].as_u64(),
            r["error"].as_str(),
        );
        assert_eq!(got, (Some(*row), Some(*status), Some(*http), *error), "{r}");
        if error.is_none() {
            assert!(r["detail"].is_null(), "{r}");
            indexes.push(r["index"].as_u64().expect("accepted index"));
            continue;
        }
        assert!(r["index"].is_null(), "a refused row names an index: {r}");
        let detail = r["detail"]
            .as_str()
            .unwrap_or_else(|| panic!("no detail: {r}"));
        for needle in needles {
            assert!(
                detail.contains(needle.as_str()),
                "row {row}: {detail:?} lacks {needle:?}"
            );
        }
    }
    let count = |s: &str| want.iter().filter(|w| w.1 == s).count() as u64;
    assert_eq!(
        (
            answer["accepted"].as_u64(),
            answer["exists"].as_u64(),
            answer["rejected"].as_u64()
        ),
        (Some(count("accepted")), Some(0), Some(count("rejected"))),
        "{answer}"
    );
    indexes
}

/// Asserts the accepted rows took exactly the indexes `before..` (in any
/// order: rows are admitted concurrently), that the log holds nothing else,
/// and that each contract of `present` is filed at its row's index while
/// each of `absent` is not in the log.
#[track_caller]
fn check_appended(n: &TestNode, before: u64, got: &[u64], present: &[&str], absent: &[&str]) {
    let mut sorted = got.to_vec();
    sorted.sort_unstable();
    let want: Vec<u64> = (before..before + got.len() as u64).collect();
    assert_eq!(sorted, want, "indexes of the accepted rows");
    assert_eq!(n.size(), before + got.len() as u64, "the log grew by more");
    for (id, index) in present.iter().zip(got) {
        let c = get_json(n, &format!("/v1/contracts/{id}"));
        assert_eq!(c["contract"]["filed_index"].as_u64(), Some(*index), "{id}");
    }
    for id in absent {
        assert_eq!(
            n.get(&format!("/v1/contracts/{id}")).0,
            404,
            "{id} was appended"
        );
    }
}

/// An accepted row.
fn ok(row: u64) -> Want<'static> {
    (row, "accepted", 200, None, vec![])
}

/// A rejected row: its http status, error code and what its detail names.
fn no<'a>(row: u64, http: u64, code: &'a str, needles: &[&str]) -> Want<'a> {
    let needles = needles.iter().map(|s| s.to_string()).collect();
    (row, "rejected", http, Some(code), needles)
}

#[test]
fn import_refuses_rows_of_unknown_revoked_and_wrong_role_keys() {
    let n = TestNode::start();
    let feed = n.register("feed", Role::DataFeed, &uscc(9));
    let old = n.register("old-feed", Role::DataFeed, &uscc(8));
    let firm = n.register("firm", Role::MarketEntity, &uscc(2));
    let unit = n.register("unit", Role::SourceUnit, &uscc(1));
    let revoked_at = revoke(&n, "old-feed", &old);
    let stranger = Signer::generate(KeyName::new("stranger").unwrap()).unwrap();
    let before = n.size();

    let as_firm = event(import_json("GP-4", "EXT-GP-4", &uscc(2)));
    let as_unit = event(import_json("GP-5", "EXT-GP-5", &uscc(20)));
    let as_office = event(import_json("GP-6", "EXT-GP-6", &uscc(20)));
    let lines = [
        good_row(&n, &feed, "GP-1"),
        good_row(&n, &stranger, "GP-2"),
        good_row(&n, &old, "GP-3"),
        line(&n, &firm, as_firm),
        line(&n, &unit, as_unit),
        String::new(),
        line(&n, &n.office, as_office),
        good_row(&n, &feed, "GP-7"),
    ];
    let answer = import(&n, &lines);
    let office = format!("role credit_office of key {}", key_ref(&n.office));
    let firm_role = format!("market_entity key of {}", uscc(2));
    let unit_role = format!("source_unit key of {}", uscc(1));
    let revoked = format!("revoked at index {revoked_at}");
    let got = check_results(
        &answer,
        &[
            ok(1),
            no(2, 401, "unknown_key", &["unknown key", &key_ref(&stranger)]),
            no(3, 403, "revoked_key", &[&key_ref(&old), &revoked]),
            // Filings are open to market entities and source units, but
            // only a data feed may file with source import (the rules).
            no(4, 403, "not_allowed", &[&firm_role, "GP-4", "Import"]),
            no(5, 403, "not_allowed", &[&unit_role, "GP-5", "Import"]),
            // The office may not file at all (admission, A4); line 6 is blank.
            no(7, 403, "wrong_role", &[&office, "contract_filed"]),
            ok(8),
        ],
    );
    check_appended(
        &n,
        before,
        &got,
        &["GP-1", "GP-7"],
        &["GP-2", "GP-3", "GP-4", "GP-5", "GP-6"],
    );
    n.audit();
}

#[test]
fn import_refuses_bad_values_and_appends_only_the_good_rows() {
    let n = TestNode::start();
    let feed = n.register("feed", Role::DataFeed, &uscc(9));
    let before = n.size();
    let good = uscc(21);
    let right = good.chars().last().unwrap();
    let bad = format!("{}{}", &good[..17], if right == '0' { '1' } else { '0' });
    // A party and its milestone naming a USCC with a wrong check character:
    // well-formed JSON, refused by the admission checks.
    let bad_code = event(import_json("GP-3", "EXT-GP-3", &bad));
    let lines = [
        good_row(&n, &feed, "GP-1"),
        edited_line(&n, &feed, "GP-2", |c| c["signed"] = json!("2026-02-30")),
        line(&n, &feed, bad_code),
        edited_line(&n, &feed, "GP-4", |c| c["amount"] = json!(-1)),
        edited_line(&n, &feed, "GP-5", |c| {
            c["milestones"][0]["amount"] = json!(9_223_372_036_854_775_808u64)
        }),
        edited_line(&n, &feed, "GP-6", |c| {
            c["milestones"][0]["due"] = json!("2026-13-01")
        }),
        good_row(&n, &feed, "GP-7"),
    ];
    let answer = import(&n, &lines);
    let want = format!("want {right:?}");
    let got = check_results(
        &answer,
        &[
            ok(1),
            // No `Date` holds Feb 30: the row is refused when parsed.
            no(2, 400, "malformed_json", &["2026-02-30"]),
            no(3, 422, "invalid_event", &[&bad, "check character", &want]),
            no(
                4,
                400,
                "malformed_json",
                &["amount -1", "must not be negative"],
            ),
            no(
                5,
                400,
                "malformed_json",
                &["amount 9223372036854775808", "out of range"],
            ),
            no(6, 400, "malformed_json", &["2026-13-01"]),
            ok(7),
        ],
    );
    check_appended(
        &n,
        before,
        &got,
        &["GP-1", "GP-7"],
        &["GP-2", "GP-3", "GP-4", "GP-5", "GP-6"],
    );
    // A body of nothing but bad rows appends nothing.
    let size = n.size();
    let only_bad = [
        edited_line(&n, &feed, "GP-8", |c| c["amount"] = json!(-100)),
        edited_line(&n, &feed, "GP-9", |c| c["signed"] = json!("2026-02-29")),
    ];
    let answer = import(&n, &only_bad);
    check_results(
        &answer,
        &[
            no(1, 400, "malformed_json", &["amount -100"]),
            no(2, 400, "malformed_json", &["2026-02-29"]),
        ],
    );
    assert_eq!(n.size(), size);
    n.audit();
}

#[test]
fn import_body_over_the_batch_limit_is_refused_whole() {
    let n = TestNode::start_with(
        ServerConfig {
            batch_body_limit: 16_384,
            ..ServerConfig::default()
        },
        SequencerConfig::default(),
    );
    let feed = n.register("feed", Role::DataFeed, &uscc(9));
    let before = n.size();
    let ids: Vec<String> = (1..=40).map(|k| format!("GP-{k}")).collect();
    let lines: Vec<String> = ids.iter().map(|id| good_row(&n, &feed, id)).collect();
    let body = format!("{}\n", lines.join("\n")).into_bytes();
    assert!(body.len() > 16_384, "body of {} bytes", body.len());
    // The framework refuses it before the node reads a row (plain text,
    // docs/API.md "Errors"): no row is appended.
    let a = n.post_answer("/v1/import", "application/x-ndjson", body);
    assert_eq!(a.status, 413, "{}", a.body);
    assert!(a.body.contains("length limit exceeded"), "{}", a.body);
    assert_eq!(n.size(), before);
    for id in &ids {
        assert_eq!(n.get(&format!("/v1/contracts/{id}")).0, 404, "{id}");
    }
    // The same rows in bodies under the limit are imported.
    let few = &lines[..4];
    assert!(few.join("\n").len() < 16_384);
    let answer = import(&n, few);
    let got = check_results(&answer, &[ok(1), ok(2), ok(3), ok(4)]);
    check_appended(
        &n,
        before,
        &got,
        &["GP-1", "GP-2", "GP-3", "GP-4"],
        &["GP-5"],
    );
    n.audit();
}

/// A self-filed contract `id` of firm 2 (obligor) towards firm 1.
fn self_filed(id: &str) -> Value {
    contract_json(
        id,
        "2025-12-01",
        json!("self_filed"),
        (&uscc(1), "甲公司"),
        (&uscc(2), "乙公司"),
        &["2026-03-01"],
    )
}

/// A valid self-filing by `firm` whose entry is `target` bytes once
/// appended (the entry adds 116 bytes to the canonical payload: FORMAT.md's
/// submitted-entry layout). The payload grows by milestones with
/// 2,000-character descriptions, then by one-byte characters of the (empty)
/// summary and first milestone's description.
fn oversize(n: &TestNode, firm: &Signer, id: &str, target: usize) -> Signed {
    let payload_len = |v: &Value| {
        let signed = n.sign(firm, event(v.clone()));
        lvyue_ledger::codec::encode(&signed.payload).unwrap().len()
    };
    let want = target - 116;
    let mut v = self_filed(id);
    v["contract"]["summary"] = json!("");
    v["contract"]["milestones"][0]["description"] = json!("");
    let first = v["contract"]["milestones"][0].clone();
    let mut ms = vec![first.clone()];
    while payload_len(&v) + 4_000 < want {
        let mut m = first.clone();
        m["number"] = json!(ms.len() + 1);
        m["description"] = json!("x".repeat(2000));
        ms.push(m);
        v["contract"]["milestones"] = json!(ms);
    }
    let pad = want - payload_len(&v);
    assert!(pad <= 4_000, "pad {pad}");
    let summary = pad.min(2000);
    v["contract"]["summary"] = json!("y".repeat(summary));
    v["contract"]["milestones"][0]["description"] = json!("z".repeat(pad - summary));
    let signed = n.sign(firm, event(v));
    let len = lvyue_ledger::codec::encode(&signed.payload).unwrap().len();
    assert_eq!(len, want, "payload size");
    signed
}

#[test]
fn batch_refuses_each_bad_item_with_its_reason() {
    let n = TestNode::start();
    let firm = n.register("firm", Role::MarketEntity, &uscc(2));
    let gone = n.register("gone", Role::MarketEntity, &uscc(2));
    let feed = n.register("feed", Role::DataFeed, &uscc(9));
    let revoked_at = revoke(&n, "gone", &gone);
    let before = n.size();

    let edited = |id: &str, edit: &dyn Fn(&mut Value)| {
        let mut v = serde_json::to_value(n.sign(&firm, event(self_filed(id)))).unwrap();
        edit(&mut v["payload"]["event"]["contract"]);
        v
    };
    let confirm = event(json!({"type": "performance_confirmed", "contract": "C-1",
        "milestone": 1, "performed": "2026-01-01", "evidence": null}));
    let fits = oversize(&n, &firm, "C-FITS", 65_535);
    let items = json!([
        n.sign(&firm, event(self_filed("C-1"))),
        n.sign(&gone, event(self_filed("C-2"))),
        n.sign(&feed, confirm),
        edited("C-4", &|c| c["signed"] = json!("2026-02-30")),
        edited("C-5", &|c| c["milestones"][0]["amount"] = json!(-5)),
        oversize(&n, &firm, "C-BIG", 65_536),
        edited("C-7", &|c| c["amount"] =
            json!(9_223_372_036_854_775_808u64)),
        n.sign(&firm, event(self_filed("C-8"))),
        fits,
    ]);
    let answer = post_bulk(&n, "/v1/submit/batch", items.to_string().into_bytes());
    let revoked = format!("revoked at index {revoked_at}");
    let role = format!("role data_feed of key {}", key_ref(&feed));
    let got = check_results(
        &answer,
        &[
            ok(1),
            no(2, 403, "revoked_key", &[&key_ref(&gone), &revoked]),
            no(3, 403, "wrong_role", &[&role, "performance_confirmed"]),
            no(4, 400, "malformed_json", &["2026-02-30"]),
            no(
                5,
                400,
                "malformed_json",
                &["amount -5", "must not be negative"],
            ),
            no(
                6,
                413,
                "entry_too_large",
                &["entry of 65536 bytes", "limit of 65535"],
            ),
            no(
                7,
                400,
                "malformed_json",
                &["amount 9223372036854775808", "out of range"],
            ),
            ok(8),
            // Exactly at the limit is still an entry.
            ok(9),
        ],
    );
    check_appended(
        &n,
        before,
        &got,
        &["C-1", "C-8", "C-FITS"],
        &["C-2", "C-4", "C-5", "C-BIG", "C-7"],
    );
    // Each accepted item's receipt verifies offline; the entry at the limit
    // is stored whole.
    let results = answer["results"].as_array().unwrap();
    for r in results.iter().filter(|r| r["status"] == "accepted") {
        lvyue_verifier::verify_receipt(&r["receipt"].to_string(), &n.node.vkey).expect("receipt");
    }
    let big = get_json(&n, &format!("/v1/entries/{}", got[2]));
    let canonical = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        big["canonical"].as_str().expect("canonical"),
    )
    .expect("base64");
    assert_eq!(canonical.len(), 65_535, "{big}");
    n.audit();
}
