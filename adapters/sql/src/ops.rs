//! The store's operations, written once for every [`Backend`]: lookups, redemption, clients,
//! the `jti` cache, sweeping, retries, the client cache and the round-trip count. What differs
//! between SQLite and PostgreSQL — the statement that opens a write transaction, the
//! migrations, which errors may be retried, and the four writes that change a grant's members
//! (`insert_code`, `insert_tokens`, `rotate_refresh_token`, `revoke_grant`) — is the backend's
//! [`Dialect`](crate::dialect::Dialect) (`sqlite.rs`, `postgres.rs`).
//!
//! The statements both backends run are [`Common`]'s, implemented here once for every sqlx
//! database with the capabilities they use; the public API and the [`Storage`] impl only need
//! `DB: Backend`. The SQL text is shared ([`crate::common::sql`]). See the crate docs and
//! docs/storage.md for why each operation is atomic.

use oidc_hybrid::{
    AccessTokenRecord, Client, ClientId, CodeRecord, EndedSession, GrantId, Insertion,
    PushedRequestRecord, Redemption, RefreshLookup, RefreshTokenRecord, Rotation, SecretDigest,
    SessionGrant, SessionId, SessionRecord, Storage, UnixTime,
};

use crate::common::{
    RefreshRow, at_secs, decode_client, encode_client, foreign_token, from_json, grant, jti_key,
    parse_registration, refresh_lookup, retrying, secs, sql,
};
use crate::dialect::{Common, StoredClient};
use crate::group::{Answer, Build, Fetch, Grouped};
use crate::{Backend, Counts, SqlError, SqlStore};

/// An open write transaction that counts its statements in its store's round trips.
pub(crate) struct Tx<'s, DB: Backend> {
    tx: sqlx::Transaction<'static, DB>,
    unfinished: Unfinished<'s, DB>,
}

/// Counts the `ROLLBACK` that sqlx sends for a transaction dropped unfinished: without `commit`
/// or `rollback` (an error path), or after one of them failed.
struct Unfinished<'s, DB: Backend> {
    store: &'s SqlStore<DB>,
    armed: bool,
}

impl<DB: Backend> Drop for Unfinished<'_, DB> {
    fn drop(&mut self) {
        if self.armed {
            self.store.count_round_trip();
        }
    }
}

impl<DB: Backend> Tx<'_, DB> {
    /// The transaction's connection, counting one round trip: call it once per statement.
    pub(crate) fn db(&mut self) -> &mut DB::Connection {
        self.unfinished.store.count_round_trip();
        &mut self.tx
    }

    /// Commits (one round trip: `COMMIT`; if it fails, sqlx still rolls back, counted as
    /// another).
    pub(crate) async fn commit(self) -> Result<(), SqlError> {
        self.end(true).await
    }

    /// Commits or rolls back, counting the round trip; the transaction is then finished.
    async fn end(self, commit: bool) -> Result<(), SqlError> {
        let Self { tx, mut unfinished } = self;
        unfinished.store.count_round_trip();
        if commit {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        unfinished.armed = false;
        Ok(())
    }
}

impl<DB: Backend> SqlStore<DB> {
    /// A store over a pool the host built (its own sizes, timeouts, TLS settings).
    ///
    /// For SQLite, give every connection a busy timeout (sqlx's default is 5 s) and use WAL
    /// mode for files; an in-memory database must be a single-connection pool whose connection
    /// is never closed (or every connection would see its own empty database). For
    /// PostgreSQL, sqlx's default pool checks every connection before handing it out, which
    /// costs one more round trip per statement; `PgPoolOptions::test_before_acquire(false)`
    /// saves it (see `PostgresStore::connect` for what it trades).
    #[must_use]
    pub fn from_pool(pool: sqlx::Pool<DB>) -> Self {
        Self::with_pool(pool)
    }

    /// The connection pool.
    #[must_use]
    pub fn pool(&self) -> &sqlx::Pool<DB> {
        &self.pool
    }

