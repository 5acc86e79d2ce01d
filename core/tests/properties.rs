//! Property tests of the core parsers (REQUIREMENTS 3, 4, 6, 79).

use oidc_hybrid::jose::hash_claim;
use oidc_hybrid::{JwsAlgorithm, Params, Reject, ResponseType, Scope};
use proptest::prelude::*;

fn scope_token() -> impl Strategy<Value = String> {
    "[!#-\\[\\]-~]{1,12}"
}

proptest! {
    /// `response_type` is an unordered set: every permutation parses to the same value.
    #[test]
    fn response_type_is_order_insensitive(rt in prop::sample::select(ResponseType::ALL.to_vec()), seed in any::<u64>()) {
        let mut members: Vec<&str> = rt.as_str().split(' ').collect();
        // A deterministic shuffle from the seed.
        let len = members.len();
        for i in (1..len).rev() {
            let j = usize::try_from(seed.rotate_left(u32::try_from(i).unwrap_or(0)) % (i as u64 + 1)).unwrap_or(0);
            members.swap(i, j);
        }
        prop_assert_eq!(ResponseType::parse(&members.join(" ")), Ok(rt));
    }

    /// Scope parsing ignores order and duplicates and round-trips through its rendering.
    #[test]
    fn scope_round_trips(tokens in prop::collection::vec(scope_token(), 1..8)) {
        let forward = Scope::parse(&tokens.join(" ")).expect("valid tokens");
        let mut reversed = tokens.clone();
        reversed.reverse();
        reversed.extend(tokens.iter().cloned());
        let backward = Scope::parse(&reversed.join(" ")).expect("valid tokens");
        prop_assert_eq!(&forward, &backward);
        prop_assert_eq!(Scope::parse(&forward.to_string()).expect("renders validly"), forward.clone());
        for token in &tokens {
            prop_assert!(forward.contains(token));
        }
    }

    /// Hash claims are half the digest, unpadded base64url, for any input and algorithm.
    #[test]
    fn hash_claims_are_half_digest(value in ".{0,200}", alg in prop::sample::select(JwsAlgorithm::ALL.to_vec())) {
        // Without the `sha512` feature only SHA-256 is built in.
        prop_assume!(alg.hash().is_built_in());
        let claim = hash_claim(alg.hash(), &value);
        let digest_len = match alg.as_str() { "EdDSA" => 64, name => name[2..].parse::<usize>().expect("size") / 8 };
        prop_assert_eq!(claim.len(), (digest_len / 2 * 4).div_ceil(3));
        prop_assert!(claim.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    /// Parameter parsing never panics, and a name repeated is always reported as duplicated.
    #[test]
    fn params_never_panic_and_detect_duplicates(input in ".{0,300}", name in "[a-z_]{1,10}", a in "[a-z0-9]{1,5}", b in "[a-z0-9]{1,5}") {
        let _ = Params::parse(&input);
        let doubled = format!("{name}={a}&x=1&{name}={b}");
        let params = Params::parse(&doubled).expect("small input");
        prop_assert_eq!(params.get(&name), Err(Reject::ParameterDuplicated));
    }
}
