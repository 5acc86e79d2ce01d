//! The private supertraits of [`Backend`]: [`Dialect`], what differs between the databases
//! (implemented in `sqlite.rs` and `postgres.rs`), and [`Common`], the statements they share
//! (implemented once, in `ops.rs`). Both are public in name only (this module is private), so
//! that `Backend` is sealed; being supertraits, they come with every `DB: Backend`.

use core::future::Future;

use oidc_hybrid::{
    AccessTokenRecord, Client, ClientId, CodeRecord, GrantId, Insertion, PushedRequestRecord,
    Redemption, RefreshLookup, RefreshTokenRecord, Rotation, SecretDigest, UnixTime,
};

pub(crate) use crate::common::StoredClient;
use crate::{Backend, Counts, SqlError, SqlStore};

/// The statements both backends run, each function one attempt (one statement) of its
/// operation. Implemented once, in `ops.rs`, for every sqlx database that encodes and decodes
/// the column types they use: the sqlx bounds are stated there, on that one impl. (The
/// functions ask nothing of `Self` but that impl's bounds: a `Self: Backend` here would make
/// the compiler look for `Common` in that bound instead of the impl.)
pub trait Common: sqlx::Database {
    /// Applies `migrator`'s migrations that the database has not applied yet.
    fn run_migrations(
        pool: &sqlx::Pool<Self>,
        migrator: &'static sqlx::migrate::Migrator,
    ) -> impl Future<Output = Result<(), sqlx::migrate::MigrateError>> + Send;

    /// Inserts a client unless its id is taken ([`SqlError::ClientExists`]).
    fn insert_client_once(
        store: &SqlStore<Self>,
        stored: &StoredClient,
    ) -> impl Future<Output = Result<(), SqlError>> + Send;

    /// Inserts or replaces a client.
    fn upsert_client(
        store: &SqlStore<Self>,
        stored: &StoredClient,
    ) -> impl Future<Output = Result<(), SqlError>> + Send;

    /// Deletes a client; whether there was one.
    fn delete_client(
        store: &SqlStore<Self>,
        id: &ClientId,
    ) -> impl Future<Output = Result<bool, SqlError>> + Send;

    /// Inserts a pushed authorization request.
    fn insert_pushed_once(
        store: &SqlStore<Self>,
        record: &PushedRequestRecord,
    ) -> impl Future<Output = Result<(), SqlError>> + Send;

    /// Deletes the pushed request with this digest and returns it, whether live or expired.
    fn take_pushed_once(
        store: &SqlStore<Self>,
        digest: &SecretDigest,
    ) -> impl Future<Output = Result<Option<PushedRequestRecord>, SqlError>> + Send;

    /// The ids of every registered client, in order.
    fn client_ids_once(
        store: &SqlStore<Self>,
    ) -> impl Future<Output = Result<Vec<ClientId>, SqlError>> + Send;

    /// The row counts.
    fn counts(store: &SqlStore<Self>) -> impl Future<Output = Result<Counts, SqlError>> + Send;

    /// The client with this id.
    fn client_once(
        store: &SqlStore<Self>,
        id: &ClientId,
    ) -> impl Future<Output = Result<Option<Client>, SqlError>> + Send;

    /// The single-statement redemption, and the tombstone read when it matched nothing.
    fn redeem_code_once(
        store: &SqlStore<Self>,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> impl Future<Output = Result<Redemption, SqlError>> + Send;

    /// The live access token with this digest.
    fn access_token_once(
        store: &SqlStore<Self>,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> impl Future<Output = Result<Option<AccessTokenRecord>, SqlError>> + Send;

    /// The refresh token with this digest, live or retired.
    fn refresh_token_once(
        store: &SqlStore<Self>,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> impl Future<Output = Result<RefreshLookup, SqlError>> + Send;

    /// Deletes one access token.
    fn delete_access_token(
        store: &SqlStore<Self>,
        digest: &SecretDigest,
    ) -> impl Future<Output = Result<(), SqlError>> + Send;

    /// The `jti` test-and-set; whether it was new.
    fn record_jti_once(
        store: &SqlStore<Self>,
        client: &ClientId,
        jti: &[u8; 32],
        expires_at: UnixTime,
        now: UnixTime,
    ) -> impl Future<Output = Result<bool, SqlError>> + Send;

    /// One table's sweep; how many rows it removed.
    fn sweep_table(
        store: &SqlStore<Self>,
        statement: &'static str,
        now: i64,
    ) -> impl Future<Output = Result<u64, SqlError>> + Send;
}

/// A backend's own statements and behaviours.
///
/// Each write is one attempt of its operation: the caller retries it when
/// [`retryable`](Self::retryable) says so, after checking what needs no database (records of
/// one grant). Each must be atomic on its own, as docs/storage.md argues per backend.
pub trait Dialect: Common {
    /// The statement that opens a write transaction.
    const BEGIN_WRITE: &'static str;

    /// The migrations embedded for this database.
    const MIGRATOR: &'static sqlx::migrate::Migrator;

    /// Whether a database error rolled the whole statement or transaction back, so that the
    /// operation may simply run again.
    fn retryable(error: &sqlx::Error) -> bool;

    /// Records a grant under a live session and stores its code and front-channel token, in
    /// one statement; `false` (nothing stored) if the session is gone.
    fn insert_code_in_session_once(
        store: &SqlStore<Self>,
        code: &CodeRecord,
        token: Option<&AccessTokenRecord>,
        sid: &oidc_hybrid::SessionId,
        grant: &oidc_hybrid::SessionGrant,
        now: UnixTime,
    ) -> impl Future<Output = Result<bool, SqlError>> + Send;

    /// Stores a code and its front-channel token of the same grant, both or neither, unless the
    /// grant is revoked or the code's digest is taken.
    fn insert_code_once(
        store: &SqlStore<Self>,
        code: &CodeRecord,
        token: Option<&AccessTokenRecord>,
    ) -> impl Future<Output = Result<(), SqlError>> + Send
    where
        Self: Backend;

    /// Stores the tokens of one grant under its lock, unless it is revoked.
    fn insert_tokens_once(
        store: &SqlStore<Self>,
        access: &AccessTokenRecord,
        refresh: Option<&RefreshTokenRecord>,
    ) -> impl Future<Output = Result<Insertion, SqlError>> + Send
    where
        Self: Backend;

    /// Retires the live refresh token `old` and stores `new` of the same grant; with
    /// `grace_since`, also stores `new` for an `old` first rotated at or after it.
    fn rotate_refresh_token_once(
        store: &SqlStore<Self>,
        old: &SecretDigest,
        new: &RefreshTokenRecord,
        now: UnixTime,
        grace_since: Option<UnixTime>,
    ) -> impl Future<Output = Result<Rotation, SqlError>> + Send
    where
        Self: Backend;

    /// Marks a grant revoked and retires or deletes its members.
    fn revoke_grant_once(
        store: &SqlStore<Self>,
        grant: &GrantId,
        now: UnixTime,
    ) -> impl Future<Output = Result<(), SqlError>> + Send
    where
        Self: Backend;
}
