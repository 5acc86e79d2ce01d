//! The PostgreSQL backend: [`PostgresStore`](crate::PostgresStore).
//!
//! Transactions run at READ COMMITTED (set explicitly, whatever the server's default): the
//! atomicity argument rests on row locks, not on snapshot isolation. A single-statement
//! `UPDATE … WHERE used = FALSE … RETURNING` that finds its row locked by another transaction
//! waits for it and re-checks its `WHERE` against the committed row; a transaction that changes a
//! grant's members holds the grant row's lock to its end. Deadlocks and serialisation failures
//! roll a transaction back whole; the operation is then retried.

use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;

type Db = sqlx::Postgres;

const BEGIN_WRITE: &str = "BEGIN ISOLATION LEVEL READ COMMITTED";

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// SQLSTATE `40001` (serialization_failure) and `40P01` (deadlock_detected): the transaction was
/// rolled back whole and may run again.
fn retryable(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "40001" || code == "40P01")
}

include!("ops.rs");

impl SqlStore<Db> {
    /// Connects a pool (sqlx's defaults: up to 10 connections) to a `postgres://` URL, e.g.
    /// `postgres://op@db.internal/op`. Call [`migrate`](Self::migrate) before use.
    ///
    /// # Errors
    ///
    /// [`SqlError::Database`] for a malformed URL or an unreachable server.
    pub async fn connect(url: &str) -> Result<Self, SqlError> {
        let pool = PgPoolOptions::new().connect(url).await?;
        Ok(Self { pool })
    }
}
