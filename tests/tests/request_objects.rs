//! Request objects (RFC 9101; OIDC Core §6.1) and pushed authorization requests (RFC 9126):
//! whole flows, and every refusal with its exact reason and disposition.

use oidc_hybrid::client_auth::JWT_BEARER;
use oidc_hybrid::{
    Approval, AuthorizeError, BoundRequest, Clock, Disposition, EndpointError, MacAlgorithm,
    Params, PushedResponse, Reject, Subject, TokenResponse,
};
use oidc_hybrid_testkit::rp::{Delivered, IdTokenRules, Jwks, assert_passed, consistency};
use oidc_hybrid_tests::jwt::{
    HMAC_SECRET, ISSUER, KeyFixture, T0, b64, claims, header, key_fixture, maced, signed,
};
use oidc_hybrid_tests::{REDIRECT_URI, SECRET, basic, block_on, form};
use serde_json::{Value, json};

fn fixture() -> KeyFixture {
    key_fixture(oidc_hybrid_ring::ClientKeyVerifier, |_| {})
}

/// The claims of a request object of `client` for `code id_token`.
fn object_claims(client: &str, jti: &str) -> Value {
    json!({
        "iss": client,
        "aud": ISSUER,
        "client_id": client,
        "response_type": "code id_token",
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile",
        "state": "object-state",
        "nonce": "object-nonce",
        "max_age": 600,
        "claims": {"id_token": {"acr": {"essential": false}}},
        "exp": T0 + 300,
        "nbf": T0,
        "jti": jti,
    })
}

fn authorize(fx: &KeyFixture, pairs: &[(&str, &str)]) -> Result<BoundRequest, AuthorizeError> {
    let body = form(pairs);
    block_on(fx.provider.authorize(&Params::parse(&body).expect("form")))
}

fn with_object<'a>(client: &'a str, object: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", client),
        ("request", object),
        ("response_type", "code id_token"),
        ("scope", "openid"),
    ]
}

fn shown(result: Result<BoundRequest, AuthorizeError>, reject: Reject) {
    let error = result.expect_err("refused");
    assert_eq!(error.reject(), reject, "{error}");
    assert_eq!(error.disposition(), &Disposition::ShowToUser);
}

fn push(
    fx: &KeyFixture,
    pairs: &[(&str, &str)],
    authorization: Option<&str>,
) -> Result<PushedResponse, EndpointError> {
    let body = form(pairs);
    block_on(
        fx.provider
            .push(&Params::parse(&body).expect("form"), authorization),
    )
}

fn approve(fx: &KeyFixture, bound: BoundRequest) -> Delivered {
    let approval = Approval::new(Subject::new("alice").expect("subject"), fx.clock.now());
    let response = block_on(fx.provider.approve(bound, approval)).expect("approved");
    Delivered::from_response(&response)
}

fn redeem_as_basic(fx: &KeyFixture, client: &str, code: &str) -> TokenResponse {
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
    ];
    let body = form(&pairs);
    block_on(fx.provider.token(
        &Params::parse(&body).expect("form"),
        Some(basic(client, SECRET).as_str()),
    ))
    .expect("tokens")
}

/// A signed request object's parameters are the request: the query's are ignored (RFC 9101
/// §6.3), numbers and the `claims` object become parameters, and the response carries the
/// object's `state`.
#[test]
fn request_object_parameters_are_authoritative() {
    let fx = fixture();
    for (client, object) in [
        (
            "pkj-es",
            signed(
                &header("ES256", None),
                &object_claims("pkj-es", "o1"),
                &fx.keys.es256,
            ),
        ),
        (
            "pkj-ps",
            signed(
                &header("PS256", Some("client-ps256")),
                &object_claims("pkj-ps", "o2"),
                &fx.keys.ps256,
            ),
        ),
        (
            "csj",
            maced(
                &header("HS256", None),
                &object_claims("csj", "o3"),
                MacAlgorithm::HS256,
                HMAC_SECRET.as_bytes(),
            ),
        ),
    ] {
        let mut pairs = with_object(client, &object);
        pairs.extend([("state", "query-state"), ("nonce", "query-nonce")]);
        let bound = authorize(&fx, &pairs).unwrap_or_else(|e| panic!("{client}: {e}"));
        assert_eq!(bound.state().map(|s| s.as_str()), Some("object-state"));
        assert_eq!(bound.nonce().map(|n| n.as_str()), Some("object-nonce"));
        assert_eq!(bound.max_age(), Some(600));
        assert_eq!(bound.scope().to_string(), "openid profile");
        assert_eq!(
            bound.origin(),
            oidc_hybrid::request_object::RequestOrigin::Object
        );
        let delivered = approve(&fx, bound);
        assert_eq!(delivered.get("state"), Some("object-state"));
        assert!(delivered.get("id_token").is_some());
    }
}

