//! NOT SECRET: the published test keys of `adapters/rustcrypto/tests/keys` (P-256 and RSA-2048),
//! as raw big-endian components in `keys/*.bin`. A device keeps its own keys in a protected
//! region, never in its image.

/// The P-256 private scalar, 32 bytes big-endian (SEC 1 §2.3.7).
pub(crate) const P256_SCALAR: [u8; 32] = *include_bytes!("../keys/p256.scalar.bin");

/// The ES256 key as PKCS#8 DER (the `pkcs8` measurement variant).
#[cfg(feature = "pkcs8")]
pub(crate) const P256_PKCS8_DER: &[u8] = include_bytes!("../keys/p256.pkcs8.der");

#[cfg(feature = "rsa")]
/// The RSA modulus.
pub(crate) const RSA_N: [u8; 256] = *include_bytes!("../keys/rsa2048.n.bin");

#[cfg(feature = "rsa")]
/// The RSA private exponent.
pub(crate) const RSA_D: [u8; 255] = *include_bytes!("../keys/rsa2048.d.bin");

#[cfg(feature = "rsa")]
/// The first RSA prime.
pub(crate) const RSA_P: [u8; 128] = *include_bytes!("../keys/rsa2048.p.bin");

#[cfg(feature = "rsa")]
/// The second RSA prime.
pub(crate) const RSA_Q: [u8; 128] = *include_bytes!("../keys/rsa2048.q.bin");

/// The RSA public exponent.
#[cfg(feature = "rsa")]
pub(crate) const RSA_E: u32 = 65537;
