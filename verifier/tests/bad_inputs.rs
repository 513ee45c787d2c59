//! Bad inputs to the `lvyue-verify` binary: unreadable, cut, foreign-signed
//! or missing files. Each is refused with the documented exit code (0
//! verified · 1 violation proven · 2 could not check, docs/VERIFY.md) and a
//! message that names the problem; a refused audit leaves its state file
//! as it was.

use lvyue_ledger::book::Disclosure;
use lvyue_ledger::checkpoint::{Checkpoint, Origin, sign_checkpoint};
use lvyue_ledger::event::Event;
use lvyue_ledger::export::{self, CreditReport, SignedExport};
use lvyue_ledger::keys::{KeyName, Signer};
use lvyue_ledger::types::Subject;
use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

/// A small real log: `old` (tiles at size 3) and `new` (an offline export
/// with `disclosure.json` at size 5), a receipt of entry 4 and a signed
/// credit report, all under `tmp`.
struct Fixture {
    tmp: tempfile::TempDir,
    vkey: String,
    node_key: Signer,
    old: PathBuf,
    new: PathBuf,
    receipt: serde_json::Value,
    report: SignedExport<CreditReport>,
}

impl Fixture {
    fn build() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let (old, new) = (tmp.path().join("old"), tmp.path().join("new"));
        let mut log = support::TestLog::open(&data, 1024).unwrap();
        for i in 0..3 {
            let (k, holder) = support::market_key(i);
            log.register(&k, holder).unwrap();
            if i == 1 {
                support::export(&log.view().unwrap(), &old).unwrap();
            }
        }
        let (k, holder) = support::market_key(3);
        let office = log.office.clone();
        let key = support::registration(&k, holder);
        let signed = log.sign(&office, Event::KeyRegistered { key }).unwrap();
        let seq = log.node.sequencer.clone();
        let receipt = log.rt.block_on(seq.submit(signed)).unwrap();
        let who = Subject::Org(support::market_key(0).1);
        let report = log
            .rt
            .block_on(seq.read(move |w| lvyue_node::query::credit_report(w, &who)))
            .unwrap()
            .unwrap()
            .expect("a report of a registered firm");
        let vkey = log.node.vkey.to_string();
        seq.stop();
        drop(log);
        lvyue_node::export::from_data_dir(&data, &new).unwrap();
        let node_key = Signer::read_file(&data.join("keys/node.key")).unwrap();
        Fixture {
            vkey,
            old,
            new,
            receipt: serde_json::to_value(&receipt).unwrap(),
            report,
            node_key,
            tmp,
        }
    }

    /// Writes `data` to a file named `name` in the fixture's folder.
    fn file(&self, name: &str, data: impl AsRef<[u8]>) -> String {
        let p = self.tmp.path().join(name);
        std::fs::write(&p, data).unwrap();
        s(&p).to_string()
    }

    fn origin(&self) -> &str {
        self.node_key.name().as_str()
    }

    /// A key of the same name (so the same origin) as the node's, another seed.
    fn impostor(&self) -> Signer {
        Signer::from_seed(KeyName::new(self.origin()).unwrap(), [77; 32])
    }
}

