//! The SQLite backend: [`SqliteStore`](crate::SqliteStore).
//!
//! SQLite runs one writer at a time. Every write transaction opens with `BEGIN IMMEDIATE`,
//! which takes the write lock before reading anything, so a transaction never has to upgrade a
//! read snapshot to a write (the case that fails with `SQLITE_BUSY` whatever the busy timeout);
//! a writer that finds the lock taken waits up to [`BUSY_TIMEOUT`]. File databases use WAL
//! mode (readers never wait for the writer) with `synchronous = FULL` (a committed redemption
//! survives a power cut).
//!
//! SQLite has no data-modifying CTEs, so the grant-changing writes (`insert_code`,
//! `insert_tokens`, `rotate_refresh_token`, `revoke_grant`) are transactions of several
//! statements under the write lock. They run in process: a statement costs a function call, not
//! a network round trip.

use core::str::FromStr;
use core::time::Duration;
use std::path::Path;

use oidc_hybrid::{
    AccessTokenRecord, ClientId, CodeRecord, GrantId, Insertion, RefreshTokenRecord, Rotation,
    SecretDigest, UnixTime,
};
use sqlx::ConnectOptions as _;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::common::{from_json, secs, to_json};
use crate::dialect::Dialect;
use crate::ops::Tx;
use crate::{Backend, REVOCATION_GRACE_SECS, SqlError, SqlStore};

type Db = sqlx::Sqlite;

impl Backend for Db {}

/// How long a writer waits for the write lock before failing with `SQLITE_BUSY`.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections in the pool of a file database.
const FILE_POOL_SIZE: u32 = 8;

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// The statements of the grant-changing transactions.
mod write_sql {
    /// Creates the grant row if needed and returns `(revoked, expires_at)` (the transaction
    /// already holds SQLite's write lock).
    pub(super) const LOCK_GRANT: &str = "INSERT INTO grants (id, revoked, expires_at) \
         VALUES ($1, FALSE, 0) \
         ON CONFLICT (id) DO UPDATE SET revoked = grants.revoked \
         RETURNING revoked, expires_at";

    /// Pushes a grant's expiry out to `$2` (never back).
    pub(super) const EXTEND_GRANT: &str =
        "UPDATE grants SET expires_at = $2 WHERE id = $1 AND expires_at < $2";

    /// Marks a grant revoked and sets its marker's end.
    pub(super) const REVOKE_GRANT: &str =
        "UPDATE grants SET revoked = TRUE, expires_at = $2 WHERE id = $1";

    /// Pushes the tombstones of a grant's used codes out to `$2`.
    pub(super) const EXTEND_TOMBSTONES: &str = "UPDATE codes SET expires_at = $2 \
         WHERE grant_id = $1 AND used = TRUE AND expires_at < $2";

    pub(super) const INSERT_CODE: &str = "INSERT INTO codes \
         (digest, grant_id, client_id, used, expires_at, record) \
         VALUES ($1, $2, $3, FALSE, $4, $5) ON CONFLICT (digest) DO NOTHING";

    pub(super) const INSERT_ACCESS: &str = "INSERT INTO access_tokens \
         (digest, grant_id, client_id, expires_at, record) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (digest) DO NOTHING";

    pub(super) const INSERT_REFRESH: &str = "INSERT INTO refresh_tokens \
         (digest, grant_id, client_id, retired, expires_at, record) \
         VALUES ($1, $2, $3, FALSE, $4, $5) ON CONFLICT (digest) DO NOTHING";

    /// The old token of a rotation, read under the write lock.
    pub(super) const REFRESH_FOR_ROTATION: &str = "SELECT grant_id, retired, record, retired_at \
         FROM refresh_tokens WHERE digest = $1 AND expires_at > $2";

    /// Retires a live refresh token by a rotation at `$2`.
    pub(super) const RETIRE_REFRESH: &str = "UPDATE refresh_tokens SET retired = TRUE, \
         retired_at = $2 WHERE digest = $1 AND retired = FALSE";

    /// Retires a live refresh token of a revoked grant (no rotation time).
    pub(super) const RETIRE_REVOKED_REFRESH: &str =
        "UPDATE refresh_tokens SET retired = TRUE WHERE digest = $1 AND retired = FALSE";

    pub(super) const RETIRE_GRANT_CODES: &str =
        "UPDATE codes SET used = TRUE WHERE grant_id = $1 AND used = FALSE";

    pub(super) const DELETE_GRANT_ACCESS: &str = "DELETE FROM access_tokens WHERE grant_id = $1";

