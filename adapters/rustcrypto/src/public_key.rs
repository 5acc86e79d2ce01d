//! [`PublicKey`]: a verifier for JWS signatures made by someone else's key, e.g. a client's
//! `private_key_jwt` assertion (RFC 7523 §3, OIDC Core §9).

use alloc::string::String;
use alloc::vec::Vec;

use oidc_hybrid::{ClientJwk, Jwk, JwsAlgorithm, JwsVerifier, SignError};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
#[cfg(feature = "rsa")]
use rsa::traits::PublicKeyParts;
#[cfg(feature = "rsa")]
use rsa::{BoxedUint, Pkcs1v15Sign, Pss, RsaPublicKey};
use serde_json::{Map, Value};
#[cfg(feature = "rsa")]
use sha2::{Digest, Sha256};

use crate::b64;
use crate::error::{JwsError, KeyError};
use crate::thumbprint;

/// The largest compact JWS [`PublicKey::verify_compact`] looks at, in bytes (16 KiB).
pub const MAX_COMPACT_JWS_LEN: usize = 16 * 1024;

/// The largest JWK document [`PublicKey::from_jwk_json`] parses, in bytes (16 KiB).
pub const MAX_JWK_JSON_LEN: usize = 16 * 1024;

/// Smallest RSA modulus accepted anywhere in this crate (RFC 7518 §3.3, §3.5).
#[cfg(feature = "rsa")]
pub(crate) const RSA_MIN_BITS: u32 = 2048;
/// Largest RSA modulus accepted (bounds the cost of a verification).
#[cfg(feature = "rsa")]
pub(crate) const RSA_MAX_BITS: u32 = 8192;

/// A public signature-verification key with an algorithm allow-list.
///
/// Only ES256 over P-256 and RS256/PS256 over RSA keys of 2048 to 8192 bits are accepted;
/// HMAC and `none` do not exist here, so the classic algorithm-confusion attacks (verifying an
/// HMAC with a public key as the secret, or accepting `none`) cannot happen (RFC 8725 §2.1,
/// §3.1). If the key was published with an `alg` (RFC 7517 §4.4), only that algorithm is
/// accepted.
///
/// Without the `rsa` feature only P-256 keys exist: an RSA JWK is refused with
/// [`KeyError::UnsupportedKey`].
///
/// ```
/// # #[cfg(feature = "getrandom")] {
/// use oidc_hybrid::{JwsAlgorithm, Signer};
/// use oidc_hybrid_rustcrypto::{Es256Signer, OsRandom, PublicKey};
///
/// let signer = Es256Signer::generate(&OsRandom, None)?;
/// let signature = signer.try_sign(b"header.payload", &OsRandom)?;
///
/// let key = PublicKey::from_jwk(&signer.public_jwk())?;
/// assert!(key.verify(JwsAlgorithm::ES256, b"header.payload", &signature).is_ok());
/// assert!(key.verify(JwsAlgorithm::RS256, b"header.payload", &signature).is_err());
/// # }
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct PublicKey {
    material: Material,
    alg: Option<JwsAlgorithm>,
    kid: Option<String>,
}

#[derive(Clone, Debug)]
enum Material {
    P256(VerifyingKey),
    #[cfg(feature = "rsa")]
    Rsa(RsaPublicKey),
}

impl PublicKey {
    pub(crate) fn p256(key: VerifyingKey, alg: Option<JwsAlgorithm>, kid: Option<&str>) -> Self {
        Self {
            material: Material::P256(key),
            alg,
            kid: kid.map(Into::into),
        }
    }

    #[cfg(feature = "rsa")]
    pub(crate) fn rsa(key: RsaPublicKey, alg: Option<JwsAlgorithm>, kid: Option<&str>) -> Self {
        Self {
            material: Material::Rsa(key),
            alg,
            kid: kid.map(Into::into),
        }
    }

