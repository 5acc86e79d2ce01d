//! Negative tests of the token endpoint: client authentication, code redemption, PKCE, code
//! lifetime, concurrent redemption and refresh, each with the exact wire code, HTTP status and
//! `WWW-Authenticate` challenge (RFC 6749 §2.3.1, §4.1.3, §5.2, §6; RFC 7636 §4.6;
//! OIDC Core §3.1.3).
//!
//! REQUIREMENTS covered: 89, 90, 92–94, 96–100, 108–114, 127, 130, 135, 136, 138.

use std::collections::HashMap;
use std::sync::Arc;

use base64ct::{Base64, Encoding};
use oidc_hybrid::{
    AuthorizationCode, Config, ConfigError, EndpointError, Params, Redemption, Reject, Storage,
    TokenResponse,
};
use oidc_hybrid_testkit::contract::race;
use oidc_hybrid_tests::{
    Harness, ISSUER, REDIRECT_URI, SECRET, assert_safe_description, auth_pairs, basic, form,
    pkce_pair, redeem_pairs, set_param,
};

/// Runs an authorization for `client_id` and returns what the client received.
fn authorize(h: &Harness, response_type: &str, client_id: &str) -> HashMap<String, String> {
    let mut pairs = auth_pairs(response_type, client_id);
    set_param(&mut pairs, "scope", Some("openid profile email"));
    h.issue(&pairs, "alice")
}

/// Checks a token endpoint error: reason, wire code, status, challenge and JSON body.
fn check(
    result: Result<TokenResponse, EndpointError>,
    reject: Reject,
    code: &str,
    status: u16,
    challenge: Option<&str>,
) -> EndpointError {
    let err = result.expect_err("the request must fail");
    assert_eq!(err.reject(), reject, "reason");
    assert_eq!(err.code().as_str(), code, "wire code");
    assert_eq!(err.status(), status, "HTTP status of {reject:?}");
    match challenge {
        Some(prefix) => {
            let value = err.www_authenticate().expect("WWW-Authenticate");
            assert!(value.starts_with(prefix), "{value}");
        }
        None => assert_eq!(err.www_authenticate(), None, "no challenge for {reject:?}"),
    }
    let body: serde_json::Value = serde_json::from_str(&err.to_json()).expect("JSON error body");
    assert_eq!(body["error"], code);
    assert_safe_description(body["error_description"].as_str().expect("description"));
    err
}

/// `invalid_grant`, 400, no challenge.
fn invalid_grant(result: Result<TokenResponse, EndpointError>, reject: Reject) {
    check(result, reject, "invalid_grant", 400, None);
}

/// Asserts that `code` was spent: redeeming it again is a replay.
fn assert_spent(h: &Harness, code: &str) {
    invalid_grant(h.redeem("rs-basic", code), Reject::CodeReplayed);
}

/// Issues two codes for `rs-basic` now, redeems the first one second before `lifetime` ends
/// and returns the error for the second one, redeemed one second after.
fn redeem_around_expiry(h: &Harness, lifetime: u64) -> EndpointError {
    let early = authorize(h, "code id_token", "rs-basic")["code"].clone();
    let late = authorize(h, "code id_token", "rs-basic")["code"].clone();
    h.clock.advance(lifetime - 1);
    h.redeem("rs-basic", &early).expect("within the lifetime");
    h.clock.advance(2);
    h.redeem("rs-basic", &late).expect_err("expired")
}

/// `invalid_request`, 400, no challenge.
fn invalid_request(result: Result<TokenResponse, EndpointError>, reject: Reject) {
    check(result, reject, "invalid_request", 400, None);
}

/// `invalid_scope`, 400, no challenge.
fn invalid_scope(result: Result<TokenResponse, EndpointError>, reject: Reject) {
    check(result, reject, "invalid_scope", 400, None);
}

/// `invalid_client` for a client that authenticated (or tried to) in the body: 400, no
/// challenge.
fn invalid_client_body(result: Result<TokenResponse, EndpointError>, reject: Reject) {
    check(result, reject, "invalid_client", 400, None);
}

