// The store's operations, written once and compiled once per backend: `sqlite.rs` and
// `postgres.rs` each `include!` this file after defining `Db` (the sqlx database type),
// `BEGIN_WRITE` (the statement that opens a write transaction), `MIGRATOR`, `retryable`
// (which database errors rolled a statement or transaction back and may be retried), and, in an
// `impl SqlStore<Db>` block, the four grant-changing writes, each one attempt of its operation:
//
// - `insert_code_once(&self, &CodeRecord, Option<&AccessTokenRecord>) -> Result<(), SqlError>`
// - `insert_tokens_once(&self, &AccessTokenRecord, Option<&RefreshTokenRecord>)
//   -> Result<Insertion, SqlError>`
// - `rotate_refresh_token_once(&self, &SecretDigest, &RefreshTokenRecord, UnixTime)
//   -> Result<Rotation, SqlError>`
// - `revoke_grant_once(&self, &GrantId, UnixTime) -> Result<(), SqlError>`
//
// SQLite runs them as transactions under its write lock; PostgreSQL as single statements
// (data-modifying CTEs) where it can. Everything else — lookups, redemption, clients, the
// `jti` cache, sweeping, retries, the client cache and the round-trip count — is here, once.
//
// The SQL text used here is shared (`crate::common::sql`); each backend keeps the statements of
// its own writes (its `write_sql` module). See the crate docs and docs/storage.md for why each
// operation is atomic.

use oidc_hybrid::{
    AccessTokenRecord, Client, ClientId, CodeRecord, GrantId, Insertion, Redemption, RefreshLookup,
    RefreshTokenRecord, Rotation, SecretDigest, Storage, UnixTime,
};

use crate::common::{
    StoredClient, decode_client, encode_client, from_json, grant, jti_key, parse_registration,
    retrying, secs, sql,
};
use crate::{Counts, SqlError, SqlStore};

/// An open write transaction that counts its statements in its store's round trips.
struct Tx<'s> {
    tx: sqlx::Transaction<'static, Db>,
    unfinished: Unfinished<'s>,
}

/// Counts the `ROLLBACK` that sqlx sends for a transaction dropped unfinished: without `commit`
/// or `rollback` (an error path), or after one of them failed.
struct Unfinished<'s> {
    store: &'s SqlStore<Db>,
    armed: bool,
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.store.count_round_trip();
        }
    }
}

impl Tx<'_> {
    /// The transaction's connection, counting one round trip: call it once per statement.
    fn db(&mut self) -> &mut <Db as sqlx::Database>::Connection {
        self.unfinished.store.count_round_trip();
        &mut self.tx
    }

    /// Commits (one round trip: `COMMIT`; if it fails, sqlx still rolls back, counted as
    /// another).
    async fn commit(self) -> Result<(), SqlError> {
        let Self { tx, mut unfinished } = self;
        unfinished.store.count_round_trip();
        tx.commit().await?;
        unfinished.armed = false;
        Ok(())
    }
}

impl SqlStore<Db> {
    /// A store over a pool the host built (its own sizes, timeouts, TLS settings).
    ///
    /// For SQLite, give every connection a busy timeout (sqlx's default is 5 s) and use WAL
    /// mode for files; an in-memory database must be a single-connection pool whose connection
    /// is never closed (or every connection would see its own empty database). For
    /// PostgreSQL, sqlx's default pool checks every connection before handing it out, which
    /// costs one more round trip per statement; `PgPoolOptions::test_before_acquire(false)`
    /// saves it (see `PostgresStore::connect` for what it trades).
    #[must_use]
    pub fn from_pool(pool: sqlx::Pool<Db>) -> Self {
        Self::with_pool(pool)
    }

    /// The connection pool.
    #[must_use]
    pub fn pool(&self) -> &sqlx::Pool<Db> {
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
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool, waiting for checked-out connections to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool, counting one round trip: call it once per statement sent outside a
    /// transaction.
    fn db(&self) -> &sqlx::Pool<Db> {
        self.count_round_trip();
        &self.pool
    }

    /// Opens a write transaction (one round trip: `BEGIN_WRITE`).
    async fn begin_write(&self) -> Result<Tx<'_>, SqlError> {
        self.count_round_trip();
        let tx = self.pool.begin_with(BEGIN_WRITE).await?;
        Ok(Tx {
            tx,
            unfinished: Unfinished {
                store: self,
                armed: true,
            },
        })
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
        let result = retrying(retryable, || self.insert_client_once(&stored)).await;
        self.forget_client(&stored.id);
        result
    }