    /// Builds a verifier from a public [`Jwk`] (RFC 7517 §4, RFC 7518 §6.2.1 for `EC`,
    /// §6.3.1 for `RSA`).
    ///
    /// The key is pinned to the JWK's `alg`, which must fit the key type (ES256 for P-256,
    /// RS256 or PS256 for RSA); `use` must be `sig`. EC coordinates must be exactly 32 bytes
    /// and name a point on P-256; the RSA modulus must be 2048 to 8192 bits.
    ///
    /// # Errors
    ///
    /// [`KeyError::UnsupportedKey`] for another `kty` or curve, [`KeyError::AlgorithmMismatch`]
    /// or [`KeyError::UnsupportedAlgorithm`] for an unusable `alg`, [`KeyError::WrongKeyUse`],
    /// [`KeyError::InvalidJwk`] for missing or malformed members, [`KeyError::InvalidKey`] for
    /// a point off the curve or a bad RSA exponent, and [`KeyError::RsaKeyTooSmall`] /
    /// [`KeyError::RsaKeyTooLarge`].
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, KeyError> {
        let fields = Fields {
            kty: &jwk.kty,
            alg: Some(jwk.alg),
            kid: Some(jwk.kid.as_str()).filter(|kid| !kid.is_empty()),
            crv: jwk.crv.as_deref(),
            x: jwk.x.as_deref(),
            y: jwk.y.as_deref(),
            n: jwk.n.as_deref(),
            e: jwk.e.as_deref(),
        };
        if jwk.use_ != "sig" {
            return Err(KeyError::WrongKeyUse);
        }
        fields.build()
    }

    /// Builds a verifier from a JWK as JSON text, as a client registers it in `jwks` or serves
    /// it at `jwks_uri` (RFC 7591 §2, RFC 7517 §4). Unlike [`from_jwk`](Self::from_jwk), `alg`,
    /// `kid` and `use` may be absent:
    ///
    /// * without `alg`, any algorithm that fits the key type is accepted (ES256 for P-256;
    ///   RS256 and PS256 for RSA) — still subject to the allow-list given at verification;
    /// * `use`, if present, must be `sig`; `key_ops`, if present, must contain `verify`
    ///   (RFC 7517 §4.2, §4.3);
    /// * a JWK with private members is refused outright ([`KeyError::PrivateJwk`]).
    ///
    /// # Errors
    ///
    /// As [`from_jwk`](Self::from_jwk), plus [`KeyError::InvalidJwk`] for input that is not
    /// a JSON object or longer than [`MAX_JWK_JSON_LEN`], [`KeyError::PrivateJwk`], and
    /// [`KeyError::UnsupportedAlgorithm`] for an `alg` this crate does not implement.
    pub fn from_jwk_json(json: &str) -> Result<Self, KeyError> {
        if json.len() > MAX_JWK_JSON_LEN {
            return Err(KeyError::InvalidJwk);
        }
        let map: Map<String, Value> =
            serde_json::from_str(json).map_err(|_| KeyError::InvalidJwk)?;

        const PRIVATE: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
        if PRIVATE.iter().any(|member| map.contains_key(*member)) {
            return Err(KeyError::PrivateJwk);
        }

        let text = |member: &str| -> Result<Option<&str>, KeyError> {
            match map.get(member) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(KeyError::InvalidJwk),
            }
        };

        if text("use")?.is_some_and(|u| u != "sig") {
            return Err(KeyError::WrongKeyUse);
        }
        match map.get("key_ops") {
            None => {}
            Some(Value::Array(ops)) if ops.iter().any(|op| op.as_str() == Some("verify")) => {}
            Some(Value::Array(_)) => return Err(KeyError::WrongKeyUse),
            Some(_) => return Err(KeyError::InvalidJwk),
        }

        let alg = match text("alg")? {
            None => None,
            Some(name) => {
                Some(JwsAlgorithm::from_name(name).ok_or(KeyError::UnsupportedAlgorithm)?)
            }
        };

