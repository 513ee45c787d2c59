//! Whole-log audit: replays a log entry by entry and proves it is what its
//! signed checkpoint says, or names the first index where it is not.
//!
//! Steps, for each entry `i` (in order, starting at 0):
//! 1. the bytes decode strictly (one canonical byte string per record);
//! 2. the entry's `index` is `i`, its `prev` is the leaf hash of entry `i-1`
//!    (all zero for entry 0), and its node time is not less than entry `i-1`'s;
//! 3. a submitted entry is admitted by the key registry as of entry `i`
//!    (known, unrevoked key, valid at that time, role allowed, event
//!    consistent) and is not a replay of an earlier submission;
//! 4. its signature verifies strictly (checked in batches, see
//!    [`crate::keys::verify_batch_strict`]);
//! 5. the rules engine ([`crate::engine`]) allows the submission (party
//!    authorization, validation), and every derived record is exactly the
//!    next one the engine derives — from deadlines passed by the entry's
//!    time, or as consequences of the preceding submission — in order: a
//!    missing, extra or altered derived record is a violation;
//! 6. the RFC 6962 root over entries `0..n` equals the root of the signed
//!    checkpoint of size `n`.
//!
//! Memory is O(log n) for the Merkle frontier plus the replay set of
//! submission ids, the key registry and the rules engine's state.
//!
//! An audit can be resumed: after a clean [`Auditor::finish`],
//! [`Auditor::snapshot`] writes everything the next audit needs (frontier,
//! chain head, replay set, registry, engine) and [`Auditor::restore`] picks
//! up at the next entry.

use crate::admission::{KeyState, Registry};
use crate::checkpoint::VerifiedCheckpoint;
use crate::engine::Engine;
use crate::hash::{Hash, leaf_hash, node_hash};
use crate::keys::{VerifierKey, verify_batch_strict};
use crate::record::Derived;
use crate::record::{Body, Entry};
use crate::uscc::Uscc;
use bincode::{Decode, Encode};
use std::collections::HashMap;
use std::collections::VecDeque;

/// Tampering or misbehaviour the audit proved, naming where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("entry {index}: does not decode: {error}")]
    Decode { index: u64, error: String },
    #[error("entry {index}: says it is index {found}")]
    WrongIndex { index: u64, found: u64 },
    #[error("entry {index}: prev is {found}, want leaf hash of entry {} = {expected}", index.wrapping_sub(1))]
    BrokenChain {
        index: u64,
        expected: Hash,
        found: Hash,
    },
    #[error("entry {index}: node time {found} is before the previous entry's {previous}")]
    TimeWentBack {
        index: u64,
        previous: i64,
        found: i64,
    },
    #[error("entry {index}: not admissible: {reason}")]
    NotAdmissible { index: u64, reason: String },
    #[error("entry {index}: replays the submission at index {first}")]
    Replay { index: u64, first: u64 },
    #[error("entry {index}: bad signature by {key}")]
    BadSignature { index: u64, key: String },
    #[error("entry {index}: derived record the rules do not derive")]
    UnexpectedDerived { index: u64 },
    #[error("entry {index}: the rules derive {expected} here, which is missing")]
    MissingDerived { index: u64, expected: String },
    #[error(
        "entry {index}: derived record differs from the rules: expected {expected}, found {found}"
    )]
    DerivedMismatch {
        index: u64,
        expected: String,
        found: String,
    },
    #[error("tree of size {size}: root is {computed}, the signed checkpoint says {signed}")]
    RootMismatch {
        size: u64,
        computed: Hash,
        signed: Hash,
    },
    #[error("log has {found} entries, the signed checkpoint says {size}")]
    TooShort { size: u64, found: u64 },
}

/// What a clean audit covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub size: u64,
    pub root: Hash,
    pub submitted: u64,
    pub derived: u64,
}

struct PendingSig {
    index: u64,
    key: VerifierKey,
    msg: Vec<u8>,
    sig: [u8; 64],
}

/// An incremental auditor: feed entries in order, then `finish`.
pub struct Auditor {
    origin: String,
    registry: Registry,
    size: u64,
    prev: Hash,
    time_ms: i64,
    /// Merkle frontier: roots of the perfect subtrees of the tree so far, left to right.
    frontier: Vec<(u32, Hash)>,
    seen: HashMap<Hash, u64>,
    pending: Vec<PendingSig>,
    sigs: SigPool,
    submitted: u64,
    derived: u64,
    /// Hashes completed by the last entry fed: (level, index at level, hash).
    completed: Vec<(u8, u64, Hash)>,
    engine: Engine,
    /// Derived records the engine expects next, in order.
    expected: VecDeque<Derived>,
    /// Size at the last clean `finish`: only such a state may be snapshot.
    verified_size: Option<u64>,
}

