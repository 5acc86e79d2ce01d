//! The core's costs, each meant to be read as a ratio to the signing it cannot avoid:
//! `scripts/bench-ratios.py` turns criterion's output into that table.
//!
//! ```text
//! cargo bench -p oidc-hybrid-tests --bench core -- --quick
//! python3 scripts/bench-ratios.py
//! ```
//!
//! Bench ids (`X` is the signer family, `rustcrypto` or `ring`):
//!
//! - `authorize/parse_bind/{code,code_id_token,code_token,code_id_token_token}`: `Params::parse`
//!   of a 300–400 byte query string, `AuthorizeRequest::parse`, `bind` to the registered client
//!   (fetched once, outside the loop). No crypto, no storage.
//! - `respond/code`, `respond/code_token` (no signature) and
//!   `respond/{code_id_token,code_id_token_token}/ES256/X`: `Provider::approve` of a bound
//!   request (a clone, made outside the timed part) to the `AuthorizationResponse`, then its
//!   `location()`. Includes drawing the secrets, storing the code (and front-channel token) in
//!   the memory store and signing the front-channel ID token.
//! - `token/redeem/ES256/X`: the token endpoint for a fresh code of a `code id_token` flow,
//!   `client_secret_basic`: `Params::parse` of the body, `Provider::token`, `to_json()`.
//!   `token/refresh/ES256/X`: a `refresh_token` grant with rotation, same steps. Codes and
//!   refresh tokens are issued outside the timed part.
//! - `hash/c_hash`, `hash/at_hash`: `hash_claim` (SHA-256) over a 43-character code / token.
//! - `floor/sign/ES256/X`: one `Signer::try_sign` of an ID token's signing input (the back
//!   channel one, captured from a real flow). `floor/code_id_token/ES256/X`: the crypto one
//!   `code id_token` flow cannot avoid (see [`floor_code_id_token`]). Same for `RS256`.
//! - `flow/code_id_token/{ES256,RS256}/X`: the whole flow in process on the memory store —
//!   `Params::parse` of the query, `Provider::authorize`, `next_step` with a session and
//!   remembered consent, `approve`, `location()`, the code taken from the response, the token
//!   request (`Params::parse` of the body, Basic auth, `Provider::token`, `to_json()`).
//!   `flow/code_id_token_userinfo/ES256/X` adds a UserInfo call and its JSON.
//!
//! Every bench runs its path once before timing and checks the result (a relying party's
//! validation of both ID tokens for the flows); inside the timed loops every fallible step is
//! `expect`ed, so an error return aborts the run instead of being measured.
//!
//! # Async and memory
//!
//! The provider's futures run on one current-thread tokio runtime. Async benches time chunks
//! of [`CHUNK`] iterations, each chunk inside one `block_on` (what criterion's `to_async`
//! does; a `block_on` per iteration costs more, see [`run_chunked`]). Between chunks, outside
//! the timed part, the shared test clock jumps past every lifetime and the memory store is
//! swept (`MemoryStore::sweep`, the synchronous `sweep_expired`), so the store never holds
//! more than one chunk's rows.

use core::future::Future;
use core::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use oidc_hybrid::jose::hash_claim;
use oidc_hybrid::{
    Approval, AuthorizationResponse, AuthorizeRequest, BoundRequest, Client, ClientId, Clock,
    Config, Consent, HashAlgorithm, JwsAlgorithm, Params, Provider, ResponseMode, SecretDigest,
    Session, Signer, Step, Storage, Subject, TokenResponse, UnixTime,
};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::OsRandom;
use oidc_hybrid_testkit::rp::{IdTokenRules, Jwks};
use oidc_hybrid_tests::{
    Directory, ES256_PEM, ISSUER, RS256_PEM, TestClock, basic, client, es256_signer, form, rp_hash,
    rs256_signer, standard_clients,
};
use serde_json::json;
use tokio::runtime::Runtime;

