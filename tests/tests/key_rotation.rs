//! Signing keys rolled over at runtime (OIDC Core §10.1.1; REQUIREMENTS 154): flows keep
//! working across a rollover, tokens signed by the old key keep verifying with the published JWK
//! set (and as `id_token_hint`s) until its retirement ends, and a rollover under concurrent
//! load fails no flow.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use oidc_hybrid::{
    Clock as _, Config, KeySet, KeyState, Params, Provider, Reject, Rs256Policy, SharedKeys, Signer,
};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::{Es256Signer, OsRandom};
use oidc_hybrid_testkit::rp::{Delivered, Jwks, Jws, KeySet as _};
use oidc_hybrid_tests::{
    ISSUER, REDIRECT_URI, SECRET, TestClock, auth_pairs, form, set_param, standard_clients,
    test_keys,
};
use serde_json::Value;

type Node = Provider<MemoryStore, TestClock, OsRandom>;

/// A provider whose keys come from a `SharedKeys` handle the test keeps.
fn node() -> (Node, Arc<SharedKeys>, TestClock) {
    let clock = TestClock::at(1_800_000_000);
    let keys = Arc::new(
        SharedKeys::new(KeySet::new(test_keys()), Rs256Policy::Require).expect("valid keys"),
    );
    let store = MemoryStore::with_clients(standard_clients());
    let provider = Provider::new(
        Config::new(ISSUER).expect("issuer"),
        store,
        test_keys(),
        clock.clone(),
        OsRandom,
    )
    .expect("provider")
    .with_key_source(Arc::clone(&keys))
    .expect("key source");
    (provider, keys, clock)
}

fn es256(kid: &str) -> Box<dyn Signer> {
    Box::new(Es256Signer::generate(&OsRandom, Some(kid)).expect("ES256 key"))
}

/// One `code id_token` flow of `es-post` (ES256) for alice, with an optional `id_token_hint`;
/// returns the front-channel and the token endpoint's ID tokens.
async fn flow(node: &Node, hint: Option<&str>) -> Result<(String, String), String> {
    let mut pairs = auth_pairs("code id_token", "es-post");
    set_param(&mut pairs, "id_token_hint", hint);
    let query = form(&pairs);
    let params = Params::parse(&query).map_err(|e| format!("{e}"))?;
    let bound = node
        .authorize(&params)
        .await
        .map_err(|e| format!("{:?}", e.reject()))?;
    let subject = oidc_hybrid::Subject::new("alice").expect("subject");
    let approval = oidc_hybrid::Approval::new(subject, node.now());
    let response = node
        .approve(bound, approval)
        .await
        .map_err(|e| format!("{:?}", e.reject()))?;
    let delivered = Delivered::from_response(&response).map();
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", delivered["code"].as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("client_id", "es-post"),
        ("client_secret", SECRET),
    ]);
    let params = Params::parse(&body).map_err(|e| format!("{e}"))?;
    let tokens = node
        .token(&params, None)
        .await
        .map_err(|e| format!("{:?}", e.reject()))?;
    let back = tokens.id_token().ok_or("no ID token")?.to_owned();
    Ok((delivered["id_token"].clone(), back))
}

/// Verifies `jwt` with the provider's JWK set of the moment, as a relying party that refetches
/// the set when it meets an unknown `kid` (OIDC Core §10.1.1).
fn verify(node: &Node, jwt: &str) -> Result<(), String> {
    let published = serde_json::to_value(node.jwks()).expect("JWKS");
    let jwks = Jwks::from_json(&published).map_err(|e| e.to_string())?;
    let jws = Jws::parse(jwt).map_err(|e| format!("{e:?}"))?;
    jwks.verify(&jws).map_err(|e| format!("{e:?}"))
}

fn kid(jwt: &str) -> String {
    Jws::parse(jwt).expect("JWS").kid().expect("kid").to_owned()
}

fn published_kids(node: &Node) -> Vec<String> {
    node.jwks().keys.into_iter().map(|k| k.kid).collect()
}

