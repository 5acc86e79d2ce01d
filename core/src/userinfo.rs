//! UserInfo (OIDC Core §5.3) as typed steps: [`UserInfoRequest::parse`] reads the access token
//! (RFC 6750 §2; or the `DPoP` scheme with its proof, RFC 9449 §7.1), the driver verifies the
//! proof ([`dpop`](crate::dpop)), [`UserInfoRequest::authorize`] decides on the token's stored
//! record and what the request proved (DPoP key, client certificate), and
//! [`AuthorizedUserInfo::release`] selects the claims its scope releases (OIDC Core §5.4).

use alloc::string::String;
use core::future::Future;

use serde_json::Value;

use crate::binding::{ClientCertificate, Presented};
use crate::claims::{ClaimsQuery, ClaimsTarget, releasable, release};
use crate::config::Config;
use crate::dpop::{ProofTarget, VerifiedProof};
use crate::error::{EndpointError, Reject};
use crate::params::Params;
use crate::secret::{AccessToken, SecretDigest};
use crate::storage::AccessTokenRecord;
use crate::value::{Scope, Subject};

pub use crate::claims::{Claims, SCOPE_CLAIMS};

/// The host's source of End-User claims (its user directory): asked by the driver for UserInfo
/// and for the token endpoint's ID tokens; the core decides what is released
/// ([`claims`](crate::claims)).
///
/// # Example
///
/// ```
/// use oidc_hybrid::userinfo::{Claims, ClaimsSource};
/// use oidc_hybrid::Subject;
///
/// struct Directory;
///
/// impl ClaimsSource for Directory {
///     type Error = core::convert::Infallible;
///     async fn claims(&self, subject: &Subject) -> Result<Option<Claims>, Self::Error> {
///         let mut claims = Claims::new();
///         claims.insert("name".into(), format!("User {subject}").into());
///         claims.insert("roles".into(), serde_json::json!(["admin"]));
///         Ok(Some(claims))
///     }
/// }
/// ```
pub trait ClaimsSource: Send + Sync {
    /// The source's error type.
    type Error: core::error::Error + Send + Sync + 'static;

    /// All claims of `subject`; the core selects what is released. `Ok(None)` if the End-User
    /// no longer exists.
    fn claims(
        &self,
        subject: &Subject,
    ) -> impl Future<Output = Result<Option<Claims>, Self::Error>> + Send;

    /// The claims of one End-User for one client, scope and target (UserInfo or an ID token):
    /// `query.releasable` names what the core may release (standard claims by scope, custom
    /// scope claims, the claims requested with the `claims` parameter), so a host can look up
    /// only those, or decide per client. The default answers [`ClaimsSource::claims`]. Whatever
    /// it answers, the core releases only releasable, non-protected claims.
    fn claims_for<'a>(
        &'a self,
        query: &'a ClaimsQuery,
    ) -> impl Future<Output = Result<Option<Claims>, Self::Error>> + Send + 'a {
        self.claims(&query.subject)
    }
}

/// A [`ClaimsSource`] without any claims: ID tokens then carry only the core's claims.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoClaims;

impl ClaimsSource for NoClaims {
    type Error = core::convert::Infallible;

    async fn claims(&self, _: &Subject) -> Result<Option<Claims>, Self::Error> {
        Ok(Some(Claims::new()))
    }
}

/// The claims `scope` releases from `all` in UserInfo without a `claims` request or custom
/// scopes, always with `sub` set to `subject` (OIDC Core §5.3.2, §5.4).
#[must_use]
pub fn select_claims(scope: &Scope, subject: &Subject, all: &Claims) -> Claims {
    let mut out = Claims::new();
    out.insert("sub".into(), Value::String(subject.as_str().into()));
    for (scope_value, names) in SCOPE_CLAIMS {
        if scope.contains(scope_value) {
            for name in names {
                if let Some(value) = all.get(*name).filter(|v| !v.is_null()) {
                    out.insert((*name).into(), value.clone());
                }
            }
        }
    }
    out
}

