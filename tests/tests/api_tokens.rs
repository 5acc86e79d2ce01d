//! Access tokens for APIs: token introspection (RFC 7662) and JWT access tokens (RFC 9068),
//! checked the way a resource server would — the JWTs with `jsonwebtoken`, another JOSE
//! implementation — and front-channel access tokens limited by the client's policy.
//!
//! Resource indicators (RFC 8707) restrict the audience of access tokens.
//!
//! REQUIREMENTS covered: 21 (RFC 7662), 170 (`introspection_endpoint` advertised); decision 0014.

use std::collections::HashMap;

use base64ct::Encoding as _;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use oidc_hybrid::{Config, Introspection, Reject};
use oidc_hybrid_tests::{
    Harness, ISSUER, REDIRECT_URI, SECRET, auth_pairs, basic, client, form, rp_hash, set_param,
};
use serde_json::{Value, json};

/// A client issued JWT access tokens, with a front-channel policy.
fn jwt_client() -> oidc_hybrid::Client {
    client(json!({
        "client_id": "jwt-rp",
        "client_secret": SECRET,
        "redirect_uris": [REDIRECT_URI],
        "response_types": ["code", "code id_token", "code token", "code id_token token"],
        "grant_types": ["authorization_code", "implicit", "refresh_token"],
        "access_token_format": "jwt",
        "front_channel_token_lifetime": 60,
        "front_channel_token_scope": "openid",
    }))
}

/// A resource server: a confidential client that may introspect `rs-basic`'s tokens.
fn resource_server() -> oidc_hybrid::Client {
    client(json!({
        "client_id": "api",
        "client_secret": SECRET,
        "redirect_uris": ["https://api.example/unused"],
        "resource_server_audiences": ["rs-basic", "jwt-rp", API],
    }))
}

/// A registered resource indicator (RFC 8707) the `api` resource server serves.
const API: &str = "https://api.example/";
/// Another registered resource.
const OTHER: &str = "https://other.example/v1";

fn harness() -> Harness {
    let mut config = Config::new(ISSUER).expect("issuer");
    config.resources = vec![API.into(), OTHER.into()];
    Harness::with_clients(config, vec![jwt_client(), resource_server()])
}

/// A code flow for `client_id` with scope `openid email`; returns the token response.
fn tokens(h: &Harness, client_id: &str) -> oidc_hybrid::TokenResponse {
    let mut pairs = auth_pairs("code", client_id);
    set_param(&mut pairs, "scope", Some("openid email"));
    let delivered = h.issue(&pairs, "alice");
    let code = delivered["code"].as_str();
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
    ]);
    h.token(&body, Some(&basic(client_id, SECRET)))
        .expect("tokens")
}

fn introspect(h: &Harness, token: &str, caller: &str) -> Introspection {
    h.introspect(&form(&[("token", token)]), Some(&basic(caller, SECRET)))
        .expect("introspection answers")
}

fn json_of(answer: &Introspection) -> Value {
    serde_json::from_str(&answer.to_json()).expect("JSON")
}

#[test]
fn introspection_describes_a_live_token_to_its_own_client() {
    let h = harness();
    let issued = tokens(&h, "rs-basic");
    let answer = json_of(&introspect(&h, issued.access_token(), "rs-basic"));
    let now = h.now().as_secs();
    assert_eq!(
        answer,
        json!({
            "active": true,
            "scope": "email openid",
            "client_id": "rs-basic",
            "sub": "alice",
            "exp": now + 3600,
            "iat": now,
            "aud": ["rs-basic"],
            "iss": ISSUER,
            "token_type": "Bearer",
        })
    );
}

#[test]
fn introspection_by_a_resource_server_for_the_tokens_audience() {
    let h = harness();
    let issued = tokens(&h, "rs-basic");
    let answer = introspect(&h, issued.access_token(), "api");
    assert!(answer.active);
    assert_eq!(answer.client_id.as_deref(), Some("rs-basic"));
}

