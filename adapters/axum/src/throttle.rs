//! Brute-force protection (RFC 6749 §2.3.1): a [`Backoff`] counts failures per key — a client
//! and an address at the token endpoint, an account or an address at a host's login page.

use core::hash::Hash;
use core::num::NonZeroUsize;
use core::time::Duration;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use lru::LruCache;

/// Failures per key: `free` cost nothing, the next one a wait of 1 s, each further one twice
/// the last wait, up to `max_delay`; a key without a failure for 15 minutes starts afresh. At
/// most `capacity` keys are kept (the least recently failed goes first); each call is O(1).
#[derive(Debug)]
pub struct Backoff<K: Hash + Eq> {
    /// Per key: failures, the last one, the end of the wait.
    table: Mutex<LruCache<K, (u32, Instant, Instant)>>,
    free: u32,
    max_delay: Duration,
}

impl<K: Hash + Eq> Backoff<K> {
    /// An empty table.
    #[must_use]
    pub fn new(free: u32, max_delay: Duration, capacity: NonZeroUsize) -> Self {
        let table = Mutex::new(LruCache::new(capacity));
        Self {
            table,
            free,
            max_delay,
        }
    }

    fn table(&self) -> MutexGuard<'_, LruCache<K, (u32, Instant, Instant)>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `key` may try at `now`.
    ///
    /// # Errors
    ///
    /// How long `key` must still wait.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        match self.table().peek(key) {
            Some(&(_, _, until)) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Records a failure of `key` at `now`; returns the wait it now has.
    pub fn fail(&self, key: K, now: Instant) -> Duration {
        let mut table = self.table();
        let (count, last, until) = table.get_or_insert_mut(key, || (0, now, now));
        if now.saturating_duration_since(*last) > Duration::from_secs(15 * 60) {
            *count = 0;
        }
        *count = count.saturating_add(1);
        let delay = match count.saturating_sub(self.free) {
            0 => Duration::ZERO,
            n => Duration::from_secs(1 << (n - 1).min(20)).min(self.max_delay),
        };
        (*last, *until) = (now, now + delay);
        delay
    }

    /// Forgets `key`'s failures (after a success).
    pub fn succeed(&self, key: &K) {
        self.table().pop(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_failures_then_doubling_waits_until_success() {
        let backoff = Backoff::new(2, Duration::from_secs(3), NonZeroUsize::new(2).expect("2"));
        let t0 = Instant::now();
        assert_eq!(backoff.fail("a", t0), Duration::ZERO);
        assert_eq!(backoff.fail("a", t0), Duration::ZERO);
        assert_eq!(backoff.check(&"a", t0), Ok(()));
        assert_eq!(backoff.fail("a", t0), Duration::from_secs(1));
        assert_eq!(backoff.check(&"a", t0), Err(Duration::from_secs(1)));
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(backoff.check(&"a", t1), Ok(()));
        assert_eq!(backoff.fail("a", t1), Duration::from_secs(2));
        assert_eq!(backoff.fail("a", t1), Duration::from_secs(3), "capped");
        backoff.succeed(&"a");
        assert_eq!(backoff.check(&"a", t1), Ok(()));
        // Forgotten after a quiet period.
        for _ in 0..3 {
            backoff.fail("b", t0);
        }
        let later = t0 + Duration::from_secs(16 * 60);
        assert_eq!(backoff.fail("b", later), Duration::ZERO);
        // Bounded: a third key pushes out the least recently failed one.
        backoff.fail("c", later);
        backoff.fail("d", later);
        assert_eq!(backoff.table().len(), 2);
    }
}
