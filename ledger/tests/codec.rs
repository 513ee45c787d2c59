//! Canonical encoding: round trips, strictness, JSON mapping.

use lvyue_ledger::Hash;
use lvyue_ledger::codec::{self, CodecError, MAX_RECORD_SIZE};
use lvyue_ledger::event::Event;
use lvyue_ledger::record::{Body, Entry, Payload, Signed};

fn filing_json() -> serde_json::Value {
    serde_json::json!({
        "type": "contract_filed",
        "contract": {
            "id": "BJ-2026-0001",
            "category": "government_procurement",
            "name": "办公设备采购",
            "parties": [
                {"subject": {"org": "11610300MB2950143B"}, "name": "宝鸡市财政局", "role": "甲方"},
                {"subject": {"person": {"masked_name": "王某", "commitment": "00".repeat(32)}}, "name": "王某", "role": "乙方"}
            ],
            "summary": "采购办公设备一批",
            "amount": 1250000,
            "signed": "2026-03-01",
            "milestones": [{
                "number": 1,
                "obligor": {"org": "11610300MB2950143B"},
                "obligee": {"person": {"masked_name": "王某", "commitment": "00".repeat(32)}},
                "due": "2026-06-30",
                "description": "支付货款",
                "amount": 1250000
            }],
            "document_sha256": null,
            "source": "department"
        }
    })
}

fn entry_with(event: Event) -> Entry {
    Entry {
        index: 7,
        time_ms: 1_780_000_000_000,
        prev: Hash([9; 32]),
        body: Body::Submitted(Signed {
            payload: Payload {
                signer: serde_json::from_value(serde_json::json!({"name": "office", "id": 1234}))
                    .unwrap(),
                nonce: 42,
                event,
            },
            signature: [7; 64],
        }),
    }
}

#[test]
fn json_to_canonical_round_trip() {
    let event: Event = serde_json::from_value(filing_json()).expect("valid json");
    let entry = entry_with(event);
    let bytes = entry.encode().unwrap();
    assert_eq!(bytes[0], codec::FORMAT_VERSION);
    let back = Entry::decode(&bytes).unwrap();
    assert_eq!(back, entry);
    let json = serde_json::to_value(&back).unwrap();
    let again: Entry = serde_json::from_value(json).unwrap();
    assert_eq!(again.encode().unwrap(), bytes);
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = entry_with(Event::Tick {}).encode().unwrap();
    bytes.push(0);
    assert_eq!(
        Entry::decode(&bytes),
        Err(CodecError::TrailingBytes { trailing: 1 })
    );
}

#[test]
fn unknown_version_is_refused() {
    let mut bytes = entry_with(Event::Tick {}).encode().unwrap();
    bytes[0] = 2;
    assert_eq!(Entry::decode(&bytes), Err(CodecError::UnknownVersion(2)));
    assert_eq!(Entry::decode(&[]), Err(CodecError::Empty));
}

#[test]
fn truncated_and_invalid_bodies_are_refused() {
    let bytes = entry_with(serde_json::from_value(filing_json()).unwrap())
        .encode()
        .unwrap();
    for cut in [1, 10, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            matches!(Entry::decode(&bytes[..cut]), Err(CodecError::Malformed(_))),
            "cut {cut}"
        );
    }
}

#[test]
fn every_single_byte_flip_is_refused_or_decodes_to_a_different_record() {
    let entry = entry_with(serde_json::from_value(filing_json()).unwrap());
    let bytes = entry.encode().unwrap();
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        if let Ok(e) = Entry::decode(&b) {
            assert_ne!(e, entry, "flip at {i} decoded to the same record");
            assert_eq!(e.encode().unwrap(), b);
        }
    }
}

#[test]
fn negative_amount_in_canonical_bytes_is_refused() {
    let entry = entry_with(serde_json::from_value(filing_json()).unwrap());
    let bytes = entry.encode().unwrap();
    // The contract amount 1250000 = 0x1312D0 as big-endian i64; make it negative.
    let pat = 1_250_000i64.to_be_bytes();
    let pos = bytes.windows(8).position(|w| w == pat).unwrap();
    let mut b = bytes.clone();
    b[pos] = 0xff;
    let err = Entry::decode(&b).unwrap_err();
    assert!(err.to_string().contains("must not be negative"), "{err}");
}

