//! Bad files given to the built `lvyue-node` binary: config files that do not
//! parse or hold values the node cannot run with, secret key files that are
//! missing, malformed or readable by others, a replayed submission, a refused
//! submission with `--receipt`, and `keygen` onto an existing file. Each is
//! refused with a non-zero exit and an error naming the problem, and leaves
//! nothing behind: no data folder initialised, no entry appended, no receipt
//! written, no key file overwritten.

use lvyue_ledger::uscc::Uscc;
use serde_json::Value;
use std::path::Path;

mod support;
use support::{Node, run, s};

fn uscc(n: u32) -> String {
    Uscc::with_check(&format!("9161030{n:010}"))
        .unwrap()
        .to_string()
}

/// The names in a folder, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) {}

/// `register` of a market entity's key `vkey`, signed with `key`, plus `extra` flags.
fn register<'a>(key: &'a str, vkey: &'a str, holder: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["register", "--key", key, "--holder-uscc", holder];
    v.extend([
        "--holder-name",
        "某科技有限公司",
        "--role",
        "market_entity",
        "--pubkey",
        vkey,
    ]);
    v.extend_from_slice(extra);
    v
}

fn keygen(path: &Path, name: &str) -> String {
    let r = run(&["keygen", "--out", s(path), "--name", name], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout.trim().to_string()
}

#[test]
fn bad_config_files_are_refused_naming_the_problem_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    let here = "listen = \"127.0.0.1:0\"\n";
    // (file text, what stderr must contain: '|'-separated)
    let cases = [
        (
            "max_batch = 10\nlog_level = \"info\n",
            "TOML parse error at line 3",
        ),
        (
            "max_batch = \"ten\"",
            "max_batch|invalid type: string \"ten\", expected usize",
        ),
        (
            "max_wait_ms = -5",
            "max_wait_ms|invalid value: integer `-5`, expected u64",
        ),
        (
            "body_limit = 99999999999999999999",
            "body_limit|99999999999999999999|expected usize",
        ),
        (
            "rate_burst = 4294967296",
            "rate_burst|4294967296|expected u32",
        ),
        (
            "tick_interval_secs = 0",
            "tick_interval_secs 0: must be at least 1",
        ),
        ("snapshot_every = 0", "snapshot_every 0: must be at least 1"),
        (
            "batch_body_limit = 0",
            "batch_body_limit 0: must be at least 1",
        ),
        ("max_batch = 3\nmax_batch = 4", "duplicate key"),
        ("max_bacth = 3", "max_bacth"),
        // (no --listen flag overrides the file's)
        ("listen = \"\"", "listen: empty address"),
    ];
    for (i, (text, want)) in cases.into_iter().enumerate() {
        let text = match text.starts_with("listen") {
            true => format!("{text}\n"),
            false => format!("{here}{text}\n"),
        };
        std::fs::write(&file, &text).unwrap();
        let data = dir.path().join(format!("data{i}"));
        std::fs::create_dir(&data).unwrap();
        let args = ["serve", "--config", s(&file), "--data", s(&data)];
        let r = run(&args, &[]);
        assert_eq!(r.code, 2, "{text}: {}", r.stderr);
        assert!(r.stderr.starts_with("lvyue-node: "), "{text}: {}", r.stderr);
        for w in want.split('|') {
            assert!(r.stderr.contains(w), "{text}: want {w:?} in {}", r.stderr);
        }
        if r.stderr.contains("TOML parse error") {
            assert!(r.stderr.contains(s(&file)), "{text}: {}", r.stderr);
        }
        assert!(listing(&data).is_empty(), "{text}: {:?}", listing(&data));
        // --print-config gives the same refusal; --json gives its JSON form.
        let p = run(&[&args[..], &["--print-config"]].concat(), &[]);
        assert_eq!((p.code, &p.stderr, p.stdout.as_str()), (2, &r.stderr, ""));
        let j = run(&[&["--json"], &args[..]].concat(), &[]);
        let detail = r.stderr.strip_prefix("lvyue-node: ").map(str::trim_end);
        assert_eq!(j.code, 2, "{text}");
        assert_eq!(j.json()["error"], "config", "{text}");
        assert_eq!(j.json()["detail"].as_str(), detail, "{text}");
        assert!(listing(&data).is_empty(), "{text}: {:?}", listing(&data));
    }

    // A --config path that does not exist; the data folder is not created.
    let missing = dir.path().join("nope.toml");
    let data = dir.path().join("never");
    let r = run(&["serve", "--config", s(&missing), "--data", s(&data)], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("config file {}: No such file", s(&missing))),
        "{}",
        r.stderr
    );
    assert!(!data.exists());

    // A bad DATA/lvyue.toml (found without --config) is refused the same way
    // and the folder is left holding only that file.
    let data = dir.path().join("data-implicit");
    std::fs::create_dir(&data).unwrap();
    let inner = data.join("lvyue.toml");
    std::fs::write(&inner, format!("{here}max_batch = \"ten\"\n")).unwrap();
    let r = run(&["serve", "--data", s(&data)], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(s(&inner)) && r.stderr.contains("expected usize"),
        "{}",
        r.stderr
    );
    assert_eq!(listing(&data), ["lvyue.toml"]);
}

