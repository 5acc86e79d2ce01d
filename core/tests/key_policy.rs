//! Which key sets `Provider::new` accepts: RS256 is required unless explicitly waived (OIDC Core
//! §15.1), and a key whose hash claims need SHA-384/SHA-512 only when that hash is built in
//! (OIDC Core §3.3.2.11). Run once more with `--no-default-features --features std` to check the
//! build without the `sha512` feature.

use core::convert::Infallible;
use core::ops::Range;

use oidc_hybrid::signer::JwkKey;
use oidc_hybrid::storage::model::ImmediateStorage;
use oidc_hybrid::{
    AccessTokenRecord, Client, ClientId, Clock, CodeRecord, Config, ConfigError, EndedSession,
    GrantId, Insertion, Jwk, JwsAlgorithm, Provider, PushedRequestRecord, RandomError, Redemption,
    RefreshLookup, RefreshTokenRecord, Rotation, Rs256Policy, SecretDigest, SecureRandom,
    SessionGrant, SessionId, SessionRecord, SignError, Signer, UnixTime,
};

const ISSUER: &str = "https://op.example";

/// NOT SECURE: "signs" with a constant; only the algorithm matters here.
struct Fake(Jwk);

impl Fake {
    fn new(alg: JwsAlgorithm, kid: &str) -> Self {
        Self(Jwk::ec_p256(kid, alg, "AA".into(), "AA".into()))
    }
}

impl JwkKey for Fake {
    fn jwk(&self) -> &Jwk {
        &self.0
    }
    fn sign_input(&self, _input: &[u8], _rng: &dyn SecureRandom) -> Result<Vec<u8>, SignError> {
        Ok(vec![0; 64])
    }
    fn verify_input(&self, _input: &[u8], _signature: &[u8]) -> Result<(), SignError> {
        Err(SignError::new())
    }
}

/// NOT SECURE: zeros.
struct Zeros;

impl SecureRandom for Zeros {
    fn try_fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
        dest.fill(0);
        Ok(())
    }
}

struct Fixed;

impl Clock for Fixed {
    fn now(&self) -> UnixTime {
        UnixTime::from_secs(1_700_000_000)
    }
}

/// A store that holds nothing; `Provider::new` never calls it.
struct Nothing;

impl ImmediateStorage for Nothing {
    type Error = Infallible;

    fn client_now(&self, _: &ClientId) -> Result<Option<Client>, Infallible> {
        Ok(None)
    }
    fn record_jti_now(
        &self,
        _: &ClientId,
        _: &str,
        _: Range<UnixTime>,
    ) -> Result<bool, Infallible> {
        Ok(true)
    }
    fn insert_code_now(
        &self,
        _: &CodeRecord,
        _: Option<&AccessTokenRecord>,
    ) -> Result<(), Infallible> {
        Ok(())
    }
    fn redeem_code_now(&self, _: &SecretDigest, _: UnixTime) -> Result<Redemption, Infallible> {
        Ok(Redemption::Unknown)
    }
    fn insert_tokens_now(
        &self,
        _: &AccessTokenRecord,
        _: Option<&RefreshTokenRecord>,
    ) -> Result<Insertion, Infallible> {
        Ok(Insertion::GrantRevoked)
    }
    fn access_token_now(
        &self,
        _: &SecretDigest,
        _: UnixTime,
    ) -> Result<Option<AccessTokenRecord>, Infallible> {
        Ok(None)
    }
    fn refresh_token_now(
        &self,
        _: &SecretDigest,
        _: UnixTime,
    ) -> Result<RefreshLookup, Infallible> {
        Ok(RefreshLookup::Unknown)
    }
    fn rotate_refresh_token_now(
        &self,
        _: &SecretDigest,
        _: &RefreshTokenRecord,
        _: UnixTime,
        _: Option<UnixTime>,
    ) -> Result<Rotation, Infallible> {
        Ok(Rotation::Unknown)
    }
    fn revoke_grant_now(&self, _: &GrantId, _: UnixTime) -> Result<(), Infallible> {
        Ok(())
    }
    fn revoke_access_token_now(&self, _: &SecretDigest) -> Result<(), Infallible> {
        Ok(())
    }
    fn insert_pushed_request_now(&self, _: &PushedRequestRecord) -> Result<(), Infallible> {
        Ok(())
    }
    fn take_pushed_request_now(
        &self,
        _: &SecretDigest,
        _: UnixTime,
    ) -> Result<Option<PushedRequestRecord>, Infallible> {
        Ok(None)
    }
    fn sweep_expired_now(&self, _: UnixTime) -> Result<u64, Infallible> {
        Ok(0)
    }
    fn create_session_now(&self, _: &SessionRecord) -> Result<bool, Infallible> {
        Ok(false)
    }
    fn touch_session_now(
        &self,
        _: &SessionId,
        _: UnixTime,
        _: UnixTime,
    ) -> Result<Option<SessionRecord>, Infallible> {
        Ok(None)
    }
    fn add_session_grant_now(
        &self,
        _: &SessionId,
        _: &SessionGrant,
        _: UnixTime,
    ) -> Result<bool, Infallible> {
        Ok(false)
    }
    fn session_grants_now(
        &self,
        _: &SessionId,
        _: UnixTime,
    ) -> Result<Vec<SessionGrant>, Infallible> {
        Ok(Vec::new())
    }
    fn end_session_now(
        &self,
        _: &SessionId,
        _: UnixTime,
    ) -> Result<Option<EndedSession>, Infallible> {
        Ok(None)
    }
}

