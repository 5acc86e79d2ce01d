//! A bounded, in-memory [`Storage`] for `oidc-hybrid` on devices without `std`:
//! [`EmbeddedStore`].
//!
//! `#![no_std]` + `alloc`. Everything lives in RAM and is lost on reset, which suits a device that
//! issues short-lived codes and tokens. Like every store of this project it keeps only digests of
//! codes and tokens (and of `jti`s), never the secrets.
//!
//! # Bounded
//!
//! Each table is a `Vec` reserved once, in [`EmbeddedStore::new`], to its [`Capacity`], and never
//! grows. An insertion into a full table stores nothing and fails with [`StoreError::Full`],
//! naming the table; the provider turns that into `server_error`. Nothing is evicted to make
//! room: evicting a used code's tombstone or a revocation marker would break single use. Call
//! [`Storage::sweep_expired`] (or [`EmbeddedStore::sweep`]) periodically to free what expired.
//!
//! Live codes and refresh tokens keep their records on the heap, strings included; tombstones,
//! grants and `jti`s need little beyond their reserved slot (a `jti` is kept as a 32-byte
//! digest, however long it was). The Cortex-M example (`docs/embedded.md`) measures what one
//! flow leaves behind.
//!
//! # One lock
//!
//! All tables sit behind one lock, chosen by feature:
//!
//! * `critical-section` (default): each operation runs in
//!   [`critical_section::with`](https://docs.rs/critical-section). On a single-core
//!   Cortex-M with `cortex-m`'s `critical-section-single-core` that masks interrupts, so the
//!   store may also be used from interrupt handlers; an RTOS or a multi-core part supplies its own
//!   implementation. On a host, the `std` feature links `critical-section`'s global mutex.
//! * `spin` (with `critical-section` off): a spin lock, for targets with atomic compare-and-swap
//!   whose store is shared between threads or tasks but never used from an interrupt handler.
//!
//! Every operation does all its work inside one critical section and returns an already
//! completed future, so **no lock is held across an `.await`**, and the atomicity the
//! [`Storage`] contract asks for follows: of concurrent redemptions of a code exactly one is
//! [`Redemption::Fresh`], of concurrent rotations of a refresh token exactly one is
//! [`Rotation::Rotated`], [`Storage::record_jti`] is a test-and-set, and a revocation is never
//! interleaved with an insertion of its grant's tokens. An operation scans its table, so a
//! critical section lasts `O(capacity)`: keep capacities small (tens of entries).
//!
//! # Semantics
//!
//! The same storage model as `oidc-hybrid-memory`, down to what a sweep removes: used codes and
//! rotated refresh tokens leave tombstones until they would have expired (a used code's until the
//! last token of its grant expires), a revoked grant leaves a marker for
//! [`REVOCATION_GRACE_SECS`] after the later of its last expiry and the revocation, and an entry
//! with `expires_at <= now` is gone for every read.
//!
//! # Example
//!
//! ```
//! use oidc_hybrid::{Client, ClientId, ClientMetadata, Storage};
//! use oidc_hybrid_embedded_store::{Capacity, EmbeddedStore, StoreError, Table};
//!
//! # fn main() -> Result<(), Box<dyn core::error::Error>> {
//! let store = EmbeddedStore::new(Capacity::uniform(4).with_clients(1).with_jtis(0));
//! let client = |id: &str| {
//!     Client::register(ClientMetadata {
//!         client_id: id.into(),
//!         client_secret: Some("a-high-entropy-secret-of-32-chars-or-more".into()),
//!         redirect_uris: vec!["https://rp.example/cb".into()],
//!         ..ClientMetadata::default()
//!     })
//! };
//! store.insert_client(client("rp")?)?;
//! assert_eq!(
//!     store.insert_client(client("another")?),
//!     Err(StoreError::Full { table: Table::Clients, capacity: 1 })
//! );
//! assert_eq!(store.counts().clients, 1);
//! # Ok(())
//! # }
//! ```

#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

#[cfg(not(any(feature = "critical-section", feature = "spin")))]
compile_error!("oidc-hybrid-embedded-store needs a lock: enable `critical-section` or `spin`");

mod lock;
mod tables;

use core::fmt;
use core::future::{Future, ready};

use oidc_hybrid::{
    AccessTokenRecord, Client, ClientId, CodeRecord, GrantId, Insertion, PushedRequestRecord,
    Redemption, RefreshLookup, RefreshTokenRecord, Rotation, SecretDigest, Storage, UnixTime,
};

use lock::Lock;
use tables::Tables;

/// How long, in seconds, a revoked grant's marker is kept after the later of the revocation time
/// and the latest expiry of anything of the grant (the same as `oidc-hybrid-memory`).
pub const REVOCATION_GRACE_SECS: u64 = 600;

