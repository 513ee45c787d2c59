//! End-to-end ledger benchmark (docs/BENCHMARKS.md).
//!
//! `cargo bench -p lvyue-node --bench ledger [-- --quick] [-- --entries N]`
//! (or `LVYUE_BENCH_ENTRIES=N`). One run measures:
//!
//! A. the Ed25519 verification bound on realistic submissions (single strict
//!    checks, `verify_batch_strict` on one thread, and split over two threads;
//!    for orientation only, dalek's inexact `verify_batch` in chunks of 20 and 1024);
//! B. the durable append rate through the real sequencer at max_batch 1, 64
//!    and 1024 (pre-signed submissions, submitted concurrently from tokio
//!    tasks, timed until every receipt is back), plus a per-step breakdown
//!    obtained by replaying the sequencer's two stages on a bare store and
//!    the raw sled cost of the same rows;
//! C. on a store of `--entries` entries: build rate, inclusion-proof latency,
//!    reopen time and disk use.
//!
//! Medians throughout: the machine is shared and noisy.

use lvyue_ledger::Hash;
use lvyue_ledger::admission::{KeyState, Registry};
use lvyue_ledger::checkpoint::{Checkpoint, Origin, sign_checkpoint};
use lvyue_ledger::event::{Contract, Event, KeyRegistration, Milestone, Party, Source};
use lvyue_ledger::hash::{leaf_hash, sha256};
use lvyue_ledger::keys::{KeyName, Signer, VerifierKey, verify_batch_strict};
use lvyue_ledger::record::{Body, Entry, Signed, signed_message, submission_id};
use lvyue_ledger::store::{Batch, Store, StoreConfig};
use lvyue_ledger::tlog;
use lvyue_ledger::tlog_proof::TlogProof;
use lvyue_ledger::types::{Category, ContractId, Date, Fen, Name, Role, SignerName, Subject, Text};
use lvyue_ledger::uscc::Uscc;
use lvyue_node::clock::SystemClock;
use lvyue_node::node::{self, DEFAULT_ORIGIN, InitOptions, sign_event};
use lvyue_node::sequencer::{Sequencer, SequencerConfig};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;
use support::{Res, Rng, dir_size, err};

/// Canonical entry bytes and leaf hash.
type EntryBytes = (Vec<u8>, Hash);

// ---------------------------------------------------------------------------
// Settings

struct Settings {
    quick: bool,
    entries: u64,
    /// Submissions per timed sequencer run, per max_batch.
    seq_counts: [(usize, usize); 3],
    /// Runs of the max_batch = 1024 case.
    runs_1024: usize,
    verify_items: usize,
    verify_reps: usize,
    proof_samples: usize,
}

fn settings() -> Res<Settings> {
    let mut quick = false;
    let mut entries: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--entries" => {
                let v = args.next().ok_or("--entries needs a number")?;
                entries = Some(parse_count(&v)?);
            }
            s if s.starts_with("--entries=") => {
                entries = Some(parse_count(&s["--entries=".len()..])?);
            }
            // `cargo bench` passes `--bench`; ignore it and any filter.
            _ => {}
        }
    }
    if entries.is_none() {
        if let Ok(v) = std::env::var("LVYUE_BENCH_ENTRIES") {
            entries = Some(parse_count(&v)?);
        }
    }
    let entries = entries.unwrap_or(if quick { 20_000 } else { 1_000_000 });
    if entries == 0 {
        return Err("--entries must be positive".into());
    }
    Ok(Settings {
        quick,
        entries,
        seq_counts: if quick {
            [(1, 200), (64, 4_000), (1024, 20_000)]
        } else {
            [(1, 3_000), (64, 20_000), (1024, 100_000)]
        },
        runs_1024: 3,
        verify_items: 4096,
        verify_reps: 7,
        proof_samples: 10_000,
    })
}

fn parse_count(s: &str) -> Res<u64> {
    s.replace('_', "")
        .parse()
        .map_err(|e| format!("bad count {s:?}: {e}"))
}

// ---------------------------------------------------------------------------
// Small helpers

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn fmt_rate(x: f64) -> String {
    let s = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
}

fn pass(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

fn proc_status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .map(|l| l[field.len()..].trim().to_string())
        })
        .unwrap_or_else(|| "?".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "?".into())
}

// ---------------------------------------------------------------------------
// Realistic workload

/// A valid USCC built from a number (as tests/src/lib.rs `uscc`).
fn uscc(n: u64) -> Uscc {
    Uscc::with_check(&format!("9161030{n:010}")).expect("valid uscc")
}

