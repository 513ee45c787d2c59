//! Audit of a large exported log (docs/BENCHMARKS.md, "Audit of a
//! 1,000,000-entry log").
//!
//! `cargo bench -p lvyue-verifier --bench audit [-- --quick] [-- --entries N]`
//!
//! 1. Builds a log of at least N entries (default 1,000,000; `--quick`
//!    50,000) with the node's real sequencer over sled: 64 registered
//!    market entities file contracts (2–4 milestones, Chinese text) and the
//!    obligee confirms every milestone; the rules engine derives the
//!    records that follow (milestone closed, contract performed, …).
//! 2. Exports it as a folder with the tile API's layout (tests/support).
//! 3. (a) the two-core Ed25519 strict verification bound: the submissions'
//!    signatures, read back from the folder, checked with
//!    `verify_batch_strict` split over two threads (only the checks are
//!    timed), before and after the audits;
//!    (b) `lvyue-verify audit --log DIR --json --quiet` run as a process
//!    under `/usr/bin/time -v` (wall time, maximum resident set size), 3 runs.
//! 4. Prints entries/s, signatures/s, the ratio of the audit's signature
//!    rate to the bound, and the peak memory against the targets
//!    (≥ 0.70, ≤ 1 GiB).

#[path = "../tests/support/mod.rs"]
mod support;

use lvyue_ledger::event::{Contract, Event, Milestone, Party, Source};
use lvyue_ledger::hash::sha256;
use lvyue_ledger::keys::{Signer, VerifierKey, verify_batch_strict};
use lvyue_ledger::record::{Body, Entry, signed_message};
use lvyue_ledger::tlog;
use lvyue_ledger::types::{Category, ContractId, Date, Fen, Name, Text};
use lvyue_ledger::uscc::Uscc;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{Res, err};

/// xorshift64*: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "道路",
    "维修",
    "工程",
    "验收",
    "交付",
    "设备",
    "采购",
    "服务",
    "监理",
    "施工",
    "材料",
    "检测",
    "绿化",
    "管网",
    "改造",
    "信息化",
    "平台",
    "运维",
    "培训",
    "安装",
];

fn text(rng: &mut Rng, min: u64, max: u64) -> String {
    let want = min + rng.below(max - min);
    let mut s = String::new();
    while (s.chars().count() as u64) < want {
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
    }
    s
}

/// Contract `n`: filed by its obligee `a` (甲方), obligor `b` (乙方).
fn contract(n: u64, a: Uscc, b: Uscc) -> Contract {
    let mut rng = Rng(n.wrapping_mul(7919).wrapping_add(17) | 1);
    let count = 2 + rng.below(3) as u32;
    let amount = 1_000_000 + rng.below(5_000_000_000) as i64;
    let signed = Date::parse("2026-01-01").expect("date").days() + rng.below(200) as i32;
    let mut due = Date::parse("2027-06-01").expect("date").days();
    let mut left = amount;
    let milestones = (1..=count)
        .map(|m| {
            let part = if m == count {
                left
            } else {
                amount / i64::from(count)
            };
            left -= part;
            due += 30 + rng.below(90) as i32;
            Milestone {
                number: m,
                obligor: lvyue_ledger::types::Subject::Org(b),
                obligee: lvyue_ledger::types::Subject::Org(a),
                due: Date::from_days(due).expect("due"),
                description: Text::new(text(&mut rng, 4, 12)).expect("text"),
                amount: Fen::new(part).expect("fen"),
            }
        })
        .collect();
    let party = |s: Uscc, role: &str| Party {
        subject: lvyue_ledger::types::Subject::Org(s),
        name: Name::new(format!("宝鸡某{role}公司")).expect("name"),
        role: Name::new(role).expect("role"),
    };
    Contract {
        id: ContractId::new(format!("BJ-2026-{n:08}")).expect("id"),
        category: Category::Construction,
        name: Name::new(text(&mut rng, 6, 16)).expect("name"),
        parties: vec![party(a, "甲方"), party(b, "乙方")],
        summary: Text::new(text(&mut rng, 100, 300)).expect("summary"),
        amount: Fen::new(amount).expect("fen"),
        signed: Date::from_days(signed).expect("signed"),
        milestones,
        document_sha256: (rng.below(3) != 0).then(|| sha256(&n.to_be_bytes())),
        source: Source::SelfFiled,
    }
}

/// Signs `f(i)` for `i` in `range` on two threads.
fn sign_all(
    range: std::ops::Range<u64>,
    f: &(dyn Fn(u64) -> lvyue_ledger::record::Signed + Sync),
) -> Vec<lvyue_ledger::record::Signed> {
    let mid = range.start + (range.end - range.start) / 2;
    std::thread::scope(|s| {
        let h = s.spawn(|| (mid..range.end).map(f).collect::<Vec<_>>());
        let mut v: Vec<_> = (range.start..mid).map(f).collect();
        v.extend(h.join().expect("signing thread"));
        v
    })
}

