//! The storage contract suite: one generic test per rule of the [`Storage`] contract, for any
//! store, instantiated with [`storage_contract!`](crate::storage_contract).
//!
//! Every test takes a [`Fixture`]: a fresh store holding the [standard
//! clients](crate::fixtures::standard_clients), and optionally a way to count its entries
//! ([`CountEntries`]). It asserts exact outcomes, so that every store is shown to behave like
//! the reference memory store for the same operation sequence — down to how many entries a
//! sweep removes, when the fixture can count them. Times are explicit `now` values around
//! [`T0`]. The concurrency tests run their callers as tasks of a multi-threaded tokio runtime.
//!
//! A store author runs the whole suite with one macro call (see the crate docs); the functions
//! are public too, for a harness of one's own: build a [`Fixture`] and await them.

use alloc::sync::Arc;
use core::any::Any;
use core::fmt;
use core::future::Future;
use core::pin::Pin;

use oidc_hybrid::storage::model;
use oidc_hybrid::{
    AccessTokenRecord, Client, ClientId, CodeRecord, GrantId, Insertion, PushedRequestRecord,
    REVOCATION_GRACE_SECS, Redemption, RefreshLookup, RefreshTokenRecord, Rotation, SecretDigest,
    SessionGrant, SessionId, SessionRecord, Storage, Subject, UnixTime,
};
use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::fixtures::standard_clients;

/// The base time of every scenario.
pub const T0: u64 = 1_700_000_000;

/// Concurrent callers in the concurrency tests.
pub const CONCURRENCY: usize = 32;

/// Rounds of the single-use-code race.
pub const REDEMPTION_ROUNDS: usize = 50;

/// Rounds of the other races.
pub const RACE_ROUNDS: usize = 20;

/// Worker threads of the runtime each test of [`storage_contract!`](crate::storage_contract)
/// runs on.
pub const WORKER_THREADS: usize = 4;

// ---------------------------------------------------------------------------------------------
// Fixtures

/// How many entries a store holds, clients left out: codes (live or used), tokens (refresh
/// tokens live or retired), grant entries (including revocation markers) and `jti`s, expired but
/// not yet swept entries included. Every store counts the same way, so that the suite can
/// compare what a sweep removes.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct StoreCounts {
    /// Codes, live or used.
    pub codes: u64,
    /// Access tokens.
    pub access_tokens: u64,
    /// Refresh tokens, live or retired.
    pub refresh_tokens: u64,
    /// Grant entries (membership expiry and revocation markers).
    pub grants: u64,
    /// Recorded `jti`s.
    pub jtis: u64,
}

/// The counts of a store that keeps its entries in memory, clients left out.
///
/// # Panics
///
/// Never: no table holds 2^64 entries.
impl From<model::Counts> for StoreCounts {
    fn from(counts: model::Counts) -> Self {
        let n = |count: usize| u64::try_from(count).expect("fewer than 2^64 entries");
        Self {
            codes: n(counts.codes),
            access_tokens: n(counts.access_tokens),
            refresh_tokens: n(counts.refresh_tokens),
            grants: n(counts.grants),
            jtis: n(counts.jtis),
        }
    }
}

/// Counts the entries of a store of type `S`, for the suite's count comparisons. Optional: a
/// [`Fixture`] without one skips them (and the suite then checks less).
///
/// Implement it on a type of your own (a unit struct will do), so that it can count a store of
/// any crate:
///
/// ```
/// use oidc_hybrid_memory::MemoryStore;
/// use oidc_hybrid_testkit::contract::{CountEntries, StoreCounts};
///
/// #[derive(Debug)]
/// struct MemoryCounts;
///
/// impl CountEntries<MemoryStore> for MemoryCounts {
///     async fn count(&self, store: &MemoryStore) -> StoreCounts {
///         store.counts().into()
///     }
/// }
/// ```
pub trait CountEntries<S>: Send + Sync + 'static {
    /// The store's current counts.
    ///
    /// # Panics
    ///
    /// May panic if the store cannot be counted (a test failure).
    fn count(&self, store: &S) -> impl Future<Output = StoreCounts> + Send;
}

/// Counts a store that keeps its entries in memory with its own counting function, e.g.
/// `CountsOf(MemoryStore::counts)`.
pub struct CountsOf<S>(pub fn(&S) -> model::Counts);

impl<S> fmt::Debug for CountsOf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CountsOf")
    }
}

impl<S: Sync + 'static> CountEntries<S> for CountsOf<S> {
    async fn count(&self, store: &S) -> StoreCounts {
        (self.0)(store).into()
    }
}

/// A boxed [`CountEntries`], so that a [`Fixture`] names only its store type.
trait DynCount<S>: Send + Sync {
    fn count_boxed<'a>(
        &'a self,
        store: &'a S,
    ) -> Pin<Box<dyn Future<Output = StoreCounts> + Send + 'a>>;
}

impl<S: Sync, C: CountEntries<S>> DynCount<S> for C {
    fn count_boxed<'a>(
        &'a self,
        store: &'a S,
    ) -> Pin<Box<dyn Future<Output = StoreCounts> + Send + 'a>> {
        Box::pin(self.count(store))
    }
}

/// A store under test, holding the standard clients, with what must outlive it (a temporary
/// directory, a temporary database) and, optionally, a [`CountEntries`] for it.
pub struct Fixture<S> {
    /// The store.
    pub store: Arc<S>,
    counter: Option<Box<dyn DynCount<S>>>,
    // Declared after `store`, so dropped after it.
    guard: Option<Box<dyn Any + Send + Sync>>,
}

impl<S: Storage + 'static> Fixture<S> {
    /// A fixture of `store`, which must hold the clients the constructor was given.
    #[must_use]
    pub fn new(store: S) -> Self {
        Self {
            store: Arc::new(store),
            counter: None,
            guard: None,
        }
    }

    /// Compares entry counts with `counter`'s.
    #[must_use]
    pub fn counted_by(mut self, counter: impl CountEntries<S>) -> Self {
        self.counter = Some(Box::new(counter));
        self
    }

    /// Keeps `guard` alive until after the store is dropped (a temporary directory or database
    /// whose `Drop` removes it).
    #[must_use]
    pub fn guarded_by(mut self, guard: impl Any + Send + Sync) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }

    /// The store's counts, or `None` without a [`CountEntries`].
    pub async fn counts(&self) -> Option<StoreCounts> {
        match &self.counter {
            Some(counter) => Some(counter.count_boxed(&self.store).await),
            None => None,
        }
    }

    /// Runs `check` on the store's counts, if the fixture counts them.
    pub async fn check_counts(&self, check: impl FnOnce(StoreCounts)) {
        if let Some(counts) = self.counts().await {
            check(counts);
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for Fixture<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fixture")
            .field("store", &self.store)
            .field("counted", &self.counter.is_some())
            .field("guarded", &self.guard.is_some())
            .finish()
    }
}

/// What a store constructor given to [`storage_contract!`](crate::storage_contract) may return:
/// a [`Fixture`], or `Option<Fixture>` where `None` skips the test (after the constructor said
/// why, e.g. that no database server is reachable).
pub trait IntoFixture {
    /// The store.
    type Store: Storage + 'static;

    /// The fixture, or `None` to skip.
    fn into_fixture(self) -> Option<Fixture<Self::Store>>;
}

impl<S: Storage + 'static> IntoFixture for Fixture<S> {
    type Store = S;

    fn into_fixture(self) -> Option<Self> {
        Some(self)
    }
}

impl<S: Storage + 'static> IntoFixture for Option<Fixture<S>> {
    type Store = S;

    fn into_fixture(self) -> Self {
        self
    }
}

/// Runs one test of the suite the way [`storage_contract!`](crate::storage_contract) does: on a
/// fresh multi-threaded tokio runtime ([`WORKER_THREADS`] workers), builds the fixture with
/// `make` from the [standard clients](standard_clients) and awaits `test` on it (nothing if
/// `make` skips).
///
/// # Panics
///
/// If the runtime cannot be built, and whenever the test fails.
pub fn run<M, MFut, F, T, TFut>(make: M, test: T)
where
    M: FnOnce(Vec<Client>) -> MFut,
    MFut: Future<Output = F>,
    F: IntoFixture,
    T: FnOnce(Fixture<F::Store>) -> TFut,
    TFut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .enable_all()
        .build()
        .expect("a tokio runtime for the contract suite"); // Panics: documented.
    runtime.block_on(async move {
        if let Some(fixture) = make(standard_clients()).await.into_fixture() {
            test(fixture).await;
        }
    });
}

/// Runs `n` tasks at once: the future `task(i)` gives for each `i` in `0..n` is spawned on the
/// current tokio runtime and starts only once all `n` are spawned (they wait at a barrier);
/// returns their outputs in order of `i`. The suite's concurrency tests race a store's
/// operations with it; a store's own tests may too.
///
/// # Panics
///
/// Outside a tokio runtime, and if a task panics (a test failure).
pub async fn race<F, Fut>(n: usize, mut task: F) -> Vec<Fut::Output>
where
    F: FnMut(usize) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (barrier, future) = (barrier.clone(), task(i));
            tokio::spawn(async move {
                barrier.wait().await;
                future.await
            })
        })
        .collect();
    let mut outputs = Vec::with_capacity(n);
    for handle in handles {
        outputs.push(handle.await.expect("a racing task panicked")); // Panics: documented.
    }
    outputs
}

// ---------------------------------------------------------------------------------------------
// Records

/// `secs` as a time.
#[must_use]
pub fn at(secs: u64) -> UnixTime {
    UnixTime::from_secs(secs)
}

