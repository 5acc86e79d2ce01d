//! The SQLite backend: [`SqliteStore`], on rusqlite (bundled SQLite).
//!
//! # Threads and connections
//!
//! - **One writer thread** owns the only write connection. Every write (a code stored or
//!   redeemed, tokens stored, a refresh token rotated, a grant revoked, a `jti` recorded, a
//!   client written, a sweep) is a request sent to it over a channel. It commits requests in
//!   **groups**: all the requests that arrived while the previous group was committing go into
//!   the next transaction, so one commit — one fsync of the write-ahead log — makes a whole group
//!   durable. Each request runs in a savepoint of its own, so one that fails does not fail the
//!   others, and each caller is answered only after its group's `COMMIT` returned: nothing is
//!   acknowledged before it is durable. See `writer.rs`.
//! - **Read connections** (WAL mode: readers never wait for the writer, and see every committed
//!   transaction) answer the lookups — access and refresh tokens, clients, counts — on the
//!   calling thread: an indexed lookup in a cached page costs a few microseconds, less than a
//!   hand-off to another thread would. Idle read connections are kept in a small pool.
//! - Every connection caches its prepared statements.
//!
//! An in-memory database has the writer's connection only (each connection to `:memory:` is a
//! database of its own): lookups are requests to the writer thread too.
//!
//! # Atomicity
//!
//! SQLite runs one write transaction at a time, and the writer thread runs one request at a
//! time: each request sees the committed state and the requests before it in its group, and
//! nothing else writes meanwhile (another process on the same file waits for the write lock,
//! which `BEGIN IMMEDIATE` takes before the group's first request reads anything). Redemption is
//! the conditional `UPDATE codes SET used = TRUE WHERE digest = ? AND used = FALSE AND
//! expires_at > ? RETURNING record`: of any number of concurrent redemptions of a code, in one
//! process or several, exactly one gets the record. The grant-changing writes are several
//! statements in one savepoint: the savepoint is released (kept) or rolled back whole.
//!
//! # Durability
//!
//! `synchronous = FULL` by default ([`Synchronous::Full`]): a commit returns once the log is
//! fsynced, so an acknowledged write — a redemption, a rotation — survives a power cut, not only
//! a crash of the process. [`Synchronous::Normal`] skips that fsync (WAL mode stays consistent,
//! but the last commits before a power cut or OS crash may be lost: a redeemed code could be
//! redeemed again, a rotated-out refresh token could work again). A process crash loses
//! nothing acknowledged with either.

mod schema;
mod statements;
mod writer;

use alloc::sync::Arc;
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::{Mutex, PoisonError};

use oidc_hybrid::{
    AccessTokenRecord, Client, ClientId, CodeRecord, EndedSession, GrantId, Insertion,
    PushedRequestRecord, Redemption, RefreshLookup, RefreshTokenRecord, Rotation, SecretDigest,
    SessionGrant, SessionId, SessionRecord, Storage, UnixTime,
};
use rusqlite::{Connection, OpenFlags};

use crate::cache::ClientCache;
use crate::common::{
    Member, at_secs, decode_client, encode_client, foreign_token, from_json, grant, jti_key,
    parse_registration, refresh_lookup, secs, to_json,
};
use crate::{CLIENT_CACHE_CAPACITY, Counts, DEFAULT_CLIENT_CACHE_TTL, SqlError};
use statements::{Db, Redeemed, Rotated};
use writer::{Message, Request, Step};

/// How long a writer waits for the write lock (held by another process on the same file)
/// before failing with `SQLITE_BUSY`, and a reader for a lock it needs.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How many idle read connections a file store keeps open (more are opened while more
/// lookups run at once, and closed when they finish).
pub const IDLE_READERS: usize = 8;

/// How many prepared statements each connection caches (the store runs fewer distinct ones).
const STATEMENT_CACHE: usize = 64;

/// When SQLite waits for the disk: the `synchronous` setting of every connection of a
/// [`SqliteStore`] on a file.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub enum Synchronous {
    /// `synchronous = FULL`, the default: each commit (one per group of writes) waits for the
    /// log's fsync. An acknowledged write survives a power cut or an OS crash.
    #[default]
    Full,
    /// `synchronous = NORMAL`: commits do not wait for the disk; the log is fsynced at
    /// checkpoints only. The database stays consistent, and a crash of the *process* loses
    /// nothing, but a power cut or an OS crash may lose the last acknowledged commits: a
    /// redeemed code or a rotated-out refresh token could then be used again. Faster on disks
    /// with slow fsyncs; choose it only if that risk is accepted.
    Normal,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Normal => "NORMAL",
        }
    }
}

/// How much the writer thread of a [`SqliteStore`] has done: see
/// [`SqliteStore::write_stats`].
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub struct WriteStats {
    /// Write requests run.
    pub requests: u64,
    /// Transactions committed: with [`Synchronous::Full`], each one fsync of the log (a
    /// checkpoint, every 1,000 pages of log, adds fsyncs of the database file).
    pub commits: u64,
}

