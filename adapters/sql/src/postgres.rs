//! The PostgreSQL backend: [`PostgresStore`](crate::PostgresStore).
//!
//! Every statement is a network round trip, so the operations on a flow's path are single
//! statements: `insert_code`, `insert_tokens` and `rotate_refresh_token` are each one statement
//! whose data-modifying CTEs first upsert the grant row — which takes its row lock, exactly as
//! the explicit lock of a transaction would — and then insert, retire and extend what the
//! outcome calls for, reading `RETURNING` rows to decide. A statement is its own transaction:
//! all of it or none of it is committed, and the grant row stays locked until it commits.
//! `revoke_grant`, off the flows' path, is a transaction of two statements after `BEGIN`: its
//! second statement must see every member committed by the holders of the grant lock it waited
//! for, which a single statement, whose snapshot is taken before it waits, would not.
//!
//! Transactions run at READ COMMITTED (set explicitly, whatever the server's default): the
//! atomicity argument rests on row locks, not on snapshot isolation. A statement that finds a
//! row it updates locked by another transaction waits for it and re-checks its `WHERE` against
//! the committed row; `INSERT … ON CONFLICT DO UPDATE` locks and reads the latest committed row.
//! Deadlocks and serialisation failures roll a statement or transaction back whole; the
//! operation is then retried.

use core::time::Duration;

use oidc_hybrid::{
    AccessTokenRecord, CodeRecord, GrantId, Insertion, RefreshTokenRecord, Rotation, SecretDigest,
    UnixTime,
};
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;

use crate::common::{Member, Row, from_json, secs, to_json};
use crate::dialect::Dialect;
use crate::{Backend, REVOCATION_GRACE_SECS, SqlError, SqlStore};

type Db = sqlx::Postgres;

impl Backend for Db {}

/// How long a connection of a pool opened by [`SqlStore::connect`] may have been idle and
/// still be handed out without first checking that it is alive: one second.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// How long an operation of a store opened by [`SqlStore::connect`] waits for a connection
/// before failing (sqlx's default is 30 s): while the server is unreachable, requests fail
/// with a storage error — `server_error` to the client — after this long instead of hanging,
/// and the pool reconnects by itself once the server is back.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// Whether `error` is a unique violation (SQLSTATE `23505`) of `constraint`.
fn duplicate(error: &sqlx::Error, constraint: &str) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.code().as_deref() == Some("23505") && e.constraint() == Some(constraint))
}

/// The grant-changing statements. Each single statement starts with the grant lock of
/// docs/storage.md, a CTE `g` that upserts the grant row: it creates the row or locks the
/// existing one until the statement commits, pushes its expiry out to the new members' (not for
/// a revoked grant, whose marker keeps its end), and returns the row as last committed, whatever
/// the statement's snapshot. Every other change is made `FROM g`, so after the lock is granted.
mod write_sql {
    use crate::sessions::session_grant_ctes;

    /// The conflict clause of every grant upsert that adds members: `excluded.expires_at` is
    /// the latest expiry of what is being added.
    macro_rules! extend_on_conflict {
        () => {
            "ON CONFLICT (id) DO UPDATE SET expires_at = CASE WHEN grants.revoked \
             THEN grants.expires_at ELSE GREATEST(grants.expires_at, excluded.expires_at) END \
             RETURNING revoked, expires_at"
        };
    }

    /// The code part of `insert_code`: `$1` digest, `$2` grant, `$3` client, `$4` expiry, `$5`
    /// record, `$6` the grant's new expiry. A digest already stored (a retried call) skips
    /// everything, the lock included; a revoked grant stores nothing.
    macro_rules! insert_code {
        ($token_check:literal) => {
            concat!(
                "WITH g AS (INSERT INTO grants (id, revoked, expires_at) SELECT $2, FALSE, $6 \
                 WHERE NOT EXISTS (SELECT 1 FROM codes WHERE digest = $1)",
                $token_check,
                " ",
                extend_on_conflict!(),
                "), c AS (INSERT INTO codes \
                 (digest, grant_id, client_id, used, expires_at, record) \
                 SELECT $1, $2, $3, FALSE, $4, $5 FROM g WHERE NOT g.revoked \
                 ON CONFLICT (digest) DO NOTHING RETURNING grant_id)"
            )
        };
    }