/// Encoding of auditor snapshots (as the engine's: bincode, big-endian, fixed ints).
const SNAPSHOT_CONFIG: bincode::config::Configuration<
    bincode::config::BigEndian,
    bincode::config::Fixint,
> = bincode::config::standard()
    .with_big_endian()
    .with_fixed_int_encoding();

/// Version of [`Snapshot`]; bumped on any change of its fields.
const SNAPSHOT_VERSION: u8 = 1;

/// An auditor between two audits. Not part of the log format: it is the
/// auditor's own file, and only the auditor that wrote it reads it.
#[derive(Encode, Decode)]
struct Snapshot {
    version: u8,
    origin: String,
    size: u64,
    prev: [u8; 32],
    time_ms: i64,
    frontier: Vec<(u32, [u8; 32])>,
    /// Replay set, in index order.
    seen: Vec<([u8; 32], u64)>,
    keys: Vec<KeyState>,
    legacy: Vec<Uscc>,
    submitted: u64,
    derived: u64,
    engine: Vec<u8>,
}

fn show(d: &Derived) -> String {
    serde_json::to_string(d).unwrap_or_else(|_| format!("{d:?}"))
}

/// Verifier threads: batches of signatures go in; each thread remembers the
/// lowest index whose signature fails. The replay never waits for them
/// except when the bounded queue is full, so decoding, admission and the
/// rules overlap with signature checking on the other core.
struct SigPool {
    tx: Option<std::sync::mpsc::SyncSender<Vec<PendingSig>>>,
    workers: Vec<std::thread::JoinHandle<Option<(u64, String)>>>,
}

impl SigPool {
    fn start(threads: usize) -> SigPool {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<PendingSig>>(2 * threads);
        // One receiver shared by the workers; the lock is held only to take a batch.
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let workers = (0..threads)
            .map(|_| {
                let rx = rx.clone();
                std::thread::spawn(move || {
                    let mut first_bad: Option<(u64, String)> = None;
                    loop {
                        let batch = match rx.lock().map(|r| r.recv()) {
                            Ok(Ok(b)) => b,
                            _ => return first_bad,
                        };
                        let items: Vec<_> = batch
                            .iter()
                            .map(|p| (&p.key, p.msg.as_slice(), &p.sig))
                            .collect();
                        for (p, r) in batch.iter().zip(verify_batch_strict(&items)) {
                            if r.is_err() && first_bad.as_ref().is_none_or(|(i, _)| p.index < *i) {
                                first_bad =
                                    Some((p.index, format!("{}+{:08x}", p.key.name(), p.key.id())));
                            }
                        }
                    }
                })
            })
            .collect();
        SigPool {
            tx: Some(tx),
            workers,
        }
    }

    fn send(&mut self, batch: Vec<PendingSig>) {
        if let Some(tx) = &self.tx {
            // A send fails only if every worker died; finish() then reports nothing verified.
            let _ = tx.send(batch);
        }
    }

    /// Waits for every batch; the lowest failing index, if any.
    fn finish(&mut self) -> Option<(u64, String)> {
        self.tx = None;
        let mut first: Option<(u64, String)> = None;
        for w in self.workers.drain(..) {
            let bad = w
                .join()
                .unwrap_or_else(|_| Some((0, "verifier thread panicked".into())));
            if let Some(b) = bad {
                if first.as_ref().is_none_or(|f| b.0 < f.0) {
                    first = Some(b);
                }
            }
        }
        first
    }
}

/// Signatures checked per batch.
const SIG_BATCH: usize = 2048;

impl Auditor {
    /// Starts an audit of the log named `origin`.
    #[must_use]
    pub fn new(origin: &str, registry: Registry) -> Auditor {
        Auditor {
            origin: origin.to_string(),
            registry,
            size: 0,
            prev: Hash::ZERO,
            time_ms: i64::MIN,
            frontier: Vec::new(),
            seen: HashMap::new(),
            pending: Vec::new(),
            sigs: SigPool::start(2),
            submitted: 0,
            derived: 0,
            completed: Vec::new(),
            engine: Engine::new(),
            expected: VecDeque::new(),
            verified_size: None,
        }
    }