/// The digest of a named test secret.
#[must_use]
pub fn digest(name: &str) -> SecretDigest {
    SecretDigest::of(name)
}

fn grant(id: &str) -> GrantId {
    GrantId::new(id)
}

fn client_id(id: &str) -> ClientId {
    ClientId::new(id).expect("valid client id")
}

/// A record named `name` of `client` in `grant`, expiring at `expires_at`: the fields every
/// record has (digest, grant, client, subject `user-of-<client>`, issued at [`T0`]) and `own`.
fn record<T: serde::de::DeserializeOwned>(
    name: &str,
    grant: &str,
    client: &str,
    expires_at: u64,
    own: Value,
) -> T {
    let mut fields = json!({
        "digest": digest(name).to_base64url(),
        "grant_id": grant,
        "client_id": client,
        "subject": format!("user-of-{client}"),
        "issued_at": T0,
        "expires_at": expires_at,
    });
    if let (Value::Object(fields), Value::Object(own)) = (&mut fields, own) {
        fields.extend(own);
    }
    serde_json::from_value(fields).expect("a valid test record") // Panics: documented.
}

/// A code named `name` of `client` in `grant`, expiring at `expires_at`, with every optional
/// field set (so that round trips cover them).
///
/// # Panics
///
/// If a name is not a valid grant or client id.
#[must_use]
pub fn code(name: &str, grant: &str, client: &str, expires_at: u64) -> CodeRecord {
    let own = json!({
        "redirect_uri": "https://rp.example/cb?tenant=7&x=%C3%A9",
        "response_type": "code id_token",
        "scope": "openid profile",
        "nonce": "n-0S6_WzA2Mj \u{e9}\u{1F600}",
        "auth_time": T0 - 5,
        "auth_time_required": true,
        "acr": "urn:example:loa:2",
        "amr": ["pwd", "otp"],
        "code_challenge": {
            "value": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "method": "S256",
        },
        "dpop_jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
        "sid": "op-session-1",
    });
    record(name, grant, client, expires_at, own)
}

/// An access token named `name`.
///
/// # Panics
///
/// If a name is not a valid grant or client id.
#[must_use]
pub fn access(name: &str, grant: &str, client: &str, expires_at: u64) -> AccessTokenRecord {
    let own = json!({
        "scope": "openid profile",
        "confirmation": { "jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" },
    });
    record(name, grant, client, expires_at, own)
}

/// A refresh token named `name`.
///
/// # Panics
///
/// If a name is not a valid grant or client id.
#[must_use]
pub fn refresh(name: &str, grant: &str, client: &str, expires_at: u64) -> RefreshTokenRecord {
    let own = json!({
        "scope": "openid profile offline_access",
        "auth_time": T0 - 5,
        "auth_time_required": false,
        "acr": null,
        "amr": ["pwd"],
        "confirmation": { "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" },
    });
    record(name, grant, client, expires_at, own)
}

/// Whether `lookup` reports the token `name` as rotated at `when` (its grant not revoked).
fn is_rotated(lookup: &RefreshLookup, name: &str, when: u64) -> bool {
    matches!(lookup, RefreshLookup::Rotated(record, rotated)
        if record.digest == digest(name) && *rotated == at(when))
}

fn is_live(lookup: &RefreshLookup) -> bool {
    matches!(lookup, RefreshLookup::Live(_))
}

/// Unwraps a store result, naming the operation on failure.
macro_rules! ok {
    ($e:expr) => {
        $e.await
            .unwrap_or_else(|e| panic!("{} failed: {e:?}", stringify!($e)))
    };
}

/// Asserts that the refresh token `name` of the revoked grant `g` is retired at `secs`: looking
/// it up finds it retired, and rotating it (into `{name}-next`) is reuse.
async fn assert_retired_by_revocation<S: Storage>(s: &S, name: &str, secs: u64) {
    assert_eq!(
        lookup(s, name, secs).await,
        RefreshLookup::Retired(grant("g"))
    );
    let next = refresh(&format!("{name}-next"), "g", "rs-basic", T0 + 90_000);
    assert_eq!(
        ok!(s.rotate_refresh_token(&digest(name), &next, at(secs), None)),
        Rotation::Reused(grant("g"))
    );
}

/// What looking the refresh token `name` up at `secs` finds.
async fn lookup<S: Storage>(s: &S, name: &str, secs: u64) -> RefreshLookup {
    ok!(s.refresh_token(&digest(name), at(secs)))
}

/// What redeeming the code `name` at `secs` gives.
async fn redeem<S: Storage>(s: &S, name: &str, secs: u64) -> Redemption {
    ok!(s.redeem_code(&digest(name), at(secs)))
}

/// Redeems code `c` (grant `g`, client `rs-basic`) and stores access token `at` (expires
/// T0+3600) and refresh token `rt` (T0+86400) for it.
async fn with_tokens<S: Storage>(s: &S) {
    ok!(s.insert_code(&code("c", "g", "rs-basic", T0 + 60), None));
    assert!(matches!(redeem(s, "c", T0).await, Redemption::Fresh(_)));
    assert_eq!(
        ok!(s.insert_tokens(
            &access("at", "g", "rs-basic", T0 + 3600),
            Some(&refresh("rt", "g", "rs-basic", T0 + 86_400)),
        )),
        Insertion::Stored
    );
}

// ---------------------------------------------------------------------------------------------
// Clients

/// Every standard client reads back exactly as registered; other ids are unknown.
pub async fn clients_round_trip<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    for client in standard_clients() {
        assert_eq!(ok!(s.client(client.id())), Some(client.clone()));
    }
    for unknown in ["nope", "RS-BASIC", "rs-basic ", "es-pos"] {
        assert_eq!(ok!(s.client(&client_id(unknown))), None, "{unknown}");
    }
}

// ---------------------------------------------------------------------------------------------
// Codes

/// A code (and its front-channel token) reads back as the exact record stored.
pub async fn code_round_trip_returns_the_exact_record<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    let record = code("c", "g", "rs-basic", T0 + 60);
    let front = access("fc", "g", "rs-basic", T0 + 300);
    ok!(s.insert_code(&record, Some(&front)));
    assert_eq!(ok!(s.access_token(&digest("fc"), at(T0))), Some(front));
    assert_eq!(redeem(s, "c", T0).await, Redemption::Fresh(record));
    // A record with every optional field empty round-trips too.
    let mut bare = code("c2", "g2", "native", T0 + 60);
    bare.nonce = None;
    bare.acr = None;
    bare.amr = Vec::new();
    bare.code_challenge = None;
    ok!(s.insert_code(&bare, None));
    assert_eq!(redeem(s, "c2", T0).await, Redemption::Fresh(bare));
}

/// A second redemption is a replay naming the grant, however often it is tried.
pub async fn code_redeemed_twice_is_replayed_with_its_grant<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    ok!(s.insert_code(&code("c", "g", "rs-basic", T0 + 60), None));
    assert!(matches!(redeem(s, "c", T0).await, Redemption::Fresh(_)));
    for _ in 0..3 {
        assert_eq!(
            redeem(s, "c", T0 + 1).await,
            Redemption::Replayed(grant("g"))
        );
    }
}

/// Unknown digests, grants and ids are reported as unknown, never as errors, and change nothing.
pub async fn unknown_ids_are_unknown<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    with_tokens(s).await;
    let before = fx.counts().await;
    assert_eq!(redeem(s, "nope", T0).await, Redemption::Unknown);
    assert_eq!(ok!(s.access_token(&digest("nope"), at(T0))), None);
    assert_eq!(lookup(s, "nope", T0).await, RefreshLookup::Unknown);
    assert_eq!(
        ok!(s.rotate_refresh_token(
            &digest("nope"),
            &refresh("rt2", "g", "rs-basic", T0 + 90_000),
            at(T0),
            None
        )),
        Rotation::Unknown
    );
    ok!(s.revoke_access_token(&digest("nope")));
    // Digests of one kind are not found in another table.
    assert_eq!(ok!(s.access_token(&digest("rt"), at(T0))), None);
    assert_eq!(ok!(s.access_token(&digest("c"), at(T0))), None);
    assert_eq!(lookup(s, "at", T0).await, RefreshLookup::Unknown);
    assert_eq!(redeem(s, "at", T0).await, Redemption::Unknown);
    assert_eq!(fx.counts().await, before);
    // An unknown grant can be revoked (a marker), which blocks it from then on.
    ok!(s.revoke_grant(&grant("ghost"), at(T0)));
    ok!(s.revoke_grant(&grant("ghost"), at(T0)));
    assert_eq!(
        ok!(s.insert_tokens(&access("at-ghost", "ghost", "rs-basic", T0 + 3600), None)),
        Insertion::GrantRevoked
    );
    assert!(ok!(s.access_token(&digest("at"), at(T0))).is_some());
}

/// A code is redeemable strictly before `expires_at`; its tombstone ends at the same instant.
pub async fn code_expiry_boundary<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    let expires = T0 + 60;
    ok!(s.insert_code(&code("c", "g", "rs-basic", expires), None));
    assert!(matches!(
        redeem(s, "c", expires - 1).await,
        Redemption::Fresh(_)
    ));
    assert_eq!(
        redeem(s, "c", expires - 1).await,
        Redemption::Replayed(grant("g"))
    );
    assert_eq!(redeem(s, "c", expires).await, Redemption::Unknown);
    for (i, now) in [expires, expires + 1].into_iter().enumerate() {
        let name = format!("late-{i}");
        ok!(s.insert_code(&code(&name, &format!("g-{i}"), "rs-basic", expires), None));
        assert_eq!(
            redeem(s, &name, now).await,
            Redemption::Unknown,
            "now = expires_at + {}",
            now - expires
        );
        // An attempt at or after expiry does not use the code up (seen with an earlier clock,
        // as another node's might be, it is still fresh).
        assert!(matches!(
            redeem(s, &name, expires - 1).await,
            Redemption::Fresh(_)
        ));
    }
}

