//! Compact JWS / JWT parsing and verification (`id_token_hint`, client assertions):
//! `jose::CompactJws::parse` + `verify_with` against the fuzzing keys and the committed test
//! keys, and the RustCrypto adapter's `PublicKey::verify_compact` (ES256, RS256, PS256).
//!
//! Invariants: no panic; anything that parses is at most `MAX_JWS_LEN` bytes of three parts
//! whose signing input is a prefix of the input; nothing verifies unless one of our keys made it
//! (the fuzzer has no key), except the unchanged committed seeds, which must keep verifying.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use oidc_hybrid::jose::{CompactJws, MAX_JWS_LEN};
use oidc_hybrid::{JwsAlgorithm, Signer};
use oidc_hybrid_fuzz::{InsecureHashSigner, hash_signers};
use oidc_hybrid_rustcrypto::{Es256Signer, MAX_COMPACT_JWS_LEN, PublicKey, RsaSigner};

const ES256_PEM: &str = include_str!("../../tests/keys/es256.pem");
const RS256_PEM: &str = include_str!("../../tests/keys/rs256.pem");

struct Keys {
    hash: Vec<InsecureHashSigner>,
    es256: Es256Signer,
    rs256: RsaSigner,
    public: Vec<PublicKey>,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let es256 = Es256Signer::from_pkcs8_pem(ES256_PEM, Some("es-1")).expect("test key");
        let rs256 =
            RsaSigner::from_pkcs8_pem(RS256_PEM, JwsAlgorithm::RS256, Some("rs-1")).expect("key");
        let public = vec![
            es256.public_key(),
            rs256.public_key(),
            PublicKey::from_jwk(&es256.public_jwk()).expect("JWK"),
            PublicKey::from_jwk(&rs256.public_jwk()).expect("JWK"),
        ];
        Keys {
            hash: hash_signers(),
            es256,
            rs256,
            public,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(jws) = std::str::from_utf8(data) else {
        return;
    };
    let keys = keys();
    if let Ok(parsed) = CompactJws::parse(jws) {
        assert!(jws.len() <= MAX_JWS_LEN);
        assert_eq!(jws.split('.').count(), 3);
        assert!(jws.starts_with(parsed.signing_input));
        assert_eq!(
            parsed.signing_input.len(),
            jws.rfind('.').expect("three parts")
        );
        assert!(parsed.header.crit.is_none());
        let mut signers: Vec<&dyn Signer> = keys.hash.iter().map(|s| s as &dyn Signer).collect();
        signers.push(&keys.es256);
        signers.push(&keys.rs256);
        if parsed.verify_with(signers.iter().copied()).is_ok() {
            let alg = JwsAlgorithm::from_name(&parsed.header.alg).expect("a known alg verified");
            let kid = parsed.header.kid.as_deref().expect("a kid verified");
            assert!(
                signers
                    .iter()
                    .any(|s| s.algorithm() == alg && s.key_id() == kid)
            );
        }
    }
    let allowed = [
        JwsAlgorithm::ES256,
        JwsAlgorithm::RS256,
        JwsAlgorithm::PS256,
    ];
    for key in &keys.public {
        if let Ok(payload) = key.verify_compact(&allowed, jws) {
            assert!(jws.len() <= MAX_COMPACT_JWS_LEN);
            // Whatever the adapter accepts, the core parser reads the same payload.
            let parsed = CompactJws::parse(jws).expect("core parses what the adapter verified");
            assert_eq!(parsed.payload, payload);
        }
        // Only the listed algorithms, never a header-chosen one.
        assert!(key.verify_compact(&[], jws).is_err());
    }
});
