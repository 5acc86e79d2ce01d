//! Test support for oidc-hybrid: an in-process [`Harness`] (provider + memory store + real
//! ES256/RS256 keys + a controllable clock) and an independent relying-party validator
//! ([`Rp`]) that checks ID tokens with another JOSE implementation.
//!
//! The keys under `tests/keys/` are public test keys: never use them outside tests.

pub mod backends;
pub mod contract;
pub mod model;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64ct::{Base64UrlUnpadded, Encoding};
use oidc_hybrid::{
    Approval, AuthorizationResponse, AuthorizeError, BoundRequest, Claims, ClaimsSource, Client,
    ClientMetadata, Clock, Config, EndpointError, Params, Provider, ResponseMode, Signer, Subject,
    TokenResponse, UnixTime,
};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::{Es256Signer, OsRandom, RsaSigner};
use serde_json::{Value, json};
use sha2::Digest;

/// The issuer of the test provider.
pub const ISSUER: &str = "https://op.example";
/// The registered redirect URI of the web clients.
pub const REDIRECT_URI: &str = "https://rp.example/cb";
/// A client secret long enough to register, with characters that need form-urlencoding in Basic.
pub const SECRET: &str = "s3cr:t+with%special&chars=and-more-than-32";
/// The public test RSA key (PKCS#8 PEM).
pub const RS256_PEM: &str = include_str!("../keys/rs256.pem");
/// The public test P-256 key (PKCS#8 PEM).
pub const ES256_PEM: &str = include_str!("../keys/es256.pem");

/// A clock the test moves by hand. Clones share the time.
#[derive(Clone, Debug)]
pub struct TestClock(Arc<AtomicU64>);

impl TestClock {
    /// A clock at `secs`.
    #[must_use]
    pub fn at(secs: u64) -> Self {
        Self(Arc::new(AtomicU64::new(secs)))
    }

    /// Moves the clock forward.
    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> UnixTime {
        UnixTime::from_secs(self.0.load(Ordering::SeqCst))
    }
}

/// A user directory with one user per subject, all with a full set of standard claims.
#[derive(Clone, Debug, Default)]
pub struct Directory;

impl ClaimsSource for Directory {
    type Error = std::convert::Infallible;

    async fn claims(&self, subject: &Subject) -> Result<Option<Claims>, Self::Error> {
        let Value::Object(claims) = json!({
            "name": format!("User {subject}"),
            "given_name": "Alice",
            "family_name": "Liddell",
            "preferred_username": subject.as_str(),
            "email": format!("{subject}@example.org"),
            "email_verified": true,
            "address": { "country": "GB", "locality": "Oxford" },
            "phone_number": "+44 1865 000000",
            "phone_number_verified": false,
        }) else {
            unreachable!("a JSON object literal")
        };
        Ok(Some(claims))
    }
}

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

/// Registers a client from RFC 7591 JSON metadata.
///
/// # Panics
///
/// If the metadata is invalid (the test's own fixture is wrong).
#[must_use]
pub fn client(metadata: Value) -> Client {
    let metadata: ClientMetadata =
        serde_json::from_value(metadata).expect("fixture metadata parses");
    Client::register(metadata).expect("fixture metadata registers")
}

