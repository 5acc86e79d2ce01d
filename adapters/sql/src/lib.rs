//! SQL [`Storage`](oidc_hybrid::Storage) for `oidc-hybrid`: `SqliteStore` (an embedded
//! SQLite database, the default, on rusqlite) and `PostgresStore` (one PostgreSQL database
//! shared by any number of provider nodes, on `sqlx`).
//!
//! Both share the schema, the lookups, redemption, the client and `jti` statements and the
//! atomicity argument. `PostgresStore` is the generic `SqlStore` instantiated for its one
//! `Backend`; `SqliteStore` is its own type, with one writer thread that commits writes in
//! groups (one transaction and one fsync per group, a savepoint per write, each caller answered
//! after its group committed) and read connections for lookups (see the `sqlite` module's
//! docs). The four writes that change a grant's members (`insert_code`, `insert_tokens`,
//! `rotate_refresh_token`, `revoke_grant`) are the backend's own: several statements in one
//! savepoint on SQLite (in process, where a statement costs a function call), single statements
//! on PostgreSQL (where each statement is a network round trip). The outcomes of every
//! operation sequence are the same as those of the reference in-memory store
//! (`oidc-hybrid-memory`), which one contract suite checks against all three.
//!
//! # Features
//!
//! - `sqlite` (default): `SqliteStore`, on rusqlite with a bundled SQLite.
//! - `postgres`: `PostgresStore` (plain TCP or Unix-socket connections; put a TLS-terminating
//!   proxy in front for remote servers, or connect through [`SqlStore::from_pool`]).
//!
//! # Use
//!
//! ```
//! use oidc_hybrid::{Client, ClientId, ClientMetadata, Storage};
//! use oidc_hybrid_sql::SqliteStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("op.sqlite");
//! let store = SqliteStore::open(&path).await?; // WAL mode, created if missing
//! store.migrate().await?; // the host decides when the schema is brought up to date
//! store
//!     .insert_client(&Client::register(ClientMetadata {
//!         client_id: "rp".into(),
//!         client_secret: Some("a-high-entropy-secret-of-32-chars-or-more".into()),
//!         redirect_uris: vec!["https://rp.example/cb".into()],
//!         ..ClientMetadata::default()
//!     })?)
//!     .await?;
//! assert!(store.client(&ClientId::new("rp")?).await?.is_some());
//!
//! // Hosts schedule the sweep of expired codes, tokens, tombstones and markers.
//! let removed = store.sweep_expired(oidc_hybrid::UnixTime::from_secs(1_800_000_000)).await?;
//! # let _ = removed;
//! # Ok(())
//! # }
//! ```
//!
//! # Tables
//!
//! | table | key | holds |
//! | --- | --- | --- |
//! | `clients` | `client_id` | RFC 7591 metadata JSON (no secret), secret digest |
//! | `grants` | `id` | `revoked`, `expires_at` (latest expiry of its members; for a revoked grant, its revocation marker's end) |
//! | `codes` | digest | `grant_id`, `client_id`, `used`, `expires_at`, the [`CodeRecord`](oidc_hybrid::CodeRecord) as JSON |
//! | `access_tokens` | digest | `grant_id`, `client_id`, `expires_at`, record JSON |
//! | `refresh_tokens` | digest | `grant_id`, `client_id`, `retired`, `expires_at`, record JSON |
//! | `jtis` | (`client_id`, SHA-256 of the `jti`) | `expires_at` |
//! | `sessions` | `sid` | the [`SessionRecord`](oidc_hybrid::SessionRecord) as JSON, `expires_at` (idle), `ends_at` |
//! | `session_grants` | (`sid`, `grant_id`) | `seq`, the [`SessionGrant`](oidc_hybrid::SessionGrant) as JSON |
//!
//! Recording a session's grant and ending the session are transactions that write the
//! session's row first, so they are serialised (migration 0004; docs/storage.md).
//!
//! Digests are the 32-byte SHA-256 of a code's or token's wire form
//! ([`SecretDigest`](oidc_hybrid::SecretDigest)); no code, token or client secret is stored in
//! clear. Times are Unix seconds in a signed 64-bit column (times past year 292 billion are
//! clamped).
//!
//! # Atomicity
//!
//! - `redeem_code` is **one statement**: `UPDATE codes SET used = TRUE WHERE digest = $1 AND
//!   used = FALSE AND expires_at > $now RETURNING record`. Under PostgreSQL's READ COMMITTED a
//!   concurrent `UPDATE` of the same row waits for the first to commit and then re-evaluates
//!   `used = FALSE` against the committed row, so it matches nothing; SQLite runs one writer at a
//!   time. Of N concurrent redemptions exactly one returns the record
//!   ([`Redemption::Fresh`](oidc_hybrid::Redemption::Fresh)); a follow-up read tells a used code
//!   (`Replayed`, with its grant) from an unknown or expired one.
//! - `insert_code`, `insert_tokens`, `rotate_refresh_token` and `revoke_grant` first **lock the
//!   grant row** with `INSERT INTO grants … ON CONFLICT (id) DO UPDATE … RETURNING revoked,
//!   expires_at` (creating it if needed; on PostgreSQL this takes the same row lock as `SELECT …
//!   FOR UPDATE`, held until the statement or transaction commits, and returns the row as last
//!   committed). Every change to a grant's members happens under that lock, so revocation,
//!   insertion and rotation of one grant are serialised; nothing is written unless the whole
//!   operation commits.
//!   - On SQLite each is one request to the writer thread, run in a savepoint of the group's
//!     transaction, opened with `BEGIN IMMEDIATE`, which takes the database's write lock up
//!     front (waiting up to the busy timeout instead of failing with `SQLITE_BUSY`).
//!   - On PostgreSQL `insert_code`, `insert_tokens` and `rotate_refresh_token` are each **one
//!     statement**: data-modifying CTEs upsert the grant row (the lock, and the extension of its
//!     expiry), then insert, retire and extend from its `RETURNING` row — nothing for a revoked
//!     grant — and report the outcome. `revoke_grant` is a transaction of two statements, so
//!     that the second, which retires and deletes the members, reads with a snapshot taken after
//!     the lock was granted.
//! - `record_jti` is one `INSERT … ON CONFLICT DO UPDATE … WHERE expires_at <= $now` statement
//!   (a test-and-set); `revoke_access_token` one `DELETE`; `insert_client` one `INSERT … ON
//!   CONFLICT DO NOTHING`.
//! - PostgreSQL deadlocks and serialisation failures (SQLSTATE `40P01`, `40001`) roll the whole
//!   statement or transaction back; the operation is then retried from the start (at most
//!   [`MAX_ATTEMPTS`] times).
//!
//! See `docs/storage.md` in the repository for the full argument, operation by operation.
//!
//! # Round trips
//!
//! [`SqlStore::round_trips`] counts the statements a store sends (`BEGIN`, `COMMIT` and
//! `ROLLBACK` included). On PostgreSQL, with the client cache warm, an authorization
//! (`authorize` and `approve`) costs 1, a code redemption at the token endpoint 2, a UserInfo
//! request 1 and a refresh 3 (the driver makes three storage calls, each needing the previous
//! answer). `docs/storage.md` has the table per operation and backend.
//!
//! # Client cache
//!
//! Clients are read on every authorization and token request and change rarely, so a store
//! keeps the clients it read for a TTL ([`DEFAULT_CLIENT_CACHE_TTL`], 60 s; see
//! [`SqlStore::with_client_cache_ttl`], where [`Duration::ZERO`](core::time::Duration::ZERO)
//! disables it). Only found clients are cached, at most [`CLIENT_CACHE_CAPACITY`]. Writes through
//! the store or any clone of it (`insert_client`, `replace_client`, `remove_client`,
//! `register_client`) take effect at once. **With several provider nodes**, a change made
//! through another node (or directly in the database) is seen by this one after at most the
//! TTL: until then it may still accept a removed client, its old secret or its old redirect
//! URIs. Set the TTL to the longest such delay you accept, or call
//! [`SqlStore::forget_cached_clients`] when you learn of a change.
//!
//! # Expiry
//!
//! A row is live while `now < expires_at` and ignored by every read from `expires_at` on
//! (`expires_at <= now`), exactly as in the memory store; [`Storage::sweep_expired`] deletes it.
//! A used code's tombstone is extended to the grant's latest expiry whenever tokens join the
//! grant, so a replay revokes the grant as long as anything issued from it can be used. A
//! revoked grant's row (its revocation marker) lives [`REVOCATION_GRACE_SECS`] past the later of
//! the revocation and the grant's latest expiry.
//!
//! [`Storage::sweep_expired`]: oidc_hybrid::Storage::sweep_expired

