//! Test support for oidc-hybrid: an in-process [`Harness`] (provider + memory store + real
//! ES256/RS256 keys + a controllable clock), the SQL test stores ([`backends`]), a reference
//! model of the storage contract ([`model`]) and assertion helpers for authorization errors.
//! The relying-party side — ID token validation with another JOSE implementation, hash claims,
//! response decoding — and the test clock come from `oidc-hybrid-testkit`, re-exported here
//! where the tests use them by name.
//!
//! The keys under `tests/keys/` are public test keys: never use them outside tests.

pub mod backends;
pub mod jwt;
pub mod model;

use std::collections::HashMap;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use oidc_hybrid::{
    Approval, AuthorizationResponse, AuthorizeError, BoundRequest, Claims, Client, Clock, Config,
    EndpointError, Introspection, Params, Provider, ResponseMode, Signer, Storage, Subject,
    TokenResponse, UnixTime,
};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::{Es256Signer, OsRandom, RsaSigner};
pub use oidc_hybrid_testkit::TestClock;
pub use oidc_hybrid_testkit::fixtures::{
    Directory, REDIRECT_URI, SECRET, client, standard_clients,
};
use oidc_hybrid_testkit::rp::Jwks;
pub use oidc_hybrid_testkit::rp::{Delivered, basic, form, rp_hash};
use sha2::Digest;

/// The issuer of the test provider.
pub const ISSUER: &str = "https://op.example";
/// The `state` of the requests built by [`auth_pairs`].
pub const STATE: &str = "st-af0ifjsldkj";
/// The public test RSA key (PKCS#8 PEM).
pub const RS256_PEM: &str = include_str!("../keys/rs256.pem");
/// The public test P-256 key (PKCS#8 PEM).
pub const ES256_PEM: &str = include_str!("../keys/es256.pem");

/// The provider type the harness drives.
pub type TestProvider = Provider<MemoryStore, TestClock, OsRandom>;

/// The RS256 test signer.
///
/// # Panics
///
/// If the committed key does not load (a broken checkout).
#[must_use]
pub fn rs256_signer() -> RsaSigner {
    RsaSigner::from_pkcs8_pem(RS256_PEM, oidc_hybrid::JwsAlgorithm::RS256, Some("rs-1"))
        .expect("committed RS256 test key loads")
}

/// The ES256 test signer.
///
/// # Panics
///
/// If the committed key does not load (a broken checkout).
#[must_use]
pub fn es256_signer() -> Es256Signer {
    Es256Signer::from_pkcs8_pem(ES256_PEM, Some("es-1")).expect("committed ES256 test key loads")
}

/// An in-process provider with the standard clients, real keys and a test clock.
#[derive(Debug)]
pub struct Harness {
    /// The provider.
    pub provider: TestProvider,
    /// The clock (shared with the provider).
    pub clock: TestClock,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A harness at a fixed time, with the standard clients.
    ///
    /// # Panics
    ///
    /// If the fixture configuration is invalid.
    #[must_use]
    pub fn new() -> Self {
        Self::with_config(Config::new(ISSUER).expect("valid issuer"))
    }

    /// A harness with a given configuration.
    ///
    /// # Panics
    ///
    /// If the configuration or keys are invalid.
    #[must_use]
    pub fn with_config(config: Config) -> Self {
        Self::build(config, test_keys())
    }

    /// A harness whose provider signs with `keys` instead of the committed RustCrypto signers
    /// (e.g. the `oidc-hybrid-ring` ones), with the default configuration and the standard
    /// clients.
    ///
    /// # Panics
    ///
    /// If the provider refuses the keys (e.g. none signs RS256).
    #[must_use]
    pub fn with_signers(keys: Vec<Box<dyn Signer>>) -> Self {
        Self::build(Config::new(ISSUER).expect("valid issuer"), keys)
    }

    /// A harness with the standard clients and `extra` ones, and a given configuration.
    ///
    /// # Panics
    ///
    /// If the configuration is invalid.
    #[must_use]
    pub fn with_clients(config: Config, extra: Vec<Client>) -> Self {
        let mut clients = standard_clients();
        clients.extend(extra);
        Self::build_with(config, test_keys(), clients)
    }

    fn build(config: Config, keys: Vec<Box<dyn Signer>>) -> Self {
        Self::build_with(config, keys, standard_clients())
    }

    fn build_with(config: Config, keys: Vec<Box<dyn Signer>>, clients: Vec<Client>) -> Self {
        let clock = TestClock::at(1_800_000_000);
        let store = MemoryStore::with_clients(clients);
        let provider =
            Provider::new(config, store, keys, clock.clone(), OsRandom).expect("valid provider");
        Self { provider, clock }
    }

