//! The hash claims as a relying party computes them, from the JWS `alg` name alone.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use sha2::Digest as _;

/// The value of a hash claim (`c_hash`, `at_hash`, `s_hash`) for `value` under the JWS algorithm
/// named `alg`, computed as a relying party does (OIDC Core §3.3.2.11, §3.3.2.10, FAPI 1.0 Part 2
/// §5.1): the hash of the algorithm's size (`ES256`, `RS256`, `PS256`, `HS256`: SHA-256; the
/// `384` and `512` names: SHA-384, SHA-512; `EdDSA`, Ed25519: SHA-512), left half, base64url.
///
/// It reads only the name — independently of the provider's own typed algorithms — so that a
/// test compares two computations. `None` for any other name (`none` included).
///
/// ```
/// // OIDC Core 1.0, Appendix A.4: the code's c_hash under RS256.
/// let c_hash = oidc_hybrid_testkit::rp::hash_claim(
///     "RS256",
///     "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk",
/// );
/// assert_eq!(c_hash.as_deref(), Some("LDktKdoQak3Pk0cnXxCltA"));
/// ```
#[must_use]
pub fn hash_claim(alg: &str, value: &str) -> Option<String> {
    let size = if alg == "EdDSA" {
        "512"
    } else {
        match alg.split_at_checked(2)? {
            ("ES" | "RS" | "PS" | "HS", size) => size,
            _ => return None,
        }
    };
    let digest: Vec<u8> = match size {
        "256" => sha2::Sha256::digest(value.as_bytes()).to_vec(),
        "384" => sha2::Sha384::digest(value.as_bytes()).to_vec(),
        "512" => sha2::Sha512::digest(value.as_bytes()).to_vec(),
        _ => return None,
    };
    Some(Base64UrlUnpadded::encode_string(
        &digest[..digest.len() / 2],
    ))
}

/// [`hash_claim`] for an algorithm the test knows to be valid.
///
/// # Panics
///
/// If `alg` names no hash (see [`hash_claim`]).
#[must_use]
pub fn rp_hash(alg: &str, value: &str) -> String {
    hash_claim(alg, value).unwrap_or_else(|| panic!("no hash claim is defined for alg {alg:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_name() {
        // OIDC Core 1.0, Appendix A.6: the access token's at_hash under RS256.
        assert_eq!(
            rp_hash("RS256", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        for (alg, len) in [
            ("ES256", 22),
            ("PS384", 32),
            ("RS512", 43),
            ("HS256", 22),
            ("EdDSA", 43),
        ] {
            assert_eq!(rp_hash(alg, "x").len(), len, "{alg}");
        }
        for alg in ["none", "XS256", "ES", "ES255", "", "RS2560", "eddsa"] {
            assert_eq!(hash_claim(alg, "x"), None, "{alg}");
        }
    }
}
