//! Claims the host supplies and the core releases: custom scope claims, the `claims` request
//! parameter (OIDC Core §5.5), essential `acr` (§5.5.1.1), protected claims and discovery.
//!
//! REQUIREMENTS covered: 13 (`claims_locales`), 46 (a requested `sub`), 84, 90 (the claims
//! request travels with the grant), 118, 168, 170.

use core::convert::Infallible;

use oidc_hybrid::{
    Approval, Claims, ClaimsQuery, ClaimsSource, ClaimsTarget, Config, ConfigError, Params, Reject,
    ResponseMode, Subject, TokenResponse,
};
use oidc_hybrid_testkit::rp::Jws;
use oidc_hybrid_tests::{
    Delivered, Harness, ISSUER, REDIRECT_URI, SECRET, assert_redirected, auth_pairs, basic,
    block_on, form, set_param,
};
use serde_json::{Value, json};

/// A vendor's directory: standard claims, `roles` and `tenant`, and values for protected
/// claims that must never reach a token.
struct Vendor;

impl ClaimsSource for Vendor {
    type Error = Infallible;

    async fn claims(&self, subject: &Subject) -> Result<Option<Claims>, Self::Error> {
        let Value::Object(claims) = json!({
            "email": format!("{subject}@example.org"),
            "email_verified": true,
            "roles": ["admin", "auditor"],
            "tenant": "acme",
            "unlisted": "never released",
            "sub": "mallory",
            "iss": "https://evil.example",
            "aud": "someone-else",
            "nonce": "forged",
            "acr": "urn:example:loa:99",
            "auth_time": 1,
            "at_hash": "forged",
            "azp": "someone-else",
            "sid": "forged",
            "cnf": { "jkt": "forged" },
        }) else {
            unreachable!("a JSON object literal is an object")
        };
        Ok(Some(claims))
    }

    async fn claims_for(&self, query: &ClaimsQuery) -> Result<Option<Claims>, Self::Error> {
        // The host sees what the core may release; it answers everything anyway, and the core
        // filters.
        assert!(!query.releasable.iter().any(|c| c == "sub" || c == "acr"));
        self.claims(&query.subject).await
    }
}

fn config() -> Config {
    let mut config = Config::new(ISSUER).expect("issuer");
    config.scopes_supported.push("roles".into());
    config
        .scope_claims
        .push(("roles".into(), vec!["roles".into()]));
    config.claims_supported.push("tenant".into());
    config.acr_values_supported = vec!["urn:example:loa:1".into(), "urn:example:loa:2".into()];
    config
}

fn harness() -> Harness {
    Harness::with_clients(config(), Vec::new())
}

fn payload(jwt: &str) -> Value {
    Jws::parse(jwt).expect("a JWS").payload().clone()
}

/// Authorizes `pairs` for alice (acr loa:1), redeems the code with the vendor's claims.
fn flow(h: &Harness, pairs: &[(&str, &str)]) -> (Delivered, TokenResponse) {
    let bound = h.authorize(&form(pairs)).expect("binds");
    let response = h.approve(bound, "alice").expect("approved");
    let delivered = Delivered::from_response(&response);
    let code = delivered.map()["code"].clone();
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ]);
    let params = Params::parse(&body).expect("form");
    let auth = basic("rs-basic", SECRET);
    let tokens = block_on(
        h.provider
            .token_with_claims(&Vendor, &params, Some(auth.as_str())),
    );
    (delivered, tokens.expect("tokens"))
}

fn userinfo(h: &Harness, token: &str) -> Claims {
    let bearer = format!("Bearer {token}");
    block_on(h.provider.userinfo(&Vendor, Some(bearer.as_str()), None)).expect("userinfo")
}

