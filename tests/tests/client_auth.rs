//! Client authentication by JWT at the token and revocation endpoints: `private_key_jwt`
//! (ES256, PS256, RS256 with inline `jwks` or a fetched `jwks_uri`) and `client_secret_jwt`
//! (HS256), through both verifiers (RustCrypto and ring), with every refusal asserted exactly
//! (RFC 7523 §2.2, §3; OIDC Core §9; RFC 8725 §2.1, §3.1).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64ct::{Base64UrlUnpadded, Encoding};
use oidc_hybrid::Clock;
use oidc_hybrid::client_auth::JWT_BEARER;
use oidc_hybrid::client_keys::FetchFuture;
use oidc_hybrid::{
    Client, ClientJwks, ClientMetadata, Config, EndpointError, FetchError, JwksFetcher,
    JwsVerifier, MacAlgorithm, Params, Provider, Reject, Signer, TokenResponse,
};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::{Es256Signer, OsRandom, RsaSigner};
use oidc_hybrid_tests::{
    ISSUER, REDIRECT_URI, SECRET, TestClock, TestProvider, auth_pairs, block_on, es256_signer,
    form, rs256_signer, standard_clients,
};
use serde_json::{Value, json};

const T0: u64 = 1_800_000_000;
const TOKEN_ENDPOINT: &str = "https://op.example/token";
const HMAC_SECRET: &str = "a-client-secret-for-hmac-of-at-least-32-bytes";

/// The client's own keys (the provider's test keys serve as client keys here).
struct ClientKeys {
    es256: Es256Signer,
    ps256: RsaSigner,
    other_es256: Es256Signer,
}

fn client_keys() -> ClientKeys {
    ClientKeys {
        es256: es256_signer(),
        ps256: RsaSigner::from_pkcs8_pem(
            oidc_hybrid_tests::RS256_PEM,
            oidc_hybrid::JwsAlgorithm::PS256,
            Some("client-ps256"),
        )
        .expect("PS256 key"),
        other_es256: Es256Signer::generate(&OsRandom, Some("other")).expect("key"),
    }
}

fn jwk_json(signer: &dyn Signer) -> Value {
    serde_json::to_value(signer.public_jwk()).expect("JWK")
}

fn metadata(value: Value) -> Client {
    let metadata: ClientMetadata = serde_json::from_value(value).expect("metadata");
    Client::register(metadata).expect("registers")
}

fn clients(keys: &ClientKeys) -> Vec<Client> {
    let base = |id: &str| {
        json!({
            "client_id": id,
            "redirect_uris": [REDIRECT_URI],
            "response_types": ["code", "code id_token"],
            "grant_types": ["authorization_code", "implicit", "refresh_token"],
        })
    };
    let with = |mut value: Value, extra: Value| {
        for (k, v) in extra.as_object().expect("object") {
            value[k] = v.clone();
        }
        value
    };
    let mut all = standard_clients();
    all.extend([
        metadata(with(
            base("pkj-es"),
            json!({
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": {"keys": [jwk_json(&keys.es256), jwk_json(&keys.ps256)]},
            }),
        )),
        metadata(with(
            base("pkj-ps"),
            json!({
                "token_endpoint_auth_method": "private_key_jwt",
                "token_endpoint_auth_signing_alg": "PS256",
                "jwks": {"keys": [jwk_json(&keys.ps256), jwk_json(&keys.es256)]},
            }),
        )),
        metadata(with(
            base("pkj-uri"),
            json!({
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks_uri": "https://rp.example/jwks.json",
            }),
        )),
        metadata(with(
            base("csj"),
            json!({
                "token_endpoint_auth_method": "client_secret_jwt",
                "client_secret": HMAC_SECRET,
                "token_endpoint_auth_signing_alg": "HS256",
            }),
        )),
    ]);
    all
}

/// A `jwks_uri` fetcher serving fixed documents, counting fetches and the `kid`s asked for.
#[derive(Clone, Default)]
struct FixedFetcher {
    documents: Arc<Mutex<HashMap<String, Result<ClientJwks, FetchError>>>>,
    asked: Arc<Mutex<Vec<Option<String>>>>,
}

