//! Shared fixtures for the fuzz targets: a fixed set of registered clients, a provider over the
//! memory store with a deterministic RNG, a manual clock and fast keyed-hash signers, a minimal
//! executor, and the checks every authorization response must pass.
//!
//! Nothing here is fit for production: the signers are **NOT SECURE, fuzzing only**.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use base64ct::{Base64UrlUnpadded, Encoding};
use oidc_hybrid::jose::CompactJws;
use oidc_hybrid::response::FORM_POST_SCRIPT;
use oidc_hybrid::{
    AuthorizationResponse, Claims, ClaimsSource, Client, ClientMetadata, Clock, Config, Jwk,
    JwsAlgorithm, Provider, RandomError, ResponseMode, SecureRandom, SignError, Signer, Subject,
    UnixTime,
};
use oidc_hybrid_memory::MemoryStore;
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// The issuer of the fuzzed provider.
pub const ISSUER: &str = "https://op.example";
/// The secret of every confidential fixture client: 42 characters, with characters that must
/// be form-urlencoded inside a Basic header.
pub const SECRET: &str = "s3cr:t+with%special&chars=and-more-than-32";
/// The time the clock starts at.
pub const START: u64 = 1_800_000_000;

/// A keyed-hash "signature": SHA-256 over a fixed key, the algorithm name and the input.
///
/// **NOT SECURE, fuzzing only.** It claims whatever JWS algorithm it is given so that hash
/// claims for SHA-256, SHA-384 and SHA-512 are all exercised, and it is fast enough that a
/// flow-sequence run spends its time in the protocol code rather than in RSA.
#[derive(Debug)]
pub struct InsecureHashSigner {
    alg: JwsAlgorithm,
    kid: String,
    key: [u8; 32],
}

impl InsecureHashSigner {
    /// A signer for `alg` with key id `kid`. NOT SECURE, fuzzing only.
    #[must_use]
    pub fn new(alg: JwsAlgorithm, kid: &str) -> Self {
        let key: [u8; 32] = Sha256::digest(format!("fuzz-key-{kid}").as_bytes()).into();
        Self {
            alg,
            kid: kid.into(),
            key,
        }
    }

    fn mac(&self, input: &[u8]) -> Vec<u8> {
        let mut hasher = Sha256::new();
        hasher.update(self.key);
        hasher.update(self.alg.as_str().as_bytes());
        hasher.update([0u8]);
        hasher.update(input);
        hasher.finalize().to_vec()
    }
}

impl Signer for InsecureHashSigner {
    fn algorithm(&self) -> JwsAlgorithm {
        self.alg
    }

    fn key_id(&self) -> &str {
        &self.kid
    }

    fn try_sign(&self, input: &[u8], _rng: &dyn SecureRandom) -> Result<Vec<u8>, SignError> {
        Ok(self.mac(input))
    }

    fn verify(&self, input: &[u8], signature: &[u8]) -> Result<(), SignError> {
        if self.mac(input) == signature {
            Ok(())
        } else {
            Err(SignError::new())
        }
    }

    fn public_jwk(&self) -> Jwk {
        // A placeholder: the keyed hash has no public half.
        let filler = Base64UrlUnpadded::encode_string(&[0u8; 32]);
        Jwk::ec_p256(&self.kid, self.alg, filler.clone(), filler)
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

/// A clock moved by hand; clones share the time.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock at `secs`.
    #[must_use]
    pub fn at(secs: u64) -> Self {
        Self(Arc::new(AtomicU64::new(secs)))
    }

    /// Moves the clock forward (saturating).
    pub fn advance(&self, secs: u64) {
        let now = self.0.load(Ordering::SeqCst);
        self.0.store(now.saturating_add(secs), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        UnixTime::from_secs(self.0.load(Ordering::SeqCst))
    }
}

/// One user directory entry per subject.
#[derive(Clone, Copy, Debug, Default)]
pub struct Directory;

impl ClaimsSource for Directory {
    type Error = std::convert::Infallible;

    async fn claims(&self, subject: &Subject) -> Result<Option<Claims>, Self::Error> {
        let Value::Object(claims) = json!({
            "name": format!("User {subject}"),
            "email": format!("{subject}@example.org"),
            "email_verified": true,
            "phone_number": "+44 1865 000000",
        }) else {
            return Ok(None);
        };
        Ok(Some(claims))
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
    client_metadata()
        .into_iter()
        .map(|metadata| {
            let metadata: ClientMetadata =
                serde_json::from_value(metadata).expect("fixture metadata parses");
            Client::register(metadata).expect("fixture registers")
        })
        .collect()
}

/// The fuzzed provider type.
pub type FuzzProvider = Provider<MemoryStore, ManualClock, DeterministicRng>;

/// A provider over a fresh memory store with the fixture clients, the hash signers, a
/// deterministic RNG seeded with `seed` and `clock`.
///
/// # Panics
///
/// If the fixture configuration is invalid.
#[must_use]
pub fn provider(clock: ManualClock, seed: u64) -> FuzzProvider {
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

/// `Authorization: Basic` for `client_id` and `secret`, form-urlencoded first (RFC 6749 §2.3.1).
#[must_use]
pub fn basic(client_id: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        base64ct::Base64::encode_string(format!("{}:{}", enc(client_id), enc(secret)).as_bytes())
    )
}

/// Form-urlencodes pairs.
#[must_use]
pub fn form<N: AsRef<str>, V: AsRef<str>>(pairs: &[(N, V)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        serializer.append_pair(k.as_ref(), v.as_ref());
    }
    serializer.finish()
}

/// Whether `text` is a safe `error_description`: non-empty printable ASCII without `"` or `\`
/// (RFC 6749 §4.1.2.1).
#[must_use]
pub fn safe_description(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
}

/// Undoes the HTML escaping of the form_post page.
#[must_use]
pub fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#96;", "`")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attr_after(html: &str, prefix: &str) -> Option<String> {
    let start = html.find(prefix)? + prefix.len();
    let end = html[start..].find('"')? + start;
    Some(html_unescape(&html[start..end]))
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
        ResponseMode::Query => {
            assert!(
                response.param("access_token").is_none() && response.param("id_token").is_none(),
                "tokens in the query"
            );
            let location = response.location().expect("query mode has a Location");
            assert!(location.starts_with(target));
            let rest = &location[target.len()..];
            if !expected.is_empty() {
                let sep = if target.contains('?') { '&' } else { '?' };
                let encoded = rest.strip_prefix(sep).expect("separator after the URI");
                let decoded: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes())
                    .into_owned()
                    .collect();
                assert_eq!(decoded, expected, "query round trip");
            }
        }
        ResponseMode::Fragment => {
            let location = response.location().expect("fragment mode has a Location");
            let (base, encoded) = location.split_once('#').expect("a fragment");
            assert_eq!(base, target, "the fragment follows the URI unchanged");
            let decoded: Vec<(String, String)> = form_urlencoded::parse(encoded.as_bytes())
                .into_owned()
                .collect();
            assert_eq!(decoded, expected, "fragment round trip");
        }
        ResponseMode::FormPost => {
            assert!(response.location().is_none());
            let html = response.form_post_html();
            let lower = html.to_ascii_lowercase();
            assert_eq!(lower.matches("<script").count(), 1, "one script only");
            assert!(html.contains(&format!("<script>{FORM_POST_SCRIPT}</script>")));
            assert_eq!(
                attr_after(&html, "<form method=\"post\" action=\"").as_deref(),
                Some(target),
                "form action"
            );
            let mut decoded = Vec::new();
            let mut rest = html.as_str();
            while let Some(i) = rest.find("<input type=\"hidden\" name=\"") {
                rest = &rest[i..];
                let name = attr_after(rest, "name=\"").expect("input name");
                let value = attr_after(rest, "value=\"").expect("input value");
                decoded.push((name, value));
                rest = &rest[1..];
            }
            assert_eq!(decoded, expected, "form_post round trip");
        }
        _ => {}
    }
}

