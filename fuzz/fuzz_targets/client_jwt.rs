//! Clients' JWTs: a client assertion (`client_assertion`, RFC 7523 §3) and a request object
//! (`request`, RFC 9101), parsed and checked against fixture clients that hold a public key
//! (`private_key_jwt`), a secret (`client_secret_jwt`), or registered unsigned objects, with the
//! RustCrypto verifier, at a fixed time.
//!
//! Invariants: no panic; every refusal of an assertion is `invalid_client` (or
//! `invalid_request` for the request's shape) with status 400 and a safe description; every
//! refusal of a request object is shown to the user (never redirected) as
//! `invalid_request_object` or `invalid_request`; an assertion accepted at all has `iss` = `sub`
//! = the client, an accepted audience and a `jti`; nothing the fuzzer signs verifies with a
//! public key (it has none), and an unsigned object is accepted only from the client that
//! registered `none` under a configuration that allows it.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use oidc_hybrid::client_auth::{AuthContext, Authentication, JWT_BEARER};
use oidc_hybrid::request_object::{ObjectContext, RequestObject};
use oidc_hybrid::{Client, ClientId, ClientMetadata, Config, Disposition, Params, UnixTime};
use oidc_hybrid_fuzz::{ISSUER, START, safe_description};
use oidc_hybrid_rustcrypto::{ClientKeyVerifier, Es256Signer};
use serde_json::json;

const ES256_PEM: &str = include_str!("../../tests/keys/es256.pem");
const HMAC_SECRET: &str = "a-client-secret-for-hmac-of-at-least-32-bytes";

struct Fixture {
    clients: Vec<Client>,
    config: Config,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let key = Es256Signer::from_pkcs8_pem(ES256_PEM, Some("es-1")).expect("test key");
        let jwk = serde_json::to_value(oidc_hybrid::Signer::public_jwk(&key)).expect("JWK");
        let register = |value: serde_json::Value| {
            let metadata: ClientMetadata = serde_json::from_value(value).expect("metadata");
            Client::register(metadata).expect("registers")
        };
        let base = json!({"redirect_uris": ["https://rp.example/cb"]});
        let with = |id: &str, extra: serde_json::Value| {
            let mut value = base.clone();
            value["client_id"] = json!(id);
            for (k, v) in extra.as_object().expect("object") {
                value[k] = v.clone();
            }
            register(value)
        };
        let mut config = Config::new(ISSUER).expect("issuer");
        config.allow_unsigned_request_objects = true;
        Fixture {
            clients: vec![
                with(
                    "pkj",
                    json!({"token_endpoint_auth_method": "private_key_jwt",
                           "jwks": {"keys": [jwk]}}),
                ),
                with(
                    "csj",
                    json!({"token_endpoint_auth_method": "client_secret_jwt",
                           "client_secret": HMAC_SECRET}),
                ),
                with(
                    "unsigned",
                    json!({"client_secret": HMAC_SECRET, "request_object_signing_alg": "none"}),
                ),
            ],
            config,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(jwt) = std::str::from_utf8(data) else {
        return;
    };
    let fx = fixture();
    let now = UnixTime::from_secs(START);
    let verifier = ClientKeyVerifier;
    check_assertion(fx, jwt, now, &verifier);
    check_request_object(fx, jwt, now, &verifier);
});

fn check_assertion(fx: &Fixture, jwt: &str, now: UnixTime, verifier: &ClientKeyVerifier) {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_assertion_type", JWT_BEARER)
        .append_pair("client_assertion", jwt)
        .finish();
    let Ok(params) = Params::parse(&body) else {
        return;
    };
    let credentials = match oidc_hybrid::Credentials::parse(&params, None) {
        Ok(credentials) => credentials,
        Err(error) => {
            assert!(matches!(
                error.code().as_str(),
                "invalid_client" | "invalid_request"
            ));
            assert_eq!(error.status(), 400);
            assert!(safe_description(error.reject().description()));
            return;
        }
    };
    let client = fx
        .clients
        .iter()
        .find(|c| c.id() == credentials.client_id())
        .cloned();
    let context = AuthContext {
        now,
        config: &fx.config,
        endpoint: &fx.config.token_endpoint,
        verifier: Some(verifier),
    };
    let pending = match credentials.authenticate(client) {
        Ok(Authentication::Assertion(pending)) => pending,
        Ok(other) => panic!("an assertion authenticated without verification: {other:?}"),
        Err(error) => {
            assert_eq!(error.code().as_str(), "invalid_client");
            return;
        }
    };
    match pending.verify(None, &context) {
        Ok(check) => {
            // Only a client secret can have made it: the fuzzer holds no private key.
            assert_eq!(check.client_id().as_str(), "csj");
            assert!(!check.jti().is_empty());
            assert!(check.expires_at() > now);
        }
        Err(error) => {
            assert_eq!(error.code().as_str(), "invalid_client");
            assert_eq!(error.status(), 400);
            assert!(safe_description(error.reject().description()));
        }
    }
}

fn check_request_object(fx: &Fixture, jwt: &str, now: UnixTime, verifier: &ClientKeyVerifier) {
    let context = ObjectContext {
        now,
        config: &fx.config,
        verifier: Some(verifier),
    };
    for client in &fx.clients {
        let id = ClientId::new(client.id().as_str()).expect("fixture id");
        let outcome = RequestObject::parse(id, jwt, None)
            .and_then(|object| object.verify(client, None, &context));
        match outcome {
            Ok(verified) => {
                let pairs = verified.recorded(true).expect("fresh").pairs().to_vec();
                assert!(pairs.contains(&("client_id".into(), client.id().as_str().into())));
                assert_ne!(
                    client.id().as_str(),
                    "pkj",
                    "no public-key signature verifies"
                );
            }
            Err(error) => {
                assert_eq!(error.disposition(), &Disposition::ShowToUser);
                assert!(matches!(
                    error.reject().code().as_str(),
                    "invalid_request_object" | "invalid_request"
                ));
                assert!(safe_description(error.reject().description()));
            }
        }
    }
}
