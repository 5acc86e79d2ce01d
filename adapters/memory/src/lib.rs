//! An in-memory [`Storage`] for `oidc-hybrid`: [`MemoryStore`].
//!
//! Everything lives in process memory and is lost on exit, so this store suits tests and small
//! single-process providers. It keeps only what the [`Storage`] contract asks for: digests of
//! codes and tokens, never the secrets.
//!
//! # Tables
//!
//! | table | key | value |
//! | --- | --- | --- |
//! | clients | [`ClientId`] | [`Client`] (one `RwLock`) |
//! | codes | [`SecretDigest`] | live [`CodeRecord`], or a *used* tombstone (grant id, expiry) |
//! | access tokens | [`SecretDigest`] | [`AccessTokenRecord`] |
//! | refresh tokens | [`SecretDigest`] | live [`RefreshTokenRecord`], or a *retired* tombstone |
//! | grants | [`GrantId`] | revoked flag, member digests, latest expiry |
//! | `jti`s | ([`ClientId`], `jti`) | expiry |
//! | sessions | [`SessionId`] | the OP session and the grants recorded with it (one `Mutex`) |
//!
//! # Locking
//!
//! Every table but clients is split into 32 shards, each a `std::sync::Mutex<HashMap>`. Digest
//! keys pick their shard from the first byte of the SHA-256 digest (uniform); grant ids and
//! `jti`s from a randomly keyed hash, so that chosen keys cannot pile onto one shard.
//!
//! Every operation does all its work synchronously and returns an already completed future:
//! **no lock is ever held across an `.await`**, and no lock is held while calling code outside
//! this crate. Locks are taken in one global order, so there is no deadlock:
//!
//! 1. at most one **grant** shard,
//! 2. then at most one **code** shard at a time,
//! 3. then at most one **access-token** shard at a time,
//! 4. then at most one **refresh-token** shard at a time.
//!
//! No operation ever holds two shards of one table, and none takes a grant shard while it
//! holds a token or code shard. The clients lock, the `jti` shards and the sessions lock are
//! only ever held alone; each session operation is one critical section on the sessions lock,
//! so recording a grant and ending its session are serialised (exactly one logout gets it).
//!
//! A poisoned lock (a thread panicked inside a critical section) is recovered rather than
//! propagated: every critical section is a few `HashMap` calls that each leave the map
//! consistent, so the data behind a poisoned lock is still valid.
//!
//! # Atomicity, operation by operation
//!
//! All changes to the members of one grant (inserting its code or tokens, rotating its refresh
//! tokens, revoking it) happen while holding **that grant's shard lock**, so they are
//! serialised with one another. Code and token digests are SHA-256 digests of 256-bit random
//! secrets, so two grants never share a digest; an entry already stored under a digest is never
//! overwritten (a retried insert cannot revive a used code or a rotated token).
//!
//! - [`Storage::insert_code`]: under the grant lock, refuses (stores neither) if the grant is
//!   revoked or if either digest is already present, then inserts the code and the
//!   front-channel token. Nobody can look the new digests up before the call returns, so no
//!   reader can observe one without the other: both or neither. A front-channel token of
//!   another grant than the code's is refused the same way (neither is stored).
//! - [`Storage::redeem_code`]: one critical section on the code's shard reads the entry and
//!   replaces a live code by its tombstone. Of N concurrent redemptions exactly one finds it
//!   live ([`Redemption::Fresh`]); the others find the tombstone ([`Redemption::Replayed`]).
//!   A revoked grant's code is already a tombstone (see `revoke_grant`), so no grant lock is
//!   needed.
//! - [`Storage::insert_tokens`]: under the grant lock, checks the revoked flag and then
//!   inserts. `revoke_grant` takes the same lock, so either the tokens are stored first and the
//!   revocation removes them, or the revocation comes first and [`Insertion::GrantRevoked`] is
//!   returned with nothing stored. A grant the store has never seen (or whose entry was swept
//!   after everything in it expired) is not revoked: tokens are stored and the grant entry is
//!   created. An access and a refresh token of different grants are refused with
//!   [`Insertion::GrantRevoked`] (nothing stored); a retried insert of digests already present
//!   returns [`Insertion::Stored`] and changes nothing.
//! - [`Storage::revoke_grant`]: under the grant lock, sets the revoked flag (creating a marker
//!   for an unknown grant), turns the grant's live code into a used tombstone, deletes its
//!   access tokens and turns its live refresh tokens into retired tombstones (so their later
//!   use reports [`Rotation::Reused`]). Idempotent.
//! - [`Storage::rotate_refresh_token`]: under the lock of the new token's grant, retires the old
//!   token in one critical section on its shard (live → retired), then stores the new one.
//!   Concurrent rotations of one token are serialised by that shard lock: exactly one sees it
//!   live ([`Rotation::Rotated`]), the others see the tombstone ([`Rotation::Reused`]) —
//!   unless `grace_since` is given and the tombstone's rotation time is not before it: then the
//!   new token is stored too ([`Rotation::Rotated`], the reuse grace window).
//!   Because the grant lock is held throughout, no revocation can fall between retiring the old
//!   token and storing the new one. A revoked grant gives [`Rotation::Reused`]. A `new` token of
//!   another grant than the old one gives [`Rotation::Unknown`] and changes nothing (a token
//!   must never leave its grant's revocation). [`Rotation::Rotated`] carries the **retired**
//!   (old) record, as it was when it was retired.
//! - [`Storage::access_token`] and [`Storage::refresh_token`]: read the entry in one critical
//!   section, then check the grant's flag. Revocation deletes or retires the grant's tokens
//!   under the grant lock, so the flag check is a second line of defence only. A rotated
//!   refresh token is reported as [`RefreshLookup::Rotated`] with its record and rotation time,
//!   one of a revoked grant as [`RefreshLookup::Retired`], until it would have expired.
//! - [`Storage::record_jti`]: test-and-set in one critical section on the key's shard.
//! - [`Storage::sweep_expired`]: removes expired entries shard by shard, one lock at a time.
//!
//! # Expiry
//!
//! An entry with `expires_at` is live while `now < expires_at` and expired from `expires_at`
//! on: at `now == expires_at` a code, token, tombstone or `jti` is already gone for every read
//! and is removed by a sweep. Tombstones (used codes, retired refresh tokens) live exactly as
//! long as the code or token would have.
//!
//! A grant's entry lives as long as the latest expiry of anything of the grant. A *revoked*
//! grant's entry (its revocation marker) lives until [`REVOCATION_GRACE_SECS`] after the later
//! of that expiry and the revocation time, so that a token request that redeemed a code just
//! before it expired cannot store tokens for a grant whose marker was swept meanwhile.
//!
//! Expired entries take memory until [`MemoryStore::sweep`] (or [`Storage::sweep_expired`])
//! runs; [`MemoryStore::spawn_sweeper`] runs it periodically on a background thread.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use oidc_hybrid::{Client, ClientId, ClientMetadata, Storage, SystemClock};
//! use oidc_hybrid_memory::MemoryStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Arc::new(MemoryStore::new());
//! store.insert_client(Client::register(ClientMetadata {
//!     client_id: "rp".into(),
//!     client_secret: Some("a-high-entropy-secret-of-32-chars-or-more".into()),
//!     redirect_uris: vec!["https://rp.example/cb".into()],
//!     ..ClientMetadata::default()
//! })?);
//!
//! // Delete expired codes, tokens and markers every minute until `sweeper` is dropped.
//! let sweeper = store.spawn_sweeper(Duration::from_secs(60), SystemClock);
//!
//! let client = store.client(&ClientId::new("rp")?).await?;
//! assert!(client.is_some());
//! drop(sweeper);
//! # Ok(())
//! # }
//! ```

