//! Walks one OpenID Connect hybrid flow (`code id_token`) end to end, in-process, and prints each
//! step: the authorization request, the front-channel response, the decoded ID token with its
//! `c_hash` check, the token response and the second ID token with the consistency checks.
//!
//! Run: `cargo run -p oidc-hybrid-tests --example walkthrough`

use base64ct::{Base64UrlUnpadded, Encoding};
use oidc_hybrid::{Approval, Config, Params, Provider, Signer, Subject, SystemClock};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::OsRandom;
use oidc_hybrid_tests::{
    Delivered, Directory, REDIRECT_URI, SECRET, basic, block_on, es256_signer, form, pkce_pair,
    rp_hash, rs256_signer, standard_clients,
};
use serde_json::Value;

fn decode_jwt(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let mut part = || -> Value {
        let bytes =
            Base64UrlUnpadded::decode_vec(parts.next().expect("three parts")).expect("base64url");
        serde_json::from_slice(&bytes).expect("JSON")
    };
    (part(), part())
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("JSON value")
}

fn main() {
    let issuer = "https://op.example";
    let keys: Vec<Box<dyn Signer>> = vec![Box::new(rs256_signer()), Box::new(es256_signer())];
    let store = MemoryStore::with_clients(standard_clients());
    let config = Config::new(issuer).expect("valid issuer");
    let provider =
        Provider::new(config, store, keys, SystemClock, OsRandom).expect("valid provider");

    println!("== 1. Authorization request (client `es-post`, ID tokens signed with ES256)");
    let (verifier, challenge) = pkce_pair("walkthrough");
    let query = form(&[
        ("response_type", "code id_token"),
        ("client_id", "es-post"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid profile email"),
        ("state", "af0ifjsldkj"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    println!("GET {issuer}/authorize?{query}\n");
    let params = Params::parse(&query).expect("parameters");
    let bound = block_on(provider.authorize(&params)).expect("the request binds to its client");
    println!(
        "bound: client={} response_type={} mode={} scope={}\n",
        bound.client_id(),
        bound.response_type(),
        bound.response_mode().as_str(),
        bound.scope()
    );

    println!("== 2. The host logs in `alice` and she consents; the provider approves");
    let now = provider.now();
    let approval = Approval::new(Subject::new("alice").expect("subject"), now).with_amr(["pwd"]);
    let response = block_on(provider.approve(bound, approval)).expect("approved");
    let location = response.location().expect("fragment mode redirects");
    println!("HTTP/1.1 303 See Other\nLocation: {location}\n");

    println!("== 3. The RP reads the fragment and checks the front-channel ID token");
    let delivered = Delivered::from_response(&response).map();
    let code = &delivered["code"];
    let (header, claims) = decode_jwt(&delivered["id_token"]);
    println!("header: {}\nclaims: {}", pretty(&header), pretty(&claims));
    let alg = header["alg"].as_str().expect("alg");
    let c_hash = rp_hash(alg, code);
    println!(
        "c_hash check: left half of {}(code) = {c_hash} -> {}\n",
        if alg.ends_with("256") {
            "SHA-256"
        } else {
            "the alg's hash"
        },
        if claims["c_hash"] == c_hash.as_str() {
            "MATCH"
        } else {
            "MISMATCH"
        }
    );
    assert_eq!(claims["c_hash"], c_hash.as_str());
    assert_eq!(delivered["iss"], issuer);

    println!("== 4. The RP redeems the code at the token endpoint");
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", &verifier),
        ("client_id", "es-post"),
        ("client_secret", SECRET),
    ]);
    println!(
        "POST {issuer}/token\n{}\n",
        body.replace(SECRET, "<client secret>")
    );
    let token =
        block_on(provider.token(&Params::parse(&body).expect("form"), None)).expect("redeemed");
    let json: Value = serde_json::from_str(&token.to_json()).expect("JSON");
    let mut shown = json.clone();
    for secret in ["access_token", "refresh_token"] {
        if let Some(v) = shown.get_mut(secret) {
            *v = Value::String(format!("{}…", &v.as_str().unwrap_or_default()[..8]));
        }
    }
    println!(
        "HTTP/1.1 200 OK (Cache-Control: no-store)\n{}\n",
        pretty(&shown)
    );

    println!("== 5. The second ID token and the consistency checks (OIDC Core 3.3.3.6)");
    let (_, second) = decode_jwt(token.id_token().expect("ID token"));
    println!("claims: {}", pretty(&second));
    for claim in ["iss", "sub", "aud", "nonce", "auth_time", "amr"] {
        let same = claims[claim] == second[claim];
        println!(
            "  {claim:<9} front={} back={} -> {}",
            claims[claim],
            second[claim],
            if same { "same" } else { "DIFFERENT" }
        );
        assert!(same);
    }
    println!(
        "  at_hash   {} -> {}",
        second["at_hash"],
        if second["at_hash"] == rp_hash(alg, token.access_token()).as_str() {
            "MATCH"
        } else {
            "MISMATCH"
        }
    );

    println!("\n== 6. UserInfo with the access token");
    let info = block_on(provider.userinfo(
        &Directory,
        Some(format!("Bearer {}", token.access_token()).as_str()),
        None,
    ))
    .expect("userinfo");
    println!("{}", pretty(&Value::Object(info)));

    println!("\n== 7. Replaying the code is refused and revokes the grant");
    let replay = block_on(provider.token(&Params::parse(&body).expect("form"), None))
        .expect_err("single use");
    println!("{} {}", replay.status(), replay.to_json());
    let after = block_on(provider.userinfo(
        &Directory,
        Some(format!("Bearer {}", token.access_token()).as_str()),
        None,
    ))
    .expect_err("revoked");
    println!(
        "UserInfo with the first access token now: {} {}",
        after.status(),
        after.to_json()
    );
    let _ = basic; // Basic authentication is shown in the tests (client `rs-basic`).
}