#[test]
fn json_errors_name_the_problem() {
    let mut v = filing_json();
    v["contract"]["amount"] = serde_json::json!(-5);
    let e = serde_json::from_value::<Event>(v).unwrap_err().to_string();
    assert!(e.contains("amount -5: must not be negative"), "{e}");

    let mut v = filing_json();
    v["contract"]["amount"] = serde_json::json!(18446744073709551615u64);
    let e = serde_json::from_value::<Event>(v).unwrap_err().to_string();
    assert!(e.contains("out of range"), "{e}");

    let mut v = filing_json();
    v["contract"]["signed"] = serde_json::json!("2026-02-30");
    let e = serde_json::from_value::<Event>(v).unwrap_err().to_string();
    assert!(e.contains("2026-02-30"), "{e}");

    let mut v = filing_json();
    v["contract"]["parties"][0]["subject"]["org"] = serde_json::json!("91350100M000100Y4I");
    let e = serde_json::from_value::<Event>(v).unwrap_err().to_string();
    assert!(e.contains("invalid character 'I' at position 18"), "{e}");

    let mut v = filing_json();
    v["contract"]["surprise"] = serde_json::json!(1);
    let e = serde_json::from_value::<Event>(v).unwrap_err().to_string();
    assert!(e.contains("unknown field `surprise`"), "{e}");

    let mut v = filing_json();
    v["type"] = serde_json::json!("contract_burned");
    let e = serde_json::from_value::<Event>(v).unwrap_err().to_string();
    assert!(e.contains("contract_burned"), "{e}");
}

#[test]
fn oversized_records_are_refused() {
    let mut v = filing_json();
    let parties = v["contract"]["parties"].as_array().unwrap().clone();
    let many: Vec<_> = parties.iter().cycle().take(1000).cloned().collect();
    v["contract"]["parties"] = serde_json::json!(many);
    let event: Event = serde_json::from_value(v).unwrap();
    let Err(err) = entry_with(event).encode() else {
        panic!("oversized record encoded")
    };
    assert!(matches!(err, CodecError::TooLarge { .. }), "{err}");
    assert!(err.to_string().contains(&MAX_RECORD_SIZE.to_string()));
}

#[test]
fn submitted_bytes_by_concatenation_equal_the_encoder() {
    for event in [
        Event::Tick {},
        serde_json::from_value(filing_json()).unwrap(),
    ] {
        let entry = entry_with(event);
        let Body::Submitted(signed) = &entry.body else {
            unreachable!()
        };
        let payload = codec::encode(&signed.payload).unwrap();
        let fast = Entry::submitted_bytes(
            entry.index,
            entry.time_ms,
            &entry.prev,
            &payload,
            &signed.signature,
        )
        .unwrap();
        assert_eq!(fast, entry.encode().unwrap());
    }
}

/// Regression (found while writing docs/FORMAT.md): bincode's decode limit
/// counts in-memory item sizes, so an encodable record of 431 small
/// milestones (≈ 41.5 kB) used to fail to decode.
#[test]
fn every_encodable_record_decodes_even_with_many_small_items() {
    let v = filing_json();
    let milestone = v["contract"]["milestones"][0].clone();
    let mut n = 400;
    loop {
        let event: Event = serde_json::from_value(serde_json::json!({
            "type": "contract_amended", "contract": "C", "amendment": 1,
            "milestones": vec![milestone.clone(); n], "reason": ""
        }))
        .unwrap();
        let Ok(bytes) = entry_with(event).encode() else {
            break;
        };
        let back = Entry::decode(&bytes)
            .unwrap_or_else(|e| panic!("{n} milestones, {} bytes: {e}", bytes.len()));
        assert_eq!(back.encode().unwrap(), bytes);
        n += 50;
    }
    assert!(n > 431, "the encoder refused too early");
}
