//! Client registration and key documents: JSON → `ClientMetadata` (serde) → `Client::register`;
//! JSON → `PublicKey::from_jwk_json`; JSON → `JwkSet` (serde) → `PublicKey::from_jwk`.
//!
//! Invariants: no panic; a registered client matches each of its own redirect URIs, rebuilds
//! identically from its stored metadata and secret digest, and serialises without its secret;
//! JWK sets round-trip through serde.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_hybrid::client::MIN_CLIENT_SECRET_LEN;
use oidc_hybrid::{Client, ClientMetadata, JwkSet};
use oidc_hybrid_rustcrypto::PublicKey;

fuzz_target!(|data: &[u8]| {
    if let Ok(metadata) = serde_json::from_slice::<ClientMetadata>(data) {
        let secret = metadata.client_secret.clone();
        if let Ok(client) = Client::register(metadata) {
            assert!(!client.redirect_uris().is_empty());
            for uri in client.redirect_uris() {
                assert!(client.match_redirect_uri(uri.as_str()).is_some());
            }
            assert!(!client.response_types().is_empty());
            assert_eq!(client.is_public(), secret.is_none());
            if let Some(secret) = &secret {
                assert!(secret.len() >= MIN_CLIENT_SECRET_LEN);
            }
            assert!(client.metadata().client_secret.is_none(), "secret not kept");
            let json = serde_json::to_string(client.metadata()).expect("metadata serialises");
            let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
            assert!(
                value.get("client_secret").is_none(),
                "secret serialised back"
            );
            let stored: ClientMetadata = serde_json::from_str(&json).expect("metadata re-parses");
            let rebuilt = Client::from_parts(stored, client.secret_digest().copied())
                .expect("stored metadata rebuilds");
            assert_eq!(rebuilt, client);
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = PublicKey::from_jwk_json(text) {
        let _ = key.thumbprint();
        if let Some(alg) = key.algorithm() {
            assert!(key.accepts(alg));
        }
    }
    if let Ok(set) = serde_json::from_str::<JwkSet>(text) {
        let json = serde_json::to_string(&set).expect("JWK set serialises");
        assert_eq!(
            serde_json::from_str::<JwkSet>(&json).ok().as_ref(),
            Some(&set)
        );
        for jwk in &set.keys {
            if let Ok(key) = PublicKey::from_jwk(jwk) {
                assert_eq!(key.algorithm(), Some(jwk.alg));
                assert!(key.accepts(jwk.alg));
            }
        }
    }
});