/// How many entries each table of an [`EmbeddedStore`] holds at most. Tombstones (used codes,
/// rotated refresh tokens) and revocation markers take a slot until they expire and are swept.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct Capacity {
    /// Registered clients.
    pub clients: usize,
    /// Codes, live or used.
    pub codes: usize,
    /// Access tokens (front channel and token endpoint).
    pub access_tokens: usize,
    /// Refresh tokens, live or retired.
    pub refresh_tokens: usize,
    /// Grants: one per authorization in flight or with live tokens, plus revocation markers.
    pub grants: usize,
    /// Recorded client-assertion `jti`s (RFC 7523 §3); zero when no client uses
    /// `private_key_jwt`.
    pub jtis: usize,
    /// Pushed authorization requests waiting for use (RFC 9126); zero without PAR.
    pub pushed_requests: usize,
}

impl Capacity {
    /// `n` entries in every table.
    #[must_use]
    pub const fn uniform(n: usize) -> Self {
        Self {
            clients: n,
            codes: n,
            access_tokens: n,
            refresh_tokens: n,
            grants: n,
            jtis: n,
            pushed_requests: n,
        }
    }

    /// With room for `n` clients.
    #[must_use]
    pub const fn with_clients(mut self, n: usize) -> Self {
        self.clients = n;
        self
    }

    /// With room for `n` codes.
    #[must_use]
    pub const fn with_codes(mut self, n: usize) -> Self {
        self.codes = n;
        self
    }

    /// With room for `n` access tokens.
    #[must_use]
    pub const fn with_access_tokens(mut self, n: usize) -> Self {
        self.access_tokens = n;
        self
    }

    /// With room for `n` refresh tokens.
    #[must_use]
    pub const fn with_refresh_tokens(mut self, n: usize) -> Self {
        self.refresh_tokens = n;
        self
    }

    /// With room for `n` grants.
    #[must_use]
    pub const fn with_grants(mut self, n: usize) -> Self {
        self.grants = n;
        self
    }

    /// With room for `n` `jti`s.
    #[must_use]
    pub const fn with_jtis(mut self, n: usize) -> Self {
        self.jtis = n;
        self
    }

    /// With room for `n` pushed authorization requests.
    #[must_use]
    pub const fn with_pushed_requests(mut self, n: usize) -> Self {
        self.pushed_requests = n;
        self
    }
}

/// A table of an [`EmbeddedStore`].
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum Table {
    /// Access tokens.
    AccessTokens,
    /// Registered clients.
    Clients,
    /// Authorization codes and their tombstones.
    Codes,
    /// Grants and revocation markers.
    Grants,
    /// Client-assertion `jti`s.
    Jtis,
    /// Pushed authorization requests.
    PushedRequests,
    /// Refresh tokens and their tombstones.
    RefreshTokens,
}

impl Table {
    /// A lower-case name for messages.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AccessTokens => "access token",
            Self::Clients => "client",
            Self::Codes => "code",
            Self::Grants => "grant",
            Self::Jtis => "jti",
            Self::PushedRequests => "pushed request",
            Self::RefreshTokens => "refresh token",
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an [`EmbeddedStore`] operation failed.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum StoreError {
    /// The table is at its capacity; nothing was stored or changed. Sweep expired entries
    /// ([`Storage::sweep_expired`]) or give the table more room ([`Capacity`]).
    Full {
        /// The table that is full.
        table: Table,
        /// Its capacity.
        capacity: usize,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full { table, capacity } => write!(
                f,
                "the {table} table is full ({capacity} entries): sweep expired entries or raise its capacity"
            ),
        }
    }
}

impl core::error::Error for StoreError {}

/// How many entries each table of an [`EmbeddedStore`] holds, tombstones, markers and expired
/// but not yet swept entries included.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub struct Counts {
    /// Registered clients.
    pub clients: usize,
    /// Codes, live or used.
    pub codes: usize,
    /// Access tokens.
    pub access_tokens: usize,
    /// Refresh tokens, live or retired.
    pub refresh_tokens: usize,
    /// Grant entries (revocation markers included).
    pub grants: usize,
    /// Recorded `jti`s.
    pub jtis: usize,
    /// Pushed authorization requests not yet used.
    pub pushed_requests: usize,
}

/// A bounded, in-memory [`Storage`] behind one lock; see the crate documentation.
///
/// Its `Debug` output shows entry counts, never digests or records.
pub struct EmbeddedStore {
    tables: Lock<Tables>,
}

impl fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts = self.counts();
        f.debug_struct("EmbeddedStore")
            .field("clients", &counts.clients)
            .field("codes", &counts.codes)
            .field("access_tokens", &counts.access_tokens)
            .field("refresh_tokens", &counts.refresh_tokens)
            .field("grants", &counts.grants)
            .field("jtis", &counts.jtis)
            .field("pushed_requests", &counts.pushed_requests)
            .finish()
    }
}

