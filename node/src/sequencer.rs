//! The sequencer: one thread that owns the store's write side.
//!
//! Submissions arrive on a bounded channel. The thread takes the first one,
//! then keeps collecting until the batch is full or the wait bound passes
//! (group commit). For each batch it:
//! 1. verifies all signatures in parallel batches (two threads; batch
//!    verification falls back to strict single checks on failure),
//! 2. admits submissions in arrival order against the key registry, refusing
//!    duplicates (already in the log, or twice in this batch), wrong roles,
//!    unknown or revoked keys, oversize entries — each alone, with its reason,
//! 3. builds the hash-chained entries, appends them, their Merkle hashes and
//!    the new head in one durable sled transaction, signing a checkpoint,
//! 4. answers each submitter with a receipt (entry, inclusion proof, signed
//!    checkpoint) only after the flush has returned.

use crate::clock::Clock;
use lvyue_ledger::Hash;
use lvyue_ledger::admission::{AdmissionError, Registry};
use lvyue_ledger::checkpoint::{Checkpoint, Origin, sign_checkpoint};
use lvyue_ledger::codec::{CodecError, MAX_RECORD_SIZE};
use lvyue_ledger::event::Event;
use lvyue_ledger::hash::leaf_hash;
use lvyue_ledger::keys::{Signer, VerifierKey, verify_batch_strict};
use lvyue_ledger::record::{Body, Entry, KeyRef, Signed};
use lvyue_ledger::store::{Batch, Store, StoreError, View};
use lvyue_ledger::tlog_proof::TlogProof;
use std::collections::HashSet;
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

struct Job {
    signed: Signed,
    reply: oneshot::Sender<Result<Receipt, SubmitError>>,
}

enum Msg {
    Submit(Box<Job>),
    /// Finish the current batch, close the store, then answer.
    Stop(std::sync::mpsc::Sender<()>),
}

/// Handle to the sequencer thread.
#[derive(Clone)]
pub struct Sequencer {
    tx: SyncSender<Msg>,
    view: Arc<RwLock<Option<View>>>,
}

/// Everything the sequencer thread owns.
pub struct Writer {
    pub store: Store,
    pub registry: Registry,
    pub signer: Signer,
    pub origin: Origin,
    pub clock: Arc<dyn Clock>,
}

impl Sequencer {
    /// Starts the sequencer thread.
    pub fn start(writer: Writer, config: SequencerConfig) -> Sequencer {
        let (tx, rx) = std::sync::mpsc::sync_channel(config.queue_capacity);
        let view = Arc::new(RwLock::new(Some(writer.store.view().clone())));
        let shared = view.clone();
        std::thread::Builder::new()
            .name("lvyue-sequencer".into())
            .spawn(move || run(writer, rx, shared, config))
            .expect("spawn sequencer thread");
        Sequencer { tx, view }
    }

    /// Submits one signed event and waits for its receipt.
    pub async fn submit(&self, signed: Signed) -> Result<Receipt, SubmitError> {
        let (reply, rx) = oneshot::channel();
        match self
            .tx
            .try_send(Msg::Submit(Box::new(Job { signed, reply })))
        {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(SubmitError::Busy),
            Err(TrySendError::Disconnected(_)) => return Err(SubmitError::Closed),
        }
        rx.await.unwrap_or(Err(SubmitError::Closed))
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
        // A poisoned lock only means a reader panicked; the view itself is plain data.
        self.view.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

fn run(w: Writer, rx: Receiver<Msg>, shared: Arc<RwLock<Option<View>>>, config: SequencerConfig) {
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
        if let Some(writer) = w.as_mut() {
            if !jobs.is_empty() {
                writer.process(jobs);
                *shared.write().unwrap_or_else(|e| e.into_inner()) =
                    Some(writer.store.view().clone());
            }
        } else {
            for j in jobs {
                let _ = j.reply.send(Err(SubmitError::Closed));
            }
        }
        if let Some(done) = stop.take() {
            // Drop every handle on sled so the folder lock is released.
            *shared.write().unwrap_or_else(|e| e.into_inner()) = None;
            drop(w.take());
            tracing::info!("sequencer stopped");
            let _ = done.send(());
            break;
        }
    }
}

/// The key a submission names: from the registry, or registered earlier in the batch.
fn lookup_key(registry: &Registry, batch: &[Job], signer: &KeyRef) -> Option<VerifierKey> {
    if let Some(state) = registry.get(signer) {
        return VerifierKey::new(
            lvyue_ledger::keys::KeyName::new(state.registration.name.as_str()).ok()?,
            &state.registration.public_key,
        )
        .ok();
    }
    batch.iter().find_map(|j| {
        let reg = match &j.signed.payload.event {
            Event::KeyRegistered { key } => key,
            Event::Genesis { node_key, .. } => node_key,
            _ => return None,
        };
        let vk = VerifierKey::new(
            lvyue_ledger::keys::KeyName::new(reg.name.as_str()).ok()?,
            &reg.public_key,
        )
        .ok()?;
        (reg.name == signer.name && vk.id() == signer.id).then_some(vk)
    })
}

/// One signature to check: key, signed message, signature.
type SigItem<'a> = (&'a VerifierKey, &'a [u8], &'a [u8; 64]);

