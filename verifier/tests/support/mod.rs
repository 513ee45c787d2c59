//! Shared by `tests/cli.rs` and `benches/audit.rs`: a real node (sequencer
//! over a sled store in a temporary folder) and an export of its log as a
//! folder with the tile API's layout, written straight from the store's
//! view (independent of `lvyue-node export`).
#![allow(dead_code)]

use lvyue_ledger::event::{Event, KeyRegistration};
use lvyue_ledger::keys::{KeyName, Signer};
use lvyue_ledger::record::Signed;
use lvyue_ledger::store::View;
use lvyue_ledger::tlog;
use lvyue_ledger::types::{Name, Role, SignerName, Subject};
use lvyue_ledger::uscc::Uscc;
use lvyue_node::clock::SystemClock;
use lvyue_node::node::{self, InitOptions, Node};
use lvyue_node::sequencer::{Sequencer, SequencerConfig};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub type Res<T> = Result<T, String>;

pub fn err<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{what}: {e}")
}

/// A running node over `dir`, its office key and a two-worker runtime.
pub struct TestLog {
    pub node: Node,
    pub office: Signer,
    pub rt: tokio::runtime::Runtime,
    pub nonce: u64,
}

impl TestLog {
    pub fn open(dir: &Path, queue: usize) -> Res<TestLog> {
        let config = SequencerConfig {
            max_batch: 1024,
            max_wait: Duration::from_millis(2),
            queue_capacity: queue,
            ..SequencerConfig::default()
        };
        let node = node::open(dir, &InitOptions::default(), Arc::new(SystemClock), config)
            .map_err(err("open node"))?;
        let office =
            Signer::read_file(&dir.join("keys").join("office.key")).map_err(err("office key"))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(err("runtime"))?;
        Ok(TestLog {
            node,
            office,
            rt,
            nonce: 1,
        })
    }

    /// Signs `event` with `signer` for this log with a fresh nonce.
    pub fn sign(&mut self, signer: &Signer, event: Event) -> Res<Signed> {
        self.nonce += 1;
        node::sign_event(signer, self.node.origin.as_str(), event, self.nonce)
    }

    /// Registers `signer` as a market entity holding `holder`.
    pub fn register(&mut self, signer: &Signer, holder: Uscc) -> Res<()> {
        let key = registration(signer, holder);
        let office = self.office.clone();
        let s = self.sign(&office, Event::KeyRegistered { key })?;
        submit_all(&self.rt, &self.node.sequencer, vec![s]).map(|_| ())
    }

    pub fn view(&self) -> Res<View> {
        self.node
            .sequencer
            .view()
            .ok_or_else(|| "sequencer stopped".into())
    }
}

/// A market-entity registration of `signer` for `holder`.
pub fn registration(signer: &Signer, holder: Uscc) -> KeyRegistration {
    KeyRegistration {
        name: SignerName::new(signer.name().as_str()).expect("name"),
        public_key: signer.verifier_key().key().to_bytes(),
        holder: Subject::Org(holder),
        holder_name: Name::new("测试企业").expect("name"),
        role: Role::MarketEntity,
        valid_from_ms: None,
        valid_until_ms: None,
    }
}

/// A valid USCC built from a number (as tests/src/lib.rs `uscc`).
pub fn uscc(n: u64) -> Uscc {
    Uscc::with_check(&format!("9161030{n:010}")).expect("valid uscc")
}

/// A market key with a fixed seed.
pub fn market_key(i: u64) -> (Signer, Uscc) {
    let mut seed = [9u8; 32];
    seed[..8].copy_from_slice(&i.to_be_bytes());
    let name = KeyName::new(&format!("firm-{i}")).expect("key name");
    (Signer::from_seed(name, seed), uscc(1000 + i))
}

/// Submits everything concurrently, one task each; all must be accepted.
pub fn submit_all(rt: &tokio::runtime::Runtime, seq: &Sequencer, subs: Vec<Signed>) -> Res<usize> {
    let seq = seq.clone();
    rt.block_on(async move {
        let handles: Vec<_> = subs
            .into_iter()
            .map(|s| {
                let seq = seq.clone();
                tokio::spawn(async move { seq.submit(s).await })
            })
            .collect();
        let mut ok = 0;
        for h in handles {
            match h.await {
                Ok(Ok(_)) => ok += 1,
                Ok(Err(e)) => return Err(format!("submission refused: {e}")),
                Err(e) => return Err(format!("task: {e}")),
            }
        }
        Ok(ok)
    })
}

/// Writes `checkpoint`, every entry bundle and every hash tile of the
/// view's head size into `dir`; returns the size.
pub fn export(view: &View, dir: &Path) -> Res<u64> {
    let head = view.head();
    let size = head.size;
    let write = |path: &str, data: &[u8]| -> Res<()> {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).map_err(err("mkdir"))?;
        std::fs::write(&file, data).map_err(err("write"))
    };
    write("checkpoint", &head.checkpoint)?;
    for t in tlog::tiles_for_size(0, size) {
        let start = t.n * tlog::TILE_WIDTH;
        let mut bundle = Vec::new();
        for r in view.entries(start, start + u64::from(t.width)) {
            let (_, bytes) = r.map_err(err("entry"))?;
            bundle.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
            bundle.extend_from_slice(&bytes);
        }
        write(&t.entries_path(), &bundle)?;
    }
    for level in 0..8u8 {
        for t in tlog::tiles_for_size(level, size) {
            let data = tlog::read_tile_data(&t, &view.reader()).map_err(err("tile"))?;
            write(&t.path(), &data)?;
        }
    }
    Ok(size)
}