        Fields {
            kty: text("kty")?.ok_or(KeyError::InvalidJwk)?,
            alg,
            kid: text("kid")?.filter(|kid| !kid.is_empty()),
            crv: text("crv")?,
            x: text("x")?,
            y: text("y")?,
            n: text("n")?,
            e: text("e")?,
        }
        .build()
    }

    /// Builds a verifier from a client's registered [`ClientJwk`] (RFC 7591 §2 `jwks`, or a
    /// `jwks_uri` document), whose `alg`, `kid` and `use` may be absent (as for
    /// [`from_jwk_json`](Self::from_jwk_json); private members were refused when the set was
    /// parsed).
    ///
    /// # Errors
    ///
    /// As for [`from_jwk_json`](Self::from_jwk_json).
    pub fn from_client_jwk(jwk: &ClientJwk) -> Result<Self, KeyError> {
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err(KeyError::WrongKeyUse);
        }
        let alg = match jwk.alg.as_deref() {
            None => None,
            Some(name) => {
                Some(JwsAlgorithm::from_name(name).ok_or(KeyError::UnsupportedAlgorithm)?)
            }
        };
        Fields {
            kty: &jwk.kty,
            alg,
            kid: jwk.kid.as_deref().filter(|kid| !kid.is_empty()),
            crv: jwk.crv.as_deref(),
            x: jwk.x.as_deref(),
            y: jwk.y.as_deref(),
            n: jwk.n.as_deref(),
            e: jwk.e.as_deref(),
        }
        .build()
    }

    /// The algorithm this key is pinned to, if its JWK named one.
    #[must_use]
    pub const fn algorithm(&self) -> Option<JwsAlgorithm> {
        self.alg
    }

    /// The key's `kid`, if it has one.
    #[must_use]
    pub fn key_id(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Whether this key would verify under `alg`: the algorithm fits the key type (ES256 for
    /// P-256; RS256 or PS256 for RSA) and equals the pinned `alg`, if any (RFC 8725 §3.1).
    #[must_use]
    pub fn accepts(&self, alg: JwsAlgorithm) -> bool {
        let fits = match self.material {
            Material::P256(_) => alg == JwsAlgorithm::ES256,
            #[cfg(feature = "rsa")]
            Material::Rsa(_) => matches!(alg, JwsAlgorithm::RS256 | JwsAlgorithm::PS256),
        };
        fits && self.alg.is_none_or(|pinned| pinned == alg)
    }

    /// The RFC 7638 thumbprint of this key (see [`jwk_thumbprint`](crate::jwk_thumbprint)).
    #[must_use]
    pub fn thumbprint(&self) -> String {
        match &self.material {
            Material::P256(key) => {
                let (x, y) = p256_coordinates(key);
                thumbprint::ec("P-256", &x, &y)
            }
            #[cfg(feature = "rsa")]
            Material::Rsa(key) => {
                let (n, e) = rsa_components(key);
                thumbprint::rsa(&e, &n)
            }
        }
    }

    /// Verifies a JWS signature over `signing_input` (`base64url(header) "." base64url(payload)`,
    /// RFC 7515 §5.2 step 8) with algorithm `alg`, after checking `alg` against
    /// [`accepts`](Self::accepts).
    ///
    /// ES256 signatures are the 64-byte `R || S` of RFC 7518 §3.4 (DER is refused); RS256 is
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), PS256 is RSASSA-PSS with SHA-256,
    /// MGF1-SHA-256 and a 32-byte salt (RFC 7518 §3.5).
    ///
    /// # Errors
    ///
    /// The opaque [`SignError`] if `alg` is not accepted or the signature does not verify.
    pub fn verify(
        &self,
        alg: JwsAlgorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), SignError> {
        if !self.accepts(alg) {
            return Err(SignError::new());
        }
        match &self.material {
            Material::P256(key) => verify_es256(key, signing_input, signature),
            #[cfg(feature = "rsa")]
            Material::Rsa(key) => verify_rsa(key, alg, signing_input, signature),
        }
    }

    /// Checks a JWS in compact serialisation (RFC 7515 §7.1, validation per §5.2) and returns
    /// its decoded payload.
    ///
    /// In order: the input must be at most [`MAX_COMPACT_JWS_LEN`] bytes and exactly three
    /// base64url segments; the protected header must be a JSON object with a string `alg`
    /// and no `crit` (no extension is understood, RFC 7515 §4.1.11); `alg` must be in
    /// `allowed` and [accepted](Self::accepts) by this key (RFC 8725 §3.1); a header `kid`,
    /// if both it and the key have one, must equal the key's (RFC 7515 §4.1.4); finally the
    /// signature must verify. Key-carrying header parameters (`jwk`, `jku`, `x5u`, `x5c`) are
    /// never used to find a key (RFC 8725 §3.10).
    ///
    /// Claims are not interpreted: checking `iss`, `sub`, `aud`, `exp` and `jti` of a client
    /// assertion (RFC 7523 §3) is the caller's business.
    ///
    /// # Errors
    ///
    /// The [`JwsError`] naming the first check that failed.
    pub fn verify_compact(&self, allowed: &[JwsAlgorithm], jws: &str) -> Result<Vec<u8>, JwsError> {
        if jws.len() > MAX_COMPACT_JWS_LEN {
            return Err(JwsError::TooLarge);
        }
        let mut segments = jws.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(JwsError::Malformed);
        };
        let signing_input = &jws.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];

        let header_json = b64::decode(header_b64).ok_or(JwsError::Malformed)?;
        let header: Map<String, Value> =
            serde_json::from_slice(&header_json).map_err(|_| JwsError::InvalidHeader)?;

        if header.contains_key("crit") {
            return Err(JwsError::UnsupportedCritical);
        }
        let Some(Value::String(alg_name)) = header.get("alg") else {
            return Err(JwsError::InvalidHeader);
        };
        let alg = JwsAlgorithm::from_name(alg_name).ok_or(JwsError::AlgorithmNotAllowed)?;
        if !allowed.contains(&alg) || !self.accepts(alg) {
            return Err(JwsError::AlgorithmNotAllowed);
        }
        match (header.get("kid"), self.kid.as_deref()) {
            (None, _) | (Some(Value::String(_)), None) => {}
            (Some(Value::String(header_kid)), Some(kid)) => {
                if header_kid != kid {
                    return Err(JwsError::KeyIdMismatch);
                }
            }
            (Some(_), _) => return Err(JwsError::InvalidHeader),
        }

        let payload = b64::decode(payload_b64).ok_or(JwsError::Malformed)?;
        let signature = b64::decode(signature_b64).ok_or(JwsError::Malformed)?;
        self.verify(alg, signing_input, &signature)
            .map_err(|_| JwsError::BadSignature)?;
        Ok(payload)
    }
}