extern crate alloc;

mod sweeper;
mod table;
#[cfg(test)]
mod tests;

use alloc::sync::Arc;
use core::convert::Infallible;
use core::fmt;
use core::ops::Range;
use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use oidc_hybrid::storage::model::{
    self, Entry, ImmediateStorage, SessionEntry, alive, renew_jti, revocation_marker_until,
    unless_revoked,
};
use oidc_hybrid::{
    AccessTokenRecord, Client, ClientId, Clock, CodeRecord, EndedSession, GrantId, Insertion,
    PushedRequestRecord, Redemption, RefreshLookup, RefreshTokenRecord, Rotation, SecretDigest,
    SessionGrant, SessionId, SessionRecord, UnixTime,
};

pub use sweeper::SweeperHandle;
use table::{AccessEntry, GrantEntry, JtiKey, Table};

// The crate documentation names the contract's methods.
#[cfg(doc)]
use oidc_hybrid::Storage;

/// How long, in seconds, a revoked grant's marker is kept after the later of the revocation
/// time and the latest expiry of anything of the grant (see the crate docs, *Expiry*): the
/// contract's value, [`oidc_hybrid::REVOCATION_GRACE_SECS`].
pub use oidc_hybrid::REVOCATION_GRACE_SECS;

/// The error type of [`MemoryStore`]: [`Infallible`], since memory operations cannot fail
/// (allocation failure aborts the process).
pub type MemoryError = Infallible;