    /// The auditor's state after a clean [`Auditor::finish`], as bytes.
    ///
    /// # Errors
    ///
    /// If the entries fed since the last clean `finish` have not all been
    /// verified (a snapshot must never vouch for an unchecked entry), or the
    /// engine state does not encode.
    pub fn snapshot(&self) -> Result<Vec<u8>, String> {
        if self.verified_size != Some(self.size) {
            return Err(format!(
                "entries up to {} are not verified: snapshot only after a clean finish",
                self.size
            ));
        }
        let mut seen: Vec<([u8; 32], u64)> = self.seen.iter().map(|(h, &i)| (h.0, i)).collect();
        seen.sort_unstable_by_key(|&(_, i)| i);
        let snap = Snapshot {
            version: SNAPSHOT_VERSION,
            origin: self.origin.clone(),
            size: self.size,
            prev: self.prev.0,
            time_ms: self.time_ms,
            frontier: self.frontier.iter().map(|&(l, h)| (l, h.0)).collect(),
            seen,
            keys: self.registry.states().cloned().collect(),
            legacy: self.registry.legacy_codes().copied().collect(),
            submitted: self.submitted,
            derived: self.derived,
            engine: self.engine.snapshot()?,
        };
        bincode::encode_to_vec(&snap, SNAPSHOT_CONFIG).map_err(|e| e.to_string())
    }

    /// An auditor from [`Auditor::snapshot`] bytes, ready for the next entry.
    ///
    /// # Errors
    ///
    /// If the bytes are not a snapshot of this version (trailing bytes
    /// included), or a key or the engine state does not restore.
    pub fn restore(bytes: &[u8]) -> Result<Auditor, String> {
        let (snap, used): (Snapshot, usize) =
            bincode::decode_from_slice(bytes, SNAPSHOT_CONFIG).map_err(|e| e.to_string())?;
        if used != bytes.len() {
            return Err(format!(
                "{} trailing bytes after the auditor snapshot",
                bytes.len() - used
            ));
        }
        if snap.version != SNAPSHOT_VERSION {
            return Err(format!(
                "auditor snapshot version {}, this auditor reads {SNAPSHOT_VERSION}",
                snap.version
            ));
        }
        let mut registry = Registry::new(snap.legacy);
        for key in snap.keys {
            registry.restore(key).map_err(|e| e.to_string())?;
        }
        let mut a = Auditor::new(&snap.origin, registry);
        a.size = snap.size;
        a.prev = Hash(snap.prev);
        a.time_ms = snap.time_ms;
        a.frontier = snap
            .frontier
            .into_iter()
            .map(|(l, h)| (l, Hash(h)))
            .collect();
        a.seen = snap.seen.into_iter().map(|(h, i)| (Hash(h), i)).collect();
        a.submitted = snap.submitted;
        a.derived = snap.derived;
        a.engine = Engine::restore(&snap.engine)?;
        a.verified_size = Some(a.size);
        Ok(a)
    }

