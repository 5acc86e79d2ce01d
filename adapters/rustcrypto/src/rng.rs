//! Bridges from [`oidc_hybrid::SecureRandom`] to the `rand_core` 0.10 traits that RustCrypto
//! takes (`TryRng`/`TryCryptoRng`, and the infallible `Rng`/`CryptoRng` they imply).

#[cfg(feature = "rsa")]
use core::convert::Infallible;

use oidc_hybrid::{RandomError, SecureRandom};
use rand_core::{TryCryptoRng, TryRng};

/// A fallible `TryCryptoRng` that draws every byte from the caller's [`SecureRandom`]; a
/// failure of the source surfaces as an error of the RustCrypto operation (signing fails).
pub(crate) struct FallibleRng<'a>(pub(crate) &'a dyn SecureRandom);

impl TryRng for FallibleRng<'_> {
    type Error = RandomError;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut buf = [0u8; 4];
        self.0.try_fill(&mut buf)?;
        Ok(u32::from_le_bytes(buf))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut buf = [0u8; 8];
        self.0.try_fill(&mut buf)?;
        Ok(u64::from_le_bytes(buf))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.0.try_fill(dst)
    }
}

impl TryCryptoRng for FallibleRng<'_> {}

/// An infallible `CryptoRng` for APIs that cannot report a failing source (RSA key
/// generation).
///
/// The first failure of the source latches [`failed`](Self::failed); from then on the output
/// comes from a fixed, non-secret xorshift stream, only so that the algorithm terminates. The
/// caller must check `failed()` afterwards and discard whatever was generated.
#[cfg(feature = "rsa")]
pub(crate) struct LatchingRng<'a> {
    source: &'a dyn SecureRandom,
    failed: bool,
    fallback: u64,
}

#[cfg(feature = "rsa")]
impl<'a> LatchingRng<'a> {
    pub(crate) fn new(source: &'a dyn SecureRandom) -> Self {
        Self {
            source,
            failed: false,
            fallback: 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// Whether the source failed at least once; if so, the output must be discarded.
    pub(crate) const fn failed(&self) -> bool {
        self.failed
    }

    fn fill_fallback(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let mut x = self.fallback;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.fallback = x;
            let bytes = x.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

#[cfg(feature = "rsa")]
impl TryRng for LatchingRng<'_> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut buf = [0u8; 4];
        self.try_fill_bytes(&mut buf)?;
        Ok(u32::from_le_bytes(buf))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut buf = [0u8; 8];
        self.try_fill_bytes(&mut buf)?;
        Ok(u64::from_le_bytes(buf))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        if self.failed || self.source.try_fill(dst).is_err() {
            self.failed = true;
            self.fill_fallback(dst);
        }
        Ok(())
    }
}

#[cfg(feature = "rsa")]
impl TryCryptoRng for LatchingRng<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing;

    impl SecureRandom for Failing {
        fn try_fill(&self, _dest: &mut [u8]) -> Result<(), RandomError> {
            Err(RandomError::default())
        }
    }

    /// NOT SECURE, tests only: a byte counter.
    struct Counter(core::sync::atomic::AtomicU8);

    impl SecureRandom for Counter {
        fn try_fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
            for byte in dest {
                *byte = self.0.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        }
    }

    #[test]
    fn fallible_rng_passes_bytes_and_errors_through() {
        let counter = Counter(0.into());
        let mut rng = FallibleRng(&counter);
        assert_eq!(rng.try_next_u32(), Ok(u32::from_le_bytes([0, 1, 2, 3])));
        let mut buf = [0u8; 3];
        assert_eq!(rng.try_fill_bytes(&mut buf), Ok(()));
        assert_eq!(buf, [4, 5, 6]);

        let mut failing = FallibleRng(&Failing);
        assert!(failing.try_next_u64().is_err());
        assert!(failing.try_fill_bytes(&mut buf).is_err());
    }

    #[cfg(feature = "rsa")]
    #[test]
    fn latching_rng_latches_failure() {
        let counter = Counter(0.into());
        let mut ok = LatchingRng::new(&counter);
        let mut buf = [0u8; 4];
        let Ok(()) = ok.try_fill_bytes(&mut buf);
        assert_eq!(buf, [0, 1, 2, 3]);
        assert!(!ok.failed());

        let mut bad = LatchingRng::new(&Failing);
        let mut a = [0u8; 16];
        let Ok(()) = bad.try_fill_bytes(&mut a);
        assert!(bad.failed());
        let mut b = [0u8; 16];
        let Ok(()) = bad.try_fill_bytes(&mut b);
        assert_ne!(
            a, b,
            "the fallback stream must keep moving so generation terminates"
        );
    }
}