    /// `insert_code` without a front-channel token.
    pub(super) const INSERT_CODE: &str = concat!(insert_code!(""), " SELECT 1");

    /// `insert_code` with a front-channel token: `$7` digest, `$8` client, `$9` expiry, `$10`
    /// record. The token is inserted from the inserted code's row, so never without it. A
    /// token digest already stored skips everything; one stored by a concurrent statement
    /// after this one's snapshot makes the token insert fail with a unique violation of
    /// `access_tokens_pkey`, which undoes the whole statement — the code included.
    pub(super) const INSERT_CODE_AND_TOKEN: &str = concat!(
        insert_code!(" AND NOT EXISTS (SELECT 1 FROM access_tokens WHERE digest = $7)"),
        ", t AS (INSERT INTO access_tokens (digest, grant_id, client_id, expires_at, record) \
         SELECT $7, c.grant_id, $8, $9, $10 FROM c) SELECT 1"
    );

    /// `insert_code_in_session`: the grant recorded under a live session and the code (with its
    /// front-channel token, if `$7` is not NULL) stored, in one statement. `$1`–`$10` as for
    /// [`INSERT_CODE_AND_TOKEN`] (NULLs without a token), `$11` the session, `$12` the session
    /// grant's id, `$13` its record, `$14` now. The live session's row is locked first (as by
    /// `ADD_GRANT_IF_LIVE`); without it nothing else happens. Returns the number of live sessions
    /// locked (0 or 1).
    pub(super) const INSERT_CODE_IN_SESSION: &str = concat!(
        "WITH ",
        session_grant_ctes!("$11", "$12", "$13", "$14"),
        ", g AS (INSERT INTO grants (id, revoked, expires_at) SELECT $2, FALSE, $6 FROM s \
         WHERE NOT EXISTS (SELECT 1 FROM codes WHERE digest = $1) \
         AND NOT EXISTS (SELECT 1 FROM access_tokens WHERE digest = $7) ",
        extend_on_conflict!(),
        "), c AS (INSERT INTO codes \
         (digest, grant_id, client_id, used, expires_at, record) \
         SELECT $1, $2, $3, FALSE, $4, $5 FROM g WHERE NOT g.revoked \
         ON CONFLICT (digest) DO NOTHING RETURNING grant_id), \
         t AS (INSERT INTO access_tokens (digest, grant_id, client_id, expires_at, record) \
         SELECT $7, c.grant_id, $8, $9, $10 FROM c WHERE $7::bytea IS NOT NULL) \
         SELECT COUNT(*) FROM s"
    );

    /// `insert_tokens`: `$1` digest, `$2` grant, `$3` client, `$4` expiry, `$5` record of the
    /// access token, `$6` the grant's new expiry. Returns whether the grant is revoked (read
    /// under its lock when anything was to be stored; for a retried call, whose digests are
    /// stored already, as last committed). Once the access token is inserted, the tombstones of
    /// the grant's used codes are pushed out to the grant's new expiry.
    macro_rules! insert_tokens {
        ($refresh_check:literal, $refresh_insert:literal) => {
            concat!(
                "WITH g AS (INSERT INTO grants (id, revoked, expires_at) SELECT $2, FALSE, $6 \
                 WHERE NOT EXISTS (SELECT 1 FROM access_tokens WHERE digest = $1)",
                $refresh_check,
                " ",
                extend_on_conflict!(),
                "), a AS (INSERT INTO access_tokens \
                 (digest, grant_id, client_id, expires_at, record) \
                 SELECT $1, $2, $3, $4, $5 FROM g WHERE NOT g.revoked \
                 ON CONFLICT (digest) DO NOTHING RETURNING grant_id)",
                $refresh_insert,
                ", t AS (UPDATE codes SET expires_at = g.expires_at FROM g, a \
                 WHERE codes.grant_id = a.grant_id AND codes.used = TRUE \
                 AND codes.expires_at < g.expires_at) \
                 SELECT COALESCE((SELECT revoked FROM g), \
                 (SELECT revoked FROM grants WHERE id = $2), FALSE)"
            )
        };
    }

