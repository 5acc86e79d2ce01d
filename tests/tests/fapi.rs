//! The FAPI 1.0 Advanced profile (Final) for `code id_token`: a whole flow — `private_key_jwt`,
//! a PS256 request object pushed to PAR with PKCE, a DPoP-bound access token — with both ID
//! tokens validated by an independent JOSE implementation (`jsonwebtoken`) and the hash claims
//! recomputed here; then each of the profile's rules broken, each refused.
//!
//! Clauses: §5.2.2-1, -2, -5, -13, -14, -15, -17, -18, -20, §5.2.2.2, §8.6, Part 1 §5.2.2-13
//! (docs/spec-map.md).

use base64ct::{Base64UrlUnpadded, Encoding};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use oidc_hybrid::binding::Presented;
use oidc_hybrid::dpop::access_token_hash;
use oidc_hybrid::{
    AuthorizeError, Client, Config, EndpointError, Params, PushedResponse, Reject, Signer,
    TokenResponse,
};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::{Es256Signer, OsRandom};
use oidc_hybrid_tests::jwt::{
    ClientKeys, ISSUER, T0, TOKEN_ENDPOINT, client_keys, header, jwk_json, key_clients, signed,
};
use oidc_hybrid_tests::{
    Delivered, Directory, REDIRECT_URI, TestClock, TestProvider, block_on, form, pkce_pair,
    test_keys,
};
use serde_json::{Value, json};
use sha2::Digest;

const PAR: &str = "https://op.example/par";
const USERINFO: &str = "https://op.example/userinfo";
const FAPI: &str = "fapi-rp";

struct Fixture {
    provider: TestProvider,
    clock: TestClock,
    keys: ClientKeys,
    dpop: Es256Signer,
}

fn fapi_client(keys: &ClientKeys, extra: Value) -> Value {
    let mut metadata = json!({
        "client_id": FAPI,
        "redirect_uris": [REDIRECT_URI],
        "response_types": ["code id_token"],
        "grant_types": ["authorization_code", "implicit", "refresh_token"],
        "token_endpoint_auth_method": "private_key_jwt",
        "id_token_signed_response_alg": "ES256",
        "jwks": {"keys": [jwk_json(&keys.es256), jwk_json(&keys.ps256)]},
        "fapi1_advanced": true,
    });
    for (k, v) in extra.as_object().expect("object") {
        metadata[k] = v.clone();
    }
    metadata
}

fn register(metadata: Value) -> Result<Client, Reject> {
    Client::register(serde_json::from_value(metadata).expect("metadata"))
}

fn fixture_with(tune: impl FnOnce(&mut Config)) -> Fixture {
    let keys = client_keys();
    let mut clients = key_clients(&keys);
    clients.push(register(fapi_client(&keys, json!({}))).expect("a conforming FAPI client"));
    let mut config = Config::new(ISSUER).expect("issuer");
    config.code_lifetime = 300;
    tune(&mut config);
    let clock = TestClock::at(T0);
    let provider = oidc_hybrid::Provider::new(
        config,
        MemoryStore::with_clients(clients),
        test_keys(),
        clock.clone(),
        OsRandom,
    )
    .expect("provider")
    .with_jws_verifier(oidc_hybrid_ring::ClientKeyVerifier);
    Fixture {
        provider,
        clock,
        keys,
        dpop: Es256Signer::generate(&OsRandom, None).expect("DPoP key"),
    }
}

fn fixture() -> Fixture {
    fixture_with(|_| {})
}

impl Fixture {
    fn now(&self) -> u64 {
        oidc_hybrid::Clock::now(&self.clock).as_secs()
    }

    /// A `private_key_jwt` assertion (ES256) for `aud`.
    fn assertion(&self, aud: &str) -> String {
        let jti = Base64UrlUnpadded::encode_string(&rand16());
        let claims = json!({"iss": FAPI, "sub": FAPI, "aud": aud, "jti": jti,
            "iat": self.now(), "exp": self.now() + 60});
        signed(
            &header("ES256", Some(self.keys.es256.key_id())),
            &claims,
            &self.keys.es256,
        )
    }

