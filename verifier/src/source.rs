//! Where a log is read from: a node over HTTP, or a folder holding an
//! offline export with the same layout as the node's tile API.
//!
//! Both answer the C2SP tlog-tiles paths (<https://c2sp.org/tlog-tiles>):
//!
//! ```text
//! checkpoint                      the signed checkpoint (C2SP signed note)
//! tile/<L>/<N>[.p/<W>]            W hashes (32 bytes each) at tree level 8·L
//! tile/entries/<N>[.p/<W>]        entry bundle: W × (u16 big-endian length ‖ entry)
//! ```
//!
//! A folder holds the full tiles and the partial tiles of its checkpoint's
//! size. Nothing read here is trusted: the checkpoint must verify with the
//! log's key, and every entry and hash is re-checked against it.

use crate::Failure;
use lvyue_ledger::Hash;
use lvyue_ledger::hash::node_hash;
use lvyue_ledger::tlog::{self, HashReader, TILE_HEIGHT, TILE_WIDTH, Tile, TlogError};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;

/// The largest response read over HTTP: an entry bundle of 256 entries of at
/// most 65,535 bytes each, with their lengths, is just under 16 MiB.
const MAX_BODY: u64 = 64 << 20;

/// A log to read: `http(s)://…` is a node, anything else a folder.
#[derive(Debug, Clone)]
pub enum Source {
    /// A node's base URL, without a trailing slash.
    Http(String),
    /// An export folder.
    Dir(PathBuf),
}

impl Source {
    /// `http://…` or `https://…` is a node; anything else a folder.
    #[must_use]
    pub fn parse(s: &str) -> Source {
        if s.starts_with("http://") || s.starts_with("https://") {
            Source::Http(s.trim_end_matches('/').to_string())
        } else {
            Source::Dir(PathBuf::from(s))
        }
    }

    /// Reads `path` (e.g. `checkpoint`, `tile/0/001`); `None` if the source
    /// does not have it (HTTP 404, no such file).
    pub fn get_opt(&self, path: &str) -> Result<Option<Vec<u8>>, Failure> {
        match self {
            Source::Http(base) => {
                let url = format!("{base}/{path}");
                match ureq::get(&url).call() {
                    Ok(resp) => resp
                        .into_body()
                        .with_config()
                        .limit(MAX_BODY)
                        .read_to_vec()
                        .map(Some)
                        .map_err(|e| Failure::CouldNotCheck(format!("{url}: {e}"))),
                    Err(ureq::Error::StatusCode(404)) => Ok(None),
                    Err(e) => Err(Failure::CouldNotCheck(format!("{url}: {e}"))),
                }
            }
            Source::Dir(dir) => {
                let file = dir.join(path);
                match std::fs::read(&file) {
                    Ok(b) => Ok(Some(b)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(Failure::CouldNotCheck(format!("{}: {e}", file.display()))),
                }
            }
        }
    }

    /// Reads `path`, which the source must have.
    pub fn get(&self, path: &str) -> Result<Vec<u8>, Failure> {
        self.get_opt(path)?
            .ok_or_else(|| Failure::CouldNotCheck(format!("{}: not found", self.locate(path))))
    }

    /// Where `path` is, for messages.
    #[must_use]
    pub fn locate(&self, path: &str) -> String {
        match self {
            Source::Http(base) => format!("{base}/{path}"),
            Source::Dir(dir) => dir.join(path).display().to_string(),
        }
    }

    /// The `W` hashes of hash tile `t` (`32·W` bytes). A wider tile of the
    /// same index holds the same hashes first, so when the exact partial
    /// tile is not there (a folder exported at a later size, maybe behind a
    /// plain web server) the full tile, or a wider partial tile, is read
    /// instead.
    pub fn hash_tile(&self, t: Tile) -> Result<Vec<u8>, Failure> {
        let want = 32 * usize::from(t.width);
        let mut candidates = vec![t];
        if u64::from(t.width) < TILE_WIDTH {
            candidates.push(Tile {
                width: TILE_WIDTH as u16,
                ..t
            });
            candidates.extend(self.wider_partials(t));
        }
        for c in &candidates {
            if let Some(data) = self.get_opt(&c.path())? {
                if data.len() != 32 * usize::from(c.width) {
                    return Err(Failure::CouldNotCheck(format!(
                        "{}: {} bytes, a tile of width {} has {}",
                        self.locate(&c.path()),
                        data.len(),
                        c.width,
                        32 * usize::from(c.width)
                    )));
                }
                return Ok(data[..want].to_vec());
            }
        }
        Err(Failure::CouldNotCheck(format!(
            "{}: not found",
            self.locate(&t.path())
        )))
    }

    /// The partial tiles of `t`'s index wider than `t` that the source may
    /// have: in a folder, those it holds; over HTTP, the one of the size
    /// its current checkpoint names (a static server over an export folder
    /// has only the tiles of the folder's size, while a node serves every
    /// narrower one too). The checkpoint is read here for its size alone:
    /// whatever tile it leads to is checked against the hashes it must hold.
    fn wider_partials(&self, t: Tile) -> Vec<Tile> {
        let dir = match self {
            Source::Dir(dir) => dir,
            Source::Http(_) => {
                let size = self
                    .get_opt("checkpoint")
                    .ok()
                    .flatten()
                    .and_then(|b| String::from_utf8(b).ok())
                    .and_then(|text| {
                        let body = text.split("\n\n").next()?.to_string() + "\n";
                        lvyue_ledger::checkpoint::Checkpoint::parse_body(&body).ok()
                    })
                    .map(|c| c.size());
                return size
                    .map(|size| tile_at(t.level, t.n, size))
                    .filter(|w| w.width > t.width && u64::from(w.width) < TILE_WIDTH)
                    .into_iter()
                    .collect();
            }
        };
        let probe = Tile { width: 1, ..t }.path();
        let Some(pdir) = probe.strip_suffix("/1") else {
            return Vec::new();
        };
        let Ok(read) = std::fs::read_dir(dir.join(pdir)) else {
            return Vec::new();
        };
        let mut out: Vec<Tile> = read
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u16>().ok())
            .filter(|&w| w > t.width && u64::from(w) < TILE_WIDTH)
            .map(|width| Tile { width, ..t })
            .collect();
        out.sort_by_key(|c| c.width);
        out
    }
}