/// The standard test clients:
/// - `rs-basic`: confidential, `client_secret_basic`, RS256, every response type, refresh;
/// - `es-post`: confidential, `client_secret_post`, ES256, every response type, refresh, s_hash;
/// - `default`: confidential with default response types (`code`, `code id_token`);
/// - `native`: public native app, loopback redirect, PKCE required.
#[must_use]
pub fn standard_clients() -> Vec<Client> {
    let all = ["code", "code id_token", "code token", "code id_token token"];
    vec![
        client(json!({
            "client_id": "rs-basic",
            "client_secret": SECRET,
            "redirect_uris": [REDIRECT_URI, "https://rp.example/cb?tenant=7"],
            "response_types": all,
            "grant_types": ["authorization_code", "implicit", "refresh_token"],
        })),
        client(json!({
            "client_id": "es-post",
            "client_secret": SECRET,
            "redirect_uris": [REDIRECT_URI],
            "response_types": all,
            "grant_types": ["authorization_code", "implicit", "refresh_token"],
            "token_endpoint_auth_method": "client_secret_post",
            "id_token_signed_response_alg": "ES256",
            "id_token_s_hash": true,
        })),
        client(json!({
            "client_id": "default",
            "client_secret": SECRET,
            "redirect_uris": [REDIRECT_URI],
        })),
        client(json!({
            "client_id": "native",
            "redirect_uris": ["http://127.0.0.1/cb"],
            "application_type": "native",
            "token_endpoint_auth_method": "none",
            "response_types": ["code", "code id_token"],
        })),
    ]
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
        let clock = TestClock::at(1_800_000_000);
        let store = MemoryStore::with_clients(standard_clients());
        let keys: Vec<Box<dyn Signer>> = vec![Box::new(rs256_signer()), Box::new(es256_signer())];
        let provider =
            Provider::new(config, store, keys, clock.clone(), OsRandom).expect("valid provider");
        Self { provider, clock }
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
        let clock = TestClock::at(1_800_000_000);
        let store = MemoryStore::with_clients(standard_clients());
        let config = Config::new(ISSUER).expect("valid issuer");
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

    /// Approves for `subject`, authenticated now, with `pwd` as the method.
    ///
    /// # Errors
    ///
    /// The provider's [`AuthorizeError`].
    pub fn approve(
        &self,
        request: BoundRequest,
        subject: &str,
    ) -> Result<AuthorizationResponse, AuthorizeError> {
        let approval = Approval::new(Subject::new(subject).expect("valid subject"), self.now())
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
        block_on(self.provider.token(&params, authorization))
    }

    /// UserInfo with a bearer header.
    ///
    /// # Errors
    ///
    /// The provider's [`EndpointError`].
    pub fn userinfo(&self, access_token: &str) -> Result<Claims, EndpointError> {
        block_on(
            self.provider
                .userinfo(&Directory, Some(&format!("Bearer {access_token}")), None),
        )
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

    /// A relying-party validator for this provider's JWK set.
    #[must_use]
    pub fn rp(&self) -> Rp {
        Rp::new(&serde_json::to_value(self.provider.jwks()).expect("JWKS serialises"))
    }
}

/// `Authorization: Basic` for `client_id` and `secret`, form-urlencoded first (RFC 6749 §2.3.1).
#[must_use]
pub fn basic(client_id: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        base64ct::Base64::encode_string(format!("{}:{}", enc(client_id), enc(secret)).as_bytes())
    )
}

/// Form-urlencodes pairs.
#[must_use]
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        serializer.append_pair(k, v);
    }
    serializer.finish()
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

/// What the client's redirect endpoint receives, decoded as a browser and an RP would.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// How it arrived.
    pub mode: ResponseMode,
    /// The URL or form action it was delivered to (without the parameters).
    pub target: String,
    /// The parameters, in order; duplicates are kept so tests can detect them.
    pub pairs: Vec<(String, String)>,
}

impl Delivered {
    /// Decodes an authorization response exactly as it would reach the client: the `Location`
    /// URL's fragment or query, or the form_post page's form fields (HTML-unescaped).
    ///
    /// # Panics
    ///
    /// If the response is malformed (which is a test failure).
    #[must_use]
    pub fn from_response(response: &AuthorizationResponse) -> Self {
        match response.mode() {
            ResponseMode::FormPost => {
                assert!(response.location().is_none(), "form_post has no Location");
                let html = response.form_post_html();
                let action =
                    attr_after(&html, "<form method=\"post\" action=\"").expect("form action");
                let mut pairs = Vec::new();
                let mut rest = html.as_str();
                while let Some(i) = rest.find("<input type=\"hidden\" name=\"") {
                    rest = &rest[i..];
                    let name = attr_after(rest, "name=\"").expect("input name");
                    let value = attr_after(rest, "value=\"").expect("input value");
                    pairs.push((name, value));
                    rest = &rest[1..];
                }
                Self {
                    mode: ResponseMode::FormPost,
                    target: action,
                    pairs,
                }
            }
            mode => {
                let location = response.location().expect("a Location for query/fragment");
                let (target, encoded) = match mode {
                    ResponseMode::Fragment => location.split_once('#').expect("a fragment"),
                    _ => {
                        // Query mode: the response parameters follow the registered query.
                        let (base, query) = location.split_once('?').expect("a query");
                        (base, query)
                    }
                };
                let pairs = form_urlencoded::parse(encoded.as_bytes())
                    .into_owned()
                    .collect();
                Self {
                    mode,
                    target: target.to_string(),
                    pairs,
                }
            }
        }
    }

    /// The value of a parameter that must appear at most once.
    ///
    /// # Panics
    ///
    /// If it appears more than once (REQUIREMENTS 201).
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        let mut values = self.pairs.iter().filter(|(n, _)| n == name);
        let first = values.next().map(|(_, v)| v.as_str());
        assert!(values.next().is_none(), "parameter {name} appears twice");
        first
    }

    /// The parameters as a map (asserting uniqueness).
    #[must_use]
    pub fn map(&self) -> HashMap<String, String> {
        let mut map = HashMap::new();
        for (n, v) in &self.pairs {
            assert!(
                map.insert(n.clone(), v.clone()).is_none(),
                "parameter {n} appears twice"
            );
        }
        map
    }
}

