//! Known-answer tests for the hash claims (OIDC Core §3.3.2.11; REQUIREMENTS 79–81, 200, 205).
//!
//! The vectors are the examples of OpenID Connect Core 1.0, Appendix A: A.4 (`code id_token`) and
//! A.6 (`code id_token token`), both signed with RS256, so SHA-256 applies.

use oidc_hybrid::jose::hash_claim;
use oidc_hybrid::{HashAlgorithm, JwsAlgorithm};
use oidc_hybrid_tests::rp_hash;

/// The authorization code of OIDC Core Appendix A.4 and A.6.
const CODE: &str = "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk";
/// Its `c_hash` in those examples.
const C_HASH: &str = "LDktKdoQak3Pk0cnXxCltA";
/// The access token of OIDC Core Appendix A.6.
const ACCESS_TOKEN: &str = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
/// Its `at_hash` in that example.
const AT_HASH: &str = "77QmUPtjPfzWtF2AnpK9RQ";

#[test]
fn oidc_core_appendix_a_c_hash() {
    assert_eq!(hash_claim(JwsAlgorithm::RS256.hash(), CODE), C_HASH);
}

#[test]
fn oidc_core_appendix_a_at_hash() {
    assert_eq!(
        hash_claim(JwsAlgorithm::RS256.hash(), ACCESS_TOKEN),
        AT_HASH
    );
}

/// The hash follows the algorithm, never a hard-coded SHA-256 (REQUIREMENTS 81): every algorithm
/// of a size family agrees with an RP's independent computation and with the digest length.
#[test]
fn hash_follows_algorithm() {
    for alg in JwsAlgorithm::ALL {
        let claim = hash_claim(alg.hash(), ACCESS_TOKEN);
        let expected_len = match alg.hash() {
            HashAlgorithm::Sha256 => 22, // 16 bytes
            HashAlgorithm::Sha384 => 32, // 24 bytes
            HashAlgorithm::Sha512 => 43, // 32 bytes
            _ => unreachable!("only SHA-2 families exist"),
        };
        assert_eq!(claim.len(), expected_len, "{alg}");
        assert!(!claim.contains('='), "no padding");
        if alg != JwsAlgorithm::EdDSA {
            assert_eq!(claim, rp_hash(alg.as_str(), ACCESS_TOKEN), "{alg}");
        }
    }
    // EdDSA (Ed25519) uses SHA-512 (Token Hash Algorithm guide §3).
    assert_eq!(JwsAlgorithm::EdDSA.hash(), HashAlgorithm::Sha512);
    assert_eq!(
        hash_claim(JwsAlgorithm::EdDSA.hash(), CODE),
        rp_hash("EdDSA", CODE)
    );
}

/// `none` and unknown names never become an algorithm, so no hash can be computed for them
/// (fail closed, REQUIREMENTS 86, 205).
#[test]
fn none_and_unknown_algorithms_do_not_parse() {
    for name in ["none", "None", "HS256", "rs256", "ES256K", ""] {
        assert_eq!(JwsAlgorithm::from_name(name), None, "{name}");
    }
}
