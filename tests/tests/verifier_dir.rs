//! The standalone verifier on an offline export folder (issue 5): a clean
//! folder audits, tampered bundles and tiles are named by index, audits
//! resume from a saved state and replay only new entries, a rollback
//! against the saved state is proven, and missing files cannot be checked.

use lvyue_ledger::checkpoint::{Checkpoint, sign_checkpoint};
use lvyue_ledger::keys::Signer;
use lvyue_ledger::types::Role;
use lvyue_tests::{TestNode, uscc};
use lvyue_verifier::{AuditReport, Failure, Proven, Source};
use std::path::Path;

/// A node with `n` registered keys (n + 1 entries).
fn node_with(n: u32) -> TestNode {
    let node = TestNode::start();
    register(&node, 0, n);
    node
}

fn register(node: &TestNode, from: u32, to: u32) {
    for i in from..to {
        node.register(&format!("firm-{i}"), Role::MarketEntity, &uscc(i));
    }
}

fn audit_dir(n: &TestNode, dir: &Path, state: Option<&Path>) -> Result<AuditReport, Failure> {
    lvyue_verifier::audit(
        &Source::Dir(dir.to_path_buf()),
        &n.node.vkey,
        state,
        &mut |_, _| {},
    )
}

fn violation(r: Result<AuditReport, Failure>) -> Box<Proven> {
    match r {
        Err(Failure::Violation(p)) => p,
        other => panic!("want a violation, got {other:?}"),
    }
}

fn could_not_check(r: Result<AuditReport, Failure>) -> String {
    match r {
        Err(Failure::CouldNotCheck(m)) => m,
        other => panic!("want could-not-check, got {other:?}"),
    }
}

/// The entries of a C2SP entry bundle.
fn split(bundle: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        out.push(rest[2..2 + len].to_vec());
        rest = &rest[2 + len..];
    }
    out
}

