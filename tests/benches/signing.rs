//! The cost of one ID-token signature and one verification, per algorithm and per signer
//! implementation: `oidc-hybrid-rustcrypto` (pure Rust, `no_std`) against `oidc-hybrid-ring`.
//!
//! ```text
//! cargo bench -p oidc-hybrid-tests --bench signing -- --quick
//! ```
//!
//! Bench ids, with `ALG` one of `ES256`, `RS256`, `PS256` and `X` one of `rustcrypto`, `ring`:
//!
//! - `sign/ALG/X`: one `Signer::try_sign` over the signing input of a realistic ID token
//!   (`base64url(header) "." base64url(payload)`, about 450 bytes: `iss`, `sub`, `aud`, `exp`,
//!   `iat`, `auth_time`, `nonce`, `acr`, `amr`, `azp`, `c_hash`, `at_hash`);
//! - `verify/ALG/X`: one `Signer::verify` of a signature over the same input.
//!
//! The keys are the committed test keys of `tests/keys/` (P-256 and RSA-2048), loaded once by
//! both implementations. Before timing, every signature is checked to verify with both
//! implementations, so the benches time valid work only.

use core::hint::black_box;

use base64ct::{Base64UrlUnpadded, Encoding};
use criterion::{Criterion, criterion_group, criterion_main};
use oidc_hybrid::{JwsAlgorithm, Signer};
use oidc_hybrid_rustcrypto::OsRandom;
use oidc_hybrid_tests::{ES256_PEM, RS256_PEM};
use serde_json::json;

const ALGORITHMS: [JwsAlgorithm; 3] = [
    JwsAlgorithm::ES256,
    JwsAlgorithm::RS256,
    JwsAlgorithm::PS256,
];

/// The two implementations of one algorithm, holding the same key: `(name, signer)`.
fn signers(alg: JwsAlgorithm) -> [(&'static str, Box<dyn Signer>); 2] {
    let kid = Some("bench-1");
    match alg {
        JwsAlgorithm::ES256 => [
            (
                "rustcrypto",
                Box::new(
                    oidc_hybrid_rustcrypto::Es256Signer::from_pkcs8_pem(ES256_PEM, kid)
                        .expect("test key loads"),
                ),
            ),
            (
                "ring",
                Box::new(
                    oidc_hybrid_ring::Es256Signer::from_pkcs8_pem(ES256_PEM, kid)
                        .expect("test key loads"),
                ),
            ),
        ],
        _ => [
            (
                "rustcrypto",
                Box::new(
                    oidc_hybrid_rustcrypto::RsaSigner::from_pkcs8_pem(RS256_PEM, alg, kid)
                        .expect("test key loads"),
                ),
            ),
            (
                "ring",
                Box::new(
                    oidc_hybrid_ring::RsaSigner::from_pkcs8_pem(RS256_PEM, alg, kid)
                        .expect("test key loads"),
                ),
            ),
        ],
    }
}

/// The JWS signing input of a back-channel ID token of a `code id_token` flow.
fn signing_input(alg: JwsAlgorithm) -> Vec<u8> {
    let header = json!({ "alg": alg.as_str(), "kid": "bench-1", "typ": "JWT" });
    let claims = json!({
        "iss": "https://op.example",
        "sub": "248289761001",
        "aud": "s6BhdRkqt3",
        "exp": 1_800_000_600_u64,
        "iat": 1_800_000_000_u64,
        "auth_time": 1_799_999_940_u64,
        "nonce": "n-0S6_WzA2Mj",
        "acr": "urn:example:loa:1",
        "amr": ["pwd"],
        "azp": "s6BhdRkqt3",
        "c_hash": "LDktKdoQak3Pk0cnXxCltA",
        "at_hash": "77QmUPtjPfzWtF2AnpK9RQ",
    });
    let encode = |value: &serde_json::Value| {
        Base64UrlUnpadded::encode_string(&serde_json::to_vec(value).expect("JSON serialises"))
    };
    format!("{}.{}", encode(&header), encode(&claims)).into_bytes()
}

fn benches(c: &mut Criterion) {
    for alg in ALGORITHMS {
        let input = signing_input(alg);
        assert!((400..=500).contains(&input.len()), "{}", input.len());
        let signers = signers(alg);

        // Each implementation's signature verifies with both implementations.
        let signatures: Vec<Vec<u8>> = signers
            .iter()
            .map(|(_, signer)| signer.try_sign(&input, &OsRandom).expect("signs"))
            .collect();
        for signature in &signatures {
            for (name, signer) in &signers {
                assert_eq!(signer.verify(&input, signature), Ok(()), "{alg}/{name}");
            }
        }

        for ((name, signer), signature) in signers.iter().zip(&signatures) {
            c.bench_function(&format!("sign/{alg}/{name}"), |b| {
                b.iter(|| {
                    signer
                        .try_sign(black_box(&input), &OsRandom)
                        .expect("signs")
                });
            });
            c.bench_function(&format!("verify/{alg}/{name}"), |b| {
                b.iter(|| {
                    signer
                        .verify(black_box(&input), black_box(signature))
                        .expect("verifies");
                });
            });
        }
    }
}

criterion_group!(signing, benches);
criterion_main!(signing);
