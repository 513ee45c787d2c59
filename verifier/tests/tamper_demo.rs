//! The tamper suite of issue 5 on a demo-sized log, driving the built
//! `lvyue-verify` binary: exit codes and its `--json` answer.
//!
//! The demo city `lvyue-node demo` builds (default options, about 8,800
//! entries) is built once per test binary, exported offline to a folder
//! (the C2SP tlog-tiles layout, plus the signed disclosure), and a signed
//! credit report of a black-listed firm is taken from it. Every case copies
//! or rewrites that clean folder, so cases are independent.
//!
//! | tampering (issue 5) | test |
//! |---|---|
//! | a flipped byte in an entry | `flipped_byte_in_an_entry_is_named` |
//! | an entry deleted | `entry_deleted_from_its_bundle_is_named`, `entry_deleted_from_a_resigned_log_is_named` |
//! | two entries swapped | `entries_swapped_within_their_bundle_are_named`, `entries_swapped_in_a_resigned_log_are_named` |
//! | a score delta changed | `changed_score_delta_is_named` |
//! | a derived record dropped | `dropped_derived_record_is_named` |
//! | a forged derived record added | `forged_derived_record_is_named` |
//! | a record signed by a revoked key | `record_signed_by_a_revoked_key_is_named` |
//! | a disclosure with a black listing removed, re-signed | `resigned_disclosure_with_a_black_listing_removed_is_proven_altered` |
//! | a credit report with its score raised, re-signed | `resigned_credit_report_with_a_raised_score_is_proven_altered` (and the ignored `…_latest_deductions_dropped_…`) |
//! | a rule set parameter changed after the fact | `rule_set_parameter_changed_after_the_fact_is_named` |
//! | a forked log | `forked_log_is_proven` |
//! | a rolled-back tree | `rolled_back_tree_is_proven` |
//!
//! Byte-level tampering (a flipped byte, an entry deleted from or swapped
//! within its bundle) edits the bundle files and leaves checkpoint and
//! tiles alone. Every other forgery is made by someone holding the node's
//! own key (`DATA/keys/node.key`): the entries are re-chained, every hash
//! tile and entry bundle is rewritten and a new checkpoint is signed, so the
//! folder is consistent in every byte the replay does not interpret, and
//! only the semantic tampering is left for the replay to catch
//! ([`forging_reproduces_the_clean_export_byte_for_byte`] shows the forging
//! itself adds nothing). Each case asserts exit 1 and the index or item the
//! verifier names; the untampered folder, disclosure and report exit 0.

use lvyue_ledger::Hash;
use lvyue_ledger::book::Disclosure;
use lvyue_ledger::checkpoint::{Checkpoint, Origin, sign_checkpoint};
use lvyue_ledger::event::Event;
use lvyue_ledger::export::{self, CreditReport, SignedExport};
use lvyue_ledger::hash::leaf_hash;
use lvyue_ledger::keys::Signer;
use lvyue_ledger::record::{Body, Derived, Entry, ListKind};
use lvyue_ledger::tlog::{self, MemoryTree, TILE_HEIGHT, TILE_WIDTH};
use lvyue_ledger::types::{SignerName, Subject, Text};
use lvyue_node::clock::FixedClock;
use lvyue_node::demo::{self, DemoOptions};
use lvyue_node::node::{self, InitOptions};
use lvyue_node::sequencer::SequencerConfig;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The clean demo city, built once per test binary.
struct Demo {
    /// Holds the folders below; never dropped (a static), see [`scratch`].
    _tmp: tempfile::TempDir,
    /// The demo's data folder; only its keys are kept (`keys/node.key`,
    /// `keys/office.key`, `keys/demo/<name>.key`).
    data: PathBuf,
    /// The offline export of the data folder: checkpoint, tiles, bundles,
    /// `disclosure.json`, `disclosure.csv`.
    clean: PathBuf,
    /// The log's verifier key string.
    vkey: String,
    origin: String,
    /// The node key: what a forger holding the operator's machine has.
    node_key: Signer,
    /// Every entry of the clean log, decoded from the export's bundles.
    entries: Vec<Entry>,
    /// A signed credit report of a black-listed firm, and the file holding it.
    report: SignedExport<CreditReport>,
    report_file: PathBuf,
}

static DEMO: OnceLock<Demo> = OnceLock::new();

fn demo() -> &'static Demo {
    DEMO.get_or_init(build_demo)
}

/// A folder for this binary's files under cargo's scratch space for
/// integration tests. The static [`Demo`] is never dropped, so folders of
/// earlier runs older than an hour are removed here.
fn scratch() -> tempfile::TempDir {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    if let Ok(read) = std::fs::read_dir(base) {
        for e in read.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(3600));
            if old && e.file_name().to_string_lossy().starts_with("tamper_demo.") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    tempfile::Builder::new()
        .prefix("tamper_demo.")
        .tempdir_in(base)
        .expect("scratch folder")
}

