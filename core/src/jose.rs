//! Compact JWS (RFC 7515 §7.1) and the OpenID hash claims (OIDC Core §3.3.2.11).

use alloc::string::String;
use alloc::vec::Vec;

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
#[cfg(feature = "sha512")]
use sha2::{Sha384, Sha512};

use crate::random::SecureRandom;
use crate::signer::{HashAlgorithm, JwsAlgorithm, SignError, Signer};

/// Largest compact JWS accepted for parsing (`id_token_hint`, client assertions), in bytes.
pub const MAX_JWS_LEN: usize = 8 * 1024;

/// The value of a hash claim (`c_hash`, `at_hash`, `s_hash`): hash the ASCII octets of `value`
/// exactly as sent with `hash`, keep the left-most half, base64url-encode without padding
/// (OIDC Core §3.3.2.11, §3.2.2.9, §3.3.2.10; REQUIREMENTS 79, 200).
///
/// For a hash that is not [built in](HashAlgorithm::is_built_in) (SHA-384 or SHA-512 without
/// the `sha512` feature) the result is empty, which matches no real claim: a check of a received
/// claim fails closed, and [`sign_jwt`] refuses such a signer, so no token ever carries it.
#[must_use]
pub fn hash_claim(hash: HashAlgorithm, value: &str) -> String {
    let bytes = value.as_bytes();
    match hash {
        HashAlgorithm::Sha256 => Base64UrlUnpadded::encode_string(&Sha256::digest(bytes)[..16]),
        #[cfg(feature = "sha512")]
        HashAlgorithm::Sha384 => Base64UrlUnpadded::encode_string(&Sha384::digest(bytes)[..24]),
        #[cfg(feature = "sha512")]
        HashAlgorithm::Sha512 => Base64UrlUnpadded::encode_string(&Sha512::digest(bytes)[..32]),
        #[cfg(not(feature = "sha512"))]
        HashAlgorithm::Sha384 | HashAlgorithm::Sha512 => String::new(),
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: JwsAlgorithm,
    kid: &'a str,
    typ: &'a str,
}

/// Signs `claims` as a compact JWS with header `{"alg", "kid", "typ": "JWT"}` (RFC 7515 §3.1;
/// OIDC Core §2: no `x5u`, `x5c`, `jku` or `jwk` in the header).
///
/// # Errors
///
/// [`SignError`] if serialisation or signing fails, or if the hash of the signer's algorithm is
/// not [built in](HashAlgorithm::is_built_in) (its hash claims could not have been computed).
pub fn sign_jwt<T: Serialize>(
    signer: &dyn Signer,
    claims: &T,
    rng: &dyn SecureRandom,
) -> Result<String, SignError> {
    sign_typed(signer, claims, rng, "JWT")
}

/// Signs `claims` as [`sign_jwt`] does, with the header's `typ` set to `typ` (e.g. `at+jwt` for
/// JWT access tokens, RFC 9068 §2.1).
///
/// # Errors
///
/// As for [`sign_jwt`].
pub fn sign_typed<T: Serialize>(
    signer: &dyn Signer,
    claims: &T,
    rng: &dyn SecureRandom,
    typ: &str,
) -> Result<String, SignError> {
    if !signer.algorithm().hash().is_built_in() {
        return Err(SignError::new());
    }
    let header = Header {
        alg: signer.algorithm(),
        kid: signer.key_id(),
        typ,
    };
    let header = serde_json::to_vec(&header).map_err(|_| SignError::new())?;
    let payload = serde_json::to_vec(claims).map_err(|_| SignError::new())?;
    // One buffer for the whole JWS (RSA-4096 signatures encode to 683 bytes), each part
    // encoded in place.
    let header_len = Base64UrlUnpadded::encoded_len(&header);
    let payload_len = Base64UrlUnpadded::encoded_len(&payload);
    let mut jws = alloc::vec![0u8; header_len + 1 + payload_len + 1 + 700];
    let signing_input_len = header_len + 1 + payload_len;
    let (head, rest) = jws.split_at_mut(header_len);
    Base64UrlUnpadded::encode(&header, head).map_err(|_| SignError::new())?;
    rest[0] = b'.';
    Base64UrlUnpadded::encode(&payload, &mut rest[1..=payload_len])
        .map_err(|_| SignError::new())?;
    let signature = signer.try_sign(&jws[..signing_input_len], rng)?;
    let signature_len = Base64UrlUnpadded::encoded_len(&signature);
    jws.resize(signing_input_len + 1 + signature_len, 0);
    jws[signing_input_len] = b'.';
    Base64UrlUnpadded::encode(&signature, &mut jws[signing_input_len + 1..])
        .map_err(|_| SignError::new())?;
    // Base64url output is ASCII.
    String::from_utf8(jws).map_err(|_| SignError::new())
}

/// The protected header members this crate reads.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq)]
#[non_exhaustive]
pub struct JwsHeader {
    /// The `alg` member as sent (not trusted to select anything by itself).
    pub alg: String,
    /// The `kid` member, an opaque lookup key (REQUIREMENTS 159).
    #[serde(default)]
    pub kid: Option<String>,
    /// The `typ` member.
    #[serde(default)]
    pub typ: Option<String>,
    /// The `crit` member; any value makes the JWS unacceptable (RFC 7515 §4.1.11).
    #[serde(default)]
    pub crit: Option<serde_json::Value>,
}

/// A compact JWS split and decoded, not yet verified.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CompactJws<'a> {
    /// The decoded protected header.
    pub header: JwsHeader,
    /// The decoded payload.
    pub payload: Vec<u8>,
    /// `base64url(header) "." base64url(payload)`, the bytes the signature covers.
    pub signing_input: &'a str,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

/// Why a compact JWS could not be parsed or verified. Deliberately coarse.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum JwsError {
    /// Too long, not three base64url parts, or the header is not JSON.
    Malformed,
    /// The header carries `crit`.
    CriticalHeader,
    /// No key with this `kid` and `alg`.
    UnknownKey,
    /// The signature does not verify.
    BadSignature,
}