#[test]
fn custom_scope_claims_reach_the_token_endpoint_id_token_and_userinfo_but_never_protected_ones() {
    let h = harness();
    let mut pairs = auth_pairs("code id_token", "rs-basic");
    set_param(&mut pairs, "scope", Some("openid email roles"));
    let (delivered, tokens) = flow(&h, &pairs);
    assert_eq!(tokens.scope(), "email openid roles");

    let front = payload(&delivered.map()["id_token"]);
    assert!(
        front.get("roles").is_none(),
        "no End-User claims in the front channel"
    );

    let id = payload(tokens.id_token().expect("ID token"));
    assert_eq!(id["roles"], json!(["admin", "auditor"]));
    assert!(
        id.get("email").is_none(),
        "standard scope claims stay in UserInfo"
    );
    assert!(id.get("tenant").is_none() && id.get("unlisted").is_none());
    assert_eq!(id["sub"], "alice");
    assert_eq!(id["iss"], ISSUER);
    assert_eq!(id["aud"], "rs-basic");
    assert_eq!(id["azp"], "rs-basic");
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(id["acr"], "urn:example:loa:1");
    assert_eq!(id["auth_time"], h.now().as_secs());
    assert!(id.get("sid").is_none() && id.get("cnf").is_none());
    assert_eq!(
        front["sub"], id["sub"],
        "both ID tokens agree (OIDC Core §3.3.3.6)"
    );

    let info = userinfo(&h, tokens.access_token());
    assert_eq!(info["sub"], "alice");
    assert_eq!(info["roles"], json!(["admin", "auditor"]));
    assert_eq!(info["email"], "alice@example.org");
    for protected in [
        "iss",
        "aud",
        "nonce",
        "acr",
        "auth_time",
        "cnf",
        "sid",
        "azp",
    ] {
        assert!(info.get(protected).is_none(), "{protected} is protected");
    }
    assert!(info.get("tenant").is_none() && info.get("unlisted").is_none());
}

#[test]
fn unregistered_scope_values_release_nothing() {
    let h = Harness::with_clients(Config::new(ISSUER).expect("issuer"), Vec::new());
    let mut pairs = auth_pairs("code", "rs-basic");
    set_param(&mut pairs, "scope", Some("openid roles"));
    let (_, tokens) = flow(&h, &pairs);
    assert_eq!(tokens.scope(), "openid", "OIDC Core §3.1.2.1: ignored");
    let id = payload(tokens.id_token().expect("ID token"));
    assert!(id.get("roles").is_none());
    assert!(userinfo(&h, tokens.access_token()).get("roles").is_none());
}

#[test]
fn the_claims_parameter_selects_claims_per_target() {
    let h = harness();
    let request = json!({
        "id_token": { "email": { "essential": true }, "tenant": null, "unlisted": null },
        "userinfo": { "tenant": null, "sub": { "value": "alice" } },
        "extension": { "ignored": true },
    })
    .to_string();
    let mut pairs = auth_pairs("code", "rs-basic");
    pairs.push(("claims", &request));
    pairs.push(("claims_locales", "en-GB de"));
    let (_, tokens) = flow(&h, &pairs);
    let id = payload(tokens.id_token().expect("ID token"));
    assert_eq!(id["email"], "alice@example.org");
    assert_eq!(id["tenant"], "acme");
    assert!(id.get("unlisted").is_none(), "not in claims_supported");
    let info = userinfo(&h, tokens.access_token());
    assert_eq!(info["tenant"], "acme");
    assert!(info.get("email").is_none(), "email scope not granted");
    assert_eq!(info["sub"], "alice");

    // Refreshed ID tokens honour the same request (REQUIREMENTS 90).
    let body = form(&[
        ("grant_type", "refresh_token"),
        (
            "refresh_token",
            tokens.refresh_token().expect("refresh token"),
        ),
    ]);
    let params = Params::parse(&body).expect("form");
    let auth = basic("rs-basic", SECRET);
    let refreshed = block_on(
        h.provider
            .token_with_claims(&Vendor, &params, Some(auth.as_str())),
    )
    .expect("refreshed");
    let id = payload(refreshed.id_token().expect("ID token"));
    assert_eq!(id["tenant"], "acme");
    assert_eq!(id["email"], "alice@example.org");
}

