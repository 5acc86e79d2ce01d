//! DPoP proofs (RFC 9449 §4): a client proves, on each request, that it holds the private key
//! a token is bound to.
//!
//! ```text
//! DpopProof::parse(header value)                    §4.2 shape, §4.3 steps 1–7
//!   └─ verify(&request, verifier, &context) → ProofReplayCheck      §4.3 steps 8–12
//!        │ (driver: await Storage::record_jti)
//!        └─ recorded(fresh) → VerifiedProof { jkt }                 jti single use
//! ```
//!
//! The proof's `jwk` header is a public key (never private members), its `alg` an asymmetric
//! algorithm the host's [`JwsVerifier`] implements; `htm` and `htu` must name the request
//! (`htu` compared after RFC 3986 §6.2.2/§6.2.3 normalisation, without query and fragment);
//! `iat` within [`Config::dpop_proof_window`] of now; `ath` the hash of the access token at a
//! resource; the server's nonce when the configuration demands one (§8). The thumbprint of the
//! key (`jkt`, RFC 7638) is what tokens are bound to (`cnf.jkt`, §6).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::client_keys::{ClientJwk, JwsVerifier};
use crate::clock::UnixTime;
use crate::config::{Config, NonceKey};
use crate::error::Reject;
use crate::jose::CompactJws;
use crate::signer::JwsAlgorithm;
use crate::value::ClientId;

/// The `typ` of a DPoP proof (RFC 9449 §4.2).
pub const DPOP_TYP: &str = "dpop+jwt";

/// Longest DPoP proof accepted, in bytes.
pub const MAX_PROOF_LEN: usize = 8 * 1024;

/// The request a proof must name: its method and absolute URI (`htm`, `htu`).
#[derive(Clone, Copy, Debug)]
pub struct ProofTarget<'a> {
    /// The HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The request URI, absolute (scheme, host, path; query and fragment are ignored).
    pub uri: &'a str,
    /// The access token the request carries, at a protected resource (`ath` required).
    pub access_token: Option<&'a str>,
}

impl<'a> ProofTarget<'a> {
    /// A request with `method` (`POST` when the host did not say) to `uri`, without an access
    /// token (the token and PAR endpoints).
    #[must_use]
    pub fn new(method: Option<&'a str>, uri: &'a str) -> Self {
        Self {
            method: method.unwrap_or("POST"),
            uri,
            access_token: None,
        }
    }
}

/// What verifying a proof needs from the provider.
#[derive(Clone, Copy)]
pub struct ProofContext<'a> {
    /// The current time.
    pub now: UnixTime,
    /// The configuration (`iat` window, nonce key).
    pub config: &'a Config,
    /// The host's verifier for the proof's asymmetric signature.
    pub verifier: Option<&'a dyn JwsVerifier>,
}

impl fmt::Debug for ProofContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProofContext")
            .field("now", &self.now)
            .field("verifier", &self.verifier.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Deserialize)]
struct ProofHeader {
    typ: Option<String>,
    alg: String,
    jwk: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    crit: Option<Value>,
}

#[derive(Clone, Debug, Deserialize)]
struct ProofClaims {
    jti: String,
    htm: String,
    htu: String,
    iat: u64,
    #[serde(default)]
    ath: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

/// A DPoP proof, decoded and not yet verified. `Debug` omits the signature.
#[derive(Clone)]
pub struct DpopProof {
    alg: JwsAlgorithm,
    jwk: ClientJwk,
    signing_input: String,
    signature: Vec<u8>,
    claims: ProofClaims,
}

impl fmt::Debug for DpopProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopProof")
            .field("alg", &self.alg)
            .field("htm", &self.claims.htm)
            .field("htu", &self.claims.htu)
            .finish_non_exhaustive()
    }
}

impl DpopProof {
    /// Decodes the `DPoP` header's value (RFC 9449 §4.3 steps 2–7): a JWT with `typ`
    /// `dpop+jwt`, an asymmetric `alg` (never `none` or HMAC), a public `jwk` (no private
    /// members), and the claims `jti`, `htm`, `htu` and `iat`.
    ///
    /// # Errors
    ///
    /// [`Reject::DpopProofInvalid`] for any of these.
    pub fn parse(value: &str) -> Result<Self, Reject> {
        let invalid = Reject::DpopProofInvalid;
        if value.len() > MAX_PROOF_LEN {
            return Err(invalid);
        }
        let mut parts = value.split('.');
        let header_part = parts.next().ok_or(invalid)?;
        let header_json = Base64UrlUnpadded::decode_vec(header_part).map_err(|_| invalid)?;
        let header: ProofHeader = serde_json::from_slice(&header_json).map_err(|_| invalid)?;
        if header.crit.is_some() || header.typ.as_deref() != Some(DPOP_TYP) {
            return Err(invalid);
        }
        let alg = JwsAlgorithm::from_name(&header.alg).ok_or(invalid)?;
        let jwk = header.jwk.ok_or(invalid)?;
        let jwks = ClientJwk::public_from_map(jwk).ok_or(invalid)?;
        let jws = CompactJws::parse(value).map_err(|_| invalid)?;
        let claims: ProofClaims = serde_json::from_slice(&jws.payload).map_err(|_| invalid)?;
        if claims.jti.is_empty() || claims.jti.len() > 256 {
            return Err(invalid);
        }
        Ok(Self {
            alg,
            jwk: jwks,
            signing_input: jws.signing_input.to_string(),
            signature: jws.signature,
            claims,
        })
    }

