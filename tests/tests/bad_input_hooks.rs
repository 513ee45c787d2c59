//! Bad input to the webhook registration and to the query routes' path and
//! query parameters: each refusal is a 4xx JSON `{error, detail}` whose
//! detail names the problem, and a refused registration stores nothing
//! (`GET /v1/webhooks/{org}` answers as before, and the store's webhook rows
//! are byte-for-byte unchanged, tombstones included).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use lvyue_ledger::event::Event;
use lvyue_ledger::keys::Signer;
use lvyue_ledger::types::{Role, SignerName, Text};
use lvyue_ledger::uscc::Uscc;
use lvyue_node::sequencer::SequencerConfig;
use lvyue_node::server::ServerConfig;
use lvyue_node::webhook::registration_message;
use lvyue_tests::{TestNode, uscc};
use serde_json::{Value, json};

mod e2e_support;
use e2e_support::assert_error_in;

/// GETs `path` and asserts a JSON error answer.
#[track_caller]
fn get_err(n: &TestNode, path: &str, status: u16, code: &str, needles: &[&str]) {
    let (s, text) = n.get(path);
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{path}: {s} {text:?} is not JSON: {e}"));
    assert_error_in(path, &(s, body), status, code, needles);
}

/// "name+0123abcd": how details name a key.
fn key_ref(s: &Signer) -> String {
    format!("{}+{:08x}", s.name().as_str(), s.id())
}

/// The registration message, built from text (so `org` may be any string).
fn message(origin: &str, org: &str, url: &str, seq: u64) -> Vec<u8> {
    format!("lvyue/webhook/v1\n{origin}\n{org}\n{url}\n{seq}\n").into_bytes()
}

/// A registration body naming `key` as signer, signed over `signed_msg`.
fn reg(key: &Signer, signed_msg: &[u8], org: &str, url: &str, seq: u64) -> Value {
    json!({
        "org": org,
        "url": url,
        "seq": seq,
        "signer": {"name": key.name().as_str(), "id": key.id()},
        "signature": B64.encode(key.sign(signed_msg)),
    })
}

/// A correctly signed registration body for this node.
fn good(n: &TestNode, key: &Signer, org: &str, url: &str, seq: u64) -> Value {
    reg(key, &message(&n.origin, org, url, seq), org, url, seq)
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("json")
}

/// Every raw webhook row of the store (`xH…`, tombstones included).
fn hook_rows(n: &TestNode) -> Vec<(Vec<u8>, Vec<u8>)> {
    let view = n.node.sequencer.view().expect("running");
    view.index_prefix(b"xH")
        .expect("rows")
        .into_iter()
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect()
}

/// Asserts what `GET /v1/webhooks/{org}` answers: 404 naming the org, or
/// the registration with `url` and `seq`.
#[track_caller]
fn assert_hook(n: &TestNode, org: &str, want: Option<(&str, u64)>, after: &str) {
    let path = format!("/v1/webhooks/{org}");
    match want {
        None => get_err(n, &path, 404, "not_found", &[org, "has no webhook"]),
        Some((url, seq)) => {
            let (s, text) = n.get(&path);
            assert_eq!(s, 200, "after {after}: {text}");
            let v: Value = serde_json::from_str(&text).expect("json");
            assert_eq!(
                (v["org"].as_str(), v["url"].as_str(), v["seq"].as_u64()),
                (Some(org), Some(url), Some(seq)),
                "after {after}: {v}"
            );
        }
    }
}

const LIMIT: usize = 4096;

/// A refused registration: label, body, status, code, what the detail names.
type Case<'a> = (&'a str, Vec<u8>, u16, &'a str, Vec<String>);

