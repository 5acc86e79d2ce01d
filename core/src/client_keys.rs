//! Clients' keys and the signatures made with them: client assertions (RFC 7523 §3, OIDC Core
//! §9) and request objects (RFC 9101 §4, OIDC Core §6.1).
//!
//! - [`ClientJwks`]: a client's public JWK set, registered inline (`jwks`) or fetched from its
//!   `jwks_uri` by the host's [`JwksFetcher`] (no I/O here). Private members are refused.
//! - [`JwsVerifier`]: the host's asymmetric signature verification (RustCrypto or ring).
//! - [`MacAlgorithm`]: HMAC with the client secret (`client_secret_jwt`), computed here.
//! - [`SignatureAlgorithm`]: what a JWS header's `alg` may name. Asymmetric algorithms and MACs
//!   are different types, and each client method accepts only one family, so a public key can
//!   never be used as an HMAC secret and `none` never verifies (RFC 8725 §2.1, §3.1).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;
#[cfg(feature = "sha512")]
use sha2::{Sha384, Sha512};

use crate::error::Reject;
use crate::jose::CompactJws;
use crate::signer::JwsAlgorithm;

/// Largest client JWK set accepted, in bytes of JSON (64 KiB).
pub const MAX_CLIENT_JWKS_LEN: usize = 64 * 1024;

/// Most keys accepted in one client JWK set.
pub const MAX_CLIENT_KEYS: usize = 32;

/// JWK members that only private (or symmetric) keys have (RFC 7518 §6.2.2, §6.3.2, §6.4).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A client's public signing key, as registered (RFC 7517 §4). Unknown members are ignored;
/// private members are refused when the set is parsed.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ClientJwk {
    /// Key type: `EC`, `RSA` or `OKP`.
    pub kty: String,
    /// Key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Intended use; only `sig` (or absent) keys verify signatures.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// The algorithm the key is restricted to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Curve of EC and OKP keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// EC/OKP x, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// RSA modulus, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA exponent, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// The key's certificate chain, base64 (not base64url) DER, the key's own certificate first
    /// (RFC 7517 §4.7): how a `self_signed_tls_client_auth` client registers its certificate
    /// (RFC 8705 §2.2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub x5c: Vec<String>,
}

impl ClientJwk {
    /// Whether this key may verify a signature made with `alg`: its type and curve fit the
    /// algorithm, its `use` (if any) is `sig` and its `alg` (if any) is `alg` (RFC 7517 §4.2,
    /// §4.4).
    #[must_use]
    pub fn fits(&self, alg: JwsAlgorithm) -> bool {
        let family = match alg {
            JwsAlgorithm::ES256 => self.kty == "EC" && self.crv.as_deref() == Some("P-256"),
            JwsAlgorithm::ES384 => self.kty == "EC" && self.crv.as_deref() == Some("P-384"),
            JwsAlgorithm::ES512 => self.kty == "EC" && self.crv.as_deref() == Some("P-521"),
            JwsAlgorithm::EdDSA => self.kty == "OKP" && self.crv.as_deref() == Some("Ed25519"),
            JwsAlgorithm::PS256
            | JwsAlgorithm::PS384
            | JwsAlgorithm::PS512
            | JwsAlgorithm::RS256
            | JwsAlgorithm::RS384
            | JwsAlgorithm::RS512 => self.kty == "RSA",
        };
        family
            && self.use_.as_deref().is_none_or(|u| u == "sig")
            && self.alg.as_deref().is_none_or(|a| a == alg.as_str())
    }

    /// A public key from a JWK object, as a DPoP proof's `jwk` header carries it (RFC 9449
    /// §4.2): `None` with private members or without a usable key.
    #[must_use]
    pub fn public_from_map(map: serde_json::Map<String, Value>) -> Option<Self> {
        if PRIVATE_MEMBERS.iter().any(|m| map.contains_key(*m)) {
            return None;
        }
        let jwk: Self = serde_json::from_value(Value::Object(map)).ok()?;
        jwk.usable().then_some(jwk)
    }