#[test]
fn bad_key_files_are_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("data"));
    let office = std::fs::read_to_string(node.office_key()).unwrap();
    let line = office.trim_end();
    let seed = line.splitn(5, '+').nth(4).unwrap();
    let vkey = keygen(&dir.path().join("firm.key"), "firm");
    let holder = uscc(2);
    let before = node.size();

    let no_nl = "is malformed: want one line ending in a newline";
    let lines = "is malformed: want exactly one line";
    // (file, contents or None for no file, mode, what stderr says after "FILE ")
    let cases = [
        ("missing.key", None, 0o600, ": No such file"),
        ("no-newline.key", Some(line.to_string()), 0o600, no_nl),
        ("empty.key", Some(String::new()), 0o600, no_nl),
        ("extra.key", Some(format!("{office}second\n")), 0o600, lines),
        ("crlf.key", Some(format!("{line}\r\n")), 0o600, lines),
        // The office's own valid key, readable by others (refused on unix).
        #[cfg(unix)]
        (
            "open.key",
            Some(office.clone()),
            0o644,
            "has mode 0644: group/other bits must be clear",
        ),
        (
            "garbage.key",
            Some("not a key\n".into()),
            0o600,
            "does not hold a secret key (want PRIVATE+KEY+",
        ),
    ];
    for (name, contents, mode, problem) in cases {
        let key = dir.path().join(name);
        if let Some(c) = contents {
            std::fs::write(&key, c).unwrap();
            set_mode(&key, mode);
        }
        let want = match name {
            "missing.key" => format!("{}{problem}", s(&key)),
            _ => format!("secret key file {} {problem}", s(&key)),
        };
        let r = node.run(&register(s(&key), &vkey, &holder, &[]));
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains(&want),
            "{name}: want {want:?} in {}",
            r.stderr
        );
        assert!(
            !r.stderr.contains(seed),
            "secret in the error: {}",
            r.stderr
        );
        let j = node.run(&register(s(&key), &vkey, &holder, &["--json"]));
        assert_eq!(
            (j.code, j.json()["error"].as_str()),
            (2, Some("key")),
            "{name}"
        );
        // Offline (--dry-run --origin): no signed submission printed either.
        let offline = ["--dry-run", "--origin", "lvyue.local/log"];
        let d = run(&register(s(&key), &vkey, &holder, &offline), &[]);
        assert_eq!((d.code, d.stdout.as_str()), (2, ""), "{name}: {}", d.stderr);
    }
    assert_eq!(node.size(), before, "nothing reached the log");

    // The same command with the good key file is accepted: the refusals above
    // were the key files'.
    let office_key = node.office_key();
    let r = node.run(&register(&office_key, &vkey, &holder, &[]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(node.size(), before + 1);
}

#[test]
fn a_replay_and_a_refused_submission_append_nothing_and_save_no_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(&dir.path().join("data"));
    let office = node.office_key();
    let vkey = keygen(&dir.path().join("firm.key"), "firm");
    let holder = uscc(2);
    let reg = |extra: &[&str]| node.run(&register(&office, &vkey, &holder, extra));
    let (r1, r2) = (dir.path().join("r1.json"), dir.path().join("r2.json"));
    let proof = |p: &Path| p.with_extension("tlog-proof");
    let before = node.size();
    let index = before; // the next entry's index

    let first = reg(&["--nonce", "7", "--receipt", s(&r1)]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let accepted = format!("accepted key_registered at index {index} ");
    assert!(first.stdout.starts_with(&accepted), "{}", first.stdout);
    assert!(r1.exists() && proof(&r1).exists());
    let saved = std::fs::read(&r1).unwrap();

    // The same signed submission again (same nonce): 409 duplicate naming the index.
    let r = reg(&["--nonce", "7", "--receipt", s(&r2)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let detail = format!("duplicate submission: already in the log at index {index}");
    let want = format!("refused by the node (409 duplicate): {detail}\n");
    assert!(r.stderr.ends_with(&want), "{}", r.stderr);
    let j = reg(&["--json", "--nonce", "7", "--receipt", s(&r2)]);
    let e = j.json();
    assert_eq!(j.code, 1);
    assert_eq!(
        e,
        serde_json::json!({"error": "duplicate", "status": 409, "detail": detail})
    );
    assert!(!r2.exists() && !proof(&r2).exists());
    assert_eq!(node.size(), before + 1, "the log grew by exactly one");

    // A key the log does not know: 401 unknown_key, no receipt written, and
    // an existing file named by --receipt is left as it was.
    let stranger = dir.path().join("stranger.key");
    let stranger_vkey = keygen(&stranger, "stranger");
    let r3 = dir.path().join("r3.json");
    for receipt in [&r3, &r1] {
        let extra = ["--receipt", s(receipt)];
        let r = node.run(&register(s(&stranger), &stranger_vkey, &uscc(3), &extra));
        assert_eq!(r.code, 1, "{}", r.stderr);
        let want = "refused by the node (401 unknown_key): unknown key stranger+";
        assert!(r.stderr.contains(want), "{}", r.stderr);
    }
    assert!(!r3.exists() && !proof(&r3).exists());
    assert_eq!(std::fs::read(&r1).unwrap(), saved);
    assert_eq!(node.size(), before + 1);
}

#[test]
fn keygen_never_overwrites_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("firm.key");
    let vkey = keygen(&key, "firm");
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not a key, but mine\n").unwrap();
    set_mode(&notes, 0o644);
    let files = listing(dir.path());
    let bytes = |p: &Path| std::fs::read(p).unwrap();
    let (key_bytes, notes_bytes) = (bytes(&key), bytes(&notes));

    for target in [&key, &notes] {
        for json in [false, true] {
            let mut args = vec!["keygen", "--out", s(target), "--name", "other"];
            if json {
                args.insert(0, "--json");
            }
            let r = run(&args, &[]);
            assert_eq!(r.code, 2, "{target:?}: {}", r.stderr);
            let want = format!("refusing to overwrite existing file {}", s(target));
            assert!(r.stderr.contains(&want), "{}", r.stderr);
            if json {
                assert_eq!(r.json()["error"], "key");
            } else {
                assert!(r.stdout.is_empty(), "no verifier key printed: {}", r.stdout);
            }
        }
    }
    assert_eq!((bytes(&key), bytes(&notes)), (key_bytes, notes_bytes));
    assert_eq!(listing(dir.path()), files, "no temporary file left behind");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&key), mode(&notes)), (0o600, 0o644));
    }
    // The original key still signs as itself.
    let offline = ["--dry-run", "--origin", "o/log"];
    let d = run(&register(s(&key), &vkey, &uscc(4), &offline), &[]);
    assert_eq!(d.code, 0, "{}", d.stderr);
    let signed: Value = serde_json::from_str(&d.stdout).unwrap();
    assert_eq!(signed["payload"]["signer"]["name"], "firm");
}

