//! DPoP-bound tokens end to end through the provider (RFC 9449): the token endpoint binds
//! access tokens (and public clients' refresh tokens) to the proof's key and says `DPoP`;
//! UserInfo takes them only with the `DPoP` scheme and a proof by that key carrying the token's
//! hash; introspection shows the binding; `dpop_jkt` binds a code at the authorization
//! endpoint and PAR; `dpop_bound_access_tokens` clients must prove; server nonces are demanded
//! when configured.
//!
//! REQUIREMENTS covered: sender-constrained tokens of the FAPI profile (issue 13); RFC 9449
//! §5, §6, §7.1, §8, §10.

use base64ct::{Base64UrlUnpadded, Encoding};
use oidc_hybrid::binding::Presented;
use oidc_hybrid::config::NonceKey;
use oidc_hybrid::dpop::access_token_hash;
use oidc_hybrid::{
    Claims, Config, EndpointError, Introspection, Params, Reject, Signer, TokenResponse,
};
use oidc_hybrid_rustcrypto::{Es256Signer, OsRandom};
use oidc_hybrid_tests::jwt::b64;
use oidc_hybrid_tests::{
    Directory, Harness, ISSUER, REDIRECT_URI, SECRET, auth_pairs, basic, block_on, client, form,
    pkce_pair, set_param,
};
use serde_json::{Value, json};

const TOKEN: &str = "https://op.example/token";
const USERINFO: &str = "https://op.example/userinfo";
const PAR: &str = "https://op.example/par";

/// A DPoP key held by a client.
struct Key(Es256Signer);

impl Key {
    fn new() -> Self {
        Self(Es256Signer::generate(&OsRandom, None).expect("key"))
    }

    fn jkt(&self) -> String {
        self.0.public_jwk().thumbprint().expect("thumbprint")
    }

    /// A proof for `method` at `uri`, with the claims in `extra` added.
    fn proof(&self, h: &Harness, method: &str, uri: &str, extra: &Value) -> String {
        let mut jwk = serde_json::to_value(self.0.public_jwk()).expect("JWK");
        for member in ["kid", "use", "alg"] {
            jwk.as_object_mut().expect("object").remove(member);
        }
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk});
        let mut claims = json!({
            "jti": Base64UrlUnpadded::encode_string(&rand_bytes()),
            "htm": method,
            "htu": uri,
            "iat": h.now().as_secs(),
        });
        for (name, value) in extra.as_object().expect("object") {
            claims[name] = value.clone();
        }
        let input = format!("{}.{}", b64(&header), b64(&claims));
        let signature = self.0.try_sign(input.as_bytes(), &OsRandom).expect("signs");
        format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature))
    }

    fn token_proof(&self, h: &Harness) -> String {
        self.proof(h, "POST", TOKEN, &json!({}))
    }

    fn userinfo_proof(&self, h: &Harness, access_token: &str) -> String {
        let ath = json!({"ath": access_token_hash(access_token)});
        self.proof(h, "GET", USERINFO, &ath)
    }
}

fn rand_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    oidc_hybrid::SecureRandom::try_fill(&OsRandom, &mut bytes).expect("random");
    bytes
}

/// A public client that may refresh, and a confidential one that must use DPoP.
fn clients() -> Vec<oidc_hybrid::Client> {
    vec![
        client(json!({
            "client_id": "spa",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
            "response_types": ["code"],
            "grant_types": ["authorization_code", "refresh_token"],
        })),
        client(json!({
            "client_id": "bound",
            "client_secret": SECRET,
            "redirect_uris": [REDIRECT_URI],
            "response_types": ["code", "code id_token"],
            "grant_types": ["authorization_code", "implicit", "refresh_token"],
            "dpop_bound_access_tokens": true,
        })),
    ]
}

fn harness_with(config: Config) -> Harness {
    let mut h = Harness::with_clients(config, clients());
    h.provider = h
        .provider
        .with_jws_verifier(oidc_hybrid_ring::ClientKeyVerifier);
    h
}

fn harness() -> Harness {
    harness_with(Config::new(ISSUER).expect("issuer"))
}

fn token(
    h: &Harness,
    body: &str,
    authorization: Option<&str>,
    dpop: Option<&str>,
) -> Result<TokenResponse, EndpointError> {
    let params = Params::parse(body)?;
    let presented = Presented::new("POST")
        .with_authorization(authorization)
        .with_dpop(dpop);
    block_on(h.provider.token_with_claims(&Directory, &params, presented))
}

