//! The token endpoint (OIDC Core §3.1.3; RFC 6749 §4.1.3, §5, §6) as typed steps, in the style
//! of the authorization endpoint:
//!
//! ```text
//! TokenRequest::parse(params, authorization)          parse: credentials, grant (RFC 6749 §4.1.3, §6)
//!   └─ into_parts() → (Credentials, PendingGrant)       client authentication (client_auth)
//!        └─ PendingGrant::authenticated(client, &mint)  grant type allowed, signing key
//!             └─ AuthenticatedTokenRequest::into_step()
//!             ├─ GrantStep::RedeemCode(CodeRedemption)        await Storage::redeem_code
//!             │    ├─ claims_query(&redemption, config)       await ClaimsSource::claims_for
//!             │    └─ redeem(redemption, claims, mint)        §4.1.3 checks, PKCE, mint
//!             └─ GrantStep::Refresh(RefreshRequest)           await Storage::refresh_token
//!                  ├─ claims_query(&lookup, config)           await ClaimsSource::claims_for
//!                  └─ refresh(lookup, claims, mint) → RotateRefreshToken
//!                       └─ rotated(rotation)                  await Storage::rotate_refresh_token
//!                                                               (grace_since: the reuse window)
//!                                          ↓
//!                                  StoreTokens                await Storage::insert_tokens
//!                                    └─ stored(insertion) → TokenResponse
//! ```
//!
//! Every step either moves on or answers a [`Refusal`]: the error to send and, where the rules
//! say so, the grant to revoke first (a replayed code, a failed redemption of a fresh code, a
//! reused refresh token; RFC 6749 §4.1.2, RFC 9700 §4.14.2). The driver only awaits storage
//! between the steps and carries out what a refusal says.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::Serialize;

use crate::access_token::{TokenFacts, audience_of, mint_access_token, requested_resources};
use crate::binding::{ClientCertificate, Confirmation};
use crate::claims::{Claims, ClaimsQuery, ClaimsRequest, ClaimsTarget, releasable, release};
use crate::client::{Client, GrantType};
use crate::client_auth::{AuthenticatedClient, Credentials};
use crate::config::{AuthTimePolicy, Config};
use crate::error::{EndpointError, Reject};
use crate::id_token::{AuthEvent, Hashed};
use crate::jose::sign_jwt;
use crate::mint::Mint;
use crate::params::Params;
use crate::pkce::CodeVerifier;
use crate::secret::{AuthorizationCode, RefreshToken, SecretDigest};
use crate::storage::{
    AccessTokenRecord, CodeRecord, Insertion, Redemption, RefreshLookup, RefreshTokenRecord,
    Rotation,
};
use crate::value::{ClientId, GrantId, Nonce, Scope, Subject};

/// Step 1: a parsed token request whose client is not yet authenticated.
#[derive(Debug)]
pub struct TokenRequest {
    credentials: Credentials,
    /// Grant problems are reported only once the client is authenticated.
    grant: Result<Grant, Reject>,
}

impl TokenRequest {
    /// Parses the credentials (exactly one method, RFC 6749 §2.3) and the grant parameters.
    ///
    /// # Errors
    ///
    /// Credential errors from [`Credentials::parse`]. Grant errors (`invalid_request`,
    /// `unsupported_grant_type`, `invalid_scope`) wait for [`PendingGrant::authenticated`], so
    /// that an unauthenticated caller learns nothing about the grant.
    pub fn parse(params: &Params<'_>, authorization: Option<&str>) -> Result<Self, EndpointError> {
        Ok(Self {
            credentials: Credentials::parse(params, authorization)?,
            grant: Grant::parse(params),
        })
    }

    /// The client the request claims to come from; the driver looks it up.
    #[must_use]
    pub fn client_id(&self) -> &ClientId {
        self.credentials.client_id()
    }

    /// An error answered to this request (401 with a challenge for `invalid_client` after
    /// `Authorization: Basic`, RFC 6749 §5.2).
    #[must_use]
    pub fn error(&self, reject: Reject) -> EndpointError {
        self.credentials.error(reject)
    }

    /// Splits the request: the credentials go through client authentication
    /// ([`client_auth`](crate::client_auth)), the grant waits for its result.
    #[must_use]
    pub fn into_parts(self) -> (Credentials, PendingGrant) {
        (self.credentials, PendingGrant { grant: self.grant })
    }
}

