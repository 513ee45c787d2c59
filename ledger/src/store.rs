//! The append-only sled store (feature `store`).
//!
//! One sled tree, `log`, holds everything, so one atomic sled batch makes a
//! batch durable atomically. Keys (all integers big-endian):
//!
//! | key                         | value                                   |
//! |-----------------------------|-----------------------------------------|
//! | `e` ‖ index (u64)           | canonical entry bytes                   |
//! | `h` ‖ level (u8) ‖ block (u64) | up to 256 Merkle hashes of that level, positions `256·block …`, concatenated |
//! | `S` ‖ first index (u64)     | submission ids of one batch: (id (32) ‖ index (u64)) each |
//! | `k` ‖ key name ‖ `+` ‖ id   | canonical [`KeyState`]                  |
//! | `m` ‖ name                  | node metadata (origin, public key)      |
//! | `H`                         | canonical [`Head`]                      |
//!
//! A batch writes its entries, their hashes, index rows and the new head in
//! one atomic sled batch, after checking that the head is still the one the
//! batch was built on (the store is its tree's only writer), then flushes
//! ([`Store::append`]), or leaves the flush to another thread
//! ([`Store::append_unflushed`], [`Flusher`]). Nothing is acknowledged
//! before the flush returns. Reopening reads the head
//! and checks that its last entry exists and that the stored hashes give its
//! root: O(log n) reads, no replay.

use crate::admission::KeyState;
use crate::codec::{self, CodecError};
use crate::hash::Hash;
use crate::record::KeyRef;
use crate::tlog::{self, HashReader, TlogError};
use bincode::{Decode, Encode};
use std::collections::HashMap;
use std::path::Path;

const HEAD_KEY: &[u8] = b"H";

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    #[error("corrupt store: {0}")]
    Corrupt(String),
    #[error("head moved underneath the writer (expected size {expected}, found {found})")]
    HeadMoved { expected: u64, found: u64 },
    #[error("merkle: {0}")]
    Tlog(#[from] TlogError),
    #[error("encoding: {0}")]
    Codec(#[from] CodecError),
    #[error("signing the checkpoint failed: {0}")]
    Sign(String),
}

/// The durable head of the log: its size, root, the leaf hash of its last
/// entry (the `prev` of the next one), the node time of its last entry and
/// the signed checkpoint for this size.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Default)]
pub struct Head {
    pub size: u64,
    pub root: Hash,
    pub last_leaf: Hash,
    pub time_ms: i64,
    pub checkpoint: Vec<u8>,
}

/// One atomic append: entries plus the index rows that go with them.
#[derive(Default)]
pub struct Batch {
    entries: Vec<(Vec<u8>, Hash)>,
    rows: Vec<(Vec<u8>, Vec<u8>)>,
    /// Query-index rows (prefixes `b` and `x`): set or removed.
    index_rows: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    submissions: Vec<(Hash, u64)>,
    time_ms: i64,
}

impl Batch {
    /// Adds canonical entry bytes with their leaf hash and node time.
    pub fn push_entry(&mut self, bytes: Vec<u8>, leaf: Hash, time_ms: i64) {
        self.entries.push((bytes, leaf));
        self.time_ms = self.time_ms.max(time_ms);
    }
    /// Records that submission `id` is entry `index`.
    pub fn record_submission(&mut self, id: &Hash, index: u64) {
        self.submissions.push((*id, index));
    }
    /// Persists a key's new state.
    pub fn put_key_state(&mut self, state: &KeyState, id: u32) -> Result<(), CodecError> {
        let r = KeyRef {
            name: state.registration.name.clone(),
            id,
        };
        self.rows
            .push((key(b'k', r.to_string().as_bytes()), codec::encode(state)?));
        Ok(())
    }
    /// Sets a metadata value.
    pub fn put_meta(&mut self, name: &str, value: Vec<u8>) {
        self.rows.push((key(b'm', name.as_bytes()), value));
    }
    /// Sets (`Some`) or removes (`None`) a query-index row. Index keys
    /// start with `b` (the public book) or `x` (query indexes) and are
    /// applied after all other rows of the batch, in order.
    pub fn put_index_row(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        debug_assert!(matches!(key.first(), Some(b'b' | b'x')), "index key");
        self.index_rows.push((key, value));
    }
    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// Whether the batch has no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn key(prefix: u8, rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + rest.len());
    k.push(prefix);
    k.extend_from_slice(rest);
    k
}

fn index_key(prefix: u8, i: u64) -> [u8; 9] {
    let mut k = [prefix; 9];
    k[1..].copy_from_slice(&i.to_be_bytes());
    k
}

/// The sled store. One writer at a time: sled locks the folder.
pub struct Store {
    db: sled::Db,
    view: View,
    /// Every submission id in the log, with its index: the replay index.
    /// Persisted as one `S` row per batch (one sled row, not one per
    /// submission: random-key rows doubled the cost of a commit) and loaded
    /// whole at open.
    replay: HashMap<Hash, u64>,
}

/// Makes a store's applied batches durable (see [`Store::append_unflushed`]).
#[derive(Clone)]
pub struct Flusher(sled::Db);

impl Flusher {
    /// Flushes every batch applied before this call; durable on return.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.0.flush()?;
        Ok(())
    }
}