#[test]
fn claims_requested_with_a_value_are_released_only_with_that_value() {
    let h = harness();
    let request = json!({
        "id_token": { "tenant": { "value": "other" }, "email": { "values": ["alice@example.org"] } },
    })
    .to_string();
    let mut pairs = auth_pairs("code", "rs-basic");
    pairs.push(("claims", &request));
    let (_, tokens) = flow(&h, &pairs);
    let id = payload(tokens.id_token().expect("ID token"));
    assert!(id.get("tenant").is_none());
    assert_eq!(id["email"], "alice@example.org");
}

#[test]
fn a_malformed_claims_parameter_is_invalid_request() {
    let h = harness();
    for bad in [
        "not json",
        "[]",
        r#"{"userinfo": 5}"#,
        r#"{"id_token": {"email": 1}}"#,
        r#"{"id_token": {"email": {"essential": "yes"}}}"#,
        r#"{"id_token": {"acr": {"values": "urn:x"}}}"#,
    ] {
        let mut pairs = auth_pairs("code id_token", "rs-basic");
        pairs.push(("claims", bad));
        let err = h.authorize(&form(&pairs)).expect_err(bad);
        assert_eq!(err.reject(), Reject::ClaimsMalformed, "{bad}");
        assert_redirected(
            &err,
            "invalid_request",
            ResponseMode::Fragment,
            Some("st-af0ifjsldkj"),
        );
    }
}

#[test]
fn an_essential_acr_the_authentication_does_not_meet_is_access_denied() {
    let h = harness();
    let request = json!({
        "id_token": { "acr": { "essential": true, "values": ["urn:example:loa:2"] } },
    })
    .to_string();
    let mut pairs = auth_pairs("code id_token", "rs-basic");
    pairs.push(("claims", &request));
    let bound = h.authorize(&form(&pairs)).expect("binds");
    assert_eq!(bound.essential_acr(), ["urn:example:loa:2"]);
    // The harness authenticates at loa:1: a failed authentication (OIDC Core §5.5.1.1).
    let err = h.approve(bound.clone(), "alice").expect_err("acr not met");
    assert_eq!(err.reject(), Reject::AcrNotSatisfied);
    assert_redirected(
        &err,
        "access_denied",
        ResponseMode::Fragment,
        Some("st-af0ifjsldkj"),
    );
    // Stepped up to loa:2, the request succeeds and the ID token says so.
    let approval = Approval::new(Subject::new("alice").expect("subject"), h.now())
        .with_acr("urn:example:loa:2");
    let response = block_on(h.provider.approve(bound, approval)).expect("approved");
    let delivered = Delivered::from_response(&response);
    assert_eq!(
        payload(&delivered.map()["id_token"])["acr"],
        "urn:example:loa:2"
    );
    // A voluntary acr request is not a requirement.
    let request = json!({ "id_token": { "acr": { "values": ["urn:example:loa:2"] } } });
    let mut pairs = auth_pairs("code id_token", "rs-basic");
    let request = request.to_string();
    pairs.push(("claims", &request));
    let bound = h.authorize(&form(&pairs)).expect("binds");
    assert!(bound.essential_acr().is_empty());
    h.approve(bound, "alice").expect("voluntary acr");
}

#[test]
fn a_requested_sub_of_another_user_is_login_required() {
    let h = harness();
    let request = json!({ "id_token": { "sub": { "value": "bob" } } }).to_string();
    let mut pairs = auth_pairs("code id_token", "rs-basic");
    pairs.push(("claims", &request));
    let bound = h.authorize(&form(&pairs)).expect("binds");
    let err = h.approve(bound.clone(), "alice").expect_err("not bob");
    assert_eq!(err.reject(), Reject::ClaimsSubjectMismatch);
    assert_redirected(
        &err,
        "login_required",
        ResponseMode::Fragment,
        Some("st-af0ifjsldkj"),
    );
    h.approve(bound, "bob").expect("bob");
}