/// Step 2: the grant of a token request whose client is being authenticated.
#[derive(Debug)]
pub struct PendingGrant {
    grant: Result<Grant, Reject>,
}

impl PendingGrant {
    /// Checks that the authenticated `client` may use the grant type and that its ID-token
    /// algorithm has a key.
    ///
    /// # Errors
    ///
    /// The grant's parse error; `unauthorized_client` ([`Reject::GrantTypeNotAllowed`]);
    /// `server_error` ([`Reject::SigningKeyUnavailable`]).
    pub fn authenticated(
        self,
        client: AuthenticatedClient,
        mint: &Mint<'_>,
    ) -> Result<AuthenticatedTokenRequest, EndpointError> {
        let grant = self.grant.map_err(|r| client.error(r))?;
        if !client.client().allows_grant(grant.grant_type()) {
            return Err(client.error(Reject::GrantTypeNotAllowed));
        }
        mint.signer(client.client().id_token_alg())
            .map_err(|r| client.error(r))?;
        // The FAPI profile's client authentication methods and algorithms (§5.2.2-14, §8.6).
        let fapi = crate::fapi::applies(client.client(), mint.config);
        if fapi && client.client().check_fapi().is_err() {
            return Err(client.error(Reject::FapiClientNotConforming));
        }
        Ok(AuthenticatedTokenRequest {
            client,
            grant,
            proved: Confirmation::default(),
            fapi,
        })
    }
}

/// The grant parameters (RFC 6749 §4.1.3, §6).
#[derive(Debug)]
enum Grant {
    AuthorizationCode {
        code: AuthorizationCode,
        redirect_uri: Option<String>,
        /// Checked for syntax only once the code is known to carry a challenge.
        code_verifier: Option<Result<CodeVerifier, Reject>>,
        resources: Vec<String>,
    },
    RefreshToken {
        refresh_token: RefreshToken,
        scope: Option<Scope>,
        resources: Vec<String>,
    },
}

impl Grant {
    fn parse(params: &Params<'_>) -> Result<Self, Reject> {
        match params.get("grant_type")? {
            None => Err(Reject::GrantTypeMissing),
            Some("authorization_code") => Ok(Self::AuthorizationCode {
                code: AuthorizationCode::new(params.get("code")?.ok_or(Reject::CodeMissing)?),
                redirect_uri: params.get("redirect_uri")?.map(String::from),
                code_verifier: params.get("code_verifier")?.map(CodeVerifier::parse),
                resources: requested_resources(params, None)?,
            }),
            Some("refresh_token") => Ok(Self::RefreshToken {
                refresh_token: RefreshToken::new(
                    params
                        .get("refresh_token")?
                        .ok_or(Reject::RefreshTokenMissing)?,
                ),
                scope: params.get("scope")?.map(Scope::parse).transpose()?,
                resources: requested_resources(params, None)?,
            }),
            Some(_) => Err(Reject::GrantTypeUnsupported),
        }
    }

    fn grant_type(&self) -> GrantType {
        match self {
            Self::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            Self::RefreshToken { .. } => GrantType::RefreshToken,
        }
    }
}

/// Step 3: an authenticated token request, ready to look up its code or refresh token.
#[derive(Debug)]
pub struct AuthenticatedTokenRequest {
    client: AuthenticatedClient,
    grant: Grant,
    /// What the request proved it holds: a DPoP key (RFC 9449 §5), a client certificate
    /// (RFC 8705 §3).
    proved: Confirmation,
    /// Whether the client is in the FAPI profile (its tokens must be sender-constrained).
    fapi: bool,
}

impl AuthenticatedTokenRequest {
    /// The authenticated client.
    #[must_use]
    pub fn client(&self) -> &AuthenticatedClient {
        &self.client
    }