fn attr_after(html: &str, prefix: &str) -> Option<String> {
    let start = html.find(prefix)? + prefix.len();
    let end = html[start..].find('"')? + start;
    Some(html_unescape(&html[start..end]))
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#96;", "`")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A relying party's view: validates ID tokens with `jsonwebtoken` against the published JWKS.
#[derive(Debug)]
pub struct Rp {
    jwks: jsonwebtoken::jwk::JwkSet,
}

/// What an RP expects of an ID token.
#[derive(Clone, Debug)]
pub struct Expect<'a> {
    /// The client id (`aud`, `azp`).
    pub client_id: &'a str,
    /// The nonce sent, if any.
    pub nonce: Option<&'a str>,
    /// The current time.
    pub now: UnixTime,
    /// The algorithm the client registered.
    pub alg: &'a str,
}

impl Rp {
    /// An RP that trusts `jwks` (the provider's published set).
    ///
    /// # Panics
    ///
    /// If the JWKS does not parse as a JWK set.
    #[must_use]
    pub fn new(jwks: &Value) -> Self {
        for key in jwks["keys"].as_array().expect("keys array") {
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(
                    key.get(private).is_none(),
                    "JWKS must not publish private member {private}"
                );
            }
        }
        Self {
            jwks: serde_json::from_value(jwks.clone()).expect("a JWK set"),
        }
    }

    /// Validates an ID token as OIDC Core §3.1.3.7 / §3.3.2.12 ask of an RP and returns its
    /// claims: header `alg` is the registered one, `kid` names a published key, the signature
    /// verifies, `iss`, `aud`, `azp`, `exp`, `iat` and `nonce` are right.
    ///
    /// # Panics
    ///
    /// On any validation failure (a test failure).
    #[must_use]
    pub fn validate(&self, id_token: &str, expect: &Expect<'_>) -> Value {
        let header = jsonwebtoken::decode_header(id_token).expect("ID token header");
        assert_eq!(
            format!("{:?}", header.alg),
            expect.alg,
            "alg is the registered one"
        );
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let kid = header.kid.expect("ID tokens carry kid");
        let jwk = self.jwks.find(&kid).expect("kid names a published key");
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("usable JWK");
        let mut validation = jsonwebtoken::Validation::new(header.alg);
        validation.validate_exp = false; // checked below against the provider's clock
        validation.validate_aud = false; // checked below
        validation.required_spec_claims.clear();
        let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
            .expect("signature verifies")
            .claims;
        assert_eq!(claims["iss"], ISSUER);
        assert_eq!(claims["aud"], expect.client_id);
        assert_eq!(claims["azp"], expect.client_id);
        let exp = claims["exp"].as_u64().expect("exp is a number");
        let iat = claims["iat"].as_u64().expect("iat is a number");
        assert!(exp > expect.now.as_secs(), "not expired");
        assert!(iat <= expect.now.as_secs(), "not issued in the future");
        assert!(
            claims["sub"]
                .as_str()
                .is_some_and(|s| !s.is_empty() && s.len() <= 255)
        );
        match expect.nonce {
            Some(nonce) => assert_eq!(claims["nonce"], nonce, "nonce echoed unchanged"),
            None => assert!(claims.get("nonce").is_none(), "no nonce claim"),
        }
        for (name, value) in claims.as_object().expect("claims object") {
            assert!(
                !value.is_null(),
                "claim {name} must be omitted rather than null"
            );
        }
        claims
    }
}

/// An RP's independent hash-claim computation: the digest named by the JWS `alg` string,
/// left half, base64url (OIDC Core §3.3.2.11). `EdDSA` (Ed25519) uses SHA-512.
///
/// # Panics
///
/// For an algorithm outside the ES/RS/PS/HS families and `EdDSA`.
#[must_use]
pub fn rp_hash(alg: &str, value: &str) -> String {
    let size = if alg == "EdDSA" { "512" } else { &alg[2..] };
    let digest: Vec<u8> = match size {
        "256" => sha2::Sha256::digest(value.as_bytes()).to_vec(),
        "384" => sha2::Sha384::digest(value.as_bytes()).to_vec(),
        "512" => sha2::Sha512::digest(value.as_bytes()).to_vec(),
        other => panic!("unexpected alg size {other}"),
    };
    Base64UrlUnpadded::encode_string(&digest[..digest.len() / 2])
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
        ("state", "st-af0ifjsldkj"),
    ]
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
    assert!(!description.is_empty(), "error_description is empty");
    assert!(
        description
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'),
        "error_description is not in the allowed set: {description:?}"
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
        let approval = Approval::new(Subject::new(subject).expect("valid subject"), auth_time);
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
}
