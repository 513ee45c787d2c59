//! Signed notes, checkpoints and tlog proofs against real vectors (Go's
//! signed-note example and sum.golang.org tree heads in shared/vectors/notes)
//! and against malformed inputs.

use lvyue_ledger::checkpoint::{self, Checkpoint, CheckpointError, Origin};
use lvyue_ledger::hash::{leaf_hash, node_hash};
use lvyue_ledger::keys::{KeyName, Signer, VerifierKey};
use lvyue_ledger::note::{self, NoteError};
use lvyue_ledger::tlog::{self, MemoryTree, TlogError};
use lvyue_ledger::tlog_proof::{ProofError, TlogProof};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/notes/");

/// The signer key of Go's `sumdb/note` example, whose verifier key is
/// peterneumann.vkey.
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";

const SUMDB_ORIGIN: &str = "go.sum database tree";

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(format!("{VECTORS}{name}")).unwrap_or_else(|e| panic!("{VECTORS}{name}: {e}"))
}

fn vkey(name: &str) -> VerifierKey {
    let text = String::from_utf8(vector(name)).unwrap();
    VerifierKey::parse(text.trim_end_matches('\n')).unwrap()
}

/// Every sumdb-<size>.note vector, with the size from its file name.
fn sumdb_notes() -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(VECTORS).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(size) = name
            .strip_prefix("sumdb-")
            .and_then(|n| n.strip_suffix(".note"))
        {
            out.push((size.parse().unwrap(), vector(&name)));
        }
    }
    assert!(out.len() >= 10, "expected the sumdb vectors in {VECTORS}");
    out
}

fn signer(name: &str, seed: u8) -> Signer {
    Signer::from_seed(KeyName::new(name).unwrap(), [seed; 32])
}

fn origin(s: &str) -> Origin {
    Origin::new(s).unwrap()
}

// ---- signed notes --------------------------------------------------------