    /// Step 3b: what the request proved it holds — the DPoP proof it carried, verified and
    /// recorded by the driver ([`dpop`](crate::dpop)), and the client certificate of its
    /// mutual-TLS connection. The access token is then bound to the DPoP key (RFC 9449 §5) and,
    /// for a client registered with `tls_client_certificate_bound_access_tokens`, to the
    /// certificate (RFC 8705 §3).
    ///
    /// # Errors
    ///
    /// [`Reject::DpopProofRequired`] without a proof from a client registered with
    /// `dpop_bound_access_tokens` (RFC 9449 §5.2); [`Reject::CertificateRequired`] without a
    /// certificate from one registered with `tls_client_certificate_bound_access_tokens`;
    /// [`Reject::FapiSenderConstraintRequired`] with neither from a client in the FAPI profile
    /// (§5.2.2-5).
    pub fn with_binding(
        mut self,
        proof: Option<crate::dpop::VerifiedProof>,
        certificate: Option<&ClientCertificate>,
    ) -> Result<Self, EndpointError> {
        let client = self.client.client();
        if proof.is_none() && client.requires_dpop() {
            return Err(self.client.error(Reject::DpopProofRequired));
        }
        if certificate.is_none() && client.binds_certificate() {
            return Err(self.client.error(Reject::CertificateRequired));
        }
        if self.fapi {
            crate::fapi::check_sender_constraint(proof.is_some(), certificate.is_some())
                .map_err(|r| self.client.error(r))?;
        }
        self.proved = Confirmation {
            jkt: proof.map(|p| p.jkt().into()),
            x5t_s256: certificate.map(|c| c.x5t_s256.clone()),
        };
        Ok(self)
    }

    /// What the driver must look up next.
    #[must_use]
    pub fn into_step(self) -> GrantStep {
        let (client, proved) = (self.client, self.proved);
        match self.grant {
            Grant::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
                resources,
            } => GrantStep::RedeemCode(CodeRedemption {
                client,
                digest: code.digest(),
                redirect_uri,
                code_verifier,
                resources,
                proved,
            }),
            Grant::RefreshToken {
                refresh_token,
                scope,
                resources,
            } => GrantStep::Refresh(RefreshRequest {
                client,
                digest: refresh_token.digest(),
                scope,
                resources,
                proved,
            }),
        }
    }
}

/// The storage operation a grant needs next.
#[derive(Debug)]
#[non_exhaustive]
pub enum GrantStep {
    /// `authorization_code`: await [`Storage::redeem_code`](crate::Storage::redeem_code) with
    /// [`CodeRedemption::digest`], then call [`CodeRedemption::redeem`].
    RedeemCode(CodeRedemption),
    /// `refresh_token`: await [`Storage::refresh_token`](crate::Storage::refresh_token) with
    /// [`RefreshRequest::digest`], then call [`RefreshRequest::refresh`].
    Refresh(RefreshRequest),
}

/// A refused token request: the error to answer and, if the rules demand it, the grant to
/// revoke before answering.
#[derive(Debug)]
#[must_use]
pub struct Refusal {
    error: EndpointError,
    revoke: Option<GrantId>,
}

impl Refusal {
    /// The grant to revoke (all its tokens) before answering, if any.
    #[must_use]
    pub fn grant_to_revoke(&self) -> Option<&GrantId> {
        self.revoke.as_ref()
    }

    /// The error to answer.
    #[must_use]
    pub fn error(&self) -> EndpointError {
        self.error
    }
}

impl From<EndpointError> for Refusal {
    fn from(error: EndpointError) -> Self {
        Self {
            error,
            revoke: None,
        }
    }
}

/// An authorization code being redeemed (RFC 6749 §4.1.3).
#[derive(Debug)]
pub struct CodeRedemption {
    client: AuthenticatedClient,
    digest: SecretDigest,
    redirect_uri: Option<String>,
    code_verifier: Option<Result<CodeVerifier, Reject>>,
    /// The `resource`s asked for (RFC 8707 §2.2), a subset of the grant's.
    resources: Vec<String>,
    /// What the request proved it holds (DPoP key, client certificate).
    proved: Confirmation,
}

impl CodeRedemption {
    /// The digest of the presented code.
    #[must_use]
    pub fn digest(&self) -> &SecretDigest {
        &self.digest
    }

    /// An error answered to this request.
    #[must_use]
    pub fn error(&self, reject: Reject) -> EndpointError {
        self.client.error(reject)
    }