/// A read-only view of the store at one head: cheap to clone (the sled
/// tree is reference-counted), safe to use from any thread while the writer
/// appends, and never shows entries beyond its head.
#[derive(Clone)]
pub struct View {
    log: sled::Tree,
    head: Head,
}

/// The result of an append: the new head and one inclusion proof per
/// appended entry, against the new head.
pub struct Appended {
    pub first_index: u64,
    pub proofs: Vec<Vec<Hash>>,
}

/// Store tuning.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// sled page cache, bytes.
    pub cache_bytes: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            cache_bytes: 1 << 30,
        }
    }
}

impl Store {
    /// Opens (or creates) the store in `dir` and restores the durable head.
    pub fn open(dir: &Path, config: &StoreConfig) -> Result<Store, StoreError> {
        let db = open_db(dir, config)?;
        let log = db.open_tree("log")?;
        let head = match log.get(HEAD_KEY)? {
            Some(v) => codec::decode(&v)?,
            None => Head::default(),
        };
        let view = View { log, head };
        view.check_head()?;
        let replay = load_replay(&view)?;
        Ok(Store { db, view, replay })
    }

    /// The entry index holding submission `id`, if it is in the log.
    #[must_use]
    pub fn submission(&self, id: &Hash) -> Option<u64> {
        self.replay.get(id).copied()
    }

    /// The view at the current durable head.
    #[must_use]
    pub fn view(&self) -> &View {
        &self.view
    }

    /// The durable head.
    #[must_use]
    pub fn head(&self) -> &Head {
        &self.view.head
    }
}

impl View {
    /// Checks that the head's last entry exists and that the stored hashes give its root.
    fn check_head(&self) -> Result<(), StoreError> {
        let n = self.head.size;
        if n == 0 {
            return Ok(());
        }
        let last = self.entry(n - 1)?.ok_or_else(|| {
            StoreError::Corrupt(format!("head size {n} but entry {} is missing", n - 1))
        })?;
        if crate::hash::leaf_hash(&last) != self.head.last_leaf {
            return Err(StoreError::Corrupt(format!(
                "entry {} does not hash to the head's last leaf",
                n - 1
            )));
        }
        let root = tlog::tree_hash(n, &self.reader())?;
        if root != self.head.root {
            return Err(StoreError::Corrupt(format!(
                "stored hashes give root {root} for size {n}, head says {}",
                self.head.root
            )));
        }
        Ok(())
    }

    /// The head this view shows.
    #[must_use]
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// Canonical bytes of entry `i`, if it is below the head.
    pub fn entry(&self, i: u64) -> Result<Option<sled::IVec>, StoreError> {
        if i >= self.head.size {
            return Ok(None);
        }
        Ok(self.log.get(index_key(b'e', i))?)
    }