/// The clock's start.
const T0: u64 = 1_800_000_000;
/// Async iterations per timed chunk; the store is swept between chunks.
const CHUNK: u64 = 256;
/// How far the clock jumps before a sweep: past the longest lifetime (30-day refresh tokens,
/// and the used-code tombstones that live as long as their grant).
const SWEEP_JUMP: u64 = 31 * 24 * 3600;

/// The relying party's registered redirect URI.
const REDIRECT_URI: &str = "https://rp.example.com/oidc/callback";
/// A 256-bit client secret, as a registration would hand out.
const SECRET: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA";
/// `state` and `nonce` as RPs draw them: 32 random bytes, base64url.
const STATE: &str = "q8fM0b7bJmO1YH2t2N0xkS7sX0cJ3wYpVdQpHq3d8rU";
const NONCE: &str = "n0S6_WzA2Mj-x3kPqL9vR2tY7uZ1aB4cD6eF8gH0iJk";
/// The End-User.
const SUBJECT: &str = "248289761001";

/// The response types, as bench-id segment and wire value.
const RESPONSE_TYPES: [(&str, &str); 4] = [
    ("code", "code"),
    ("code_id_token", "code id_token"),
    ("code_token", "code token"),
    ("code_id_token_token", "code id_token token"),
];

/// Where the signing keys come from.
#[derive(Clone, Copy, Debug)]
enum Family {
    RustCrypto,
    Ring,
}

impl Family {
    const ALL: [Self; 2] = [Self::RustCrypto, Self::Ring];

    const fn name(self) -> &'static str {
        match self {
            Self::RustCrypto => "rustcrypto",
            Self::Ring => "ring",
        }
    }

    /// The test key for `alg` (ES256 or RS256), from this family.
    fn signer(self, alg: JwsAlgorithm) -> Box<dyn Signer> {
        match (self, alg) {
            (Self::RustCrypto, JwsAlgorithm::ES256) => Box::new(es256_signer()),
            (Self::RustCrypto, JwsAlgorithm::RS256) => Box::new(rs256_signer()),
            (Self::Ring, JwsAlgorithm::ES256) => Box::new(
                oidc_hybrid_ring::Es256Signer::from_pkcs8_pem(ES256_PEM, Some("es-1"))
                    .expect("ES256 test key loads"),
            ),
            (Self::Ring, JwsAlgorithm::RS256) => Box::new(
                oidc_hybrid_ring::RsaSigner::from_pkcs8_pem(RS256_PEM, alg, Some("rs-1"))
                    .expect("RS256 test key loads"),
            ),
            (_, other) => panic!("no test key for {other}"),
        }
    }
}

/// The id of the bench client whose ID tokens use `alg`.
fn client_id(alg: JwsAlgorithm) -> &'static str {
    match alg {
        JwsAlgorithm::ES256 => "bench-es256",
        _ => "bench-rs256",
    }
}

/// The bench client for ID tokens in `alg`: confidential, `client_secret_basic`, every
/// response type, refresh tokens.
fn bench_client(alg: JwsAlgorithm) -> Client {
    client(json!({
        "client_id": client_id(alg),
        "client_secret": SECRET,
        "client_name": "Bench RP",
        "redirect_uris": [REDIRECT_URI, "https://rp.example.com/oidc/silent"],
        "response_types": ["code", "code id_token", "code token", "code id_token token"],
        "grant_types": ["authorization_code", "implicit", "refresh_token"],
        "id_token_signed_response_alg": alg.as_str(),
    }))
}

/// An authorization request as a browser brings it: 300–400 bytes, form-urlencoded.
fn query(response_type: &str, alg: JwsAlgorithm) -> String {
    let mode = if response_type == "code" {
        "query"
    } else {
        "fragment"
    };
    form(&[
        ("response_type", response_type),
        ("client_id", client_id(alg)),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid profile email"),
        ("state", STATE),
        ("nonce", NONCE),
        ("response_mode", mode),
        ("display", "page"),
        ("ui_locales", "en-GB en"),
        ("login_hint", "alice@example.org"),
    ])
}