    /// The current time.
    #[must_use]
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// Steps 1–2 from a query string.
    ///
    /// # Errors
    ///
    /// The provider's [`AuthorizeError`].
    ///
    /// # Panics
    ///
    /// If the query is not parseable at all (the test's own input).
    pub fn authorize(&self, query: &str) -> Result<BoundRequest, AuthorizeError> {
        let params = Params::parse(query)?;
        block_on(self.provider.authorize(&params))
    }

    /// Approves for `subject`, authenticated now, with `pwd` as the method; the host decides to
    /// issue a refresh token (to clients with the `refresh_token` grant).
    ///
    /// # Errors
    ///
    /// The provider's [`AuthorizeError`].
    pub fn approve(
        &self,
        request: BoundRequest,
        subject: &str,
    ) -> Result<AuthorizationResponse, AuthorizeError> {
        // The harness host issues refresh tokens to every client that may refresh: its own
        // decision (docs/decisions/0018), not OIDC Core §11's `offline_access` default.
        let approval = Approval::new(Subject::new(subject).expect("valid subject"), self.now())
            .with_refresh_token(true)
            .with_amr(["pwd"])
            .with_acr("urn:example:loa:1");
        block_on(self.provider.approve(request, approval))
    }

    /// The token endpoint with a form body and an optional `Authorization` header.
    ///
    /// # Errors
    ///
    /// The provider's [`EndpointError`].
    pub fn token(
        &self,
        body: &str,
        authorization: Option<&str>,
    ) -> Result<TokenResponse, EndpointError> {
        let params = Params::parse(body)?;
        block_on(
            self.provider
                .token_with_claims(&Directory, &params, authorization),
        )
    }

    /// UserInfo with a bearer header.
    ///
    /// # Errors
    ///
    /// The provider's [`EndpointError`].
    pub fn userinfo(&self, access_token: &str) -> Result<Claims, EndpointError> {
        block_on(self.provider.userinfo(
            &Directory,
            Some(format!("Bearer {access_token}").as_str()),
            None,
        ))
    }

    /// Revocation.
    ///
    /// # Errors
    ///
    /// The provider's [`EndpointError`].
    pub fn revoke(&self, body: &str, authorization: Option<&str>) -> Result<(), EndpointError> {
        let params = Params::parse(body)?;
        block_on(self.provider.revoke(&params, authorization))
    }

    /// Token introspection (RFC 7662).
    ///
    /// # Errors
    ///
    /// The provider's [`EndpointError`].
    pub fn introspect(
        &self,
        body: &str,
        authorization: Option<&str>,
    ) -> Result<Introspection, EndpointError> {
        let params = Params::parse(body)?;
        block_on(self.provider.introspect(&params, authorization))
    }

    /// The provider's published JWK set, as a relying party trusts it (every published key
    /// usable, none with private members).
    ///
    /// # Panics
    ///
    /// If the JWK set is not one an RP can use in full.
    #[must_use]
    pub fn rp(&self) -> Jwks {
        let published = serde_json::to_value(self.provider.jwks()).expect("JWKS serialises");
        let jwks = Jwks::from_json(&published).expect("a JWK set an RP can trust");
        assert_eq!(
            Some(jwks.len()),
            published["keys"].as_array().map(Vec::len),
            "every published key is usable"
        );
        jwks
    }
}

/// The committed RS256 and ES256 test signers, as a provider takes them.
#[must_use]
pub fn test_keys() -> Vec<Box<dyn Signer>> {
    vec![Box::new(rs256_signer()), Box::new(es256_signer())]
}

/// A provider over `store` with the default configuration, the [`test_keys`] and `clock`: one
/// provider node, as the SQL tests run several over one database.
///
/// # Panics
///
/// Never for the committed keys.
#[must_use]
pub fn provider_over<S: Storage>(store: S, clock: TestClock) -> Provider<S, TestClock, OsRandom> {
    Provider::new(
        Config::new(ISSUER).expect("valid issuer"),
        store,
        test_keys(),
        clock,
        OsRandom,
    )
    .expect("valid provider")
}

/// Binds `pairs` on `node` (a provider such as [`provider_over`] builds) and approves them
/// with `approval`: the parameters the client receives.
///
/// # Panics
///
/// If the request does not bind or is not approved.
pub async fn issue_on<S: Storage>(
    node: &Provider<S, TestClock, OsRandom>,
    pairs: &[(&str, &str)],
    approval: Approval,
) -> HashMap<String, String> {
    let query = form(pairs);
    let params = Params::parse(&query).expect("query parses");
    let bound = node.authorize(&params).await.expect("the request binds");
    let response = node.approve(bound, approval).await.expect("approved");
    Delivered::from_response(&response).map()
}

