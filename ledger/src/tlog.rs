//! Merkle tree math for the lvyue log: tree hashes, inclusion and
//! consistency proofs, the stored-hash layout, and C2SP tiles.
//!
//! Everything here is a pure function of its arguments and of the hashes a
//! [`HashReader`] returns; nothing does I/O of its own.
//!
//! # Tree
//!
//! The tree is the one of RFC 9162 §2.1 (the same as RFC 6962 §2.1): record
//! `i` has leaf hash `SHA256(0x00 || data_i)`, an interior node has hash
//! `SHA256(0x01 || left || right)` (see [`crate::hash`]), and the tree of
//! `n > 1` records splits at the largest power of two below `n`. The root of
//! the empty tree is `SHA256("")`. Tree sizes up to [`MAX_TREE_SIZE`] (2^63)
//! are supported.
//!
//! # Stored hashes
//!
//! The log stores the hash of every complete subtree, in the order in which
//! they become computable (the layout of Go's `golang.org/x/mod/sumdb/tlog`,
//! implemented independently here): appending record `n` stores its leaf hash
//! and then, lowest first, the hash of each complete subtree that record
//! completes. The complete subtree at level `l` (2^l leaves) with index `k`
//! (its leaves are `k·2^l .. (k+1)·2^l`) is therefore found at position
//! [`stored_hash_index`]`(l, k)`; a tree of `n` records has
//! [`stored_hash_count`]`(n) = 2n − popcount(n)` stored hashes. Any tree hash
//! or proof for any size up to the current one is a function of `O(log n)`
//! stored hashes, which the functions below fetch in a single
//! [`HashReader::read_hashes`] call.
//!
//! # Proofs
//!
//! Proofs are lists of hashes in exactly the order of RFC 9162 §2.1.3
//! (inclusion: the sibling of the leaf first, then upwards) and §2.1.4
//! (consistency), which is also the order of RFC 6962 §2.1.1/§2.1.2, of
//! `github.com/transparency-dev/merkle` and of C2SP tlog-proof. The checkers
//! accept exactly one proof for each question and reject any other list
//! (wrong length, reordered, extra or missing elements).
//!
//! Semantics at the edges, matching transparency-dev/merkle's test vectors:
//! an inclusion proof needs `index < size` (so nothing is included in the
//! empty tree); a consistency proof from size `n` to size `t` needs
//! `0 < n <= t`, and for `n == t` it is empty and merely states that the two
//! hashes are equal. A consistency proof from the empty tree is rejected
//! ([`TlogError::EmptyTree`]): it would prove nothing.
//!
//! # Tiles
//!
//! [`Tile`] names a C2SP tlog-tiles resource (<https://c2sp.org/tlog-tiles>)
//! with the fixed tile height 8: the tile at tile level `L` with index `N`
//! and width `W` is the concatenation of the `W` hashes of the complete
//! subtrees at tree level `8·L` with indexes `256·N .. 256·N + W`. It is
//! served at `tile/<L>/<N>[.p/<W>]`, where `<N>` is written in groups of three
//! digits, all but the last prefixed with `x` (1234067 is `x001/x234/067`),
//! and `.p/<W>` is present only for partial tiles (`W < 256`). The entry
//! bundle of the level-0 tile `N` is served at `tile/entries/<N>[.p/<W>]`.

use crate::hash::{Hash, leaf_hash, node_hash, sha256};
use std::fmt::Write as _;

/// The largest supported tree size, 2^63 records. Every stored-hash index of
/// such a tree fits in a `u64`.
pub const MAX_TREE_SIZE: u64 = 1 << 63;

/// Tile height fixed by C2SP tlog-tiles: a tile spans 8 tree levels.
pub const TILE_HEIGHT: u8 = 8;

