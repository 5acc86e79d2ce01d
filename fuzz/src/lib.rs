//! Shared fixtures for the fuzz targets: a fixed set of registered clients, a provider over the
//! memory store with a deterministic RNG, the testkit's test clock and fast keyed-hash signers, a
//! minimal executor, and the checks every authorization response and ID token must pass (with
//! the relying party's side of `oidc-hybrid-testkit`).
//!
//! Nothing here is fit for production: the signers are **NOT SECURE, fuzzing only**.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use base64ct::{Base64UrlUnpadded, Encoding};
use oidc_hybrid::response::FORM_POST_SCRIPT;
use oidc_hybrid::signer::JwkKey;
use oidc_hybrid::{
    AuthorizationResponse, Client, Config, Jwk, JwsAlgorithm, Provider, RandomError, ResponseMode,
    SecureRandom, SignError, Signer,
};
use oidc_hybrid_memory::MemoryStore;
pub use oidc_hybrid_testkit::TestClock;
pub use oidc_hybrid_testkit::fixtures::Directory;
use oidc_hybrid_testkit::fixtures::client;
use oidc_hybrid_testkit::rp::{Delivered, IdTokenRules};
pub use oidc_hybrid_testkit::rp::{basic, form, safe_description};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The issuer of the fuzzed provider.
pub const ISSUER: &str = "https://op.example";
/// The secret of every confidential fixture client: 42 characters, with characters that must
/// be form-urlencoded inside a Basic header.
pub const SECRET: &str = "s3cr:t+with%special&chars=and-more-than-32";
/// The time the clock starts at.
pub const START: u64 = 1_800_000_000;
/// The token endpoint DPoP proofs are checked against (RFC 9449 §4.3 step 9).
pub const DPOP_TOKEN_URI: &str = "https://op.example/token";
/// The resource DPoP proofs are checked against with an access token (`ath`, §4.3 step 12).
pub const DPOP_RESOURCE_URI: &str = "https://op.example/userinfo";
/// The access token presented at [`DPOP_RESOURCE_URI`].
pub const DPOP_ACCESS_TOKEN: &str = "fuzz-access-token";
/// The key of the server nonces of the configuration that demands them (§8).
pub const DPOP_NONCE_KEY: [u8; 32] = [7; 32];

/// A keyed-hash "signature": SHA-256 over a fixed key, the algorithm name and the input.
///
/// **NOT SECURE, fuzzing only.** It claims whatever JWS algorithm it is given so that hash
/// claims for SHA-256, SHA-384 and SHA-512 are all exercised, and it is fast enough that a
/// flow-sequence run spends its time in the protocol code rather than in RSA.
#[derive(Debug)]
pub struct InsecureHashSigner {
    jwk: Jwk,
    key: [u8; 32],
}

impl InsecureHashSigner {
    /// A signer for `alg` with key id `kid`. NOT SECURE, fuzzing only.
    #[must_use]
    pub fn new(alg: JwsAlgorithm, kid: &str) -> Self {
        let key: [u8; 32] = Sha256::digest(format!("fuzz-key-{kid}").as_bytes()).into();
        // A placeholder: the keyed hash has no public half.
        let filler = Base64UrlUnpadded::encode_string(&[0u8; 32]);
        let jwk = Jwk::ec_p256(kid, alg, filler.clone(), filler);
        Self { jwk, key }
    }

    fn mac(&self, input: &[u8]) -> Vec<u8> {
        let mut hasher = Sha256::new();
        hasher.update(self.key);
        hasher.update(self.jwk.alg.as_str().as_bytes());
        hasher.update([0u8]);
        hasher.update(input);
        hasher.finalize().to_vec()
    }
}

impl JwkKey for InsecureHashSigner {
    fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    fn sign_input(&self, input: &[u8], _rng: &dyn SecureRandom) -> Result<Vec<u8>, SignError> {
        Ok(self.mac(input))
    }

