//! The built `lvyue-node` binary as a user drives it: a node started with
//! `lvyue-node serve` on a free port, keys made with `keygen`, events signed
//! locally by the client commands, receipts printed, saved and verified
//! offline; refusals (by the node, or locally before anything is sent) exit
//! non-zero and name the problem; `import --dry-run` shows the exact body;
//! `serve --print-config` shows the configuration precedence.

use base64::Engine as _;
use lvyue_ledger::checkpoint::Origin;
use lvyue_ledger::event::Event;
use lvyue_ledger::keys::VerifierKey;
use lvyue_ledger::record::{Body, Entry, Signed};
use lvyue_ledger::tlog_proof::TlogProof;
use lvyue_ledger::uscc::Uscc;
use serde_json::{Value, json};
use std::path::Path;

mod support;
use support::{Node, run};

fn uscc(n: u32) -> String {
    Uscc::with_check(&format!("9161030{n:010}"))
        .unwrap()
        .to_string()
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_string()
}

fn contract_json(dept: &str, firm: &str, amount: i64) -> Value {
    json!({
        "id": "BJ-CLI-1", "category": "government_procurement", "name": "办公设备采购",
        "parties": [
            {"subject": {"org": dept}, "name": "宝鸡市某局", "role": "甲方"},
            {"subject": {"org": firm}, "name": "某科技有限公司", "role": "乙方"}
        ],
        "summary": "采购一批", "amount": amount, "signed": "2025-01-02",
        "milestones": [{"number": 1, "obligor": {"org": firm}, "obligee": {"org": dept},
            "due": "2099-12-31", "description": "交付", "amount": amount}],
        "document_sha256": null, "source": "department"
    })
}

/// Checks a saved receipt offline: the proof proves the receipt's entry
/// under the node's key, and the entry holds an event of `kind`.
fn check_receipt(receipt: &Path, vkey: &str, origin: &str, kind: &str) -> Entry {
    let r: Value = serde_json::from_str(&std::fs::read_to_string(receipt).unwrap()).unwrap();
    let entry = base64::engine::general_purpose::STANDARD
        .decode(r["entry"].as_str().unwrap())
        .unwrap();
    let proof_text = std::fs::read_to_string(receipt.with_extension("tlog-proof")).unwrap();
    assert_eq!(proof_text, r["proof"].as_str().unwrap());
    let proof = TlogProof::parse(&proof_text).unwrap();
    assert_eq!(proof.index(), r["index"].as_u64().unwrap());
    let vkey = VerifierKey::parse(vkey).unwrap();
    proof
        .verify(&entry, &Origin::new(origin).unwrap(), &vkey)
        .expect("receipt proves its entry");
    let entry = Entry::decode(&entry).unwrap();
    let Body::Submitted(Signed { payload, .. }) = &entry.body else {
        panic!("not a submission")
    };
    assert_eq!(payload.event.kind(), kind);
    entry
}

