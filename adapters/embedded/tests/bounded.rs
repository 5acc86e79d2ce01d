//! What the contract suite cannot show: a full table refuses cleanly and changes nothing, a sweep
//! makes room again, and a whole flow runs on a bounded store with an ES256 key alone under the
//! explicit RS256 waiver.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use core::future::Future;

use oidc_hybrid::storage::model::complete_now;
use oidc_hybrid::{
    AccessTokenRecord, Approval, Client, ClientMetadata, CodeRecord, Config, ConfigError, Consent,
    JwsAlgorithm, Params, Provider, RandomError, Redemption, SecretDigest, SecureRandom, Session,
    Step, Storage, Subject, UnixTime,
};
use oidc_hybrid_embedded_store::{Capacity, EmbeddedStore, StoreError, Table};
use oidc_hybrid_rustcrypto::Es256Signer;
use oidc_hybrid_testkit::contract::{self, T0};

/// Polls a future that is already complete (every store operation returns one).
fn now<F: Future>(future: F) -> F::Output {
    complete_now(future).expect("store futures are always ready")
}

/// A code of the client `rp`.
fn code(name: &str, grant: &str, expires_at: u64) -> CodeRecord {
    contract::code(name, grant, "rp", expires_at)
}

/// An access token of the client `rp`.
fn access(name: &str, grant: &str, expires_at: u64) -> AccessTokenRecord {
    contract::access(name, grant, "rp", expires_at)
}

fn client() -> Client {
    Client::register(ClientMetadata {
        client_id: "rp".into(),
        client_secret: Some("a-high-entropy-secret-of-32-chars-or-more".into()),
        redirect_uris: vec!["https://rp.example/cb".into()],
        id_token_signed_response_alg: Some(JwsAlgorithm::ES256),
        token_endpoint_auth_method: oidc_hybrid::TokenEndpointAuthMethod::ClientSecretPost,
        ..ClientMetadata::default()
    })
    .unwrap()
}

#[test]
fn a_full_table_refuses_and_changes_nothing_until_a_sweep() {
    let store = EmbeddedStore::new(Capacity::uniform(2).with_access_tokens(1));
    now(store.insert_code(
        &code("c1", "g1", T0 + 60),
        Some(&access("a1", "g1", T0 + 300)),
    ))
    .unwrap();
    let before = store.counts();
    // The access-token table is full: neither the code nor its token is stored.
    assert_eq!(
        now(store.insert_code(
            &code("c2", "g2", T0 + 60),
            Some(&access("a2", "g2", T0 + 300))
        )),
        Err(StoreError::Full {
            table: Table::AccessTokens,
            capacity: 1
        })
    );
    assert_eq!(store.counts(), before);
    now(store.insert_code(&code("c2", "g2", T0 + 60), None)).unwrap();
    assert_eq!(
        now(store.insert_code(&code("c3", "g3", T0 + 60), None)),
        Err(StoreError::Full {
            table: Table::Codes,
            capacity: 2
        })
    );
    // A used code keeps its slot (its tombstone) until it expires and is swept.
    assert!(matches!(
        now(store.redeem_code(&SecretDigest::of("c2"), UnixTime::from_secs(T0))),
        Ok(Redemption::Fresh(_))
    ));
    assert!(now(store.insert_code(&code("c3", "g3", T0 + 60), None)).is_err());
    assert!(store.sweep(UnixTime::from_secs(T0 + 60)) >= 2);
    now(store.insert_code(&code("c3", "g3", T0 + 120), None)).unwrap();
    assert_eq!(
        StoreError::Full {
            table: Table::Codes,
            capacity: 2
        }
        .to_string(),
        "the code table is full (2 entries): sweep expired entries or raise its capacity"
    );
}

#[test]
fn a_full_grant_table_refuses_revocation_markers_and_jtis_have_their_own_room() {
    let store = EmbeddedStore::new(Capacity::uniform(1).with_jtis(1));
    now(store.insert_code(&code("c1", "g1", T0 + 60), None)).unwrap();
    assert!(
        now(store.revoke_grant(&oidc_hybrid::GrantId::new("g1"), UnixTime::from_secs(T0))).is_ok()
    );
    assert_eq!(
        now(store.revoke_grant(&oidc_hybrid::GrantId::new("other"), UnixTime::from_secs(T0))),
        Err(StoreError::Full {
            table: Table::Grants,
            capacity: 1
        })
    );
    let rp = oidc_hybrid::ClientId::new("rp").unwrap();
    let (exp, t0) = (UnixTime::from_secs(T0 + 60), UnixTime::from_secs(T0));
    assert_eq!(now(store.record_jti(&rp, "j1", exp, t0)), Ok(true));
    assert_eq!(now(store.record_jti(&rp, "j1", exp, t0)), Ok(false));
    assert!(now(store.record_jti(&rp, "j2", exp, t0)).is_err());
    assert_eq!(store.insert_client(client()).unwrap(), None);
    assert!(
        store.insert_client(client()).unwrap().is_some(),
        "same id replaces"
    );
}

/// NOT SECURE: a counter, for a reproducible test.
struct Counter(core::sync::atomic::AtomicU8);

impl SecureRandom for Counter {
    fn try_fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
        for byte in dest {
            *byte = self.0.fetch_add(7, core::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }
}

struct Fixed;

impl oidc_hybrid::Clock for Fixed {
    fn now(&self) -> UnixTime {
        UnixTime::from_secs(T0)
    }
}

#[test]
fn es256_alone_runs_a_flow_only_under_the_waiver() {
    let scalar = [7u8; 32];
    let key = || Es256Signer::from_scalar_bytes(&scalar, Some("es")).unwrap();
    let store = || {
        let store = EmbeddedStore::new(Capacity::uniform(4));
        store.insert_client(client()).unwrap();
        store
    };
    let provider = |config| {
        Provider::new(
            config,
            store(),
            vec![Box::new(key())],
            Fixed,
            Counter(0.into()),
        )
    };
    let config = Config::new("https://op.example").unwrap();
    assert_eq!(provider(config.clone()).err(), Some(ConfigError::Keys));

    let op = provider(config.waive_rs256_nonconforming()).unwrap();
    assert!(!op.discovery().to_json().contains("RS256"));
    let params = Params::parse(
        "response_type=code%20id_token&client_id=rp&redirect_uri=https%3A%2F%2Frp.example%2Fcb\
         &scope=openid&nonce=n-1",
    )
    .unwrap();
    let request = now(op.authorize(&params)).unwrap();
    let subject = Subject::new("alice".to_owned()).unwrap();
    let session = Session::new(subject.clone(), UnixTime::from_secs(T0));
    assert_eq!(
        op.next_step(&request, Some(&session), Consent::GivenNow),
        Ok(Step::Approve)
    );
    let response =
        now(op.approve(request, Approval::new(subject, UnixTime::from_secs(T0)))).unwrap();
    let code = response.param("code").unwrap();
    assert!(response.param("id_token").is_some());
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Frp.example%2Fcb\
         &client_id=rp&client_secret=a-high-entropy-secret-of-32-chars-or-more"
    );
    let tokens = now(op.token(&Params::parse(&body).unwrap(), None)).unwrap();
    assert!(tokens.id_token().is_some());
    assert!(
        now(op.token(&Params::parse(&body).unwrap(), None)).is_err(),
        "replay refused"
    );
}