    fn verify_input(&self, input: &[u8], signature: &[u8]) -> Result<(), SignError> {
        if self.mac(input) == signature {
            Ok(())
        } else {
            Err(SignError::new())
        }
    }
}

/// The fuzzing signers: RS256 (required by the provider), ES256, ES384 and PS512, each an
/// [`InsecureHashSigner`]. NOT SECURE, fuzzing only.
#[must_use]
pub fn hash_signers() -> Vec<InsecureHashSigner> {
    vec![
        InsecureHashSigner::new(JwsAlgorithm::RS256, "fz-rs256"),
        InsecureHashSigner::new(JwsAlgorithm::ES256, "fz-es256"),
        InsecureHashSigner::new(JwsAlgorithm::ES384, "fz-es384"),
        InsecureHashSigner::new(JwsAlgorithm::PS512, "fz-ps512"),
    ]
}

/// A deterministic generator (SplitMix64). NOT SECURE, fuzzing only: it makes every run of a
/// fuzz input reproducible.
#[derive(Debug, Default)]
pub struct DeterministicRng(AtomicU64);

impl DeterministicRng {
    /// A generator seeded with `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(AtomicU64::new(seed))
    }

    fn next(&self) -> u64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl SecureRandom for DeterministicRng {
    fn try_fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

/// Polls a future that the memory store completes at once. A tiny executor: no runtime.
///
/// # Panics
///
/// If the future is still pending after a few polls (an await that does not come from the
/// memory store).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..64 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("a provider future did not complete: only ready futures are expected");
}

/// How a fixture client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Auth {
    /// `client_secret_basic`.
    Basic,
    /// `client_secret_post`.
    Post,
    /// `none` (public client).
    Public,
}

/// A fixture client: its id, how it authenticates, and its registration JSON.
#[derive(Clone, Copy, Debug)]
pub struct Fixture {
    /// The client id.
    pub id: &'static str,
    /// Its token endpoint authentication method.
    pub auth: Auth,
}

/// The fixture clients, in the order [`clients`] returns them.
pub const FIXTURES: [Fixture; 5] = [
    Fixture {
        id: "rs-basic",
        auth: Auth::Basic,
    },
    Fixture {
        id: "es-post",
        auth: Auth::Post,
    },
    Fixture {
        id: "default",
        auth: Auth::Basic,
    },
    Fixture {
        id: "native",
        auth: Auth::Public,
    },
    Fixture {
        id: "ps-512",
        auth: Auth::Post,
    },
];

/// The registration metadata of the fixture clients.
#[must_use]
pub fn client_metadata() -> Vec<Value> {
    let all = ["code", "code id_token", "code token", "code id_token token"];
    vec![
        json!({
            "client_id": "rs-basic",
            "client_secret": SECRET,
            "redirect_uris": ["https://rp.example/cb", "https://rp.example/cb?tenant=7"],
            "response_types": all,
            "grant_types": ["authorization_code", "implicit", "refresh_token"],
        }),
        json!({
            "client_id": "es-post",
            "client_secret": SECRET,
            "redirect_uris": ["https://rp.example/cb"],
            "response_types": all,
            "grant_types": ["authorization_code", "implicit", "refresh_token"],
            "token_endpoint_auth_method": "client_secret_post",
            "id_token_signed_response_alg": "ES256",
            "id_token_s_hash": true,
        }),
        json!({
            "client_id": "default",
            "client_secret": SECRET,
            "redirect_uris": ["https://rp.example/cb", "http://localhost:8080/cb"],
            "scope": "openid profile email",
            "id_token_signed_response_alg": "ES384",
        }),
        json!({
            "client_id": "native",
            "redirect_uris": ["http://127.0.0.1/cb", "http://[::1]:8000/cb", "com.example.app:/oauth"],
            "application_type": "native",
            "token_endpoint_auth_method": "none",
            "response_types": ["code", "code id_token"],
        }),
        json!({
            "client_id": "ps-512",
            "client_secret": SECRET,
            "redirect_uris": ["https://ps.example/cb/"],
            "response_types": all,
            "grant_types": ["authorization_code", "implicit", "refresh_token"],
            "token_endpoint_auth_method": "client_secret_post",
            "id_token_signed_response_alg": "PS512",
            "require_pkce": true,
        }),
    ]
}