/// Sends the form `pairs` to the token endpoint of `node` as `rs-basic` (HTTP Basic).
///
/// # Errors
///
/// The provider's [`EndpointError`].
///
/// # Panics
///
/// If the form does not parse (the test's own input).
pub async fn token_on<S: Storage>(
    node: &Provider<S, TestClock, OsRandom>,
    pairs: &[(&str, &str)],
) -> Result<TokenResponse, EndpointError> {
    let body = form(pairs);
    let params = Params::parse(&body).expect("form parses");
    node.token(&params, Some(basic("rs-basic", SECRET).as_str()))
        .await
}

/// Runs a future to completion on a fresh current-thread runtime.
///
/// # Panics
///
/// If the runtime cannot be built.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}

/// A PKCE verifier/challenge pair (S256).
#[must_use]
pub fn pkce_pair(seed: &str) -> (String, String) {
    let verifier = format!("{seed}-verifier-{}", "x".repeat(43));
    let challenge = Base64UrlUnpadded::encode_string(&sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Query pairs of a valid authorization request for `response_type` and `client_id` to
/// [`REDIRECT_URI`], with scope `openid`, a nonce and a state; edit them with [`set_param`].
#[must_use]
pub fn auth_pairs<'a>(response_type: &'a str, client_id: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", response_type),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("state", STATE),
    ]
}

/// Form pairs of a code redemption (`grant_type=authorization_code`) for `code` to
/// [`REDIRECT_URI`] (RFC 6749 §4.1.3); the client authenticates as [`Harness::token_as`] does.
#[must_use]
pub fn redeem_pairs(code: &str) -> Vec<(&str, &str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
    ]
}

/// Form pairs of a refresh with `refresh_token`, narrowed to `scope` when one is given
/// (RFC 6749 §6).
#[must_use]
pub fn refresh_pairs<'a>(
    refresh_token: &'a str,
    scope: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    let mut pairs = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(scope) = scope {
        pairs.push(("scope", scope));
    }
    pairs
}

/// Removes every pair named `name`, then appends `(name, value)` when `value` is `Some`.
pub fn set_param<'a>(pairs: &mut Vec<(&'a str, &'a str)>, name: &'a str, value: Option<&'a str>) {
    pairs.retain(|(n, _)| *n != name);
    if let Some(value) = value {
        pairs.push((name, value));
    }
}

/// Asserts that an `error_description` is non-empty printable ASCII without `"` or `\`
/// (RFC 6749 §4.1.2.1, §5.2).
///
/// # Panics
///
/// If it is not.
pub fn assert_safe_description(description: &str) {
    assert!(
        oidc_hybrid_testkit::rp::safe_description(description),
        "error_description is empty or not in the allowed set: {description:?}"
    );
}

/// Asserts that an authorization error is shown to the user (never redirected) with exactly
/// `reject` and the wire code `code`.
///
/// # Panics
///
/// If it is not.
pub fn assert_shown(err: &AuthorizeError, reject: oidc_hybrid::Reject, code: &str) {
    assert_eq!(err.reject(), reject, "reason");
    assert_eq!(err.reject().code().as_str(), code, "wire code");
    assert!(
        matches!(err.disposition(), oidc_hybrid::Disposition::ShowToUser),
        "{reject:?} must be shown to the user, not redirected"
    );
    assert!(
        err.clone().into_response().is_none(),
        "no response for {reject:?}"
    );
    assert_safe_description(err.reject().description());
}

/// Asserts that an authorization error is redirected to [`REDIRECT_URI`] as `code` in the
/// fragment, with the [`STATE`] of [`auth_pairs`]; see [`assert_redirected_to`].
///
/// # Panics
///
/// If it is not.
pub fn assert_in_fragment(err: &AuthorizeError, code: &str) -> Delivered {
    assert_redirected(err, code, ResponseMode::Fragment, Some(STATE))
}

/// Asserts that an authorization error is redirected to [`REDIRECT_URI`]; see
/// [`assert_redirected_to`].
///
/// # Panics
///
/// If it is not.
pub fn assert_redirected(
    err: &AuthorizeError,
    code: &str,
    mode: ResponseMode,
    state: Option<&str>,
) -> Delivered {
    assert_redirected_to(err, REDIRECT_URI, code, mode, state)
}

