//! The FAPI 1.0 Advanced profile (Financial-grade API Security Profile 1.0 — Part 2:
//! Advanced, Final), for its hybrid variant `code id_token`: the rules it adds to OpenID
//! Connect, each in one place, for the clients in the profile — those registered with
//! `fapi1_advanced` (per client) or all of them under [`Config::fapi1_advanced`].
//!
//! | clause (Final) | rule | where |
//! |---|---|---|
//! | §5.2.2-1, -10 | a signed request object (`request`) or a pushed request (`request_uri` from PAR) | [`check_authorization`] |
//! | §5.2.2-2 | `response_type=code id_token` (JARM is not implemented, so `code` is refused) | [`check_authorization`] |
//! | §5.2.2-9, -20 | the redirect URI is https | [`check_authorization`], [`Client::check_fapi`] |
//! | §5.2.2-13, -17, §5.2.2-15 | the request object has `exp`, `nbf` (not over 60 min old), `exp - nbf` ≤ 60 min, `aud` = issuer | [`check_request_object`] |
//! | §5.2.2-14 | client authentication `private_key_jwt`, `tls_client_auth` or `self_signed_tls_client_auth` | [`Client::check_fapi`] |
//! | §5.2.2-18 | pushed requests use PKCE with `S256` | [`check_authorization`] |
//! | §5.2.2-5 (§6.2.1-1) | access tokens sender-constrained: a DPoP proof (RFC 9449) or a client certificate (RFC 8705) at the token endpoint | [`check_sender_constraint`] |
//! | §5.2.2.2 (§5.2.2.1 of -1) | `s_hash` in the front-channel ID token | `BoundRequest` (`s_hash`) |
//! | §8.6 | PS256 or ES256 only: ID tokens, request objects, client assertions | [`Client::check_fapi`], [`algorithm_allowed`] |
//! | Part 1 §5.2.2-13 | authorization codes live at most 60 s | [`MAX_CODE_LIFETIME`] |
//!
//! Not covered: JARM (`response_type=code` with `response_mode=jwt`), encrypted request objects
//! and ID tokens, `acr` requirements of particular ecosystems, the Part 1 rules on minimum
//! key sizes (the host's signers choose their keys; the verifiers refuse RSA below 2048 bits).

use crate::client::Client;
use crate::config::Config;
use crate::error::Reject;
use crate::pkce::{CodeChallenge, CodeChallengeMethod};
use crate::value::{RedirectUri, ResponseType};

pub use crate::client::FAPI_ALGORITHMS as ALGORITHMS;

/// The longest authorization code lifetime in the profile, in seconds (Part 1 §5.2.2-13).
pub const MAX_CODE_LIFETIME: u64 = 60;

/// The longest span from a request object's `nbf` to its `exp`, and the oldest `nbf`, in
/// seconds (§5.2.2-13, -17).
pub const MAX_REQUEST_OBJECT_SPAN: u64 = 3600;

/// Whether `client` is in the profile under `config`.
#[must_use]
pub fn applies(client: &Client, config: &Config) -> bool {
    config.fapi1_advanced || client.metadata().fapi1_advanced
}

/// Whether `alg` (a JWS `alg` header value) is one the profile allows (§8.6).
#[must_use]
pub fn algorithm_allowed(alg: &str) -> bool {
    ALGORITHMS.iter().any(|a| a.as_str() == alg)
}

/// An authorization request of a client in the profile (§5.2.2-1, -2, -9, -18, -20), whose
/// parameters came from a verified request object (`signed`) or a pushed request (`pushed`).
///
/// # Errors
///
/// [`Reject::FapiClientNotConforming`] for a client whose registration breaks
/// [`Client::check_fapi`]; [`Reject::FapiRequestObjectRequired`], [`Reject::FapiResponseTypeRequired`],
/// [`Reject::FapiPkceRequired`], [`Reject::FapiRedirectUriInsecure`].
pub fn check_authorization(
    client: &Client,
    (signed, pushed): (bool, bool),
    response_type: ResponseType,
    redirect_uri: &RedirectUri,
    code_challenge: Option<&CodeChallenge>,
) -> Result<(), Reject> {
    client
        .check_fapi()
        .map_err(|_| Reject::FapiClientNotConforming)?;
    if !(signed || pushed) {
        return Err(Reject::FapiRequestObjectRequired);
    }
    if response_type != ResponseType::CodeIdToken {
        return Err(Reject::FapiResponseTypeRequired);
    }
    if !redirect_uri.as_str().starts_with("https://") {
        return Err(Reject::FapiRedirectUriInsecure);
    }
    if pushed && !code_challenge.is_some_and(|c| c.method() == CodeChallengeMethod::S256) {
        return Err(Reject::FapiPkceRequired);
    }
    Ok(())
}

/// The claims of a request object of a client in the profile (§5.2.2-13, -15, -17): `exp` and
/// `nbf` present, `nbf` at most 60 minutes old, `exp` at most 60 minutes after `nbf`, `aud`
/// present (its value is checked for every client).
///
/// # Errors
///
/// [`Reject::FapiRequestObjectClaims`].
pub fn check_request_object(
    exp: Option<u64>,
    nbf: Option<u64>,
    has_aud: bool,
    now: u64,
) -> Result<(), Reject> {
    let (Some(exp), Some(nbf)) = (exp, nbf) else {
        return Err(Reject::FapiRequestObjectClaims);
    };
    let fresh = nbf.saturating_add(MAX_REQUEST_OBJECT_SPAN) >= now;
    if !has_aud || !fresh || exp.saturating_sub(nbf) > MAX_REQUEST_OBJECT_SPAN {
        return Err(Reject::FapiRequestObjectClaims);
    }
    Ok(())
}

/// A token request of a client in the profile: its access token must be sender-constrained
/// (§5.2.2-5, §6.2.1-1), so the request proved a DPoP key or came with a client certificate.
///
/// # Errors
///
/// [`Reject::FapiSenderConstraintRequired`].
pub fn check_sender_constraint(proved_key: bool, certificate: bool) -> Result<(), Reject> {
    if proved_key || certificate {
        Ok(())
    } else {
        Err(Reject::FapiSenderConstraintRequired)
    }
}