#[test]
fn register_file_acknowledge_confirm_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("data"));
    let (dept_uscc, firm_uscc) = (uscc(1), uscc(2));
    let (dept_key, firm_key) = (path(dir.path(), "dept.key"), path(dir.path(), "firm.key"));
    let office = node.office_key();

    let status = node.run(&["status", "--json"]).ok().json();
    let origin = status["log"]["origin"].as_str().unwrap().to_string();
    let vkey = status["log"]["vkey"].as_str().unwrap().to_string();
    assert_eq!(status["log"]["size"], 1, "genesis only: {status}");
    let human = node.run(&["status"]).ok().stdout;
    assert!(
        human.contains(&format!("origin  {origin}")) && human.contains("size    1"),
        "{human}"
    );

    // keygen prints the verifier key; register takes it (or the key file).
    let dept_vkey = run(&["keygen", "--out", &dept_key, "--name", "dept"], &[])
        .ok()
        .stdout;
    assert!(dept_vkey.starts_with("dept+"), "{dept_vkey}");
    run(&["keygen", "--out", &firm_key, "--name", "firm"], &[]).ok();
    let out = node
        .run(&[
            "register",
            "--key",
            &office,
            "--holder-uscc",
            &dept_uscc,
            "--holder-name",
            "宝鸡市某局",
            "--role",
            "source_unit",
            "--pubkey",
            dept_vkey.trim(),
        ])
        .ok()
        .stdout;
    assert!(
        out.starts_with("accepted key_registered at index 1 (leaf "),
        "{out}"
    );
    let receipt = dir.path().join("firm-reg.json");
    let out = node
        .run(&[
            "register",
            "--json",
            "--key",
            &office,
            "--holder-uscc",
            &firm_uscc,
            "--holder-name",
            "某科技有限公司",
            "--role",
            "market_entity",
            "--key-file",
            &firm_key,
            "--valid-from",
            "2025-01-01",
            "--receipt",
            receipt.to_str().unwrap(),
        ])
        .ok()
        .json();
    assert_eq!(out["index"], 2, "{out}");
    let entry = check_receipt(&receipt, &vkey, &origin, "key_registered");
    let Body::Submitted(s) = entry.body else {
        unreachable!()
    };
    let Event::KeyRegistered { key } = s.payload.event else {
        unreachable!()
    };
    assert_eq!(key.name.as_str(), "firm");
    assert_eq!(
        key.valid_from_ms,
        Some(1_735_660_800_000),
        "2025-01-01 00:00 CST"
    );

    // File from a Contract JSON file, signed by the department.
    let contract = dir.path().join("contract.json");
    std::fs::write(
        &contract,
        contract_json(&dept_uscc, &firm_uscc, 500_000).to_string(),
    )
    .unwrap();
    let receipt = dir.path().join("filed.json");
    let out = node
        .run(&[
            "file",
            "--key",
            &dept_key,
            "--contract",
            contract.to_str().unwrap(),
            "--receipt",
            receipt.to_str().unwrap(),
        ])
        .ok()
        .stdout;
    assert!(
        out.contains("accepted contract_filed at index 3") && out.contains("filed.json"),
        "{out}"
    );
    check_receipt(&receipt, &vkey, &origin, "contract_filed");

    // The firm acknowledges; the department confirms performance.
    let out = node
        .run(&[
            "acknowledge",
            "--key",
            &firm_key,
            "--contract",
            "BJ-CLI-1",
            "--party",
            &firm_uscc,
        ])
        .ok()
        .stdout;
    assert!(
        out.starts_with("accepted filing_acknowledged at index 4"),
        "{out}"
    );
    let receipt = dir.path().join("confirmed.json");
    let out = node
        .run(&[
            "--json",
            "confirm",
            "--key",
            &dept_key,
            "--contract",
            "BJ-CLI-1",
            "--milestone",
            "1",
            "--performed",
            "2025-06-01",
            "--evidence",
            &"ab".repeat(32),
            "--receipt",
            receipt.to_str().unwrap(),
        ])
        .ok()
        .json();
    assert_eq!(out["index"], 5);
    assert!(
        out["proof"]
            .as_str()
            .unwrap()
            .starts_with("c2sp.org/tlog-proof@v1\n")
    );
    let entry = check_receipt(&receipt, &vkey, &origin, "performance_confirmed");
    assert_eq!(entry.index, 5);

    // Confirmation closes the milestone on time: derived records follow it.
    let size = node.run(&["status", "--json"]).ok().json()["log"]["size"]
        .as_u64()
        .unwrap();
    assert!(
        size > 6,
        "derived records after the confirmation, size {size}"
    );
}