    /// The RFC 7638 thumbprint of the key (the same computation as [`Jwk::thumbprint`]).
    ///
    /// [`Jwk::thumbprint`]: crate::Jwk::thumbprint
    #[must_use]
    pub fn thumbprint(&self) -> Option<String> {
        crate::signer::Jwk {
            kty: self.kty.clone(),
            kid: String::new(),
            use_: String::new(),
            alg: JwsAlgorithm::ES256,
            crv: self.crv.clone(),
            x: self.x.clone(),
            y: self.y.clone(),
            n: self.n.clone(),
            e: self.e.clone(),
        }
        .thumbprint()
    }

    /// The `x5t#S256` of the key's own certificate (the first of `x5c`): base64url of the
    /// SHA-256 of its DER (RFC 8705 §3.1); `None` without a decodable one.
    #[must_use]
    pub fn certificate_thumbprint(&self) -> Option<String> {
        use base64ct::Encoding as _;
        let der = base64ct::Base64::decode_vec(self.x5c.first()?).ok()?;
        Some(crate::binding::certificate_thumbprint(&der))
    }

    fn usable(&self) -> bool {
        match self.kty.as_str() {
            "EC" => self.crv.is_some() && self.x.is_some() && self.y.is_some(),
            "RSA" => self.n.is_some() && self.e.is_some(),
            "OKP" => self.crv.is_some() && self.x.is_some(),
            _ => false,
        }
    }
}

/// A client's public JWK set (RFC 7517 §5): at most [`MAX_CLIENT_KEYS`] keys, at least one
/// usable signing key, no private members.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct ClientJwks {
    keys: Vec<ClientJwk>,
}

impl ClientJwks {
    /// Parses a JWK set document (`jwks_uri` content), at most [`MAX_CLIENT_JWKS_LEN`] bytes.
    ///
    /// # Errors
    ///
    /// [`Reject::JwksInvalid`] when the document is too large, not a JWK set, carries private
    /// key members, or holds no usable EC, RSA or OKP key.
    pub fn parse(json: &[u8]) -> Result<Self, Reject> {
        if json.len() > MAX_CLIENT_JWKS_LEN {
            return Err(Reject::JwksInvalid);
        }
        let value: Value = serde_json::from_slice(json).map_err(|_| Reject::JwksInvalid)?;
        Self::from_value(&value)
    }

    /// Reads a JWK set from registered metadata (`jwks`).
    ///
    /// # Errors
    ///
    /// As for [`ClientJwks::parse`].
    pub fn from_value(value: &Value) -> Result<Self, Reject> {
        let keys = value
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(Reject::JwksInvalid)?;
        if keys.is_empty() || keys.len() > MAX_CLIENT_KEYS {
            return Err(Reject::JwksInvalid);
        }
        let mut parsed = Vec::with_capacity(keys.len());
        for key in keys {
            let object = key.as_object().ok_or(Reject::JwksInvalid)?;
            if PRIVATE_MEMBERS.iter().any(|m| object.contains_key(*m)) {
                return Err(Reject::JwksInvalid);
            }
            let jwk: ClientJwk =
                serde_json::from_value(key.clone()).map_err(|_| Reject::JwksInvalid)?;
            parsed.push(jwk);
        }
        if !parsed.iter().any(ClientJwk::usable) {
            return Err(Reject::JwksInvalid);
        }
        Ok(Self { keys: parsed })
    }

    /// The keys.
    #[must_use]
    pub fn keys(&self) -> &[ClientJwk] {
        &self.keys
    }