#[test]
fn introspection_of_a_foreign_token_is_inactive_and_says_nothing_else() {
    let h = harness();
    let issued = tokens(&h, "rs-basic");
    // es-post is neither the token's client nor a resource server for its audience.
    let params = form(&[
        ("token", issued.access_token()),
        ("client_id", "es-post"),
        ("client_secret", SECRET),
    ]);
    let answer = h.introspect(&params, None).expect("answers");
    assert_eq!(answer.to_json(), r#"{"active":false}"#);
}

#[test]
fn introspection_of_unknown_expired_revoked_and_replay_revoked_tokens_is_inactive() {
    let h = harness();
    assert!(!introspect(&h, "no-such-token", "rs-basic").active);

    // Expired.
    let issued = tokens(&h, "rs-basic");
    h.clock.advance(3600);
    let expired = introspect(&h, issued.access_token(), "rs-basic");
    assert_eq!(expired.to_json(), r#"{"active":false}"#);

    // Revoked (RFC 7009).
    let issued = tokens(&h, "rs-basic");
    let revoke = form(&[("token", issued.access_token())]);
    h.revoke(&revoke, Some(&basic("rs-basic", SECRET)))
        .expect("revoked");
    assert!(!introspect(&h, issued.access_token(), "rs-basic").active);

    // Replay-revoked: the code is redeemed twice, which revokes its grant (RFC 6749 §4.1.2).
    let delivered = h.issue(&auth_pairs("code", "rs-basic"), "alice");
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", delivered["code"].as_str()),
        ("redirect_uri", REDIRECT_URI),
    ]);
    let first = h
        .token(&body, Some(&basic("rs-basic", SECRET)))
        .expect("first redemption");
    assert!(introspect(&h, first.access_token(), "rs-basic").active);
    let replay = h.token(&body, Some(&basic("rs-basic", SECRET)));
    assert_eq!(replay.expect_err("replay").reject(), Reject::CodeReplayed);
    assert!(!introspect(&h, first.access_token(), "rs-basic").active);
    let refresh = first.refresh_token().expect("refresh token");
    assert!(!introspect(&h, refresh, "rs-basic").active);
}

#[test]
fn introspection_of_a_refresh_token_only_for_its_client() {
    let h = harness();
    let issued = tokens(&h, "rs-basic");
    let refresh = issued.refresh_token().expect("refresh token");
    let answer = json_of(&introspect(&h, refresh, "rs-basic"));
    assert_eq!(answer["active"], true);
    assert_eq!(answer["client_id"], "rs-basic");
    assert!(answer.get("token_type").is_none(), "not an access token");
    assert!(answer.get("aud").is_none());
    // Even a resource server for the client's audience learns nothing about refresh tokens.
    assert!(!introspect(&h, refresh, "api").active);
}

#[test]
fn introspection_refuses_public_clients_and_requests_without_a_token() {
    let h = harness();
    let issued = tokens(&h, "rs-basic");
    let public = form(&[("token", issued.access_token()), ("client_id", "native")]);
    let err = h.introspect(&public, None).expect_err("public client");
    assert_eq!(err.reject(), Reject::IntrospectionClientPublic);
    assert_eq!(err.code().as_str(), "invalid_client");

    let err = h
        .introspect("", Some(&basic("rs-basic", SECRET)))
        .expect_err("no token");
    assert_eq!(err.reject(), Reject::IntrospectionTokenMissing);
    assert_eq!(err.code().as_str(), "invalid_request");

    let err = h
        .introspect(
            &form(&[("token", issued.access_token())]),
            Some(&basic("rs-basic", "wrong-secret-wrong-secret-wrong-secret")),
        )
        .expect_err("wrong secret");
    assert_eq!(err.code().as_str(), "invalid_client");
    assert_eq!(err.status(), 401);
}

/// The provider's JWK set as `jsonwebtoken` reads it.
fn decoding_key(h: &Harness, kid: &str) -> DecodingKey {
    let jwks: JwkSet =
        serde_json::from_value(serde_json::to_value(h.provider.jwks()).unwrap()).expect("JWK set");
    DecodingKey::from_jwk(jwks.find(kid).expect("kid published")).expect("key")
}

/// Validates a JWT access token as a resource server for `audience` (RFC 9068 §4).
fn validate_at_jwt(h: &Harness, token: &str, audience: &str) -> HashMap<String, Value> {
    let header = decode_header(token).expect("header");
    assert_eq!(header.typ.as_deref(), Some("at+jwt"), "RFC 9068 §2.1");
    assert_eq!(header.alg, Algorithm::RS256, "the client's algorithm");
    let key = decoding_key(h, header.kid.as_deref().expect("kid"));
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["iss", "exp", "aud", "sub", "iat"]);
    // The harness clock is in the future of the wall clock.
    validation.validate_exp = false;
    decode::<HashMap<String, Value>>(token, &key, &validation)
        .expect("a valid JWT access token")
        .claims
}

