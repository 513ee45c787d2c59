//! One end-to-end test per user of DESIGN.md's table "Who uses it, and for
//! what", each doing what that user needs over a real socket: the credit
//! office, a source unit, a market entity, a data feed, a service agency, a
//! lender, an auditor and the public. Every expected score is derived from
//! the rule book (docs/RULES.md) in a comment next to it, and every test ends
//! with a whole-log audit that re-derives every derived record.

mod e2e_support;

use e2e_support::*;
use lvyue_ledger::book::Disclosure;
use lvyue_ledger::event::{Event, KeyRegistration};
use lvyue_ledger::export::{self, CreditReport, SignedExport};
use lvyue_ledger::hash::sha256;
use lvyue_ledger::keys::{KeyName, Signer};
use lvyue_ledger::record::{Body, Entry};
use lvyue_ledger::rules::RuleSet;
use lvyue_ledger::tlog;
use lvyue_ledger::types::Role;
use lvyue_tests::{T0, TestNode, registration, uscc};
use serde_json::{Value, json};

const DEPT_NAME: &str = "宝鸡市某局";

fn confirm(id: &str, milestone: u32, performed: &str) -> Event {
    event(
        json!({"type": "performance_confirmed", "contract": id, "milestone": milestone,
        "performed": performed, "evidence": null}),
    )
}

fn report_default(id: &str, milestone: u32, extent: &str) -> Event {
    event(
        json!({"type": "non_performance_reported", "contract": id, "milestone": milestone,
        "extent": extent, "reason": "未按期交付"}),
    )
}

fn object(target: u64) -> Event {
    event(json!({"type": "objection_filed", "target_index": target, "statement": "已按期交付"}))
}

fn decide_objection(objection: u64, upheld: bool) -> Event {
    event(
        json!({"type": "objection_decided", "objection_index": objection,
        "upheld": upheld, "reason": "经核查"}),
    )
}

fn apply_repair(entity: &str) -> Event {
    event(json!({"type": "repair_applied", "entity": {"org": entity},
        "commitment": sha256("信用承诺书".as_bytes()).to_hex()}))
}

fn decide_repair(application: u64, approved: bool) -> Event {
    event(
        json!({"type": "repair_decided", "application_index": application,
        "approved": approved, "reason": "已整改"}),
    )
}

fn acknowledge(id: &str, party: &str) -> Event {
    event(json!({"type": "filing_acknowledged", "contract": id, "party": {"org": party}}))
}

/// The signed disclosure, checked against the log key; its content.
fn signed_disclosure(n: &TestNode) -> SignedExport<Disclosure> {
    let (status, body) = n.get("/v1/disclosure");
    assert_eq!(status, 200, "{body}");
    let signed: SignedExport<Disclosure> = serde_json::from_str(&body).expect("disclosure");
    let cp = export::open(&signed, &n.node.vkey).expect("disclosure signature and checkpoint");
    assert_eq!(cp.size(), signed.content.size);
    assert_eq!(cp.root(), signed.content.root);
    signed
}

fn org(uscc: &str) -> lvyue_ledger::types::Subject {
    lvyue_ledger::types::Subject::Org(lvyue_ledger::uscc::Uscc::parse(uscc).expect("uscc"))
}

