//! A store that fails to persist an approved authorization: the user agent gets a redirected
//! `server_error` with the request's `state` and `iss`, and never a code or token that was not
//! stored (REQUIREMENTS 64, 69; "nothing half-stored").

use core::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use oidc_hybrid::{
    AccessTokenRecord, Approval, Client, ClientId, CodeRecord, EndedSession, GrantId, Insertion,
    Params, PushedRequestRecord, Redemption, RefreshLookup, RefreshTokenRecord, Reject, Rotation,
    SecretDigest, SessionGrant, SessionId, SessionRecord, Storage, Subject, UnixTime,
};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_tests::{
    Delivered, ISSUER, STATE, TestClock, auth_pairs, block_on, form, provider_over,
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

/// `Storage` methods that answer what the memory store answers.
macro_rules! forward {
    ($(fn $name:ident(&self $(, $arg:ident: $type:ty)*) -> $output:ty;)*) => {
        $(
            async fn $name(&self $(, $arg: $type)*) -> Result<$output, Unavailable> {
                wrap(self.inner.$name($($arg),*).await)
            }
        )*
    };
}

impl Storage for FlakyStore {
    type Error = Unavailable;

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

    forward! {
        fn client(&self, id: &ClientId) -> Option<Client>;
        fn redeem_code(&self, digest: &SecretDigest, now: UnixTime) -> Redemption;
        fn insert_tokens(
            &self, access: &AccessTokenRecord, refresh: Option<&RefreshTokenRecord>
        ) -> Insertion;
        fn access_token(&self, digest: &SecretDigest, now: UnixTime) -> Option<AccessTokenRecord>;
        fn refresh_token(&self, digest: &SecretDigest, now: UnixTime) -> RefreshLookup;
        fn rotate_refresh_token(
            &self, old: &SecretDigest, new: &RefreshTokenRecord, now: UnixTime,
            grace_since: Option<UnixTime>
        ) -> Rotation;
        fn revoke_grant(&self, grant: &GrantId, now: UnixTime) -> ();
        fn revoke_access_token(&self, digest: &SecretDigest) -> ();
        fn record_jti(
            &self, client: &ClientId, jti: &str, expires_at: UnixTime, now: UnixTime
        ) -> bool;
        fn insert_pushed_request(&self, record: &PushedRequestRecord) -> ();
        fn take_pushed_request(
            &self, digest: &SecretDigest, now: UnixTime
        ) -> Option<PushedRequestRecord>;
        fn sweep_expired(&self, now: UnixTime) -> u64;
        fn create_session(&self, record: &SessionRecord) -> bool;
        fn touch_session(
            &self, sid: &SessionId, now: UnixTime, expires_at: UnixTime
        ) -> Option<SessionRecord>;
        fn add_session_grant(
            &self, sid: &SessionId, grant: &SessionGrant, now: UnixTime
        ) -> bool;
        fn session_grants(&self, sid: &SessionId, now: UnixTime) -> Vec<SessionGrant>;
        fn end_session(&self, sid: &SessionId, now: UnixTime) -> Option<EndedSession>;
    }
}

#[test]
fn a_code_that_could_not_be_stored_is_never_delivered() {
    let clock = TestClock::at(1_800_000_000);
    let store = FlakyStore {
        inner: MemoryStore::with_clients(standard_clients()),
        down: AtomicBool::new(true),
    };
    let provider = provider_over(store, clock.clone());
    let approve = |response_type| {
        let query = form(&auth_pairs(response_type, "rs-basic"));
        let params = Params::parse(&query).expect("query");
        let request = block_on(provider.authorize(&params)).expect("valid request");
        let approval = Approval::new(
            Subject::new("alice").expect("subject"),
            oidc_hybrid::Clock::now(&clock),
        );
        block_on(provider.approve(request, approval))
    };
    for response_type in ["code", "code id_token", "code token", "code id_token token"] {
        let err = approve(response_type).expect_err("storage is down");
        assert_eq!(err.reject(), Reject::ServerError, "{response_type}");
        let response = err.into_response().expect("redirected to the client");
        let delivered = Delivered::from_response(&response);
        assert_eq!(
            delivered.get("error"),
            Some("server_error"),
            "{response_type}"
        );
        assert_eq!(delivered.get("state"), Some(STATE), "{response_type}");
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
    let response = approve("code id_token").expect("stored");
    assert!(Delivered::from_response(&response).get("code").is_some());
    assert_eq!(provider.storage().inner.counts().codes, 1);
}