fn userinfo(h: &Harness, authorization: &str, dpop: Option<&str>) -> Result<Claims, EndpointError> {
    let presented = Presented::new("GET")
        .with_authorization(Some(authorization))
        .with_dpop(dpop);
    block_on(h.provider.userinfo(&Directory, presented, None))
}

fn introspect(h: &Harness, token: &str, caller: &str) -> Introspection {
    h.introspect(
        &form(&[("token", token)]),
        Some(basic(caller, SECRET).as_str()),
    )
    .expect("introspection answers")
}

/// A fresh code for `client_id` (with PKCE for the public client), `extra` pairs added.
fn code(h: &Harness, client_id: &str, extra: &[(&str, &str)]) -> String {
    let (_, challenge) = pkce_pair("dpop");
    let mut pairs = auth_pairs("code", client_id);
    set_param(&mut pairs, "scope", Some("openid email"));
    pairs.push(("code_challenge", &challenge));
    pairs.push(("code_challenge_method", "S256"));
    pairs.extend_from_slice(extra);
    h.issue(&pairs, "alice")["code"].clone()
}

fn redeem_body(code: &str) -> String {
    let (verifier, _) = pkce_pair("dpop");
    form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", &verifier),
        ("client_id", "spa"),
    ])
}

/// A redemption by a client that authenticates in the header (PKCE verifier included).
fn secret_redeem_body(code: &str) -> String {
    form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", &pkce_pair("dpop").0),
    ])
}

fn refresh_body(refresh_token: &str) -> String {
    form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", "spa"),
    ])
}

fn reject_of<T: std::fmt::Debug>(result: Result<T, EndpointError>) -> EndpointError {
    result.expect_err("refused")
}

/// The token endpoint binds the access token to the proof's key and says `DPoP` (§5); the
/// access token then works at UserInfo only with the `DPoP` scheme and a fresh proof by the
/// same key carrying its hash (§7.1); introspection shows `cnf.jkt` (§6.2).
#[test]
fn a_dpop_bound_access_token_is_usable_only_with_its_key() {
    let h = harness();
    let key = Key::new();
    let code = code(&h, "rs-basic", &[]);
    let body = secret_redeem_body(&code);
    let basic = basic("rs-basic", SECRET);
    let tokens = token(&h, &body, Some(&basic), Some(&key.token_proof(&h))).expect("tokens");
    assert_eq!(tokens.token_type(), "DPoP");
    let at = tokens.access_token().to_owned();

    let answer = introspect(&h, &at, "rs-basic");
    let answer: Value = serde_json::from_str(&answer.to_json()).expect("JSON");
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "DPoP");
    assert_eq!(answer["cnf"]["jkt"], key.jkt());

    let claims = userinfo(
        &h,
        &format!("DPoP {at}"),
        Some(&key.userinfo_proof(&h, &at)),
    )
    .expect("DPoP scheme with a proof by the key");
    assert_eq!(claims["sub"], "alice");

    // The same token as a bearer token: invalid_token, challenged with DPoP (§7.1, §7.2).
    let as_bearer = reject_of(userinfo(&h, &format!("Bearer {at}"), None));
    assert_eq!(as_bearer.reject(), Reject::TokenBindingMismatch);
    assert_eq!(as_bearer.status(), 401);
    assert_eq!(
        as_bearer.www_authenticate(),
        Some("DPoP error=\"invalid_token\"")
    );
    // A proof by another key.
    let other = Key::new();
    let wrong_key = userinfo(
        &h,
        &format!("DPoP {at}"),
        Some(&other.userinfo_proof(&h, &at)),
    );
    assert_eq!(reject_of(wrong_key).reject(), Reject::TokenBindingMismatch);
    // The DPoP scheme without a proof, or with a proof for another token (ath), or without ath.
    let no_proof = reject_of(userinfo(&h, &format!("DPoP {at}"), None));
    assert_eq!(no_proof.code().as_str(), "invalid_dpop_proof");
    assert_eq!(no_proof.status(), 401);
    assert_eq!(
        no_proof.www_authenticate(),
        Some("DPoP error=\"invalid_dpop_proof\"")
    );
    let other_ath = key.userinfo_proof(&h, "another-token");
    let other_ath = reject_of(userinfo(&h, &format!("DPoP {at}"), Some(&other_ath)));
    assert_eq!(other_ath.reject(), Reject::DpopProofInvalid);
    let no_ath = key.proof(&h, "GET", USERINFO, &json!({}));
    let no_ath = reject_of(userinfo(&h, &format!("DPoP {at}"), Some(&no_ath)));
    assert_eq!(no_ath.reject(), Reject::DpopProofInvalid);
    // A proof is single use (§11.1): replaying the accepted one is refused.
    let proof = key.userinfo_proof(&h, &at);
    userinfo(&h, &format!("DPoP {at}"), Some(&proof)).expect("first use");
    let replay = reject_of(userinfo(&h, &format!("DPoP {at}"), Some(&proof)));
    assert_eq!(replay.reject(), Reject::DpopProofReplayed);
    // A proof for the token endpoint is not one for UserInfo (htm, htu).
    let token_proof = key.proof(&h, "POST", TOKEN, &json!({"ath": access_token_hash(&at)}));
    let elsewhere = reject_of(userinfo(&h, &format!("DPoP {at}"), Some(&token_proof)));
    assert_eq!(elsewhere.reject(), Reject::DpopProofInvalid);
}

