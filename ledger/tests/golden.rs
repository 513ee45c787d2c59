//! Golden vectors: a small log built from fixed seed keys, fixed times and
//! nonces — events → canonical bytes → signed messages → leaf hashes → roots
//! → signed checkpoints — compared byte for byte with
//! `tests/vectors/golden-v1.json`. Regenerate (after a deliberate format
//! change, with a new format version) with `LVYUE_UPDATE_VECTORS=1`.

use lvyue_ledger::checkpoint::{Checkpoint, Origin, sign_checkpoint};
use lvyue_ledger::event::Event;
use lvyue_ledger::hash::leaf_hash;
use lvyue_ledger::keys::{KeyName, Signer};
use lvyue_ledger::record::{Body, Derived, Entry, KeyRef, Payload, Signed};
use lvyue_ledger::tlog::MemoryTree;
use lvyue_ledger::types::SignerName;
use serde_json::{Value, json};

const ORIGIN: &str = "lvyue.example/golden";
const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/vectors/golden-v1.json"
);

fn signer(name: &str, seed: u8) -> Signer {
    Signer::from_seed(KeyName::new(name).unwrap(), [seed; 32])
}

fn key_json(s: &Signer, role: &str, holder: &str) -> Value {
    json!({
        "name": s.name().as_str(),
        "public_key": base64_of(&s.verifier_key().key().to_bytes()),
        "holder": {"org": holder},
        "holder_name": "宝鸡市测试单位",
        "role": role,
        "valid_from_ms": null,
        "valid_until_ms": null
    })
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// The events of the golden log, as JSON, with the signer of each.
fn events(node: &Signer, office: &Signer, firm: &Signer) -> Vec<(Option<&'static str>, Value)> {
    let office_uscc = "11610300MB2950143A";
    let firm_uscc = "91350100M000100Y43";
    let rules = serde_json::to_value(lvyue_ledger::rules::RuleSet::default()).unwrap();
    vec![
        (
            Some("node"),
            json!({"type": "genesis", "origin": ORIGIN, "node_key": key_json(node, "node", office_uscc), "office_keys": [key_json(office, "credit_office", office_uscc)], "rules": rules}),
        ),
        (
            Some("office"),
            json!({"type": "key_registered", "key": key_json(firm, "market_entity", firm_uscc)}),
        ),
        (
            Some("firm"),
            json!({"type": "contract_filed", "contract": {
            "id": "BJ-2026-0001", "category": "commercial", "name": "设备采购合同",
            "parties": [
                {"subject": {"org": firm_uscc}, "name": "某科技有限公司", "role": "乙方"},
                {"subject": {"person": {"masked_name": "王某", "commitment": "ab".repeat(32)}}, "name": "王某", "role": "甲方"}
            ],
            "summary": "设备一批，分两期交付", "amount": 1250000, "signed": "2026-03-01",
            "milestones": [
                {"number": 1, "obligor": {"org": firm_uscc}, "obligee": {"person": {"masked_name": "王某", "commitment": "ab".repeat(32)}}, "due": "2026-06-30", "description": "交付第一批设备", "amount": 600000},
                {"number": 2, "obligor": {"org": firm_uscc}, "obligee": {"person": {"masked_name": "王某", "commitment": "ab".repeat(32)}}, "due": "2026-09-30", "description": "交付第二批设备", "amount": 650000}
            ],
            "document_sha256": "cd".repeat(32), "source": "self_filed"}}),
        ),
        (
            Some("firm"),
            json!({"type": "performance_claimed", "contract": "BJ-2026-0001", "milestone": 1, "performed": "2026-06-28", "evidence": null}),
        ),
        (
            None,
            json!({"type": "score_changed", "entity": {"org": firm_uscc}, "delta": 1, "total": 1001, "rule": "on_time", "cause": 3}),
        ),
        (Some("node"), json!({"type": "tick"})),
    ]
}

fn build() -> Value {
    let (node, office, firm) = (
        signer(ORIGIN, 1),
        signer("credit-office", 2),
        signer("firm-a", 3),
    );
    let mut tree = MemoryTree::new();
    let mut prev = lvyue_ledger::Hash::ZERO;
    let mut out = Vec::new();
    let mut checkpoints = Vec::new();
    for (i, (who, event)) in events(&node, &office, &firm).into_iter().enumerate() {
        let index = i as u64;
        let time_ms = 1_767_225_600_000 + 1000 * index as i64;
        let (body, message) = match who {
            Some(who) => {
                let s = match who {
                    "node" => &node,
                    "office" => &office,
                    _ => &firm,
                };
                let payload = Payload {
                    signer: KeyRef {
                        name: SignerName::new(s.name().as_str()).unwrap(),
                        id: s.id(),
                    },
                    nonce: 1000 + index,
                    event: serde_json::from_value::<Event>(event).unwrap(),
                };
                let msg = payload.signed_message(ORIGIN).unwrap();
                (
                    Body::Submitted(Signed {
                        signature: s.sign(&msg),
                        payload,
                    }),
                    Some(hex::encode(&msg)),
                )
            }
            None => (
                Body::Derived(serde_json::from_value::<Derived>(event).unwrap()),
                None,
            ),
        };
        let entry = Entry {
            index,
            time_ms,
            prev,
            body,
        };
        let bytes = entry.encode().unwrap();
        assert_eq!(Entry::decode(&bytes).unwrap(), entry);
        prev = leaf_hash(&bytes);
        tree.append(&bytes);
        let root = tree.root();
        let cp = sign_checkpoint(
            &Checkpoint::new(Origin::new(ORIGIN).unwrap(), index + 1, root),
            &node,
        );
        checkpoints.push(json!({"size": index + 1, "root": root.to_hex(), "note": cp}));
        out.push(json!({
            "index": index,
            "json": serde_json::to_value(&entry).unwrap(),
            "signed_message_hex": message,
            "canonical_hex": hex::encode(&bytes),
            "leaf_hash": prev.to_hex(),
        }));
    }
    json!({
        "origin": ORIGIN,
        "keys": {
            "node": {"seed_hex": hex::encode([1u8; 32]), "vkey": node.verifier_key().to_string()},
            "office": {"seed_hex": hex::encode([2u8; 32]), "vkey": office.verifier_key().to_string()},
            "firm": {"seed_hex": hex::encode([3u8; 32]), "vkey": firm.verifier_key().to_string()},
        },
        "entries": out,
        "checkpoints": checkpoints,
    })
}

#[test]
fn golden_log_matches_vectors() {
    let built = build();
    let text = serde_json::to_string_pretty(&built).unwrap() + "\n";
    if std::env::var_os("LVYUE_UPDATE_VECTORS").is_some() {
        std::fs::write(VECTORS, &text).unwrap();
    }
    let want = std::fs::read_to_string(VECTORS)
        .expect("tests/vectors/golden-v1.json (LVYUE_UPDATE_VECTORS=1 writes it)");
    let want: Value = serde_json::from_str(&want).unwrap();
    for (got, want) in built["entries"]
        .as_array()
        .unwrap()
        .iter()
        .zip(want["entries"].as_array().unwrap())
    {
        assert_eq!(
            got, want,
            "entry {} differs from the golden vector",
            want["index"]
        );
    }
    assert_eq!(built, want);
}

#[test]
fn golden_json_forms_decode_to_the_canonical_bytes() {
    let want: Value = serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap();
    for e in want["entries"].as_array().unwrap() {
        let entry: Entry = serde_json::from_value(e["json"].clone()).unwrap();
        assert_eq!(
            hex::encode(entry.encode().unwrap()),
            e["canonical_hex"].as_str().unwrap()
        );
    }
}