impl JwksFetcher for FixedFetcher {
    fn fetch<'a>(&'a self, uri: &'a str, kid: Option<&'a str>) -> FetchFuture<'a> {
        self.asked.lock().expect("lock").push(kid.map(String::from));
        let answer = self
            .documents
            .lock()
            .expect("lock")
            .get(uri)
            .cloned()
            .unwrap_or(Err(FetchError::Unavailable));
        Box::pin(async move { answer })
    }
}

struct Fixture {
    provider: TestProvider,
    clock: TestClock,
    keys: ClientKeys,
    fetcher: FixedFetcher,
}

fn fixture_with(verifier: impl JwsVerifier + 'static) -> Fixture {
    let keys = client_keys();
    let clock = TestClock::at(T0);
    let mut config = Config::new("https://op.example").expect("issuer");
    config.token_endpoint = TOKEN_ENDPOINT.into();
    let provider_keys: Vec<Box<dyn Signer>> =
        vec![Box::new(rs256_signer()), Box::new(es256_signer())];
    let fetcher = FixedFetcher::default();
    let jwks = ClientJwks::from_value(&json!({"keys": [jwk_json(&keys.es256)]})).expect("jwks");
    fetcher
        .documents
        .lock()
        .expect("lock")
        .insert("https://rp.example/jwks.json".into(), Ok(jwks));
    let provider = Provider::new(
        config,
        MemoryStore::with_clients(clients(&keys)),
        provider_keys,
        clock.clone(),
        OsRandom,
    )
    .expect("provider")
    .with_jws_verifier(verifier)
    .with_jwks_fetcher(fetcher.clone());
    Fixture {
        provider,
        clock,
        keys,
        fetcher,
    }
}

fn b64(value: &Value) -> String {
    Base64UrlUnpadded::encode_string(&serde_json::to_vec(value).expect("JSON"))
}

/// A compact JWS over `claims` with `header`, signed by `signer`.
fn signed(header: &Value, claims: &Value, signer: &dyn Signer) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let signature = signer.try_sign(input.as_bytes(), &OsRandom).expect("signs");
    format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature))
}

/// A compact JWS over `claims` with `header`, MACed with `key`.
fn maced(header: &Value, claims: &Value, mac: MacAlgorithm, key: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let tag = mac.sign(key, input.as_bytes());
    format!("{input}.{}", Base64UrlUnpadded::encode_string(&tag))
}

fn claims(client: &str, jti: &str) -> Value {
    json!({
        "iss": client,
        "sub": client,
        "aud": TOKEN_ENDPOINT,
        "exp": T0 + 120,
        "iat": T0,
        "jti": jti,
    })
}

fn header(alg: &str, kid: Option<&str>) -> Value {
    match kid {
        Some(kid) => json!({"alg": alg, "kid": kid, "typ": "JWT"}),
        None => json!({"alg": alg, "typ": "JWT"}),
    }
}

impl Fixture {
    fn code(&self, client: &str) -> String {
        let pairs = auth_pairs("code id_token", client);
        let bound = block_on(
            self.provider
                .authorize(&Params::parse(&form(&pairs)).expect("form")),
        )
        .expect("binds");
        let approval = oidc_hybrid::Approval::new(
            oidc_hybrid::Subject::new("alice").expect("subject"),
            self.clock.now(),
        );
        let response = block_on(self.provider.approve(bound, approval)).expect("approved");
        response.param("code").expect("a code").to_string()
    }

    fn redeem(
        &self,
        code: &str,
        assertion: &str,
        extra: &[(&str, &str)],
    ) -> Result<TokenResponse, EndpointError> {
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
        ];
        pairs.extend_from_slice(extra);
        block_on(
            self.provider
                .token(&Params::parse(&form(&pairs)).expect("form"), None),
        )
    }

    fn es256(&self, client: &str, jti: &str) -> String {
        signed(
            &header("ES256", Some(self.keys.es256.key_id())),
            &claims(client, jti),
            &self.keys.es256,
        )
    }
}