/// An unbound (bearer) token is refused with the `DPoP` scheme: the scheme promises a binding
/// the token does not have.
#[test]
fn a_bearer_token_is_not_a_dpop_token() {
    let h = harness();
    let key = Key::new();
    let code = code(&h, "rs-basic", &[]);
    let body = secret_redeem_body(&code);
    let tokens = token(&h, &body, Some(&basic("rs-basic", SECRET)), None).expect("tokens");
    assert_eq!(tokens.token_type(), "Bearer");
    let at = tokens.access_token().to_owned();
    let answer: Value =
        serde_json::from_str(&introspect(&h, &at, "rs-basic").to_json()).expect("JSON");
    assert_eq!(answer["token_type"], "Bearer");
    assert!(answer.get("cnf").is_none());
    let refused = userinfo(
        &h,
        &format!("DPoP {at}"),
        Some(&key.userinfo_proof(&h, &at)),
    );
    assert_eq!(reject_of(refused).reject(), Reject::TokenBindingMismatch);
    userinfo(&h, &format!("Bearer {at}"), None).expect("as a bearer token");
}

/// A public client's refresh token is bound to its DPoP key (§5): refreshing needs a proof by
/// that key, and the new access token is bound again.
#[test]
fn a_public_clients_refresh_token_is_bound_to_its_key() {
    let h = harness();
    let key = Key::new();
    let code = code(&h, "spa", &[]);
    let tokens = token(&h, &redeem_body(&code), None, Some(&key.token_proof(&h))).expect("tokens");
    assert_eq!(tokens.token_type(), "DPoP");
    let rt = tokens.refresh_token().expect("refresh token").to_owned();

    let without = reject_of(token(&h, &refresh_body(&rt), None, None));
    assert_eq!(without.reject(), Reject::DpopKeyMismatch);
    assert_eq!(without.code().as_str(), "invalid_grant");
    let other = Key::new();
    let with_other = token(&h, &refresh_body(&rt), None, Some(&other.token_proof(&h)));
    assert_eq!(reject_of(with_other).reject(), Reject::DpopKeyMismatch);

    let refreshed =
        token(&h, &refresh_body(&rt), None, Some(&key.token_proof(&h))).expect("refreshed");
    assert_eq!(refreshed.token_type(), "DPoP");
    let at = refreshed.access_token();
    userinfo(&h, &format!("DPoP {at}"), Some(&key.userinfo_proof(&h, at))).expect("bound");
}

/// A confidential client's refresh token is bound to the client by its authentication, not to
/// a key: it refreshes without a proof (getting a bearer token) or with another key.
#[test]
fn a_confidential_clients_refresh_token_is_not_key_bound() {
    let h = harness();
    let key = Key::new();
    let code = code(&h, "rs-basic", &[]);
    let body = secret_redeem_body(&code);
    let basic = basic("rs-basic", SECRET);
    let tokens = token(&h, &body, Some(&basic), Some(&key.token_proof(&h))).expect("tokens");
    let rt = tokens.refresh_token().expect("refresh token").to_owned();
    let body = form(&[("grant_type", "refresh_token"), ("refresh_token", &rt)]);
    let refreshed = token(&h, &body, Some(&basic), None).expect("refreshed");
    assert_eq!(refreshed.token_type(), "Bearer");
}