/// The fixture clients, registered.
///
/// # Panics
///
/// If a fixture does not register (the fixture is wrong).
#[must_use]
pub fn clients() -> Vec<Client> {
    client_metadata().into_iter().map(client).collect()
}

/// The fuzzed provider type.
pub type FuzzProvider = Provider<MemoryStore, TestClock, DeterministicRng>;

/// A provider over a fresh memory store with the fixture clients, the hash signers, a
/// deterministic RNG seeded with `seed` and `clock`.
///
/// # Panics
///
/// If the fixture configuration is invalid.
#[must_use]
pub fn provider(clock: TestClock, seed: u64) -> FuzzProvider {
    let keys: Vec<Box<dyn Signer>> = hash_signers()
        .into_iter()
        .map(|s| Box::new(s) as Box<dyn Signer>)
        .collect();
    let config = Config::new(ISSUER).expect("valid issuer");
    Provider::new(
        config,
        MemoryStore::with_clients(clients()),
        keys,
        clock,
        DeterministicRng::new(seed),
    )
    .expect("valid provider")
}

/// The checks every authorization response (success or error) must pass:
///
/// - it goes to a URI registered by `client` (exact match, loopback port only for native apps);
/// - each parameter name appears once; an `error_description` is safe text;
/// - tokens never travel in the query;
/// - rendering and decoding it as the client would gives back exactly its parameters, and the
///   form_post page carries no script but the submit script.
///
/// # Panics
///
/// On any violation.
pub fn check_response(response: &AuthorizationResponse, client: &Client) {
    let target = response.redirect_uri().as_str();
    assert!(
        client.match_redirect_uri(target).is_some(),
        "response to an unregistered redirect URI {target:?} for {}",
        client.id()
    );
    let params = response.params();
    for (i, (name, _)) in params.iter().enumerate() {
        assert!(
            params[..i].iter().all(|(n, _)| n != name),
            "parameter {name} twice"
        );
    }
    if let Some(description) = response.param("error_description") {
        assert!(
            safe_description(description),
            "unsafe error_description {description:?}"
        );
    }
    if response.is_error() {
        assert!(response.param("code").is_none());
        assert!(response.param("access_token").is_none());
        assert!(response.param("id_token").is_none());
    }
    let expected: Vec<(String, String)> = params
        .iter()
        .map(|(n, v)| ((*n).to_string(), v.clone()))
        .collect();
    match response.mode() {
        ResponseMode::Query => assert!(
            response.param("access_token").is_none() && response.param("id_token").is_none(),
            "tokens in the query"
        ),
        ResponseMode::FormPost => {
            let html = response.form_post_html();
            let lower = html.to_ascii_lowercase();
            assert_eq!(lower.matches("<script").count(), 1, "one script only");
            assert!(html.contains(&format!("<script>{FORM_POST_SCRIPT}</script>")));
        }
        _ => {}
    }
    // Decoded as the client receives it: the fragment after the URI unchanged, the query after
    // the URI (and its own query), or the form_post page's form posting to the URI.
    let delivered = Delivered::from_response(response);
    assert_eq!(delivered.target, target, "delivered to the redirect URI");
    assert_eq!(delivered.pairs, expected, "round trip");
}

/// Checks an ID token as a relying party would, its signature verified with the hash signers:
/// header `typ`, `kid` and `alg`, `iss`, `aud`, `azp`, `sub`, `exp` and `iat` present, no `null`
/// claim, and whatever `rules` add (nonce, hash claims). Times are not checked: the fuzzed
/// clock may stand anywhere.
///
/// # Panics
///
/// On any failed check.
pub fn check_id_token(id_token: &str, signers: &[InsecureHashSigner], rules: &IdTokenRules<'_>) {
    let _claims = rules.validate(id_token, signers);
}
