//! OP sessions in SQL, the same statements for SQLite and PostgreSQL (migration 0004): each
//! operation one statement, or one write transaction that locks the session's row first.
//!
//! - `add_session_grant` and `end_session` both begin by writing the session's row (a no-op
//!   `UPDATE`, a `DELETE`), which PostgreSQL locks until commit and SQLite serialises with
//!   `BEGIN IMMEDIATE`: a grant is recorded either before a logout (which then returns it) or
//!   not at all (the session is gone), never beside it.
//! - `end_session` deletes the row with `RETURNING`: of concurrent logouts exactly one gets it.

use oidc_hybrid::{EndedSession, SessionGrant, SessionRecord};
#[cfg(feature = "postgres")]
use oidc_hybrid::{SessionId, UnixTime};

use crate::SqlError;
use crate::common::{at_secs, from_json};
#[cfg(feature = "postgres")]
use crate::{
    SqlStore,
    common::{secs, to_json},
    ops::RowsChanged,
};

/// PostgreSQL's common table expressions that record a grant under a live session, for the
/// statements that do it (`sql::ADD_GRANT_IF_LIVE`, `postgres::write_sql::INSERT_CODE_IN_SESSION`),
/// given the parameters of the session id, the grant id, the grant's record and now: `s` locks
/// the live session's row (an `UPDATE` that changes nothing; no row if the session ended or
/// expired) and `sg` records the grant `FROM s`, numbered after the session's last.
#[cfg(feature = "postgres")]
macro_rules! session_grant_ctes {
    ($sid:literal, $grant:literal, $record:literal, $now:literal) => {
        concat!(
            "s AS (UPDATE sessions SET expires_at = expires_at WHERE sid = ",
            $sid,
            " AND expires_at > ",
            $now,
            " RETURNING sid), sg AS (INSERT INTO session_grants (sid, grant_id, seq, record) SELECT ",
            $sid,
            ", ",
            $grant,
            ", COALESCE((SELECT MAX(seq) FROM session_grants WHERE sid = ",
            $sid,
            "), 0) + 1, ",
            $record,
            " FROM s ON CONFLICT (sid, grant_id) DO NOTHING)"
        )
    };
}
#[cfg(feature = "postgres")]
pub(crate) use session_grant_ctes;

/// The statements.
pub(crate) mod sql {
    pub(crate) const CREATE: &str = "INSERT INTO sessions (sid, record, expires_at, ends_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (sid) DO NOTHING";

    /// Moves a live session's expiry on to `$2` (capped at its end), only if that is later.
    pub(crate) const TOUCH: &str = "UPDATE sessions \
         SET expires_at = CASE WHEN $2 < ends_at THEN $2 ELSE ends_at END \
         WHERE sid = $1 AND expires_at > $3 \
         AND expires_at < CASE WHEN $2 < ends_at THEN $2 ELSE ends_at END \
         RETURNING record, expires_at";

    /// A live session: its record, expiry and end.
    pub(crate) const LIVE: &str =
        "SELECT record, expires_at, ends_at FROM sessions WHERE sid = $1 AND expires_at > $2";

    /// Locks the live session's row (a write that changes nothing).
    #[cfg(feature = "sqlite")]
    pub(crate) const LOCK_LIVE: &str =
        "UPDATE sessions SET expires_at = expires_at WHERE sid = $1 AND expires_at > $2";

    #[cfg(feature = "sqlite")]
    pub(crate) const ADD_GRANT: &str = "INSERT INTO session_grants (sid, grant_id, seq, record) \
         SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3 FROM session_grants WHERE sid = $1 \
         ON CONFLICT (sid, grant_id) DO NOTHING";

    /// PostgreSQL's `add_session_grant` as one statement: locks the live session's row (`$4`
    /// now) and, if there is one, records the grant under it; the number of live sessions
    /// locked (0 or 1). A logout that deleted the row first leaves nothing to lock; one that
    /// comes after waits for this statement's commit and then, in its own later statement,
    /// sees the grant.
    #[cfg(feature = "postgres")]
    pub(crate) const ADD_GRANT_IF_LIVE: &str = concat!(
        "WITH ",
        session_grant_ctes!("$1", "$2", "$3", "$4"),
        " SELECT COUNT(*) FROM s"
    );

