//! Negative tests of the authorization endpoint: which errors are shown to the user and which
//! are redirected, with the exact wire code, response mode, `state`, `iss` and a safe
//! `error_description` (OIDC Core §3.1.2.6, §3.3.2.6; RFC 6749 §4.1.2.1; RFC 9207).
//!
//! REQUIREMENTS covered: 3–9, 11–20, 27, 28, 33, 57–60, 64, 68–73, 128, 141, 184, 185, 203.

use oidc_hybrid::params::{MAX_INPUT_LEN, MAX_PARAMS, MAX_VALUE_LEN};
use oidc_hybrid::{
    AuthorizeError, BoundRequest, Config, ConfigError, DisplayMode, Params, Reject, ResponseMode,
    ResponseType, Step,
};
use oidc_hybrid_tests::{
    Delivered, Harness, ISSUER, REDIRECT_URI, STATE, assert_in_fragment, assert_redirected,
    assert_redirected_to, assert_safe_description, assert_shown, auth_pairs, client, form,
    pkce_pair, set_param,
};
use serde_json::json;

/// Authorizes `pairs` and expects an error.
fn refuse(h: &Harness, pairs: &[(&str, &str)]) -> AuthorizeError {
    h.authorize(&form(pairs))
        .expect_err("the request must be refused")
}

/// Authorizes `pairs` and expects them to bind.
fn bind(h: &Harness, pairs: &[(&str, &str)]) -> BoundRequest {
    h.authorize(&form(pairs))
        .unwrap_or_else(|err| panic!("{pairs:?} must bind: {err:?}"))
}

/// Authorizes `pairs` and expects an error for `reject`.
fn refuse_as(h: &Harness, pairs: &[(&str, &str)], reject: Reject) -> AuthorizeError {
    let err = refuse(h, pairs);
    assert_eq!(err.reject(), reject, "{pairs:?}");
    err
}

/// A request for `response_type` / `client_id` with `name` replaced (`Some`) or removed (`None`).
fn with<'a>(
    response_type: &'a str,
    client_id: &'a str,
    name: &'a str,
    value: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    let mut pairs = auth_pairs(response_type, client_id);
    set_param(&mut pairs, name, value);
    pairs
}

/// The plain request (`code id_token` for `rs-basic`) with `name` replaced or removed.
fn plain_with<'a>(name: &'a str, value: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    with("code id_token", "rs-basic", name, value)
}

// ---------------------------------------------------------------------------------------------
// Client and redirect URI: shown to the user, never redirected.
// ---------------------------------------------------------------------------------------------

/// A request without `client_id` is answered with an error page (REQUIREMENTS 17, 73).
#[test]
fn missing_client_id_is_shown() {
    let h = Harness::new();
    for client_id in [None, Some("")] {
        let err = refuse(&h, &plain_with("client_id", client_id));
        assert_shown(&err, Reject::ClientIdMissing, "invalid_request");
    }
}

/// An unknown `client_id` is answered with an error page (REQUIREMENTS 17, 73).
#[test]
fn unknown_client_is_shown() {
    let h = Harness::new();
    for client_id in ["nobody", "RS-BASIC", "rs-basic ", "rs-basi"] {
        let err = refuse(&h, &auth_pairs("code id_token", client_id));
        assert_shown(&err, Reject::ClientUnknown, "invalid_client");
    }
}

/// A `client_id` that cannot be an identifier (control characters, too long, non-ASCII) is
/// answered with an error page (REQUIREMENTS 8, 17).
#[test]
fn malformed_client_id_is_shown() {
    let h = Harness::new();
    let long = "a".repeat(256);
    for client_id in ["rs-basic\u{1}", "\u{e9}t\u{e9}", "rs\nbasic", long.as_str()] {
        let err = refuse(&h, &auth_pairs("code id_token", client_id));
        assert_shown(&err, Reject::ClientIdMalformed, "invalid_request");
    }
}

/// A repeated `client_id`, `redirect_uri` or `response_mode` is shown (they decide where the
/// response goes), never redirected (REQUIREMENTS 4, 20).
#[test]
fn duplicated_routing_parameters_are_shown() {
    let routing_repeats = [
        ("client_id", "rs-basic"),
        ("client_id", "es-post"),
        ("redirect_uri", REDIRECT_URI),
        ("redirect_uri", "https://attacker.example/cb"),
        ("response_mode", "fragment"),
    ];
    let h = Harness::new();
    for (name, value) in routing_repeats {
        let mut pairs = auth_pairs("code id_token", "rs-basic");
        if name == "response_mode" {
            pairs.push(("response_mode", "fragment"));
        }
        pairs.push((name, value));
        let err = refuse(&h, &pairs);
        assert_shown(&err, Reject::ParameterDuplicated, "invalid_request");
    }
}

/// A request without `redirect_uri` is shown: OIDC requires it (REQUIREMENTS 18, 20).
#[test]
fn missing_redirect_uri_is_shown() {
    let h = Harness::new();
    for value in [None, Some("")] {
        for rt in ["code id_token", "code", "code token", "code id_token token"] {
            let err = refuse(&h, &with(rt, "rs-basic", "redirect_uri", value));
            assert_shown(&err, Reject::RedirectUriMissing, "invalid_request");
        }
    }
}

