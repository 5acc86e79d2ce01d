//! The shared storage contract suite (`oidc-hybrid-testkit`) against the bounded store, with
//! room for the largest scenario of the suite (320 grants with a code and two tokens each),
//! comparing entry counts too.

use oidc_hybrid::Client;
use oidc_hybrid_embedded_store::{Capacity, EmbeddedStore};
use oidc_hybrid_testkit::contract::{CountEntries, Fixture, StoreCounts};

/// Counts a bounded store's entries.
#[derive(Debug)]
struct Entries;

impl CountEntries<EmbeddedStore> for Entries {
    async fn count(&self, store: &EmbeddedStore) -> StoreCounts {
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
async fn store(clients: Vec<Client>) -> Fixture<EmbeddedStore> {
    let store = EmbeddedStore::new(Capacity::uniform(512));
    for client in clients {
        store.insert_client(client).expect("room for the clients");
    }
    Fixture::new(store).counted_by(Entries)
}

oidc_hybrid_testkit::storage_contract!(embedded, store);
