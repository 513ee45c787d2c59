//! The sequencer: one thread that owns the store's write side.
//!
//! A submission goes through two stages:
//! 1. in the submitting task (on the async workers, so both cores verify in
//!    parallel while the sequencer thread writes): its signature is checked
//!    strictly against the public key registered under the key it names;
//! 2. on the sequencer thread, which collects submissions until the batch is
//!    full or the wait bound passes (group commit), then for the batch:
//!    admits each submission in arrival order against the key registry
//!    (unknown or revoked key, wrong role, replay of a submission already in
//!    the log or earlier in this batch, oversize entry: each refused alone,
//!    with its reason), builds the hash-chained entries, appends them with
//!    their Merkle hashes and the new head in one durable sled transaction
//!    under a freshly signed checkpoint, publishes the new head to readers,
//!    and only then answers each submitter with its receipt (entry,
//!    inclusion proof, signed checkpoint).
//!
//! A key registered earlier in the same batch is not yet known to stage 1;
//! such submissions are verified on the sequencer thread.

use crate::clock::Clock;
use crate::index::{INDEX_META, INDEX_VERSION, Indexer};
use lvyue_ledger::Hash;
use lvyue_ledger::admission::{AdmissionError, Registry};
use lvyue_ledger::checkpoint::{Checkpoint, Origin, sign_checkpoint};
use lvyue_ledger::codec::{CodecError, MAX_RECORD_SIZE};
use lvyue_ledger::engine::{Engine, RuleError};
use lvyue_ledger::event::Event;
use lvyue_ledger::hash::leaf_hash;
use lvyue_ledger::keys::{KeyName, Signer, VerifierKey};
use lvyue_ledger::record::{Body, Derived, Entry, KeyRef, Signed, signed_message};
use lvyue_ledger::store::{Batch, Store, View};
use lvyue_ledger::tlog_proof::TlogProof;
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Group-commit bounds.
#[derive(Clone, Debug)]
pub struct SequencerConfig {
    /// Most submissions in one durable write.
    pub max_batch: usize,
    /// Longest a submission waits for others to join its batch. The
    /// default is zero: the sequencer takes whatever is queued at once, and
    /// batches grow by themselves while it and the flusher thread are busy
    /// (a timer only adds latency once the flush is pipelined).
    pub max_wait: Duration,
    /// Submissions waiting beyond this many are refused with "busy".
    pub queue_capacity: usize,
    /// Snapshot the rules engine into the store after this many entries
    /// (a restart replays at most this many).
    pub snapshot_every: u64,
    /// When idle this long and a rule deadline has passed, append a `Tick`.
    pub tick_interval: Duration,
}

impl Default for SequencerConfig {
    fn default() -> Self {
        SequencerConfig {
            max_batch: 1024,
            max_wait: Duration::ZERO,
            queue_capacity: 65_536,
            snapshot_every: 1_000_000,
            tick_interval: Duration::from_secs(60),
        }
    }
}

/// What an accepted submission gets back.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Receipt {
    pub index: u64,
    pub leaf_hash: Hash,
    /// Canonical entry bytes, base64.
    #[serde(with = "lvyue_ledger::serde_bytes::b64_vec")]
    pub entry: Vec<u8>,
    /// The `c2sp.org/tlog-proof@v1` bundle proving the entry against the batch's checkpoint.
    pub proof: String,
}

/// Why a submission was not appended.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Refused(#[from] AdmissionError),
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("entry of {size} bytes is over the limit of {MAX_RECORD_SIZE}")]
    TooLarge { size: usize },
    #[error("encoding: {0}")]
    Codec(CodecError),
    #[error("feed {feed} already imported external reference {external_ref:?} at index {index}")]
    AlreadyImported {
        feed: String,
        external_ref: String,
        index: u64,
    },
    #[error("the sequencer queue is full; retry later")]
    Busy,
    #[error("the node is shutting down")]
    Closed,
    #[error("storage failure")]
    Storage(String),
}

