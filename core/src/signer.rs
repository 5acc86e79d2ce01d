//! Signing keys: the [`Signer`] trait, the typed [`JwsAlgorithm`] and public [`Jwk`]s.
//!
//! The key fixes the algorithm (OIDC Core §10.1): a signer reports its own
//! [`algorithm`](Signer::algorithm), and the hash for `c_hash`/`at_hash`/`s_hash` is derived from
//! that typed value ([`JwsAlgorithm::hash`]), never from parsing an `alg` string. There is no
//! `none` variant, so an unsigned ID token cannot be produced (OIDC Core §2, REQUIREMENTS 86).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::random::{SecureRandom, opaque_error};

/// A JWS signature algorithm (RFC 7518 §3, RFC 8037 §3.1). `none` is deliberately absent.
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, Ord, PartialEq, PartialOrd, Serialize)]
#[non_exhaustive]
pub enum JwsAlgorithm {
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// ECDSA on P-521 with SHA-512.
    ES512,
    /// EdDSA (Ed25519); hash claims use SHA-512 (Token Hash Algorithm guide §3).
    EdDSA,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256; every OP must support it (OIDC Core §15.1).
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
}

impl JwsAlgorithm {
    /// Every algorithm, in a stable order.
    pub const ALL: [Self; 10] = [
        Self::ES256,
        Self::ES384,
        Self::ES512,
        Self::EdDSA,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
    ];

    /// The registered `alg` name (RFC 7518 §3.1).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::ES512 => "ES512",
            Self::EdDSA => "EdDSA",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
        }
    }

    /// Parses a registered `alg` name, byte for byte (OIDC Core §14: no normalisation).
    /// `none` and unknown names give `None`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.as_str() == name)
    }

    /// The hash function of this algorithm, used for `c_hash`, `at_hash` and `s_hash`
    /// (OIDC Core §3.3.2.11; EdDSA → SHA-512 per the Token Hash Algorithm guide).
    #[must_use]
    pub const fn hash(self) -> HashAlgorithm {
        match self {
            Self::ES256 | Self::PS256 | Self::RS256 => HashAlgorithm::Sha256,
            Self::ES384 | Self::PS384 | Self::RS384 => HashAlgorithm::Sha384,
            Self::ES512 | Self::PS512 | Self::RS512 | Self::EdDSA => HashAlgorithm::Sha512,
        }
    }
}

impl fmt::Display for JwsAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SHA-2 hash function, as selected by a [`JwsAlgorithm`].
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256 (32-byte digest; hash claims keep 16 bytes).
    Sha256,
    /// SHA-384 (48-byte digest; hash claims keep 24 bytes). Needs the `sha512` feature.
    Sha384,
    /// SHA-512 (64-byte digest; hash claims keep 32 bytes). Needs the `sha512` feature.
    Sha512,
}

impl HashAlgorithm {
    /// Whether this build computes the hash: SHA-256 always, SHA-384 and SHA-512 only with the
    /// `sha512` cargo feature (on by default). Leaving it off keeps the SHA-512 engine out of
    /// the binary, for devices whose signers are all SHA-256 based (ES256, RS256, PS256).
    ///
    /// [`Provider::new`](crate::Provider::new) refuses a signer whose hash is not built in, and
    /// [`sign_jwt`](crate::jose::sign_jwt) never signs with one, so no ID token can carry a
    /// hash claim this build could not compute (OIDC Core §3.3.2.11).
    #[must_use]
    pub const fn is_built_in(self) -> bool {
        match self {
            Self::Sha256 => true,
            Self::Sha384 | Self::Sha512 => cfg!(feature = "sha512"),
        }
    }
}