/// The tile of tile level `level` with index `n` as a tree of `size`
/// records has it: full, or the partial tile of that size.
#[must_use]
pub fn tile_at(level: u8, n: u64, size: u64) -> Tile {
    let nodes = size
        .checked_shr(u32::from(level) * u32::from(TILE_HEIGHT))
        .unwrap_or(0);
    let width = nodes.saturating_sub(n * TILE_WIDTH).min(TILE_WIDTH);
    Tile {
        level,
        n,
        width: width as u16,
    }
}

/// Stored hashes of the tree of `size` records, computed from the hash
/// tiles of a [`Source`] (each tile read once): enough for any consistency
/// or inclusion proof up to that size. Hashes at levels between two tile
/// levels are hashed up from the tile row below them, as in Go's
/// `tlog.TileHashReader`.
pub struct TileHashes<'a> {
    source: &'a Source,
    size: u64,
    tiles: RefCell<HashMap<(u8, u64), Vec<u8>>>,
    /// The first failure, kept with its kind (a `TlogError` cannot carry it).
    failure: RefCell<Option<Failure>>,
}

impl<'a> TileHashes<'a> {
    /// Hashes of the tree of `size` records read from `source`.
    #[must_use]
    pub fn new(source: &'a Source, size: u64) -> TileHashes<'a> {
        TileHashes {
            source,
            size,
            tiles: RefCell::new(HashMap::new()),
            failure: RefCell::new(None),
        }
    }

    /// The failure behind the last `TlogError::Storage`, if any.
    pub fn take_failure(&self) -> Option<Failure> {
        self.failure.borrow_mut().take()
    }

    /// Hash `(level, k)` of the tree: subtree `k` of `2^level` leaves.
    fn hash(&self, level: u8, k: u64) -> Result<Hash, Failure> {
        let tile_level = level / TILE_HEIGHT;
        let sub = level % TILE_HEIGHT;
        // The subtree covers row indexes lo..hi at tree level 8·tile_level,
        // all within one tile since 2^sub divides the tile width.
        let lo = k << sub;
        let hi = (k + 1) << sub;
        let n = lo / TILE_WIDTH;
        let t = tile_at(tile_level, n, self.size);
        if hi - n * TILE_WIDTH > u64::from(t.width) {
            return Err(Failure::CouldNotCheck(format!(
                "hash ({level}, {k}) is not in a tree of size {}",
                self.size
            )));
        }
        let mut tiles = self.tiles.borrow_mut();
        let data = match tiles.entry((tile_level, n)) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => v.insert(self.source.hash_tile(t)?),
        };
        let from = (lo - n * TILE_WIDTH) as usize;
        let to = (hi - n * TILE_WIDTH) as usize;
        let mut row: Vec<Hash> = data[32 * from..32 * to]
            .chunks_exact(32)
            .map(|c| Hash(c.try_into().expect("32-byte chunk")))
            .collect();
        while row.len() > 1 {
            row = row
                .chunks_exact(2)
                .map(|p| node_hash(&p[0], &p[1]))
                .collect();
        }
        Ok(row[0])
    }
}

impl HashReader for TileHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TlogError> {
        indexes
            .iter()
            .map(|&i| {
                let (level, k) = tlog::split_stored_hash_index(i);
                self.hash(level, k).map_err(|f| {
                    let msg = f.to_string();
                    *self.failure.borrow_mut() = Some(f);
                    TlogError::Storage(msg)
                })
            })
            .collect()
    }
}
