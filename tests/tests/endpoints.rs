//! UserInfo, revocation, discovery and JWKS, session logic (`prompt`, `max_age`,
//! `id_token_hint`), secret hygiene, configuration and client registration.
//!
//! REQUIREMENTS covered: 21, 23, 35–44, 46, 86, 97, 106, 122, 123, 135, 139, 150, 152, 153,
//! 160, 165–170, 173–175.

use std::collections::HashMap;

use base64ct::{Base64UrlUnpadded, Encoding};
use oidc_hybrid::{
    AccessToken, Approval, AuthTimePolicy, AuthorizationCode, AuthorizeError, BoundRequest, Client,
    ClientMetadata, ClientSecret, Config, ConfigError, Consent, Credentials, JwsAlgorithm, Params,
    Provider, RefreshToken, Reject, ResponseMode, Session, Signer, Step, Subject, TokenResponse,
    UnixTime,
};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::{Es256Signer, OsRandom, RsaSigner};
use oidc_hybrid_testkit::rp::{IdTokenRules, Jws};
use oidc_hybrid_tests::{
    Delivered, Directory, ES256_PEM, Harness, ISSUER, REDIRECT_URI, RS256_PEM, SECRET, STATE,
    TestClock, TestProvider, assert_in_fragment, assert_redirected, auth_pairs, basic, block_on,
    es256_signer, form, rs256_signer, set_param, standard_clients,
};
use serde_json::{Value, json};

fn subject(s: &str) -> Subject {
    Subject::new(s).expect("valid subject")
}

fn secs_ago(h: &Harness, secs: u64) -> UnixTime {
    UnixTime::from_secs(h.now().as_secs() - secs)
}

/// A session of `who`, authenticated `secs` seconds ago.
fn session(h: &Harness, who: &str, secs: u64) -> Session {
    Session::new(subject(who), secs_ago(h, secs))
}

/// A code flow for `rs-basic` with `scope`, redeemed: the front-channel parameters and the
/// token response.
fn flow(h: &Harness, response_type: &str, scope: &str) -> (HashMap<String, String>, TokenResponse) {
    let mut pairs = auth_pairs(response_type, "rs-basic");
    set_param(&mut pairs, "scope", Some(scope));
    let params = h.issue(&pairs, "alice");
    let token = h.redeem("rs-basic", &params["code"]).expect("redeems");
    (params, token)
}

// ---------------------------------------------------------------------------------------------
// UserInfo
// ---------------------------------------------------------------------------------------------

/// No access token: 401 with a bare `Bearer` challenge (RFC 6750 §3, §3.1;
/// REQUIREMENTS 173).
#[test]
fn userinfo_without_token() {
    let h = Harness::new();
    let empty = Params::parse("").expect("parses");
    let other = Params::parse("foo=bar&access_token=").expect("parses");
    for body in [None, Some(&empty), Some(&other)] {
        let err = block_on(h.provider.userinfo(&Directory, None, body)).expect_err("refused");
        assert_eq!(err.reject(), Reject::TokenMissing);
        assert_eq!(err.code().as_str(), "invalid_request");
        assert_eq!(err.status(), 401, "no authentication information at all");
        assert_eq!(err.www_authenticate(), Some("Bearer"));
    }
}

/// An unknown token: 401 `invalid_token` with its challenge (RFC 6750 §3.1;
/// REQUIREMENTS 173).
#[test]
fn userinfo_unknown_token() {
    let h = Harness::new();
    for token in ["unknown", "A".repeat(43).as_str(), "a.b.c"] {
        let err = h.assert_token_refused(token);
        assert_eq!(err.reject(), Reject::TokenInvalid);
    }
    // A refresh token or a code is not an access token.
    let (params, token) = flow(&h, "code id_token", "openid");
    for not_access in [token.refresh_token().expect("refresh"), &params["code"]] {
        h.assert_token_refused(not_access);
    }
}

/// A token in the header and the body at once, or a malformed header: `invalid_request`
/// (RFC 6750 §2; REQUIREMENTS 4, 173, 174).
#[test]
fn userinfo_malformed_requests() {
    let h = Harness::new();
    let (_, token) = flow(&h, "code id_token", "openid");
    let at = token.access_token();
    let body = form(&[("access_token", at)]);
    let params = Params::parse(&body).expect("parses");
    let header = format!("Bearer {at}");
    let err = block_on(
        h.provider
            .userinfo(&Directory, Some(header.as_str()), Some(&params)),
    )
    .expect_err("two methods");
    assert_eq!(err.reject(), Reject::InvalidTokenMultipleMethods);
    assert_eq!(err.code().as_str(), "invalid_request");
    assert_eq!(err.status(), 400);

    let twice = format!("{body}&{body}");
    let params = Params::parse(&twice).expect("parses");
    let err = block_on(h.provider.userinfo(&Directory, None, Some(&params))).expect_err("dup");
    assert_eq!(err.reject(), Reject::ParameterDuplicated);
    assert_eq!(err.code().as_str(), "invalid_request");

    let basic_header = basic("rs-basic", SECRET);
    let spaced = format!("Bearer {at} x");
    for bad in [
        "Bearer",
        "Bearer ",
        basic_header.as_str(),
        spaced.as_str(),
        "Bearer a\"b",
    ] {
        let err = block_on(h.provider.userinfo(&Directory, Some(bad), None)).expect_err("bad");
        assert_eq!(err.reject(), Reject::MalformedAuthorizationHeader, "{bad}");
        assert_eq!(err.code().as_str(), "invalid_request");
        assert_eq!(err.status(), 400);
    }
    // The scheme is case-insensitive.
    let lower = format!("bearer {at}");
    block_on(h.provider.userinfo(&Directory, Some(lower.as_str()), None)).expect("bearer works");
}

/// Claims are released by scope, always with `sub` (OIDC Core §5.4; REQUIREMENTS 175).
#[test]
fn userinfo_claims_by_scope() {
    let h = Harness::new();
    let (_, token) = flow(&h, "code id_token", "openid address phone");
    let info = h.userinfo(token.access_token()).expect("userinfo");
    assert_eq!(info["sub"], "alice");
    assert_eq!(info["address"]["country"], "GB");
    assert_eq!(info["phone_number"], "+44 1865 000000");
    assert_eq!(info["phone_number_verified"], false);
    for absent in [
        "email",
        "email_verified",
        "name",
        "given_name",
        "preferred_username",
    ] {
        assert!(info.get(absent).is_none(), "{absent} not released");
    }
    let (_, token) = flow(&h, "code id_token", "openid");
    let info = h.userinfo(token.access_token()).expect("userinfo");
    assert_eq!(info.len(), 1, "only sub: {info:?}");
}

