//! Client authentication by JWT at the token and revocation endpoints: `private_key_jwt`
//! (ES256, PS256, RS256 with inline `jwks` or a fetched `jwks_uri`) and `client_secret_jwt`
//! (HS256), through both verifiers (RustCrypto and ring), with every refusal asserted exactly
//! (RFC 7523 §2.2, §3; OIDC Core §9; RFC 8725 §2.1, §3.1).

use oidc_hybrid::client_auth::JWT_BEARER;
use oidc_hybrid::{
    Client, ClientMetadata, Clock, EndpointError, FetchError, JwsVerifier, MacAlgorithm, Params,
    Reject, Signer, TokenResponse,
};
use oidc_hybrid_tests::jwt::{
    HMAC_SECRET, JWKS_URI, KeyFixture, T0, TOKEN_ENDPOINT, b64, claims, client_keys, header,
    jwk_json, key_fixture, maced, signed,
};
use oidc_hybrid_tests::{REDIRECT_URI, SECRET, block_on, form};
use serde_json::{Value, json};

fn fixture_with(verifier: impl JwsVerifier + 'static) -> KeyFixture {
    key_fixture(verifier, |config| {
        config.token_endpoint = TOKEN_ENDPOINT.into()
    })
}

trait Redeem {
    fn redeem(
        &self,
        code: &str,
        assertion: &str,
        extra: &[(&str, &str)],
    ) -> Result<TokenResponse, EndpointError>;
    fn es256(&self, client: &str, jti: &str) -> String;
}

impl Redeem for KeyFixture {
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
        self.es256_assertion(client, jti)
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

fn verifiers() -> Vec<(&'static str, KeyFixture)> {
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
    fx.fetcher
        .documents
        .lock()
        .expect("lock")
        .insert(JWKS_URI.into(), Err(FetchError::Unavailable));
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
        Some(oidc_hybrid_tests::basic("rs-basic", SECRET).as_str()),
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