#[test]
fn refused_webhook_registrations_name_the_problem_and_store_nothing() {
    let n = TestNode::start_with(
        ServerConfig {
            body_limit: LIMIT,
            ..ServerConfig::default()
        },
        SequencerConfig::default(),
    );
    let org = uscc(2);
    let firm = n.register("firm", Role::MarketEntity, &org);
    let other = n.register("firm-b", Role::MarketEntity, &org);
    let old = n.register("firm-old", Role::MarketEntity, &org);
    let revoke = Event::KeyRevoked {
        name: SignerName::new(old.name().as_str()).expect("name"),
        key_id: old.id(),
        reason: Text::new("密钥泄露").expect("text"),
    };
    let (s, b) = n.submit(&n.sign(&n.office, revoke));
    assert_eq!(s, 200, "{b}");
    let revoked_at = b["index"].as_u64().expect("index");
    let size = n.size();

    // The hand-built message is the node's.
    let parsed = Uscc::parse(&org).expect("uscc");
    assert_eq!(
        message(&n.origin, &org, "http://a.example/h", 9),
        registration_message(&n.origin, &parsed, "http://a.example/h", 9)
    );
    // A USCC of the right form with a wrong check character.
    let right = org.chars().last().expect("check");
    let bad_org = format!("{}{}", &org[..17], if right == '0' { '1' } else { '0' });
    let url = "http://hooks.example/lvyue";
    let firm_ref = key_ref(&firm);
    let old_ref = key_ref(&old);
    let at = format!("revoked at index {revoked_at}");

    // Each refusal, checked with no webhook and with one in force. Their
    // seqs (100+) are above the final good registration's (2): had any of
    // them been stored, even as a tombstone, that one would be stale.
    let mut want: Option<(&str, u64)> = None;
    for round in 0..2u64 {
        let seq = 100 + round * 10;
        let rows = hook_rows(&n);
        let mut cases: Vec<Case> = Vec::new();
        // (1) Signatures that do not verify: over another seq, by another
        // key of the same org, over another log's origin, all zeros.
        let mut v = reg(
            &firm,
            &message(&n.origin, &org, url, seq),
            &org,
            url,
            seq + 1,
        );
        cases.push(("tampered seq", bytes(&v), 401, "bad_signature", vec![]));
        v = reg(&other, &message(&n.origin, &org, url, seq), &org, url, seq);
        v["signer"] = json!({"name": firm.name().as_str(), "id": firm.id()});
        cases.push(("other key", bytes(&v), 401, "bad_signature", vec![]));
        v = reg(
            &firm,
            &message("other.example/log", &org, url, seq),
            &org,
            url,
            seq,
        );
        cases.push(("other origin", bytes(&v), 401, "bad_signature", vec![]));
        v = good(&n, &firm, &org, url, seq);
        v["signature"] = json!(B64.encode([0u8; 64]));
        cases.push(("zero signature", bytes(&v), 401, "bad_signature", vec![]));
        for c in cases.iter_mut() {
            c.4 = vec![firm_ref.clone(), "does not verify".into()];
        }
        // (2) A key revoked in the log, correctly signed.
        cases.push((
            "revoked key",
            bytes(&good(&n, &old, &org, url, seq)),
            403,
            "revoked_key",
            vec![old_ref.clone(), at.clone()],
        ));
        // (3) Malformed bodies and an unknown member.
        cases.push((
            "truncated",
            br#"{"org": "#.to_vec(),
            400,
            "malformed_json",
            vec!["EOF".into()],
        ));
        v = good(&n, &firm, &org, url, seq);
        v["extra"] = json!(1);
        cases.push((
            "unknown member",
            bytes(&v),
            400,
            "malformed_json",
            vec!["unknown field".into(), "extra".into()],
        ));
        v = good(&n, &firm, &org, url, seq);
        v["seq"] = json!("one");
        cases.push((
            "seq not a number",
            bytes(&v),
            400,
            "malformed_json",
            vec!["one".into()],
        ));
        // (4) A USCC not of the USCC form.
        let short = &org[..17];
        cases.push((
            "short uscc",
            bytes(&good(&n, &firm, short, url, seq)),
            400,
            "malformed_json",
            vec![short.into(), "18 characters".into()],
        ));
        // (5) A URL one byte over 2,048 bytes.
        let long = format!("http://h.example/{}", "x".repeat(2049 - 17));
        assert_eq!(long.len(), 2049);
        cases.push((
            "long url",
            bytes(&good(&n, &firm, &org, &long, seq)),
            422,
            "invalid_url",
            vec!["2049 bytes".into(), "2048".into()],
        ));
        for (what, body, status, code, needles) in cases {
            let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
            let what = format!("{what} (round {round})");
            let answer = n.post_raw("/v1/webhooks", body);
            assert_error_in(&what, &answer, status, code, &needles);
            assert_hook(&n, &org, want, &what);
            assert_eq!(hook_rows(&n), rows, "{what}: webhook rows changed");
        }

        // (4) A wrong check character in `org`, correctly signed over it.
        let what = format!("wrong check character (round {round})");
        let answer = n.post_raw("/v1/webhooks", bytes(&good(&n, &firm, &bad_org, url, seq)));
        let want_char = format!(
            "want '{}'",
            Uscc::parse_legacy(&bad_org).unwrap().expected_check()
        );
        assert_error_in(&what, &answer, 400, "invalid_uscc", &[&bad_org, &want_char]);
        assert_hook(&n, &org, want, &what);
        assert_eq!(hook_rows(&n), rows, "{what}: webhook rows changed");

        // (6) A good registration padded past the body limit: the framework
        // refuses it in plain text (docs/API.md, Errors, 413).
        let mut padded = bytes(&good(&n, &firm, &org, url, seq));
        assert!(padded.len() < LIMIT);
        padded.resize(LIMIT + 1, b' ');
        let a = n.post_answer("/v1/webhooks", "application/json", padded);
        assert_eq!(a.status, 413, "over the limit: {}", a.body);
        assert!(a.body.contains("length limit exceeded"), "{}", a.body);
        assert_hook(&n, &org, want, "413");
        assert_eq!(hook_rows(&n), rows, "413: webhook rows changed");

        if round == 0 {
            assert!(rows.is_empty());
            let (s, b) = n.post_raw("/v1/webhooks", bytes(&good(&n, &firm, &org, url, 1)));
            assert_eq!((s, b["seq"].as_u64()), (200, Some(1)), "{b}");
            assert_eq!(hook_rows(&n).len(), 1);
            want = Some((url, 1));
            assert_hook(&n, &org, want, "first registration");
        }
    }

    // None of the refused seqs was recorded: seq 2 is still above the one
    // in force, and a URL of exactly 2,048 bytes is accepted.
    let edge = format!("https://h.example/{}", "y".repeat(2048 - 18));
    assert_eq!(edge.len(), 2048);
    let (s, b) = n.post_raw("/v1/webhooks", bytes(&good(&n, &firm, &org, &edge, 2)));
    assert_eq!((s, b["url"].as_str()), (200, Some(edge.as_str())), "{b}");
    assert_hook(&n, &org, Some((&edge, 2)), "seq 2");
    // A registration is not a log entry.
    assert_eq!(n.size(), size);
    n.audit();
}