/// Unregistered redirect URIs and near misses are refused by exact string comparison and never
/// receive a response, even when the request has other errors too (REQUIREMENTS 16, 18, 20, 26).
#[test]
fn redirect_uri_near_misses_are_shown() {
    let h = Harness::new();
    let near_misses = [
        "https://rp.example/cb/",
        "https://RP.example/cb",
        "https://rp.EXAMPLE/cb",
        "HTTPS://rp.example/cb",
        "https://rp.example/CB",
        "https://rp.example/cb?x=1",
        "https://rp.example/cb?",
        "https://rp.example/cb/extra",
        "https://rp.example/cbx",
        "https://rp.example/c",
        "https://rp.example",
        "http://rp.example/cb",
        "https://rp.example/cb#frag",
        "https://rp.example/cb#",
        "https://rp.example:443/cb",
        "https://rp.example/%63b",
        "https://rp.example/./cb",
        "https://rp.example.attacker.example/cb",
        "https://attacker.example/cb",
        " https://rp.example/cb",
        "https://rp.example/cb?tenant=8",
        "https://rp.example/cb?tenant=7&x=1",
        "http://127.0.0.1/cb",
    ];
    for uri in near_misses {
        for client_id in ["rs-basic", "es-post", "default"] {
            // Valid otherwise.
            let pairs = with("code id_token", client_id, "redirect_uri", Some(uri));
            let err = refuse(&h, &pairs);
            assert_shown(&err, Reject::RedirectUriMismatch, "invalid_request");
            // With further errors that would otherwise be redirected.
            let mut pairs = with("token", client_id, "redirect_uri", Some(uri));
            set_param(&mut pairs, "scope", None);
            set_param(&mut pairs, "response_mode", Some("form_post"));
            let err = refuse(&h, &pairs);
            assert_shown(&err, Reject::RedirectUriMismatch, "invalid_request");
        }
    }
    // A URI registered for one client is not valid for another.
    let tenant = "https://rp.example/cb?tenant=7";
    let err = refuse(
        &h,
        &with("code id_token", "es-post", "redirect_uri", Some(tenant)),
    );
    assert_shown(&err, Reject::RedirectUriMismatch, "invalid_request");
    let bound = bind(&h, &plain_with("redirect_uri", Some(tenant)));
    assert_eq!(bound.redirect_uri(), tenant, "registered for rs-basic");
}

/// The native client's loopback redirect URI binds on any port; errors then go to that exact
/// URI; path, host and scheme still match exactly (REQUIREMENTS 18, 19).
#[test]
fn loopback_port_may_vary_for_native_client() {
    let h = Harness::new();
    let (_, challenge) = pkce_pair("native");
    let native_pairs = |uri: &'static str| {
        let mut pairs = with("code id_token", "native", "redirect_uri", Some(uri));
        pairs.push(("code_challenge", challenge.as_str()));
        pairs.push(("code_challenge_method", "S256"));
        pairs
    };
    let native = |uri: &'static str| h.authorize(&form(&native_pairs(uri)));
    for uri in [
        "http://127.0.0.1/cb",
        "http://127.0.0.1:51234/cb",
        "http://127.0.0.1:1/cb",
    ] {
        let bound = native(uri).expect("loopback port may vary");
        assert_eq!(bound.redirect_uri(), uri);
        let response = h.approve(bound, "alice").expect("approved");
        let delivered = Delivered::from_response(&response);
        assert_eq!(delivered.target, uri);
        assert_eq!(delivered.mode, ResponseMode::Fragment);
    }
    for uri in [
        "http://127.0.0.1:51234/cb/",
        "http://127.0.0.1:51234/other",
        "http://127.0.0.1:51234/cb?x=1",
        "http://localhost:51234/cb",
        "http://[::1]:51234/cb",
        "https://127.0.0.1:51234/cb",
        "http://127.0.0.2:51234/cb",
        "http://127.0.0.1:port/cb",
        "http://127.0.0.1:123456/cb",
        "http://127.0.0.1.attacker.example/cb",
        "http://127.0.0.1:51234@attacker.example/cb",
    ] {
        let err = native(uri).expect_err("only the port may vary");
        assert_shown(&err, Reject::RedirectUriMismatch, "invalid_request");
    }
    // A redirected error goes to the port the request named.
    let mut pairs = native_pairs("http://127.0.0.1:51234/cb");
    set_param(&mut pairs, "nonce", None);
    let err = refuse(&h, &pairs);
    assert_eq!(err.reject(), Reject::NonceMissing);
    assert_redirected_to(
        &err,
        "http://127.0.0.1:51234/cb",
        "invalid_request",
        ResponseMode::Fragment,
        Some(STATE),
    );
}

/// A web client registered with a loopback URI gets exact matching: no port variation
/// (REQUIREMENTS 18, 19).
#[test]
fn loopback_port_variation_refused_for_web_client() {
    let h = Harness::new();
    h.provider.storage().insert_client(client(json!({
        "client_id": "web-loopback",
        "client_secret": oidc_hybrid_tests::SECRET,
        "redirect_uris": ["http://127.0.0.1/cb"],
    })));
    let exact = with(
        "code id_token",
        "web-loopback",
        "redirect_uri",
        Some("http://127.0.0.1/cb"),
    );
    let bound = bind(&h, &exact);
    assert_eq!(
        bound.redirect_uri(),
        "http://127.0.0.1/cb",
        "the exact URI binds"
    );
    for uri in ["http://127.0.0.1:51234/cb", "http://127.0.0.1:80/cb"] {
        let pairs = with("code id_token", "web-loopback", "redirect_uri", Some(uri));
        let err = refuse(&h, &pairs);
        assert_shown(&err, Reject::RedirectUriMismatch, "invalid_request");
    }
}