#[test]
fn credit_office_registers_decides_publishes_and_discloses() {
    let n = quick_node();
    assert_eq!(cst("2026-01-01", 8), T0, "T0 is 08:00 CST on 2026-01-01");
    let health = get_json(&n, "/healthz");
    assert_eq!(
        (health["status"].as_str(), health["size"].as_u64()),
        (Some("ok"), Some(1))
    );

    // Registers organisations and their keys.
    let (dept_org, a_org, b_org, c_org) = (uscc(1), uscc(2), uscc(3), uscc(4));
    let dept = n.register("dept", Role::SourceUnit, &dept_org);
    let a = n.register("firm-a", Role::MarketEntity, &a_org);
    let b = n.register("firm-b", Role::MarketEntity, &b_org);
    let c = n.register("firm-c", Role::MarketEntity, &c_org);
    let archive = get_json(&n, &format!("/v1/entities/{a_org}"));
    assert_eq!(archive["name"], "测试单位");
    assert_eq!(archive["score"], 1000, "every entity starts at 1000");
    assert_eq!(archive["history"][0]["kind"], "key_registered");
    let again = Event::KeyRegistered {
        key: registration(&a, Role::MarketEntity, &a_org),
    };
    refused(&n, &n.office, again, 409, "key_exists", &["firm-a"]);

    let dept_side = (dept_org.as_str(), DEPT_NAME);
    for (id, firm, dues) in [
        ("EX-1", (a_org.as_str(), "甲公司"), &["2026-01-20"][..]),
        ("OB-1", (b_org.as_str(), "乙公司"), &["2026-01-05"][..]),
        (
            "RP-1",
            (c_org.as_str(), "丙公司"),
            &["2026-01-05", "2026-01-05"][..],
        ),
    ] {
        accepted(&n, &dept, filing(id, department(), dept_side, firm, dues));
    }

    // An exemption (accident) on a pending milestone, approved: the
    // milestone closes exempt right after the decision and no score moves
    // (RULES.md §6.9).
    let claim = accepted(
        &n,
        &a,
        event(
            json!({"type": "exemption_claimed", "contract": "EX-1", "milestone": 1,
            "ground": "accident", "event_date": "2025-12-31", "statement": "仓库失火"}),
        ),
    );
    let decide_exemption = |approved| {
        event(json!({"type": "exemption_decided", "claim_index": claim,
            "approved": approved, "reason": "情况属实"}))
    };
    let decided = accepted(&n, &n.office, decide_exemption(true));
    assert_eq!(closure(&n, "EX-1", 1), "exempt");
    assert_eq!(indexes_of(&n, "EX-1", "milestone_closed"), [decided + 1]);
    assert_eq!(score(&n, &a_org), 1000);
    assert!(score_changes(&n, &a_org).is_empty());
    refused(
        &n,
        &n.office,
        decide_exemption(false),
        409,
        "conflict",
        &["already decided"],
    );

    // 2026-01-07: OB-1 and RP-1 are overdue (due 01-05); the source unit
    // reports them unperformed, each a full default at once (§6.5).
    set_time(&n, cst("2026-01-07", 8));
    assert_eq!(indexes_of(&n, "OB-1", "overdue_warning").len(), 1);
    let reported = accepted(&n, &dept, report_default("OB-1", 1, "full"));
    let b_default = reported + 1;
    assert_eq!(indexes_of(&n, "OB-1", "default_determined"), [b_default]);
    assert_eq!(score(&n, &b_org), 980, "1000 − 20 full default");

    let r1 = accepted(&n, &dept, report_default("RP-1", 1, "full"));
    let r2 = accepted(&n, &dept, report_default("RP-1", 2, "full"));
    // Each report: DefaultDetermined, MilestoneClosed, ScoreChanged; the
    // second default within 365 days adds DemandNoticePublished (r2 + 4),
    // its −50 and the black listing (§7.1).
    let (c_d1, c_d2, notice) = (r1 + 1, r2 + 1, r2 + 4);
    assert_eq!(
        score_changes(&n, &c_org),
        [
            (-50, 910, "demand_notice".to_string(), notice),
            (-20, 960, "full_default".to_string(), c_d2),
            (-20, 980, "full_default".to_string(), c_d1),
        ]
    );

    // The objection against B's default, upheld: DefaultReversed, then the
    // exact opposite of the −20, so B is back at 1000 (§6.11).
    let objection = accepted(&n, &b, object(b_default));
    let upheld = accepted(&n, &n.office, decide_objection(objection, true));
    assert_eq!(
        indexes_of(&n, "OB-1", "default_reversed"),
        [upheld + 1],
        "DefaultReversed follows the decision"
    );
    assert_eq!(
        score_changes(&n, &b_org)[0],
        (20, 1000, "reversal".to_string(), upheld + 1)
    );
    assert_eq!(score(&n, &b_org), 1000, "restored exactly");

    // The office publishes the disclosure: C listed with its notice.
    let d = signed_disclosure(&n).content;
    assert_eq!(d.black_list.len(), 1, "{d:?}");
    let listed = &d.black_list[0];
    assert_eq!((&listed.entity, listed.score), (&org(&c_org), 910));
    assert_eq!(
        (listed.since.to_string(), listed.cause),
        ("2026-01-07".into(), notice)
    );
    let nt = &d.demand_notices[0];
    assert_eq!((nt.index, nt.defaults.clone()), (notice, vec![c_d1, c_d2]));
    // Minimum publicity 90 days, maximum 365 (2026 is not a leap year).
    assert_eq!(
        (nt.repair_from.to_string(), nt.publicity_until.to_string()),
        ("2026-04-07".to_string(), "2027-01-07".to_string())
    );

    // Repair: refused on day 89 of the listing, admitted on day 90.
    set_time(&n, cst("2026-04-06", 8));
    refused(
        &n,
        &c,
        apply_repair(&c_org),
        422,
        "invalid_event",
        &["90 days", "earliest 2026-04-07"],
    );
    set_time(&n, cst("2026-04-07", 8));
    let application = accepted(&n, &c, apply_repair(&c_org));
    // The office may not approve while both defaults stand unperformed (§7.1).
    refused(
        &n,
        &n.office,
        decide_repair(application, true),
        422,
        "invalid_event",
        &["RP-1#1", "RP-1#2"],
    );
    for m in [1, 2] {
        let before = n.size();
        let at = accepted(&n, &dept, confirm("RP-1", m, "2026-04-01"));
        assert_eq!((at, n.size()), (before, before + 1), "no derived record");
    }
    let approved = accepted(&n, &n.office, decide_repair(application, true));
    // 1000 − 20 − 20 − 50 + 50: the repair restores the notice's deduction only.
    assert_eq!(
        score_changes(&n, &c_org)[0],
        (50, 960, "repair".to_string(), approved)
    );
    let archive = get_json(&n, &format!("/v1/entities/{c_org}"));
    assert!(archive["black_list"].is_null(), "{archive}");
    let d = signed_disclosure(&n).content;
    assert!(
        d.black_list.is_empty() && d.demand_notices.is_empty(),
        "{d:?}"
    );

    // A rule set must raise the version; v2 makes a partial default −15.
    refused(
        &n,
        &n.office,
        Event::RuleSetPublished {
            rules: RuleSet::default(),
        },
        422,
        "invalid_event",
        &["version 1"],
    );
    let v2 = RuleSet {
        version: 2,
        partial_default_delta: -15,
        ..RuleSet::default()
    };
    accepted(&n, &n.office, Event::RuleSetPublished { rules: v2 });
    let late = filing_signed(
        "OB-2",
        "2026-04-01",
        department(),
        dept_side,
        (b_org.as_str(), "乙公司"),
        &["2026-04-08"],
    );
    accepted(&n, &dept, late);
    set_time(&n, cst("2026-04-10", 8));
    let reported = accepted(&n, &dept, report_default("OB-2", 1, "partial"));
    assert_eq!(
        score_changes(&n, &b_org)[0],
        (-15, 985, "partial_default".to_string(), reported + 1),
        "v2's partial default (v1 would be −10)"
    );

    let size = settle(&n);
    let metrics = n.get("/metrics").1;
    let tree_size = metrics
        .lines()
        .find_map(|l| l.strip_prefix("lvyue_tree_size "))
        .unwrap_or_else(|| panic!("no tree size in {metrics}"));
    assert_eq!(tree_size.trim().parse::<u64>().ok(), Some(size));
    assert_eq!(n.audit().size, size);
}