/// A front-channel token of another grant than its code's: neither is stored.
pub async fn code_with_token_of_another_grant_stores_neither<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    let token = access("fc", "other", "rs-basic", T0 + 3600);
    ok!(s.insert_code(&code("c", "g", "rs-basic", T0 + 60), Some(&token)));
    assert_eq!(ok!(s.access_token(&digest("fc"), at(T0))), None);
    assert_eq!(redeem(s, "c", T0).await, Redemption::Unknown);
    fx.check_counts(|c| assert_eq!(c, StoreCounts::default()))
        .await;
}

/// Inserting a digest again never overwrites: a used code stays used, and a front-channel token
/// whose code digest is taken is not stored.
pub async fn code_insert_never_overwrites_and_cannot_revive_a_used_code<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    let record = code("c", "g", "rs-basic", T0 + 60);
    ok!(s.insert_code(&record, None));
    redeem(s, "c", T0).await;
    ok!(s.insert_code(&record, None));
    assert_eq!(redeem(s, "c", T0).await, Redemption::Replayed(grant("g")));
    ok!(s.insert_code(&record, Some(&access("fc", "g", "rs-basic", T0 + 3600))));
    assert_eq!(ok!(s.access_token(&digest("fc"), at(T0))), None);
    // A front-channel token digest already taken: the new code is not stored either.
    ok!(s.insert_code(
        &code("c2", "g2", "rs-basic", T0 + 60),
        Some(&access("fc2", "g2", "rs-basic", T0 + 3600))
    ));
    ok!(s.insert_code(
        &code("c3", "g2", "rs-basic", T0 + 60),
        Some(&access("fc2", "g2", "rs-basic", T0 + 3600))
    ));
    assert_eq!(redeem(s, "c3", T0).await, Redemption::Unknown);
}

/// A code for a revoked grant is refused, with its front-channel token.
pub async fn code_for_a_revoked_grant_is_not_stored<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    ok!(s.revoke_grant(&grant("g"), at(T0)));
    ok!(s.insert_code(
        &code("c", "g", "rs-basic", T0 + 60),
        Some(&access("fc", "g", "rs-basic", T0 + 3600)),
    ));
    assert_eq!(redeem(s, "c", T0).await, Redemption::Unknown);
    assert_eq!(ok!(s.access_token(&digest("fc"), at(T0))), None);
}

/// Records of different clients keep their client, subject and grant, and revoking one client's
/// grant or recording its `jti`s leaves the other's alone.
pub async fn records_of_different_clients_stay_apart<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    ok!(s.insert_code(&code("ca", "ga", "rs-basic", T0 + 60), None));
    ok!(s.insert_code(&code("cb", "gb", "es-post", T0 + 60), None));
    let Redemption::Fresh(b) = redeem(s, "cb", T0).await else {
        panic!("code of es-post not fresh");
    };
    let Redemption::Fresh(a) = redeem(s, "ca", T0).await else {
        panic!("code of rs-basic not fresh");
    };
    assert_eq!(
        (
            a.client_id.as_str(),
            a.subject.as_str(),
            a.grant_id.as_str()
        ),
        ("rs-basic", "user-of-rs-basic", "ga")
    );
    assert_eq!(
        (
            b.client_id.as_str(),
            b.subject.as_str(),
            b.grant_id.as_str()
        ),
        ("es-post", "user-of-es-post", "gb")
    );
    for (tag, g, c) in [("a", "ga", "rs-basic"), ("b", "gb", "es-post")] {
        ok!(s.insert_tokens(
            &access(&format!("at-{tag}"), g, c, T0 + 3600),
            Some(&refresh(&format!("rt-{tag}"), g, c, T0 + 86_400)),
        ));
    }
    let at_b = ok!(s.access_token(&digest("at-b"), at(T0))).expect("token of es-post");
    assert_eq!(at_b.client_id.as_str(), "es-post");
    ok!(s.revoke_grant(&grant("ga"), at(T0)));
    assert_eq!(ok!(s.access_token(&digest("at-a"), at(T0))), None);
    assert_eq!(ok!(s.access_token(&digest("at-b"), at(T0))), Some(at_b));
    let RefreshLookup::Live(rt_b) = lookup(s, "rt-b", T0).await else {
        panic!("refresh token of es-post not live");
    };
    assert_eq!(rt_b.client_id.as_str(), "es-post");
    // The same jti from two clients is two entries.
    assert!(ok!(s.record_jti(
        &client_id("rs-basic"),
        "j",
        at(T0 + 60),
        at(T0)
    )));
    assert!(ok!(s.record_jti(
        &client_id("es-post"),
        "j",
        at(T0 + 60),
        at(T0)
    )));
    assert!(!ok!(s.record_jti(
        &client_id("es-post"),
        "j",
        at(T0 + 60),
        at(T0)
    )));
}

/// `CONCURRENCY` simultaneous redemptions of one code yield exactly one `Fresh`, the others
/// `Replayed` with the grant, `REDEMPTION_ROUNDS` times.
pub async fn concurrent_redemptions_have_exactly_one_winner<S: Storage + 'static>(fx: &Fixture<S>) {
    for round in 0..REDEMPTION_ROUNDS {
        let name = format!("code-{round}");
        let g = format!("g-{round}");
        ok!(fx
            .store
            .insert_code(&code(&name, &g, "rs-basic", T0 + 60), None));
        let outcomes = race(CONCURRENCY, |_| {
            let (store, name) = (fx.store.clone(), name.clone());
            async move { store.redeem_code(&digest(&name), at(T0)).await }
        })
        .await;
        let (mut fresh, mut replayed) = (0, 0);
        for outcome in outcomes {
            match outcome.expect("redeem") {
                Redemption::Fresh(record) => {
                    assert_eq!(record.grant_id.as_str(), g);
                    fresh += 1;
                }
                Redemption::Replayed(replay) => {
                    assert_eq!(replay.as_str(), g);
                    replayed += 1;
                }
                other => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!((fresh, replayed), (1, CONCURRENCY - 1), "round {round}");
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

/// Access and refresh tokens read back as stored; an access token alone stores no refresh token.
pub async fn token_round_trips<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    let at_record = access("at", "g", "rs-basic", T0 + 3600);
    let rt_record = refresh("rt", "g", "rs-basic", T0 + 86_400);
    assert_eq!(
        ok!(s.insert_tokens(&at_record, Some(&rt_record))),
        Insertion::Stored
    );
    assert_eq!(ok!(s.access_token(&digest("at"), at(T0))), Some(at_record));
    assert_eq!(lookup(s, "rt", T0).await, RefreshLookup::Live(rt_record));
    let alone = access("at2", "g2", "es-post", T0 + 3600);
    assert_eq!(ok!(s.insert_tokens(&alone, None)), Insertion::Stored);
    assert_eq!(ok!(s.access_token(&digest("at2"), at(T0))), Some(alone));
    fx.check_counts(|c| assert_eq!(c.refresh_tokens, 1)).await;
}

/// Tokens are live strictly before `expires_at`.
pub async fn token_expiry_boundaries<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    with_tokens(s).await;
    let (at_exp, rt_exp) = (T0 + 3600, T0 + 86_400);
    assert!(ok!(s.access_token(&digest("at"), at(at_exp - 1))).is_some());
    assert!(ok!(s.access_token(&digest("at"), at(at_exp))).is_none());
    assert!(ok!(s.access_token(&digest("at"), at(at_exp + 1))).is_none());
    assert!(is_live(&lookup(s, "rt", rt_exp - 1).await));
    assert_eq!(lookup(s, "rt", rt_exp).await, RefreshLookup::Unknown);
    assert_eq!(lookup(s, "rt", rt_exp + 1).await, RefreshLookup::Unknown);
}

/// A retried insertion reports `Stored` and changes nothing; it cannot revive a retired token.
pub async fn token_insert_retried_is_idempotent_and_never_revives<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    with_tokens(s).await;
    let at_record = access("at", "g", "rs-basic", T0 + 3600);
    let rt_record = refresh("rt", "g", "rs-basic", T0 + 86_400);
    let before = fx.counts().await;
    assert_eq!(
        ok!(s.insert_tokens(&at_record, Some(&rt_record))),
        Insertion::Stored
    );
    assert_eq!(fx.counts().await, before);
    ok!(s.rotate_refresh_token(
        &digest("rt"),
        &refresh("rt2", "g", "rs-basic", T0 + 86_400),
        at(T0 + 1),
        None,
    ));
    ok!(s.insert_tokens(&at_record, Some(&rt_record)));
    assert!(is_rotated(&lookup(s, "rt", T0 + 1).await, "rt", T0 + 1));
}

/// An access and a refresh token of different grants are refused and nothing is stored.
pub async fn token_insert_with_mismatched_grants_stores_nothing<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    assert_eq!(
        ok!(s.insert_tokens(
            &access("at", "g1", "rs-basic", T0 + 3600),
            Some(&refresh("rt", "g2", "rs-basic", T0 + 86_400)),
        )),
        Insertion::GrantRevoked
    );
    fx.check_counts(|c| assert_eq!(c, StoreCounts::default()))
        .await;
}