/// An unsupported `response_mode` is answered with HTTP 400 and no redirect
/// (OIDC Core §3.1.2.6; REQUIREMENTS 60, 73).
#[test]
fn unknown_response_mode_is_shown() {
    let unsupported_modes = [
        "jwt",
        "query.jwt",
        "fragment.jwt",
        "form_post.jwt",
        "Fragment",
        "FORM_POST",
        "web_message",
        "fragment ",
    ];
    let h = Harness::new();
    for mode in unsupported_modes {
        for rt in ["code id_token", "code"] {
            let pairs = with(rt, "rs-basic", "response_mode", Some(mode));
            let err = refuse(&h, &pairs);
            assert_shown(&err, Reject::ResponseModeUnsupported, "invalid_request");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// response_type
// ---------------------------------------------------------------------------------------------

/// A missing `response_type` is redirected as `unsupported_response_type` in the fragment
/// (the hybrid default, never query; REQUIREMENTS 7, 58, 68).
#[test]
fn missing_response_type_is_redirected_in_fragment() {
    let h = Harness::new();
    let mut query = plain_with("response_type", None);
    // Even when query was asked for.
    query.push(("response_mode", "query"));
    for pairs in [
        plain_with("response_type", None),
        plain_with("response_type", Some("")),
        query,
    ] {
        let err = refuse_as(&h, &pairs, Reject::ResponseTypeMissing);
        assert_in_fragment(&err, "unsupported_response_type");
    }
}

/// Response types outside the four supported sets are `unsupported_response_type`, redirected
/// in the fragment (REQUIREMENTS 6, 7, 68).
#[test]
fn unsupported_response_types_are_redirected() {
    let unsupported = [
        "token",
        "id_token",
        "id_token token",
        "token id_token",
        "code code",
        "code id_token code",
        "none",
        "code none",
        "Code",
        "code  id_token",
        " code",
        "code id_token token extra",
        "code+id_token",
    ];
    let h = Harness::new();
    for client_id in ["rs-basic", "default"] {
        for rt in unsupported {
            let pairs = auth_pairs(rt, client_id);
            let err = refuse_as(&h, &pairs, Reject::ResponseTypeUnsupported);
            assert_in_fragment(&err, "unsupported_response_type");
        }
    }
}

/// `response_type` is an unordered set (REQUIREMENTS 6).
#[test]
fn reordered_response_types_bind() {
    let h = Harness::new();
    for (expected, orders) in [
        (
            ResponseType::CodeIdToken,
            &["id_token code", "code id_token"][..],
        ),
        (ResponseType::CodeToken, &["token code"]),
        (
            ResponseType::CodeIdTokenToken,
            &[
                "token id_token code",
                "id_token token code",
                "code token id_token",
            ],
        ),
    ] {
        for &rt in orders {
            let bound = bind(&h, &auth_pairs(rt, "rs-basic"));
            assert_eq!(bound.response_type(), expected, "{rt}");
            assert_eq!(bound.response_mode(), ResponseMode::Fragment);
        }
    }
}

/// A response type the client did not register is `unauthorized_client`
/// (REQUIREMENTS 11, 124).
#[test]
fn unregistered_response_type_is_unauthorized_client() {
    let h = Harness::new();
    for rt in ["code token", "code id_token token", "token code"] {
        let pairs = auth_pairs(rt, "default");
        let err = refuse_as(&h, &pairs, Reject::ResponseTypeNotAllowed);
        assert_in_fragment(&err, "unauthorized_client");
    }
    // In form_post mode too.
    let mut pairs = auth_pairs("code token", "default");
    pairs.push(("response_mode", "form_post"));
    let err = refuse(&h, &pairs);
    assert_redirected(
        &err,
        "unauthorized_client",
        ResponseMode::FormPost,
        Some(STATE),
    );
}

// ---------------------------------------------------------------------------------------------
// scope, nonce, duplicates
// ---------------------------------------------------------------------------------------------

/// A scope without `openid` (compared code point by code point) or no scope at all is
/// `invalid_scope` (REQUIREMENTS 8, 9, 16).
#[test]
fn scope_without_openid_is_invalid_scope() {
    let without_openid = [
        None,
        Some(""),
        Some("profile email"),
        Some("OpenID"),
        Some("openid2"),
        Some("open id"),
    ];
    let h = Harness::new();
    for scope in without_openid {
        for rt in ["code id_token", "code token", "code"] {
            let pairs = with(rt, "rs-basic", "scope", scope);
            let err = refuse_as(&h, &pairs, Reject::ScopeOpenIdMissing);
            let mode = ResponseType::parse(rt).expect("valid").default_mode();
            assert_redirected(&err, "invalid_scope", mode, Some(STATE));
        }
    }
    // Characters outside the scope-token grammar.
    for scope in ["openid \"profile", "openid\\x", "openid  profile"] {
        let pairs = plain_with("scope", Some(scope));
        let err = refuse_as(&h, &pairs, Reject::ScopeMalformed);
        assert_in_fragment(&err, "invalid_scope");
    }
}

/// Unknown scope values are ignored and the order does not matter (REQUIREMENTS 6, 10).
#[test]
fn unknown_scope_values_are_ignored() {
    let h = Harness::new();
    let unknown = Some("urn:example:unknown openid profile");
    let bound = bind(&h, &plain_with("scope", unknown));
    assert!(bound.scope().contains("openid"));
    // Ignored means gone: not granted, not for consent, not in tokens (OIDC Core §3.1.2.1).
    assert_eq!(bound.scope().to_string(), "openid profile");
    let params = h.issue(
        &with("code id_token token", "rs-basic", "scope", unknown),
        "alice",
    );
    let token = h.redeem("rs-basic", &params["code"]).expect("tokens");
    assert_eq!(token.scope(), "openid profile");
    // A value the host registers is kept.
    let mut config = Config::new(ISSUER).expect("issuer");
    config.scopes_supported.push("urn:example:unknown".into());
    let h = Harness::with_config(config);
    let bound = bind(&h, &plain_with("scope", unknown));
    assert_eq!(
        bound.scope().to_string(),
        "openid profile urn:example:unknown"
    );
}

/// `scopes_supported` must keep `openid` and hold single scope tokens.
#[test]
fn scopes_supported_is_checked() {
    for bad in [
        vec!["profile"],
        vec!["openid", "two words"],
        vec!["openid", ""],
    ] {
        let mut config = Config::new(ISSUER).expect("issuer");
        config.scopes_supported = bad.iter().map(|s| (*s).to_string()).collect();
        assert_eq!(config.check(), Err(ConfigError::Scopes), "{bad:?}");
    }
}

/// A repeated protocol parameter other than the routing ones is redirected as
/// `invalid_request` (REQUIREMENTS 4).
#[test]
fn duplicated_parameters_are_invalid_request() {
    let repeats = [
        ("scope", "openid"),
        ("scope", "openid profile"),
        ("nonce", "other"),
        ("response_type", "code id_token"),
        ("prompt", "login"),
        ("max_age", "10"),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
    ];
    let h = Harness::new();
    for (name, value) in repeats {
        let mut pairs = auth_pairs("code id_token", "rs-basic");
        if !pairs.iter().any(|(n, _)| *n == name) {
            pairs.push((name, value));
        }
        pairs.push((name, value));
        let err = refuse_as(&h, &pairs, Reject::ParameterDuplicated);
        assert_in_fragment(&err, "invalid_request");
    }
    // A repeated state cannot be echoed: the error goes without one.
    let mut pairs = auth_pairs("code id_token", "rs-basic");
    pairs.push(("state", "second"));
    let err = refuse_as(&h, &pairs, Reject::ParameterDuplicated);
    assert_redirected(&err, "invalid_request", ResponseMode::Fragment, None);
}

/// `nonce` is required for `code id_token` and `code id_token token` (REQUIREMENTS 27).
#[test]
fn nonce_required_when_an_id_token_is_returned() {
    let h = Harness::new();
    for rt in ["code id_token", "code id_token token", "id_token code"] {
        for nonce in [None, Some("")] {
            let pairs = with(rt, "rs-basic", "nonce", nonce);
            let err = refuse_as(&h, &pairs, Reject::NonceMissing);
            assert_in_fragment(&err, "invalid_request");
        }
    }
}

/// `nonce` is optional for `code token` and `code` (REQUIREMENTS 28).
#[test]
fn nonce_optional_without_front_channel_id_token() {
    let h = Harness::new();
    for rt in ["code token", "code"] {
        let bound = bind(&h, &with(rt, "rs-basic", "nonce", None));
        assert!(bound.nonce().is_none(), "binds without nonce");
        let response = h.approve(bound, "alice").expect("approved");
        assert!(!response.is_error());
    }
}

// ---------------------------------------------------------------------------------------------
// Response modes of errors
// ---------------------------------------------------------------------------------------------

/// `response_mode=query` with a token-bearing type is refused with `invalid_request`, delivered
/// in the fragment, never in the query (REQUIREMENTS 58, 68, 203).
#[test]
fn query_mode_with_tokens_is_refused_in_the_fragment() {
    let h = Harness::new();
    for rt in ["code id_token", "code token", "code id_token token"] {
        let pairs = with(rt, "rs-basic", "response_mode", Some("query"));
        let err = refuse_as(&h, &pairs, Reject::ResponseModeQueryWithTokens);
        assert_in_fragment(&err, "invalid_request");
        let location = err
            .into_response()
            .and_then(|r| r.location())
            .expect("a Location");
        assert!(location.starts_with("https://rp.example/cb#"), "{location}");
        assert!(!location.contains("?error"), "{location}");
        assert!(!location.contains('?'), "{location}");
    }
    // Plain code may use the query.
    let bound = bind(
        &h,
        &with("code", "rs-basic", "response_mode", Some("query")),
    );
    assert_eq!(
        bound.response_mode(),
        ResponseMode::Query,
        "code in query mode binds"
    );
}

/// With `response_mode=form_post`, errors are posted too (REQUIREMENTS 59, 185, 203).
#[test]
fn errors_honour_form_post() {
    let h = Harness::new();
    // (response_type, parameter to set, its value, reason, wire code)
    type Case = (
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Reject,
        &'static str,
    );
    let cases: [Case; 4] = [
        (
            "code id_token",
            Some("nonce"),
            None,
            Reject::NonceMissing,
            "invalid_request",
        ),
        (
            "token",
            None,
            None,
            Reject::ResponseTypeUnsupported,
            "unsupported_response_type",
        ),
        (
            "code token",
            Some("scope"),
            Some("profile"),
            Reject::ScopeOpenIdMissing,
            "invalid_scope",
        ),
        (
            "code id_token",
            Some("prompt"),
            Some("none login"),
            Reject::PromptNoneWithOther,
            "invalid_request",
        ),
    ];
    for (rt, name, value, reject, code) in cases {
        let mut pairs = auth_pairs(rt, "es-post");
        if let Some(name) = name {
            set_param(&mut pairs, name, value);
        }
        pairs.push(("response_mode", "form_post"));
        let err = refuse_as(&h, &pairs, reject);
        let delivered = assert_redirected(&err, code, ResponseMode::FormPost, Some(STATE));
        assert_eq!(delivered.target, REDIRECT_URI);
        let Some(response) = err.into_response() else {
            panic!("redirected")
        };
        let html = response.form_post_html();
        assert!(html.contains("<form method=\"post\" action=\"https://rp.example/cb\">"));
    }
    // Fragment explicitly requested for plain code: errors in the fragment.
    let mut pairs = with("code", "rs-basic", "scope", Some("profile"));
    pairs.push(("response_mode", "fragment"));
    let err = refuse(&h, &pairs);
    assert_redirected(&err, "invalid_scope", ResponseMode::Fragment, Some(STATE));
}

/// A request object is never silently ignored: one that does not verify is refused with
/// `invalid_request_object`, a `request_uri` this provider did not issue with
/// `request_uri_not_supported`, an unknown PAR reference with `invalid_request_uri` — shown to
/// the user, since nothing unverified says where to redirect (REQUIREMENTS 141; the flows that
/// succeed are in request_objects.rs).
#[test]
fn request_objects_are_never_ignored() {
    let h = Harness::new();
    let cases = [
        (
            ("request", "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"),
            Reject::RequestObjectAlgorithmRefused,
            "invalid_request_object",
        ),
        (
            ("request", "eyJhbGciOiJub25lIn0.e30."),
            Reject::RequestObjectAlgorithmRefused,
            "invalid_request_object",
        ),
        (
            ("request_uri", "https://rp.example/request.jwt"),
            Reject::RequestUriNotSupported,
            "request_uri_not_supported",
        ),
        (
            ("request_uri", "urn:ietf:params:oauth:request_uri:abc"),
            Reject::RequestUriInvalid,
            "invalid_request_uri",
        ),
    ];
    for rt in ["code id_token", "code"] {
        for (param, reject, code) in cases {
            let mut pairs = auth_pairs(rt, "rs-basic");
            pairs.push(param);
            assert_shown(&refuse(&h, &pairs), reject, code);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// prompt, max_age
// ---------------------------------------------------------------------------------------------

/// `prompt=none` with anything else, and unknown prompt values, are `invalid_request`
/// (REQUIREMENTS 38, 40).
#[test]
fn prompt_errors() {
    let h = Harness::new();
    for (reject, prompts) in [
        (
            Reject::PromptNoneWithOther,
            [
                "none login",
                "login none",
                "none consent",
                "none select_account",
            ],
        ),
        (
            Reject::PromptUnsupported,
            ["bogus", "login bogus", "None", "create"],
        ),
    ] {
        for prompt in prompts {
            let err = refuse_as(&h, &plain_with("prompt", Some(prompt)), reject);
            assert_in_fragment(&err, "invalid_request");
        }
    }
    for prompt in [
        "none",
        "login",
        "consent",
        "select_account",
        "login consent",
    ] {
        let p = bind(&h, &plain_with("prompt", Some(prompt))).prompt();
        assert_eq!(p.none, prompt == "none");
        assert_eq!(p.login, prompt.contains("login"));
        assert_eq!(p.consent, prompt.contains("consent"));
        assert_eq!(p.select_account, prompt == "select_account");
    }
}

/// `max_age` must be a non-negative integer (REQUIREMENTS 8, 41).
#[test]
fn malformed_max_age_is_invalid_request() {
    let malformed = [
        "-1",
        "abc",
        "1.5",
        "1e3",
        " 5",
        "5 ",
        "0x10",
        "99999999999",
        "+5",
    ];
    let h = Harness::new();
    for max_age in malformed {
        let pairs = plain_with("max_age", Some(max_age));
        let err = refuse_as(&h, &pairs, Reject::MaxAgeMalformed);
        assert_in_fragment(&err, "invalid_request");
    }
    for (max_age, expected) in [("0", 0), ("10", 10), ("3600", 3600)] {
        let bound = bind(&h, &plain_with("max_age", Some(max_age)));
        assert_eq!(bound.max_age(), Some(expected));
    }
}

// ---------------------------------------------------------------------------------------------
// PKCE
// ---------------------------------------------------------------------------------------------

/// PKCE request errors: `plain` (disabled), a challenge without method (plain implied,
/// RFC 7636 §4.3), a malformed S256 challenge, a method without challenge; and a native public
/// client without PKCE (REQUIREMENTS 127, 128).
#[test]
fn pkce_request_errors() {
    let h = Harness::new();
    let (_, good) = pkce_pair("pkce");
    let short = &good[..42];
    let long = format!("{good}A");
    let bad_chars = format!("{}+", &good[..42]);
    let padded = format!("{}=", &good[..42]);
    let verifier_like = "a".repeat(64);
    let cases: Vec<(Option<&str>, Option<&str>, Reject)> = vec![
        (
            Some(&good),
            Some("plain"),
            Reject::CodeChallengeMethodUnsupported,
        ),
        (
            Some(&verifier_like),
            Some("plain"),
            Reject::CodeChallengeMethodUnsupported,
        ),
        (Some(&good), None, Reject::CodeChallengeMethodUnsupported),
        (
            Some(&good),
            Some("s256"),
            Reject::CodeChallengeMethodUnsupported,
        ),
        (
            Some(&good),
            Some("S512"),
            Reject::CodeChallengeMethodUnsupported,
        ),
        (Some(short), Some("S256"), Reject::CodeChallengeMalformed),
        (Some(&long), Some("S256"), Reject::CodeChallengeMalformed),
        (
            Some(&bad_chars),
            Some("S256"),
            Reject::CodeChallengeMalformed,
        ),
        (Some(&padded), Some("S256"), Reject::CodeChallengeMalformed),
        (
            Some(&verifier_like),
            Some("S256"),
            Reject::CodeChallengeMalformed,
        ),
        (None, Some("S256"), Reject::CodeChallengeMalformed),
        (None, Some("plain"), Reject::CodeChallengeMalformed),
    ];
    for (challenge, method, reject) in cases {
        let mut pairs = auth_pairs("code id_token", "rs-basic");
        if let Some(challenge) = challenge {
            pairs.push(("code_challenge", challenge));
        }
        if let Some(method) = method {
            pairs.push(("code_challenge_method", method));
        }
        let err = refuse_as(&h, &pairs, reject);
        assert_eq!(err.reject().code().as_str(), "invalid_request");
        assert_in_fragment(&err, "invalid_request");
    }
    // The public native client must use PKCE.
    let loopback = "http://127.0.0.1:4000/cb";
    let mut pairs = with("code id_token", "native", "redirect_uri", Some(loopback));
    let err = refuse_as(&h, &pairs, Reject::CodeChallengeMissing);
    assert_redirected_to(
        &err,
        loopback,
        "invalid_request",
        ResponseMode::Fragment,
        Some(STATE),
    );
    // With S256 it binds.
    pairs.push(("code_challenge", good.as_str()));
    pairs.push(("code_challenge_method", "S256"));
    let bound = bind(&h, &pairs);
    assert_eq!(
        bound.response_type(),
        ResponseType::CodeIdToken,
        "binds with PKCE"
    );
}

// ---------------------------------------------------------------------------------------------
// Parameters that must not break a request
// ---------------------------------------------------------------------------------------------

/// `display`, `ui_locales`, `claims_locales`, `acr_values`, `login_hint` and unknown parameters
/// never make a request fail, and the bound request exposes them (REQUIREMENTS 5, 12–15). A
/// `resource` is no longer unknown (RFC 8707): a registered one binds and is kept; an unknown
/// one is `invalid_target` (see `api_tokens::unknown_malformed_and_ungranted_resources_…`).
#[test]
fn optional_and_unknown_parameters_bind() {
    let mut config = Config::new(ISSUER).expect("issuer");
    config.resources.push("https://api.example".into());
    let h = Harness::with_clients(config, Vec::new());
    for (display, expected) in [
        ("page", Some(DisplayMode::Page)),
        ("popup", Some(DisplayMode::Popup)),
        ("touch", Some(DisplayMode::Touch)),
        ("wap", Some(DisplayMode::Wap)),
        ("fullscreen", None),
        ("PAGE", None),
    ] {
        let bound = bind(&h, &plain_with("display", Some(display)));
        assert_eq!(bound.display(), expected, "{display}: display never fails");
    }
    let mut pairs = auth_pairs("code id_token token", "rs-basic");
    pairs.extend([
        ("ui_locales", "fr-CA fr en xx-NOPE"),
        ("claims_locales", "de  en"),
        ("acr_values", "urn:example:loa:2 urn:example:loa:1"),
        ("login_hint", "alice@example.org"),
        ("x-unknown", "whatever"),
        ("claims", "{\"id_token\":{\"acr\":null}}"),
        ("resource", "https://api.example"),
        ("registration", "{}"),
        ("unknown_flag", ""),
    ]);
    let bound = bind(&h, &pairs);
    assert_eq!(bound.ui_locales(), ["fr-CA", "fr", "en", "xx-NOPE"]);
    assert_eq!(bound.claims_locales(), ["de", "en"]);
    assert_eq!(
        bound.acr_values(),
        ["urn:example:loa:2", "urn:example:loa:1"]
    );
    assert_eq!(bound.login_hint(), Some("alice@example.org"));
    assert_eq!(bound.display(), None);
    assert_eq!(bound.resources(), ["https://api.example"]);
    assert_eq!(
        h.provider
            .next_step(&bound, None, oidc_hybrid::Consent::Missing)
            .expect("interactive"),
        Step::Login
    );
    let response = h.approve(bound, "alice").expect("approved");
    assert!(!response.is_error());
}

/// A parameter sent with an empty value is treated as absent (REQUIREMENTS 3).
#[test]
fn empty_values_are_absent() {
    let h = Harness::new();
    // state= : no state in the response.
    let bound = bind(&h, &plain_with("state", Some("")));
    assert!(bound.state().is_none());
    let params = Delivered::from_response(&h.approve(bound, "alice").expect("approved")).map();
    assert!(!params.contains_key("state"));
    // ... and none in an error either.
    let mut pairs = plain_with("state", Some(""));
    set_param(&mut pairs, "nonce", Some(""));
    let err = refuse_as(&h, &pairs, Reject::NonceMissing);
    assert_redirected(&err, "invalid_request", ResponseMode::Fragment, None);
    // response_mode= : the default mode.
    let bound = bind(&h, &plain_with("response_mode", Some("")));
    assert_eq!(bound.response_mode(), ResponseMode::Fragment);
    // Empty optional parameters change nothing.
    let mut pairs = auth_pairs("code id_token", "rs-basic");
    for name in [
        "prompt",
        "max_age",
        "display",
        "code_challenge",
        "code_challenge_method",
        "request",
        "request_uri",
        "id_token_hint",
        "login_hint",
    ] {
        pairs.push((name, ""));
    }
    let bound = bind(&h, &pairs);
    assert_eq!(bound.max_age(), None);
    assert_eq!(bound.prompt(), oidc_hybrid::Prompt::default());
    assert!(bound.id_token_hint().is_none());
    assert!(bound.login_hint().is_none());
}

/// Percent-decoded bytes that are not UTF-8 are refused before anything else, on an error page
/// (REQUIREMENTS 61, 73).
#[test]
fn malformed_encoding_is_shown() {
    let h = Harness::new();
    let good = form(&auth_pairs("code id_token", "rs-basic"));
    for bad in [
        format!("{good}&state=%FF"),
        format!("{good}&x=%C3%28"),
        format!("client_id=%FFrs&{good}"),
        format!("{good}&%FF=1"),
    ] {
        assert_eq!(Params::parse(&bad), Err(Reject::MalformedEncoding));
        let err = h.authorize(&bad).expect_err("refused");
        assert_shown(&err, Reject::MalformedEncoding, "invalid_request");
    }
}

/// Oversized requests are refused on an error page (REQUIREMENTS 73).
#[test]
fn oversized_requests_are_shown() {
    let h = Harness::new();
    let good = form(&auth_pairs("code id_token", "rs-basic"));
    let huge = format!("{good}&pad={}", "x".repeat(MAX_INPUT_LEN));
    assert_eq!(Params::parse(&huge), Err(Reject::RequestTooLarge));
    let err = h.authorize(&huge).expect_err("refused");
    assert_shown(&err, Reject::RequestTooLarge, "invalid_request");

    let long_value = format!("{good}&state={}", "s".repeat(MAX_VALUE_LEN + 1));
    let err = h.authorize(&long_value).expect_err("refused");
    assert_shown(&err, Reject::ParameterTooLong, "invalid_request");

    let many: Vec<String> = (0..=MAX_PARAMS).map(|i| format!("p{i}=1")).collect();
    let many = format!("{good}&{}", many.join("&"));
    let err = h.authorize(&many).expect_err("refused");
    assert_shown(&err, Reject::TooManyParameters, "invalid_request");
}

// ---------------------------------------------------------------------------------------------
// Attacker-controlled values in responses
// ---------------------------------------------------------------------------------------------

/// A hostile `state` is HTML-escaped in the form_post page and round-trips exactly, in success
/// and in error responses (REQUIREMENTS 33, 184).
#[test]
fn form_post_escapes_state() {
    let h = Harness::new();
    let state = "\"><script>alert(1)</script><img src=x onerror='a`b'>&amp;";
    let mut pairs = plain_with("state", Some(state));
    pairs.push(("response_mode", "form_post"));

    let response = h.approve(bind(&h, &pairs), "alice").expect("approved");
    let html = response.form_post_html();
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("onerror='"), "{html}");
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only the submit script"
    );
    let delivered = Delivered::from_response(&response);
    assert_eq!(delivered.get("state"), Some(state), "state round-trips");

    set_param(&mut pairs, "nonce", None);
    let err = refuse(&h, &pairs);
    let delivered = assert_redirected(&err, "invalid_request", ResponseMode::FormPost, Some(state));
    assert_eq!(delivered.get("state"), Some(state));
    let html = err.into_response().expect("redirected").form_post_html();
    assert!(!html.contains("<script>alert"), "{html}");
    assert_eq!(html.matches("<script>").count(), 1);
}

/// The same hostile `state` is percent-encoded in a fragment `Location` (REQUIREMENTS 61).
#[test]
fn fragment_encodes_state() {
    let h = Harness::new();
    let state = "a b&c=d#e\"<x>";
    let mut pairs = plain_with("state", Some(state));
    set_param(&mut pairs, "nonce", None);
    let err = refuse(&h, &pairs);
    let delivered = assert_redirected(&err, "invalid_request", ResponseMode::Fragment, Some(state));
    assert_eq!(delivered.get("state"), Some(state));
    let location = err
        .into_response()
        .and_then(|r| r.location())
        .expect("Location");
    assert_eq!(location.matches('#').count(), 1, "{location}");
    assert!(!location.contains(' ') && !location.contains('"') && !location.contains('<'));
}

/// `error_description` never contains anything the request sent: distinctive markers in every
/// parameter of many failing requests never reach it (REQUIREMENTS 70).
#[test]
fn error_description_never_echoes_input() {
    let h = Harness::new();
    const M: &str = "QZXMARK";
    let base = |rt: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![
            ("response_type", rt),
            ("client_id", "rs-basic"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid QZXMARKscope"),
            ("nonce", "QZXMARKnonce"),
            ("state", "QZXMARKstate"),
            ("ui_locales", "QZXMARKui"),
            ("login_hint", "QZXMARKhint"),
            ("acr_values", "QZXMARKacr"),
            ("display", "QZXMARKdisplay"),
            ("QZXMARKname", "QZXMARKvalue"),
        ]
    };
    let mut failing: Vec<Vec<(&str, &str)>> = Vec::new();
    let edits: [(&str, &'static str, Option<&'static str>); 14] = [
        ("QZXMARK code", "state", Some("QZXMARKstate")),
        ("code id_token", "nonce", None),
        ("code id_token", "scope", Some("QZXMARKonly")),
        ("code id_token", "prompt", Some("QZXMARKprompt")),
        ("code id_token", "prompt", Some("none QZXMARK")),
        ("code id_token", "max_age", Some("QZXMARK")),
        ("code id_token", "code_challenge", Some("QZXMARKchallenge")),
        (
            "code id_token",
            "code_challenge_method",
            Some("QZXMARKmethod"),
        ),
        ("code id_token", "request", Some("QZXMARK.request.x")),
        (
            "code id_token",
            "request_uri",
            Some("https://QZXMARK.example/r"),
        ),
        ("code id_token", "response_mode", Some("query")),
        ("code id_token", "id_token_hint", Some("QZXMARK.hint.x")),
        ("code id_token", "scope", Some("openid \"QZXMARK")),
        ("QZXMARK", "state", Some("QZXMARKstate")),
    ];
    for (rt, name, value) in edits {
        let mut pairs = base(rt);
        set_param(&mut pairs, name, value);
        failing.push(pairs);
    }
    // Shown errors too.
    for (name, value) in [
        ("client_id", "QZXMARKclient"),
        ("redirect_uri", "https://rp.example/QZXMARK"),
        ("response_mode", "QZXMARKmode"),
    ] {
        let mut pairs = base("code id_token");
        set_param(&mut pairs, name, Some(value));
        failing.push(pairs);
    }
    for pairs in failing {
        let err = refuse(&h, &pairs);
        let description = err.reject().description();
        assert!(!description.contains(M), "{description}");
        assert!(!err.to_string().contains(M), "{err}");
        assert_safe_description(description);
        if let Some(response) = err.into_response() {
            let params = Delivered::from_response(&response).map();
            let delivered = params.get("error_description").expect("error_description");
            assert!(!delivered.contains(M), "{delivered}");
            assert!(!delivered.to_ascii_uppercase().contains(M));
            assert_eq!(params.get("iss").map(String::as_str), Some(ISSUER));
        }
    }
}

/// Denial by the End-User is `access_denied`, with `state` and `iss`, in the requested mode
/// (REQUIREMENTS 33, 64, 72).
#[test]
fn user_denial_is_access_denied() {
    let h = Harness::new();
    for (rt, mode) in [
        ("code id_token", None),
        ("code id_token token", Some("form_post")),
        ("code token", Some("fragment")),
        ("code", None),
        ("code", Some("form_post")),
    ] {
        let mut pairs = auth_pairs(rt, "rs-basic");
        if let Some(mode) = mode {
            pairs.push(("response_mode", mode));
        }
        let bound = bind(&h, &pairs);
        let expected_mode = bound.response_mode();
        let response = h.provider.deny(bound);
        check_error_response(&response, "access_denied", expected_mode, Some(STATE));
    }
}

/// Checks an error response built by the provider (not an [`AuthorizeError`]).
fn check_error_response(
    response: &oidc_hybrid::AuthorizationResponse,
    code: &str,
    mode: ResponseMode,
    state: Option<&str>,
) {
    assert!(response.is_error());
    assert_eq!(response.mode(), mode);
    if mode == ResponseMode::Query {
        let location = response.location().expect("Location");
        assert!(
            location.starts_with("https://rp.example/cb?error="),
            "{location}"
        );
    }
    let delivered = Delivered::from_response(response);
    assert_eq!(delivered.target, REDIRECT_URI);
    let params = delivered.map();
    assert_eq!(params.get("error").map(String::as_str), Some(code));
    assert_safe_description(params.get("error_description").expect("description"));
    assert_eq!(params.get("state").map(String::as_str), state);
    assert_eq!(params.get("iss").map(String::as_str), Some(ISSUER));
    assert_eq!(params.len(), 3 + usize::from(state.is_some()), "{params:?}");
}
