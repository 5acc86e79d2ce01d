//! Database round trips per leg of whole flows through a `Provider`, counted by
//! `SqlStore::round_trips`, and the SQL stores' client cache.
//!
//! On PostgreSQL every statement is a network round trip, so each leg is held to at most two:
//! authorization (`authorize` + `approve`), token (code redemption), UserInfo. A refresh costs
//! three: the driver makes three storage calls, each needing the previous one's answer (see
//! docs/storage.md). SQLite runs its statements in process; its counts are reported, not held
//! to a bound.
//!
//! PostgreSQL tests are skipped with `skipped: no PostgreSQL at …` when no server is reachable,
//! and fail instead under `CI=true`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use oidc_hybrid::{
    Approval, Client, ClientId, Clock, Insertion, Params, Provider, Redemption, Reject, Storage,
    Subject,
};
use oidc_hybrid_rustcrypto::OsRandom;
use oidc_hybrid_sql::sqlx::ConnectOptions as _;
use oidc_hybrid_sql::{PostgresStore, SqlError, SqliteStore};
use oidc_hybrid_testkit::contract::{
    CONCURRENCY, RACE_ROUNDS, T0, access, at, code, digest, race, refresh,
};
use oidc_hybrid_tests::backends::{self, PgDatabase, SqlAdmin};
use oidc_hybrid_tests::{
    Directory, REDIRECT_URI, SECRET, TestClock, auth_pairs, client, form, issue_on, provider_over,
    redeem_pairs, refresh_pairs, standard_clients, token_on,
};
use serde_json::json;

const NOW: u64 = 1_800_000_000;

/// The client administration of both SQL stores (inherent methods of each instantiation).
trait Admin {
    async fn insert(&self, client: &Client) -> Result<(), SqlError>;
    async fn register(&self, json: &str) -> Result<Client, SqlError>;
    async fn replace(&self, client: &Client) -> Result<(), SqlError>;
    async fn remove(&self, id: &ClientId) -> Result<bool, SqlError>;
}

macro_rules! admin {
    ($store:ty) => {
        impl Admin for $store {
            async fn insert(&self, client: &Client) -> Result<(), SqlError> {
                self.insert_client(client).await
            }
            async fn register(&self, json: &str) -> Result<Client, SqlError> {
                self.register_client(json).await
            }
            async fn replace(&self, client: &Client) -> Result<(), SqlError> {
                self.replace_client(client).await
            }
            async fn remove(&self, id: &ClientId) -> Result<bool, SqlError> {
                self.remove_client(id).await
            }
        }
    };
}

admin!(SqliteStore);
admin!(PostgresStore);

type Node<S> = Provider<S, TestClock, OsRandom>;

/// What each leg of one flow cost, in round trips.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
struct Legs {
    /// `authorize` + `approve` (the code, and the front-channel token if any, stored).
    authorize: u64,
    /// UserInfo with the front-channel access token (`code token` only).
    front_userinfo: Option<u64>,
    /// The token request redeeming the code.
    token: u64,
    /// UserInfo with the access token from the token endpoint.
    userinfo: u64,
    /// The token request with the refresh token.
    refresh: u64,
}

async fn sqlite() -> SqliteStore {
    let store = SqliteStore::memory().await.expect("in-memory SQLite");
    backends::prepared(store, standard_clients()).await
}

async fn postgres(db: &PgDatabase) -> PostgresStore {
    let store = PostgresStore::from_pool(db.pool(4).await);
    backends::prepared(store, standard_clients()).await
}