fn argv(a: &[&str]) -> Vec<String> {
    a.iter().map(|x| x.to_string()).collect()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Runs `lvyue-verify ARGS`: exit code, stdout, stderr.
fn run<S: AsRef<str>>(args: &[S]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lvyue-verify"))
        .args(args.iter().map(AsRef::as_ref))
        .output()
        .expect("run lvyue-verify");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap(),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// Asserts a refusal with `code` whose stderr holds every one of `words`,
/// and that `--json` gives the same code and message on stdout.
fn refused<S: AsRef<str>>(args: &[S], code: i32, words: &[&str]) {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let (c, out, err) = run(&args);
    assert_eq!(c, code, "{args:?}: stdout {out:?} stderr {err:?}");
    assert!(out.is_empty(), "{args:?}: {out:?}");
    let tag = if code == 1 {
        "VIOLATION: "
    } else {
        "could not check: "
    };
    assert!(err.starts_with(&format!("lvyue-verify: {tag}")), "{err}");
    for w in words {
        assert!(err.contains(w), "{args:?}: {w:?} not in {err:?}");
    }
    let (c, out, _) = run(&[&["--json"], &args[..]].concat());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (c, &v["exit"], &v["ok"]),
        (code, &code.into(), &false.into())
    );
    let m = v["message"].as_str().unwrap();
    assert!(words.iter().all(|w| m.contains(w)), "{v}");
}

#[test]
fn bad_export_files_are_refused_and_named() {
    let f = Fixture::build();
    let (vkey, log) = (f.vkey.as_str(), s(&f.new));
    let disclosure = s(&f.new.join("disclosure.json")).to_string();
    let report = f.file("report.json", serde_json::to_vec(&f.report).unwrap());
    let d = |file: &str| argv(&["disclosure", file, "--log", log, "--vkey", vkey]);
    let r = |file: &str| argv(&["report", file, "--vkey", vkey]);
    // The untouched exports verify: every refusal below is about the file.
    assert_eq!(run(&d(&disclosure)).0, 0);
    assert_eq!(run(&r(&report)).0, 0);

    let garbage = f.file("garbage.json", "<html>not JSON</html>\n");
    refused(
        &d(&garbage),
        2,
        &["not a disclosure export", "expected value"],
    );
    refused(&r(&garbage), 2, &["not a credit report", "expected value"]);

    let json = std::fs::read(&disclosure).unwrap();
    let cut = f.file("cut-d.json", &json[..json.len() / 2]);
    refused(
        &d(&cut),
        2,
        &["not a disclosure export", "EOF while parsing"],
    );
    let json = std::fs::read(&report).unwrap();
    let cut = f.file("cut-r.json", &json[..json.len() / 2]);
    refused(&r(&cut), 2, &["not a credit report", "EOF while parsing"]);

    // The same content, statement signed by another key of the same name;
    // the checkpoint is still the log's.
    let clean: SignedExport<Disclosure> =
        serde_json::from_slice(&std::fs::read(&disclosure).unwrap()).unwrap();
    let other = export::sign(
        clean.content.clone(),
        clean.checkpoint.clone(),
        &f.impostor(),
    )
    .unwrap();
    let file = f.file("foreign-d.json", serde_json::to_vec(&other).unwrap());
    let words = [
        "disclosure export: signature",
        "no signature from a known key",
    ];
    refused(&d(&file), 1, &words);
    let other = export::sign(
        f.report.content.clone(),
        f.report.checkpoint.clone(),
        &f.impostor(),
    )
    .unwrap();
    let file = f.file("foreign-r.json", serde_json::to_vec(&other).unwrap());
    refused(
        &r(&file),
        1,
        &["credit report: signature", "no signature from a known key"],
    );
    // Checkpoint and statement both by the other key: the checkpoint is refused first.
    let mut other = other;
    other.checkpoint = checkpoint_by(&f.impostor(), f.origin(), f.report.content.size);
    let file = f.file("foreign-cp.json", serde_json::to_vec(&other).unwrap());
    refused(
        &r(&file),
        1,
        &["credit report: checkpoint", "no signature from a known key"],
    );

    let gone = s(&f.tmp.path().join("no-such.json")).to_string();
    refused(&d(&gone), 2, &[&gone, "No such file"]);
    refused(&r(&gone), 2, &[&gone, "No such file"]);
    let mut with_csv = d(&disclosure);
    with_csv.extend(argv(&["--csv", &gone]));
    refused(&with_csv, 2, &[&gone, "No such file"]);
}

/// A checkpoint note for `origin` at `size` with an arbitrary root, signed by `k`.
fn checkpoint_by(k: &Signer, origin: &str, size: u64) -> String {
    let cp = Checkpoint::new(
        Origin::new(origin).unwrap(),
        size,
        lvyue_ledger::Hash([7; 32]),
    );
    sign_checkpoint(&cp, k)
}

#[test]
fn bad_receipts_are_refused_and_named() {
    let f = Fixture::build();
    let vkey = f.vkey.as_str();
    let r = |file: &str| argv(&["receipt", file, "--vkey", vkey]);
    let good = f.file("good.json", f.receipt.to_string());
    let (code, out, err) = run(&r(&good));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("verified: entry 4 is in"), "{out}");

    // The entry's last byte (in its signature) flipped: it still decodes,
    // its leaf is not the one the proof proves.
    let mut tampered = f.receipt.clone();
    let entry = tampered["entry"].as_str().unwrap();
    let mut bytes =
        lvyue_ledger::serde_bytes::b64_vec::deserialize(serde_json::Value::from(entry)).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    tampered["entry"] =
        lvyue_ledger::serde_bytes::b64_vec::serialize(&bytes, serde_json::value::Serializer)
            .unwrap();
    let file = f.file("tampered.json", tampered.to_string());
    refused(
        &r(&file),
        1,
        &["inclusion of entry 4 in tree of size 5 does not verify"],
    );
    // The receipt's index field changed: its proof names another index.
    let mut renumbered = f.receipt.clone();
    renumbered["index"] = 3.into();
    let file = f.file("renumbered.json", renumbered.to_string());
    refused(&r(&file), 1, &["receipt says index 3, its proof says 4"]);

    // The right receipt checked with another key of the log's name, and
    // with the key of another log.
    // Neither blames an entry: the receipt is not one of this log's.
    let impostor = f.impostor().verifier_key();
    let other = Signer::from_seed(KeyName::new("another.example/log").unwrap(), [5; 32]);
    for vkey in [impostor, other.verifier_key()] {
        let named = format!("{}+{:08x}", vkey.name().as_str(), vkey.id());
        let vkey = vkey.to_string();
        let args = ["receipt", &good, "--vkey", &vkey];
        refused(
            &args,
            1,
            &[
                "the receipt's checkpoint does not verify with the log's key",
                &named,
            ],
        );
        let (_, out, _) = run(&[&["--json"], &args[..]].concat());
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v["first_bad_index"].is_null(), "{v}");
    }

    refused(
        &r(&f.file("empty-object.json", "{}")),
        2,
        &["receipt: missing field `index`"],
    );
    refused(
        &r(&f.file("not-json.json", "garbage")),
        2,
        &["receipt: expected value"],
    );
    let gone = s(&f.tmp.path().join("no-such.receipt.json")).to_string();
    refused(&r(&gone), 2, &[&gone, "No such file"]);
}