/// GET-style (header) and POST-body token transmission both work (REQUIREMENTS 173, 174).
#[test]
fn userinfo_header_and_body_both_work() {
    let h = Harness::new();
    let (params, token) = flow(&h, "code id_token token", "openid email");
    for at in [token.access_token(), params["access_token"].as_str()] {
        let by_header = h.userinfo(at).expect("header");
        let body = form(&[("access_token", at)]);
        let params = Params::parse(&body).expect("parses");
        let by_body = block_on(h.provider.userinfo(&Directory, None, Some(&params))).expect("body");
        assert_eq!(by_header, by_body);
        assert_eq!(by_body["email"], "alice@example.org");
    }
}

/// Access tokens expire: the token endpoint's after 3600 s, the front channel's after 300 s
/// (REQUIREMENTS 122, 126).
#[test]
fn userinfo_expired_token() {
    let h = Harness::new();
    let (params, token) = flow(&h, "code id_token token", "openid");
    h.clock.advance(299);
    h.userinfo(&params["access_token"])
        .expect("front token alive");
    h.clock.advance(2);
    h.assert_token_refused(&params["access_token"]);
    h.userinfo(token.access_token()).expect("back token alive");
    h.clock.advance(3600 - 301);
    h.assert_token_refused(token.access_token());
}

/// A token narrowed to a scope without `openid` is refused with 403 `insufficient_scope`, and
/// its refresh response carries no ID token (RFC 6750 §3.1; REQUIREMENTS 136, 175).
#[test]
fn userinfo_requires_openid_scope() {
    let h = Harness::new();
    let (_, token) = flow(&h, "code id_token", "openid email");
    let rt = token.refresh_token().expect("refresh");
    let narrowed = h
        .refresh("rs-basic", rt, Some("email"))
        .expect("narrowing to email");
    assert!(narrowed.id_token().is_none(), "no openid, no ID token");
    let err = h.userinfo(narrowed.access_token()).expect_err("no openid");
    assert_eq!(err.reject(), Reject::TokenScopeInsufficient);
    assert_eq!(err.code().as_str(), "insufficient_scope");
    assert_eq!(err.status(), 403);
    assert_eq!(
        err.www_authenticate(),
        Some("Bearer error=\"insufficient_scope\"")
    );
}

// ---------------------------------------------------------------------------------------------
// Revocation (RFC 7009)
// ---------------------------------------------------------------------------------------------

/// Revoking a refresh token revokes its grant: the access tokens (both channels) and the
/// refresh token stop working (REQUIREMENTS 139).
#[test]
fn revoking_a_refresh_token_revokes_the_grant() {
    let h = Harness::new();
    let (params, token) = flow(&h, "code id_token token", "openid");
    let rt = token.refresh_token().expect("refresh");
    for hint in [None, Some("access_token")] {
        let mut pairs = vec![("token", rt)];
        if let Some(hint) = hint {
            pairs.push(("token_type_hint", hint));
        }
        h.revoke(&form(&pairs), Some(&basic("rs-basic", SECRET)))
            .expect("revoked (idempotent)");
    }
    for at in [token.access_token(), params["access_token"].as_str()] {
        h.assert_token_refused(at);
    }
    let err = h
        .refresh("rs-basic", rt, None)
        .expect_err("refresh token revoked");
    assert_eq!(err.code().as_str(), "invalid_grant");
}

/// Revoking an access token revokes only that token (REQUIREMENTS 139).
#[test]
fn revoking_an_access_token_revokes_only_it() {
    let h = Harness::new();
    let (params, token) = flow(&h, "code id_token token", "openid");
    h.revoke(
        &form(&[
            ("token", token.access_token()),
            ("token_type_hint", "access_token"),
        ]),
        Some(&basic("rs-basic", SECRET)),
    )
    .expect("revoked");
    h.assert_token_refused(token.access_token());
    h.userinfo(&params["access_token"])
        .expect("the front-channel token of the same grant still works");
    let rt = token.refresh_token().expect("refresh");
    let refreshed = h
        .refresh("rs-basic", rt, None)
        .expect("the refresh token still works");
    h.userinfo(refreshed.access_token()).expect("works");
}

/// Revoking another client's token answers success and changes nothing; unknown tokens answer
/// success (RFC 7009 §2.2; REQUIREMENTS 135).
#[test]
fn revoking_tokens_of_others_or_unknown_tokens() {
    let h = Harness::new();
    let (_, token) = flow(&h, "code id_token", "openid");
    let rt = token.refresh_token().expect("refresh");
    for victim in [token.access_token(), rt] {
        h.revoke(
            &form(&[
                ("token", victim),
                ("client_id", "es-post"),
                ("client_secret", SECRET),
            ]),
            None,
        )
        .expect("success without effect");
    }
    h.userinfo(token.access_token()).expect("still works");
    h.refresh("rs-basic", rt, None).expect("still works");
    for unknown in ["unknown", "A".repeat(43).as_str()] {
        h.revoke(
            &form(&[("token", unknown)]),
            Some(&basic("rs-basic", SECRET)),
        )
        .expect("unknown tokens are success");
    }
}

/// Revocation errors: no `token` is `invalid_request`, bad client authentication is
/// `invalid_client` (RFC 7009 §2.1, §2.2.1; REQUIREMENTS 97, 108, 139).
#[test]
fn revocation_errors() {
    let h = Harness::new();
    let (_, token) = flow(&h, "code id_token", "openid");
    for body in ["", "token=", "token_type_hint=access_token"] {
        let err = h
            .revoke(body, Some(&basic("rs-basic", SECRET)))
            .expect_err("no token");
        assert_eq!(err.reject(), Reject::RevocationTokenMissing);
        assert_eq!(err.code().as_str(), "invalid_request");
        assert_eq!(err.status(), 400);
        assert_eq!(err.www_authenticate(), None, "no Bearer challenge here");
    }
    let body = form(&[("token", token.access_token())]);
    let err = h
        .revoke(&body, Some(&basic("rs-basic", "wrong-secret")))
        .expect_err("bad secret");
    assert_eq!(err.code().as_str(), "invalid_client");
    assert_eq!(err.status(), 401);
    assert!(
        err.www_authenticate()
            .is_some_and(|c| c.starts_with("Basic"))
    );
    let body = form(&[
        ("token", token.access_token()),
        ("client_id", "es-post"),
        ("client_secret", "wrong-secret-wrong-secret-wrong-secret"),
    ]);
    let err = h.revoke(&body, None).expect_err("bad secret");
    assert_eq!(err.code().as_str(), "invalid_client");
    assert_eq!(err.status(), 400);
    assert_eq!(err.www_authenticate(), None);
    let body = form(&[("token", token.access_token()), ("client_id", "nobody")]);
    let err = h.revoke(&body, None).expect_err("unknown client");
    assert_eq!(err.code().as_str(), "invalid_client");
    // Nothing was revoked by the failed requests.
    h.userinfo(token.access_token()).expect("still works");
}