#[test]
fn peterneumann_note_opens() {
    let msg = vector("peterneumann.note");
    let key = vkey("peterneumann.vkey");
    let n = note::open(&msg, std::slice::from_ref(&key)).unwrap();
    assert_eq!(
        n.text(),
        "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    );
    assert_eq!(n.sigs().len(), 1);
    assert_eq!(
        (n.sigs()[0].name.as_str(), n.sigs()[0].id),
        ("PeterNeumann", key.id())
    );
    assert!(n.unverified().is_empty());
}

#[test]
fn peterneumann_note_is_reproduced_by_signing() {
    let s = Signer::parse_skey(PETER_SKEY).unwrap();
    assert_eq!(s.verifier_key(), vkey("peterneumann.vkey"));
    let msg = vector("peterneumann.note");
    let text = note::open(&msg, &[s.verifier_key()])
        .unwrap()
        .text()
        .to_string();
    assert_eq!(note::sign(&text, &[&s]).unwrap().as_bytes(), msg.as_slice());
}

#[test]
fn sumdb_notes_open() {
    let key = vkey("sum.golang.org.vkey");
    for (size, msg) in sumdb_notes() {
        let n = note::open(&msg, std::slice::from_ref(&key))
            .unwrap_or_else(|e| panic!("sumdb-{size}: {e}"));
        assert!(
            n.text().starts_with("go.sum database tree\n"),
            "sumdb-{size}"
        );
    }
}

#[test]
fn tampered_text_fails() {
    let key = vkey("peterneumann.vkey");
    let msg = String::from_utf8(vector("peterneumann.note")).unwrap();
    let tampered = msg.replacen("cryptography", "cryptographY", 1);
    let err = note::open(tampered.as_bytes(), std::slice::from_ref(&key)).unwrap_err();
    assert_eq!(
        err,
        NoteError::InvalidSignature {
            name: "PeterNeumann".into(),
            id: key.id()
        }
    );
    assert_eq!(
        err.to_string(),
        "invalid signature for key PeterNeumann+c74f20a3"
    );
}

#[test]
fn wrong_key_fails() {
    let msg = vector("peterneumann.note");
    // Same name, different key (so a different key ID): unknown, ignored.
    let other = signer("PeterNeumann", 1).verifier_key();
    assert_eq!(
        note::open(&msg, &[other]),
        Err(NoteError::NoVerifiedSignature)
    );
    assert_eq!(
        note::open(&msg, &[vkey("sum.golang.org.vkey")]),
        Err(NoteError::NoVerifiedSignature)
    );
    assert_eq!(note::open(&msg, &[]), Err(NoteError::NoVerifiedSignature));
}

#[test]
fn sign_open_roundtrip_with_unknown_cosigner() {
    let log = signer("example.com/log", 1);
    let witness = signer("witness.example", 2);
    let text = "hello\n\nworld, with an empty line above\n";
    let msg = note::sign(text, &[&log, &witness]).unwrap();
    let n = note::open(msg.as_bytes(), &[log.verifier_key()]).unwrap();
    assert_eq!(n.text(), text);
    assert_eq!(n.sigs().len(), 1);
    assert_eq!(n.unverified().len(), 1);
    assert_eq!(n.unverified()[0].name, "witness.example");
    let both = note::open(
        msg.as_bytes(),
        &[witness.verifier_key(), log.verifier_key()],
    )
    .unwrap();
    assert_eq!(both.sigs().len(), 2);
}

#[test]
fn sign_rejects_bad_text_and_signers() {
    let s = signer("example.com/log", 1);
    assert_eq!(
        note::sign("no newline", &[&s]),
        Err(NoteError::TextNotNewlineTerminated)
    );
    assert_eq!(
        note::sign("", &[&s]),
        Err(NoteError::TextNotNewlineTerminated)
    );
    assert!(matches!(
        note::sign("tab\there\n", &[&s]),
        Err(NoteError::ControlCharacter { byte: 9, offset: 3 })
    ));
    assert_eq!(note::sign("x\n", &[]), Err(NoteError::NoSigners));
    assert!(matches!(
        note::sign("x\n", &[&s, &s]),
        Err(NoteError::DuplicateSignature { .. })
    ));
}

/// A predicate on the error a malformed note must produce.
type ErrorCheck = fn(&NoteError) -> bool;

/// A valid note and its key, for the malformed-input cases.
fn good_note() -> (String, VerifierKey) {
    let s = signer("example.com/log", 3);
    (
        note::sign("line one\nline two\n", &[&s]).unwrap(),
        s.verifier_key(),
    )
}

#[test]
fn malformed_notes_fail_with_clear_errors() {
    let (msg, key) = good_note();
    let (text, sigs) = msg.split_at(msg.find("\n\n").unwrap() + 1);
    let sig_line = &sigs[1..];
    let b64 = sig_line.rsplit_once(' ').unwrap().1.trim_end();
    let cases: Vec<(&str, String, ErrorCheck)> = vec![
        ("missing blank line", format!("{text}{sig_line}"), |e| {
            *e == NoteError::MissingBlankLine
        }),
        (
            "bad base64",
            msg.replace(b64, &format!("{}!", &b64[..b64.len() - 1])),
            |e| matches!(e, NoteError::BadBase64 { line: 1, .. }),
        ),
        ("trailing garbage", format!("{msg}garbage"), |e| {
            *e == NoteError::BadSignatureBlock
        }),
        ("trailing garbage line", format!("{msg}garbage\n"), |e| {
            matches!(e, NoteError::BadSignaturePrefix { line: 2, .. })
        }),
        ("hyphen for em dash", msg.replace('\u{2014}', "-"), |e| {
            matches!(e, NoteError::BadSignaturePrefix { line: 1, .. })
        }),
        (
            "double space",
            msg.replacen("\u{2014} ", "\u{2014}  ", 1),
            |e| matches!(e, NoteError::BadKeyName { .. }),
        ),
        ("no signatures", format!("{text}\n"), |e| {
            *e == NoteError::BadSignatureBlock
        }),
        (
            "carriage return",
            msg.replace("line one\n", "line one\r\n"),
            |e| matches!(e, NoteError::ControlCharacter { byte: 0x0d, .. }),
        ),
        ("duplicate line", format!("{msg}{sig_line}"), |e| {
            matches!(e, NoteError::DuplicateSignature { .. })
        }),
        (
            "short signature",
            format!("{text}\n\u{2014} example.com/log AAAAAA==\n"),
            |e| matches!(e, NoteError::SignatureTooShort { len: 4, .. }),
        ),
    ];
    for (what, input, expected) in cases {
        let err = note::open(input.as_bytes(), std::slice::from_ref(&key)).unwrap_err();
        assert!(expected(&err), "{what}: got {err:?}");
        assert!(!err.to_string().is_empty());
    }
    assert!(matches!(
        note::open(b"caf\xc3\n\n", &[key]),
        Err(NoteError::NotUtf8 { offset: 3 })
    ));
}

#[test]
fn known_key_with_wrong_length_signature_is_invalid() {
    let (msg, key) = good_note();
    let (text, _) = msg.split_at(msg.find("\n\n").unwrap() + 1);
    let mut raw = key.id().to_be_bytes().to_vec();
    raw.extend_from_slice(&[0u8; 63]);
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
    let bad = format!("{text}\n\u{2014} example.com/log {b64}\n");
    assert!(matches!(
        note::open(bad.as_bytes(), &[key]),
        Err(NoteError::InvalidSignature { .. })
    ));
}

#[test]
fn signature_limit() {
    let s = signer("example.com/log", 4);
    let text = "limit\n";
    let mut msg = note::sign(text, &[&s]).unwrap();
    let others: Vec<Signer> = (0..99)
        .map(|i| signer(&format!("w{i}"), 10 + i as u8))
        .collect();
    for o in &others {
        let line = note::sign(text, &[o]).unwrap();
        msg.push_str(&line[text.len() + 1..]);
    }
    assert!(
        note::open(msg.as_bytes(), &[s.verifier_key()]).is_ok(),
        "100 signatures"
    );
    let extra = note::sign(text, &[&signer("w99", 200)]).unwrap();
    msg.push_str(&extra[text.len() + 1..]);
    assert_eq!(
        note::open(msg.as_bytes(), &[s.verifier_key()]),
        Err(NoteError::TooManySignatures { max: 100 })
    );
}

// ---- checkpoints ---------------------------------------------------------

#[test]
fn sumdb_notes_are_checkpoints() {
    let key = vkey("sum.golang.org.vkey");
    for (size, msg) in sumdb_notes() {
        let cp = checkpoint::open(&msg, &origin(SUMDB_ORIGIN), &key)
            .unwrap_or_else(|e| panic!("sumdb-{size}: {e}"));
        assert_eq!(cp.size(), size);
        assert_eq!(cp.checkpoint().origin().as_str(), SUMDB_ORIGIN);
        assert_eq!(cp.note_bytes(), msg.as_slice());
        assert_eq!(cp.root(), cp.checkpoint().root());
        let body = note::open(&msg, std::slice::from_ref(&key))
            .unwrap()
            .text()
            .to_string();
        assert_eq!(
            cp.checkpoint().to_body(),
            body,
            "sumdb-{size} body roundtrip"
        );
    }
}

#[test]
fn checkpoint_sign_open_roundtrip() {
    let s = signer("example.com/log", 5);
    let root = leaf_hash(b"root");
    let cp =
        Checkpoint::with_extensions(origin("example.com/log"), 42, root, vec!["ext one".into()])
            .unwrap();
    let msg = checkpoint::sign_checkpoint(&cp, &s);
    assert!(msg.starts_with(&format!(
        "example.com/log\n42\n{}\next one\n\n",
        root.to_base64()
    )));
    let opened = checkpoint::open(
        msg.as_bytes(),
        &origin("example.com/log"),
        &s.verifier_key(),
    )
    .unwrap();
    assert_eq!(opened.checkpoint(), &cp);
    assert_eq!((opened.size(), opened.root()), (42, root));
    assert_eq!(opened.note_bytes(), msg.as_bytes());
}

#[test]
fn checkpoint_wrong_origin_or_key_refused() {
    let s = signer("example.com/log", 5);
    let cp = Checkpoint::new(origin("example.com/log"), 1, leaf_hash(b"x"));
    let msg = checkpoint::sign_checkpoint(&cp, &s);
    let err = checkpoint::open(
        msg.as_bytes(),
        &origin("example.com/other"),
        &s.verifier_key(),
    )
    .unwrap_err();
    assert!(
        matches!(err, CheckpointError::OriginMismatch { .. }),
        "{err}"
    );
    let err = checkpoint::open(
        msg.as_bytes(),
        &origin("example.com/log"),
        &signer("example.com/log", 6).verifier_key(),
    )
    .unwrap_err();
    assert_eq!(err, CheckpointError::Note(NoteError::NoVerifiedSignature));
}

#[test]
fn checkpoint_non_canonical_size_refused() {
    let s = signer("example.com/log", 5);
    let root = leaf_hash(b"x").to_base64();
    let msg = note::sign(&format!("example.com/log\n01\n{root}\n"), &[&s]).unwrap();
    let err = checkpoint::open(
        msg.as_bytes(),
        &origin("example.com/log"),
        &s.verifier_key(),
    )
    .unwrap_err();
    assert_eq!(err, CheckpointError::BadSize("01".into()));
    assert_eq!(
        err.to_string(),
        "invalid checkpoint tree size \"01\": want decimal without leading zeros"
    );
}

#[test]
fn checkpoint_body_parse_is_strict() {
    let root = leaf_hash(b"x").to_base64();
    let ok = format!("o\n0\n{root}\n");
    assert_eq!(Checkpoint::parse_body(&ok).unwrap().size(), 0);
    let short_root = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode([0u8; 31])
    };
    let cases = [
        ("no final newline", format!("o\n0\n{root}")),
        ("two lines", "o\n0\n".to_string()),
        ("empty origin", format!("\n0\n{root}\n")),
        ("plus sign size", format!("o\n+1\n{root}\n")),
        ("negative size", format!("o\n-1\n{root}\n")),
        (
            "overflowing size",
            format!("o\n18446744073709551616\n{root}\n"),
        ),
        ("31-byte root", format!("o\n1\n{short_root}\n")),
        (
            "unpadded root",
            format!("o\n1\n{}\n", root.trim_end_matches('=')),
        ),
        ("empty extension", format!("o\n1\n{root}\n\n")),
        ("control character", format!("o\t\n1\n{root}\n")),
    ];
    for (what, body) in cases {
        assert!(Checkpoint::parse_body(&body).is_err(), "{what}: {body:?}");
    }
    assert!(Origin::new("").is_err());
    assert!(
        Checkpoint::with_extensions(origin("o"), 1, leaf_hash(b""), vec![String::new()]).is_err()
    );
}