#[test]
fn bad_query_and_path_parameters_are_named() {
    let n = TestNode::start();
    let org = uscc(2);
    n.register("firm", Role::MarketEntity, &org);
    let size = n.size();
    let s = |x: &str| x.to_string();
    // (path, status, code, what the detail must name)
    let mut cases: Vec<(String, u16, &str, Vec<String>)> = Vec::new();
    let mut oks: Vec<String> = Vec::new();
    // Paging parameters of the lists and notices.
    for route in ["/v1/notices", "/v1/lists/red", "/v1/lists/black"] {
        let q = |p: &str| format!("{route}?{p}");
        cases.push((
            q("limit=0"),
            400,
            "bad_query",
            vec![s("limit"), s("at least 1")],
        ));
        cases.push((
            q("limit=abc"),
            400,
            "bad_query",
            vec![s("limit"), s("invalid digit")],
        ));
        cases.push((
            q("limit=1001"),
            400,
            "bad_query",
            vec![s("limit 1001"), s("1000")],
        ));
        cases.push((
            q("after=-1"),
            400,
            "bad_query",
            vec![s("after"), s("invalid digit")],
        ));
        // The bounds themselves are accepted.
        oks.extend(["limit=1", "limit=1000", "after=0"].map(q));
    }
    // A contract's history and a feed page the same way (the limit is
    // checked before the contract is looked up).
    let c = "/v1/contracts/C-1";
    cases.push((
        format!("{c}?limit=0"),
        400,
        "bad_query",
        vec![s("limit"), s("at least 1")],
    ));
    cases.push((
        format!("{c}?limit=1001"),
        400,
        "bad_query",
        vec![s("limit 1001"), s("1000")],
    ));
    cases.push((format!("{c}?limit=1000"), 404, "not_found", vec![s("C-1")]));
    let feed = format!("/v1/feed/{org}?limit=");
    cases.push((
        format!("{feed}0"),
        400,
        "bad_query",
        vec![s("limit"), s("at least 1")],
    ));
    oks.push(format!("{feed}1"));

    // Supervision report: impossible dates, an unknown format.
    let sup = "/v1/reports/supervision";
    for (p, d) in [("to", "2026-02-30"), ("from", "2026-13-01")] {
        let path = format!("{sup}?{p}={d}");
        cases.push((path, 400, "invalid_date", vec![format!("{p}="), s(d)]));
    }
    cases.push((
        format!("{sup}?format=xml"),
        400,
        "bad_query",
        vec![s("format"), s("xml")],
    ));
    oks.push(format!("{sup}?to=2026-02-28&format=csv"));

    // A webhook status for a USCC with a wrong check character names the
    // expected one; a USCC of the wrong length is refused too.
    let right = org.chars().last().expect("check");
    let bad_org = format!("{}{}", &org[..17], if right == '0' { '1' } else { '0' });
    let want = format!("want '{right}'");
    let path = format!("/v1/webhooks/{bad_org}");
    cases.push((path, 400, "invalid_uscc", vec![bad_org.clone(), want]));
    let path = s("/v1/webhooks/9161");
    cases.push((
        path,
        400,
        "invalid_uscc",
        vec![s("9161"), s("18 characters")],
    ));

    // Malformed `p:` subjects: not hex, one digit short, one digit over.
    let hex = "ab".repeat(32);
    for p in [s("p:xyz"), format!("p:{}", &hex[1..]), format!("p:{hex}0")] {
        for path in [
            format!("/v1/feed/{p}"),
            format!("/v1/entities/{p}/report"),
            format!("/v1/entities/{p}"),
            format!("/v1/warnings?org={p}"),
            format!("{sup}?unit={p}"),
        ] {
            cases.push((path, 400, "invalid_subject", vec![p.clone(), s("64-hex")]));
        }
    }
    // A well-formed person no record names: an empty feed, a 404 report.
    oks.push(format!("/v1/feed/p:{hex}"));
    let path = format!("/v1/entities/p:{hex}/report");
    cases.push((path, 404, "not_found", vec![hex.clone()]));

    // Contract ids: 64 characters is the maximum, 65 is refused.
    let id = "C".repeat(64);
    cases.push((format!("/v1/contracts/{id}"), 404, "not_found", vec![id]));
    let id = "C".repeat(65);
    let path = format!("/v1/contracts/{id}");
    cases.push((path, 400, "invalid_contract_id", vec![id, s("1..=64")]));

    // `days` is a u32: a value past it is refused; the largest is cut.
    let w = "/v1/warnings?";
    let path = format!("{w}days=4294967296");
    cases.push((path, 400, "bad_query", vec![s("days"), s("too large")]));
    let path = format!("{w}days=-1");
    cases.push((path, 400, "bad_query", vec![s("days"), s("invalid digit")]));
    cases.push((
        format!("{w}limit=1001"),
        400,
        "bad_query",
        vec![s("limit 1001")],
    ));
    oks.push(format!("{w}days=4294967295"));

    for (path, status, code, needles) in &cases {
        let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
        get_err(&n, path, *status, code, &needles);
    }
    for path in &oks {
        let (st, body) = n.get(path);
        assert_eq!(st, 200, "{path}: {body}");
    }
    // Reads append nothing.
    assert_eq!(n.size(), size);
    n.audit();
}
