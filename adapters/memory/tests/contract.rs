//! The shared storage contract suite (`oidc-hybrid-testkit`) against the memory store, the
//! reference implementation, comparing entry counts too.

use oidc_hybrid::Client;
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_testkit::contract::{CountEntries, Fixture, StoreCounts};

/// Counts a memory store's entries.
#[derive(Debug)]
struct Entries;

impl CountEntries<MemoryStore> for Entries {
    async fn count(&self, store: &MemoryStore) -> StoreCounts {
        let counts = store.counts();
        let n = |count: usize| u64::try_from(count).expect("fewer than 2^64 entries");
        StoreCounts {
            codes: n(counts.codes),
            access_tokens: n(counts.access_tokens),
            refresh_tokens: n(counts.refresh_tokens),
            grants: n(counts.grants),
            jtis: n(counts.jtis),
        }
    }
}

/// A fresh store holding `clients`.
async fn store(clients: Vec<Client>) -> Fixture<MemoryStore> {
    Fixture::new(MemoryStore::with_clients(clients)).counted_by(Entries)
}

oidc_hybrid_testkit::storage_contract!(memory, store);
