//! The async driver: strings the pure steps together over [`Storage`], [`Signer`]s, a [`Clock`]
//! and a [`SecureRandom`]. It reads the clock once per request and makes no protocol decision of
//! its own.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use crate::authorize::{Approval, AuthorizeRequest, BoundRequest, Consent, Mint, Session, Step};
use crate::clock::{Clock, UnixTime};
use crate::config::{Config, ConfigError, Rs256Policy};
use crate::discovery::ProviderMetadata;
use crate::error::{AuthorizeError, EndpointError, Reject};
use crate::jose::CompactJws;
use crate::params::Params;
use crate::random::SecureRandom;
use crate::response::AuthorizationResponse;
use crate::secret::SecretDigest;
use crate::signer::{Jwk, JwkSet, JwsAlgorithm, Signer};
use crate::storage::{Insertion, Redemption, RefreshLookup, Rotation, Storage};
use crate::token::{Credentials, Grant, TokenResponse};
use crate::userinfo::{Claims, ClaimsSource, bearer_token, select_claims};
use crate::value::{Scope, Subject};

/// A callback that sees internal failures (storage, signing, randomness, claims source) before
/// they are reduced to a detail-free `server_error`. Use it for logging; never show its text to
/// clients.
pub type ErrorObserver = fn(&dyn core::error::Error);

/// An OpenID Provider: configuration, keys, storage, clock and randomness.
pub struct Provider<S, C, R> {
    config: Config,
    storage: S,
    keys: Vec<Box<dyn Signer>>,
    retired: Vec<Jwk>,
    clock: C,
    rng: R,
    observer: Option<ErrorObserver>,
}

