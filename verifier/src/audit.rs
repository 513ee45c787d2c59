//! `audit`: replays a whole log from a [`Source`] and proves it is what its
//! signed checkpoint says, or names the first index where it is not;
//! optionally resuming from a saved [`State`].
//!
//! Steps:
//! 1. read `checkpoint` and verify it with the log's key;
//! 2. with a saved state: the state's checkpoint verifies with the same key,
//!    and the new checkpoint extends it — a consistency proof computed from
//!    the source's hash tiles must hold between the two signed roots (a
//!    smaller new size is a rollback, an unequal root of one size a fork:
//!    both a [`crate::Misbehaviour`]); the auditor resumes from the state;
//! 3. read each entry bundle `tile/entries/<N>[.p/<W>]` of the new entries
//!    in order and feed every entry to [`Auditor::feed`] (decoding, chain,
//!    time, admission, signatures on two threads, rules re-derivation); a
//!    missing, extra, truncated or reordered entry shows as the index where
//!    the sequence breaks;
//! 4. compare each hash the entries complete at a tile level (tree levels 0,
//!    8, 16, …) with the source's hash tile `tile/<L>/<N>[.p/<W>]` for the
//!    checkpoint's size: a tile that disagrees with the entries is named;
//! 5. [`Auditor::finish`]: every signature verified, no derived record
//!    missing, and the RFC 6962 root of all entries equals the signed root;
//! 6. with `--state`, save the new state atomically.

use crate::source::{Source, TileHashes, tile_at};
use crate::state::State;
use crate::{Failure, Proven, check_consistency, origin_of};
use lvyue_ledger::Hash;
use lvyue_ledger::audit::Auditor;
use lvyue_ledger::checkpoint;
use lvyue_ledger::keys::VerifierKey;
use lvyue_ledger::tlog::{self, TILE_HEIGHT, TILE_WIDTH, Tile};
use std::collections::HashMap;
use std::path::Path;

/// What a clean audit covered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditReport {
    /// Size of the verified checkpoint.
    pub size: u64,
    /// Its root.
    pub root: Hash,
    /// Submitted and derived entries in the whole log.
    pub submitted: u64,
    pub derived: u64,
    /// Size of the saved state the audit resumed from (0 for a full audit).
    pub from: u64,
    /// Entries replayed by this audit: `size - from`.
    pub replayed: u64,
    /// The consistency check from the saved checkpoint, if any.
    pub consistency: Option<String>,
}

/// Consistency proof from `old` to `new` computed from the source's hash
/// tiles for size `new`.
pub fn tile_consistency_proof(source: &Source, old: u64, new: u64) -> Result<Vec<Hash>, Failure> {
    let hashes = TileHashes::new(source, new);
    tlog::prove_tree(new, old, &hashes).map_err(|e| {
        hashes
            .take_failure()
            .unwrap_or_else(|| Failure::CouldNotCheck(format!("consistency proof: {e}")))
    })
}