    /// Decides on the outcome of [`Storage::redeem_code`](crate::Storage::redeem_code): checks
    /// a fresh code against the request and mints the tokens (OIDC Core §3.1.3.2, §3.3.3.6;
    /// RFC 6749 §4.1.3; RFC 7636 §4.6; REQUIREMENTS 109–120).
    ///
    /// The second ID token repeats `iss`, `sub`, `aud`, `nonce`, `auth_time`, `acr` and `amr` of
    /// the first (they come from the same [`CodeRecord`]); it carries `at_hash` for its access
    /// token and no `c_hash`.
    ///
    /// # Errors
    ///
    /// A [`Refusal`]: `invalid_grant` for an unknown code; for a replayed code
    /// ([`Reject::CodeReplayed`]) together with its grant to revoke (RFC 6749 §4.1.2); and for a
    /// fresh code that fails a check ([`Reject::CodeClientMismatch`], [`Reject::CodeExpired`],
    /// [`Reject::RedirectUriTokenMismatch`], PKCE) also with its grant to revoke: the code is
    /// spent and was in the wrong hands (decision 0003).
    pub fn redeem(
        self,
        redemption: Redemption,
        host: Option<Claims>,
        mint: Mint<'_>,
    ) -> Result<StoreTokens, Refusal> {
        let record = match redemption {
            Redemption::Fresh(record) => record,
            Redemption::Replayed(grant) => return Err(self.refuse(Reject::CodeReplayed, grant)),
            Redemption::Unknown => return Err(self.error(Reject::CodeUnknown).into()),
        };
        match self.check(&record, host.as_ref(), mint) {
            Ok(issued) => Ok(StoreTokens {
                client: self.client,
                issued,
                on_revoked: Reject::CodeReplayed,
            }),
            Err(reject) => Err(self.refuse(reject, record.grant_id)),
        }
    }

    fn refuse(&self, reject: Reject, grant: GrantId) -> Refusal {
        Refusal {
            error: self.error(reject),
            revoke: Some(grant),
        }
    }

    /// What to ask the host's [`ClaimsSource::claims_for`](crate::ClaimsSource::claims_for) for
    /// the ID token of a fresh code (`None`: nothing to ask: no ID token, or no releasable
    /// claim). Pass the answer to [`CodeRedemption::redeem`].
    #[must_use]
    pub fn claims_query(&self, redemption: &Redemption, config: &Config) -> Option<ClaimsQuery> {
        match redemption {
            Redemption::Fresh(record) => id_token_query(
                config,
                &record.subject,
                &record.client_id,
                &record.scope,
                &record.claims,
            ),
            _ => None,
        }
    }

    fn check(
        &self,
        record: &CodeRecord,
        host: Option<&Claims>,
        mint: Mint<'_>,
    ) -> Result<Issued, Reject> {
        let client = self.client.client();
        if &record.client_id != client.id() {
            return Err(Reject::CodeClientMismatch);
        }
        if record.expires_at <= mint.now {
            return Err(Reject::CodeExpired);
        }
        // The authorization request always carries redirect_uri (OIDC Core §3.1.2.1), so the
        // token request must repeat it exactly (RFC 6749 §4.1.3).
        if self.redirect_uri.as_deref() != Some(record.redirect_uri.as_str()) {
            return Err(Reject::RedirectUriTokenMismatch);
        }
        let verifier = self
            .code_verifier
            .as_ref()
            .map(|v| v.as_ref().map_err(|r| *r));
        crate::pkce::verify(record.code_challenge.as_ref(), verifier)?;
        // A code bound to a DPoP key with dpop_jkt is redeemed with that key (RFC 9449 §10).
        if record.dpop_jkt.is_some() && record.dpop_jkt != self.proved.jkt {
            return Err(Reject::DpopKeyMismatch);
        }
        let resources = narrowed(&self.resources, &record.resources)?;
        let facts = GrantFacts {
            grant_id: &record.grant_id,
            client_id: &record.client_id,
            subject: &record.subject,
            scope: &record.scope,
            auth_time: record.auth_time,
            auth_time_required: record.auth_time_required,
            nonce: record.nonce.as_ref().map(Nonce::as_str),
            acr: record.acr.as_deref(),
            amr: &record.amr,
            resources,
            grant_resources: &record.resources,
            claims: &record.claims,
            host,
            pairwise_subject: record.pairwise_subject.as_ref(),
            sid: record.sid.as_ref(),
            chain_expires_at: mint
                .config
                .refresh_token_max_lifetime
                .map(|max| mint.now.saturating_add_secs(max)),
            proved: &self.proved,
        };
        // Decision 0018: the approval decided; the client must still have the grant type.
        let refresh = record.refresh_token && client.allows_grant(GrantType::RefreshToken);
        mint_tokens(&facts, refresh, client, mint)
    }
}

/// A refresh request (RFC 6749 §6).
#[derive(Debug)]
pub struct RefreshRequest {
    client: AuthenticatedClient,
    digest: SecretDigest,
    scope: Option<Scope>,
    /// The `resource`s asked for (RFC 8707 §2.2), a subset of the grant's.
    resources: Vec<String>,
    /// What the request proved it holds (DPoP key, client certificate).
    proved: Confirmation,
}