// ---- tlog proofs ---------------------------------------------------------

/// A 7-entry log, its key and its signed checkpoint.
fn small_log() -> (Vec<Vec<u8>>, MemoryTree, Signer, String) {
    let entries: Vec<Vec<u8>> = (0..7).map(|i| format!("entry {i}").into_bytes()).collect();
    let mut tree = MemoryTree::new();
    for e in &entries {
        tree.append(e);
    }
    let s = signer("example.com/log", 8);
    let cp = Checkpoint::new(origin("example.com/log"), tree.size, tree.root());
    let msg = checkpoint::sign_checkpoint(&cp, &s);
    (entries, tree, s, msg)
}

fn proof_for(tree: &MemoryTree, index: u64, note: &str) -> TlogProof {
    let hashes = tlog::prove_record(tree.size, index, tree).unwrap();
    TlogProof::new(None, index, hashes, note.as_bytes().to_vec()).unwrap()
}

#[test]
fn three_leaf_tree_by_hand() {
    let mut tree = MemoryTree::new();
    for e in [b"a", b"b", b"c"] {
        tree.append(e);
    }
    let (a, b, c) = (leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c"));
    assert_eq!(tree.root(), node_hash(&node_hash(&a, &b), &c));
    let s = signer("example.com/log", 8);
    let msg = checkpoint::sign_checkpoint(
        &Checkpoint::new(origin("example.com/log"), 3, tree.root()),
        &s,
    );
    // Entry 1's proof: its sibling a, then the right subtree c.
    let proof = TlogProof::new(None, 1, vec![a, c], msg.into_bytes()).unwrap();
    let cp = proof
        .verify(b"b", &origin("example.com/log"), &s.verifier_key())
        .unwrap();
    assert_eq!(cp.size(), 3);
}

#[test]
fn tlog_proof_roundtrip_and_verify() {
    let (entries, tree, s, msg) = small_log();
    for (i, entry) in entries.iter().enumerate() {
        let p = proof_for(&tree, i as u64, &msg);
        let text = p.to_text();
        assert!(text.starts_with(&format!("c2sp.org/tlog-proof@v1\nindex {i}\n")));
        assert!(text.ends_with(&msg));
        let back = TlogProof::parse(&text).unwrap();
        assert_eq!(back, p);
        let cp = back
            .verify(entry, &origin("example.com/log"), &s.verifier_key())
            .unwrap();
        assert_eq!((cp.size(), cp.root()), (7, tree.root()));
    }
}

#[test]
fn tlog_proof_with_extra_roundtrips() {
    let (entries, tree, s, msg) = small_log();
    let hashes = tlog::prove_record(7, 2, &tree).unwrap();
    let p = TlogProof::new(Some(b"context".to_vec()), 2, hashes, msg.into_bytes()).unwrap();
    let text = p.to_text();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra Y29udGV4dA==\nindex 2\n"));
    let back = TlogProof::parse(&text).unwrap();
    assert_eq!(back.extra(), Some(&b"context"[..]));
    back.verify(&entries[2], &origin("example.com/log"), &s.verifier_key())
        .unwrap();
}

#[test]
fn tlog_proof_wrong_entry_fails() {
    let (_, tree, s, msg) = small_log();
    let p = proof_for(&tree, 3, &msg);
    let err = p
        .verify(b"entry 4", &origin("example.com/log"), &s.verifier_key())
        .unwrap_err();
    assert_eq!(
        err,
        ProofError::Inclusion {
            index: 3,
            size: 7,
            source: TlogError::BadProof
        }
    );
}

#[test]
fn tlog_proof_tampered_line_fails() {
    let (entries, tree, s, msg) = small_log();
    let text = proof_for(&tree, 3, &msg).to_text();
    let line = text.lines().nth(2).unwrap();
    let mut raw = lvyue_ledger::Hash::from_base64(line).unwrap();
    raw.0[0] ^= 1;
    let tampered = text.replacen(line, &raw.to_base64(), 1);
    let p = TlogProof::parse(&tampered).unwrap();
    let err = p
        .verify(&entries[3], &origin("example.com/log"), &s.verifier_key())
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProofError::Inclusion {
                source: TlogError::BadProof,
                ..
            }
        ),
        "{err}"
    );
    // Tampering with the checkpoint breaks its signature instead.
    let tampered = text.replacen("\n7\n", "\n8\n", 1);
    let err = TlogProof::parse(&tampered)
        .unwrap()
        .verify(&entries[3], &origin("example.com/log"), &s.verifier_key())
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProofError::Checkpoint(CheckpointError::Note(NoteError::InvalidSignature { .. }))
        ),
        "{err}"
    );
}