    fn auth_pairs(&self, aud: &str) -> Vec<(String, String)> {
        vec![
            ("client_id".into(), FAPI.into()),
            (
                "client_assertion_type".into(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
            ),
            ("client_assertion".into(), self.assertion(aud)),
        ]
    }

    fn dpop_proof(&self, method: &str, uri: &str, access_token: Option<&str>) -> String {
        let mut jwk = serde_json::to_value(self.dpop.public_jwk()).expect("JWK");
        for member in ["kid", "use", "alg"] {
            jwk.as_object_mut().expect("object").remove(member);
        }
        let mut claims = json!({"jti": Base64UrlUnpadded::encode_string(&rand16()),
            "htm": method, "htu": uri, "iat": self.now()});
        if let Some(token) = access_token {
            claims["ath"] = json!(access_token_hash(token));
        }
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk});
        signed(&header, &claims, &self.dpop)
    }

    /// A request object of the FAPI client with `claims` changed, signed with `alg`.
    fn object(&self, alg: &str, change: impl FnOnce(&mut Value)) -> String {
        let (_, challenge) = pkce_pair("fapi");
        let mut claims = json!({
            "iss": FAPI, "aud": ISSUER, "client_id": FAPI,
            "response_type": "code id_token", "redirect_uri": REDIRECT_URI,
            "scope": "openid email", "state": "fapi-state", "nonce": "fapi-nonce",
            "code_challenge": challenge, "code_challenge_method": "S256",
            "nbf": self.now(), "exp": self.now() + 300,
            "jti": Base64UrlUnpadded::encode_string(&rand16()),
        });
        change(&mut claims);
        match alg {
            "PS256" => signed(
                &header("PS256", Some("client-ps256")),
                &claims,
                &self.keys.ps256,
            ),
            "ES256" => signed(
                &header("ES256", Some(self.keys.es256.key_id())),
                &claims,
                &self.keys.es256,
            ),
            other => {
                let signer = oidc_hybrid_rustcrypto::RsaSigner::from_pkcs8_pem(
                    oidc_hybrid_tests::RS256_PEM,
                    oidc_hybrid::JwsAlgorithm::RS256,
                    Some("client-rs256"),
                )
                .expect("RS256 key");
                signed(&header(other, Some("client-ps256")), &claims, &signer)
            }
        }
    }

    fn push(&self, extra: &[(&str, &str)], dpop: bool) -> Result<PushedResponse, EndpointError> {
        let mut pairs = self.auth_pairs(ISSUER);
        pairs.extend(
            extra
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
        );
        let body = form(&pairs);
        let params = Params::parse(&body).expect("form");
        let proof = dpop.then(|| self.dpop_proof("POST", PAR, None));
        let presented = Presented::new("POST").with_dpop(proof.as_deref());
        block_on(self.provider.push(&params, presented))
    }

    fn authorize(&self, pairs: &[(&str, &str)]) -> Result<Delivered, AuthorizeError> {
        let body = form(pairs);
        let params = Params::parse(&body).expect("form");
        let bound = block_on(self.provider.authorize(&params))?;
        let subject = oidc_hybrid::Subject::new("alice").expect("subject");
        let approval = oidc_hybrid::Approval::new(subject, self.clock.now_unix());
        let response = block_on(self.provider.approve(bound, approval))?;
        Ok(Delivered::from_response(&response))
    }

    fn redeem(&self, code: &str, dpop: bool) -> Result<TokenResponse, EndpointError> {
        let verifier = pkce_pair("fapi").0;
        let mut pairs = self.auth_pairs(TOKEN_ENDPOINT);
        for (n, v) in [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
        ] {
            pairs.push((n.into(), v.into()));
        }
        let body = form(&pairs);
        let params = Params::parse(&body).expect("form");
        let proof = dpop.then(|| self.dpop_proof("POST", TOKEN_ENDPOINT, None));
        let presented = Presented::new("POST").with_dpop(proof.as_deref());
        block_on(
            self.provider
                .token_with_claims(&Directory, &params, presented),
        )
    }

    /// The pushed, approved flow up to the authorization response.
    fn pushed_flow(&self) -> Delivered {
        let object = self.object("PS256", |_| {});
        let pushed = self.push(&[("request", &object)], true).expect("pushed");
        self.authorize(&[("client_id", FAPI), ("request_uri", pushed.request_uri())])
            .expect("authorized")
    }
}

trait NowUnix {
    fn now_unix(&self) -> oidc_hybrid::UnixTime;
}

impl NowUnix for TestClock {
    fn now_unix(&self) -> oidc_hybrid::UnixTime {
        oidc_hybrid::Clock::now(self)
    }
}

fn rand16() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    oidc_hybrid::SecureRandom::try_fill(&OsRandom, &mut bytes).expect("random");
    bytes
}

/// The left half of SHA-256, base64url (OIDC Core §3.3.2.11), recomputed here.
fn half_hash(value: &str) -> String {
    let digest = sha2::Sha256::digest(value.as_bytes());
    Base64UrlUnpadded::encode_string(&digest[..16])
}