impl RefreshRequest {
    /// The digest of the presented refresh token.
    #[must_use]
    pub fn digest(&self) -> &SecretDigest {
        &self.digest
    }

    /// An error answered to this request.
    #[must_use]
    pub fn error(&self, reject: Reject) -> EndpointError {
        self.client.error(reject)
    }

    /// Decides on the outcome of [`Storage::refresh_token`](crate::Storage::refresh_token) and
    /// mints the tokens of the refresh: a new access token, a rotated refresh token and an ID
    /// token with the original `auth_time` and no `nonce` (RFC 6749 §6; OIDC Core §12.2;
    /// REQUIREMENTS 135–138).
    ///
    /// # Errors
    ///
    /// A [`Refusal`]: [`Reject::RefreshTokenReused`] with the grant to revoke for a retired
    /// token, or a rotated one outside the reuse grace window (RFC 9700 §4.14.2; a rotated
    /// token inside it is refreshed again, decision 0018); [`Reject::RefreshTokenInvalid`] if
    /// the token is unknown or bound to another client; [`Reject::ScopeNotAllowed`] if `scope`
    /// widens the grant; `server_error` if minting fails.
    pub fn refresh(
        self,
        lookup: RefreshLookup,
        host: Option<Claims>,
        mint: Mint<'_>,
    ) -> Result<RotateRefreshToken, Refusal> {
        let grace = mint.config.refresh_token_reuse_grace;
        let record = match lookup {
            RefreshLookup::Live(record) => record,
            RefreshLookup::Rotated(record, rotated_at)
                if grace > 0 && mint.now < rotated_at.saturating_add_secs(grace) =>
            {
                record
            }
            RefreshLookup::Rotated(record, _) => {
                return Err(Refusal {
                    error: self.error(Reject::RefreshTokenReused),
                    revoke: Some(record.grant_id),
                });
            }
            RefreshLookup::Retired(grant) => {
                return Err(Refusal {
                    error: self.error(Reject::RefreshTokenReused),
                    revoke: Some(grant),
                });
            }
            RefreshLookup::Unknown => return Err(self.error(Reject::RefreshTokenInvalid).into()),
        };
        let (issued, refresh) = self
            .mint(&record, host.as_ref(), mint)
            .map_err(|r| Refusal::from(self.error(r)))?;
        // The window opens at the first rotation: `now - grace` (never before the epoch).
        let grace_since = (grace > 0)
            .then(|| crate::clock::UnixTime::from_secs(mint.now.as_secs().saturating_sub(grace)));
        Ok(RotateRefreshToken {
            old: self.digest,
            new: refresh,
            grace_since,
            then: StoreTokens {
                client: self.client,
                issued,
                on_revoked: Reject::RefreshTokenReused,
            },
        })
    }

    /// What to ask the host's [`ClaimsSource::claims_for`](crate::ClaimsSource::claims_for) for
    /// the refreshed ID token (`None`: nothing to ask). Pass the answer to
    /// [`RefreshRequest::refresh`].
    #[must_use]
    pub fn claims_query(&self, lookup: &RefreshLookup, config: &Config) -> Option<ClaimsQuery> {
        match lookup {
            RefreshLookup::Live(record) | RefreshLookup::Rotated(record, _) => {
                let scope = self.scope.as_ref().unwrap_or(&record.scope);
                id_token_query(
                    config,
                    &record.subject,
                    &record.client_id,
                    scope,
                    &record.claims,
                )
            }
            _ => None,
        }
    }

