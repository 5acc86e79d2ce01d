//! DPoP proofs (RFC 9449 §4): the `DPoP` header's value, parsed and, when it parses, verified
//! with the RustCrypto verifier at a fixed time against the token endpoint (`POST`) and a
//! resource (`GET` with an access token, so `ath` is required), under a configuration without
//! server nonces and one that demands them.
//!
//! Invariants: no panic; a refusal to parse is `DpopProofInvalid`, and nothing longer than
//! `MAX_PROOF_LEN` parses; a refusal to verify is `DpopProofInvalid`, or `DpopNonceRequired`
//! only where nonces are demanded; a verified proof has a key thumbprint (43 base64url
//! characters, RFC 7638 with SHA-256), its replay key (`jti`) is that thumbprint, `:` and a
//! non-empty `jti` — so that two keys' proofs never share one — its replay window ends after
//! now, a recorded replay is `DpopProofReplayed` and a fresh one yields the same thumbprint; no
//! proof verifies for both targets (their methods differ).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use oidc_hybrid::config::NonceKey;
use oidc_hybrid::dpop::{DpopProof, MAX_PROOF_LEN, ProofContext, ProofTarget};
use oidc_hybrid::{Config, Reject, UnixTime};
use oidc_hybrid_fuzz::{
    DPOP_ACCESS_TOKEN, DPOP_NONCE_KEY, DPOP_RESOURCE_URI, DPOP_TOKEN_URI, ISSUER, START,
};
use oidc_hybrid_rustcrypto::ClientKeyVerifier;

struct Fixture {
    plain: Config,
    nonces: Config,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let plain = Config::new(ISSUER).expect("issuer");
        let mut nonces = plain.clone();
        nonces.dpop_nonce_key = Some(NonceKey::new(DPOP_NONCE_KEY));
        Fixture { plain, nonces }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let proof = match DpopProof::parse(value) {
        Ok(proof) => proof,
        Err(reject) => {
            assert!(matches!(reject, Reject::DpopProofInvalid), "{reject:?}");
            return;
        }
    };
    assert!(value.len() <= MAX_PROOF_LEN);
    let fx = fixture();
    let verifier = ClientKeyVerifier;
    let targets = [
        ProofTarget::new(Some("POST"), DPOP_TOKEN_URI),
        ProofTarget {
            method: "GET",
            uri: DPOP_RESOURCE_URI,
            access_token: Some(DPOP_ACCESS_TOKEN),
        },
    ];
    for (config, nonces) in [(&fx.plain, false), (&fx.nonces, true)] {
        let context = ProofContext {
            now: UnixTime::from_secs(START),
            config,
            verifier: Some(&verifier),
        };
        let mut verified = 0;
        for target in &targets {
            match proof.verify(target, &context) {
                Ok(check) => {
                    verified += 1;
                    check_verified(&proof, target, &context, check);
                }
                Err(Reject::DpopProofInvalid) => {}
                Err(Reject::DpopNonceRequired) => assert!(nonces, "nonce demanded without a key"),
                Err(other) => panic!("unexpected refusal {other:?}"),
            }
        }
        assert!(verified <= 1, "one proof verified for two methods");
    }
});

fn check_verified(
    proof: &DpopProof,
    target: &ProofTarget<'_>,
    context: &ProofContext<'_>,
    check: oidc_hybrid::dpop::ProofReplayCheck,
) {
    let jkt = proof
        .jkt()
        .expect("a verified proof's key has a thumbprint");
    assert_eq!(jkt.len(), 43, "SHA-256 thumbprint in base64url: {jkt}");
    assert!(
        jkt.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let jti = check
        .jti()
        .strip_prefix(jkt.as_str())
        .and_then(|rest| rest.strip_prefix(':'))
        .expect("the replay key is namespaced by the thumbprint");
    assert!(!jti.is_empty());
    assert!(
        check.until() > context.now,
        "the replay window ends after now"
    );
    assert!(matches!(
        check.recorded(false),
        Err(Reject::DpopProofReplayed)
    ));
    let again = proof.verify(target, context).expect("verifies again");
    let fresh = again.recorded(true).expect("a fresh jti is accepted");
    assert_eq!(fresh.jkt(), jkt);
}