    /// `insert_tokens` with an access token only.
    pub(super) const INSERT_ACCESS: &str = insert_tokens!("", "");

    /// `insert_tokens` with a refresh token too: `$7` digest, `$8` client, `$9` expiry, `$10`
    /// record. Inserted from the inserted access token's row; a digest stored concurrently
    /// makes it fail with a unique violation of `refresh_tokens_pkey`, undoing the statement.
    pub(super) const INSERT_ACCESS_AND_REFRESH: &str = insert_tokens!(
        " AND NOT EXISTS (SELECT 1 FROM refresh_tokens WHERE digest = $7)",
        ", r AS (INSERT INTO refresh_tokens \
         (digest, grant_id, client_id, retired, expires_at, record) \
         SELECT $7, a.grant_id, $8, FALSE, $9, $10 FROM a)"
    );

    /// `rotate_refresh_token`: `$1` old digest, `$2` now, `$3` grant, `$4` new digest, `$5`
    /// client, `$6` expiry, `$7` record. The grant is locked (and its expiry pushed out) only if
    /// the old token, as of the statement's snapshot, is a live token of `$3`. Under the lock,
    /// the old token is retired only if it still is live (re-checked against the latest row):
    /// of concurrent rotations exactly one retires it. The new token is stored, and the
    /// tombstones extended, only if the old one was retired and the grant is not revoked.
    /// Returns the old token's grant and retired flag as of the snapshot (no row: unknown or
    /// expired), the record of the token retired by this statement (or NULL), and the grant's
    /// revoked flag under the lock (NULL if it was not locked).
    pub(super) const ROTATE: &str = concat!(
        "WITH old AS (SELECT grant_id, retired FROM refresh_tokens \
         WHERE digest = $1 AND expires_at > $2), \
         g AS (INSERT INTO grants (id, revoked, expires_at) SELECT $3, FALSE, $6 FROM old \
         WHERE old.grant_id = $3 AND old.retired = FALSE ",
        extend_on_conflict!(),
        "), o AS (UPDATE refresh_tokens SET retired = TRUE, retired_at = $2 FROM g \
         WHERE refresh_tokens.digest = $1 AND refresh_tokens.grant_id = $3 \
         AND refresh_tokens.retired = FALSE AND refresh_tokens.expires_at > $2 \
         RETURNING refresh_tokens.record), \
         n AS (INSERT INTO refresh_tokens \
         (digest, grant_id, client_id, retired, expires_at, record) \
         SELECT $4, $3, $5, FALSE, $6, $7 FROM o, g WHERE g.revoked = FALSE \
         ON CONFLICT (digest) DO NOTHING), \
         t AS (UPDATE codes SET expires_at = g.expires_at FROM g, o \
         WHERE g.revoked = FALSE AND codes.grant_id = $3 AND codes.used = TRUE \
         AND codes.expires_at < g.expires_at) \
         SELECT old.grant_id, old.retired, (SELECT record FROM o), (SELECT revoked FROM g) \
         FROM old"
    );

    /// Rotates a token again inside the reuse grace window: `$1`–`$7` as for [`ROTATE`], `$8`
    /// the window's start. Only an old token of `$3` retired by a rotation at or after `$8`
    /// qualifies; then the grant is locked (and its expiry pushed out) and, if it is not
    /// revoked, the new token stored and the tombstones extended. Returns the old token's grant
    /// and record (no row: it does not qualify) and the grant's revoked flag under the lock.
    pub(super) const ROTATE_AGAIN: &str = concat!(
        "WITH old AS (SELECT grant_id, record FROM refresh_tokens \
         WHERE digest = $1 AND expires_at > $2 AND retired = TRUE AND retired_at >= $8), \
         g AS (INSERT INTO grants (id, revoked, expires_at) SELECT $3, FALSE, $6 FROM old \
         WHERE old.grant_id = $3 ",
        extend_on_conflict!(),
        "), n AS (INSERT INTO refresh_tokens \
         (digest, grant_id, client_id, retired, expires_at, record) \
         SELECT $4, $3, $5, FALSE, $6, $7 FROM g WHERE g.revoked = FALSE \
         ON CONFLICT (digest) DO NOTHING), \
         t AS (UPDATE codes SET expires_at = g.expires_at FROM g \
         WHERE g.revoked = FALSE AND codes.grant_id = $3 AND codes.used = TRUE \
         AND codes.expires_at < g.expires_at) \
         SELECT old.grant_id, old.record, (SELECT revoked FROM g) FROM old"
    );