/// Step 1: a UserInfo request's access token (OIDC Core §5.3.1) and, with the `DPoP` scheme,
/// its proof (RFC 9449 §7.1).
#[derive(Debug)]
pub struct UserInfoRequest {
    token: AccessToken,
    /// The proof of a `DPoP`-scheme request (the driver verifies it; [`DpopProof`]).
    ///
    /// [`DpopProof`]: crate::dpop::DpopProof
    proof: Option<String>,
    /// Whether the `DPoP` scheme was used.
    dpop: bool,
}

impl UserInfoRequest {
    /// Reads the access token: `Authorization: Bearer` or `Authorization: DPoP` header (with
    /// exactly one `DPoP` proof header) or `access_token` form parameter, exactly one
    /// (RFC 6750 §2.1, §2.2, §2; RFC 9449 §7.1; the query method is refused, RFC 9700 §4.3.2).
    ///
    /// # Errors
    ///
    /// `invalid_request` (missing: with a bare `Bearer` challenge; sent twice; malformed header);
    /// `invalid_dpop_proof` (the `DPoP` scheme without one well-formed proof).
    pub fn parse<'a>(
        presented: impl Into<Presented<'a>>,
        body: Option<&Params<'_>>,
    ) -> Result<Self, EndpointError> {
        let presented = presented.into();
        let err = |reject| EndpointError::new(reject, false);
        let from_body = match body {
            Some(params) => params.get("access_token").map_err(err)?,
            None => None,
        };
        let (token, dpop) = match (presented.authorization(), from_body) {
            (Some(_), Some(_)) => return Err(err(Reject::InvalidTokenMultipleMethods)),
            (None, None) => return Err(err(Reject::TokenMissing)),
            (None, Some(token)) => (token, false),
            (Some(header), None) => token_header(header).map_err(err)?,
        };
        let proof = match (dpop, presented.dpop()) {
            (false, _) => None,
            (true, None) => return Err(err(Reject::DpopProofRequired).dpop_challenge()),
            (true, Some(proof)) => Some(proof.into()),
        };
        Ok(Self {
            token: AccessToken::new(token),
            proof,
            dpop,
        })
    }

    /// The presented token.
    #[must_use]
    pub fn token(&self) -> &AccessToken {
        &self.token
    }

    /// The digest of the presented token; the driver looks it up.
    #[must_use]
    pub fn digest(&self) -> SecretDigest {
        self.token.digest()
    }

    /// The DPoP proof to verify (`DPoP` scheme only).
    #[must_use]
    pub fn proof(&self) -> Option<&str> {
        self.proof.as_deref()
    }

    /// The request the proof must name: `method` (`POST` when unknown) at `uri` (this
    /// UserInfo endpoint's URL), with the token's hash (`ath`, RFC 9449 §4.3 step 11).
    #[must_use]
    pub fn proof_target<'a>(&'a self, method: Option<&'a str>, uri: &'a str) -> ProofTarget<'a> {
        ProofTarget {
            access_token: Some(self.token.expose()),
            ..ProofTarget::new(method, uri)
        }
    }

    /// This request's error (challenged with `DPoP` when the request used that scheme).
    #[must_use]
    pub fn error(&self, reject: Reject) -> EndpointError {
        let error = EndpointError::new(reject, false);
        if self.dpop {
            error.dpop_challenge()
        } else {
            error
        }
    }

    /// Step 2: decides on the outcome of
    /// [`Storage::access_token`](crate::Storage::access_token), the verified DPoP proof and
    /// the client certificate of the connection: a token bound to a key or certificate is
    /// accepted only with it, and only with the `DPoP` scheme for a DPoP key; the `DPoP`
    /// scheme only for a DPoP-bound token (RFC 9449 §7.1, RFC 8705 §3).
    ///
    /// # Errors
    ///
    /// `invalid_token` (401) for an unknown, expired or revoked token or one presented without
    /// its binding; `insufficient_scope` (403) for a token without `openid` (OIDC Core §5.3).
    pub fn authorize(
        self,
        record: Option<AccessTokenRecord>,
        proof: Option<&VerifiedProof>,
        certificate: Option<&ClientCertificate>,
    ) -> Result<AuthorizedUserInfo, EndpointError> {
        let record = record.ok_or(self.error(Reject::TokenInvalid))?;
        let binding = &record.confirmation;
        // A DPoP-bound token is challenged with DPoP even when presented as a bearer token.
        let err = |reject| {
            let error = self.error(reject);
            if binding.jkt.is_some() {
                error.dpop_challenge()
            } else {
                error
            }
        };
        if self.dpop != binding.jkt.is_some() || (self.dpop && proof.is_none()) {
            return Err(err(Reject::TokenBindingMismatch));
        }
        binding
            .check(
                proof.map(VerifiedProof::jkt),
                certificate.map(|c| c.x5t_s256.as_str()),
            )
            .map_err(|_| err(Reject::TokenBindingMismatch))?;
        if !record.scope.contains(Scope::OPENID) {
            return Err(err(Reject::TokenScopeInsufficient));
        }
        Ok(AuthorizedUserInfo { record })
    }
}