    fn mint(
        &self,
        record: &RefreshTokenRecord,
        host: Option<&Claims>,
        mint: Mint<'_>,
    ) -> Result<(Issued, RefreshTokenRecord), Reject> {
        let client = self.client.client();
        if &record.client_id != client.id() {
            return Err(Reject::RefreshTokenInvalid);
        }
        // A bound refresh token is refreshed with its key or certificate (RFC 9449 §5,
        // RFC 8705 §4).
        let proved = &self.proved;
        (record.confirmation).check(proved.jkt.as_deref(), proved.x5t_s256.as_deref())?;
        let scope = match &self.scope {
            Some(requested) if !requested.is_subset_of(&record.scope) => {
                return Err(Reject::ScopeNotAllowed);
            }
            Some(requested) => requested.clone(),
            None => record.scope.clone(),
        };
        let facts = GrantFacts {
            grant_id: &record.grant_id,
            client_id: &record.client_id,
            subject: &record.subject,
            scope: &scope,
            auth_time: record.auth_time,
            auth_time_required: record.auth_time_required,
            nonce: None,
            acr: record.acr.as_deref(),
            amr: &record.amr,
            resources: narrowed(&self.resources, &record.resources)?,
            grant_resources: &record.resources,
            claims: &record.claims,
            host,
            pairwise_subject: record.pairwise_subject.as_ref(),
            sid: record.sid.as_ref(),
            chain_expires_at: record.chain_expires_at,
            proved: &self.proved,
        };
        let mut issued = mint_tokens(&facts, true, client, mint)?;
        // Stored by the rotation, not with the access token.
        let mut refresh = issued.refresh.take().ok_or(Reject::ServerError)?;
        // A narrowed access token, but the refresh chain keeps the grant's scope (RFC 6749 §6).
        refresh.scope = record.scope.clone();
        Ok((issued, refresh))
    }
}

/// A refresh whose new tokens are minted: the old refresh token must be retired and the new
/// one stored in its place, atomically.
#[derive(Debug)]
pub struct RotateRefreshToken {
    old: SecretDigest,
    new: RefreshTokenRecord,
    grace_since: Option<crate::clock::UnixTime>,
    then: StoreTokens,
}

impl RotateRefreshToken {
    /// The digest of the refresh token to retire.
    #[must_use]
    pub fn old(&self) -> &SecretDigest {
        &self.old
    }

    /// The record of the refresh token that replaces it.
    #[must_use]
    pub fn new_token(&self) -> &RefreshTokenRecord {
        &self.new
    }

    /// The start of the reuse grace window to pass to
    /// [`Storage::rotate_refresh_token`](crate::Storage::rotate_refresh_token) (`None`: no
    /// window, `Config::refresh_token_reuse_grace` is 0).
    #[must_use]
    pub fn grace_since(&self) -> Option<crate::clock::UnixTime> {
        self.grace_since
    }

    /// An error answered to this request.
    #[must_use]
    pub fn error(&self, reject: Reject) -> EndpointError {
        self.then.client.error(reject)
    }

    /// Decides on the outcome of
    /// [`Storage::rotate_refresh_token`](crate::Storage::rotate_refresh_token).
    ///
    /// # Errors
    ///
    /// A [`Refusal`]: [`Reject::RefreshTokenReused`] with the grant to revoke when a concurrent
    /// request rotated the token first (RFC 9700 §4.14.2); [`Reject::RefreshTokenInvalid`] if it
    /// vanished meanwhile.
    pub fn rotated(self, rotation: Rotation) -> Result<StoreTokens, Refusal> {
        match rotation {
            Rotation::Rotated(_) => Ok(self.then),
            Rotation::Reused(grant) => Err(Refusal {
                error: self.error(Reject::RefreshTokenReused),
                revoke: Some(grant),
            }),
            Rotation::Unknown => Err(self.error(Reject::RefreshTokenInvalid).into()),
        }
    }
}

/// Minted tokens whose records must be stored (with a check that the grant is still live)
/// before the response leaves.
#[derive(Debug)]
pub struct StoreTokens {
    client: AuthenticatedClient,
    issued: Issued,
    /// The answer if the grant was revoked meanwhile (a concurrent replay or reuse).
    on_revoked: Reject,
}

impl StoreTokens {
    /// The access token's record.
    #[must_use]
    pub fn access(&self) -> &AccessTokenRecord {
        &self.issued.access
    }

    /// The refresh token's record, if one is stored with the access token (code redemption).
    #[must_use]
    pub fn refresh(&self) -> Option<&RefreshTokenRecord> {
        self.issued.refresh.as_ref()
    }

    /// An error answered to this request.
    #[must_use]
    pub fn error(&self, reject: Reject) -> EndpointError {
        self.client.error(reject)
    }

    /// Decides on the outcome of [`Storage::insert_tokens`](crate::Storage::insert_tokens): the
    /// response, or the refusal when the grant was revoked meanwhile.
    ///
    /// # Errors
    ///
    /// [`Reject::CodeReplayed`] / [`Reject::RefreshTokenReused`] on
    /// [`Insertion::GrantRevoked`].
    pub fn stored(self, insertion: Insertion) -> Result<TokenResponse, EndpointError> {
        match insertion {
            Insertion::Stored => Ok(self.issued.response),
            Insertion::GrantRevoked => Err(self.client.error(self.on_revoked)),
        }
    }
}