#[test]
fn bad_checkpoints_for_consistency_are_refused_and_named() {
    let f = Fixture::build();
    let (vkey, log) = (f.vkey.as_str(), s(&f.new));
    let old = s(&f.old.join("checkpoint")).to_string();
    let new = s(&f.new.join("checkpoint")).to_string();
    let c = |a: &str, b: &str| -> Vec<String> {
        ["consistency", a, b, "--log", log, "--vkey", vkey]
            .map(String::from)
            .to_vec()
    };
    let go = |v: Vec<String>, code, words: &[&str]| refused(&v, code, words);
    let (code, out, _) = run(&c(&old, &new));
    assert_eq!(
        (code, out.trim()),
        (0, "consistent: size 5 extends size 3 (proof of 4 hashes)")
    );

    let garbage = f.file("garbage.checkpoint", "garbage\n");
    go(
        c(&garbage, &new),
        2,
        &["old checkpoint", "no blank line before its signatures"],
    );
    go(
        c(&old, &f.file("empty.checkpoint", "")),
        2,
        &["new checkpoint"],
    );

    // The size line changed under the log's signature.
    let note = std::fs::read_to_string(&new).unwrap();
    let edited = note.replacen("\n5\n", "\n6\n", 1);
    assert_ne!(edited, note);
    let bad_sig = f.file("bad-sig.checkpoint", edited);
    let key = format!("invalid signature for key {}", f.origin());
    go(c(&old, &bad_sig), 2, &["new checkpoint", &key]);

    // Another log's checkpoint, and one of another origin signed by this log's key.
    let other = Signer::from_seed(KeyName::new("another.example/log").unwrap(), [5; 32]);
    let foreign = f.file(
        "foreign.checkpoint",
        checkpoint_by(&other, "another.example/log", 5),
    );
    go(
        c(&old, &foreign),
        2,
        &["new checkpoint", "no signature from a known key"],
    );
    let renamed = f.file(
        "renamed.checkpoint",
        checkpoint_by(&f.node_key, "another.example/log", 5),
    );
    let want = format!(
        "origin \"another.example/log\" is not the expected \"{}\"",
        f.origin()
    );
    go(c(&renamed, &new), 2, &["old checkpoint", &want]);

    let gone = s(&f.tmp.path().join("no-such.checkpoint")).to_string();
    go(c(&old, &gone), 2, &[&gone, "No such file"]);
}

