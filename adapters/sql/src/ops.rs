// The store's operations, written once and compiled once per backend: `sqlite.rs` and
// `postgres.rs` each `include!` this file after defining `Db` (the sqlx database type),
// `BEGIN_WRITE` (the statement that opens a write transaction), `MIGRATOR` and
// `retryable` (which database errors rolled a transaction back and may be retried).
//
// The SQL text is shared (`crate::common::sql`); see the crate docs and docs/storage.md for
// why each operation is atomic.

use oidc_hybrid::{
    AccessTokenRecord, Client, ClientId, CodeRecord, GrantId, Insertion, Redemption, RefreshLookup,
    RefreshTokenRecord, Rotation, SecretDigest, Storage, UnixTime,
};

use crate::common::{
    StoredClient, decode_client, encode_client, from_json, grant, jti_key, parse_registration,
    retrying, secs, sql, to_json,
};
use crate::{Counts, REVOCATION_GRACE_SECS, SqlError, SqlStore};

/// An open write transaction.
type Tx = sqlx::Transaction<'static, Db>;

/// Locks (creating if needed) the grant's row for the rest of `tx`; returns whether the grant
/// is revoked and its current expiry.
async fn lock_grant(tx: &mut Tx, grant: &GrantId) -> Result<(bool, i64), SqlError> {
    Ok(sqlx::query_as(sql::LOCK_GRANT)
        .bind(grant.as_str())
        .fetch_one(&mut **tx)
        .await?)
}