    /// Brings the schema up to date: applies, in order, the versioned migrations embedded in
    /// this build that the database has not applied yet (recorded in `_sqlx_migrations`).
    /// Idempotent; safe to call from several nodes at once on PostgreSQL (an advisory lock
    /// serialises them). The host calls it, typically once at start-up.
    ///
    /// # Errors
    ///
    /// [`SqlError::Migrate`] if a migration fails, an applied migration was edited, or the
    /// database has migrations this build does not know.
    pub async fn migrate(&self) -> Result<(), SqlError> {
        DB::run_migrations(&self.pool, DB::MIGRATOR).await?;
        Ok(())
    }

    /// Closes the pool, waiting for checked-out connections to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Registers a validated client: its metadata as RFC 7591 JSON (without the secret) and
    /// its secret digest, in one statement. Never replaces a registered client.
    ///
    /// # Errors
    ///
    /// [`SqlError::MetadataTooLarge`] if the metadata's JSON exceeds
    /// [`MAX_METADATA_BYTES`](crate::MAX_METADATA_BYTES); [`SqlError::ClientExists`] if the id
    /// is taken; [`SqlError::Database`]. Nothing is written on error.
    pub async fn insert_client(&self, client: &Client) -> Result<(), SqlError> {
        let stored = encode_client(client)?;
        self.write_client(&stored.id, || DB::insert_client_once(self, &stored))
            .await
    }

    /// Registration from RFC 7591 JSON (OpenID Connect Dynamic Client Registration §2): parses,
    /// validates (digesting the `client_secret` it carries), and stores the client as
    /// [`insert_client`](Self::insert_client) does. Returns the registered client.
    ///
    /// # Errors
    ///
    /// [`SqlError::MetadataTooLarge`] (checked before parsing), [`SqlError::MetadataMalformed`]
    /// (not JSON, wrong types, unknown fields), [`SqlError::MetadataInvalid`] (a registration
    /// rule, e.g. an insecure redirect URI), [`SqlError::ClientExists`], [`SqlError::Database`].
    /// Nothing is written on error.
    pub async fn register_client(&self, metadata_json: &str) -> Result<Client, SqlError> {
        let client = parse_registration(metadata_json)?;
        self.insert_client(&client).await?;
        Ok(client)
    }

    /// Stores `client`, replacing any client registered with the same id (a metadata update,
    /// RFC 7592 §2.2). Codes and tokens already issued are not touched.
    ///
    /// # Errors
    ///
    /// As for [`insert_client`](Self::insert_client), except that an existing id is not one.
    pub async fn replace_client(&self, client: &Client) -> Result<(), SqlError> {
        let stored = encode_client(client)?;
        self.write_client(&stored.id, || DB::upsert_client(self, &stored))
            .await
    }

    /// Removes the client with this id; returns whether there was one. Codes and tokens already
    /// issued to it stay until they expire or their grants are revoked.
    ///
    /// # Errors
    ///
    /// [`SqlError::Database`].
    pub async fn remove_client(&self, id: &ClientId) -> Result<bool, SqlError> {
        self.write_client(id.as_str(), || DB::delete_client(self, id))
            .await
    }

    /// Runs a write of the client `id` (again while the backend says it may), then drops the
    /// client from this store's cache, whatever the outcome.
    async fn write_client<T, F>(&self, id: &str, attempt: impl FnMut() -> F) -> Result<T, SqlError>
    where
        F: Future<Output = Result<T, SqlError>>,
    {
        let result = retrying(DB::retryable, attempt).await;
        self.forget_client(id);
        result
    }

    /// The ids of every registered client, in order (a host that keeps its clients in a file
    /// removes what the file no longer names).
    ///
    /// # Errors
    ///
    /// [`SqlError::Database`]; [`SqlError::MetadataInvalid`] for a stored id that is not a
    /// valid client id.
    pub async fn client_ids(&self) -> Result<Vec<ClientId>, SqlError> {
        retrying(DB::retryable, || DB::client_ids_once(self)).await
    }

