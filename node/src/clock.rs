//! Node time. The sequencer reads the clock only through [`Clock`], so tests
//! drive time by hand.

use std::sync::atomic::{AtomicI64, Ordering};

/// A source of UTC milliseconds.
pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> i64;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock that only moves when told to (tests).
pub struct FixedClock(AtomicI64);

impl FixedClock {
    #[must_use]
    pub fn new(ms: i64) -> FixedClock {
        FixedClock(AtomicI64::new(ms))
    }
    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