/// Hashes in a full tile: 2^[`TILE_HEIGHT`].
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// Why a Merkle computation or check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogError {
    /// A record index that is not inside the tree.
    #[error("index {index} is not below tree size {size}")]
    InvalidIndex {
        /// The record index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency question whose old size exceeds the new size.
    #[error("old size {old} is larger than new size {new}")]
    InvalidSizes {
        /// The older (smaller) tree size.
        old: u64,
        /// The newer tree size.
        new: u64,
    },
    /// A consistency proof from tree size 0.
    #[error("consistency proofs from the empty tree are not defined")]
    EmptyTree,
    /// A tree size above [`MAX_TREE_SIZE`].
    #[error("tree size {0} exceeds the supported maximum of 2^63")]
    SizeTooLarge(u64),
    /// A proof of the right length whose hashes do not lead to the claimed
    /// tree hash(es), or two unequal hashes claimed for the same tree size.
    #[error("proof does not verify")]
    BadProof,
    /// A proof with the wrong number of hashes for the sizes and index.
    #[error("proof has {got} hashes, want {want}")]
    BadProofLength {
        /// The number of hashes the question requires.
        want: u64,
        /// The number of hashes the proof has.
        got: u64,
    },
    /// A [`HashReader`] does not have the stored hash with this index.
    #[error("stored hash {0} is missing")]
    MissingHash(u64),
    /// A [`HashReader`] failed for another reason.
    #[error("hash storage: {0}")]
    Storage(String),
    /// A string that is not a canonical tile or entry-bundle path.
    #[error("malformed tile path {0:?}")]
    BadTilePath(String),
    /// A tile that cannot be part of any tree of at most [`MAX_TREE_SIZE`]
    /// records (or has a width outside `1..=256`).
    #[error("tile ({0}) is not part of any supported tree")]
    BadTile(String),
}

/// Read access to stored hashes, addressed by [`stored_hash_index`].
pub trait HashReader {
    /// Returns the stored hashes with the given indexes, in the same order:
    /// exactly one hash per index. An index that is not stored is an error
    /// (typically [`TlogError::MissingHash`]).
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TlogError>;
}

impl HashReader for [Hash] {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TlogError> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.get(i))
                    .copied()
                    .ok_or(TlogError::MissingHash(i))
            })
            .collect()
    }
}

impl HashReader for Vec<Hash> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TlogError> {
        self.as_slice().read_hashes(indexes)
    }
}

impl<T: HashReader + ?Sized> HashReader for &T {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TlogError> {
        (**self).read_hashes(indexes)
    }
}

/// Reads `indexes` through `r` and insists on one hash per index.
fn read_exact(r: &impl HashReader, indexes: &[u64]) -> Result<Vec<Hash>, TlogError> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = r.read_hashes(indexes)?;
    if hashes.len() != indexes.len() {
        return Err(TlogError::Storage(format!(
            "read {} hashes, want {}",
            hashes.len(),
            indexes.len()
        )));
    }
    Ok(hashes)
}

fn check_size(n: u64) -> Result<(), TlogError> {
    if n > MAX_TREE_SIZE {
        return Err(TlogError::SizeTooLarge(n));
    }
    Ok(())
}

/// The position of the hash of the complete subtree at `level` (2^level
/// leaves) with index `n` (leaves `n·2^level .. (n+1)·2^level`) in the
/// sequence of all stored hashes.
///
/// # Panics
///
/// If the subtree does not fit in a tree of [`MAX_TREE_SIZE`] records
/// (`(n + 1)·2^level > 2^63`).
#[must_use]
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    assert!(
        level < 64 && n < MAX_TREE_SIZE >> level,
        "subtree ({level}, {n}) is beyond the largest supported tree"
    );
    // The subtree is stored right after the leaf of its last record, after
    // the `level` lower subtrees that record also completes.
    let last = ((n + 1) << level) - 1;
    stored_hash_count(last) + u64::from(level)
}

/// The inverse of [`stored_hash_index`]: the `(level, n)` of the subtree
/// whose hash is stored at `index`.
#[must_use]
pub fn split_stored_hash_index(index: u64) -> (u8, u64) {
    // Find the record whose append stored this hash: the largest `m` with
    // stored_hash_count(m) <= index. As m <= stored_hash_count(m) <= 2m,
    // m >= index / 2, and from there the counts reach `index` within 64
    // records, since stored_hash_count(index / 2) >= index - 64.
    let mut m = index / 2;
    while m < MAX_TREE_SIZE && stored_hash_count(m + 1) <= index {
        m += 1;
    }
    // The record stored its leaf and then one subtree per level, so the
    // offset is the level: at most the number of trailing ones of `m`.
    let level = (index - stored_hash_count(m)) as u8;
    (level, m >> level)
}