/// Builds the log in `dir` until it has at least `target` entries.
fn build(dir: &Path, target: u64) -> Res<(support::TestLog, u64)> {
    let mut log = support::TestLog::open(dir, 1 << 20)?;
    let keys: Vec<(Signer, Uscc)> = (0..64).map(support::market_key).collect();
    for (k, u) in &keys {
        log.register(k, *u)?;
    }
    let origin = log.node.origin.as_str().to_string();
    const ROUND: u64 = 8_192;
    let mut next = 0u64;
    let mut last = Instant::now();
    let started = Instant::now();
    while log.view()?.head().size < target {
        let range = next..next + ROUND;
        next += ROUND;
        let key = |c: u64| &keys[(c % 64) as usize];
        let other = |c: u64| &keys[((c + 1) % 64) as usize];
        let filings = sign_all(range.clone(), &|c| {
            let (a, ua) = key(c);
            let event = Event::ContractFiled {
                contract: contract(c, *ua, other(c).1),
            };
            lvyue_node::node::sign_event(a, &origin, event, 1 << 40 | c).expect("sign")
        });
        let milestones: Vec<(u64, u32)> = filings
            .iter()
            .zip(range.clone())
            .flat_map(|(s, c)| match &s.payload.event {
                Event::ContractFiled { contract } => {
                    (1..=contract.milestones.len() as u32).map(move |m| (c, m))
                }
                _ => unreachable!("filings only"),
            })
            .collect();
        support::submit_all(&log.rt, &log.node.sequencer, filings)?;
        let confirmations = sign_all(0..milestones.len() as u64, &|i| {
            let (c, m) = milestones[i as usize];
            let (a, _) = key(c);
            let event = Event::PerformanceConfirmed {
                contract: ContractId::new(format!("BJ-2026-{c:08}")).expect("id"),
                milestone: m,
                performed: Date::parse("2026-09-01").expect("date"),
                evidence: Some(sha256(
                    &[c.to_be_bytes(), u64::from(m).to_be_bytes()].concat(),
                )),
            };
            lvyue_node::node::sign_event(a, &origin, event, 2 << 40 | c << 3 | u64::from(m))
                .expect("sign")
        });
        support::submit_all(&log.rt, &log.node.sequencer, confirmations)?;
        if last.elapsed() > Duration::from_secs(15) {
            last = Instant::now();
            println!(
                "  ... {} entries, {:.0} s",
                log.view()?.head().size,
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok((log, next))
}

/// A signature to check: key, signed message, signature.
type SigItem = (VerifierKey, Vec<u8>, [u8; 64]);

/// The submissions' (key, message, signature), read back from the folder.
fn signatures(
    dir: &Path,
    size: u64,
    keys: &HashMap<String, VerifierKey>,
    origin: &str,
) -> Res<Vec<SigItem>> {
    let mut out = Vec::new();
    for t in tlog::tiles_for_size(0, size) {
        let data = std::fs::read(dir.join(t.entries_path())).map_err(err("bundle"))?;
        let mut rest = &data[..];
        while rest.len() >= 2 {
            let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
            let e = Entry::decode(&rest[2..2 + len]).map_err(err("decode"))?;
            rest = &rest[2 + len..];
            if let Body::Submitted(s) = e.body {
                let key = keys
                    .get(&s.payload.signer.to_string())
                    .ok_or_else(|| format!("unknown key {}", s.payload.signer))?;
                let payload = lvyue_ledger::codec::encode(&s.payload).map_err(err("encode"))?;
                out.push((key.clone(), signed_message(origin, &payload), s.signature));
            }
        }
    }
    Ok(out)
}

/// Seconds to check all `items` with `verify_batch_strict` on two threads.
fn bound_secs(items: &[SigItem]) -> Res<f64> {
    const CHUNK: usize = 4096;
    let (a, b) = items.split_at(items.len() / 2);
    let half = |xs: &[SigItem]| -> bool {
        xs.chunks(CHUNK).all(|c| {
            let refs: Vec<_> = c.iter().map(|(k, m, s)| (k, m.as_slice(), s)).collect();
            verify_batch_strict(&refs).iter().all(Result::is_ok)
        })
    };
    let t = Instant::now();
    let ok = std::thread::scope(|s| {
        let h = s.spawn(|| half(b));
        half(a) & h.join().expect("verify thread")
    });
    let secs = t.elapsed().as_secs_f64();
    if !ok {
        return Err("a signature of the log does not verify".into());
    }
    Ok(secs)
}

struct AuditRun {
    secs: f64,
    max_rss_kb: u64,
    json: serde_json::Value,
}

/// `lvyue-verify audit --log DIR` as a process, under `/usr/bin/time -v`.
fn audit_run(dir: &Path, vkey: &str) -> Res<AuditRun> {
    let bin = env!("CARGO_BIN_EXE_lvyue-verify");
    let dir = dir.to_str().ok_or("path")?;
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args([
            "-v", bin, "--json", "--quiet", "audit", "--log", dir, "--vkey", vkey,
        ])
        .output()
        .map_err(err("run /usr/bin/time"))?;
    let secs = t.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let max_rss_kb = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("no max RSS in: {stderr}"))?;
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(err("audit --json output"))?;
    if json["exit"] != 0 {
        return Err(format!("audit failed: {json}"));
    }
    Ok(AuditRun {
        secs,
        max_rss_kb,
        json,
    })
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

fn run() -> Res<()> {
    let mut quick = false;
    let mut entries = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--entries" => entries = args.next().and_then(|v| v.replace('_', "").parse().ok()),
            _ => {}
        }
    }
    let target: u64 = entries.unwrap_or(if quick { 50_000 } else { 1_000_000 });
    let runs = 3;
    println!("lvyue audit benchmark: log of >= {target} entries, {runs} audit runs");
    println!(
        "machine: {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let tmp = tempfile::tempdir().map_err(err("tempdir"))?;
    let t = Instant::now();
    let (log, contracts) = build(&tmp.path().join("node"), target)?;
    let view = log.view()?;
    let export_dir = tmp.path().join("export");
    let size = support::export(&view, &export_dir)?;
    let origin = log.node.origin.as_str().to_string();
    let vkey = log.node.vkey.clone();
    let keys: HashMap<String, VerifierKey> = (0..64)
        .map(|i| support::market_key(i).0.verifier_key())
        .chain([log.office.verifier_key(), vkey.clone()])
        .map(|k| (format!("{}+{:08x}", k.name(), k.id()), k))
        .collect();
    drop(view);
    log.node.sequencer.stop();
    drop(log);
    let bundle_bytes: u64 = tlog::tiles_for_size(0, size)
        .map(|t| std::fs::metadata(export_dir.join(t.entries_path())).map_or(0, |m| m.len()))
        .sum();
    println!(
        "built and exported {size} entries ({contracts} contracts) in {:.0} s; entry bundles {:.0} MiB",
        t.elapsed().as_secs_f64(),
        bundle_bytes as f64 / (1 << 20) as f64
    );

    let items = signatures(&export_dir, size, &keys, &origin)?;
    let sigs = items.len() as u64;
    println!("submissions (signatures) in the log: {sigs}");
    let mut bound = Vec::new();
    for _ in 0..2 {
        bound.push(sigs as f64 / bound_secs(&items)?);
    }
    drop(items);
    let mut audits = Vec::new();
    for r in 0..runs {
        let a = audit_run(&export_dir, &vkey.to_string())?;
        println!(
            "  audit run {}: {:.2} s, {:.0} entries/s, {:.0} sigs/s, max RSS {} kB (submitted {}, derived {})",
            r + 1,
            a.secs,
            size as f64 / a.secs,
            sigs as f64 / a.secs,
            a.max_rss_kb,
            a.json["submitted"],
            a.json["derived"]
        );
        audits.push(a);
    }
    let items = signatures(&export_dir, size, &keys, &origin)?;
    for _ in 0..2 {
        bound.push(sigs as f64 / bound_secs(&items)?);
    }
    let b = median(&bound);
    let secs = median(&audits.iter().map(|a| a.secs).collect::<Vec<_>>());
    let rss = audits.iter().map(|a| a.max_rss_kb).max().unwrap_or(0);
    let ratio = (sigs as f64 / secs) / b;
    println!("\n== Summary ==");
    println!(
        "  bound (verify_batch_strict, 2 threads, {sigs} signatures): runs {:?} sigs/s, median {b:.0}",
        bound.iter().map(|x| x.round()).collect::<Vec<_>>()
    );
    println!(
        "  audit (lvyue-verify audit --log DIR): median {secs:.2} s = {:.0} entries/s = {:.0} sigs/s",
        size as f64 / secs,
        sigs as f64 / secs
    );
    println!(
        "  ratio audit sigs/s / bound = {ratio:.3} (>= 0.70: {})",
        if ratio >= 0.7 { "PASS" } else { "FAIL" }
    );
    println!(
        "  peak memory (max RSS of the audit process) {:.0} MiB (<= 1024: {})",
        rss as f64 / 1024.0,
        if rss <= 1 << 20 { "PASS" } else { "FAIL" }
    );
    Ok(())
}