impl EmbeddedStore {
    /// An empty store; every table's room is reserved now, so the store never allocates to grow.
    ///
    /// # Panics
    ///
    /// If the allocator cannot reserve the tables (the allocation-failure handler runs).
    #[must_use]
    pub fn new(capacity: Capacity) -> Self {
        Self {
            tables: Lock::new(Tables::new(capacity)),
        }
    }

    /// Registers `client`, replacing (and returning) any client with the same id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Full`] if the clients table is full and `client` is new.
    pub fn insert_client(&self, client: Client) -> Result<Option<Client>, StoreError> {
        self.tables.with(|t| t.insert_client(client))
    }

    /// Removes the client with this id, returning it. Codes and tokens already issued to it stay
    /// until they expire or their grants are revoked.
    pub fn remove_client(&self, id: &ClientId) -> Option<Client> {
        self.tables.with(|t| t.remove_client(id))
    }

    /// The room of each table.
    #[must_use]
    pub fn capacity(&self) -> Capacity {
        self.tables.with(|t| t.capacity)
    }

    /// How many entries each table holds.
    #[must_use]
    pub fn counts(&self) -> Counts {
        self.tables.with(|t| t.counts())
    }

    /// Deletes every entry expired at `now` (`expires_at <= now`): codes, tombstones, tokens,
    /// grant entries and `jti`s. Returns how many were removed. The synchronous form of
    /// [`Storage::sweep_expired`].
    pub fn sweep(&self, now: UnixTime) -> u64 {
        self.tables.with(|t| t.sweep(now))
    }
}

/// Every method does its work when called, in one critical section, and returns an already
/// completed future (dropping it unpolled does not undo the work).
impl Storage for EmbeddedStore {
    type Error = StoreError;

    fn client(
        &self,
        id: &ClientId,
    ) -> impl Future<Output = Result<Option<Client>, Self::Error>> + Send {
        ready(Ok(self.tables.with(|t| t.client(id))))
    }

    fn insert_code(
        &self,
        code: &CodeRecord,
        front_channel_token: Option<&AccessTokenRecord>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        ready(
            self.tables
                .with(|t| t.insert_code(code, front_channel_token)),
        )
    }

    fn redeem_code(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> impl Future<Output = Result<Redemption, Self::Error>> + Send {
        ready(Ok(self.tables.with(|t| t.redeem_code(digest, now))))
    }

    fn insert_tokens(
        &self,
        access: &AccessTokenRecord,
        refresh: Option<&RefreshTokenRecord>,
    ) -> impl Future<Output = Result<Insertion, Self::Error>> + Send {
        ready(self.tables.with(|t| t.insert_tokens(access, refresh)))
    }

    fn access_token(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> impl Future<Output = Result<Option<AccessTokenRecord>, Self::Error>> + Send {
        ready(Ok(self.tables.with(|t| t.access_token(digest, now))))
    }

    fn refresh_token(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> impl Future<Output = Result<RefreshLookup, Self::Error>> + Send {
        ready(Ok(self.tables.with(|t| t.refresh_token(digest, now))))
    }

    fn rotate_refresh_token(
        &self,
        old: &SecretDigest,
        new: &RefreshTokenRecord,
        now: UnixTime,
        grace_since: Option<UnixTime>,
    ) -> impl Future<Output = Result<Rotation, Self::Error>> + Send {
        ready(
            self.tables
                .with(|t| t.rotate_refresh_token(old, new, now, grace_since)),
        )
    }

    fn revoke_grant(
        &self,
        grant: &GrantId,
        now: UnixTime,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        ready(self.tables.with(|t| t.revoke_grant(grant, now)))
    }

    fn revoke_access_token(
        &self,
        digest: &SecretDigest,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.tables.with(|t| t.revoke_access_token(digest));
        ready(Ok(()))
    }

    fn record_jti(
        &self,
        client: &ClientId,
        jti: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        ready(
            self.tables
                .with(|t| t.record_jti(client, jti, expires_at, now)),
        )
    }

    fn insert_pushed_request(
        &self,
        record: &PushedRequestRecord,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        ready(self.tables.with(|t| t.insert_pushed_request(record)))
    }

    fn take_pushed_request(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> impl Future<Output = Result<Option<PushedRequestRecord>, Self::Error>> + Send {
        ready(Ok(self.tables.with(|t| t.take_pushed_request(digest, now))))
    }

    fn sweep_expired(
        &self,
        now: UnixTime,
    ) -> impl Future<Output = Result<u64, Self::Error>> + Send {
        ready(Ok(self.sweep(now)))
    }
}
