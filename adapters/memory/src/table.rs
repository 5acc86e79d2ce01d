//! Sharded tables and the records kept in them.

use core::hash::{BuildHasher, Hash};
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use oidc_hybrid::{AccessTokenRecord, ClientId, CodeRecord, GrantId, RefreshTokenRecord};
use oidc_hybrid::{SecretDigest, UnixTime};

/// Number of shards per table. A power of two that divides 256, so that the first byte of a
/// SHA-256 digest picks a shard uniformly.
pub(crate) const SHARDS: usize = 32;

/// Whether something that stops being valid at `expires_at` is still valid at `now`.
///
/// The one expiry rule of the crate: an entry is live while `now < expires_at` and expired from
/// `expires_at` on (`expires_at <= now`).
#[inline]
pub(crate) fn alive(expires_at: UnixTime, now: UnixTime) -> bool {
    now < expires_at
}

/// Locks a mutex, recovering the data if a thread panicked while holding it.
///
/// Every critical section of this crate is a handful of `HashMap` operations on owned values
/// that leave each map consistent after every single call, so a panic (e.g. an allocation
/// failure) inside one cannot leave a half-updated entry behind: the data is still valid.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Read-locks an `RwLock`, recovering from poisoning (see [`lock`]).
pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// Write-locks an `RwLock`, recovering from poisoning (see [`lock`]).
pub(crate) fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// A key that knows its shard.
pub(crate) trait ShardKey {
    /// The shard index, below [`SHARDS`]. `state` is the table's random hasher, for keys that
    /// are not already uniformly distributed.
    fn shard(&self, state: &RandomState) -> usize;
}

impl ShardKey for SecretDigest {
    fn shard(&self, _state: &RandomState) -> usize {
        // SHA-256 output: every byte is uniformly distributed.
        usize::from(self.as_bytes()[0]) % SHARDS
    }
}

impl ShardKey for GrantId {
    fn shard(&self, state: &RandomState) -> usize {
        shard_of_hash(state.hash_one(self.as_str()))
    }
}

/// The key of the `jti` table: (client, `jti`).
pub(crate) type JtiKey = (ClientId, String);

impl ShardKey for JtiKey {
    fn shard(&self, state: &RandomState) -> usize {
        shard_of_hash(state.hash_one((self.0.as_str(), self.1.as_str())))
    }
}

#[allow(clippy::cast_possible_truncation)] // Only the low bits are wanted.
fn shard_of_hash(hash: u64) -> usize {
    (hash as usize) % SHARDS
}

/// One table: [`SHARDS`] independently locked hash maps.
pub(crate) struct Table<K, V> {
    state: RandomState,
    shards: [Mutex<HashMap<K, V>>; SHARDS],
}

impl<K: ShardKey + Eq + Hash, V> Table<K, V> {
    pub(crate) fn new() -> Self {
        Self {
            state: RandomState::new(),
            shards: core::array::from_fn(|_| Mutex::new(HashMap::new())),
        }
    }

    /// Locks the shard holding `key`.
    pub(crate) fn shard(&self, key: &K) -> MutexGuard<'_, HashMap<K, V>> {
        lock(&self.shards[key.shard(&self.state)])
    }

    /// Number of entries (each shard locked in turn: not a snapshot).
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    /// Removes every entry for which `keep` is false; returns how many were removed.
    pub(crate) fn retain(&self, mut keep: impl FnMut(&K, &mut V) -> bool) -> u64 {
        let mut removed = 0u64;
        for shard in &self.shards {
            let mut map = lock(shard);
            let before = map.len();
            map.retain(|k, v| keep(k, v));
            removed += (before - map.len()) as u64;
        }
        removed
    }
}

/// A stored authorization code.
pub(crate) enum CodeEntry {
    /// Not yet redeemed.
    Live(Box<CodeRecord>),
    /// Redeemed (or its grant revoked): only what a replay needs is kept, until the code would
    /// have expired or, if later, until the last token issued from its grant expires.
    Used {
        grant_id: GrantId,
        expires_at: UnixTime,
    },
}