/// RFC 7009 revocation of one access token leaves the rest of the grant alone.
pub async fn revoke_access_token_removes_only_that_token<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    with_tokens(s).await;
    ok!(s.insert_tokens(&access("at2", "g", "rs-basic", T0 + 3600), None));
    ok!(s.revoke_access_token(&digest("at")));
    assert_eq!(ok!(s.access_token(&digest("at"), at(T0))), None);
    assert!(ok!(s.access_token(&digest("at2"), at(T0))).is_some());
    assert!(is_live(&lookup(s, "rt", T0).await));
    ok!(s.revoke_access_token(&digest("at")));
}

// ---------------------------------------------------------------------------------------------
// Grants

/// A replayed code names its grant; revoking it ends the grant's access and refresh tokens (and
/// their rotation), and only those.
pub async fn replay_then_revoke_ends_every_token_of_the_grant<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    with_tokens(s).await;
    ok!(s.insert_code(&code("c2", "g2", "rs-basic", T0 + 60), None));
    ok!(s.insert_tokens(
        &access("at2", "g2", "rs-basic", T0 + 3600),
        Some(&refresh("rt2", "g2", "rs-basic", T0 + 86_400)),
    ));

    let Redemption::Replayed(replayed) = redeem(s, "c", T0 + 1).await else {
        panic!("second redemption not a replay");
    };
    assert_eq!(replayed, grant("g"));
    ok!(s.revoke_grant(&replayed, at(T0 + 1)));

    assert_eq!(ok!(s.access_token(&digest("at"), at(T0 + 1))), None);
    assert_retired_by_revocation(s, "rt", T0 + 1).await;
    assert_eq!(lookup(s, "rt-next", T0 + 1).await, RefreshLookup::Unknown);
    assert_eq!(
        redeem(s, "c", T0 + 2).await,
        Redemption::Replayed(grant("g"))
    );

    assert!(ok!(s.access_token(&digest("at2"), at(T0 + 1))).is_some());
    assert!(is_live(&lookup(s, "rt2", T0 + 1).await));
    assert!(matches!(
        redeem(s, "c2", T0 + 1).await,
        Redemption::Fresh(_)
    ));
}

/// Revoking a grant before its code is redeemed makes the code unusable and removes its
/// front-channel token.
pub async fn revoke_grant_makes_an_unused_code_unusable_and_removes_front_channel_token<
    S: Storage + 'static,
>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    ok!(s.insert_code(
        &code("c", "g", "rs-basic", T0 + 60),
        Some(&access("fc", "g", "rs-basic", T0 + 3600)),
    ));
    ok!(s.revoke_grant(&grant("g"), at(T0)));
    assert_eq!(redeem(s, "c", T0).await, Redemption::Replayed(grant("g")));
    assert_eq!(ok!(s.access_token(&digest("fc"), at(T0))), None);
}

/// `insert_tokens` after `revoke_grant` returns `GrantRevoked` and stores nothing.
pub async fn insert_tokens_after_revoke_is_refused_and_stores_nothing<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    ok!(s.insert_code(&code("c", "g", "rs-basic", T0 + 60), None));
    redeem(s, "c", T0).await;
    ok!(s.revoke_grant(&grant("g"), at(T0)));
    let before = fx.counts().await;
    assert_eq!(
        ok!(s.insert_tokens(
            &access("at", "g", "rs-basic", T0 + 3600),
            Some(&refresh("rt", "g", "rs-basic", T0 + 86_400)),
        )),
        Insertion::GrantRevoked
    );
    assert_eq!(fx.counts().await, before);
    assert_eq!(ok!(s.access_token(&digest("at"), at(T0))), None);
    assert_eq!(lookup(s, "rt", T0).await, RefreshLookup::Unknown);
}

/// Revoking twice is harmless.
pub async fn revoke_grant_is_idempotent<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    with_tokens(s).await;
    ok!(s.revoke_grant(&grant("g"), at(T0)));
    let after_first = fx.counts().await;
    ok!(s.revoke_grant(&grant("g"), at(T0 + 5)));
    assert_eq!(fx.counts().await, after_first);
    assert_eq!(ok!(s.access_token(&digest("at"), at(T0 + 5))), None);
    assert_eq!(
        lookup(s, "rt", T0 + 5).await,
        RefreshLookup::Retired(grant("g"))
    );
}

/// A revocation racing a token insertion never leaves a usable token behind: `CONCURRENCY / 2`
/// grants per round, each with an insertion and a revocation released at once.
pub async fn concurrent_revocation_and_insertion_never_leave_live_tokens<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    let pairs = CONCURRENCY / 2;
    for round in 0..RACE_ROUNDS {
        let names = |i: usize| {
            (
                format!("g-{round}-{i}"),
                format!("at-{round}-{i}"),
                format!("rt-{round}-{i}"),
            )
        };
        for i in 0..pairs {
            let (g, _, _) = names(i);
            let c = format!("c-{round}-{i}");
            ok!(fx
                .store
                .insert_code(&code(&c, &g, "rs-basic", T0 + 60), None));
            ok!(fx.store.redeem_code(&digest(&c), at(T0)));
        }
        // Tasks 0..pairs insert the tokens of grant i, tasks pairs..2*pairs revoke grant i.
        let outcomes = race(2 * pairs, |task| {
            let store = fx.store.clone();
            let (g, at_name, rt_name) = names(task % pairs);
            let (a, r) = (
                access(&at_name, &g, "rs-basic", T0 + 3600),
                refresh(&rt_name, &g, "rs-basic", T0 + 86_400),
            );
            async move {
                if task < pairs {
                    store.insert_tokens(&a, Some(&r)).await.map(Some)
                } else {
                    store.revoke_grant(&grant(&g), at(T0)).await.map(|()| None)
                }
            }
        })
        .await;
        for (i, outcome) in outcomes.into_iter().enumerate() {
            let outcome = outcome.expect("insert or revoke");
            if i >= pairs {
                assert_eq!(outcome, None);
                continue;
            }
            assert!(matches!(
                outcome,
                Some(Insertion::Stored | Insertion::GrantRevoked)
            ));
            let (_, at_name, rt_name) = names(i);
            assert_eq!(
                ok!(fx.store.access_token(&digest(&at_name), at(T0))),
                None,
                "round {round}, grant {i}: access token survived the revocation"
            );
            assert!(
                !is_live(&ok!(fx.store.refresh_token(&digest(&rt_name), at(T0)))),
                "round {round}, grant {i}: refresh token survived the revocation"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Refresh rotation

/// Rotation retires the old token (returning its record), stores the new one; reuse of the old
/// one is detected; revoking the grant ends the whole chain.
pub async fn rotation_retires_the_old_token_and_stores_the_new_one<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    with_tokens(s).await;
    let RefreshLookup::Live(old) = lookup(s, "rt", T0 + 10).await else {
        panic!("refresh token not live");
    };
    let new = refresh("rt2", "g", "rs-basic", T0 + 90_000);
    assert_eq!(
        ok!(s.rotate_refresh_token(&digest("rt"), &new, at(T0 + 10), None)),
        Rotation::Rotated(old)
    );
    assert!(is_rotated(&lookup(s, "rt", T0 + 10).await, "rt", T0 + 10));
    assert_eq!(
        lookup(s, "rt2", T0 + 10).await,
        RefreshLookup::Live(new.clone())
    );
    let another = refresh("rt3", "g", "rs-basic", T0 + 90_000);
    assert_eq!(
        ok!(s.rotate_refresh_token(&digest("rt"), &another, at(T0 + 20), None)),
        Rotation::Reused(grant("g"))
    );
    assert_eq!(lookup(s, "rt3", T0 + 20).await, RefreshLookup::Unknown);
    assert!(matches!(
        ok!(s.rotate_refresh_token(&digest("rt2"), &another, at(T0 + 30), None)),
        Rotation::Rotated(r) if r == new
    ));
    ok!(s.revoke_grant(&grant("g"), at(T0 + 40)));
    assert_retired_by_revocation(s, "rt3", T0 + 40).await;
}

/// Unknown and expired tokens do not rotate; a retired token reports reuse until its own
/// expiry, then nothing.
pub async fn rotation_of_unknown_or_expired_token_is_unknown<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    with_tokens(s).await;
    let new = refresh("rt2", "g", "rs-basic", T0 + 90_000);
    let rt_exp = T0 + 86_400;
    for now in [rt_exp, rt_exp + 1] {
        assert_eq!(
            ok!(s.rotate_refresh_token(&digest("rt"), &new, at(now), None)),
            Rotation::Unknown
        );
    }
    assert!(matches!(
        ok!(s.rotate_refresh_token(&digest("rt"), &new, at(rt_exp - 1), None)),
        Rotation::Rotated(_)
    ));
    let other = refresh("rt3", "g", "rs-basic", T0 + 90_000);
    assert_eq!(
        ok!(s.rotate_refresh_token(&digest("rt"), &other, at(rt_exp - 1), None)),
        Rotation::Reused(grant("g"))
    );
    assert_eq!(
        ok!(s.rotate_refresh_token(&digest("rt"), &other, at(rt_exp), None)),
        Rotation::Unknown
    );
}

/// A rotated token is reported `Rotated`, with its record and rotation time, until it would
/// have expired.
pub async fn refresh_lookup_reports_retired_until_the_old_token_would_have_expired<
    S: Storage + 'static,
>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    with_tokens(s).await;
    let rt_exp = T0 + 86_400;
    ok!(s.rotate_refresh_token(
        &digest("rt"),
        &refresh("rt2", "g", "rs-basic", T0 + 200_000),
        at(T0 + 1),
        None,
    ));
    assert!(is_rotated(
        &ok!(s.refresh_token(&digest("rt"), at(rt_exp - 1))),
        "rt",
        T0 + 1
    ));
    for now in [rt_exp, rt_exp + 1] {
        assert_eq!(lookup(s, "rt", now).await, RefreshLookup::Unknown);
    }
    assert!(is_live(&lookup(s, "rt2", rt_exp + 1).await));
}

