//! `lvyue_node::demo`: a small demo city builds with every submission
//! admitted, audits clean (the build audits it; this test audits it again
//! from the reopened folder), contains every outcome the rule book knows,
//! is the same for the same seed, and can be opened again as a node.

use lvyue_ledger::record::{Body, Entry};
use lvyue_ledger::store::{Store, StoreConfig};
use lvyue_node::clock::FixedClock;
use lvyue_node::demo::{self, DemoOptions, DemoSummary};
use lvyue_node::node::{self, InitOptions};
use lvyue_node::sequencer::SequencerConfig;
use std::sync::Arc;

fn small() -> DemoOptions {
    DemoOptions {
        seed: 7,
        departments: 8,
        firms: 24,
        persons: 3,
        contracts: 40,
        ..DemoOptions::default()
    }
}

fn build(opts: &DemoOptions) -> (tempfile::TempDir, DemoSummary) {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let summary = demo::build(&data, opts).unwrap_or_else(|e| panic!("demo build: {e}"));
    (dir, summary)
}

#[test]
fn a_small_demo_has_every_outcome_and_is_deterministic() {
    let opts = small();
    let (dir, s) = build(&opts);
    let data = dir.path().join("data");
    println!("{}", serde_json::to_string_pretty(&s).unwrap());

    assert!(s.missing().is_empty(), "missing: {:?}", s.missing());
    assert_eq!(s.contracts_by_category.len(), 8, "{s:?}");
    assert!(s.demand_notices >= 1 && !s.black_list.is_empty() && !s.red_list.is_empty());
    assert_eq!(s.refused_as_expected, 1);
    assert_eq!(s.entries, s.submitted + s.derived);
    assert_eq!(
        s.keys,
        2 + opts.departments + 2 + opts.firms,
        "node, office, departments, feed, agency, firms"
    );
    let closed = s.closed_on_time + s.closed_late + s.closed_deemed + s.closed_exempt;
    assert_eq!(
        closed + s.closed_defaulted + s.still_pending + s.overdue_at_end,
        s.milestones,
        "every milestone is closed or open exactly once"
    );

    // The red and black lists as the story firms left them.
    for l in &s.red_list {
        assert!(l.score >= 1010, "{l:?}");
    }
    for l in &s.black_list {
        assert!(l.score < 1000, "{l:?}");
    }

    // Every organisation's key file reads back, with an index next to them.
    for f in &s.key_files {
        let path = data.join(f);
        if f.ends_with(".key") {
            lvyue_ledger::keys::Signer::read_file(&path).unwrap_or_else(|e| panic!("{f}: {e}"));
        } else {
            assert!(path.exists(), "{f}");
        }
    }
    assert_eq!(s.key_files.len(), opts.departments + 2 + opts.firms + 1);

    // The same seed gives the same content (keys and signatures aside).
    let (_dir2, s2) = build(&opts);
    let strip = |s: &DemoSummary| DemoSummary {
        key_files: Vec::new(),
        ..s.clone()
    };
    assert_eq!(strip(&s), strip(&s2));
    assert_eq!(s.key_files, s2.key_files);

    // Another seed gives another city.
    let (_dir3, s3) = build(&DemoOptions {
        seed: 8,
        ..opts.clone()
    });
    assert_ne!(s.content_digest, s3.content_digest);
    assert!(
        s3.missing().is_empty(),
        "seed 8 missing: {:?}",
        s3.missing()
    );

    // The folder opens as a node again (as `serve` would) at the demo's last time.
    let store = Store::open(&data.join("store"), &StoreConfig::default()).unwrap();
    let head = store.head().clone();
    let last = Entry::decode(&store.view().entry(head.size - 1).unwrap().unwrap()).unwrap();
    assert!(
        matches!(last.body, Body::Submitted(_)),
        "ends with the final tick"
    );
    drop(store);
    let clock = Arc::new(FixedClock::new(last.time_ms));
    let n = node::open(
        &data,
        &InitOptions::default(),
        clock,
        SequencerConfig::default(),
    )
    .expect("reopen");
    let view = n.sequencer.view().unwrap();
    assert_eq!(view.head().size, s.entries);
    view.audit(&n.origin, &n.vkey)
        .expect("audits clean after reopening");
    n.sequencer.stop();
}

#[test]
fn the_stories_alone_have_every_outcome_in_the_shortest_period() {
    // No background contracts: the scripted stories carry every outcome.
    let opts = DemoOptions {
        seed: 3,
        departments: 14,
        firms: 40,
        persons: 2,
        contracts: 0,
        start: lvyue_ledger::types::Date::parse("2025-03-15").unwrap(),
        days: 450,
        ..DemoOptions::default()
    };
    let (_dir, s) = build(&opts);
    assert!(s.missing().is_empty(), "missing: {:?}", s.missing());
    assert_eq!(
        (s.first_day.as_str(), s.last_day.as_str()),
        ("2025-03-15", "2026-06-07")
    );
    assert_eq!(s.departments, 14);
}

#[test]
fn the_folder_must_be_empty_and_the_options_sane() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x"), b"x").unwrap();
    let e = demo::build(dir.path(), &small()).unwrap_err();
    assert!(e.contains("not empty"), "{e}");

    let fresh = dir.path().join("fresh");
    let e = demo::build(
        &fresh,
        &DemoOptions {
            days: 300,
            ..small()
        },
    )
    .unwrap_err();
    assert!(e.contains("days"), "{e}");
    let e = demo::build(
        &fresh,
        &DemoOptions {
            firms: 5,
            ..small()
        },
    )
    .unwrap_err();
    assert!(e.contains("firms"), "{e}");
    let e = demo::build(
        &fresh,
        &DemoOptions {
            departments: 0,
            ..small()
        },
    )
    .unwrap_err();
    assert!(e.contains("departments"), "{e}");
    assert!(!fresh.exists(), "a refused build writes nothing");
}

/// The default demo (what `lvyue-node demo` builds): run with
/// `cargo test --release -p lvyue-node --test demo -- --ignored --nocapture`.
#[test]
#[ignore = "the full default demo; slow in debug builds"]
fn the_default_demo_builds() {
    let started = std::time::Instant::now();
    let (_dir, s) = build(&DemoOptions::default());
    let elapsed = started.elapsed();
    let shown = DemoSummary {
        key_files: vec![format!("{} files", s.key_files.len())],
        ..s.clone()
    };
    println!("{}", serde_json::to_string_pretty(&shown).unwrap());
    println!("built in {elapsed:.1?}");
    assert!(s.missing().is_empty(), "missing: {:?}", s.missing());
}