impl From<CodecError> for SubmitError {
    fn from(e: CodecError) -> SubmitError {
        match e {
            CodecError::TooLarge { size } => SubmitError::TooLarge { size },
            other => SubmitError::Codec(other),
        }
    }
}

/// What stage 1 found out about a signature.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SigCheck {
    Valid,
    Invalid,
    /// The key was not known to stage 1.
    Unchecked,
}

/// An accepted submission as the sequencer thread answers it: the parts of
/// its receipt. The submitting task builds the receipt (the tlog-proof
/// text), so that work stays off the one serial thread.
struct Accepted {
    index: u64,
    leaf_hash: Hash,
    entry: Vec<u8>,
    proof: Vec<Hash>,
    /// The batch's signed checkpoint, shared by every receipt of the batch.
    checkpoint: Arc<Vec<u8>>,
}

impl Accepted {
    fn receipt(self) -> Result<Receipt, SubmitError> {
        let checkpoint = Arc::unwrap_or_clone(self.checkpoint);
        let proof = TlogProof::new(None, self.index, self.proof, checkpoint)
            .map_err(|e| SubmitError::Storage(e.to_string()))?;
        Ok(Receipt {
            index: self.index,
            leaf_hash: self.leaf_hash,
            entry: self.entry,
            proof: proof.to_text(),
        })
    }
}

type Reply = oneshot::Sender<Result<Accepted, SubmitError>>;

/// A reply to send once the batch's head is published.
type Answer = (Reply, Result<Accepted, SubmitError>);

struct Job {
    signed: Signed,
    /// Canonical bytes of `signed.payload`, computed once in stage 1.
    payload: Vec<u8>,
    /// Its submission id.
    id: Hash,
    sig: SigCheck,
    reply: Reply,
}

/// A read run on the sequencer thread between batches.
type ReadFn = Box<dyn FnOnce(&Writer) + Send>;

enum Msg {
    Submit(Box<Job>),
    /// Runs between batches: sees the store, engine and index at one head.
    Read(ReadFn),
    /// Finish the current batch, close the store, then answer.
    Stop(std::sync::mpsc::Sender<()>),
}

/// Verifier keys by name and id, for stage 1. Keys are never removed
/// (revocation is checked on the sequencer thread), so a reader can only
/// miss a key registered moments ago, which stage 2 then verifies.
type KeyMap = Arc<RwLock<HashMap<KeyRef, VerifierKey>>>;

/// Handle to the sequencer thread.
#[derive(Clone)]
pub struct Sequencer {
    tx: SyncSender<Msg>,
    view: Arc<RwLock<Option<View>>>,
    keys: KeyMap,
    origin: Origin,
}

/// Meta row holding the rules engine's snapshot.
pub const ENGINE_SNAPSHOT: &str = "engine";

/// Everything the sequencer thread owns.
pub struct Writer {
    pub store: Store,
    pub registry: Registry,
    pub engine: Engine,
    pub signer: Signer,
    pub origin: Origin,
    pub clock: Arc<dyn Clock>,
    /// Write an engine snapshot with the batch once this many entries were appended since the last.
    pub snapshot_every: u64,
    pub entries_since_snapshot: u64,
    /// Set when a durable append failed: in-memory state is ahead of the store.
    pub failed: Option<String>,
    /// Query indexes written with each batch.
    pub indexer: Indexer,
    /// Set by the flusher thread when a flush failed.
    pub flush_failed: Arc<std::sync::Mutex<Option<String>>>,
}

/// Reads through a lock that a panicking holder may have poisoned: the
/// guarded values are plain data, always left consistent.
fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

fn lock<T>(l: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    l.lock().unwrap_or_else(|e| e.into_inner())
}

impl Sequencer {
    /// Starts the sequencer thread.
    pub fn start(writer: Writer, config: SequencerConfig) -> Sequencer {
        let (tx, rx) = std::sync::mpsc::sync_channel(config.queue_capacity);
        let view = Arc::new(RwLock::new(Some(writer.store.view().clone())));
        let keys: HashMap<KeyRef, VerifierKey> = writer
            .registry
            .verifiers()
            .map(|(r, k)| (r.clone(), k.clone()))
            .collect();
        let keys = Arc::new(RwLock::new(keys));
        let origin = writer.origin.clone();
        let shared = Shared {
            view: view.clone(),
            keys: keys.clone(),
        };
        std::thread::Builder::new()
            .name("lvyue-sequencer".into())
            .spawn(move || run(writer, rx, shared, config))
            .expect("spawn sequencer thread");
        Sequencer {
            tx,
            view,
            keys,
            origin,
        }
    }