/// A [`Storage`] in an embedded SQLite database (a file, or memory), on rusqlite: a writer
/// thread committing writes in groups, and read connections for lookups (see the module
/// docs of `sqlite.rs` and `docs/storage.md`).
///
/// Cloning is cheap and shares the writer thread, the read connections, the client cache and
/// the counters. Its `Debug` output names the backend and the counters, never a path, digest
/// or record.
///
/// Construct it with [`open`](Self::open), [`memory`](Self::memory) or
/// [`connect`](Self::connect); then call [`migrate`](Self::migrate) once before use.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
    client_cache_ttl: Duration,
}

/// What the clones of a store share.
struct Inner {
    /// The writer thread's channel (`None` once closed).
    writer: Mutex<Option<Sender<Message>>>,
    /// Idle read connections; `None` for an in-memory database (lookups go to the writer).
    readers: Option<Readers>,
    /// Statements run (see [`SqliteStore::round_trips`]).
    statements: Arc<AtomicU64>,
    counters: Arc<writer::Counters>,
    clients: ClientCache,
    closed: AtomicBool,
}

/// The read connections of a file database.
struct Readers {
    path: PathBuf,
    synchronous: Synchronous,
    idle: Mutex<Vec<Connection>>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("backend", &"SQLite")
            .field("memory", &self.inner.readers.is_none())
            .field("closed", &self.inner.closed.load(Ordering::Relaxed))
            .field("client_cache_ttl", &self.client_cache_ttl)
            .field("round_trips", &self.round_trips())
            .field("writes", &self.write_stats())
            .finish()
    }
}

/// Opens a connection to the file at `path` with the store's settings.
fn open_connection(path: &Path, synchronous: Synchronous) -> Result<Connection, SqlError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    configure(&conn)?;
    conn.pragma_update(None, "synchronous", synchronous.pragma())?;
    Ok(conn)
}