/// The members of a public JWK this crate looks at.
struct Fields<'a> {
    kty: &'a str,
    alg: Option<JwsAlgorithm>,
    kid: Option<&'a str>,
    crv: Option<&'a str>,
    x: Option<&'a str>,
    y: Option<&'a str>,
    n: Option<&'a str>,
    e: Option<&'a str>,
}

impl Fields<'_> {
    fn build(self) -> Result<PublicKey, KeyError> {
        match self.kty {
            "EC" => {
                if self.crv != Some("P-256") {
                    return Err(KeyError::UnsupportedKey);
                }
                if self.n.is_some() || self.e.is_some() {
                    return Err(KeyError::InvalidJwk);
                }
                check_alg(self.alg, &[JwsAlgorithm::ES256])?;
                let (Some(x), Some(y)) = (self.x, self.y) else {
                    return Err(KeyError::InvalidJwk);
                };
                let key = p256_from_coordinates(x, y)?;
                Ok(PublicKey::p256(key, self.alg, self.kid))
            }
            #[cfg(feature = "rsa")]
            "RSA" => {
                if self.crv.is_some() || self.x.is_some() || self.y.is_some() {
                    return Err(KeyError::InvalidJwk);
                }
                check_alg(self.alg, &[JwsAlgorithm::RS256, JwsAlgorithm::PS256])?;
                let (Some(n), Some(e)) = (self.n, self.e) else {
                    return Err(KeyError::InvalidJwk);
                };
                let key = rsa_from_components(n, e)?;
                Ok(PublicKey::rsa(key, self.alg, self.kid))
            }
            _ => Err(KeyError::UnsupportedKey),
        }
    }
}

fn check_alg(alg: Option<JwsAlgorithm>, fitting: &[JwsAlgorithm]) -> Result<(), KeyError> {
    const IMPLEMENTED: [JwsAlgorithm; 3] = [
        JwsAlgorithm::ES256,
        JwsAlgorithm::RS256,
        JwsAlgorithm::PS256,
    ];
    match alg {
        None => Ok(()),
        Some(alg) if fitting.contains(&alg) => Ok(()),
        Some(alg) if IMPLEMENTED.contains(&alg) => Err(KeyError::AlgorithmMismatch),
        Some(_) => Err(KeyError::UnsupportedAlgorithm),
    }
}

/// A P-256 key from the JWK coordinates: each must be exactly 32 bytes (RFC 7518 §6.2.1.2–3)
/// and together name a point on the curve other than the identity.
fn p256_from_coordinates(x: &str, y: &str) -> Result<VerifyingKey, KeyError> {
    let x = b64::decode(x).ok_or(KeyError::InvalidJwk)?;
    let y = b64::decode(y).ok_or(KeyError::InvalidJwk)?;
    if x.len() != 32 || y.len() != 32 {
        return Err(KeyError::InvalidJwk);
    }
    let mut sec1 = [0u8; 65];
    sec1[0] = 0x04;
    sec1[1..33].copy_from_slice(&x);
    sec1[33..].copy_from_slice(&y);
    VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| KeyError::InvalidKey)
}