const PLACES: &[&str] = &[
    "宝鸡市",
    "渭滨区",
    "金台区",
    "陈仓区",
    "凤翔区",
    "岐山县",
    "扶风县",
    "眉县",
    "陇县",
    "千阳县",
    "麟游县",
    "凤县",
    "太白县",
];
const BRANDS: &[&str] = &[
    "秦川", "华岳", "长青", "恒信", "宏达", "鼎盛", "瑞丰", "永安", "博远", "天成", "新兴", "汇通",
];
const TRADES: &[&str] = &[
    "建设工程",
    "机械制造",
    "信息技术",
    "商贸",
    "物流",
    "环保科技",
    "新材料",
    "农业开发",
    "医药",
    "电力设备",
];
const SUFFIXES: &[&str] = &["有限公司", "有限责任公司", "股份有限公司"];
const DEPARTMENTS: &[&str] = &[
    "财政局",
    "住房和城乡建设局",
    "交通运输局",
    "教育局",
    "卫生健康委员会",
    "农业农村局",
    "城市管理执法局",
    "工业和信息化局",
];
const PROJECTS: &[&str] = &[
    "智慧路灯改造",
    "老旧小区供暖管网更新",
    "办公设备采购",
    "污水处理厂提标改造",
    "农村道路硬化",
    "中小学校舍维修",
    "政务云平台运维",
    "医疗设备采购",
    "工业园区标准化厂房建设",
    "高标准农田建设",
    "垃圾分类转运站建设",
    "公共资源交易平台升级",
];
const KINDS: &[&str] = &[
    "施工合同",
    "采购合同",
    "服务合同",
    "委托协议",
    "投资协议",
    "技术服务合同",
];
const SENTENCES: &[&str] = &[
    "甲方委托乙方实施本项目，乙方应按照国家及行业现行标准组织实施并对质量负责。",
    "合同价款为固定总价，包含人工费、材料费、机械费、管理费、利润、规费及税金。",
    "乙方应在合同签订后十五日内进场，并按经甲方确认的进度计划完成各阶段工作。",
    "甲方应在每一履约节点验收合格后三十日内支付对应款项，逾期支付的按日万分之五承担违约金。",
    "因不可抗力导致不能按期履行的，受影响一方应在事件发生后七日内书面通知对方并提供证明。",
    "项目质保期为两年，自竣工验收合格之日起计算，质保期内乙方负责免费维修。",
    "双方同意将本合同纳入政务诚信履约监测，履约信息按规定向社会公示。",
    "乙方提供的设备应为全新原装产品，并附出厂合格证、检测报告及使用说明书。",
    "本合同未尽事宜，由双方协商签订补充协议，补充协议与本合同具有同等法律效力。",
    "双方协商不成的，可申请诉前信用调解，调解不成的向甲方所在地人民法院起诉。",
    "乙方应为项目配备不少于五名专职技术人员，并保证关键岗位人员在合同期内保持稳定。",
    "甲方负责协调项目所需的场地、水电及相关审批手续，并为乙方进场提供必要条件。",
];
const MILESTONES: &[&str] = &[
    "支付合同价款的百分之三十作为预付款",
    "完成主体工程并通过阶段验收",
    "交付全部货物并完成安装调试",
    "竣工验收合格后支付进度款",
    "质保期满无质量问题后支付尾款",
    "提交项目运维报告并经甲方确认",
    "完成人员培训及技术资料移交",
];
const CATEGORIES: &[Category] = &[
    Category::GovernmentProcurement,
    Category::InvestmentPromotion,
    Category::PublicPrivatePartnership,
    Category::Construction,
    Category::StateAssetTransaction,
    Category::PublicResourceTrading,
    Category::PolicySupport,
    Category::Commercial,
];

fn company_name(rng: &mut Rng) -> String {
    format!(
        "{}{}{}{}",
        rng.pick(PLACES),
        rng.pick(BRANDS),
        rng.pick(TRADES),
        rng.pick(SUFFIXES)
    )
}

/// Free text of about 100–300 characters.
fn summary(rng: &mut Rng) -> String {
    let target = 100 + rng.below(180) as usize;
    let mut s = String::new();
    while s.chars().count() < target {
        s.push_str(rng.pick(SENTENCES));
    }
    s
}

/// A market entity's key: it files contracts it is a party to.
struct MarketKey {
    signer: Signer,
    uscc: Uscc,
    name: String,
}

fn market_keys(n: usize) -> Vec<MarketKey> {
    (0..n)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            seed[8] = 0x5a;
            let mut rng = Rng::new(900 + i as u64);
            MarketKey {
                signer: Signer::from_seed(
                    KeyName::new(&format!("market-entity-{i:02}")).expect("key name"),
                    seed,
                ),
                uscc: uscc(1_000 + i as u64),
                name: company_name(&mut rng),
            }
        })
        .collect()
}

fn registration(k: &MarketKey) -> KeyRegistration {
    KeyRegistration {
        name: SignerName::new(k.signer.name().as_str()).expect("signer name"),
        public_key: k.signer.verifier_key().key().to_bytes(),
        holder: Subject::Org(k.uscc),
        holder_name: Name::new(k.name.as_str()).expect("holder name"),
        role: Role::MarketEntity,
        valid_from_ms: None,
        valid_until_ms: None,
    }
}

/// Contract number `n`, filed by `k`: two parties, 2–4 milestones.
fn contract(n: u64, k: &MarketKey) -> Contract {
    let mut rng = Rng::new(n.wrapping_mul(7919).wrapping_add(17));
    let place = rng.pick(PLACES);
    let buyer_is_org = rng.below(4) != 0;
    let buyer = if buyer_is_org {
        Subject::Org(uscc(2_000_000 + rng.below(1_000_000)))
    } else {
        Subject::Org(uscc(3_000_000 + rng.below(1_000)))
    };
    let buyer_name = if buyer_is_org {
        company_name(&mut rng)
    } else {
        format!("{place}{}", rng.pick(DEPARTMENTS))
    };
    let seller = Subject::Org(k.uscc);
    let amount = 1_000_000 + rng.below(5_000_000_000) as i64; // 1万 .. 5千万 yuan, in fen
    let signed = Date::parse("2025-01-01").expect("date").days() + rng.below(365) as i32;
    let count = 2 + rng.below(3) as usize;
    let mut left = amount;
    // Due dates after the run, so no deadline fires while it is measured.
    let mut due = Date::parse("2027-06-01").expect("date").days();
    let milestones = (0..count)
        .map(|m| {
            let part = if m + 1 == count {
                left
            } else {
                amount / count as i64
            };
            left -= part;
            due += 30 + rng.below(90) as i32;
            let (obligor, obligee) = if m % 2 == 0 {
                (buyer.clone(), seller.clone())
            } else {
                (seller.clone(), buyer.clone())
            };
            Milestone {
                number: m as u32 + 1,
                obligor,
                obligee,
                due: Date::from_days(due).expect("due date"),
                description: Text::new(rng.pick(MILESTONES)).expect("text"),
                amount: Fen::new(part).expect("fen"),
            }
        })
        .collect();
    Contract {
        id: ContractId::new(format!("BJ-2026-{n:08}")).expect("contract id"),
        category: rng.pick(CATEGORIES),
        name: Name::new(format!("{place}{}{}", rng.pick(PROJECTS), rng.pick(KINDS))).expect("name"),
        parties: vec![
            Party {
                subject: buyer,
                name: Name::new(buyer_name).expect("name"),
                role: Name::new("甲方").expect("name"),
            },
            Party {
                subject: seller,
                name: Name::new(k.name.as_str()).expect("name"),
                role: Name::new("乙方").expect("name"),
            },
        ],
        summary: Text::new(summary(&mut rng)).expect("summary"),
        amount: Fen::new(amount).expect("fen"),
        signed: Date::from_days(signed).expect("date"),
        milestones,
        document_sha256: (rng.below(3) != 0).then(|| sha256(&n.to_be_bytes())),
        source: Source::SelfFiled,
    }
}

