//! The read API over a real socket: a contract's status and history, an
//! entity's credit archive, lists and notices, warnings, the notification
//! feed, the supervision report (JSON and CSV), city statistics, and the
//! signed disclosure export and credit report — checked against what the
//! rules engine did, and the log audits clean afterwards.

use lvyue_ledger::book::Disclosure;
use lvyue_ledger::event::Event;
use lvyue_ledger::export::{self, CreditReport, SignedExport};
use lvyue_ledger::types::Role;
use lvyue_node::sequencer::SequencerConfig;
use lvyue_node::server::ServerConfig;
use lvyue_tests::{T0, TestNode, uscc};
use serde_json::{Value, json};
use std::time::Duration;

const DAY: i64 = 86_400_000;

fn filing(id: &str, obligee: &str, obligor: &str, due: &str) -> Event {
    serde_json::from_value(json!({
        "type": "contract_filed",
        "contract": {
            "id": id, "category": "government_procurement", "name": "办公设备采购",
            "parties": [
                {"subject": {"org": obligee}, "name": "宝鸡市某局", "role": "甲方"},
                {"subject": {"org": obligor}, "name": "某供应商", "role": "乙方"}
            ],
            "summary": "采购", "amount": 500_000, "signed": "2025-12-01",
            "milestones": [{"number": 1, "obligor": {"org": obligor}, "obligee": {"org": obligee},
                "due": due, "description": "交付", "amount": 500_000}],
            "document_sha256": null, "source": "department"
        }
    }))
    .expect("filing json")
}

fn get_json(n: &TestNode, path: &str) -> Value {
    let (status, body) = n.get(path);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).expect("json")
}

