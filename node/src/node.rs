//! Opening a node's data folder: keys, store, registry; `init` on first run.
//!
//! Layout of `DIR`:
//! - `keys/node.key` — the node's signing key (signs Genesis, Ticks, checkpoints), mode 0600;
//! - `keys/office.key` — the first credit-office key, registered by Genesis, mode 0600;
//! - `store/` — the sled store.

use crate::clock::Clock;
use crate::sequencer::{ENGINE_SNAPSHOT, Sequencer, SequencerConfig, SubmitError, Writer};
use lvyue_ledger::admission::Registry;
use lvyue_ledger::checkpoint::{self, Origin};
use lvyue_ledger::engine::Engine;
use lvyue_ledger::event::{Event, KeyRegistration};
use lvyue_ledger::keys::{KeyName, Signer, VerifierKey};
use lvyue_ledger::record::{Body, Entry, KeyRef, Payload, Signed};
use lvyue_ledger::rules::RuleSet;
use lvyue_ledger::store::{Store, StoreConfig};
use lvyue_ledger::types::{Name, Role, SignerName, Subject};
use lvyue_ledger::uscc::Uscc;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The default log origin (also the node key's name).
pub const DEFAULT_ORIGIN: &str = "lvyue.local/log";

/// Default USCC recorded as holder of the node and first office keys.
pub const DEFAULT_OFFICE_USCC: &str = "11610300MB2950143";

/// Errors opening or initialising a node.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("{0}")]
    Key(#[from] lvyue_ledger::keys::KeyError),
    #[error("{0}")]
    Store(#[from] lvyue_ledger::store::StoreError),
    #[error("{0}")]
    Checkpoint(#[from] lvyue_ledger::checkpoint::CheckpointError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("data folder {0} is already initialised")]
    AlreadyInitialised(PathBuf),
    #[error("data folder {0}: {1}")]
    Invalid(PathBuf, String),
    #[error("genesis refused: {0}")]
    Genesis(#[from] SubmitError),
}

/// Options of `init`.
#[derive(Clone, Debug)]
pub struct InitOptions {
    pub origin: String,
    pub office_uscc: Uscc,
    pub office_name: String,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            origin: DEFAULT_ORIGIN.into(),
            office_uscc: Uscc::with_check(DEFAULT_OFFICE_USCC).expect("valid default uscc"),
            office_name: "信用办".into(),
        }
    }
}

/// An opened node: the running sequencer and what readers need.
#[derive(Clone)]
pub struct Node {
    pub sequencer: Sequencer,
    pub origin: Origin,
    pub vkey: VerifierKey,
    /// The node key: signs checkpoints, exports and webhook deliveries.
    pub signer: Signer,
}

fn store_dir(dir: &Path) -> PathBuf {
    dir.join("store")
}

fn registration(
    signer: &Signer,
    role: Role,
    opts: &InitOptions,
    holder_name: &str,
) -> Result<KeyRegistration, NodeError> {
    let bad = |e: String| NodeError::Invalid(PathBuf::new(), e);
    Ok(KeyRegistration {
        name: SignerName::new(signer.name().as_str()).map_err(bad)?,
        public_key: signer.verifier_key().key().to_bytes(),
        holder: Subject::Org(opts.office_uscc),
        holder_name: Name::new(holder_name).map_err(bad)?,
        role,
        valid_from_ms: None,
        valid_until_ms: None,
    })
}

/// Signs `event` with `signer` for the log `origin`.
pub fn sign_event(
    signer: &Signer,
    origin: &str,
    event: Event,
    nonce: u64,
) -> Result<Signed, String> {
    let payload = Payload {
        signer: KeyRef {
            name: SignerName::new(signer.name().as_str())?,
            id: signer.id(),
        },
        nonce,
        event,
    };
    let msg = payload.signed_message(origin).map_err(|e| e.to_string())?;
    Ok(Signed {
        signature: signer.sign(&msg),
        payload,
    })
}

/// Creates keys and appends Genesis in an empty data folder.
pub fn init(dir: &Path, opts: &InitOptions, clock: Arc<dyn Clock>) -> Result<(), NodeError> {
    let keys = dir.join("keys");
    if keys.join("node.key").exists() {
        return Err(NodeError::AlreadyInitialised(dir.to_path_buf()));
    }
    let origin = Origin::new(&opts.origin)?;
    std::fs::create_dir_all(&keys).map_err(|source| NodeError::Io {
        path: keys.clone(),
        source,
    })?;
    let node = Signer::generate(KeyName::new(&opts.origin)?)?;
    let office = Signer::generate(KeyName::new("credit-office")?)?;
    let genesis = Event::Genesis {
        origin: Name::new(opts.origin.as_str()).map_err(|e| NodeError::Invalid(dir.into(), e))?,
        node_key: registration(&node, Role::Node, opts, "lvyue node")?,
        office_keys: vec![registration(
            &office,
            Role::CreditOffice,
            opts,
            &opts.office_name,
        )?],
        rules: RuleSet::default(),
    };
    let signed = sign_event(&node, origin.as_str(), genesis, 0)
        .map_err(|e| NodeError::Invalid(dir.into(), e))?;
    let store = Store::open(&store_dir(dir), &StoreConfig::default())?;
    if store.head().size != 0 {
        return Err(NodeError::AlreadyInitialised(dir.to_path_buf()));
    }
    let writer = Writer::new(
        store,
        Registry::default(),
        Engine::new(),
        node.clone(),
        origin,
        clock,
        u64::MAX,
    )?;
    let seq = Sequencer::start(writer, SequencerConfig::default());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|source| NodeError::Io {
            path: dir.into(),
            source,
        })?;
    let result = rt.block_on(seq.submit(signed));
    seq.stop();
    result?;
    node.write_file(&keys.join("node.key"))?;
    office.write_file(&keys.join("office.key"))?;
    Ok(())
}

/// Opens an initialised data folder (running `init` first if it is empty)
/// and starts the sequencer.
pub fn open(
    dir: &Path,
    opts: &InitOptions,
    clock: Arc<dyn Clock>,
    config: SequencerConfig,
) -> Result<Node, NodeError> {
    if !dir.join("keys").join("node.key").exists() {
        init(dir, opts, clock.clone())?;
    }
    let signer = Signer::read_file(&dir.join("keys").join("node.key"))?;
    let store = Store::open(&store_dir(dir), &StoreConfig::default())?;
    let genesis = store
        .view()
        .entry(0)?
        .ok_or_else(|| NodeError::Invalid(dir.into(), "log has no genesis entry".into()))?;
    let genesis = Entry::decode(&genesis)
        .map_err(|e| NodeError::Invalid(dir.into(), format!("entry 0: {e}")))?;
    let Body::Submitted(Signed {
        payload:
            Payload {
                event: Event::Genesis {
                    origin, node_key, ..
                },
                ..
            },
        ..
    }) = genesis.body
    else {
        return Err(NodeError::Invalid(
            dir.into(),
            "entry 0 is not genesis".into(),
        ));
    };
    if node_key.public_key != signer.verifier_key().key().to_bytes() {
        return Err(NodeError::Invalid(
            dir.into(),
            "keys/node.key is not the genesis node key".into(),
        ));
    }
    let origin = Origin::new(origin.as_str())?;
    let vkey = signer.verifier_key();
    checkpoint::open(&store.head().checkpoint, &origin, &vkey)?;
    let mut registry = Registry::default();
    for state in store.view().key_states()? {
        registry
            .restore(state)
            .map_err(|e| NodeError::Invalid(dir.into(), e.to_string()))?;
    }
    let engine = load_engine(&store, &registry).map_err(|e| NodeError::Invalid(dir.into(), e))?;
    registry.set_legacy(engine.rules().legacy_uscc.iter().copied());
    let mut store = store;
    crate::index::ensure(&mut store, &registry).map_err(|e| NodeError::Invalid(dir.into(), e))?;
    let every = config.snapshot_every;
    let writer = Writer::new(
        store,
        registry,
        engine,
        signer.clone(),
        origin.clone(),
        clock,
        every,
    )?;
    Ok(Node {
        sequencer: Sequencer::start(writer, config),
        origin,
        vkey,
        signer,
    })
}

/// The rules engine at the store's head: the last snapshot, brought forward
/// by replaying the entries written after it (at most `snapshot_every`).
pub fn load_engine(store: &Store, registry: &Registry) -> Result<Engine, String> {
    let mut engine = match store
        .view()
        .meta(ENGINE_SNAPSHOT)
        .map_err(|e| e.to_string())?
    {
        Some(bytes) => Engine::restore(&bytes).map_err(|e| format!("engine snapshot: {e}"))?,
        None => Engine::new(),
    };
    let head = store.head().size;
    if engine.next_index() > head {
        return Err(format!(
            "engine snapshot is at index {}, beyond the head {head}",
            engine.next_index()
        ));
    }
    for r in store.view().entries(engine.next_index(), head) {
        let (i, bytes) = r.map_err(|e| e.to_string())?;
        let entry = Entry::decode(&bytes).map_err(|e| format!("entry {i}: {e}"))?;
        engine.replay(&entry, registry);
    }
    Ok(engine)
}