#[test]
fn tlog_proof_index_and_length_checked() {
    let (entries, tree, s, msg) = small_log();
    let mut p = proof_for(&tree, 3, &msg);
    let short = TlogProof::new(None, 3, p.proof()[1..].to_vec(), msg.clone().into_bytes()).unwrap();
    assert!(matches!(
        short.verify(&entries[3], &origin("example.com/log"), &s.verifier_key()),
        Err(ProofError::Inclusion { .. })
    ));
    p = TlogProof::new(None, 7, p.proof().to_vec(), msg.into_bytes()).unwrap();
    assert!(matches!(
        p.verify(b"entry 7", &origin("example.com/log"), &s.verifier_key()),
        Err(ProofError::Inclusion {
            source: TlogError::InvalidIndex { .. },
            ..
        })
    ));
}

#[test]
fn tlog_proof_parse_is_strict() {
    let (_, tree, _, msg) = small_log();
    let text = proof_for(&tree, 3, &msg).to_text();
    let hash_line = text.lines().nth(2).unwrap().to_string();
    let cases = [
        ("wrong header", text.replacen("@v1", "@v2", 1)),
        (
            "leading zero index",
            text.replacen("index 3", "index 03", 1),
        ),
        ("missing index", text.replacen("index 3\n", "", 1)),
        (
            "empty extra",
            text.replacen("index 3", "extra \nindex 3", 1),
        ),
        (
            "bad extra",
            text.replacen("index 3", "extra !!\nindex 3", 1),
        ),
        ("short hash", text.replacen(&hash_line, &hash_line[4..], 1)),
        (
            "truncated",
            text[..text.find("\n\n").unwrap() + 1].to_string(),
        ),
        (
            "empty checkpoint",
            text[..text.find("\n\n").unwrap() + 2].to_string(),
        ),
        ("crlf", text.replacen("index 3\n", "index 3\r\n", 1)),
    ];
    for (what, input) in cases {
        let err = TlogProof::parse(&input).unwrap_err();
        assert!(!err.to_string().is_empty(), "{what}");
    }
    let many = text.replacen(
        &format!("{hash_line}\n"),
        &format!("{hash_line}\n").repeat(65),
        1,
    );
    assert_eq!(
        TlogProof::parse(&many).unwrap_err(),
        ProofError::TooManyHashes(64)
    );
}