    /// Whether the set registers the certificate of thumbprint `x5t_s256` (the first `x5c`
    /// certificate of one of its keys; RFC 8705 §2.2).
    #[must_use]
    pub fn has_certificate(&self, x5t_s256: &str) -> bool {
        self.keys.iter().any(|k| {
            k.certificate_thumbprint().is_some_and(|t| {
                subtle::ConstantTimeEq::ct_eq(t.as_bytes(), x5t_s256.as_bytes()).into()
            })
        })
    }

    /// Whether a key with this `kid` is in the set.
    #[must_use]
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// The keys that may verify a signature with `alg` and header `kid`: the keys with that
    /// `kid`, or, without a `kid`, every key of the right type (RFC 7515 §4.1.4).
    pub fn candidates<'a>(
        &'a self,
        alg: JwsAlgorithm,
        kid: Option<&'a str>,
    ) -> impl Iterator<Item = &'a ClientJwk> + 'a {
        self.keys
            .iter()
            .filter(move |k| k.fits(alg) && kid.is_none_or(|kid| k.kid.as_deref() == Some(kid)))
    }
}

/// Verifies signatures made with clients' asymmetric keys; the host supplies it (the RustCrypto
/// and ring adapters implement it).
pub trait JwsVerifier: Send + Sync {
    /// The asymmetric algorithms this verifier implements (advertised in discovery).
    fn algorithms(&self) -> &[JwsAlgorithm];

    /// Whether `signature` is a valid `alg` signature over `input` by `key`. A key whose type,
    /// curve or size does not fit `alg` gives `false`.
    fn verify(&self, key: &ClientJwk, alg: JwsAlgorithm, input: &[u8], signature: &[u8]) -> bool;
}

/// Why a client's `jwks_uri` could not be fetched.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL is refused by the fetcher's policy (scheme, private address).
    Refused,
    /// The server could not be reached, answered an error, or timed out.
    Unavailable,
    /// The answer is not a valid JWK set (or too large).
    Invalid,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Refused => "the jwks_uri is refused by the fetch policy",
            Self::Unavailable => "the jwks_uri could not be fetched",
            Self::Invalid => "the jwks_uri did not return a valid JWK set",
        })
    }
}

impl core::error::Error for FetchError {}

/// A boxed future returned by [`JwksFetcher::fetch`].
pub type FetchFuture<'a> =
    Pin<Box<dyn Future<Output = Result<ClientJwks, FetchError>> + Send + 'a>>;

/// Fetches clients' JWK sets from their `jwks_uri`; the host supplies it (the axum adapter ships
/// one with timeouts, size caps, caching and an SSRF guard). Core never does I/O.
pub trait JwksFetcher: Send + Sync {
    /// The JWK set at `uri`. `kid` is the key the caller looks for: a cache that does not hold
    /// it should refetch (rate-limited), since the client may have rotated its keys.
    fn fetch<'a>(&'a self, uri: &'a str, kid: Option<&'a str>) -> FetchFuture<'a>;
}

/// An HMAC algorithm for JWS with a shared secret (RFC 7518 §3.2), used by `client_secret_jwt`.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum MacAlgorithm {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
}

impl MacAlgorithm {
    /// Every MAC algorithm.
    pub const ALL: [Self; 3] = [Self::HS256, Self::HS384, Self::HS512];

    /// Whether this build computes the algorithm: HS384 and HS512 need the `sha512` feature
    /// (on by default); without it they never verify and are not advertised.
    #[must_use]
    pub const fn is_built_in(self) -> bool {
        match self {
            Self::HS256 => true,
            Self::HS384 | Self::HS512 => cfg!(feature = "sha512"),
        }
    }