fn refused(result: Result<TokenResponse, EndpointError>, reject: Reject) {
    let error = result.expect_err("refused");
    assert_eq!(error.reject(), reject, "{error}");
    assert_eq!(error.code().as_str(), reject.code().as_str());
    if reject.code().as_str() == "invalid_client" {
        assert_eq!(error.status(), 400, "no Authorization header was used");
        assert_eq!(error.www_authenticate(), None);
    }
}

fn verifiers() -> Vec<(&'static str, Fixture)> {
    vec![
        (
            "rustcrypto",
            fixture_with(oidc_hybrid_rustcrypto::ClientKeyVerifier),
        ),
        ("ring", fixture_with(oidc_hybrid_ring::ClientKeyVerifier)),
    ]
}

/// A `code id_token` flow completes with `private_key_jwt` (ES256 with a `kid`, PS256 without
/// one), with both verifiers; the ID token is for the asserting client.
#[test]
fn private_key_jwt_redeems_codes() {
    for (name, fx) in verifiers() {
        let token = fx
            .redeem(&fx.code("pkj-es"), &fx.es256("pkj-es", "es-1"), &[])
            .unwrap_or_else(|e| panic!("{name}: ES256 {e}"));
        assert!(token.id_token().is_some());
        let ps = signed(
            &header("PS256", None),
            &claims("pkj-ps", "ps-1"),
            &fx.keys.ps256,
        );
        fx.redeem(&fx.code("pkj-ps"), &ps, &[])
            .unwrap_or_else(|e| panic!("{name}: PS256 {e}"));
        // The body may repeat the client id.
        let es = fx.es256("pkj-es", "es-2");
        fx.redeem(&fx.code("pkj-es"), &es, &[("client_id", "pkj-es")])
            .unwrap_or_else(|e| panic!("{name}: with client_id {e}"));
        // The issuer is an accepted audience too.
        let mut c = claims("pkj-es", "es-3");
        c["aud"] = json!(["https://other.example", "https://op.example"]);
        let es = signed(&header("ES256", None), &c, &fx.keys.es256);
        fx.redeem(&fx.code("pkj-es"), &es, &[])
            .unwrap_or_else(|e| panic!("{name}: issuer audience {e}"));
    }
}

/// `client_secret_jwt` with HS256 keyed by the client secret.
#[test]
fn client_secret_jwt_redeems_codes() {
    let fx = fixture_with(oidc_hybrid_ring::ClientKeyVerifier);
    let jwt = maced(
        &header("HS256", None),
        &claims("csj", "csj-1"),
        MacAlgorithm::HS256,
        HMAC_SECRET.as_bytes(),
    );
    fx.redeem(&fx.code("csj"), &jwt, &[])
        .expect("HS256 assertion");
    // Another key: the signature fails.
    let jwt = maced(
        &header("HS256", None),
        &claims("csj", "csj-2"),
        MacAlgorithm::HS256,
        b"another-secret-of-the-same-length-at-least-32",
    );
    refused(
        fx.redeem(&fx.code("csj"), &jwt, &[]),
        Reject::AssertionSignatureInvalid,
    );
    // The registered algorithm only.
    let jwt = maced(
        &header("HS512", None),
        &claims("csj", "csj-3"),
        MacAlgorithm::HS512,
        HMAC_SECRET.as_bytes(),
    );
    refused(
        fx.redeem(&fx.code("csj"), &jwt, &[]),
        Reject::AssertionAlgorithmRefused,
    );
}

/// Keys from `jwks_uri` through the host's fetcher, which is told the `kid`; a fetch failure
/// is `invalid_client` with its own reason.
#[test]
fn jwks_uri_keys_are_fetched() {
    let fx = fixture_with(oidc_hybrid_rustcrypto::ClientKeyVerifier);
    let kid = fx.keys.es256.key_id().to_string();
    fx.redeem(&fx.code("pkj-uri"), &fx.es256("pkj-uri", "uri-1"), &[])
        .expect("fetched key");
    assert_eq!(
        fx.fetcher.asked.lock().expect("lock").as_slice(),
        &[Some(kid)]
    );
    // A key the document does not hold.
    let other = signed(
        &header("ES256", Some("other")),
        &claims("pkj-uri", "uri-2"),
        &fx.keys.other_es256,
    );
    refused(
        fx.redeem(&fx.code("pkj-uri"), &other, &[]),
        Reject::AssertionKeyUnknown,
    );
    // The document cannot be fetched.
    fx.fetcher.documents.lock().expect("lock").insert(
        "https://rp.example/jwks.json".into(),
        Err(FetchError::Unavailable),
    );
    refused(
        fx.redeem(&fx.code("pkj-uri"), &fx.es256("pkj-uri", "uri-3"), &[]),
        Reject::ClientJwksUnavailable,
    );
}