    async fn insert_client_once(&self, stored: &StoredClient) -> Result<(), SqlError> {
        let inserted = sqlx::query(sql::INSERT_CLIENT)
            .bind(stored.id.as_str())
            .bind(stored.metadata.as_str())
            .bind(stored.secret.as_ref().map(<[u8; 32]>::as_slice))
            .execute(self.db())
            .await?
            .rows_affected();
        if inserted == 0 {
            return Err(SqlError::ClientExists);
        }
        Ok(())
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
        let result = retrying(retryable, || async {
            sqlx::query(sql::UPSERT_CLIENT)
                .bind(stored.id.as_str())
                .bind(stored.metadata.as_str())
                .bind(stored.secret.as_ref().map(<[u8; 32]>::as_slice))
                .execute(self.db())
                .await?;
            Ok(())
        })
        .await;
        self.forget_client(&stored.id);
        result
    }

    /// Removes the client with this id; returns whether there was one. Codes and tokens already
    /// issued to it stay until they expire or their grants are revoked.
    ///
    /// # Errors
    ///
    /// [`SqlError::Database`].
    pub async fn remove_client(&self, id: &ClientId) -> Result<bool, SqlError> {
        let result = retrying(retryable, || async {
            let removed = sqlx::query(sql::DELETE_CLIENT)
                .bind(id.as_str())
                .execute(self.db())
                .await?
                .rows_affected();
            Ok(removed > 0)
        })
        .await;
        self.forget_client(id.as_str());
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
        let ids: Vec<(String,)> = sqlx::query_as(sql::CLIENT_IDS).fetch_all(self.db()).await?;
        ids.into_iter()
            .map(|(id,)| ClientId::new(id).map_err(SqlError::MetadataInvalid))
            .collect()
    }