/// Step 3: a UserInfo request with a live `openid` access token; the driver fetches the
/// End-User's claims from the host's [`ClaimsSource`].
#[derive(Debug)]
pub struct AuthorizedUserInfo {
    record: AccessTokenRecord,
}

impl AuthorizedUserInfo {
    /// The End-User whose claims are asked for.
    #[must_use]
    pub fn subject(&self) -> &Subject {
        &self.record.subject
    }

    /// What to ask the host's [`ClaimsSource::claims_for`]: the token's End-User, client and
    /// scope, and the names releasable in UserInfo.
    #[must_use]
    pub fn query(&self, config: &Config) -> ClaimsQuery {
        let request = Some(&self.record.claims);
        ClaimsQuery {
            subject: self.record.subject.clone(),
            client_id: self.record.client_id.clone(),
            scope: self.record.scope.clone(),
            target: ClaimsTarget::UserInfo,
            releasable: releasable(
                (&config.scope_claims, &config.claims_supported),
                ClaimsTarget::UserInfo,
                &self.record.scope,
                request,
            ),
            locales: self.record.claims.locales().to_vec(),
        }
    }

    /// The claims released from `all` (the [`ClaimsSource`]'s answer to [`Self::query`]), with
    /// `sub` (OIDC Core §5.3.2, §5.4, §5.5).
    ///
    /// # Errors
    ///
    /// `invalid_token` when the End-User no longer exists (`None`).
    pub fn release(
        self,
        query: &ClaimsQuery,
        all: Option<Claims>,
    ) -> Result<Claims, EndpointError> {
        let all = all.ok_or(EndpointError::new(Reject::TokenInvalid, false))?;
        let mut out = Claims::new();
        let sub = Value::String(self.record.client_subject().as_str().into());
        out.insert("sub".into(), sub);
        out.extend(release(query, Some(&self.record.claims), &all));
        Ok(out)
    }
}

/// The token of an `Authorization: Bearer` or `Authorization: DPoP` header, in `b64token`
/// syntax (RFC 6750 §2.1, RFC 9449 §7.1), and whether the scheme is `DPoP`.
fn token_header(header: &str) -> Result<(&str, bool), Reject> {
    let (scheme, token) = header
        .trim()
        .split_once(' ')
        .ok_or(Reject::MalformedAuthorizationHeader)?;
    let token = token.trim();
    let b64token = !token.is_empty()
        && token.len() <= 4096
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b));
    let dpop = scheme.eq_ignore_ascii_case("dpop");
    if !(dpop || scheme.eq_ignore_ascii_case("bearer")) || !b64token {
        return Err(Reject::MalformedAuthorizationHeader);
    }
    Ok((token, dpop))
}