/// Every rule of a request object, each refusal shown to the user (nothing in an unverified
/// object says where a response may go) as `invalid_request_object` with its reason.
#[test]
fn request_object_rules_each_refuse() {
    let fx = fixture();
    let es = |c: &Value| signed(&header("ES256", None), c, &fx.keys.es256);
    let claim = |jti: &str, name: &str, value: Value| {
        let mut c = object_claims("pkj-es", jti);
        c[name] = value;
        c
    };
    let cases: Vec<(String, Reject)> = vec![
        (
            es(&claim("r1", "client_id", json!("pkj-ps"))),
            Reject::RequestObjectClientMismatch,
        ),
        (
            es(&claim("r2", "iss", json!("pkj-ps"))),
            Reject::RequestObjectClientMismatch,
        ),
        (
            es(&claim("r3", "aud", json!("https://other.example"))),
            Reject::RequestObjectAudienceMismatch,
        ),
        (
            es(&claim("r4", "exp", json!(T0 - 31))),
            Reject::RequestObjectExpired,
        ),
        (
            es(&claim("r5", "nbf", json!(T0 + 60))),
            Reject::RequestObjectExpired,
        ),
        (
            es(&claim("r6", "exp", json!(T0 + 3601))),
            Reject::RequestObjectLifetimeTooLong,
        ),
        (
            es(&claim("r7", "response_type", json!("code"))),
            Reject::RequestObjectResponseTypeMismatch,
        ),
        (
            es(&claim("r8", "exp", json!("soon"))),
            Reject::RequestObjectMalformed,
        ),
        (
            es(&claim("r9", "prompt", json!(["login"]))),
            Reject::RequestObjectMalformed,
        ),
        (
            signed(
                &header("ES256", None),
                &object_claims("pkj-es", "r10"),
                &fx.keys.other_es256,
            ),
            Reject::RequestObjectSignatureInvalid,
        ),
        (
            signed(
                &header("ES256", Some("unknown")),
                &object_claims("pkj-es", "r11"),
                &fx.keys.es256,
            ),
            Reject::RequestObjectKeyUnknown,
        ),
        (
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none"})),
                b64(&object_claims("pkj-es", "r12"))
            ),
            Reject::RequestObjectAlgorithmRefused,
        ),
        (
            maced(
                &header("HS256", None),
                &object_claims("pkj-es", "r13"),
                MacAlgorithm::HS256,
                b"public-key-as-a-secret-of-enough-length",
            ),
            Reject::RequestObjectAlgorithmRefused,
        ),
        ("a.b.c.d.e".into(), Reject::RequestObjectEncrypted),
        ("not-a-jwt".into(), Reject::RequestObjectMalformed),
    ];
    for (object, reject) in cases {
        shown(authorize(&fx, &with_object("pkj-es", &object)), reject);
    }
    // The registered algorithm only (pkj-ps: PS256).
    let es = signed(
        &header("ES256", None),
        &object_claims("pkj-ps", "r14"),
        &fx.keys.es256,
    );
    shown(
        authorize(&fx, &with_object("pkj-ps", &es)),
        Reject::RequestObjectAlgorithmRefused,
    );
    // A jti is single use.
    let object = signed(
        &header("ES256", None),
        &object_claims("pkj-es", "once"),
        &fx.keys.es256,
    );
    authorize(&fx, &with_object("pkj-es", &object)).expect("first use");
    shown(
        authorize(&fx, &with_object("pkj-es", &object)),
        Reject::RequestObjectReplayed,
    );
    // request and request_uri together; no client_id in the query.
    let pairs = [
        ("client_id", "pkj-es"),
        ("request", object.as_str()),
        ("request_uri", "urn:x"),
    ];
    shown(authorize(&fx, &pairs), Reject::RequestAndRequestUri);
    shown(
        authorize(&fx, &[("request", object.as_str())]),
        Reject::ClientIdMissing,
    );
    // OIDC Core §6.1: response_type and a scope with openid outside the object too.
    for pairs in [
        vec![
            ("client_id", "pkj-es"),
            ("request", object.as_str()),
            ("scope", "openid"),
        ],
        vec![
            ("client_id", "pkj-es"),
            ("request", object.as_str()),
            ("response_type", "code id_token"),
        ],
        vec![
            ("client_id", "pkj-es"),
            ("request", object.as_str()),
            ("response_type", "code id_token"),
            ("scope", "profile"),
        ],
    ] {
        shown(
            authorize(&fx, &pairs),
            Reject::RequestObjectOuterParametersMissing,
        );
    }
    // A request_uri this provider did not issue is not fetched.
    let pairs = [
        ("client_id", "pkj-es"),
        ("request_uri", "https://rp.example/request.jwt"),
    ];
    shown(authorize(&fx, &pairs), Reject::RequestUriNotSupported);
    assert_eq!(
        Reject::RequestObjectExpired.code().as_str(),
        "invalid_request_object"
    );
}

