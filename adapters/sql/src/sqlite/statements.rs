//! The operations of the SQLite store as functions of a connection: the lookups (run on a read
//! connection) and the writes (run by the writer thread inside a request's savepoint). Every
//! statement is prepared once per connection and then taken from its statement cache.
//!
//! The writes take what they store already encoded (the records' JSON is made by the caller,
//! off the writer thread) and return what they read undecoded, for the same reason: the writer
//! thread only runs statements.

use core::sync::atomic::{AtomicU64, Ordering};

use oidc_hybrid::Insertion;
use rusqlite::{CachedStatement, Connection, OptionalExtension, params};

use crate::common::{Row, StoredClient, sql};
use crate::sessions::sql as session_sql;
use crate::{Counts, REVOCATION_GRACE_SECS, SqlError};

use super::writer::Step;

/// A connection and the store's statement counter.
pub(crate) struct Db<'c> {
    pub(crate) conn: &'c Connection,
    pub(crate) statements: &'c AtomicU64,
}

impl Db<'_> {
    /// The cached prepared statement for `sql`, counting one statement.
    ///
    /// The statements are written with PostgreSQL's `$N` parameters (the text is shared with
    /// the PostgreSQL store). SQLite reads `$N` as a *named* parameter, numbered in order of
    /// first appearance, which would swap the values of a statement that names `$2` before
    /// `$1`; `?N` is SQLite's numbered parameter, so the text is rewritten to it.
    fn prepare(&self, sql: &str) -> rusqlite::Result<CachedStatement<'_>> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.conn.prepare_cached(&sqlite_text(sql))
    }
}

/// `sql` with its `$N` parameters written as SQLite's numbered `?N` (no statement of this
/// crate has a `$` elsewhere).
pub(crate) fn sqlite_text(sql: &str) -> String {
    sql.replace('$', "?")
}

/// Keeps the request's changes.
fn keep<T>(value: T) -> Step<T> {
    Ok((value, true))
}

/// Rolls the request's changes back to its savepoint.
fn undo<T>(value: T) -> Step<T> {
    Ok((value, false))
}

/// The statements only SQLite runs: the grant-changing writes are several statements inside
/// the request's savepoint, under the write lock the group's transaction holds.
pub(crate) mod write_sql {
    /// Creates the grant row if needed and returns `(revoked, expires_at)`.
    pub(crate) const LOCK_GRANT: &str = "INSERT INTO grants (id, revoked, expires_at) \
         VALUES ($1, FALSE, 0) \
         ON CONFLICT (id) DO UPDATE SET revoked = grants.revoked \
         RETURNING revoked, expires_at";

    /// Pushes a grant's expiry out to `$2` (never back).
    pub(crate) const EXTEND_GRANT: &str =
        "UPDATE grants SET expires_at = $2 WHERE id = $1 AND expires_at < $2";

    /// Marks a grant revoked and sets its marker's end.
    pub(crate) const REVOKE_GRANT: &str =
        "UPDATE grants SET revoked = TRUE, expires_at = $2 WHERE id = $1";

    /// Pushes the tombstones of a grant's used codes out to `$2`.
    pub(crate) const EXTEND_TOMBSTONES: &str = "UPDATE codes SET expires_at = $2 \
         WHERE grant_id = $1 AND used = TRUE AND expires_at < $2";

    pub(crate) const INSERT_CODE: &str = "INSERT INTO codes \
         (digest, grant_id, client_id, used, expires_at, record) \
         VALUES ($1, $2, $3, FALSE, $4, $5) ON CONFLICT (digest) DO NOTHING";

    pub(crate) const INSERT_ACCESS: &str = "INSERT INTO access_tokens \
         (digest, grant_id, client_id, expires_at, record) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (digest) DO NOTHING";

    pub(crate) const INSERT_REFRESH: &str = "INSERT INTO refresh_tokens \
         (digest, grant_id, client_id, retired, expires_at, record) \
         VALUES ($1, $2, $3, FALSE, $4, $5) ON CONFLICT (digest) DO NOTHING";

