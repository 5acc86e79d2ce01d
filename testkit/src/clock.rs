//! A [`Clock`] the test moves by hand.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use oidc_hybrid::{Clock, UnixTime};

/// A clock that stands still until the test moves it. Clones share the time, so a test keeps one
/// and hands another to the provider.
///
/// ```
/// use oidc_hybrid::Clock as _;
/// use oidc_hybrid_testkit::TestClock;
///
/// let clock = TestClock::at(1_800_000_000);
/// let provider_side = clock.clone();
/// clock.advance(60);
/// assert_eq!(provider_side.now().as_secs(), 1_800_000_060);
/// ```
#[derive(Clone, Debug)]
pub struct TestClock(Arc<AtomicU64>);

impl TestClock {
    /// A clock at `secs` (Unix seconds).
    #[must_use]
    pub fn at(secs: u64) -> Self {
        Self(Arc::new(AtomicU64::new(secs)))
    }

    /// Moves the clock forward by `secs`, stopping at the largest time rather than wrapping.
    pub fn advance(&self, secs: u64) {
        // `fetch_update` only fails if the closure returns `None`; it never does.
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(secs))
            });
    }

    /// Sets the clock to `secs` (also backwards, to play a node whose clock lags).
    pub fn set(&self, secs: u64) {
        self.0.store(secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> UnixTime {
        UnixTime::from_secs(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_time_and_advancing_saturates() {
        let clock = TestClock::at(10);
        let other = clock.clone();
        clock.advance(5);
        assert_eq!(other.now(), UnixTime::from_secs(15));
        other.advance(u64::MAX);
        assert_eq!(clock.now(), UnixTime::from_secs(u64::MAX));
        clock.set(7);
        assert_eq!(other.now(), UnixTime::from_secs(7));
    }
}