/// Signs filings `start..start + count` (filing `n` by key `n % keys.len()`),
/// on two threads.
fn filings(keys: &[MarketKey], origin: &str, start: u64, count: usize) -> Vec<Signed> {
    let one = |from: u64, to: u64| -> Vec<Signed> {
        (from..to)
            .map(|n| {
                let k = &keys[(n % keys.len() as u64) as usize];
                let event = Event::ContractFiled {
                    contract: contract(n, k),
                };
                sign_event(&k.signer, origin, event, n).expect("sign")
            })
            .collect()
    };
    let mid = start + count as u64 / 2;
    let end = start + count as u64;
    std::thread::scope(|s| {
        let h = s.spawn(|| one(mid, end));
        let mut v = one(start, mid);
        v.extend(h.join().expect("signing thread"));
        v
    })
}

// ---------------------------------------------------------------------------
// A. Verification bound

/// Rates (sigs/s) of each repetition.
struct VerifyResult {
    single: Vec<f64>,
    batch1: Vec<f64>,
    batch2: Vec<f64>,
    /// `ed25519_dalek::verify_batch` (not exact, never used by lvyue) in
    /// chunks of 20, the mean batch of the HTTP load bench: what a
    /// batch-friendly signature rule could give, for the record.
    plain20: Vec<f64>,
    /// The same in chunks of 1024.
    plain1024: Vec<f64>,
}

impl VerifyResult {
    fn rows(&self) -> [(&'static str, &[f64]); 5] {
        [
            ("verify_strict, one thread", &self.single),
            ("verify_batch_strict, one thread", &self.batch1),
            (
                "verify_batch_strict, two threads (two-core bound)",
                &self.batch2,
            ),
            (
                "dalek verify_batch by 20, one thread (not exact)",
                &self.plain20,
            ),
            (
                "dalek verify_batch by 1024, one thread (not exact)",
                &self.plain1024,
            ),
        ]
    }
    fn print(&self) {
        for (name, xs) in self.rows() {
            let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().copied().fold(0.0, f64::max);
            println!(
                "  {:<52} {:>10} sigs/s  (min {}, max {}, n={})",
                name,
                fmt_rate(median(xs)),
                fmt_rate(lo),
                fmt_rate(hi),
                xs.len()
            );
        }
    }
    fn merge(&mut self, other: VerifyResult) {
        self.single.extend(other.single);
        self.batch1.extend(other.batch1);
        self.batch2.extend(other.batch2);
        self.plain20.extend(other.plain20);
        self.plain1024.extend(other.plain1024);
    }
}

fn bench_verify(
    subs: &[Signed],
    keys: &[MarketKey],
    origin: &str,
    reps: usize,
) -> Res<VerifyResult> {
    let vks: Vec<VerifierKey> = keys.iter().map(|k| k.signer.verifier_key()).collect();
    let prepared: Vec<(usize, Vec<u8>, [u8; 64])> = subs
        .iter()
        .map(|s| {
            let k = keys
                .iter()
                .position(|k| k.signer.id() == s.payload.signer.id)
                .expect("known key");
            let msg = s.payload.signed_message(origin).expect("message");
            (k, msg, s.signature)
        })
        .collect();
    let items: Vec<(&VerifierKey, &[u8], &[u8; 64])> = prepared
        .iter()
        .map(|(k, m, s)| (&vks[*k], m.as_slice(), s))
        .collect();
    let n = items.len() as f64;
    let mean_msg = prepared.iter().map(|p| p.1.len()).sum::<usize>() as f64 / n;
    println!(
        "  {} submissions from {} keys, mean signed message {:.0} bytes",
        items.len(),
        keys.len(),
        mean_msg
    );
    let mut single = Vec::new();
    let mut batch1 = Vec::new();
    let mut batch2 = Vec::new();
    let (mut plain20, mut plain1024) = (Vec::new(), Vec::new());
    let dalek_sigs: Vec<ed25519_dalek::Signature> = items
        .iter()
        .map(|(_, _, s)| ed25519_dalek::Signature::from_bytes(s))
        .collect();
    let dalek_keys: Vec<ed25519_dalek::VerifyingKey> =
        items.iter().map(|(k, _, _)| *k.key()).collect();
    let msgs: Vec<&[u8]> = items.iter().map(|(_, m, _)| *m).collect();
    let plain = |chunk: usize| -> Res<f64> {
        let t = Instant::now();
        for ((m, s), k) in msgs
            .chunks(chunk)
            .zip(dalek_sigs.chunks(chunk))
            .zip(dalek_keys.chunks(chunk))
        {
            ed25519_dalek::verify_batch(m, s, k).map_err(err("verify_batch"))?;
        }
        Ok(n / t.elapsed().as_secs_f64())
    };
    for _ in 0..reps {
        let t = Instant::now();
        for (k, m, s) in &items {
            k.verify_strict(m, s).map_err(err("verify_strict"))?;
        }
        single.push(n / t.elapsed().as_secs_f64());

        let t = Instant::now();
        let r = verify_batch_strict(&items);
        batch1.push(n / t.elapsed().as_secs_f64());
        if !r.iter().all(Result::is_ok) {
            return Err("batch verification refused a good signature".into());
        }

        let t = Instant::now();
        let (a, b) = items.split_at(items.len() / 2);
        let ok = std::thread::scope(|s| {
            let h = s.spawn(|| verify_batch_strict(b).iter().all(Result::is_ok));
            let ra = verify_batch_strict(a).iter().all(Result::is_ok);
            ra && h.join().unwrap_or(false)
        });
        batch2.push(n / t.elapsed().as_secs_f64());
        if !ok {
            return Err("two-thread batch verification refused a good signature".into());
        }
        plain20.push(plain(20)?);
        plain1024.push(plain(1024)?);
    }
    Ok(VerifyResult {
        single,
        batch1,
        batch2,
        plain20,
        plain1024,
    })
}

// ---------------------------------------------------------------------------
// B. Sequencer

/// Submits everything concurrently, one tokio task each; all must succeed.
/// The driver runs as a task on the runtime's workers, like an HTTP handler.
fn submit_all(rt: &tokio::runtime::Runtime, seq: &Sequencer, subs: Vec<Signed>) -> Res<usize> {
    let seq = seq.clone();
    let driver = rt.spawn(async move {
        let handles: Vec<_> = subs
            .into_iter()
            .map(|s| {
                let seq = seq.clone();
                tokio::spawn(async move { seq.submit(s).await })
            })
            .collect();
        let mut ok = 0;
        let mut first_err = None;
        for h in handles {
            match h.await {
                Ok(Ok(_receipt)) => ok += 1,
                Ok(Err(e)) => {
                    first_err.get_or_insert_with(|| e.to_string());
                }
                Err(e) => {
                    first_err.get_or_insert_with(|| e.to_string());
                }
            }
        }
        match first_err {
            None => Ok(ok),
            Some(e) => Err(format!("submission refused: {e}")),
        }
    });
    rt.block_on(driver).map_err(err("driver task"))?
}

/// One timed run on a fresh data folder; returns entries per second.
fn sequencer_run(
    rt: &tokio::runtime::Runtime,
    subs: &[Signed],
    keys: &[MarketKey],
    max_batch: usize,
) -> Res<(f64, f64)> {
    let dir = tempfile::tempdir().map_err(err("tempdir"))?;
    let config = SequencerConfig {
        max_batch,
        max_wait: Duration::from_millis(2),
        queue_capacity: subs.len() + 1024,
        ..SequencerConfig::default()
    };
    let opts = InitOptions::default();
    let node =
        node::open(dir.path(), &opts, Arc::new(SystemClock), config).map_err(err("open node"))?;
    let office = Signer::read_file(&dir.path().join("keys").join("office.key"))
        .map_err(err("office key"))?;
    let regs: Vec<Signed> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            sign_event(
                &office,
                &opts.origin,
                Event::KeyRegistered {
                    key: registration(k),
                },
                i as u64,
            )
        })
        .collect::<Res<_>>()?;
    submit_all(rt, &node.sequencer, regs)?;
    let work = subs.to_vec();
    let t = Instant::now();
    let ok = submit_all(rt, &node.sequencer, work)?;
    let secs = t.elapsed().as_secs_f64();
    let view = node.sequencer.view().ok_or("sequencer stopped")?;
    let size = view.head().size;
    // D. The whole-log audit of what was just written (ledger/src/audit.rs,
    // plus every stored hash): entries per second on both cores.
    let t = Instant::now();
    let summary = view.audit(&node.origin, &node.vkey).map_err(err("audit"))?;
    let audit_rate = summary.size as f64 / t.elapsed().as_secs_f64();
    drop(view);
    node.sequencer.stop();
    let want = 1 + keys.len() as u64 + subs.len() as u64;
    if ok != subs.len() || size != want {
        return Err(format!(
            "{ok} receipts for {} submissions, log size {size} (want {want})",
            subs.len()
        ));
    }
    Ok((ok as f64 / secs, audit_rate))
}