    /// Submits one signed event and waits for its receipt.
    pub async fn submit(&self, signed: Signed) -> Result<Receipt, SubmitError> {
        lvyue_ledger::admission::check_no_id_numbers(&signed.payload.event)?;
        let payload = lvyue_ledger::codec::encode(&signed.payload)?;
        let sig = self.check_signature(&signed, &payload);
        let id = lvyue_ledger::record::submission_id(&payload);
        let (reply, rx) = oneshot::channel();
        let job = Job {
            signed,
            payload,
            id,
            sig,
            reply,
        };
        match self.tx.try_send(Msg::Submit(Box::new(job))) {
            Ok(()) => {
                crate::metrics::global().queue_depth.inc();
            }
            Err(TrySendError::Full(_)) => return Err(SubmitError::Busy),
            Err(TrySendError::Disconnected(_)) => return Err(SubmitError::Closed),
        }
        rx.await.unwrap_or(Err(SubmitError::Closed))?.receipt()
    }

    /// Whether `key` is a registered key (revoked or not) this node knows.
    #[must_use]
    pub fn knows(&self, key: &KeyRef) -> bool {
        read(&self.keys).contains_key(key)
    }

    /// Stage 1. A signature check is ~40 µs of CPU: short enough to run on
    /// the async worker rather than pay a hop to the blocking pool.
    fn check_signature(&self, signed: &Signed, payload: &[u8]) -> SigCheck {
        let Some(key) = read(&self.keys).get(&signed.payload.signer).cloned() else {
            return SigCheck::Unchecked;
        };
        let msg = signed_message(self.origin.as_str(), payload);
        match key.verify_strict(&msg, &signed.signature) {
            Ok(()) => SigCheck::Valid,
            Err(_) => SigCheck::Invalid,
        }
    }

    /// Runs `f` on the sequencer thread between two batches, so that it
    /// sees the store, its indexes and the rules engine at one durable head
    /// (used for signed exports, which must match their checkpoint exactly).
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Writer) -> T + Send + 'static,
    ) -> Result<T, SubmitError> {
        let (reply, rx) = oneshot::channel();
        let msg = Msg::Read(Box::new(move |w: &Writer| {
            let _ = reply.send(f(w));
        }));
        match self.tx.try_send(msg) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(SubmitError::Busy),
            Err(TrySendError::Disconnected(_)) => return Err(SubmitError::Closed),
        }
        rx.await.map_err(|_| SubmitError::Closed)
    }

    /// Stops the sequencer after the batch in progress, closing the store.
    /// Returns once the store is closed (its folder lock released).
    pub fn stop(&self) {
        let (tx, rx) = std::sync::mpsc::channel();
        // A full queue still drains; blocking here is what a shutdown wants.
        if self.tx.send(Msg::Stop(tx)).is_ok() {
            let _ = rx.recv();
        }
    }

    /// The view at the latest durable head; `None` once stopped.
    #[must_use]
    pub fn view(&self) -> Option<View> {
        read(&self.view).clone()
    }
}

/// What the sequencer thread publishes to readers.
struct Shared {
    view: Arc<RwLock<Option<View>>>,
    keys: KeyMap,
}

/// A batch applied by the sequencer thread, waiting for its flush.
struct Applied {
    answers: Vec<Answer>,
    view: View,
    new_keys: Vec<(KeyRef, VerifierKey)>,
}