/// One whole flow of `response_type` for `rs-basic`, every response checked, with the round
/// trips of each leg.
async fn flow<S: SqlAdmin>(node: &Node<S>, clock: &TestClock, response_type: &str) -> Legs {
    let trips = || node.storage().statements();
    let userinfo = |token: String| async move {
        let claims = node
            .userinfo(&Directory, Some(format!("Bearer {token}").as_str()), None)
            .await
            .expect("UserInfo accepts the token");
        assert_eq!(claims["sub"], "alice");
    };

    let approval = Approval::new(Subject::new("alice").expect("subject"), clock.now())
        .with_amr(["pwd"])
        // The flow refreshes: the host issues a refresh token (decision 0018).
        .with_refresh_token(true);
    let start = trips();
    let delivered = issue_on(node, &auth_pairs(response_type, "rs-basic"), approval).await;
    let authorize = trips() - start;
    let code = delivered["code"].clone();

    let front_userinfo = match delivered.get("access_token") {
        Some(front) => {
            let start = trips();
            userinfo(front.clone()).await;
            Some(trips() - start)
        }
        None => None,
    };
    assert_eq!(
        front_userinfo.is_some(),
        response_type.split(' ').any(|t| t == "token"),
        "{response_type}: front-channel access token"
    );

    clock.advance(1);
    let redeem = redeem_pairs(&code);
    let start = trips();
    let tokens = token_on(node, &redeem).await.expect("the code redeems");
    let token = trips() - start;
    assert!(tokens.id_token().is_some());

    let start = trips();
    userinfo(tokens.access_token().to_owned()).await;
    let userinfo_trips = trips() - start;

    clock.advance(1);
    let refresh_token = tokens.refresh_token().expect("a refresh token");
    let refresh = refresh_pairs(refresh_token, None);
    let start = trips();
    let refreshed = token_on(node, &refresh)
        .await
        .expect("the refresh token refreshes");
    let refresh = trips() - start;
    assert_ne!(refreshed.refresh_token(), Some(refresh_token), "rotated");
    userinfo(refreshed.access_token().to_owned()).await;

    Legs {
        authorize,
        front_userinfo,
        token,
        userinfo: userinfo_trips,
        refresh,
    }
}