#[test]
fn discovery_advertises_the_claims_parameter_and_the_configured_claims_and_acr_values() {
    let h = harness();
    let doc: Value = serde_json::from_str(&h.provider.discovery().to_json()).expect("JSON");
    assert_eq!(doc["claims_parameter_supported"], true);
    let claims = doc["claims_supported"].as_array().expect("claims");
    for name in ["sub", "email", "roles", "tenant"] {
        assert!(claims.iter().any(|c| c == name), "{name}");
    }
    assert_eq!(
        doc["acr_values_supported"],
        json!(["urn:example:loa:1", "urn:example:loa:2"])
    );
    let plain = Harness::new();
    let doc: Value = serde_json::from_str(&plain.provider.discovery().to_json()).expect("JSON");
    assert!(doc.get("acr_values_supported").is_none(), "none configured");
}

#[test]
fn protected_or_unknown_scope_claims_are_a_configuration_error() {
    let mut bad = config();
    bad.scope_claims.push(("roles".into(), vec!["sub".into()]));
    assert_eq!(bad.check(), Err(ConfigError::Claims));
    let mut bad = config();
    bad.scope_claims
        .push(("unsupported".into(), vec!["x".into()]));
    assert_eq!(bad.check(), Err(ConfigError::Claims));
    assert_eq!(config().check(), Ok(()));
}

/// Records what it is asked.
#[derive(Default)]
struct Recording(std::sync::Mutex<Vec<ClaimsQuery>>);

impl ClaimsSource for Recording {
    type Error = Infallible;

    async fn claims(&self, subject: &Subject) -> Result<Option<Claims>, Self::Error> {
        Vendor.claims(subject).await
    }

    async fn claims_for(&self, query: &ClaimsQuery) -> Result<Option<Claims>, Self::Error> {
        self.0.lock().expect("lock").push(query.clone());
        Vendor.claims(&query.subject).await
    }
}

#[test]
fn the_host_is_asked_per_subject_client_scope_and_target_for_releasable_names() {
    let h = harness();
    let request = json!({ "userinfo": { "tenant": null } }).to_string();
    let mut pairs = auth_pairs("code", "rs-basic");
    set_param(&mut pairs, "scope", Some("openid email roles"));
    pairs.push(("claims", &request));
    pairs.push(("claims_locales", "fr"));
    let bound = h.authorize(&form(&pairs)).expect("binds");
    let response = h.approve(bound, "alice").expect("approved");
    let code = Delivered::from_response(&response).map()["code"].clone();
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ]);
    let source = Recording::default();
    let params = Params::parse(&body).expect("form");
    let auth = basic("rs-basic", SECRET);
    let tokens = block_on(
        h.provider
            .token_with_claims(&source, &params, Some(auth.as_str())),
    )
    .expect("tokens");
    let bearer = format!("Bearer {}", tokens.access_token());
    block_on(h.provider.userinfo(&source, Some(bearer.as_str()), None)).expect("userinfo");
    let queries = source.0.lock().expect("lock").clone();
    assert_eq!(queries.len(), 2);
    assert_eq!(queries[0].target, ClaimsTarget::IdToken);
    assert_eq!(queries[0].releasable, ["roles"]);
    assert_eq!(queries[0].client_id.as_str(), "rs-basic");
    assert_eq!(queries[0].subject.as_str(), "alice");
    assert_eq!(queries[0].locales, ["fr"]);
    assert_eq!(queries[1].target, ClaimsTarget::UserInfo);
    assert_eq!(
        queries[1].releasable,
        ["email", "email_verified", "roles", "tenant"]
    );
    assert_eq!(queries[1].scope.to_string(), "email openid roles");
}