#![cfg_attr(docsrs, feature(doc_cfg))]
// The documentation links to `SqlStore` (feature `postgres`) and `SqliteStore` (feature
// `sqlite`): built without one of them, the links to its items have no target and stay text.
#![cfg_attr(
    not(all(feature = "postgres", feature = "sqlite")),
    allow(rustdoc::broken_intra_doc_links)
)]

extern crate alloc;

#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(dead_code, reason = "only the backends use the cache")
)]
mod cache;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod common;
#[cfg(feature = "postgres")]
mod dialect;
mod error;
#[cfg(feature = "postgres")]
mod group;
#[cfg(feature = "postgres")]
mod ops;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
pub use group::{MAX_WRITE_GROUP, WRITE_TASKS};
#[cfg(feature = "postgres")]
pub use postgres::{ACQUIRE_TIMEOUT, PING_AFTER_IDLE};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sessions;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
pub use sqlite::{BUSY_TIMEOUT, IDLE_READERS, SqliteStore, Synchronous, WriteStats};

#[cfg(feature = "postgres")]
use alloc::sync::Arc;
#[cfg(feature = "postgres")]
use core::fmt;
#[cfg(feature = "postgres")]
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

pub use error::SqlError;
/// The `rusqlite` the SQLite store is built on, for [`SqliteStore::with_write_connection`].
#[cfg(feature = "sqlite")]
pub use rusqlite;
/// The `sqlx` the PostgreSQL store is built on, for hosts that build their own pools
/// ([`SqlStore::from_pool`]).
#[cfg(feature = "postgres")]
pub use sqlx;