/// A rotation whose new token names another grant changes nothing.
pub async fn rotation_into_another_grant_is_refused<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    with_tokens(s).await;
    let before = fx.counts().await;
    let foreign = refresh("rt2", "other", "rs-basic", T0 + 90_000);
    assert_eq!(
        ok!(s.rotate_refresh_token(&digest("rt"), &foreign, at(T0), None)),
        Rotation::Unknown
    );
    assert!(is_live(&lookup(s, "rt", T0).await));
    assert_eq!(lookup(s, "rt2", T0).await, RefreshLookup::Unknown);
    assert_eq!(fx.counts().await, before);
}

/// Of `CONCURRENCY` simultaneous rotations of one token exactly one wins, and only the winner's
/// new token is stored.
pub async fn concurrent_rotations_have_exactly_one_winner<S: Storage + 'static>(fx: &Fixture<S>) {
    for round in 0..RACE_ROUNDS {
        let g = format!("g-{round}");
        let old = format!("rt-{round}");
        ok!(fx.store.insert_tokens(
            &access(&format!("at-{round}"), &g, "rs-basic", T0 + 3600),
            Some(&refresh(&old, &g, "rs-basic", T0 + 86_400)),
        ));
        let outcomes = race(CONCURRENCY, |i| {
            let store = fx.store.clone();
            let new = refresh(&format!("rt-{round}-{i}"), &g, "rs-basic", T0 + 90_000);
            let old = digest(&old);
            async move {
                store
                    .rotate_refresh_token(&old, &new, at(T0 + 1), None)
                    .await
            }
        })
        .await;
        let mut winners = Vec::new();
        for (i, outcome) in outcomes.into_iter().enumerate() {
            match outcome.expect("rotate") {
                Rotation::Rotated(_) => winners.push(i),
                Rotation::Reused(reused) => assert_eq!(reused.as_str(), g),
                other => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        for i in 0..CONCURRENCY {
            let stored = ok!(fx
                .store
                .refresh_token(&digest(&format!("rt-{round}-{i}")), at(T0 + 1)));
            assert_eq!(
                is_live(&stored),
                i == winners[0],
                "round {round}, token {i}"
            );
        }
    }
}

/// After a rotation, `CONCURRENCY` simultaneous presentations of the old token are all reuse;
/// revoking the grant (as the driver does) then ends the successor too.
pub async fn concurrent_reuse_of_a_rotated_token_is_always_detected<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    with_tokens(s).await;
    assert!(matches!(
        ok!(s.rotate_refresh_token(
            &digest("rt"),
            &refresh("rt2", "g", "rs-basic", T0 + 90_000),
            at(T0 + 1),
            None
        )),
        Rotation::Rotated(_)
    ));
    let outcomes = race(CONCURRENCY, |i| {
        let store = fx.store.clone();
        let new = refresh(&format!("rt-x-{i}"), "g", "rs-basic", T0 + 90_000);
        async move {
            let lookup = store.refresh_token(&digest("rt"), at(T0 + 2)).await;
            let rotation = store
                .rotate_refresh_token(&digest("rt"), &new, at(T0 + 2), None)
                .await;
            (lookup, rotation)
        }
    })
    .await;
    for (lookup, rotation) in outcomes {
        assert!(is_rotated(&lookup.expect("lookup"), "rt", T0 + 1));
        assert_eq!(rotation.expect("rotate"), Rotation::Reused(grant("g")));
    }
    assert!(is_live(&lookup(s, "rt2", T0 + 2).await));
    ok!(s.revoke_grant(&grant("g"), at(T0 + 2)));
    assert_eq!(
        lookup(s, "rt2", T0 + 2).await,
        RefreshLookup::Retired(grant("g"))
    );
    assert_eq!(ok!(s.access_token(&digest("at"), at(T0 + 2))), None);
}

/// A rotation racing a revocation never leaves a live token.
pub async fn concurrent_rotation_and_revocation_leave_no_live_token<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    for round in 0..RACE_ROUNDS {
        let g = format!("g-{round}");
        let (old, new) = (format!("rt-{round}"), format!("rt-{round}-next"));
        ok!(fx.store.insert_tokens(
            &access(&format!("at-{round}"), &g, "rs-basic", T0 + 3600),
            Some(&refresh(&old, &g, "rs-basic", T0 + 86_400)),
        ));
        // Task 0 rotates, task 1 revokes.
        let mut outcomes = race(2, |task| {
            let store = fx.store.clone();
            let (old, new) = (digest(&old), refresh(&new, &g, "rs-basic", T0 + 90_000));
            let g = grant(&g);
            async move {
                if task == 0 {
                    store
                        .rotate_refresh_token(&old, &new, at(T0 + 1), None)
                        .await
                        .map(Some)
                } else {
                    store.revoke_grant(&g, at(T0 + 1)).await.map(|()| None)
                }
            }
        })
        .await;
        assert_eq!(outcomes.pop().map(|r| r.expect("revoke")), Some(None));
        let rotation = outcomes.pop().map(|r| r.expect("rotate"));
        assert!(
            matches!(rotation, Some(Some(Rotation::Rotated(_))))
                || rotation == Some(Some(Rotation::Reused(grant(&g)))),
            "round {round}: {rotation:?}"
        );
        for name in [&old, &new] {
            assert!(
                !is_live(&ok!(fx.store.refresh_token(&digest(name), at(T0 + 1)))),
                "round {round}: {name} still live"
            );
        }
    }
}

/// The reuse grace window (`grace_since`, decision 0018): a token rotated at or after
/// `grace_since` is rotated again (a second successor; its rotation time stays the first), one
/// rotated before it is reuse, and so is any token of a revoked grant.
pub async fn rotation_inside_the_grace_window_forks_and_after_it_is_reuse<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    with_tokens(s).await;
    let RefreshLookup::Live(old) = ok!(s.refresh_token(&digest("rt"), at(T0 + 10))) else {
        panic!("refresh token not live");
    };
    let first = refresh("rt2", "g", "rs-basic", T0 + 90_000);
    assert_eq!(
        ok!(s.rotate_refresh_token(&digest("rt"), &first, at(T0 + 10), Some(at(T0)))),
        Rotation::Rotated(old.clone()),
        "a live token rotates whatever the window"
    );
    let second = refresh("rt3", "g", "rs-basic", T0 + 90_000);
    assert_eq!(
        ok!(s.rotate_refresh_token(&digest("rt"), &second, at(T0 + 15), Some(at(T0 + 10)))),
        Rotation::Rotated(old),
        "rotated at the window's first second: rotated again"
    );
    for name in ["rt2", "rt3"] {
        assert!(
            is_live(&ok!(s.refresh_token(&digest(name), at(T0 + 15)))),
            "{name}"
        );
    }
    assert!(is_rotated(
        &ok!(s.refresh_token(&digest("rt"), at(T0 + 15))),
        "rt",
        T0 + 10
    ));
    let late = refresh("rt4", "g", "rs-basic", T0 + 90_000);
    assert_eq!(
        ok!(s.rotate_refresh_token(&digest("rt"), &late, at(T0 + 20), Some(at(T0 + 11)))),
        Rotation::Reused(grant("g")),
        "rotated before the window"
    );
    assert_eq!(
        ok!(s.rotate_refresh_token(&digest("rt"), &late, at(T0 + 20), None)),
        Rotation::Reused(grant("g")),
        "no window"
    );
    assert_eq!(
        ok!(s.refresh_token(&digest("rt4"), at(T0 + 20))),
        RefreshLookup::Unknown
    );
    ok!(s.revoke_grant(&grant("g"), at(T0 + 21)));
    assert_eq!(
        ok!(s.rotate_refresh_token(&digest("rt"), &late, at(T0 + 21), Some(at(T0)))),
        Rotation::Reused(grant("g")),
        "never for a revoked grant"
    );
    for name in ["rt", "rt2", "rt3", "rt4"] {
        assert!(
            !is_live(&ok!(s.refresh_token(&digest(name), at(T0 + 21)))),
            "{name}"
        );
    }
    assert_eq!(
        ok!(s.refresh_token(&digest("rt"), at(T0 + 21))),
        RefreshLookup::Retired(grant("g"))
    );
}

/// Inside the grace window, `CONCURRENCY` simultaneous rotations of one live token all succeed
/// (one retires it, the others rotate it again) and every successor is live.
pub async fn concurrent_rotations_inside_the_grace_window_all_succeed<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    with_tokens(s).await;
    let outcomes = race(CONCURRENCY, |i| {
        let store = fx.store.clone();
        let new = refresh(&format!("rt-g-{i}"), "g", "rs-basic", T0 + 90_000);
        async move {
            store
                .rotate_refresh_token(&digest("rt"), &new, at(T0 + 1), Some(at(T0 + 1)))
                .await
        }
    })
    .await;
    for (i, outcome) in outcomes.into_iter().enumerate() {
        assert!(
            matches!(outcome.expect("rotate"), Rotation::Rotated(_)),
            "rotation {i}"
        );
        let name = format!("rt-g-{i}");
        assert!(
            is_live(&ok!(s.refresh_token(&digest(&name), at(T0 + 1)))),
            "{name}"
        );
    }
    assert!(is_rotated(
        &ok!(s.refresh_token(&digest("rt"), at(T0 + 1))),
        "rt",
        T0 + 1
    ));
}