    /// The registered `alg` name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
        }
    }

    /// The shortest key allowed: the hash's output size (RFC 7518 §3.2).
    #[must_use]
    pub const fn min_key_len(self) -> usize {
        match self {
            Self::HS256 => 32,
            Self::HS384 => 48,
            Self::HS512 => 64,
        }
    }

    /// Whether `tag` is the MAC of `input` under `key`, compared in constant time. Keys shorter
    /// than [`MacAlgorithm::min_key_len`] never verify.
    #[must_use]
    pub fn verify(self, key: &[u8], input: &[u8], tag: &[u8]) -> bool {
        if key.len() < self.min_key_len() {
            return false;
        }
        fn check<M: Mac + KeyInit>(key: &[u8], input: &[u8], tag: &[u8]) -> bool {
            let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
                return false;
            };
            mac.update(input);
            mac.verify_slice(tag).is_ok()
        }
        match self {
            Self::HS256 => check::<Hmac<Sha256>>(key, input, tag),
            #[cfg(feature = "sha512")]
            Self::HS384 => check::<Hmac<Sha384>>(key, input, tag),
            #[cfg(feature = "sha512")]
            Self::HS512 => check::<Hmac<Sha512>>(key, input, tag),
            #[cfg(not(feature = "sha512"))]
            Self::HS384 | Self::HS512 => false,
        }
    }

    /// The MAC of `input` under `key` (for tests and clients built on this crate); empty for an
    /// algorithm this build leaves out.
    #[must_use]
    pub fn sign(self, key: &[u8], input: &[u8]) -> Vec<u8> {
        fn tag<M: Mac + KeyInit>(key: &[u8], input: &[u8]) -> Vec<u8> {
            // HMAC accepts keys of any length.
            let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
                return Vec::new();
            };
            mac.update(input);
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            Self::HS256 => tag::<Hmac<Sha256>>(key, input),
            #[cfg(feature = "sha512")]
            Self::HS384 => tag::<Hmac<Sha384>>(key, input),
            #[cfg(feature = "sha512")]
            Self::HS512 => tag::<Hmac<Sha512>>(key, input),
            #[cfg(not(feature = "sha512"))]
            Self::HS384 | Self::HS512 => Vec::new(),
        }
    }
}

/// A JWS `alg` a client may sign with: asymmetric or MAC, never `none` (RFC 8725 §3.1).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// A public-key signature, verified with the client's JWK set.
    Asymmetric(JwsAlgorithm),
    /// An HMAC with the client secret.
    Mac(MacAlgorithm),
}

impl SignatureAlgorithm {
    /// Parses a registered `alg` name; `none` and unknown names give `None`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        if let Some(mac) = MacAlgorithm::ALL.into_iter().find(|m| m.as_str() == name) {
            return Some(Self::Mac(mac));
        }
        JwsAlgorithm::from_name(name).map(Self::Asymmetric)
    }

    /// The registered name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Asymmetric(alg) => alg.as_str(),
            Self::Mac(mac) => mac.as_str(),
        }
    }
}

/// Which keys may verify a client's JWS.
#[derive(Clone, Copy, Debug)]
pub(crate) enum KeyFamily {
    /// The client's JWK set, through the host's verifier.
    Public,
    /// The client secret, as an HMAC key.
    Secret,
}

/// The client-side inputs to verifying one of its signatures.
#[derive(Clone, Copy)]
pub(crate) struct ClientKeys<'a> {
    /// The JWK set: registered inline or fetched.
    pub(crate) jwks: Option<&'a ClientJwks>,
    /// The client secret, for HMAC.
    pub(crate) secret: Option<&'a [u8]>,
    /// The host's verifier for asymmetric algorithms.
    pub(crate) verifier: Option<&'a dyn JwsVerifier>,
}

/// Why a client's JWS did not verify; each use maps it to its own [`Reject`].
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum JwsFailure {
    /// `none`, another family, not the registered algorithm, or not implemented.
    Algorithm,
    /// No key matches the `kid` and algorithm.
    UnknownKey,
    /// The signature does not verify.
    Signature,
}

