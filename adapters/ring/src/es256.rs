//! [`Es256Signer`]: ECDSA on P-256 with SHA-256 (RFC 7518 §3.4), on ring.

use core::fmt;

#[cfg(doc)]
use oidc_hybrid::Signer;
use oidc_hybrid::signer::JwkKey;
use oidc_hybrid::{Jwk, JwsAlgorithm, SecureRandom, SignError};
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::pkcs8::DecodePrivateKey;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use zeroize::Zeroizing;

use crate::error::KeyError;
use crate::{b64, pkcs8};

/// An ES256 signing key (ECDSA P-256 SHA-256, RFC 7518 §3.4) on ring.
///
/// Signatures are the fixed-width 64-byte `R || S` that JWS requires (never DER). ring draws
/// the nonce from its own [`SystemRandom`] mixed with the key and the message, so a weak random
/// source alone does not expose the key.
///
/// # Randomness
///
/// ring's random-source trait is sealed, so the caller's [`SecureRandom`] cannot be plugged into
/// it: the signer holds a [`ring::rand::SystemRandom`] (the operating system's generator) and
/// **ignores the `rng` argument** of [`try_sign`](Signer::try_sign). Use
/// `oidc-hybrid-rustcrypto` where every random byte must come from the host's source.
///
/// # Key id
///
/// Every constructor takes `kid: Option<&str>`. With `None`, the key id is the key's RFC 7638
/// thumbprint ([`thumbprint`](Self::thumbprint)) — the same value `oidc-hybrid-rustcrypto`
/// derives for the same key, so a deployment can switch adapters without changing its `kid`s.
///
/// ```
/// use oidc_hybrid::{JwsAlgorithm, Signer};
/// use oidc_hybrid_ring::Es256Signer;
///
/// // An in-memory key, named by its thumbprint.
/// let signer = Es256Signer::generate(None)?;
/// assert_eq!(signer.algorithm(), JwsAlgorithm::ES256);
/// assert_eq!(signer.key_id(), signer.thumbprint());
///
/// // A persistent key from a PKCS#8 PEM file, with a key id of your choice.
/// let pem = include_str!("../tests/keys/p256-no-public.pkcs8.pem");
/// let signer = Es256Signer::from_pkcs8_pem(pem, Some("es-1"))?;
/// assert_eq!(signer.key_id(), "es-1");
/// assert_eq!(signer.public_jwk().kid, "es-1");
/// # Ok::<(), oidc_hybrid_ring::KeyError>(())
/// ```
pub struct Es256Signer {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    jwk: Jwk,
}

impl Es256Signer {
    /// Generates a fresh key from the operating system's generator. `kid: None` uses the
    /// RFC 7638 thumbprint.
    ///
    /// The private key never leaves the signer: it cannot be exported, so it is lost when the
    /// process ends and `id_token_hint`s signed with it no longer verify. For a key that
    /// outlives the process, create a PKCS#8 file (`openssl genpkey -algorithm EC -pkeyopt
    /// ec_paramgen_curve:P-256`, or `oidc-hybrid-rustcrypto`'s `Es256Signer::to_pkcs8_pem`) and
    /// load it with [`from_pkcs8_pem`](Self::from_pkcs8_pem).
    ///
    /// # Errors
    ///
    /// [`KeyError::RandomFailed`] if the system generator fails; [`KeyError::EmptyKeyId`] for
    /// `Some("")`.
    pub fn generate(kid: Option<&str>) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        // ring offers key generation only as a PKCS#8 document, which it does not zero on drop;
        // the document lives in this stack frame only.
        let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| KeyError::RandomFailed)?;
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, document.as_ref(), &rng)
                .map_err(|_| KeyError::RandomFailed)?;
        Self::new(key, rng, kid)
    }

    /// Loads a PKCS#8 `PrivateKeyInfo` (RFC 5958 §2) holding a P-256 key, DER-encoded.
    ///
    /// ring requires the optional public key inside the `ECPrivateKey` (RFC 5915 §3); a key
    /// without it (as `openssl ec -no_public` writes) is accepted all the same: its public point
    /// is derived from the private scalar. Every P-256 PKCS#8 key that `oidc-hybrid-rustcrypto`
    /// loads, this signer loads too.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidEncoding`] if `der` is not a PKCS#8 key,
    /// [`KeyError::UnsupportedKey`] if it is not an EC key on P-256, [`KeyError::InvalidKey`]
    /// if the key material is unusable, [`KeyError::EmptyKeyId`] for `Some("")`.
    pub fn from_pkcs8_der(der: &[u8], kid: Option<&str>) -> Result<Self, KeyError> {
        pkcs8::expect_p256(der)?;
        let rng = SystemRandom::new();
        let key = match EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng) {
            Ok(key) => key,
            Err(_) => with_derived_public_key(der, &rng)?,
        };
        Self::new(key, rng, kid)
    }

    /// Loads a PEM `PRIVATE KEY` (PKCS#8, RFC 7468 §10) holding a P-256 key, e.g. the output of
    /// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`. The decoded DER is
    /// zeroed once the key is loaded.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidEncoding`] if `pem` is not a PEM `PRIVATE KEY`, and the errors of
    /// [`from_pkcs8_der`](Self::from_pkcs8_der).
    pub fn from_pkcs8_pem(pem: &str, kid: Option<&str>) -> Result<Self, KeyError> {
        let der = pkcs8::decode_pem(pem)?;
        Self::from_pkcs8_der(&der, kid)
    }

    /// The RFC 7638 JWK thumbprint of the public key (the default `kid`).
    #[must_use]
    pub fn thumbprint(&self) -> String {
        // An EC JWK with `crv`, `x` and `y` set always has a thumbprint (RFC 7638 §3.2).
        self.jwk.thumbprint().unwrap_or_default()
    }

    fn new(key: EcdsaKeyPair, rng: SystemRandom, kid: Option<&str>) -> Result<Self, KeyError> {
        // ring's P-256 public key is the uncompressed SEC1 point `04 || x || y`.
        let point = key.public_key().as_ref();
        let (Some(&0x04), Some(x), Some(y)) = (point.first(), point.get(1..33), point.get(33..65))
        else {
            return Err(KeyError::InvalidKey);
        };
        // The public JWK: `kty` `EC`, `crv` `P-256`, 32-byte `x` and `y` (RFC 7518 §6.2.1).
        let jwk = Jwk::ec_p256("", JwsAlgorithm::ES256, b64::encode(x), b64::encode(y))
            .named(kid)
            .ok_or(KeyError::EmptyKeyId)?;
        Ok(Self { key, rng, jwk })
    }
}