/// A private signing key with a fixed algorithm and key id.
///
/// Implementations live in adapter crates (`oidc-hybrid-rustcrypto`, or an HSM/KMS of the
/// host's). The trait is object safe; the provider holds its keys as `Box<dyn Signer>`.
///
/// # Example
///
/// ```
/// use oidc_hybrid::{Jwk, JwsAlgorithm, SecureRandom, SignError, Signer};
///
/// /// NOT SECURE: "signs" by echoing a fixed tag; shows the shape only.
/// struct Echo;
///
/// impl Signer for Echo {
///     fn algorithm(&self) -> JwsAlgorithm {
///         JwsAlgorithm::ES256
///     }
///     fn key_id(&self) -> &str {
///         "echo-1"
///     }
///     fn try_sign(&self, _input: &[u8], _rng: &dyn SecureRandom) -> Result<Vec<u8>, SignError> {
///         Ok(vec![0; 64])
///     }
///     fn verify(&self, _input: &[u8], signature: &[u8]) -> Result<(), SignError> {
///         if signature == [0; 64] { Ok(()) } else { Err(SignError::new()) }
///     }
///     fn public_jwk(&self) -> Jwk {
///         Jwk::ec_p256("echo-1", JwsAlgorithm::ES256, "AA".into(), "AA".into())
///     }
/// }
///
/// assert_eq!(Echo.algorithm().hash(), oidc_hybrid::HashAlgorithm::Sha256);
/// ```
pub trait Signer: Send + Sync {
    /// The algorithm this key signs with; it never changes for the key's lifetime.
    fn algorithm(&self) -> JwsAlgorithm;

    /// The `kid` published in the JWK set and put in every JWS header (OIDC Core §10.1).
    fn key_id(&self) -> &str;

    /// Signs the JWS signing input (`base64url(header) "." base64url(payload)`) and returns the
    /// raw JWS signature (for ECDSA, the fixed-width `R || S`, RFC 7518 §3.4; never DER).
    ///
    /// `rng` serves algorithms that need randomness (PSS salts, RSA blinding).
    ///
    /// # Errors
    ///
    /// [`SignError`] when the key cannot sign (e.g. an HSM is unreachable); the request then
    /// fails with `server_error`.
    fn try_sign(&self, input: &[u8], rng: &dyn SecureRandom) -> Result<Vec<u8>, SignError>;

    /// Verifies a signature this key made over `input` (used to check an `id_token_hint`,
    /// OIDC Core §3.1.2.2). Implementations must not exit early on a mismatch.
    ///
    /// # Errors
    ///
    /// [`SignError`] when the signature does not verify.
    fn verify(&self, input: &[u8], signature: &[u8]) -> Result<(), SignError>;

    /// The public half of the key, for the JWK set (OIDC Core §10.1.1). Never private material.
    fn public_jwk(&self) -> Jwk;
}

/// A key that publishes one [`Jwk`] and signs with that JWK's algorithm. Implementing it
/// implements [`Signer`], whose [`algorithm`](Signer::algorithm) and [`key_id`](Signer::key_id)
/// are then the JWK's `alg` and `kid`: the JWS header of every token and the published JWK set
/// cannot disagree (OIDC Core §10.1).
pub trait JwkKey: Send + Sync {
    /// The public JWK: [`Signer::public_jwk`], carrying the key's `alg` and `kid`.
    fn jwk(&self) -> &Jwk;

    /// [`Signer::try_sign`].
    ///
    /// # Errors
    ///
    /// [`SignError`] when the key cannot sign.
    fn sign_input(&self, input: &[u8], rng: &dyn SecureRandom) -> Result<Vec<u8>, SignError>;

    /// [`Signer::verify`].
    ///
    /// # Errors
    ///
    /// [`SignError`] when the signature does not verify.
    fn verify_input(&self, input: &[u8], signature: &[u8]) -> Result<(), SignError>;
}

impl<K: JwkKey> Signer for K {
    fn algorithm(&self) -> JwsAlgorithm {
        self.jwk().alg
    }

    fn key_id(&self) -> &str {
        &self.jwk().kid
    }

    fn try_sign(&self, input: &[u8], rng: &dyn SecureRandom) -> Result<Vec<u8>, SignError> {
        self.sign_input(input, rng)
    }

    fn verify(&self, input: &[u8], signature: &[u8]) -> Result<(), SignError> {
        self.verify_input(input, signature)
    }

    fn public_jwk(&self) -> Jwk {
        self.jwk().clone()
    }
}

impl fmt::Debug for dyn Signer + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("alg", &self.algorithm())
            .field("kid", &self.key_id())
            .finish_non_exhaustive()
    }
}