    /// How many rows each table holds (one statement: a consistent snapshot).
    ///
    /// # Errors
    ///
    /// [`SqlError::Database`].
    pub async fn counts(&self) -> Result<Counts, SqlError> {
        DB::counts(self).await
    }

    /// Opens a write transaction (one round trip: the backend's `BEGIN_WRITE`).
    pub(crate) async fn begin_write(&self) -> Result<Tx<'_, DB>, SqlError> {
        self.count_round_trip();
        let tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        Ok(Tx {
            tx,
            unfinished: Unfinished {
                store: self,
                armed: true,
            },
        })
    }
}

/// How many rows a statement changed (sqlx has no trait for it): implemented for each backend's
/// query result.
pub trait RowsChanged {
    /// The count.
    fn rows_changed(&self) -> u64;
}

#[cfg(feature = "postgres")]
impl RowsChanged for sqlx::postgres::PgQueryResult {
    fn rows_changed(&self) -> u64 {
        self.rows_affected()
    }
}

impl<DB: sqlx::Database> SqlStore<DB> {
    /// The pool, counting one round trip: call it once per statement sent outside a
    /// transaction.
    pub(crate) fn db(&self) -> &sqlx::Pool<DB> {
        self.count_round_trip();
        &self.pool
    }
}

impl<DB: Grouped> SqlStore<DB> {
    /// Sends a request-path write through the grouped commits (`group.rs`): the rows it
    /// changed, once its group has committed.
    pub(crate) async fn write_changed(&self, build: Build<DB>) -> Result<u64, SqlError> {
        match self.write(Fetch::Changed, build).await? {
            Answer::Changed(n) => Ok(n),
            Answer::Row(_) => Ok(0),
        }
    }

    /// Sends a request-path write that returns a row through the grouped commits: the row,
    /// decoded, once its group has committed.
    pub(crate) async fn write_row<T>(&self, build: Build<DB>) -> Result<Option<T>, SqlError>
    where
        T: for<'r> sqlx::FromRow<'r, DB::Row>,
    {
        match self.write(Fetch::Row, build).await? {
            Answer::Row(Some(row)) => Ok(Some(T::from_row(&row)?)),
            Answer::Row(None) | Answer::Changed(_) => Ok(None),
        }
    }

    async fn write(&self, fetch: Fetch, build: Build<DB>) -> Result<Answer<DB>, SqlError> {
        self.writes
            .write(&self.pool, &self.shared, fetch, build)
            .await
    }
}

