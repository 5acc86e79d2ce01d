//! The relying party's side: verify an ID token as OIDC Core §3.1.3.7 and §3.3.2.12 ask, with the
//! RustCrypto adapter's verifier and an independent SHA-256 for the hash claim.

use alloc::string::String;

use base64ct::{Base64UrlUnpadded, Encoding};
use oidc_hybrid::JwkSet;
use oidc_hybrid_rustcrypto::PublicKey;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::insecure::NOW;
use crate::out::{check, fail};
use crate::{CLIENT_ID, ID_TOKEN_ALG, ISSUER, NONCE};

/// The ID token claims the example checks.
#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    exp: u64,
    iat: u64,
    auth_time: Option<u64>,
    nonce: Option<String>,
    azp: Option<String>,
    c_hash: Option<String>,
}

/// Checks both ID tokens of the flow as the client would: each verified (signature and claims),
/// the front-channel one with the `c_hash` of `code`, both about the same authentication.
pub(crate) fn check_id_tokens(keys: &JwkSet, front: &str, back: &str, code: &str) {
    let front = verify_id_token(keys, front, CLIENT_ID);
    check(
        front.c_hash.as_deref() == Some(hash_claim(code).as_str()),
        "c_hash of the code (OIDC Core §3.3.2.11)",
    );
    let back = verify_id_token(keys, back, CLIENT_ID);
    check(
        back.sub == front.sub && back.iss == front.iss && back.auth_time == front.auth_time,
        "both ID tokens name the same End-User and authentication (OIDC Core §3.3.3.6)",
    );
    check(back.c_hash.is_none(), "no c_hash from the token endpoint");
}

/// Verifies the signature with the published key of the client's algorithm (only that algorithm
/// accepted) and the claims: issuer, audience, nonce, times.
fn verify_id_token(keys: &JwkSet, jws: &str, client_id: &str) -> Claims {
    let Some(jwk) = keys.keys.iter().find(|k| k.alg == ID_TOKEN_ALG) else {
        fail("no key published for the client's algorithm");
    };
    let key = PublicKey::from_jwk(jwk).unwrap_or_else(|_| fail("published key"));
    let payload = key
        .verify_compact(&[ID_TOKEN_ALG], jws)
        .unwrap_or_else(|_| fail("ID token signature"));
    let claims: Claims =
        serde_json::from_slice(&payload).unwrap_or_else(|_| fail("ID token claims"));
    check(claims.iss == ISSUER, "iss");
    check(claims.aud == client_id, "aud");
    check(claims.azp.as_deref() == Some(client_id), "azp");
    check(claims.nonce.as_deref() == Some(NONCE), "nonce");
    check(claims.iat == NOW && claims.exp > claims.iat, "iat and exp");
    claims
}

/// `c_hash`: the left half of SHA-256 over the code's ASCII, base64url (OIDC Core §3.3.2.11).
fn hash_claim(value: &str) -> String {
    Base64UrlUnpadded::encode_string(&Sha256::digest(value.as_bytes())[..16])
}
