//! Query latency on a large store (docs/BENCHMARKS.md, "Queries on 1,000,000 contracts").
//!
//! ```sh
//! cargo bench -p lvyue-node --bench query                      # 1,000,000 contracts
//! cargo bench -p lvyue-node --bench query -- --quick           # 100,000 contracts
//! cargo bench -p lvyue-node --bench query -- --contracts 300000 --keep DIR
//! cargo bench -p lvyue-node --bench query -- --data DIR        # query a store built before
//! ```
//!
//! 1. Build (in this process): `lvyue_node::node::open` on a fresh data
//!    folder with a `FixedClock` (2026-06-01; every due date is in 2028, so
//!    no deadline fires), `--keys` filing keys registered by the office key
//!    (half market entities that self-file, half source units that file as
//!    department), then `--contracts` pre-signed `ContractFiled` events
//!    submitted through `node.sequencer.submit`, one task each, a chunk of
//!    16,384 in flight at a time while a thread signs the next chunk. Filing
//!    `n` is by key `n mod keys`; its counterparty is one of `--counterparties`
//!    firms, so every entity has many contracts. Then the sequencer is
//!    stopped (which writes the engine snapshot) and the folder measured.
//! 2. Serve: the `lvyue-node` release binary is started on the folder as a
//!    separate process (so its memory is the node's alone: engine restored
//!    from its snapshot, replay index, sled cache).
//! 3. Query: `--connections` HTTP/1.1 keep-alive connections. First a
//!    cold-start phase of `--cold` seconds right after the node answers,
//!    both queries mixed (reported on its own row, not held to the target:
//!    the node's caches fill from the store folder then), then
//!    `--duration` seconds each: `GET /v1/contracts/{id}` for random filed
//!    ids, then `GET /v1/entities/{uscc}` for random filers and
//!    counterparties. Latencies in an HdrHistogram (µs).
//!
//! Output: tables, then one line `{"bench":"query",...}`.

use hdrhistogram::Histogram;
use lvyue_ledger::event::{Contract, Event, Source};
use lvyue_ledger::keys::{KeyName, Signer};
use lvyue_ledger::record::Signed;
use lvyue_ledger::types::{Category, ContractId, Date, Fen, Name, Role, Subject, Text};
use lvyue_ledger::uscc::Uscc;
use lvyue_node::clock::FixedClock;
use lvyue_node::node::{self, InitOptions, sign_event};
use lvyue_node::sequencer::{Sequencer, SequencerConfig};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;
use hyper::StatusCode;
use support::http::Conn;
use support::{
    BenchKey, Res, Rng, Words, dir_size, err, fmt_int, holder_name, registration, status_kb,
    two_parties,
};

/// 2026-06-01T00:00:00Z.
const NOW_MS: i64 = 1_780_272_000_000;
/// Submissions in flight (and signed ahead) at a time.
const CHUNK: usize = 16_384;

struct Settings {
    quick: bool,
    contracts: usize,
    keys: usize,
    counterparties: usize,
    connections: usize,
    duration: Duration,
    /// The cold-start phase (mixed queries right after start, reported apart).
    cold: Duration,
    /// Keep the built data folder here.
    keep: Option<PathBuf>,
    /// Query an already built folder (with the same --contracts/--keys/--counterparties).
    data: Option<PathBuf>,
    node_bin: PathBuf,
}

const USAGE: &str = "options: --quick | --contracts N | --keys K | --counterparties P | \
--connections C | --duration SECS | --cold SECS | --keep DIR | --data DIR | --node-bin PATH";