/// A rotation inside the grace window racing the grant's revocation never leaves a live token.
pub async fn grace_rotation_racing_revocation_leaves_no_live_token<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    for round in 0..RACE_ROUNDS {
        let g = format!("gg-{round}");
        let (old, first, again) = (
            format!("rt-{round}"),
            format!("rt-{round}-1"),
            format!("rt-{round}-2"),
        );
        ok!(fx.store.insert_tokens(
            &access(&format!("at-{round}"), &g, "rs-basic", T0 + 3600),
            Some(&refresh(&old, &g, "rs-basic", T0 + 86_400)),
        ));
        let next = refresh(&first, &g, "rs-basic", T0 + 90_000);
        ok!(fx
            .store
            .rotate_refresh_token(&digest(&old), &next, at(T0 + 1), None));
        let mut outcomes = race(2, |task| {
            let store = fx.store.clone();
            let (old, new) = (digest(&old), refresh(&again, &g, "rs-basic", T0 + 90_000));
            let g = grant(&g);
            async move {
                if task == 0 {
                    store
                        .rotate_refresh_token(&old, &new, at(T0 + 2), Some(at(T0)))
                        .await
                        .map(Some)
                } else {
                    store.revoke_grant(&g, at(T0 + 2)).await.map(|()| None)
                }
            }
        })
        .await;
        assert_eq!(outcomes.pop().map(|r| r.expect("revoke")), Some(None));
        let rotation = outcomes.pop().map(|r| r.expect("rotate"));
        assert!(
            matches!(rotation, Some(Some(Rotation::Rotated(_))))
                || rotation == Some(Some(Rotation::Reused(grant(&g)))),
            "round {round}: {rotation:?}"
        );
        for name in [&old, &first, &again] {
            assert!(
                !is_live(&ok!(fx.store.refresh_token(&digest(name), at(T0 + 2)))),
                "round {round}: {name} still live"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// jti

/// `record_jti` is a test-and-set per (client, `jti`) that forgets an entry at its expiry.
pub async fn jti_is_test_and_set_per_client_until_expiry<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    let (a, b) = (client_id("rs-basic"), client_id("es-post"));
    let exp = T0 + 300;
    assert!(ok!(s.record_jti(&a, "jti-1", at(exp), at(T0))));
    assert!(!ok!(s.record_jti(&a, "jti-1", at(exp), at(T0 + 1))));
    assert!(!ok!(s.record_jti(&a, "jti-1", at(exp), at(exp - 1))));
    assert!(ok!(s.record_jti(&b, "jti-1", at(exp), at(T0))));
    assert!(ok!(s.record_jti(&a, "jti-2", at(exp), at(T0))));
    // A long jti (the key is its digest) and one differing only in case are distinct entries.
    let long = "x".repeat(10_000);
    assert!(ok!(s.record_jti(&a, &long, at(exp), at(T0))));
    assert!(!ok!(s.record_jti(&a, &long, at(exp), at(T0))));
    assert!(ok!(s.record_jti(&a, "JTI-1", at(exp), at(T0))));
    // From its expiry on the jti is forgotten, then recorded anew with the new expiry.
    assert!(ok!(s.record_jti(&a, "jti-1", at(exp + 300), at(exp))));
    assert!(!ok!(s.record_jti(&a, "jti-1", at(exp + 300), at(exp + 1))));
    fx.check_counts(|c| assert_eq!(c.jtis, 5)).await;
}

/// Of `CONCURRENCY` simultaneous recordings of one `jti` exactly one is new.
pub async fn concurrent_jti_recording_has_exactly_one_winner<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    for round in 0..RACE_ROUNDS {
        let jti = format!("same-{round}");
        let outcomes = race(CONCURRENCY, |_| {
            let (store, jti) = (fx.store.clone(), jti.clone());
            async move {
                store
                    .record_jti(&client_id("rs-basic"), &jti, at(T0 + 60), at(T0))
                    .await
            }
        })
        .await;
        let new = outcomes
            .into_iter()
            .filter(|outcome| *outcome.as_ref().expect("record"))
            .count();
        assert_eq!(new, 1, "round {round}");
    }
}

// ---------------------------------------------------------------------------------------------
// Pushed authorization requests

/// A pushed request named `name` of `client`, expiring at `expires_at`, with parameters that
/// exercise ordering, repetition and non-ASCII text.
#[must_use]
pub fn pushed(name: &str, client: &str, expires_at: u64) -> PushedRequestRecord {
    PushedRequestRecord {
        digest: digest(name),
        client_id: client_id(client),
        params: vec![
            ("response_type".into(), "code id_token".into()),
            ("client_id".into(), client.into()),
            ("scope".into(), "openid profile".into()),
            ("nonce".into(), "n-0S6 \u{e9}\u{1F600}".into()),
            (
                "claims".into(),
                r#"{"id_token":{"acr":{"essential":true}}}"#.into(),
            ),
        ],
        expires_at: at(expires_at),
    }
}

/// A pushed request is returned exactly once, unchanged, while live (RFC 9126 §4: single use);
/// an expired one is never returned; a sweep removes expired ones.
pub async fn pushed_request_is_taken_once<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    let record = pushed("par-1", "rs-basic", T0 + 60);
    ok!(s.insert_pushed_request(&record));
    assert_eq!(
        ok!(s.take_pushed_request(&record.digest, at(T0))),
        Some(record.clone())
    );
    assert_eq!(
        ok!(s.take_pushed_request(&record.digest, at(T0))),
        None,
        "single use"
    );
    let stale = pushed("par-2", "rs-basic", T0 + 60);
    ok!(s.insert_pushed_request(&stale));
    assert_eq!(
        ok!(s.take_pushed_request(&stale.digest, at(T0 + 60))),
        None,
        "expired at expires_at"
    );
    assert_eq!(ok!(s.take_pushed_request(&digest("never"), at(T0))), None);
    let swept = pushed("par-3", "es-post", T0 + 10);
    ok!(s.insert_pushed_request(&swept));
    assert!(ok!(s.sweep_expired(at(T0 + 10))) >= 1);
    assert_eq!(
        ok!(s.take_pushed_request(&swept.digest, at(T0))),
        None,
        "swept"
    );
}

/// Of `CONCURRENCY` simultaneous uses of one `request_uri` exactly one gets the request.
pub async fn concurrent_pushed_request_takes_have_exactly_one_winner<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    for round in 0..RACE_ROUNDS {
        let record = pushed(&format!("raced-{round}"), "rs-basic", T0 + 60);
        ok!(fx.store.insert_pushed_request(&record));
        let outcomes = race(CONCURRENCY, |_| {
            let (store, digest) = (fx.store.clone(), record.digest);
            async move { store.take_pushed_request(&digest, at(T0)).await }
        })
        .await;
        let winners: Vec<_> = outcomes
            .into_iter()
            .filter_map(|outcome| outcome.expect("take"))
            .collect();
        assert_eq!(winners, vec![record], "round {round}");
    }
}

// ---------------------------------------------------------------------------------------------
// OP sessions

/// A session `name` created at `T0`, idle-expiring at `expires_at`, ending at `ends_at` at the
/// latest.
///
/// # Panics
///
/// If `name` is not a valid session id.
#[must_use]
pub fn session(name: &str, expires_at: u64, ends_at: u64) -> SessionRecord {
    SessionRecord {
        sid: SessionId::new(name).expect("session id"),
        subject: Subject::new("alice").expect("subject"),
        auth_time: at(T0 - 5),
        acr: Some("urn:example:loa:2".into()),
        amr: vec!["pwd".into(), "otp".into()],
        created_at: at(T0),
        expires_at: at(expires_at),
        ends_at: at(ends_at),
    }
}

/// A grant `grant` of `client` recorded with a session.
///
/// # Panics
///
/// If a name is not a valid grant or client id.
#[must_use]
pub fn session_grant(grant: &str, client: &str, offline: bool) -> SessionGrant {
    SessionGrant {
        grant_id: GrantId::new(grant),
        client_id: client_id(client),
        subject: Subject::new("pairwise-alice").expect("subject"),
        offline,
    }
}

/// Create, touch (never back, never past `ends_at`), record grants (in order, once each), list them, end
/// once: the whole life of a session, and nothing works on it after its end.
pub async fn session_lifecycle<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    let record = session("sid-1", T0 + 100, T0 + 1000);
    let sid = record.sid.clone();
    assert!(ok!(s.create_session(&record)), "new");
    assert!(
        !ok!(s.create_session(&session("sid-1", T0 + 5, T0 + 5))),
        "id taken"
    );
    let touched = ok!(s.touch_session(&sid, at(T0 + 50), at(T0 + 150)));
    let mut expected = record.clone();
    expected.expires_at = at(T0 + 150);
    assert_eq!(touched, Some(expected.clone()), "idle expiry moved on");
    let earlier = ok!(s.touch_session(&sid, at(T0 + 60), at(T0 + 120)));
    assert_eq!(earlier, Some(expected.clone()), "never moved back");
    let capped = ok!(s.touch_session(&sid, at(T0 + 100), at(T0 + 5000)));
    expected.expires_at = at(T0 + 1000);
    assert_eq!(capped, Some(expected.clone()), "never past ends_at");
    let (a, b) = (
        session_grant("g-a", "rs-basic", false),
        session_grant("g-b", "es-post", true),
    );
    assert!(ok!(s.add_session_grant(&sid, &a, at(T0 + 101))));
    assert!(ok!(s.add_session_grant(&sid, &b, at(T0 + 102))));
    assert!(
        ok!(s.add_session_grant(&sid, &a, at(T0 + 103))),
        "again: no change"
    );
    assert_eq!(
        ok!(s.session_grants(&sid, at(T0 + 104))),
        vec![a.clone(), b.clone()]
    );
    let unknown = SessionId::new("nobody").expect("sid");
    assert_eq!(ok!(s.session_grants(&unknown, at(T0))), vec![]);
    assert!(
        !ok!(s.add_session_grant(&unknown, &a, at(T0))),
        "unknown session"
    );
    assert_eq!(ok!(s.touch_session(&unknown, at(T0), at(T0 + 1))), None);
    let ended = ok!(s.end_session(&sid, at(T0 + 105))).expect("ended once");
    assert_eq!(ended.record, expected);
    assert_eq!(ended.grants, vec![a.clone(), b]);
    assert_eq!(ok!(s.end_session(&sid, at(T0 + 105))), None, "single use");
    assert_eq!(ok!(s.touch_session(&sid, at(T0 + 106), at(T0 + 200))), None);
    assert!(!ok!(s.add_session_grant(&sid, &a, at(T0 + 106))), "ended");
    assert_eq!(ok!(s.session_grants(&sid, at(T0 + 106))), vec![]);
}