/// An RP's independent hash-claim computation: the digest named by the JWS `alg`'s size,
/// left half, base64url (OIDC Core §3.3.2.11).
///
/// # Panics
///
/// For an `alg` outside the ES/RS/PS families.
#[must_use]
pub fn rp_hash(alg: &str, value: &str) -> String {
    let digest: Vec<u8> = match alg.get(2..) {
        Some("256") => Sha256::digest(value.as_bytes()).to_vec(),
        Some("384") => Sha384::digest(value.as_bytes()).to_vec(),
        Some("512") => Sha512::digest(value.as_bytes()).to_vec(),
        _ => panic!("unexpected alg {alg}"),
    };
    Base64UrlUnpadded::encode_string(&digest[..digest.len() / 2])
}

/// What an issued ID token must say.
#[derive(Debug, Default)]
pub struct IdTokenExpect<'a> {
    /// `aud` and `azp`.
    pub client_id: &'a str,
    /// `sub`.
    pub subject: Option<&'a str>,
    /// `nonce` (exactly; `None`: absent).
    pub nonce: Option<&'a str>,
    /// The code returned with it (`c_hash`; `None`: no `c_hash`).
    pub code: Option<&'a str>,
    /// The access token returned with it (`at_hash`; `None`: no `at_hash`).
    pub access_token: Option<&'a str>,
    /// The state it covers (`s_hash`; `None`: no `s_hash`).
    pub state: Option<&'a str>,
    /// The algorithm the client registered.
    pub alg: Option<JwsAlgorithm>,
}

/// Verifies an ID token with the hash signers and checks its claims and hash claims against an
/// independent recomputation. Returns the claims.
///
/// # Panics
///
/// On any mismatch.
pub fn check_id_token(
    id_token: &str,
    signers: &[InsecureHashSigner],
    expect: &IdTokenExpect<'_>,
) -> Value {
    let jws = CompactJws::parse(id_token).expect("ID token parses");
    jws.verify_with(signers.iter().map(|s| s as &dyn Signer))
        .expect("ID token verifies with our key");
    let alg = jws.header.alg.as_str();
    if let Some(expected) = expect.alg {
        assert_eq!(alg, expected.as_str(), "registered alg");
    }
    assert_eq!(jws.header.typ.as_deref(), Some("JWT"));
    let claims: Value = serde_json::from_slice(&jws.payload).expect("claims are JSON");
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], expect.client_id);
    assert_eq!(claims["azp"], expect.client_id);
    if let Some(sub) = expect.subject {
        assert_eq!(claims["sub"], sub);
    }
    let text = |name: &str| {
        claims
            .get(name)
            .map(|v| v.as_str().expect("a string claim"))
    };
    assert_eq!(text("nonce"), expect.nonce, "nonce");
    let hash = |value: Option<&str>| value.map(|v| rp_hash(alg, v));
    assert_eq!(
        text("c_hash").map(String::from),
        hash(expect.code),
        "c_hash"
    );
    assert_eq!(
        text("at_hash").map(String::from),
        hash(expect.access_token),
        "at_hash"
    );
    assert_eq!(
        text("s_hash").map(String::from),
        hash(expect.state),
        "s_hash"
    );
    claims
}
