//! Randomness as an input: the [`SecureRandom`] trait.
//!
//! Codes, tokens and grant ids are drawn from it (RFC 6749 §10.10 requires an attacker's chance
//! of guessing one to be at most 2^-128; we draw 256 bits). RSA signers also take it for PSS salts
//! and blinding.

use core::fmt;

/// A cryptographically secure random source.
///
/// Implementations must be safe to share between threads (`&self`), e.g. by calling the
/// operating system's generator on each use.
///
/// # Example
///
/// ```
/// use oidc_hybrid::{RandomError, SecureRandom};
///
/// /// NOT SECURE: a counter, good only for deterministic tests.
/// struct Counter(core::sync::atomic::AtomicU8);
///
/// impl SecureRandom for Counter {
///     fn try_fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
///         for byte in dest {
///             *byte = self.0.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
///         }
///         Ok(())
///     }
/// }
///
/// let mut buf = [0u8; 4];
/// Counter(0.into()).try_fill(&mut buf).unwrap();
/// assert_eq!(buf, [0, 1, 2, 3]);
/// ```
pub trait SecureRandom: Send + Sync {
    /// Fills `dest` with random bytes.
    ///
    /// # Errors
    ///
    /// [`RandomError`] if the source is unavailable; the request then fails with
    /// `server_error` and nothing is issued.
    fn try_fill(&self, dest: &mut [u8]) -> Result<(), RandomError>;
}

impl<R: SecureRandom + ?Sized> SecureRandom for &R {
    fn try_fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
        (**self).try_fill(dest)
    }
}

/// An error type without detail: a unit struct with `new`, the given message as its `Display`,
/// and `core::error::Error`.
macro_rules! opaque_error {
    ($(#[$doc:meta])* $name:ident, new: $new:literal, message: $message:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
        #[non_exhaustive]
        pub struct $name;

        impl $name {
            #[doc = $new]
            #[must_use]
            pub const fn new() -> Self {
                Self
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($message)
            }
        }

        impl core::error::Error for $name {}
    };
}
pub(crate) use opaque_error;

opaque_error!(
    /// The random source failed. Deliberately opaque.
    RandomError,
    new: "A new opaque error (for implementations of [`SecureRandom`]).",
    message: "random source failed"
);

impl fmt::Debug for dyn SecureRandom + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecureRandom")
    }
}