#[test]
fn source_unit_files_confirms_is_warned_and_reads_its_report() {
    let n = quick_node();
    let (dept_org, firm_org) = (uscc(1), uscc(2));
    let dept = n.register("dept", Role::SourceUnit, &dept_org);
    let dept_side = (dept_org.as_str(), DEPT_NAME);
    let firm = (firm_org.as_str(), "某供应商");
    for (id, due) in [
        ("S-1", "2026-01-10"),
        ("S-2", "2026-01-20"),
        ("S-3", "2026-01-15"),
    ] {
        accepted(&n, &dept, filing(id, department(), dept_side, firm, &[due]));
    }

    // Due within 15 days of 01-01: S-1 (01-10) and S-3 (01-15), soonest first.
    let w = get_json(&n, &format!("/v1/warnings?org={dept_org}&days=15"));
    let soon: Vec<(&str, i64)> = w["due_soon"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["contract"].as_str().unwrap(),
                i["days_left"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(soon, [("S-1", 9), ("S-3", 14)], "{w}");
    assert!(w["overdue"].as_array().unwrap().is_empty());

    // S-1 performed on 01-08, confirmed on 01-09: on time, +1 and +5.
    set_time(&n, cst("2026-01-09", 10));
    accepted(&n, &dept, confirm("S-1", 1, "2026-01-08"));
    assert_eq!(score(&n, &firm_org), 1006);

    // 01-20: S-3 (due 01-15) has been overdue since 01-16 00:00 CST.
    set_time(&n, cst("2026-01-20", 8));
    let w = get_json(&n, &format!("/v1/warnings?org={dept_org}&days=15"));
    let overdue = &w["overdue"].as_array().unwrap()[..];
    assert_eq!(overdue.len(), 1, "{w}");
    assert_eq!(
        (
            overdue[0]["contract"].as_str(),
            overdue[0]["days_left"].as_i64()
        ),
        (Some("S-3"), Some(-5))
    );
    assert_eq!(w["due_soon"][0]["contract"], "S-2", "due today: {w}");
    let feed = get_json(&n, &format!("/v1/feed/{dept_org}"));
    let items = feed["items"].as_array().unwrap();
    let warned = items
        .iter()
        .find(|i| i["kind"] == "overdue")
        .unwrap_or_else(|| panic!("no overdue notification: {feed}"));
    assert_eq!(
        (warned["contract"].as_str(), warned["as_role"].as_str()),
        (Some("S-3"), Some("obligee"))
    );
    assert!(
        items
            .iter()
            .any(|i| i["kind"] == "reminder" && i["contract"] == "S-2")
    );
    let indexes: Vec<u64> = items.iter().map(|i| i["index"].as_u64().unwrap()).collect();
    assert!(indexes.windows(2).all(|w| w[0] < w[1]), "feed in log order");
    // Now: 3 milestones due in 2026, S-1 on time, S-3 overdue, S-2 due
    // today (not yet overdue): on-time rate 1 / (1 + 1).
    let path = format!("/v1/reports/supervision?unit={dept_org}&from=2026-01-01&to=2026-12-31");
    let u = get_json(&n, &path)["units"][0].clone();
    let counts = |u: &Value| -> Vec<u64> {
        [
            "contracts_filed",
            "milestones_due",
            "on_time",
            "late",
            "deemed",
            "overdue_now",
            "defaults",
            "exemptions",
        ]
        .iter()
        .map(|k| u[k].as_u64().unwrap())
        .collect()
    };
    assert_eq!(counts(&u), [3, 3, 1, 0, 0, 1, 0, 0], "{u}");
    assert_eq!(u["on_time_rate"].as_f64(), Some(0.5));

    // S-2 performed 01-22 (due 01-20): late, −2.
    set_time(&n, cst("2026-01-23", 8));
    accepted(&n, &dept, confirm("S-2", 1, "2026-01-22"));
    assert_eq!(closure(&n, "S-2", 1), "late");
    // S-3 defaults at 00:00 CST on 01-31 (01-15 + 1 + 15 grace days): −20.
    set_time(&n, cst("2026-02-01", 8));
    wait_closure(&n, "S-3", 1, "defaulted");
    assert_eq!(score(&n, &firm_org), 984, "1000 + 1 + 5 − 2 − 20");
    let feed = get_json(&n, &format!("/v1/feed/{dept_org}"));
    assert!(
        feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "default" && i["contract"] == "S-3"),
        "{feed}"
    );
    let w = get_json(&n, &format!("/v1/warnings?org={dept_org}&days=30"));
    assert!(
        w["overdue"].as_array().unwrap().is_empty() && w["due_soon"].as_array().unwrap().is_empty(),
        "{w}"
    );

    // The unit's own report: 3 filed and due; 1 on time, 1 late, 1 default:
    // on-time rate 1 / 3.
    let r = get_json(&n, &path);
    assert_eq!(r["units"].as_array().unwrap().len(), 1);
    let u = &r["units"][0];
    assert_eq!(counts(u), [3, 3, 1, 1, 0, 0, 1, 0], "{r}");
    assert_eq!(u["name"], DEPT_NAME);
    assert!(u["rank"].is_null(), "one unit is not ranked");
    let (status, csv) = n.get(&format!("{path}&format=csv"));
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "rank,unit,name,contracts_filed,milestones_due,on_time,late,deemed,overdue_now,defaults,exemptions,on_time_rate"
    );
    assert_eq!(
        lines[1],
        format!(",{dept_org},{DEPT_NAME},3,3,1,1,0,0,1,0,0.3333")
    );
    assert_eq!(lines[2..], [""], "one row, CRLF-terminated");
    // 01-16…01-31 holds only S-2's due date (late; filed before the period).
    let u = get_json(
        &n,
        &format!("/v1/reports/supervision?unit={dept_org}&from=2026-01-16&to=2026-01-31"),
    )["units"][0]
        .clone();
    assert_eq!(counts(&u), [0, 1, 0, 1, 0, 0, 0, 0], "{u}");
    assert_eq!(u["on_time_rate"].as_f64(), Some(0.0));
    let filed = get_json(&n, &format!("/v1/entities/{dept_org}"))["filed"].clone();
    assert_eq!(filed.as_array().unwrap().len(), 3);
    n.audit();
}
