//! Relying-party validation of one flow's results with the testkit's independent validator:
//! signatures against the published JWKS (another JOSE implementation), the standard claims,
//! the hash claims and the consistency of the two ID tokens, for any provider
//! ([`Profile::Interop`]).

use std::time::{SystemTime, UNIX_EPOCH};

use oidc_hybrid::UnixTime;
use oidc_hybrid_testkit::rp::{FlowEvidence, FlowFailure, IdTokenRules, Jwks, Profile, check_flow};
use serde_json::Value;

/// Clock skew allowed between the provider and this machine, in seconds.
const LEEWAY_SECS: u64 = 60;

/// The OP's keys and what every ID token must say.
#[derive(Debug)]
pub(crate) struct Verifier {
    keys: Jwks,
    issuer: String,
    client_id: String,
}

impl Verifier {
    /// The usable signature keys of `jwks` (keys for encryption, symmetric keys and keys the
    /// JOSE library cannot read are left out).
    pub(crate) fn new(jwks: &Value, issuer: &str, client_id: &str) -> Result<Self, String> {
        Ok(Self {
            keys: Jwks::from_json(jwks).map_err(|e| e.to_string())?,
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
        })
    }

    /// How many keys are usable.
    pub(crate) fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Validates one flow as a relying party would, `nonce` being the nonce sent.
    pub(crate) fn flow(&self, nonce: &str, evidence: &FlowEvidence<'_>) -> Result<(), FlowFailure> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let rules = IdTokenRules::new(&self.issuer, &self.client_id)
            .profile(Profile::Interop)
            .at(UnixTime::from_secs(now))
            .leeway(LEEWAY_SECS)
            .nonce(Some(nonce));
        check_flow(&rules, &self.keys, evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_without_usable_keys_is_refused() {
        let jwks = serde_json::json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]});
        assert!(Verifier::new(&jwks, "https://op", "rp").is_err());
        assert!(Verifier::new(&serde_json::json!({}), "https://op", "rp").is_err());
    }

    #[test]
    fn a_flow_without_state_is_refused_before_any_token() {
        let es = oidc_hybrid_tests::es256_signer();
        use oidc_hybrid::Signer as _;
        let jwks =
            serde_json::json!({ "keys": [serde_json::to_value(es.public_jwk()).expect("JWK")] });
        let verifier = Verifier::new(&jwks, "https://op", "rp").expect("usable keys");
        assert_eq!(verifier.key_count(), 1);
        let evidence = FlowEvidence {
            state_sent: "st",
            ..FlowEvidence::default()
        };
        assert_eq!(
            verifier.flow("n", &evidence).expect_err("no state").what,
            "state"
        );
    }
}
