//! JWK thumbprints (RFC 7638), used as default key ids.

use alloc::string::String;

use oidc_hybrid::{Jwk, JwsAlgorithm};

use crate::error::KeyError;

/// The RFC 7638 JWK thumbprint of a public key: base64url (unpadded) of the SHA-256 of the
/// canonical JSON of the required members in lexicographic order, without whitespace
/// (RFC 7638 §3, §3.2, §3.3):
///
/// * `EC`: `{"crv":…,"kty":"EC","x":…,"y":…}`
/// * `RSA`: `{"e":…,"kty":"RSA","n":…}`
///
/// Optional members (`kid`, `use`, `alg`) do not take part. The member values are hashed as
/// they stand in `jwk`; keys produced by this crate always carry the minimal encodings that
/// RFC 7638 §3.3 asks for.
///
/// # Errors
///
/// [`KeyError::InvalidJwk`] if a required member is missing; [`KeyError::UnsupportedKey`] for
/// a `kty` other than `EC` or `RSA`.
///
/// The digest is computed by [`Jwk::thumbprint`], so every adapter derives the same default
/// `kid` for the same key.
///
/// # Example
///
/// ```
/// use oidc_hybrid::{Jwk, JwsAlgorithm};
/// use oidc_hybrid_rustcrypto::jwk_thumbprint;
///
/// // RFC 7638 §3.1
/// let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_\
///          BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_\
///          FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI\
///          4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
/// let jwk = Jwk::rsa("2011-04-29", JwsAlgorithm::RS256, n.into(), "AQAB".into());
/// assert_eq!(
///     jwk_thumbprint(&jwk).unwrap(),
///     "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
/// );
/// ```
pub fn jwk_thumbprint(jwk: &Jwk) -> Result<String, KeyError> {
    match jwk.kty.as_str() {
        "EC" | "RSA" => jwk.thumbprint().ok_or(KeyError::InvalidJwk),
        _ => Err(KeyError::UnsupportedKey),
    }
}

/// RFC 7638 §3.2 for an EC key, from its base64url coordinates.
pub(crate) fn ec(crv: &str, x: &str, y: &str) -> String {
    let mut jwk = Jwk::ec_p256("", JwsAlgorithm::ES256, x.into(), y.into());
    jwk.crv = Some(crv.into());
    // An EC JWK with `crv`, `x` and `y` set always has a thumbprint.
    jwk.thumbprint().unwrap_or_default()
}

/// RFC 7638 §3.2 for an RSA key, from its base64url exponent and modulus.
#[cfg(feature = "rsa")]
pub(crate) fn rsa(e: &str, n: &str) -> String {
    // An RSA JWK with `n` and `e` set always has a thumbprint.
    Jwk::rsa("", JwsAlgorithm::RS256, n.into(), e.into())
        .thumbprint()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn digest(canonical: &str) -> String {
        crate::b64::encode(&Sha256::digest(canonical.as_bytes()))
    }

    #[test]
    fn canonical_members_only() {
        let a = Jwk::ec_p256("one", JwsAlgorithm::ES256, "AA".into(), "AQ".into());
        let b = Jwk::ec_p256("two", JwsAlgorithm::ES256, "AA".into(), "AQ".into());
        assert_eq!(jwk_thumbprint(&a), jwk_thumbprint(&b));
        assert_eq!(
            jwk_thumbprint(&a),
            Ok(digest(r#"{"crv":"P-256","kty":"EC","x":"AA","y":"AQ"}"#))
        );
    }

    #[test]
    fn unsupported_and_incomplete() {
        let mut jwk = Jwk::rsa("k", JwsAlgorithm::RS256, "AQAB".into(), "AQAB".into());
        jwk.n = None;
        assert_eq!(jwk_thumbprint(&jwk), Err(KeyError::InvalidJwk));
        jwk.kty = "oct".into();
        assert_eq!(jwk_thumbprint(&jwk), Err(KeyError::UnsupportedKey));
    }
}
