//! The async driver: strings the pure steps together over [`Storage`], [`Signer`]s, a [`Clock`]
//! and a [`SecureRandom`]. It reads the clock once per request and makes no protocol decision of
//! its own.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use crate::authorize::{Approval, AuthorizeRequest, BoundRequest, Consent, Session, Step};
use crate::binding::Presented;
use crate::client::Client;
use crate::client_auth::{AuthContext, AuthenticatedClient, Authentication, Credentials};
use crate::client_keys::{ClientJwks, FetchError, JwksFetcher, JwsVerifier};
use crate::clock::{Clock, UnixTime};
use crate::config::{Config, ConfigError};
use crate::discovery::ProviderMetadata;
use crate::dpop::{DpopProof, ProofContext, ProofTarget, VerifiedProof, jti_namespace};
use crate::error::{EndpointError, Reject};
use crate::introspection::{Introspection, IntrospectionRequest, IntrospectionStep};
use crate::keys::{KeySet, KeySource, KeysGuard};
use crate::logout::LogoutSender;
use crate::mint::Mint;
use crate::pairwise::{SectorFetcher, check_sector_document};
use crate::par::{PushRequest, PushStep, PushedResponse};
use crate::params::Params;
use crate::random::SecureRandom;
use crate::request_object::{AuthorizeInput, ObjectContext};
use crate::response::{AuthorizationResponse, AuthorizeError};
use crate::revocation::{RevocationRequest, RevocationStep};
use crate::signer::{Jwk, JwkSet, Signer};
use crate::storage::Storage;
use crate::token::{
    CodeRedemption, GrantStep, RefreshRequest, Refusal, StoreTokens, TokenRequest, TokenResponse,
};
use crate::userinfo::{Claims, ClaimsSource, NoClaims, UserInfoRequest};
use crate::value::ClientId;

/// A callback that sees internal failures (storage, signing, randomness, claims source) before
/// they are reduced to a detail-free `server_error`. Use it for logging; never show its text to
/// clients.
pub type ErrorObserver = fn(&dyn core::error::Error);

/// An OpenID Provider: configuration, keys, storage, clock and randomness.
pub struct Provider<S, C, R> {
    config: Config,
    storage: S,
    keys: Box<dyn KeySource>,
    retired: Vec<Jwk>,
    clock: C,
    rng: R,
    observer: Option<ErrorObserver>,
    verifier: Option<Box<dyn JwsVerifier>>,
    fetcher: Option<Box<dyn JwksFetcher>>,
    sector_fetcher: Option<Box<dyn SectorFetcher>>,
    logout_sender: Option<Box<dyn LogoutSender>>,
}

mod logout;