/// A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3). `Debug` is redacted.
#[derive(Clone, Serialize)]
pub struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    scope: String,
}

impl TokenResponse {
    /// The JSON body; send it with `Cache-Control: no-store` and `Pragma: no-cache`
    /// (RFC 6749 §5.1).
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serialising plain strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The access token.
    #[must_use]
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// The refresh token, if issued.
    #[must_use]
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref()
    }

    /// The ID token, if issued.
    #[must_use]
    pub fn id_token(&self) -> Option<&str> {
        self.id_token.as_deref()
    }

    /// `Bearer`, or `DPoP` for a token bound to the request's DPoP key (RFC 9449 §5).
    #[must_use]
    pub fn token_type(&self) -> &str {
        self.token_type
    }

    /// The granted scope.
    #[must_use]
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The access token lifetime in seconds.
    #[must_use]
    pub fn expires_in(&self) -> u64 {
        self.expires_in
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("scope", &self.scope)
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// Tokens minted at the token endpoint: the response and the records to store first.
#[derive(Debug)]
struct Issued {
    response: TokenResponse,
    access: AccessTokenRecord,
    refresh: Option<RefreshTokenRecord>,
}

/// What a grant knows about its authentication, for minting tokens.
struct GrantFacts<'a> {
    grant_id: &'a GrantId,
    client_id: &'a ClientId,
    subject: &'a Subject,
    scope: &'a Scope,
    auth_time: crate::clock::UnixTime,
    auth_time_required: bool,
    nonce: Option<&'a str>,
    acr: Option<&'a str>,
    amr: &'a [String],
    /// The resources (RFC 8707) the access token is for; empty: the client.
    resources: &'a [String],
    /// The resources the grant was authorized for, kept by the refresh token.
    grant_resources: &'a [String],
    /// The grant's `claims` request.
    claims: &'a ClaimsRequest,
    /// The host's answer to the ID token's [`ClaimsQuery`], if one was asked.
    host: Option<&'a Claims>,
    /// The `sub` the client sees, when pairwise (OIDC Core §8.1).
    pairwise_subject: Option<&'a Subject>,
    /// The OP session of the grant (the ID token's `sid`).
    sid: Option<&'a crate::session::SessionId>,
    /// The end of the refresh-token chain (absolute lifetime), if capped.
    chain_expires_at: Option<crate::clock::UnixTime>,
    /// What the request proved it holds: the access token (and a public client's refresh
    /// token) is bound to it.
    proved: &'a Confirmation,
}

/// The resources an access token is for: those asked for at the token endpoint, which must all
/// have been authorized for the grant ([`Reject::ResourceNotGranted`], RFC 8707 §2.2), or
/// else every resource of the grant.
fn narrowed<'a>(asked: &'a [String], granted: &'a [String]) -> Result<&'a [String], Reject> {
    if asked.is_empty() {
        return Ok(granted);
    }
    if asked.iter().all(|r| granted.contains(r)) {
        Ok(asked)
    } else {
        Err(Reject::ResourceNotGranted)
    }
}

/// The query for the claims of an ID token issued at the token endpoint, if it may carry any.
fn id_token_query(
    config: &Config,
    subject: &Subject,
    client_id: &ClientId,
    scope: &Scope,
    claims: &ClaimsRequest,
) -> Option<ClaimsQuery> {
    if !scope.contains(Scope::OPENID) {
        return None;
    }
    let policy = (&config.scope_claims[..], &config.claims_supported[..]);
    let releasable = releasable(policy, ClaimsTarget::IdToken, scope, Some(claims));
    (!releasable.is_empty()).then(|| ClaimsQuery {
        subject: subject.clone(),
        client_id: client_id.clone(),
        scope: scope.clone(),
        target: ClaimsTarget::IdToken,
        releasable,
        locales: claims.locales().to_vec(),
    })
}