/// The settings of every connection.
fn configure(conn: &Connection) -> Result<(), SqlError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating it if missing) the SQLite database file at `path`, in WAL mode, with
    /// `synchronous = FULL`. Call [`migrate`](Self::migrate) before use.
    ///
    /// # Errors
    ///
    /// [`SqlError::Sqlite`] if the file cannot be opened or is not a SQLite database;
    /// [`SqlError::SchemaTooNew`] if its schema is newer than this build knows.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, SqlError> {
        Self::open_with(path, Synchronous::Full).await
    }

    /// [`open`](Self::open) with the given [`Synchronous`] setting.
    ///
    /// # Errors
    ///
    /// As for [`open`](Self::open).
    pub async fn open_with(
        path: impl AsRef<Path>,
        synchronous: Synchronous,
    ) -> Result<Self, SqlError> {
        let path = path.as_ref().to_path_buf();
        let conn = open_connection(&path, synchronous)?;
        // The journal mode is persistent; switching takes an exclusive lock, once.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Keep the log file from growing without bound after a burst.
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
        check_version(&conn)?;
        let readers = Readers {
            path,
            synchronous,
            idle: Mutex::new(Vec::new()),
        };
        Self::start(conn, Some(readers))
    }

    /// A fresh private in-memory database, lost when the store is dropped. Its only connection
    /// is the writer thread's, which also answers lookups. Call [`migrate`](Self::migrate)
    /// before use.
    ///
    /// # Errors
    ///
    /// [`SqlError::Sqlite`] if SQLite cannot be initialised.
    pub async fn memory() -> Result<Self, SqlError> {
        let conn = Connection::open_in_memory()?;
        configure(&conn)?;
        Self::start(conn, None)
    }

    /// Opens a `sqlite:` URL: `sqlite://PATH` or `sqlite:PATH` (a file, created if missing),
    /// or `sqlite::memory:` (as [`memory`](Self::memory)). A query string may set
    /// `synchronous=full` (the default) or `synchronous=normal` ([`Synchronous`]); other
    /// parameters (such as sqlx's `mode=rwc`) are ignored.
    ///
    /// # Errors
    ///
    /// [`SqlError::BadUrl`] for a URL of another scheme or an unknown `synchronous` value; as
    /// for [`open`](Self::open).
    pub async fn connect(url: &str) -> Result<Self, SqlError> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| SqlError::BadUrl(format!("{url:?} is not a sqlite: URL")))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut synchronous = Synchronous::Full;
        let mut memory = path == ":memory:" || path.is_empty();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=').unwrap_or((pair, "")) {
                ("synchronous", v) if v.eq_ignore_ascii_case("full") => {}
                ("synchronous", v) if v.eq_ignore_ascii_case("normal") => {
                    synchronous = Synchronous::Normal;
                }
                ("synchronous", v) => {
                    return Err(SqlError::BadUrl(format!(
                        "synchronous={v}: use synchronous=full or synchronous=normal"
                    )));
                }
                ("mode", "memory") => memory = true,
                _ => {}
            }
        }
        if memory {
            Self::memory().await
        } else {
            Self::open_with(path, synchronous).await
        }
    }

    /// Starts the writer thread on `conn`.
    fn start(conn: Connection, readers: Option<Readers>) -> Result<Self, SqlError> {
        let (sender, receiver) = mpsc::channel();
        let counters = Arc::new(writer::Counters::default());
        let thread_counters = counters.clone();
        std::thread::Builder::new()
            .name("oidc-sqlite-writer".into())
            .spawn(move || writer::run(conn, &receiver, &thread_counters))
            .map_err(|e| SqlError::Sqlite(writer::error(&e.to_string())))?;
        Ok(Self {
            inner: Arc::new(Inner {
                writer: Mutex::new(Some(sender)),
                readers,
                statements: Arc::default(),
                counters,
                clients: ClientCache::default(),
                closed: AtomicBool::new(false),
            }),
            client_cache_ttl: DEFAULT_CLIENT_CACHE_TTL,
        })
    }

    /// Brings the schema up to date: applies, in order, the embedded migrations the database
    /// has not applied yet, in one transaction, and records the version in the database's
    /// header (`PRAGMA user_version`). Files created by the earlier sqlx-based store are
    /// adopted (their `_sqlx_migrations` record gives their version). Idempotent. The host
    /// calls it, typically once at start-up.
    ///
    /// # Errors
    ///
    /// [`SqlError::SchemaTooNew`] for a database this build is too old for;
    /// [`SqlError::SchemaBroken`] for a failed earlier migration; [`SqlError::Sqlite`] if a
    /// migration fails (nothing of it is kept).
    pub async fn migrate(&self) -> Result<(), SqlError> {
        self.write(|conn| schema::migrate(conn).map(|()| ((), true)))
            .await
    }

    /// The schema version of the database (`3` once migrated by this build).
    ///
    /// # Errors
    ///
    /// [`SqlError::Sqlite`].
    pub async fn schema_version(&self) -> Result<i64, SqlError> {
        self.write(|conn| schema::version(conn).map(|v| (v, false)))
            .await
    }

    /// Stops the writer thread once every write sent before is committed and answered, and
    /// closes the connections. Later operations fail with [`SqlError::Closed`].
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::Relaxed);
        let sender = self
            .inner
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(sender) = sender {
            let (done, stopped) = tokio::sync::oneshot::channel();
            if sender.send(Message::Close(done)).is_ok() {
                let _ = stopped.await;
            }
        }
        if let Some(readers) = &self.inner.readers {
            readers
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
        }
    }

    /// How many SQL statements this store (and every clone of it) has run, counted as
    /// [`SqlStore::round_trips`](crate::SqlStore::round_trips) counts PostgreSQL's; here they
    /// are function calls in process, not network round trips. The writer thread's
    /// `BEGIN`/`SAVEPOINT`/`COMMIT` statements are not counted (see
    /// [`write_stats`](Self::write_stats)).
    #[must_use]
    pub fn round_trips(&self) -> u64 {
        self.inner.statements.load(Ordering::Relaxed)
    }

    /// The writer thread's counters: requests run and transactions committed. Their ratio is
    /// the mean group size; commits per flow are the fsyncs per flow.
    #[must_use]
    pub fn write_stats(&self) -> WriteStats {
        WriteStats {
            requests: self.inner.counters.requests.load(Ordering::Relaxed),
            commits: self.inner.counters.commits.load(Ordering::Relaxed),
        }
    }

    /// Sets how long a client read from the database is served from the in-process cache
    /// (default [`DEFAULT_CLIENT_CACHE_TTL`], 60 s; [`Duration::ZERO`] disables it). As for
    /// the PostgreSQL store: changes made through this store or a clone take effect at once,
    /// changes made by another process on the same file after at most the TTL.
    #[must_use]
    pub fn with_client_cache_ttl(mut self, ttl: Duration) -> Self {
        self.client_cache_ttl = ttl;
        self
    }

    /// How long a client read from the database is served from the cache (zero: not cached).
    #[must_use]
    pub fn client_cache_ttl(&self) -> Duration {
        self.client_cache_ttl
    }

    /// Empties the client cache (of this store and its clones).
    pub fn forget_cached_clients(&self) {
        self.inner.clients.clear();
    }

    /// Runs `f` on the write connection, in a write request of its own (committed with its
    /// group, or rolled back if `f` fails), and returns what it returns: for administration
    /// and tests that need SQL this store does not offer. `f` runs on the writer thread and
    /// holds up every other write meanwhile: keep it short.
    ///
    /// # Errors
    ///
    /// What `f` returns; [`SqlError::Closed`].
    pub async fn with_write_connection<T, F>(&self, f: F) -> Result<T, SqlError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.write(move |conn| Ok((f(conn)?, true))).await
    }

    /// Registers a validated client: its metadata as RFC 7591 JSON (without the secret) and
    /// its secret digest. Never replaces a registered client.
    ///
    /// # Errors
    ///
    /// [`SqlError::MetadataTooLarge`] if the metadata's JSON exceeds
    /// [`MAX_METADATA_BYTES`](crate::MAX_METADATA_BYTES); [`SqlError::ClientExists`] if the id
    /// is taken; [`SqlError::Sqlite`]. Nothing is written on error.
    pub async fn insert_client(&self, client: &Client) -> Result<(), SqlError> {
        let stored = encode_client(client)?;
        let id = stored.id.clone();
        let statements = self.inner.statements.clone();
        let result = self
            .write(move |conn| statements::insert_client(&db(conn, &statements), &stored))
            .await;
        self.inner.clients.invalidate(&id);
        result
    }

    /// Registration from RFC 7591 JSON: parses, validates, and stores the client as
    /// [`insert_client`](Self::insert_client) does. Returns the registered client.
    ///
    /// # Errors
    ///
    /// [`SqlError::MetadataTooLarge`], [`SqlError::MetadataMalformed`],
    /// [`SqlError::MetadataInvalid`], [`SqlError::ClientExists`], [`SqlError::Sqlite`].
    pub async fn register_client(&self, metadata_json: &str) -> Result<Client, SqlError> {
        let client = parse_registration(metadata_json)?;
        self.insert_client(&client).await?;
        Ok(client)
    }

    /// Stores `client`, replacing any client registered with the same id.
    ///
    /// # Errors
    ///
    /// As for [`insert_client`](Self::insert_client), except that an existing id is not one.
    pub async fn replace_client(&self, client: &Client) -> Result<(), SqlError> {
        let stored = encode_client(client)?;
        let id = stored.id.clone();
        let statements = self.inner.statements.clone();
        let result = self
            .write(move |conn| statements::upsert_client(&db(conn, &statements), &stored))
            .await;
        self.inner.clients.invalidate(&id);
        result
    }

    /// Removes the client with this id; returns whether there was one.
    ///
    /// # Errors
    ///
    /// [`SqlError::Sqlite`].
    pub async fn remove_client(&self, id: &ClientId) -> Result<bool, SqlError> {
        let key = id.as_str().to_owned();
        let statements = self.inner.statements.clone();
        let result = self
            .write(move |conn| statements::delete_client(&db(conn, &statements), &key))
            .await;
        self.inner.clients.invalidate(id.as_str());
        result
    }

    /// The ids of every registered client, in order.
    ///
    /// # Errors
    ///
    /// [`SqlError::Sqlite`]; [`SqlError::MetadataInvalid`] for a stored id that is not a valid
    /// client id.
    pub async fn client_ids(&self) -> Result<Vec<ClientId>, SqlError> {
        let ids = self.read(statements::client_ids).await?;
        ids.into_iter()
            .map(|id| ClientId::new(id).map_err(SqlError::MetadataInvalid))
            .collect()
    }

    /// How many rows each table holds (one statement: a consistent snapshot).
    ///
    /// # Errors
    ///
    /// [`SqlError::Sqlite`].
    pub async fn counts(&self) -> Result<Counts, SqlError> {
        self.read(statements::counts).await
    }

    /// Sends a write request to the writer thread and waits for its answer, given once its
    /// group has committed.
    async fn write<T, F>(&self, op: F) -> Result<T, SqlError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Step<T> + Send + 'static,
    {
        let (job, answer) = Request::job(op);
        {
            let writer = self
                .inner
                .writer
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let sender = writer.as_ref().ok_or(SqlError::Closed)?;
            sender
                .send(Message::Job(job))
                .map_err(|_| SqlError::Closed)?;
        }
        answer.await.map_err(|_| SqlError::Closed)?
    }

    /// Runs a lookup: on a read connection, on this thread (file databases), or as a request
    /// to the writer thread (in-memory databases).
    async fn read<T, F>(&self, f: F) -> Result<T, SqlError>
    where
        T: Send + 'static,
        F: FnOnce(&Db<'_>) -> Result<T, SqlError> + Send + 'static,
    {
        if self.inner.closed.load(Ordering::Relaxed) {
            return Err(SqlError::Closed);
        }
        let Some(readers) = &self.inner.readers else {
            let statements = self.inner.statements.clone();
            return self
                .write(move |conn| f(&db(conn, &statements)).map(|v| (v, false)))
                .await;
        };
        let conn = readers
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match conn {
            Some(conn) => conn,
            None => {
                let conn = open_connection(&readers.path, readers.synchronous)?;
                conn.pragma_update(None, "query_only", "ON")?;
                conn
            }
        };
        let result = f(&db(&conn, &self.inner.statements));
        let mut idle = readers.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_READERS && !self.inner.closed.load(Ordering::Relaxed) {
            idle.push(conn);
        }
        result
    }

    /// The cached client with this id, if the cache is enabled and holds a fresh entry.
    fn cached_client(&self, id: &ClientId) -> Option<Client> {
        if self.client_cache_ttl.is_zero() {
            return None;
        }
        self.inner.clients.get(id, self.client_cache_ttl)
    }
}