    /// The thumbprint of the proof's key (RFC 7638), which tokens are bound to.
    #[must_use]
    pub fn jkt(&self) -> Option<String> {
        self.jwk.thumbprint()
    }

    /// Verifies the proof for `target` (RFC 9449 §4.3 steps 8–12): the signature with its own
    /// key, `htm`, `htu`, `iat`, the nonce when one is demanded and `ath` at a resource.
    ///
    /// # Errors
    ///
    /// [`Reject::DpopProofInvalid`] (signature, `htm`, `htu`, `iat`, `ath`);
    /// [`Reject::DpopNonceRequired`] when the configuration demands a fresh server nonce the
    /// proof does not carry — answer with [`fresh_nonce`] in a `DPoP-Nonce` header.
    pub fn verify(
        &self,
        target: &ProofTarget<'_>,
        context: &ProofContext<'_>,
    ) -> Result<ProofReplayCheck, Reject> {
        let invalid = Reject::DpopProofInvalid;
        let verifier = context
            .verifier
            .filter(|v| v.algorithms().contains(&self.alg))
            .ok_or(invalid)?;
        if !self.jwk.fits(self.alg)
            || !verifier.verify(
                &self.jwk,
                self.alg,
                self.signing_input.as_bytes(),
                &self.signature,
            )
        {
            return Err(invalid);
        }
        let claims = &self.claims;
        if claims.htm != target.method || !same_htu(&claims.htu, target.uri) {
            return Err(invalid);
        }
        let now = context.now.as_secs();
        let window = context.config.dpop_proof_window;
        if claims.iat > now.saturating_add(window) || claims.iat.saturating_add(window) < now {
            return Err(invalid);
        }
        if let Some(token) = target.access_token
            && claims.ath.as_deref() != Some(access_token_hash(token).as_str())
        {
            return Err(invalid);
        }
        if let Some(key) = &context.config.dpop_nonce_key
            && !claims
                .nonce
                .as_deref()
                .is_some_and(|nonce| nonce_valid(key, nonce, context.now))
        {
            return Err(Reject::DpopNonceRequired);
        }
        let jkt = self.jkt().ok_or(invalid)?;
        Ok(ProofReplayCheck {
            jti: format!("{jkt}:{}", claims.jti),
            until: UnixTime::from_secs(claims.iat.saturating_add(window).saturating_add(1)),
            jkt,
        })
    }
}

/// The `jti` namespace of DPoP proofs in [`Storage::record_jti`](crate::Storage::record_jti)
/// (proofs are not tied to a client: their `jti`s are keyed by the key's thumbprint).
#[must_use]
pub fn jti_namespace() -> ClientId {
    // "dpop" is a valid client id (printable ASCII, 1–255 octets).
    ClientId::new("dpop").unwrap_or_else(|_| unreachable!())
}

/// A verified proof whose `jti` must be recorded (single use across nodes, RFC 9449 §11.1).
#[derive(Debug)]
pub struct ProofReplayCheck {
    jti: String,
    until: UnixTime,
    jkt: String,
}

impl ProofReplayCheck {
    /// The `jti` to record under [`jti_namespace`]: the key's thumbprint and the proof's `jti`.
    #[must_use]
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// Until when: the end of the `iat` window.
    #[must_use]
    pub fn until(&self) -> UnixTime {
        self.until
    }

    /// Decides on the outcome of [`Storage::record_jti`](crate::Storage::record_jti).
    ///
    /// # Errors
    ///
    /// [`Reject::DpopProofReplayed`].
    pub fn recorded(self, fresh: bool) -> Result<VerifiedProof, Reject> {
        if fresh {
            Ok(VerifiedProof { jkt: self.jkt })
        } else {
            Err(Reject::DpopProofReplayed)
        }
    }
}

/// A proof that verified and was not seen before.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct VerifiedProof {
    jkt: String,
}

impl VerifiedProof {
    /// The key's thumbprint (`cnf.jkt`).
    #[must_use]
    pub fn jkt(&self) -> &str {
        &self.jkt
    }
}

/// `ath`: base64url of the SHA-256 of the access token (RFC 9449 §4.2).
#[must_use]
pub fn access_token_hash(token: &str) -> String {
    Base64UrlUnpadded::encode_string(&Sha256::digest(token.as_bytes()))
}