/// Audits the log at `source` (see the module documentation). `progress`
/// gets (entries replayed, entries to replay) after each bundle.
pub fn audit(
    source: &Source,
    vkey: &VerifierKey,
    state_path: Option<&Path>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<AuditReport, Failure> {
    // Step 1.
    let origin = origin_of(vkey)?;
    let note = source.get("checkpoint")?;
    let cp = checkpoint::open(&note, &origin, vkey).map_err(|e| {
        Failure::violation(format!("checkpoint {}: {e}", source.locate("checkpoint")))
    })?;
    let size = cp.size();
    // Step 2.
    let saved = match state_path {
        Some(p) => State::read(p)?,
        None => None,
    };
    let (mut auditor, consistency) = match &saved {
        None => (Auditor::new(origin.as_str(), Default::default()), None),
        Some(st) => resume(st, &note, source, vkey)?,
    };
    let from = auditor.size();
    // Steps 3 and 4.
    let mut tiles = TileCheck::new(source, size);
    let mut n = from / TILE_WIDTH;
    while n * TILE_WIDTH < size {
        let t = tile_at(0, n, size);
        let path = t.entries_path();
        let data = source.get(&path)?;
        let skip = from.saturating_sub(n * TILE_WIDTH);
        feed_bundle(&mut auditor, &mut tiles, &data, t, skip, &path)?;
        progress(auditor.size() - from, size - from);
        n += 1;
    }
    // Step 5.
    let s = auditor.finish(&cp)?;
    // Step 6.
    if let Some(p) = state_path {
        let snapshot = auditor
            .snapshot()
            .map_err(|e| Failure::CouldNotCheck(format!("auditor state: {e}")))?;
        State {
            vkey: vkey.to_string(),
            checkpoint: note,
            auditor: snapshot,
        }
        .write(p)?;
    }
    Ok(AuditReport {
        size: s.size,
        root: s.root,
        submitted: s.submitted,
        derived: s.derived,
        from,
        replayed: s.size - from,
        consistency,
    })
}

/// Step 2: the saved state is for this key and the new checkpoint extends
/// its checkpoint; the auditor it holds, ready for the next entry.
fn resume(
    st: &State,
    note: &[u8],
    source: &Source,
    vkey: &VerifierKey,
) -> Result<(Auditor, Option<String>), Failure> {
    if st.vkey != vkey.to_string() {
        return Err(Failure::CouldNotCheck(format!(
            "the state file was made with key {}, not {vkey}",
            st.vkey
        )));
    }
    let ok = check_consistency(&st.checkpoint, note, vkey, |old, new| {
        tile_consistency_proof(source, old, new)
    })?;
    let auditor = Auditor::restore(&st.auditor)
        .map_err(|e| Failure::CouldNotCheck(format!("state file: auditor state: {e}")))?;
    let origin = origin_of(vkey)?;
    let old = checkpoint::open(&st.checkpoint, &origin, vkey)
        .map_err(|e| Failure::CouldNotCheck(format!("state file: checkpoint: {e}")))?;
    if auditor.origin() != origin.as_str() || auditor.size() != old.size() {
        return Err(Failure::CouldNotCheck(format!(
            "state file: auditor state of {} at size {} does not match its checkpoint ({} at size {})",
            auditor.origin(),
            auditor.size(),
            origin.as_str(),
            old.size()
        )));
    }
    Ok((auditor, Some(ok)))
}

/// Feeds the entries of bundle `t` after the first `skip` (already audited).
fn feed_bundle(
    auditor: &mut Auditor,
    tiles: &mut TileCheck<'_>,
    data: &[u8],
    t: Tile,
    skip: u64,
    path: &str,
) -> Result<(), Failure> {
    let base = t.n * TILE_WIDTH;
    let width = u64::from(t.width);
    let mut rest = data;
    let mut k = 0;
    while k < width {
        let Some((len, tail)) = rest.split_first_chunk::<2>() else {
            break;
        };
        let len = usize::from(u16::from_be_bytes(*len));
        let Some((entry, tail)) = tail.split_at_checked(len) else {
            return Err(Failure::Violation(Box::new(Proven {
                message: format!(
                    "entry {}: {path} is truncated: length {len}, {} bytes left",
                    base + k,
                    tail.len()
                ),
                first_bad_index: Some(base + k),
                expected: Some(format!("{len} bytes")),
                found: Some(format!("{} bytes", tail.len())),
                misbehaviour: None,
            })));
        };
        rest = tail;
        if k >= skip {
            auditor.feed(entry)?;
            tiles.check(auditor.completed_hashes())?;
        }
        k += 1;
    }
    if k < width || !rest.is_empty() {
        let (index, found) = if k < width {
            (base + k, format!("the bundle ends after {k} entries"))
        } else {
            (base + width, format!("{} more bytes", rest.len()))
        };
        return Err(Failure::Violation(Box::new(Proven {
            message: format!("entry {index}: {path} must hold exactly {width} entries: {found}"),
            first_bad_index: Some(index),
            expected: Some(format!("{width} entries")),
            found: Some(found),
            misbehaviour: None,
        })));
    }
    Ok(())
}

/// Step 4: the hashes the entries complete against the hash tiles, one
/// tile per tile level held at a time.
struct TileCheck<'a> {
    source: &'a Source,
    size: u64,
    current: HashMap<u8, (Tile, Vec<u8>)>,
}

impl<'a> TileCheck<'a> {
    fn new(source: &'a Source, size: u64) -> TileCheck<'a> {
        TileCheck {
            source,
            size,
            current: HashMap::new(),
        }
    }

    fn check(&mut self, completed: &[(u8, u64, Hash)]) -> Result<(), Failure> {
        for &(level, k, computed) in completed {
            if level % TILE_HEIGHT != 0 {
                continue;
            }
            let tile_level = level / TILE_HEIGHT;
            let n = k / TILE_WIDTH;
            let (t, data) = match self.current.get(&tile_level) {
                Some((t, data)) if t.n == n => (*t, data),
                _ => {
                    let t = tile_at(tile_level, n, self.size);
                    let data = self.source.hash_tile(t)?;
                    self.current.insert(tile_level, (t, data));
                    let (t, data) = &self.current[&tile_level];
                    (*t, data)
                }
            };
            let at = 32 * (k % TILE_WIDTH) as usize;
            let stored = Hash(data[at..at + 32].try_into().expect("32 bytes"));
            if stored != computed {
                return Err(tile_mismatch(t, level, k, computed, stored));
            }
        }
        Ok(())
    }
}

fn tile_mismatch(t: Tile, level: u8, k: u64, computed: Hash, stored: Hash) -> Failure {
    let (message, first_bad_index) = if level == 0 {
        (
            format!(
                "entry {k}: its leaf hash is {computed}, hash tile {} says {stored}",
                t.path()
            ),
            Some(k),
        )
    } else {
        let (lo, hi) = (k << level, ((k + 1) << level) - 1);
        (
            format!(
                "hash tile {}: the hash of entries {lo}..={hi} is {computed} by the entries, the tile says {stored}",
                t.path()
            ),
            None,
        )
    };
    Failure::Violation(Box::new(Proven {
        message,
        first_bad_index,
        expected: Some(stored.to_hex()),
        found: Some(computed.to_hex()),
        misbehaviour: None,
    }))
}
