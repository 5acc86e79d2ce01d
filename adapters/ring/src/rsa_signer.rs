//! [`RsaSigner`]: RS256 (RSASSA-PKCS1-v1_5, RFC 7518 §3.3) and PS256 (RSASSA-PSS,
//! RFC 7518 §3.5) with SHA-256, on ring.

use core::fmt;

#[cfg(doc)]
use oidc_hybrid::Signer;
use oidc_hybrid::signer::JwkKey;
use oidc_hybrid::{Jwk, JwsAlgorithm, SecureRandom, SignError};
use ring::rand::SystemRandom;
use ring::rsa::PublicKeyComponents;
use ring::signature::{
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RSA_PSS_2048_8192_SHA256, RSA_PSS_SHA256,
    RsaEncoding, RsaKeyPair, RsaParameters, UnparsedPublicKey,
};

use crate::error::KeyError;
use crate::{b64, pkcs8};

/// An RSA signing key for RS256 or PS256 on ring; the algorithm is fixed when the signer is
/// built (OIDC Core §10.1: one key, one algorithm).
///
/// RS256 must be available at every OpenID Provider (OIDC Core §15.1). ring's RSA private-key
/// operation is constant-time and blinded, so this signer is not subject to RUSTSEC-2023-0071,
/// which covers the `rsa` crate behind `oidc-hybrid-rustcrypto` (see `docs/security.md`).
///
/// * Keys of [`MIN_BITS`](Self::MIN_BITS) to [`MAX_BITS`](Self::MAX_BITS) bits are accepted:
///   RFC 7518 §3.3 and §3.5 require at least 2048, and ring signs with at most 4096. The
///   public exponent must be at least 65537.
/// * PS256 uses MGF1 with SHA-256 and a 32-byte salt (RFC 7518 §3.5).
///
/// # Randomness
///
/// ring's random-source trait is sealed, so the caller's [`SecureRandom`] cannot be plugged into
/// it: the signer holds a [`ring::rand::SystemRandom`] (the operating system's generator) for
/// blinding and PSS salts and **ignores the `rng` argument** of [`try_sign`](Signer::try_sign).
///
/// # Key id
///
/// Every constructor takes `kid: Option<&str>`; `None` uses the RFC 7638 thumbprint
/// ([`thumbprint`](Self::thumbprint)), the same value `oidc-hybrid-rustcrypto` derives.
///
/// ```
/// use oidc_hybrid::{JwsAlgorithm, Signer};
/// use oidc_hybrid_ring::RsaSigner;
///
/// let pem = include_str!("../tests/keys/rsa2048.pkcs8.pem");
/// let signer = RsaSigner::from_pkcs8_pem(pem, JwsAlgorithm::RS256, Some("rsa-1"))?;
/// assert_eq!(signer.algorithm(), JwsAlgorithm::RS256);
/// assert_eq!(signer.key_id(), "rsa-1");
/// assert_eq!(signer.bits(), 2048);
/// # Ok::<(), oidc_hybrid_ring::KeyError>(())
/// ```
pub struct RsaSigner {
    key: RsaKeyPair,
    encoding: &'static dyn RsaEncoding,
    verification: &'static RsaParameters,
    rng: SystemRandom,
    bits: u32,
    jwk: Jwk,
}

impl RsaSigner {
    /// The smallest modulus accepted, in bits (RFC 7518 §3.3, §3.5).
    pub const MIN_BITS: u32 = 2048;
    /// The largest modulus accepted, in bits: the most ring signs with. (The RustCrypto signer
    /// goes up to 8192.)
    pub const MAX_BITS: u32 = 4096;