#[test]
fn jwt_access_tokens_validate_with_another_library_and_carry_rfc_9068_claims() {
    let h = harness();
    let issued = tokens(&h, "jwt-rp");
    let claims = validate_at_jwt(&h, issued.access_token(), "jwt-rp");
    let now = h.now().as_secs();
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], "jwt-rp");
    assert_eq!(claims["client_id"], "jwt-rp");
    assert_eq!(claims["scope"], "email openid");
    assert_eq!(claims["iat"], now);
    assert_eq!(claims["exp"], now + 3600);
    assert_eq!(claims["auth_time"], now);
    assert_eq!(claims["acr"], "urn:example:loa:1");
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 22));
    // The ID token's at_hash covers the JWT as sent.
    let id_token = issued.id_token().expect("id token");
    let payload = id_token.split('.').nth(1).expect("payload");
    let payload: Value = serde_json::from_slice(
        &base64ct::Base64UrlUnpadded::decode_vec(payload).expect("base64url"),
    )
    .expect("JSON");
    assert_eq!(payload["at_hash"], rp_hash("RS256", issued.access_token()));
    // UserInfo accepts it like any access token.
    let userinfo = h.userinfo(issued.access_token()).expect("userinfo");
    assert_eq!(userinfo["email"], "alice@example.org");
}

#[test]
fn a_jwt_access_token_can_be_revoked_and_introspection_then_says_inactive() {
    let h = harness();
    let issued = tokens(&h, "jwt-rp");
    let token = issued.access_token();
    assert!(introspect(&h, token, "api").active);
    let revoke = form(&[("token", token)]);
    h.revoke(&revoke, Some(&basic("jwt-rp", SECRET)))
        .expect("revoked");
    // Still a valid signature, but no longer active.
    validate_at_jwt(&h, token, "jwt-rp");
    assert!(!introspect(&h, token, "api").active);
    assert!(!introspect(&h, token, "jwt-rp").active);
    assert_eq!(
        h.userinfo(token).expect_err("revoked").reject(),
        Reject::TokenInvalid
    );
}

#[test]
fn front_channel_tokens_follow_the_clients_policy_and_never_bring_refresh_tokens() {
    let h = harness();
    let mut pairs = auth_pairs("code id_token token", "jwt-rp");
    set_param(&mut pairs, "scope", Some("openid email"));
    let delivered = h.issue(&pairs, "alice");
    let token = delivered["access_token"].as_str();
    assert_eq!(delivered["expires_in"], "60", "the client's lifetime");
    assert_eq!(
        delivered["scope"], "openid",
        "the client's front-channel scope"
    );
    assert!(!delivered.contains_key("refresh_token"));
    let claims = validate_at_jwt(&h, token, "jwt-rp");
    assert_eq!(claims["scope"], "openid");
    assert_eq!(claims["exp"], h.now().as_secs() + 60);
    let answer = introspect(&h, token, "jwt-rp");
    assert_eq!(answer.scope.as_deref(), Some("openid"));
    assert_eq!(
        answer.aud,
        ["jwt-rp"],
        "front-channel tokens are for the client"
    );
    // The token endpoint's tokens of the same grant carry the whole granted scope.
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", delivered["code"].as_str()),
        ("redirect_uri", REDIRECT_URI),
    ]);
    let back = h
        .token(&body, Some(&basic("jwt-rp", SECRET)))
        .expect("tokens");
    assert_eq!(back.scope(), "email openid");
    // A client without a policy keeps the configured front-channel lifetime.
    let delivered = h.issue(&auth_pairs("code token", "rs-basic"), "alice");
    assert_eq!(delivered["expires_in"], "300");
}

#[test]
fn discovery_advertises_introspection_without_public_clients() {
    let h = harness();
    let doc: Value = serde_json::from_str(&h.provider.discovery().to_json()).expect("JSON");
    assert_eq!(
        doc["introspection_endpoint"],
        "https://op.example/introspect"
    );
    let methods = doc["introspection_endpoint_auth_methods_supported"]
        .as_array()
        .expect("methods");
    assert!(methods.iter().all(|m| m != "none"));
    assert!(methods.iter().any(|m| m == "client_secret_basic"));
}