/// The flusher thread: makes each applied batch durable, then publishes its
/// head to readers and only then answers its submitters. It runs beside the
/// sequencer thread, which meanwhile admits and applies the next batch, so
/// the wait for the disk no longer stalls the serial stage.
fn flush_loop(
    flusher: lvyue_ledger::store::Flusher,
    rx: Receiver<Applied>,
    shared: Shared,
    failed: Arc<std::sync::Mutex<Option<String>>>,
) {
    while let Ok(first) = rx.recv() {
        // One flush for every batch applied meanwhile (group commit of the
        // flushes themselves): their heads are published in order.
        let mut applied = vec![first];
        while let Ok(more) = rx.try_recv() {
            applied.push(more);
        }
        let m = crate::metrics::global();
        let started = Instant::now();
        let durable = lock(&failed).is_none() && {
            match flusher.flush() {
                Ok(()) => true,
                Err(e) => {
                    tracing::error!(error = %e, "flush failed");
                    *lock(&failed) = Some("the store failed; restart the node".into());
                    false
                }
            }
        };
        if durable {
            m.flush_latency.observe(started.elapsed().as_secs_f64());
            m.flush_batches.observe(applied.len() as f64);
        }
        let mut answers = Vec::new();
        for a in applied {
            if durable {
                // Readers see the new head before any submitter holds a receipt for it.
                *write(&shared.view) = Some(a.view);
                write(&shared.keys).extend(a.new_keys);
            }
            answers.extend(a.answers);
        }
        for (reply, mut receipt) in answers {
            if !durable && receipt.is_ok() {
                receipt = Err(SubmitError::Storage("the store failed".into()));
            }
            let _ = reply.send(receipt);
        }
    }
}