    pub(super) const RETIRE_GRANT_REFRESH: &str =
        "UPDATE refresh_tokens SET retired = TRUE WHERE grant_id = $1 AND retired = FALSE";
}

/// Creates (if needed) the grant's row; returns whether the grant is revoked and its current
/// expiry. The transaction holds the database's write lock (`BEGIN IMMEDIATE`).
async fn lock_grant(tx: &mut Tx<'_, Db>, grant: &GrantId) -> Result<(bool, i64), SqlError> {
    Ok(sqlx::query_as(write_sql::LOCK_GRANT)
        .bind(grant.as_str())
        .fetch_one(tx.db())
        .await?)
}

/// Pushes the grant's expiry out to `until` (never back).
async fn extend_grant(tx: &mut Tx<'_, Db>, grant: &GrantId, until: i64) -> Result<(), SqlError> {
    extend(tx, write_sql::EXTEND_GRANT, grant, until).await
}

/// Pushes the tombstones of the grant's used codes out to `until`, so that a replay is
/// recognised for as long as anything issued from the grant can be used (RFC 6749 §4.1.2).
async fn extend_tombstones(
    tx: &mut Tx<'_, Db>,
    grant: &GrantId,
    until: i64,
) -> Result<(), SqlError> {
    extend(tx, write_sql::EXTEND_TOMBSTONES, grant, until).await
}

/// Runs `statement`, which pushes an expiry of `grant` out to `until`.
async fn extend(
    tx: &mut Tx<'_, Db>,
    statement: &'static str,
    grant: &GrantId,
    until: i64,
) -> Result<(), SqlError> {
    sqlx::query(statement)
        .bind(grant.as_str())
        .bind(until)
        .execute(tx.db())
        .await?;
    Ok(())
}

/// Inserts an access token unless its digest is taken; returns whether it was inserted.
async fn insert_access(tx: &mut Tx<'_, Db>, token: &AccessTokenRecord) -> Result<bool, SqlError> {
    let (digest, grant, client) = (&token.digest, &token.grant_id, &token.client_id);
    let row = TokenRow::of(digest, grant, client, token.expires_at);
    insert_token(tx, write_sql::INSERT_ACCESS, row, to_json(token)?).await
}

/// Inserts a live refresh token unless its digest is taken; returns whether it was inserted.
async fn insert_refresh(tx: &mut Tx<'_, Db>, token: &RefreshTokenRecord) -> Result<bool, SqlError> {
    let (digest, grant, client) = (&token.digest, &token.grant_id, &token.client_id);
    let row = TokenRow::of(digest, grant, client, token.expires_at);
    insert_token(tx, write_sql::INSERT_REFRESH, row, to_json(token)?).await
}

/// The indexed columns shared by the access and refresh token tables.
struct TokenRow<'a> {
    digest: &'a [u8],
    grant_id: &'a str,
    client_id: &'a str,
    expires_at: i64,
}

impl<'a> TokenRow<'a> {
    fn of(
        digest: &'a SecretDigest,
        grant_id: &'a GrantId,
        client_id: &'a ClientId,
        expires_at: UnixTime,
    ) -> Self {
        Self {
            digest: digest.as_bytes().as_slice(),
            grant_id: grant_id.as_str(),
            client_id: client_id.as_str(),
            expires_at: secs(expires_at),
        }
    }
}

/// Runs one of the token `INSERT … ON CONFLICT DO NOTHING` statements; returns whether a row was
/// inserted.
async fn insert_token(
    tx: &mut Tx<'_, Db>,
    statement: &'static str,
    row: TokenRow<'_>,
    record: String,
) -> Result<bool, SqlError> {
    let inserted = sqlx::query(statement)
        .bind(row.digest)
        .bind(row.grant_id)
        .bind(row.client_id)
        .bind(row.expires_at)
        .bind(record)
        .execute(tx.db())
        .await?
        .rows_affected();
    Ok(inserted == 1)
}

/// Retires a live refresh token, rotated at `rotated_at` (`None`: its grant was revoked);
/// returns whether it was live.
async fn retire_refresh(
    tx: &mut Tx<'_, Db>,
    digest: &SecretDigest,
    rotated_at: Option<UnixTime>,
) -> Result<bool, SqlError> {
    let query = match rotated_at {
        Some(at) => sqlx::query(write_sql::RETIRE_REFRESH)
            .bind(digest.as_bytes().as_slice())
            .bind(secs(at)),
        None => sqlx::query(write_sql::RETIRE_REVOKED_REFRESH).bind(digest.as_bytes().as_slice()),
    };
    Ok(query.execute(tx.db()).await?.rows_affected() == 1)
}

