//! Clients that authenticate and sign requests with keys (RFC 7523, RFC 9101): their keys,
//! their registrations, a `jwks_uri` fetcher serving fixed documents, a provider that verifies
//! their signatures, and JWS builders with any header (for the negative tests).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64ct::{Base64UrlUnpadded, Encoding};
use oidc_hybrid::client_keys::FetchFuture;
use oidc_hybrid::{
    Approval, Client, ClientJwks, ClientMetadata, Clock, Config, FetchError, JwksFetcher,
    JwsAlgorithm, JwsVerifier, MacAlgorithm, Params, Provider, Signer, Subject,
};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::{Es256Signer, OsRandom, RsaSigner};
use serde_json::{Value, json};

use crate::{
    REDIRECT_URI, RS256_PEM, TestClock, TestProvider, auth_pairs, block_on, es256_signer, form,
    rs256_signer, standard_clients,
};

/// The fixture's time.
pub const T0: u64 = 1_800_000_000;
/// The fixture provider's issuer.
pub const ISSUER: &str = "https://op.example";
/// The fixture provider's token endpoint.
pub const TOKEN_ENDPOINT: &str = "https://op.example/token";
/// The `client_secret_jwt` client's secret.
pub const HMAC_SECRET: &str = "a-client-secret-for-hmac-of-at-least-32-bytes";
/// The `jwks_uri` of the `pkj-uri` client.
pub const JWKS_URI: &str = "https://rp.example/jwks.json";

/// The clients' own keys (the provider's test keys serve as client keys here).
#[derive(Debug)]
pub struct ClientKeys {
    /// ES256, `kid` the key's thumbprint.
    pub es256: Es256Signer,
    /// PS256, `kid` `client-ps256`.
    pub ps256: RsaSigner,
    /// An ES256 key no client registered, `kid` `other`.
    pub other_es256: Es256Signer,
}

/// The keys.
///
/// # Panics
///
/// If a committed test key does not load.
#[must_use]
pub fn client_keys() -> ClientKeys {
    ClientKeys {
        es256: es256_signer(),
        ps256: RsaSigner::from_pkcs8_pem(RS256_PEM, JwsAlgorithm::PS256, Some("client-ps256"))
            .expect("PS256 key"),
        other_es256: Es256Signer::generate(&OsRandom, Some("other")).expect("key"),
    }
}

/// The public JWK of `signer` as JSON.
///
/// # Panics
///
/// Never: a JWK serialises.
#[must_use]
pub fn jwk_json(signer: &dyn Signer) -> Value {
    serde_json::to_value(signer.public_jwk()).expect("JWK")
}

fn register(value: Value) -> Client {
    let metadata: ClientMetadata = serde_json::from_value(value).expect("metadata");
    Client::register(metadata).expect("registers")
}

/// The standard clients and the key clients:
/// - `pkj-es`: `private_key_jwt`, inline `jwks` with the ES256 and PS256 keys;
/// - `pkj-ps`: `private_key_jwt` restricted to PS256; request objects PS256 only;
/// - `pkj-uri`: `private_key_jwt` with a `jwks_uri` ([`JWKS_URI`]);
/// - `csj`: `client_secret_jwt` (HS256) with [`HMAC_SECRET`];
/// - `unsigned`: a `client_secret_basic` client that registered unsigned request objects;
/// - `par-only`: `private_key_jwt`, must push its requests.
#[must_use]
pub fn key_clients(keys: &ClientKeys) -> Vec<Client> {
    let client = |id: &str, extra: Value| {
        let mut value = json!({
            "client_id": id,
            "redirect_uris": [REDIRECT_URI],
            "response_types": ["code", "code id_token"],
            "grant_types": ["authorization_code", "implicit", "refresh_token"],
        });
        for (k, v) in extra.as_object().expect("object") {
            value[k] = v.clone();
        }
        register(value)
    };
    let both = json!({"keys": [jwk_json(&keys.es256), jwk_json(&keys.ps256)]});
    let mut all = standard_clients();
    all.extend([
        client(
            "pkj-es",
            json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": both}),
        ),
        client(
            "pkj-ps",
            json!({"token_endpoint_auth_method": "private_key_jwt",
                   "token_endpoint_auth_signing_alg": "PS256",
                   "request_object_signing_alg": "PS256", "jwks": both}),
        ),
        client(
            "pkj-uri",
            json!({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": JWKS_URI}),
        ),
        client(
            "csj",
            json!({"token_endpoint_auth_method": "client_secret_jwt",
                   "client_secret": HMAC_SECRET, "token_endpoint_auth_signing_alg": "HS256"}),
        ),
        client(
            "unsigned",
            json!({"client_secret": crate::SECRET, "request_object_signing_alg": "none"}),
        ),
        client(
            "par-only",
            json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": both,
                   "require_pushed_authorization_requests": true}),
        ),
    ]);
    all
}