/// Input files that cannot be read as text (missing, not UTF-8) are input
/// refused before anything is signed or sent: exit 2, the path and the
/// problem named, nothing printed.
#[test]
fn unreadable_input_files_are_refused_before_signing() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("feed.key");
    keygen(&key, "feed");
    let offline = ["--dry-run", "--origin", "lvyue.local/log"];
    let bad_ndjson = dir.path().join("rows.ndjson");
    std::fs::write(&bad_ndjson, b"\xff\xfe{}\n").unwrap();
    let bad_csv = dir.path().join("rows.csv");
    std::fs::write(&bad_csv, b"external_ref,id\n\xff,1\n").unwrap();
    let missing = dir.path().join("missing.ndjson");
    let bad_event = dir.path().join("event.json");
    std::fs::write(&bad_event, b"{\"type\": \"tick\"\xff}").unwrap();
    // `submit` has no offline mode: its node is a closed port, never reached.
    let nowhere = [("LVYUE_NODE", "http://127.0.0.1:9")];
    let cases: [(Vec<&str>, &Path, &str); 4] = [
        (
            vec!["import", "--feed-key", s(&key)],
            &bad_ndjson,
            "not UTF-8",
        ),
        (vec!["import", "--feed-key", s(&key)], &bad_csv, "not UTF-8"),
        (
            vec!["import", "--feed-key", s(&key)],
            &missing,
            "No such file",
        ),
        (vec!["submit", "--key", s(&key)], &bad_event, "not UTF-8"),
    ];
    for (mut args, file, problem) in cases {
        args.push(s(file));
        if args[0] == "import" {
            args.extend(offline);
        }
        let r = run(&args, &nowhere);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(s(file)) && r.stderr.contains(problem),
            "{args:?}: {}",
            r.stderr
        );
        assert_eq!(r.stdout, "", "{args:?}: nothing signed");
    }
}