/// The number of hashes stored for a tree of `n` records: `2n − popcount(n)`.
///
/// # Panics
///
/// If `n` exceeds [`MAX_TREE_SIZE`].
#[must_use]
pub fn stored_hash_count(n: u64) -> u64 {
    assert!(
        n <= MAX_TREE_SIZE,
        "tree size {n} is beyond the largest supported tree"
    );
    // Each complete subtree of every level is stored once:
    // sum over l of floor(n / 2^l) = 2n - popcount(n).
    n + (n - u64::from(n.count_ones()))
}

/// The hashes to store when appending record `n` with contents `data` to a
/// tree of `n` records: its leaf hash, then the hashes of the subtrees it
/// completes, lowest first. Earlier hashes are read through `r`, in one
/// call.
///
/// # Errors
///
/// [`TlogError::SizeTooLarge`] if the tree would exceed [`MAX_TREE_SIZE`];
/// any error of `r`.
pub fn stored_hashes(n: u64, data: &[u8], r: &impl HashReader) -> Result<Vec<Hash>, TlogError> {
    stored_hashes_for_leaf_hash(n, leaf_hash(data), r)
}

/// Like [`stored_hashes`], given the record's leaf hash.
///
/// # Errors
///
/// As for [`stored_hashes`].
pub fn stored_hashes_for_leaf_hash(
    n: u64,
    leaf: Hash,
    r: &impl HashReader,
) -> Result<Vec<Hash>, TlogError> {
    if n >= MAX_TREE_SIZE {
        return Err(TlogError::SizeTooLarge(n.saturating_add(1)));
    }
    // Record n completes one subtree per trailing one bit of n; the left
    // sibling at each level is the complete subtree just before ours.
    let completed = (n + 1).trailing_zeros();
    let siblings: Vec<u64> = (0..completed)
        .map(|l| stored_hash_index(l as u8, (n >> l) - 1))
        .collect();
    let left = read_exact(r, &siblings)?;
    let mut out = Vec::with_capacity(left.len() + 1);
    let mut h = leaf;
    out.push(h);
    for sibling in &left {
        h = node_hash(sibling, &h);
        out.push(h);
    }
    Ok(out)
}

/// A range `lo..hi` of records that is a node of the tree being examined.
#[derive(Debug, Clone, Copy)]
struct Span {
    lo: u64,
    hi: u64,
}

/// The largest power of two strictly below `size` (`size >= 2`): where the
/// RFC 9162 tree splits a node of `size` records.
fn split(size: u64) -> u64 {
    debug_assert!(size >= 2);
    1 << (size - 1).ilog2()
}

/// Appends the stored-hash indexes of the complete subtrees that make up
/// `span`, largest (leftmost) first.
fn push_subtree_indexes(span: Span, out: &mut Vec<u64>) {
    let mut lo = span.lo;
    while lo < span.hi {
        let level = (span.hi - lo).ilog2();
        debug_assert!(lo.trailing_zeros() >= level, "span is not a tree node");
        out.push(stored_hash_index(level as u8, lo >> level));
        lo += 1 << level;
    }
}

/// The hash of a node from the hashes of its complete subtrees, largest
/// first: the node splits after its first subtree, so fold from the right.
fn fold_subtrees(hashes: &[Hash]) -> Hash {
    let (last, rest) = hashes
        .split_last()
        .expect("a node has at least one subtree");
    rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc))
}

/// The hashes of the nodes `spans`, read with a single call to `r`.
fn span_hashes(spans: &[Span], r: &impl HashReader) -> Result<Vec<Hash>, TlogError> {
    let mut indexes = Vec::new();
    let mut counts = Vec::with_capacity(spans.len());
    for &span in spans {
        let before = indexes.len();
        push_subtree_indexes(span, &mut indexes);
        counts.push(indexes.len() - before);
    }
    let hashes = read_exact(r, &indexes)?;
    let mut rest = hashes.as_slice();
    let mut out = Vec::with_capacity(spans.len());
    for count in counts {
        let (these, tail) = rest.split_at(count);
        out.push(fold_subtrees(these));
        rest = tail;
    }
    Ok(out)
}