/// `invalid_client` for a client that authenticated (or tried to) with HTTP Basic: 401 with a
/// `Basic` challenge.
fn invalid_client_basic(result: Result<TokenResponse, EndpointError>, reject: Reject) {
    check(result, reject, "invalid_client", 401, Some("Basic"));
}

// ---------------------------------------------------------------------------------------------
// Client authentication
// ---------------------------------------------------------------------------------------------

/// `client_secret_basic` form-urlencodes id and secret before base64: the secret with
/// `:+%&=` authenticates (REQUIREMENTS 98).
#[test]
fn basic_with_urlencoded_secret_works() {
    let h = Harness::new();
    assert!(SECRET.contains(':') && SECRET.contains('+') && SECRET.contains('%'));
    let params = authorize(&h, "code id_token", "rs-basic");
    let token = h
        .token(
            &form(&redeem_pairs(&params["code"])),
            Some(&basic("rs-basic", SECRET)),
        )
        .expect("redeems");
    assert!(token.id_token().is_some());
    // The scheme name is case-insensitive (RFC 7617 §2).
    let params = authorize(&h, "code id_token", "rs-basic");
    let header = basic("rs-basic", SECRET).replacen("Basic", "basic", 1);
    h.token(&form(&redeem_pairs(&params["code"])), Some(&header))
        .expect("lower-case scheme");
}

/// Basic credentials whose secret was not form-urlencoded do not authenticate: 401 with a
/// `Basic` challenge (REQUIREMENTS 98, 108).
#[test]
fn basic_without_urlencoding_is_invalid_client() {
    let h = Harness::new();
    let params = authorize(&h, "code id_token", "rs-basic");
    let raw = format!(
        "Basic {}",
        Base64::encode_string(format!("rs-basic:{SECRET}").as_bytes())
    );
    invalid_client_basic(
        h.token(&form(&redeem_pairs(&params["code"])), Some(&raw)),
        Reject::ClientAuthenticationFailed,
    );
    // The code was not consumed by a request that failed client authentication.
    h.redeem("rs-basic", &params["code"])
        .expect("the code still redeems");
}

/// A wrong secret: 400 without challenge in the body, 401 with `Basic` in the header
/// (REQUIREMENTS 101, 108).
#[test]
fn wrong_secret_is_invalid_client() {
    let h = Harness::new();
    let params = authorize(&h, "code id_token", "es-post");
    let wrong = format!("{SECRET}x");
    for secret in [wrong.as_str(), "short", &SECRET[..SECRET.len() - 1]] {
        let mut pairs = redeem_pairs(&params["code"]);
        pairs.extend([("client_id", "es-post"), ("client_secret", secret)]);
        invalid_client_body(
            h.token(&form(&pairs), None),
            Reject::ClientAuthenticationFailed,
        );
    }
    let params = authorize(&h, "code id_token", "rs-basic");
    invalid_client_basic(
        h.token(
            &form(&redeem_pairs(&params["code"])),
            Some(&basic("rs-basic", &wrong)),
        ),
        Reject::ClientAuthenticationFailed,
    );
}

/// Basic plus `client_secret` in the body is two methods: `invalid_request`
/// (REQUIREMENTS 100).
#[test]
fn two_authentication_methods_are_refused() {
    let h = Harness::new();
    let params = authorize(&h, "code id_token", "rs-basic");
    let secret = [("client_secret", SECRET)];
    // Basic plus a client assertion.
    let assertion = [
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"),
    ];
    for second_method in [&secret[..], &assertion] {
        let mut pairs = redeem_pairs(&params["code"]);
        pairs.extend_from_slice(second_method);
        invalid_request(
            h.token(&form(&pairs), Some(&basic("rs-basic", SECRET))),
            Reject::MultipleAuthMethods,
        );
    }
}

/// Basic for one client and a body `client_id` of another: `invalid_client`
/// (REQUIREMENTS 100).
#[test]
fn conflicting_client_ids_are_invalid_client() {
    let h = Harness::new();
    let params = authorize(&h, "code id_token", "rs-basic");
    let mut pairs = redeem_pairs(&params["code"]);
    pairs.push(("client_id", "es-post"));
    invalid_client_basic(
        h.token(&form(&pairs), Some(&basic("rs-basic", SECRET))),
        Reject::ClientIdConflict,
    );
    // The same client id in both places is fine.
    let mut pairs = redeem_pairs(&params["code"]);
    pairs.push(("client_id", "rs-basic"));
    h.token(&form(&pairs), Some(&basic("rs-basic", SECRET)))
        .expect("same id in header and body");
}