opaque_error!(
    /// Signing or verification failed. Deliberately opaque, so that no detail of a failed
    /// signature check can leak (a Bleichenbacher-style oracle).
    SignError,
    new: "A new opaque error.",
    message: "signature operation failed"
);

/// A public JSON Web Key (RFC 7517 §4, RFC 7518 §6), as published in the JWK set.
///
/// Only public members exist on this type, so a private key cannot be published by mistake
/// (OpenID Discovery §3 `jwks_uri`).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Jwk {
    /// Key type: `EC`, `RSA` or `OKP`.
    pub kty: String,
    /// Key id, equal to the signer's [`key_id`](Signer::key_id).
    pub kid: String,
    /// Intended use: always `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// The algorithm the key is used with.
    pub alg: JwsAlgorithm,
    /// Curve (`P-256`, `Ed25519`, …) for EC and OKP keys.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub crv: Option<String>,
    /// EC/OKP public x coordinate, base64url.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub x: Option<String>,
    /// EC public y coordinate, base64url.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub y: Option<String>,
    /// RSA modulus, base64url (big-endian, no leading zero).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub n: Option<String>,
    /// RSA public exponent, base64url.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub e: Option<String>,
}

impl Jwk {
    /// An EC P-256 public key from its base64url coordinates.
    #[must_use]
    pub fn ec_p256(kid: &str, alg: JwsAlgorithm, x: String, y: String) -> Self {
        Self {
            kty: "EC".into(),
            kid: kid.into(),
            use_: "sig".into(),
            alg,
            crv: Some("P-256".into()),
            x: Some(x),
            y: Some(y),
            n: None,
            e: None,
        }
    }

    /// An RSA public key from its base64url modulus and exponent.
    #[must_use]
    pub fn rsa(kid: &str, alg: JwsAlgorithm, n: String, e: String) -> Self {
        Self {
            kty: "RSA".into(),
            kid: kid.into(),
            use_: "sig".into(),
            alg,
            crv: None,
            x: None,
            y: None,
            n: Some(n),
            e: Some(e),
        }
    }

    /// The key named `kid`, or by its [thumbprint](Self::thumbprint) when `kid` is `None`
    /// (the default `kid` of this project's signers, stable for the key, OIDC Core §10.1);
    /// `None` for an empty `kid`.
    #[must_use]
    pub fn named(mut self, kid: Option<&str>) -> Option<Self> {
        self.kid = match kid {
            Some("") => return None,
            Some(kid) => kid.into(),
            None => self.thumbprint().unwrap_or_default(),
        };
        Some(self)
    }

    /// The RFC 7638 JWK thumbprint: base64url (unpadded) of the SHA-256 of the JSON object of
    /// the key type's required members, in lexicographic order and without whitespace
    /// (RFC 7638 §3, §3.2, §3.3):
    ///
    /// * `EC`: `{"crv":…,"kty":"EC","x":…,"y":…}` (RFC 7638 §3.2);
    /// * `RSA`: `{"e":…,"kty":"RSA","n":…}` (RFC 7638 §3.2);
    /// * `OKP`: `{"crv":…,"kty":"OKP","x":…}` (RFC 8037 §2).
    ///
    /// Optional members (`kid`, `use`, `alg`) do not take part, so the thumbprint identifies the
    /// key alone and makes a stable default `kid` (OIDC Core §10.1). Member values are hashed as
    /// they stand; the signers of this project always hold the minimal encodings that RFC 7638
    /// §3.3 asks for.
    ///
    /// Returns `None` for a `kty` without a thumbprint definition here (such as `oct`) or when
    /// a required member is missing.
    ///
    /// # Example
    ///
    /// ```
    /// use oidc_hybrid::{Jwk, JwsAlgorithm};
    ///
    /// // RFC 7638 §3.1
    /// let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_\
    ///          BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_\
    ///          FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI\
    ///          4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    /// let jwk = Jwk::rsa("2011-04-29", JwsAlgorithm::RS256, n.into(), "AQAB".into());
    /// assert_eq!(
    ///     jwk.thumbprint().as_deref(),
    ///     Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    /// );
    /// ```
    #[must_use]
    pub fn thumbprint(&self) -> Option<String> {
        // The struct members are declared in lexicographic order; serde_json writes them in
        // declaration order, without whitespace, escaping strings as RFC 8259 §7 requires.
        #[derive(Serialize)]
        struct Ec<'a> {
            crv: &'a str,
            kty: &'a str,
            x: &'a str,
            y: &'a str,
        }
        #[derive(Serialize)]
        struct Rsa<'a> {
            e: &'a str,
            kty: &'a str,
            n: &'a str,
        }
        #[derive(Serialize)]
        struct Okp<'a> {
            crv: &'a str,
            kty: &'a str,
            x: &'a str,
        }

        let canonical = match self.kty.as_str() {
            "EC" => serde_json::to_vec(&Ec {
                crv: self.crv.as_deref()?,
                kty: "EC",
                x: self.x.as_deref()?,
                y: self.y.as_deref()?,
            }),
            "RSA" => serde_json::to_vec(&Rsa {
                e: self.e.as_deref()?,
                kty: "RSA",
                n: self.n.as_deref()?,
            }),
            "OKP" => serde_json::to_vec(&Okp {
                crv: self.crv.as_deref()?,
                kty: "OKP",
                x: self.x.as_deref()?,
            }),
            _ => return None,
        }
        .ok()?;
        Some(Base64UrlUnpadded::encode_string(&Sha256::digest(
            &canonical,
        )))
    }
}