/// SQLite: the grant-changing writes are transactions opened with `BEGIN IMMEDIATE`, which
/// takes the write lock up front.
impl Dialect for Db {
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";

    const MIGRATOR: &'static Migrator = &MIGRATOR;

    /// SQLite transactions are not rolled back behind the caller's back by a conflict (writers
    /// wait for the lock instead), so nothing is retried.
    fn retryable(_: &sqlx::Error) -> bool {
        false
    }

    async fn insert_code_once(
        store: &SqlStore<Self>,
        code: &CodeRecord,
        token: Option<&AccessTokenRecord>,
    ) -> Result<(), SqlError> {
        let record = to_json(code)?;
        let mut tx = store.begin_write().await?;
        let (revoked, grant_expires) = lock_grant(&mut tx, &code.grant_id).await?;
        if revoked {
            tx.rollback().await?;
            return Ok(());
        }
        let inserted = sqlx::query(write_sql::INSERT_CODE)
            .bind(code.digest.as_bytes().as_slice())
            .bind(code.grant_id.as_str())
            .bind(code.client_id.as_str())
            .bind(secs(code.expires_at))
            .bind(record)
            .execute(tx.db())
            .await?
            .rows_affected();
        if inserted == 0 {
            // Already stored: a retried call. Never overwrite (a used code stays used).
            tx.rollback().await?;
            return Ok(());
        }
        let mut until = grant_expires.max(secs(code.expires_at));
        if let Some(token) = token {
            if !insert_access(&mut tx, token).await? {
                tx.rollback().await?;
                return Ok(());
            }
            until = until.max(secs(token.expires_at));
        }
        extend_grant(&mut tx, &code.grant_id, until).await?;
        tx.commit().await
    }

    async fn insert_tokens_once(
        store: &SqlStore<Self>,
        access: &AccessTokenRecord,
        refresh: Option<&RefreshTokenRecord>,
    ) -> Result<Insertion, SqlError> {
        let mut tx = store.begin_write().await?;
        let (revoked, grant_expires) = lock_grant(&mut tx, &access.grant_id).await?;
        if revoked {
            tx.rollback().await?;
            return Ok(Insertion::GrantRevoked);
        }
        if !insert_access(&mut tx, access).await? {
            // Already stored: a retried call (digests of random secrets do not collide).
            tx.rollback().await?;
            return Ok(Insertion::Stored);
        }
        let mut until = grant_expires.max(secs(access.expires_at));
        if let Some(refresh) = refresh {
            if !insert_refresh(&mut tx, refresh).await? {
                tx.rollback().await?;
                return Ok(Insertion::Stored);
            }
            until = until.max(secs(refresh.expires_at));
        }
        extend_grant(&mut tx, &access.grant_id, until).await?;
        extend_tombstones(&mut tx, &access.grant_id, until).await?;
        tx.commit().await?;
        Ok(Insertion::Stored)
    }

    async fn rotate_refresh_token_once(
        store: &SqlStore<Self>,
        old: &SecretDigest,
        new: &RefreshTokenRecord,
        now: UnixTime,
        grace_since: Option<UnixTime>,
    ) -> Result<Rotation, SqlError> {
        let mut tx = store.begin_write().await?;
        let (revoked, grant_expires) = lock_grant(&mut tx, &new.grant_id).await?;
        let row: Option<(String, bool, String, Option<i64>)> =
            sqlx::query_as(write_sql::REFRESH_FOR_ROTATION)
                .bind(old.as_bytes().as_slice())
                .bind(secs(now))
                .fetch_optional(tx.db())
                .await?;
        let Some((old_grant, retired, record, retired_at)) = row else {
            tx.rollback().await?;
            return Ok(Rotation::Unknown);
        };
        if old_grant != new.grant_id.as_str() {
            // A `new` of another grant: a caller bug that must not move a token out of its
            // grant's revocation. Nothing changes.
            tx.rollback().await?;
            return Ok(Rotation::Unknown);
        }
        if revoked {
            // `revoke_grant` has already retired every refresh token of the grant; this only
            // makes sure, and refuses.
            if retired {
                tx.rollback().await?;
            } else {
                retire_refresh(&mut tx, old, None).await?;
                tx.commit().await?;
            }
            return Ok(Rotation::Reused(new.grant_id.clone()));
        }
        // A rotated token is rotated again only inside the reuse grace window.
        let again = retired
            && grace_since
                .zip(retired_at)
                .is_some_and(|(since, at)| at >= secs(since));
        if retired && !again {
            tx.rollback().await?;
            return Ok(Rotation::Reused(new.grant_id.clone()));
        }
        let retired_record: RefreshTokenRecord = from_json("refresh_tokens", &record)?;
        if !again && !retire_refresh(&mut tx, old, Some(now)).await? {
            // Cannot happen under the write lock (only a sweep of the expired row could race).
            tx.rollback().await?;
            return Ok(Rotation::Unknown);
        }
        // Never overwrites: a retried rotation cannot revive a retired `new`.
        insert_refresh(&mut tx, new).await?;
        let until = grant_expires.max(secs(new.expires_at));
        extend_grant(&mut tx, &new.grant_id, until).await?;
        extend_tombstones(&mut tx, &new.grant_id, until).await?;
        tx.commit().await?;
        Ok(Rotation::Rotated(retired_record))
    }