/// A `jwks_uri` fetcher serving fixed documents, recording the `kid`s asked for.
#[derive(Clone, Debug, Default)]
pub struct FixedFetcher {
    /// The documents by URL.
    pub documents: Arc<Mutex<HashMap<String, Result<ClientJwks, FetchError>>>>,
    /// The `kid` of every fetch, in order.
    pub asked: Arc<Mutex<Vec<Option<String>>>>,
}

impl JwksFetcher for FixedFetcher {
    fn fetch<'a>(&'a self, uri: &'a str, kid: Option<&'a str>) -> FetchFuture<'a> {
        self.asked.lock().expect("lock").push(kid.map(String::from));
        let answer = self
            .documents
            .lock()
            .expect("lock")
            .get(uri)
            .cloned()
            .unwrap_or(Err(FetchError::Unavailable));
        Box::pin(async move { answer })
    }
}

/// A provider for the key clients, with a verifier and a fetcher.
#[derive(Debug)]
pub struct KeyFixture {
    /// The provider.
    pub provider: TestProvider,
    /// Its clock.
    pub clock: TestClock,
    /// The clients' keys.
    pub keys: ClientKeys,
    /// The fetcher (serves the ES256 key at [`JWKS_URI`]).
    pub fetcher: FixedFetcher,
}

/// A provider at [`T0`] for the key clients, verifying with `verifier`, configured by `tune`.
///
/// # Panics
///
/// If the fixture does not build.
#[must_use]
pub fn key_fixture(
    verifier: impl JwsVerifier + 'static,
    tune: impl FnOnce(&mut Config),
) -> KeyFixture {
    let keys = client_keys();
    let clock = TestClock::at(T0);
    let mut config = Config::new(ISSUER).expect("issuer");
    tune(&mut config);
    let provider_keys: Vec<Box<dyn Signer>> =
        vec![Box::new(rs256_signer()), Box::new(es256_signer())];
    let fetcher = FixedFetcher::default();
    let jwks = ClientJwks::from_value(&json!({"keys": [jwk_json(&keys.es256)]})).expect("jwks");
    fetcher
        .documents
        .lock()
        .expect("lock")
        .insert(JWKS_URI.into(), Ok(jwks));
    let provider = Provider::new(
        config,
        MemoryStore::with_clients(key_clients(&keys)),
        provider_keys,
        clock.clone(),
        OsRandom,
    )
    .expect("provider")
    .with_jws_verifier(verifier)
    .with_jwks_fetcher(fetcher.clone());
    KeyFixture {
        provider,
        clock,
        keys,
        fetcher,
    }
}

impl KeyFixture {
    /// A fresh `code id_token` code for `client`, approved for `alice`.
    ///
    /// # Panics
    ///
    /// If the request does not bind or is not approved.
    #[must_use]
    pub fn code(&self, client: &str) -> String {
        let pairs = auth_pairs("code id_token", client);
        let body = form(&pairs);
        let params = Params::parse(&body).expect("form");
        let bound = block_on(self.provider.authorize(&params)).expect("binds");
        let approval = Approval::new(Subject::new("alice").expect("subject"), self.clock.now());
        let response = block_on(self.provider.approve(bound, approval)).expect("approved");
        response.param("code").expect("a code").to_string()
    }

    /// An ES256 assertion (`kid` set) for `client` with `jti`.
    #[must_use]
    pub fn es256_assertion(&self, client: &str, jti: &str) -> String {
        let kid = self.keys.es256.key_id();
        signed(
            &header("ES256", Some(kid)),
            &claims(client, jti),
            &self.keys.es256,
        )
    }
}

/// The claims of a client assertion for the token endpoint, valid for two minutes from
/// [`T0`].
#[must_use]
pub fn claims(client: &str, jti: &str) -> Value {
    json!({
        "iss": client,
        "sub": client,
        "aud": TOKEN_ENDPOINT,
        "exp": T0 + 120,
        "iat": T0,
        "jti": jti,
    })
}

/// A JWS header with `alg` and an optional `kid`.
#[must_use]
pub fn header(alg: &str, kid: Option<&str>) -> Value {
    match kid {
        Some(kid) => json!({"alg": alg, "kid": kid, "typ": "JWT"}),
        None => json!({"alg": alg, "typ": "JWT"}),
    }
}

/// Unpadded base64url of `value`'s JSON.
///
/// # Panics
///
/// Never: a `Value` serialises.
#[must_use]
pub fn b64(value: &Value) -> String {
    Base64UrlUnpadded::encode_string(&serde_json::to_vec(value).expect("JSON"))
}

/// A compact JWS over `claims` with `header`, signed by `signer`.
///
/// # Panics
///
/// If the signer fails.
#[must_use]
pub fn signed(header: &Value, claims: &Value, signer: &dyn Signer) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let signature = signer.try_sign(input.as_bytes(), &OsRandom).expect("signs");
    format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature))
}

/// A compact JWS over `claims` with `header`, MACed with `key`.
#[must_use]
pub fn maced(header: &Value, claims: &Value, mac: MacAlgorithm, key: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let tag = mac.sign(key, input.as_bytes());
    format!("{input}.{}", Base64UrlUnpadded::encode_string(&tag))
}