/// Step 1: verifies every signature, in parallel halves.
fn verify_signatures(registry: &Registry, origin: &str, jobs: &[Job]) -> Vec<bool> {
    let prepared: Vec<Option<(VerifierKey, Vec<u8>)>> = jobs
        .iter()
        .map(|j| {
            let vk = lookup_key(registry, jobs, &j.signed.payload.signer)?;
            let msg = j.signed.payload.signed_message(origin).ok()?;
            Some((vk, msg))
        })
        .collect();
    let items: Vec<(usize, SigItem<'_>)> = prepared
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            p.as_ref()
                .map(|(k, m)| (i, (k, m.as_slice(), &jobs[i].signed.signature)))
        })
        .collect();
    let mut ok = vec![false; jobs.len()];
    let check = |part: &[(usize, SigItem<'_>)]| -> Vec<(usize, bool)> {
        let just: Vec<_> = part.iter().map(|(_, t)| *t).collect();
        verify_batch_strict(&just)
            .into_iter()
            .zip(part)
            .map(|(r, (i, _))| (*i, r.is_ok()))
            .collect()
    };
    let results: Vec<(usize, bool)> = if items.len() >= 64 {
        let (a, b) = items.split_at(items.len() / 2);
        std::thread::scope(|s| {
            let h = s.spawn(|| check(b));
            let mut r = check(a);
            r.extend(h.join().unwrap_or_default());
            r
        })
    } else {
        check(&items)
    };
    for (i, good) in results {
        ok[i] = good;
    }
    ok
}

impl Writer {
    fn process(&mut self, jobs: Vec<Job>) {
        let sig_ok = verify_signatures(&self.registry, self.origin.as_str(), &jobs);
        let head = self.store.head().clone();
        let time_ms = self.clock.now_ms().max(head.time_ms);
        let mut batch = Batch::default();
        let mut accepted: Vec<(Job, Vec<u8>, Hash)> = Vec::new();
        let mut seen = HashSet::new();
        let mut prev = head.last_leaf;
        let registry_before = self.registry.clone();
        for (job, good) in jobs.into_iter().zip(sig_ok) {
            let index = head.size + accepted.len() as u64;
            match self.admit(
                &job.signed,
                good,
                index,
                time_ms,
                &mut seen,
                prev,
                &mut batch,
            ) {
                Ok((bytes, leaf)) => {
                    prev = leaf;
                    accepted.push((job, bytes, leaf));
                }
                Err(e) => {
                    let _ = job.reply.send(Err(e));
                }
            }
        }
        if accepted.is_empty() {
            return;
        }
        if let Err(e) = self.commit(batch, accepted) {
            tracing::error!(error = %e, "append failed; batch refused");
            self.registry = registry_before;
        }
    }

    /// Step 2 for one submission: admission, then its entry and index rows.
    #[allow(clippy::too_many_arguments)] // the batch state threaded through one loop
    fn admit(
        &mut self,
        signed: &Signed,
        sig_ok: bool,
        index: u64,
        time_ms: i64,
        seen: &mut HashSet<Hash>,
        prev: Hash,
        batch: &mut Batch,
    ) -> Result<(Vec<u8>, Hash), SubmitError> {
        let id = signed.submission_id().map_err(SubmitError::Codec)?;
        if let Some(at) = self
            .store
            .view()
            .submission(&id)
            .map_err(|e| SubmitError::Storage(e.to_string()))?
        {
            return Err(AdmissionError::Duplicate(at).into());
        }
        if !seen.insert(id) {
            return Err(AdmissionError::DuplicateInBatch.into());
        }
        self.registry.authorize(signed, index, time_ms)?;
        if !sig_ok {
            return Err(AdmissionError::BadSignature(signed.payload.signer.to_string()).into());
        }
        let entry = Entry {
            index,
            time_ms,
            prev,
            body: Body::Submitted(signed.clone()),
        };
        let bytes = match entry.encode() {
            Ok(b) => b,
            Err(CodecError::TooLarge { size }) => return Err(SubmitError::TooLarge { size }),
            Err(e) => return Err(SubmitError::Codec(e)),
        };
        let leaf = leaf_hash(&bytes);
        for state in self.registry.apply(index, &signed.payload.event)? {
            let id = VerifierKey::new(
                lvyue_ledger::keys::KeyName::new(state.registration.name.as_str())
                    .map_err(|e| SubmitError::Storage(e.to_string()))?,
                &state.registration.public_key,
            )
            .map_err(|e| SubmitError::Storage(e.to_string()))?
            .id();
            batch
                .put_key_state(&state, id)
                .map_err(SubmitError::Codec)?;
        }
        batch.record_submission(&id, index);
        batch.push_entry(bytes.clone(), leaf, time_ms);
        Ok((bytes, leaf))
    }

    /// Steps 3 and 4: one durable append, then the receipts.
    fn commit(
        &mut self,
        batch: Batch,
        accepted: Vec<(Job, Vec<u8>, Hash)>,
    ) -> Result<(), StoreError> {
        let (signer, origin) = (&self.signer, &self.origin);
        let result = self.store.append(batch, |size, root| {
            Ok(sign_checkpoint(&Checkpoint::new(origin.clone(), size, *root), signer).into_bytes())
        });
        let appended = match result {
            Ok(a) => a,
            Err(e) => {
                for (job, _, _) in accepted {
                    let _ = job.reply.send(Err(SubmitError::Storage(e.to_string())));
                }
                return Err(e);
            }
        };
        let checkpoint = self.store.head().checkpoint.clone();
        for (k, ((job, bytes, leaf), proof)) in
            accepted.into_iter().zip(appended.proofs).enumerate()
        {
            let index = appended.first_index + k as u64;
            let receipt = TlogProof::new(None, index, proof, checkpoint.clone())
                .map(|p| Receipt {
                    index,
                    leaf_hash: leaf,
                    entry: bytes,
                    proof: p.to_text(),
                })
                .map_err(|e| SubmitError::Storage(e.to_string()));
            let _ = job.reply.send(receipt);
        }
        Ok(())
    }
}