/// Validates an ID token the way an RP with `jsonwebtoken` does: ES256 only, against the
/// published JWKS, with issuer, audience and expiry.
fn validate_id_token(fx: &Fixture, token: &str) -> Value {
    let header = decode_header(token).expect("JWS header");
    assert_eq!(header.alg, Algorithm::ES256, "PS256 or ES256 only (§8.6)");
    let jwks: JwkSet =
        serde_json::from_value(serde_json::to_value(fx.provider.jwks()).expect("JWKS"))
            .expect("JWKS for jsonwebtoken");
    let jwk = jwks
        .find(header.kid.as_deref().expect("kid"))
        .expect("published key");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[FAPI]);
    validation.validate_exp = false; // the provider's clock is fixed in the past
    let key = DecodingKey::from_jwk(jwk).expect("decoding key");
    decode::<Value>(token, &key, &validation)
        .expect("a valid ID token")
        .claims
}

/// The whole profile: PAR with a PS256 request object, PKCE and a DPoP proof; `code id_token`
/// with `s_hash` and `c_hash`; `private_key_jwt` at the token endpoint; a DPoP-bound access
/// token that UserInfo takes only with a proof.
#[test]
fn a_fapi_flow_end_to_end() {
    let fx = fixture();
    let delivered = fx.pushed_flow().map();
    assert_eq!(delivered["state"], "fapi-state");
    let code = delivered["code"].clone();
    let front = validate_id_token(&fx, &delivered["id_token"]);
    assert_eq!(front["nonce"], "fapi-nonce");
    assert_eq!(front["c_hash"], half_hash(&code));
    assert_eq!(front["s_hash"], half_hash("fapi-state"), "§5.2.2.2: s_hash");

    let tokens = fx.redeem(&code, true).expect("tokens");
    assert_eq!(tokens.token_type(), "DPoP");
    let back = validate_id_token(&fx, tokens.id_token().expect("ID token"));
    assert_eq!(back["sub"], front["sub"]);
    let at = tokens.access_token();
    let presented = |proof: Option<&str>, scheme: &str| {
        let auth = format!("{scheme} {at}");
        let presented = Presented::new("GET")
            .with_authorization(Some(&auth))
            .with_dpop(proof);
        block_on(fx.provider.userinfo(&Directory, presented, None))
    };
    let proof = fx.dpop_proof("GET", USERINFO, Some(at));
    assert_eq!(
        presented(Some(&proof), "DPoP").expect("claims")["sub"],
        front["sub"]
    );
    assert_eq!(
        presented(None, "Bearer").expect_err("bearer").reject(),
        Reject::TokenBindingMismatch
    );
}