    /// The log's origin this auditor checks.
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The rules engine's state after the entries fed so far.
    #[must_use]
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Entries fed so far.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Steps 1–5 for the next entry, and its leaf into the Merkle frontier.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), Violation> {
        let index = self.size;
        let entry = Entry::decode(bytes).map_err(|e| Violation::Decode {
            index,
            error: e.to_string(),
        })?;
        if entry.index != index {
            return Err(Violation::WrongIndex {
                index,
                found: entry.index,
            });
        }
        if entry.prev != self.prev {
            return Err(Violation::BrokenChain {
                index,
                expected: self.prev,
                found: entry.prev,
            });
        }
        if entry.time_ms < self.time_ms {
            return Err(Violation::TimeWentBack {
                index,
                previous: self.time_ms,
                found: entry.time_ms,
            });
        }
        match &entry.body {
            Body::Submitted(signed) => {
                if let Some(d) = self.expected.front() {
                    return Err(Violation::MissingDerived {
                        index,
                        expected: show(d),
                    });
                }
                if let Some(d) = self.engine.advance(entry.time_ms).first() {
                    return Err(Violation::MissingDerived {
                        index,
                        expected: show(d),
                    });
                }
                self.check_submitted(index, entry.time_ms, signed)?;
                self.apply_rules(index, entry.time_ms, signed)?;
            }
            Body::Derived(found) => {
                if self.expected.is_empty() {
                    self.expected = self.engine.advance(entry.time_ms).into();
                }
                match self.expected.pop_front() {
                    None => return Err(Violation::UnexpectedDerived { index }),
                    Some(want) if want != *found => {
                        return Err(Violation::DerivedMismatch {
                            index,
                            expected: show(&want),
                            found: show(found),
                        });
                    }
                    Some(_) => self.derived += 1,
                }
            }
        }
        let leaf = leaf_hash(bytes);
        self.push_leaf(leaf);
        self.prev = leaf;
        self.time_ms = entry.time_ms;
        self.size += 1;
        Ok(())
    }

    fn check_submitted(
        &mut self,
        index: u64,
        time_ms: i64,
        signed: &crate::record::Signed,
    ) -> Result<(), Violation> {
        let bad = |reason: String| Violation::NotAdmissible { index, reason };
        if let crate::event::Event::Genesis { origin, .. } = &signed.payload.event {
            if origin.as_str() != self.origin {
                return Err(bad(format!(
                    "genesis names origin {origin:?}, the log is {:?}",
                    self.origin
                )));
            }
        }
        crate::admission::check_no_id_numbers(&signed.payload.event)
            .map_err(|e| bad(e.to_string()))?;
        // The payload is encoded once, for both its replay id and its signed message.
        let payload = crate::codec::encode(&signed.payload).map_err(|e| bad(e.to_string()))?;
        let id = crate::record::submission_id(&payload);
        if let Some(&first) = self.seen.get(&id) {
            return Err(Violation::Replay { index, first });
        }
        let key = self
            .registry
            .authorize(signed, index, time_ms)
            .map_err(|e| bad(e.to_string()))?;
        self.registry
            .apply(index, &signed.payload.event)
            .map_err(|e| bad(e.to_string()))?;
        let msg = crate::record::signed_message(&self.origin, &payload);
        self.pending.push(PendingSig {
            index,
            key,
            msg,
            sig: signed.signature,
        });
        self.seen.insert(id, index);
        self.submitted += 1;
        if self.pending.len() >= SIG_BATCH {
            self.flush_signatures();
        }
        Ok(())
    }

    /// Step 5 for a submission: the engine allows it, and its consequences
    /// become the derived records expected next.
    fn apply_rules(
        &mut self,
        index: u64,
        time_ms: i64,
        signed: &crate::record::Signed,
    ) -> Result<(), Violation> {
        let bad = |reason: String| Violation::NotAdmissible { index, reason };
        if self.engine.next_index() != index {
            return Err(bad(format!(
                "rules engine is at index {}, the log at {index}",
                self.engine.next_index()
            )));
        }
        let signer = self
            .registry
            .signer_registration(signed)
            .cloned()
            .ok_or_else(|| bad("signer is not registered".into()))?;
        let event = &signed.payload.event;
        self.engine
            .check(event, &signer, time_ms)
            .map_err(|e| bad(e.to_string()))?;
        self.expected = self.engine.apply(event, &signer, time_ms).into();
        Ok(())
    }

    /// Step 4: hands the buffered signatures to the verifier threads, which
    /// check them while the replay goes on.
    fn flush_signatures(&mut self) {
        let batch = std::mem::take(&mut self.pending);
        if !batch.is_empty() {
            self.sigs.send(batch);
        }
    }

    fn push_leaf(&mut self, leaf: Hash) {
        self.completed.clear();
        self.completed.push((0, self.size, leaf));
        let mut cur = (0u32, leaf);
        while let Some(&(level, h)) = self.frontier.last() {
            if level != cur.0 {
                break;
            }
            self.frontier.pop();
            cur = (level + 1, node_hash(&h, &cur.1));
            self.completed
                .push((cur.0 as u8, self.size >> cur.0, cur.1));
        }
        self.frontier.push(cur);
    }

    /// The Merkle hashes the last entry completed, as (level, index at that
    /// level, hash): its leaf hash first. A store compares them with what it
    /// has stored.
    #[must_use]
    pub fn completed_hashes(&self) -> &[(u8, u64, Hash)] {
        &self.completed
    }

    /// RFC 6962 root of the entries fed so far.
    #[must_use]
    pub fn root(&self) -> Hash {
        let mut it = self.frontier.iter().rev();
        let Some(&(_, mut h)) = it.next() else {
            return crate::hash::sha256(b"");
        };
        for (_, left) in it {
            h = node_hash(left, &h);
        }
        h
    }

    /// Step 6: the remaining signatures, then the root against `checkpoint`
    /// (which must be for exactly the entries fed).
    pub fn finish(&mut self, checkpoint: &VerifiedCheckpoint) -> Result<Summary, Violation> {
        self.flush_signatures();
        if let Some((index, key)) = self.sigs.finish() {
            return Err(Violation::BadSignature { index, key });
        }
        if let Some(d) = self.expected.front() {
            return Err(Violation::MissingDerived {
                index: self.size,
                expected: show(d),
            });
        }
        if checkpoint.size() != self.size {
            return Err(Violation::TooShort {
                size: checkpoint.size(),
                found: self.size,
            });
        }
        let root = self.root();
        if root != checkpoint.root() {
            return Err(Violation::RootMismatch {
                size: self.size,
                computed: root,
                signed: checkpoint.root(),
            });
        }
        self.verified_size = Some(self.size);
        // The verifier threads are gone; later entries go to fresh ones.
        self.sigs = SigPool::start(2);
        Ok(Summary {
            size: self.size,
            root,
            submitted: self.submitted,
            derived: self.derived,
        })
    }
}