    /// Loads a PKCS#8 `PrivateKeyInfo` (RFC 5958 §2) holding an RSA key, DER-encoded, for
    /// `alg`, which must be [`JwsAlgorithm::RS256`] or [`JwsAlgorithm::PS256`]. `kid: None`
    /// uses the RFC 7638 thumbprint.
    ///
    /// # Errors
    ///
    /// [`KeyError::AlgorithmMismatch`] for `ES256` and [`KeyError::UnsupportedAlgorithm`] for
    /// any other `alg` but RS256 and PS256; [`KeyError::InvalidEncoding`] if `der` is not a
    /// PKCS#8 key, [`KeyError::UnsupportedKey`] if it is not an RSA key,
    /// [`KeyError::RsaKeyTooSmall`] / [`KeyError::RsaKeyTooLarge`] outside
    /// [`MIN_BITS`](Self::MIN_BITS)..=[`MAX_BITS`](Self::MAX_BITS), [`KeyError::InvalidKey`]
    /// if the key material is unusable, [`KeyError::EmptyKeyId`] for `Some("")`.
    pub fn from_pkcs8_der(
        der: &[u8],
        alg: JwsAlgorithm,
        kid: Option<&str>,
    ) -> Result<Self, KeyError> {
        let (encoding, verification): (&'static dyn RsaEncoding, &'static RsaParameters) = match alg
        {
            JwsAlgorithm::RS256 => (&RSA_PKCS1_SHA256, &RSA_PKCS1_2048_8192_SHA256),
            JwsAlgorithm::PS256 => (&RSA_PSS_SHA256, &RSA_PSS_2048_8192_SHA256),
            JwsAlgorithm::ES256 => return Err(KeyError::AlgorithmMismatch),
            _ => return Err(KeyError::UnsupportedAlgorithm),
        };
        let bits = pkcs8::rsa_modulus_bits(der)?;
        if bits < Self::MIN_BITS {
            return Err(KeyError::RsaKeyTooSmall { bits });
        }
        if bits > Self::MAX_BITS {
            return Err(KeyError::RsaKeyTooLarge { bits });
        }
        let key = RsaKeyPair::from_pkcs8(der).map_err(|_| KeyError::InvalidKey)?;
        let components = PublicKeyComponents::<Vec<u8>>::from(key.public());
        // The public JWK: `kty` `RSA`, big-endian minimal `n` and `e` (RFC 7518 §6.3.1).
        let (n, e) = (b64::encode(&components.n), b64::encode(&components.e));
        let jwk = Jwk::rsa("", alg, n, e)
            .named(kid)
            .ok_or(KeyError::EmptyKeyId)?;
        Ok(Self {
            key,
            encoding,
            verification,
            rng: SystemRandom::new(),
            bits: pkcs8::bit_length(&components.n),
            jwk,
        })
    }

    /// Loads a PEM `PRIVATE KEY` (PKCS#8, RFC 7468 §10) holding an RSA key, e.g. the output of
    /// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`. The decoded DER is
    /// zeroed once the key is loaded.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidEncoding`] if `pem` is not a PEM `PRIVATE KEY`, and the errors of
    /// [`from_pkcs8_der`](Self::from_pkcs8_der).
    pub fn from_pkcs8_pem(
        pem: &str,
        alg: JwsAlgorithm,
        kid: Option<&str>,
    ) -> Result<Self, KeyError> {
        let der = pkcs8::decode_pem(pem)?;
        Self::from_pkcs8_der(&der, alg, kid)
    }

    /// The modulus length in bits.
    #[must_use]
    pub const fn bits(&self) -> u32 {
        self.bits
    }

    /// The RFC 7638 JWK thumbprint of the public key (the default `kid`).
    #[must_use]
    pub fn thumbprint(&self) -> String {
        // An RSA JWK with `n` and `e` set always has a thumbprint (RFC 7638 §3.2).
        self.jwk.thumbprint().unwrap_or_default()
    }
}

impl JwkKey for RsaSigner {
    fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Signs per RFC 7515 §5.1 step 5: RSASSA-PKCS1-v1_5 (RFC 8017 §8.2.1) for RS256 or
    /// RSASSA-PSS (RFC 8017 §8.1.1) for PS256, both over SHA-256. The signature has the
    /// modulus' length in bytes.
    ///
    /// `rng` is not used: blinding and PSS salts come from the signer's own [`SystemRandom`]
    /// (see the type's documentation).
    fn sign_input(&self, input: &[u8], _rng: &dyn SecureRandom) -> Result<Vec<u8>, SignError> {
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(self.encoding, &self.rng, input, &mut signature)
            .map_err(|_| SignError::new())?;
        Ok(signature)
    }

    /// Verifies an RS256 (RFC 7518 §3.3) or PS256 (RFC 7518 §3.5) signature, whichever this
    /// signer was built for.
    fn verify_input(&self, input: &[u8], signature: &[u8]) -> Result<(), SignError> {
        UnparsedPublicKey::new(self.verification, self.key.public().as_ref())
            .verify(input, signature)
            .map_err(|_| SignError::new())
    }
}

impl fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Jwk { alg, kid, .. } = &self.jwk;
        f.debug_struct("RsaSigner")
            .field("alg", alg)
            .field("kid", kid)
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}