fn settings() -> Res<Settings> {
    let mut quick = false;
    let mut opt: BTreeMap<String, String> = BTreeMap::new();
    let mut it = std::env::args()
        .skip(1)
        .flat_map(|a| match a.split_once('=') {
            Some((k, v)) if k.starts_with("--") => vec![k.to_string(), v.to_string()],
            _ => vec![a],
        });
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--bench" => {}
            "--contracts" | "--keys" | "--counterparties" | "--connections" | "--duration"
            | "--cold" | "--keep" | "--data" | "--node-bin" => {
                let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
                opt.insert(a, v);
            }
            "--help" | "-h" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}; {USAGE}")),
        }
    }
    let num = |k: &str, default: usize| -> Res<usize> {
        opt.get(k).map_or(Ok(default), |v| {
            v.replace('_', "")
                .parse()
                .map_err(|e| format!("{k} {v:?}: {e}"))
        })
    };
    let s = Settings {
        quick,
        contracts: num("--contracts", if quick { 100_000 } else { 1_000_000 })?,
        keys: num("--keys", 2_000)?,
        counterparties: num("--counterparties", 4_000)?,
        connections: num("--connections", 64)?,
        duration: Duration::from_secs(num("--duration", if quick { 5 } else { 10 })? as u64),
        cold: Duration::from_secs(num("--cold", if quick { 5 } else { 10 })? as u64),
        keep: opt.get("--keep").map(PathBuf::from),
        data: opt.get("--data").map(PathBuf::from),
        node_bin: opt
            .get("--node-bin")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_lvyue-node"))),
    };
    if s.contracts == 0 || s.keys < 2 || s.counterparties == 0 || s.connections == 0 {
        return Err("--contracts, --counterparties, --connections ≥ 1, --keys ≥ 2".into());
    }
    Ok(s)
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

// ---------------------------------------------------------------------------
// Workload

const PLACES: &[&str] = &["宝鸡市", "渭滨区", "金台区", "陈仓区", "凤翔区", "岐山县"];
const BRANDS: &[&str] = &[
    "秦川", "华岳", "长青", "恒信", "宏达", "鼎盛", "瑞丰", "永安",
];
const TRADES: &[&str] = &["建设工程", "信息技术", "商贸", "物流", "环保科技", "医药"];
const DEPARTMENTS: &[&str] = &["财政局", "住房和城乡建设局", "交通运输局", "教育局"];
const WORDS: Words = Words {
    places: PLACES,
    brands: BRANDS,
    trades: TRADES,
    departments: DEPARTMENTS,
};
const PROJECTS: &[&str] = &[
    "智慧路灯改造",
    "办公设备采购",
    "农村道路硬化",
    "政务云平台运维",
];
const SUMMARIES: &[&str] = &[
    "按国家标准实施，验收合格后付款。",
    "固定总价，节点验收后三十日内付款。",
    "交付货物并安装调试，质保两年。",
];
const MILESTONES: &[&str] = &["支付预付款", "通过阶段验收", "交付并安装调试"];
const CATEGORIES: &[Category] = &[
    Category::GovernmentProcurement,
    Category::Construction,
    Category::PublicResourceTrading,
    Category::Commercial,
];

/// Entity `i`: the filing keys' holders are 0..keys, the counterparties follow.
fn uscc(i: u64) -> Uscc {
    Uscc::with_check(&format!("9161030{:010}", 5_000_000_000 + i)).expect("valid uscc")
}

fn contract_id(n: u64) -> String {
    format!("Q{n:08}")
}

fn filing_keys(n: usize) -> Res<Vec<BenchKey>> {
    (0..n)
        .map(|i| {
            let role = if i % 2 == 0 {
                Role::MarketEntity
            } else {
                Role::SourceUnit
            };
            let mut rng = Rng::from_product(i as u64 + 17);
            let name = holder_name(&mut rng, role, &WORDS);
            Ok(BenchKey {
                signer: Signer::generate(
                    KeyName::new(&format!("q-{i:05}")).map_err(err("key name"))?,
                )
                .map_err(err("keygen"))?,
                uscc: uscc(i as u64),
                name,
                role,
            })
        })
        .collect()
}

fn counterparty(s: &Settings, n: u64) -> u64 {
    s.keys as u64 + (n.wrapping_mul(7919) % s.counterparties as u64)
}

