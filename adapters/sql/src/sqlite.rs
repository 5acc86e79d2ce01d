//! The SQLite backend: [`SqliteStore`](crate::SqliteStore).
//!
//! SQLite runs one writer at a time. Every write transaction opens with `BEGIN IMMEDIATE`,
//! which takes the write lock before reading anything, so a transaction never has to upgrade a
//! read snapshot to a write (the case that fails with `SQLITE_BUSY` whatever the busy timeout);
//! a writer that finds the lock taken waits up to [`BUSY_TIMEOUT`]. File databases use WAL
//! mode (readers never wait for the writer) with `synchronous = FULL` (a committed redemption
//! survives a power cut).

use core::str::FromStr;
use core::time::Duration;
use std::path::Path;

use sqlx::ConnectOptions as _;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

type Db = sqlx::Sqlite;

/// How long a writer waits for the write lock before failing with `SQLITE_BUSY`.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections in the pool of a file database.
const FILE_POOL_SIZE: u32 = 8;

const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// SQLite transactions are not rolled back behind the caller's back by a conflict (writers
/// wait for the lock instead), so nothing is retried.
fn retryable(_: &sqlx::Error) -> bool {
    false
}

include!("ops.rs");

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
        Ok(Self { pool })
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
        Ok(Self { pool })
    }
}
