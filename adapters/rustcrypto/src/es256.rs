//! [`Es256Signer`]: ECDSA on P-256 with SHA-256 (RFC 7518 §3.4).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

#[cfg(doc)]
use oidc_hybrid::Signer;
use oidc_hybrid::signer::JwkKey;
use oidc_hybrid::{Jwk, JwsAlgorithm, SecureRandom, SignError};
use p256::ecdsa::signature::RandomizedSigner;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::Generate;
use p256::pkcs8::DecodePrivateKey;
use zeroize::Zeroizing;

use crate::error::KeyError;
use crate::pkcs8_export;
use crate::public_key::{self, PublicKey};
use crate::rng::FallibleRng;

/// An ES256 signing key (ECDSA P-256 SHA-256, RFC 7518 §3.4), the recommended default
/// ID Token signing key.
///
/// Signatures are the fixed-width 64-byte `R || S` that JWS requires (never DER). The nonce
/// is derived per RFC 6979 §3.2 with 32 fresh bytes from the caller's [`SecureRandom`] mixed
/// in as additional data (RFC 6979 §3.6): the nonce stays unpredictable even if the source is
/// weak or repeats, and it differs for different messages.
///
/// # Key id
///
/// Every constructor takes `kid: Option<&str>`. With `None`, the key id is the key's RFC 7638
/// thumbprint ([`thumbprint`](Self::thumbprint)), which is stable across restarts and
/// distinct per key — a sensible default for `kid` (OIDC Core §10.1).
///
/// ```
/// # #[cfg(feature = "getrandom")] {
/// use oidc_hybrid::{JwsAlgorithm, Signer};
/// use oidc_hybrid_rustcrypto::{Es256Signer, OsRandom};
///
/// let signer = Es256Signer::generate(&OsRandom, None)?;
/// assert_eq!(signer.algorithm(), JwsAlgorithm::ES256);
/// assert_eq!(signer.key_id(), signer.thumbprint());
///
/// // Persist it (e.g. beside the database) and load it again.
/// let pem = signer.to_pkcs8_pem()?;
/// let again = Es256Signer::from_pkcs8_pem(&pem, None)?;
/// assert_eq!(again.public_jwk(), signer.public_jwk());
/// # }
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
pub struct Es256Signer {
    key: SigningKey,
    jwk: Jwk,
}

impl Es256Signer {
    /// Wraps a P-256 signing key. `kid: None` uses the RFC 7638 thumbprint.
    ///
    /// # Errors
    ///
    /// [`KeyError::EmptyKeyId`] for `Some("")`.
    pub fn new(key: SigningKey, kid: Option<&str>) -> Result<Self, KeyError> {
        // The public JWK: `kty` `EC`, `crv` `P-256`, 32-byte `x` and `y` (RFC 7518 §6.2.1).
        let (x, y) = public_key::p256_coordinates(key.verifying_key());
        let jwk = Jwk::ec_p256("", JwsAlgorithm::ES256, x, y)
            .named(kid)
            .ok_or(KeyError::EmptyKeyId)?;
        Ok(Self { key, jwk })
    }

    /// Loads a key from its raw private scalar: 32 bytes, big-endian (SEC 1 §2.3.7; the `d` of
    /// an EC JWK, RFC 7518 §6.2.2.1). `kid: None` uses the RFC 7638 thumbprint.
    ///
    /// **The constructor for small devices.** It links no ASN.1/DER or PEM parser: on a
    /// Cortex-M4 firmware, loading the same key with [`from_pkcs8_der`](Self::from_pkcs8_der)
    /// costs about 13 KiB more flash (see `docs/embedded.md`). Keep the scalar in a secret-store
    /// region or derive it from a device secret; never in source code.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidKey`] if the scalar is zero or not below the group order;
    /// [`KeyError::EmptyKeyId`] for `Some("")`.
    pub fn from_scalar_bytes(scalar: &[u8; 32], kid: Option<&str>) -> Result<Self, KeyError> {
        let key = SigningKey::from_slice(scalar).map_err(|_| KeyError::InvalidKey)?;
        Self::new(key, kid)
    }

    /// Generates a fresh key from `rng`.
    ///
    /// # Errors
    ///
    /// [`KeyError::RandomFailed`] if `rng` fails; [`KeyError::EmptyKeyId`] for `Some("")`.
    pub fn generate(rng: &dyn SecureRandom, kid: Option<&str>) -> Result<Self, KeyError> {
        let key = SigningKey::try_generate_from_rng(&mut FallibleRng(rng))
            .map_err(|_| KeyError::RandomFailed)?;
        Self::new(key, kid)
    }

    /// Loads a PKCS#8 `PrivateKeyInfo` (RFC 5958 §2) holding a P-256 key, DER-encoded.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidEncoding`] if `der` is not a P-256 PKCS#8 key;
    /// [`KeyError::EmptyKeyId`] for `Some("")`.
    pub fn from_pkcs8_der(der: &[u8], kid: Option<&str>) -> Result<Self, KeyError> {
        let key = SigningKey::from_pkcs8_der(der).map_err(|_| KeyError::InvalidEncoding)?;
        Self::new(key, kid)
    }

    /// Loads a PEM `PRIVATE KEY` (PKCS#8, RFC 7468 §10) holding a P-256 key, e.g. the output of
    /// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidEncoding`] if `pem` is not a P-256 PKCS#8 PEM key;
    /// [`KeyError::EmptyKeyId`] for `Some("")`.
    pub fn from_pkcs8_pem(pem: &str, kid: Option<&str>) -> Result<Self, KeyError> {
        let key = SigningKey::from_pkcs8_pem(pem).map_err(|_| KeyError::InvalidEncoding)?;
        Self::new(key, kid)
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

    /// The RFC 7638 JWK thumbprint of the public key (the default `kid`).
    #[must_use]
    pub fn thumbprint(&self) -> String {
        // An EC JWK with `crv`, `x` and `y` set always has a thumbprint (RFC 7638 §3.2).
        self.jwk.thumbprint().unwrap_or_default()
    }

    /// A verifier for this key's signatures, pinned to ES256 and carrying the same `kid`.
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        PublicKey::p256(
            *self.key.verifying_key(),
            Some(JwsAlgorithm::ES256),
            Some(&self.jwk.kid),
        )
    }
}

impl JwkKey for Es256Signer {
    fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Signs per RFC 7515 §5.1 step 5 with ES256 (RFC 7518 §3.4); returns the 64-byte `R || S`.
    fn sign_input(&self, input: &[u8], rng: &dyn SecureRandom) -> Result<Vec<u8>, SignError> {
        let signature: Signature = self
            .key
            .try_sign_with_rng(&mut FallibleRng(rng), input)
            .map_err(|_| SignError::new())?;
        Ok(signature.to_bytes().to_vec())
    }

    fn verify_input(&self, input: &[u8], signature: &[u8]) -> Result<(), SignError> {
        public_key::verify_es256(self.key.verifying_key(), input, signature)
    }
}

impl fmt::Debug for Es256Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Es256Signer")
            .field("kid", &self.jwk.kid)
            .finish_non_exhaustive()
    }
}