    /// The old token of a rotation, read under the write lock.
    pub(crate) const REFRESH_FOR_ROTATION: &str = "SELECT grant_id, retired, record, retired_at \
         FROM refresh_tokens WHERE digest = $1 AND expires_at > $2";

    /// Retires a live refresh token by a rotation at `$2`.
    pub(crate) const RETIRE_REFRESH: &str = "UPDATE refresh_tokens SET retired = TRUE, \
         retired_at = $2 WHERE digest = $1 AND retired = FALSE";

    /// Retires a live refresh token of a revoked grant (no rotation time).
    pub(crate) const RETIRE_REVOKED_REFRESH: &str =
        "UPDATE refresh_tokens SET retired = TRUE WHERE digest = $1 AND retired = FALSE";

    pub(crate) const RETIRE_GRANT_CODES: &str =
        "UPDATE codes SET used = TRUE WHERE grant_id = $1 AND used = FALSE";

    pub(crate) const DELETE_GRANT_ACCESS: &str = "DELETE FROM access_tokens WHERE grant_id = $1";

    pub(crate) const RETIRE_GRANT_REFRESH: &str =
        "UPDATE refresh_tokens SET retired = TRUE WHERE grant_id = $1 AND retired = FALSE";
}

// ---- lookups -------------------------------------------------------------------------------

/// A stored client: `(metadata, secret digest, secret key)`.
pub(crate) type ClientRow = (String, Option<Vec<u8>>, Option<String>);