fn join(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&(e.len() as u16).to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

/// Rewrites the bundle at `path` in `dir` with `f`, returning the original bytes.
fn edit_bundle(dir: &Path, path: &str, f: impl FnOnce(&mut Vec<Vec<u8>>)) -> Vec<u8> {
    let file = dir.join(path);
    let original = std::fs::read(&file).unwrap();
    let mut entries = split(&original);
    f(&mut entries);
    std::fs::write(&file, join(&entries)).unwrap();
    original
}

#[test]
fn audit_of_a_clean_export_folder_matches_the_node() {
    let n = node_with(300);
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(n.export_dir(dir.path()), 301);
    let r = audit_dir(&n, dir.path(), None).expect("clean folder audits");
    assert_eq!((r.size, r.submitted, r.derived), (301, 301, 0));
    assert_eq!((r.from, r.replayed), (0, 301));
    assert_eq!(r.root, n.audit().root);
    let over_http = lvyue_verifier::audit_url(&n.url, &n.node.vkey, |_, _| {}).unwrap();
    assert_eq!(over_http.root, r.root);
}

#[test]
fn flipped_byte_in_an_entry_bundle_is_named() {
    let n = node_with(300);
    let dir = tempfile::tempdir().unwrap();
    n.export_dir(dir.path());
    // Entry 100 in the full bundle, entry 300 (the last) in the partial one.
    for (path, index, k) in [
        ("tile/entries/000", 100u64, 100usize),
        ("tile/entries/001.p/45", 300, 44),
    ] {
        let original = edit_bundle(dir.path(), path, |e| {
            let at = e[k].len() / 2;
            e[k][at] ^= 0x01;
        });
        let p = violation(audit_dir(&n, dir.path(), None));
        assert_eq!(p.first_bad_index, Some(index), "{}", p.message);
        assert!(
            p.message.starts_with(&format!("entry {index}:")),
            "{}",
            p.message
        );
        assert!(p.expected.is_some() && p.found.is_some(), "{p:?}");
        std::fs::write(dir.path().join(path), original).unwrap();
    }
    audit_dir(&n, dir.path(), None).expect("restored folder is clean");
}

#[test]
fn deleted_and_swapped_entries_are_named() {
    let n = node_with(300);
    let dir = tempfile::tempdir().unwrap();
    n.export_dir(dir.path());
    let full = "tile/entries/000";
    let original = edit_bundle(dir.path(), full, |e| {
        e.remove(42);
    });
    let p = violation(audit_dir(&n, dir.path(), None));
    assert_eq!(p.first_bad_index, Some(42), "{}", p.message);
    assert_eq!(p.expected.as_deref(), Some("index 42"), "{p:?}");
    assert_eq!(p.found.as_deref(), Some("index 43"), "{p:?}");

    std::fs::write(dir.path().join(full), &original).unwrap();
    edit_bundle(dir.path(), full, |e| e.swap(7, 8));
    let p = violation(audit_dir(&n, dir.path(), None));
    assert_eq!(p.first_bad_index, Some(7), "{}", p.message);
    std::fs::write(dir.path().join(full), &original).unwrap();

    // The last entry of the log dropped from its bundle.
    let partial = "tile/entries/001.p/45";
    edit_bundle(dir.path(), partial, |e| {
        e.pop();
    });
    let p = violation(audit_dir(&n, dir.path(), None));
    assert_eq!(p.first_bad_index, Some(300), "{}", p.message);
}

#[test]
fn tampered_hash_tiles_are_named() {
    let n = node_with(300);
    let dir = tempfile::tempdir().unwrap();
    n.export_dir(dir.path());
    // Leaf hash of entry 5 in the level-0 tile.
    let file = dir.path().join("tile/0/000");
    let original = std::fs::read(&file).unwrap();
    let mut bad = original.clone();
    bad[5 * 32] ^= 1;
    std::fs::write(&file, &bad).unwrap();
    let p = violation(audit_dir(&n, dir.path(), None));
    assert_eq!(p.first_bad_index, Some(5), "{}", p.message);
    assert!(p.message.contains("tile/0/000"), "{}", p.message);
    std::fs::write(&file, &original).unwrap();

    // The hash of entries 0..=255 in the level-1 tile.
    let file = dir.path().join("tile/1/000.p/1");
    let mut bad = std::fs::read(&file).unwrap();
    bad[0] ^= 1;
    std::fs::write(&file, &bad).unwrap();
    let p = violation(audit_dir(&n, dir.path(), None));
    assert!(
        p.message.contains("tile/1/000.p/1") && p.message.contains("0..=255"),
        "{}",
        p.message
    );
}

#[test]
fn incremental_audit_replays_only_the_new_entries() {
    let n = node_with(10);
    let state = tempfile::tempdir().unwrap();
    let state = state.path().join("audit.state");
    let first = tempfile::tempdir().unwrap();
    n.export_dir(first.path());
    let r = audit_dir(&n, first.path(), Some(&state)).expect("first audit");
    assert_eq!((r.from, r.replayed, r.size), (0, 11, 11));
    assert!(r.consistency.is_none());

    // 290 more entries, exported to a new folder: only those are replayed.
    register(&n, 10, 300);
    let second = tempfile::tempdir().unwrap();
    assert_eq!(n.export_dir(second.path()), 301);
    let r = audit_dir(&n, second.path(), Some(&state)).expect("second audit");
    assert_eq!((r.from, r.replayed, r.size), (11, 290, 301));
    assert_eq!(r.submitted, 301, "counts carry over from the state");
    assert_eq!(r.root, n.audit().root);
    let c = r.consistency.expect("consistency checked");
    assert!(c.contains("size 301 extends size 11"), "{c}");

    // Nothing new: nothing replayed.
    let r = audit_dir(&n, second.path(), Some(&state)).expect("third audit");
    assert_eq!((r.from, r.replayed), (301, 0));

    // The same state against the node over HTTP after a few more entries.
    register(&n, 300, 305);
    let r = lvyue_verifier::audit(
        &Source::parse(&n.url),
        &n.node.vkey,
        Some(&state),
        &mut |_, _| {},
    )
    .expect("audit over HTTP with state");
    assert_eq!((r.from, r.replayed, r.size), (301, 5, 306));
    assert_eq!(r.root, n.audit().root);

    // A tampered new entry is still caught by an incremental audit.
    register(&n, 305, 310);
    let third = tempfile::tempdir().unwrap();
    n.export_dir(third.path());
    edit_bundle(third.path(), "tile/entries/001.p/55", |e| {
        let k = e.len() - 2;
        let at = e[k].len() / 2;
        e[k][at] ^= 1;
    });
    let p = violation(audit_dir(&n, third.path(), Some(&state)));
    assert_eq!(p.first_bad_index, Some(309), "{}", p.message);
}

#[test]
fn rollback_and_fork_against_the_saved_state_are_proven() {
    let n = node_with(5);
    let old = tempfile::tempdir().unwrap();
    n.export_dir(old.path());
    register(&n, 5, 20);
    let new = tempfile::tempdir().unwrap();
    n.export_dir(new.path());
    let state_dir = tempfile::tempdir().unwrap();
    let state = state_dir.path().join("audit.state");
    audit_dir(&n, new.path(), Some(&state)).expect("audit of the newer folder");
    let saved = std::fs::read(&state).unwrap();

    // The older folder, presented after the newer one was audited: a rollback.
    let p = violation(audit_dir(&n, old.path(), Some(&state)));
    assert!(p.message.contains("rolled back"), "{}", p.message);
    let m = p.misbehaviour.expect("proof of misbehaviour");
    let old_note = std::fs::read_to_string(old.path().join("checkpoint")).unwrap();
    let new_note = std::fs::read_to_string(new.path().join("checkpoint")).unwrap();
    assert_eq!((m.old_checkpoint, m.new_checkpoint), (new_note, old_note));
    assert_eq!(
        std::fs::read(&state).unwrap(),
        saved,
        "a failed audit keeps the state"
    );

    // A larger tree signed with the node key that does not extend the saved one.
    let node_key = Signer::read_file(&n.path.as_path().join("keys/node.key")).unwrap();
    let forged = sign_checkpoint(
        &Checkpoint::new(n.node.origin.clone(), 22, lvyue_ledger::Hash([2; 32])),
        &node_key,
    );
    let forked = tempfile::tempdir().unwrap();
    register(&n, 20, 21);
    n.export_dir(forked.path());
    std::fs::write(forked.path().join("checkpoint"), forged).unwrap();
    let p = violation(audit_dir(&n, forked.path(), Some(&state)));
    assert!(p.message.contains("does not extend"), "{}", p.message);
    assert!(!p.misbehaviour.expect("proof").proof.is_empty());
}

#[test]
fn missing_folder_files_and_foreign_state_could_not_check() {
    let n = node_with(300);
    let dir = tempfile::tempdir().unwrap();
    n.export_dir(dir.path());
    let gone = dir.path().join("no-such-folder");
    let m = could_not_check(audit_dir(&n, &gone, None));
    assert!(m.contains("checkpoint"), "{m}");

    let bundle = dir.path().join("tile/entries/001.p/45");
    let saved = std::fs::read(&bundle).unwrap();
    std::fs::remove_file(&bundle).unwrap();
    let m = could_not_check(audit_dir(&n, dir.path(), None));
    assert!(m.contains("tile/entries/001.p/45"), "{m}");
    std::fs::write(&bundle, saved).unwrap();

    std::fs::remove_file(dir.path().join("tile/0/000")).unwrap();
    let m = could_not_check(audit_dir(&n, dir.path(), None));
    assert!(m.contains("tile/0/000"), "{m}");

    // A state file made for another log's key.
    let other = node_with(1);
    let o = tempfile::tempdir().unwrap();
    other.export_dir(o.path());
    let state = o.path().join("audit.state");
    audit_dir(&other, o.path(), Some(&state)).unwrap();
    let restored = tempfile::tempdir().unwrap();
    n.export_dir(restored.path());
    let m = could_not_check(audit_dir(&n, restored.path(), Some(&state)));
    assert!(m.contains("state file"), "{m}");
}

/// A bare static file server over `dir` (GET only, one request per
/// connection), like any web server an auditor might put in front of an
/// export folder. Returns its base URL; it serves until the test ends.
fn serve_static(dir: &Path) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split(' ').nth(1).unwrap_or("/").to_string();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                    break;
                }
            }
            let file = dir.join(path.trim_start_matches('/'));
            let found = (!path.contains(".."))
                .then(|| std::fs::read(&file).ok())
                .flatten();
            let _ = match found {
                Some(body) => stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|()| stream.write_all(&body)),
                None => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    url
}

