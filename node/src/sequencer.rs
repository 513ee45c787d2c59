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
use lvyue_ledger::Hash;
use lvyue_ledger::admission::{AdmissionError, Registry};
use lvyue_ledger::checkpoint::{Checkpoint, Origin, sign_checkpoint};
use lvyue_ledger::codec::{CodecError, MAX_RECORD_SIZE};
use lvyue_ledger::event::Event;
use lvyue_ledger::hash::leaf_hash;
use lvyue_ledger::keys::{KeyName, Signer, VerifierKey};
use lvyue_ledger::record::{Entry, KeyRef, Signed, signed_message};
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
    /// Longest a submission waits for others to join its batch.
    pub max_wait: Duration,
    /// Submissions waiting beyond this many are refused with "busy".
    pub queue_capacity: usize,
}

impl Default for SequencerConfig {
    fn default() -> Self {
        SequencerConfig {
            max_batch: 1024,
            max_wait: Duration::from_millis(2),
            queue_capacity: 65_536,
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
    #[error("entry of {size} bytes is over the limit of {MAX_RECORD_SIZE}")]
    TooLarge { size: usize },
    #[error("encoding: {0}")]
    Codec(CodecError),
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

type Reply = oneshot::Sender<Result<Receipt, SubmitError>>;

/// A reply to send once the batch's head is published.
type Answer = (Reply, Result<Receipt, SubmitError>);

struct Job {
    signed: Signed,
    /// Canonical bytes of `signed.payload`, computed once in stage 1.
    payload: Vec<u8>,
    /// Its submission id.
    id: Hash,
    sig: SigCheck,
    reply: Reply,
}

enum Msg {
    Submit(Box<Job>),
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

/// Everything the sequencer thread owns.
pub struct Writer {
    pub store: Store,
    pub registry: Registry,
    pub signer: Signer,
    pub origin: Origin,
    pub clock: Arc<dyn Clock>,
}

/// Reads through a lock that a panicking holder may have poisoned: the
/// guarded values are plain data, always left consistent.
fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
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
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(SubmitError::Busy),
            Err(TrySendError::Disconnected(_)) => return Err(SubmitError::Closed),
        }
        rx.await.unwrap_or(Err(SubmitError::Closed))
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

fn run(w: Writer, rx: Receiver<Msg>, shared: Shared, config: SequencerConfig) {
    let mut w = Some(w);
    let mut stop = None;
    while let Ok(first) = rx.recv() {
        let mut jobs = Vec::new();
        match first {
            Msg::Submit(j) => jobs.push(*j),
            Msg::Stop(done) => stop = Some(done),
        }
        let deadline = Instant::now() + config.max_wait;
        while stop.is_none() && jobs.len() < config.max_batch {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(Msg::Submit(j)) => jobs.push(*j),
                Ok(Msg::Stop(done)) => stop = Some(done),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        match w.as_mut() {
            Some(writer) if !jobs.is_empty() => {
                let (receipts, new_keys) = writer.process(jobs);
                // Readers see the new head before any submitter holds a receipt for it.
                *write(&shared.view) = Some(writer.store.view().clone());
                write(&shared.keys).extend(new_keys);
                for (reply, receipt) in receipts {
                    let _ = reply.send(receipt);
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
            // Drop every handle on sled so the folder lock is released.
            *write(&shared.view) = None;
            drop(w.take());
            tracing::info!("sequencer stopped");
            let _ = done.send(());
            break;
        }
    }
}

/// Batch state threaded through admission.
struct Pending {
    batch: Batch,
    accepted: Vec<(Reply, Vec<u8>, Hash)>,
    /// Submission ids admitted in this batch, with their indexes.
    seen: HashMap<Hash, u64>,
    new_keys: Vec<(KeyRef, VerifierKey)>,
    prev: Hash,
    next: u64,
    time_ms: i64,
}

impl Writer {
    /// Admits and appends one batch. Returns the replies to send once the new
    /// head is published, and the keys it registered.
    fn process(&mut self, jobs: Vec<Job>) -> (Vec<Answer>, Vec<(KeyRef, VerifierKey)>) {
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
        let registry_before = self.registry.clone();
        for job in jobs {
            match self.admit(&job, &mut p) {
                Ok((bytes, leaf)) => p.accepted.push((job.reply, bytes, leaf)),
                Err(e) => {
                    let _ = job.reply.send(Err(e));
                }
            }
        }
        if p.accepted.is_empty() {
            return (Vec::new(), Vec::new());
        }
        match self.commit(p.batch, p.accepted) {
            Ok(replies) => (replies, p.new_keys),
            Err(replies) => {
                tracing::error!("append failed; batch refused");
                self.registry = registry_before;
                (replies, Vec::new())
            }
        }
    }

    /// Admission of one submission: replay, registry, signature, size; then
    /// its entry and index rows join the batch.
    fn admit(&mut self, job: &Job, p: &mut Pending) -> Result<(Vec<u8>, Hash), SubmitError> {
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
        let bytes =
            Entry::submitted_bytes(index, p.time_ms, &p.prev, &job.payload, &signed.signature)?;
        let leaf = leaf_hash(&bytes);
        for state in self.registry.apply(index, &signed.payload.event)? {
            let name = KeyName::new(state.registration.name.as_str())
                .map_err(|e| SubmitError::Storage(e.to_string()))?;
            let vk = VerifierKey::new(name, &state.registration.public_key)
                .map_err(|e| SubmitError::Storage(e.to_string()))?;
            p.batch.put_key_state(&state, vk.id())?;
            if matches!(
                signed.payload.event,
                Event::KeyRegistered { .. } | Event::Genesis { .. }
            ) {
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
        Ok((bytes, leaf))
    }

    /// One durable append, then the receipts (or the storage error for everyone).
    fn commit(
        &mut self,
        batch: Batch,
        accepted: Vec<(Reply, Vec<u8>, Hash)>,
    ) -> Result<Vec<Answer>, Vec<Answer>> {
        let (signer, origin) = (&self.signer, &self.origin);
        let result = self.store.append(batch, |size, root| {
            Ok(sign_checkpoint(&Checkpoint::new(origin.clone(), size, *root), signer).into_bytes())
        });
        let appended = match result {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, "durable append failed");
                return Err(accepted
                    .into_iter()
                    .map(|(r, _, _)| (r, Err(SubmitError::Storage(e.to_string()))))
                    .collect());
            }
        };
        let checkpoint = &self.store.head().checkpoint;
        let replies = accepted
            .into_iter()
            .zip(appended.proofs)
            .enumerate()
            .map(|(k, ((reply, bytes, leaf), proof))| {
                let index = appended.first_index + k as u64;
                let receipt = TlogProof::new(None, index, proof, checkpoint.clone())
                    .map(|p| Receipt {
                        index,
                        leaf_hash: leaf,
                        entry: bytes,
                        proof: p.to_text(),
                    })
                    .map_err(|e| SubmitError::Storage(e.to_string()));
                (reply, receipt)
            })
            .collect();
        Ok(replies)
    }
}