/// An RSA key from the JWK modulus and exponent (RFC 7518 §6.3.1), 2048 to 8192 bits.
#[cfg(feature = "rsa")]
fn rsa_from_components(n: &str, e: &str) -> Result<RsaPublicKey, KeyError> {
    let n = b64::decode(n).ok_or(KeyError::InvalidJwk)?;
    let e = b64::decode(e).ok_or(KeyError::InvalidJwk)?;
    if n.is_empty() || e.is_empty() {
        return Err(KeyError::InvalidJwk);
    }
    let n = BoxedUint::from_be_slice_vartime(&n);
    let e = BoxedUint::from_be_slice_vartime(&e);
    let bits = n.bits_vartime();
    check_rsa_bits(bits)?;
    RsaPublicKey::new_with_size_limits(n, e, RSA_MIN_BITS as usize..=RSA_MAX_BITS as usize)
        .map_err(|_| KeyError::InvalidKey)
}

/// Enforces the modulus size bounds (RFC 7518 §3.3, §3.5).
#[cfg(feature = "rsa")]
pub(crate) const fn check_rsa_bits(bits: u32) -> Result<(), KeyError> {
    if bits < RSA_MIN_BITS {
        Err(KeyError::RsaKeyTooSmall { bits })
    } else if bits > RSA_MAX_BITS {
        Err(KeyError::RsaKeyTooLarge { bits })
    } else {
        Ok(())
    }
}

/// The base64url `x` and `y` of a P-256 key, 32 bytes each (RFC 7518 §6.2.1.2–3).
pub(crate) fn p256_coordinates(key: &VerifyingKey) -> (String, String) {
    let point = key.to_sec1_point(false);
    // An uncompressed point of a valid key always has both coordinates.
    let x = point.x().map(|x| b64::encode(x)).unwrap_or_default();
    let y = point.y().map(|y| b64::encode(y)).unwrap_or_default();
    (x, y)
}

/// The base64url `n` and `e` of an RSA key, big-endian without leading zeros
/// (RFC 7518 §6.3.1.1–2).
#[cfg(feature = "rsa")]
pub(crate) fn rsa_components(key: &impl PublicKeyParts) -> (String, String) {
    (b64::encode(&key.n_bytes()), b64::encode(&key.e_bytes()))
}

/// ES256 verification (RFC 7518 §3.4): `signature` must be exactly the 64-byte `R || S`.
pub(crate) fn verify_es256(
    key: &VerifyingKey,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), SignError> {
    let signature = Signature::from_slice(signature).map_err(|_| SignError::new())?;
    key.verify(signing_input, &signature)
        .map_err(|_| SignError::new())
}

/// RS256 (RFC 7518 §3.3) or PS256 (RFC 7518 §3.5) verification.
#[cfg(feature = "rsa")]
pub(crate) fn verify_rsa(
    key: &RsaPublicKey,
    alg: JwsAlgorithm,
    signing_input: &[u8],
    signature: &[u8],
) -> Result<(), SignError> {
    let digest = Sha256::digest(signing_input);
    let outcome = match alg {
        JwsAlgorithm::RS256 => key.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, signature),
        JwsAlgorithm::PS256 => key.verify(Pss::<Sha256>::new(), &digest, signature),
        _ => return Err(SignError::new()),
    };
    outcome.map_err(|_| SignError::new())
}

/// The [`JwsVerifier`] of this crate: verifies clients' ES256 signatures and, with the `rsa`
/// feature, RS256 and PS256 (RSA 2048 to 8192 bits), for `private_key_jwt` assertions and
/// signed request objects (RFC 7523 §3, RFC 9101 §4). Each call builds a [`PublicKey`] from the
/// client's JWK with [`PublicKey::from_client_jwk`].
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientKeyVerifier;

#[cfg(feature = "rsa")]
const CLIENT_ALGORITHMS: &[JwsAlgorithm] = &[
    JwsAlgorithm::ES256,
    JwsAlgorithm::PS256,
    JwsAlgorithm::RS256,
];
#[cfg(not(feature = "rsa"))]
const CLIENT_ALGORITHMS: &[JwsAlgorithm] = &[JwsAlgorithm::ES256];

impl JwsVerifier for ClientKeyVerifier {
    fn algorithms(&self) -> &[JwsAlgorithm] {
        CLIENT_ALGORITHMS
    }

    fn verify(&self, key: &ClientJwk, alg: JwsAlgorithm, input: &[u8], signature: &[u8]) -> bool {
        PublicKey::from_client_jwk(key).is_ok_and(|key| key.verify(alg, input, signature).is_ok())
    }
}