    async fn revoke_grant_once(
        store: &SqlStore<Self>,
        grant: &GrantId,
        now: UnixTime,
    ) -> Result<(), SqlError> {
        let grace = i64::try_from(REVOCATION_GRACE_SECS).unwrap_or(i64::MAX);
        let mut tx = store.begin_write().await?;
        let (_, grant_expires) = lock_grant(&mut tx, grant).await?;
        let marker_until = grant_expires
            .max(secs(now))
            .saturating_add(grace)
            .max(grant_expires);
        sqlx::query(write_sql::REVOKE_GRANT)
            .bind(grant.as_str())
            .bind(marker_until)
            .execute(tx.db())
            .await?;
        for statement in [
            write_sql::RETIRE_GRANT_CODES,
            write_sql::DELETE_GRANT_ACCESS,
            write_sql::RETIRE_GRANT_REFRESH,
        ] {
            sqlx::query(statement)
                .bind(grant.as_str())
                .execute(tx.db())
                .await?;
        }
        tx.commit().await
    }
}

impl SqlStore<Db> {
    /// Opens (creating it if missing) the SQLite database file at `path`, in WAL mode, with a
    /// pool of 8 connections. Call [`migrate`](Self::migrate) before use.
    ///
    /// # Errors
    ///
    /// [`SqlError::Database`] if the file cannot be opened or is not a SQLite database.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, SqlError> {
        Self::open_file(SqliteConnectOptions::new().filename(path)).await
    }

    /// A fresh private in-memory database: one connection that the pool never closes (each
    /// SQLite connection to `:memory:` has its own database), so operations are serialised by
    /// the pool. Everything is lost when the store is dropped. Call
    /// [`migrate`](Self::migrate) before use.
    ///
    /// # Errors
    ///
    /// [`SqlError::Database`] if SQLite cannot be initialised.
    pub async fn memory() -> Result<Self, SqlError> {
        Self::open_memory(SqliteConnectOptions::from_str("sqlite::memory:")?).await
    }

    /// Connects to a `sqlite:` URL (e.g. `sqlite:///var/lib/op/op.sqlite`, `sqlite::memory:`),
    /// creating the file if missing. URLs naming an in-memory database (`:memory:` or
    /// `mode=memory`) get a single-connection pool as for [`memory`](Self::memory); files are
    /// opened as by [`open`](Self::open).
    ///
    /// # Errors
    ///
    /// [`SqlError::Database`] for a malformed URL or a database that cannot be opened.
    pub async fn connect(url: &str) -> Result<Self, SqlError> {
        let options = SqliteConnectOptions::from_str(url)?;
        if url.contains(":memory:") || url.contains("mode=memory") {
            Self::open_memory(options).await
        } else {
            Self::open_file(options).await
        }
    }

    async fn open_file(options: SqliteConnectOptions) -> Result<Self, SqlError> {
        let options = options
            .create_if_missing(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true);
        // Switching to WAL needs an exclusive lock that the busy timeout does not wait for: do
        // it once, on one connection, before the pool opens several. The mode is persistent.
        let first = options
            .clone()
            .journal_mode(SqliteJournalMode::Wal)
            .connect()
            .await?;
        sqlx::Connection::close(first).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(FILE_POOL_SIZE)
            .connect_with(options)
            .await?;
        Ok(Self::with_pool(pool))
    }

    async fn open_memory(options: SqliteConnectOptions) -> Result<Self, SqlError> {
        let options = options.busy_timeout(BUSY_TIMEOUT).foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        Ok(Self::with_pool(pool))
    }
}