/// Every rule of the assertion, each with its exact reason.
#[test]
fn assertion_rules_each_refuse() {
    let fx = fixture_with(oidc_hybrid_ring::ClientKeyVerifier);
    let es = |c: &Value| signed(&header("ES256", None), c, &fx.keys.es256);
    let with = |jti: &str, name: &str, value: Value| {
        let mut c = claims("pkj-es", jti);
        if value.is_null() {
            c.as_object_mut().expect("object").remove(name);
        } else {
            c[name] = value;
        }
        c
    };
    let cases: Vec<(String, Reject)> = vec![
        (
            es(&with("a1", "exp", json!(T0 - 31))),
            Reject::AssertionExpired,
        ),
        (
            es(&with("a2", "exp", Value::Null)),
            Reject::AssertionMalformed,
        ),
        (
            es(&with("a3", "exp", json!(T0 + 301 + 30))),
            Reject::AssertionLifetimeTooLong,
        ),
        (
            es(&with("a4", "nbf", json!(T0 + 60))),
            Reject::AssertionExpired,
        ),
        (
            es(&with("a5", "iat", json!(T0 + 60))),
            Reject::AssertionExpired,
        ),
        (
            es(&with("a6", "aud", json!("https://op.example/other"))),
            Reject::AssertionAudienceMismatch,
        ),
        (
            es(&with("a7", "iss", json!("pkj-ps"))),
            Reject::AssertionIssuerMismatch,
        ),
        (
            es(&with("a8", "jti", Value::Null)),
            Reject::AssertionJtiMissing,
        ),
        (
            es(&with("a9", "jti", json!(""))),
            Reject::AssertionJtiMissing,
        ),
        // `sub` names another registered private_key_jwt client: its keys do not verify.
        (
            signed(
                &header("ES256", None),
                &{
                    let mut c = claims("pkj-uri", "a10");
                    c["iss"] = json!("pkj-uri");
                    c
                },
                &fx.keys.other_es256,
            ),
            Reject::AssertionSignatureInvalid,
        ),
        // Unknown kid.
        (
            signed(
                &header("ES256", Some("nope")),
                &claims("pkj-es", "a11"),
                &fx.keys.es256,
            ),
            Reject::AssertionKeyUnknown,
        ),
        // The signature of another key under a registered kid.
        (
            signed(
                &header("ES256", Some(fx.keys.es256.key_id())),
                &claims("pkj-es", "a12"),
                &fx.keys.other_es256,
            ),
            Reject::AssertionSignatureInvalid,
        ),
        // alg none.
        (
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none"})),
                b64(&claims("pkj-es", "a13"))
            ),
            Reject::AssertionAlgorithmRefused,
        ),
        // HMAC with the public key as the secret (algorithm confusion).
        (
            maced(
                &header("HS256", None),
                &claims("pkj-es", "a14"),
                MacAlgorithm::HS256,
                serde_json::to_string(&jwk_json(&fx.keys.es256))
                    .expect("json")
                    .as_bytes(),
            ),
            Reject::AssertionAlgorithmRefused,
        ),
        // A header alg that does not fit the key.
        (
            signed(
                &header("RS256", Some(fx.keys.es256.key_id())),
                &claims("pkj-es", "a15"),
                &fx.keys.es256,
            ),
            Reject::AssertionKeyUnknown,
        ),
        // Not a JWT.
        ("not.a.jwt".into(), Reject::AssertionMalformed),
    ];
    for (assertion, reject) in cases {
        refused(fx.redeem(&fx.code("pkj-es"), &assertion, &[]), reject);
    }
    // The registered algorithm only (PS256 for pkj-ps).
    let es = signed(
        &header("ES256", None),
        &claims("pkj-ps", "b1"),
        &fx.keys.es256,
    );
    refused(
        fx.redeem(&fx.code("pkj-ps"), &es, &[]),
        Reject::AssertionAlgorithmRefused,
    );
    // A secret client may not assert with a key.
    refused(
        fx.redeem(&fx.code("rs-basic"), &fx.es256("rs-basic", "b2"), &[]),
        Reject::AuthMethodMismatch,
    );
    // The body's client_id must be the assertion's sub.
    refused(
        fx.redeem(
            &fx.code("pkj-es"),
            &fx.es256("pkj-es", "b3"),
            &[("client_id", "pkj-ps")],
        ),
        Reject::ClientIdConflict,
    );
    // An assertion plus a secret is two methods.
    refused(
        fx.redeem(
            &fx.code("pkj-es"),
            &fx.es256("pkj-es", "b4"),
            &[("client_secret", SECRET)],
        ),
        Reject::MultipleAuthMethods,
    );
    // The wrong assertion type; an assertion without its type.
    let code = fx.code("pkj-es");
    let assertion = fx.es256("pkj-es", "b5");
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
        ),
        ("client_assertion", assertion.as_str()),
    ];
    let result = block_on(
        fx.provider
            .token(&Params::parse(&form(&pairs)).expect("form"), None),
    );
    refused(result, Reject::AssertionTypeUnsupported);
    let result = block_on(fx.provider.token(
        &Params::parse(&form(&[pairs[0], pairs[1], pairs[2], pairs[4]])).expect("form"),
        None,
    ));
    refused(result, Reject::AssertionIncomplete);
    // Basic plus an assertion.
    let result = block_on(fx.provider.token(
        &Params::parse(&form(&pairs)).expect("form"),
        Some(&oidc_hybrid_tests::basic("rs-basic", SECRET)),
    ));
    refused(result, Reject::MultipleAuthMethods);
}