#[tokio::test]
async fn a_rollover_keeps_flows_working_and_old_tokens_verify_until_retirement() {
    let (node, keys, clock) = node();
    let (old_front, old_back) = flow(&node, None).await.expect("flow before");
    assert_eq!(kid(&old_back), "es-1");

    // Step 1: the next key is published but signs nothing yet.
    keys.update(|set| set.add_next(es256("es-2")))
        .expect("add next");
    assert_eq!(published_kids(&node), ["rs-1", "es-1", "es-2"]);
    let (_, back) = flow(&node, None).await.expect("flow with a next key");
    assert_eq!(kid(&back), "es-1");
    let discovery: Value = serde_json::from_str(&node.discovery().to_json()).expect("JSON");
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        serde_json::json!(["ES256", "RS256"]),
        "a next key changes no advertised algorithm"
    );

    // Step 2: promoted; the old key retires for 600 s.
    keys.update(|set| set.promote("es-2", clock.now(), 600))
        .expect("promote");
    assert_eq!(
        keys.snapshot().state("es-1"),
        Some(KeyState::Retired(clock.now().saturating_add_secs(600)))
    );
    let (front, back) = flow(&node, Some(&old_back))
        .await
        .expect("hint of the old key");
    assert_eq!((kid(&front), kid(&back)), ("es-2".into(), "es-2".into()));
    for jwt in [&old_front, &old_back, &front, &back] {
        verify(&node, jwt).expect("every token verifies with the published set");
    }

    // Step 3: after the retention the old key is neither published nor trusted.
    clock.advance(600);
    assert_eq!(published_kids(&node), ["es-2", "rs-1"]);
    assert!(verify(&node, &old_back).is_err(), "retired for good");
    let refused = flow(&node, Some(&old_back))
        .await
        .expect_err("hint of a retired key");
    assert_eq!(refused, format!("{:?}", Reject::IdTokenHintInvalid));
    flow(&node, Some(&back)).await.expect("hint of the new key");
    keys.update(|set| Ok(set.prune(clock.now())))
        .expect("prune");
    assert_eq!(keys.snapshot().state("es-1"), None);
}

#[tokio::test]
async fn updates_that_break_the_key_rules_are_refused_and_change_nothing() {
    let (node, keys, clock) = node();
    let before = published_kids(&node);
    assert!(
        keys.update(|set| set.add_next(es256("es-1"))).is_err(),
        "kid taken"
    );
    assert!(
        keys.update(|set| set.promote("nope", clock.now(), 60))
            .is_err()
    );
    assert!(
        keys.update(|set| set.retire("rs-1", clock.now())).is_err(),
        "the RS256 key cannot go without a successor (OIDC Core §15.1)"
    );
    assert_eq!(published_kids(&node), before);
    // A compromised key retired at once is gone from the set immediately.
    keys.update(|set| {
        set.add_next(es256("es-2"))?
            .promote("es-2", clock.now(), 600)
    })
    .expect("roll");
    keys.update(|set| set.retire("es-1", clock.now()))
        .expect("retire now");
    assert_eq!(published_kids(&node), ["es-2", "rs-1"]);
}

#[test]
fn a_rollover_under_load_fails_no_flow() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (node, keys, clock) = node();
        let node = Arc::new(node);
        let failures = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for _ in 0..4 {
            let (node, failures, done) = (node.clone(), failures.clone(), done.clone());
            workers.push(tokio::spawn(async move {
                let mut previous: Option<String> = None;
                for _ in 0..40 {
                    let result = flow(&node, previous.as_deref()).await.and_then(|(f, b)| {
                        verify(&node, &f)?;
                        verify(&node, &b)?;
                        Ok(b)
                    });
                    match result {
                        Ok(back) => previous = Some(back),
                        Err(e) => {
                            eprintln!("flow failed: {e}");
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                    tokio::task::yield_now().await;
                }
            }));
        }
        // Rollovers while the flows run: publish, then promote, each time.
        for round in 2..8 {
            let next = format!("es-{round}");
            keys.update(|set| set.add_next(es256(&next)))
                .expect("add next");
            tokio::task::yield_now().await;
            keys.update(|set| set.promote(&next, clock.now(), 600))
                .expect("promote");
            tokio::task::yield_now().await;
        }
        for worker in workers {
            worker.await.expect("worker");
        }
        assert_eq!(done.load(Ordering::Relaxed), 160);
        assert_eq!(failures.load(Ordering::Relaxed), 0, "zero failed flows");
        // Every retired key leaves after its retention.
        clock.advance(600);
        keys.update(|set| Ok(set.prune(clock.now())))
            .expect("prune");
        assert_eq!(published_kids(&node), ["es-7", "rs-1"]);
    });
}
