//! The worked example of docs/FORMAT.md §19.4 ("Exports"): the JSON form of
//! a small disclosure, its content encoding and its content digest, as the
//! document states them. An independent verifier is written from those
//! numbers, so the code must give exactly them.

use lvyue_ledger::book::Disclosure;
use lvyue_ledger::export;

/// The disclosure of §19.4, in its JSON form (docs/FORMAT.md).
const EXAMPLE: &str = r#"{"origin": "lvyue.example/golden", "size": 6,
 "root": "7a9d2dae1d59802d101b9c40e783d16548eca1b15d12ca015a715825c37e9f56",
 "red_list": [],
 "black_list": [{"entity": {"org": "91350100M000100Y43"}, "name": "某科技有限公司", "score": 930,
                 "since": "2026-03-01", "since_index": 40, "reason": "demand notice published", "cause": 38}],
 "demand_notices": [{"index": 38, "entity": {"org": "91350100M000100Y43"}, "name": "某科技有限公司",
                     "defaults": [12, 37], "published": "2026-03-01", "repair_from": "2026-05-30",
                     "publicity_until": "2027-03-01"}]}"#;

/// Its content encoding (297 bytes), as §19.4 lays it out.
const ENCODING_HEX: &str = "00000000000000146c767975652e6578616d706c652f676f6c64656e\
0000000000000006\
7a9d2dae1d59802d101b9c40e783d16548eca1b15d12ca015a715825c37e9f56\
0000000000000000\
0000000000000001\
0000000039313335303130304d303030313030593433\
0000000000000015e69f90e7a791e68a80e69c89e99990e585ace58fb8\
00000000000003a2\
00005021\
0000000000000028\
000000000000001764656d616e64206e6f74696365207075626c6973686564\
0000000000000026\
0000000000000001\
0000000000000026\
0000000039313335303130304d303030313030593433\
0000000000000015e69f90e7a791e68a80e69c89e99990e585ace58fb8\
0000000000000002000000000000000c0000000000000025\
00005021\
0000507b\
0000518e";

#[test]
fn the_format_doc_export_example_encodes_and_digests_as_stated() {
    let d: Disclosure = serde_json::from_str(EXAMPLE).expect("the example parses");
    let config = bincode::config::standard()
        .with_big_endian()
        .with_fixed_int_encoding();
    let bytes = bincode::encode_to_vec(&d, config).unwrap();
    assert_eq!(hex::encode(&bytes), ENCODING_HEX);
    assert_eq!(bytes.len(), 297);
    let digest = export::digest(&d).unwrap();
    assert_eq!(
        digest.to_hex(),
        "f0780d98b122a28acb7e2526d0f2429f2d448631acf5f479f7abb9391e150187"
    );
    assert_eq!(
        digest.to_base64(),
        "8HgNmLEioorLfiUm0PJCny1EhjGs9fR596u5OR4VAYc="
    );
}