fn run(w: Writer, rx: Receiver<Msg>, shared: Shared, config: SequencerConfig) {
    // Batches applied but not yet flushed: a bound on how far the
    // sequencer thread runs ahead of the disk.
    let (ftx, frx) = std::sync::mpsc::sync_channel::<Applied>(8);
    let flusher = {
        let (flusher, failed) = (w.store.flusher(), w.flush_failed.clone());
        let shared = Shared {
            view: shared.view.clone(),
            keys: shared.keys.clone(),
        };
        std::thread::Builder::new()
            .name("lvyue-flusher".into())
            .spawn(move || flush_loop(flusher, frx, shared, failed))
            .expect("spawn flusher thread")
    };
    let mut ftx = Some(ftx);
    let mut flusher = Some(flusher);
    let mut w = Some(w);
    let mut stop = None;
    loop {
        let mut jobs = Vec::new();
        match rx.recv_timeout(config.tick_interval) {
            Ok(Msg::Submit(j)) => {
                crate::metrics::global().queue_depth.dec();
                jobs.push(*j);
            }
            Ok(Msg::Read(f)) => run_read(w.as_ref(), f),
            Ok(Msg::Stop(done)) => stop = Some(done),
            Err(RecvTimeoutError::Timeout) => {
                if let Some(tick) = w.as_ref().and_then(Writer::tick_if_due) {
                    jobs.push(tick);
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let deadline = Instant::now() + config.max_wait;
        while stop.is_none() && !jobs.is_empty() && jobs.len() < config.max_batch {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(Msg::Submit(j)) => {
                    crate::metrics::global().queue_depth.dec();
                    jobs.push(*j);
                }
                // Nothing of the batch being collected is applied yet.
                Ok(Msg::Read(f)) => run_read(w.as_ref(), f),
                Ok(Msg::Stop(done)) => stop = Some(done),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        match w.as_mut() {
            Some(writer) if !jobs.is_empty() => {
                let (answers, new_keys) = writer.process(jobs);
                let applied = Applied {
                    answers,
                    view: writer.store.view().clone(),
                    new_keys,
                };
                if let Some(tx) = &ftx
                    && let Err(e) = tx.send(applied)
                {
                    for (reply, _) in e.0.answers {
                        let _ = reply.send(Err(SubmitError::Closed));
                    }
                }
            }
            Some(_) => {}
            None => {
                for j in jobs {
                    let _ = j.reply.send(Err(SubmitError::Closed));
                }
            }
        }
        if let Some(done) = stop.take() {
            // Every applied batch is flushed and answered first.
            drop(ftx.take());
            if let Some(f) = flusher.take() {
                let _ = f.join();
            }
            // Drop every handle on sled so the folder lock is released.
            *write(&shared.view) = None;
            if let Some(writer) = w.take() {
                writer.close();
            }
            tracing::info!("sequencer stopped");
            let _ = done.send(());
            break;
        }
    }
    // All handles dropped: answer what is in flight before the store goes.
    drop(ftx);
    if let Some(f) = flusher {
        let _ = f.join();
    }
}

/// Runs a read; dropped (the reader sees `Closed`) once the writer is gone.
fn run_read(w: Option<&Writer>, f: ReadFn) {
    // A read names the writer's head (e.g. in a signed export): everything
    // applied is made durable first, so no such head can be lost.
    if let Some(w) = w.filter(|w| w.failed.is_none() && lock(&w.flush_failed).is_none())
        && w.store.flusher().flush().is_ok()
    {
        f(w);
    }
}

/// Batch state threaded through admission.
struct Pending {
    batch: Batch,
    /// Accepted submissions: reply, entry bytes, leaf hash, index.
    accepted: Vec<(Reply, Vec<u8>, Hash, u64)>,
    /// Submission ids admitted in this batch, with their indexes.
    seen: HashMap<Hash, u64>,
    new_keys: Vec<(KeyRef, VerifierKey)>,
    prev: Hash,
    next: u64,
    time_ms: i64,
}

impl Writer {
    /// Appends derived records as the next entries, and indexes them.
    fn push_derived(&mut self, p: &mut Pending, records: Vec<Derived>) -> Result<(), SubmitError> {
        for d in records {
            let index = p.next;
            let entry = Entry {
                index,
                time_ms: p.time_ms,
                prev: p.prev,
                body: Body::Derived(d),
            };
            let bytes = entry.encode()?;
            let leaf = leaf_hash(&bytes);
            p.batch.push_entry(bytes, leaf, p.time_ms);
            p.prev = leaf;
            p.next += 1;
            if let Body::Derived(d) = &entry.body {
                self.indexer
                    .derived(self.store.view(), &self.engine, index, p.time_ms, d);
            }
        }
        Ok(())
    }
}

impl Writer {
    /// A writer over an opened store, registry and engine at the same head
    /// (and an index at that head: see [`crate::index::ensure`]).
    pub fn new(
        store: Store,
        registry: Registry,
        engine: Engine,
        signer: Signer,
        origin: Origin,
        clock: Arc<dyn Clock>,
        snapshot_every: u64,
    ) -> Result<Writer, lvyue_ledger::store::StoreError> {
        let indexer = Indexer::load(store.view())?;
        Ok(Writer {
            indexer,
            store,
            registry,
            engine,
            signer,
            origin,
            clock,
            snapshot_every,
            entries_since_snapshot: 0,
            failed: None,
            flush_failed: Arc::default(),
        })
    }

    /// A `Tick` signed by the node key, if a rule deadline has passed.
    fn tick_if_due(&self) -> Option<Job> {
        let now = self.clock.now_ms();
        if self.failed.is_some() || self.engine.next_deadline().is_none_or(|t| t > now) {
            return None;
        }
        let name = lvyue_ledger::types::SignerName::new(self.signer.name().as_str()).ok()?;
        let payload = lvyue_ledger::record::Payload {
            signer: KeyRef {
                name,
                id: self.signer.id(),
            },
            nonce: u64::try_from(now).unwrap_or(0),
            event: Event::Tick {},
        };
        let bytes = lvyue_ledger::codec::encode(&payload).ok()?;
        let signature = self
            .signer
            .sign(&signed_message(self.origin.as_str(), &bytes));
        let id = lvyue_ledger::record::submission_id(&bytes);
        let (reply, _) = oneshot::channel();
        Some(Job {
            signed: Signed { payload, signature },
            payload: bytes,
            id,
            sig: SigCheck::Valid,
            reply,
        })
    }

    /// Writes the engine's state at the durable head. The snapshot names
    /// its own position (the engine's next index), so it need not be
    /// written atomically with a batch; it is written after the batch's
    /// commit, outside the transaction, which keeps large states out of it.
    fn save_snapshot(&mut self) {
        let saved = self.engine_snapshot().and_then(|b| {
            self.store
                .put_meta(ENGINE_SNAPSHOT, &b)
                .map_err(|e| e.to_string())
        });
        match saved {
            Ok(()) => self.entries_since_snapshot = 0,
            Err(e) => tracing::warn!(error = %e, "engine snapshot not saved"),
        }
    }

    /// Saves an engine snapshot (so a restart need not replay) and closes the store.
    fn close(mut self) {
        if self.failed.is_none() && self.entries_since_snapshot > 0 {
            self.save_snapshot();
        }
    }

    /// Admits and appends one batch. Returns the replies to send once the new
    /// head is published, and the keys it registered.
    fn process(&mut self, jobs: Vec<Job>) -> (Vec<Answer>, Vec<(KeyRef, VerifierKey)>) {
        if self.failed.is_none()
            && let Some(reason) = lock(&self.flush_failed).clone()
        {
            self.failed = Some(reason);
        }
        if let Some(reason) = &self.failed {
            let answers = jobs
                .into_iter()
                .map(|j| (j.reply, Err(SubmitError::Storage(reason.clone()))))
                .collect();
            return (answers, Vec::new());
        }
        let head = self.store.head().clone();
        let mut p = Pending {
            batch: Batch::default(),
            accepted: Vec::new(),
            seen: HashMap::new(),
            new_keys: Vec::new(),
            prev: head.last_leaf,
            next: head.size,
            // Node time never goes backwards: a clock behind the head is held at the head.
            time_ms: self.clock.now_ms().max(head.time_ms),
        };
        let mut answers = Vec::new();
        for job in jobs {
            // Time-driven consequences come first, whether or not the submission is admitted.
            let due = self.engine.advance(p.time_ms);
            let result = self
                .push_derived(&mut p, due)
                .and_then(|()| self.admit(&job, &mut p));
            match result {
                Ok((bytes, leaf, index)) => p.accepted.push((job.reply, bytes, leaf, index)),
                Err(e) => answers.push((job.reply, Err(e))),
            }
        }
        if p.batch.is_empty() {
            self.indexer.abandon();
            return (answers, Vec::new());
        }
        if let Err(e) = self
            .indexer
            .finish(self.store.view(), &self.engine, &mut p.batch)
        {
            tracing::error!(error = %e, "indexing failed");
            self.failed = Some("indexing failed; restart the node".into());
            answers.extend(
                p.accepted
                    .into_iter()
                    .map(|(r, ..)| (r, Err(SubmitError::Storage(e.clone())))),
            );
            return (answers, Vec::new());
        }
        p.batch
            .put_meta(INDEX_META, INDEX_VERSION.as_bytes().to_vec());
        self.entries_since_snapshot += p.batch.len() as u64;
        match self.commit(p.batch, p.accepted) {
            Ok(replies) => {
                answers.extend(replies);
                if self.entries_since_snapshot >= self.snapshot_every {
                    self.save_snapshot();
                }
                (answers, p.new_keys)
            }
            Err(replies) => {
                // The engine and registry already moved past the durable head:
                // refuse everything until a restart reloads them from disk.
                self.failed = Some("the store failed; restart the node".into());
                answers.extend(replies);
                (answers, Vec::new())
            }
        }
    }

    /// Canonical engine snapshot: the state and the index it is at.
    fn engine_snapshot(&self) -> Result<Vec<u8>, String> {
        self.engine.snapshot()
    }

    /// Admission of one submission: replay, registry, signature, rules,
    /// size; then its entry, index rows and derived records join the batch.
    fn admit(&mut self, job: &Job, p: &mut Pending) -> Result<(Vec<u8>, Hash, u64), SubmitError> {
        let (signed, id, index) = (&job.signed, job.id, p.next);
        let durable = self.store.submission(&id);
        if let Some(at) = durable.or_else(|| p.seen.get(&id).copied()) {
            return Err(AdmissionError::Duplicate(at).into());
        }
        let key = self.registry.authorize(signed, index, p.time_ms)?;
        let valid = match job.sig {
            SigCheck::Valid => true,
            SigCheck::Invalid => false,
            SigCheck::Unchecked => {
                let msg = signed_message(self.origin.as_str(), &job.payload);
                key.verify_strict(&msg, &signed.signature).is_ok()
            }
        };
        if !valid {
            return Err(AdmissionError::BadSignature(signed.payload.signer.to_string()).into());
        }
        let signer = self
            .registry
            .signer_registration(signed)
            .cloned()
            .ok_or_else(|| AdmissionError::UnknownKey(signed.payload.signer.to_string()))?;
        let event = &signed.payload.event;
        if let Event::ContractFiled { contract } = event
            && let lvyue_ledger::event::Source::Import { external_ref } = &contract.source
            && let Some(at) =
                self.indexer
                    .imported(self.store.view(), &signer.holder, external_ref.as_str())
        {
            return Err(SubmitError::AlreadyImported {
                feed: signer.holder.to_string(),
                external_ref: external_ref.as_str().to_string(),
                index: at,
            });
        }
        self.engine.check(event, &signer, p.time_ms)?;
        let bytes =
            Entry::submitted_bytes(index, p.time_ms, &p.prev, &job.payload, &signed.signature)?;
        let leaf = leaf_hash(&bytes);
        for state in self.registry.apply(index, event)? {
            let name = KeyName::new(state.registration.name.as_str())
                .map_err(|e| SubmitError::Storage(e.to_string()))?;
            let vk = VerifierKey::new(name, &state.registration.public_key)
                .map_err(|e| SubmitError::Storage(e.to_string()))?;
            p.batch.put_key_state(&state, vk.id())?;
            if matches!(event, Event::KeyRegistered { .. } | Event::Genesis { .. }) {
                p.new_keys.push((
                    KeyRef {
                        name: state.registration.name.clone(),
                        id: vk.id(),
                    },
                    vk,
                ));
            }
        }
        p.batch.record_submission(&id, index);
        p.batch.push_entry(bytes.clone(), leaf, p.time_ms);
        p.seen.insert(id, index);
        p.prev = leaf;
        p.next += 1;
        let consequences = self.engine.apply(event, &signer, p.time_ms);
        self.indexer.submitted(
            self.store.view(),
            &self.engine,
            index,
            p.time_ms,
            event,
            &signer,
        );
        self.push_derived(p, consequences)?;
        Ok((bytes, leaf, index))
    }

    /// One durable append, then the receipts (or the storage error for everyone).
    fn commit(
        &mut self,
        batch: Batch,
        accepted: Vec<(Reply, Vec<u8>, Hash, u64)>,
    ) -> Result<Vec<Answer>, Vec<Answer>> {
        let (signer, origin) = (&self.signer, &self.origin);
        let m = crate::metrics::global();
        let entries = batch.len() as u64;
        let started = Instant::now();
        let result = self.store.append_unflushed(batch, |size, root| {
            Ok(sign_checkpoint(&Checkpoint::new(origin.clone(), size, *root), signer).into_bytes())
        });
        let mut appended = match result {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, "durable append failed");
                return Err(accepted
                    .into_iter()
                    .map(|(r, ..)| (r, Err(SubmitError::Storage(e.to_string()))))
                    .collect());
            }
        };
        m.commit_latency.observe(started.elapsed().as_secs_f64());
        m.batches.inc();
        m.entries_appended.inc_by(entries);
        m.batch_size.observe(entries as f64);
        m.tree_size.set(self.store.head().size);
        let checkpoint = Arc::new(self.store.head().checkpoint.clone());
        let replies = accepted
            .into_iter()
            .map(|(reply, entry, leaf_hash, index)| {
                let proof =
                    std::mem::take(&mut appended.proofs[(index - appended.first_index) as usize]);
                let accepted = Accepted {
                    index,
                    leaf_hash,
                    entry,
                    proof,
                    checkpoint: checkpoint.clone(),
                };
                (reply, Ok(accepted))
            })
            .collect();
        Ok(replies)
    }
}
