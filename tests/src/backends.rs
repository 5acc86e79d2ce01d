//! Fresh SQL stores for the storage contract suite (`oidc-hybrid-testkit`) and the SQL provider
//! tests: SQLite in memory, SQLite in a temporary file, and PostgreSQL in a temporary database,
//! each holding the clients it is given.
//!
//! # PostgreSQL
//!
//! The server is `postgres://postgres@127.0.0.1:5432/postgres` (trust authentication), or
//! whatever `OIDC_TEST_POSTGRES_URL` names. Each [`PgDatabase`] is a database of its own,
//! `oidc_test_<unix time>_<random>`, dropped (`WITH (FORCE)`) when the guard is dropped, also
//! when the test panics. Databases left behind by a killed run are dropped by the first test of
//! a later run once they are an hour old.
//!
//! When the server cannot be reached, a test prints `skipped: no PostgreSQL at HOST:PORT` to
//! stderr and returns — unless `CI=true`, where it fails: CI must run them.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oidc_hybrid::{Client, Storage};
use oidc_hybrid_sql::sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use oidc_hybrid_sql::sqlx::{self, ConnectOptions, Connection, Executor};
use oidc_hybrid_sql::{Counts, PostgresStore, SqlError, SqliteStore};
use oidc_hybrid_testkit::contract::{CountEntries, Fixture, StoreCounts};

/// The PostgreSQL server the tests use unless `OIDC_TEST_POSTGRES_URL` says otherwise.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Prefix of the names of temporary test databases.
pub const TEST_DATABASE_PREFIX: &str = "oidc_test_";

/// Age after which a leftover test database is dropped, in seconds.
const STALE_AFTER_SECS: u64 = 3600;

/// How long to wait for the server before declaring it unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What the tests ask of both SQL stores besides [`Storage`] (inherent methods of each).
pub trait SqlAdmin: Storage<Error = SqlError> + Clone + Send + Sync + 'static {
    /// `migrate`.
    fn migrate_schema(&self) -> impl Future<Output = Result<(), SqlError>> + Send;
    /// `insert_client`.
    fn add_client(&self, client: &Client) -> impl Future<Output = Result<(), SqlError>> + Send;
    /// `counts`.
    fn row_counts(&self) -> impl Future<Output = Result<Counts, SqlError>> + Send;
    /// `round_trips`.
    fn statements(&self) -> u64;
    /// `with_client_cache_ttl`.
    #[must_use]
    fn with_ttl(self, ttl: Duration) -> Self;
    /// `client_cache_ttl`.
    fn cache_ttl(&self) -> Duration;
}

macro_rules! sql_admin {
    ($store:ty) => {
        impl SqlAdmin for $store {
            async fn migrate_schema(&self) -> Result<(), SqlError> {
                self.migrate().await
            }
            async fn add_client(&self, client: &Client) -> Result<(), SqlError> {
                self.insert_client(client).await
            }
            async fn row_counts(&self) -> Result<Counts, SqlError> {
                self.counts().await
            }
            fn statements(&self) -> u64 {
                self.round_trips()
            }
            fn with_ttl(self, ttl: Duration) -> Self {
                self.with_client_cache_ttl(ttl)
            }
            fn cache_ttl(&self) -> Duration {
                self.client_cache_ttl()
            }
        }
    };
}

sql_admin!(SqliteStore);
sql_admin!(PostgresStore);

/// Counts a SQL store's rows for the contract suite.
#[derive(Debug)]
pub struct SqlRows;

impl<S: SqlAdmin> CountEntries<S> for SqlRows {
    async fn count(&self, store: &S) -> StoreCounts {
        let c = store.row_counts().await.expect("count rows");
        StoreCounts {
            codes: c.codes,
            access_tokens: c.access_tokens,
            refresh_tokens: c.refresh_tokens,
            grants: c.grants,
            jtis: c.jtis,
        }
    }
}

/// Registers `clients` in `store`.
///
/// # Panics
///
/// If one cannot be registered.
pub async fn register<S: SqlAdmin>(store: &S, clients: Vec<Client>) {
    for client in clients {
        store.add_client(&client).await.expect("register");
    }
}

/// Migrates `store` and registers `clients` in it.
///
/// # Panics
///
/// If either fails.
pub async fn prepared<S: SqlAdmin>(store: S, clients: Vec<Client>) -> S {
    store.migrate_schema().await.expect("migrations");
    register(&store, clients).await;
    store
}

/// A migrated in-memory SQLite store holding `clients`.
///
/// # Panics
///
/// If SQLite cannot be set up.
pub async fn sqlite_memory(clients: Vec<Client>) -> Option<Fixture<SqliteStore>> {
    let store = SqliteStore::memory().await.expect("in-memory SQLite");
    Some(Fixture::new(prepared(store, clients).await).counted_by(SqlRows))
}