/// An in-memory, sharded-lock [`Storage`]. See the crate documentation for the locking scheme
/// and the atomicity of each operation.
///
/// Share it between tasks and threads with an [`Arc`]. Its `Debug` output shows entry counts,
/// never digests or records.
pub struct MemoryStore {
    clients: RwLock<HashMap<ClientId, Client>>,
    codes: Table<SecretDigest, Entry<CodeRecord>>,
    access: Table<SecretDigest, AccessEntry>,
    refresh: Table<SecretDigest, Entry<RefreshTokenRecord>>,
    grants: Table<GrantId, GrantEntry>,
    jtis: Table<JtiKey, UnixTime>,
    pushed: Table<SecretDigest, PushedRequestRecord>,
    /// OP sessions under one lock: each session operation is one critical section on it, taken
    /// alone (never with another table's lock).
    sessions: Mutex<HashMap<SessionId, SessionEntry>>,
}

/// How many entries each table of a [`MemoryStore`] holds, tombstones and expired but not yet
/// swept entries included. Each table is counted shard by shard, so under concurrent use the
/// numbers are approximate.
pub use model::Counts;

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.counts().debug_store("MemoryStore", f)
    }
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self {
            clients: RwLock::new(HashMap::new()),
            codes: Table::new(),
            access: Table::new(),
            refresh: Table::new(),
            grants: Table::new(),
            jtis: Table::new(),
            pushed: Table::new(),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// A store holding these clients.
    #[must_use]
    pub fn with_clients(clients: impl IntoIterator<Item = Client>) -> Self {
        let store = Self::new();
        for client in clients {
            store.insert_client(client);
        }
        store
    }

    /// Registers `client`, replacing (and returning) any client with the same id.
    pub fn insert_client(&self, client: Client) -> Option<Client> {
        table::write(&self.clients).insert(client.id().clone(), client)
    }

    /// Removes the client with this id, returning it. Codes and tokens already issued to it
    /// stay until they expire or their grants are revoked.
    pub fn remove_client(&self, id: &ClientId) -> Option<Client> {
        table::write(&self.clients).remove(id)
    }

    /// How many entries each table holds.
    #[must_use]
    pub fn counts(&self) -> Counts {
        Counts::new(
            table::read(&self.clients).len(),
            self.codes.len(),
            self.access.len(),
            self.refresh.len(),
            self.grants.len(),
            self.jtis.len(),
            self.pushed.len(),
        )
    }

    /// Deletes every entry expired at `now` (`expires_at <= now`): codes, used-code and
    /// retired-token tombstones, access and refresh tokens, grant entries and `jti`s. Returns
    /// how many entries were removed. The synchronous form of [`Storage::sweep_expired`].
    pub fn sweep(&self, now: UnixTime) -> u64 {
        let mut removed = 0;
        removed += self.codes.retain(|_, e| alive(e.expires_at(), now));
        removed += self.access.retain(|_, e| alive(e.expires_at, now));
        removed += self.refresh.retain(|_, e| alive(e.expires_at(), now));
        removed += self.jtis.retain(|_, exp| alive(*exp, now));
        removed += self
            .pushed
            .retain(|_, record| alive(record.expires_at, now));
        removed += self.grants.retain(|_, grant| {
            grant.prune(now);
            alive(grant.expires_at, now)
        });
        let mut sessions = table::lock(&self.sessions);
        let before = sessions.len();
        sessions.retain(|_, session| session.live(now));
        removed += (before - sessions.len()) as u64;
        removed
    }

    /// Starts a background thread that calls [`MemoryStore::sweep`] with `clock`'s time every
    /// `every`, until the returned handle is dropped (or [`SweeperHandle::stop`]ped) or the
    /// store itself is dropped. The thread holds only a weak reference to the store.
    ///
    /// # Panics
    ///
    /// If the operating system cannot start a thread, like [`std::thread::spawn`].
    pub fn spawn_sweeper(
        self: &Arc<Self>,
        every: Duration,
        clock: impl Clock + Send + 'static,
    ) -> SweeperHandle {
        SweeperHandle::spawn(Arc::downgrade(self), every, clock)
    }

    /// Whether the grant is marked revoked.
    fn grant_revoked(&self, grant: &GrantId) -> bool {
        self.grants
            .shard(grant)
            .get(grant)
            .is_some_and(|g| g.revoked)
    }

    /// Pushes the tombstones of the grant's used codes out to the grant's expiry: a code replayed
    /// while tokens from it live must still be recognised (RFC 6749 §4.1.2). Called with the
    /// grant's shard locked (lock order: grant, then code).
    fn extend_code_tombstones(&self, grant: &mut GrantEntry) {
        let until = grant.expires_at;
        for (digest, expires_at) in &mut grant.codes {
            if let Some(entry) = self.codes.shard(digest).get_mut(digest) {
                entry.extend_tombstone(until);
                *expires_at = entry.expires_at();
            }
        }
    }
}