// ---------------------------------------------------------------------------------------------
// Discovery and JWKS
// ---------------------------------------------------------------------------------------------

/// The discovery document has every REQUIRED member and advertises only what is implemented
/// (Discovery §3; RFC 8414; RFC 9207; REQUIREMENTS 165–170).
#[test]
fn discovery_document() {
    let h = Harness::new();
    let doc: Value = serde_json::from_str(&h.provider.discovery().to_json()).expect("JSON");
    assert_eq!(doc["issuer"], ISSUER);
    for member in [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "userinfo_endpoint",
    ] {
        let url = doc[member].as_str().expect(member);
        assert!(url.starts_with("https://op.example/"), "{member}: {url}");
    }
    let strings = |name: &str| -> Vec<String> {
        doc[name]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is an array"))
            .iter()
            .map(|v| v.as_str().expect("string").to_owned())
            .collect()
    };
    let response_types = strings("response_types_supported");
    for rt in ["code", "code id_token", "code token", "code id_token token"] {
        assert!(response_types.iter().any(|t| t == rt), "{rt}");
    }
    assert!(!strings("subject_types_supported").is_empty());
    assert!(
        strings("subject_types_supported")
            .iter()
            .all(|t| t == "public" || t == "pairwise")
    );
    let algs = strings("id_token_signing_alg_values_supported");
    assert!(algs.iter().any(|a| a == "RS256"));
    assert!(algs.iter().any(|a| a == "ES256"));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(strings("code_challenge_methods_supported"), ["S256"]);
    assert!(
        strings("response_modes_supported")
            .iter()
            .any(|m| m == "form_post")
    );
    assert!(
        strings("response_modes_supported")
            .iter()
            .any(|m| m == "fragment")
    );
    assert!(strings("scopes_supported").iter().any(|s| s == "openid"));
    // Request objects by value (RFC 9101) and by PAR reference (RFC 9126); no fetching of
    // client-hosted request_uri values.
    assert_eq!(doc["request_parameter_supported"], true);
    assert_eq!(doc["request_uri_parameter_supported"], false);
    assert_eq!(
        doc["pushed_authorization_request_endpoint"],
        "https://op.example/par"
    );
    for (name, value) in doc.as_object().expect("object") {
        assert!(!value.is_null(), "{name} is null");
        if let Some(array) = value.as_array() {
            assert!(!array.is_empty(), "{name} is an empty array");
        }
        if name.ends_with("alg_values_supported") {
            for alg in value.as_array().expect("array") {
                assert_ne!(
                    alg.as_str().map(str::to_ascii_lowercase).as_deref(),
                    Some("none")
                );
            }
        }
    }
    assert_eq!(
        h.provider.config().discovery_url(),
        "https://op.example/.well-known/openid-configuration"
    );
}

/// The JWK set: both keys, unique kids, `use: sig`, no private members; every ID token's `kid`
/// is published (REQUIREMENTS 152, 153).
#[test]
fn jwks_publishes_public_keys_only() {
    let h = Harness::new();
    let jwks = serde_json::to_value(h.provider.jwks()).expect("JSON");
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 2);
    let mut kids: Vec<&str> = keys
        .iter()
        .map(|k| k["kid"].as_str().expect("kid"))
        .collect();
    kids.sort_unstable();
    kids.dedup();
    assert_eq!(kids.len(), 2, "unique kids");
    for key in keys {
        assert_eq!(key["use"], "sig");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k", "oth"] {
            assert!(key.get(private).is_none(), "private member {private}");
        }
        assert!(["RSA", "EC"].contains(&key["kty"].as_str().expect("kty")));
    }
    for (client_id, scope) in [("rs-basic", "openid"), ("es-post", "openid")] {
        let mut pairs = auth_pairs("code id_token", client_id);
        set_param(&mut pairs, "scope", Some(scope));
        let params = h.issue(&pairs, "alice");
        let jws = Jws::parse(&params["id_token"]).expect("a JWS");
        let kid = jws.kid().expect("kid");
        assert!(kids.contains(&kid), "{kid} is published");
        let key = keys.iter().find(|k| k["kid"] == kid).expect("key");
        assert_eq!(key["alg"].as_str(), jws.alg());
    }
}

/// A provider needs an RS256 key and unique kids (OIDC Core §15.1; REQUIREMENTS 150, 160).
#[test]
fn provider_key_configuration() {
    let new = |keys: Vec<Box<dyn Signer>>| {
        Provider::new(
            Config::new(ISSUER).expect("issuer"),
            MemoryStore::new(),
            keys,
            TestClock::at(1_800_000_000),
            OsRandom,
        )
        .err()
    };
    assert_eq!(new(vec![]), Some(ConfigError::Keys));
    assert_eq!(new(vec![Box::new(es256_signer())]), Some(ConfigError::Keys));
    let same_kid_rs =
        RsaSigner::from_pkcs8_pem(RS256_PEM, JwsAlgorithm::RS256, Some("k")).expect("key");
    let same_kid_es = Es256Signer::from_pkcs8_pem(ES256_PEM, Some("k")).expect("key");
    assert_eq!(
        new(vec![Box::new(same_kid_rs), Box::new(same_kid_es)]),
        Some(ConfigError::Keys)
    );
    assert_eq!(
        new(vec![Box::new(rs256_signer()), Box::new(rs256_signer())]),
        Some(ConfigError::Keys)
    );
    assert_eq!(new(vec![Box::new(rs256_signer())]), None);
    let mut config = Config::new(ISSUER).expect("issuer");
    config.access_token_lifetime = 0;
    let err = Provider::new(
        config,
        MemoryStore::new(),
        vec![Box::new(rs256_signer()) as Box<dyn Signer>],
        TestClock::at(0),
        OsRandom,
    )
    .err();
    assert_eq!(err, Some(ConfigError::Lifetime));
}

// ---------------------------------------------------------------------------------------------
// Session logic: prompt, max_age, consent
// ---------------------------------------------------------------------------------------------

/// The next step for `bound` with `session` and remembered consent.
fn step(h: &Harness, bound: &BoundRequest, session: &Session) -> Result<Step, AuthorizeError> {
    h.provider
        .next_step(bound, Some(session), Consent::Remembered)
}

/// Binds a request with `extra` for which a session of alice from `age` seconds ago is too old:
/// the host is told to show the login page, and approving with that authentication anyway is
/// `login_required` in the fragment.
fn bind_too_old(h: &Harness, extra: &[(&str, &str)], age: u64) -> BoundRequest {
    let bound = bind(h, extra);
    let old = session(h, "alice", age);
    assert_eq!(step(h, &bound, &old), Ok(Step::Login));
    let err = h
        .approve_at(bound.clone(), "alice", old.auth_time)
        .expect_err("stale authentication");
    assert_eq!(err.reject(), Reject::LoginRequired);
    assert_in_fragment(&err, "login_required");
    bound
}

