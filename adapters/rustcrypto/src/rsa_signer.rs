//! [`RsaSigner`]: RS256 (RSASSA-PKCS1-v1_5, RFC 7518 §3.3) and PS256 (RSASSA-PSS,
//! RFC 7518 §3.5) with SHA-256.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

#[cfg(doc)]
use oidc_hybrid::Signer;
use oidc_hybrid::signer::JwkKey;
use oidc_hybrid::{Jwk, JwsAlgorithm, SecureRandom, SignError};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, LineEnding};
use rsa::traits::{PublicKeyParts, SignatureScheme};
use rsa::{Pkcs1v15Sign, Pss, RsaPrivateKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::KeyError;
use crate::pkcs8_export;
use crate::public_key::{self, PublicKey};
use crate::rng::{FallibleRng, LatchingRng};

/// An RSA signing key for RS256 or PS256; the algorithm is fixed when the signer is built
/// (OIDC Core §10.1: one key, one algorithm).
///
/// RS256 must be available at every OpenID Provider (OIDC Core §15.1), so this signer exists;
/// prefer [`Es256Signer`](crate::Es256Signer) as the default key, and read
/// `docs/security.md` ("RSA and RUSTSEC-2023-0071") before deploying it.
///
/// * Keys shorter than 2048 bits are refused (RFC 7518 §3.3, §3.5), as are keys longer than
///   8192 bits.
/// * Every private-key operation is blinded with randomness from the [`SecureRandom`] given to
///   [`try_sign`](Signer::try_sign) — for PKCS#1 v1.5 too, which needs no randomness of its own
///   — and PS256 draws its 32-byte salt from it (RFC 7518 §3.5).
///
/// # Key id
///
/// Every constructor takes `kid: Option<&str>`; `None` uses the RFC 7638 thumbprint
/// ([`thumbprint`](Self::thumbprint)).
///
/// ```
/// use oidc_hybrid::{JwsAlgorithm, Signer};
/// use oidc_hybrid_rustcrypto::RsaSigner;
///
/// let pem = include_str!("../tests/keys/rsa2048.pkcs8.pem");
/// let signer = RsaSigner::from_pkcs8_pem(pem, JwsAlgorithm::RS256, Some("rsa-1"))?;
/// assert_eq!(signer.algorithm(), JwsAlgorithm::RS256);
/// assert_eq!(signer.key_id(), "rsa-1");
/// assert_eq!(signer.bits(), 2048);
/// # Ok::<(), oidc_hybrid_rustcrypto::KeyError>(())
/// ```
pub struct RsaSigner {
    key: RsaPrivateKey,
    jwk: Jwk,
}

/// Key loaders of [`RsaSigner`]: each decodes its input with the named `rsa` function, then
/// wraps the key as [`RsaSigner::new`] does.
macro_rules! decoders {
    ($($(#[$doc:meta])* $name:ident($input:ident: $type:ty) = $decode:path;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(
                $input: $type,
                alg: JwsAlgorithm,
                kid: Option<&str>,
            ) -> Result<Self, KeyError> {
                let key = $decode($input).map_err(|_| KeyError::InvalidEncoding)?;
                Self::new(alg, key, kid)
            }
        )*
    };
}

impl RsaSigner {
    /// The smallest modulus accepted, in bits (RFC 7518 §3.3, §3.5).
    pub const MIN_BITS: u32 = public_key::RSA_MIN_BITS;
    /// The largest modulus accepted, in bits.
    pub const MAX_BITS: u32 = public_key::RSA_MAX_BITS;

    /// Wraps an RSA private key for `alg`, which must be [`JwsAlgorithm::RS256`] or
    /// [`JwsAlgorithm::PS256`]. `kid: None` uses the RFC 7638 thumbprint.
    ///
    /// # Errors
    ///
    /// [`KeyError::UnsupportedAlgorithm`] or [`KeyError::AlgorithmMismatch`] for another
    /// `alg`, [`KeyError::RsaKeyTooSmall`] / [`KeyError::RsaKeyTooLarge`], and
    /// [`KeyError::EmptyKeyId`] for `Some("")`.
    pub fn new(alg: JwsAlgorithm, key: RsaPrivateKey, kid: Option<&str>) -> Result<Self, KeyError> {
        match alg {
            JwsAlgorithm::RS256 | JwsAlgorithm::PS256 => {}
            JwsAlgorithm::ES256 => return Err(KeyError::AlgorithmMismatch),
            _ => return Err(KeyError::UnsupportedAlgorithm),
        }
        public_key::check_rsa_bits(modulus_bits(&key))?;
        // The public JWK: `kty` `RSA`, big-endian minimal `n` and `e` (RFC 7518 §6.3.1).
        let (n, e) = public_key::rsa_components(&key);
        let jwk = Jwk::rsa("", alg, n, e)
            .named(kid)
            .ok_or(KeyError::EmptyKeyId)?;
        Ok(Self { key, jwk })
    }

    /// An RS256 signer (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn rs256(key: RsaPrivateKey, kid: Option<&str>) -> Result<Self, KeyError> {
        Self::new(JwsAlgorithm::RS256, key, kid)
    }

    /// A PS256 signer (RSASSA-PSS with SHA-256, MGF1-SHA-256, 32-byte salt, RFC 7518 §3.5).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn ps256(key: RsaPrivateKey, kid: Option<&str>) -> Result<Self, KeyError> {
        Self::new(JwsAlgorithm::PS256, key, kid)
    }

    /// Generates a fresh key of `bits` bits (public exponent 65537) from `rng`.
    ///
    /// This is slow — seconds in an optimised build, much longer in a debug build — so
    /// generate once and persist the key with [`to_pkcs8_pem`](Self::to_pkcs8_pem).
    ///
    /// # Errors
    ///
    /// [`KeyError::RsaKeyTooSmall`] / [`KeyError::RsaKeyTooLarge`] before any work is done,
    /// [`KeyError::RandomFailed`] if `rng` failed at any point (the partial result is
    /// discarded), [`KeyError::InvalidKey`] if generation fails, and the errors of
    /// [`new`](Self::new).
    pub fn generate(
        rng: &dyn SecureRandom,
        bits: u32,
        alg: JwsAlgorithm,
        kid: Option<&str>,
    ) -> Result<Self, KeyError> {
        public_key::check_rsa_bits(bits)?;
        // Fail fast on a source that is already broken, rather than after a full generation.
        let mut probe = Zeroizing::new([0u8; 32]);
        rng.try_fill(probe.as_mut())
            .map_err(|_| KeyError::RandomFailed)?;
        let mut latching = LatchingRng::new(rng);
        let generated = RsaPrivateKey::new(&mut latching, bits as usize);
        if latching.failed() {
            return Err(KeyError::RandomFailed);
        }
        let key = generated.map_err(|_| KeyError::InvalidKey)?;
        Self::new(alg, key, kid)
    }

    decoders! {
        /// Loads a PKCS#8 `PrivateKeyInfo` (RFC 5958 §2) holding an RSA key, DER-encoded.
        ///
        /// # Errors
        ///
        /// [`KeyError::InvalidEncoding`] if `der` is not an RSA PKCS#8 key, and the errors of
        /// [`new`](Self::new).
        from_pkcs8_der(der: &[u8]) = RsaPrivateKey::from_pkcs8_der;

        /// Loads a PEM `PRIVATE KEY` (PKCS#8, RFC 7468 §10) holding an RSA key, e.g. the output
        /// of `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`.
        ///
        /// # Errors
        ///
        /// [`KeyError::InvalidEncoding`] if `pem` is not an RSA PKCS#8 PEM key, and the errors
        /// of [`new`](Self::new).
        from_pkcs8_pem(pem: &str) = RsaPrivateKey::from_pkcs8_pem;

        /// Loads a PKCS#1 `RSAPrivateKey` (RFC 8017 Appendix A.1.2), DER-encoded.
        ///
        /// # Errors
        ///
        /// [`KeyError::InvalidEncoding`] if `der` is not a PKCS#1 RSA key, and the errors of
        /// [`new`](Self::new).
        from_pkcs1_der(der: &[u8]) = RsaPrivateKey::from_pkcs1_der;

        /// Loads a PEM `RSA PRIVATE KEY` (PKCS#1, RFC 8017 Appendix A.1.2), e.g. the output of
        /// `openssl rsa -traditional`.
        ///
        /// # Errors
        ///
        /// [`KeyError::InvalidEncoding`] if `pem` is not a PKCS#1 RSA PEM key, and the errors
        /// of [`new`](Self::new).
        from_pkcs1_pem(pem: &str) = RsaPrivateKey::from_pkcs1_pem;
    }

    /// The private key as PKCS#8 DER (RFC 5958), in a buffer that is zeroed on drop.
    ///
    /// # Errors
    ///
    /// [`KeyError::EncodingFailed`] if encoding fails.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        pkcs8_export::der(&self.key)
    }

    /// The private key as a PEM `PRIVATE KEY` (PKCS#8, RFC 7468 §10, LF line endings), in a
    /// string that is zeroed on drop.
    ///
    /// # Errors
    ///
    /// [`KeyError::EncodingFailed`] if encoding fails.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        pkcs8_export::pem(&self.key)
    }

    /// The private key as PKCS#1 DER (RFC 8017 Appendix A.1.2), zeroed on drop.
    ///
    /// # Errors
    ///
    /// [`KeyError::EncodingFailed`] if encoding fails.
    pub fn to_pkcs1_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let document = self
            .key
            .to_pkcs1_der()
            .map_err(|_| KeyError::EncodingFailed)?;
        Ok(document.to_bytes())
    }

    /// The private key as a PEM `RSA PRIVATE KEY` (PKCS#1, LF line endings), zeroed on drop.
    ///
    /// # Errors
    ///
    /// [`KeyError::EncodingFailed`] if encoding fails.
    pub fn to_pkcs1_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        self.key
            .to_pkcs1_pem(LineEnding::LF)
            .map_err(|_| KeyError::EncodingFailed)
    }

    /// The modulus length in bits.
    #[must_use]
    pub fn bits(&self) -> u32 {
        modulus_bits(&self.key)
    }

    /// The RFC 7638 JWK thumbprint of the public key (the default `kid`).
    #[must_use]
    pub fn thumbprint(&self) -> String {
        // An RSA JWK with `n` and `e` set always has a thumbprint (RFC 7638 §3.2).
        self.jwk.thumbprint().unwrap_or_default()
    }

    /// A verifier for this key's signatures, pinned to this signer's algorithm and carrying
    /// the same `kid`.
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        let (alg, kid) = (self.jwk.alg, &self.jwk.kid);
        PublicKey::rsa(self.key.to_public_key(), Some(alg), Some(kid))
    }
}