impl<S, C, R> fmt::Debug for Provider<S, C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.config.issuer)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl<S: Storage, C: Clock + Send + Sync, R: SecureRandom + Send + Sync> Provider<S, C, R> {
    /// A provider signing with `keys`. For each algorithm the first key listed is the active one;
    /// every key is published in the JWK set.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Keys`] without keys, without an RS256 key (OIDC Core §15.1, REQUIREMENTS
    /// 150) unless [`Config::rs256`] waives it, or with two keys sharing a `kid`;
    /// [`ConfigError::HashUnavailable`] for a key whose hash claims need SHA-384/SHA-512 when
    /// the `sha512` feature is off; lifetime errors from [`Config::check`].
    pub fn new(
        config: Config,
        storage: S,
        keys: Vec<Box<dyn Signer>>,
        clock: C,
        rng: R,
    ) -> Result<Self, ConfigError> {
        config.check()?;
        let rs256 = keys.iter().any(|k| k.algorithm() == JwsAlgorithm::RS256);
        if keys.is_empty() || (!rs256 && config.rs256 == Rs256Policy::Require) {
            return Err(ConfigError::Keys);
        }
        if keys.iter().any(|k| !k.algorithm().hash().is_built_in()) {
            return Err(ConfigError::HashUnavailable);
        }
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].iter().any(|other| other.key_id() == key.key_id()) {
                return Err(ConfigError::Keys);
            }
        }
        Ok(Self {
            config,
            storage,
            keys,
            retired: Vec::new(),
            clock,
            rng,
            observer: None,
        })
    }

    /// Publishes retired public keys in the JWK set (verifiers may still hold tokens they
    /// signed, OIDC Core §10.1.1).
    #[must_use]
    pub fn with_retired_keys(mut self, keys: Vec<Jwk>) -> Self {
        self.retired = keys;
        self
    }

    /// Sets the [`ErrorObserver`].
    #[must_use]
    pub fn with_error_observer(mut self, observer: ErrorObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The storage.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The current time, from the clock.
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// The active key for `alg`.
    pub fn signer_for(&self, alg: JwsAlgorithm) -> Option<&dyn Signer> {
        self.keys
            .iter()
            .find(|k| k.algorithm() == alg)
            .map(|k| &**k)
    }

    fn internal(&self, error: &dyn core::error::Error) -> Reject {
        if let Some(observer) = self.observer {
            observer(error);
        }
        Reject::ServerError
    }

    fn mint<'a>(&'a self, signer: &'a dyn Signer, now: UnixTime) -> Mint<'a> {
        Mint {
            config: &self.config,
            signer,
            rng: &self.rng,
            now,
        }
    }

    /// Steps 1–2 of an authorization: parse, look up the client, bind, verify `id_token_hint`.
    ///
    /// # Errors
    ///
    /// An [`AuthorizeError`] shown to the user (unknown client, bad redirect URI, unsupported
    /// response mode) or redirected to the client (everything else).
    pub async fn authorize(&self, params: &Params<'_>) -> Result<BoundRequest, AuthorizeError> {
        let now = self.clock.now();
        let request = AuthorizeRequest::parse(params, &self.config)?;
        let client = self
            .storage
            .client(request.client_id())
            .await
            .map_err(|e| AuthorizeError::show(self.internal(&e)))?
            .ok_or(AuthorizeError::show(Reject::ClientUnknown))?;
        let mut bound = request.bind(&client, &self.config, now)?;
        if let Some(hint) = bound.id_token_hint() {
            match self.verify_id_token_hint(hint) {
                Some(subject) => bound.set_hint_subject(subject),
                None => {
                    let response = bound
                        .clone()
                        .reject(Reject::IdTokenHintInvalid, &self.config.issuer);
                    return Err(AuthorizeError::redirect(
                        Reject::IdTokenHintInvalid,
                        response,
                    ));
                }
            }
        }
        Ok(bound)
    }

    /// Verifies an `id_token_hint`: one of our keys signed it and `iss` is ours; an expired hint
    /// is accepted (OIDC Core §3.1.2.2; REQUIREMENTS 43–44). Returns its `sub`.
    fn verify_id_token_hint(&self, hint: &str) -> Option<Subject> {
        #[derive(serde::Deserialize)]
        struct HintClaims {
            iss: alloc::string::String,
            sub: alloc::string::String,
        }
        let jws = CompactJws::parse(hint).ok()?;
        jws.verify_with(self.keys.iter().map(|k| &**k)).ok()?;
        let claims: HintClaims = serde_json::from_slice(&jws.payload).ok()?;
        if claims.iss != self.config.issuer {
            return None;
        }
        Subject::new(claims.sub).ok()
    }

    /// What the host must do next for `request` (see [`BoundRequest::next_step`]).
    ///
    /// # Errors
    ///
    /// Redirected `login_required` / `consent_required` / `account_selection_required` under
    /// `prompt=none`.
    pub fn next_step(
        &self,
        request: &BoundRequest,
        session: Option<&Session>,
        consent: Consent,
    ) -> Result<Step, AuthorizeError> {
        request.next_step(session, consent, &self.config.issuer)
    }

    /// Step 4: approve, persist the code (and front-channel token), return the response.
    ///
    /// # Errors
    ///
    /// Redirected errors from [`BoundRequest::approve`]; `server_error` if storing fails.
    pub async fn approve(
        &self,
        request: BoundRequest,
        approval: Approval,
    ) -> Result<AuthorizationResponse, AuthorizeError> {
        let now = self.clock.now();
        let Some(signer) = self.signer_for(request.id_token_alg()) else {
            let response = request.reject(Reject::SigningKeyUnavailable, &self.config.issuer);
            return Err(AuthorizeError::redirect(
                Reject::SigningKeyUnavailable,
                response,
            ));
        };
        let approved = request.approve(approval, self.mint(signer, now))?;
        if let Err(e) = self
            .storage
            .insert_code(&approved.code, approved.front_channel_token.as_ref())
            .await
        {
            let reject = self.internal(&e);
            return Err(crate::authorize::error_instead_of(
                &approved.response,
                reject,
                &self.config.issuer,
            ));
        }
        Ok(approved.response)
    }

    /// Refuses `request` with `access_denied`.
    pub fn deny(&self, request: BoundRequest) -> AuthorizationResponse {
        request.deny(&self.config.issuer)
    }

    /// The token endpoint: authenticate the client, then redeem a code or refresh
    /// (OIDC Core §3.1.3; RFC 6749 §4.1.3, §6, §10.5).
    ///
    /// A replayed code revokes its grant: every token issued from it stops working
    /// (RFC 6749 §4.1.2). A failed redemption of a fresh code (wrong client, redirect URI or PKCE
    /// verifier) also revokes the grant: the code is spent and was in the wrong hands. Reuse of a
    /// rotated refresh token revokes the grant (RFC 9700 §4.14.2).
    ///
    /// # Errors
    ///
    /// An [`EndpointError`]: status, `WWW-Authenticate` and JSON body per RFC 6749 §5.2.
    pub async fn token(
        &self,
        params: &Params<'_>,
        authorization: Option<&str>,
    ) -> Result<TokenResponse, EndpointError> {
        let now = self.clock.now();
        let credentials = Credentials::parse(params, authorization)?;
        let basic = credentials.used_header();
        let fail = |reject| EndpointError::new(reject, basic);
        let client = self
            .storage
            .client(credentials.client_id())
            .await
            .map_err(|e| fail(self.internal(&e)))?;
        credentials.authenticate(client.as_ref())?;
        let Some(client) = client else {
            return Err(fail(Reject::ClientAuthenticationFailed));
        };
        let grant = Grant::parse(params).map_err(fail)?;
        if !client.allows_grant(grant.grant_type()) {
            return Err(fail(Reject::GrantTypeNotAllowed));
        }
        let signer = self
            .signer_for(client.id_token_alg())
            .ok_or(fail(Reject::SigningKeyUnavailable))?;
        let mint = self.mint(signer, now);
        let store = |e: S::Error| fail(self.internal(&e));
        match grant {
            Grant::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                let record = match self
                    .storage
                    .redeem_code(&code.digest(), now)
                    .await
                    .map_err(store)?
                {
                    Redemption::Fresh(record) => record,
                    Redemption::Replayed(grant) => {
                        self.storage
                            .revoke_grant(&grant, now)
                            .await
                            .map_err(store)?;
                        return Err(fail(Reject::CodeReplayed));
                    }
                    Redemption::Unknown => return Err(fail(Reject::CodeUnknown)),
                };
                let issued = match crate::token::redeem_code(
                    &record,
                    &client,
                    redirect_uri.as_deref(),
                    code_verifier.as_deref(),
                    mint,
                ) {
                    Ok(issued) => issued,
                    Err(reject) => {
                        self.storage
                            .revoke_grant(&record.grant_id, now)
                            .await
                            .map_err(store)?;
                        return Err(fail(reject));
                    }
                };
                match self
                    .storage
                    .insert_tokens(&issued.access, issued.refresh.as_ref())
                    .await
                    .map_err(store)?
                {
                    Insertion::Stored => Ok(issued.response),
                    Insertion::GrantRevoked => Err(fail(Reject::CodeReplayed)),
                }
            }
            Grant::RefreshToken {
                refresh_token,
                scope,
            } => {
                let old = refresh_token.digest();
                let record = match self.storage.refresh_token(&old, now).await.map_err(store)? {
                    RefreshLookup::Live(record) => record,
                    RefreshLookup::Retired(grant) => {
                        self.storage
                            .revoke_grant(&grant, now)
                            .await
                            .map_err(store)?;
                        return Err(fail(Reject::RefreshTokenReused));
                    }
                    RefreshLookup::Unknown => return Err(fail(Reject::RefreshTokenInvalid)),
                };
                let issued =
                    crate::token::refresh(&record, &client, scope.as_ref(), mint).map_err(fail)?;
                let Some(new) = issued.refresh.as_ref() else {
                    return Err(fail(Reject::ServerError));
                };
                match self
                    .storage
                    .rotate_refresh_token(&old, new, now)
                    .await
                    .map_err(store)?
                {
                    Rotation::Rotated(_) => {}
                    Rotation::Reused(grant) => {
                        self.storage
                            .revoke_grant(&grant, now)
                            .await
                            .map_err(store)?;
                        return Err(fail(Reject::RefreshTokenReused));
                    }
                    Rotation::Unknown => return Err(fail(Reject::RefreshTokenInvalid)),
                }
                match self
                    .storage
                    .insert_tokens(&issued.access, None)
                    .await
                    .map_err(store)?
                {
                    Insertion::Stored => Ok(issued.response),
                    Insertion::GrantRevoked => Err(fail(Reject::RefreshTokenReused)),
                }
            }
        }
    }

    /// UserInfo (OIDC Core §5.3): the claims the token's scope releases, with `sub`.
    ///
    /// # Errors
    ///
    /// `invalid_request` (no token / two tokens), `invalid_token` (401), `insufficient_scope`
    /// (403, token without `openid`), `server_error`.
    pub async fn userinfo<Cs: ClaimsSource>(
        &self,
        source: &Cs,
        authorization: Option<&str>,
        body: Option<&Params<'_>>,
    ) -> Result<Claims, EndpointError> {
        let now = self.clock.now();
        let fail = |reject| EndpointError::new(reject, false);
        let token = bearer_token(authorization, body)?;
        let record = self
            .storage
            .access_token(&token.digest(), now)
            .await
            .map_err(|e| fail(self.internal(&e)))?
            .ok_or(fail(Reject::TokenInvalid))?;
        if !record.scope.contains(Scope::OPENID) {
            return Err(fail(Reject::TokenScopeInsufficient));
        }
        let all = source
            .claims(&record.subject)
            .await
            .map_err(|e| fail(self.internal(&e)))?
            .ok_or(fail(Reject::TokenInvalid))?;
        Ok(select_claims(&record.scope, &record.subject, &all))
    }

    /// Token revocation (RFC 7009 §2): revoking a refresh token revokes its whole grant;
    /// revoking an access token revokes that token. Tokens that are unknown, already revoked or
    /// issued to another client are answered with success and left alone (RFC 7009 §2.2: the
    /// response does not reveal whether the token existed).
    ///
    /// # Errors
    ///
    /// Client authentication errors, `invalid_request` without `token`, `server_error`.
    pub async fn revoke(
        &self,
        params: &Params<'_>,
        authorization: Option<&str>,
    ) -> Result<(), EndpointError> {
        let now = self.clock.now();
        let credentials = Credentials::parse(params, authorization)?;
        let fail = |reject| EndpointError::new(reject, credentials.used_header());
        let store = |e: S::Error| fail(self.internal(&e));
        let client = self
            .storage
            .client(credentials.client_id())
            .await
            .map_err(store)?;
        credentials.authenticate(client.as_ref())?;
        let token = params
            .get("token")
            .map_err(fail)?
            .ok_or(fail(Reject::RevocationTokenMissing))?;
        params.get("token_type_hint").map_err(fail)?;
        let digest = SecretDigest::of(token);
        if let RefreshLookup::Live(record) = self
            .storage
            .refresh_token(&digest, now)
            .await
            .map_err(store)?
        {
            if &record.client_id == credentials.client_id() {
                self.storage
                    .revoke_grant(&record.grant_id, now)
                    .await
                    .map_err(store)?;
            }
            return Ok(());
        }
        let access = self
            .storage
            .access_token(&digest, now)
            .await
            .map_err(store)?;
        if access.is_some_and(|record| &record.client_id == credentials.client_id()) {
            self.storage
                .revoke_access_token(&digest)
                .await
                .map_err(store)?;
        }
        Ok(())
    }

    /// The discovery document. `id_token_signing_alg_values_supported` lists exactly the
    /// algorithms of the configured keys, so RS256 appears only when an RS256 key is configured
    /// (always, unless [`Config::rs256`] waives it).
    pub fn discovery(&self) -> ProviderMetadata {
        let mut algorithms: Vec<JwsAlgorithm> = self.keys.iter().map(|k| k.algorithm()).collect();
        algorithms.sort_unstable();
        algorithms.dedup();
        ProviderMetadata::new(&self.config, algorithms)
    }

    /// The JWK set: every configured key's public half, then the retired keys.
    pub fn jwks(&self) -> JwkSet {
        let mut keys: Vec<Jwk> = self.keys.iter().map(|k| k.public_jwk()).collect();
        keys.extend(self.retired.iter().cloned());
        JwkSet { keys }
    }
}