/// A session is gone at its `expires_at`: not touched (never revived), no grant recorded, no
/// logout gets it; a sweep removes it.
pub async fn session_expiry_boundary<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    let record = session("sid-2", T0 + 10, T0 + 1000);
    let sid = record.sid.clone();
    assert!(ok!(s.create_session(&record)));
    let grant = session_grant("g-2", "rs-basic", false);
    assert!(ok!(s.add_session_grant(&sid, &grant, at(T0 + 9))));
    assert_eq!(ok!(s.touch_session(&sid, at(T0 + 10), at(T0 + 500))), None);
    assert!(!ok!(s.add_session_grant(&sid, &grant, at(T0 + 10))));
    assert_eq!(ok!(s.session_grants(&sid, at(T0 + 10))), vec![]);
    assert_eq!(ok!(s.end_session(&sid, at(T0 + 10))), None, "expired");
    let other = session("sid-3", T0 + 10, T0 + 1000);
    assert!(ok!(s.create_session(&other)));
    assert_eq!(ok!(s.sweep_expired(at(T0 + 9))), 0, "still live");
    assert!(ok!(s.sweep_expired(at(T0 + 10))) >= 1, "swept");
    assert!(ok!(s.create_session(&other)), "its id is free again");
    assert_eq!(
        ok!(s.session_grants(&other.sid, at(T0))),
        vec![],
        "no grant left behind"
    );
}

/// Of `CONCURRENCY` simultaneous logouts of one session exactly one gets it (and notifies its
/// clients).
pub async fn concurrent_logouts_have_exactly_one_winner<S: Storage + 'static>(fx: &Fixture<S>) {
    for round in 0..RACE_ROUNDS {
        let record = session(&format!("raced-{round}"), T0 + 100, T0 + 1000);
        ok!(fx.store.create_session(&record));
        let grant = session_grant(&format!("g-{round}"), "rs-basic", false);
        ok!(fx.store.add_session_grant(&record.sid, &grant, at(T0)));
        let outcomes = race(CONCURRENCY, |_| {
            let (store, sid) = (fx.store.clone(), record.sid.clone());
            async move { store.end_session(&sid, at(T0 + 1)).await }
        })
        .await;
        let winners: Vec<_> = outcomes
            .into_iter()
            .filter_map(|outcome| outcome.expect("end"))
            .collect();
        assert_eq!(winners.len(), 1, "round {round}");
        assert_eq!(winners[0].grants, vec![grant], "round {round}");
    }
}

/// Grants recorded while a logout ends the session: every grant whose recording succeeded is
/// among the grants the logout returns (none is recorded beside it and missed), and a
/// recording after the end fails.
pub async fn concurrent_grants_and_logout_lose_no_grant<S: Storage + 'static>(fx: &Fixture<S>) {
    for round in 0..RACE_ROUNDS {
        let record = session(&format!("busy-{round}"), T0 + 100, T0 + 1000);
        ok!(fx.store.create_session(&record));
        let outcomes = race(CONCURRENCY, |i| {
            let (store, sid) = (fx.store.clone(), record.sid.clone());
            let grant = session_grant(&format!("g-{round}-{i}"), "rs-basic", false);
            async move {
                if i == CONCURRENCY / 2 {
                    let ended = store.end_session(&sid, at(T0 + 1)).await.expect("end");
                    (None, ended)
                } else {
                    let added = store.add_session_grant(&sid, &grant, at(T0 + 1)).await;
                    (added.expect("add").then_some(grant), None)
                }
            }
        })
        .await;
        let mut added = Vec::new();
        let mut ended = None;
        for (grant, end) in outcomes {
            added.extend(grant);
            ended = ended.or(end);
        }
        let ended = ended.expect("the one logout ends the live session");
        for grant in &added {
            assert!(
                ended.grants.contains(grant),
                "round {round}: {grant:?} missed"
            );
        }
        assert_eq!(ended.grants.len(), added.len(), "round {round}");
    }
}

/// Concurrent touches of one session asking for different expiries: each sees the session
/// living at least until what it asked (capped at its end), and the latest expiry asked wins —
/// an expiry never moves back, whatever the order the touches ran in.
pub async fn concurrent_touches_keep_the_latest_expiry<S: Storage + 'static>(fx: &Fixture<S>) {
    let record = session("sid-touched", T0 + 100, T0 + 1000);
    let sid = record.sid.clone();
    assert!(ok!(fx.store.create_session(&record)));
    let outcomes = race(CONCURRENCY, |i| {
        let (store, sid) = (fx.store.clone(), sid.clone());
        let target = T0 + 200 + 7 * i as u64;
        async move {
            let touched = store.touch_session(&sid, at(T0 + 1), at(target)).await;
            (target, touched.expect("touch"))
        }
    })
    .await;
    let latest = outcomes
        .iter()
        .map(|(target, _)| *target)
        .max()
        .expect("touches");
    for (target, touched) in outcomes {
        let touched = touched.expect("the session lives");
        assert!(
            touched.expires_at >= at(target.min(T0 + 1000)),
            "a touch asking for {target} saw {:?}",
            touched.expires_at
        );
    }
    let after = ok!(fx.store.touch_session(&sid, at(T0 + 2), at(T0 + 150))).expect("live");
    assert_eq!(
        after.expires_at,
        at(latest.min(T0 + 1000)),
        "the latest expiry won"
    );
}

/// An approval under a session stores its code (with the front-channel token) and records its
/// grant, both in one call while the session lives, and neither once it ended.
pub async fn approval_under_a_session_stores_code_and_grant_or_neither<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    let record = session("sid-approve", T0 + 100, T0 + 1000);
    let sid = record.sid.clone();
    assert!(ok!(s.create_session(&record)));
    let grant = session_grant("g-approve", "rs-basic", false);
    let front = access("fc-approve", "g-approve", "rs-basic", T0 + 600);
    let approved = code("c-approve", "g-approve", "rs-basic", T0 + 60);
    assert!(ok!(s.insert_code_in_session(
        &approved,
        Some(&front),
        &sid,
        &grant,
        at(T0 + 1)
    )));
    assert_eq!(ok!(s.session_grants(&sid, at(T0 + 2))), vec![grant.clone()]);
    assert!(ok!(s.access_token(&digest("fc-approve"), at(T0 + 2))).is_some());
    assert_eq!(
        redeem(s, "c-approve", T0 + 2).await,
        Redemption::Fresh(approved)
    );
    assert!(ok!(s.end_session(&sid, at(T0 + 3))).is_some());
    let late_grant = session_grant("g-late", "rs-basic", false);
    let late = code("c-late", "g-late", "rs-basic", T0 + 60);
    assert!(
        !ok!(s.insert_code_in_session(&late, None, &sid, &late_grant, at(T0 + 4))),
        "the session ended: nothing stored"
    );
    assert_eq!(redeem(s, "c-late", T0 + 5).await, Redemption::Unknown);
}