fn wait_size(n: &TestNode, at_least: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while n.size() < at_least {
        assert!(std::time::Instant::now() < deadline, "log did not grow");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn each_reader_sees_what_the_rules_did() {
    let n = TestNode::start_with(
        ServerConfig::default(),
        SequencerConfig {
            tick_interval: Duration::from_millis(20),
            ..SequencerConfig::default()
        },
    );
    let dept = n.register("dept", Role::SourceUnit, &uscc(1));
    let firm = uscc(2);
    // Two contracts that will default (black list) and one performed on time.
    for (id, due) in [
        ("BJ-1", "2026-01-10"),
        ("BJ-2", "2026-01-12"),
        ("BJ-3", "2026-03-01"),
    ] {
        let (s, b) = n.submit(&n.sign(&dept, filing(id, &uscc(1), &firm, due)));
        assert_eq!(s, 200, "{b}");
    }
    // Warnings before anything is due: BJ-1 and BJ-2 due soon for the firm.
    let w = get_json(&n, &format!("/v1/warnings?org={firm}&days=15"));
    let soon: Vec<&str> = w["due_soon"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["contract"].as_str().unwrap())
        .collect();
    assert_eq!(soon, ["BJ-1", "BJ-2"], "{w}");
    assert!(w["overdue"].as_array().unwrap().is_empty());

    let confirm: Event = serde_json::from_value(json!({"type": "performance_confirmed",
        "contract": "BJ-3", "milestone": 1, "performed": "2026-01-01", "evidence": null}))
    .unwrap();
    let (s, b) = n.submit(&n.sign(&dept, confirm));
    assert_eq!(s, 200, "{b}");

    // Past both grace periods: two defaults, a demand notice, the black list.
    let before = n.size();
    n.clock.set(T0 + 40 * DAY);
    wait_size(&n, before + 10);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let b = get_json(&n, "/v1/lists/black");
        if !b["black_list"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no black listing: {b}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    let c = get_json(&n, "/v1/contracts/BJ-1");
    assert_eq!(
        c["contract"]["milestones"][0]["closure"], "defaulted",
        "{c}"
    );
    let kinds: Vec<&str> = c["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"contract_filed"), "{kinds:?}");
    assert!(kinds.contains(&"overdue_warning") && kinds.contains(&"default_determined"));
    let c3 = get_json(&n, "/v1/contracts/BJ-3");
    assert_eq!(c3["contract"]["milestones"][0]["closure"], "on_time");
    assert_eq!(c3["contract"]["completed"], true);

    let e = get_json(&n, &format!("/v1/entities/{firm}"));
    // 1000 +1 on time +5 contract on time −20 −20 −50 demand notice.
    assert_eq!(e["score"], 916, "{e}");
    assert_eq!(e["name"], "某供应商");
    assert!(e["black_list"].is_object());
    assert!(e["red_list"].is_null());
    assert_eq!(e["contracts"].as_array().unwrap().len(), 3);
    // Archive lines are stored with the archive's rows: BJ-3 was filed
    // open, so its line must have been rewritten when it completed.
    let line = e["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "BJ-3")
        .unwrap_or_else(|| panic!("BJ-3 not in {e}"));
    assert_eq!(line["completed"], true, "{line}");
    assert_eq!(line["party_role"], "乙方", "{line}");
    let totals: Vec<i64> = e["score_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["total"].as_i64().unwrap())
        .collect();
    assert_eq!(totals.first(), Some(&916), "newest first: {totals:?}");
    assert_eq!(totals.len(), 5, "{totals:?}");
    // The archive's history: score changes merged with the other records
    // about the firm, newest first; its filings are in `contracts`, not here.
    let hist: Vec<(u64, &str)> = e["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["index"].as_u64().unwrap(), h["kind"].as_str().unwrap()))
        .collect();
    assert!(hist.windows(2).all(|w| w[0].0 > w[1].0), "{hist:?}");
    assert_eq!(
        hist.iter().filter(|h| h.1 == "score_changed").count(),
        5,
        "{hist:?}"
    );
    assert!(hist.iter().any(|h| h.1 == "default_determined"), "{hist:?}");
    assert!(!hist.iter().any(|h| h.1 == "contract_filed"), "{hist:?}");
    let score_indexes = indexes(&e["score_history"]);
    let limited = get_json(&n, &format!("/v1/entities/{firm}?limit=2"));
    assert_eq!(limited["history"].as_array().unwrap().len(), 2);
    let top2 = indexes(&limited["score_history"]);
    assert_eq!(top2, score_indexes[..2].to_vec(), "the two newest");

    // The contract's history pages in index order with a cursor.
    let all = indexes(&c["history"]);
    assert!(
        all.len() >= 4 && all.windows(2).all(|w| w[0] < w[1]),
        "{all:?}"
    );
    let p1 = get_json(&n, "/v1/contracts/BJ-1?limit=2");
    let page1 = indexes(&p1["history"]);
    assert_eq!(page1, all[..2].to_vec());
    assert_eq!(p1["next"].as_u64(), Some(all[1]));
    assert!(
        p1["contract"].get("history").is_none(),
        "history is paged beside the view"
    );
    let p2 = get_json(&n, &format!("/v1/contracts/BJ-1?limit=2&after={}", all[1]));
    let page2 = indexes(&p2["history"]);
    assert_eq!(page2, all[2..4].to_vec());
    let d = get_json(&n, &format!("/v1/entities/{}", uscc(1)));
    assert_eq!(d["filed"].as_array().unwrap().len(), 3);
    // The department is also a party (甲方) of what it filed: one row
    // serves both lists.
    assert_eq!(d["contracts"], d["filed"], "{d}");

    let feed = get_json(&n, &format!("/v1/feed/{firm}"));
    let fk: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    for k in [
        "reminder",
        "overdue",
        "default",
        "demand_notice",
        "list_changed",
    ] {
        assert!(fk.contains(&k), "{k} missing from {fk:?}");
    }

    let r = get_json(
        &n,
        &format!(
            "/v1/reports/supervision?unit={}&from=2026-01-01&to=2026-12-31",
            uscc(1)
        ),
    );
    let u = &r["units"][0];
    assert_eq!(
        (
            u["milestones_due"].as_u64(),
            u["on_time"].as_u64(),
            u["defaults"].as_u64()
        ),
        (Some(3), Some(1), Some(2)),
        "{r}"
    );
    let (status, csv) = n.get(&format!(
        "/v1/reports/supervision?unit={}&from=2026-01-01&to=2026-12-31&format=csv",
        uscc(1)
    ));
    assert_eq!(status, 200);
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .contains(",3,1,0,0,0,2,0,0.3333"),
        "{csv}"
    );

    let stats = get_json(&n, "/v1/stats");
    assert_eq!(stats["contracts"], 3);
    assert_eq!(stats["defaults"], 2);
    assert_eq!(stats["black_list"], 1);

    // The public checks the signed disclosure export.
    let (_, body) = n.get("/v1/disclosure");
    let signed: SignedExport<Disclosure> = serde_json::from_str(&body).expect("export");
    let cp = export::open(&signed, &n.node.vkey).expect("signature and checkpoint");
    assert_eq!(cp.size(), signed.content.size);
    assert_eq!(signed.content.black_list.len(), 1);
    assert_eq!(signed.content.demand_notices.len(), 1);
    assert_eq!(signed.content.black_list[0].score, 916);
    let mut forged = signed.clone();
    forged.content.black_list.clear();
    assert!(export::open(&forged, &n.node.vkey).is_err());
    let (_, csv) = n.get("/v1/disclosure?format=csv");
    assert!(csv.contains("black,"), "{csv}");

    // A lender checks the entity's credit report.
    let (_, body) = n.get(&format!("/v1/entities/{firm}/report"));
    let report: SignedExport<CreditReport> = serde_json::from_str(&body).expect("report");
    export::open(&report, &n.node.vkey).expect("report signature");
    report.content.check().expect("summary recomputes");
    assert_eq!(report.content.summary.score, 916);
    assert_eq!(report.content.summary.active_defaults.len(), 2);
    let mut raised = report.content.clone();
    raised.summary.score = 1100;
    assert!(raised.check().is_err());

    // Errors name the problem.
    assert_eq!(n.get("/v1/contracts/NOPE").0, 404);
    assert_eq!(n.get("/v1/entities/91610300MA6X0000X0").0, 400);
    assert_eq!(n.get("/v1/lists/green").0, 404);
    assert_eq!(n.get("/v1/warnings?limit=100000").0, 400);
    n.audit();
}

#[test]
fn lists_page_in_a_stable_order_that_matches_the_disclosure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("city");
    let opts = lvyue_node::demo::DemoOptions {
        firms: 30,
        contracts: 40,
        days: 450,
        start: lvyue_ledger::types::Date::parse("2025-01-01").unwrap(),
        ..Default::default()
    };
    lvyue_node::demo::build(&path, &opts).expect("demo");
    let end = lvyue_ledger::store::Store::open(&path.join("store"), &Default::default())
        .expect("store")
        .head()
        .time_ms;
    let n = TestNode::reopen(
        &path,
        ServerConfig::default(),
        SequencerConfig::default(),
        end,
    );
    let (_, body) = n.get("/v1/disclosure");
    let signed: SignedExport<Disclosure> = serde_json::from_str(&body).expect("export");
    for (list, expected) in [
        ("red", &signed.content.red_list),
        ("black", &signed.content.black_list),
    ] {
        assert!(!expected.is_empty(), "{list} list is empty");
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let p = get_json(&n, &format!("/v1/lists/{list}?limit=1{after}"));
            assert_eq!(p["total"].as_u64(), Some(expected.len() as u64));
            let items = p[format!("{list}_list")].as_array().unwrap().clone();
            assert_eq!(items.len(), 1);
            seen.extend(items);
            match p["next"].as_u64() {
                Some(k) => after = format!("&after={k}"),
                None => break,
            }
        }
        let want: Vec<Value> = expected
            .iter()
            .map(|l| serde_json::to_value(l).unwrap())
            .collect();
        assert_eq!(seen, want, "{list} pages");
        if list == "red" {
            assert!(
                want.len() > 2,
                "several pages of the red list: {}",
                want.len()
            );
        }
    }
    let p = get_json(&n, "/v1/notices?limit=1");
    assert_eq!(p["demand_notices"].as_array().unwrap().len(), 1);
    assert_eq!(
        p["total"].as_u64(),
        Some(signed.content.demand_notices.len() as u64)
    );
    n.audit();
}

#[test]
fn a_natural_person_is_found_by_commitment_and_named_as_the_log_names_them() {
    let n = TestNode::start();
    let dept = n.register("dept", Role::SourceUnit, &uscc(1));
    let commitment = lvyue_ledger::types::person_commitment(&[7; 32], "610302199001011234");
    let person = json!({"person": {"masked_name": "张某", "commitment": commitment}});
    let ev: Event = serde_json::from_value(json!({
        "type": "contract_filed",
        "contract": {
            "id": "P-1", "category": "policy_support", "name": "创业补贴协议",
            "parties": [
                {"subject": {"org": uscc(1)}, "name": "宝鸡市人社局", "role": "甲方"},
                {"subject": person, "name": "张某", "role": "乙方"}
            ],
            "summary": "补贴", "amount": 100_000, "signed": "2025-12-01",
            "milestones": [{"number": 1, "obligor": person, "obligee": {"org": uscc(1)},
                "due": "2026-06-30", "description": "经营满六个月", "amount": 100_000}],
            "document_sha256": null, "source": "department"
        }
    }))
    .expect("filing");
    let (s, b) = n.submit(&n.sign(&dept, ev));
    assert_eq!(s, 200, "{b}");
    let hex = commitment.to_hex();
    let e = get_json(&n, &format!("/v1/entities/p:{hex}"));
    assert_eq!(e["entity"], person, "{e}");
    assert_eq!(e["name"], "张某");
    assert_eq!(e["score"], 1000);
    let c = &e["contracts"][0];
    assert_eq!(
        (c["id"].as_str(), c["obligor_of"].clone()),
        (Some("P-1"), json!([1])),
        "{e}"
    );
    let (status, body) = n.get(&format!("/v1/entities/p:{hex}/report"));
    assert_eq!(status, 200, "{body}");
    let report: SignedExport<CreditReport> = serde_json::from_str(&body).expect("report");
    export::open(&report, &n.node.vkey).expect("signature");
    report.content.check().expect("summary recomputes");
    assert_eq!(report.content.summary.name, "张某");
    // Unknown and malformed commitments.
    assert_eq!(n.get(&format!("/v1/entities/p:{}", "00".repeat(32))).0, 404);
    assert_eq!(n.get("/v1/entities/p:xyz").0, 400);
    n.audit();
}

#[test]
fn metrics_expose_append_batches_latencies_and_tree_size() {
    let n = TestNode::start();
    let dept = n.register("dept", Role::SourceUnit, &uscc(1));
    let (s, b) = n.submit(&n.sign(&dept, filing("M-1", &uscc(1), &uscc(2), "2026-05-01")));
    assert_eq!(s, 200, "{b}");
    assert_eq!(n.get("/v1/contracts/M-1").0, 200);
    assert_eq!(n.get("/v1/contracts/NOPE").0, 404);
    let (status, text) = n.get("/metrics");
    assert_eq!(status, 200);
    // Counters only grow; other tests in this process may have added to them.
    let value = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from\n{text}"))
    };
    assert!(value("lvyue_entries_appended_total") >= 3.0);
    assert!(value("lvyue_batches_total") >= 1.0);
    assert!(value("lvyue_batch_size_count") >= 1.0);
    assert!(value("lvyue_submissions_total{result=\"accepted\"}") >= 2.0);
    assert!(value("lvyue_submit_latency_seconds_count") >= 2.0);
    // Every receipt waited for a flush; each flush made at least one batch durable.
    assert!(value("lvyue_flush_seconds_count") >= 1.0);
    assert!(value("lvyue_flush_batches_sum") >= value("lvyue_flush_batches_count"));
    assert!(value("lvyue_commit_latency_seconds_count") >= 1.0);
    assert!(value("lvyue_tree_size") >= 3.0);
    assert!(
        value("lvyue_http_request_seconds_count{route=\"/v1/contracts/{id}\",method=\"GET\"}")
            >= 2.0
    );
    assert!(text.contains("# TYPE lvyue_queue_depth gauge"), "{text}");
    assert!(
        text.contains("# TYPE lvyue_webhook_backlog gauge"),
        "{text}"
    );
}

/// The `index` field of every item of a JSON list.
fn indexes(list: &Value) -> Vec<u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["index"].as_u64().unwrap())
        .collect()
}

/// Between a batch's apply and its flush the store already holds the
/// batch's index rows while the published head is older. A view pinned at
/// an earlier head stands for that moment: the contract and archive
/// answers read at it show nothing recorded at or past it, and the archive
/// still fills its `limit` with older lines.
#[test]
fn answers_leave_out_what_was_recorded_at_or_past_their_head() {
    use lvyue_ledger::types::{ContractId, Subject};
    use lvyue_ledger::uscc::Uscc;
    use lvyue_node::query::{contract_at, entity_at};

    let n = TestNode::start();
    let dept = n.register("dept", Role::SourceUnit, &uscc(1));
    let firm = uscc(2);
    let (s, b) = n.submit(&n.sign(&dept, filing("BJ-1", &uscc(1), &firm, "2026-03-01")));
    assert_eq!(s, 200, "{b}");
    let old = n.node.sequencer.view().expect("a published view");
    let head = old.head().size;

    // Later batches: a second filing naming the firm, and a record about BJ-1.
    let (s, b) = n.submit(&n.sign(&dept, filing("BJ-2", &uscc(1), &firm, "2026-04-01")));
    assert_eq!(s, 200, "{b}");
    let confirm: Event = serde_json::from_value(json!({"type": "performance_confirmed",
        "contract": "BJ-1", "milestone": 1, "performed": "2026-01-01", "evidence": null}))
    .unwrap();
    let (s, b) = n.submit(&n.sign(&dept, confirm));
    assert_eq!(s, 200, "{b}");
    let now = n.node.sequencer.view().expect("a published view");
    assert!(now.head().size > head);

    let bj1 = ContractId::new("BJ-1").unwrap();
    let bj2 = ContractId::new("BJ-2").unwrap();
    let who = Subject::Org(Uscc::parse(&firm).unwrap());
    let ids = |a: &lvyue_node::query::EntityAnswer| -> Vec<String> {
        a.contracts
            .iter()
            .map(|c| c.line.id.as_str().to_string())
            .collect()
    };

    // At the current head the later records are there...
    let current = contract_at(&now, &bj1, None, 100).unwrap();
    assert!(current.history.iter().any(|h| h.index >= head));
    assert!(contract_at(&now, &bj2, None, 100).is_ok());
    assert_eq!(ids(&entity_at(&now, who.clone(), 1).unwrap()), ["BJ-2"]);

    // ...and at the earlier head they are not, though their rows are stored.
    let then = contract_at(&old, &bj1, None, 100).unwrap();
    assert_eq!(then.as_of, head);
    assert!(!then.history.is_empty());
    assert!(
        then.history.iter().all(|h| h.index < head),
        "{:?}",
        then.history
    );
    let missing = contract_at(&old, &bj2, None, 100)
        .err()
        .expect("BJ-2 hidden");
    assert_eq!(missing.status().as_u16(), 404);
    let archive = entity_at(&old, who.clone(), 1).unwrap();
    assert_eq!(archive.as_of, head);
    assert_eq!(ids(&archive), ["BJ-1"], "limit 1 is filled below the head");
    assert!(
        archive.history.iter().all(|h| h.index < head)
            && archive.score_history.iter().all(|s| s.index < head)
    );
    n.audit();
}