    /// Entries `start..end` (clamped to the head), in order.
    pub fn entries(
        &self,
        start: u64,
        end: u64,
    ) -> impl Iterator<Item = Result<(u64, sled::IVec), StoreError>> + '_ {
        let end = end.min(self.head.size);
        let start = start.min(end);
        self.log
            .range(index_key(b'e', start)..index_key(b'e', end))
            .map(|r| {
                let (k, v) = r?;
                let i = u64::from_be_bytes(
                    k[1..9]
                        .try_into()
                        .map_err(|_| StoreError::Corrupt("bad entry key".into()))?,
                );
                Ok((i, v))
            })
    }

    /// All persisted key states.
    pub fn key_states(&self) -> Result<Vec<KeyState>, StoreError> {
        let mut out = Vec::new();
        for r in self.log.scan_prefix(b"k") {
            let (_, v) = r?;
            let state: KeyState = codec::decode(&v)?;
            if state.registered_at < self.head.size {
                out.push(state);
            }
        }
        Ok(out)
    }

    /// A query-index row (keys starting with `b` or `x`). Index rows are
    /// written with the entries they describe, in the same atomic batch.
    pub fn index_row(&self, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        Ok(self.log.get(key)?)
    }

    /// Writes operational rows that are not part of the log and not written
    /// by the sequencer (keys `xH…` webhooks, `xK…` delivery cursors):
    /// safe beside the writer since no batch touches these keys. With
    /// `flush`, durable on return; otherwise within sled's flush interval.
    pub fn put_aux_rows(
        &self,
        rows: Vec<(Vec<u8>, Option<Vec<u8>>)>,
        flush: bool,
    ) -> Result<(), StoreError> {
        let mut writes = sled::Batch::default();
        for (k, v) in rows {
            debug_assert!(k.starts_with(b"xH") || k.starts_with(b"xK"), "aux key");
            match v {
                Some(v) => writes.insert(k, v),
                None => writes.remove(k),
            }
        }
        self.log.apply_batch(writes)?;
        if flush {
            self.log.flush()?;
        }
        Ok(())
    }

    /// Query-index rows with keys in `[from, to)`, in key order, at most `limit`.
    pub fn index_range(
        &self,
        from: &[u8],
        to: &[u8],
        limit: usize,
    ) -> Result<Vec<(sled::IVec, sled::IVec)>, StoreError> {
        let mut out = Vec::new();
        for r in self.log.range(from..to).take(limit) {
            out.push(r?);
        }
        Ok(out)
    }

    /// Query-index rows with keys in `[from, to)`, last first, at most `limit`.
    pub fn index_range_rev(
        &self,
        from: &[u8],
        to: &[u8],
        limit: usize,
    ) -> Result<Vec<(sled::IVec, sled::IVec)>, StoreError> {
        let mut out = Vec::new();
        for r in self.log.range(from..to).rev().take(limit) {
            out.push(r?);
        }
        Ok(out)
    }

    /// Every query-index row whose key starts with `prefix`.
    pub fn index_prefix(&self, prefix: &[u8]) -> Result<Vec<(sled::IVec, sled::IVec)>, StoreError> {
        let mut out = Vec::new();
        for r in self.log.scan_prefix(prefix) {
            out.push(r?);
        }
        Ok(out)
    }

    /// A metadata value.
    pub fn meta(&self, name: &str) -> Result<Option<sled::IVec>, StoreError> {
        Ok(self.log.get(key(b'm', name.as_bytes()))?)
    }

    /// Reads a raw stored hash (for integrity checks).
    pub fn stored_hash(&self, i: u64) -> Result<Option<Hash>, StoreError> {
        self.reader().read_one(i)
    }

    /// Hash reader over the durable tree.
    #[must_use]
    pub fn reader(&self) -> StoreReader<'_> {
        StoreReader {
            log: &self.log,
            limit: tlog::stored_hash_count(self.head.size),
            pending: None,
        }
    }
}

impl Store {
    /// Appends `batch` atomically and durably. `sign` turns the new size and
    /// root into signed checkpoint bytes, which are stored in the new head.
    pub fn append(
        &mut self,
        batch: Batch,
        sign: impl FnOnce(u64, &Hash) -> Result<Vec<u8>, String>,
    ) -> Result<Appended, StoreError> {
        let appended = self.append_unflushed(batch, sign)?;
        self.db.flush()?;
        Ok(appended)
    }