/// A ring key pair for a P-256 PKCS#8 key that ring refused as it stands, typically because the
/// `ECPrivateKey` omits its optional public key. RustCrypto parses the key — checking the curve,
/// the scalar's range and, when present, that the embedded public key matches — and derives
/// the public point, which ring checks again against the scalar.
fn with_derived_public_key(der: &[u8], rng: &SystemRandom) -> Result<EcdsaKeyPair, KeyError> {
    let secret = p256::SecretKey::from_pkcs8_der(der).map_err(|_| KeyError::InvalidKey)?;
    let public = secret.public_key().to_sec1_point(false);
    let scalar = Zeroizing::new(secret.to_bytes());
    EcdsaKeyPair::from_private_key_and_public_key(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        scalar.as_ref(),
        public.as_bytes(),
        rng,
    )
    .map_err(|_| KeyError::InvalidKey)
}

impl JwkKey for Es256Signer {
    fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Signs per RFC 7515 §5.1 step 5 with ES256 (RFC 7518 §3.4); returns the 64-byte `R || S`.
    ///
    /// `rng` is not used: randomness comes from the signer's own [`SystemRandom`] (see the
    /// type's documentation).
    fn sign_input(&self, input: &[u8], _rng: &dyn SecureRandom) -> Result<Vec<u8>, SignError> {
        let signature = self
            .key
            .sign(&self.rng, input)
            .map_err(|_| SignError::new())?;
        Ok(signature.as_ref().to_vec())
    }

    /// Verifies a 64-byte `R || S` ES256 signature (RFC 7518 §3.4); DER is refused.
    fn verify_input(&self, input: &[u8], signature: &[u8]) -> Result<(), SignError> {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, self.key.public_key().as_ref())
            .verify(input, signature)
            .map_err(|_| SignError::new())
    }
}

impl fmt::Debug for Es256Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Es256Signer")
            .field("kid", &self.jwk.kid)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use oidc_hybrid::Signer;

    use super::*;

    const NO_PUBLIC_PEM: &str = include_str!("../tests/keys/p256-no-public.pkcs8.pem");
    const WITH_PUBLIC_PEM: &str = include_str!("../../../tests/keys/es256.pem");

    fn ring_alone(pem: &str) -> bool {
        let der = pkcs8::decode_pem(pem).expect("fixture is PEM");
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &SystemRandom::new())
            .is_ok()
    }

    #[test]
    fn ring_alone_refuses_a_key_without_public_point_which_the_fallback_loads() {
        assert!(ring_alone(WITH_PUBLIC_PEM));
        assert!(!ring_alone(NO_PUBLIC_PEM), "the fallback is needed");
        let der = pkcs8::decode_pem(NO_PUBLIC_PEM).expect("fixture is PEM");
        let key = with_derived_public_key(&der, &SystemRandom::new()).expect("fallback loads");
        let signer = Es256Signer::new(key, SystemRandom::new(), None).expect("wraps");
        let signature = signer.try_sign(b"a.b", &NoRandom).expect("signs");
        assert_eq!(signer.verify(b"a.b", &signature), Ok(()));
    }

    /// The `rng` argument is ignored: signing succeeds even with a source that always fails.
    struct NoRandom;

    impl SecureRandom for NoRandom {
        fn try_fill(&self, _dest: &mut [u8]) -> Result<(), oidc_hybrid::RandomError> {
            Err(oidc_hybrid::RandomError::default())
        }
    }
}
