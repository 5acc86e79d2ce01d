//! [`KeyError`]: why a key could not be loaded or generated.

use core::fmt;

/// A key could not be loaded, generated or accepted.
///
/// Signing and verification failures are not reported here: [`Signer::try_sign`] and
/// [`Signer::verify`] return the opaque [`SignError`](oidc_hybrid::SignError).
///
/// [`Signer::try_sign`]: oidc_hybrid::Signer::try_sign
/// [`Signer::verify`]: oidc_hybrid::Signer::verify
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum KeyError {
    /// The algorithm is implemented but does not fit the key type: `ES256` given to
    /// [`RsaSigner`](crate::RsaSigner).
    AlgorithmMismatch,
    /// The key id is empty.
    EmptyKeyId,
    /// The input is not a PEM `PRIVATE KEY` (RFC 7468 §10) or not a well-formed PKCS#8
    /// `PrivateKeyInfo` (RFC 5958 §2); for RSA, the `RSAPrivateKey` inside is not well-formed
    /// (RFC 8017 Appendix A.1.2).
    InvalidEncoding,
    /// The key is of the right type but its material is unusable: inconsistent RSA components,
    /// a public exponent below 65537, a P-256 scalar out of range, or an embedded public key
    /// that does not belong to the private key.
    InvalidKey,
    /// The system random source failed while generating a key.
    RandomFailed,
    /// The RSA modulus is longer than [`RsaSigner::MAX_BITS`](crate::RsaSigner::MAX_BITS).
    RsaKeyTooLarge {
        /// The modulus length that was offered, in bits.
        bits: u32,
    },
    /// The RSA modulus is shorter than 2048 bits (RFC 7518 §3.3, §3.5 require at least 2048).
    RsaKeyTooSmall {
        /// The modulus length that was offered, in bits.
        bits: u32,
    },
    /// The algorithm is not one this crate implements (only ES256, RS256 and PS256).
    UnsupportedAlgorithm,
    /// The PKCS#8 key is well-formed but not of the type the signer takes: an EC key given to
    /// [`RsaSigner`](crate::RsaSigner), an RSA key given to [`Es256Signer`](crate::Es256Signer),
    /// or an EC key on a curve other than P-256.
    UnsupportedKey,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlgorithmMismatch => f.write_str("algorithm does not match the key type"),
            Self::EmptyKeyId => f.write_str("key id is empty"),
            Self::InvalidEncoding => f.write_str("key encoding is invalid"),
            Self::InvalidKey => f.write_str("key material is invalid"),
            Self::RandomFailed => f.write_str("random source failed during key generation"),
            Self::RsaKeyTooLarge { bits } => write!(
                f,
                "RSA key of {bits} bits is too large (maximum {})",
                crate::RsaSigner::MAX_BITS
            ),
            Self::RsaKeyTooSmall { bits } => write!(
                f,
                "RSA key of {bits} bits is too small (minimum {})",
                crate::RsaSigner::MIN_BITS
            ),
            Self::UnsupportedAlgorithm => f.write_str("algorithm is not supported"),
            Self::UnsupportedKey => f.write_str("key type or curve is not supported"),
        }
    }
}

impl core::error::Error for KeyError {}