/// Per-step time of the sequencer's two stages, replayed on a bare store.
#[derive(Default, Clone)]
struct Phases {
    messages: Duration,
    verify: Duration,
    admit_id: Duration,
    admit_lookup: Duration,
    admit_authorize: Duration,
    admit_entry: Duration,
    admit_rows: Duration,
    merkle: Duration,
    sign: Duration,
    commit: Duration,
    receipts: Duration,
    batches: u32,
    entries: u64,
}

impl Phases {
    /// (name, stage, time): stage 1 runs on the async workers (both cores),
    /// stage 2 on the one sequencer thread.
    fn steps(&self) -> [(&'static str, u8, Duration); 11] {
        [
            ("encode payload once + signed message", 1, self.messages),
            ("key lookup + verify_strict", 1, self.verify),
            ("submission_id (SHA-256 of payload bytes)", 1, self.admit_id),
            ("replay lookup (in-memory index)", 2, self.admit_lookup),
            (
                "Registry::authorize (roles, USCC checks)",
                2,
                self.admit_authorize,
            ),
            ("Entry::submitted_bytes + leaf hash", 2, self.admit_entry),
            ("registry.apply + batch rows", 2, self.admit_rows),
            ("Store::append: Merkle hashes + proofs", 2, self.merkle),
            ("checkpoint signing", 2, self.sign),
            ("Store::append: sled transaction + flush", 2, self.commit),
            ("receipts (tlog-proof text)", 2, self.receipts),
        ]
    }
    fn stage(&self, n: u8) -> Duration {
        self.steps().iter().filter(|s| s.1 == n).map(|s| s.2).sum()
    }
}

/// Replays the sequencer's steps (node/src/sequencer.rs: `check_signature`
/// in stage 1, `Writer::process` in stage 2) with public APIs on one thread,
/// timing each step; receipts are built but not sent.
fn breakdown(
    subs: &[Signed],
    keys: &[MarketKey],
    max_batch: usize,
) -> Res<(Phases, Vec<EntryBytes>)> {
    let dir = tempfile::tempdir().map_err(err("tempdir"))?;
    let mut store = Store::open(dir.path(), &StoreConfig::default()).map_err(err("store"))?;
    let origin = Origin::new(DEFAULT_ORIGIN).map_err(err("origin"))?;
    let node_signer =
        Signer::from_seed(KeyName::new(DEFAULT_ORIGIN).map_err(err("name"))?, [3; 32]);
    let mut registry = Registry::default();
    for (i, k) in keys.iter().enumerate() {
        registry
            .restore(KeyState {
                registration: registration(k),
                registered_at: i as u64,
                revoked_at: None,
            })
            .map_err(err("registry"))?;
    }
    let key_map: std::collections::HashMap<_, _> = registry
        .verifiers()
        .map(|(r, k)| (r.clone(), k.clone()))
        .collect();
    let mut ph = Phases::default();
    let mut all = Vec::with_capacity(subs.len());
    for chunk in subs.chunks(max_batch) {
        // Stage 1 (Sequencer::submit): payload bytes once, signed message,
        // key lookup + strict check, submission id.
        let t = Instant::now();
        let prepared: Vec<(Vec<u8>, Vec<u8>)> = chunk
            .iter()
            .map(|s| {
                let payload = lvyue_ledger::codec::encode(&s.payload).expect("payload");
                let msg = signed_message(origin.as_str(), &payload);
                (payload, msg)
            })
            .collect();
        ph.messages += t.elapsed();
        let t = Instant::now();
        for ((_, m), s) in prepared.iter().zip(chunk) {
            let k = key_map.get(&s.payload.signer).cloned().expect("known key");
            k.verify_strict(m, &s.signature)
                .map_err(err("breakdown: bad signature"))?;
        }
        ph.verify += t.elapsed();
        let t = Instant::now();
        let ids: Vec<Hash> = prepared.iter().map(|(p, _)| submission_id(p)).collect();
        ph.admit_id += t.elapsed();
        // Stage 2 (Writer::process): admission, entries and index rows, each
        // sub-step timed.
        let head = store.head().clone();
        let time_ms = chrono::Utc::now().timestamp_millis().max(head.time_ms);
        let mut batch = Batch::default();
        let mut seen = HashSet::new();
        let mut prev = head.last_leaf;
        let mut accepted: Vec<EntryBytes> = Vec::with_capacity(chunk.len());
        for ((s, (payload, _)), id) in chunk.iter().zip(&prepared).zip(ids) {
            let index = head.size + accepted.len() as u64;
            let t1 = Instant::now();
            if store.submission(&id).is_some() || !seen.insert(id) {
                return Err("breakdown: duplicate".into());
            }
            let t2 = Instant::now();
            registry
                .authorize(s, index, time_ms)
                .map_err(err("authorize"))?;
            let t3 = Instant::now();
            let bytes = Entry::submitted_bytes(index, time_ms, &prev, payload, &s.signature)
                .map_err(err("entry bytes"))?;
            let leaf = leaf_hash(&bytes);
            let t4 = Instant::now();
            registry
                .apply(index, &s.payload.event)
                .map_err(err("apply"))?;
            batch.record_submission(&id, index);
            batch.push_entry(bytes.clone(), leaf, time_ms);
            prev = leaf;
            accepted.push((bytes, leaf));
            let t5 = Instant::now();
            ph.admit_lookup += t2 - t1;
            ph.admit_authorize += t3 - t2;
            ph.admit_entry += t4 - t3;
            ph.admit_rows += t5 - t4;
        }
        // The durable append; the sign callback splits it in three.
        let t = Instant::now();
        let mut sign_start = None;
        let mut sign_end = None;
        let appended = store
            .append(batch, |size, root| {
                sign_start = Some(Instant::now());
                let cp =
                    sign_checkpoint(&Checkpoint::new(origin.clone(), size, *root), &node_signer)
                        .into_bytes();
                sign_end = Some(Instant::now());
                Ok(cp)
            })
            .map_err(err("append"))?;
        let done = Instant::now();
        let (ss, se) = (sign_start.ok_or("no sign")?, sign_end.ok_or("no sign")?);
        ph.merkle += ss - t;
        ph.sign += se - ss;
        ph.commit += done - se;
        // Receipts.
        let t = Instant::now();
        let checkpoint = store.head().checkpoint.clone();
        let mut n = 0usize;
        for (k, (entry, proof)) in accepted.into_iter().zip(appended.proofs).enumerate() {
            let p = TlogProof::new(
                None,
                appended.first_index + k as u64,
                proof,
                checkpoint.clone(),
            )
            .map_err(err("proof"))?;
            n += p.to_text().len();
            all.push(entry);
        }
        std::hint::black_box(n);
        ph.receipts += t.elapsed();
        ph.batches += 1;
        ph.entries += chunk.len() as u64;
    }
    Ok((ph, all))
}

/// Raw sled cost (median ms per batch) of the rows the store writes per
/// batch, built up layer by layer: entry rows alone, plus submission rows,
/// plus the Merkle hash block rows (`h` ‖ level ‖ block, up to 256 hashes),
/// each as one transaction followed by a flush.
struct SledLayer {
    name: &'static str,
    apply: f64,
    flush: f64,
}

fn sled_split(entries: &[EntryBytes], max_batch: usize) -> Res<Vec<SledLayer>> {
    use sled::transaction::{ConflictableTransactionError, TransactionError};
    let key9 = |p: u8, i: u64| {
        let mut k = [p; 9];
        k[1..].copy_from_slice(&i.to_be_bytes());
        k
    };
    let mut out = Vec::new();
    for (layer, name) in [
        (0, "entry rows only"),
        (1, "+ submission-id rows"),
        (2, "+ hash block rows (all the store writes)"),
    ] {
        let dir = tempfile::tempdir().map_err(err("tempdir"))?;
        let db = sled::Config::new()
            .path(dir.path())
            .cache_capacity(256 << 20)
            .open()
            .map_err(err("sled"))?;
        let tree = db.open_tree("log").map_err(err("sled"))?;
        let mut n = 0u64;
        let (mut apply, mut flush) = (Vec::new(), Vec::new());
        for chunk in entries.chunks(max_batch) {
            let old = n;
            let mut b = sled::Batch::default();
            for (bytes, leaf) in chunk {
                b.insert(&key9(b'e', n), bytes.as_slice());
                if layer >= 1 {
                    let mut sk = vec![b's'];
                    sk.extend_from_slice(&leaf.0);
                    b.insert(sk, &n.to_be_bytes());
                }
                n += 1;
            }
            if layer >= 2 {
                for level in 0..64u8 {
                    let (lo, hi) = (old >> level, n >> level);
                    if hi == 0 {
                        break;
                    }
                    if lo == hi {
                        continue;
                    }
                    for block in lo / 256..=(hi - 1) / 256 {
                        let len = (hi - block * 256).min(256) as usize * 32;
                        let mut k = [0u8; 10];
                        k[0] = b'h';
                        k[1] = level;
                        k[2..].copy_from_slice(&block.to_be_bytes());
                        b.insert(&k, vec![level; len]);
                    }
                }
            }
            b.insert(b"H", vec![7u8; 300]);
            let t = Instant::now();
            tree.transaction(|tx| {
                let _ = tx.get(b"H")?;
                tx.apply_batch(&b)?;
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(|e: TransactionError<()>| format!("sled transaction: {e:?}"))?;
            let t2 = Instant::now();
            db.flush().map_err(err("sled flush"))?;
            apply.push((t2 - t).as_secs_f64() * 1e3);
            flush.push(t2.elapsed().as_secs_f64() * 1e3);
        }
        out.push(SledLayer {
            name,
            apply: median(&apply),
            flush: median(&flush),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// C. Large store

struct BuildResult {
    entries: u64,
    wall: Duration,
    append: Duration,
    generate: Duration,
    mean_entry: f64,
    batch_ms: Vec<f64>,
}

fn build_store(store: &mut Store, keys: &[MarketKey], n: u64) -> Res<BuildResult> {
    const BATCH: u64 = 10_000;
    let origin = Origin::new(DEFAULT_ORIGIN).map_err(err("origin"))?;
    let node_signer =
        Signer::from_seed(KeyName::new(DEFAULT_ORIGIN).map_err(err("name"))?, [3; 32]);
    let t0 = 1_767_225_600_000i64; // 2026-01-01T00:00:00Z
    let wall = Instant::now();
    let mut append = Duration::ZERO;
    let mut generate = Duration::ZERO;
    let mut bytes_total = 0u64;
    let mut batch_ms = Vec::new();
    let mut done = 0u64;
    let mut last_report = Instant::now();
    while done < n {
        let count = BATCH.min(n - done);
        let t = Instant::now();
        // Distinct numbers from the sequencer runs' filings.
        let signed = filings(keys, origin.as_str(), 10_000_000 + done, count as usize);
        let head = store.head().clone();
        let mut prev = head.last_leaf;
        let mut batch = Batch::default();
        for (k, s) in signed.into_iter().enumerate() {
            let index = head.size + k as u64;
            let time_ms = t0 + index as i64;
            let id = s.submission_id().map_err(err("id"))?;
            let entry = Entry {
                index,
                time_ms,
                prev,
                body: Body::Submitted(s),
            };
            let bytes = entry.encode().map_err(err("encode"))?;
            let leaf = leaf_hash(&bytes);
            bytes_total += bytes.len() as u64;
            batch.record_submission(&id, index);
            batch.push_entry(bytes, leaf, time_ms);
            prev = leaf;
        }
        generate += t.elapsed();
        let t = Instant::now();
        store
            .append(batch, |size, root| {
                Ok(
                    sign_checkpoint(&Checkpoint::new(origin.clone(), size, *root), &node_signer)
                        .into_bytes(),
                )
            })
            .map_err(err("append"))?;
        let d = t.elapsed();
        append += d;
        batch_ms.push(d.as_secs_f64() * 1e3);
        done += count;
        if last_report.elapsed() > Duration::from_secs(15) {
            last_report = Instant::now();
            println!(
                "  ... {done} entries, {:.0} s, last append {:.0} ms, RSS {}",
                wall.elapsed().as_secs_f64(),
                d.as_secs_f64() * 1e3,
                proc_status("VmRSS:")
            );
        }
    }
    Ok(BuildResult {
        entries: n,
        wall: wall.elapsed(),
        append,
        generate,
        mean_entry: bytes_total as f64 / n as f64,
        batch_ms,
    })
}

/// p50 and p99 (µs) of `prove_record` for `samples` random indexes; the
/// first few proofs are checked against the head.
fn proof_latency(store: &Store, samples: usize, seed: u64) -> Res<(f64, f64, f64)> {
    let view = store.view().clone();
    let size = view.head().size;
    let root = view.head().root;
    let reader = view.reader();
    let mut rng = Rng::new(seed);
    let mut ns = Vec::with_capacity(samples);
    let mut hashes = 0usize;
    for k in 0..samples {
        let i = rng.below(size);
        let t = Instant::now();
        let proof = tlog::prove_record(size, i, &reader).map_err(err("prove"))?;
        ns.push(t.elapsed().as_nanos() as u64);
        hashes += proof.len();
        if k < 16 {
            let bytes = view
                .entry(i)
                .map_err(err("entry"))?
                .ok_or("missing entry")?;
            tlog::check_record(&proof, size, &root, i, &leaf_hash(&bytes))
                .map_err(err("proof does not check"))?;
        }
        std::hint::black_box(&proof);
    }
    ns.sort_unstable();
    Ok((
        percentile(&ns, 0.50) as f64 / 1e3,
        percentile(&ns, 0.99) as f64 / 1e3,
        hashes as f64 / samples as f64,
    ))
}

/// p50 and p99 (µs) of one `View::stored_hash` read (one sled get) at
/// random stored-hash indexes.
fn hash_read_latency(store: &Store, samples: usize, seed: u64) -> Res<(f64, f64)> {
    let view = store.view();
    let count = tlog::stored_hash_count(view.head().size);
    let mut rng = Rng::new(seed);
    let mut ns = Vec::with_capacity(samples);
    for _ in 0..samples {
        let i = rng.below(count);
        let t = Instant::now();
        let h = view.stored_hash(i).map_err(err("stored hash"))?;
        ns.push(t.elapsed().as_nanos() as u64);
        if h.is_none() {
            return Err(format!("stored hash {i} missing"));
        }
    }
    ns.sort_unstable();
    Ok((
        percentile(&ns, 0.50) as f64 / 1e3,
        percentile(&ns, 0.99) as f64 / 1e3,
    ))
}

/// Names and sizes of the files directly in `dir` (sled's conf, db, snap.*).
fn listing(dir: &Path) -> String {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| {
                    let m = e.metadata().ok()?;
                    m.is_file()
                        .then(|| format!("{} {}", e.file_name().to_string_lossy(), mib(m.len())))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v.join(", ")
}

// ---------------------------------------------------------------------------

fn main() {
    if let Err(e) = run() {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

fn run() -> Res<()> {
    let cfg = settings()?;
    let started = Instant::now();
    println!(
        "lvyue ledger benchmark{}",
        if cfg.quick { " (quick)" } else { "" }
    );
    println!(
        "machine: {} cores available, CPU {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    println!(
        "store entries for C: {}; sequencer submissions: {:?}",
        cfg.entries, cfg.seq_counts
    );

    let keys = market_keys(64);
    let max_subs = cfg.seq_counts.iter().map(|c| c.1).max().unwrap_or(0);
    let t = Instant::now();
    let subs = filings(&keys, DEFAULT_ORIGIN, 0, max_subs.max(cfg.verify_items));
    let sizes: Vec<usize> = subs
        .iter()
        .map(|s| lvyue_ledger::codec::encode(s).map(|b| b.len()).unwrap_or(0))
        .collect();
    println!(
        "pre-signed {} ContractFiled submissions from {} keys in {:.1} s (mean canonical {:.0} bytes, min {}, max {})",
        subs.len(),
        keys.len(),
        t.elapsed().as_secs_f64(),
        sizes.iter().sum::<usize>() as f64 / sizes.len() as f64,
        sizes.iter().min().unwrap_or(&0),
        sizes.iter().max().unwrap_or(&0)
    );

    // A.
    println!(
        "\n== A. Ed25519 verification bound (median of {}) ==",
        cfg.verify_reps
    );
    let mut v = bench_verify(
        &subs[..cfg.verify_items],
        &keys,
        DEFAULT_ORIGIN,
        cfg.verify_reps,
    )?;
    v.print();

    // B.
    println!("\n== B. Durable append rate through the sequencer ==");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(err("runtime"))?;
    let mut seq_rates: Vec<(usize, usize, Vec<f64>)> = Vec::new();
    let mut audit_rates: Vec<f64> = Vec::new();
    for &(max_batch, count) in &cfg.seq_counts {
        let runs = if max_batch == 1024 { cfg.runs_1024 } else { 1 };
        let mut rates = Vec::new();
        for r in 0..runs {
            let (rate, audit_rate) = sequencer_run(&rt, &subs[..count], &keys, max_batch)?;
            println!(
                "  max_batch {max_batch:>5}, {count:>7} submissions, run {}: {:>10} entries/s (audit of that log: {} entries/s)",
                r + 1,
                fmt_rate(rate),
                fmt_rate(audit_rate)
            );
            if max_batch == 1024 {
                audit_rates.push(audit_rate);
            }
            rates.push(rate);
        }
        seq_rates.push((max_batch, count, rates));
    }
    drop(rt);
    println!(
        "  {:<10} {:>12} {:>6} {:>16}",
        "max_batch", "submissions", "runs", "median entries/s"
    );
    for (b, c, r) in &seq_rates {
        println!(
            "  {:<10} {:>12} {:>6} {:>16}",
            b,
            c,
            r.len(),
            fmt_rate(median(r))
        );
    }
    println!("\n-- A again, right after B (the machine is shared: pool both sets) --");
    let v2 = bench_verify(
        &subs[..cfg.verify_items],
        &keys,
        DEFAULT_ORIGIN,
        cfg.verify_reps,
    )?;
    v2.print();
    v.merge(v2);
    println!("  pooled:");
    v.print();
    let bound = median(&v.batch2);
    let rate_1024 = seq_rates
        .iter()
        .find(|x| x.0 == 1024)
        .map_or(f64::NAN, |x| median(&x.2));
    let ratio = rate_1024 / bound;
    println!(
        "  ratio durable-append-rate(1024) / two-core batch bound = {} / {} = {:.3}  (target >= 0.50: {})",
        fmt_rate(rate_1024),
        fmt_rate(bound),
        ratio,
        pass(ratio >= 0.5)
    );

    println!(
        "\n-- B'. Where a max_batch=1024 batch spends its time (sequencer steps replayed on a bare store) --"
    );
    let bd_count = cfg.seq_counts[2].1.min(20_480);
    let mut passes = Vec::new();
    let mut bd_entries = Vec::new();
    for _ in 0..3 {
        let (ph, e) = breakdown(&subs[..bd_count], &keys, 1024)?;
        passes.push(ph);
        bd_entries = e;
    }
    let (batches, entries) = (passes[0].batches, passes[0].entries);
    let per_entry = |d: Duration| d.as_secs_f64() * 1e6 / entries as f64;
    let med_of = |f: &dyn Fn(&Phases) -> Duration| {
        median(&passes.iter().map(|p| per_entry(f(p))).collect::<Vec<_>>())
    };
    println!(
        "  {batches} batches of up to 1024 ({entries} entries); median of {} passes; one thread",
        passes.len()
    );
    println!(
        "  {:<8} {:<42} {:>10} {:>10}",
        "stage", "step", "us/entry", "ms/batch"
    );
    for (i, (name, stage, _)) in passes[0].steps().iter().enumerate() {
        let us = med_of(&|p: &Phases| p.steps()[i].2);
        println!(
            "  {:<8} {:<42} {:>10.2} {:>10.2}",
            if *stage == 1 { "1 async" } else { "2 seq" },
            name,
            us,
            us * entries as f64 / f64::from(batches) / 1e3,
        );
    }
    let s1 = med_of(&|p: &Phases| p.stage(1));
    let s2 = med_of(&|p: &Phases| p.stage(2));
    println!("  stage 1 (async workers, parallel): {s1:.2} us/entry of CPU");
    println!(
        "  stage 2 (sequencer thread, serial): {s2:.2} us/entry  => at most {} entries/s",
        fmt_rate(1e6 / s2)
    );
    println!(
        "  both stages on two cores: {:.2} us/entry of CPU / 2  => at most {} entries/s (ratio {:.2} of the bound above)",
        s1 + s2,
        fmt_rate(2e6 / (s1 + s2)),
        (2e6 / (s1 + s2)) / bound
    );
    println!("  raw sled, one transaction + flush per 1024-entry batch (median ms/batch):");
    for l in sled_split(&bd_entries, 1024)? {
        println!(
            "    {:<44} transaction {:>7.2}  flush {:>6.2}",
            l.name, l.apply, l.flush
        );
    }

    // C.
    println!("\n== C. Store of {} entries ==", cfg.entries);
    let dir = tempfile::tempdir().map_err(err("tempdir"))?;
    let store_dir = dir.path().join("store");
    let store_cfg = StoreConfig::default();
    let mut store = Store::open(&store_dir, &store_cfg).map_err(err("open store"))?;
    let b = build_store(&mut store, &keys[..4], cfg.entries)?;
    let append_rate = b.entries as f64 / b.append.as_secs_f64();
    let wall_rate = b.entries as f64 / b.wall.as_secs_f64();
    let bm = &b.batch_ms;
    let q = bm.len() / 4;
    println!(
        "  build: {:.1} s wall ({:.1} s generating+signing, {:.1} s in Store::append)",
        b.wall.as_secs_f64(),
        b.generate.as_secs_f64(),
        b.append.as_secs_f64()
    );
    println!(
        "  Store::append per 10,000-entry batch: median {:.0} ms; first quarter median {:.0} ms, last quarter median {:.0} ms",
        median(bm),
        median(&bm[..q.max(1)]),
        median(&bm[bm.len() - q.max(1)..])
    );
    let (p50, p99, proof_len) = proof_latency(&store, cfg.proof_samples, 42)?;
    let (hr50, hr99) = hash_read_latency(&store, cfg.proof_samples, 43)?;
    let on_disk = store.size_on_disk().map_err(err("size_on_disk"))?;
    let files = dir_size(&store_dir).map_err(err("walk"))?;
    let head = store.head().clone();
    let files_before = listing(&store_dir);
    let drop_t = Instant::now();
    drop(store);
    let first_drop = drop_t.elapsed();
    let mut opens = Vec::new();
    let mut drops = vec![first_drop.as_secs_f64()];
    let mut reopened = None;
    for r in 0..5 {
        let t = Instant::now();
        let s = Store::open(&store_dir, &store_cfg).map_err(err("reopen"))?;
        opens.push(t.elapsed().as_secs_f64());
        if s.head() != &head {
            return Err("reopened head differs".into());
        }
        if r == 4 {
            reopened = Some(s);
        } else {
            let t = Instant::now();
            drop(s);
            drops.push(t.elapsed().as_secs_f64());
        }
    }
    let reopened = reopened.ok_or("no store")?;
    let (cp50, cp99, _) = proof_latency(&reopened, cfg.proof_samples, 4242)?;
    let (chr50, chr99) = hash_read_latency(&reopened, cfg.proof_samples, 4243)?;
    let files_after = dir_size(&store_dir).map_err(err("walk"))?;
    let files_after_list = listing(&store_dir);
    drop(reopened);
    // Sensitivity: the same store with a 1 GiB sled cache (the default is 256 MiB).
    let big = StoreConfig {
        cache_bytes: 1 << 30,
    };
    let s = Store::open(&store_dir, &big).map_err(err("reopen"))?;
    let (bp50a, bp99a, _) = proof_latency(&s, cfg.proof_samples, 7)?;
    let (bp50b, bp99b, _) = proof_latency(&s, cfg.proof_samples, 8)?;
    drop(s);

    let reopen = median(&opens);
    let per_entry_sled = on_disk as f64 / b.entries as f64;
    let per_entry_files = files as f64 / b.entries as f64;
    let disk_target = 2.0 * b.mean_entry + 100.0;
    println!(
        "  {:<56} {:>14}",
        "build rate, Store::append only (entries/s)",
        fmt_rate(append_rate)
    );
    println!(
        "  {:<56} {:>14}",
        "build rate, wall incl. generating+signing (entries/s)",
        fmt_rate(wall_rate)
    );
    println!(
        "  {:<56} {:>11.1} us   {}",
        "prove_record p50 (warm, after build)",
        p50,
        pass(p50 <= 50.0)
    );
    println!(
        "  {:<56} {:>11.1} us",
        "prove_record p99 (warm, after build)", p99
    );
    println!(
        "  {:<56} {:>11.1} us   {}",
        "prove_record p50 (after reopen)",
        cp50,
        pass(cp50 <= 50.0)
    );
    println!(
        "  {:<56} {:>11.1} us",
        "prove_record p99 (after reopen)", cp99
    );
    println!("  {:<56} {:>14.1}", "hashes per proof (mean)", proof_len);
    println!(
        "  {:<56} {:>7.1} / {:.1} us",
        "one stored-hash read p50 / p99 (warm, after build)", hr50, hr99
    );
    println!(
        "  {:<56} {:>7.1} / {:.1} us",
        "one stored-hash read p50 / p99 (after reopen)", chr50, chr99
    );
    println!(
        "  {:<56} {:>7.1} / {:.1} us",
        "prove_record p50 / p99, 1 GiB cache, 1st pass", bp50a, bp99a
    );
    println!(
        "  {:<56} {:>7.1} / {:.1} us",
        "prove_record p50 / p99, 1 GiB cache, 2nd pass", bp50b, bp99b
    );
    println!(
        "  {:<56} {:>12.3} s   {}  (runs: {})",
        "reopen Store::open, median of 5",
        reopen,
        pass(reopen <= 1.0),
        opens
            .iter()
            .map(|x| format!("{x:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  {:<56} {:>12.3} s",
        "drop (close) time, median",
        median(&drops)
    );
    println!("  files before the first reopen: {files_before}");
    println!("  files after the reopens:       {files_after_list}");
    println!(
        "  {:<56} {:>14.0}",
        "mean canonical entry size (bytes)", b.mean_entry
    );
    println!(
        "  {:<56} {:>14.0}   {}  ({})",
        "sled size_on_disk per entry (bytes)",
        per_entry_sled,
        pass(per_entry_sled <= disk_target),
        mib(on_disk)
    );
    println!(
        "  {:<56} {:>14.0}   {}  ({}; {} after reopens)",
        "folder file sizes per entry (bytes)",
        per_entry_files,
        pass(per_entry_files <= disk_target),
        mib(files),
        mib(files_after)
    );
    println!(
        "  {:<56} {:>14.0}",
        "disk target per entry: 2 x mean + 100 (bytes)", disk_target
    );

    println!("\n== Summary ==");
    println!(
        "  two-core batch bound {} sigs/s; durable append (1024) {} entries/s; ratio {:.3} (>= 0.50: {})",
        fmt_rate(bound),
        fmt_rate(rate_1024),
        ratio,
        pass(ratio >= 0.5)
    );
    println!(
        "  proof p50 {:.1} us (<= 50: {}); reopen {:.3} s (<= 1 s: {}); disk {:.0} B/entry (<= {:.0}: {})",
        p50,
        pass(p50 <= 50.0),
        reopen,
        pass(reopen <= 1.0),
        per_entry_files,
        disk_target,
        pass(per_entry_files <= disk_target)
    );
    let audit = median(&audit_rates);
    println!(
        "  audit of the max_batch 1024 logs (View::audit, {} runs): {} entries/s; ratio to the bound {:.3} (>= 0.70: {})",
        audit_rates.len(),
        fmt_rate(audit),
        audit / bound,
        pass(audit / bound >= 0.7)
    );
    println!(
        "  peak RSS (VmHWM) {}; total bench time {:.0} s",
        proc_status("VmHWM:"),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