/// The stored client with this id.
pub(crate) fn client(db: &Db<'_>, id: &str) -> Result<Option<ClientRow>, SqlError> {
    Ok(db
        .prepare(sql::CLIENT)?
        .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

/// The record of the live access token with this digest.
pub(crate) fn access_token(
    db: &Db<'_>,
    digest: &[u8],
    now: i64,
) -> Result<Option<String>, SqlError> {
    Ok(db
        .prepare(sql::ACCESS)?
        .query_row(params![digest, now], |r| r.get(0))
        .optional()?)
}

/// The refresh token with this digest: `(grant, retired, record, grant revoked, retired at)`.
pub(crate) type RefreshRow = (String, bool, String, bool, Option<i64>);

/// The refresh token with this digest, live or retired.
pub(crate) fn refresh_token(
    db: &Db<'_>,
    digest: &[u8],
    now: i64,
) -> Result<Option<RefreshRow>, SqlError> {
    Ok(db
        .prepare(sql::REFRESH)?
        .query_row(params![digest, now], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?)
}

/// Every client id, in order.
pub(crate) fn client_ids(db: &Db<'_>) -> Result<Vec<String>, SqlError> {
    let mut statement = db.prepare(sql::CLIENT_IDS)?;
    let ids = statement
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(ids)
}

/// The row counts (one statement: one snapshot).
pub(crate) fn counts(db: &Db<'_>) -> Result<Counts, SqlError> {
    let n = |count: i64| u64::try_from(count).unwrap_or(0);
    Ok(db.prepare(sql::COUNTS)?.query_row([], |r| {
        Ok(Counts {
            clients: n(r.get(0)?),
            codes: n(r.get(1)?),
            access_tokens: n(r.get(2)?),
            refresh_tokens: n(r.get(3)?),
            grants: n(r.get(4)?),
            jtis: n(r.get(5)?),
        })
    })?)
}

// ---- writes: one request each, inside its savepoint ----------------------------------------

/// Inserts a client unless its id is taken.
pub(crate) fn insert_client(db: &Db<'_>, c: &StoredClient) -> Step<()> {
    let changed = db.prepare(sql::INSERT_CLIENT)?.execute(params![
        c.id,
        c.metadata,
        c.secret.as_ref().map(<[u8; 32]>::as_slice),
        c.secret_key
    ])?;
    if changed == 0 {
        return Err(SqlError::ClientExists);
    }
    keep(())
}

/// Inserts or replaces a client.
pub(crate) fn upsert_client(db: &Db<'_>, c: &StoredClient) -> Step<()> {
    db.prepare(sql::UPSERT_CLIENT)?.execute(params![
        c.id,
        c.metadata,
        c.secret.as_ref().map(<[u8; 32]>::as_slice),
        c.secret_key
    ])?;
    keep(())
}

/// Deletes a client; whether there was one.
pub(crate) fn delete_client(db: &Db<'_>, id: &str) -> Step<bool> {
    keep(db.prepare(sql::DELETE_CLIENT)?.execute(params![id])? > 0)
}

/// Stores a pushed authorization request.
pub(crate) fn insert_pushed(
    db: &Db<'_>,
    digest: &[u8],
    client: &str,
    params_json: &str,
    expires_at: i64,
) -> Step<()> {
    db.prepare(sql::INSERT_PUSHED)?
        .execute(params![digest, client, params_json, expires_at])?;
    keep(())
}

/// Deletes the pushed request with this digest and returns `(client, params, expires_at)`.
pub(crate) fn take_pushed(db: &Db<'_>, digest: &[u8]) -> Step<Option<(String, String, i64)>> {
    keep(
        db.prepare(sql::TAKE_PUSHED)?
            .query_row(params![digest], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?,
    )
}

/// What a redemption found: the record of a code it marked used, or the state of the code.
#[derive(Debug)]
pub(crate) enum Redeemed {
    /// The code was live and is now used: its record.
    Fresh(String),
    /// The code was used already: its grant.
    Replayed(String),
    /// Unknown or expired.
    Unknown,
}

/// The conditional `UPDATE … RETURNING` of a live code, then, if it matched nothing, the read
/// of the code's state (both under the write lock).
pub(crate) fn redeem(db: &Db<'_>, digest: &[u8], now: i64) -> Step<Redeemed> {
    let fresh: Option<String> = db
        .prepare(sql::REDEEM)?
        .query_row(params![digest, now], |r| r.get(0))
        .optional()?;
    if let Some(record) = fresh {
        return keep(Redeemed::Fresh(record));
    }
    let state: Option<(String, bool)> = db
        .prepare(sql::CODE_STATE)?
        .query_row(params![digest, now], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    keep(match state {
        Some((grant, true)) => Redeemed::Replayed(grant),
        _ => Redeemed::Unknown,
    })
}

/// Deletes one access token.
pub(crate) fn delete_access(db: &Db<'_>, digest: &[u8]) -> Step<()> {
    db.prepare(sql::DELETE_ACCESS)?.execute(params![digest])?;
    keep(())
}

/// The `jti` test-and-set; whether it was new.
pub(crate) fn record_jti(
    db: &Db<'_>,
    client: &str,
    jti: &[u8],
    expires_at: i64,
    now: i64,
) -> Step<bool> {
    let changed = db
        .prepare(sql::RECORD_JTI)?
        .execute(params![client, jti, expires_at, now])?;
    keep(changed > 0)
}

/// Every table's sweep; how many rows they removed (session grant lists are not counted).
pub(crate) fn sweep(db: &Db<'_>, now: i64) -> Step<u64> {
    let mut removed = 0;
    for statement in sql::SWEEP.iter().chain([&session_sql::SWEEP]) {
        removed += db.prepare(statement)?.execute(params![now])? as u64;
    }
    db.prepare(session_sql::SWEEP_GRANTS)?
        .execute(params![now])?;
    keep(removed)
}

/// Creates a session; `false` if its id exists.
pub(crate) fn create_session(
    db: &Db<'_>,
    sid: &str,
    record: &str,
    expires_at: i64,
    ends_at: i64,
) -> Step<bool> {
    let changed = db
        .prepare(session_sql::CREATE)?
        .execute(params![sid, record, expires_at, ends_at])?;
    keep(changed > 0)
}

/// Extends a live session's idle expiry (never past its end): its record and new expiry.
pub(crate) fn touch_session(
    db: &Db<'_>,
    sid: &str,
    expires_at: i64,
    now: i64,
) -> Step<Option<(String, i64)>> {
    let row = db
        .prepare(session_sql::TOUCH)?
        .query_row(params![sid, expires_at, now], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    keep(row)
}

/// A live session: record, expiry and end.
pub(crate) fn live_session(
    db: &Db<'_>,
    sid: &str,
    now: i64,
) -> Result<Option<crate::sessions::LiveRow>, SqlError> {
    Ok(db
        .prepare(session_sql::LIVE)?
        .query_row(params![sid, now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

/// Records a grant under a live session (the single writer serialises it with `end_session`):
/// `false` if the session is gone.
pub(crate) fn add_session_grant(
    db: &Db<'_>,
    sid: &str,
    grant_id: &str,
    record: &str,
    now: i64,
) -> Step<bool> {
    let live = db
        .prepare(session_sql::LOCK_LIVE)?
        .execute(params![sid, now])?
        > 0;
    if live {
        db.prepare(session_sql::ADD_GRANT)?
            .execute(params![sid, grant_id, record])?;
    }
    keep(live)
}

/// The grant records of a live session, in the order they were added.
pub(crate) fn session_grants(db: &Db<'_>, sid: &str, now: i64) -> Result<Vec<String>, SqlError> {
    let mut statement = db.prepare(session_sql::GRANTS)?;
    let rows = statement.query_map(params![sid, now], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
}

/// Deletes a session and its grants: the session's record and expiry, and its grants with
/// their order.
pub(crate) fn end_session(db: &Db<'_>, sid: &str) -> Step<EndedRows> {
    let session = db
        .prepare(session_sql::END)?
        .query_row(params![sid], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let mut statement = db.prepare(session_sql::END_GRANTS)?;
    let grants = statement
        .query_map(params![sid], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<(String, i64)>>>()?;
    keep((session, grants))
}

/// What [`end_session`] deleted: the session (record, expiry) and its grants (record, order).
pub(crate) type EndedRows = (Option<(String, i64)>, Vec<(String, i64)>);

/// Creates (if needed) the grant's row; whether the grant is revoked, and its expiry.
fn lock_grant(db: &Db<'_>, grant: &str) -> Result<(bool, i64), SqlError> {
    Ok(db
        .prepare(write_sql::LOCK_GRANT)?
        .query_row(params![grant], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// Runs a statement of `(grant, until)`.
fn extend(db: &Db<'_>, statement: &str, grant: &str, until: i64) -> Result<(), SqlError> {
    db.prepare(statement)?.execute(params![grant, until])?;
    Ok(())
}

/// Inserts a row with one of the `INSERT … ON CONFLICT DO NOTHING` statements; whether it was
/// inserted.
fn insert_row(db: &Db<'_>, statement: &str, row: &Row) -> Result<bool, SqlError> {
    let inserted = db.prepare(statement)?.execute(params![
        row.digest.as_slice(),
        row.grant_id,
        row.client_id,
        row.expires_at,
        row.record
    ])?;
    Ok(inserted == 1)
}

/// Stores a code and its front-channel token of the same grant, both or neither, unless the
/// grant is revoked or a digest is taken.
pub(crate) fn insert_code(db: &Db<'_>, code: &Row, token: Option<&Row>) -> Step<()> {
    let (revoked, grant_expires) = lock_grant(db, &code.grant_id)?;
    if revoked {
        return undo(());
    }
    if !insert_row(db, write_sql::INSERT_CODE, code)? {
        // Already stored: a retried call. Never overwrite (a used code stays used).
        return undo(());
    }
    let mut until = grant_expires.max(code.expires_at);
    if let Some(token) = token {
        if !insert_row(db, write_sql::INSERT_ACCESS, token)? {
            return undo(());
        }
        until = until.max(token.expires_at);
    }
    extend(db, write_sql::EXTEND_GRANT, &code.grant_id, until)?;
    keep(())
}

/// Stores the tokens of one grant under its lock, unless it is revoked.
pub(crate) fn insert_tokens(db: &Db<'_>, access: &Row, refresh: Option<&Row>) -> Step<Insertion> {
    let (revoked, grant_expires) = lock_grant(db, &access.grant_id)?;
    if revoked {
        return undo(Insertion::GrantRevoked);
    }
    if !insert_row(db, write_sql::INSERT_ACCESS, access)? {
        // Already stored: a retried call (digests of random secrets do not collide).
        return undo(Insertion::Stored);
    }
    let mut until = grant_expires.max(access.expires_at);
    if let Some(refresh) = refresh {
        if !insert_row(db, write_sql::INSERT_REFRESH, refresh)? {
            return undo(Insertion::Stored);
        }
        until = until.max(refresh.expires_at);
    }
    extend(db, write_sql::EXTEND_GRANT, &access.grant_id, until)?;
    extend(db, write_sql::EXTEND_TOMBSTONES, &access.grant_id, until)?;
    keep(Insertion::Stored)
}

/// What a rotation did.
#[derive(Debug)]
pub(crate) enum Rotated {
    /// `old` was retired (or rotated again inside the grace window) and `new` stored: `old`'s
    /// record.
    Done(String),
    /// `old` was retired already, or its grant is revoked.
    Reused,
    /// `old` is unknown or expired, or of another grant.
    Unknown,
}

/// Retires the live refresh token `old` and stores `new` of the same grant; with
/// `grace_since`, also stores `new` for an `old` first rotated at or after it.
pub(crate) fn rotate(
    db: &Db<'_>,
    old: &[u8],
    new: &Row,
    now: i64,
    grace_since: Option<i64>,
) -> Step<Rotated> {
    let (revoked, grant_expires) = lock_grant(db, &new.grant_id)?;
    let row: Option<(String, bool, String, Option<i64>)> = db
        .prepare(write_sql::REFRESH_FOR_ROTATION)?
        .query_row(params![old, now], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((old_grant, retired, record, retired_at)) = row else {
        return undo(Rotated::Unknown);
    };
    if old_grant != new.grant_id {
        // A `new` of another grant: a caller bug that must not move a token out of its grant's
        // revocation. Nothing changes.
        return undo(Rotated::Unknown);
    }
    if revoked {
        // `revoke_grant` has already retired every refresh token of the grant; this only makes
        // sure, and refuses.
        if retired {
            return undo(Rotated::Reused);
        }
        db.prepare(write_sql::RETIRE_REVOKED_REFRESH)?
            .execute(params![old])?;
        return keep(Rotated::Reused);
    }
    // A rotated token is rotated again only inside the reuse grace window.
    let again = retired
        && grace_since
            .zip(retired_at)
            .is_some_and(|(since, at)| at >= since);
    if retired && !again {
        return undo(Rotated::Reused);
    }
    if !again
        && db
            .prepare(write_sql::RETIRE_REFRESH)?
            .execute(params![old, now])?
            != 1
    {
        // Cannot happen under the write lock (only a sweep of the expired row could race).
        return undo(Rotated::Unknown);
    }
    // Never overwrites: a retried rotation cannot revive a retired `new`.
    insert_row(db, write_sql::INSERT_REFRESH, new)?;
    let until = grant_expires.max(new.expires_at);
    extend(db, write_sql::EXTEND_GRANT, &new.grant_id, until)?;
    extend(db, write_sql::EXTEND_TOMBSTONES, &new.grant_id, until)?;
    keep(Rotated::Done(record))
}

/// Marks a grant revoked and retires or deletes its members.
pub(crate) fn revoke_grant(db: &Db<'_>, grant: &str, now: i64) -> Step<()> {
    let grace = i64::try_from(REVOCATION_GRACE_SECS).unwrap_or(i64::MAX);
    let (_, grant_expires) = lock_grant(db, grant)?;
    let marker_until = grant_expires
        .max(now)
        .saturating_add(grace)
        .max(grant_expires);
    db.prepare(write_sql::REVOKE_GRANT)?
        .execute(params![grant, marker_until])?;
    for statement in [
        write_sql::RETIRE_GRANT_CODES,
        write_sql::DELETE_GRANT_ACCESS,
        write_sql::RETIRE_GRANT_REFRESH,
    ] {
        db.prepare(statement)?.execute(params![grant])?;
    }
    keep(())
}