#[test]
fn bad_state_files_are_refused_named_and_left_as_they_were() {
    let f = Fixture::build();
    let vkey = f.vkey.as_str();
    let state = f.tmp.path().join("audit.state");
    let audit = |log: &Path, st: &Path| -> Vec<String> {
        [
            "audit",
            "--quiet",
            "--log",
            s(log),
            "--vkey",
            vkey,
            "--state",
            s(st),
        ]
        .map(String::from)
        .to_vec()
    };
    let go = |v: Vec<String>, code: i32, words: &[&str]| refused(&v, code, words);
    let ok = |v: Vec<String>| run(&v).0;
    assert_eq!(ok(audit(&f.old, &state)), 0);
    let good = std::fs::read(&state).unwrap();
    let magic = b"lvyue-verify audit state v1\n".len();

    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("empty", Vec::new(), "not an lvyue-verify audit state (v1)"),
        (
            "cut-in-magic",
            good[..10].to_vec(),
            "not an lvyue-verify audit state (v1)",
        ),
        ("cut-after-magic", good[..magic + 8].to_vec(), "truncated"),
        (
            "cut-in-half",
            good[..good.len() / 2].to_vec(),
            "checksum mismatch",
        ),
        (
            "wrong-magic",
            [b"lvyue-verify audit state v9\n", &good[magic..]].concat(),
            "not an lvyue-verify audit state (v1)",
        ),
    ];
    for (name, bytes, why) in cases {
        let p = f.tmp.path().join(format!("{name}.state"));
        std::fs::write(&p, &bytes).unwrap();
        let named = format!("state file {}: {why}", s(&p));
        go(audit(&f.new, &p), 2, &[&named]);
        assert_eq!(std::fs::read(&p).unwrap(), bytes, "{name} was rewritten");
        assert!(
            !f.tmp.path().join(format!("{name}.state.tmp")).exists(),
            "{name}"
        );
    }

    // The good state still resumes; then a rollback to the older export and
    // a fork (another root at the same size) are refused, the state kept.
    assert_eq!(ok(audit(&f.new, &state)), 0);
    let saved = std::fs::read(&state).unwrap();
    assert_ne!(saved, good);
    go(audit(&f.old, &state), 1, &["rolled back"]);
    assert_eq!(
        std::fs::read(&state).unwrap(),
        saved,
        "state rewritten after a rollback"
    );
    let fork = f.tmp.path().join("fork");
    std::fs::create_dir(&fork).unwrap();
    std::fs::write(
        fork.join("checkpoint"),
        checkpoint_by(&f.node_key, f.origin(), 5),
    )
    .unwrap();
    go(
        audit(&fork, &state),
        1,
        &["fork: two signed checkpoints of one size"],
    );
    assert_eq!(
        std::fs::read(&state).unwrap(),
        saved,
        "state rewritten after a fork"
    );
    assert!(!f.tmp.path().join("audit.state.tmp").exists());
}
