//! **NOT SECURE — for this example only.** A fixed clock and a counter posing as a random
//! source, so that every run is the same. A real device reads a real-time clock (set over NTP or
//! from a secure time source) and a hardware entropy source (a TRNG peripheral feeding a DRBG).

use core::sync::atomic::{AtomicU32, Ordering};

use oidc_hybrid::{Clock, RandomError, SecureRandom, UnixTime};

/// The fixed time of the example, in Unix seconds.
pub(crate) const NOW: u64 = 1_700_000_000;

/// NOT SECURE: always [`NOW`].
pub(crate) struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> UnixTime {
        UnixTime::from_secs(NOW)
    }
}

/// NOT SECURE: a 32-bit counter through a fixed mixing function. Predictable by anyone; only here
/// to make codes, tokens and signature nonces reproducible.
pub(crate) struct CounterRandom(AtomicU32);

impl CounterRandom {
    pub(crate) const fn new() -> Self {
        Self(AtomicU32::new(0x2545_f491))
    }
}

impl SecureRandom for CounterRandom {
    fn try_fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
        for chunk in dest.chunks_mut(4) {
            let mut x = self.0.fetch_add(0x9e37_79b9, Ordering::Relaxed);
            // A bijective mix (no security whatsoever).
            x ^= x >> 16;
            x = x.wrapping_mul(0x7feb_352d);
            x ^= x >> 15;
            x = x.wrapping_mul(0x846c_a68b);
            x ^= x >> 16;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}
