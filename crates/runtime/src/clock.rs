//! Time as the host and the component see it.
//!
//! Everything that stamps a time (the event store's `recorded-at`, the
//! simulated backends' answers, the guest's WASI wall clock) reads one
//! [`Clock`], so a test can move time forward (for example past the 30-day
//! return window) without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time in milliseconds since the Unix epoch (UTC).
pub trait Clock: Send + Sync {
    /// The current time in milliseconds since 1970-01-01T00:00:00Z.
    fn now_ms(&self) -> u64;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        // A clock set before 1970 is a broken host, not a reason to crash:
        // report the epoch itself.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, duration_ms)
    }
}

/// A clock that only moves when told to; share it with `Arc` between the
/// test, the store and the backends.
#[derive(Debug, Default)]
pub struct ManualClock {
    now_ms: AtomicU64,
}

impl ManualClock {
    /// A clock that reads `start_ms` until it is set or advanced.
    pub fn new(start_ms: u64) -> Self {
        Self {
            now_ms: AtomicU64::new(start_ms),
        }
    }

    /// A clock that starts at the current system time.
    pub fn starting_now() -> Self {
        Self::new(SystemClock.now_ms())
    }

    /// Sets the time to `now_ms`, also backwards.
    pub fn set(&self, now_ms: u64) {
        self.now_ms.store(now_ms, Ordering::SeqCst);
    }

    /// Moves the time forward by `by` and returns the new time.
    pub fn advance(&self, by: Duration) -> u64 {
        let by = duration_ms(by);
        let previous = self
            .now_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(by))
            })
            // The closure always returns `Some`, so both arms carry the old value.
            .unwrap_or_else(|now| now);
        previous.saturating_add(by)
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

/// Adapts a [`Clock`] to the guest's `wasi:clocks/wall-clock`.
pub(crate) struct WasiWallClock(pub(crate) Arc<dyn Clock>);

impl wasmtime_wasi::HostWallClock for WasiWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        Duration::from_millis(self.0.now_ms())
    }
}

/// Whole milliseconds of `duration`, saturating far beyond any real date.
pub(crate) fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime_wasi::HostWallClock;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        assert_eq!(clock.advance(Duration::from_secs(2)), 3_000);
        assert_eq!(clock.now_ms(), 3_000);
        clock.set(500);
        assert_eq!(clock.now_ms(), 500);
    }

    #[test]
    fn advancing_saturates_instead_of_wrapping() {
        let clock = ManualClock::new(u64::MAX - 1);
        assert_eq!(clock.advance(Duration::from_secs(1)), u64::MAX);
    }

    #[test]
    fn the_guest_wall_clock_follows_the_manual_clock() {
        let clock = Arc::new(ManualClock::new(42));
        let wasi = WasiWallClock(clock.clone());
        assert_eq!(wasi.now(), Duration::from_millis(42));
        clock.advance(Duration::from_secs(31 * 24 * 3600));
        assert_eq!(
            wasi.now(),
            Duration::from_millis(42 + 31 * 24 * 3600 * 1000)
        );
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now_ms() > 1_577_836_800_000);
    }
}