/// A [`Db`] over `conn` counting into `statements`.
fn db<'c>(conn: &'c Connection, statements: &'c AtomicU64) -> Db<'c> {
    Db { conn, statements }
}

/// Refuses a database whose schema is newer than this build knows.
fn check_version(conn: &Connection) -> Result<(), SqlError> {
    let found = schema::version(conn)?;
    if found > schema::VERSION {
        return Err(SqlError::SchemaTooNew {
            found,
            known: schema::VERSION,
        });
    }
    Ok(())
}

/// Every write is one request to the writer thread, committed with its group before it is
/// answered; every lookup one statement on a read connection. See the module docs.
impl Storage for SqliteStore {
    type Error = SqlError;

    async fn client(&self, id: &ClientId) -> Result<Option<Client>, SqlError> {
        if let Some(client) = self.cached_client(id) {
            return Ok(Some(client));
        }
        let generation = self.inner.clients.generation();
        let key = id.as_str().to_owned();
        let row = self.read(move |db| statements::client(db, &key)).await?;
        let found = row
            .map(|(metadata, secret, key)| {
                decode_client(&metadata, secret.as_deref(), key.as_deref())
            })
            .transpose()?;
        if let Some(client) = &found
            && !self.client_cache_ttl.is_zero()
        {
            self.inner.clients.fill(
                client.clone(),
                generation,
                self.client_cache_ttl,
                CLIENT_CACHE_CAPACITY,
            );
        }
        Ok(found)
    }