/// Every method does its work when called and returns an already completed future (dropping
/// the future unpolled does not undo it), through the [`Storage`] implementation of every
/// [`ImmediateStorage`]; see the crate docs for the atomicity of each. The error type is
/// [`Infallible`]: these methods cannot fail.
impl ImmediateStorage for MemoryStore {
    type Error = MemoryError;

    fn client_now(&self, id: &ClientId) -> Result<Option<Client>, MemoryError> {
        Ok(table::read(&self.clients).get(id).cloned())
    }

    fn record_jti_now(
        &self,
        client: &ClientId,
        jti: &str,
        span: Range<UnixTime>,
    ) -> Result<bool, MemoryError> {
        let key: JtiKey = (client.clone(), jti.to_owned());
        let mut jtis = self.jtis.shard(&key);
        Ok(match jtis.get_mut(&key) {
            Some(seen_until) => renew_jti(seen_until, span),
            None => {
                jtis.insert(key, span.end);
                true
            }
        })
    }

    fn insert_code_now(
        &self,
        code: &CodeRecord,
        token: Option<&AccessTokenRecord>,
    ) -> Result<(), MemoryError> {
        if token.is_some_and(|t| t.grant_id != code.grant_id) {
            return Ok(());
        }
        let mut grants = self.grants.shard(&code.grant_id);
        if grants.get(&code.grant_id).is_some_and(|g| g.revoked) {
            return Ok(());
        }
        let code_taken = self.codes.shard(&code.digest).contains_key(&code.digest);
        let token_taken =
            token.is_some_and(|t| self.access.shard(&t.digest).contains_key(&t.digest));
        if code_taken || token_taken {
            // Already stored: a retried call (digests of random secrets do not collide).
            return Ok(());
        }
        let grant = grants.entry(code.grant_id.clone()).or_default();
        self.codes
            .shard(&code.digest)
            .insert(code.digest, Entry::live(code.clone()));
        grant.codes.insert(code.digest, code.expires_at);
        grant.extend(code.expires_at);
        if let Some(token) = token {
            self.access
                .shard(&token.digest)
                .insert(token.digest, token.clone());
            grant.access.insert(token.digest, token.expires_at);
            grant.extend(token.expires_at);
        }
        Ok(())
    }