/// Filing `n` by key `n mod keys`: two parties, one milestone (70%) or two.
fn contract(s: &Settings, keys: &[BenchKey], n: u64) -> Res<Contract> {
    let k = &keys[(n % keys.len() as u64) as usize];
    let mut rng = Rng::from_product(n ^ 0x5151);
    let filer = Subject::Org(k.uscc);
    let other = Subject::Org(uscc(counterparty(s, n)));
    let other_name = format!("{}{}有限公司", rng.pick(BRANDS), rng.pick(TRADES));
    let (buyer, buyer_name, seller, seller_name) = if k.role == Role::SourceUnit {
        (filer, k.name.clone(), other, other_name)
    } else {
        (other, other_name, filer, k.name.clone())
    };
    let amount = 1_000_000 + rng.below(500_000_000) as i64;
    let milestones = support::milestones(&mut rng, amount, &buyer, &seller, MILESTONES)?;
    Ok(Contract {
        id: ContractId::new(contract_id(n))?,
        category: rng.pick(CATEGORIES),
        name: Name::new(format!("{}合同", rng.pick(PROJECTS)))?,
        parties: two_parties(buyer, buyer_name, seller, seller_name)?,
        summary: Text::new(rng.pick(SUMMARIES))?,
        amount: Fen::new(amount)?,
        signed: Date::from_days(Date::parse("2026-01-01")?.days() + rng.below(150) as i32)?,
        milestones,
        document_sha256: None,
        source: if k.role == Role::SourceUnit {
            Source::Department
        } else {
            Source::SelfFiled
        },
    })
}

/// Signs filings `from..to` on all cores.
fn sign_chunk(
    s: &Settings,
    keys: &[BenchKey],
    origin: &str,
    from: usize,
    to: usize,
) -> Res<Vec<Signed>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let per = (to - from).div_ceil(threads).max(1);
    std::thread::scope(|sc| {
        let hs: Vec<_> = (from..to)
            .step_by(per)
            .map(|a| {
                let b = (a + per).min(to);
                sc.spawn(move || {
                    (a..b)
                        .map(|n| {
                            let k = &keys[n % keys.len()];
                            let event = Event::ContractFiled {
                                contract: contract(s, keys, n as u64)?,
                            };
                            sign_event(&k.signer, origin, event, n as u64)
                        })
                        .collect::<Res<Vec<_>>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(to - from);
        for h in hs {
            out.extend(h.join().map_err(|_| "signing thread panicked")??);
        }
        Ok(out)
    })
}

/// Submits everything, all in flight at once; every receipt must be `Ok`.
fn submit_all(rt: &tokio::runtime::Runtime, seq: &Sequencer, subs: Vec<Signed>) -> Res<()> {
    rt.block_on(async {
        let handles: Vec<_> = subs
            .into_iter()
            .map(|s| {
                let seq = seq.clone();
                tokio::spawn(async move { seq.submit(s).await })
            })
            .collect();
        for h in handles {
            h.await
                .map_err(err("task"))?
                .map_err(|e| format!("submission refused: {e}"))?;
        }
        Ok(())
    })
}

struct Built {
    secs: f64,
    sign_secs: f64,
    entries: u64,
    rss_kb: Option<u64>,
    hwm_kb: Option<u64>,
    stop_secs: f64,
}

fn build(s: &Settings, dir: &Path) -> Res<Built> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(err("runtime"))?;
    let opts = InitOptions::default();
    let config = SequencerConfig {
        queue_capacity: 4 * CHUNK,
        snapshot_every: u64::MAX,
        ..SequencerConfig::default()
    };
    let clock = Arc::new(FixedClock::new(NOW_MS));
    let node = node::open(dir, &opts, clock, config).map_err(err("open node"))?;
    let office =
        Signer::read_file(&dir.join("keys").join("office.key")).map_err(err("office key"))?;
    let keys = filing_keys(s.keys)?;
    let regs = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let event = Event::KeyRegistered {
                key: registration(k)?,
            };
            sign_event(&office, &opts.origin, event, i as u64)
        })
        .collect::<Res<Vec<_>>>()?;
    submit_all(&rt, &node.sequencer, regs)?;
    println!("build: {} keys registered", s.keys);
    let t = Instant::now();
    let mut sign_secs = 0.0;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Res<Vec<Signed>>>(1);
    let origin = opts.origin.clone();
    let mut report = Instant::now();
    std::thread::scope(|sc| -> Res<()> {
        let keys = &keys;
        let origin = &origin;
        let producer = sc.spawn(move || {
            let mut secs = 0.0;
            for from in (0..s.contracts).step_by(CHUNK) {
                let t = Instant::now();
                let chunk = sign_chunk(s, keys, origin, from, (from + CHUNK).min(s.contracts));
                secs += t.elapsed().as_secs_f64();
                let failed = chunk.is_err();
                if tx.send(chunk).is_err() || failed {
                    break;
                }
            }
            secs
        });
        let mut done = 0usize;
        for chunk in rx {
            let chunk = chunk?;
            done += chunk.len();
            submit_all(&rt, &node.sequencer, chunk)?;
            if report.elapsed() > Duration::from_secs(20) || done == s.contracts {
                report = Instant::now();
                println!(
                    "build: {} contracts in {:.0} s ({} /s), RSS {:.0} MiB",
                    fmt_int(done as f64),
                    t.elapsed().as_secs_f64(),
                    fmt_int(done as f64 / t.elapsed().as_secs_f64()),
                    mib(status_kb(None, "VmRSS:").unwrap_or(0))
                );
            }
        }
        sign_secs = producer.join().map_err(|_| "signing thread panicked")?;
        Ok(())
    })?;
    let secs = t.elapsed().as_secs_f64();
    let entries = node
        .sequencer
        .view()
        .ok_or("sequencer stopped")?
        .head()
        .size;
    let rss_kb = status_kb(None, "VmRSS:");
    let hwm_kb = status_kb(None, "VmHWM:");
    let t = Instant::now();
    node.sequencer.stop();
    let stop_secs = t.elapsed().as_secs_f64();
    let want = 1 + s.keys as u64 + s.contracts as u64;
    if entries != want {
        return Err(format!("log size {entries}, want {want}"));
    }
    Ok(Built {
        secs,
        sign_secs,
        entries,
        rss_kb,
        hwm_kb,
        stop_secs,
    })
}

