//! [`OsRandom`]: the operating system's generator as a [`SecureRandom`].

use oidc_hybrid::{RandomError, SecureRandom};

/// A [`SecureRandom`] backed by the operating system's cryptographically secure generator
/// through `getrandom` (e.g. `getrandom(2)` on Linux). Stateless, so it is trivially shared
/// between threads.
///
/// RFC 6749 §10.10 requires that guessing a code or token succeed with probability at most
/// 2^-128; that rests on this source being a CSPRNG.
///
/// Available with the `getrandom` feature (on by default).
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandom;

impl SecureRandom for OsRandom {
    fn try_fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
        getrandom::fill(dest).map_err(|_| RandomError::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_and_differs() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        assert_eq!(OsRandom.try_fill(&mut a), Ok(()));
        assert_eq!(OsRandom.try_fill(&mut b), Ok(()));
        assert_ne!(a, b);
        assert_eq!(OsRandom.try_fill(&mut []), Ok(()));
    }
}