    /// [`Store::append`] without the flush: the batch is applied atomically
    /// and readable, but durable only once a [`Flusher::flush`] that started
    /// after this call returns. sled's log is sequential and its recovery
    /// stops at the first incomplete batch, so a crash keeps a prefix of the
    /// applied batches: a later batch never survives without an earlier one.
    /// Nothing built on such a batch may be shown or acknowledged before
    /// that flush (the sequencer's flusher thread does it).
    pub fn append_unflushed(
        &mut self,
        batch: Batch,
        sign: impl FnOnce(u64, &Hash) -> Result<Vec<u8>, String>,
    ) -> Result<Appended, StoreError> {
        let old = self.view.head.clone();
        let log = self.view.log.clone();
        let mut pending: HashMap<u64, Hash> = HashMap::new();
        let mut writes = sled::Batch::default();
        let mut n = old.size;
        let mut last_leaf = old.last_leaf;
        for (bytes, leaf) in &batch.entries {
            let reader = StoreReader {
                log: &log,
                limit: tlog::stored_hash_count(n),
                pending: Some(&pending),
            };
            let hashes = tlog::stored_hashes_for_leaf_hash(n, *leaf, &reader)?;
            let base = tlog::stored_hash_count(n);
            for (j, h) in hashes.into_iter().enumerate() {
                pending.insert(base + j as u64, h);
            }
            writes.insert(&index_key(b'e', n), bytes.as_slice());
            last_leaf = *leaf;
            n += 1;
        }
        for (k, v) in hash_blocks(&log, old.size, &pending)? {
            writes.insert(k.as_slice(), v);
        }
        for (k, v) in &batch.rows {
            writes.insert(k.as_slice(), v.as_slice());
        }
        for (k, v) in &batch.index_rows {
            match v {
                Some(v) => writes.insert(k.as_slice(), v.as_slice()),
                None => writes.remove(k.as_slice()),
            }
        }
        if let Some(&(_, first)) = batch.submissions.first() {
            let mut row = Vec::with_capacity(40 * batch.submissions.len());
            for (id, index) in &batch.submissions {
                row.extend_from_slice(&id.0);
                row.extend_from_slice(&index.to_be_bytes());
            }
            writes.insert(&index_key(b'S', first), row);
        }
        let reader = StoreReader {
            log: &log,
            limit: tlog::stored_hash_count(n),
            pending: Some(&pending),
        };
        let root = tlog::tree_hash(n, &reader)?;
        let proofs = (old.size..n)
            .map(|i| tlog::prove_record(n, i, &reader))
            .collect::<Result<Vec<_>, _>>()?;
        let checkpoint = sign(n, &root).map_err(StoreError::Sign)?;
        let time_ms = old.time_ms.max(batch.time_ms);
        let new = Head {
            size: n,
            root,
            last_leaf,
            time_ms,
            checkpoint,
        };
        writes.insert(HEAD_KEY, codec::encode(&new)?);
        self.commit(&old, writes)?;
        self.view.head = new;
        self.replay.extend(batch.submissions.iter().copied());
        Ok(Appended {
            first_index: old.size,
            proofs,
        })
    }

    /// Checks the stored head is `old` and applies `writes` as one atomic
    /// sled batch (the caller flushes). The store is the only writer of its tree
    /// (`append` takes `&mut self` and sled holds the folder lock), so the
    /// check cannot race; a sled transaction would read every written key
    /// first (its `insert` returns the old value), which doubled the cost of
    /// the many random-key index rows of a batch.
    fn commit(&self, old: &Head, writes: sled::Batch) -> Result<(), StoreError> {
        let old_bytes = if old.size == 0 && old.checkpoint.is_empty() {
            None
        } else {
            Some(codec::encode(old)?)
        };
        let cur = self.view.log.get(HEAD_KEY)?;
        if cur.as_deref() != old_bytes.as_deref() {
            let found = cur
                .and_then(|c| codec::decode::<Head>(&c).ok())
                .map_or(0, |h| h.size);
            return Err(StoreError::HeadMoved {
                expected: old.size,
                found,
            });
        }
        self.view.log.apply_batch(writes)?;
        Ok(())
    }

    /// A handle that makes everything applied so far durable, usable from
    /// another thread while this store goes on appending.
    #[must_use]
    pub fn flusher(&self) -> Flusher {
        Flusher(self.db.clone())
    }

    /// Writes (or removes) query-index rows durably, outside any batch: for
    /// rebuilding indexes from the log. Keys start with `b`, `x` or `m`.
    pub fn write_index_rows(
        &self,
        rows: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) -> Result<(), StoreError> {
        let mut writes = sled::Batch::default();
        for (k, v) in rows {
            debug_assert!(matches!(k.first(), Some(b'b' | b'x' | b'm')), "index key");
            match v {
                Some(v) => writes.insert(k, v),
                None => writes.remove(k),
            }
        }
        self.view.log.apply_batch(writes)?;
        self.db.flush()?;
        Ok(())
    }

