//! Typed errors: [`KeyError`] for loading, generating and exporting keys, [`JwsError`] for
//! checking a compact JWS.

use core::fmt;

/// A key could not be loaded, generated, exported or accepted.
///
/// Verification failures are not reported here: [`Signer::verify`](oidc_hybrid::Signer::verify)
/// and [`PublicKey::verify`](crate::PublicKey::verify) return the opaque
/// [`SignError`](oidc_hybrid::SignError).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum KeyError {
    /// The DER or PEM input is not a well-formed key of the expected type (PKCS#8, RFC 5958;
    /// PKCS#1, RFC 8017 Appendix A.1.2).
    InvalidEncoding,
    /// The key could not be serialised as DER or PEM.
    EncodingFailed,
    /// The key material is inconsistent: RSA components that fail validation, or an EC point
    /// that is not on the curve.
    InvalidKey,
    /// The RSA modulus is shorter than 2048 bits (RFC 7518 §3.3, §3.5 require at least 2048).
    RsaKeyTooSmall {
        /// The modulus length that was offered, in bits.
        bits: u32,
    },
    /// The RSA modulus is longer than the 8192 bits this crate accepts.
    RsaKeyTooLarge {
        /// The modulus length that was offered, in bits.
        bits: u32,
    },
    /// The algorithm is not one this crate implements (only ES256, RS256 and PS256); this
    /// includes `none`, HMAC and unregistered names (RFC 8725 §3.1).
    UnsupportedAlgorithm,
    /// The algorithm is implemented but does not fit the key type, e.g. `RS256` on an EC key.
    AlgorithmMismatch,
    /// The JWK's `kty` or `crv` is not supported (only `EC`/`P-256` and `RSA`).
    UnsupportedKey,
    /// The JWK is malformed: not JSON, a required member is missing, or a member is not
    /// base64url of the required length (RFC 7517 §4, RFC 7518 §6).
    InvalidJwk,
    /// The JWK carries private members (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth` or `k`);
    /// a public key was expected (RFC 7517 §4, RFC 7518 §6.2.2, §6.3.2).
    PrivateJwk,
    /// The JWK's `use` is not `sig`, or its `key_ops` lacks `verify` (RFC 7517 §4.2, §4.3).
    WrongKeyUse,
    /// The key id is empty.
    EmptyKeyId,
    /// The random source failed while generating a key.
    RandomFailed,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidEncoding => f.write_str("key encoding is invalid"),
            Self::EncodingFailed => f.write_str("key could not be encoded"),
            Self::InvalidKey => f.write_str("key material is invalid"),
            Self::RsaKeyTooSmall { bits } => {
                write!(f, "RSA key of {bits} bits is too small (minimum 2048)")
            }
            Self::RsaKeyTooLarge { bits } => {
                write!(f, "RSA key of {bits} bits is too large (maximum 8192)")
            }
            Self::UnsupportedAlgorithm => f.write_str("algorithm is not supported"),
            Self::AlgorithmMismatch => f.write_str("algorithm does not match the key type"),
            Self::UnsupportedKey => f.write_str("key type or curve is not supported"),
            Self::InvalidJwk => f.write_str("JWK is malformed"),
            Self::PrivateJwk => f.write_str("JWK contains private key material"),
            Self::WrongKeyUse => f.write_str("JWK is not intended for signature verification"),
            Self::EmptyKeyId => f.write_str("key id is empty"),
            Self::RandomFailed => f.write_str("random source failed during key generation"),
        }
    }
}

impl core::error::Error for KeyError {}

/// A compact JWS was refused by [`PublicKey::verify_compact`](crate::PublicKey::verify_compact).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum JwsError {
    /// The serialisation exceeds [`MAX_COMPACT_JWS_LEN`](crate::MAX_COMPACT_JWS_LEN).
    TooLarge,
    /// Not three base64url segments separated by `.` (RFC 7515 §7.1, §5.2 steps 1–2, 6–7).
    Malformed,
    /// The protected header is not a JSON object with a string `alg` (RFC 7515 §5.2 steps
    /// 3–4, §4.1.1), or a member has the wrong type.
    InvalidHeader,
    /// The header carries `crit`; no extension is understood here (RFC 7515 §4.1.11).
    UnsupportedCritical,
    /// The header's `alg` is not in the caller's allow-list, is not usable with this key, or
    /// is `none`/HMAC/unknown (RFC 8725 §2.1, §3.1).
    AlgorithmNotAllowed,
    /// The header's `kid` differs from the key's `kid` (RFC 7515 §4.1.4).
    KeyIdMismatch,
    /// The signature does not verify (RFC 7515 §5.2 step 8).
    BadSignature,
}

impl fmt::Display for JwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooLarge => "JWS is too large",
            Self::Malformed => "JWS is malformed",
            Self::InvalidHeader => "JWS header is invalid",
            Self::UnsupportedCritical => "JWS header has unsupported critical parameters",
            Self::AlgorithmNotAllowed => "JWS algorithm is not allowed",
            Self::KeyIdMismatch => "JWS key id does not match the key",
            Self::BadSignature => "JWS signature does not verify",
        })
    }
}

impl core::error::Error for JwsError {}