/// `dpop_jkt` binds the code to a key at the authorization endpoint (§10): the redemption
/// must prove that key; a redemption without it, or with another, is `invalid_grant`.
#[test]
fn dpop_jkt_binds_the_code() {
    let h = harness();
    let key = Key::new();
    let jkt = key.jkt();
    let code1 = code(&h, "spa", &[("dpop_jkt", &jkt)]);
    let refused = reject_of(token(&h, &redeem_body(&code1), None, None));
    assert_eq!(refused.reject(), Reject::DpopKeyMismatch);
    assert_eq!(refused.code().as_str(), "invalid_grant");
    let code2 = code(&h, "spa", &[("dpop_jkt", &jkt)]);
    let other = Key::new();
    let refused = token(&h, &redeem_body(&code2), None, Some(&other.token_proof(&h)));
    assert_eq!(reject_of(refused).reject(), Reject::DpopKeyMismatch);
    let code3 = code(&h, "spa", &[("dpop_jkt", &jkt)]);
    let tokens =
        token(&h, &redeem_body(&code3), None, Some(&key.token_proof(&h))).expect("same key");
    assert_eq!(tokens.token_type(), "DPoP");
    // Not a thumbprint: invalid_request, redirected.
    let mut pairs = auth_pairs("code", "spa");
    pairs.push(("dpop_jkt", "not-a-thumbprint"));
    let error = h.authorize(&form(&pairs)).expect_err("refused");
    assert_eq!(error.reject(), Reject::DpopJktMalformed);
    assert_eq!(error.reject().code().as_str(), "invalid_request");
}

/// A client registered with `dpop_bound_access_tokens` must send a proof (§5.2), and cannot
/// register a response type that returns an access token in the front channel.
#[test]
fn dpop_bound_clients_must_prove() {
    let h = harness();
    let code = code(&h, "bound", &[]);
    let body = secret_redeem_body(&code);
    let basic = basic("bound", SECRET);
    let refused = reject_of(token(&h, &body, Some(&basic), None));
    assert_eq!(refused.reject(), Reject::DpopProofRequired);
    assert_eq!(refused.code().as_str(), "invalid_dpop_proof");
    assert_eq!(refused.status(), 400);

    let metadata = json!({
        "client_id": "front",
        "client_secret": SECRET,
        "redirect_uris": [REDIRECT_URI],
        "response_types": ["code id_token token"],
        "dpop_bound_access_tokens": true,
    });
    let metadata = serde_json::from_value(metadata).expect("metadata");
    assert_eq!(
        oidc_hybrid::Client::register(metadata).map(|_| ()),
        Err(Reject::DpopFrontChannelToken)
    );
    assert_eq!(
        Reject::DpopFrontChannelToken.code().as_str(),
        "invalid_client_metadata"
    );
}

/// Proofs for another endpoint, a replayed proof and a malformed one are refused at the token
/// endpoint with `invalid_dpop_proof` (400, §5), and the code survives none of them being
/// presented with it (client authentication came first; the code is not spent).
#[test]
fn bad_proofs_at_the_token_endpoint() {
    let h = harness();
    let key = Key::new();
    let basic = basic("rs-basic", SECRET);
    let code = code(&h, "rs-basic", &[]);
    let body = secret_redeem_body(&code);
    for (what, proof) in [
        (
            "UserInfo proof",
            key.proof(&h, "POST", USERINFO, &json!({})),
        ),
        ("GET proof", key.proof(&h, "GET", TOKEN, &json!({}))),
        ("two proofs", format!("{0},{0}", key.token_proof(&h))),
        ("garbage", "x.y.z".into()),
    ] {
        let refused = reject_of(token(&h, &body, Some(&basic), Some(&proof)));
        assert_eq!(refused.code().as_str(), "invalid_dpop_proof", "{what}");
        assert_eq!(refused.status(), 400, "{what}");
        assert!(refused.www_authenticate().is_none(), "{what}");
    }
    let proof = key.token_proof(&h);
    token(&h, &body, Some(&basic), Some(&proof)).expect("the code was not spent");
    let code = self::code(&h, "rs-basic", &[]);
    let body = secret_redeem_body(&code);
    let replay = reject_of(token(&h, &body, Some(&basic), Some(&proof)));
    assert_eq!(replay.reject(), Reject::DpopProofReplayed);
}

