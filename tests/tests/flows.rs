//! Whole hybrid flows in-process, for every response type, both delivery modes and both key
//! types, validated the way a relying party would (OIDC Core §3.3.2.12, §3.3.3.7) and checked for
//! consistency between the two ID tokens (OIDC Core §3.3.3.6).
//!
//! REQUIREMENTS covered: 2, 6, 29, 33, 51–55, 57, 61, 64, 74, 76–79, 89–92, 93, 109–120, 135–138,
//! 173, 175, 201, 202, 204.

use oidc_hybrid::{ResponseMode, ResponseType};
use oidc_hybrid_testkit::rp::IdTokenRules;
use oidc_hybrid_tests::{
    Delivered, Harness, ISSUER, REDIRECT_URI, SECRET, basic, form, pkce_pair, redeem_pairs,
    refresh_pairs, rp_hash,
};
use serde_json::Value;

#[derive(Clone, Copy, Debug)]
struct ClientCase {
    id: &'static str,
    alg: &'static str,
    basic: bool,
}

const RS_BASIC: ClientCase = ClientCase {
    id: "rs-basic",
    alg: "RS256",
    basic: true,
};
const ES_POST: ClientCase = ClientCase {
    id: "es-post",
    alg: "ES256",
    basic: false,
};

/// Adds the client's credentials to a token request.
fn token_request(
    h: &Harness,
    case: ClientCase,
    pairs: &[(&str, &str)],
) -> Result<oidc_hybrid::TokenResponse, oidc_hybrid::EndpointError> {
    if case.basic {
        h.token(&form(pairs), Some(&basic(case.id, SECRET)))
    } else {
        let mut all = pairs.to_vec();
        all.push(("client_id", case.id));
        all.push(("client_secret", SECRET));
        h.token(&form(&all), None)
    }
}