/// Verifies `jws` as signed by a client: its `alg` must be of `family`, equal `required` when
/// the client registered one, and be implemented; the key is chosen by `kid` or tried in turn.
pub(crate) fn verify_client_jws(
    jws: &CompactJws<'_>,
    family: KeyFamily,
    required: Option<SignatureAlgorithm>,
    keys: ClientKeys<'_>,
) -> Result<(), JwsFailure> {
    let alg = SignatureAlgorithm::from_name(&jws.header.alg).ok_or(JwsFailure::Algorithm)?;
    if required.is_some_and(|r| r != alg) {
        return Err(JwsFailure::Algorithm);
    }
    let input = jws.signing_input.as_bytes();
    match (family, alg) {
        (KeyFamily::Public, SignatureAlgorithm::Asymmetric(alg)) => {
            let verifier = keys
                .verifier
                .filter(|v| v.algorithms().contains(&alg))
                .ok_or(JwsFailure::Algorithm)?;
            let jwks = keys.jwks.ok_or(JwsFailure::UnknownKey)?;
            let kid = jws.header.kid.as_deref();
            let mut candidates = jwks.candidates(alg, kid).peekable();
            if candidates.peek().is_none() {
                return Err(JwsFailure::UnknownKey);
            }
            if candidates.any(|key| verifier.verify(key, alg, input, &jws.signature)) {
                Ok(())
            } else {
                Err(JwsFailure::Signature)
            }
        }
        (KeyFamily::Secret, SignatureAlgorithm::Mac(mac)) => {
            // A client without a secret has no HMAC at all: the algorithm is refused.
            let secret = keys.secret.ok_or(JwsFailure::Algorithm)?;
            if mac.verify(secret, input, &jws.signature) {
                Ok(())
            } else {
                Err(JwsFailure::Signature)
            }
        }
        _ => Err(JwsFailure::Algorithm),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2 (HMAC-SHA-256 with a short key) is refused for its key length; test
    /// case 6 values verify with a long enough key.
    #[test]
    fn hmac_checks_key_length_and_tag() {
        let key = [0xaa_u8; 131];
        let data = b"Test Using Larger Than Block-Size Key - Hash Key First";
        let tag = MacAlgorithm::HS256.sign(&key, data);
        assert_eq!(tag[..8], [0x60, 0xe4, 0x31, 0x59, 0x1e, 0xe0, 0xb6, 0x7f]);
        assert!(MacAlgorithm::HS256.verify(&key, data, &tag));
        let mut bad = tag.clone();
        bad[0] ^= 1;
        assert!(!MacAlgorithm::HS256.verify(&key, data, &bad));
        assert!(!MacAlgorithm::HS256.verify(
            b"Jefe",
            data,
            &MacAlgorithm::HS256.sign(b"Jefe", data)
        ));
        assert!(!MacAlgorithm::HS512.verify(&key[..63], data, &tag));
    }

    #[test]
    fn private_members_and_empty_sets_are_refused() {
        let public = br#"{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","kid":"1"}]}"#;
        assert!(ClientJwks::parse(public).is_ok());
        for bad in [
            &br#"{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}]}"#[..],
            br#"{"keys":[{"kty":"oct","k":"AAAA"}]}"#,
            br#"{"keys":[]}"#,
            br#"{"keys":[{"kty":"EC"}]}"#,
            br#"[]"#,
            b"not json",
        ] {
            assert_eq!(ClientJwks::parse(bad), Err(Reject::JwksInvalid));
        }
    }

    #[test]
    fn names_parse_into_families() {
        assert_eq!(
            SignatureAlgorithm::from_name("HS256"),
            Some(SignatureAlgorithm::Mac(MacAlgorithm::HS256))
        );
        assert_eq!(
            SignatureAlgorithm::from_name("PS256"),
            Some(SignatureAlgorithm::Asymmetric(JwsAlgorithm::PS256))
        );
        assert_eq!(SignatureAlgorithm::from_name("none"), None);
        assert_eq!(SignatureAlgorithm::from_name("hs256"), None);
    }
}