/// The relying party's token request body up to the code (which needs no escaping: base64url).
fn code_body_prefix() -> String {
    let mut prefix = form(&[
        ("grant_type", "authorization_code"),
        ("redirect_uri", REDIRECT_URI),
    ]);
    prefix.push_str("&code=");
    prefix
}

/// A provider with both bench clients (and the standard test clients, so the client table is
/// not trivially small), RS256 and ES256 keys of one family, the memory store and a test clock.
struct Fixture {
    provider: Provider<MemoryStore, TestClock, OsRandom>,
    clock: TestClock,
    family: Family,
    /// `Authorization: Basic …` per bench client.
    basic_es: String,
    basic_rs: String,
    code_prefix: String,
    subject: Subject,
}

impl Fixture {
    fn new(family: Family) -> Self {
        let clock = TestClock::at(T0);
        let mut clients = standard_clients();
        clients.push(bench_client(JwsAlgorithm::ES256));
        clients.push(bench_client(JwsAlgorithm::RS256));
        let keys = vec![
            family.signer(JwsAlgorithm::RS256),
            family.signer(JwsAlgorithm::ES256),
        ];
        let provider = Provider::new(
            Config::new(ISSUER).expect("valid issuer"),
            MemoryStore::with_clients(clients),
            keys,
            clock.clone(),
            OsRandom,
        )
        .expect("valid provider");
        Self {
            provider,
            clock,
            family,
            basic_es: basic(client_id(JwsAlgorithm::ES256), SECRET),
            basic_rs: basic(client_id(JwsAlgorithm::RS256), SECRET),
            code_prefix: code_body_prefix(),
            subject: Subject::new(SUBJECT).expect("valid subject"),
        }
    }

    fn basic(&self, alg: JwsAlgorithm) -> &str {
        match alg {
            JwsAlgorithm::ES256 => &self.basic_es,
            _ => &self.basic_rs,
        }
    }

    /// Jumps past every lifetime and empties the store (outside the timed part).
    fn sweep(&self) {
        self.clock.advance(SWEEP_JUMP);
        self.provider.storage().sweep(self.clock.now());
        let counts = self.provider.storage().counts();
        assert_eq!(
            (counts.codes, counts.access_tokens, counts.refresh_tokens),
            (0, 0, 0),
            "the sweep empties the store"
        );
    }

    /// The host's session for the End-User: authenticated a minute ago.
    fn session(&self) -> Session {
        Session::new(self.subject.clone(), self.auth_time())
    }

    fn auth_time(&self) -> UnixTime {
        UnixTime::from_secs(self.clock.now().as_secs() - 60)
    }

    /// The host's approval, as the harness makes it: the host issues a refresh token (the
    /// flows refresh; docs/decisions/0018).
    fn approval(&self) -> Approval {
        Approval::new(self.subject.clone(), self.auth_time())
            .with_amr(["pwd"])
            .with_refresh_token(true)
    }

    /// Steps 1–2 for `response_type` (untimed set-up).
    fn bind(&self, rt: &Runtime, response_type: &str, alg: JwsAlgorithm) -> BoundRequest {
        let query = query(response_type, alg);
        let params = Params::parse(&query).expect("query parses");
        rt.block_on(self.provider.authorize(&params))
            .expect("request binds")
    }

    /// A fresh code of a `response_type` flow (untimed set-up).
    fn code(&self, rt: &Runtime, response_type: &str, alg: JwsAlgorithm) -> String {
        let bound = self.bind(rt, response_type, alg);
        let response = rt
            .block_on(self.provider.approve(bound, self.approval()))
            .expect("approved");
        response.param("code").expect("a code").to_owned()
    }