/// A code flow of `jwt-rp` asking for `resources`, redeemed with `asked` at the token endpoint.
fn with_resources(
    h: &Harness,
    resources: &[&str],
    asked: &[&str],
) -> Result<oidc_hybrid::TokenResponse, Reject> {
    let mut pairs = auth_pairs("code", "jwt-rp");
    for resource in resources {
        pairs.push(("resource", resource));
    }
    let delivered = h.issue(&pairs, "alice");
    let mut body = vec![
        ("grant_type", "authorization_code"),
        ("code", delivered["code"].as_str()),
        ("redirect_uri", REDIRECT_URI),
    ];
    for resource in asked {
        body.push(("resource", resource));
    }
    h.token(&form(&body), Some(&basic("jwt-rp", SECRET)))
        .map_err(|e| e.reject())
}

#[test]
fn resource_indicators_set_the_audience_of_access_tokens() {
    let h = harness();
    let issued = with_resources(&h, &[API, OTHER], &[]).expect("tokens");
    // Every resource of the grant, validated by a resource server with jsonwebtoken.
    let claims = validate_at_jwt(&h, issued.access_token(), API);
    assert_eq!(
        claims["aud"],
        json!([OTHER, API].iter().rev().copied().collect::<Vec<_>>())
    );
    validate_at_jwt(&h, issued.access_token(), OTHER);
    let answer = introspect(&h, issued.access_token(), "api");
    assert!(answer.active, "a resource server for the token's audience");
    assert_eq!(answer.aud, [API, OTHER]);

    // One resource asked at the token endpoint: only that one (RFC 8707 §2.2).
    let narrowed = with_resources(&h, &[API, OTHER], &[OTHER]).expect("tokens");
    let claims = validate_at_jwt(&h, narrowed.access_token(), OTHER);
    assert_eq!(claims["aud"], OTHER);
    assert!(
        !introspect(&h, narrowed.access_token(), "api").active,
        "api serves neither jwt-rp's own audience nor other.example"
    );
    // A refresh may narrow to another resource of the grant, never widen.
    let refresh = narrowed.refresh_token().expect("refresh token");
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("resource", API),
    ]);
    let refreshed = h
        .token(&body, Some(&basic("jwt-rp", SECRET)))
        .expect("narrowed to api");
    assert_eq!(
        validate_at_jwt(&h, refreshed.access_token(), API)["aud"],
        API
    );
    let only_api = with_resources(&h, &[API], &[]).expect("tokens");
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", only_api.refresh_token().expect("rt")),
        ("resource", OTHER),
    ]);
    let err = h
        .token(&body, Some(&basic("jwt-rp", SECRET)))
        .expect_err("not granted");
    assert_eq!(err.reject(), Reject::ResourceNotGranted);
    assert_eq!(err.code().as_str(), "invalid_target");
}

#[test]
fn unknown_malformed_and_ungranted_resources_are_invalid_target() {
    let h = harness();
    for (resource, reject) in [
        ("https://unknown.example/", Reject::ResourceUnknown),
        ("not-an-absolute-uri", Reject::ResourceInvalid),
        ("https://api.example/#frag", Reject::ResourceInvalid),
    ] {
        let mut pairs = auth_pairs("code", "jwt-rp");
        pairs.push(("resource", resource));
        let err = h.authorize(&form(&pairs)).expect_err(resource);
        assert_eq!(err.reject(), reject, "{resource}");
        oidc_hybrid_tests::assert_redirected(
            &err,
            "invalid_target",
            oidc_hybrid::ResponseMode::Query,
            Some("st-af0ifjsldkj"),
        );
    }
    // At the token endpoint, a resource the grant was not authorized for.
    assert_eq!(
        with_resources(&h, &[API], &[OTHER]).expect_err("not granted"),
        Reject::ResourceNotGranted
    );
    assert_eq!(
        with_resources(&h, &[], &[API]).expect_err("none granted"),
        Reject::ResourceNotGranted
    );
}

#[test]
fn front_channel_tokens_stay_for_the_client_whatever_the_resources() {
    let h = harness();
    let mut pairs = auth_pairs("code id_token token", "jwt-rp");
    pairs.push(("resource", API));
    let delivered = h.issue(&pairs, "alice");
    let claims = validate_at_jwt(&h, delivered["access_token"].as_str(), "jwt-rp");
    assert_eq!(claims["aud"], "jwt-rp");
}
