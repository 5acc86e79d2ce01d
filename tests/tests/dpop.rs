//! DPoP proofs (RFC 9449 §4.3) signed by real keys and checked by both verifiers: the accepted
//! proof and every refusal, the single-use `jti`, server nonces, and `htu` normalisation as a
//! property.

use base64ct::{Base64UrlUnpadded, Encoding};
use oidc_hybrid::config::NonceKey;
use oidc_hybrid::dpop::{
    DpopProof, ProofContext, ProofTarget, access_token_hash, fresh_nonce, jti_namespace, same_htu,
};
use oidc_hybrid::{Config, JwsVerifier, Reject, Signer, Storage, UnixTime};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::{Es256Signer, OsRandom};
use oidc_hybrid_tests::block_on;
use oidc_hybrid_tests::jwt::b64;
use proptest::prelude::*;
use serde_json::{Value, json};

const NOW: u64 = 1_800_000_000;
const TOKEN_URI: &str = "https://op.example/token";

fn key() -> Es256Signer {
    Es256Signer::generate(&OsRandom, Some("dpop")).expect("key")
}

fn public_jwk(key: &Es256Signer) -> Value {
    let mut jwk = serde_json::to_value(key.public_jwk()).expect("JWK");
    let object = jwk.as_object_mut().expect("object");
    for member in ["kid", "use", "alg"] {
        object.remove(member);
    }
    jwk
}

fn proof_with(key: &Es256Signer, header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let signature = key.try_sign(input.as_bytes(), &OsRandom).expect("signs");
    format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature))
}

fn header(key: &Es256Signer) -> Value {
    json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": public_jwk(key)})
}

fn claims(jti: &str) -> Value {
    json!({"jti": jti, "htm": "POST", "htu": TOKEN_URI, "iat": NOW})
}

fn check(
    proof: &str,
    target: &ProofTarget<'_>,
    config: &Config,
    verifier: &dyn JwsVerifier,
) -> Result<String, Reject> {
    let context = ProofContext {
        now: UnixTime::from_secs(NOW),
        config,
        verifier: Some(verifier),
    };
    let checked = DpopProof::parse(proof)?.verify(target, &context)?;
    Ok(checked.jti().to_string())
}

fn token_target() -> ProofTarget<'static> {
    ProofTarget {
        method: "POST",
        uri: TOKEN_URI,
        access_token: None,
    }
}

fn verifiers() -> [Box<dyn JwsVerifier>; 2] {
    [
        Box::new(oidc_hybrid_rustcrypto::ClientKeyVerifier),
        Box::new(oidc_hybrid_ring::ClientKeyVerifier),
    ]
}

/// A proof for the request verifies with either verifier, and its key's thumbprint is what a
/// token would be bound to (RFC 7638).
#[test]
fn a_proof_for_the_request_verifies() {
    let key = key();
    let config = Config::new("https://op.example").expect("issuer");
    let proof = proof_with(&key, &header(&key), &claims("p1"));
    for verifier in verifiers() {
        check(&proof, &token_target(), &config, verifier.as_ref()).expect("verifies");
    }
    let parsed = DpopProof::parse(&proof).expect("parses");
    assert_eq!(
        parsed.jkt().as_deref(),
        key.public_jwk().thumbprint().as_deref()
    );
    // With the query and a default port the request URI is the same (RFC 9449 §4.3 step 9).
    let target = ProofTarget {
        uri: "https://op.example:443/token?x=1",
        ..token_target()
    };
    check(
        &proof,
        &target,
        &config,
        &oidc_hybrid_ring::ClientKeyVerifier,
    )
    .expect("same htu");
}

/// Every rule of RFC 9449 §4.3, each refusing.
#[test]
fn proof_rules_each_refuse() {
    let key = key();
    let other = Es256Signer::generate(&OsRandom, Some("other")).expect("key");
    let config = Config::new("https://op.example").expect("issuer");
    let with_claim = |name: &str, value: Value| {
        let mut c = claims("x");
        c[name] = value;
        proof_with(&key, &header(&key), &c)
    };
    let with_header = |name: &str, value: Value| {
        let mut h = header(&key);
        h[name] = value;
        proof_with(&key, &h, &claims("x"))
    };
    let mut private = header(&key);
    private["jwk"]["d"] = json!("AAAA");
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"typ": "dpop+jwt", "alg": "none", "jwk": public_jwk(&key)})),
        b64(&claims("x"))
    );
    let cases = [
        ("wrong method", with_claim("htm", json!("GET"))),
        (
            "wrong URI",
            with_claim("htu", json!("https://op.example/userinfo")),
        ),
        (
            "another host",
            with_claim("htu", json!("https://evil.example/token")),
        ),
        ("stale iat", with_claim("iat", json!(NOW - 61))),
        ("future iat", with_claim("iat", json!(NOW + 61))),
        ("no jti", {
            let mut c = claims("x");
            c.as_object_mut().expect("object").remove("jti");
            proof_with(&key, &header(&key), &c)
        }),
        ("typ JWT", with_header("typ", json!("JWT"))),
        ("no jwk", {
            let mut h = header(&key);
            h.as_object_mut().expect("object").remove("jwk");
            proof_with(&key, &h, &claims("x"))
        }),
        ("another key's jwk", with_header("jwk", public_jwk(&other))),
        ("private jwk", proof_with(&key, &private, &claims("x"))),
        ("alg none", unsigned),
        ("HMAC alg", with_header("alg", json!("HS256"))),
        ("RSA alg for an EC key", with_header("alg", json!("RS256"))),
        ("not a JWT", "not-a-jwt".into()),
    ];
    for (what, proof) in cases {
        for verifier in verifiers() {
            assert_eq!(
                check(&proof, &token_target(), &config, verifier.as_ref()),
                Err(Reject::DpopProofInvalid),
                "{what}"
            );
        }
    }
    assert_eq!(
        Reject::DpopProofInvalid.code().as_str(),
        "invalid_dpop_proof"
    );
}