/// A client may only use the method it registered (REQUIREMENTS 97).
#[test]
fn unregistered_auth_method_is_invalid_client() {
    let h = Harness::new();
    let params = authorize(&h, "code id_token", "rs-basic");
    let code = params["code"].as_str();
    // client_secret_post by the Basic client.
    let mut pairs = redeem_pairs(code);
    pairs.extend([("client_id", "rs-basic"), ("client_secret", SECRET)]);
    invalid_client_body(h.token(&form(&pairs), None), Reject::AuthMethodMismatch);
    // No secret at all for a confidential client.
    let mut pairs = redeem_pairs(code);
    pairs.push(("client_id", "rs-basic"));
    invalid_client_body(h.token(&form(&pairs), None), Reject::AuthMethodMismatch);
    // Basic by the post client.
    let params = authorize(&h, "code id_token", "es-post");
    invalid_client_basic(
        h.token(
            &form(&redeem_pairs(&params["code"])),
            Some(&basic("es-post", SECRET)),
        ),
        Reject::AuthMethodMismatch,
    );
    // A client assertion by a client registered for client_secret_post.
    let assertion = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJlcy1wb3N0Iiwic3ViIjoiZXMtcG9zdCIsImF1ZCI6IngiLCJleHAiOjF9.c2ln";
    let mut pairs = redeem_pairs(&params["code"]);
    pairs.extend([
        ("client_id", "es-post"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
    ]);
    invalid_client_body(h.token(&form(&pairs), None), Reject::AuthMethodMismatch);
    // After all that, the right method still redeems the codes.
    h.redeem("rs-basic", code).expect("registered method works");
    h.redeem("es-post", &params["code"])
        .expect("registered method works");
}

/// An unknown client is `invalid_client` (REQUIREMENTS 97, 108).
#[test]
fn unknown_client_is_invalid_client() {
    let h = Harness::new();
    invalid_client_basic(
        h.token(
            &form(&redeem_pairs("whatever")),
            Some(&basic("nobody", SECRET)),
        ),
        Reject::ClientAuthenticationFailed,
    );
    let mut pairs = redeem_pairs("whatever");
    pairs.extend([("client_id", "nobody"), ("client_secret", SECRET)]);
    invalid_client_body(
        h.token(&form(&pairs), None),
        Reject::ClientAuthenticationFailed,
    );
    let mut pairs = redeem_pairs("whatever");
    pairs.push(("client_id", "nobody"));
    invalid_client_body(
        h.token(&form(&pairs), None),
        Reject::ClientAuthenticationFailed,
    );
    // No client identification at all.
    invalid_request(
        h.token(&form(&redeem_pairs("whatever")), None),
        Reject::ClientIdMissing,
    );
}

/// A malformed `Authorization` header is `invalid_request` (REQUIREMENTS 98).
#[test]
fn malformed_basic_header_is_invalid_request() {
    let h = Harness::new();
    let b64 = |s: &str| format!("Basic {}", Base64::encode_string(s.as_bytes()));
    let headers = [
        "Basic !!!not-base64!!!".to_string(),
        b64("no-colon-here"),
        b64(":only-a-secret"),
        b64("%FF%FE:secret"),
        "Basic".to_string(),
        "Bearer abc".to_string(),
        "Digest username=\"rs-basic\"".to_string(),
        format!("Basic {}", "A".repeat(4000)),
    ];
    for header in headers {
        invalid_request(
            h.token(&form(&redeem_pairs("whatever")), Some(&header)),
            Reject::MalformedAuthorizationHeader,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Grant parameters
// ---------------------------------------------------------------------------------------------

/// `grant_type` must be present and supported (REQUIREMENTS 114).
#[test]
fn grant_type_errors() {
    let h = Harness::new();
    let params = authorize(&h, "code id_token", "rs-basic");
    let code = params["code"].as_str();
    invalid_request(
        h.token_as(
            "rs-basic",
            &[("code", code), ("redirect_uri", REDIRECT_URI)],
        ),
        Reject::GrantTypeMissing,
    );
    for grant_type in [
        "password",
        "client_credentials",
        "implicit",
        "Authorization_Code",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ] {
        check(
            h.token_as(
                "rs-basic",
                &[
                    ("grant_type", grant_type),
                    ("code", code),
                    ("username", "alice"),
                    ("password", "pw"),
                ],
            ),
            Reject::GrantTypeUnsupported,
            "unsupported_grant_type",
            400,
            None,
        );
    }
    // refresh_token for a client without that grant type.
    check(
        h.token_as(
            "default",
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        ),
        Reject::GrantTypeNotAllowed,
        "unauthorized_client",
        400,
        None,
    );
    // None of this consumed the code.
    h.redeem("rs-basic", code).expect("still redeemable");
}

/// Missing, repeated and unknown codes (REQUIREMENTS 96, 109).
#[test]
fn code_parameter_errors() {
    let h = Harness::new();
    invalid_request(
        h.token_as(
            "rs-basic",
            &[
                ("grant_type", "authorization_code"),
                ("redirect_uri", REDIRECT_URI),
            ],
        ),
        Reject::CodeMissing,
    );
    invalid_request(
        h.token_as(
            "rs-basic",
            &[("grant_type", "refresh_token"), ("scope", "openid")],
        ),
        Reject::RefreshTokenMissing,
    );
    let params = authorize(&h, "code id_token", "rs-basic");
    let mut pairs = redeem_pairs(&params["code"]);
    pairs.push(("code", "another"));
    invalid_request(h.token_as("rs-basic", &pairs), Reject::ParameterDuplicated);
    let mut pairs = redeem_pairs(&params["code"]);
    pairs.push(("grant_type", "authorization_code"));
    invalid_request(h.token_as("rs-basic", &pairs), Reject::ParameterDuplicated);
    for unknown in [
        "unknown-code",
        "A".repeat(43).as_str(),
        &params["code"][1..],
    ] {
        invalid_grant(h.redeem("rs-basic", unknown), Reject::CodeUnknown);
    }
    // Unknown parameters are ignored.
    let mut pairs = redeem_pairs(&params["code"]);
    pairs.push(("x-unknown", "1"));
    h.token_as("rs-basic", &pairs).expect("redeems");
}

/// A missing or different `redirect_uri` is `invalid_grant`, and the spent code's grant is
/// revoked: the front-channel access token stops working (REQUIREMENTS 90, 93, 111).
#[test]
fn redirect_uri_mismatch_revokes_the_grant() {
    let mismatches = [
        None,
        Some("https://rp.example/cb?tenant=7"),
        Some("https://rp.example/cb/"),
        Some("https://attacker.example/cb"),
    ];
    let h = Harness::new();
    for redirect_uri in mismatches {
        let params = authorize(&h, "code id_token token", "rs-basic");
        let front = params["access_token"].as_str();
        h.userinfo(front).expect("front-channel token works");
        let mut pairs = redeem_pairs(&params["code"]);
        set_param(&mut pairs, "redirect_uri", redirect_uri);
        invalid_grant(
            h.token_as("rs-basic", &pairs),
            Reject::RedirectUriTokenMismatch,
        );
        h.assert_token_refused(front);
        assert_spent(&h, &params["code"]);
    }
}

/// A code issued to one client cannot be redeemed by another (REQUIREMENTS 90, 110).
#[test]
fn code_of_another_client_is_invalid_grant() {
    let h = Harness::new();
    let params = authorize(&h, "code id_token token", "rs-basic");
    invalid_grant(
        h.redeem("es-post", &params["code"]),
        Reject::CodeClientMismatch,
    );
    // The code was in the wrong hands: it is spent and its grant revoked.
    h.assert_token_refused(&params["access_token"]);
    assert_spent(&h, &params["code"]);
}

/// PKCE at the token endpoint: verifier missing, wrong, unexpected (downgrade) or malformed
/// (REQUIREMENTS 112, 113, 130).
#[test]
fn pkce_verification_errors() {
    let h = Harness::new();
    let (verifier, challenge) = pkce_pair("token");
    let with_pkce = |h: &Harness| {
        let mut pairs = auth_pairs("code id_token", "rs-basic");
        pairs.extend([
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]);
        h.issue(&pairs, "alice")["code"].clone()
    };
    // Missing.
    let code = with_pkce(&h);
    invalid_grant(h.redeem("rs-basic", &code), Reject::CodeVerifierMissing);
    // Wrong (well-formed).
    let (other, _) = pkce_pair("other");
    let code = with_pkce(&h);
    let mut pairs = redeem_pairs(&code);
    pairs.push(("code_verifier", &other));
    invalid_grant(h.token_as("rs-basic", &pairs), Reject::CodeVerifierMismatch);
    // The challenge itself is not the verifier.
    let code = with_pkce(&h);
    let mut pairs = redeem_pairs(&code);
    pairs.push(("code_verifier", &challenge));
    invalid_grant(h.token_as("rs-basic", &pairs), Reject::CodeVerifierMismatch);
    // Malformed: too short, too long, bad characters.
    let too_long = "a".repeat(129);
    let bad_chars = format!("{}+/", "a".repeat(50));
    for malformed in ["short", &verifier[..42], too_long.as_str(), &bad_chars] {
        let code = with_pkce(&h);
        let mut pairs = redeem_pairs(&code);
        pairs.push(("code_verifier", malformed));
        invalid_request(
            h.token_as("rs-basic", &pairs),
            Reject::CodeVerifierMalformed,
        );
        // Spent and unusable afterwards.
        let mut pairs = redeem_pairs(&code);
        pairs.push(("code_verifier", &verifier));
        invalid_grant(h.token_as("rs-basic", &pairs), Reject::CodeReplayed);
    }
    // Unexpected: a verifier for a code issued without challenge (downgrade).
    let code = authorize(&h, "code id_token", "rs-basic")["code"].clone();
    let mut pairs = redeem_pairs(&code);
    pairs.push(("code_verifier", &verifier));
    invalid_grant(
        h.token_as("rs-basic", &pairs),
        Reject::CodeVerifierUnexpected,
    );
    // The right verifier works.
    let code = with_pkce(&h);
    let mut pairs = redeem_pairs(&code);
    pairs.push(("code_verifier", &verifier));
    h.token_as("rs-basic", &pairs).expect("correct verifier");
}

/// Codes expire after the configured lifetime (default 60 s) (REQUIREMENTS 89, 109).
#[test]
fn expired_code_is_invalid_grant() {
    let h = Harness::new();
    let err = redeem_around_expiry(&h, 60);
    assert!(
        matches!(err.reject(), Reject::CodeExpired | Reject::CodeUnknown),
        "{:?}",
        err.reject()
    );
    check(Err(err), err.reject(), "invalid_grant", 400, None);
}

/// The code lifetime is capped at 10 minutes (REQUIREMENTS 89).
#[test]
fn code_lifetime_is_capped() {
    let config = || Config::new(ISSUER).expect("issuer");
    assert_eq!(
        config().with_code_lifetime(601).err(),
        Some(ConfigError::CodeLifetime)
    );
    assert_eq!(
        config().with_code_lifetime(0).err(),
        Some(ConfigError::CodeLifetime)
    );
    let config = config().with_code_lifetime(600).expect("600 s is allowed");
    assert_eq!(config.code_lifetime, 600);
    let h = Harness::with_config(config);
    let err = redeem_around_expiry(&h, 600);
    assert_eq!(err.code().as_str(), "invalid_grant");
}

/// The storage consumes a code atomically: of 32 concurrent redemptions exactly one is fresh
/// (REQUIREMENTS 92, 94).
#[test]
fn concurrent_storage_redemption_is_atomic() {
    let h = Arc::new(Harness::new());
    let code = authorize(&h, "code id_token", "rs-basic")["code"].clone();
    let digest = AuthorizationCode::new(code).digest();
    let now = h.now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(8)
        .enable_all()
        .build()
        .expect("runtime");
    let outcomes = runtime.block_on(race(32, |_| {
        let h = Arc::clone(&h);
        async move { h.provider.storage().redeem_code(&digest, now).await }
    }));
    let (fresh, replayed): (Vec<_>, Vec<_>) = outcomes
        .into_iter()
        .map(|o| o.expect("memory store"))
        .partition(|o| matches!(o, Redemption::Fresh(_)));
    assert_eq!(fresh.len(), 1);
    assert_eq!(replayed.len(), 31);
    assert!(
        replayed
            .iter()
            .all(|o| matches!(o, Redemption::Replayed(_)))
    );
}

/// 32 concurrent token requests with one code, on 32 OS threads: at most one gets tokens, every
/// other one is `invalid_grant`, and the replays revoke whatever was issued
/// (REQUIREMENTS 92–94).
///
/// Threads rather than `tokio::spawn`: the future of `Provider::token` is not `Send` (it holds
/// a `Mint`, whose `&dyn SecureRandom` is not `Sync`, across awaits).
#[test]
fn concurrent_redemption_succeeds_at_most_once() {
    let mut successes_seen = 0;
    for _ in 0..5 {
        let h = Harness::new();
        let code = authorize(&h, "code id_token", "rs-basic")["code"].clone();
        let body = form(&redeem_pairs(&code));
        let authorization = basic("rs-basic", SECRET);
        let barrier = std::sync::Barrier::new(32);
        let results: Vec<Result<TokenResponse, EndpointError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..32)
                .map(|_| {
                    scope.spawn(|| {
                        let params = Params::parse(&body).expect("parses");
                        barrier.wait();
                        oidc_hybrid_tests::block_on(
                            h.provider.token(&params, Some(authorization.as_str())),
                        )
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|t| t.join().expect("thread"))
                .collect()
        });
        let successes: Vec<&TokenResponse> =
            results.iter().filter_map(|r| r.as_ref().ok()).collect();
        let failures: Vec<&EndpointError> =
            results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(successes.len() <= 1, "{} successes", successes.len());
        assert_eq!(successes.len() + failures.len(), 32);
        for err in &failures {
            assert_eq!(err.code().as_str(), "invalid_grant");
            assert_eq!(err.reject(), Reject::CodeReplayed);
            assert_eq!(err.status(), 400);
        }
        // Whatever was issued was revoked by the replays.
        for token in &successes {
            h.assert_token_refused(token.access_token());
        }
        successes_seen += successes.len();
    }
    eprintln!("successful redemptions over 5 storms of 32: {successes_seen}");
}

/// The native public client redeems with PKCE and `client_id` only; a public client that sends
/// a secret, or Basic, is refused (REQUIREMENTS 97, 112).
#[test]
fn public_client_authentication() {
    let h = Harness::new();
    let uri = "http://127.0.0.1:51234/cb";
    let (verifier, challenge) = pkce_pair("native");
    let issue = |h: &Harness| {
        let mut pairs = auth_pairs("code id_token", "native");
        set_param(&mut pairs, "redirect_uri", Some(uri));
        pairs.extend([
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]);
        h.issue(&pairs, "alice")["code"].clone()
    };
    let code = issue(&h);
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", uri),
        ("code_verifier", verifier.as_str()),
    ];
    let token = h.token_as("native", &pairs).expect("public client redeems");
    assert!(token.id_token().is_some());
    assert!(
        token.refresh_token().is_none(),
        "no refresh_token grant registered"
    );

    // A public client sending a secret.
    let code = issue(&h);
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", uri),
        ("code_verifier", verifier.as_str()),
        ("client_id", "native"),
        ("client_secret", SECRET),
    ];
    invalid_client_body(h.token(&form(&pairs), None), Reject::AuthMethodMismatch);
    // ... or Basic with an empty secret.
    pairs.truncate(4);
    invalid_client_basic(
        h.token(&form(&pairs), Some(&basic("native", ""))),
        Reject::AuthMethodMismatch,
    );
    // ... or without the verifier.
    pairs.truncate(3);
    pairs.push(("client_id", "native"));
    invalid_grant(h.token(&form(&pairs), None), Reject::CodeVerifierMissing);
    // Redirect URI with another port than the authorization request.
    let code = issue(&h);
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "http://127.0.0.1:51235/cb"),
        ("code_verifier", verifier.as_str()),
    ];
    invalid_grant(
        h.token_as("native", &pairs),
        Reject::RedirectUriTokenMismatch,
    );
}