/// Unsigned request objects only for a client that registered `none`, and only when the
/// configuration allows them (RFC 9101 §10.2).
#[test]
fn unsigned_request_objects_need_registration_and_configuration() {
    let object = format!(
        "{}.{}.",
        b64(&json!({"alg": "none"})),
        b64(&object_claims("unsigned", "u1"))
    );
    let fx = fixture();
    shown(
        authorize(&fx, &with_object("unsigned", &object)),
        Reject::RequestObjectAlgorithmRefused,
    );
    let fx = key_fixture(oidc_hybrid_ring::ClientKeyVerifier, |c| {
        c.allow_unsigned_request_objects = true;
    });
    authorize(&fx, &with_object("unsigned", &object)).expect("allowed");
    // A client that did not register none still cannot.
    let object = format!(
        "{}.{}.",
        b64(&json!({"alg": "none"})),
        b64(&object_claims("pkj-es", "u2"))
    );
    shown(
        authorize(&fx, &with_object("pkj-es", &object)),
        Reject::RequestObjectAlgorithmRefused,
    );
    let doc: Value = serde_json::from_str(&fx.provider.discovery().to_json()).expect("JSON");
    assert!(
        doc["request_object_signing_alg_values_supported"]
            .as_array()
            .expect("list")
            .contains(&json!("none"))
    );
}