    /// Writes a metadata row durably, outside any batch (e.g. a snapshot
    /// that describes its own position).
    pub fn put_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.view.log.insert(key(b'm', name.as_bytes()), value)?;
        self.db.flush()?;
        Ok(())
    }

    /// Overwrites the canonical bytes of entry `i`: for tamper tests only.
    #[doc(hidden)]
    pub fn tamper_entry(&self, i: u64, value: &[u8]) -> Result<(), StoreError> {
        self.view.log.insert(index_key(b'e', i), value)?;
        self.db.flush()?;
        Ok(())
    }

    /// Overwrites stored hash `i` inside its block: for tamper tests only.
    #[doc(hidden)]
    pub fn tamper_hash(&self, i: u64, value: &Hash) -> Result<(), StoreError> {
        let (level, n) = tlog::split_stored_hash_index(i);
        let key = block_key(level, n / BLOCK);
        let mut block = self
            .view
            .log
            .get(key)?
            .map(|v| v.to_vec())
            .unwrap_or_default();
        let at = (n % BLOCK) as usize * 32;
        block
            .get_mut(at..at + 32)
            .ok_or_else(|| StoreError::Corrupt(format!("no stored hash {i}")))?
            .copy_from_slice(&value.0);
        self.view.log.insert(key, block)?;
        self.db.flush()?;
        Ok(())
    }

    /// Bytes on disk used by sled.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }
}

/// Opens sled, waiting up to five seconds for the folder lock: a store
/// closed a moment ago in this process may still hold it while sled's
/// background flusher winds down.
fn open_db(dir: &Path, config: &StoreConfig) -> Result<sled::Db, StoreError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let result = sled::Config::new()
            .path(dir)
            .cache_capacity(config.cache_bytes)
            .open();
        match result {
            // sled reports a held lock as an `Other` I/O error with this text.
            Err(sled::Error::Io(e))
                if e.to_string().starts_with("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return Ok(other?),
        }
    }
}

/// Hashes per block row: one C2SP tile's width.
const BLOCK: u64 = tlog::TILE_WIDTH;

fn block_key(level: u8, block: u64) -> [u8; 10] {
    let mut k = [0u8; 10];
    k[0] = b'h';
    k[1] = level;
    k[2..].copy_from_slice(&block.to_be_bytes());
    k
}

/// A block row: its key and its concatenated hashes.
type BlockRow = ([u8; 10], Vec<u8>);

/// The block rows to write for the `pending` hashes of one batch appended
/// to a tree of `old_size`: each touched block's durable prefix followed by
/// its new hashes, in position order. A batch of 1024 entries rewrites a
/// few dozen rows instead of writing ~2048 single-hash rows.
fn hash_blocks(
    log: &sled::Tree,
    old_size: u64,
    pending: &HashMap<u64, Hash>,
) -> Result<Vec<BlockRow>, StoreError> {
    let mut by_block: std::collections::BTreeMap<(u8, u64), Vec<(u64, Hash)>> =
        std::collections::BTreeMap::new();
    for (&i, h) in pending {
        let (level, n) = tlog::split_stored_hash_index(i);
        by_block
            .entry((level, n / BLOCK))
            .or_default()
            .push((n, *h));
    }
    let mut out = Vec::with_capacity(by_block.len());
    for ((level, block), mut hashes) in by_block {
        hashes.sort_unstable_by_key(|(n, _)| *n);
        let durable = (old_size >> level).saturating_sub(block * BLOCK).min(BLOCK) as usize;
        let mut value = match log.get(block_key(level, block))? {
            Some(v) if v.len() >= durable * 32 => v[..durable * 32].to_vec(),
            Some(_) | None if durable > 0 => {
                return Err(StoreError::Corrupt(format!(
                    "hash block {level}/{block} is shorter than the durable tree"
                )));
            }
            _ => Vec::new(),
        };
        for (n, h) in hashes {
            if n != block * BLOCK + (value.len() / 32) as u64 {
                return Err(StoreError::Corrupt(format!(
                    "hash {level}/{n} is not contiguous with its block"
                )));
            }
            value.extend_from_slice(&h.0);
        }
        out.push((block_key(level, block), value));
    }
    Ok(out)
}