    /// The first statement of `revoke_grant`: locks (creating if needed) the grant row, marks
    /// it revoked and sets the marker's end to `REVOCATION_GRACE_SECS` (`$4`) after the later of
    /// `$3` (now) and the grant's expiry, saturating at `i64::MAX`; `$2` is that end for a new
    /// row.
    pub(super) const REVOKE_GRANT: &str = "INSERT INTO grants (id, revoked, expires_at) \
         VALUES ($1, TRUE, $2) ON CONFLICT (id) DO UPDATE SET revoked = TRUE, \
         expires_at = LEAST(GREATEST(grants.expires_at, $3), 9223372036854775807 - $4) + $4";

    /// The second statement of `revoke_grant`, under the grant lock and with a snapshot taken
    /// after it: retires the grant's codes and refresh tokens and deletes its access tokens.
    pub(super) const REVOKE_MEMBERS: &str = "WITH c AS (UPDATE codes SET used = TRUE \
         WHERE grant_id = $1 AND used = FALSE), \
         a AS (DELETE FROM access_tokens WHERE grant_id = $1) \
         UPDATE refresh_tokens SET retired = TRUE WHERE grant_id = $1 AND retired = FALSE";
}

/// PostgreSQL: the grant-changing writes are single statements, but for `revoke_grant`;
/// transactions run at READ COMMITTED; deadlocks and serialisation failures are retried.
impl Dialect for Db {
    const BEGIN_WRITE: &'static str = "BEGIN ISOLATION LEVEL READ COMMITTED";

    const MIGRATOR: &'static Migrator = &MIGRATOR;

    /// SQLSTATE `40001` (serialization_failure) and `40P01` (deadlock_detected): the statement
    /// or transaction was rolled back whole and may run again.
    fn retryable(error: &sqlx::Error) -> bool {
        error
            .as_database_error()
            .and_then(|e| e.code())
            .is_some_and(|code| code == "40001" || code == "40P01")
    }

