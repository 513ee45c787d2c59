//! Where the short reads of the read API run (docs/DECISIONS.md, "Point
//! reads: on the async worker while the store is warm").
//!
//! A contract answer or a default-length credit archive is a handful of
//! sled reads. When the rows are in sled's cache or the operating system's,
//! that is tens of microseconds, less than a hop to tokio's blocking pool
//! and back, so the read runs on the async worker that received the
//! request. When they are not (right after a start on a cold folder, or a
//! folder larger than memory) each read waits on the disk, and two async
//! workers waiting on the disk would stall every request of the node,
//! submissions included. So each point read on a worker notes whether it
//! went to the disk: on Linux, whether the thread's count of block reads
//! (`getrusage(RUSAGE_THREAD)`, `ru_inblock`) rose during it; elsewhere,
//! whether it took longer than [`SLOW`]. (Time alone is not enough where
//! the cores are shared: a worker preempted for a few milliseconds looks
//! like a disk wait, and on the million-contract store with the load
//! generator on the same two cores such reads came in bursts often enough
//! to keep reads off the workers most of the time.) When [`BURST`] reads
//! within [`WINDOW`] went to the disk, the point reads of the next [`HOLD`]
//! go to the blocking pool, where many disk waits overlap. A lone one does
//! not count: a warm store still misses now and then. Reads on the pool are
//! not watched. After the hold, reads try the workers again; while the
//! store is still cold the next burst starts another hold, so a cold store
//! costs a few disk reads per worker and hold.

use crate::metrics;
use crate::server::{ApiError, blocking};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A point read that went to the disk took longer than this (on Linux it
/// also read blocks; elsewhere time alone decides).
pub const SLOW: Duration = Duration::from_millis(1);

/// Reads that went to the disk within [`WINDOW`] that send point reads to
/// the blocking pool.
pub const BURST: u32 = 4;

/// The window in which [`BURST`] reads that went to the disk are counted.
pub const WINDOW: Duration = Duration::from_millis(100);

/// How long point reads stay on the blocking pool after a burst.
pub const HOLD: Duration = Duration::from_secs(1);

/// The routing state. Updated with relaxed atomics by whichever worker
/// watched a read: two workers racing on a window may miscount a disk read,
/// which only moves the switch by one read.
#[derive(Debug)]
pub struct ReadRoute {
    start: Instant,
    /// Microseconds since `start` before which reads go to the pool.
    pool_until_us: AtomicU64,
    /// Start of the current counting window, microseconds since `start`.
    window_us: AtomicU64,
    /// Reads that went to the disk in the current window.
    disk_reads: AtomicU32,
}

impl Default for ReadRoute {
    fn default() -> Self {
        ReadRoute {
            start: Instant::now(),
            pool_until_us: AtomicU64::new(0),
            window_us: AtomicU64::new(0),
            disk_reads: AtomicU32::new(0),
        }
    }
}

impl ReadRoute {
    fn micros(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.start).as_micros()).unwrap_or(u64::MAX)
    }

    /// Whether a read starting at `at` runs on the async worker.
    #[must_use]
    pub fn on_worker(&self, at: Instant) -> bool {
        self.micros(at) >= self.pool_until_us.load(Ordering::Relaxed)
    }

    /// Records a read on a worker that ended at `end`, and whether it went
    /// to the disk.
    pub fn record(&self, end: Instant, went_to_disk: bool) {
        if !went_to_disk {
            return;
        }
        let now = self.micros(end);
        let window = self.window_us.load(Ordering::Relaxed);
        let count = if u128::from(now.saturating_sub(window)) > WINDOW.as_micros() {
            self.window_us.store(now, Ordering::Relaxed);
            self.disk_reads.store(1, Ordering::Relaxed);
            1
        } else {
            self.disk_reads.fetch_add(1, Ordering::Relaxed) + 1
        };
        if count >= BURST {
            let until = self.micros(end + HOLD);
            self.pool_until_us.fetch_max(until, Ordering::Relaxed);
        }
    }
}

/// Runs the point read `f` on this worker or on the blocking pool, as
/// [`ReadRoute`] says; on a worker, notes whether it went to the disk.
pub async fn point_read<T: Send + 'static>(
    route: &Arc<ReadRoute>,
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let m = metrics::global();
    if route.on_worker(Instant::now()) {
        m.point_reads
            .get_or_create(&metrics::ReadsOn { on: "worker" })
            .inc();
        timed(route, f)
    } else {
        m.point_reads
            .get_or_create(&metrics::ReadsOn { on: "pool" })
            .inc();
        blocking(f).await
    }
}

fn timed<T>(route: &ReadRoute, f: impl FnOnce() -> Result<T, ApiError>) -> Result<T, ApiError> {
    let started = Instant::now();
    let before = block_reads();
    let out = f();
    let end = Instant::now();
    let slow = end.duration_since(started) > SLOW;
    let went_to_disk = match (before, block_reads()) {
        (Some(a), Some(b)) => slow && b > a,
        _ => slow,
    };
    route.record(end, went_to_disk);
    out
}

/// Block reads done by this thread so far, where the system counts them.
#[cfg(target_os = "linux")]
fn block_reads() -> Option<u64> {
    use nix::sys::resource::{UsageWho, getrusage};
    let usage = getrusage(UsageWho::RUSAGE_THREAD).ok()?;
    u64::try_from(usage.block_reads()).ok()
}

#[cfg(not(target_os = "linux"))]
fn block_reads() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn route() -> (ReadRoute, Instant) {
        let r = ReadRoute::default();
        let t = r.start + Duration::from_secs(5);
        (r, t)
    }

    #[test]
    fn reads_from_memory_stay_on_the_worker() {
        let (r, t) = route();
        assert!(r.on_worker(t));
        for i in 0..1000 {
            r.record(t + i * MS / 10, false);
        }
        assert!(r.on_worker(t + 100 * MS));
    }

    #[test]
    fn lone_disk_reads_do_not_move_reads_off_the_worker() {
        let (r, t) = route();
        // One every 200 ms: never BURST in a window.
        for i in 0..20 {
            let at = t + i * 200 * MS;
            r.record(at, true);
            assert!(r.on_worker(at), "after disk read {i}");
        }
    }

    #[test]
    fn a_burst_of_disk_reads_sends_reads_to_the_pool_for_the_hold_then_they_come_back() {
        let (r, t) = route();
        for i in 0..BURST - 1 {
            r.record(t + i * 2 * MS, true);
            assert!(r.on_worker(t + i * 2 * MS));
        }
        let last = t + (BURST - 1) * 2 * MS;
        r.record(last, true);
        assert!(!r.on_worker(last));
        assert!(!r.on_worker(last + HOLD - Duration::from_micros(1)));
        assert!(r.on_worker(last + HOLD));
    }

    #[test]
    fn a_later_burst_extends_the_hold_and_an_earlier_read_never_shortens_it() {
        let (r, t) = route();
        for i in 0..BURST {
            r.record(t + i * MS, true);
        }
        let later = t + 900 * MS;
        for i in 0..BURST {
            r.record(later + i * MS, true);
        }
        let end = later + (BURST - 1) * MS + HOLD;
        assert!(!r.on_worker(end - Duration::from_micros(1)));
        // A disk read that ended earlier, recorded late, does not pull it in.
        r.record(t, true);
        assert!(!r.on_worker(end - Duration::from_micros(1)));
        assert!(r.on_worker(end));
    }
}