/// The largest accepted client metadata, in bytes of JSON (RFC 7591 §2 sets no limit; this
/// store does, so that one registration cannot bloat every client lookup).
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// How long, in seconds, a revoked grant's marker is kept after the later of the revocation time
/// and the latest expiry of anything of the grant: a token request that redeemed a code just
/// before it expired cannot store tokens for a grant whose marker was swept meanwhile. The
/// contract's value, [`oidc_hybrid::REVOCATION_GRACE_SECS`].
pub use oidc_hybrid::REVOCATION_GRACE_SECS;

/// How long a client read from the database is served from the in-process client cache unless
/// [`SqlStore::with_client_cache_ttl`] says otherwise: 60 seconds.
pub const DEFAULT_CLIENT_CACHE_TTL: Duration = Duration::from_secs(60);

/// How many clients the in-process client cache holds at most. When it is full, a new entry
/// first displaces the entries older than the TTL, then, if there were none, one arbitrary entry.
pub const CLIENT_CACHE_CAPACITY: usize = 10_000;

/// How many times an operation is attempted when PostgreSQL aborts its transaction with a
/// deadlock or serialisation failure (SQLSTATE `40P01` / `40001`).
pub const MAX_ATTEMPTS: u32 = 5;

#[cfg(feature = "postgres")]
/// A database [`SqlStore`] stores in over sqlx: `sqlx::Postgres` (feature `postgres`). (The
/// SQLite store is its own type, `SqliteStore`, on rusqlite: decision 0025.)
///
/// Sealed: what differs between the databases — the statement that opens a write transaction,
/// the migrations, which errors may be retried, and the four writes that change a grant's
/// members — is a private supertrait, and everything else is written once, for every backend.
pub trait Backend: dialect::Dialect + sessions::SessionOps + group::Grouped {}

