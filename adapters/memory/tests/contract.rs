//! The shared storage contract suite (`oidc-hybrid-testkit`) against the memory store, the
//! reference implementation, comparing entry counts too.

use oidc_hybrid::Client;
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_testkit::contract::{CountsOf, Fixture};

/// A fresh store holding `clients`.
async fn store(clients: Vec<Client>) -> Fixture<MemoryStore> {
    Fixture::new(MemoryStore::with_clients(clients)).counted_by(CountsOf(MemoryStore::counts))
}

oidc_hybrid_testkit::storage_contract!(memory, store);