/// At a protected resource the proof carries `ath`, the hash of the access token (§4.2).
#[test]
fn resource_requests_need_the_access_token_hash() {
    let key = key();
    let config = Config::new("https://op.example").expect("issuer");
    let uri = "https://op.example/userinfo";
    let target = ProofTarget {
        method: "GET",
        uri,
        access_token: Some("the-access-token"),
    };
    let base = json!({"jti": "r1", "htm": "GET", "htu": uri, "iat": NOW});
    let verifier = oidc_hybrid_ring::ClientKeyVerifier;
    let missing = proof_with(&key, &header(&key), &base);
    assert_eq!(
        check(&missing, &target, &config, &verifier),
        Err(Reject::DpopProofInvalid)
    );
    let mut wrong = base.clone();
    wrong["ath"] = json!(access_token_hash("another-token"));
    let wrong = proof_with(&key, &header(&key), &wrong);
    assert_eq!(
        check(&wrong, &target, &config, &verifier),
        Err(Reject::DpopProofInvalid)
    );
    let mut right = base;
    right["ath"] = json!(access_token_hash("the-access-token"));
    let right = proof_with(&key, &header(&key), &right);
    check(&right, &target, &config, &verifier).expect("with ath");
}

/// With a nonce key configured, a proof must carry a current server nonce (§8); every node that
/// shares the key accepts it.
#[test]
fn server_nonces_are_demanded_when_configured() {
    let key = key();
    let mut config = Config::new("https://op.example").expect("issuer");
    config.dpop_nonce_key = Some(NonceKey::new([9; 32]));
    let verifier = oidc_hybrid_ring::ClientKeyVerifier;
    let without = proof_with(&key, &header(&key), &claims("n1"));
    assert_eq!(
        check(&without, &token_target(), &config, &verifier),
        Err(Reject::DpopNonceRequired)
    );
    assert_eq!(Reject::DpopNonceRequired.code().as_str(), "use_dpop_nonce");
    let nonce = fresh_nonce(&NonceKey::new([9; 32]), UnixTime::from_secs(NOW));
    let mut c = claims("n2");
    c["nonce"] = json!(nonce);
    let with = proof_with(&key, &header(&key), &c);
    check(&with, &token_target(), &config, &verifier).expect("current nonce");
    let mut c = claims("n3");
    c["nonce"] = json!(fresh_nonce(
        &NonceKey::new([1; 32]),
        UnixTime::from_secs(NOW)
    ));
    let foreign = proof_with(&key, &header(&key), &c);
    assert_eq!(
        check(&foreign, &token_target(), &config, &verifier),
        Err(Reject::DpopNonceRequired)
    );
}

/// A proof is single use across nodes: its `jti` (under its key's thumbprint) goes through the
/// store's test-and-set, and of many simultaneous uses one wins.
#[test]
fn proofs_are_single_use() {
    let key = key();
    let config = Config::new("https://op.example").expect("issuer");
    let proof = proof_with(&key, &header(&key), &claims("once"));
    let context = ProofContext {
        now: UnixTime::from_secs(NOW),
        config: &config,
        verifier: Some(&oidc_hybrid_ring::ClientKeyVerifier),
    };
    let store = MemoryStore::new();
    let now = UnixTime::from_secs(NOW);
    let results: Vec<Result<(), Reject>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                scope.spawn(|| {
                    let check = DpopProof::parse(&proof)?.verify(&token_target(), &context)?;
                    let fresh = block_on(store.record_jti(
                        &jti_namespace(),
                        check.jti(),
                        check.until(),
                        now,
                    ))
                    .expect("memory store");
                    check.recorded(fresh).map(|_| ())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter_map(|r| r.err())
            .all(|e| e == Reject::DpopProofReplayed)
    );
}

proptest! {
    /// `htu` comparison ignores what RFC 3986 §6.2.2–6.2.3 normalisation ignores — the case of
    /// scheme and host, a default port, the query, dot segments, percent-encoded unreserved
    /// characters — and nothing else: another path never matches.
    #[test]
    fn htu_equivalence(
        host in "[a-z][a-z0-9]{0,10}(\\.[a-z]{2,5}){1,2}",
        segments in prop::collection::vec("[a-zA-Z0-9_~-]{1,8}", 1..4),
        upper_scheme in any::<bool>(),
        upper_host in any::<bool>(),
        port in any::<bool>(),
        dot in any::<bool>(),
        query in "[a-z0-9=&]{0,10}",
        other in "[a-zA-Z0-9]{1,8}",
    ) {
        let path = segments.join("/");
        let canonical = format!("https://{host}/{path}");
        let scheme = if upper_scheme { "HTTPS" } else { "https" };
        let shown_host = if upper_host { host.to_ascii_uppercase() } else { host.clone() };
        let port = if port { ":443" } else { "" };
        let dotted = if dot { format!("x/../{path}") } else { path.clone() };
        let first = segments[0].as_bytes()[0];
        let encoded = format!("%{first:02x}{}", &dotted[1..]);
        let variant = format!("{scheme}://{shown_host}{port}/{encoded}?{query}");
        prop_assert!(same_htu(&variant, &canonical), "{variant} ~ {canonical}");
        let different = format!("https://{host}/{path}/{other}");
        prop_assert!(!same_htu(&different, &canonical));
        let other_host = format!("https://{host}.evil/{path}");
        prop_assert!(!same_htu(&other_host, &canonical));
    }
}