/// §5.2.2-1: a plain authorization request is refused (redirected `invalid_request`); a
/// request object alone (without PAR) is accepted.
#[test]
fn a_request_object_or_par_is_required() {
    let fx = fixture();
    let (_, challenge) = pkce_pair("fapi");
    let plain = [
        ("response_type", "code id_token"),
        ("client_id", FAPI),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid"),
        ("nonce", "n"),
        ("state", "s"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let refused = fx.authorize(&plain).expect_err("plain request");
    assert_eq!(refused.reject(), Reject::FapiRequestObjectRequired);
    assert_eq!(refused.reject().code().as_str(), "invalid_request");
    let object = fx.object("ES256", |_| {});
    let by_value = [
        ("client_id", FAPI),
        ("response_type", "code id_token"),
        ("scope", "openid"),
        ("request", object.as_str()),
    ];
    fx.authorize(&by_value).expect("a request object by value");
}

/// §8.6 and §5.2.2-13, -15, -17: the request object's algorithm and time claims.
#[test]
fn request_object_rules() {
    let fx = fixture();
    let now = fx.now();
    let cases: Vec<(&str, String, Reject)> = vec![
        (
            "RS256",
            fx.object("RS256", |_| {}),
            Reject::RequestObjectAlgorithmRefused,
        ),
        (
            "no nbf",
            fx.object("PS256", |c| {
                c.as_object_mut().expect("object").remove("nbf");
            }),
            Reject::FapiRequestObjectClaims,
        ),
        (
            "no exp",
            fx.object("PS256", |c| {
                c.as_object_mut().expect("object").remove("exp");
            }),
            Reject::FapiRequestObjectClaims,
        ),
        (
            "no aud",
            fx.object("PS256", |c| {
                c.as_object_mut().expect("object").remove("aud");
            }),
            Reject::FapiRequestObjectClaims,
        ),
        (
            "nbf over 60 min old",
            fx.object("PS256", |c| {
                c["nbf"] = json!(now - 3601);
                c["exp"] = json!(now + 60);
            }),
            Reject::FapiRequestObjectClaims,
        ),
    ];
    for (what, object, reject) in cases {
        let refused = fx.push(&[("request", &object)], true).expect_err(what);
        assert_eq!(refused.reject(), reject, "{what}");
    }
}

/// §5.2.2-2, -18: only `code id_token`; pushed requests need PKCE with S256.
#[test]
fn response_type_and_pkce() {
    let fx = fixture();
    let code_only = fx.object("PS256", |c| c["response_type"] = json!("code"));
    let refused = fx.push(&[("request", &code_only)], true).expect_err("code");
    // The client is not registered for `code` either: whichever rule speaks first refuses.
    assert!(
        [
            Reject::FapiResponseTypeRequired,
            Reject::ResponseTypeNotAllowed
        ]
        .contains(&refused.reject()),
        "{:?}",
        refused.reject()
    );
    let no_pkce = fx.object("PS256", |c| {
        let object = c.as_object_mut().expect("object");
        object.remove("code_challenge");
        object.remove("code_challenge_method");
    });
    let refused = fx
        .push(&[("request", &no_pkce)], true)
        .expect_err("no PKCE");
    assert_eq!(refused.reject(), Reject::FapiPkceRequired);
}

/// §5.2.2-5: without a DPoP proof or a client certificate, no access token.
#[test]
fn access_tokens_must_be_sender_constrained() {
    let fx = fixture();
    let code = fx.pushed_flow().map()["code"].clone();
    let refused = fx.redeem(&code, false).expect_err("no proof");
    assert_eq!(refused.reject(), Reject::FapiSenderConstraintRequired);
    assert_eq!(refused.code().as_str(), "invalid_request");
}

/// Part 1 §5.2.2-13: codes live at most 60 s in the profile, whatever the configuration says.
#[test]
fn codes_live_sixty_seconds() {
    let fx = fixture();
    let code = fx.pushed_flow().map()["code"].clone();
    fx.clock.advance(61);
    let refused = fx.redeem(&code, true).expect_err("expired");
    assert_eq!(refused.code().as_str(), "invalid_grant");
}

/// §5.2.2-14, §8.6, §5.2.2-20: registration in the profile.
#[test]
fn registration_in_the_profile() {
    let keys = client_keys();
    for (what, extra) in [
        (
            "client_secret_basic",
            json!({"token_endpoint_auth_method": "client_secret_basic",
                   "client_secret": "a-client-secret-of-at-least-thirty-two-bytes"}),
        ),
        (
            "RS256 ID tokens",
            json!({"id_token_signed_response_alg": "RS256"}),
        ),
        (
            "default (RS256) ID tokens",
            json!({"id_token_signed_response_alg": null}),
        ),
        (
            "RS256 assertions",
            json!({"token_endpoint_auth_signing_alg": "RS256"}),
        ),
        (
            "RS256 request objects",
            json!({"request_object_signing_alg": "RS256"}),
        ),
        (
            "http redirect URI",
            json!({"redirect_uris": ["http://127.0.0.1/cb"], "application_type": "native"}),
        ),
    ] {
        let mut metadata = fapi_client(&keys, extra);
        if metadata["id_token_signed_response_alg"].is_null() {
            metadata
                .as_object_mut()
                .expect("object")
                .remove("id_token_signed_response_alg");
        }
        assert_eq!(
            register(metadata).map(|_| ()),
            Err(Reject::FapiClientMetadata),
            "{what}"
        );
    }
    assert_eq!(
        Reject::FapiClientMetadata.code().as_str(),
        "invalid_client_metadata"
    );
}

/// The profile for every client (the configuration's switch): a client whose registration does
/// not conform is refused (`unauthorized_client`), at the authorization endpoint and at PAR.
#[test]
fn the_global_switch_covers_every_client() {
    let fx = fixture_with(|config| config.fapi1_advanced = true);
    let pairs = oidc_hybrid_tests::auth_pairs("code id_token", "rs-basic");
    let refused = fx.authorize(&pairs).expect_err("secret client");
    assert_eq!(refused.reject(), Reject::FapiClientNotConforming);
    assert_eq!(refused.reject().code().as_str(), "unauthorized_client");
    // The conforming client still completes the profile.
    let code = fx.pushed_flow().map()["code"].clone();
    fx.redeem(&code, true).expect("tokens");
}