/// The root hash of the tree of the first `n` records (RFC 9162 §2.1.1).
/// The empty tree has hash `SHA256("")`.
///
/// # Errors
///
/// [`TlogError::SizeTooLarge`] for `n` above [`MAX_TREE_SIZE`]; any error
/// of `r`.
pub fn tree_hash(n: u64, r: &impl HashReader) -> Result<Hash, TlogError> {
    check_size(n)?;
    if n == 0 {
        return Ok(sha256(b""));
    }
    let hashes = span_hashes(&[Span { lo: 0, hi: n }], r)?;
    Ok(hashes[0])
}

/// The siblings on the path from record `index` to the root of the tree of
/// `size` records, lowest first: the nodes of an inclusion proof
/// (RFC 9162 §2.1.3.1). Requires `index < size`.
fn inclusion_spans(index: u64, size: u64) -> Vec<Span> {
    let (mut lo, mut hi) = (0, size);
    let mut spans = Vec::new();
    while hi - lo > 1 {
        let mid = lo + split(hi - lo);
        if index < mid {
            spans.push(Span { lo: mid, hi });
            hi = mid;
        } else {
            spans.push(Span { lo, hi: mid });
            lo = mid;
        }
    }
    spans.reverse();
    spans
}

/// The nodes of a consistency proof from size `old` to size `new`
/// (RFC 9162 §2.1.4.1), in proof order. Requires `0 < old < new`.
///
/// Descending from the root towards the node that ends at `old`, every
/// sibling is either entirely before `old` (shared by both trees) or entirely
/// after it (new records). The node ending at `old` itself comes first unless
/// it is the whole old tree, which the verifier already knows.
fn consistency_spans(old: u64, new: u64) -> Vec<Span> {
    let (mut lo, mut hi) = (0, new);
    let mut siblings = Vec::new();
    while hi != old {
        let mid = lo + split(hi - lo);
        if old <= mid {
            siblings.push(Span { lo: mid, hi });
            hi = mid;
        } else {
            siblings.push(Span { lo, hi: mid });
            lo = mid;
        }
    }
    let mut spans = Vec::with_capacity(siblings.len() + 1);
    if lo != 0 {
        spans.push(Span { lo, hi });
    }
    spans.extend(siblings.into_iter().rev());
    spans
}

fn check_length(proof: &[Hash], want: usize) -> Result<(), TlogError> {
    if proof.len() != want {
        return Err(TlogError::BadProofLength {
            want: want as u64,
            got: proof.len() as u64,
        });
    }
    Ok(())
}

/// The inclusion proof of record `n` in the tree of `t` records, in
/// RFC 9162 §2.1.3 order.
///
/// # Errors
///
/// [`TlogError::InvalidIndex`] unless `n < t`; [`TlogError::SizeTooLarge`]
/// for `t` above [`MAX_TREE_SIZE`]; any error of `r`.
pub fn prove_record(t: u64, n: u64, r: &impl HashReader) -> Result<Vec<Hash>, TlogError> {
    check_size(t)?;
    if n >= t {
        return Err(TlogError::InvalidIndex { index: n, size: t });
    }
    span_hashes(&inclusion_spans(n, t), r)
}