impl<S, C, R> fmt::Debug for Provider<S, C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.config.issuer)
            .field("keys", &self.keys.current())
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
        Self::from_key_source(config, storage, KeySet::new(keys), clock, rng)
    }

    /// A provider taking its signing keys from `source` at the start of every request, so the
    /// host can roll them over at runtime ([`keys`](crate::keys); e.g. an
    /// `Arc<SharedKeys>` the host keeps and updates).
    ///
    /// # Errors
    ///
    /// As for [`Provider::new`], on the source's current set ([`KeySet::check`]).
    pub fn from_key_source(
        config: Config,
        storage: S,
        source: impl KeySource + 'static,
        clock: C,
        rng: R,
    ) -> Result<Self, ConfigError> {
        config.check()?;
        source.current().check(config.rs256)?;
        Ok(Self {
            config,
            storage,
            keys: Box::new(source),
            retired: Vec::new(),
            clock,
            rng,
            observer: None,
            verifier: None,
            fetcher: None,
            sector_fetcher: None,
            logout_sender: None,
        })
    }

    /// Takes the signing keys from `source` at the start of every request instead of the fixed
    /// set given to [`Provider::new`]: the host can then roll keys over at runtime
    /// ([`keys`](crate::keys), e.g. with `SharedKeys`).
    ///
    /// # Errors
    ///
    /// As for [`KeySet::check`] on the source's current set.
    pub fn with_key_source(
        mut self,
        source: impl KeySource + 'static,
    ) -> Result<Self, ConfigError> {
        source.current().check(self.config.rs256)?;
        self.keys = Box::new(source);
        Ok(self)
    }

    /// Publishes retired public keys in the JWK set (verifiers may still hold tokens they
    /// signed, OIDC Core §10.1.1).
    #[must_use]
    pub fn with_retired_keys(mut self, keys: Vec<Jwk>) -> Self {
        self.retired = keys;
        self
    }

    /// Verifies clients' asymmetric signatures (`private_key_jwt`, signed request objects) with
    /// `verifier`; without one, `private_key_jwt` is neither offered nor accepted.
    #[must_use]
    pub fn with_jws_verifier(mut self, verifier: impl JwsVerifier + 'static) -> Self {
        self.verifier = Some(Box::new(verifier));
        self
    }

    /// Fetches clients' `jwks_uri` with `fetcher`; without one, clients that registered a
    /// `jwks_uri` cannot authenticate with their keys.
    #[must_use]
    pub fn with_jwks_fetcher(mut self, fetcher: impl JwksFetcher + 'static) -> Self {
        self.fetcher = Some(Box::new(fetcher));
        self
    }

    /// Fetches pairwise clients' `sector_identifier_uri` with `fetcher`, for
    /// [`Provider::verify_sector`].
    #[must_use]
    pub fn with_sector_fetcher(mut self, fetcher: impl SectorFetcher + 'static) -> Self {
        self.sector_fetcher = Some(Box::new(fetcher));
        self
    }

    /// Checks a client's `sector_identifier_uri`, if it registered one: the document it names
    /// must list every redirect URI of the client (OIDC Registration §5). Call it when a client
    /// is registered or its registration changes, before storing it.
    ///
    /// # Errors
    ///
    /// [`Reject::SectorIdentifierUnavailable`] when the document cannot be fetched (no fetcher,
    /// or the fetch failed: the observer sees why); [`Reject::SectorRedirectUriUnlisted`].
    pub async fn verify_sector(&self, client: &Client) -> Result<(), Reject> {
        let Some(uri) = client.metadata().sector_identifier_uri.as_deref() else {
            return Ok(());
        };
        let Some(fetcher) = &self.sector_fetcher else {
            return Err(Reject::SectorIdentifierUnavailable);
        };
        let listed = fetcher.fetch(uri).await.map_err(|e| {
            self.internal(&e);
            Reject::SectorIdentifierUnavailable
        })?;
        let uris: Vec<&str> = client.redirect_uris().iter().map(|r| r.as_str()).collect();
        check_sector_document(&listed, &uris)
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

    /// The current signing keys (one snapshot; [`KeySet::signer`] gives the active key of an
    /// algorithm).
    pub fn keys(&self) -> KeysGuard<'_> {
        self.keys.current()
    }

    fn internal(&self, error: &dyn core::error::Error) -> Reject {
        if let Some(observer) = self.observer {
            observer(error);
        }
        Reject::ServerError
    }

    fn mint<'a>(&'a self, now: UnixTime, keys: &'a KeySet) -> Mint<'a> {
        Mint {
            config: &self.config,
            keys,
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
        let show = |e: &dyn core::error::Error| AuthorizeError::show(self.internal(e));
        let (request, client) = match AuthorizeInput::classify(params)? {
            AuthorizeInput::Plain => {
                let request = AuthorizeRequest::parse(params, &self.config)?;
                let client = self.registered_client(request.client_id()).await?;
                (request, client)
            }
            AuthorizeInput::Pushed(reference) => {
                let record = self
                    .storage
                    .take_pushed_request(reference.digest(), now)
                    .await;
                let resolved = reference.resolve(record.map_err(|e| show(&e))?)?;
                let request = AuthorizeRequest::parse_resolved(&resolved, &self.config)?;
                let client = self.registered_client(request.client_id()).await?;
                (request, client)
            }
            AuthorizeInput::Object(object) => {
                let client = self.registered_client(object.client_id()).await?;
                let fetched = self
                    .client_jwks(object.jwks_uri(&client), object.kid())
                    .await;
                let fetched = fetched
                    .map_err(|_| AuthorizeError::show(Reject::RequestObjectKeysUnavailable))?;
                let verified =
                    object.verify(&client, fetched.as_ref(), &self.object_context(now))?;
                let fresh = self
                    .record_jti(verified.jti(), now)
                    .await
                    .map_err(|e| show(&e))?;
                let resolved = verified.recorded(fresh)?;
                (
                    AuthorizeRequest::parse_resolved(&resolved, &self.config)?,
                    client,
                )
            }
        };
        let keys = self.keys.current();
        request
            .bind(&client, &self.config, now)?
            .verify_id_token_hint(keys.trusted(now), &self.config.issuer)
    }

    /// The registered client with this id, or the shown `invalid_client` error.
    async fn registered_client(&self, id: &ClientId) -> Result<Client, AuthorizeError> {
        self.storage
            .client(id)
            .await
            .map_err(|e| AuthorizeError::show(self.internal(&e)))?
            .ok_or(AuthorizeError::show(Reject::ClientUnknown))
    }

    /// The client's JWK set from `jwks_uri` through the host's fetcher (`None` when nothing is
    /// to be fetched).
    async fn client_jwks(
        &self,
        uri: Option<&str>,
        kid: Option<&str>,
    ) -> Result<Option<ClientJwks>, FetchError> {
        let result = match (uri, &self.fetcher) {
            (None, _) => return Ok(None),
            (Some(uri), Some(fetcher)) => fetcher.fetch(uri, kid).await,
            (Some(_), None) => Err(FetchError::Unavailable),
        };
        result.map(Some).inspect_err(|e| {
            self.internal(e);
        })
    }

    /// Records a `jti` (single use across nodes); `true` when there is none to record.
    async fn record_jti(
        &self,
        jti: Option<(&ClientId, &str, UnixTime)>,
        now: UnixTime,
    ) -> Result<bool, S::Error> {
        match jti {
            Some((client, jti, until)) => self.storage.record_jti(client, jti, until, now).await,
            None => Ok(true),
        }
    }

    /// A DPoP proof's steps (RFC 9449 §4.3; [`dpop`](crate::dpop)): decode, verify against
    /// `target`, record its `jti` (single use across nodes). `None` without a proof; `error`
    /// shapes the endpoint's answer.
    async fn dpop(
        &self,
        proof: Option<&str>,
        target: ProofTarget<'_>,
        now: UnixTime,
        error: impl Fn(Reject) -> EndpointError,
    ) -> Result<Option<VerifiedProof>, EndpointError> {
        let Some(proof) = proof else {
            return Ok(None);
        };
        let context = ProofContext {
            now,
            config: &self.config,
            verifier: self.verifier.as_deref(),
        };
        let check = DpopProof::parse(proof)
            .and_then(|proof| proof.verify(&target, &context))
            .map_err(&error)?;
        let fresh = self
            .storage
            .record_jti(&jti_namespace(), check.jti(), check.until(), now)
            .await;
        let fresh = fresh.map_err(|e| error(self.internal(&e)))?;
        check.recorded(fresh).map(Some).map_err(error)
    }

    /// A fresh server nonce for the `DPoP-Nonce` header (RFC 9449 §8), when the configuration
    /// demands nonces ([`Config::dpop_nonce_key`]): send it with every answer of the token,
    /// PAR and UserInfo endpoints, and always with `use_dpop_nonce` errors.
    pub fn dpop_nonce(&self) -> Option<alloc::string::String> {
        let key = self.config.dpop_nonce_key.as_ref()?;
        Some(crate::dpop::fresh_nonce(key, self.clock.now()))
    }

    fn object_context(&self, now: UnixTime) -> ObjectContext<'_> {
        ObjectContext {
            now,
            config: &self.config,
            verifier: self.verifier.as_deref(),
        }
    }

    /// The pushed authorization request endpoint (RFC 9126): the steps of
    /// [`par`](crate::par).
    ///
    /// # Errors
    ///
    /// An [`EndpointError`]: client authentication errors, the pushed request's error
    /// (`invalid_request`, `invalid_request_object`, …), `server_error`.
    pub async fn push<'a>(
        &self,
        params: &Params<'_>,
        presented: impl Into<Presented<'a>>,
    ) -> Result<PushedResponse, EndpointError> {
        let (now, presented) = (self.clock.now(), presented.into());
        let (credentials, pending) =
            PushRequest::parse(params, presented.authorization())?.into_parts();
        let endpoint = &self.config.pushed_authorization_request_endpoint;
        let client = self.authenticate_client(credentials, endpoint, &presented, now);
        let client = client.await?;
        let header = client.used_header();
        let fail = |e: &dyn core::error::Error| EndpointError::new(self.internal(e), header);
        let validate = match pending.authenticated(client)? {
            PushStep::Plain(validate) => validate,
            PushStep::Object(object) => {
                let fetched = self.client_jwks(object.jwks_uri(), object.kid()).await;
                let fetched =
                    fetched.map_err(|_| object.error(Reject::RequestObjectKeysUnavailable))?;
                let verified = object.verify(fetched.as_ref(), &self.object_context(now))?;
                let fresh = self
                    .record_jti(verified.jti(), now)
                    .await
                    .map_err(|e| fail(&e))?;
                verified.recorded(fresh)?
            }
        };
        let target = ProofTarget::new(presented.method(), endpoint);
        let proof = self.dpop(presented.dpop(), target, now, |r| validate.error(r));
        let proof = proof.await?;
        let validate = validate.with_proof(proof)?;
        let keys = self.keys.current();
        let (record, response) = validate.validate(&self.mint(now, &keys))?;
        let stored = self.storage.insert_pushed_request(&record).await;
        stored.map_err(|e| fail(&e))?;
        Ok(response)
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
        let keys = self.keys.current();
        let now = self.clock.now();
        let approved = request.approve(approval, self.mint(now, &keys))?;
        match self.store_approval(&approved, now).await {
            Ok(()) => Ok(approved.response),
            Err(reject) => Err(approved.failed(reject, &self.config.issuer)),
        }
    }

    /// Refuses `request` with `access_denied`.
    pub fn deny(&self, request: BoundRequest) -> AuthorizationResponse {
        request.deny(&self.config.issuer)
    }

    /// The token endpoint (OIDC Core §3.1.3; RFC 6749 §4.1.3, §6, §10.5): the steps of
    /// [`token`](crate::token), with the storage operations each one asks for.
    ///
    /// A replayed code revokes its grant: every token issued from it stops working
    /// (RFC 6749 §4.1.2). A failed redemption of a fresh code (wrong client, redirect URI or PKCE
    /// verifier) also revokes the grant: the code is spent and was in the wrong hands. Reuse of a
    /// rotated refresh token revokes the grant (RFC 9700 §4.14.2), unless the configured reuse
    /// grace window still covers it.
    ///
    /// # Errors
    ///
    /// An [`EndpointError`]: status, `WWW-Authenticate` and JSON body per RFC 6749 §5.2.
    pub async fn token<'a>(
        &self,
        params: &Params<'_>,
        presented: impl Into<Presented<'a>>,
    ) -> Result<TokenResponse, EndpointError> {
        self.token_with_claims(&NoClaims, params, presented).await
    }

    /// The token endpoint as [`Provider::token`], with End-User claims from the host's `source`
    /// in the ID token where the core releases them (custom scope claims, the `claims`
    /// parameter's `id_token` member; [`claims`](crate::claims)). A source that answers
    /// `Ok(None)` (the End-User is gone) gets an ID token without End-User claims.
    ///
    /// # Errors
    ///
    /// As for [`Provider::token`]; `server_error` when the source fails.
    pub async fn token_with_claims<'a, Cs: ClaimsSource>(
        &self,
        source: &Cs,
        params: &Params<'_>,
        presented: impl Into<Presented<'a>>,
    ) -> Result<TokenResponse, EndpointError> {
        let (now, presented) = (self.clock.now(), presented.into());
        let keys = self.keys.current();
        let mint = self.mint(now, &keys);
        let (credentials, grant) =
            TokenRequest::parse(params, presented.authorization())?.into_parts();
        let endpoint = &self.config.token_endpoint;
        let client = self.authenticate_client(credentials, endpoint, &presented, now);
        let request = grant.authenticated(client.await?, &mint)?;
        let target = ProofTarget::new(presented.method(), endpoint);
        let proof = self.dpop(presented.dpop(), target, now, |r| request.client().error(r));
        let proof = proof.await?;
        let request = request.with_binding(proof, presented.certificate())?;
        let header = request.client().used_header();
        let fail = |e: &dyn core::error::Error| EndpointError::new(self.internal(e), header);
        let minted = match request.into_step() {
            GrantStep::RedeemCode(step) => self.redeem(step, source, mint, fail).await?,
            GrantStep::Refresh(step) => self.refresh(step, source, mint, fail).await?,
        };
        let store = self.settle(minted, now, |e| fail(&e)).await?;
        let insertion = self
            .storage
            .insert_tokens(store.access(), store.refresh())
            .await;
        store.stored(insertion.map_err(|e| fail(&e))?)
    }

    /// A code grant's storage operations: the redemption, the host's claims for the ID token.
    async fn redeem<Cs: ClaimsSource>(
        &self,
        step: CodeRedemption,
        source: &Cs,
        mint: Mint<'_>,
        fail: impl Fn(&dyn core::error::Error) -> EndpointError,
    ) -> Result<Result<StoreTokens, Refusal>, EndpointError> {
        let redemption = self.storage.redeem_code(step.digest(), mint.now).await;
        let redemption = redemption.map_err(|e| fail(&e))?;
        let host = match step.claims_query(&redemption, &self.config) {
            Some(query) => source.claims_for(&query).await.map_err(|e| fail(&e))?,
            None => None,
        };
        Ok(step.redeem(redemption, host, mint))
    }

    /// A refresh grant's storage operations: the lookup, the host's claims, the rotation.
    async fn refresh<Cs: ClaimsSource>(
        &self,
        step: RefreshRequest,
        source: &Cs,
        mint: Mint<'_>,
        fail: impl Fn(&dyn core::error::Error) -> EndpointError,
    ) -> Result<Result<StoreTokens, Refusal>, EndpointError> {
        let now = mint.now;
        let lookup = self.storage.refresh_token(step.digest(), now).await;
        let lookup = lookup.map_err(|e| fail(&e))?;
        let host = match step.claims_query(&lookup, &self.config) {
            Some(query) => source.claims_for(&query).await.map_err(|e| fail(&e))?,
            None => None,
        };
        let rotate = match step.refresh(lookup, host, mint) {
            Ok(rotate) => rotate,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let (old, new, grace) = (rotate.old(), rotate.new_token(), rotate.grace_since());
        let rotation = self
            .storage
            .rotate_refresh_token(old, new, now, grace)
            .await;
        Ok(rotate.rotated(rotation.map_err(|e| fail(&e))?))
    }

    /// Client authentication (RFC 6749 §2.3; RFC 7523 §3; OIDC Core §9): the steps of
    /// [`client_auth`](crate::client_auth), with the client lookup, the `jwks_uri` fetch and the
    /// `jti` record each one asks for. `endpoint` is the URL called (an accepted assertion
    /// audience).
    async fn authenticate_client(
        &self,
        credentials: Credentials,
        endpoint: &str,
        presented: &Presented<'_>,
        now: UnixTime,
    ) -> Result<AuthenticatedClient, EndpointError> {
        let header = credentials.used_header();
        let fail = |e: &dyn core::error::Error| EndpointError::new(self.internal(e), header);
        let client = self.storage.client(credentials.client_id()).await;
        let pending = match credentials.authenticate(client.map_err(|e| fail(&e))?)? {
            Authentication::Done(client) => return Ok(client),
            Authentication::Assertion(pending) => pending,
            Authentication::Certificate(pending) => {
                let fetched = self.client_jwks(pending.jwks_uri(), None).await;
                let fetched = fetched
                    .map_err(|_| EndpointError::new(Reject::ClientJwksUnavailable, header))?;
                return pending.verify(presented.certificate(), fetched.as_ref());
            }
        };
        let fetched = self.client_jwks(pending.jwks_uri(), pending.kid()).await;
        let fetched =
            fetched.map_err(|_| EndpointError::new(Reject::ClientJwksUnavailable, header))?;
        let context = AuthContext {
            now,
            config: &self.config,
            endpoint,
            verifier: self.verifier.as_deref(),
        };
        let check = pending.verify(fetched.as_ref(), &context)?;
        let recorded = self
            .storage
            .record_jti(check.client_id(), check.jti(), check.expires_at(), now)
            .await;
        check.recorded(recorded.map_err(|e| fail(&e))?)
    }

    /// Carries out a [`Refusal`]: revokes its grant, if any, then answers its error.
    async fn settle<T>(
        &self,
        step: Result<T, Refusal>,
        now: UnixTime,
        fail: impl Fn(S::Error) -> EndpointError,
    ) -> Result<T, EndpointError> {
        let refusal = match step {
            Ok(next) => return Ok(next),
            Err(refusal) => refusal,
        };
        if let Some(grant) = refusal.grant_to_revoke() {
            self.storage.revoke_grant(grant, now).await.map_err(fail)?;
        }
        Err(refusal.error())
    }

    /// UserInfo (OIDC Core §5.3): the claims the core releases for the token (its scope, custom
    /// scope claims, the `claims` parameter's `userinfo` member), with `sub`; the steps of
    /// [`userinfo`](crate::userinfo) and [`claims`](crate::claims).
    ///
    /// # Errors
    ///
    /// `invalid_request` (no token / two tokens), `invalid_token` (401), `insufficient_scope`
    /// (403, token without `openid`), `server_error`.
    pub async fn userinfo<'a, Cs: ClaimsSource>(
        &self,
        source: &Cs,
        presented: impl Into<Presented<'a>>,
        body: Option<&Params<'_>>,
    ) -> Result<Claims, EndpointError> {
        let (now, presented) = (self.clock.now(), presented.into());
        let request = UserInfoRequest::parse(presented, body)?;
        let target = request.proof_target(presented.method(), &self.config.userinfo_endpoint);
        let proof = self.dpop(request.proof(), target, now, |r| request.error(r));
        let proof = proof.await?;
        let record = self.storage.access_token(&request.digest(), now).await;
        let fail = |e: &dyn core::error::Error| EndpointError::from(self.internal(e));
        let (record, certificate) = (record.map_err(|e| fail(&e))?, presented.certificate());
        let request = request.authorize(record, proof.as_ref(), certificate)?;
        let query = request.query(&self.config);
        let claims = source.claims_for(&query).await;
        request.release(&query, claims.map_err(|e| fail(&e))?)
    }

    /// Token revocation (RFC 7009 §2): the steps of [`revocation`](crate::revocation).
    ///
    /// # Errors
    ///
    /// Client authentication errors, `invalid_request` without `token`, `server_error`.
    pub async fn revoke<'a>(
        &self,
        params: &Params<'_>,
        presented: impl Into<Presented<'a>>,
    ) -> Result<(), EndpointError> {
        let (now, presented) = (self.clock.now(), presented.into());
        let (credentials, pending) =
            RevocationRequest::parse(params, presented.authorization())?.into_parts();
        let endpoint = &self.config.revocation_endpoint;
        let client = self.authenticate_client(credentials, endpoint, &presented, now);
        let client = client.await?;
        let request = pending.authenticated(client)?;
        let header = request.client().used_header();
        let fail = |e: S::Error| EndpointError::new(self.internal(&e), header);
        let lookup = self.storage.refresh_token(request.digest(), now).await;
        match request.refresh(lookup.map_err(fail)?) {
            RevocationStep::RevokeGrant(grant) => {
                self.storage.revoke_grant(&grant, now).await.map_err(fail)
            }
            RevocationStep::CheckAccessToken(step) => {
                let record = self.storage.access_token(step.digest(), now).await;
                match step.access(record.map_err(fail)?) {
                    Some(digest) => self
                        .storage
                        .revoke_access_token(&digest)
                        .await
                        .map_err(fail),
                    None => Ok(()),
                }
            }
            RevocationStep::Done => Ok(()),
        }
    }

    /// Token introspection (RFC 7662 §2): the steps of
    /// [`introspection`](crate::introspection) — who may learn what is decided there.
    ///
    /// # Errors
    ///
    /// Client authentication errors (a public client: `invalid_client`), `invalid_request`
    /// without `token`, `server_error`.
    pub async fn introspect<'a>(
        &self,
        params: &Params<'_>,
        presented: impl Into<Presented<'a>>,
    ) -> Result<Introspection, EndpointError> {
        let (now, presented) = (self.clock.now(), presented.into());
        let (credentials, pending) =
            IntrospectionRequest::parse(params, presented.authorization())?.into_parts();
        let endpoint = &self.config.introspection_endpoint;
        let client = self.authenticate_client(credentials, endpoint, &presented, now);
        let client = client.await?;
        let request = pending.authenticated(client)?;
        let header = request.client().used_header();
        let fail = |e: S::Error| EndpointError::new(self.internal(&e), header);
        let issuer = &self.config.issuer;
        let record = self.storage.access_token(request.digest(), now).await;
        match request.access(record.map_err(fail)?, issuer) {
            IntrospectionStep::Done(answer) => Ok(answer),
            IntrospectionStep::CheckRefreshToken(step) => {
                let lookup = self.storage.refresh_token(step.digest(), now).await;
                Ok(step.refresh(lookup.map_err(fail)?, issuer))
            }
        }
    }

    /// The discovery document. `id_token_signing_alg_values_supported` lists exactly the
    /// algorithms of the configured keys, so RS256 appears only when an RS256 key is configured
    /// (always, unless [`Config::rs256`] waives it).
    pub fn discovery(&self) -> ProviderMetadata {
        let algorithms = self.keys.current().algorithms();
        let client_algorithms = self.verifier.as_ref().map_or(&[][..], |v| v.algorithms());
        let mut metadata = ProviderMetadata::new(&self.config, algorithms, client_algorithms);
        metadata.backchannel_logout_supported = self.logout_sender.is_some();
        metadata.backchannel_logout_session_supported = self.logout_sender.is_some();
        metadata
    }

    /// The JWK set now: the public half of every active, next and still-retiring key
    /// ([`KeySet::public_jwks`]), then the retired keys of [`Provider::with_retired_keys`].
    pub fn jwks(&self) -> JwkSet {
        let mut keys = self.keys.current().public_jwks(self.clock.now());
        keys.extend(self.retired.iter().cloned());
        JwkSet { keys }
    }
}