/// Whether `claimed` (a proof's `htu`) names `actual` (the request URI): both without query
/// and fragment, compared after syntax-based normalisation (RFC 9449 §4.3 step 9; RFC 3986
/// §6.2.2, §6.2.3): case of scheme and host, default ports, percent-encoding of unreserved
/// characters and its hex case, dot segments, and an empty path as `/`.
#[must_use]
pub fn same_htu(claimed: &str, actual: &str) -> bool {
    match (normalise_uri(claimed), normalise_uri(actual)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// `scheme://host[:port]/path` normalised, or `None` if not an absolute http(s) URI.
fn normalise_uri(uri: &str) -> Option<String> {
    let uri = uri.split(['?', '#']).next().unwrap_or_default();
    let (scheme, rest) = uri.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port == default_port => host.to_string(),
        Some((_, port)) if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) => {
            // A colon inside an IPv6 literal, not a port.
            if authority.ends_with(']') {
                authority
            } else {
                return None;
            }
        }
        _ => authority,
    };
    let path = remove_dot_segments(&normalise_percent(path)?);
    let path = if path.is_empty() { "/".into() } else { path };
    Some(format!("{scheme}://{host}{path}"))
}

/// Decodes percent-encoded unreserved characters and upper-cases the hex of the rest.
fn normalise_percent(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = path.get(i + 1..i + 3)?;
            let value = u8::from_str_radix(hex, 16).ok()?;
            if value.is_ascii_alphanumeric() || b"-._~".contains(&value) {
                out.push(char::from(value));
            } else {
                out.push('%');
                out.push_str(&hex.to_ascii_uppercase());
            }
            i += 3;
        } else {
            out.push(char::from(bytes[i]));
            i += 1;
        }
    }
    Some(out)
}

/// RFC 3986 §5.2.4.
fn remove_dot_segments(path: &str) -> String {
    let mut output: Vec<&str> = Vec::new();
    for segment in path.split('/').skip(1) {
        match segment {
            "." => {}
            ".." => {
                output.pop();
            }
            s => output.push(s),
        }
    }
    let trailing = path.ends_with("/.") || path.ends_with("/..");
    let mut joined = String::with_capacity(path.len());
    for segment in &output {
        joined.push('/');
        joined.push_str(segment);
    }
    if trailing {
        joined.push('/');
    }
    joined
}

/// The lifetime of one server nonce bucket, in seconds (a nonce is accepted in its bucket and
/// the next).
pub const NONCE_BUCKET_SECS: u64 = 300;

/// A server nonce for `now` (RFC 9449 §8): the time bucket and its HMAC under `key`, so every
/// node that shares the key accepts it without storage.
#[must_use]
pub fn fresh_nonce(key: &NonceKey, now: UnixTime) -> String {
    nonce_for(key, now.as_secs() / NONCE_BUCKET_SECS)
}

fn nonce_for(key: &NonceKey, bucket: u64) -> String {
    let tag = crate::client_keys::MacAlgorithm::HS256.sign(key.bytes(), &bucket.to_be_bytes());
    let mut bytes = Vec::with_capacity(8 + tag.len());
    bytes.extend_from_slice(&bucket.to_be_bytes());
    bytes.extend_from_slice(&tag);
    Base64UrlUnpadded::encode_string(&bytes)
}

fn nonce_valid(key: &NonceKey, nonce: &str, now: UnixTime) -> bool {
    let bucket = now.as_secs() / NONCE_BUCKET_SECS;
    [bucket, bucket.saturating_sub(1)].iter().any(|b| {
        subtle::ConstantTimeEq::ct_eq(nonce.as_bytes(), nonce_for(key, *b).as_bytes()).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_normalisation() {
        for (a, b) in [
            ("https://op.example/token", "https://op.example/token"),
            ("HTTPS://OP.example/token", "https://op.example/token"),
            ("https://op.example:443/token", "https://op.example/token"),
            ("https://op.example/token?x=1", "https://op.example/token"),
            ("https://op.example/a/../token", "https://op.example/token"),
            ("https://op.example/%74oken", "https://op.example/token"),
            ("https://op.example", "https://op.example/"),
            ("http://127.0.0.1:80/t", "http://127.0.0.1/t"),
            ("https://[::1]:8443/t", "https://[::1]:8443/t"),
        ] {
            assert!(same_htu(a, b), "{a} ~ {b}");
        }
        for (a, b) in [
            ("https://op.example/token", "https://op.example/Token"),
            ("https://op.example:8443/token", "https://op.example/token"),
            ("http://op.example/token", "https://op.example/token"),
            ("https://op.example/token", "https://op.example.evil/token"),
            ("https://user@op.example/token", "https://op.example/token"),
            ("op.example/token", "https://op.example/token"),
        ] {
            assert!(!same_htu(a, b), "{a} !~ {b}");
        }
    }

    #[test]
    fn nonces_are_accepted_for_two_buckets() {
        let key = NonceKey::new([7u8; 32]);
        let t = UnixTime::from_secs(1_800_000_000);
        let nonce = fresh_nonce(&key, t);
        assert!(nonce_valid(&key, &nonce, t));
        assert!(nonce_valid(
            &key,
            &nonce,
            t.saturating_add_secs(NONCE_BUCKET_SECS)
        ));
        assert!(!nonce_valid(
            &key,
            &nonce,
            t.saturating_add_secs(3 * NONCE_BUCKET_SECS)
        ));
        assert!(!nonce_valid(&NonceKey::new([8u8; 32]), &nonce, t));
    }
}