/// With a nonce key configured, a proof without the server's nonce gets `use_dpop_nonce`
/// (§8): the answer must carry a fresh `DPoP-Nonce`, and a proof with it is accepted.
#[test]
fn server_nonces_at_the_token_endpoint_and_userinfo() {
    let mut config = Config::new(ISSUER).expect("issuer");
    config.dpop_nonce_key = Some(NonceKey::new([3; 32]));
    let h = harness_with(config);
    let key = Key::new();
    let code = code(&h, "spa", &[]);
    let refused = reject_of(token(
        &h,
        &redeem_body(&code),
        None,
        Some(&key.token_proof(&h)),
    ));
    assert_eq!(refused.code().as_str(), "use_dpop_nonce");
    assert!(refused.needs_dpop_nonce());
    assert_eq!(refused.status(), 400);
    let nonce = h.provider.dpop_nonce().expect("a nonce");
    let proof = key.proof(&h, "POST", TOKEN, &json!({"nonce": nonce}));
    let tokens = token(&h, &redeem_body(&code), None, Some(&proof)).expect("with the nonce");
    let at = tokens.access_token();
    // At UserInfo the same error is a 401 with a DPoP challenge (§9).
    let ath = json!({"ath": access_token_hash(at)});
    let proof = key.proof(&h, "GET", USERINFO, &ath);
    let refused = reject_of(userinfo(&h, &format!("DPoP {at}"), Some(&proof)));
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.www_authenticate(),
        Some("DPoP error=\"use_dpop_nonce\"")
    );
    let ath = json!({"ath": access_token_hash(at), "nonce": nonce});
    let proof = key.proof(&h, "GET", USERINFO, &ath);
    userinfo(&h, &format!("DPoP {at}"), Some(&proof)).expect("with the nonce");
    // Without a nonce key, no nonce is offered.
    assert!(harness().provider.dpop_nonce().is_none());
}

/// A DPoP proof at the PAR endpoint binds the pushed request's code like `dpop_jkt` (§10.1);
/// a pushed `dpop_jkt` of another key is refused.
#[test]
fn a_proof_at_par_binds_the_code() {
    let h = harness();
    let key = Key::new();
    let (_, challenge) = pkce_pair("dpop");
    let mut pairs = auth_pairs("code", "rs-basic");
    pairs.push(("code_challenge", &challenge));
    pairs.push(("code_challenge_method", "S256"));
    let basic = basic("rs-basic", SECRET);
    let push = |pairs: &[(&str, &str)], proof: Option<&str>| {
        let body = form(pairs);
        let params = Params::parse(&body).expect("params");
        let presented = Presented::new("POST")
            .with_authorization(Some(&basic))
            .with_dpop(proof);
        block_on(h.provider.push(&params, presented))
    };
    let proof = key.proof(&h, "POST", PAR, &json!({}));
    let pushed = push(&pairs, Some(&proof)).expect("pushed");
    let reference = form(&[
        ("client_id", "rs-basic"),
        ("request_uri", pushed.request_uri()),
    ]);
    let bound = h.authorize(&reference).expect("binds");
    let code = h.approve(bound, "alice").expect("approved");
    let code = oidc_hybrid_tests::Delivered::from_response(&code).map()["code"].clone();
    let body = secret_redeem_body(&code);
    let refused = reject_of(token(&h, &body, Some(&basic), None));
    assert_eq!(refused.reject(), Reject::DpopKeyMismatch);

    let other = Key::new().jkt();
    let mut mismatched = pairs.clone();
    mismatched.push(("dpop_jkt", &other));
    let proof = key.proof(&h, "POST", PAR, &json!({}));
    let refused = reject_of(push(&mismatched, Some(&proof)));
    assert_eq!(refused.code().as_str(), "invalid_dpop_proof");
}

/// Discovery lists the proof algorithms of the configured verifier (§5.1), and nothing
/// without one.
#[test]
fn discovery_lists_dpop_algorithms() {
    let doc: Value = serde_json::from_str(&harness().provider.discovery().to_json()).expect("JSON");
    let algs = doc["dpop_signing_alg_values_supported"]
        .as_array()
        .expect("listed");
    assert!(algs.contains(&json!("ES256")));
    assert!(
        !algs
            .iter()
            .any(|a| a.as_str().is_some_and(|a| a.starts_with("HS")))
    );
    let bare: Value =
        serde_json::from_str(&Harness::new().provider.discovery().to_json()).expect("JSON");
    assert!(bare.get("dpop_signing_alg_values_supported").is_none());
}