/// Pushes the grant's expiry out to `until` (never back).
async fn extend_grant(tx: &mut Tx, grant: &GrantId, until: i64) -> Result<(), SqlError> {
    sqlx::query(sql::EXTEND_GRANT)
        .bind(grant.as_str())
        .bind(until)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Pushes the tombstones of the grant's used codes out to `until`, so that a replay is
/// recognised for as long as anything issued from the grant can be used (RFC 6749 §4.1.2).
async fn extend_tombstones(tx: &mut Tx, grant: &GrantId, until: i64) -> Result<(), SqlError> {
    sqlx::query(sql::EXTEND_TOMBSTONES)
        .bind(grant.as_str())
        .bind(until)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Inserts an access token unless its digest is taken; returns whether it was inserted.
async fn insert_access(tx: &mut Tx, token: &AccessTokenRecord) -> Result<bool, SqlError> {
    let row = TokenRow::of(
        &token.digest,
        &token.grant_id,
        &token.client_id,
        token.expires_at,
    );
    insert_token(tx, sql::INSERT_ACCESS, row, to_json(token)?).await
}

/// Inserts a live refresh token unless its digest is taken; returns whether it was inserted.
async fn insert_refresh(tx: &mut Tx, token: &RefreshTokenRecord) -> Result<bool, SqlError> {
    let row = TokenRow::of(
        &token.digest,
        &token.grant_id,
        &token.client_id,
        token.expires_at,
    );
    insert_token(tx, sql::INSERT_REFRESH, row, to_json(token)?).await
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
    tx: &mut Tx,
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
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(inserted == 1)
}

/// Retires a live refresh token; returns whether it was live.
async fn retire_refresh(tx: &mut Tx, digest: &SecretDigest) -> Result<bool, SqlError> {
    let retired = sqlx::query(sql::RETIRE_REFRESH)
        .bind(digest.as_bytes().as_slice())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(retired == 1)
}

impl SqlStore<Db> {
    /// A store over a pool the host built (its own sizes, timeouts, TLS settings).
    ///
    /// For SQLite, give every connection a busy timeout (sqlx's default is 5 s) and use WAL
    /// mode for files; an in-memory database must be a single-connection pool whose connection
    /// is never closed (or every connection would see its own empty database).
    #[must_use]
    pub fn from_pool(pool: sqlx::Pool<Db>) -> Self {
        Self { pool }
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

    async fn begin_write(&self) -> Result<Tx, SqlError> {
        Ok(self.pool.begin_with(BEGIN_WRITE).await?)
    }

    /// Registers a validated client: its metadata as RFC 7591 JSON (without the secret) and
    /// its secret digest, in one transaction. Never replaces a registered client.
    ///
    /// # Errors
    ///
    /// [`SqlError::MetadataTooLarge`] if the metadata's JSON exceeds
    /// [`MAX_METADATA_BYTES`](crate::MAX_METADATA_BYTES); [`SqlError::ClientExists`] if the id
    /// is taken; [`SqlError::Database`]. Nothing is written on error.
    pub async fn insert_client(&self, client: &Client) -> Result<(), SqlError> {
        let stored = encode_client(client)?;
        retrying(retryable, || self.insert_client_once(&stored)).await
    }

    async fn insert_client_once(&self, stored: &StoredClient) -> Result<(), SqlError> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(sql::INSERT_CLIENT)
            .bind(stored.id.as_str())
            .bind(stored.metadata.as_str())
            .bind(stored.secret.as_ref().map(<[u8; 32]>::as_slice))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            return Err(SqlError::ClientExists);
        }
        tx.commit().await?;
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
        retrying(retryable, || async {
            sqlx::query(sql::UPSERT_CLIENT)
                .bind(stored.id.as_str())
                .bind(stored.metadata.as_str())
                .bind(stored.secret.as_ref().map(<[u8; 32]>::as_slice))
                .execute(&self.pool)
                .await?;
            Ok(())
        })
        .await
    }

    /// Removes the client with this id; returns whether there was one. Codes and tokens already
    /// issued to it stay until they expire or their grants are revoked.
    ///
    /// # Errors
    ///
    /// [`SqlError::Database`].
    pub async fn remove_client(&self, id: &ClientId) -> Result<bool, SqlError> {
        retrying(retryable, || async {
            let removed = sqlx::query(sql::DELETE_CLIENT)
                .bind(id.as_str())
                .execute(&self.pool)
                .await?
                .rows_affected();
            Ok(removed > 0)
        })
        .await
    }

    /// How many rows each table holds (one statement: a consistent snapshot).
    ///
    /// # Errors
    ///
    /// [`SqlError::Database`].
    pub async fn counts(&self) -> Result<Counts, SqlError> {
        let (clients, codes, access, refresh, grants, jtis): (i64, i64, i64, i64, i64, i64) =
            sqlx::query_as(sql::COUNTS).fetch_one(&self.pool).await?;
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
            .fetch_optional(&self.pool)
            .await?;
        row.map(|(metadata, secret)| decode_client(&metadata, secret.as_deref()))
            .transpose()
    }

    async fn insert_code_once(
        &self,
        code: &CodeRecord,
        token: Option<&AccessTokenRecord>,
    ) -> Result<(), SqlError> {
        if token.is_some_and(|t| t.grant_id != code.grant_id) {
            // A front-channel token must belong to its code's grant: store neither.
            return Ok(());
        }
        let record = to_json(code)?;
        let mut tx = self.begin_write().await?;
        let (revoked, grant_expires) = lock_grant(&mut tx, &code.grant_id).await?;
        if revoked {
            tx.rollback().await?;
            return Ok(());
        }
        let inserted = sqlx::query(sql::INSERT_CODE)
            .bind(code.digest.as_bytes().as_slice())
            .bind(code.grant_id.as_str())
            .bind(code.client_id.as_str())
            .bind(secs(code.expires_at))
            .bind(record)
            .execute(&mut *tx)
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
        tx.commit().await?;
        Ok(())
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
            .fetch_optional(&self.pool)
            .await?;
        if let Some((record,)) = fresh {
            return Ok(Redemption::Fresh(from_json("codes", &record)?));
        }
        let state: Option<(String, bool)> = sqlx::query_as(sql::CODE_STATE)
            .bind(digest.as_bytes().as_slice())
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match state {
            Some((grant_id, true)) => Redemption::Replayed(grant(grant_id)),
            // Absent, expired, or inserted after the UPDATE ran (that redemption came first).
            _ => Redemption::Unknown,
        })
    }

    async fn insert_tokens_once(
        &self,
        access: &AccessTokenRecord,
        refresh: Option<&RefreshTokenRecord>,
    ) -> Result<Insertion, SqlError> {
        if refresh.is_some_and(|r| r.grant_id != access.grant_id) {
            return Ok(Insertion::GrantRevoked);
        }
        let mut tx = self.begin_write().await?;
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

    async fn access_token_once(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Option<AccessTokenRecord>, SqlError> {
        let row: Option<(String,)> = sqlx::query_as(sql::ACCESS)
            .bind(digest.as_bytes().as_slice())
            .bind(secs(now))
            .fetch_optional(&self.pool)
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
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            None => RefreshLookup::Unknown,
            Some((grant_id, retired, _, revoked)) if retired || revoked => {
                RefreshLookup::Retired(grant(grant_id))
            }
            Some((_, _, record, _)) => RefreshLookup::Live(from_json("refresh_tokens", &record)?),
        })
    }

    async fn rotate_refresh_token_once(
        &self,
        old: &SecretDigest,
        new: &RefreshTokenRecord,
        now: UnixTime,
    ) -> Result<Rotation, SqlError> {
        let mut tx = self.begin_write().await?;
        let (revoked, grant_expires) = lock_grant(&mut tx, &new.grant_id).await?;
        let row: Option<(String, bool, String)> = sqlx::query_as(sql::REFRESH_FOR_ROTATION)
            .bind(old.as_bytes().as_slice())
            .bind(secs(now))
            .fetch_optional(&mut *tx)
            .await?;
        let Some((old_grant, retired, record)) = row else {
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
                retire_refresh(&mut tx, old).await?;
                tx.commit().await?;
            }
            return Ok(Rotation::Reused(new.grant_id.clone()));
        }
        if retired {
            tx.rollback().await?;
            return Ok(Rotation::Reused(new.grant_id.clone()));
        }
        let retired_record: RefreshTokenRecord = from_json("refresh_tokens", &record)?;
        if !retire_refresh(&mut tx, old).await? {
            // Cannot happen under the grant lock (only a sweep of the expired row could race).
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

    async fn revoke_grant_once(&self, grant: &GrantId, now: UnixTime) -> Result<(), SqlError> {
        let grace = i64::try_from(REVOCATION_GRACE_SECS).unwrap_or(i64::MAX);
        let mut tx = self.begin_write().await?;
        let (_, grant_expires) = lock_grant(&mut tx, grant).await?;
        let marker_until = grant_expires
            .max(secs(now))
            .saturating_add(grace)
            .max(grant_expires);
        sqlx::query(sql::REVOKE_GRANT)
            .bind(grant.as_str())
            .bind(marker_until)
            .execute(&mut *tx)
            .await?;
        for statement in [
            sql::RETIRE_GRANT_CODES,
            sql::DELETE_GRANT_ACCESS,
            sql::RETIRE_GRANT_REFRESH,
        ] {
            sqlx::query(statement)
                .bind(grant.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
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
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(stored > 0)
    }

    async fn sweep_table(&self, statement: &'static str, now: i64) -> Result<u64, SqlError> {
        let removed = sqlx::query(statement)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(removed)
    }
}

/// Every method is one statement or one transaction (see the crate docs); a database error is
/// returned as [`SqlError`] and nothing is left half-done. PostgreSQL deadlocks and
/// serialisation failures are retried.
impl Storage for SqlStore<Db> {
    type Error = SqlError;

    async fn client(&self, id: &ClientId) -> Result<Option<Client>, SqlError> {
        retrying(retryable, || self.client_once(id)).await
    }

    async fn insert_code(
        &self,
        code: &CodeRecord,
        front_channel_token: Option<&AccessTokenRecord>,
    ) -> Result<(), SqlError> {
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
                .execute(&self.pool)
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