/// A migrated SQLite store in a file of a temporary directory, holding `clients`.
///
/// # Panics
///
/// If the file cannot be created.
pub async fn sqlite_file(clients: Vec<Client>) -> Option<Fixture<SqliteStore>> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(dir.path().join("op.sqlite"))
        .await
        .expect("SQLite file");
    let store = prepared(store, clients).await;
    Some(Fixture::new(store).counted_by(SqlRows).guarded_by(dir))
}

/// A migrated PostgreSQL store in a fresh database, holding `clients`; `None` (after printing
/// why) when no server is reachable outside CI.
///
/// # Panics
///
/// In CI without a server, or if the server refuses to create the database.
pub async fn postgres(clients: Vec<Client>) -> Option<Fixture<PostgresStore>> {
    let db = PgDatabase::create().await?;
    let store = PostgresStore::from_pool(db.pool(16).await);
    let store = prepared(store, clients).await;
    Some(Fixture::new(store).counted_by(SqlRows).guarded_by(db))
}

/// The admin connection options: `OIDC_TEST_POSTGRES_URL` or [`DEFAULT_POSTGRES_URL`].
///
/// # Panics
///
/// If the URL does not parse.
#[must_use]
pub fn postgres_admin_options() -> PgConnectOptions {
    let url =
        std::env::var("OIDC_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    PgConnectOptions::from_str(&url).expect("OIDC_TEST_POSTGRES_URL is a postgres:// URL")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn random_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let hash = RandomState::new().hash_one((std::process::id(), n, SystemTime::now()));
    format!("{hash:016x}")
}

/// A temporary PostgreSQL database, dropped with the guard.
#[derive(Debug)]
pub struct PgDatabase {
    name: String,
    admin: PgConnectOptions,
}

impl PgDatabase {
    /// Creates `oidc_test_<unix time>_<random>` (first dropping leftovers older than an hour).
    /// Returns `None` after printing `skipped: no PostgreSQL at HOST:PORT` when the server is
    /// unreachable, unless `CI=true`.
    ///
    /// # Panics
    ///
    /// With `CI=true` and no server; if the server refuses to create the database.
    pub async fn create() -> Option<Self> {
        let admin = postgres_admin_options();
        let where_ = format!("{}:{}", admin.get_host(), admin.get_port());
        let mut conn = match tokio::time::timeout(CONNECT_TIMEOUT, admin.connect()).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return unreachable(&where_, &e.to_string()),
            Err(_) => return unreachable(&where_, "timed out"),
        };
        drop_stale(&mut conn).await;
        let name = format!("{TEST_DATABASE_PREFIX}{}_{}", now_secs(), random_suffix());
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} at {where_}: {e}"));
        conn.close().await.ok();
        Some(Self { name, admin })
    }

    /// The database's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connection options for this database.
    #[must_use]
    pub fn options(&self) -> PgConnectOptions {
        self.admin.clone().database(&self.name)
    }

    /// A new pool of up to `max` connections to this database (each call is independent, as
    /// two provider nodes' pools would be).
    ///
    /// # Panics
    ///
    /// If it cannot connect.
    pub async fn pool(&self, max: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(max)
            .connect_with(self.options())
            .await
            .expect("connect to the test database")
    }
}

fn unreachable(where_: &str, error: &str) -> Option<PgDatabase> {
    assert!(
        !in_ci(),
        "CI=true but PostgreSQL is unreachable at {where_} ({error}): the SQL storage tests \
         must run in CI; start the server or set OIDC_TEST_POSTGRES_URL"
    );
    eprintln!("skipped: no PostgreSQL at {where_} ({error})");
    None
}

/// Drops test databases older than an hour (left by runs that were killed).
async fn drop_stale(conn: &mut PgConnection) {
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'oidc\\_test\\_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    let cutoff = now_secs().saturating_sub(STALE_AFTER_SECS);
    for (name,) in names {
        let created = name
            .strip_prefix(TEST_DATABASE_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|secs| secs < cutoff) && is_identifier(&name) {
            let _ = conn
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await;
        }
    }
}

fn is_identifier(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        // Drop may run inside a runtime (a `#[tokio::test]`), where blocking on another one is
        // refused: drop the database from a thread of its own.
        let outcome = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = admin.connect().await.map_err(|e| e.to_string())?;
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                conn.close().await.map_err(|e| e.to_string())
            })
        })
        .join();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!("warning: dropping test database {} panicked", self.name),
        }
    }
}