/// Checks that `proof` proves that record `n` has leaf hash `leaf` in the
/// tree of `t` records with root hash `th`. The result is that of the
/// verification algorithm of RFC 9162 §2.1.3.2, computed by walking the
/// tree's shape: the proof hash of each level goes on the side where the
/// sibling lies.
///
/// # Errors
///
/// [`TlogError::InvalidIndex`] unless `n < t`; [`TlogError::BadProofLength`]
/// if the proof does not have exactly the hashes the question needs;
/// [`TlogError::BadProof`] if it does not lead to `th`.
pub fn check_record(
    proof: &[Hash],
    t: u64,
    th: &Hash,
    n: u64,
    leaf: &Hash,
) -> Result<(), TlogError> {
    if n >= t {
        return Err(TlogError::InvalidIndex { index: n, size: t });
    }
    let spans = inclusion_spans(n, t);
    check_length(proof, spans.len())?;
    let mut h = *leaf;
    for (p, span) in proof.iter().zip(&spans) {
        h = if span.lo > n {
            node_hash(&h, p)
        } else {
            node_hash(p, &h)
        };
    }
    if h != *th {
        return Err(TlogError::BadProof);
    }
    Ok(())
}

/// The consistency proof from the tree of `n` records to the tree of `t`
/// records, in RFC 9162 §2.1.4 order. Requires `0 < n <= t`; for `n == t`
/// the proof is empty.
///
/// # Errors
///
/// [`TlogError::InvalidSizes`] if `n > t`; [`TlogError::EmptyTree`] if
/// `n == 0`; [`TlogError::SizeTooLarge`] for `t` above [`MAX_TREE_SIZE`];
/// any error of `r`.
pub fn prove_tree(t: u64, n: u64, r: &impl HashReader) -> Result<Vec<Hash>, TlogError> {
    check_size(t)?;
    if n > t {
        return Err(TlogError::InvalidSizes { old: n, new: t });
    }
    if n == 0 {
        return Err(TlogError::EmptyTree);
    }
    if n == t {
        return Ok(Vec::new());
    }
    span_hashes(&consistency_spans(n, t), r)
}

/// Checks that `proof` proves that the tree of `n` records with root hash `h`
/// is a prefix of the tree of `t` records with root hash `th`
/// (RFC 9162 §2.1.4.2). Requires `0 < n <= t`; for `n == t` the proof must
/// be empty and the hashes equal.
///
/// # Errors
///
/// [`TlogError::InvalidSizes`] if `n > t`; [`TlogError::EmptyTree`] if
/// `n == 0`; [`TlogError::BadProofLength`] if the proof does not have
/// exactly the hashes the question needs; [`TlogError::BadProof`] if it does
/// not lead to both `h` and `th`.
pub fn check_tree(proof: &[Hash], t: u64, th: &Hash, n: u64, h: &Hash) -> Result<(), TlogError> {
    if n > t {
        return Err(TlogError::InvalidSizes { old: n, new: t });
    }
    if n == 0 {
        return Err(TlogError::EmptyTree);
    }
    if n == t {
        check_length(proof, 0)?;
        return if h == th {
            Ok(())
        } else {
            Err(TlogError::BadProof)
        };
    }
    let spans = consistency_spans(n, t);
    check_length(proof, spans.len())?;
    // Start from the node that ends at `n`: the first proof hash, or the
    // whole old tree when the proof leaves it out. (No sibling ends at `n`:
    // each lies wholly before or wholly after it.)
    let skip = usize::from(spans[0].hi == n);
    let seed = if skip == 1 { proof[0] } else { *h };
    let (mut old, mut new) = (seed, seed);
    for (p, span) in proof.iter().zip(&spans).skip(skip) {
        if span.lo >= n {
            new = node_hash(&new, p);
        } else {
            old = node_hash(p, &old);
            new = node_hash(p, &new);
        }
    }
    if old != *h || new != *th {
        return Err(TlogError::BadProof);
    }
    Ok(())
}

/// An in-memory store of the stored hashes of a tree, for tests and small
/// tools.
///
/// Invariant: `hashes` holds exactly the [`stored_hash_count`]`(size)` stored
/// hashes of a tree of `size` records, in [`stored_hash_index`] order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTree {
    /// All stored hashes, in [`stored_hash_index`] order.
    pub hashes: Vec<Hash>,
    /// The number of records.
    pub size: u64,
}

impl MemoryTree {
    /// The empty tree.
    #[must_use]
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    /// Appends a record with contents `data`; returns its index.
    pub fn append(&mut self, data: &[u8]) -> u64 {
        self.append_leaf_hash(leaf_hash(data))
    }