impl CodeEntry {
    pub(crate) fn grant_id(&self) -> &GrantId {
        match self {
            Self::Live(record) => &record.grant_id,
            Self::Used { grant_id, .. } => grant_id,
        }
    }

    pub(crate) fn expires_at(&self) -> UnixTime {
        match self {
            Self::Live(record) => record.expires_at,
            Self::Used { expires_at, .. } => *expires_at,
        }
    }

    /// Keeps a tombstone at least until `until`, so that a replay is recognised (and revokes
    /// the grant) for as long as anything issued from the grant can be used. Live codes keep
    /// their own expiry.
    pub(crate) fn extend_tombstone(&mut self, until: UnixTime) {
        if let Self::Used { expires_at, .. } = self {
            *expires_at = (*expires_at).max(until);
        }
    }

    /// Turns a live code into its tombstone, returning the record it held (if it was live).
    pub(crate) fn retire(&mut self) -> Option<CodeRecord> {
        let tombstone = Self::Used {
            grant_id: self.grant_id().clone(),
            expires_at: self.expires_at(),
        };
        match core::mem::replace(self, tombstone) {
            Self::Live(record) => Some(*record),
            Self::Used { .. } => None,
        }
    }
}

/// A stored refresh token.
pub(crate) enum RefreshEntry {
    /// Usable.
    Live(Box<RefreshTokenRecord>),
    /// Rotated away (with the time of its first rotation) or its grant revoked (`None`): kept
    /// with its record until the token would have expired, so that reuse is detected and a
    /// reuse inside the grace window can be refreshed again.
    Retired {
        record: Box<RefreshTokenRecord>,
        rotated_at: Option<UnixTime>,
    },
}

impl RefreshEntry {
    pub(crate) fn grant_id(&self) -> &GrantId {
        &self.record().grant_id
    }

    pub(crate) fn expires_at(&self) -> UnixTime {
        self.record().expires_at
    }

    pub(crate) fn record(&self) -> &RefreshTokenRecord {
        match self {
            Self::Live(record) | Self::Retired { record, .. } => record,
        }
    }

    /// Turns a live token into its tombstone, rotated at `rotated_at` (`None`: retired by a
    /// revocation), returning the record it held (if it was live).
    pub(crate) fn retire(&mut self, rotated_at: Option<UnixTime>) -> Option<RefreshTokenRecord> {
        let Self::Live(record) = self else {
            return None;
        };
        let record = RefreshTokenRecord::clone(record);
        *self = Self::Retired {
            record: Box::new(record.clone()),
            rotated_at,
        };
        Some(record)
    }
}

/// What the store knows about a grant: whether it is revoked, and what belongs to it.
#[derive(Default)]
pub(crate) struct GrantEntry {
    /// Set by `revoke_grant`, never cleared.
    pub(crate) revoked: bool,
    /// When this entry may be swept: the latest expiry of anything of the grant, and for a
    /// revoked grant at least the revocation time plus the grace period.
    pub(crate) expires_at: UnixTime,
    /// Digests (with expiry) of the grant's codes.
    pub(crate) codes: HashMap<SecretDigest, UnixTime>,
    /// Digests (with expiry) of the grant's access tokens.
    pub(crate) access: HashMap<SecretDigest, UnixTime>,
    /// Digests (with expiry) of the grant's refresh tokens, live or retired.
    pub(crate) refresh: HashMap<SecretDigest, UnixTime>,
}

impl GrantEntry {
    /// Pushes the entry's lifetime out to at least `expires_at`.
    pub(crate) fn extend(&mut self, expires_at: UnixTime) {
        self.expires_at = self.expires_at.max(expires_at);
    }

    /// Forgets member digests that have expired (their entries are swept separately).
    pub(crate) fn prune(&mut self, now: UnixTime) {
        self.codes.retain(|_, exp| alive(*exp, now));
        self.access.retain(|_, exp| alive(*exp, now));
        self.refresh.retain(|_, exp| alive(*exp, now));
    }
}

/// Access tokens are stored as they are: revocation deletes them.
pub(crate) type AccessEntry = AccessTokenRecord;