    fn redeem_code_now(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Redemption, MemoryError> {
        let mut codes = self.codes.shard(digest);
        Ok(codes
            .get_mut(digest)
            .map_or(Redemption::Unknown, |entry| entry.redeem(now)))
    }

    fn insert_tokens_now(
        &self,
        access: &AccessTokenRecord,
        refresh: Option<&RefreshTokenRecord>,
    ) -> Result<Insertion, MemoryError> {
        if refresh.is_some_and(|r| r.grant_id != access.grant_id) {
            return Ok(Insertion::GrantRevoked);
        }
        let mut grants = self.grants.shard(&access.grant_id);
        if grants.get(&access.grant_id).is_some_and(|g| g.revoked) {
            return Ok(Insertion::GrantRevoked);
        }
        let access_taken = self
            .access
            .shard(&access.digest)
            .contains_key(&access.digest);
        let refresh_taken =
            refresh.is_some_and(|r| self.refresh.shard(&r.digest).contains_key(&r.digest));
        if access_taken || refresh_taken {
            // Already stored: a retried call (digests of random secrets do not collide).
            return Ok(Insertion::Stored);
        }
        let grant = grants.entry(access.grant_id.clone()).or_default();
        self.access
            .shard(&access.digest)
            .insert(access.digest, access.clone());
        grant.access.insert(access.digest, access.expires_at);
        grant.extend(access.expires_at);
        if let Some(refresh) = refresh {
            self.refresh
                .shard(&refresh.digest)
                .insert(refresh.digest, Entry::live(refresh.clone()));
            grant.refresh.insert(refresh.digest, refresh.expires_at);
            grant.extend(refresh.expires_at);
        }
        self.extend_code_tombstones(grant);
        Ok(Insertion::Stored)
    }

    fn access_token_now(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Option<AccessTokenRecord>, MemoryError> {
        let record = self
            .access
            .shard(digest)
            .get(digest)
            .filter(|r| alive(r.expires_at, now))
            .cloned();
        Ok(record.filter(|r| !self.grant_revoked(&r.grant_id)))
    }

    fn refresh_token_now(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<RefreshLookup, MemoryError> {
        // The token's shard is released before the grant's is taken (lock order).
        let lookup = self
            .refresh
            .shard(digest)
            .get(digest)
            .map_or(RefreshLookup::Unknown, |entry| entry.lookup(now));
        Ok(unless_revoked(lookup, |grant| self.grant_revoked(grant)))
    }

    fn rotate_refresh_token_now(
        &self,
        old: &SecretDigest,
        new: &RefreshTokenRecord,
        now: UnixTime,
        grace_since: Option<UnixTime>,
    ) -> Result<Rotation, MemoryError> {
        let mut grants = self.grants.shard(&new.grant_id);
        let revoked = grants.get(&new.grant_id).is_some_and(|g| g.revoked);
        let retired = {
            let mut refresh = self.refresh.shard(old);
            let Some(entry) = refresh.get_mut(old) else {
                return Ok(Rotation::Unknown);
            };
            match entry.rotate(&new.grant_id, now, revoked, grace_since) {
                Ok(record) => record,
                Err(refused) => return Ok(refused),
            }
        };
        let grant = grants.entry(new.grant_id.clone()).or_default();
        self.refresh
            .shard(&new.digest)
            .entry(new.digest)
            .or_insert_with(|| Entry::live(new.clone()));
        grant.refresh.insert(new.digest, new.expires_at);
        grant.extend(new.expires_at);
        self.extend_code_tombstones(grant);
        Ok(Rotation::Rotated(retired))
    }

    fn revoke_grant_now(&self, grant_id: &GrantId, now: UnixTime) -> Result<(), MemoryError> {
        let mut grants = self.grants.shard(grant_id);
        let grant = grants.entry(grant_id.clone()).or_default();
        grant.revoked = true;
        grant.extend(revocation_marker_until(grant.expires_at, now));
        for digest in grant.codes.keys() {
            if let Some(entry) = self.codes.shard(digest).get_mut(digest)
                && entry.grant_id() == grant_id
            {
                entry.retire();
            }
        }
        for digest in grant.access.keys() {
            let mut access = self.access.shard(digest);
            if access.get(digest).is_some_and(|r| &r.grant_id == grant_id) {
                access.remove(digest);
            }
        }
        for digest in grant.refresh.keys() {
            if let Some(entry) = self.refresh.shard(digest).get_mut(digest)
                && entry.grant_id() == grant_id
            {
                entry.retire();
            }
        }
        // Nothing can join a revoked grant, so its member lists are no longer needed.
        grant.codes.clear();
        grant.access.clear();
        grant.refresh.clear();
        Ok(())
    }

    fn revoke_access_token_now(&self, digest: &SecretDigest) -> Result<(), MemoryError> {
        self.access.shard(digest).remove(digest);
        Ok(())
    }

    fn insert_pushed_request_now(&self, record: &PushedRequestRecord) -> Result<(), MemoryError> {
        self.pushed
            .shard(&record.digest)
            .insert(record.digest, record.clone());
        Ok(())
    }

    /// One critical section on the digest's shard removes the entry: of concurrent takes,
    /// exactly one finds it.
    fn take_pushed_request_now(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Option<PushedRequestRecord>, MemoryError> {
        let taken = self.pushed.shard(digest).remove(digest);
        Ok(taken.filter(|record| alive(record.expires_at, now)))
    }

    fn sweep_expired_now(&self, now: UnixTime) -> Result<u64, MemoryError> {
        Ok(self.sweep(now))
    }

    fn create_session_now(&self, record: &SessionRecord) -> Result<bool, MemoryError> {
        let mut sessions = table::lock(&self.sessions);
        if sessions.contains_key(&record.sid) {
            return Ok(false);
        }
        sessions.insert(record.sid.clone(), SessionEntry::new(record.clone()));
        Ok(true)
    }

    fn touch_session_now(
        &self,
        sid: &SessionId,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<Option<SessionRecord>, MemoryError> {
        let mut sessions = table::lock(&self.sessions);
        Ok(sessions
            .get_mut(sid)
            .and_then(|session| session.touch(now, expires_at)))
    }

    fn add_session_grant_now(
        &self,
        sid: &SessionId,
        grant: &SessionGrant,
        now: UnixTime,
    ) -> Result<bool, MemoryError> {
        let mut sessions = table::lock(&self.sessions);
        Ok(sessions
            .get_mut(sid)
            .is_some_and(|session| session.add(grant, now)))
    }

    fn session_grants_now(
        &self,
        sid: &SessionId,
        now: UnixTime,
    ) -> Result<Vec<SessionGrant>, MemoryError> {
        let sessions = table::lock(&self.sessions);
        Ok(sessions
            .get(sid)
            .map(|session| session.grants(now))
            .unwrap_or_default())
    }

    /// One critical section removes the entry: of concurrent logouts, exactly one finds it.
    fn end_session_now(
        &self,
        sid: &SessionId,
        now: UnixTime,
    ) -> Result<Option<EndedSession>, MemoryError> {
        let removed = table::lock(&self.sessions).remove(sid);
        Ok(removed.and_then(|session| session.end(now)))
    }
}