    /// Appends a record with the given leaf hash; returns its index.
    ///
    /// # Panics
    ///
    /// If the public fields break the invariant, or the tree is full.
    pub fn append_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.size;
        let new = stored_hashes_for_leaf_hash(index, leaf, &self.hashes)
            .expect("MemoryTree holds every stored hash of its size");
        self.hashes.extend(new);
        self.size += 1;
        index
    }

    /// The root hash of the whole tree.
    ///
    /// # Panics
    ///
    /// If the public fields break the invariant.
    #[must_use]
    pub fn root(&self) -> Hash {
        tree_hash(self.size, &self.hashes).expect("MemoryTree holds every stored hash of its size")
    }
}

impl HashReader for MemoryTree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TlogError> {
        self.hashes.read_hashes(indexes)
    }
}

/// A C2SP tlog-tiles tile: `width` consecutive hashes at tree level
/// `level · 8`, starting at subtree index `n · 256`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    /// The tile level `L` (0..=63); its hashes are at tree level `8·L`.
    pub level: u8,
    /// The index `N` of the tile within its level.
    pub n: u64,
    /// The number of hashes, 1..=256; 256 is a full tile.
    pub width: u16,
}

impl Tile {
    /// The tile path, `tile/<L>/<N>[.p/<W>]`.
    #[must_use]
    pub fn path(&self) -> String {
        format!("tile/{}/{}", self.level, self.index_and_width())
    }

    /// The entry-bundle path, `tile/entries/<N>[.p/<W>]`. Only meaningful
    /// for level-0 tiles; the level is not part of the path.
    #[must_use]
    pub fn entries_path(&self) -> String {
        format!("tile/entries/{}", self.index_and_width())
    }

    /// `<N>[.p/<W>]`.
    fn index_and_width(&self) -> String {
        let mut groups = Vec::new();
        let mut n = self.n;
        loop {
            groups.push(n % 1000);
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        let mut out = String::new();
        let (last, init) = groups.split_first().expect("at least one group");
        for g in init.iter().rev() {
            let _ = write!(out, "x{g:03}/");
        }
        let _ = write!(out, "{last:03}");
        if u64::from(self.width) < TILE_WIDTH {
            let _ = write!(out, ".p/{}", self.width);
        }
        out
    }

    /// Parses a canonical tile path `tile/<L>/<N>[.p/<W>]`, rejecting any
    /// other spelling of the same tile.
    ///
    /// # Errors
    ///
    /// [`TlogError::BadTilePath`] for anything else.
    pub fn parse_path(path: &str) -> Result<Tile, TlogError> {
        let bad = || TlogError::BadTilePath(path.to_string());
        let rest = path.strip_prefix("tile/").ok_or_else(bad)?;
        let (level, rest) = rest.split_once('/').ok_or_else(bad)?;
        let level = parse_decimal(level).filter(|&l| l <= 63).ok_or_else(bad)?;
        let (n, width) = parse_index_and_width(rest).ok_or_else(bad)?;
        Ok(Tile {
            level: level as u8,
            n,
            width,
        })
    }

    /// Parses a canonical entry-bundle path `tile/entries/<N>[.p/<W>]`; the
    /// result has level 0.
    ///
    /// # Errors
    ///
    /// [`TlogError::BadTilePath`] for anything else.
    pub fn parse_entries_path(path: &str) -> Result<Tile, TlogError> {
        let bad = || TlogError::BadTilePath(path.to_string());
        let rest = path.strip_prefix("tile/entries/").ok_or_else(bad)?;
        let (n, width) = parse_index_and_width(rest).ok_or_else(bad)?;
        Ok(Tile { level: 0, n, width })
    }
}

impl std::fmt::Display for Tile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path())
    }
}

