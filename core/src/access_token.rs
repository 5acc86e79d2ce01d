//! Minting access tokens: opaque (the default) or JWT access tokens (RFC 9068) per client
//! ([`AccessTokenFormat`]).
//!
//! Either way the provider stores only the token's digest with its record, so a JWT access
//! token is revoked, introspected and found by UserInfo exactly like an opaque one; a resource
//! server that validates it locally learns about a revocation only by introspecting or when it
//! expires (keep its lifetime short).

use alloc::string::String;
use alloc::vec::Vec;

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Serialize, Serializer};

use crate::binding::Confirmation;
use crate::client::AccessTokenFormat;
use crate::clock::UnixTime;
use crate::error::Reject;
use crate::jose::sign_typed;
use crate::mint::Mint;
use crate::secret::AccessToken;
use crate::signer::JwsAlgorithm;

/// The `typ` header of a JWT access token (RFC 9068 §2.1).
pub const AT_JWT_TYP: &str = "at+jwt";

/// The claims of a JWT access token (RFC 9068 §2.2).
#[derive(Clone, Debug, Serialize)]
struct AccessTokenClaims<'a> {
    iss: &'a str,
    exp: UnixTime,
    #[serde(serialize_with = "one_or_many")]
    aud: &'a [String],
    sub: &'a str,
    client_id: &'a str,
    iat: UnixTime,
    jti: String,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_time: Option<UnixTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acr: Option<&'a str>,
    /// The confirmation of a sender-constrained token (RFC 9068 §2.2.1 via RFC 7800 §3.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<&'a Confirmation>,
}

/// A single audience as a string, several as an array (RFC 7519 §4.1.3).
fn one_or_many<S: Serializer>(aud: &&[String], serializer: S) -> Result<S::Ok, S::Error> {
    match aud {
        [one] => serializer.serialize_str(one),
        many => many.serialize(serializer),
    }
}

/// What an access token says about its grant.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TokenFacts<'a> {
    pub(crate) subject: &'a str,
    pub(crate) client_id: &'a str,
    /// The token's audiences (never empty: the client id when no resource was indicated).
    pub(crate) audience: &'a [String],
    pub(crate) scope: &'a str,
    pub(crate) lifetime: u64,
    pub(crate) auth_time: Option<UnixTime>,
    pub(crate) acr: Option<&'a str>,
    /// What the token is bound to (`cnf`, RFC 9068 §2.2.1 via RFC 9449 §6 / RFC 8705 §3).
    pub(crate) confirmation: &'a Confirmation,
}

/// Mints an access token in `format`: 256 random bits, or a JWT signed with the active key for
/// `alg` (the client's ID token algorithm, whose key the token endpoint has checked) with
/// `typ: at+jwt` and the claims of RFC 9068 §2.2 (`jti`: 128 random bits).
pub(crate) fn mint_access_token(
    format: AccessTokenFormat,
    facts: &TokenFacts<'_>,
    alg: JwsAlgorithm,
    mint: &Mint<'_>,
) -> Result<AccessToken, Reject> {
    if format != AccessTokenFormat::Jwt {
        return AccessToken::generate(mint.rng).map_err(|_| Reject::ServerError);
    }
    let signer = mint.signer(alg)?;
    let mut jti = [0u8; 16];
    mint.rng
        .try_fill(&mut jti)
        .map_err(|_| Reject::ServerError)?;
    let claims = AccessTokenClaims {
        iss: &mint.config.issuer,
        exp: mint.now.saturating_add_secs(facts.lifetime),
        aud: facts.audience,
        sub: facts.subject,
        client_id: facts.client_id,
        iat: mint.now,
        jti: Base64UrlUnpadded::encode_string(&jti),
        scope: facts.scope.into(),
        auth_time: facts.auth_time,
        acr: facts.acr.filter(|a| !a.is_empty()),
        cnf: (!facts.confirmation.is_empty()).then_some(facts.confirmation),
    };
    let jwt = sign_typed(signer, &claims, mint.rng, AT_JWT_TYP).map_err(|_| Reject::ServerError)?;
    Ok(AccessToken::new(jwt))
}

/// The `resource` parameters of a request (RFC 8707 §2), sorted and deduplicated: each an
/// absolute URI without a fragment ([`Reject::ResourceInvalid`]) and, when `known` is given,
/// one of them ([`Reject::ResourceUnknown`]). Empty when none was sent.
pub(crate) fn requested_resources(
    params: &crate::params::Params<'_>,
    known: Option<&[String]>,
) -> Result<Vec<String>, Reject> {
    let mut out: Vec<String> = Vec::new();
    for value in params.all("resource") {
        let scheme = value.split_once(':').map(|(s, _)| s).unwrap_or_default();
        let absolute = !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
            && value.len() > scheme.len() + 1;
        if !absolute || value.contains('#') || !value.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(Reject::ResourceInvalid);
        }
        if known.is_some_and(|known| !known.iter().any(|r| r == value)) {
            return Err(Reject::ResourceUnknown);
        }
        out.push(value.into());
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The audience list of a token: `resources`, or the client id when there are none.
pub(crate) fn audience_of(resources: &[String], client_id: &str) -> Vec<String> {
    if resources.is_empty() {
        alloc::vec![client_id.into()]
    } else {
        resources.to_vec()
    }
}