fn mint_tokens(
    facts: &GrantFacts<'_>,
    refresh: bool,
    client: &Client,
    mint: Mint<'_>,
) -> Result<Issued, Reject> {
    let config = mint.config;
    let now = mint.now;
    let alg = client.id_token_alg();
    let auth_time = (facts.auth_time_required || config.auth_time == AuthTimePolicy::Always)
        .then_some(facts.auth_time);
    let scope = facts.scope.to_string();
    let audience = audience_of(facts.resources, facts.client_id.as_str());
    let sub = facts.pairwise_subject.unwrap_or(facts.subject);
    // The DPoP key always; the certificate for clients that asked (RFC 8705 §3.4).
    let confirmation = Confirmation {
        jkt: facts.proved.jkt.clone(),
        x5t_s256: (facts.proved.x5t_s256.clone())
            .filter(|_| client.binds_certificate() || crate::fapi::applies(client, config)),
    };
    let token_facts = TokenFacts {
        subject: sub.as_str(),
        client_id: facts.client_id.as_str(),
        audience: &audience,
        scope: &scope,
        lifetime: config.access_token_lifetime,
        auth_time,
        acr: facts.acr,
        confirmation: &confirmation,
    };
    let access = mint_access_token(client.access_token_format(), &token_facts, alg, &mint)?;
    let refresh_token = if refresh {
        Some(RefreshToken::generate(mint.rng).map_err(|_| Reject::ServerError)?)
    } else {
        None
    };
    let id_token = if facts.scope.contains(Scope::OPENID) {
        let signer = mint.signer(alg)?;
        let event = AuthEvent {
            issuer: &config.issuer,
            subject: sub.as_str(),
            client_id: facts.client_id.as_str(),
            auth_time,
            nonce: facts.nonce,
            acr: facts.acr,
            amr: facts.amr,
            sid: facts.sid.map(crate::session::SessionId::as_str),
        };
        let hashed = Hashed {
            access_token: Some(access.expose()),
            ..Hashed::default()
        };
        let mut claims = event.claims(now, config.id_token_lifetime, alg, hashed);
        let query = id_token_query(
            config,
            facts.subject,
            facts.client_id,
            facts.scope,
            facts.claims,
        );
        if let (Some(query), Some(host)) = (query, facts.host) {
            claims.extra = release(&query, Some(facts.claims), host);
        }
        Some(sign_jwt(signer, &claims, mint.rng).map_err(|_| Reject::ServerError)?)
    } else {
        None
    };
    let access_record = AccessTokenRecord {
        digest: access.digest(),
        grant_id: facts.grant_id.clone(),
        client_id: facts.client_id.clone(),
        subject: facts.subject.clone(),
        scope: facts.scope.clone(),
        issued_at: now,
        expires_at: now.saturating_add_secs(config.access_token_lifetime),
        audience: facts.resources.to_vec(),
        claims: facts.claims.clone(),
        pairwise_subject: facts.pairwise_subject.cloned(),
        confirmation: confirmation.clone(),
    };
    let sliding = now.saturating_add_secs(config.refresh_token_lifetime);
    let refresh_record = refresh_token.as_ref().map(|token| RefreshTokenRecord {
        digest: token.digest(),
        grant_id: facts.grant_id.clone(),
        client_id: facts.client_id.clone(),
        subject: facts.subject.clone(),
        scope: facts.scope.clone(),
        auth_time: facts.auth_time,
        auth_time_required: facts.auth_time_required,
        acr: facts.acr.map(String::from),
        amr: facts.amr.to_vec(),
        issued_at: now,
        expires_at: facts
            .chain_expires_at
            .map_or(sliding, |end| end.min(sliding)),
        chain_expires_at: facts.chain_expires_at,
        resources: facts.grant_resources.to_vec(),
        claims: facts.claims.clone(),
        pairwise_subject: facts.pairwise_subject.cloned(),
        // A public client's refresh token is bound to its DPoP key (RFC 9449 §5); a
        // confidential client's is bound to the client by its authentication.
        confirmation: if client.is_public() {
            confirmation.clone()
        } else {
            Confirmation::default()
        },
        sid: facts.sid.cloned(),
    });
    let response = TokenResponse {
        access_token: access.expose().to_string(),
        token_type: if confirmation.jkt.is_some() {
            "DPoP"
        } else {
            "Bearer"
        },
        expires_in: config.access_token_lifetime,
        refresh_token: refresh_token.as_ref().map(|t| t.expose().to_string()),
        id_token,
        scope,
    };
    Ok(Issued {
        response,
        access: access_record,
        refresh: refresh_record,
    })
}

/// A list of grant types, for discovery.
pub(crate) fn grant_types_supported() -> Vec<&'static str> {
    alloc::vec!["authorization_code", "implicit", "refresh_token"]
}