/// A `jti` is single use: the same assertion twice, and from many threads at once, succeeds
/// once (RFC 7523 §3; OIDC Core §9).
#[test]
fn assertions_are_single_use() {
    let fx = fixture_with(oidc_hybrid_ring::ClientKeyVerifier);
    let assertion = fx.es256("pkj-es", "once");
    fx.redeem(&fx.code("pkj-es"), &assertion, &[])
        .expect("first use");
    refused(
        fx.redeem(&fx.code("pkj-es"), &assertion, &[]),
        Reject::AssertionReplayed,
    );
    // Concurrently, each request with its own code and the same fresh assertion.
    let assertion = fx.es256("pkj-es", "raced");
    let codes: Vec<String> = (0..16).map(|_| fx.code("pkj-es")).collect();
    let barrier = std::sync::Barrier::new(codes.len());
    let results: Vec<Result<TokenResponse, EndpointError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = codes
            .iter()
            .map(|code| {
                scope.spawn(|| {
                    barrier.wait();
                    fx.redeem(code, &assertion, &[])
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(
        ok, 1,
        "exactly one request authenticates with the assertion"
    );
    for error in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(error.reject(), Reject::AssertionReplayed);
    }
}

/// The revocation endpoint authenticates clients the same way; its URL is an accepted
/// audience.
#[test]
fn revocation_accepts_assertions() {
    let fx = fixture_with(oidc_hybrid_rustcrypto::ClientKeyVerifier);
    let token = fx
        .redeem(&fx.code("pkj-es"), &fx.es256("pkj-es", "r1"), &[])
        .expect("tokens");
    let mut c = claims("pkj-es", "r2");
    c["aud"] = json!("https://op.example/revoke");
    let assertion = signed(&header("ES256", None), &c, &fx.keys.es256);
    let pairs = [
        ("token", token.access_token()),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion.as_str()),
    ];
    block_on(
        fx.provider
            .revoke(&Params::parse(&form(&pairs)).expect("form"), None),
    )
    .expect("revoked");
    let record = block_on(oidc_hybrid::Storage::access_token(
        fx.provider.storage(),
        &oidc_hybrid::SecretDigest::of(token.access_token()),
        fx.clock.now(),
    ))
    .expect("store");
    assert!(record.is_none(), "the access token is revoked");
}

/// Discovery offers `private_key_jwt` only with a verifier, and lists the algorithms in
/// effect; `client_secret_jwt` is always there.
#[test]
fn discovery_lists_jwt_methods() {
    let fx = fixture_with(oidc_hybrid_ring::ClientKeyVerifier);
    let doc: Value = serde_json::from_str(&fx.provider.discovery().to_json()).expect("JSON");
    let methods = doc["token_endpoint_auth_methods_supported"]
        .as_array()
        .expect("list");
    assert!(methods.contains(&json!("private_key_jwt")));
    assert!(methods.contains(&json!("client_secret_jwt")));
    let algs = doc["token_endpoint_auth_signing_alg_values_supported"]
        .as_array()
        .expect("list");
    for alg in ["ES256", "PS256", "RS256", "EdDSA", "HS256"] {
        assert!(algs.contains(&json!(alg)), "{alg}");
    }
    assert!(!algs.contains(&json!("none")));
    let plain: Value = serde_json::from_str(
        &oidc_hybrid_tests::Harness::new()
            .provider
            .discovery()
            .to_json(),
    )
    .expect("JSON");
    let methods = plain["token_endpoint_auth_methods_supported"]
        .as_array()
        .expect("list");
    assert!(!methods.contains(&json!("private_key_jwt")));
    let _ = ISSUER;
}

/// Registration rules for key-based clients (RFC 7591 §2; OIDC Registration §2).
#[test]
fn key_metadata_registration_rules() {
    let keys = client_keys();
    let register = |value: Value| {
        let metadata: ClientMetadata = serde_json::from_value(value).expect("metadata");
        Client::register(metadata).err()
    };
    let jwks = json!({"keys": [jwk_json(&keys.es256)]});
    let base = |extra: Value| {
        let mut value = json!({"client_id": "k", "redirect_uris": [REDIRECT_URI],
                               "token_endpoint_auth_method": "private_key_jwt"});
        for (k, v) in extra.as_object().expect("object") {
            value[k] = v.clone();
        }
        value
    };
    for (extra, reject) in [
        (json!({}), Reject::JwksMissing),
        (
            json!({"jwks": jwks, "jwks_uri": "https://rp.example/jwks"}),
            Reject::JwksConflict,
        ),
        (
            json!({"jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "d": "AA"}]}}),
            Reject::JwksInvalid,
        ),
        (json!({"jwks": {"keys": []}}), Reject::JwksInvalid),
        (
            json!({"jwks_uri": "http://rp.example/jwks"}),
            Reject::JwksUriInvalid,
        ),
        (
            json!({"jwks": jwks, "token_endpoint_auth_signing_alg": "HS256"}),
            Reject::SigningAlgorithmUnsupported,
        ),
        (
            json!({"jwks": jwks, "token_endpoint_auth_signing_alg": "none"}),
            Reject::SigningAlgorithmUnsupported,
        ),
        (
            json!({"jwks": jwks, "client_secret": SECRET}),
            Reject::ClientSecretUnexpected,
        ),
        (
            json!({"jwks": jwks, "request_object_signing_alg": "HS256"}),
            Reject::SigningAlgorithmUnsupported,
        ),
    ] {
        assert_eq!(register(base(extra.clone())), Some(reject), "{extra}");
    }
    assert_eq!(register(base(json!({"jwks": jwks}))), None);
    assert_eq!(
        register(base(json!({"jwks_uri": "https://rp.example/jwks"}))),
        None
    );
    // client_secret_jwt keeps the secret in clear for HMAC, never in the metadata.
    let csj: ClientMetadata = serde_json::from_value(json!({
        "client_id": "c", "redirect_uris": [REDIRECT_URI],
        "token_endpoint_auth_method": "client_secret_jwt", "client_secret": HMAC_SECRET,
    }))
    .expect("metadata");
    let client = Client::register(csj).expect("registers");
    assert_eq!(client.secret_key().map(|s| s.expose()), Some(HMAC_SECRET));
    assert!(
        !serde_json::to_string(client.metadata())
            .expect("json")
            .contains(HMAC_SECRET)
    );
    assert!(!format!("{client:?}").contains(HMAC_SECRET));
}