    /// The token request body redeeming `code`.
    fn code_body(&self, code: &str) -> String {
        let mut body = String::with_capacity(self.code_prefix.len() + code.len());
        body.push_str(&self.code_prefix);
        body.push_str(code);
        body
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime")
}

/// Times `iters` runs of `routine` in chunks of [`CHUNK`]: each chunk's inputs come from
/// `setup` (untimed), the chunk runs inside one `block_on` (timed, each output dropped as it
/// comes, as a server would), then the store is swept (untimed). One `block_on` per chunk, as
/// criterion's `to_async` does, rather than one per iteration: a `block_on` of an empty future
/// on this runtime measured about 0.2 µs against 5 ns amortised over a chunk.
fn run_chunked<I, O, S, R, F>(
    rt: &Runtime,
    fx: &Fixture,
    iters: u64,
    mut setup: S,
    mut routine: R,
) -> Duration
where
    S: FnMut() -> I,
    R: FnMut(I) -> F,
    F: Future<Output = O>,
{
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(CHUNK);
        let inputs: Vec<I> = (0..n).map(|_| setup()).collect();
        let start = Instant::now();
        rt.block_on(async {
            for input in inputs {
                black_box(routine(input).await);
            }
        });
        total += start.elapsed();
        fx.sweep();
        left -= n;
    }
    total
}

// ---------------------------------------------------------------------------------------------
// 1. authorize/parse_bind

fn parse_bind(params_query: &str, client: &Client, config: &Config, now: UnixTime) -> BoundRequest {
    let params = Params::parse(params_query).expect("query parses");
    let request = AuthorizeRequest::parse(&params, config).expect("request parses");
    request.bind(client, config, now).expect("request binds")
}

fn bench_authorize(c: &mut Criterion, rt: &Runtime, fx: &Fixture) {
    let alg = JwsAlgorithm::ES256;
    let config = fx.provider.config();
    let client = rt
        .block_on(
            fx.provider
                .storage()
                .client(&ClientId::new(client_id(alg)).expect("client id")),
        )
        .expect("memory store")
        .expect("bench client registered");
    let now = fx.provider.now();
    let mut group = c.benchmark_group("authorize");
    for (id, response_type) in RESPONSE_TYPES {
        let q = query(response_type, alg);
        assert!(
            (300..=400).contains(&q.len()),
            "a realistic query string, {} bytes",
            q.len()
        );
        let bound = parse_bind(&q, &client, config, now);
        assert_eq!(bound.response_type().as_str(), response_type);
        for scope in ["openid", "profile", "email"] {
            assert!(bound.scope().contains(scope), "{scope} requested");
        }
        assert_eq!(bound.client_name(), Some("Bench RP"));
        group.bench_function(format!("parse_bind/{id}"), |b| {
            b.iter(|| parse_bind(black_box(&q), &client, config, now));
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// 2. respond

async fn respond(
    fx: &Fixture,
    bound: BoundRequest,
    approval: Approval,
) -> (AuthorizationResponse, String) {
    let response = fx
        .provider
        .approve(bound, approval)
        .await
        .expect("approved");
    let location = response
        .location()
        .expect("a Location in query/fragment mode");
    (response, location)
}

fn bench_respond(c: &mut Criterion, rt: &Runtime, fixtures: &[Fixture]) {
    let alg = JwsAlgorithm::ES256;
    let mut group = c.benchmark_group("respond");
    for (id, response_type) in RESPONSE_TYPES {
        let signs = response_type.contains("id_token");
        for fx in fixtures {
            if !signs && !matches!(fx.family, Family::Ring) {
                continue; // signature-free: one variant is enough
            }
            let bound = fx.bind(rt, response_type, alg);
            let (response, location) = rt.block_on(respond(fx, bound.clone(), fx.approval()));
            assert!(!response.is_error());
            let separator = if response.mode() == ResponseMode::Query {
                '?'
            } else {
                '#'
            };
            assert!(
                location.contains(&format!("{separator}code=")),
                "{location}"
            );
            assert_eq!(response.param("id_token").is_some(), signs);
            assert_eq!(
                response.param("access_token").is_some(),
                response_type.split(' ').any(|word| word == "token")
            );
            let name = if signs {
                format!("{id}/{alg}/{}", fx.family.name())
            } else {
                id.to_owned()
            };
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    run_chunked(
                        rt,
                        fx,
                        iters,
                        || (bound.clone(), fx.approval()),
                        |(bound, approval)| respond(fx, bound, approval),
                    )
                });
            });
        }
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// 3. token

async fn token(fx: &Fixture, body: String, alg: JwsAlgorithm) -> String {
    let params = Params::parse(&body).expect("token body parses");
    let tokens = fx
        .provider
        .token(&params, Some(fx.basic(alg)))
        .await
        .expect("token request succeeds");
    tokens.to_json()
}

fn refresh_body(refresh_token: &str) -> String {
    form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ])
}