/// The statements both backends run, for any sqlx database that encodes and decodes the column
/// types they use. Each function is one attempt of its operation (one statement).
impl<DB> Common for DB
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> &'q [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q [u8]>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q, 'r> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'q, 'r> String: sqlx::Encode<'q, DB> + sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'r> bool: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'q, 'r> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    DB::QueryResult: RowsChanged,
    DB::Connection: sqlx::migrate::Migrate,
    DB: Grouped,
{
    async fn run_migrations(
        pool: &sqlx::Pool<DB>,
        migrator: &'static sqlx::migrate::Migrator,
    ) -> Result<(), sqlx::migrate::MigrateError> {
        migrator.run(pool).await
    }

    async fn insert_client_once(
        store: &SqlStore<DB>,
        stored: &StoredClient,
    ) -> Result<(), SqlError> {
        let result = sqlx::query(sql::INSERT_CLIENT)
            .bind(stored.id.as_str())
            .bind(stored.metadata.as_str())
            .bind(stored.secret.as_ref().map(<[u8; 32]>::as_slice))
            .bind(stored.secret_key.as_deref())
            .execute(store.db())
            .await?;
        if result.rows_changed() == 0 {
            return Err(SqlError::ClientExists);
        }
        Ok(())
    }

    async fn upsert_client(store: &SqlStore<DB>, stored: &StoredClient) -> Result<(), SqlError> {
        sqlx::query(sql::UPSERT_CLIENT)
            .bind(stored.id.as_str())
            .bind(stored.metadata.as_str())
            .bind(stored.secret.as_ref().map(<[u8; 32]>::as_slice))
            .bind(stored.secret_key.as_deref())
            .execute(store.db())
            .await?;
        Ok(())
    }

    async fn insert_pushed_once(
        store: &SqlStore<DB>,
        record: &PushedRequestRecord,
    ) -> Result<(), SqlError> {
        let params = serde_json::to_string(&record.params).map_err(SqlError::Encode)?;
        let (digest, client) = (
            *record.digest.as_bytes(),
            record.client_id.as_str().to_owned(),
        );
        let expires_at = secs(record.expires_at);
        store
            .write_changed(Box::new(move || {
                sqlx::query(sql::INSERT_PUSHED)
                    .bind(digest.to_vec())
                    .bind(client.clone())
                    .bind(params.clone())
                    .bind(expires_at)
            }))
            .await?;
        Ok(())
    }

    async fn take_pushed_once(
        store: &SqlStore<DB>,
        digest: &SecretDigest,
    ) -> Result<Option<PushedRequestRecord>, SqlError> {
        let key = *digest.as_bytes();
        let row: Option<(String, String, i64)> = store
            .write_row(Box::new(move || {
                sqlx::query(sql::TAKE_PUSHED).bind(key.to_vec())
            }))
            .await?;
        let Some((client_id, params, expires_at)) = row else {
            return Ok(None);
        };
        Ok(Some(PushedRequestRecord {
            digest: *digest,
            client_id: ClientId::new(client_id).map_err(SqlError::CorruptClient)?,
            params: from_json("pushed_requests", &params)?,
            expires_at: UnixTime::from_secs(u64::try_from(expires_at).unwrap_or(0)),
        }))
    }

    async fn delete_client(store: &SqlStore<DB>, id: &ClientId) -> Result<bool, SqlError> {
        let result = sqlx::query(sql::DELETE_CLIENT)
            .bind(id.as_str())
            .execute(store.db())
            .await?;
        Ok(result.rows_changed() > 0)
    }

    async fn client_ids_once(store: &SqlStore<DB>) -> Result<Vec<ClientId>, SqlError> {
        let ids: Vec<(String,)> = sqlx::query_as(sql::CLIENT_IDS)
            .fetch_all(store.db())
            .await?;
        ids.into_iter()
            .map(|(id,)| ClientId::new(id).map_err(SqlError::MetadataInvalid))
            .collect()
    }

    async fn counts(store: &SqlStore<DB>) -> Result<Counts, SqlError> {
        let (clients, codes, access, refresh, grants, jtis): (i64, i64, i64, i64, i64, i64) =
            sqlx::query_as(sql::COUNTS).fetch_one(store.db()).await?;
        let n = |count: i64| u64::try_from(count).unwrap_or(0);
        Ok(Counts {
            clients: n(clients),
            codes: n(codes),
            access_tokens: n(access),
            refresh_tokens: n(refresh),
            grants: n(grants),
            jtis: n(jtis),
        })
    }

    async fn client_once(store: &SqlStore<DB>, id: &ClientId) -> Result<Option<Client>, SqlError> {
        let row: Option<(String, Option<Vec<u8>>, Option<String>)> = sqlx::query_as(sql::CLIENT)
            .bind(id.as_str())
            .fetch_optional(store.db())
            .await?;
        row.map(|(metadata, secret, key)| {
            decode_client(&metadata, secret.as_deref(), key.as_deref())
        })
        .transpose()
    }

    async fn redeem_code_once(
        store: &SqlStore<DB>,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Redemption, SqlError> {
        let now = secs(now);
        let key = *digest.as_bytes();
        let fresh: Option<(String,)> = store
            .write_row(Box::new(move || {
                sqlx::query(sql::REDEEM).bind(key.to_vec()).bind(now)
            }))
            .await?;
        if let Some((record,)) = fresh {
            return Ok(Redemption::Fresh(from_json("codes", &record)?));
        }
        let state: Option<(String, bool)> = sqlx::query_as(sql::CODE_STATE)
            .bind(digest.as_bytes().as_slice())
            .bind(now)
            .fetch_optional(store.db())
            .await?;
        Ok(match state {
            Some((grant_id, true)) => Redemption::Replayed(grant(grant_id)),
            // Absent, expired, or inserted after the UPDATE ran (that redemption came first).
            _ => Redemption::Unknown,
        })
    }

    async fn access_token_once(
        store: &SqlStore<DB>,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Option<AccessTokenRecord>, SqlError> {
        let row: Option<(String,)> = sqlx::query_as(sql::ACCESS)
            .bind(digest.as_bytes().as_slice())
            .bind(secs(now))
            .fetch_optional(store.db())
            .await?;
        row.map(|(record,)| from_json("access_tokens", &record))
            .transpose()
    }

    async fn refresh_token_once(
        store: &SqlStore<DB>,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<RefreshLookup, SqlError> {
        let row: Option<RefreshRow> = sqlx::query_as(sql::REFRESH)
            .bind(digest.as_bytes().as_slice())
            .bind(secs(now))
            .fetch_optional(store.db())
            .await?;
        refresh_lookup(row)
    }

    async fn delete_access_token(
        store: &SqlStore<DB>,
        digest: &SecretDigest,
    ) -> Result<(), SqlError> {
        sqlx::query(sql::DELETE_ACCESS)
            .bind(digest.as_bytes().as_slice())
            .execute(store.db())
            .await?;
        Ok(())
    }

    async fn record_jti_once(
        store: &SqlStore<DB>,
        client: &ClientId,
        jti: &[u8; 32],
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, SqlError> {
        let (client, jti) = (client.as_str().to_owned(), *jti);
        let (expires_at, now) = (secs(expires_at), secs(now));
        let changed = store
            .write_changed(Box::new(move || {
                sqlx::query(sql::RECORD_JTI)
                    .bind(client.clone())
                    .bind(jti.to_vec())
                    .bind(expires_at)
                    .bind(now)
            }))
            .await?;
        Ok(changed > 0)
    }

    async fn sweep_table(
        store: &SqlStore<DB>,
        statement: &'static str,
        now: i64,
    ) -> Result<u64, SqlError> {
        let result = sqlx::query(statement).bind(now).execute(store.db()).await?;
        Ok(result.rows_changed())
    }
}

/// Every method is one statement or one transaction (see the crate docs); a database error is
/// returned as [`SqlError`] and nothing is left half-done. PostgreSQL deadlocks and
/// serialisation failures are retried. Clients are served from the in-process cache while
/// fresh (see [`SqlStore::with_client_cache_ttl`]).
impl<DB: Backend> Storage for SqlStore<DB> {
    type Error = SqlError;

    async fn client(&self, id: &ClientId) -> Result<Option<Client>, SqlError> {
        if let Some(client) = self.cached_client(id) {
            return Ok(Some(client));
        }
        let generation = self.client_cache_generation();
        let found = retrying(DB::retryable, || DB::client_once(self, id)).await?;
        if let Some(client) = &found {
            self.remember_client(client, generation);
        }
        Ok(found)
    }

    async fn insert_code_in_session(
        &self,
        code: &CodeRecord,
        front_channel_token: Option<&AccessTokenRecord>,
        sid: &SessionId,
        grant: &SessionGrant,
        now: UnixTime,
    ) -> Result<bool, SqlError> {
        if foreign_token(code, front_channel_token) {
            // Store neither; the session still records the grant, as the default would.
            return self.add_session_grant(sid, grant, now).await;
        }
        retrying(DB::retryable, || {
            DB::insert_code_in_session_once(self, code, front_channel_token, sid, grant, now)
        })
        .await
    }

    async fn insert_code(
        &self,
        code: &CodeRecord,
        front_channel_token: Option<&AccessTokenRecord>,
    ) -> Result<(), SqlError> {
        if foreign_token(code, front_channel_token) {
            return Ok(());
        }
        retrying(DB::retryable, || {
            DB::insert_code_once(self, code, front_channel_token)
        })
        .await
    }

    async fn redeem_code(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Redemption, SqlError> {
        retrying(DB::retryable, || DB::redeem_code_once(self, digest, now)).await
    }

    async fn insert_tokens(
        &self,
        access: &AccessTokenRecord,
        refresh: Option<&RefreshTokenRecord>,
    ) -> Result<Insertion, SqlError> {
        if refresh.is_some_and(|r| r.grant_id != access.grant_id) {
            return Ok(Insertion::GrantRevoked);
        }
        retrying(DB::retryable, || {
            DB::insert_tokens_once(self, access, refresh)
        })
        .await
    }

    async fn access_token(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Option<AccessTokenRecord>, SqlError> {
        retrying(DB::retryable, || DB::access_token_once(self, digest, now)).await
    }

    async fn refresh_token(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<RefreshLookup, SqlError> {
        retrying(DB::retryable, || DB::refresh_token_once(self, digest, now)).await
    }

    async fn rotate_refresh_token(
        &self,
        old: &SecretDigest,
        new: &RefreshTokenRecord,
        now: UnixTime,
        grace_since: Option<UnixTime>,
    ) -> Result<Rotation, SqlError> {
        retrying(DB::retryable, || {
            DB::rotate_refresh_token_once(self, old, new, now, grace_since)
        })
        .await
    }

    async fn revoke_grant(&self, grant: &GrantId, now: UnixTime) -> Result<(), SqlError> {
        retrying(DB::retryable, || DB::revoke_grant_once(self, grant, now)).await
    }

    async fn revoke_access_token(&self, digest: &SecretDigest) -> Result<(), SqlError> {
        retrying(DB::retryable, || DB::delete_access_token(self, digest)).await
    }

    async fn record_jti(
        &self,
        client: &ClientId,
        jti: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, SqlError> {
        let key = jti_key(jti);
        retrying(DB::retryable, || {
            DB::record_jti_once(self, client, &key, expires_at, now)
        })
        .await
    }

    async fn insert_pushed_request(&self, record: &PushedRequestRecord) -> Result<(), SqlError> {
        retrying(DB::retryable, || DB::insert_pushed_once(self, record)).await
    }

    async fn take_pushed_request(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Option<PushedRequestRecord>, SqlError> {
        let taken = retrying(DB::retryable, || DB::take_pushed_once(self, digest)).await?;
        Ok(taken.filter(|record| record.expires_at > now))
    }

    async fn sweep_expired(&self, now: UnixTime) -> Result<u64, SqlError> {
        let now = secs(now);
        let mut removed = 0;
        for statement in sql::SWEEP {
            removed += retrying(DB::retryable, || DB::sweep_table(self, statement, now)).await?;
        }
        let now = at_secs(now);
        removed += retrying(DB::retryable, || DB::sweep_sessions(self, now)).await?;
        Ok(removed)
    }

    async fn create_session(&self, record: &SessionRecord) -> Result<bool, SqlError> {
        retrying(DB::retryable, || DB::create_session_once(self, record)).await
    }

    async fn touch_session(
        &self,
        sid: &SessionId,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<Option<SessionRecord>, SqlError> {
        retrying(DB::retryable, || {
            DB::touch_session_once(self, sid, now, expires_at)
        })
        .await
    }

    async fn add_session_grant(
        &self,
        sid: &SessionId,
        grant: &SessionGrant,
        now: UnixTime,
    ) -> Result<bool, SqlError> {
        retrying(DB::retryable, || {
            DB::add_session_grant_once(self, sid, grant, now)
        })
        .await
    }

    async fn session_grants(
        &self,
        sid: &SessionId,
        now: UnixTime,
    ) -> Result<Vec<SessionGrant>, SqlError> {
        retrying(DB::retryable, || DB::session_grants_once(self, sid, now)).await
    }

    async fn end_session(
        &self,
        sid: &SessionId,
        now: UnixTime,
    ) -> Result<Option<EndedSession>, SqlError> {
        retrying(DB::retryable, || DB::end_session_once(self, sid, now)).await
    }
}