#[cfg(feature = "postgres")]
/// A [`Storage`](oidc_hybrid::Storage) in a SQL database, over a `sqlx` connection pool.
///
/// Cloning is cheap and shares the pool, the client cache and the round-trip counter. Its
/// `Debug` output names the backend, the pool's size, the client cache's TTL and the round-trip
/// count, never a connection string, digest or record.
///
/// Construct it with `PostgresStore::connect` or [`SqlStore::from_pool`]; then call `migrate`
/// once before use.
pub struct SqlStore<DB: sqlx::Database> {
    pool: sqlx::Pool<DB>,
    shared: Arc<Shared>,
    writes: Arc<group::Writes<DB>>,
    client_cache_ttl: Duration,
}

#[cfg(feature = "postgres")]
/// What the clones of one store share besides the pool.
#[derive(Debug, Default)]
struct Shared {
    /// Statements sent to the database (see [`SqlStore::round_trips`]).
    round_trips: AtomicU64,
    /// Groups of more than one write committed together (see [`SqlStore::write_groups`]).
    groups: AtomicU64,
    /// Writes committed in such groups.
    grouped: AtomicU64,
    /// Groups rolled back because one of their statements failed (their writes then ran alone).
    rolled_back: AtomicU64,
    /// Decoded clients (see [`SqlStore::with_client_cache_ttl`]).
    clients: cache::ClientCache,
}

/// A store in a PostgreSQL database, shareable by many provider nodes.
#[cfg(feature = "postgres")]
pub type PostgresStore = SqlStore<sqlx::Postgres>;

#[cfg(feature = "postgres")]
impl<DB: Backend> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            shared: self.shared.clone(),
            writes: self.writes.clone(),
            client_cache_ttl: self.client_cache_ttl,
        }
    }
}

#[cfg(feature = "postgres")]
impl<DB: Backend> fmt::Debug for SqlStore<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &<DB as sqlx::Database>::NAME)
            .field("connections", &self.pool.size())
            .field("closed", &self.pool.is_closed())
            .field("client_cache_ttl", &self.client_cache_ttl)
            .field("round_trips", &self.round_trips())
            .finish()
    }
}

#[cfg(feature = "postgres")]
impl<DB: Backend> SqlStore<DB> {
    /// How many statements this store (and every clone of it) has sent to the database: each
    /// query, and each `BEGIN`, `COMMIT` and `ROLLBACK` (a transaction dropped unfinished on an
    /// error path counts its implicit rollback), retries included. Each is one network round
    /// trip to PostgreSQL; SQLite runs them in process.
    ///
    /// Not counted: [`migrate`](Self::migrate), statements run directly on
    /// [`pool`](Self::pool), and the pool's own connection upkeep (opening connections,
    /// preparing a statement the first time a connection runs it, liveness checks). A lookup
    /// answered by the client cache sends nothing.
    ///
    /// A monotonic counter, cheap to read (a relaxed atomic load): export it as a metric, or take
    /// the difference around a request to see what it cost. `docs/storage.md` lists the count of
    /// each operation per backend.
    #[must_use]
    pub fn round_trips(&self) -> u64 {
        self.shared.round_trips.load(Ordering::Relaxed)
    }

    /// How the request path's writes were committed so far (see `docs/storage.md`, "Grouped
    /// commits"); the writes not counted here were committed alone.
    #[must_use]
    pub fn write_groups(&self) -> WriteGroups {
        WriteGroups {
            committed: self.shared.groups.load(Ordering::Relaxed),
            writes: self.shared.grouped.load(Ordering::Relaxed),
            rolled_back: self.shared.rolled_back.load(Ordering::Relaxed),
        }
    }