/// A decimal number without sign or superfluous leading zeros.
fn parse_decimal(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

/// Parses `<N>[.p/<W>]` in its canonical form.
fn parse_index_and_width(s: &str) -> Option<(u64, u16)> {
    let (index, width) = match s.split_once(".p/") {
        Some((index, w)) => {
            let w = parse_decimal(w).filter(|w| (1..TILE_WIDTH).contains(w))?;
            (index, w as u16)
        }
        None => (s, TILE_WIDTH as u16),
    };
    let groups: Vec<&str> = index.split('/').collect();
    let (last, init) = groups.split_last()?;
    let mut n: u64 = 0;
    for (i, group) in init.iter().enumerate() {
        let digits = group.strip_prefix('x')?;
        // A leading group of zeros would be a second spelling of `n`.
        if i == 0 && digits == "000" {
            return None;
        }
        n = push_group(n, digits)?;
    }
    n = push_group(n, last)?;
    Some((n, width))
}

/// `n * 1000 + digits` for exactly three ASCII digits, if it fits.
fn push_group(n: u64, digits: &str) -> Option<u64> {
    if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let g: u64 = digits.parse().ok()?;
    n.checked_mul(1000)?.checked_add(g)
}

/// The number of records a tree needs before all of the tile's hashes are
/// determined, or `None` for a tile outside every supported tree.
fn tile_records(t: &Tile) -> Option<u64> {
    if t.width == 0 || u64::from(t.width) > TILE_WIDTH || t.level >= 8 {
        return None;
    }
    let nodes = u128::from(t.n) * u128::from(TILE_WIDTH) + u128::from(t.width);
    let records = nodes << (u32::from(t.level) * u32::from(TILE_HEIGHT));
    u64::try_from(records).ok().filter(|&r| r <= MAX_TREE_SIZE)
}

/// The stored-hash indexes whose hashes, concatenated, form the tile: the
/// subtrees at tree level `8·L` with indexes `256·N .. 256·N + W`. Empty for
/// a tile that no supported tree contains (see [`tile_within`]).
#[must_use]
pub fn tile_hash_indexes(t: &Tile) -> Vec<u64> {
    if tile_records(t).is_none() {
        return Vec::new();
    }
    let level = t.level * TILE_HEIGHT;
    let start = t.n * TILE_WIDTH;
    (start..start + u64::from(t.width))
        .map(|k| stored_hash_index(level, k))
        .collect()
}

/// The tile's contents: its `W` hashes, `32·W` bytes, read with one call.
///
/// # Errors
///
/// [`TlogError::BadTile`] for a tile outside every supported tree (see
/// [`tile_within`]); any error of `r`, such as [`TlogError::MissingHash`]
/// for a tile beyond the stored tree.
pub fn read_tile_data(t: &Tile, r: &impl HashReader) -> Result<Vec<u8>, TlogError> {
    if tile_records(t).is_none() {
        return Err(TlogError::BadTile(format!(
            "level {} index {} width {}",
            t.level, t.n, t.width
        )));
    }
    let hashes = read_exact(r, &tile_hash_indexes(t))?;
    Ok(hashes.iter().flat_map(|h| h.0).collect())
}

/// Whether every hash of the tile is determined by the first `n` records,
/// so that a log of size `n` can serve it. This holds for the partial tile
/// of width `floor(n / 256^L) mod 256` that C2SP tlog-tiles defines for size
/// `n`, for every full tile the tree contains, and also for narrower partial
/// tiles of smaller earlier sizes (whose contents never change).
#[must_use]
pub fn tile_within(t: &Tile, n: u64) -> bool {
    tile_records(t).is_some_and(|records| records <= n)
}

/// The tiles at tile level `level` that make up a tree of `n` records: the
/// full tiles in order, then the partial tile if the level has one
/// (C2SP tlog-tiles: width `floor(n / 256^level) mod 256`, never empty).
pub fn tiles_for_size(level: u8, n: u64) -> impl Iterator<Item = Tile> {
    let nodes = n
        .checked_shr(u32::from(level) * u32::from(TILE_HEIGHT))
        .unwrap_or(0);
    let full = nodes / TILE_WIDTH;
    let partial = (nodes % TILE_WIDTH) as u16;
    let full_tiles = (0..full).map(move |n| Tile {
        level,
        n,
        width: TILE_WIDTH as u16,
    });
    let partial_tile = (partial > 0).then_some(Tile {
        level,
        n: full,
        width: partial,
    });
    full_tiles.chain(partial_tile)
}
