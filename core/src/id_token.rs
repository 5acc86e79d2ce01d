//! ID token claims (OIDC Core §2) and the rules that make both ID tokens of a hybrid flow agree
//! (OIDC Core §3.3.3.6).

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;
use crate::jose::CompactJws;
use crate::jose::hash_claim;
use crate::signer::{JwsAlgorithm, Signer};
use crate::value::Subject;

/// The claims of an ID token. Absent claims are omitted, never `null` (REQUIREMENTS 83).
///
/// The front-channel ID token carries no End-User claims; the token endpoint's carries those the
/// core releases for custom scopes and the `claims` parameter ([`claims`](crate::claims)); the
/// standard scope claims are served by UserInfo (OIDC Core §5.4, REQUIREMENTS 84).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
#[non_exhaustive]
pub struct IdTokenClaims {
    /// Issuer identifier.
    pub iss: String,
    /// Subject identifier.
    pub sub: String,
    /// Audience: the client id.
    pub aud: String,
    /// Expiry.
    pub exp: UnixTime,
    /// Issue time.
    pub iat: UnixTime,
    /// Time of the End-User's authentication.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub auth_time: Option<UnixTime>,
    /// The request's nonce, unchanged.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub nonce: Option<String>,
    /// Authentication context class reference (never empty, REQUIREMENTS 82).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub acr: Option<String>,
    /// Authentication methods references.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub amr: Option<Vec<String>>,
    /// Authorized party: the client id (REQUIREMENTS 88).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub azp: Option<String>,
    /// Access token hash.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub at_hash: Option<String>,
    /// Code hash.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub c_hash: Option<String>,
    /// State hash (FAPI 1.0 Advanced §5.2.2.1).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub s_hash: Option<String>,
    /// The OP session the End-User authenticated in (Front-Channel Logout 1.0 §3, Back-Channel
    /// Logout 1.0 §2.1): every ID token of a grant made under a session carries it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sid: Option<String>,
    /// End-User claims the core released from the host's answer (token endpoint only; never a
    /// protected claim, [`claims`](crate::claims)).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The facts about one authentication event that every ID token of a grant repeats.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) struct AuthEvent<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) subject: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) auth_time: Option<UnixTime>,
    pub(crate) nonce: Option<&'a str>,
    pub(crate) acr: Option<&'a str>,
    pub(crate) amr: &'a [String],
    pub(crate) sid: Option<&'a str>,
}

impl AuthEvent<'_> {
    /// Claims for an ID token issued at `now` and valid for `lifetime` seconds, with hash claims
    /// over the given values, computed with the hash of `alg` (OIDC Core §3.3.2.11).
    pub(crate) fn claims(
        &self,
        now: UnixTime,
        lifetime: u64,
        alg: JwsAlgorithm,
        hashed: Hashed<'_>,
    ) -> IdTokenClaims {
        let hash = alg.hash();
        IdTokenClaims {
            iss: self.issuer.into(),
            sub: self.subject.into(),
            aud: self.client_id.into(),
            exp: now.saturating_add_secs(lifetime),
            iat: now,
            auth_time: self.auth_time,
            nonce: self.nonce.map(Into::into),
            acr: self.acr.filter(|a| !a.is_empty()).map(Into::into),
            amr: (!self.amr.is_empty()).then(|| self.amr.to_vec()),
            azp: Some(self.client_id.into()),
            at_hash: hashed.access_token.map(|t| hash_claim(hash, t)),
            c_hash: hashed.code.map(|c| hash_claim(hash, c)),
            s_hash: hashed.state.map(|s| hash_claim(hash, s)),
            sid: self.sid.map(Into::into),
            extra: serde_json::Map::new(),
        }
    }
}

/// The values an ID token carries hashes of.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Hashed<'a> {
    pub(crate) code: Option<&'a str>,
    pub(crate) access_token: Option<&'a str>,
    pub(crate) state: Option<&'a str>,
}

/// The `sub` of an `id_token_hint` that one of `keys` signed and whose `iss` is `issuer`; an
/// expired hint is accepted (OIDC Core §3.1.2.2; REQUIREMENTS 43–44).
pub(crate) fn hint_subject<'k>(
    hint: &str,
    keys: impl Iterator<Item = &'k dyn Signer>,
    issuer: &str,
) -> Option<Subject> {
    #[derive(Deserialize)]
    struct HintClaims {
        iss: String,
        sub: String,
    }
    let jws = CompactJws::parse(hint).ok()?;
    jws.verify_with(keys).ok()?;
    let claims: HintClaims = serde_json::from_slice(&jws.payload).ok()?;
    if claims.iss != issuer {
        return None;
    }
    Subject::new(claims.sub).ok()
}