/// Approvals under a session racing its logout: each approval that succeeded has its grant in
/// what the one logout returned and its code stored; each that failed stored nothing.
pub async fn concurrent_approvals_and_logout_lose_no_grant<S: Storage + 'static>(fx: &Fixture<S>) {
    for round in 0..RACE_ROUNDS {
        let record = session(&format!("approving-{round}"), T0 + 100, T0 + 1000);
        ok!(fx.store.create_session(&record));
        let outcomes = race(CONCURRENCY, |i| {
            let (store, sid) = (fx.store.clone(), record.sid.clone());
            let name = format!("a-{round}-{i}");
            let grant = session_grant(&name, "rs-basic", false);
            let approved = code(&name, &name, "rs-basic", T0 + 60);
            async move {
                if i == CONCURRENCY / 2 {
                    let ended = store.end_session(&sid, at(T0 + 1)).await.expect("end");
                    (None, ended)
                } else {
                    let stored = store
                        .insert_code_in_session(&approved, None, &sid, &grant, at(T0 + 1))
                        .await
                        .expect("approve");
                    (Some((name, grant, stored)), None)
                }
            }
        })
        .await;
        let ended = outcomes
            .iter()
            .find_map(|(_, end)| end.clone())
            .expect("the one logout ends the live session");
        for (name, grant, stored) in outcomes.into_iter().filter_map(|(a, _)| a) {
            assert_eq!(
                ended.grants.contains(&grant),
                stored,
                "round {round}: {name}"
            );
            let redeemed = redeem(&*fx.store, &name, T0 + 2).await;
            assert_eq!(
                matches!(redeemed, Redemption::Fresh(_)),
                stored,
                "round {round}: {name}'s code stored exactly when its grant was recorded"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sweeping

/// A sweep removes exactly the entries expired at `now`: the same counts on every backend.
pub async fn sweep_removes_exactly_what_expired<S: Storage + 'static>(fx: &Fixture<S>) {
    let s = &*fx.store;
    with_tokens(s).await;
    ok!(s.record_jti(&client_id("rs-basic"), "j", at(T0 + 60), at(T0)));
    let one_each = StoreCounts {
        codes: 1,
        access_tokens: 1,
        refresh_tokens: 1,
        grants: 1,
        jtis: 1,
    };
    fx.check_counts(|c| assert_eq!(c, one_each)).await;
    assert_eq!(ok!(s.sweep_expired(at(T0 + 59))), 0);
    // The jti expires at T0+60; the code tombstone lives as long as the grant's tokens.
    assert_eq!(ok!(s.sweep_expired(at(T0 + 60))), 1);
    fx.check_counts(|c| {
        assert_eq!(
            c,
            StoreCounts {
                jtis: 0,
                ..one_each
            }
        );
    })
    .await;
    assert_eq!(ok!(s.sweep_expired(at(T0 + 3600))), 1);
    fx.check_counts(|c| assert_eq!(c.access_tokens, 0)).await;
    assert!(is_live(&lookup(s, "rt", T0 + 3600).await));
    // The refresh token, the code tombstone and the grant go together.
    assert_eq!(ok!(s.sweep_expired(at(T0 + 86_400))), 3);
    fx.check_counts(|c| assert_eq!(c, StoreCounts::default()))
        .await;
    assert_eq!(ok!(s.sweep_expired(at(T0 + 86_400))), 0);
    // Clients are never swept.
    assert!(ok!(s.client(&client_id("rs-basic"))).is_some());
}

/// A replay after the code's own expiry, while tokens of its grant live, is still a replay and
/// names the grant (RFC 6749 §4.1.2); the tombstone ends with the grant's last token.
pub async fn late_replay_is_recognised_while_the_grant_lives<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    ok!(s.insert_code(&code("c", "g", "rs-basic", T0 + 60), None));
    assert!(matches!(redeem(s, "c", T0).await, Redemption::Fresh(_)));
    ok!(s.insert_tokens(&access("at", "g", "rs-basic", T0 + 3600), None));
    assert_eq!(
        redeem(s, "c", T0 + 600).await,
        Redemption::Replayed(grant("g"))
    );
    assert_eq!(ok!(s.sweep_expired(at(T0 + 600))), 0);
    // A rotation later in the grant pushes the tombstone further.
    ok!(s.insert_tokens(
        &access("at2", "g", "rs-basic", T0 + 3600),
        Some(&refresh("rt", "g", "rs-basic", T0 + 7200))
    ));
    ok!(s.rotate_refresh_token(
        &digest("rt"),
        &refresh("rt2", "g", "rs-basic", T0 + 9000),
        at(T0 + 700),
        None
    ));
    assert_eq!(
        redeem(s, "c", T0 + 8999).await,
        Redemption::Replayed(grant("g"))
    );
    assert_eq!(redeem(s, "c", T0 + 9000).await, Redemption::Unknown);
}

/// A revocation marker outlives the grant by the grace period, so late insertions are refused;
/// then it is swept.
pub async fn sweep_keeps_revocation_markers_for_the_grace_period<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    ok!(s.insert_code(&code("c", "g", "rs-basic", T0 + 60), None));
    redeem(s, "c", T0).await;
    ok!(s.revoke_grant(&grant("g"), at(T0 + 10)));
    let marker_until = T0 + 60 + REVOCATION_GRACE_SECS;
    assert_eq!(ok!(s.sweep_expired(at(T0 + 60))), 1);
    fx.check_counts(|c| assert_eq!(c.grants, 1)).await;
    assert_eq!(
        ok!(s.insert_tokens(&access("at", "g", "rs-basic", T0 + 3600), None)),
        Insertion::GrantRevoked
    );
    assert_eq!(ok!(s.sweep_expired(at(marker_until - 1))), 0);
    assert_eq!(ok!(s.sweep_expired(at(marker_until))), 1);
    fx.check_counts(|c| assert_eq!(c, StoreCounts::default()))
        .await;
    // A revocation later than the grant's expiry is measured from the revocation.
    ok!(s.revoke_grant(&grant("late"), at(T0 + 5000)));
    assert_eq!(
        ok!(s.sweep_expired(at(T0 + 5000 + REVOCATION_GRACE_SECS - 1))),
        0
    );
    assert_eq!(
        ok!(s.sweep_expired(at(T0 + 5000 + REVOCATION_GRACE_SECS))),
        1
    );
}

/// Retired refresh tokens are swept at their own expiry; the successor and the grant stay.
pub async fn sweep_removes_retired_refresh_tombstones_at_their_expiry<S: Storage + 'static>(
    fx: &Fixture<S>,
) {
    let s = &*fx.store;
    with_tokens(s).await;
    ok!(s.rotate_refresh_token(
        &digest("rt"),
        &refresh("rt2", "g", "rs-basic", T0 + 200_000),
        at(T0 + 1),
        None,
    ));
    fx.check_counts(|c| assert_eq!(c.refresh_tokens, 2)).await;
    ok!(s.sweep_expired(at(T0 + 86_400)));
    fx.check_counts(|c| assert_eq!(c.refresh_tokens, 1)).await;
    assert_eq!(
        ok!(s.rotate_refresh_token(
            &digest("rt"),
            &refresh("rt3", "g", "rs-basic", T0 + 200_000),
            at(T0 + 86_400),
            None
        )),
        Rotation::Unknown
    );
    assert!(is_live(&lookup(s, "rt2", T0 + 86_400).await));
    fx.check_counts(|c| assert_eq!(c.grants, 1)).await;
}

/// Instantiates the whole storage contract suite for a store: a module `$name` of `#[test]`s,
/// one per rule, each on a fresh fixture from `$make` and its own multi-threaded tokio runtime
/// (see [`contract::run`](crate::contract::run)).
///
/// `$make` is a function or closure taking the [standard
/// clients](crate::fixtures::standard_clients) (`Vec<Client>`) and returning a future of a
/// [`Fixture`](crate::contract::Fixture) of a store holding them — or of `Option<Fixture>`,
/// where `None` skips the test. It is evaluated inside the generated module, which imports
/// everything of the calling module (`use super::*`).
///
/// ```ignore
/// oidc_hybrid_testkit::storage_contract!(my_store, |clients| async move {
///     Fixture::new(MyStore::with_clients(clients))
/// });
/// ```
#[macro_export]
macro_rules! storage_contract {
    ($name:ident, $make:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $crate::storage_contract!(@tests $make;
                clients_round_trip,
                code_round_trip_returns_the_exact_record,
                code_redeemed_twice_is_replayed_with_its_grant,
                unknown_ids_are_unknown,
                code_expiry_boundary,
                code_with_token_of_another_grant_stores_neither,
                code_insert_never_overwrites_and_cannot_revive_a_used_code,
                code_for_a_revoked_grant_is_not_stored,
                records_of_different_clients_stay_apart,
                concurrent_redemptions_have_exactly_one_winner,
                token_round_trips,
                token_expiry_boundaries,
                token_insert_retried_is_idempotent_and_never_revives,
                token_insert_with_mismatched_grants_stores_nothing,
                revoke_access_token_removes_only_that_token,
                replay_then_revoke_ends_every_token_of_the_grant,
                revoke_grant_makes_an_unused_code_unusable_and_removes_front_channel_token,
                insert_tokens_after_revoke_is_refused_and_stores_nothing,
                revoke_grant_is_idempotent,
                concurrent_revocation_and_insertion_never_leave_live_tokens,
                rotation_retires_the_old_token_and_stores_the_new_one,
                rotation_of_unknown_or_expired_token_is_unknown,
                refresh_lookup_reports_retired_until_the_old_token_would_have_expired,
                rotation_into_another_grant_is_refused,
                concurrent_rotations_have_exactly_one_winner,
                concurrent_reuse_of_a_rotated_token_is_always_detected,
                concurrent_rotation_and_revocation_leave_no_live_token,
                rotation_inside_the_grace_window_forks_and_after_it_is_reuse,
                concurrent_rotations_inside_the_grace_window_all_succeed,
                grace_rotation_racing_revocation_leaves_no_live_token,
                jti_is_test_and_set_per_client_until_expiry,
                concurrent_jti_recording_has_exactly_one_winner,
                pushed_request_is_taken_once,
                concurrent_pushed_request_takes_have_exactly_one_winner,
                session_lifecycle,
                session_expiry_boundary,
                concurrent_touches_keep_the_latest_expiry,
                approval_under_a_session_stores_code_and_grant_or_neither,
                concurrent_approvals_and_logout_lose_no_grant,
                concurrent_logouts_have_exactly_one_winner,
                concurrent_grants_and_logout_lose_no_grant,
                sweep_removes_exactly_what_expired,
                late_replay_is_recognised_while_the_grant_lives,
                sweep_keeps_revocation_markers_for_the_grace_period,
                sweep_removes_retired_refresh_tombstones_at_their_expiry,
            );
        }
    };
    (@tests $make:expr; $($test:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                $crate::contract::run($make, |fixture| async move {
                    $crate::contract::$test(&fixture).await;
                });
            }
        )*
    };
}