/// The published JWK set (RFC 7517 §5), served at `jwks_uri`.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct JwkSet {
    /// The public keys.
    pub keys: Vec<Jwk>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn okp(crv: &str, x: &str) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            kid: "k".into(),
            use_: "sig".into(),
            alg: JwsAlgorithm::EdDSA,
            crv: Some(crv.into()),
            x: Some(x.into()),
            y: None,
            n: None,
            e: None,
        }
    }

    fn sha256_b64(text: &str) -> String {
        Base64UrlUnpadded::encode_string(&Sha256::digest(text.as_bytes()))
    }

    #[test]
    fn thumbprint_okp_rfc8037_vector() {
        // RFC 8037 Appendix A.3
        let jwk = okp("Ed25519", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        assert_eq!(
            jwk.thumbprint().as_deref(),
            Some("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
        );
    }

    #[test]
    fn thumbprint_ec_uses_required_members_only() {
        let a = Jwk::ec_p256("one", JwsAlgorithm::ES256, "AA".into(), "AQ".into());
        let mut b = Jwk::ec_p256("two", JwsAlgorithm::ES384, "AA".into(), "AQ".into());
        b.use_ = "enc".into();
        assert_eq!(a.thumbprint(), b.thumbprint());
        assert_eq!(
            a.thumbprint(),
            Some(sha256_b64(
                r#"{"crv":"P-256","kty":"EC","x":"AA","y":"AQ"}"#
            ))
        );
        let c = Jwk::ec_p256("one", JwsAlgorithm::ES256, "AA".into(), "AA".into());
        assert_ne!(a.thumbprint(), c.thumbprint());
    }

    #[test]
    fn thumbprint_escapes_json_strings() {
        let jwk = Jwk::ec_p256("k", JwsAlgorithm::ES256, "a\"b".into(), "c\\d".into());
        assert_eq!(
            jwk.thumbprint(),
            Some(sha256_b64(
                r#"{"crv":"P-256","kty":"EC","x":"a\"b","y":"c\\d"}"#
            ))
        );
    }

    #[test]
    fn thumbprint_needs_required_members_and_known_kty() {
        let mut rsa = Jwk::rsa("k", JwsAlgorithm::RS256, "AQAB".into(), "AQAB".into());
        assert!(rsa.thumbprint().is_some());
        rsa.e = None;
        assert_eq!(rsa.thumbprint(), None);

        let mut ec = Jwk::ec_p256("k", JwsAlgorithm::ES256, "AA".into(), "AQ".into());
        ec.y = None;
        assert_eq!(ec.thumbprint(), None);

        let mut oct = Jwk::rsa("k", JwsAlgorithm::RS256, "AQAB".into(), "AQAB".into());
        oct.kty = "oct".into();
        assert_eq!(oct.thumbprint(), None);

        let mut no_x = okp("Ed25519", "AA");
        no_x.x = None;
        assert_eq!(no_x.thumbprint(), None);
    }
}