/// The modulus length; the modulus is public, so a variable-time count is fine.
fn modulus_bits(key: &impl PublicKeyParts) -> u32 {
    key.n().as_ref().bits_vartime()
}

impl JwkKey for RsaSigner {
    fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Signs per RFC 7515 §5.1 step 5: RSASSA-PKCS1-v1_5 (RFC 8017 §8.2.1) for RS256 or
    /// RSASSA-PSS (RFC 8017 §8.1.1) for PS256, both over SHA-256, with the private-key
    /// operation blinded by `rng`. The signature has the modulus' length in bytes.
    fn sign_input(&self, input: &[u8], rng: &dyn SecureRandom) -> Result<Vec<u8>, SignError> {
        let digest = Sha256::digest(input);
        let mut rng = FallibleRng(rng);
        let signature = match self.jwk.alg {
            JwsAlgorithm::RS256 => {
                Pkcs1v15Sign::new::<Sha256>().sign(Some(&mut rng), &self.key, &digest)
            }
            JwsAlgorithm::PS256 => {
                Pss::<Sha256>::new_blinded().sign(Some(&mut rng), &self.key, &digest)
            }
            _ => return Err(SignError::new()),
        };
        signature.map_err(|_| SignError::new())
    }

    fn verify_input(&self, input: &[u8], signature: &[u8]) -> Result<(), SignError> {
        public_key::verify_rsa(self.key.as_public_key(), self.jwk.alg, input, signature)
    }
}

impl fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaSigner")
            .field("alg", &self.jwk.alg)
            .field("kid", &self.jwk.kid)
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}