impl core::fmt::Display for JwsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Malformed => "malformed JWS",
            Self::CriticalHeader => "JWS has a crit header",
            Self::UnknownKey => "no matching key",
            Self::BadSignature => "bad signature",
        })
    }
}

impl core::error::Error for JwsError {}

impl<'a> CompactJws<'a> {
    /// Splits and decodes a compact JWS (RFC 7515 §7.1), at most [`MAX_JWS_LEN`] bytes.
    ///
    /// # Errors
    ///
    /// [`JwsError::Malformed`] or [`JwsError::CriticalHeader`].
    pub fn parse(jws: &'a str) -> Result<Self, JwsError> {
        if jws.len() > MAX_JWS_LEN {
            return Err(JwsError::Malformed);
        }
        let mut parts = jws.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwsError::Malformed);
        };
        let decode =
            |part: &str| Base64UrlUnpadded::decode_vec(part).map_err(|_| JwsError::Malformed);
        let header: JwsHeader =
            serde_json::from_slice(&decode(h)?).map_err(|_| JwsError::Malformed)?;
        if header.crit.is_some() {
            return Err(JwsError::CriticalHeader);
        }
        let signing_input = &jws[..h.len() + 1 + p.len()];
        Ok(Self {
            header,
            payload: decode(p)?,
            signing_input,
            signature: decode(s)?,
        })
    }

    /// Verifies the signature with the one key among `keys` whose `kid` and algorithm match the
    /// header (the header never picks an algorithm family by itself, RFC 8725 §3.1).
    ///
    /// # Errors
    ///
    /// [`JwsError::UnknownKey`] or [`JwsError::BadSignature`].
    pub fn verify_with<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k dyn Signer>,
    ) -> Result<(), JwsError> {
        let alg = JwsAlgorithm::from_name(&self.header.alg).ok_or(JwsError::UnknownKey)?;
        let kid = self.header.kid.as_deref().ok_or(JwsError::UnknownKey)?;
        let key = keys
            .into_iter()
            .find(|k| k.key_id() == kid && k.algorithm() == alg)
            .ok_or(JwsError::UnknownKey)?;
        key.verify(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| JwsError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_lengths_follow_algorithm() {
        assert_eq!(hash_claim(HashAlgorithm::Sha256, "x").len(), 22);
        if cfg!(feature = "sha512") {
            assert_eq!(hash_claim(HashAlgorithm::Sha384, "x").len(), 32);
            assert_eq!(hash_claim(HashAlgorithm::Sha512, "x").len(), 43);
        } else {
            assert_eq!(hash_claim(HashAlgorithm::Sha384, "x"), "");
            assert_eq!(hash_claim(HashAlgorithm::Sha512, "x"), "");
        }
    }

    #[test]
    fn parse_rejects_shapes() {
        assert_eq!(CompactJws::parse("a.b").unwrap_err(), JwsError::Malformed);
        assert_eq!(
            CompactJws::parse("a.b.c.d").unwrap_err(),
            JwsError::Malformed
        );
        // {"alg":"ES256","crit":["exp"]}
        let h = Base64UrlUnpadded::encode_string(br#"{"alg":"ES256","crit":["exp"]}"#);
        assert_eq!(
            CompactJws::parse(&alloc::format!("{h}.e30.AA")).unwrap_err(),
            JwsError::CriticalHeader
        );
    }
}
