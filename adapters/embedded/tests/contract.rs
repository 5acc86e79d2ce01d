//! The shared storage contract suite (`oidc-hybrid-testkit`) against the bounded store, with
//! room for the largest scenario of the suite (320 grants with a code and two tokens each),
//! comparing entry counts too.

use oidc_hybrid::Client;
use oidc_hybrid_embedded_store::{Capacity, EmbeddedStore};
use oidc_hybrid_testkit::contract::{CountsOf, Fixture};

/// A fresh store holding `clients`.
async fn store(clients: Vec<Client>) -> Fixture<EmbeddedStore> {
    let store = EmbeddedStore::new(Capacity::uniform(512));
    for client in clients {
        store.insert_client(client).expect("room for the clients");
    }
    Fixture::new(store).counted_by(CountsOf(EmbeddedStore::counts))
}

oidc_hybrid_testkit::storage_contract!(embedded, store);
