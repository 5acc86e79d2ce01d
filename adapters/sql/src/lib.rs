//! SQL [`Storage`](oidc_hybrid::Storage) for `oidc-hybrid`: `SqliteStore` (an embedded
//! SQLite database, the default) and `PostgresStore` (one PostgreSQL database shared by any
//! number of provider nodes), on [`sqlx`].
//!
//! Both are the one generic type [`SqlStore`], instantiated for a [`Backend`]: the schema, the SQL
//! text and the atomicity argument are the same for both databases; only the statement that opens
//! a write transaction, the connection set-up and the migrations' column types differ. The
//! outcomes of every operation sequence are the same as those of the reference in-memory store
//! (`oidc-hybrid-memory`), which one contract suite checks against all three.
//!
//! # Features
//!
//! - `sqlite` (default): `SqliteStore`, with a bundled SQLite.
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
//! - `insert_code`, `insert_tokens`, `rotate_refresh_token` and `revoke_grant` run in one
//!   transaction that first **locks the grant row** with `INSERT INTO grants … ON CONFLICT (id)
//!   DO UPDATE … RETURNING revoked, expires_at` (creating it if needed; on PostgreSQL this takes
//!   the same row lock as `SELECT … FOR UPDATE`, held to the end of the transaction). On SQLite
//!   the transaction is opened with `BEGIN IMMEDIATE`, which takes the database's write lock up
//!   front (waiting up to the busy timeout instead of failing with `SQLITE_BUSY`). Every change
//!   to a grant's members happens under that lock, so revocation, insertion and rotation of one
//!   grant are serialised; nothing is written if the transaction does not commit.
//! - `record_jti` is one `INSERT … ON CONFLICT DO UPDATE … WHERE expires_at <= $now` statement
//!   (a test-and-set); `revoke_access_token` one `DELETE`.
//! - PostgreSQL deadlocks and serialisation failures (SQLSTATE `40P01`, `40001`) roll the whole
//!   transaction back; the operation is then retried from the start (at most
//!   [`MAX_ATTEMPTS`] times).
//!
//! See `docs/storage.md` in the repository for the full argument, operation by operation.
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

extern crate alloc;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod common;
mod error;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use core::fmt;

pub use error::SqlError;
/// The `sqlx` this crate is built on, for hosts that build their own pools
/// ([`SqlStore::from_pool`]).
pub use sqlx;

/// The largest accepted client metadata, in bytes of JSON (RFC 7591 §2 sets no limit; this
/// store does, so that one registration cannot bloat every client lookup).
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// How long, in seconds, a revoked grant's marker is kept after the later of the revocation time
/// and the latest expiry of anything of the grant: a token request that redeemed a code just
/// before it expired cannot store tokens for a grant whose marker was swept meanwhile. The same
/// value as `oidc_hybrid_memory::REVOCATION_GRACE_SECS`.
pub const REVOCATION_GRACE_SECS: u64 = 600;

/// How many times an operation is attempted when PostgreSQL aborts its transaction with a
/// deadlock or serialisation failure (SQLSTATE `40P01` / `40001`).
pub const MAX_ATTEMPTS: u32 = 5;

mod sealed {
    pub trait Sealed {}
}

/// A database this crate stores in: `sqlx::Sqlite` (feature `sqlite`) or `sqlx::Postgres`
/// (feature `postgres`). Sealed.
pub trait Backend: sqlx::Database + sealed::Sealed {}

#[cfg(feature = "sqlite")]
impl sealed::Sealed for sqlx::Sqlite {}
#[cfg(feature = "sqlite")]
impl Backend for sqlx::Sqlite {}

#[cfg(feature = "postgres")]
impl sealed::Sealed for sqlx::Postgres {}
#[cfg(feature = "postgres")]
impl Backend for sqlx::Postgres {}

/// A [`Storage`](oidc_hybrid::Storage) in a SQL database, over a `sqlx` connection pool.
///
/// Cloning is cheap and shares the pool. Its `Debug` output names the backend and the pool's
/// size, never a connection string, digest or record.
///
/// Construct it with `SqliteStore::open` / `SqliteStore::memory` / `connect`, or
/// [`SqlStore::from_pool`]; then call `migrate` once before use.
pub struct SqlStore<DB: Backend> {
    pool: sqlx::Pool<DB>,
}

/// A store in an embedded SQLite database (a file, or memory).
#[cfg(feature = "sqlite")]
pub type SqliteStore = SqlStore<sqlx::Sqlite>;

/// A store in a PostgreSQL database, shareable by many provider nodes.
#[cfg(feature = "postgres")]
pub type PostgresStore = SqlStore<sqlx::Postgres>;

impl<DB: Backend> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
        }
    }
}

impl<DB: Backend> fmt::Debug for SqlStore<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &<DB as sqlx::Database>::NAME)
            .field("connections", &self.pool.size())
            .field("closed", &self.pool.is_closed())
            .finish()
    }
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