    pub(crate) const GRANTS: &str = "SELECT g.record FROM session_grants g \
         JOIN sessions s ON s.sid = g.sid WHERE g.sid = $1 AND s.expires_at > $2 ORDER BY g.seq";

    pub(crate) const END: &str = "DELETE FROM sessions WHERE sid = $1 RETURNING record, expires_at";

    pub(crate) const END_GRANTS: &str =
        "DELETE FROM session_grants WHERE sid = $1 RETURNING record, seq";

    pub(crate) const SWEEP: &str = "DELETE FROM sessions WHERE expires_at <= $1";

    /// Grant lists of sessions that are gone or expired (not counted as entries).
    pub(crate) const SWEEP_GRANTS: &str = "DELETE FROM session_grants WHERE NOT EXISTS \
         (SELECT 1 FROM sessions s WHERE s.sid = session_grants.sid AND s.expires_at > $1)";
}

/// What a logout deleted — the session's row (record, expiry) and its grants' rows (record,
/// order) — as the ended session: `None` if there was none or it had expired by `now`.
pub(crate) fn ended(
    session: Option<(String, i64)>,
    mut grants: Vec<(String, i64)>,
    now: i64,
) -> Result<Option<EndedSession>, SqlError> {
    let Some((record, expires_at)) = session.filter(|(_, at)| *at > now) else {
        return Ok(None);
    };
    grants.sort_by_key(|(_, seq)| *seq);
    let grants = grants
        .iter()
        .map(|(record, _)| from_json("session_grants", record))
        .collect::<Result<Vec<SessionGrant>, SqlError>>()?;
    Ok(Some(EndedSession::new(
        record_at(&record, expires_at)?,
        grants,
    )))
}

/// A live session as read ([`sql::LIVE`]): record, expiry, end.
pub(crate) type LiveRow = (String, i64, i64);

/// `touch_session` for both stores: reads the live session (`read`: [`sql::LIVE`]); if it
/// lives until `target` already, answers from the read; otherwise writes (`write`:
/// [`sql::TOUCH`]), and if the write moved nothing — another call moved it on meanwhile, or a
/// logout ended it — reads again. Answering from the read is most calls: `Provider::session`
/// rounds its expiries down to a step.
pub(crate) async fn touch<R, RF, W>(
    read: R,
    write: W,
    target: i64,
) -> Result<Option<SessionRecord>, SqlError>
where
    R: Fn() -> RF,
    RF: Future<Output = Result<Option<LiveRow>, SqlError>>,
    W: Future<Output = Result<Option<(String, i64)>, SqlError>>,
{
    let Some((record, expires_at, ends_at)) = read().await? else {
        return Ok(None);
    };
    if expires_at >= target.min(ends_at) {
        return record_at(&record, expires_at).map(Some);
    }
    if let Some((record, expires_at)) = write.await? {
        return record_at(&record, expires_at).map(Some);
    }
    read()
        .await?
        .map(|(record, expires_at, _)| record_at(&record, expires_at))
        .transpose()
}

/// A stored record, its `expires_at` column put back into it.
pub(crate) fn record_at(json: &str, expires_at: i64) -> Result<SessionRecord, SqlError> {
    let mut record: SessionRecord = from_json("sessions", json)?;
    record.expires_at = at_secs(expires_at);
    Ok(record)
}

