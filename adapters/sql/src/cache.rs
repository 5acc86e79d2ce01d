//! The in-process cache of decoded clients, shared by every clone of a store. A [`Client`] is
//! cheap to clone (its registration is shared), so a hit costs a read lock and a reference count.
//!
//! An entry is a client read from the database, kept for the store's TTL from the moment it was
//! read. Only found clients are cached. Writes through the store ([`insert_client`],
//! [`replace_client`], [`remove_client`], [`register_client`]) remove the entry of their id once
//! the database has answered; a generation counter, bumped by every removal, keeps a lookup that
//! read the database before such a write from putting the old client back afterwards.
//!
//! [`insert_client`]: crate::SqlStore::insert_client
//! [`replace_client`]: crate::SqlStore::replace_client
//! [`remove_client`]: crate::SqlStore::remove_client
//! [`register_client`]: crate::SqlStore::register_client

use core::time::Duration;
use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::Instant;

use oidc_hybrid::{Client, ClientId};

/// Decoded clients by id, with the time each was read.
#[derive(Debug, Default)]
pub(crate) struct ClientCache {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    /// Bumped by every invalidation.
    generation: u64,
}

#[derive(Debug)]
struct Entry {
    client: Client,
    read_at: Instant,
}

impl Entry {
    fn fresh(&self, now: Instant, ttl: Duration) -> bool {
        now.saturating_duration_since(self.read_at) < ttl
    }
}

impl ClientCache {
    /// The cached client with this id, if it was read less than `ttl` ago.
    pub(crate) fn get(&self, id: &ClientId, ttl: Duration) -> Option<Client> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let entry = inner.entries.get(id.as_str())?;
        entry
            .fresh(Instant::now(), ttl)
            .then(|| entry.client.clone())
    }

    /// The current generation: read it before asking the database, and pass it to
    /// [`fill`](Self::fill) with the answer.
    pub(crate) fn generation(&self) -> u64 {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .generation
    }

    /// Caches `client`, read from the database after [`generation`](Self::generation) returned
    /// `generation` — unless an invalidation came in between (the client read may be the old
    /// one). When the cache holds `capacity` entries, those older than `ttl` are dropped first,
    /// then, if none was, one arbitrary entry.
    pub(crate) fn fill(&self, client: Client, generation: u64, ttl: Duration, capacity: usize) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if inner.generation != generation || capacity == 0 {
            return;
        }
        let now = Instant::now();
        let id = client.id().as_str();
        if inner.entries.len() >= capacity && !inner.entries.contains_key(id) {
            inner.entries.retain(|_, entry| entry.fresh(now, ttl));
            if inner.entries.len() >= capacity {
                let victim = inner.entries.keys().next().cloned();
                if let Some(victim) = victim {
                    inner.entries.remove(&victim);
                }
            }
        }
        inner.entries.insert(
            id.to_owned(),
            Entry {
                client,
                read_at: now,
            },
        );
    }

    /// Forgets the client with this id (called once a write of it has reached the database,
    /// whatever its outcome).
    pub(crate) fn invalidate(&self, id: &str) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        inner.generation = inner.generation.wrapping_add(1);
        inner.entries.remove(id);
    }

    /// Forgets every client.
    pub(crate) fn clear(&self) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        inner.generation = inner.generation.wrapping_add(1);
        inner.entries.clear();
    }

    /// How many clients are cached, fresh or not.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
            .len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use oidc_hybrid::ClientMetadata;

    use super::*;

    const TTL: Duration = Duration::from_secs(60);

    fn client(id: &str) -> Client {
        Client::register(ClientMetadata {
            client_id: id.into(),
            redirect_uris: vec!["http://127.0.0.1/cb".into()],
            token_endpoint_auth_method: oidc_hybrid::TokenEndpointAuthMethod::None,
            application_type: oidc_hybrid::ApplicationType::Native,
            ..ClientMetadata::default()
        })
        .unwrap()
    }

    fn id(id: &str) -> ClientId {
        ClientId::new(id).unwrap()
    }

    #[test]
    fn a_filled_client_is_found_until_its_ttl_ends() {
        let cache = ClientCache::default();
        assert!(cache.get(&id("a"), TTL).is_none());
        cache.fill(client("a"), cache.generation(), TTL, 10);
        assert_eq!(cache.get(&id("a"), TTL).unwrap().id().as_str(), "a");
        assert!(cache.get(&id("b"), TTL).is_none());
        // A lookup with a shorter TTL than the entry's age misses.
        std::thread::sleep(Duration::from_millis(5));
        assert!(cache.get(&id("a"), Duration::from_millis(1)).is_none());
        assert!(cache.get(&id("a"), Duration::ZERO).is_none());
    }

    #[test]
    fn an_invalidation_removes_the_entry_and_refuses_fills_read_before_it() {
        let cache = ClientCache::default();
        let before = cache.generation();
        cache.fill(client("a"), before, TTL, 10);
        cache.invalidate("a");
        assert!(cache.get(&id("a"), TTL).is_none());
        // A lookup that read the database before the invalidation does not cache what it read.
        cache.fill(client("a"), before, TTL, 10);
        assert!(cache.get(&id("a"), TTL).is_none());
        cache.fill(client("a"), cache.generation(), TTL, 10);
        assert!(cache.get(&id("a"), TTL).is_some());
        cache.clear();
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn the_cache_never_grows_past_its_capacity() {
        let cache = ClientCache::default();
        for i in 0..25 {
            cache.fill(client(&format!("c{i}")), cache.generation(), TTL, 10);
            assert!(cache.len() <= 10, "{} entries after {i}", cache.len());
            // The client just filled is always kept.
            assert!(cache.get(&id(&format!("c{i}")), TTL).is_some());
        }
        assert_eq!(cache.len(), 10);
        // Refilling a cached id replaces it without evicting anything.
        let kept = (0..25)
            .map(|i| format!("c{i}"))
            .find(|c| cache.get(&id(c), TTL).is_some())
            .unwrap();
        cache.fill(client(&kept), cache.generation(), TTL, 10);
        assert_eq!(cache.len(), 10);
        // Expired entries are dropped first when the cache is full.
        std::thread::sleep(Duration::from_millis(5));
        let short = Duration::from_millis(1);
        cache.fill(client("late"), cache.generation(), short, 10);
        assert_eq!(cache.len(), 1);
        // A capacity of zero caches nothing.
        let empty = ClientCache::default();
        empty.fill(client("a"), empty.generation(), TTL, 0);
        assert_eq!(empty.len(), 0);
    }
}