    /// Sets how long a client read from the database is served from the in-process cache
    /// (default [`DEFAULT_CLIENT_CACHE_TTL`], 60 s); [`Duration::ZERO`] disables the cache, so
    /// that every [`client`](oidc_hybrid::Storage::client) lookup reads the database.
    ///
    /// The cache holds decoded clients only (never "not found"), at most
    /// [`CLIENT_CACHE_CAPACITY`] of them, and is shared by the clones of this store. Changes
    /// made through this store or a clone ([`insert_client`](Self::insert_client),
    /// [`replace_client`](Self::replace_client), [`remove_client`](Self::remove_client),
    /// [`register_client`](Self::register_client)) take effect at once. Changes made by
    /// another process — another provider node on the same PostgreSQL database, or a direct
    /// `UPDATE` — are seen once the cached entry is older than the TTL: until then this store
    /// keeps accepting a removed client and its old secret and redirect URIs. Choose the TTL as
    /// the longest such delay you accept, or call
    /// [`forget_cached_clients`](Self::forget_cached_clients) when you learn of a change.
    #[must_use]
    pub fn with_client_cache_ttl(mut self, ttl: Duration) -> Self {
        self.client_cache_ttl = ttl;
        self
    }

    /// How long a client read from the database is served from the cache (zero: not cached).
    #[must_use]
    pub fn client_cache_ttl(&self) -> Duration {
        self.client_cache_ttl
    }

    /// Empties the client cache (of this store and its clones): the next lookup of every client
    /// reads the database. For hosts that learn of a client change made through another node.
    pub fn forget_cached_clients(&self) {
        self.shared.clients.clear();
    }
}

/// Construction, the round-trip counter and the client cache.
#[cfg(feature = "postgres")]
impl<DB: sqlx::Database> SqlStore<DB> {
    /// A store over `pool` with a fresh client cache and counter.
    fn with_pool(pool: sqlx::Pool<DB>) -> Self {
        Self {
            pool,
            shared: Arc::default(),
            writes: Arc::default(),
            client_cache_ttl: DEFAULT_CLIENT_CACHE_TTL,
        }
    }

    /// Counts one statement about to be sent.
    fn count_round_trip(&self) {
        self.shared.round_trips.fetch_add(1, Ordering::Relaxed);
    }

    /// The cached client with this id, if the cache is enabled and holds a fresh entry.
    fn cached_client(&self, id: &oidc_hybrid::ClientId) -> Option<oidc_hybrid::Client> {
        if self.client_cache_ttl.is_zero() {
            return None;
        }
        self.shared.clients.get(id, self.client_cache_ttl)
    }

    /// The cache generation to pass to [`remember_client`](Self::remember_client) with what
    /// the database answers next.
    fn client_cache_generation(&self) -> u64 {
        self.shared.clients.generation()
    }

    /// Caches a client just read from the database (nothing if the cache is disabled, or if a
    /// change of any client was made through this store since `generation` was taken).
    fn remember_client(&self, client: &oidc_hybrid::Client, generation: u64) {
        if self.client_cache_ttl.is_zero() {
            return;
        }
        self.shared.clients.fill(
            client.clone(),
            generation,
            self.client_cache_ttl,
            CLIENT_CACHE_CAPACITY,
        );
    }

    /// Drops the cached client with this id after a write of it.
    fn forget_client(&self, id: &str) {
        self.shared.clients.invalidate(id);
    }
}

/// The grouped commits of a [`SqlStore`] so far ([`SqlStore::write_groups`]).
#[cfg(feature = "postgres")]
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub struct WriteGroups {
    /// Transactions that committed more than one write together.
    pub committed: u64,
    /// The writes those transactions committed.
    pub writes: u64,
    /// Groups rolled back because one of their statements failed; each of their writes then
    /// ran again alone, answered with its own outcome.
    pub rolled_back: u64,
}

/// How many rows each table of a [`SqlStore`] holds, tombstones, markers and expired but not yet
/// swept rows included (the same notion as the memory store's counts).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub struct Counts {
    /// Registered clients.
    pub clients: u64,
    /// Codes, live or used.
    pub codes: u64,
    /// Access tokens.
    pub access_tokens: u64,
    /// Refresh tokens, live or retired.
    pub refresh_tokens: u64,
    /// Grant rows (membership expiry and revocation markers).
    pub grants: u64,
    /// Recorded `jti`s.
    pub jtis: u64,
}
