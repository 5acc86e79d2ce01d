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
//! [`Rotation::Rotated`], [`Storage::record_jti`] is a test-and-set, of concurrent
//! [`Storage::end_session`]s exactly one gets the session (and no grant is recorded beside it),
//! and a revocation is never
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
use core::ops::Range;

use alloc::vec::Vec;
use oidc_hybrid::storage::model::{self, ImmediateStorage};

use oidc_hybrid::{
    AccessTokenRecord, Client, ClientId, CodeRecord, EndedSession, GrantId, Insertion,
    PushedRequestRecord, Redemption, RefreshLookup, RefreshTokenRecord, Rotation, SecretDigest,
    SessionGrant, SessionId, SessionRecord, UnixTime,
};

use lock::Lock;
use tables::Tables;

// The crate documentation names the contract's methods.
#[cfg(doc)]
use oidc_hybrid::Storage;

/// How long, in seconds, a revoked grant's marker is kept after the later of the revocation time
/// and the latest expiry of anything of the grant: the contract's value (the same as
/// `oidc-hybrid-memory`), [`oidc_hybrid::REVOCATION_GRACE_SECS`].
pub use oidc_hybrid::REVOCATION_GRACE_SECS;

/// Builders of [`Capacity`], each setting one table's room.
macro_rules! with_room {
    ($($(#[$doc:meta])* $with:ident => $table:ident;)*) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub const fn $with(mut self, n: usize) -> Self {
                self.$table = n;
                self
            }
        )*
    };
}

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
    /// OP sessions (for logout); each records at most `grants` grants.
    pub sessions: usize,
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
            sessions: n,
        }
    }

    with_room! {
        /// With room for `n` clients.
        with_clients => clients;
        /// With room for `n` codes.
        with_codes => codes;
        /// With room for `n` access tokens.
        with_access_tokens => access_tokens;
        /// With room for `n` refresh tokens.
        with_refresh_tokens => refresh_tokens;
        /// With room for `n` grants.
        with_grants => grants;
        /// With room for `n` `jti`s.
        with_jtis => jtis;
    }

    /// With room for `n` pushed authorization requests.
    #[must_use]
    pub const fn with_pushed_requests(mut self, n: usize) -> Self {
        self.pushed_requests = n;
        self
    }

    /// With room for `n` OP sessions.
    #[must_use]
    pub const fn with_sessions(mut self, n: usize) -> Self {
        self.sessions = n;
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
    /// OP sessions and their grant lists.
    Sessions,
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
            Self::Sessions => "session",
        }
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
pub use model::Counts;

/// A bounded, in-memory [`Storage`] behind one lock; see the crate documentation.
///
/// Its `Debug` output shows entry counts, never digests or records.
pub struct EmbeddedStore {
    tables: Lock<Tables>,
}

impl fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.counts().debug_store("EmbeddedStore", f)
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

/// [`ImmediateStorage`] methods, each running the `Tables` operation it names in one critical
/// section: `= op` for an operation that may fail, `= Ok(op)` for one that cannot.
macro_rules! locked {
    () => {};
    (fn $name:ident($($arg:ident: $type:ty),*) -> $output:ty = Ok($op:ident); $($rest:tt)*) => {
        fn $name(&self, $($arg: $type),*) -> Result<$output, StoreError> {
            Ok(self.tables.with(|t| t.$op($($arg),*)))
        }
        locked!($($rest)*);
    };
    (fn $name:ident($($arg:ident: $type:ty),*) -> $output:ty = $op:ident; $($rest:tt)*) => {
        fn $name(&self, $($arg: $type),*) -> Result<$output, StoreError> {
            self.tables.with(|t| t.$op($($arg),*))
        }
        locked!($($rest)*);
    };
}

/// Every method does its work when called, in one critical section, and returns an already
/// completed future through the [`Storage`] implementation of every [`ImmediateStorage`]
/// (dropping it unpolled does not undo the work).
impl ImmediateStorage for EmbeddedStore {
    type Error = StoreError;

    locked! {
        fn client_now(id: &ClientId) -> Option<Client> = Ok(client);
        fn record_jti_now(
            client: &ClientId, jti: &str, span: Range<UnixTime>
        ) -> bool = record_jti;
        fn insert_code_now(code: &CodeRecord, token: Option<&AccessTokenRecord>) -> () = insert_code;
        fn redeem_code_now(digest: &SecretDigest, now: UnixTime) -> Redemption = Ok(redeem_code);
        fn insert_tokens_now(
            access: &AccessTokenRecord, refresh: Option<&RefreshTokenRecord>
        ) -> Insertion = insert_tokens;
        fn access_token_now(
            digest: &SecretDigest, now: UnixTime
        ) -> Option<AccessTokenRecord> = Ok(access_token);
        fn refresh_token_now(
            digest: &SecretDigest, now: UnixTime
        ) -> RefreshLookup = Ok(refresh_token);
        fn rotate_refresh_token_now(
            old: &SecretDigest, new: &RefreshTokenRecord, now: UnixTime,
            grace_since: Option<UnixTime>
        ) -> Rotation = rotate_refresh_token;
        fn revoke_grant_now(grant: &GrantId, now: UnixTime) -> () = revoke_grant;
        fn revoke_access_token_now(digest: &SecretDigest) -> () = Ok(revoke_access_token);
        fn insert_pushed_request_now(record: &PushedRequestRecord) -> () = insert_pushed_request;
        fn take_pushed_request_now(
            digest: &SecretDigest, now: UnixTime
        ) -> Option<PushedRequestRecord> = Ok(take_pushed_request);
        fn sweep_expired_now(now: UnixTime) -> u64 = Ok(sweep);
        fn create_session_now(record: &SessionRecord) -> bool = create_session;
        fn touch_session_now(
            sid: &SessionId, now: UnixTime, expires_at: UnixTime
        ) -> Option<SessionRecord> = Ok(touch_session);
        fn add_session_grant_now(
            sid: &SessionId, grant: &SessionGrant, now: UnixTime
        ) -> bool = add_session_grant;
        fn session_grants_now(sid: &SessionId, now: UnixTime) -> Vec<SessionGrant> = Ok(session_grants);
        fn end_session_now(sid: &SessionId, now: UnixTime) -> Option<EndedSession> = Ok(end_session);
    }
}