/// Reads stored hashes from sled (and from a batch not yet written).
pub struct StoreReader<'a> {
    log: &'a sled::Tree,
    limit: u64,
    pending: Option<&'a HashMap<u64, Hash>>,
}

impl StoreReader<'_> {
    fn read_one(&self, i: u64) -> Result<Option<Hash>, StoreError> {
        if let Some(h) = self.pending.and_then(|p| p.get(&i)) {
            return Ok(Some(*h));
        }
        if i >= self.limit {
            return Ok(None);
        }
        let (level, n) = tlog::split_stored_hash_index(i);
        let Some(v) = self.log.get(block_key(level, n / BLOCK))? else {
            return Ok(None);
        };
        let at = (n % BLOCK) as usize * 32;
        let Some(bytes) = v.get(at..at + 32) else {
            return Ok(None);
        };
        let mut arr = [0u8; 32];
        arr.copy_from_slice(bytes);
        Ok(Some(Hash(arr)))
    }
}

impl HashReader for StoreReader<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TlogError> {
        indexes
            .iter()
            .map(|&i| match self.read_one(i) {
                Ok(Some(h)) => Ok(h),
                Ok(None) => Err(TlogError::MissingHash(i)),
                Err(e) => Err(TlogError::Storage(e.to_string())),
            })
            .collect()
    }
}

/// Why a store failed its audit.
#[derive(Debug, thiserror::Error)]
pub enum StoreAuditError {
    #[error("{0}")]
    Violation(#[from] crate::audit::Violation),
    #[error("entry {n}: its bytes hash to {computed}, but the stored leaf hash is {found}")]
    EntryAltered { n: u64, computed: Hash, found: Hash },
    #[error(
        "stored hash {index} (level {level}, position {n}) is {found}, entries give {computed}"
    )]
    StoredHash {
        index: u64,
        level: u8,
        n: u64,
        computed: Hash,
        found: Hash,
    },
    #[error("head checkpoint: {0}")]
    Checkpoint(#[from] crate::checkpoint::CheckpointError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl View {
    /// Audits everything this view shows: every entry (crate::audit), every
    /// stored Merkle hash against the entries, and the head's signed
    /// checkpoint (by `vkey`, for log `origin`) against the recomputed root.
    pub fn audit(
        &self,
        origin: &crate::checkpoint::Origin,
        vkey: &crate::keys::VerifierKey,
    ) -> Result<crate::audit::Summary, StoreAuditError> {
        let cp = crate::checkpoint::open(&self.head.checkpoint, origin, vkey)?;
        let mut auditor =
            crate::audit::Auditor::new(origin.as_str(), crate::admission::Registry::default());
        let reader = self.reader();
        for r in self.entries(0, self.head.size) {
            let (i, bytes) = r?;
            if i != auditor.size() {
                return Err(crate::audit::Violation::TooShort {
                    size: self.head.size,
                    found: auditor.size(),
                }
                .into());
            }
            auditor.feed(&bytes)?;
            for &(level, n, computed) in auditor.completed_hashes() {
                let index = tlog::stored_hash_index(level, n);
                let found = reader.read_one(index)?.unwrap_or(Hash::ZERO);
                if found != computed && level == 0 {
                    return Err(StoreAuditError::EntryAltered { n, computed, found });
                }
                if found != computed {
                    return Err(StoreAuditError::StoredHash {
                        index,
                        level,
                        n,
                        computed,
                        found,
                    });
                }
            }
        }
        Ok(auditor.finish(&cp)?)
    }
}

/// Loads the replay index: every `S` row, each a run of (id ‖ index).
fn load_replay(view: &View) -> Result<HashMap<Hash, u64>, StoreError> {
    let mut replay = HashMap::new();
    for row in view.log.scan_prefix(b"S") {
        let (_, v) = row?;
        if v.len() % 40 != 0 {
            return Err(StoreError::Corrupt(
                "submission row is not a run of 40-byte items".into(),
            ));
        }
        for item in v.chunks_exact(40) {
            let mut id = [0u8; 32];
            id.copy_from_slice(&item[..32]);
            let mut index = [0u8; 8];
            index.copy_from_slice(&item[32..]);
            let index = u64::from_be_bytes(index);
            if index >= view.head.size {
                return Err(StoreError::Corrupt(format!(
                    "submission row names index {index} beyond the head"
                )));
            }
            replay.insert(Hash(id), index);
        }
    }
    Ok(replay)
}