/// PAR: the pushed request is validated, stored without credentials, answered with a
/// `urn:ietf:params:oauth:request_uri:` of 256 random bits and `expires_in`; the authorization
/// endpoint resolves it once, for the client that pushed it, until it expires.
#[test]
fn pushed_requests_are_single_use_and_bound_to_their_client() {
    let fx = fixture();
    let pairs = [
        ("response_type", "code id_token"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid email"),
        ("state", "pushed-state"),
        ("nonce", "pushed-nonce"),
    ];
    let pushed = push(&fx, &pairs, Some(&basic("rs-basic", SECRET))).expect("pushed");
    assert_eq!(pushed.expires_in(), 60);
    let handle = pushed
        .request_uri()
        .strip_prefix("urn:ietf:params:oauth:request_uri:")
        .expect("the PAR prefix");
    assert_eq!(handle.len(), 43, "256 bits, base64url");
    let json: Value = serde_json::from_str(&pushed.to_json()).expect("JSON");
    assert_eq!(json["request_uri"], pushed.request_uri());
    // Another client cannot use it (and using it spends it).
    let by_other = [
        ("client_id", "es-post"),
        ("request_uri", pushed.request_uri()),
    ];
    shown(authorize(&fx, &by_other), Reject::RequestUriClientMismatch);
    let pushed = push(&fx, &pairs, Some(&basic("rs-basic", SECRET))).expect("pushed");
    let pairs_at_authorize = [
        ("client_id", "rs-basic"),
        ("request_uri", pushed.request_uri()),
        ("state", "ignored"),
    ];
    let bound = authorize(&fx, &pairs_at_authorize).expect("resolved");
    assert_eq!(bound.state().map(|s| s.as_str()), Some("pushed-state"));
    assert_eq!(
        bound.origin(),
        oidc_hybrid::request_object::RequestOrigin::Pushed
    );
    let delivered = approve(&fx, bound);
    redeem_as_basic(&fx, "rs-basic", delivered.get("code").expect("code"));
    shown(
        authorize(&fx, &pairs_at_authorize),
        Reject::RequestUriInvalid,
    );
    // Expired after 60 s.
    let pushed = push(&fx, &pairs, Some(&basic("rs-basic", SECRET))).expect("pushed");
    fx.clock.advance(60);
    let late = [
        ("client_id", "rs-basic"),
        ("request_uri", pushed.request_uri()),
    ];
    shown(authorize(&fx, &late), Reject::RequestUriInvalid);
}

/// A pushed request is checked as an authorization request, with errors as JSON (RFC 9126
/// §2.3); the client authenticates; `request_uri` cannot be pushed.
#[test]
fn pushed_request_errors_are_json() {
    let fx = fixture();
    let ok = [
        ("response_type", "code id_token"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid"),
        ("nonce", "n"),
    ];
    /// The pushed pairs, the `Authorization` header, and the expected reason, code and status.
    type Case<'a> = (
        Vec<(&'a str, &'a str)>,
        Option<String>,
        Reject,
        &'a str,
        u16,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            ok.to_vec(),
            Some(basic(
                "rs-basic",
                "wrong-secret-of-enough-length-0123456789",
            )),
            Reject::ClientAuthenticationFailed,
            "invalid_client",
            401,
        ),
        (
            ok.to_vec(),
            None,
            Reject::ClientIdMissing,
            "invalid_request",
            400,
        ),
        (
            [
                &ok[..],
                &[("request_uri", "urn:ietf:params:oauth:request_uri:x")],
            ]
            .concat(),
            Some(basic("rs-basic", SECRET)),
            Reject::PushedRequestUriForbidden,
            "invalid_request",
            400,
        ),
        (
            vec![
                ("response_type", "code id_token"),
                ("redirect_uri", "https://evil.example/cb"),
                ("scope", "openid"),
                ("nonce", "n"),
            ],
            Some(basic("rs-basic", SECRET)),
            Reject::RedirectUriMismatch,
            "invalid_request",
            400,
        ),
        (
            vec![
                ("response_type", "code id_token"),
                ("redirect_uri", REDIRECT_URI),
                ("scope", "profile"),
                ("nonce", "n"),
            ],
            Some(basic("rs-basic", SECRET)),
            Reject::ScopeOpenIdMissing,
            "invalid_scope",
            400,
        ),
        (
            vec![
                ("response_type", "code id_token"),
                ("redirect_uri", REDIRECT_URI),
                ("scope", "openid"),
            ],
            Some(basic("rs-basic", SECRET)),
            Reject::NonceMissing,
            "invalid_request",
            400,
        ),
    ];
    for (pairs, authorization, reject, code, status) in cases {
        let error = push(&fx, &pairs, authorization.as_deref()).expect_err("refused");
        assert_eq!(error.reject(), reject);
        assert_eq!(error.code().as_str(), code);
        assert_eq!(error.status(), status);
    }
}