// ---------------------------------------------------------------------------------------------
// Refresh
// ---------------------------------------------------------------------------------------------

/// A code flow for `rs-basic` with scope `openid profile email`: the token response.
fn tokens(h: &Harness) -> TokenResponse {
    let code = authorize(h, "code id_token", "rs-basic")["code"].clone();
    h.redeem("rs-basic", &code).expect("redeems")
}

/// A refresh may narrow the scope but never widen it; the grant keeps its full scope
/// (REQUIREMENTS 136).
#[test]
fn refresh_scope_rules() {
    let h = Harness::new();
    let first = tokens(&h);
    let rt = first.refresh_token().expect("refresh token").to_owned();
    for wider in [
        "openid profile email address",
        "openid offline_access",
        "phone",
    ] {
        invalid_scope(
            h.refresh("rs-basic", &rt, Some(wider)),
            Reject::ScopeNotAllowed,
        );
    }
    invalid_scope(
        h.refresh("rs-basic", &rt, Some("openid \"x")),
        Reject::ScopeMalformed,
    );
    // Narrowing works.
    let narrowed = h
        .refresh("rs-basic", &rt, Some("openid"))
        .expect("narrowing works");
    assert_eq!(narrowed.scope(), "openid");
    let info = h.userinfo(narrowed.access_token()).expect("userinfo");
    assert!(info.get("email").is_none(), "narrowed token releases less");
    // The next refresh still has the whole grant available.
    let rt2 = narrowed.refresh_token().expect("rotated").to_owned();
    let full = h.refresh("rs-basic", &rt2, None).expect("full scope again");
    let mut scope: Vec<&str> = full.scope().split(' ').collect();
    scope.sort_unstable();
    assert_eq!(scope, ["email", "openid", "profile"]);
    let rt3 = full.refresh_token().expect("rotated").to_owned();
    let again = h
        .refresh("rs-basic", &rt3, Some("email openid"))
        .expect("a subset of the grant");
    assert_eq!(again.scope(), "email openid");
}