/// Runs one whole flow and checks everything an RP and the spec can check.
fn run_flow(response_type: ResponseType, mode: Option<ResponseMode>, case: ClientCase) {
    let h = Harness::new();
    let rp = h.rp();
    let nonce = "n-0S6_WzA2Mj";
    let state = "af0ifjsldkj &<\"'>";
    let (verifier, challenge) = pkce_pair("flow");
    let mut query = vec![
        ("response_type", response_type.as_str()),
        ("client_id", case.id),
        ("redirect_uri", REDIRECT_URI),
        // Scope deliberately out of order (REQUIREMENTS 6).
        ("scope", "email profile openid"),
        ("state", state),
        ("nonce", nonce),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    if let Some(mode) = mode {
        query.push(("response_mode", mode.as_str()));
    }
    let bound = h.authorize(&form(&query)).expect("request binds");
    let expected_mode = mode.unwrap_or(response_type.default_mode());
    assert_eq!(bound.response_mode(), expected_mode);
    let response = h.approve(bound, "alice").expect("approved");
    assert!(!response.is_error());

    // What reaches the client.
    let delivered = Delivered::from_response(&response);
    assert_eq!(delivered.mode, expected_mode);
    assert_eq!(
        delivered.target, REDIRECT_URI,
        "delivered to the registered URI only"
    );
    let params = delivered.map(); // asserts every parameter appears once (REQUIREMENTS 201)
    assert_eq!(
        params.get("iss").map(String::as_str),
        Some(ISSUER),
        "RFC 9207 iss"
    );
    assert_eq!(
        params.get("state").map(String::as_str),
        Some(state),
        "state echoed exactly"
    );
    assert!(
        !params.contains_key("refresh_token"),
        "never a refresh token in the front channel"
    );
    let code = params
        .get("code")
        .expect("a code in every response type")
        .clone();
    assert_eq!(
        params.contains_key("id_token"),
        response_type.has_id_token()
    );
    assert_eq!(
        params.contains_key("access_token"),
        response_type.has_token()
    );
    let front_token = params.get("access_token").cloned();
    if response_type.has_token() {
        assert_eq!(params["token_type"], "Bearer");
        let expires_in: u64 = params["expires_in"]
            .parse()
            .expect("expires_in is a number");
        assert!(
            expires_in > 0 && expires_in <= 300,
            "front-channel tokens are short-lived"
        );
    }
    if !response_type.is_hybrid() {
        assert_eq!(params.len(), 3, "code, state, iss");
    }

    let expect = IdTokenRules::new(ISSUER, case.id)
        .alg(case.alg)
        .nonce(Some(nonce))
        .at(h.now());
    let front_claims = params.get("id_token").map(|id_token| {
        let claims = expect.validate(id_token, &rp);
        assert_eq!(
            claims["c_hash"],
            rp_hash(case.alg, &code),
            "c_hash over the code as sent"
        );
        match &front_token {
            Some(token) => assert_eq!(claims["at_hash"], rp_hash(case.alg, token)),
            None => assert!(claims.get("at_hash").is_none()),
        }
        if case.id == "es-post" {
            assert_eq!(
                claims["s_hash"],
                rp_hash(case.alg, state),
                "s_hash for this client"
            );
        } else {
            assert!(claims.get("s_hash").is_none());
        }
        for end_user_claim in ["name", "email", "address", "phone_number"] {
            assert!(
                claims.get(end_user_claim).is_none(),
                "no {end_user_claim} in ID tokens"
            );
        }
        claims
    });

    // The front-channel access token works at UserInfo.
    if let Some(token) = &front_token {
        let info = h.userinfo(token).expect("front-channel token is accepted");
        assert_eq!(info["sub"], "alice");
    }

    // Code exchange.
    h.clock.advance(5);
    let mut redemption = redeem_pairs(&code);
    redemption.push(("code_verifier", &verifier));
    let token = token_request(&h, case, &redemption).expect("code redeems");
    let json: Value = serde_json::from_str(&token.to_json()).expect("JSON token response");
    assert_eq!(json["token_type"], "Bearer");
    assert!(json["expires_in"].as_u64().is_some_and(|e| e > 0));
    let scope = json["scope"].as_str().expect("scope");
    for s in ["openid", "profile", "email"] {
        assert!(scope.split(' ').any(|x| x == s), "granted scope has {s}");
    }
    let access_token = json["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let refresh_token = json["refresh_token"]
        .as_str()
        .expect("refresh_token for this client")
        .to_owned();
    let id_token = json["id_token"]
        .as_str()
        .expect("an ID token for every hybrid type (REQUIREMENTS 202)");
    let expect = expect.at(h.now());
    let back_claims = expect.validate(id_token, &rp);
    assert_eq!(
        back_claims["at_hash"],
        rp_hash(case.alg, &access_token),
        "at_hash if present must be right"
    );
    assert!(back_claims.get("c_hash").is_none());

    // Both ID tokens describe the same authentication (OIDC Core §3.3.3.6).
    if let Some(front) = &front_claims {
        for claim in [
            "iss",
            "sub",
            "aud",
            "azp",
            "nonce",
            "auth_time",
            "acr",
            "amr",
        ] {
            assert_eq!(
                front[claim], back_claims[claim],
                "{claim} identical in both ID tokens"
            );
            assert!(!front[claim].is_null(), "{claim} present");
        }
    }
    assert_eq!(back_claims["sub"], "alice");
    assert_eq!(back_claims["acr"], "urn:example:loa:1");

    // UserInfo: sub equal to the ID token's, claims by scope.
    let info = h.userinfo(&access_token).expect("userinfo");
    assert_eq!(info["sub"], back_claims["sub"]);
    assert_eq!(info["email"], "alice@example.org");
    assert_eq!(info["name"], "User alice");
    assert!(info.get("address").is_none(), "address scope not requested");
    assert!(
        info.get("phone_number").is_none(),
        "phone scope not requested"
    );

    // Refresh: rotation, same sub and auth_time, no nonce (OIDC Core §12.2).
    h.clock.advance(60);
    let refreshed =
        token_request(&h, case, &refresh_pairs(&refresh_token, None)).expect("refresh works");
    let refreshed_id = refreshed.id_token().expect("ID token on refresh");
    let refreshed_claims = expect.nonce(None).at(h.now()).validate(refreshed_id, &rp);
    assert_eq!(refreshed_claims["sub"], back_claims["sub"]);
    assert_eq!(refreshed_claims["auth_time"], back_claims["auth_time"]);
    assert!(
        refreshed_claims["iat"].as_u64() > back_claims["iat"].as_u64(),
        "new iat"
    );
    let new_refresh = refreshed
        .refresh_token()
        .expect("rotated refresh token")
        .to_owned();
    assert_ne!(new_refresh, refresh_token);
    h.userinfo(refreshed.access_token())
        .expect("refreshed access token works");

    // Replaying the code fails and revokes everything issued from it (RFC 6749 §4.1.2).
    let replay = token_request(&h, case, &redemption).expect_err("a code redeems once");
    assert_eq!(replay.code().as_str(), "invalid_grant");
    for token in [
        Some(&access_token),
        front_token.as_ref(),
        Some(&refreshed.access_token().to_owned()),
    ]
    .into_iter()
    .flatten()
    {
        h.assert_token_refused(token);
    }
    let err = token_request(&h, case, &refresh_pairs(&new_refresh, None))
        .expect_err("refresh chain revoked");
    assert_eq!(err.code().as_str(), "invalid_grant");
}

macro_rules! flow_tests {
    ($($name:ident: $rt:expr, $mode:expr, $case:expr;)*) => {
        $(
            #[test]
            fn $name() {
                run_flow($rt, $mode, $case);
            }
        )*
    };
}

// The default mode of each type (fragment; query for plain code), then explicit modes.
flow_tests! {
    code_id_token_fragment_rs256: ResponseType::CodeIdToken, None, RS_BASIC;
    code_id_token_fragment_es256: ResponseType::CodeIdToken, None, ES_POST;
    code_token_fragment_rs256: ResponseType::CodeToken, None, RS_BASIC;
    code_token_fragment_es256: ResponseType::CodeToken, None, ES_POST;
    code_id_token_token_fragment_rs256: ResponseType::CodeIdTokenToken, None, RS_BASIC;
    code_id_token_token_fragment_es256: ResponseType::CodeIdTokenToken, None, ES_POST;
    code_query_rs256: ResponseType::Code, None, RS_BASIC;
    code_query_es256: ResponseType::Code, None, ES_POST;
    code_id_token_form_post_rs256: ResponseType::CodeIdToken, Some(ResponseMode::FormPost), RS_BASIC;
    code_id_token_form_post_es256: ResponseType::CodeIdToken, Some(ResponseMode::FormPost), ES_POST;
    code_token_form_post_rs256: ResponseType::CodeToken, Some(ResponseMode::FormPost), RS_BASIC;
    code_token_form_post_es256: ResponseType::CodeToken, Some(ResponseMode::FormPost), ES_POST;
    code_id_token_token_form_post_rs256: ResponseType::CodeIdTokenToken, Some(ResponseMode::FormPost), RS_BASIC;
    code_id_token_token_form_post_es256: ResponseType::CodeIdTokenToken, Some(ResponseMode::FormPost), ES_POST;
    code_form_post_rs256: ResponseType::Code, Some(ResponseMode::FormPost), RS_BASIC;
    code_fragment_es256: ResponseType::Code, Some(ResponseMode::Fragment), ES_POST;
}

/// Runs `code token` for `rs-basic` with an optional nonce and returns the claims of the only ID
/// token, the one from the token endpoint, after RP validation with that nonce expected.
fn code_token_id_token(nonce: Option<&str>) -> Value {
    let h = Harness::new();
    let mut query = vec![
        ("response_type", "token code"),
        ("client_id", "rs-basic"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid"),
    ];
    if let Some(nonce) = nonce {
        query.push(("nonce", nonce));
    }
    let response = h
        .approve(h.authorize(&form(&query)).expect("binds"), "bob")
        .expect("approved");
    let params = Delivered::from_response(&response).map();
    assert!(!params.contains_key("id_token"));
    let token = h.redeem("rs-basic", &params["code"]).expect("redeems");
    IdTokenRules::new(ISSUER, "rs-basic")
        .alg("RS256")
        .nonce(nonce)
        .at(h.now())
        .validate(token.id_token().expect("ID token"), &h.rp())
}

/// `code token` without a nonce succeeds; the token-endpoint ID token then has no nonce
/// (REQUIREMENTS 28, 120).
#[test]
fn code_token_without_nonce_succeeds() {
    assert_eq!(code_token_id_token(None)["sub"], "bob");
}

/// With `code token`, the nonce sent (a long one, kept intact) reaches the only ID token, from
/// the token endpoint (REQUIREMENTS 30, 120, 204).
#[test]
fn code_token_nonce_reaches_token_endpoint_id_token() {
    let nonce = "a-very-long-nonce-".repeat(20);
    assert_eq!(code_token_id_token(Some(&nonce))["nonce"], nonce.as_str());
}

/// A registered redirect URI with a query keeps it byte for byte in query mode and appends the
/// response after `&` (REQUIREMENTS 22).
#[test]
fn registered_query_is_kept_in_query_mode() {
    let h = Harness::new();
    let uri = "https://rp.example/cb?tenant=7";
    let query = form(&[
        ("response_type", "code"),
        ("client_id", "rs-basic"),
        ("redirect_uri", uri),
        ("scope", "openid"),
        ("state", "s1"),
    ]);
    let response = h
        .approve(h.authorize(&query).expect("binds"), "alice")
        .expect("approved");
    let location = response.location().expect("query mode redirects");
    assert!(
        location.starts_with("https://rp.example/cb?tenant=7&code="),
        "{location}"
    );
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(location.split_once('?').expect("query").1.as_bytes())
            .into_owned()
            .collect();
    let names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["tenant", "code", "state", "iss"]);
}