fn bind(h: &Harness, extra: &[(&str, &str)]) -> BoundRequest {
    let mut pairs = auth_pairs("code id_token", "rs-basic");
    for (name, value) in extra {
        set_param(&mut pairs, name, Some(value));
    }
    h.authorize(&form(&pairs)).expect("binds")
}

/// `prompt=none` turns needed interaction into redirected errors: `login_required` without a
/// session, `consent_required` without consent; with both it approves (REQUIREMENTS 37, 45).
#[test]
fn prompt_none_outcomes() {
    let h = Harness::new();
    let bound = bind(&h, &[("prompt", "none")]);
    for consent in [Consent::Missing, Consent::Remembered, Consent::GivenNow] {
        let err = h
            .provider
            .next_step(&bound, None, consent)
            .expect_err("no session");
        assert_eq!(err.reject(), Reject::LoginRequired);
        assert_in_fragment(&err, "login_required");
    }
    let session = session(&h, "alice", 3600);
    let err = h
        .provider
        .next_step(&bound, Some(&session), Consent::Missing)
        .expect_err("no consent");
    assert_eq!(err.reject(), Reject::ConsentRequired);
    assert_in_fragment(&err, "consent_required");
    assert_eq!(step(&h, &bound, &session).expect("silent"), Step::Approve);
    let response = h
        .approve_at(bound, "alice", session.auth_time)
        .expect("approved");
    assert!(!response.is_error());

    // In form_post mode the errors are posted.
    let bound = bind(&h, &[("prompt", "none"), ("response_mode", "form_post")]);
    let err = h
        .provider
        .next_step(&bound, None, Consent::Remembered)
        .expect_err("no session");
    assert_redirected(&err, "login_required", ResponseMode::FormPost, Some(STATE));
}

/// Without `prompt=none` the host is told what to do (REQUIREMENTS 35, 48).
#[test]
fn interactive_steps() {
    let h = Harness::new();
    let bound = bind(&h, &[]);
    let session = session(&h, "alice", 60);
    for (session, consent, expected) in [
        (None, Consent::Remembered, Step::Login),
        (Some(&session), Consent::Missing, Step::Consent),
        (Some(&session), Consent::Remembered, Step::Approve),
        (Some(&session), Consent::GivenNow, Step::Approve),
    ] {
        let step = h.provider.next_step(&bound, session, consent);
        assert_eq!(step, Ok(expected), "{session:?} {consent:?}");
    }
}

/// `prompt=login`: a session from before the request is not enough; an authentication during
/// the request is (REQUIREMENTS 36).
#[test]
fn prompt_login_requires_fresh_authentication() {
    let h = Harness::new();
    let bound = bind_too_old(&h, &[("prompt", "login")], 30);

    // Logged in again during the request (a few seconds later).
    h.clock.advance(5);
    let fresh = h.now();
    let session = Session::new(subject("alice"), fresh);
    assert_eq!(step(&h, &bound, &session), Ok(Step::Approve));
    h.clock.advance(5);
    let response = h.approve_at(bound.clone(), "alice", fresh).expect("fresh");
    assert!(!response.is_error());
    // Exactly at the time the request arrived also counts.
    let at = bound.received_at();
    h.approve_at(bound, "alice", at)
        .expect("auth_time == received_at");
}

/// `max_age`: a session older than it needs a new login; `max_age=10000` lets an older session
/// through (REQUIREMENTS 41).
#[test]
fn max_age_limits_session_age() {
    let h = Harness::new();
    let bound = bind_too_old(&h, &[("max_age", "10")], 11);
    let edge = session(&h, "alice", 10);
    assert_eq!(step(&h, &bound, &edge), Ok(Step::Approve));
    // prompt=none turns the stale session into login_required.
    let silent = bind(&h, &[("max_age", "10"), ("prompt", "none")]);
    let stale = session(&h, "alice", 11);
    let err = step(&h, &silent, &stale).expect_err("stale");
    assert_in_fragment(&err, "login_required");

    let bound = bind(&h, &[("max_age", "10000")]);
    let session = session(&h, "alice", 9000);
    assert_eq!(step(&h, &bound, &session), Ok(Step::Approve));
    h.approve_at(bound, "alice", session.auth_time)
        .expect("within max_age");
}

/// `max_age=0` behaves like `prompt=login`: only an authentication during the request counts
/// (OIDC Core §3.1.2.1; REQUIREMENTS 41).
#[test]
fn max_age_zero_requires_fresh_authentication() {
    let h = Harness::new();
    let bound = bind_too_old(&h, &[("max_age", "0")], 1);
    let now = h.now();
    h.approve_at(bound, "alice", now).expect("fresh");
}

/// `max_age=0` and `prompt=login` accept the same timeline: a login one second after the
/// request, then a consent page that takes five seconds (OIDC Core §3.1.2.1: `max_age=0` is
/// equivalent to `prompt=login`; REQUIREMENTS 36, 41).
#[test]
fn max_age_zero_accepts_login_during_the_request() {
    for extra in [("prompt", "login"), ("max_age", "0")] {
        let h = Harness::new();
        let bound = bind(&h, &[extra]);
        h.clock.advance(1);
        let logged_in = h.now();
        h.clock.advance(5);
        let result = h.approve_at(bound, "alice", logged_in);
        assert!(
            result.is_ok(),
            "{extra:?}: {:?}",
            result.err().map(|e| e.reject())
        );
    }
}

/// On arrival, `prompt=login`, `max_age=0` and `prompt=select_account` start with the login
/// page even for a session from the very second the request arrived (no login can have been
/// made for it yet); under `prompt=none` a fresh login is `login_required`. After the host's
/// page, `next_step` decides as usual (OIDC Core §3.1.2.1, §3.1.2.3; REQUIREMENTS 36, 38, 41).
#[test]
fn first_step_starts_with_the_login_page_when_asked() {
    let h = Harness::new();
    let plain = bind(&h, &[]);
    assert!(!plain.requires_fresh_login());
    let now = Session::new(subject("alice"), plain.received_at());
    assert_eq!(
        plain.first_step(Some(&now), Consent::Remembered, ISSUER),
        Ok(Step::Approve)
    );
    assert_eq!(
        plain.first_step(None, Consent::Remembered, ISSUER),
        Ok(Step::Login)
    );
    for extra in [
        ("prompt", "login"),
        ("max_age", "0"),
        ("prompt", "select_account"),
    ] {
        let bound = bind(&h, &[extra]);
        assert_eq!(bound.requires_fresh_login(), extra.1 != "select_account");
        let now = Session::new(subject("alice"), bound.received_at());
        assert_eq!(
            bound.first_step(Some(&now), Consent::Remembered, ISSUER),
            Ok(Step::Login),
            "{extra:?}"
        );
        assert_eq!(
            bound.next_step(Some(&now), Consent::Remembered, ISSUER),
            Ok(Step::Approve),
            "{extra:?}: after the login page"
        );
    }
    let silent = bind(&h, &[("max_age", "0"), ("prompt", "none")]);
    let now = Session::new(subject("alice"), silent.received_at());
    let err = silent
        .first_step(Some(&now), Consent::Remembered, ISSUER)
        .expect_err("no login possible");
    assert_in_fragment(&err, "login_required");
    // Errors of `next_step` come first.
    let err = silent
        .first_step(Some(&now), Consent::Missing, ISSUER)
        .expect_err("no consent");
    assert_in_fragment(&err, "consent_required");
}