/// A cold flow (the first lookup of the client misses the cache), then warm flows of
/// `code id_token` and `code token`; returns the cold legs and the warm legs of each type.
async fn flows<S: SqlAdmin>(store: S, backend: &str) -> (Legs, Vec<(&'static str, Legs)>) {
    let clock = TestClock::at(NOW);
    let node = provider_over(store, clock.clone());
    let cold = flow(&node, &clock, "code id_token").await;
    eprintln!("{backend}, code id_token, cold client cache: {cold:?}");
    let mut warm = Vec::new();
    for response_type in ["code id_token", "code token"] {
        let legs = flow(&node, &clock, response_type).await;
        eprintln!("{backend}, {response_type}, warm client cache: {legs:?}");
        warm.push((response_type, legs));
    }
    (cold, warm)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_flows_cost_at_most_two_round_trips_per_leg() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let (cold, warm) = flows(postgres(&db).await, "postgres").await;
    for (response_type, legs) in &warm {
        assert!(legs.authorize <= 2, "{response_type}: {legs:?}");
        assert!(legs.token <= 2, "{response_type}: {legs:?}");
        assert!(legs.userinfo <= 2, "{response_type}: {legs:?}");
        assert!(
            legs.front_userinfo.is_none_or(|n| n <= 2),
            "{response_type}: {legs:?}"
        );
        // The driver makes three storage calls for a refresh (look up, rotate, store the
        // access token), each needing the answer of the one before.
        assert!(legs.refresh <= 3, "{response_type}: {legs:?}");
        // Exactly: the client from the cache; one statement per storage call.
        assert_eq!(
            *legs,
            Legs {
                authorize: 1,
                front_userinfo: legs.front_userinfo.map(|_| 1),
                token: 2,
                userinfo: 1,
                refresh: 3,
            },
            "{response_type}"
        );
    }
    // The first request reads the client from the database, once.
    assert_eq!(cold.authorize, warm[0].1.authorize + 1, "{cold:?}");
    assert!(cold.authorize <= 2, "{cold:?}");
    assert_eq!(cold.token, warm[0].1.token, "{cold:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_flows_report_their_round_trips() {
    let (cold, warm) = flows(sqlite().await, "sqlite").await;
    // Transactions of several statements, in process: reported, not bounded. The client cache
    // still saves the lookup.
    assert_eq!(cold.authorize, warm[0].1.authorize + 1, "{cold:?}");
    for (response_type, legs) in &warm {
        assert_eq!(legs.userinfo, 1, "{response_type}: {legs:?}");
        assert!(
            legs.front_userinfo.is_none_or(|n| n == 1),
            "{response_type}: {legs:?}"
        );
    }
}

/// A store from `PostgresStore::connect` (its own pool settings): the same counts, and a
/// connection idle for longer than `PING_AFTER_IDLE` is checked and used as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_from_connect_costs_the_same() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    postgres(&db).await.close().await;
    let url = db.options().to_url_lossy().to_string();
    let store = PostgresStore::connect(&url).await.expect("connect");
    let id = ClientId::new("rs-basic").expect("id");
    assert!(store.client(&id).await.expect("lookup").is_some());
    let (_, warm) = flows(store.clone(), "postgres (connect)").await;
    assert_eq!(warm[0].1.authorize, 1, "{warm:?}");
    assert_eq!(warm[0].1.token, 2, "{warm:?}");
    tokio::time::sleep(oidc_hybrid_sql::PING_AFTER_IDLE + Duration::from_millis(100)).await;
    let start = store.statements();
    assert_eq!(store.counts().await.expect("counts").clients, 4);
    assert_eq!(
        store.statements() - start,
        1,
        "the liveness check is not a statement"
    );
}

/// The same flows with the client cache disabled: every client lookup reads the database.
async fn flows_without_cache<S: SqlAdmin>(store: S, backend: &str) {
    let cached = store.clone();
    let uncached = store.with_ttl(Duration::ZERO);
    assert_eq!(uncached.cache_ttl(), Duration::ZERO);
    let id = ClientId::new("rs-basic").expect("id");
    for _ in 0..2 {
        cached
            .client(&id)
            .await
            .expect("lookup")
            .expect("registered");
    }
    // The cache (shared with the clone that uses it) is full, yet each lookup goes out.
    let start = uncached.statements();
    for _ in 0..3 {
        assert!(uncached.client(&id).await.expect("lookup").is_some());
    }
    assert_eq!(uncached.statements() - start, 3);

    let clock = TestClock::at(NOW);
    let node = provider_over(uncached, clock.clone());
    let first = flow(&node, &clock, "code id_token").await;
    let second = flow(&node, &clock, "code id_token").await;
    eprintln!("{backend}, code id_token, client cache disabled: {second:?}");
    assert_eq!(first, second, "nothing is cached");
    let (_, warm) = flows(cached, backend).await;
    let with_cache = warm[0].1;
    // One client lookup per authorization, token and refresh request.
    assert_eq!(second.authorize, with_cache.authorize + 1);
    assert_eq!(second.token, with_cache.token + 1);
    assert_eq!(second.refresh, with_cache.refresh + 1);
    assert_eq!(second.userinfo, with_cache.userinfo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_with_a_zero_ttl_every_lookup_reads_the_database() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    flows_without_cache(postgres(&db).await, "postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_with_a_zero_ttl_every_lookup_reads_the_database() {
    flows_without_cache(sqlite().await, "sqlite").await;
}

fn renamed(name: &str) -> Client {
    client(json!({
        "client_id": "rs-basic",
        "client_secret": SECRET,
        "client_name": name,
        "redirect_uris": ["https://rp.example/renamed"],
        "response_types": ["code", "code id_token", "code token", "code id_token token"],
        "grant_types": ["authorization_code", "implicit", "refresh_token"],
    }))
}

/// Writes through the store (or a clone) are seen by its next lookup; only found clients are
/// cached; a removed client is unknown to the provider at once.
async fn cache_follows_writes_through_the_store<S: SqlAdmin + Admin>(store: S) {
    let id = ClientId::new("rs-basic").expect("id");
    let original = standard_clients()
        .into_iter()
        .find(|c| c.id() == &id)
        .expect("standard client");
    let lookup = |store: &S| {
        let (store, id) = (store.clone(), id.clone());
        async move {
            let start = store.statements();
            let found = store.client(&id).await.expect("lookup");
            (found, store.statements() - start)
        }
    };

    assert_eq!(lookup(&store).await, (Some(original.clone()), 1), "cold");
    for _ in 0..3 {
        assert_eq!(lookup(&store).await, (Some(original.clone()), 0), "warm");
    }

    // replace_client: the next lookup reads the new client from the database.
    let updated = renamed("Renamed");
    store.replace(&updated).await.expect("replace");
    assert_eq!(lookup(&store).await, (Some(updated.clone()), 1));
    assert_eq!(lookup(&store).await, (Some(updated.clone()), 0));

    // A clone shares the cache: its writes invalidate the original's entry.
    let clone = store.clone();
    clone.replace(&original).await.expect("replace back");
    assert_eq!(lookup(&store).await, (Some(original.clone()), 1));

    // remove_client: the client is gone through the same store, and for the provider.
    let clock = TestClock::at(NOW);
    let node = provider_over(store.clone(), clock.clone());
    let query = form(&auth_pairs("code id_token", "rs-basic"));
    let params = Params::parse(&query).expect("query parses");
    node.authorize(&params).await.expect("known before removal");
    assert!(store.remove(&id).await.expect("remove"));
    assert_eq!(
        node.authorize(&params)
            .await
            .expect_err("unknown after removal")
            .reject(),
        Reject::ClientUnknown
    );
    // "Not found" is never cached: every lookup asks again.
    assert_eq!(lookup(&store).await, (None, 1));
    assert_eq!(lookup(&store).await, (None, 1));

    // insert_client / register_client: found at once, then cached.
    store.insert(&original).await.expect("insert");
    assert_eq!(lookup(&store).await, (Some(original.clone()), 1));
    assert_eq!(lookup(&store).await, (Some(original.clone()), 0));
    assert!(store.remove(&id).await.expect("remove"));
    assert_eq!(lookup(&store).await, (None, 1));
    let registered = store
        .register(
            &json!({
                "client_id": "rs-basic",
                "client_secret": SECRET,
                "redirect_uris": [REDIRECT_URI],
            })
            .to_string(),
        )
        .await
        .expect("register");
    assert_eq!(lookup(&store).await, (Some(registered.clone()), 1));
    assert_eq!(lookup(&store).await, (Some(registered), 0));
    node.authorize(&params).await.expect("known again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_client_cache_follows_writes_through_the_store() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    cache_follows_writes_through_the_store(postgres(&db).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_client_cache_follows_writes_through_the_store() {
    cache_follows_writes_through_the_store(sqlite().await).await;
}

/// Two nodes on one database: a change through one is seen by the other once its cached entry
/// is older than the TTL, or at once after `forget_cached_clients`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_changes_through_another_node_are_seen_within_the_ttl() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    const TTL: Duration = Duration::from_secs(1);
    let a = postgres(&db).await;
    let b = PostgresStore::from_pool(db.pool(2).await).with_client_cache_ttl(TTL);
    let id = ClientId::new("rs-basic").expect("id");
    let before_read = Instant::now();
    let original = b.client(&id).await.expect("lookup").expect("registered");
    let after_read = Instant::now();

    let updated = renamed("Changed on node A");
    a.replace_client(&updated).await.expect("replace on A");
    assert_eq!(a.client(&id).await.expect("lookup"), Some(updated.clone()));
    let seen = b.client(&id).await.expect("lookup");
    if seen != Some(original.clone()) {
        // Only once the entry B read is older than the TTL (a slow machine).
        assert!(
            before_read.elapsed() >= TTL,
            "node B missed its cache: {seen:?}"
        );
    }
    tokio::time::sleep(
        (after_read + TTL + Duration::from_millis(50)).saturating_duration_since(Instant::now()),
    )
    .await;
    assert_eq!(b.client(&id).await.expect("lookup"), Some(updated.clone()));

    // A host that learns of a change empties the cache.
    assert!(a.remove_client(&id).await.expect("remove on A"));
    b.forget_cached_clients();
    assert_eq!(b.client(&id).await.expect("lookup"), None);
}

/// The two single-statement writes that store a second digest besides their own: a code with
/// its front-channel access token, and an access token with its refresh token.
#[derive(Clone, Copy, Debug)]
enum SharedWrite {
    CodeWithToken,
    TokenWithRefresh,
}

impl SharedWrite {
    /// Call `i` of `round`: its own record, with the record all calls of the round share.
    async fn write<S: SqlAdmin>(self, store: &S, round: usize, i: usize) {
        let grant = format!("g-{round}");
        match self {
            Self::CodeWithToken => {
                let record = code(&format!("c-{round}-{i}"), &grant, "rs-basic", T0 + 60);
                let token = access(&format!("fc-{round}"), &grant, "rs-basic", T0 + 300);
                store
                    .insert_code(&record, Some(&token))
                    .await
                    .expect("insert_code");
            }
            Self::TokenWithRefresh => {
                let token = access(&format!("at-{round}-{i}"), &grant, "rs-basic", T0 + 3600);
                let refresh = refresh(&format!("rt-{round}"), &grant, "rs-basic", T0 + 86_400);
                let insertion = store.insert_tokens(&token, Some(&refresh)).await;
                assert_eq!(insertion.expect("insert_tokens"), Insertion::Stored);
            }
        }
    }

    /// Whether the own record of call `i` of `round` was stored.
    async fn stored<S: SqlAdmin>(self, store: &S, round: usize, i: usize) -> bool {
        match self {
            Self::CodeWithToken => {
                let digest = digest(&format!("c-{round}-{i}"));
                match store.redeem_code(&digest, at(T0)).await.expect("redeem") {
                    Redemption::Fresh(_) => true,
                    Redemption::Unknown => false,
                    other => panic!("round {round}, code {i}: {other:?}"),
                }
            }
            Self::TokenWithRefresh => {
                let digest = digest(&format!("at-{round}-{i}"));
                let found = store.access_token(&digest, at(T0)).await.expect("lookup");
                found.is_some()
            }
        }
    }
}

/// The single-statement writes keep "both or neither" when a second digest is stored by a
/// concurrent call after the statement's snapshot (the path where PostgreSQL undoes the whole
/// statement): of `CONCURRENCY` calls sharing a token digest, exactly one stores its code (or
/// access token) with the shared token; every other stores nothing.
async fn shared_digests_under_races_store_both_or_neither<S: SqlAdmin>(store: S) {
    let store = Arc::new(store);
    for round in 0..RACE_ROUNDS {
        for write in [SharedWrite::CodeWithToken, SharedWrite::TokenWithRefresh] {
            race(CONCURRENCY, |i| {
                let store = store.clone();
                async move { write.write(&*store, round, i).await }
            })
            .await;
            let mut stored = 0;
            for i in 0..CONCURRENCY {
                stored += usize::from(write.stored(&*store, round, i).await);
            }
            assert_eq!(
                stored, 1,
                "round {round}: {write:?} stored with the shared one"
            );
            if let SharedWrite::CodeWithToken = write {
                let front = store
                    .access_token(&digest(&format!("fc-{round}")), at(T0))
                    .await;
                assert!(front.expect("lookup").is_some());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_shared_digests_under_races_store_both_or_neither() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let store = PostgresStore::from_pool(db.pool(16).await);
    store.migrate().await.expect("migrations");
    shared_digests_under_races_store_both_or_neither(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_shared_digests_under_races_store_both_or_neither() {
    shared_digests_under_races_store_both_or_neither(sqlite().await).await;
}