    async fn insert_code_once(
        store: &SqlStore<Self>,
        code: &CodeRecord,
        token: Option<&AccessTokenRecord>,
    ) -> Result<(), SqlError> {
        let statement = if token.is_some() {
            write_sql::INSERT_CODE_AND_TOKEN
        } else {
            write_sql::INSERT_CODE
        };
        let rows = Pair::of(code, token)?;
        let stored = store
            .write_changed(Box::new(move || rows.bind(sqlx::query(statement), false)))
            .await;
        match stored {
            // Stored, or nothing to store (a revoked grant, a retried call).
            Ok(_) => Ok(()),
            // The token's digest was stored meanwhile: the statement, code included, is undone.
            Err(SqlError::Database(e)) if duplicate(&e, "access_tokens_pkey") => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn insert_code_in_session_once(
        store: &SqlStore<Self>,
        code: &CodeRecord,
        token: Option<&AccessTokenRecord>,
        sid: &oidc_hybrid::SessionId,
        grant: &oidc_hybrid::SessionGrant,
        now: UnixTime,
    ) -> Result<bool, SqlError> {
        let rows = Pair::of(code, token)?;
        let (sid, grant_id) = (sid.as_str().to_owned(), grant.grant_id.as_str().to_owned());
        let (record, now) = (to_json(grant)?, secs(now));
        let live = store
            .write_row::<(i64,)>(Box::new(move || {
                rows.bind(sqlx::query(write_sql::INSERT_CODE_IN_SESSION), true)
                    .bind(sid.clone())
                    .bind(grant_id.clone())
                    .bind(record.clone())
                    .bind(now)
            }))
            .await;
        match live {
            Ok(row) => Ok(row.is_some_and(|(n,)| n > 0)),
            // The token's digest was stored meanwhile: the statement, grant record and code
            // included, is undone (as in `insert_code`).
            Err(SqlError::Database(e)) if duplicate(&e, "access_tokens_pkey") => Ok(true),
            Err(e) => Err(e),
        }
    }

    async fn insert_tokens_once(
        store: &SqlStore<Self>,
        access: &AccessTokenRecord,
        refresh: Option<&RefreshTokenRecord>,
    ) -> Result<Insertion, SqlError> {
        let statement = if refresh.is_some() {
            write_sql::INSERT_ACCESS_AND_REFRESH
        } else {
            write_sql::INSERT_ACCESS
        };
        let rows = Pair::of(access, refresh)?;
        let revoked = store
            .write_row::<(bool,)>(Box::new(move || rows.bind(sqlx::query(statement), false)))
            .await;
        match revoked.and_then(|row| row.ok_or(SqlError::Database(sqlx::Error::RowNotFound))) {
            Ok((true,)) => Ok(Insertion::GrantRevoked),
            // Stored, or stored already (a retried call: digests of random secrets do not
            // collide).
            Ok((false,)) => Ok(Insertion::Stored),
            // The refresh token's digest was stored meanwhile (so the grant was not revoked):
            // the statement is undone, as for a retried call.
            Err(SqlError::Database(e)) if duplicate(&e, "refresh_tokens_pkey") => {
                Ok(Insertion::Stored)
            }
            Err(e) => Err(e),
        }
    }

    async fn rotate_refresh_token_once(
        store: &SqlStore<Self>,
        old: &SecretDigest,
        new: &RefreshTokenRecord,
        now: UnixTime,
        grace_since: Option<UnixTime>,
    ) -> Result<Rotation, SqlError> {
        let rotation = Rotating::of(old, new, now)?;
        let row: Option<(String, bool, Option<String>, Option<bool>)> = store
            .write_row(Box::new(move || {
                rotation.bind(sqlx::query(write_sql::ROTATE))
            }))
            .await?;
        let Some((old_grant, _, retired_now, revoked)) = row else {
            return Ok(Rotation::Unknown);
        };
        if old_grant != new.grant_id.as_str() {
            // A `new` of another grant: a caller bug that must not move a token out of its
            // grant's revocation. Nothing changed.
            return Ok(Rotation::Unknown);
        }
        Ok(match (retired_now, revoked, grace_since) {
            (Some(record), Some(false), _) => {
                Rotation::Rotated(from_json("refresh_tokens", &record)?)
            }
            // Retired before: inside the reuse grace window it is rotated again.
            (None, _, Some(since)) => rotate_again(store, old, new, now, since).await?,
            // Retired before (by a rotation or a revocation), or retired now by this statement
            // because the grant was revoked meanwhile: reuse.
            _ => Rotation::Reused(new.grant_id.clone()),
        })
    }

    async fn revoke_grant_once(
        store: &SqlStore<Self>,
        grant: &GrantId,
        now: UnixTime,
    ) -> Result<(), SqlError> {
        let grace = i64::try_from(REVOCATION_GRACE_SECS).unwrap_or(i64::MAX);
        let mut tx = store.begin_write().await?;
        sqlx::query(write_sql::REVOKE_GRANT)
            .bind(grant.as_str())
            .bind(secs(now).saturating_add(grace))
            .bind(secs(now))
            .bind(grace)
            .execute(tx.db())
            .await?;
        sqlx::query(write_sql::REVOKE_MEMBERS)
            .bind(grant.as_str())
            .execute(tx.db())
            .await?;
        tx.commit().await
    }
}

/// A PostgreSQL statement with its parameters, owned: what a grouped write builds again each
/// time it runs.
type PgQuery = sqlx::query::Query<'static, Db, sqlx::postgres::PgArguments>;

/// Binding a code or token row to PostgreSQL's inserting statements.
impl Row {
    /// Binds digest, grant, client, expiry and record (the first five parameters of the
    /// inserting statements).
    fn bind(&self, query: PgQuery) -> PgQuery {
        query
            .bind(self.digest.to_vec())
            .bind(self.grant_id.clone())
            .bind(self.client_id.clone())
            .bind(self.expires_at)
            .bind(self.record.clone())
    }

    /// Binds digest, client, expiry and record: the second member of a statement (its grant is
    /// the first member's).
    fn bind_member(&self, query: PgQuery) -> PgQuery {
        query
            .bind(self.digest.to_vec())
            .bind(self.client_id.clone())
            .bind(self.expires_at)
            .bind(self.record.clone())
    }
}

/// The members of one grant a statement stores (a code and its front-channel token, an access
/// token and its refresh token), with the grant's new expiry: the later of theirs.
struct Pair {
    first: Row,
    second: Option<Row>,
    until: i64,
}

impl Pair {
    fn of(first: &impl Member, second: Option<&impl Member>) -> Result<Self, SqlError> {
        let first = first.row()?;
        let second = second.map(Member::row).transpose()?;
        let until = second
            .as_ref()
            .map_or(first.expires_at, |s| first.expires_at.max(s.expires_at));
        Ok(Self {
            first,
            second,
            until,
        })
    }

    /// Binds `$1`–`$6` (the first member, the grant's new expiry) and, if there is one, `$7`–`$10`
    /// (the second member); with `nulls`, NULLs for an absent second member.
    fn bind(&self, query: PgQuery, nulls: bool) -> PgQuery {
        let query = self.first.bind(query).bind(self.until);
        match (&self.second, nulls) {
            (Some(second), _) => second.bind_member(query),
            (None, true) => query
                .bind(None::<Vec<u8>>)
                .bind(None::<String>)
                .bind(None::<i64>)
                .bind(None::<String>),
            (None, false) => query,
        }
    }
}

/// The parameters `$1`–`$7` of [`write_sql::ROTATE`] and [`write_sql::ROTATE_AGAIN`], owned.
struct Rotating {
    old: [u8; 32],
    now: i64,
    new: Row,
}

impl Rotating {
    fn of(old: &SecretDigest, new: &RefreshTokenRecord, now: UnixTime) -> Result<Self, SqlError> {
        Ok(Self {
            old: *old.as_bytes(),
            now: secs(now),
            new: new.row()?,
        })
    }

    fn bind(&self, query: PgQuery) -> PgQuery {
        query
            .bind(self.old.to_vec())
            .bind(self.now)
            .bind(self.new.grant_id.clone())
            .bind(self.new.digest.to_vec())
            .bind(self.new.client_id.clone())
            .bind(self.new.expires_at)
            .bind(self.new.record.clone())
    }
}

/// The second chance of a rotation ([`write_sql::ROTATE_AGAIN`]).
async fn rotate_again(
    store: &SqlStore<Db>,
    old: &SecretDigest,
    new: &RefreshTokenRecord,
    now: UnixTime,
    since: UnixTime,
) -> Result<Rotation, SqlError> {
    let rotation = Rotating::of(old, new, now)?;
    let since = secs(since);
    let row: Option<(String, String, Option<bool>)> = store
        .write_row(Box::new(move || {
            rotation
                .bind(sqlx::query(write_sql::ROTATE_AGAIN))
                .bind(since)
        }))
        .await?;
    Ok(match row {
        Some((grant_id, record, Some(false))) if grant_id == new.grant_id.as_str() => {
            Rotation::Rotated(from_json("refresh_tokens", &record)?)
        }
        _ => Rotation::Reused(new.grant_id.clone()),
    })
}

impl SqlStore<Db> {
    /// Connects a pool (sqlx's defaults: up to 10 connections) to a `postgres://` URL, e.g.
    /// `postgres://op@db.internal/op`. Call [`migrate`](Self::migrate) before use.
    ///
    /// The pool checks that a connection is alive (a `Sync` message and its answer: one round
    /// trip) before handing it out only if it has been idle for [`PING_AFTER_IDLE`] or longer,
    /// instead of every time as sqlx's default does: a busy provider then spends one round trip
    /// per statement, not two. (sqlx also checks each connection as it returns to the pool, off
    /// the request's path.) The price: a connection that dies while briefly idle — the server
    /// restarts — fails the one request that gets it, instead of being replaced on the spot.
    /// Build your own pool and use [`from_pool`](Self::from_pool) to choose otherwise.
    ///
    /// # Errors
    ///
    /// [`SqlError::Database`] for a malformed URL or an unreachable server.
    pub async fn connect(url: &str) -> Result<Self, SqlError> {
        let pool = PgPoolOptions::new()
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_AFTER_IDLE {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect(url)
            .await?;
        Ok(Self::with_pool(pool))
    }
}