fn build_demo() -> Demo {
    let tmp = scratch();
    let data = tmp.path().join("data");
    // The city `lvyue-node demo` builds: about 8,800 entries.
    demo::build(&data, &DemoOptions::default()).expect("demo builds");
    let clean = tmp.path().join("clean");
    lvyue_node::export::from_data_dir(&data, &clean).expect("offline export");
    let node_key = Signer::read_file(&data.join("keys/node.key")).expect("node key");
    let origin = node_key.name().as_str().to_string();
    let vkey = node_key.verifier_key().to_string();
    let entries = read_entries(&clean);
    assert_eq!(entries.len() as u64, checkpoint_size(&clean));

    // The credit report of the first black-listed firm, built by a node
    // opened on the data folder after the export (no tick: nothing is
    // appended), then stopped.
    let d = disclosure(&clean);
    let who = d
        .black_list
        .first()
        .expect("the demo black-lists a firm")
        .entity
        .clone();
    assert!(matches!(who, Subject::Org(_)), "{who}");
    let end = entries.last().expect("entries").time_ms;
    let config = SequencerConfig {
        tick_interval: Duration::from_secs(365 * 86_400),
        ..SequencerConfig::default()
    };
    let n = node::open(
        &data,
        &InitOptions::default(),
        Arc::new(FixedClock::new(end)),
        config,
    )
    .expect("open the demo's node");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let report = rt
        .block_on(
            n.sequencer
                .read(move |w| lvyue_node::query::credit_report(w, &who)),
        )
        .expect("sequencer answers")
        .expect("report builds")
        .expect("the entity has records");
    n.sequencer.stop();
    assert_eq!(
        report.checkpoint.as_bytes(),
        std::fs::read(clean.join("checkpoint")).unwrap(),
        "the report is at the export's checkpoint"
    );
    // Only the keys are used from here on; the store is the bulk of the folder.
    std::fs::remove_dir_all(data.join("store")).expect("remove the store");
    let report_file = tmp.path().join("report.json");
    std::fs::write(&report_file, serde_json::to_vec(&report).unwrap()).unwrap();
    Demo {
        _tmp: tmp,
        data,
        clean,
        vkey,
        origin,
        node_key,
        entries,
        report,
        report_file,
    }
}

// ---------------------------------------------------------------- folders

fn checkpoint_size(dir: &Path) -> u64 {
    let note = std::fs::read_to_string(dir.join("checkpoint")).expect("checkpoint");
    note.lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .expect("checkpoint size line")
}