    /// How many rows each table holds (one statement: a consistent snapshot).
    ///
    /// # Errors
    ///
    /// [`SqlError::Database`].
    pub async fn counts(&self) -> Result<Counts, SqlError> {
        let (clients, codes, access, refresh, grants, jtis): (i64, i64, i64, i64, i64, i64) =
            sqlx::query_as(sql::COUNTS).fetch_one(self.db()).await?;
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

    async fn client_once(&self, id: &ClientId) -> Result<Option<Client>, SqlError> {
        let row: Option<(String, Option<Vec<u8>>)> = sqlx::query_as(sql::CLIENT)
            .bind(id.as_str())
            .fetch_optional(self.db())
            .await?;
        row.map(|(metadata, secret)| decode_client(&metadata, secret.as_deref()))
            .transpose()
    }

    async fn redeem_code_once(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Redemption, SqlError> {
        let now = secs(now);
        let fresh: Option<(String,)> = sqlx::query_as(sql::REDEEM)
            .bind(digest.as_bytes().as_slice())
            .bind(now)
            .fetch_optional(self.db())
            .await?;
        if let Some((record,)) = fresh {
            return Ok(Redemption::Fresh(from_json("codes", &record)?));
        }
        let state: Option<(String, bool)> = sqlx::query_as(sql::CODE_STATE)
            .bind(digest.as_bytes().as_slice())
            .bind(now)
            .fetch_optional(self.db())
            .await?;
        Ok(match state {
            Some((grant_id, true)) => Redemption::Replayed(grant(grant_id)),
            // Absent, expired, or inserted after the UPDATE ran (that redemption came first).
            _ => Redemption::Unknown,
        })
    }

    async fn access_token_once(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Option<AccessTokenRecord>, SqlError> {
        let row: Option<(String,)> = sqlx::query_as(sql::ACCESS)
            .bind(digest.as_bytes().as_slice())
            .bind(secs(now))
            .fetch_optional(self.db())
            .await?;
        row.map(|(record,)| from_json("access_tokens", &record))
            .transpose()
    }

    async fn refresh_token_once(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<RefreshLookup, SqlError> {
        let row: Option<(String, bool, String, bool)> = sqlx::query_as(sql::REFRESH)
            .bind(digest.as_bytes().as_slice())
            .bind(secs(now))
            .fetch_optional(self.db())
            .await?;
        Ok(match row {
            None => RefreshLookup::Unknown,
            Some((grant_id, retired, _, revoked)) if retired || revoked => {
                RefreshLookup::Retired(grant(grant_id))
            }
            Some((_, _, record, _)) => RefreshLookup::Live(from_json("refresh_tokens", &record)?),
        })
    }

    async fn record_jti_once(
        &self,
        client: &ClientId,
        jti: &[u8; 32],
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, SqlError> {
        let stored = sqlx::query(sql::RECORD_JTI)
            .bind(client.as_str())
            .bind(jti.as_slice())
            .bind(secs(expires_at))
            .bind(secs(now))
            .execute(self.db())
            .await?
            .rows_affected();
        Ok(stored > 0)
    }

    async fn sweep_table(&self, statement: &'static str, now: i64) -> Result<u64, SqlError> {
        let removed = sqlx::query(statement)
            .bind(now)
            .execute(self.db())
            .await?
            .rows_affected();
        Ok(removed)
    }
}

/// Every method is one statement or one transaction (see the crate docs); a database error is
/// returned as [`SqlError`] and nothing is left half-done. PostgreSQL deadlocks and
/// serialisation failures are retried. Clients are served from the in-process cache while
/// fresh (see [`SqlStore::with_client_cache_ttl`]).
impl Storage for SqlStore<Db> {
    type Error = SqlError;

    async fn client(&self, id: &ClientId) -> Result<Option<Client>, SqlError> {
        if let Some(client) = self.cached_client(id) {
            return Ok(Some(client));
        }
        let generation = self.client_cache_generation();
        let found = retrying(retryable, || self.client_once(id)).await?;
        if let Some(client) = &found {
            self.remember_client(client, generation);
        }
        Ok(found)
    }

    async fn insert_code(
        &self,
        code: &CodeRecord,
        front_channel_token: Option<&AccessTokenRecord>,
    ) -> Result<(), SqlError> {
        if front_channel_token.is_some_and(|t| t.grant_id != code.grant_id) {
            // A front-channel token must belong to its code's grant: store neither.
            return Ok(());
        }
        retrying(retryable, || {
            self.insert_code_once(code, front_channel_token)
        })
        .await
    }

    async fn redeem_code(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Redemption, SqlError> {
        retrying(retryable, || self.redeem_code_once(digest, now)).await
    }

    async fn insert_tokens(
        &self,
        access: &AccessTokenRecord,
        refresh: Option<&RefreshTokenRecord>,
    ) -> Result<Insertion, SqlError> {
        if refresh.is_some_and(|r| r.grant_id != access.grant_id) {
            return Ok(Insertion::GrantRevoked);
        }
        retrying(retryable, || self.insert_tokens_once(access, refresh)).await
    }

    async fn access_token(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Option<AccessTokenRecord>, SqlError> {
        retrying(retryable, || self.access_token_once(digest, now)).await
    }

    async fn refresh_token(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<RefreshLookup, SqlError> {
        retrying(retryable, || self.refresh_token_once(digest, now)).await
    }

    async fn rotate_refresh_token(
        &self,
        old: &SecretDigest,
        new: &RefreshTokenRecord,
        now: UnixTime,
    ) -> Result<Rotation, SqlError> {
        retrying(retryable, || self.rotate_refresh_token_once(old, new, now)).await
    }

    async fn revoke_grant(&self, grant: &GrantId, now: UnixTime) -> Result<(), SqlError> {
        retrying(retryable, || self.revoke_grant_once(grant, now)).await
    }

    async fn revoke_access_token(&self, digest: &SecretDigest) -> Result<(), SqlError> {
        retrying(retryable, || async {
            sqlx::query(sql::DELETE_ACCESS)
                .bind(digest.as_bytes().as_slice())
                .execute(self.db())
                .await?;
            Ok(())
        })
        .await
    }

    async fn record_jti(
        &self,
        client: &ClientId,
        jti: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, SqlError> {
        let key = jti_key(jti);
        retrying(retryable, || {
            self.record_jti_once(client, &key, expires_at, now)
        })
        .await
    }

    async fn sweep_expired(&self, now: UnixTime) -> Result<u64, SqlError> {
        let now = secs(now);
        let mut removed = 0;
        for statement in sql::SWEEP {
            removed += retrying(retryable, || self.sweep_table(statement, now)).await?;
        }
        Ok(removed)
    }
}