    async fn insert_code(
        &self,
        code: &CodeRecord,
        front_channel_token: Option<&AccessTokenRecord>,
    ) -> Result<(), SqlError> {
        if foreign_token(code, front_channel_token) {
            return Ok(());
        }
        let code = code.row()?;
        let token = front_channel_token.map(Member::row).transpose()?;
        let statements = self.inner.statements.clone();
        self.write(move |conn| {
            statements::insert_code(&db(conn, &statements), &code, token.as_ref())
        })
        .await
    }

    async fn redeem_code(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Redemption, SqlError> {
        let key = *digest.as_bytes();
        let now = secs(now);
        let statements = self.inner.statements.clone();
        let redeemed = self
            .write(move |conn| statements::redeem(&db(conn, &statements), &key, now))
            .await?;
        Ok(match redeemed {
            Redeemed::Fresh(record) => Redemption::Fresh(from_json("codes", &record)?),
            Redeemed::Replayed(grant_id) => Redemption::Replayed(grant(grant_id)),
            Redeemed::Unknown => Redemption::Unknown,
        })
    }

    async fn insert_tokens(
        &self,
        access: &AccessTokenRecord,
        refresh: Option<&RefreshTokenRecord>,
    ) -> Result<Insertion, SqlError> {
        if refresh.is_some_and(|r| r.grant_id != access.grant_id) {
            return Ok(Insertion::GrantRevoked);
        }
        let access = access.row()?;
        let refresh = refresh.map(Member::row).transpose()?;
        let statements = self.inner.statements.clone();
        self.write(move |conn| {
            statements::insert_tokens(&db(conn, &statements), &access, refresh.as_ref())
        })
        .await
    }

    async fn access_token(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Option<AccessTokenRecord>, SqlError> {
        let key = *digest.as_bytes();
        let now = secs(now);
        let record = self
            .read(move |db| statements::access_token(db, &key, now))
            .await?;
        record
            .map(|record| from_json("access_tokens", &record))
            .transpose()
    }

    async fn refresh_token(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<RefreshLookup, SqlError> {
        let key = *digest.as_bytes();
        let now = secs(now);
        let row = self
            .read(move |db| statements::refresh_token(db, &key, now))
            .await?;
        refresh_lookup(row)
    }

    async fn rotate_refresh_token(
        &self,
        old: &SecretDigest,
        new: &RefreshTokenRecord,
        now: UnixTime,
        grace_since: Option<UnixTime>,
    ) -> Result<Rotation, SqlError> {
        let key = *old.as_bytes();
        let grant_id = new.grant_id.clone();
        let row = new.row()?;
        let now = secs(now);
        let grace_since = grace_since.map(secs);
        let statements = self.inner.statements.clone();
        let rotated = self
            .write(move |conn| {
                statements::rotate(&db(conn, &statements), &key, &row, now, grace_since)
            })
            .await?;
        Ok(match rotated {
            Rotated::Done(record) => Rotation::Rotated(from_json("refresh_tokens", &record)?),
            Rotated::Reused => Rotation::Reused(grant_id),
            Rotated::Unknown => Rotation::Unknown,
        })
    }

    async fn revoke_grant(&self, grant: &GrantId, now: UnixTime) -> Result<(), SqlError> {
        let id = grant.as_str().to_owned();
        let now = secs(now);
        let statements = self.inner.statements.clone();
        self.write(move |conn| statements::revoke_grant(&db(conn, &statements), &id, now))
            .await
    }

    async fn revoke_access_token(&self, digest: &SecretDigest) -> Result<(), SqlError> {
        let key = *digest.as_bytes();
        let statements = self.inner.statements.clone();
        self.write(move |conn| statements::delete_access(&db(conn, &statements), &key))
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
        let client = client.as_str().to_owned();
        let (expires_at, now) = (secs(expires_at), secs(now));
        let statements = self.inner.statements.clone();
        self.write(move |conn| {
            statements::record_jti(&db(conn, &statements), &client, &key, expires_at, now)
        })
        .await
    }

    async fn insert_pushed_request(&self, record: &PushedRequestRecord) -> Result<(), SqlError> {
        let params = serde_json::to_string(&record.params).map_err(SqlError::Encode)?;
        let key = *record.digest.as_bytes();
        let client = record.client_id.as_str().to_owned();
        let expires_at = secs(record.expires_at);
        let statements = self.inner.statements.clone();
        self.write(move |conn| {
            statements::insert_pushed(&db(conn, &statements), &key, &client, &params, expires_at)
        })
        .await
    }

    async fn take_pushed_request(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Option<PushedRequestRecord>, SqlError> {
        let key = *digest.as_bytes();
        let statements = self.inner.statements.clone();
        let taken = self
            .write(move |conn| statements::take_pushed(&db(conn, &statements), &key))
            .await?;
        let Some((client_id, params, expires_at)) = taken else {
            return Ok(None);
        };
        let record = PushedRequestRecord {
            digest: *digest,
            client_id: ClientId::new(client_id).map_err(SqlError::CorruptClient)?,
            params: from_json("pushed_requests", &params)?,
            expires_at: at_secs(expires_at),
        };
        Ok((record.expires_at > now).then_some(record))
    }

    async fn sweep_expired(&self, now: UnixTime) -> Result<u64, SqlError> {
        let now = secs(now);
        let statements = self.inner.statements.clone();
        self.write(move |conn| statements::sweep(&db(conn, &statements), now))
            .await
    }

    async fn create_session(&self, record: &SessionRecord) -> Result<bool, SqlError> {
        let (sid, json) = (record.sid.as_str().to_owned(), to_json(record)?);
        let (expires_at, ends_at) = (secs(record.expires_at), secs(record.ends_at));
        let statements = self.inner.statements.clone();
        self.write(move |conn| {
            statements::create_session(&db(conn, &statements), &sid, &json, expires_at, ends_at)
        })
        .await
    }

    async fn touch_session(
        &self,
        sid: &SessionId,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<Option<SessionRecord>, SqlError> {
        let sid = sid.as_str().to_owned();
        let (target, now) = (secs(expires_at), secs(now));
        let read = || {
            let sid = sid.clone();
            self.read(move |db| statements::live_session(db, &sid, now))
        };
        let statements = self.inner.statements.clone();
        let owned = sid.clone();
        let write = self.write(move |conn| {
            statements::touch_session(&db(conn, &statements), &owned, target, now)
        });
        crate::sessions::touch(read, write, target).await
    }

    async fn add_session_grant(
        &self,
        sid: &SessionId,
        grant: &SessionGrant,
        now: UnixTime,
    ) -> Result<bool, SqlError> {
        let (sid, grant_id) = (sid.as_str().to_owned(), grant.grant_id.as_str().to_owned());
        let (record, now) = (to_json(grant)?, secs(now));
        let statements = self.inner.statements.clone();
        self.write(move |conn| {
            statements::add_session_grant(&db(conn, &statements), &sid, &grant_id, &record, now)
        })
        .await
    }

    /// One write request: the session's grant, then the code, in one savepoint.
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
        let code = code.row()?;
        let token = front_channel_token.map(Member::row).transpose()?;
        let (sid, grant_id) = (sid.as_str().to_owned(), grant.grant_id.as_str().to_owned());
        let (record, now) = (to_json(grant)?, secs(now));
        let statements = self.inner.statements.clone();
        self.write(move |conn| {
            let db = db(conn, &statements);
            let (live, _) = statements::add_session_grant(&db, &sid, &grant_id, &record, now)?;
            if !live {
                return Ok((false, false));
            }
            // A code that stores nothing (revoked grant, retried call) undoes the grant's
            // record too: nothing of this approval is kept.
            let ((), kept) = statements::insert_code(&db, &code, token.as_ref())?;
            Ok((true, kept))
        })
        .await
    }

    async fn session_grants(
        &self,
        sid: &SessionId,
        now: UnixTime,
    ) -> Result<Vec<SessionGrant>, SqlError> {
        let (sid, now) = (sid.as_str().to_owned(), secs(now));
        let rows = self
            .read(move |db| statements::session_grants(db, &sid, now))
            .await?;
        rows.iter()
            .map(|record| from_json("session_grants", record))
            .collect()
    }

    async fn end_session(
        &self,
        sid: &SessionId,
        now: UnixTime,
    ) -> Result<Option<EndedSession>, SqlError> {
        let sid = sid.as_str().to_owned();
        let statements = self.inner.statements.clone();
        let (session, grants) = self
            .write(move |conn| statements::end_session(&db(conn, &statements), &sid))
            .await?;
        crate::sessions::ended(session, grants, secs(now))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use oidc_hybrid::ClientMetadata;

    use super::*;
    use crate::common::sql;
    use statements::{sqlite_text, write_sql};

    fn client(id: &str) -> Client {
        Client::register(ClientMetadata {
            client_id: id.into(),
            client_secret: Some("a-high-entropy-secret-of-32-chars-or-more".into()),
            redirect_uris: vec!["https://rp.example/cb".into()],
            ..ClientMetadata::default()
        })
        .unwrap()
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    async fn file_store(dir: &Path) -> SqliteStore {
        let store = SqliteStore::open(dir.join("op.sqlite")).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    #[test]
    fn requests_arriving_during_a_commit_share_the_next_one_and_a_failure_stays_alone() {
        let dir = tempfile::tempdir().unwrap();
        runtime().block_on(async {
            let store = file_store(dir.path()).await;
            store.insert_client(&client("taken")).await.unwrap();
            let before = store.write_stats();
            // Hold the writer thread, so that the requests below queue up behind it.
            let busy = tokio::spawn({
                let store = store.clone();
                async move {
                    store
                        .with_write_connection(|_| {
                            std::thread::sleep(Duration::from_millis(300));
                            Ok(())
                        })
                        .await
                }
            });
            tokio::time::sleep(Duration::from_millis(50)).await;
            let mut calls = tokio::task::JoinSet::new();
            for i in 0..20 {
                let store = store.clone();
                calls.spawn(
                    async move { (i, store.insert_client(&client(&format!("c{i}"))).await) },
                );
            }
            let duplicate = tokio::spawn({
                let store = store.clone();
                async move { store.insert_client(&client("taken")).await }
            });
            while let Some(done) = calls.join_next().await {
                let (i, result) = done.unwrap();
                result.unwrap_or_else(|e| panic!("c{i}: {e}"));
            }
            assert!(matches!(
                duplicate.await.unwrap(),
                Err(SqlError::ClientExists)
            ));
            busy.await.unwrap().unwrap();
            let after = store.write_stats();
            assert_eq!(after.requests - before.requests, 22);
            // The held request's commit, then the 21 queued requests in one or two groups.
            assert!(
                after.commits - before.commits <= 3,
                "{before:?} → {after:?}"
            );
            assert_eq!(store.client_ids().await.unwrap().len(), 21);
            // Every acknowledged write is visible to a new connection: it was committed.
            let conn = Connection::open(dir.path().join("op.sqlite")).unwrap();
            let n: i64 = conn
                .query_row("SELECT COUNT(*) FROM clients", [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 21);
            store.close().await;
            assert!(matches!(store.counts().await, Err(SqlError::Closed)));
            assert!(matches!(
                store.insert_client(&client("late")).await,
                Err(SqlError::Closed)
            ));
        });
    }

    #[test]
    fn a_request_that_fails_midway_leaves_nothing_behind() {
        runtime().block_on(async {
            let store = SqliteStore::memory().await.unwrap();
            store.migrate().await.unwrap();
            let failed = store
                .with_write_connection(|conn| {
                    conn.execute(
                        "INSERT INTO grants (id, revoked, expires_at) VALUES ('g', 0, 1)",
                        [],
                    )?;
                    conn.execute("INSERT INTO no_such_table VALUES (1)", [])
                })
                .await;
            assert!(matches!(failed, Err(SqlError::Sqlite(_))), "{failed:?}");
            assert_eq!(store.counts().await.unwrap().grants, 0);
        });
    }

    #[test]
    fn every_statement_prepares_with_numbered_parameters() {
        let conn = Connection::open_in_memory().unwrap();
        schema::migrate(&conn).unwrap();
        let statements = [
            sql::REDEEM,
            sql::CODE_STATE,
            sql::ACCESS,
            sql::REFRESH,
            sql::DELETE_ACCESS,
            sql::RECORD_JTI,
            sql::CLIENT,
            sql::INSERT_CLIENT,
            sql::UPSERT_CLIENT,
            sql::INSERT_PUSHED,
            sql::TAKE_PUSHED,
            sql::DELETE_CLIENT,
            sql::CLIENT_IDS,
            sql::COUNTS,
            write_sql::LOCK_GRANT,
            write_sql::EXTEND_GRANT,
            write_sql::REVOKE_GRANT,
            write_sql::EXTEND_TOMBSTONES,
            write_sql::INSERT_CODE,
            write_sql::INSERT_ACCESS,
            write_sql::INSERT_REFRESH,
            write_sql::REFRESH_FOR_ROTATION,
            write_sql::RETIRE_REFRESH,
            write_sql::RETIRE_REVOKED_REFRESH,
            write_sql::RETIRE_GRANT_CODES,
            write_sql::DELETE_GRANT_ACCESS,
            write_sql::RETIRE_GRANT_REFRESH,
        ]
        .into_iter()
        .chain(sql::SWEEP);
        for text in statements {
            let statement = conn.prepare(&sqlite_text(text)).unwrap();
            for i in 1..=statement.parameter_count() {
                assert_eq!(
                    statement.parameter_name(i),
                    Some(format!("?{i}").as_str()),
                    "{text}"
                );
            }
        }
        // `$2` before `$1`: bound by number, not by order of appearance.
        conn.execute(
            "INSERT INTO grants (id, revoked, expires_at) VALUES ('g', 0, 5)",
            [],
        )
        .unwrap();
        conn.execute(
            &sqlite_text(write_sql::EXTEND_GRANT),
            rusqlite::params!["g", 9],
        )
        .unwrap();
        let expires: i64 = conn
            .query_row("SELECT expires_at FROM grants WHERE id = 'g'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(expires, 9);
    }

    /// A file as the sqlx-based store left it: the schema of `versions`, recorded in
    /// `_sqlx_migrations`.
    fn sqlx_era_file(path: &Path, versions: &[i64]) {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
             checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)",
        )
        .unwrap();
        for (version, sql) in schema::MIGRATIONS {
            if versions.contains(&version) {
                conn.execute_batch(sql).unwrap();
                conn.execute(
                    "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
                     execution_time) VALUES (?1, 'm', TRUE, x'00', 0)",
                    [version],
                )
                .unwrap();
            }
        }
    }

    #[test]
    fn files_of_the_sqlx_store_are_adopted_and_brought_up_to_date() {
        let dir = tempfile::tempdir().unwrap();
        runtime().block_on(async {
            let current = dir.path().join("current.sqlite");
            sqlx_era_file(&current, &[1, 2, 3]);
            let store = SqliteStore::open(&current).await.unwrap();
            assert_eq!(store.schema_version().await.unwrap(), 3);
            store.migrate().await.unwrap();
            store.migrate().await.unwrap();
            store.insert_client(&client("rp")).await.unwrap();
            assert_eq!(store.schema_version().await.unwrap(), schema::VERSION);

            let older = dir.path().join("older.sqlite");
            sqlx_era_file(&older, &[1, 2]);
            let store = SqliteStore::open(&older).await.unwrap();
            assert_eq!(store.schema_version().await.unwrap(), 2);
            store.migrate().await.unwrap();
            assert_eq!(store.schema_version().await.unwrap(), schema::VERSION);
            let has_rotation_time = store
                .with_write_connection(|conn| {
                    conn.query_row(
                        "SELECT COUNT(*) FROM pragma_table_info('refresh_tokens') \
                         WHERE name = 'retired_at'",
                        [],
                        |r| r.get::<_, i64>(0),
                    )
                })
                .await
                .unwrap();
            assert_eq!(has_rotation_time, 1);
        });
    }

    #[test]
    fn a_newer_schema_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("newer.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA user_version = 99").unwrap();
        drop(conn);
        runtime().block_on(async {
            let error = SqliteStore::open(&path).await.unwrap_err();
            assert!(
                matches!(
                    error,
                    SqlError::SchemaTooNew {
                        found: 99,
                        known: schema::VERSION
                    }
                ),
                "{error:?}"
            );
            assert!(error.to_string().contains("version 99"), "{error}");
        });
    }

    #[test]
    fn urls_choose_the_file_memory_and_synchronous_setting() {
        let dir = tempfile::tempdir().unwrap();
        runtime().block_on(async {
            let synchronous = |store: SqliteStore| async move {
                store
                    .with_write_connection(|conn| {
                        conn.query_row("PRAGMA synchronous", [], |r| r.get::<_, i64>(0))
                    })
                    .await
                    .unwrap()
            };
            let path = dir.path().join("a.sqlite").display().to_string();
            let full = SqliteStore::connect(&format!("sqlite://{path}"))
                .await
                .unwrap();
            assert_eq!(synchronous(full).await, 2);
            let normal = SqliteStore::connect(&format!("sqlite:{path}?synchronous=normal"))
                .await
                .unwrap();
            assert_eq!(synchronous(normal).await, 1);
            let memory = SqliteStore::connect("sqlite::memory:").await.unwrap();
            assert!(format!("{memory:?}").contains("memory: true"));
            assert!(matches!(
                SqliteStore::connect(&format!("sqlite:{path}?synchronous=off")).await,
                Err(SqlError::BadUrl(_))
            ));
            assert!(matches!(
                SqliteStore::connect("postgres://x").await,
                Err(SqlError::BadUrl(_))
            ));
        });
    }
}