#[test]
fn refusals_exit_non_zero_and_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("data"));
    let office = node.office_key();
    let firm_key = path(dir.path(), "firm.key");
    let firm_vkey = run(&["keygen", "--out", &firm_key, "--name", "firm"], &[])
        .ok()
        .stdout;
    node.run(&[
        "register",
        "--key",
        &office,
        "--holder-uscc",
        &uscc(2),
        "--holder-name",
        "某公司",
        "--role",
        "market_entity",
        "--pubkey",
        firm_vkey.trim(),
    ])
    .ok();

    // Wrong role: a market entity's key cannot register keys. The node refuses.
    let other = path(dir.path(), "other.key");
    let other_vkey = run(&["keygen", "--out", &other, "--name", "other"], &[])
        .ok()
        .stdout;
    let r = node.run(&[
        "register",
        "--key",
        &firm_key,
        "--holder-uscc",
        &uscc(3),
        "--holder-name",
        "别的公司",
        "--role",
        "market_entity",
        "--pubkey",
        other_vkey.trim(),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("refused by the node (403 wrong_role)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("market_entity"), "{}", r.stderr);
    let r = node.run(&[
        "--json",
        "register",
        "--key",
        &firm_key,
        "--holder-uscc",
        &uscc(3),
        "--holder-name",
        "别的公司",
        "--role",
        "market_entity",
        "--pubkey",
        other_vkey.trim(),
    ]);
    assert_eq!(r.code, 1);
    let e = r.json();
    assert_eq!(
        (e["error"].as_str(), e["status"].as_u64()),
        (Some("wrong_role"), Some(403)),
        "{e}"
    );

    let size_before = node.run(&["status", "--json"]).ok().json()["log"]["size"].clone();

    // A USCC with a wrong check character is caught locally: nothing is sent.
    let r = node.run(&[
        "--json",
        "register",
        "--key",
        &office,
        "--holder-uscc",
        "91350100M000100Y44",
        "--holder-name",
        "某公司",
        "--role",
        "market_entity",
        "--pubkey",
        other_vkey.trim(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("uscc 91350100M000100Y44: check character is '4', want '3'"),
        "{}",
        r.stderr
    );
    assert_eq!(r.json()["error"], "invalid_input");
    // A character outside the alphabet is refused while parsing the flag.
    let r = node.run(&[
        "register",
        "--key",
        &office,
        "--holder-uscc",
        "91350100M000100YI3",
        "--holder-name",
        "某公司",
        "--role",
        "market_entity",
        "--pubkey",
        other_vkey.trim(),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("invalid character 'I' at position 17"),
        "{}",
        r.stderr
    );

    // Negative amounts: in flags and in a contract file.
    let r = node.run(&[
        "file",
        "--key",
        &firm_key,
        "--source",
        "self_filed",
        "--id",
        "C-1",
        "--category",
        "commercial",
        "--name",
        "合同",
        "--amount",
        "-5",
        "--signed",
        "2025-01-01",
        "--party",
        &format!("{}|甲|甲方", uscc(1)),
        "--party",
        &format!("{}|乙|乙方", uscc(2)),
        "--milestone",
        "1|b>a|2026-01-01|5|交付",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("amount -5: must not be negative"),
        "{}",
        r.stderr
    );
    let contract = dir.path().join("neg.json");
    std::fs::write(&contract, contract_json(&uscc(1), &uscc(2), -7).to_string()).unwrap();
    let r = node.run(&[
        "file",
        "--key",
        &firm_key,
        "--contract",
        contract.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("amount -7: must not be negative"),
        "{}",
        r.stderr
    );
    // A milestone amount beyond i64.
    let r = node.run(&[
        "file",
        "--key",
        &firm_key,
        "--source",
        "self_filed",
        "--id",
        "C-1",
        "--category",
        "commercial",
        "--name",
        "合同",
        "--amount",
        "5",
        "--signed",
        "2025-01-01",
        "--party",
        &format!("{}|甲|甲方", uscc(1)),
        "--party",
        &format!("{}|乙|乙方", uscc(2)),
        "--milestone",
        "1|b>a|2026-01-01|99999999999999999999|交付",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("milestone 1: amount 99999999999999999999: out of range"),
        "{}",
        r.stderr
    );

    // The flags form files for real once the values are right.
    let out = node
        .run(&[
            "file",
            "--key",
            &firm_key,
            "--source",
            "self_filed",
            "--id",
            "C-1",
            "--category",
            "commercial",
            "--name",
            "合同",
            "--amount",
            "5",
            "--signed",
            "2025-01-01",
            "--party",
            &format!("{}|甲|甲方", uscc(1)),
            "--party",
            &format!("{}|乙|乙方", uscc(2)),
            "--milestone",
            "1|b>a|2099-01-01|5|交付",
        ])
        .ok()
        .stdout;
    assert!(out.starts_with("accepted contract_filed"), "{out}");
    let size_after = node.run(&["status", "--json"]).ok().json()["log"]["size"].clone();
    assert_eq!(
        size_after.as_u64(),
        size_before.as_u64().map(|s| s + 1),
        "nothing refused locally reached the log"
    );

    // A node that is not there.
    let r = run(&["status"], &[("LVYUE_NODE", "http://127.0.0.1:1")]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("http://127.0.0.1:1/v1/log"),
        "{}",
        r.stderr
    );
}

#[test]
fn import_dry_run_prints_the_request_body_and_names_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let feed = path(dir.path(), "feed.key");
    run(&["keygen", "--out", &feed, "--name", "feed"], &[]).ok();
    let (a, b) = (uscc(1), uscc(2));
    let csv = format!(
        "external_ref,id,category,name,amount_fen,signed,party_a,party_a_name,party_a_role,party_b,party_b_name,party_b_role,milestones\n\
         R-1,BJ-1,construction,工程,100,2025-01-01,{a},局,甲方,{b},公司,乙方,1|b>a|2025-06-01|100|竣工\n\
         R-2,BJ-2,construction,工程,100.5,2025-01-01,{a},局,甲方,{b},公司,乙方,1|b>a|2025-06-01|100|竣工\n\
         R-3,BJ-3,construction,工程,7,2025-01-01,{a},局,甲方,{b},公司,乙方,1|b>a|2025-06-01|7|竣工\n"
    );
    let file = dir.path().join("rows.csv");
    std::fs::write(&file, csv).unwrap();
    let r = run(
        &[
            "import",
            "--feed-key",
            &feed,
            "--origin",
            "lvyue.test/log",
            "--dry-run",
            file.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(r.code, 1, "a rejected row makes the import fail");
    assert!(
        r.stderr
            .contains("row 2 (R-2): rejected: invalid_row line 3: amount_fen: amount \"100.5\""),
        "{}",
        r.stderr
    );
    let lines: Vec<Signed> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for (s, (id, ext)) in lines.iter().zip([("BJ-1", "R-1"), ("BJ-3", "R-3")]) {
        let Event::ContractFiled { contract } = &s.payload.event else {
            panic!("not a filing")
        };
        assert_eq!(contract.id.as_str(), id);
        assert_eq!(
            serde_json::to_value(&contract.source).unwrap(),
            json!({"import": {"external_ref": ext}})
        );
        assert_eq!(s.payload.signer.name.as_str(), "feed");
    }
    // The same input gives the same body (nonce 0, deterministic signatures).
    let again = run(
        &[
            "import",
            "--feed-key",
            &feed,
            "--origin",
            "lvyue.test/log",
            "--dry-run",
            "--format",
            "csv",
            file.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(again.stdout, r.stdout);
}

#[test]
fn serve_settings_come_from_flag_then_env_then_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("lvyue.toml"), "max_batch = 10\nrate_burst = 3\n").unwrap();
    let d = data.to_str().unwrap();
    let settings = |args: &[&str], env: &[(&str, &str)]| -> toml::Table {
        let mut all = vec!["serve", "--print-config", "--data", d];
        all.extend_from_slice(args);
        let r = run(&all, env).ok();
        assert!(
            r.stdout
                .starts_with(&format!("# config file {d}/lvyue.toml\n")),
            "{}",
            r.stdout
        );
        r.stdout.parse().unwrap()
    };
    let s = settings(&[], &[]);
    assert_eq!(s["max_batch"].as_integer(), Some(10), "file over default");
    assert_eq!(s["rate_burst"].as_integer(), Some(3));
    assert_eq!(s["max_wait_ms"].as_integer(), Some(0), "default");
    let s = settings(&[], &[("LVYUE_MAX_BATCH", "20")]);
    assert_eq!(s["max_batch"].as_integer(), Some(20), "env over file");
    let s = settings(&["--max-batch", "30"], &[("LVYUE_MAX_BATCH", "20")]);
    assert_eq!(s["max_batch"].as_integer(), Some(30), "flag over env");
    assert_eq!(s["rate_burst"].as_integer(), Some(3));

    let r = run(
        &["serve", "--print-config", "--data", d],
        &[("LVYUE_MAX_BATCH", "lots")],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("LVYUE_MAX_BATCH=\"lots\""),
        "{}",
        r.stderr
    );
}

/// Every signing command maps its flags to the event it names (checked on
/// the signed JSON that `--dry-run` prints, with no node involved).
#[test]
fn each_command_builds_its_event() {
    let dir = tempfile::tempdir().unwrap();
    let key = path(dir.path(), "k.key");
    let vkey = run(&["keygen", "--out", &key, "--name", "k"], &[])
        .ok()
        .stdout;
    let (a, b) = (uscc(1), uscc(2));
    let doc = dir.path().join("doc.txt");
    std::fs::write(&doc, "承诺书").unwrap();
    let doc_sha = lvyue_ledger::hash::sha256("承诺书".as_bytes()).to_hex();
    let h = "cd".repeat(32);
    let ms = format!("1|{b}>{a}|2026-03-01|5|改期");
    // A contract file without a source, which --source supplies.
    let mut c = contract_json(&a, &b, 9);
    c.as_object_mut().unwrap().remove("source");
    let cfile = dir.path().join("c.json");
    std::fs::write(&cfile, c.to_string()).unwrap();
    c["source"] = json!({"delegated": {"principal": b}});
    let party_a = format!("{a}|甲|甲方");
    let party_b = format!("{b}|乙|乙方");
    let delegated = format!("delegated:{b}");
    let cases: Vec<(Vec<&str>, Value)> = vec![
        (
            vec![
                "file",
                "--contract",
                cfile.to_str().unwrap(),
                "--source",
                &delegated,
            ],
            json!({"type": "contract_filed", "contract": c}),
        ),
        (
            vec![
                "file",
                "--source",
                "department",
                "--id",
                "C-9",
                "--category",
                "construction",
                "--name",
                "工程",
                "--amount",
                "12",
                "--signed",
                "2025-02-03",
                "--party",
                &party_a,
                "--party",
                &party_b,
                "--milestone",
                "1|b>a|2025-03-01|12|竣工",
                "--document",
                doc.to_str().unwrap(),
            ],
            json!({"type": "contract_filed", "contract": {
                "id": "C-9", "category": "construction", "name": "工程",
                "parties": [{"subject": {"org": a}, "name": "甲", "role": "甲方"},
                            {"subject": {"org": b}, "name": "乙", "role": "乙方"}],
                "summary": "", "amount": 12, "signed": "2025-02-03",
                "milestones": [{"number": 1, "obligor": {"org": b}, "obligee": {"org": a},
                                "due": "2025-03-01", "description": "竣工", "amount": 12}],
                "document_sha256": doc_sha, "source": "department"}}),
        ),
        (
            vec!["revoke", "--key-id", vkey.trim(), "--reason", "离职"],
            json!({"type": "key_revoked", "name": "k", "key_id": u32::from_str_radix(&vkey.trim()[2..10], 16).unwrap(), "reason": "离职"}),
        ),
        (
            vec![
                "revoke", "--name", "x", "--key-id", "0A0B0C0D", "--reason", "r",
            ],
            json!({"type": "key_revoked", "name": "x", "key_id": 0x0a0b_0c0d, "reason": "r"}),
        ),
        (
            vec![
                "amend",
                "--contract",
                "C-1",
                "--amendment",
                "1",
                "--milestone",
                &ms,
                "--reason",
                "协商一致",
            ],
            json!({"type": "contract_amended", "contract": "C-1", "amendment": 1, "reason": "协商一致",
                   "milestones": [{"number": 1, "obligor": {"org": b}, "obligee": {"org": a}, "due": "2026-03-01", "description": "改期", "amount": 5}]}),
        ),
        (
            vec![
                "claim",
                "--contract",
                "C-1",
                "--milestone",
                "2",
                "--performed",
                "2026-01-03",
                "--evidence-file",
                doc.to_str().unwrap(),
            ],
            json!({"type": "performance_claimed", "contract": "C-1", "milestone": 2, "performed": "2026-01-03", "evidence": doc_sha}),
        ),
        (
            vec![
                "dispute",
                "--contract",
                "C-1",
                "--milestone",
                "2",
                "--reason",
                "未交付",
            ],
            json!({"type": "claim_disputed", "contract": "C-1", "milestone": 2, "reason": "未交付"}),
        ),
        (
            vec![
                "report-default",
                "--contract",
                "C-1",
                "--milestone",
                "1",
                "--extent",
                "partial",
                "--reason",
                "短缺",
            ],
            json!({"type": "non_performance_reported", "contract": "C-1", "milestone": 1, "extent": "partial", "reason": "短缺"}),
        ),
        (
            vec![
                "claim-exemption",
                "--contract",
                "C-1",
                "--milestone",
                "1",
                "--ground",
                "force_majeure",
                "--event-date",
                "2026-01-02",
                "--statement",
                "洪水",
            ],
            json!({"type": "exemption_claimed", "contract": "C-1", "milestone": 1, "ground": "force_majeure", "event_date": "2026-01-02", "statement": "洪水"}),
        ),
        (
            vec![
                "decide",
                "exemption",
                "--claim-index",
                "7",
                "--refuse",
                "--reason",
                "不符",
            ],
            json!({"type": "exemption_decided", "claim_index": 7, "approved": false, "reason": "不符"}),
        ),
        (
            vec![
                "decide",
                "objection",
                "--objection-index",
                "8",
                "--uphold",
                "--reason",
                "成立",
            ],
            json!({"type": "objection_decided", "objection_index": 8, "upheld": true, "reason": "成立"}),
        ),
        (
            vec![
                "decide",
                "repair",
                "--application-index",
                "9",
                "--approve",
                "--reason",
                "同意",
            ],
            json!({"type": "repair_decided", "application_index": 9, "approved": true, "reason": "同意"}),
        ),
        (
            vec!["object", "--target-index", "12", "--statement", "已履行"],
            json!({"type": "objection_filed", "target_index": 12, "statement": "已履行"}),
        ),
        (
            vec!["apply-repair", "--entity", &a, "--commitment", &h],
            json!({"type": "repair_applied", "entity": {"org": a}, "commitment": h}),
        ),
        (
            vec![
                "delegate",
                "grant",
                "--principal",
                &a,
                "--agency",
                &b,
                "--until",
                "2026-12-31",
            ],
            json!({"type": "delegation_granted", "principal": a, "agency": b, "until": "2026-12-31"}),
        ),
        (
            vec!["delegate", "revoke", "--principal", &a, "--agency", &b],
            json!({"type": "delegation_revoked", "principal": a, "agency": b}),
        ),
        (
            vec![
                "mediate",
                "--contract",
                "C-1",
                "--outcome",
                "failed",
                "--summary",
                "未达成",
            ],
            json!({"type": "mediation_recorded", "contract": "C-1", "outcome": "failed", "summary": "未达成"}),
        ),
        (
            vec![
                "mediate",
                "--contract",
                "C-1",
                "--outcome",
                "settled",
                "--milestone",
                &ms,
                "--summary",
                "和解",
            ],
            json!({"type": "mediation_recorded", "contract": "C-1", "summary": "和解",
                   "outcome": {"settled": {"milestones": [{"number": 1, "obligor": {"org": b}, "obligee": {"org": a}, "due": "2026-03-01", "description": "改期", "amount": 5}]}}}),
        ),
    ];
    for (args, want) in cases {
        let mut all = args.clone();
        all.extend([
            "--key",
            &key,
            "--origin",
            "lvyue.test/log",
            "--dry-run",
            "--nonce",
            "42",
        ]);
        let signed: Value = run(&all, &[]).ok().json();
        assert_eq!(signed["payload"]["event"], want, "{args:?}");
        assert_eq!(signed["payload"]["nonce"], 42);
        // What was printed is a valid, correctly signed submission.
        let s: Signed = serde_json::from_value(signed).unwrap();
        let msg = s.payload.signed_message("lvyue.test/log").unwrap();
        VerifierKey::parse(vkey.trim())
            .unwrap()
            .verify_strict(&msg, &s.signature)
            .unwrap();
    }
    // A verdict is required, and only one.
    let r = run(
        &[
            "decide",
            "exemption",
            "--key",
            &key,
            "--claim-index",
            "1",
            "--reason",
            "x",
        ],
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--approve") && r.stderr.contains("--refuse"),
        "{}",
        r.stderr
    );
    let r = run(
        &[
            "decide",
            "repair",
            "--key",
            &key,
            "--application-index",
            "1",
            "--approve",
            "--refuse",
            "--reason",
            "x",
        ],
        &[],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    // Milestones are refused where they cannot apply, before anything is signed.
    let file = dir.path().join("milestones.json");
    std::fs::write(&file, "[]").unwrap();
    let file = file.to_str().unwrap();
    let offline = ["--key", &key, "--origin", "lvyue.test/log", "--dry-run"];
    let refusals: [(&[&str], &str); 3] = [
        (
            &[
                "mediate",
                "--contract",
                "C-1",
                "--outcome",
                "failed",
                "--milestone",
                &ms,
                "--summary",
                "x",
            ],
            "a failed mediation has no milestones",
        ),
        (
            &[
                "mediate",
                "--contract",
                "C-1",
                "--outcome",
                "failed",
                "--milestones",
                file,
                "--summary",
                "x",
            ],
            "a failed mediation has no milestones",
        ),
        (
            &[
                "amend",
                "--contract",
                "C-1",
                "--amendment",
                "1",
                "--milestones",
                file,
                "--milestone",
                &ms,
                "--reason",
                "x",
            ],
            "either as a JSON file or with --milestone, not both",
        ),
    ];
    for (args, want) in refusals {
        let r = run(&[args, &offline[..]].concat(), &[]);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
        assert!(
            r.stdout.is_empty(),
            "{args:?}: nothing signed: {}",
            r.stdout
        );
    }
}

/// Index of the first derived record of `kind` at or after `from`.
fn find_derived(node: &Node, from: u64, kind: &str) -> u64 {
    let size = node.run(&["status", "--json"]).ok().json()["log"]["size"]
        .as_u64()
        .unwrap();
    (from..size)
        .find(|i| {
            let e: Value = ureq::get(&format!("{}/v1/entries/{i}", node.url))
                .call()
                .unwrap()
                .body_mut()
                .read_json()
                .unwrap();
            e["entry"]["body"]["derived"]["type"] == kind
        })
        .unwrap_or_else(|| panic!("no {kind} in {from}..{size}"))
}

#[test]
fn default_objection_decision_and_revocation() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("data"));
    let office = node.office_key();
    let (dept_uscc, firm_uscc) = (uscc(1), uscc(2));
    let (dept_key, firm_key) = (path(dir.path(), "dept.key"), path(dir.path(), "firm.key"));
    for (key, name, holder, role) in [
        (&dept_key, "dept", &dept_uscc, "source_unit"),
        (&firm_key, "firm", &firm_uscc, "market_entity"),
    ] {
        run(&["keygen", "--out", key, "--name", name], &[]).ok();
        node.run(&[
            "register",
            "--key",
            &office,
            "--holder-uscc",
            holder,
            "--holder-name",
            "单位",
            "--role",
            role,
            "--key-file",
            key,
        ])
        .ok();
    }
    // Due yesterday (CST): overdue at once, and within the grace period.
    let yesterday = (chrono::Utc::now() + chrono::Duration::hours(8) - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let mut c = contract_json(&dept_uscc, &firm_uscc, 1000);
    c["milestones"][0]["due"] = json!(yesterday);
    let contract = dir.path().join("c.json");
    std::fs::write(&contract, c.to_string()).unwrap();
    node.run(&[
        "file",
        "--key",
        &dept_key,
        "--contract",
        contract.to_str().unwrap(),
    ])
    .ok();

    let r = node
        .run(&[
            "--json",
            "report-default",
            "--key",
            &dept_key,
            "--contract",
            "BJ-CLI-1",
            "--milestone",
            "1",
            "--extent",
            "full",
            "--reason",
            "未交付",
        ])
        .ok()
        .json();
    let reported = r["index"].as_u64().unwrap();
    let default = find_derived(&node, reported, "default_determined");

    // The firm objects to the default; the office upholds the objection.
    let r = node
        .run(&[
            "--json",
            "object",
            "--key",
            &firm_key,
            "--target-index",
            &default.to_string(),
            "--statement",
            "已按约交付",
        ])
        .ok()
        .json();
    let objection = r["index"].as_u64().unwrap();
    // Only the entity defaulted against may object.
    let r = node.run(&[
        "object",
        "--key",
        &dept_key,
        "--target-index",
        &default.to_string(),
        "--statement",
        "x",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("403 not_allowed") && r.stderr.contains(&firm_uscc),
        "{}",
        r.stderr
    );
    let r = node
        .run(&[
            "--json",
            "decide",
            "objection",
            "--key",
            &office,
            "--objection-index",
            &objection.to_string(),
            "--uphold",
            "--reason",
            "证据充分",
        ])
        .ok()
        .json();
    let decided = r["index"].as_u64().unwrap();
    let reversed = find_derived(&node, decided, "default_reversed");
    assert!(reversed > decided);

    // Revoking the firm's key: its next submission is refused.
    let firm_vkey = {
        let s = lvyue_ledger::keys::Signer::read_file(Path::new(&firm_key)).unwrap();
        s.verifier_key().to_string()
    };
    let out = node
        .run(&[
            "revoke",
            "--key",
            &office,
            "--key-id",
            &firm_vkey,
            "--reason",
            "密钥泄露",
        ])
        .ok()
        .stdout;
    assert!(out.starts_with("accepted key_revoked"), "{out}");
    let r = node.run(&[
        "claim",
        "--key",
        &firm_key,
        "--contract",
        "BJ-CLI-1",
        "--milestone",
        "1",
        "--performed",
        &yesterday,
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("403 revoked_key"), "{}", r.stderr);
}

/// Regression (issue 4, import idempotency): importing the same file again
/// answers `exists` with the first import's index for every row, and the
/// command succeeds. (A merge once left `POST /v1/import` answering a
/// re-imported row as `rejected`, 409 `duplicate`.)
#[test]
fn regression_importing_the_same_file_again_answers_exists() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("data"));
    let office = node.office_key();
    let feed = path(dir.path(), "feed.key");
    run(&["keygen", "--out", &feed, "--name", "feed"], &[]).ok();
    node.run(&[
        "register",
        "--key",
        &office,
        "--holder-uscc",
        &uscc(9),
        "--holder-name",
        "公共资源交易中心",
        "--role",
        "data_feed",
        "--key-file",
        &feed,
    ])
    .ok();
    let (a, b) = (uscc(1), uscc(2));
    let file = dir.path().join("rows.csv");
    std::fs::write(
        &file,
        format!(
            "external_ref,id,category,name,amount_fen,signed,party_a,party_a_name,party_a_role,party_b,party_b_name,party_b_role,milestones\n\
             R-1,BJ-1,construction,工程,100,2025-01-01,{a},局,甲方,{b},公司,乙方,1|b>a|2025-06-01|100|竣工\n\
             R-2,BJ-2,construction,工程,7,2025-01-01,{a},局,甲方,{b},公司,乙方,1|b>a|2025-06-01|7|竣工\n"
        ),
    )
    .unwrap();
    let import = || {
        node.run(&[
            "import",
            "--json",
            "--feed-key",
            &feed,
            file.to_str().unwrap(),
        ])
        .ok()
        .json()
    };
    let first = import();
    assert_eq!(
        (first["accepted"].as_u64(), first["exists"].as_u64()),
        (Some(2), Some(0)),
        "{first}"
    );
    let again = import();
    assert_eq!(
        (again["accepted"].as_u64(), again["exists"].as_u64()),
        (Some(0), Some(2)),
        "{again}"
    );
    for (r1, r2) in first["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(again["results"].as_array().unwrap())
    {
        assert_eq!(r2["status"], "exists", "{again}");
        assert_eq!(r1["index"], r2["index"], "{again}");
    }
}
