//! `lvyue-node export --dir DIR`: a complete offline copy of the log for
//! auditors, in the C2SP tlog-tiles layout the node serves over HTTP —
//! `DIR/checkpoint`, every hash tile `DIR/tile/<L>/<N>[.p/<W>]` and every
//! entry bundle `DIR/tile/entries/<N>[.p/<W>]` of the checkpoint's tree —
//! plus the signed disclosure export at that checkpoint
//! (`DIR/disclosure.json`, `DIR/disclosure.csv`). Served by any static file
//! server, it is a read-only tlog-tiles log that `lvyue-verify audit --log
//! URL` replays (docs/FORMAT.md §19.9).
//!
//! Tiles are written first and the checkpoint last, each file through a
//! temporary name and a rename, so an interrupted export never holds a
//! checkpoint whose tiles are missing.

use crate::query::ViewRows;
use crate::server::entry_bundle;
use lvyue_ledger::book;
use lvyue_ledger::export;
use lvyue_ledger::keys::Signer;
use lvyue_ledger::store::View;
use lvyue_ledger::tlog::{self, TILE_HEIGHT};
use serde::Serialize;
use std::path::Path;

/// What an export wrote.
#[derive(Debug, Serialize)]
pub struct ExportSummary {
    pub size: u64,
    pub hash_tiles: u64,
    pub entry_bundles: u64,
    pub bytes: u64,
}

fn write_atomic(dir: &Path, rel: &str, data: &[u8]) -> Result<u64, String> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let tmp = path.with_extension("tmp-export");
    std::fs::write(&tmp, data).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(data.len() as u64)
}

/// Reads a tile's bytes: `(tile, is_entry_bundle)`.
type TileReader<'a> = dyn FnMut(&tlog::Tile, bool) -> Result<Vec<u8>, String> + 'a;

/// Writes every hash tile and entry bundle of the tree of `size` into
/// `dir`, reading each with `read(tile, is_entry_bundle)`.
fn write_tiles(
    dir: &Path,
    size: u64,
    s: &mut ExportSummary,
    read: &mut TileReader<'_>,
) -> Result<(), String> {
    let mut level = 0u8;
    while size
        .checked_shr(u32::from(level) * u32::from(TILE_HEIGHT))
        .unwrap_or(0)
        > 0
    {
        for t in tlog::tiles_for_size(level, size) {
            s.bytes += write_atomic(dir, &t.path(), &read(&t, false)?)?;
            s.hash_tiles += 1;
        }
        level += 1;
    }
    for t in tlog::tiles_for_size(0, size) {
        s.bytes += write_atomic(dir, &t.entries_path(), &read(&t, true)?)?;
        s.entry_bundles += 1;
    }
    Ok(())
}

/// Writes the tree of `view`'s head into `dir`; signs the disclosure with
/// `signer` (the node key) when given.
pub fn write_dir(
    view: &View,
    origin: &str,
    signer: Option<&Signer>,
    dir: &Path,
) -> Result<ExportSummary, String> {
    let head = view.head().clone();
    let size = head.size;
    let mut s = ExportSummary {
        size,
        hash_tiles: 0,
        entry_bundles: 0,
        bytes: 0,
    };
    let reader = view.reader();
    write_tiles(dir, size, &mut s, &mut |t, entries| {
        if entries {
            entry_bundle(view, t).map_err(|e| format!("{e:?}"))
        } else {
            tlog::read_tile_data(t, &reader).map_err(|e| e.to_string())
        }
    })?;
    if let Some(signer) = signer {
        let d = book::disclosure(&ViewRows(view), origin, size, head.root)
            .map_err(|e| e.to_string())?;
        let cp = String::from_utf8(head.checkpoint.clone()).map_err(|e| e.to_string())?;
        let signed = export::sign(d, cp, signer).map_err(|e| e.to_string())?;
        let json = serde_json::to_vec_pretty(&signed).map_err(|e| e.to_string())?;
        s.bytes += write_atomic(dir, "disclosure.json", &json)?;
        s.bytes += write_atomic(dir, "disclosure.csv", signed.content.to_csv().as_bytes())?;
    }
    s.bytes += write_atomic(dir, "checkpoint", &head.checkpoint)?;
    Ok(s)
}

/// Exports the log of a data folder whose node is not running (sled
/// allows one process per folder).
pub fn from_data_dir(data: &Path, dir: &Path) -> Result<ExportSummary, String> {
    let store = lvyue_ledger::store::Store::open(
        &data.join("store"),
        &lvyue_ledger::store::StoreConfig::default(),
    )
    .map_err(|e| {
        format!(
            "{}: {e} (is a node serving it? then export with --node URL)",
            data.display()
        )
    })?;
    let signer =
        Signer::read_file(&data.join("keys").join("node.key")).map_err(|e| e.to_string())?;
    let origin = signer.name().as_str().to_string();
    write_dir(store.view(), &origin, Some(&signer), dir)
}

/// Exports the log of a running node over HTTP: the signed disclosure
/// first, then its checkpoint's tiles and bundles, the checkpoint last.
pub fn from_node(url: &str, dir: &Path) -> Result<ExportSummary, String> {
    let get = |path: &str| -> Result<Vec<u8>, String> {
        let mut r = ureq::get(&format!("{url}/{path}"))
            .call()
            .map_err(|e| format!("{url}/{path}: {e}"))?;
        r.body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .map_err(|e| format!("{url}/{path}: {e}"))
    };
    let disclosure = get("v1/disclosure")?;
    let signed: export::SignedExport<book::Disclosure> =
        serde_json::from_slice(&disclosure).map_err(|e| format!("{url}/v1/disclosure: {e}"))?;
    let size = signed.content.size;
    let mut s = ExportSummary {
        size,
        hash_tiles: 0,
        entry_bundles: 0,
        bytes: 0,
    };
    write_tiles(dir, size, &mut s, &mut |t, entries| {
        get(&if entries { t.entries_path() } else { t.path() })
    })?;
    let json = serde_json::to_vec_pretty(&signed).map_err(|e| e.to_string())?;
    s.bytes += write_atomic(dir, "disclosure.json", &json)?;
    s.bytes += write_atomic(dir, "disclosure.csv", signed.content.to_csv().as_bytes())?;
    s.bytes += write_atomic(dir, "checkpoint", signed.checkpoint.as_bytes())?;
    Ok(s)
}