/// A client (or the whole provider) that requires PAR gets `invalid_request` at the
/// authorization endpoint without it, redirected (the redirect URI is registered), and gets
/// through with it.
#[test]
fn required_par_is_enforced() {
    let fx = fixture();
    let plain = oidc_hybrid_tests::auth_pairs("code id_token", "par-only");
    let error = authorize(&fx, &plain).expect_err("must push");
    assert_eq!(error.reject(), Reject::PushedRequestRequired);
    assert!(matches!(
        error.disposition(),
        Disposition::RedirectToClient(_)
    ));
    let mut pairs = vec![
        ("response_type", "code id_token"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid"),
        ("nonce", "n"),
        ("client_assertion_type", JWT_BEARER),
    ];
    let mut claims_for_par = claims("par-only", "par-2");
    claims_for_par["aud"] = json!(format!("{ISSUER}/par"));
    let par_assertion = signed(&header("ES256", None), &claims_for_par, &fx.keys.es256);
    pairs.push(("client_assertion", &par_assertion));
    let pushed = push(&fx, &pairs, None).expect("pushed with private_key_jwt");
    authorize(
        &fx,
        &[
            ("client_id", "par-only"),
            ("request_uri", pushed.request_uri()),
        ],
    )
    .expect("through PAR");
    // Globally.
    let fx = key_fixture(oidc_hybrid_ring::ClientKeyVerifier, |c| {
        c.require_pushed_authorization_requests = true;
    });
    let error = authorize(
        &fx,
        &oidc_hybrid_tests::auth_pairs("code id_token", "rs-basic"),
    )
    .expect_err("must push");
    assert_eq!(error.reject(), Reject::PushedRequestRequired);
    let doc: Value = serde_json::from_str(&fx.provider.discovery().to_json()).expect("JSON");
    assert_eq!(doc["require_pushed_authorization_requests"], true);
    assert_eq!(
        doc["pushed_authorization_request_endpoint"],
        format!("{ISSUER}/par")
    );
    assert_eq!(doc["request_parameter_supported"], true);
}

/// The FAPI-style whole flow: a `private_key_jwt` client pushes a signed request object, the
/// authorization endpoint resolves it, the code is redeemed with another assertion; both ID
/// tokens pass the independent relying-party checks.
#[test]
fn par_with_a_request_object_and_private_key_jwt_completes_a_flow() {
    let fx = fixture();
    let object = signed(
        &header("PS256", Some("client-ps256")),
        &object_claims("pkj-ps", "flow-object"),
        &fx.keys.ps256,
    );
    let mut par_claims = claims("pkj-ps", "flow-par");
    par_claims["aud"] = json!(ISSUER);
    let par_assertion = signed(&header("PS256", None), &par_claims, &fx.keys.ps256);
    let pushed = push(
        &fx,
        &[
            ("client_id", "pkj-ps"),
            ("request", &object),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &par_assertion),
        ],
        None,
    )
    .expect("pushed");
    let bound = authorize(
        &fx,
        &[
            ("client_id", "pkj-ps"),
            ("request_uri", pushed.request_uri()),
        ],
    )
    .expect("resolved");
    assert_eq!(bound.state().map(|s| s.as_str()), Some("object-state"));
    let delivered = approve(&fx, bound);
    let code = delivered.get("code").expect("code").to_string();
    let front = delivered
        .get("id_token")
        .expect("front ID token")
        .to_string();
    let token_assertion = signed(
        &header("PS256", None),
        &claims("pkj-ps", "flow-token"),
        &fx.keys.ps256,
    );
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", token_assertion.as_str()),
    ];
    let body = form(&pairs);
    let tokens = block_on(
        fx.provider
            .token(&Params::parse(&body).expect("form"), None),
    )
    .expect("tokens");
    let jwks = serde_json::to_value(fx.provider.jwks()).expect("JWKS");
    let keys = Jwks::from_json(&jwks).expect("key set");
    let rules = || {
        IdTokenRules::new(ISSUER, "pkj-ps")
            .at(fx.clock.now())
            .nonce(Some("object-nonce"))
    };
    let first = rules().c_hash(Some(code.as_str())).validate(&front, &keys);
    let second = rules()
        .at_hash(Some(tokens.access_token()))
        .validate(tokens.id_token().expect("ID token"), &keys);
    assert_passed(&consistency(&first, &second), "front and back ID tokens");
}

/// Of many simultaneous uses of one `request_uri`, exactly one resolves.
#[test]
fn concurrent_uses_of_a_request_uri_resolve_once() {
    let fx = fixture();
    let pairs = [
        ("response_type", "code id_token"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid"),
        ("nonce", "n"),
    ];
    let pushed = push(&fx, &pairs, Some(&basic("rs-basic", SECRET))).expect("pushed");
    let at_authorize = [
        ("client_id", "rs-basic"),
        ("request_uri", pushed.request_uri()),
    ];
    let barrier = std::sync::Barrier::new(16);
    let results: Vec<bool> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    authorize(&fx, &at_authorize).is_ok()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(results.iter().filter(|ok| **ok).count(), 1);
}
