//! The audit state file (`audit --state FILE`): the last checkpoint an
//! audit verified and the auditor's state after it, so that the next audit
//! checks consistency from that checkpoint and replays only the new entries.
//!
//! Layout (the verifier's own file, not an interchange format):
//!
//! ```text
//! "lvyue-verify audit state v1\n"
//! u32 big-endian length ‖ verifier key string (name+hex8+base64)
//! u32 big-endian length ‖ signed checkpoint note
//! u64 big-endian length ‖ auditor snapshot (lvyue_ledger::audit::Auditor::snapshot)
//! SHA-256 of all the bytes above (32 bytes)
//! ```
//!
//! It is written atomically: to `FILE.tmp` in the same folder, fsync'd, then
//! renamed over `FILE` (and the folder fsync'd), so a crash leaves either
//! the old state or the new one.

use crate::Failure;
use lvyue_ledger::hash::sha256;
use std::io::Write as _;
use std::path::Path;

const MAGIC: &[u8] = b"lvyue-verify audit state v1\n";

/// A saved audit state.
pub struct State {
    /// The verifier key the state was made with.
    pub vkey: String,
    /// The last verified signed checkpoint.
    pub checkpoint: Vec<u8>,
    /// [`lvyue_ledger::audit::Auditor::snapshot`] after that checkpoint.
    pub auditor: Vec<u8>,
}

fn bad(path: &Path, what: impl std::fmt::Display) -> Failure {
    Failure::CouldNotCheck(format!("state file {}: {what}", path.display()))
}

/// Takes a big-endian length of `N` bytes and that many bytes.
fn take<'a, const N: usize>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (len, tail) = rest.split_first_chunk::<N>()?;
    let mut be = [0u8; 8];
    be[8 - N..].copy_from_slice(len);
    let len = usize::try_from(u64::from_be_bytes(be)).ok()?;
    if tail.len() < len {
        return None;
    }
    let (field, tail) = tail.split_at(len);
    *rest = tail;
    Some(field)
}

impl State {
    /// The file's bytes.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.auditor.len() + self.checkpoint.len() + 256);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.vkey.len() as u32).to_be_bytes());
        out.extend_from_slice(self.vkey.as_bytes());
        out.extend_from_slice(&(self.checkpoint.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.checkpoint);
        out.extend_from_slice(&(self.auditor.len() as u64).to_be_bytes());
        out.extend_from_slice(&self.auditor);
        let sum = sha256(&out);
        out.extend_from_slice(&sum.0);
        out
    }

    /// Reads the state at `path`; `None` if there is no such file (a first
    /// audit). Anything unreadable is "could not check".
    pub fn read(path: &Path) -> Result<Option<State>, Failure> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(bad(path, e)),
        };
        let Some(body) = bytes.strip_prefix(MAGIC) else {
            return Err(bad(path, "not an lvyue-verify audit state (v1)"));
        };
        let Some((body, sum)) = body.split_last_chunk::<32>() else {
            return Err(bad(path, "truncated"));
        };
        if sha256(&bytes[..bytes.len() - 32]).0 != *sum {
            return Err(bad(path, "checksum mismatch (corrupted)"));
        }
        let mut rest = body;
        let vkey = take::<4>(&mut rest).ok_or_else(|| bad(path, "truncated key"))?;
        let cp = take::<4>(&mut rest).ok_or_else(|| bad(path, "truncated checkpoint"))?;
        let aud = take::<8>(&mut rest).ok_or_else(|| bad(path, "truncated auditor state"))?;
        if !rest.is_empty() {
            return Err(bad(path, "trailing bytes"));
        }
        Ok(Some(State {
            vkey: String::from_utf8(vkey.to_vec()).map_err(|e| bad(path, e))?,
            checkpoint: cp.to_vec(),
            auditor: aud.to_vec(),
        }))
    }

    /// Writes the state to `path` atomically (temp file, fsync, rename).
    pub fn write(&self, path: &Path) -> Result<(), Failure> {
        let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(".tmp");
        let tmp = path.with_file_name(tmp_name);
        let io = |e: std::io::Error| bad(path, e);
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&self.encode()).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(io)?;
        // The rename is durable once the folder is; not every platform lets
        // a folder be opened for that, so this last step is best effort.
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.state");
        assert!(State::read(&path).unwrap().is_none());
        let s = State {
            vkey: "log+01020304+AAAA".into(),
            checkpoint: b"origin\n5\nroot\n".to_vec(),
            auditor: vec![7; 1000],
        };
        s.write(&path).unwrap();
        let r = State::read(&path).unwrap().unwrap();
        assert_eq!(
            (r.vkey, r.checkpoint, r.auditor),
            (s.vkey, s.checkpoint, s.auditor)
        );
        assert!(!dir.path().join("audit.state.tmp").exists());

        let mut bytes = std::fs::read(&path).unwrap();
        bytes[MAGIC.len() + 10] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let err = State::read(&path).err().expect("corruption detected");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("checksum"), "{err}");
    }
}