/// With the `WhenRequired` policy, `auth_time` appears in both ID tokens exactly when `max_age`
/// was sent (REQUIREMENTS 42, 118).
#[test]
fn auth_time_included_when_max_age_sent() {
    let mut config = Config::new(ISSUER).expect("issuer");
    config.auth_time = AuthTimePolicy::WhenRequired;
    let h = Harness::with_config(config);
    let rp = h.rp();
    for (max_age, expected) in [(Some("3600"), true), (None, false)] {
        let mut pairs = auth_pairs("code id_token", "rs-basic");
        if let Some(max_age) = max_age {
            pairs.push(("max_age", max_age));
        }
        let params = h.issue(&pairs, "alice");
        let expect = IdTokenRules::new(ISSUER, "rs-basic")
            .alg("RS256")
            .nonce(Some("n-0S6_WzA2Mj"))
            .at(h.now());
        let front = expect.validate(&params["id_token"], &rp);
        assert_eq!(front.get("auth_time").is_some(), expected, "{max_age:?}");
        let token = h.redeem("rs-basic", &params["code"]).expect("redeems");
        let back = expect.validate(token.id_token().expect("ID token"), &rp);
        assert_eq!(back.get("auth_time").is_some(), expected);
        if expected {
            assert_eq!(front["auth_time"], h.now().as_secs());
            assert_eq!(front["auth_time"], back["auth_time"]);
        }
    }
}

/// `prompt=consent` asks again even with remembered consent (REQUIREMENTS 39).
#[test]
fn prompt_consent_asks_again() {
    let h = Harness::new();
    let bound = bind(&h, &[("prompt", "consent")]);
    let session = session(&h, "alice", 5);
    for (consent, expected) in [
        (Consent::Remembered, Step::Consent),
        (Consent::GivenNow, Step::Approve),
    ] {
        let step = h.provider.next_step(&bound, Some(&session), consent);
        assert_eq!(step, Ok(expected), "{consent:?}");
    }
}

/// A granted scope without `openid` cannot be approved (REQUIREMENTS 48).
#[test]
fn granting_without_openid_is_access_denied() {
    let h = Harness::new();
    let bound = bind(&h, &[("scope", "openid profile")]);
    let approval = Approval::new(subject("alice"), h.now())
        .with_granted_scope(oidc_hybrid::Scope::parse("profile").expect("scope"));
    let err = block_on(h.provider.approve(bound, approval)).expect_err("no openid");
    assert_eq!(err.reject(), Reject::AccessDenied);
    assert_in_fragment(&err, "access_denied");
}

// ---------------------------------------------------------------------------------------------
// id_token_hint
// ---------------------------------------------------------------------------------------------

/// An ID token for alice from a real `code id_token` flow of `provider`.
fn id_token_from(provider: &TestProvider, now: UnixTime, client_id: &str) -> String {
    let query = form(&auth_pairs("code id_token", client_id));
    let params = Params::parse(&query).expect("parses");
    let bound = block_on(provider.authorize(&params)).expect("binds");
    let approval = Approval::new(subject("alice"), now);
    let response = block_on(provider.approve(bound, approval)).expect("approved");
    Delivered::from_response(&response).map()["id_token"].clone()
}

/// Another provider with the standard clients and `keys`.
fn other_provider(issuer: &str, keys: Vec<Box<dyn Signer>>) -> (TestProvider, TestClock) {
    let clock = TestClock::at(1_800_000_000);
    let provider = Provider::new(
        Config::new(issuer).expect("issuer"),
        MemoryStore::with_clients(standard_clients()),
        keys,
        clock.clone(),
        OsRandom,
    )
    .expect("provider");
    (provider, clock)
}

fn hinted(hint: &str) -> Vec<(&str, &str)> {
    let mut pairs = auth_pairs("code id_token", "rs-basic");
    pairs.extend([("id_token_hint", hint), ("prompt", "none")]);
    pairs
}

/// A valid hint binds its subject: the session's user must be the hinted one, and approving
/// another user fails with `login_required` (REQUIREMENTS 43, 46).
#[test]
fn id_token_hint_binds_the_subject() {
    let h = Harness::new();
    for client_id in ["rs-basic", "es-post"] {
        let hint = id_token_from(&h.provider, h.now(), client_id);
        let bound = h.authorize(&form(&hinted(&hint))).expect("valid hint");
        assert_eq!(bound.hint_subject().map(Subject::as_str), Some("alice"));
        let alice = session(&h, "alice", 10);
        assert_eq!(step(&h, &bound, &alice), Ok(Step::Approve));
        let bob = session(&h, "bob", 10);
        let err = step(&h, &bound, &bob).expect_err("another user");
        assert_eq!(err.reject(), Reject::IdTokenHintSubjectMismatch);
        assert_in_fragment(&err, "login_required");
        let err = h
            .provider
            .next_step(&bound, None, Consent::Remembered)
            .expect_err("no session");
        assert_in_fragment(&err, "login_required");
        let err = h
            .approve_at(bound.clone(), "bob", h.now())
            .expect_err("never tokens for another user");
        assert_eq!(err.reject(), Reject::IdTokenHintSubjectMismatch);
        assert_in_fragment(&err, "login_required");
        let response = h.approve_at(bound, "alice", h.now()).expect("alice");
        assert!(!response.is_error());
    }
    // Without prompt=none, another user's session means: log in.
    let hint = id_token_from(&h.provider, h.now(), "rs-basic");
    let mut pairs = auth_pairs("code id_token", "rs-basic");
    pairs.push(("id_token_hint", &hint));
    let bound = h.authorize(&form(&pairs)).expect("binds");
    let bob = session(&h, "bob", 10);
    assert_eq!(step(&h, &bound, &bob), Ok(Step::Login));
}