fn provider(
    config: Config,
    keys: Vec<Box<dyn Signer>>,
) -> Result<Provider<Nothing, Fixed, Zeros>, ConfigError> {
    Provider::new(config, Nothing, keys, Fixed, Zeros)
}

fn config() -> Config {
    Config::new(ISSUER).expect("valid issuer")
}

#[test]
fn rs256_is_required_by_default() {
    assert_eq!(config().rs256, Rs256Policy::Require);
    let es256_only = provider(
        config(),
        vec![Box::new(Fake::new(JwsAlgorithm::ES256, "es"))],
    );
    assert_eq!(es256_only.err(), Some(ConfigError::Keys));
    let both = provider(
        config(),
        vec![
            Box::new(Fake::new(JwsAlgorithm::ES256, "es")),
            Box::new(Fake::new(JwsAlgorithm::RS256, "rs")),
        ],
    )
    .expect("RS256 present");
    assert_eq!(
        both.discovery().id_token_signing_alg_values_supported,
        [JwsAlgorithm::ES256, JwsAlgorithm::RS256]
    );
}

#[test]
fn waived_rs256_is_never_claimed() {
    let waived = config().waive_rs256_nonconforming();
    assert_eq!(waived.rs256, Rs256Policy::WaiveNonConforming);
    assert_eq!(
        provider(waived.clone(), Vec::new()).err(),
        Some(ConfigError::Keys),
        "a waiver still needs a key"
    );
    let op = provider(waived, vec![Box::new(Fake::new(JwsAlgorithm::ES256, "es"))])
        .expect("waiver accepts ES256 alone");
    let discovery = op.discovery();
    assert_eq!(
        discovery.id_token_signing_alg_values_supported,
        [JwsAlgorithm::ES256]
    );
    assert!(!discovery.to_json().contains("RS256"));
}

#[test]
fn sha384_and_sha512_keys_need_the_feature() {
    for alg in [
        JwsAlgorithm::ES384,
        JwsAlgorithm::PS512,
        JwsAlgorithm::EdDSA,
    ] {
        let keys: Vec<Box<dyn Signer>> = vec![
            Box::new(Fake::new(JwsAlgorithm::RS256, "rs")),
            Box::new(Fake::new(alg, "other")),
        ];
        let outcome = provider(config(), keys).err();
        if cfg!(feature = "sha512") {
            assert_eq!(outcome, None, "{alg}");
        } else {
            assert_eq!(outcome, Some(ConfigError::HashUnavailable), "{alg}");
        }
        assert_eq!(alg.hash().is_built_in(), cfg!(feature = "sha512"));
    }
    assert!(JwsAlgorithm::ES256.hash().is_built_in());
}
