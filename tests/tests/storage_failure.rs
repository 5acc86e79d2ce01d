//! A store that fails to persist an approved authorization: the user agent gets a redirected
//! `server_error` with the request's `state` and `iss`, and never a code or token that was not
//! stored (REQUIREMENTS 64, 69; "nothing half-stored").

use core::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use oidc_hybrid::{
    AccessTokenRecord, Approval, Client, ClientId, CodeRecord, Config, GrantId, Insertion, Params,
    Provider, PushedRequestRecord, Redemption, RefreshLookup, RefreshTokenRecord, Reject, Rotation,
    SecretDigest, Signer, Storage, Subject, UnixTime,
};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::OsRandom;
use oidc_hybrid_tests::{
    Delivered, ISSUER, TestClock, auth_pairs, block_on, es256_signer, form, rs256_signer,
    standard_clients,
};

#[derive(Debug)]
struct Unavailable;

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the database is unavailable")
    }
}

impl core::error::Error for Unavailable {}

/// A memory store whose `insert_code` fails while `down` is set.
struct FlakyStore {
    inner: MemoryStore,
    down: AtomicBool,
}

fn wrap<T>(result: Result<T, core::convert::Infallible>) -> Result<T, Unavailable> {
    result.map_err(|never| match never {})
}

impl Storage for FlakyStore {
    type Error = Unavailable;

    async fn client(&self, id: &ClientId) -> Result<Option<Client>, Unavailable> {
        wrap(self.inner.client(id).await)
    }
    async fn insert_code(
        &self,
        code: &CodeRecord,
        token: Option<&AccessTokenRecord>,
    ) -> Result<(), Unavailable> {
        if self.down.load(Ordering::SeqCst) {
            return Err(Unavailable);
        }
        wrap(self.inner.insert_code(code, token).await)
    }
    async fn redeem_code(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Redemption, Unavailable> {
        wrap(self.inner.redeem_code(digest, now).await)
    }
    async fn insert_tokens(
        &self,
        access: &AccessTokenRecord,
        refresh: Option<&RefreshTokenRecord>,
    ) -> Result<Insertion, Unavailable> {
        wrap(self.inner.insert_tokens(access, refresh).await)
    }
    async fn access_token(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Option<AccessTokenRecord>, Unavailable> {
        wrap(self.inner.access_token(digest, now).await)
    }
    async fn refresh_token(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<RefreshLookup, Unavailable> {
        wrap(self.inner.refresh_token(digest, now).await)
    }
    async fn rotate_refresh_token(
        &self,
        old: &SecretDigest,
        new: &RefreshTokenRecord,
        now: UnixTime,
        grace_since: Option<UnixTime>,
    ) -> Result<Rotation, Unavailable> {
        wrap(
            self.inner
                .rotate_refresh_token(old, new, now, grace_since)
                .await,
        )
    }
    async fn revoke_grant(&self, grant: &GrantId, now: UnixTime) -> Result<(), Unavailable> {
        wrap(self.inner.revoke_grant(grant, now).await)
    }
    async fn revoke_access_token(&self, digest: &SecretDigest) -> Result<(), Unavailable> {
        wrap(self.inner.revoke_access_token(digest).await)
    }
    async fn record_jti(
        &self,
        client: &ClientId,
        jti: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, Unavailable> {
        wrap(self.inner.record_jti(client, jti, expires_at, now).await)
    }
    async fn insert_pushed_request(&self, record: &PushedRequestRecord) -> Result<(), Unavailable> {
        wrap(self.inner.insert_pushed_request(record).await)
    }
    async fn take_pushed_request(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Option<PushedRequestRecord>, Unavailable> {
        wrap(self.inner.take_pushed_request(digest, now).await)
    }
    async fn sweep_expired(&self, now: UnixTime) -> Result<u64, Unavailable> {
        wrap(self.inner.sweep_expired(now).await)
    }
}

#[test]
fn a_code_that_could_not_be_stored_is_never_delivered() {
    let clock = TestClock::at(1_800_000_000);
    let store = FlakyStore {
        inner: MemoryStore::with_clients(standard_clients()),
        down: AtomicBool::new(true),
    };
    let keys: Vec<Box<dyn Signer>> = vec![Box::new(rs256_signer()), Box::new(es256_signer())];
    let config = Config::new(ISSUER).expect("issuer");
    let provider = Provider::new(config, store, keys, clock.clone(), OsRandom).expect("provider");
    for response_type in ["code", "code id_token", "code token", "code id_token token"] {
        let query = form(&auth_pairs(response_type, "rs-basic"));
        let params = Params::parse(&query).expect("query");
        let request = block_on(provider.authorize(&params)).expect("valid request");
        let approval = Approval::new(
            Subject::new("alice").expect("subject"),
            oidc_hybrid::Clock::now(&clock),
        );
        let err = block_on(provider.approve(request, approval)).expect_err("storage is down");
        assert_eq!(err.reject(), Reject::ServerError, "{response_type}");
        let response = err.into_response().expect("redirected to the client");
        let delivered = Delivered::from_response(&response);
        assert_eq!(
            delivered.get("error"),
            Some("server_error"),
            "{response_type}"
        );
        assert_eq!(
            delivered.get("state"),
            Some("st-af0ifjsldkj"),
            "{response_type}"
        );
        assert_eq!(delivered.get("iss"), Some(ISSUER), "{response_type}");
        for leaked in ["code", "id_token", "access_token"] {
            assert_eq!(delivered.get(leaked), None, "{response_type}: {leaked}");
        }
        assert_eq!(response.redirect_uri(), oidc_hybrid_tests::REDIRECT_URI);
    }
    // Nothing was stored, so nothing can be redeemed or swept.
    assert_eq!(provider.storage().inner.counts().codes, 0);
    assert_eq!(provider.storage().inner.counts().access_tokens, 0);
    // Once the store is back, the same request succeeds.
    provider.storage().down.store(false, Ordering::SeqCst);
    let query = form(&auth_pairs("code id_token", "rs-basic"));
    let params = Params::parse(&query).expect("query");
    let request = block_on(provider.authorize(&params)).expect("valid request");
    let approval = Approval::new(
        Subject::new("alice").expect("subject"),
        oidc_hybrid::Clock::now(&clock),
    );
    let response = block_on(provider.approve(request, approval)).expect("stored");
    assert!(Delivered::from_response(&response).get("code").is_some());
    assert_eq!(provider.storage().inner.counts().codes, 1);
}
