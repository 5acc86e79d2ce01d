//! The SQLite schema's versions: the migrations under `migrations/sqlite/`, embedded, and the
//! version a database is at, kept in its header (`PRAGMA user_version`).
//!
//! Files created by the earlier sqlx-based store record their migrations in a
//! `_sqlx_migrations` table instead. Such a file is adopted: its version is the highest
//! migration recorded there as successful, written to `user_version` by the first
//! [`migrate`], after which `user_version` alone counts (the table is left as it is; the schema
//! itself is the same). A file whose version is newer than this build knows is refused with
//! [`SqlError::SchemaTooNew`], before anything is written.

use rusqlite::{Connection, OptionalExtension};

use crate::SqlError;

/// The migrations, in order: `(version, SQL)`.
pub(crate) const MIGRATIONS: [(i64, &str); 5] = [
    (1, include_str!("../../migrations/sqlite/0001_storage.sql")),
    (
        2,
        include_str!("../../migrations/sqlite/0002_par_and_hmac_secrets.sql"),
    ),
    (
        3,
        include_str!("../../migrations/sqlite/0003_refresh_rotation_time.sql"),
    ),
    (4, include_str!("../../migrations/sqlite/0004_sessions.sql")),
    (
        5,
        include_str!("../../migrations/sqlite/0005_session_grant_order.sql"),
    ),
];

/// The schema version this build writes and reads.
pub(crate) const VERSION: i64 = 5;

/// The schema version of the database `conn` is open on: `user_version`, or for a file of the
/// sqlx-based store, the last migration it recorded.
///
/// # Errors
///
/// [`SqlError::SchemaBroken`] if the sqlx record holds a failed migration.
pub(crate) fn version(conn: &Connection) -> Result<i64, SqlError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version != 0 {
        return Ok(version);
    }
    let sqlx_table: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if sqlx_table.is_none() {
        return Ok(0);
    }
    let failed: i64 = conn.query_row(
        "SELECT COUNT(*) FROM _sqlx_migrations WHERE success = FALSE",
        [],
        |r| r.get(0),
    )?;
    if failed > 0 {
        return Err(SqlError::SchemaBroken(
            "the database records a migration that failed (table _sqlx_migrations); restore a \
             backup or repair it by hand"
                .into(),
        ));
    }
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success = TRUE",
        [],
        |r| r.get(0),
    )?)
}

/// Applies, in order, the migrations newer than the database's version and records the new
/// version; nothing for a database at [`VERSION`]. Runs inside the caller's transaction (or
/// savepoint): all of it or none of it is kept.
///
/// # Errors
///
/// [`SqlError::SchemaTooNew`] for a database newer than this build;
/// [`SqlError::SchemaBroken`] as for [`version`]; [`SqlError::Sqlite`] if a migration fails.
pub(crate) fn migrate(conn: &Connection) -> Result<(), SqlError> {
    let found = version(conn)?;
    if found > VERSION {
        return Err(SqlError::SchemaTooNew {
            found,
            known: VERSION,
        });
    }
    if found == VERSION
        && conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? == VERSION
    {
        return Ok(());
    }
    for (version, sql) in MIGRATIONS {
        if version > found {
            conn.execute_batch(sql)?;
        }
    }
    conn.execute_batch(&format!("PRAGMA user_version = {VERSION}"))?;
    Ok(())
}