/// An export folder put behind a plain web server holds only the partial
/// tiles of its own size; proofs between earlier sizes still verify over
/// HTTP, read from those wider tiles, exactly as from the folder.
#[test]
fn an_export_folder_behind_a_static_web_server_proves_earlier_sizes() {
    // Sizes 101, 151, then 201: tile 0 of level 0 is partial at all three.
    let n = node_with(100);
    register(&n, 100, 150);
    assert_eq!(n.audit().size, 151);
    register(&n, 150, 200);
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(n.export_dir(dir.path()), 201);
    assert!(dir.path().join("tile/0/000.p/201").exists());
    assert!(!dir.path().join("tile/0/000.p/151").exists());
    let url = serve_static(dir.path());
    let proof = |source: &str| {
        lvyue_verifier::audit::tile_consistency_proof(&Source::parse(source), 101, 151)
    };
    let by_node = proof(&n.url).expect("the node's proof");
    let by_folder = proof(dir.path().to_str().unwrap()).expect("the folder's proof");
    let by_web = proof(&url).expect("a proof from the folder's wider tile, over HTTP");
    assert_eq!(by_folder, by_node);
    assert_eq!(by_web, by_node);
    let over_http = lvyue_verifier::audit_url(&url, &n.node.vkey, |_, _| {}).expect("audit");
    assert_eq!(over_http.root, n.audit().root);
}