/// A refresh token is bound to its client (REQUIREMENTS 135).
#[test]
fn refresh_token_of_another_client_is_invalid_grant() {
    let h = Harness::new();
    let first = tokens(&h);
    let rt = first.refresh_token().expect("refresh token").to_owned();
    invalid_grant(h.refresh("es-post", &rt, None), Reject::RefreshTokenInvalid);
    // Its owner can still use it.
    h.refresh("rs-basic", &rt, None).expect("owner refreshes");
    invalid_grant(
        h.refresh("rs-basic", "unknown-refresh-token", None),
        Reject::RefreshTokenInvalid,
    );
}

/// Reuse of a rotated refresh token revokes the whole grant (REQUIREMENTS 138).
#[test]
fn refresh_token_reuse_revokes_the_grant() {
    let h = Harness::new();
    let first = tokens(&h);
    let rt1 = first.refresh_token().expect("refresh token").to_owned();
    let second = h.refresh("rs-basic", &rt1, None).expect("rotates");
    let rt2 = second.refresh_token().expect("rotated").to_owned();
    assert_ne!(rt1, rt2);
    h.userinfo(second.access_token()).expect("works");
    invalid_grant(
        h.refresh("rs-basic", &rt1, None),
        Reject::RefreshTokenReused,
    );
    invalid_grant(
        h.refresh("rs-basic", &rt2, None),
        Reject::RefreshTokenReused,
    );
    for access in [first.access_token(), second.access_token()] {
        h.assert_token_refused(access);
    }
}

/// A client without the `refresh_token` grant type gets no refresh token (REQUIREMENTS 115).
#[test]
fn no_refresh_token_without_the_grant_type() {
    let h = Harness::new();
    let code = authorize(&h, "code id_token", "default")["code"].clone();
    let token = h
        .token_as("default", &redeem_pairs(&code))
        .expect("redeems");
    assert!(token.refresh_token().is_none());
    let json: serde_json::Value = serde_json::from_str(&token.to_json()).expect("JSON");
    assert!(json.get("refresh_token").is_none());
    assert!(json["id_token"].is_string());
}