/// A live refresh token (untimed set-up: a `code` flow, then its redemption).
fn refresh_token(fx: &Fixture, rt: &Runtime, alg: JwsAlgorithm) -> String {
    let code = fx.code(rt, "code", alg);
    let params_body = fx.code_body(&code);
    let params = Params::parse(&params_body).expect("token body parses");
    let tokens = rt
        .block_on(fx.provider.token(&params, Some(fx.basic(alg))))
        .expect("code redeems");
    tokens.refresh_token().expect("a refresh token").to_owned()
}

fn bench_token(c: &mut Criterion, rt: &Runtime, fixtures: &[Fixture]) {
    let alg = JwsAlgorithm::ES256;
    let mut group = c.benchmark_group("token");
    for fx in fixtures {
        let family = fx.family.name();

        let code = fx.code(rt, "code id_token", alg);
        let json = rt.block_on(token(fx, fx.code_body(&code), alg));
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        for member in ["access_token", "refresh_token", "id_token"] {
            assert!(parsed[member].is_string(), "{member} in {json}");
        }
        let redeem_body = || fx.code_body(&fx.code(rt, "code id_token", alg));
        group.bench_function(format!("redeem/{alg}/{family}"), |b| {
            b.iter_custom(|iters| {
                run_chunked(rt, fx, iters, redeem_body, |body| token(fx, body, alg))
            });
        });

        let old = refresh_token(fx, rt, alg);
        let json = rt.block_on(token(fx, refresh_body(&old), alg));
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let new = parsed["refresh_token"]
            .as_str()
            .expect("a rotated refresh token");
        assert_ne!(new, old, "rotation");
        assert!(parsed["id_token"].is_string() && parsed["access_token"].is_string());
        let rotate_body = || refresh_body(&refresh_token(fx, rt, alg));
        group.bench_function(format!("refresh/{alg}/{family}"), |b| {
            b.iter_custom(|iters| {
                run_chunked(rt, fx, iters, rotate_body, |body| token(fx, body, alg))
            });
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// 4. hash

fn bench_hash(c: &mut Criterion, sample: &FlowSample) {
    assert_eq!(sample.code.len(), 43);
    assert_eq!(sample.access.len(), 43);
    assert_eq!(
        hash_claim(HashAlgorithm::Sha256, &sample.code),
        rp_hash("ES256", &sample.code)
    );
    let mut group = c.benchmark_group("hash");
    group.bench_function("c_hash", |b| {
        b.iter(|| hash_claim(HashAlgorithm::Sha256, black_box(&sample.code)));
    });
    group.bench_function("at_hash", |b| {
        b.iter(|| hash_claim(HashAlgorithm::Sha256, black_box(&sample.access)));
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// 5. floor

/// What one real `code id_token` flow signed and hashed, captured once.
struct FlowSample {
    /// Signing input (`header.payload`) of the front-channel ID token.
    front: Vec<u8>,
    /// Signing input of the token endpoint's ID token.
    back: Vec<u8>,
    code: String,
    access: String,
    refresh: String,
}

fn signing_input(jws: &str) -> Vec<u8> {
    let (input, _) = jws.rsplit_once('.').expect("a compact JWS");
    input.as_bytes().to_vec()
}

/// The crypto one `code id_token` flow cannot avoid, with the provider's own signer:
///
/// - two signatures: the front-channel ID token and the token endpoint's;
/// - the two hash claims: `c_hash` (front) and `at_hash` (back);
/// - the SHA-256 digests the provider computes for storage and look-ups
///   (`SecretDigest::of`): the code when storing it (`approve`) and again when redeeming it
///   (`token`), the access and the refresh token when storing them, and the presented client
///   secret when authenticating the client.
///
/// Not included: drawing the random secrets (grant id, code, access and refresh token: four
/// `getrandom` calls through `OsRandom`), which is randomness rather than crypto work here.
fn floor_code_id_token(signer: &dyn Signer, sample: &FlowSample) -> impl Sized {
    let front = signer.try_sign(&sample.front, &OsRandom).expect("signs");
    let back = signer.try_sign(&sample.back, &OsRandom).expect("signs");
    let hash = signer.algorithm().hash();
    let c_hash = hash_claim(hash, &sample.code);
    let at_hash = hash_claim(hash, &sample.access);
    let digests = [
        SecretDigest::of(&sample.code),
        SecretDigest::of(&sample.code),
        SecretDigest::of(&sample.access),
        SecretDigest::of(&sample.refresh),
        SecretDigest::of(SECRET),
    ];
    (front, back, c_hash, at_hash, digests)
}

fn bench_floor(c: &mut Criterion, fixtures: &[Fixture], samples: &[(JwsAlgorithm, FlowSample)]) {
    let mut group = c.benchmark_group("floor");
    for (alg, sample) in samples {
        for fx in fixtures {
            let keys = fx.provider.keys();
            let signer = keys.signer(*alg).expect("a key for alg");
            let signature = signer.try_sign(&sample.back, &OsRandom).expect("signs");
            signer
                .verify(&sample.back, &signature)
                .expect("the signature verifies");
            let family = fx.family.name();
            group.bench_function(format!("sign/{alg}/{family}"), |b| {
                b.iter(|| signer.try_sign(black_box(&sample.back), &OsRandom));
            });
            group.bench_function(format!("code_id_token/{alg}/{family}"), |b| {
                b.iter(|| floor_code_id_token(signer, black_box(sample)));
            });
        }
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// 6. flow

/// What the browser and the host bring to one flow: the request, the End-User's session and
/// the host's approval (the client's credentials are in the [`Fixture`]).
struct FlowInput {
    query: String,
    session: Session,
    approval: Approval,
    alg: JwsAlgorithm,
}

impl FlowInput {
    fn new(fx: &Fixture, alg: JwsAlgorithm) -> Self {
        Self {
            query: query("code id_token", alg),
            session: fx.session(),
            approval: fx.approval(),
            alg,
        }
    }
}

/// One whole `code id_token` flow: the front channel's `Location`, the token response and its
/// JSON.
async fn flow(fx: &Fixture, input: &FlowInput) -> (String, TokenResponse, String) {
    let provider = &fx.provider;
    let params = Params::parse(&input.query).expect("query parses");
    let bound = provider.authorize(&params).await.expect("request binds");
    let step = provider
        .next_step(&bound, Some(&input.session), Consent::Remembered)
        .expect("a next step");
    assert_eq!(step, Step::Approve);
    let response = provider
        .approve(bound, input.approval.clone())
        .await
        .expect("approved");
    let location = response.location().expect("fragment mode has a Location");
    let code = response.param("code").expect("a code");
    let body = fx.code_body(code);
    let params = Params::parse(&body).expect("token body parses");
    let tokens = provider
        .token(&params, Some(fx.basic(input.alg)))
        .await
        .expect("code redeems");
    let json = tokens.to_json();
    (location, tokens, json)
}

/// [`flow`], then UserInfo with the access token, serialised as the endpoint would send it.
async fn flow_userinfo(fx: &Fixture, input: &FlowInput) -> (String, String, String) {
    let (location, tokens, json) = flow(fx, input).await;
    let authorization = format!("Bearer {}", tokens.access_token());
    let claims = fx
        .provider
        .userinfo(&Directory, Some(authorization.as_str()), None)
        .await
        .expect("UserInfo answers");
    let userinfo = serde_json::to_string(&claims).expect("claims serialise");
    (location, json, userinfo)
}

/// Runs one flow and validates it as a relying party would; returns what the floor needs.
fn check_flow(rt: &Runtime, fx: &Fixture, alg: JwsAlgorithm) -> FlowSample {
    let input = FlowInput::new(fx, alg);
    let (location, tokens, json) = rt.block_on(flow(fx, &input));
    let access_token = tokens.access_token().to_owned();
    let (target, fragment) = location.split_once('#').expect("a fragment response");
    assert_eq!(target, REDIRECT_URI);
    let front: std::collections::HashMap<String, String> =
        form_urlencoded::parse(fragment.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(front.get("state").map(String::as_str), Some(STATE));
    assert_eq!(front.get("iss").map(String::as_str), Some(ISSUER));
    let code = front.get("code").expect("a code").clone();
    let front_id_token = front.get("id_token").expect("a front-channel ID token");
    let tokens: serde_json::Value = serde_json::from_str(&json).expect("JSON token response");
    let back_id_token = tokens["id_token"].as_str().expect("an ID token");
    let refresh = tokens["refresh_token"].as_str().expect("a refresh token");
    assert_eq!(tokens["access_token"], access_token.as_str());

    let jwks = serde_json::to_value(fx.provider.jwks()).expect("JWKS serialises");
    let rp = Jwks::from_json(&jwks).expect("a JWK set an RP can trust");
    let expect = IdTokenRules::new(ISSUER, client_id(alg))
        .alg(alg.as_str())
        .nonce(Some(NONCE))
        .at(fx.provider.now());
    let claims = expect.validate(front_id_token, &rp);
    assert_eq!(claims["c_hash"], rp_hash(alg.as_str(), &code));
    assert_eq!(claims["sub"], SUBJECT);
    let claims = expect.validate(back_id_token, &rp);
    assert_eq!(claims["at_hash"], rp_hash(alg.as_str(), &access_token));

    let (_, _, userinfo) = rt.block_on(flow_userinfo(fx, &input));
    let userinfo: serde_json::Value = serde_json::from_str(&userinfo).expect("JSON");
    assert_eq!(userinfo["sub"], SUBJECT);
    assert!(
        userinfo["email"].is_string(),
        "the email scope releases email"
    );

    FlowSample {
        front: signing_input(front_id_token),
        back: signing_input(back_id_token),
        code,
        access: access_token,
        refresh: refresh.to_owned(),
    }
}

fn bench_flow(c: &mut Criterion, rt: &Runtime, fixtures: &[Fixture]) {
    let mut group = c.benchmark_group("flow");
    for alg in [JwsAlgorithm::ES256, JwsAlgorithm::RS256] {
        for fx in fixtures {
            let family = fx.family.name();
            let input = FlowInput::new(fx, alg);
            group.bench_function(format!("code_id_token/{alg}/{family}"), |b| {
                b.iter_custom(|iters| run_chunked(rt, fx, iters, || (), |()| flow(fx, &input)));
            });
            if alg == JwsAlgorithm::ES256 {
                group.bench_function(format!("code_id_token_userinfo/{alg}/{family}"), |b| {
                    b.iter_custom(|iters| {
                        run_chunked(rt, fx, iters, || (), |()| flow_userinfo(fx, &input))
                    });
                });
            }
        }
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------

fn benches(c: &mut Criterion) {
    let rt = runtime();
    let fixtures: Vec<Fixture> = Family::ALL.into_iter().map(Fixture::new).collect();
    // Every flow is validated once per family and algorithm before anything is timed.
    let mut samples = Vec::new();
    for alg in [JwsAlgorithm::ES256, JwsAlgorithm::RS256] {
        for fx in &fixtures {
            let sample = check_flow(&rt, fx, alg);
            if matches!(fx.family, Family::Ring) {
                samples.push((alg, sample));
            }
        }
    }
    for fx in &fixtures {
        fx.sweep();
    }

    bench_authorize(c, &rt, &fixtures[0]);
    bench_respond(c, &rt, &fixtures);
    bench_token(c, &rt, &fixtures);
    bench_hash(c, &samples[0].1);
    bench_floor(c, &fixtures, &samples);
    bench_flow(c, &rt, &fixtures);
}

criterion_group!(core_benches, benches);
criterion_main!(core_benches);