/// Asserts that an authorization error is redirected to `target` in `mode` with the wire code
/// `code`, a safe `error_description`, `state` echoed exactly (or absent), `iss` equal to
/// [`ISSUER`] and no other parameter (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6, RFC 9207 §2).
/// A fragment-mode `Location` carries no query part.
///
/// # Panics
///
/// If it is not.
pub fn assert_redirected_to(
    err: &AuthorizeError,
    target: &str,
    code: &str,
    mode: ResponseMode,
    state: Option<&str>,
) -> Delivered {
    assert_eq!(err.reject().code().as_str(), code, "wire code of {err:?}");
    let oidc_hybrid::Disposition::RedirectToClient(response) = err.disposition() else {
        panic!("{:?} must be redirected to the client", err.reject());
    };
    assert!(response.is_error());
    assert_eq!(response.mode(), mode, "response mode");
    assert_eq!(response.redirect_uri(), target);
    match mode {
        ResponseMode::Fragment => {
            let location = response.location().expect("fragment mode has a Location");
            let (base, _) = location.split_once('#').expect("a fragment");
            assert!(!base.contains('?'), "nothing in the query: {location}");
            assert!(!location.contains("?error"), "never ?error: {location}");
        }
        ResponseMode::FormPost => assert!(response.location().is_none()),
        _ => {}
    }
    let delivered = Delivered::from_response(response);
    assert_eq!(delivered.mode, mode);
    assert_eq!(delivered.target, target, "only the verified redirect URI");
    let params = delivered.map();
    assert_eq!(params.get("error").map(String::as_str), Some(code));
    assert_safe_description(params.get("error_description").expect("error_description"));
    assert_eq!(
        params.get("state").map(String::as_str),
        state,
        "state echoed exactly when sent"
    );
    assert_eq!(
        params.get("iss").map(String::as_str),
        Some(ISSUER),
        "RFC 9207 iss"
    );
    for name in params.keys() {
        assert!(
            ["error", "error_description", "state", "iss"].contains(&name.as_str()),
            "unexpected parameter {name} in an error response"
        );
    }
    delivered
}

impl Harness {
    /// Binds `pairs`, approves for `subject` now and returns what the client receives.
    ///
    /// # Panics
    ///
    /// If the request does not bind or is not approved.
    #[must_use]
    pub fn issue(&self, pairs: &[(&str, &str)], subject: &str) -> HashMap<String, String> {
        let bound = self.authorize(&form(pairs)).expect("request binds");
        let response = self.approve(bound, subject).expect("approved");
        Delivered::from_response(&response).map()
    }

    /// Approves for `subject` authenticated at `auth_time`.
    ///
    /// # Errors
    ///
    /// The provider's [`AuthorizeError`].
    ///
    /// # Panics
    ///
    /// If `subject` is not a valid subject identifier.
    pub fn approve_at(
        &self,
        request: BoundRequest,
        subject: &str,
        auth_time: UnixTime,
    ) -> Result<AuthorizationResponse, AuthorizeError> {
        let approval = Approval::new(Subject::new(subject).expect("valid subject"), auth_time)
            .with_refresh_token(true);
        block_on(self.provider.approve(request, approval))
    }

    /// The token endpoint as one of the standard clients, with the method it registered:
    /// Basic for `rs-basic` and `default`, the body for `es-post`, only `client_id` for `native`.
    ///
    /// # Errors
    ///
    /// The provider's [`EndpointError`].
    pub fn token_as(
        &self,
        client_id: &str,
        pairs: &[(&str, &str)],
    ) -> Result<TokenResponse, EndpointError> {
        let mut all = pairs.to_vec();
        match client_id {
            "es-post" => {
                all.push(("client_id", client_id));
                all.push(("client_secret", SECRET));
                self.token(&form(&all), None)
            }
            "native" => {
                all.push(("client_id", client_id));
                self.token(&form(&all), None)
            }
            _ => self.token(&form(&all), Some(&basic(client_id, SECRET))),
        }
    }

    /// Redeems `code` ([`redeem_pairs`]) as one of the standard clients ([`Harness::token_as`]).
    ///
    /// # Errors
    ///
    /// The provider's [`EndpointError`].
    pub fn redeem(&self, client_id: &str, code: &str) -> Result<TokenResponse, EndpointError> {
        self.token_as(client_id, &redeem_pairs(code))
    }

    /// Refreshes with `refresh_token` ([`refresh_pairs`]) as one of the standard clients
    /// ([`Harness::token_as`]).
    ///
    /// # Errors
    ///
    /// The provider's [`EndpointError`].
    pub fn refresh(
        &self,
        client_id: &str,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> Result<TokenResponse, EndpointError> {
        self.token_as(client_id, &refresh_pairs(refresh_token, scope))
    }

    /// Asserts that UserInfo refuses `access_token` (unknown, expired or revoked): 401
    /// `invalid_token` with its `Bearer` challenge (RFC 6750 §3.1).
    ///
    /// # Panics
    ///
    /// If UserInfo answers otherwise.
    pub fn assert_token_refused(&self, access_token: &str) -> EndpointError {
        let err = self
            .userinfo(access_token)
            .expect_err("the access token is refused");
        assert_eq!(err.code().as_str(), "invalid_token");
        assert_eq!(err.status(), 401);
        assert_eq!(
            err.www_authenticate(),
            Some("Bearer error=\"invalid_token\"")
        );
        err
    }
}