fn disclosure(dir: &Path) -> Disclosure {
    let json = std::fs::read(dir.join("disclosure.json")).expect("disclosure.json");
    serde_json::from_slice::<SignedExport<Disclosure>>(&json)
        .expect("disclosure export")
        .content
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
        out.extend_from_slice(&u16::try_from(e.len()).unwrap().to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

fn read_entries(dir: &Path) -> Vec<Entry> {
    tlog::tiles_for_size(0, checkpoint_size(dir))
        .flat_map(|t| split(&std::fs::read(dir.join(t.entries_path())).expect("bundle")))
        .map(|b| Entry::decode(&b).expect("clean entry"))
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Every file under `dir`, by path relative to it, with its bytes.
fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

/// A fresh copy of the clean export folder.
fn clean_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = scratch();
    let dir = tmp.path().join("log");
    copy_dir(&demo().clean, &dir);
    (tmp, dir)
}

/// The bundle holding entry `index` and its position in it.
fn bundle_of(index: u64, size: u64) -> (String, usize) {
    let t = tlog::tiles_for_size(0, size)
        .find(|t| t.n == index / TILE_WIDTH)
        .expect("tile of the entry");
    (t.entries_path(), (index % TILE_WIDTH) as usize)
}

/// Rewrites the bundle file `path` of `dir` with `f`.
fn edit_bundle(dir: &Path, path: &str, f: impl FnOnce(&mut Vec<Vec<u8>>)) {
    let file = dir.join(path);
    let mut entries = split(&std::fs::read(&file).unwrap());
    f(&mut entries);
    std::fs::write(&file, join(&entries)).unwrap();
}

/// A forger with the node's key writes `entries` as a complete, consistent
/// log into a new folder `dir`: indexes and prev hashes re-chained, every
/// entry bundle and hash tile of the new size, and a checkpoint signed with
/// the node key. Returns the folder.
fn forge(dir: &Path, mut entries: Vec<Entry>) -> PathBuf {
    let d = demo();
    let mut prev = Hash::ZERO;
    let mut tree = MemoryTree::new();
    let mut bytes = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter_mut().enumerate() {
        e.index = i as u64;
        e.prev = prev;
        let b = e.encode().expect("encodes");
        prev = leaf_hash(&b);
        tree.append(&b);
        bytes.push(b);
    }
    let size = tree.size;
    let write = |rel: &str, data: &[u8]| {
        let file = dir.join(rel);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, data).unwrap();
    };
    for t in tlog::tiles_for_size(0, size) {
        let from = (t.n * TILE_WIDTH) as usize;
        write(
            &t.entries_path(),
            &join(&bytes[from..from + usize::from(t.width)]),
        );
    }
    let mut level = 0u8;
    while size >> (u32::from(level) * u32::from(TILE_HEIGHT)) > 0 {
        for t in tlog::tiles_for_size(level, size) {
            write(&t.path(), &tlog::read_tile_data(&t, &tree).expect("tile"));
        }
        level += 1;
    }
    let note = sign_checkpoint(
        &Checkpoint::new(Origin::new(&d.origin).unwrap(), size, tree.root()),
        &d.node_key,
    );
    write("checkpoint", note.as_bytes());
    dir.to_path_buf()
}

// ---------------------------------------------------------------- the binary

/// Runs `lvyue-verify --json ARGS`: exit code and its JSON answer.
fn verify(args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_lvyue-verify"))
        .arg("--json")
        .args(args)
        .output()
        .expect("run lvyue-verify");
    let code = out.status.code().expect("exit code");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{e}: {text:?} (stderr {:?})",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(v["exit"], code, "{v}");
    assert_eq!(v["ok"], code == 0, "{v}");
    (code, v)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn audit(dir: &Path) -> (i32, Value) {
    verify(&["audit", "--log", s(dir), "--vkey", &demo().vkey])
}

fn audit_with_state(dir: &Path, state: &Path) -> (i32, Value) {
    verify(&[
        "audit",
        "--log",
        s(dir),
        "--vkey",
        &demo().vkey,
        "--state",
        s(state),
    ])
}

/// A proven violation naming `index`; returns the JSON answer.
fn violation_at(r: (i32, Value), index: u64) -> Value {
    let (code, v) = r;
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["first_bad_index"].as_u64(), Some(index), "{v}");
    let message = v["message"].as_str().expect("message");
    assert!(message.starts_with(&format!("entry {index}:")), "{v}");
    assert!(v["expected"].is_string() && v["found"].is_string(), "{v}");
    v
}

fn text(v: &Value, field: &str) -> String {
    v[field].as_str().unwrap_or_default().to_string()
}

// ---------------------------------------------------------------- log facts

fn derived(e: &Entry) -> Option<&Derived> {
    match &e.body {
        Body::Derived(d) => Some(d),
        Body::Submitted(_) => None,
    }
}

fn is_submitted(e: &Entry) -> bool {
    matches!(e.body, Body::Submitted(_))
}

/// The cause a derived record names.
fn cause(d: &Derived) -> u64 {
    match d {
        Derived::ReminderIssued { cause, .. }
        | Derived::OverdueWarning { cause, .. }
        | Derived::DefaultDetermined { cause, .. }
        | Derived::DefaultReversed { cause, .. }
        | Derived::DemandNoticePublished { cause, .. }
        | Derived::ScoreChanged { cause, .. }
        | Derived::ListChanged { cause, .. }
        | Derived::MilestoneClosed { cause, .. } => *cause,
    }
}

/// The first entry at or after the middle of the log matching `pred`.
fn find_from_middle(pred: impl Fn(usize, &Entry) -> bool) -> usize {
    let entries = &demo().entries;
    (entries.len() / 2..entries.len())
        .chain(0..entries.len() / 2)
        .find(|&i| pred(i, &entries[i]))
        .expect("the demo log has such an entry")
}

/// How the auditor shows a derived record in `expected` and `found`: its JSON form.
fn show(e: &Entry) -> String {
    serde_json::to_string(derived(e).expect("a derived record")).unwrap()
}

fn set_cause(d: &mut Derived, to: u64) {
    match d {
        Derived::ReminderIssued { cause, .. }
        | Derived::OverdueWarning { cause, .. }
        | Derived::DefaultDetermined { cause, .. }
        | Derived::DefaultReversed { cause, .. }
        | Derived::DemandNoticePublished { cause, .. }
        | Derived::ScoreChanged { cause, .. }
        | Derived::ListChanged { cause, .. }
        | Derived::MilestoneClosed { cause, .. } => *cause = to,
    }
}

// ---------------------------------------------------------------- tests

#[test]
fn clean_demo_log_disclosure_and_report_verify() {
    let d = demo();
    let (code, v) = audit(&d.clean);
    assert_eq!(code, 0, "{v}");
    let size = d.entries.len() as u64;
    assert!(size > 1000, "a demo-sized log: {size} entries");
    eprintln!(
        "SIZE {size} derived {}",
        d.entries.iter().filter(|e| !is_submitted(e)).count()
    );
    assert_eq!(v["size"].as_u64(), Some(size), "{v}");
    assert_eq!(v["replayed"].as_u64(), Some(size), "{v}");
    let derived = d.entries.iter().filter(|e| !is_submitted(e)).count() as u64;
    assert_eq!(v["derived"].as_u64(), Some(derived), "{v}");
    assert_eq!(v["submitted"].as_u64(), Some(size - derived), "{v}");
    assert!(v["first_bad_index"].is_null(), "{v}");

    let (json, csv) = (
        d.clean.join("disclosure.json"),
        d.clean.join("disclosure.csv"),
    );
    let (code, v) = verify(&[
        "disclosure",
        s(&json),
        "--csv",
        s(&csv),
        "--log",
        s(&d.clean),
        "--vkey",
        &d.vkey,
    ]);
    assert_eq!(code, 0, "{v}");
    let clean = disclosure(&d.clean);
    assert_eq!(v["size"].as_u64(), Some(size), "{v}");
    assert_eq!(
        v["black_list"].as_u64(),
        Some(clean.black_list.len() as u64)
    );
    assert_eq!(v["red_list"].as_u64(), Some(clean.red_list.len() as u64));
    assert!(!clean.red_list.is_empty() && !clean.demand_notices.is_empty());

    let (code, v) = verify(&["report", s(&d.report_file), "--vkey", &d.vkey]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["score"].as_i64(), Some(d.report.content.summary.score));
    assert_eq!(v["entity"], d.report.content.entity.to_string(), "{v}");
    assert_eq!(v["score"].as_i64(), Some(clean.black_list[0].score), "{v}");
}

#[test]
fn forging_reproduces_the_clean_export_byte_for_byte() {
    // The forger's tooling on the untampered entries gives back exactly the
    // node's export (checkpoint signatures are deterministic): whatever a
    // forged folder below is caught for is the tampering alone.
    let d = demo();
    let tmp = scratch();
    let dir = forge(&tmp.path().join("log"), d.entries.clone());
    let forged = files(&dir);
    let mut exported = files(&d.clean);
    exported.retain(|rel, _| !rel.starts_with("disclosure."));
    assert!(forged.len() > 70, "{:?}", forged.keys());
    assert!(forged == exported, "{:?}", forged.keys());
    let (code, v) = audit(&dir);
    assert_eq!(code, 0, "{v}");
}

#[test]
fn flipped_byte_in_an_entry_is_named() {
    let d = demo();
    let size = d.entries.len() as u64;
    // A submission, a derived record and the last entry (in the partial bundle).
    let submitted = find_from_middle(|_, e| is_submitted(e)) as u64;
    let derived = find_from_middle(|_, e| !is_submitted(e)) as u64;
    let (_tmp, dir) = clean_copy();
    for (index, at) in [
        (submitted, 0.5),
        (submitted, 0.9),
        (derived, 0.5),
        (size - 1, 0.3),
    ] {
        let (path, k) = bundle_of(index, size);
        let original = std::fs::read(dir.join(&path)).unwrap();
        edit_bundle(&dir, &path, |e| {
            let pos = (e[k].len() as f64 * at) as usize;
            e[k][pos] ^= 0x01;
        });
        violation_at(audit(&dir), index);
        std::fs::write(dir.join(&path), original).unwrap();
    }
    assert_eq!(audit(&dir).0, 0, "restored");

    // The same kind of flip in a re-chained, re-signed log, where hash tiles
    // and checkpoint agree with it: a flipped signature bit, and a flipped
    // nonce bit (the signature no longer covers the payload).
    let i = submitted as usize;
    for flip in [
        (|s: &mut lvyue_ledger::record::Signed| s.signature[17] ^= 0x01)
            as fn(&mut lvyue_ledger::record::Signed),
        |s| s.payload.nonce ^= 0x01,
    ] {
        let mut entries = d.entries.clone();
        let Body::Submitted(signed) = &mut entries[i].body else {
            unreachable!()
        };
        flip(signed);
        let tmp = scratch();
        let v = violation_at(audit(&forge(&tmp.path().join("log"), entries)), submitted);
        assert!(text(&v, "message").contains("bad signature"), "{v}");
    }
}

#[test]
fn entry_deleted_from_its_bundle_is_named() {
    let d = demo();
    let size = d.entries.len() as u64;
    let index = find_from_middle(|_, e| is_submitted(e)) as u64;
    let (_tmp, dir) = clean_copy();
    let (path, k) = bundle_of(index, size);
    edit_bundle(&dir, &path, |e| {
        e.remove(k);
    });
    let v = violation_at(audit(&dir), index);
    assert_eq!(text(&v, "expected"), format!("index {index}"), "{v}");
    assert_eq!(text(&v, "found"), format!("index {}", index + 1), "{v}");
}

#[test]
fn entries_swapped_within_their_bundle_are_named() {
    let d = demo();
    let size = d.entries.len() as u64;
    let index = find_from_middle(|i, _| (i as u64 + 1) % TILE_WIDTH != 0) as u64;
    let (_tmp, dir) = clean_copy();
    let (path, k) = bundle_of(index, size);
    edit_bundle(&dir, &path, |e| e.swap(k, k + 1));
    let v = violation_at(audit(&dir), index);
    assert_eq!(text(&v, "found"), format!("index {}", index + 1), "{v}");
}

#[test]
fn entry_deleted_from_a_resigned_log_is_named() {
    // A submission deleted together with nothing else, the log re-chained
    // and re-signed: its consequences, which follow it, now stand where it
    // stood, and the rules derive nothing there.
    let d = demo();
    let i = find_from_middle(|i, e| {
        is_submitted(e)
            && d.entries
                .get(i + 1)
                .and_then(derived)
                .is_some_and(|x| cause(x) == i as u64)
    });
    let mut entries = d.entries.clone();
    entries.remove(i);
    let tmp = scratch();
    let v = violation_at(audit(&forge(&tmp.path().join("log"), entries)), i as u64);
    assert!(
        text(&v, "message").contains("derived record the rules do not derive"),
        "{v}"
    );
}

#[test]
fn entries_swapped_in_a_resigned_log_are_named() {
    // Two adjacent submissions by different signers swapped (node times
    // kept in place), the log re-chained and re-signed. The second had
    // consequences right after it: now applied first, the rules derive
    // them before the other submission, where they are missing.
    let d = demo();
    let signer = |e: &Entry| match &e.body {
        Body::Submitted(s) => Some(s.payload.signer.name.as_str().to_string()),
        Body::Derived(_) => None,
    };
    let i = find_from_middle(|i, e| {
        let (Some(a), Some(b)) = (signer(e), d.entries.get(i + 1).and_then(signer)) else {
            return false;
        };
        a != b
            && d.entries
                .get(i + 2)
                .and_then(derived)
                .is_some_and(|x| cause(x) == i as u64 + 1)
    });
    let mut entries = d.entries.clone();
    let (a, b) = (entries[i].body.clone(), entries[i + 1].body.clone());
    entries[i].body = b;
    entries[i + 1].body = a;
    let tmp = scratch();
    let v = violation_at(
        audit(&forge(&tmp.path().join("log"), entries)),
        i as u64 + 1,
    );
    assert!(text(&v, "message").contains("which is missing"), "{v}");
    // What is missing is the consequence, now caused by index i.
    let Some(mut moved) = derived(&d.entries[i + 2]).cloned() else {
        unreachable!()
    };
    set_cause(&mut moved, i as u64);
    assert_eq!(
        text(&v, "expected"),
        serde_json::to_string(&moved).unwrap(),
        "{v}"
    );
}

#[test]
fn changed_score_delta_is_named() {
    let d = demo();
    let i = find_from_middle(|_, e| matches!(derived(e), Some(Derived::ScoreChanged { .. })));
    let mut entries = d.entries.clone();
    let Some(Body::Derived(Derived::ScoreChanged { delta, total, .. })) =
        Some(&mut entries[i].body)
    else {
        unreachable!()
    };
    let (was, now) = (*delta, *delta + 7);
    *delta = now;
    *total += 7;
    let tmp = scratch();
    let forged = forge(&tmp.path().join("log"), entries.clone());
    let v = violation_at(audit(&forged), i as u64);
    assert!(
        text(&v, "message").contains("derived record differs"),
        "{v}"
    );
    assert!(
        text(&v, "expected").contains(&format!("\"delta\":{was},")),
        "{v}"
    );
    assert!(
        text(&v, "found").contains(&format!("\"delta\":{now},")),
        "{v}"
    );
    assert_eq!(text(&v, "expected"), show(&d.entries[i]), "{v}");
    assert_eq!(text(&v, "found"), show(&entries[i]), "{v}");
}

#[test]
fn dropped_derived_record_is_named() {
    let d = demo();
    let i =
        find_from_middle(|_, e| matches!(derived(e), Some(Derived::DemandNoticePublished { .. })));
    let mut entries = d.entries.clone();
    entries.remove(i);
    let tmp = scratch();
    let v = violation_at(audit(&forge(&tmp.path().join("log"), entries)), i as u64);
    assert_eq!(text(&v, "expected"), show(&d.entries[i]), "{v}");
    assert!(
        text(&v, "expected").contains("demand_notice_published"),
        "{v}"
    );
}

#[test]
fn forged_derived_record_is_named() {
    // A red listing the rules never derived, slipped in after a genuine
    // black listing of the same firm.
    let d = demo();
    // The black listing is followed by more records derived from the same
    // cause, so the forged one stands where the rules derive another.
    let i = find_from_middle(|i, e| {
        matches!(
            derived(e),
            Some(Derived::ListChanged {
                list: ListKind::Black,
                listed: true,
                ..
            })
        ) && d.entries.get(i + 1).is_some_and(|n| !is_submitted(n))
    });
    let Some(Derived::ListChanged { entity, .. }) = derived(&d.entries[i]) else {
        unreachable!()
    };
    let mut forged = d.entries[i].clone();
    forged.body = Body::Derived(Derived::ListChanged {
        entity: entity.clone(),
        list: ListKind::Red,
        listed: true,
        reason: Text::new("red list criteria met").unwrap(),
        cause: i as u64,
    });
    let mut entries = d.entries.clone();
    entries.insert(i + 1, forged);
    let tmp = scratch();
    let v = violation_at(
        audit(&forge(&tmp.path().join("log"), entries.clone())),
        i as u64 + 1,
    );
    assert!(
        text(&v, "message").contains("derived record differs"),
        "{v}"
    );
    assert_eq!(text(&v, "expected"), show(&d.entries[i + 1]), "{v}");
    assert_eq!(text(&v, "found"), show(&entries[i + 1]), "{v}");
}

#[test]
fn record_signed_by_a_revoked_key_is_named() {
    // The office revokes a firm's key; the forger then appends one more
    // submission the firm's (revoked) key signed.
    let d = demo();
    let (firm, payload) = d
        .entries
        .iter()
        .rev()
        .find_map(|e| match &e.body {
            Body::Submitted(s) => {
                let name = s.payload.signer.name.as_str();
                let file = d.data.join(format!("keys/demo/{name}.key"));
                let key = Signer::read_file(&file).ok()?;
                let tag = serde_json::to_value(&s.payload.event).ok()?["type"].clone();
                (tag != "tick").then_some((key, s.payload.clone()))
            }
            Body::Derived(_) => None,
        })
        .expect("a submission by a demo organisation");
    let office = Signer::read_file(&d.data.join("keys/office.key")).unwrap();
    let revoke = Event::KeyRevoked {
        name: SignerName::new(firm.name().as_str()).unwrap(),
        key_id: firm.id(),
        reason: Text::new("key reported lost").unwrap(),
    };
    let last = d.entries.last().unwrap().clone();
    let mut entries = d.entries.clone();
    let mut push = |signed| {
        entries.push(Entry {
            body: Body::Submitted(signed),
            ..last.clone()
        })
    };
    push(node::sign_event(&office, &d.origin, revoke, 9_000_001).unwrap());
    push(node::sign_event(&firm, &d.origin, payload.event, 9_000_002).unwrap());
    let size = d.entries.len() as u64;
    let tmp = scratch();
    let v = violation_at(audit(&forge(&tmp.path().join("log"), entries)), size + 1);
    assert!(text(&v, "found").contains("revoked"), "{v}");
    assert!(text(&v, "message").contains("not admissible"), "{v}");
}

#[test]
fn rule_set_parameter_changed_after_the_fact_is_named() {
    // Genesis re-signed with the node key and a milder full-default
    // deduction: the first full default's score change no longer follows.
    let d = demo();
    let mut entries = d.entries.clone();
    let Body::Submitted(genesis) = &mut entries[0].body else {
        panic!("entry 0 is genesis")
    };
    let Event::Genesis { rules, .. } = &mut genesis.payload.event else {
        panic!("entry 0 is genesis")
    };
    let was = rules.full_default_delta;
    rules.full_default_delta = was / 4;
    genesis.signature = d
        .node_key
        .sign(&genesis.payload.signed_message(&d.origin).unwrap());
    let first = d
        .entries
        .iter()
        .position(|e| {
            matches!(derived(e), Some(Derived::ScoreChanged { rule, .. }) if rule.as_str() == "full_default")
        })
        .expect("a full default in the demo");
    let tmp = scratch();
    let v = violation_at(
        audit(&forge(&tmp.path().join("log"), entries)),
        first as u64,
    );
    let milder = was / 4;
    assert!(
        text(&v, "expected").contains(&format!("\"delta\":{milder},")),
        "{v}"
    );
    assert!(
        text(&v, "found").contains(&format!("\"delta\":{was},")),
        "{v}"
    );
    assert_eq!(text(&v, "found"), show(&d.entries[first]), "{v}");
}

#[test]
fn resigned_disclosure_with_a_black_listing_removed_is_proven_altered() {
    let d = demo();
    let json = std::fs::read(d.clean.join("disclosure.json")).unwrap();
    let clean: SignedExport<Disclosure> = serde_json::from_slice(&json).unwrap();
    let mut content = clean.content.clone();
    let removed = content.black_list.remove(0);
    let forged = export::sign(content, clean.checkpoint.clone(), &d.node_key).unwrap();
    let tmp = scratch();
    let file = tmp.path().join("disclosure.json");
    std::fs::write(&file, serde_json::to_vec(&forged).unwrap()).unwrap();
    let (code, v) = verify(&[
        "disclosure",
        s(&file),
        "--log",
        s(&d.clean),
        "--vkey",
        &d.vkey,
    ]);
    assert_eq!(code, 1, "{v}");
    let who = removed.entity.to_string();
    let found = text(&v, "found");
    assert!(found.starts_with("black list: missing"), "{v}");
    assert!(found.contains(&who), "{v}");
    assert!(text(&v, "message").contains(&who), "{v}");

    // The forger also drops the black listing from the log, re-signs that
    // log and signs the disclosure at its checkpoint: the disclosure check
    // replays the log and names the dropped record's index.
    let at = d
        .entries
        .iter()
        .position(|e| {
            matches!(derived(e), Some(Derived::ListChanged { entity, list: ListKind::Black, listed: true, .. })
                if *entity == removed.entity)
        })
        .expect("the black listing in the log");
    assert_eq!(at as u64, removed.since_index);
    let mut entries = d.entries.clone();
    entries.remove(at);
    let log = forge(&tmp.path().join("log"), entries);
    let note = std::fs::read_to_string(log.join("checkpoint")).unwrap();
    let mut content = forged.content.clone();
    content.size = checkpoint_size(&log);
    content.root = Hash::from_base64(note.lines().nth(2).unwrap()).unwrap();
    let both = export::sign(content, note, &d.node_key).unwrap();
    std::fs::write(&file, serde_json::to_vec(&both).unwrap()).unwrap();
    let (code, v) = verify(&["disclosure", s(&file), "--log", s(&log), "--vkey", &d.vkey]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["first_bad_index"].as_u64(), Some(at as u64), "{v}");
}

#[test]
fn resigned_credit_report_with_a_raised_score_is_proven_altered() {
    let d = demo();
    let mut content = d.report.content.clone();
    let was = content.summary.score;
    content.summary.score += 100;
    let forged = export::sign(content, d.report.checkpoint.clone(), &d.node_key).unwrap();
    let tmp = scratch();
    let file = tmp.path().join("report.json");
    std::fs::write(&file, serde_json::to_vec(&forged).unwrap()).unwrap();
    let (code, v) = verify(&["report", s(&file), "--vkey", &d.vkey]);
    assert_eq!(code, 1, "{v}");
    assert!(text(&v, "message").contains("score"), "{v}");
    assert_eq!(text(&v, "expected"), was.to_string(), "{v}");
    assert_eq!(text(&v, "found"), (was + 100).to_string(), "{v}");
}

#[test]
fn resigned_credit_report_with_its_latest_deductions_dropped_is_proven_altered() {
    // The score raised the other way: the report's records cut before the
    // firm's last deduction, the summary recomputed from what is left, and
    // re-signed under the same (genuine) checkpoint. Every remaining record
    // is in the log, but the report is not the firm's record at that size.
    let d = demo();
    let deduction = |r: &export::ProvenRecord| {
        let e = Entry::decode(&r.entry).unwrap();
        matches!(derived(&e), Some(Derived::ScoreChanged { entity, delta, .. })
            if *entity == d.report.content.entity && *delta < 0)
    };
    let mut content = d.report.content.clone();
    let cut = content
        .records
        .iter()
        .rposition(deduction)
        .expect("the black-listed firm lost points");
    let dropped: Vec<u64> = content.records[cut..].iter().map(|r| r.index).collect();
    content.records.truncate(cut);
    content.summary = content.recompute().expect("the rest is consistent");
    let (was, now) = (d.report.content.summary.score, content.summary.score);
    assert!(now > was, "score {was} raised to {now}");
    let forged = export::sign(content, d.report.checkpoint.clone(), &d.node_key).unwrap();
    let tmp = scratch();
    let file = tmp.path().join("report.json");
    std::fs::write(&file, serde_json::to_vec(&forged).unwrap()).unwrap();
    // Offline, the report is self-consistent: only the log can show what
    // is missing (docs/VERIFY.md says so).
    let (code, v) = verify(&["report", s(&file), "--vkey", &d.vkey]);
    assert_eq!(code, 0, "{v}");
    let (code, v) = verify(&["report", s(&file), "--vkey", &d.vkey, "--log", s(&d.clean)]);
    assert_eq!(
        code, 1,
        "records {dropped:?} dropped, score {was} raised to {now}: {v}"
    );
    assert_eq!(v["first_bad_index"].as_u64(), Some(dropped[0]), "{v}");
    // The genuine report is complete.
    let genuine = tmp.path().join("genuine.json");
    std::fs::write(&genuine, serde_json::to_vec(&d.report).unwrap()).unwrap();
    let (code, v) = verify(&[
        "report",
        s(&genuine),
        "--vkey",
        &d.vkey,
        "--log",
        s(&d.clean),
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["complete"], true, "{v}");
}

#[test]
fn forked_log_is_proven() {
    // The node key signs a second tree of the same size: one score change
    // altered. Its own audit names the change; against the clean
    // checkpoint, both `consistency` and an audit resuming from a saved
    // state prove the fork with both signed checkpoints.
    let d = demo();
    let size = d.entries.len() as u64;
    let i = find_from_middle(|_, e| matches!(derived(e), Some(Derived::ScoreChanged { .. })));
    let mut entries = d.entries.clone();
    if let Body::Derived(Derived::ScoreChanged { delta, total, .. }) = &mut entries[i].body {
        *delta -= 5;
        *total -= 5;
    }
    let tmp = scratch();
    let forked = forge(&tmp.path().join("forked"), entries);
    assert_eq!(checkpoint_size(&forked), size);
    violation_at(audit(&forked), i as u64);

    let (old, new) = (d.clean.join("checkpoint"), forked.join("checkpoint"));
    let (code, v) = verify(&[
        "consistency",
        s(&old),
        s(&new),
        "--log",
        s(&forked),
        "--vkey",
        &d.vkey,
    ]);
    assert_eq!(code, 1, "{v}");
    let m = &v["misbehaviour"];
    assert!(
        m["kind"]
            .as_str()
            .unwrap()
            .starts_with("fork: two signed checkpoints of one size"),
        "{v}"
    );
    assert_eq!(m["old_checkpoint"], std::fs::read_to_string(&old).unwrap());
    assert_eq!(m["new_checkpoint"], std::fs::read_to_string(&new).unwrap());
    assert_ne!(m["old_checkpoint"], m["new_checkpoint"]);

    let state = tmp.path().join("audit.state");
    assert_eq!(audit_with_state(&d.clean, &state).0, 0);
    let saved = std::fs::read(&state).unwrap();
    let (code, v) = audit_with_state(&forked, &state);
    assert_eq!(code, 1, "{v}");
    assert!(text(&v, "message").starts_with("fork"), "{v}");
    assert!(v["misbehaviour"]["new_checkpoint"].is_string(), "{v}");
    assert_eq!(std::fs::read(&state).unwrap(), saved, "the state is kept");

    // A larger forked tree (one more entry on top) does not extend the clean one.
    let mut longer = read_entries(&forked);
    longer.push(d.entries[d.entries.len() - 1].clone());
    let longer = forge(&tmp.path().join("longer"), longer);
    let (code, v) = verify(&[
        "consistency",
        s(&old),
        s(&longer.join("checkpoint")),
        "--log",
        s(&longer),
        "--vkey",
        &d.vkey,
    ]);
    assert_eq!(code, 1, "{v}");
    assert!(text(&v, "message").contains("does not extend"), "{v}");
    assert!(
        !v["misbehaviour"]["proof"].as_array().unwrap().is_empty(),
        "{v}"
    );
}

#[test]
fn rolled_back_tree_is_proven() {
    // After the clean folder was audited with a saved state, a folder whose
    // (genuinely signed) checkpoint is an earlier, smaller tree of the same
    // log is presented: a rollback, even though that folder audits clean.
    let d = demo();
    let k = find_from_middle(|_, e| is_submitted(e));
    let tmp = scratch();
    let prefix = forge(&tmp.path().join("prefix"), d.entries[..k].to_vec());
    let (code, v) = audit(&prefix);
    assert_eq!((code, v["size"].as_u64()), (0, Some(k as u64)), "{v}");

    let state = tmp.path().join("audit.state");
    assert_eq!(audit_with_state(&d.clean, &state).0, 0);
    let saved = std::fs::read(&state).unwrap();
    let (code, v) = audit_with_state(&prefix, &state);
    assert_eq!(code, 1, "{v}");
    assert!(text(&v, "message").starts_with("rolled back"), "{v}");
    let m = &v["misbehaviour"];
    let clean_note = std::fs::read_to_string(d.clean.join("checkpoint")).unwrap();
    let prefix_note = std::fs::read_to_string(prefix.join("checkpoint")).unwrap();
    assert_eq!(m["old_checkpoint"], clean_note, "{v}");
    assert_eq!(m["new_checkpoint"], prefix_note, "{v}");
    assert_eq!(std::fs::read(&state).unwrap(), saved, "the state is kept");

    let (code, v) = verify(&[
        "consistency",
        s(&d.clean.join("checkpoint")),
        s(&prefix.join("checkpoint")),
        "--log",
        s(&d.clean),
        "--vkey",
        &d.vkey,
    ]);
    assert_eq!(code, 1, "{v}");
    assert!(text(&v, "message").starts_with("rolled back"), "{v}");
}