// ---------------------------------------------------------------------------
// Serving and querying

struct NodeProc(Child);

impl Drop for NodeProc {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = Command::new("kill")
                .args(["-INT", &self.0.id().to_string()])
                .status();
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(60) {
                if let Ok(Some(_)) = self.0.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn serve(s: &Settings, dir: &Path) -> Res<(NodeProc, SocketAddr, f64)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(err("free port"))?
        .port();
    let listen = format!("127.0.0.1:{port}");
    let log = std::fs::File::create(dir.join("node.log")).map_err(err("node log"))?;
    let t = Instant::now();
    let child = Command::new(&s.node_bin)
        .args(["serve", "--data"])
        .arg(dir)
        .args(["--listen", &listen])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(err("node log"))?)
        .stderr(log)
        .spawn()
        .map_err(err("spawn lvyue-node"))?;
    let mut node = NodeProc(child);
    let addr: SocketAddr = listen.parse().map_err(err("address"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(err("runtime"))?;
    loop {
        let ok = rt.block_on(async {
            let mut c = Conn::new(addr);
            matches!(c.get("/v1/log").await, Ok((StatusCode::OK, _)))
        });
        if ok {
            break;
        }
        if let Ok(Some(st)) = node.0.try_wait() {
            let log = std::fs::read_to_string(dir.join("node.log")).unwrap_or_default();
            return Err(format!("the node exited ({st}):\n{log}"));
        }
        if t.elapsed() > Duration::from_secs(600) {
            return Err("the node did not answer within 600 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let ready = t.elapsed().as_secs_f64();
    Ok((node, addr, ready))
}

struct QueryResult {
    name: &'static str,
    hist: Histogram<u64>,
    ok: u64,
    errors: BTreeMap<String, u64>,
    bytes: u64,
    secs: f64,
}

fn query(
    rt: &tokio::runtime::Runtime,
    s: &Settings,
    addr: SocketAddr,
    name: &'static str,
    duration: Duration,
    path: Arc<dyn Fn(&mut Rng) -> String + Send + Sync>,
) -> Res<QueryResult> {
    let start = Instant::now();
    let deadline = start + duration;
    let results = rt.block_on(async {
        let hs: Vec<_> = (0..s.connections)
            .map(|c| {
                let path = path.clone();
                tokio::spawn(async move {
                    let mut conn = Conn::new(addr);
                    let mut rng = Rng::from_product(0xC0FFEE + c as u64);
                    let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)
                        .expect("histogram bounds");
                    let (mut ok, mut bytes) = (0u64, 0u64);
                    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
                    while Instant::now() < deadline {
                        let p = path(&mut rng);
                        let t0 = Instant::now();
                        match conn.get(&p).await {
                            Ok((StatusCode::OK, b)) => {
                                ok += 1;
                                bytes += b.len() as u64;
                                let us = (t0.elapsed().as_micros() as u64).clamp(1, 600_000_000);
                                let _ = hist.record(us);
                            }
                            Ok((st, _)) => *errors.entry(st.as_u16().to_string()).or_insert(0) += 1,
                            Err(_) => *errors.entry("transport".into()).or_insert(0) += 1,
                        }
                    }
                    (hist, ok, bytes, errors)
                })
            })
            .collect();
        let mut out = Vec::new();
        for h in hs {
            out.push(h.await.map_err(err("query task"))?);
        }
        Ok::<_, String>(out)
    })?;
    let secs = start.elapsed().as_secs_f64();
    let mut r = QueryResult {
        name,
        hist: Histogram::new_with_bounds(1, 600_000_000, 3).map_err(err("histogram"))?,
        ok: 0,
        errors: BTreeMap::new(),
        bytes: 0,
        secs,
    };
    for (h, ok, bytes, e) in results {
        r.hist.add(&h).map_err(err("histogram"))?;
        r.ok += ok;
        r.bytes += bytes;
        for (k, v) in e {
            *r.errors.entry(k).or_insert(0) += v;
        }
    }
    Ok(r)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("query bench failed: {e}");
        std::process::exit(1);
    }
}

fn run() -> Res<()> {
    let s = settings()?;
    let tmp = tempfile::tempdir().map_err(err("tempdir"))?;
    let (dir, built) = match (&s.data, &s.keep) {
        (Some(d), _) => (d.clone(), None),
        (None, keep) => {
            let dir = keep.clone().unwrap_or_else(|| tmp.path().join("data"));
            if dir.join("keys").exists() {
                return Err(format!(
                    "{} already holds a node; use --data to query it",
                    dir.display()
                ));
            }
            println!(
                "build: {} contracts, {} filing keys, {} counterparties, into {}",
                fmt_int(s.contracts as f64),
                s.keys,
                s.counterparties,
                dir.display()
            );
            let b = build(&s, &dir)?;
            (dir, Some(b))
        }
    };
    let store_bytes = dir_size(&dir.join("store")).unwrap_or(0);

    let (node, addr, ready) = serve(&s, &dir)?;
    let pid = node.0.id();
    let rss_start = status_kb(Some(pid), "VmRSS:");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(err("runtime"))?;
    let n = s.contracts as u64;
    let total_entities = (s.keys + s.counterparties) as u64;
    let contract_path = move |r: &mut Rng| format!("/v1/contracts/{}", contract_id(r.below(n)));
    let entity_path = move |r: &mut Rng| format!("/v1/entities/{}", uscc(r.below(total_entities)));
    let cold = query(
        &rt,
        &s,
        addr,
        "cold start: both, mixed",
        s.cold,
        Arc::new(move |r: &mut Rng| {
            if r.below(2) == 0 {
                contract_path(r)
            } else {
                entity_path(r)
            }
        }),
    )?;
    let qs = vec![
        query(
            &rt,
            &s,
            addr,
            "GET /v1/contracts/{id}",
            s.duration,
            Arc::new(contract_path),
        )?,
        query(
            &rt,
            &s,
            addr,
            "GET /v1/entities/{uscc}",
            s.duration,
            Arc::new(entity_path),
        )?,
    ];
    let rss_end = status_kb(Some(pid), "VmRSS:");
    let hwm = status_kb(Some(pid), "VmHWM:");
    drop(node);

    let c = s.contracts as f64;
    println!();
    println!("| store of {} contracts | value |", fmt_int(c));
    println!("|---|---:|");
    if let Some(b) = &built {
        println!(
            "| build: contracts/s (wall, signing on the same cores) | {} ({:.0} s; signing {:.0} s of thread time) |",
            fmt_int(c / b.secs),
            b.secs,
            b.sign_secs
        );
        println!("| log entries | {} |", fmt_int(b.entries as f64));
        println!(
            "| building process at the end: VmRSS / VmHWM | {:.0} / {:.0} MiB ({:.0} bytes per contract) |",
            mib(b.rss_kb.unwrap_or(0)),
            mib(b.hwm_kb.unwrap_or(0)),
            b.hwm_kb.unwrap_or(0) as f64 * 1024.0 / c
        );
        println!(
            "| sequencer stop (engine snapshot written) | {:.1} s |",
            b.stop_secs
        );
    }
    println!(
        "| disk: store folder | {:.0} MiB ({:.0} bytes per contract) |",
        store_bytes as f64 / 1048576.0,
        store_bytes as f64 / c
    );
    println!("| node process: start → first answer | {ready:.1} s |");
    println!(
        "| node process: VmRSS at start / after queries / VmHWM | {:.0} / {:.0} / **{:.0} MiB** ({:.0} bytes per contract) |",
        mib(rss_start.unwrap_or(0)),
        mib(rss_end.unwrap_or(0)),
        mib(hwm.unwrap_or(0)),
        hwm.unwrap_or(0) as f64 * 1024.0 / c
    );
    println!();
    println!(
        "| query ({} connections; cold start {} s, then {} s each) | answers/s | p50 ms | p90 ms | p99 ms | max ms | mean answer bytes | errors |",
        s.connections,
        s.cold.as_secs(),
        s.duration.as_secs()
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    for q in std::iter::once(&cold).chain(&qs) {
        let h = &q.hist;
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} | {:?} |",
            q.name,
            fmt_int(q.ok as f64 / q.secs),
            h.value_at_quantile(0.5) as f64 / 1000.0,
            h.value_at_quantile(0.9) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0,
            h.max() as f64 / 1000.0,
            q.bytes as f64 / q.ok.max(1) as f64,
            q.errors
        );
    }
    let pass = qs
        .iter()
        .all(|q| q.hist.value_at_quantile(0.99) <= 10_000 && q.errors.is_empty());
    println!(
        "target p99 ≤ 10 ms for both (after the cold start): {}",
        if pass { "PASS" } else { "FAIL" }
    );
    let json = serde_json::json!({
        "bench": "query",
        "quick": s.quick,
        "contracts": s.contracts,
        "keys": s.keys,
        "counterparties": s.counterparties,
        "connections": s.connections,
        "build": built.as_ref().map(|b| serde_json::json!({
            "secs": b.secs,
            "contracts_per_s": (c / b.secs).round(),
            "sign_thread_secs": b.sign_secs,
            "entries": b.entries,
            "rss_kb": b.rss_kb,
            "hwm_kb": b.hwm_kb,
            "stop_secs": b.stop_secs,
        })),
        "store_bytes": store_bytes,
        "node_ready_secs": ready,
        "node_rss_start_kb": rss_start,
        "node_rss_end_kb": rss_end,
        "node_hwm_kb": hwm,
        "queries": std::iter::once(&cold).chain(&qs).map(|q| serde_json::json!({
            "name": q.name,
            "per_s": (q.ok as f64 / q.secs).round(),
            "p50_ms": q.hist.value_at_quantile(0.5) as f64 / 1000.0,
            "p90_ms": q.hist.value_at_quantile(0.9) as f64 / 1000.0,
            "p99_ms": q.hist.value_at_quantile(0.99) as f64 / 1000.0,
            "max_ms": q.hist.max() as f64 / 1000.0,
            "mean_bytes": (q.bytes as f64 / q.ok.max(1) as f64).round(),
            "errors": q.errors,
        })).collect::<Vec<_>>(),
        "target_pass": pass,
    });
    println!();
    println!("{json}");
    if qs.iter().any(|q| !q.errors.is_empty()) {
        return Err("query errors".into());
    }
    Ok(())
}