/// One attempt of each session operation, for every backend (the bounds of `Common`'s impl).
#[cfg(feature = "postgres")]
pub trait SessionOps: sqlx::Database {
    fn create_session_once(
        store: &SqlStore<Self>,
        record: &SessionRecord,
    ) -> impl Future<Output = Result<bool, SqlError>> + Send;
    fn touch_session_once(
        store: &SqlStore<Self>,
        sid: &SessionId,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> impl Future<Output = Result<Option<SessionRecord>, SqlError>> + Send;
    fn add_session_grant_once(
        store: &SqlStore<Self>,
        sid: &SessionId,
        grant: &SessionGrant,
        now: UnixTime,
    ) -> impl Future<Output = Result<bool, SqlError>> + Send;
    fn session_grants_once(
        store: &SqlStore<Self>,
        sid: &SessionId,
        now: UnixTime,
    ) -> impl Future<Output = Result<Vec<SessionGrant>, SqlError>> + Send;
    fn end_session_once(
        store: &SqlStore<Self>,
        sid: &SessionId,
        now: UnixTime,
    ) -> impl Future<Output = Result<Option<EndedSession>, SqlError>> + Send;
    fn sweep_sessions(
        store: &SqlStore<Self>,
        now: UnixTime,
    ) -> impl Future<Output = Result<u64, SqlError>> + Send;
}

#[cfg(feature = "postgres")]
impl<DB> SessionOps for DB
where
    DB: crate::dialect::Dialect,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q, 'r> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'q, 'r> String: sqlx::Encode<'q, DB> + sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    DB::QueryResult: RowsChanged,
    DB: crate::group::Grouped,
{
    async fn create_session_once(
        store: &SqlStore<Self>,
        record: &SessionRecord,
    ) -> Result<bool, SqlError> {
        let (sid, json) = (record.sid.as_str().to_owned(), to_json(record)?);
        let (expires_at, ends_at) = (secs(record.expires_at), secs(record.ends_at));
        let changed = store
            .write_changed(Box::new(move || {
                sqlx::query(sql::CREATE)
                    .bind(sid.clone())
                    .bind(json.clone())
                    .bind(expires_at)
                    .bind(ends_at)
            }))
            .await?;
        Ok(changed > 0)
    }

    async fn touch_session_once(
        store: &SqlStore<Self>,
        sid: &SessionId,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<Option<SessionRecord>, SqlError> {
        let (sid, target, now) = (sid.as_str().to_owned(), secs(expires_at), secs(now));
        let read = || async {
            let live: Option<LiveRow> = sqlx::query_as(sql::LIVE)
                .bind(sid.as_str())
                .bind(now)
                .fetch_optional(store.db())
                .await?;
            Ok(live)
        };
        let owned = sid.clone();
        let write = store.write_row(Box::new(move || {
            sqlx::query(sql::TOUCH)
                .bind(owned.clone())
                .bind(target)
                .bind(now)
        }));
        touch(read, write, target).await
    }

    async fn add_session_grant_once(
        store: &SqlStore<Self>,
        sid: &SessionId,
        grant: &SessionGrant,
        now: UnixTime,
    ) -> Result<bool, SqlError> {
        let (sid, grant_id) = (sid.as_str().to_owned(), grant.grant_id.as_str().to_owned());
        let (record, now) = (to_json(grant)?, secs(now));
        let live: Option<(i64,)> = store
            .write_row(Box::new(move || {
                sqlx::query(sql::ADD_GRANT_IF_LIVE)
                    .bind(sid.clone())
                    .bind(grant_id.clone())
                    .bind(record.clone())
                    .bind(now)
            }))
            .await?;
        Ok(live.is_some_and(|(n,)| n > 0))
    }

    async fn session_grants_once(
        store: &SqlStore<Self>,
        sid: &SessionId,
        now: UnixTime,
    ) -> Result<Vec<SessionGrant>, SqlError> {
        let rows: Vec<(String,)> = sqlx::query_as(sql::GRANTS)
            .bind(sid.as_str())
            .bind(secs(now))
            .fetch_all(store.db())
            .await?;
        rows.iter()
            .map(|(record,)| from_json("session_grants", record))
            .collect()
    }

    async fn end_session_once(
        store: &SqlStore<Self>,
        sid: &SessionId,
        now: UnixTime,
    ) -> Result<Option<EndedSession>, SqlError> {
        store.count_round_trip();
        let mut tx = store.pool.begin_with(DB::BEGIN_WRITE).await?;
        store.count_round_trip();
        let row: Option<(String, i64)> = sqlx::query_as(sql::END)
            .bind(sid.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        store.count_round_trip();
        let grants: Vec<(String, i64)> = sqlx::query_as(sql::END_GRANTS)
            .bind(sid.as_str())
            .fetch_all(&mut *tx)
            .await?;
        store.count_round_trip();
        tx.commit().await?;
        ended(row, grants, secs(now))
    }

    async fn sweep_sessions(store: &SqlStore<Self>, now: UnixTime) -> Result<u64, SqlError> {
        let now = secs(now);
        let removed = sqlx::query(sql::SWEEP)
            .bind(now)
            .execute(store.db())
            .await?;
        sqlx::query(sql::SWEEP_GRANTS)
            .bind(now)
            .execute(store.db())
            .await?;
        Ok(removed.rows_changed())
    }
}