/// Hints this provider did not issue are `invalid_request`: tampered, another issuer, unknown
/// `kid`, another key under a known `kid`, `alg=none`, garbage (REQUIREMENTS 43, 156, 157).
#[test]
fn invalid_id_token_hints_are_refused() {
    let h = Harness::new();
    let genuine = id_token_from(&h.provider, h.now(), "rs-basic");
    let mut hints: Vec<(String, &str)> = Vec::new();

    // Flip one character in the middle of the signature.
    let (input, signature) = genuine.rsplit_once('.').expect("JWS");
    let mut sig: Vec<char> = signature.chars().collect();
    let mid = sig.len() / 2;
    sig[mid] = if sig[mid] == 'A' { 'B' } else { 'A' };
    hints.push((
        format!("{input}.{}", sig.iter().collect::<String>()),
        "tampered signature",
    ));
    // Change the payload (sub) and keep the signature.
    let (header, rest) = genuine.split_once('.').expect("JWS");
    let (payload, signature) = rest.split_once('.').expect("JWS");
    let mut claims: Value =
        serde_json::from_slice(&Base64UrlUnpadded::decode_vec(payload).expect("b64"))
            .expect("JSON");
    claims["sub"] = json!("bob");
    let forged = Base64UrlUnpadded::encode_string(claims.to_string().as_bytes());
    hints.push((format!("{header}.{forged}.{signature}"), "tampered payload"));
    // alg=none with a known kid.
    let none_header =
        Base64UrlUnpadded::encode_string(br#"{"alg":"none","kid":"rs-1","typ":"JWT"}"#);
    hints.push((format!("{none_header}.{payload}."), "alg none"));
    // The RS key's kid with ES256 (algorithm confusion).
    let es_header =
        Base64UrlUnpadded::encode_string(br#"{"alg":"ES256","kid":"rs-1","typ":"JWT"}"#);
    hints.push((
        format!("{es_header}.{payload}.{signature}"),
        "alg confusion",
    ));
    // No kid.
    let no_kid = Base64UrlUnpadded::encode_string(br#"{"alg":"RS256","typ":"JWT"}"#);
    hints.push((format!("{no_kid}.{payload}.{signature}"), "no kid"));

    // Another issuer, same keys.
    let (other, clock) = other_provider(
        "https://other.example",
        vec![Box::new(rs256_signer()), Box::new(es256_signer())],
    );
    hints.push((
        id_token_from(&other, oidc_hybrid::Clock::now(&clock), "rs-basic"),
        "other issuer",
    ));
    // Our issuer, a kid we do not publish.
    let unknown_kid =
        RsaSigner::from_pkcs8_pem(RS256_PEM, JwsAlgorithm::RS256, Some("rs-unpublished"))
            .expect("key");
    let (other, clock) = other_provider(
        ISSUER,
        vec![Box::new(unknown_kid), Box::new(es256_signer())],
    );
    hints.push((
        id_token_from(&other, oidc_hybrid::Clock::now(&clock), "rs-basic"),
        "unknown kid",
    ));
    // Our issuer, our ES kid, another key.
    let impostor = Es256Signer::generate(&OsRandom, Some("es-1")).expect("key");
    let (other, clock) = other_provider(ISSUER, vec![Box::new(rs256_signer()), Box::new(impostor)]);
    hints.push((
        id_token_from(&other, oidc_hybrid::Clock::now(&clock), "es-post"),
        "impostor key",
    ));
    // Not a JWT at all.
    hints.push(("not-a-jwt".into(), "garbage"));
    hints.push(("a.b.c".into(), "garbage parts"));
    hints.push((format!("{genuine}.extra"), "four parts"));

    for (hint, why) in &hints {
        let err = h.authorize(&form(&hinted(hint))).expect_err("hint refused");
        assert_eq!(err.reject(), Reject::IdTokenHintInvalid, "{why}");
        assert_in_fragment(&err, "invalid_request");
    }
    // The genuine one binds.
    h.authorize(&form(&hinted(&genuine))).expect("genuine hint");
}

/// An expired hint is still accepted (OIDC Core §3.1.2.1; REQUIREMENTS 44).
#[test]
fn expired_id_token_hint_is_accepted() {
    let h = Harness::new();
    let hint = id_token_from(&h.provider, h.now(), "rs-basic");
    h.clock.advance(601);
    let bound = h.authorize(&form(&hinted(&hint))).expect("expired hint ok");
    let alice = session(&h, "alice", 5);
    assert_eq!(step(&h, &bound, &alice), Ok(Step::Approve));
    h.clock.advance(30 * 24 * 3600);
    h.authorize(&form(&hinted(&hint)))
        .expect("a month-old hint is still ours");
}

// ---------------------------------------------------------------------------------------------
// Secrets and configuration
// ---------------------------------------------------------------------------------------------

/// Secret types never show their value in `Debug` (REQUIREMENTS 123).
#[test]
fn secrets_are_redacted_in_debug() {
    let value = "xyz-SECRET-VALUE-123";
    for debug in [
        format!("{:?}", AuthorizationCode::new(value)),
        format!("{:?}", AccessToken::new(value)),
        format!("{:?}", RefreshToken::new(value)),
        format!("{:?}", ClientSecret::new(value)),
    ] {
        assert!(!debug.contains(value), "{debug}");
        assert!(!debug.contains("xyz"), "{debug}");
    }
    let h = Harness::new();
    let (_, token) = flow(&h, "code id_token", "openid");
    let debug = format!("{token:?}");
    assert!(!debug.contains(token.access_token()), "{debug}");
    assert!(
        !debug.contains(token.refresh_token().expect("refresh")),
        "{debug}"
    );
    assert!(!debug.contains(token.id_token().expect("id")), "{debug}");
    // Parsed credentials.
    let body = form(&[("client_id", "es-post"), ("client_secret", SECRET)]);
    let params = Params::parse(&body).expect("parses");
    let credentials = Credentials::parse(&params, None).expect("credentials");
    assert!(!format!("{credentials:?}").contains(SECRET));
    let credentials =
        Credentials::parse(&Params::default(), Some(&basic("rs-basic", SECRET))).expect("basic");
    assert!(!format!("{credentials:?}").contains(SECRET));
    assert!(!format!("{:?}", h.provider).contains("BEGIN"));
}

/// The authorization response carries codes and access tokens too; its `Debug` must not print
/// them any more than the token response's does (REQUIREMENTS 123).
#[test]
fn authorization_response_debug_redacts_tokens() {
    let h = Harness::new();
    let bound = h
        .authorize(&form(&auth_pairs("code id_token token", "rs-basic")))
        .expect("binds");
    let response = h.approve(bound, "alice").expect("approved");
    let code = response.param("code").expect("code").to_owned();
    let token = response.param("access_token").expect("token").to_owned();
    let debug = format!("{response:?}");
    assert!(!debug.contains(&code), "code in Debug: {debug}");
    assert!(!debug.contains(&token), "access token in Debug: {debug}");
}

/// `none` is not an algorithm; names are matched exactly (REQUIREMENTS 16, 86).
#[test]
fn none_is_not_an_algorithm() {
    for name in ["none", "None", "NONE", "", "rs256", "RS256 ", "HS256"] {
        assert_eq!(JwsAlgorithm::from_name(name), None, "{name:?}");
    }
    assert_eq!(JwsAlgorithm::from_name("RS256"), Some(JwsAlgorithm::RS256));
    assert_eq!(JwsAlgorithm::from_name("ES256"), Some(JwsAlgorithm::ES256));
}

/// The issuer is an https URL without query, fragment or trailing slash; http only on loopback
/// (OIDC Core §2; Discovery §3; REQUIREMENTS 166, 187).
#[test]
fn issuer_validation() {
    for bad in [
        "http://op.example",
        "https://op.example/",
        "https://op.example?x=1",
        "https://op.example#f",
        "https://op.example/tenant/",
        "https://",
        "op.example",
        "ftp://op.example",
        "https://op example",
        "http://localhost.attacker.example",
        "http://127.0.0.1.attacker.example",
        "",
    ] {
        assert_eq!(Config::new(bad).err(), Some(ConfigError::Issuer), "{bad:?}");
    }
    for good in [
        "https://op.example",
        "https://op.example/tenant",
        "https://op.example:8443",
        "http://127.0.0.1:8080",
        "http://[::1]:8080",
        "http://localhost:8080",
    ] {
        let config = Config::new(good).expect(good);
        assert_eq!(config.issuer, good);
        assert_eq!(config.token_endpoint, format!("{good}/token"));
    }
}

// ---------------------------------------------------------------------------------------------
// Client registration
// ---------------------------------------------------------------------------------------------

fn register(metadata: Value) -> Result<Client, Reject> {
    let metadata: ClientMetadata = serde_json::from_value(metadata).expect("metadata parses");
    Client::register(metadata)
}

/// Asserts that registering `metadata` is refused for `reject`.
fn assert_refused(metadata: Value, reject: Reject) {
    assert_eq!(register(metadata.clone()).err(), Some(reject), "{metadata}");
}

fn web(redirect_uris: &[&str]) -> Value {
    json!({
        "client_id": "new-client",
        "client_secret": SECRET,
        "redirect_uris": redirect_uris,
    })
}

fn native(redirect_uris: &[&str]) -> Value {
    json!({
        "client_id": "new-native",
        "redirect_uris": redirect_uris,
        "application_type": "native",
        "token_endpoint_auth_method": "none",
    })
}

/// Redirect URI rules at registration (REQUIREMENTS 21–24).
#[test]
fn registration_redirect_uri_rules() {
    for (metadata, reject) in [
        (
            web(&["https://rp.example/cb#frag"]),
            Reject::RedirectUriMalformed,
        ),
        (
            web(&["https://rp.example/cb#"]),
            Reject::RedirectUriMalformed,
        ),
        (
            web(&["https://rp.example/cb?state=x"]),
            Reject::RedirectUriMalformed,
        ),
        (
            web(&["https://rp.example/cb?a=1&code=2"]),
            Reject::RedirectUriMalformed,
        ),
        (
            web(&["https://rp.example/cb?iss=x"]),
            Reject::RedirectUriMalformed,
        ),
        (web(&["/cb"]), Reject::RedirectUriMalformed),
        (
            web(&["https://rp.example/c b"]),
            Reject::RedirectUriMalformed,
        ),
        (
            web(&["https://user@rp.example/cb"]),
            Reject::RedirectUriMalformed,
        ),
        (web(&["https:///cb"]), Reject::RedirectUriMalformed),
        (web(&["http://rp.example/cb"]), Reject::RedirectUriInsecure),
        (web(&["HTTP://rp.example/cb"]), Reject::RedirectUriInsecure),
        (web(&["com.example.app:/cb"]), Reject::RedirectUriInsecure),
        (
            web(&["https://rp.example/cb", "myapp://cb"]),
            Reject::RedirectUriInsecure,
        ),
        (
            native(&["http://rp.example/cb"]),
            Reject::RedirectUriInsecure,
        ),
        (web(&[]), Reject::RedirectUrisMissing),
    ] {
        assert_refused(metadata, reject);
        assert_eq!(
            reject.code().as_str(),
            if reject == Reject::RedirectUriMalformed
                || reject == Reject::RedirectUriInsecure
                || reject == Reject::RedirectUrisMissing
            {
                "invalid_redirect_uri"
            } else {
                "invalid_client_metadata"
            }
        );
    }
    let mut no_uris = web(&[]);
    no_uris
        .as_object_mut()
        .expect("object")
        .remove("redirect_uris");
    assert_eq!(register(no_uris).err(), Some(Reject::RedirectUrisMissing));
    for ok in [
        native(&["com.example.app:/cb"]),
        native(&["http://127.0.0.1/cb", "http://[::1]/cb"]),
        web(&["https://rp.example/cb?tenant=7"]),
        web(&["http://127.0.0.1/cb"]),
    ] {
        register(ok.clone()).unwrap_or_else(|e| panic!("{ok} registers: {e:?}"));
    }
}

/// `http` is only for loopback hosts: a host name that merely starts with `localhost` is not one
/// (REQUIREMENTS 23; RFC 9700 §2.6).
#[test]
fn registration_refuses_http_to_hosts_starting_with_localhost() {
    for uri in [
        "http://localhost.attacker.example/cb",
        "http://localhostattacker.example/cb",
    ] {
        assert_refused(web(&[uri]), Reject::RedirectUriInsecure);
    }
}

/// Secret and grant-type rules at registration (REQUIREMENTS 11, 97, 106).
#[test]
fn registration_secret_and_grant_rules() {
    let short = &SECRET[..31];
    for (metadata, reject) in [
        (
            json!({"client_id": "c", "client_secret": short, "redirect_uris": [REDIRECT_URI]}),
            Reject::ClientSecretTooShort,
        ),
        (
            json!({"client_id": "c", "redirect_uris": [REDIRECT_URI]}),
            Reject::ClientSecretMissing,
        ),
        (
            json!({"client_id": "c", "client_secret": SECRET, "redirect_uris": [REDIRECT_URI],
                   "token_endpoint_auth_method": "none"}),
            Reject::ClientSecretUnexpected,
        ),
        (
            json!({"client_id": "c", "client_secret": SECRET, "redirect_uris": [REDIRECT_URI],
                   "response_types": ["code id_token"], "grant_types": ["authorization_code"]}),
            Reject::GrantTypesInconsistent,
        ),
        (
            json!({"client_id": "c", "client_secret": SECRET, "redirect_uris": [REDIRECT_URI],
                   "response_types": ["code token"],
                   "grant_types": ["authorization_code", "refresh_token"]}),
            Reject::GrantTypesInconsistent,
        ),
        (
            json!({"client_id": "c", "client_secret": SECRET, "redirect_uris": [REDIRECT_URI],
                   "response_types": ["code"], "grant_types": ["implicit"]}),
            Reject::GrantTypesInconsistent,
        ),
        (
            json!({"client_id": "c", "client_secret": SECRET, "redirect_uris": [REDIRECT_URI],
                   "response_types": ["id_token"]}),
            Reject::ResponseTypeUnsupported,
        ),
        (
            json!({"client_id": "c", "client_secret": SECRET, "redirect_uris": [REDIRECT_URI],
                   "response_types": ["code", "token"]}),
            Reject::ResponseTypeUnsupported,
        ),
        (
            json!({"client_id": "c", "client_secret": SECRET, "redirect_uris": [REDIRECT_URI],
                   "response_types": []}),
            Reject::ResponseTypeUnsupported,
        ),
        (
            json!({"client_id": "", "client_secret": SECRET, "redirect_uris": [REDIRECT_URI]}),
            Reject::ClientIdMalformed,
        ),
    ] {
        assert_refused(metadata, reject);
    }
    // 32 characters are enough; hybrid types with implicit are consistent.
    register(json!({
        "client_id": "c",
        "client_secret": &SECRET[..32],
        "redirect_uris": [REDIRECT_URI],
        "response_types": ["code id_token", "code token", "code id_token token"],
        "grant_types": ["authorization_code", "implicit"],
    }))
    .expect("valid");
}

/// Schemes that run code or read local data are refused for every client, at registration and
/// when a stored registration is loaded for an authorization (RFC 6749 §10.6, RFC 8252 §8.1);
/// a native client's private-use scheme must be a reverse domain name (RFC 8252 §7.1).
#[test]
fn registration_refuses_code_running_and_non_reverse_domain_schemes() {
    for uri in [
        "javascript:alert(document.domain)//",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "blob:https://rp.example/uuid",
        "about:blank",
        "view-source:https://rp.example/cb",
    ] {
        for metadata in [native(&[uri]), web(&[uri])] {
            assert_refused(metadata, Reject::RedirectUriSchemeForbidden);
        }
        // A stored registration from before this rule no longer loads.
        let mut stored: ClientMetadata =
            serde_json::from_value(native(&["com.example.app:/cb"])).expect("metadata");
        stored.redirect_uris = vec![uri.to_string()];
        assert_eq!(
            Client::from_parts(stored, None).err(),
            Some(Reject::RedirectUriSchemeForbidden),
            "{uri}"
        );
    }
    for uri in [
        "myapp://cb",
        "myapp:/cb",
        "com..example:/cb",
        "com.example.:/cb",
    ] {
        assert_refused(native(&[uri]), Reject::RedirectUriSchemeNotReverseDomain);
    }
    for ok in ["com.example.app:/cb", "com.example-app.ios:/oauth2redirect"] {
        register(native(&[ok])).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
    }
    assert_eq!(
        Reject::RedirectUriSchemeForbidden.code().as_str(),
        "invalid_redirect_uri"
    );
}

/// Response parameter names hidden by percent-encoding in a registered redirect URI are still
/// reserved: a client reads them decoded, so `%73tate` would repeat `state`
/// (RFC 6749 §3.1.2; REQUIREMENTS 22).
#[test]
fn registration_decodes_reserved_parameter_names() {
    let encoded_names = [
        "https://rp.example/cb?%73tate=fixed",
        "https://rp.example/cb?%63ode=1",
        "https://rp.example/cb?a=1&%69%73%73=x",
        "https://rp.example/cb?id%5Ftoken=x",
    ];
    for uri in encoded_names {
        assert_refused(web(&[uri]), Reject::RedirectUriMalformed);
    }
    assert_eq!(
        register(web(&["https://rp.example/cb?x=%ff"])).err(),
        None,
        "values are not names"
    );
    assert_eq!(
        register(web(&["https://rp.example/cb?%ff=1"])).err(),
        Some(Reject::RedirectUriMalformed),
        "a name that does not decode to UTF-8"
    );
    register(web(&["https://rp.example/cb?%73tates=fine"])).expect("another name");
}

/// Standard metadata the provider does not use is accepted and kept (RFC 7591 §2); a known
/// field with an unsupported value says "not supported", naming the field and the supported
/// values, never the value sent.
#[test]
fn registration_keeps_unknown_metadata_and_names_unsupported_values() {
    let metadata: ClientMetadata = serde_json::from_value(json!({
        "client_id": "c",
        "client_secret": SECRET,
        "redirect_uris": [REDIRECT_URI],
        "logo_uri": "https://rp.example/logo.png",
        "contacts": ["ops@rp.example"],
        "client_name#ja": "クライアント",
        "policy_uri": "https://rp.example/policy",
        "tos_uri": "https://rp.example/tos",
        "software_id": "4NRB1-0XZABZI9E6-5SM3R",
        "jwks_uri": "https://rp.example/jwks",
    }))
    .expect("standard metadata is accepted");
    let client = Client::register(metadata).expect("registers");
    let kept = &client.metadata().other;
    assert_eq!(kept["logo_uri"], "https://rp.example/logo.png");
    assert_eq!(kept["client_name#ja"], "クライアント");
    assert_eq!(kept["contacts"], json!(["ops@rp.example"]));
    let round_trip = serde_json::to_value(client.metadata()).expect("serialises");
    assert_eq!(round_trip["software_id"], "4NRB1-0XZABZI9E6-5SM3R");
    for (field, value, message) in [
        (
            "token_endpoint_auth_method",
            json!("attest_jwt_client_auth"),
            "token_endpoint_auth_method: the value is not supported (supported: client_secret_basic client_secret_post none private_key_jwt client_secret_jwt tls_client_auth self_signed_tls_client_auth)",
        ),
        (
            "grant_types",
            json!(["authorization_code", "client_credentials"]),
            "grant_types: the value is not supported (supported: authorization_code implicit refresh_token)",
        ),
        (
            "application_type",
            json!("desktop"),
            "application_type: the value is not supported (supported: web native)",
        ),
    ] {
        let mut metadata = web(&[REDIRECT_URI]);
        metadata[field] = value;
        let error = serde_json::from_value::<ClientMetadata>(metadata)
            .expect_err("an unsupported value is refused")
            .to_string();
        assert!(error.starts_with(message), "{error}");
        assert!(!error.contains("unknown variant"), "{error}");
    }
}

/// Every future of the driver is `Send`, so hosts can await them in multi-threaded servers
/// (`tokio::spawn`, axum handlers).
#[test]
fn provider_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let h = Harness::new();
    let params = Params::parse("").expect("empty input parses");
    assert_send(&h.provider.authorize(&params));
    assert_send(&h.provider.token(&params, None));
    assert_send(&h.provider.userinfo(&Directory, None, Some(&params)));
    assert_send(&h.provider.revoke(&params, None));
    let bound = h
        .authorize(&form(&[
            ("response_type", "code"),
            ("client_id", "rs-basic"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid"),
        ]))
        .expect("binds");
    let approval = Approval::new(Subject::new("alice").expect("subject"), h.now());
    assert_send(&h.provider.approve(bound, approval));
}
