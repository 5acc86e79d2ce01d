//! Unit tests of [`MemoryStore`] against the [`Storage`] contract.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use alloc::sync::Arc;
use core::future::Future;
use core::pin::pin;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use core::task::{Context, Poll, Waker};
use core::time::Duration;
use std::sync::Barrier;
use std::thread;
use std::time::Instant;

use oidc_hybrid::{
    AccessTokenRecord, Client, ClientId, ClientMetadata, Clock, CodeRecord, GrantId, Insertion,
    Redemption, RefreshLookup, RefreshTokenRecord, Rotation, SecretDigest, Storage, UnixTime,
};
use serde_json::json;

use crate::{Counts, MemoryStore, REVOCATION_GRACE_SECS};

// ---------------------------------------------------------------------------------------------
// Helpers

/// Polls a future that must already be complete (every `MemoryStore` method returns one).
fn now_ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("MemoryStore futures are always ready"),
    }
}

/// Unwraps an `Infallible` result.
fn ok<T>(result: Result<T, core::convert::Infallible>) -> T {
    match result {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// Runs a store method to completion.
fn run<T, F: Future<Output = Result<T, core::convert::Infallible>>>(future: F) -> T {
    ok(now_ready(future))
}

const T0: u64 = 1_700_000_000;

fn at(secs: u64) -> UnixTime {
    UnixTime::from_secs(secs)
}

fn digest(name: &str) -> SecretDigest {
    SecretDigest::of(name)
}

fn client_id(id: &str) -> ClientId {
    ClientId::new(id).unwrap()
}

fn client(id: &str) -> Client {
    Client::register(ClientMetadata {
        client_id: id.into(),
        client_secret: Some("0123456789abcdef0123456789abcdef".into()),
        redirect_uris: vec!["https://rp.example/cb".into()],
        ..ClientMetadata::default()
    })
    .unwrap()
}

/// A code of `client` in `grant`, expiring at `expires_at`.
fn code(name: &str, grant: &str, client: &str, expires_at: u64) -> CodeRecord {
    serde_json::from_value(json!({
        "digest": digest(name).to_base64url(),
        "grant_id": grant,
        "client_id": client,
        "redirect_uri": "https://rp.example/cb",
        "response_type": "code id_token",
        "scope": "openid profile",
        "nonce": "n-0S6_WzA2Mj",
        "subject": format!("user-of-{client}"),
        "auth_time": T0 - 5,
        "auth_time_required": true,
        "acr": "urn:example:loa:2",
        "amr": ["pwd", "otp"],
        "code_challenge": { "value": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "method": "S256" },
        "issued_at": T0,
        "expires_at": expires_at,
    }))
    .unwrap()
}

fn access(name: &str, grant: &str, client: &str, expires_at: u64) -> AccessTokenRecord {
    serde_json::from_value(json!({
        "digest": digest(name).to_base64url(),
        "grant_id": grant,
        "client_id": client,
        "subject": format!("user-of-{client}"),
        "scope": "openid profile",
        "issued_at": T0,
        "expires_at": expires_at,
    }))
    .unwrap()
}

fn refresh(name: &str, grant: &str, client: &str, expires_at: u64) -> RefreshTokenRecord {
    serde_json::from_value(json!({
        "digest": digest(name).to_base64url(),
        "grant_id": grant,
        "client_id": client,
        "subject": format!("user-of-{client}"),
        "scope": "openid profile offline_access",
        "auth_time": T0 - 5,
        "auth_time_required": false,
        "acr": null,
        "amr": ["pwd"],
        "issued_at": T0,
        "expires_at": expires_at,
    }))
    .unwrap()
}

fn is_live(lookup: &RefreshLookup) -> bool {
    matches!(lookup, RefreshLookup::Live(_))
}

fn grant(id: &str) -> GrantId {
    GrantId::new(id)
}

/// A store with a redeemed code of grant `g`, its access token `at` and refresh token `rt`.
fn store_with_tokens() -> MemoryStore {
    let store = MemoryStore::new();
    run(store.insert_code(&code("c", "g", "rp", T0 + 60), None));
    assert!(matches!(
        run(store.redeem_code(&digest("c"), at(T0))),
        Redemption::Fresh(_)
    ));
    let stored = run(store.insert_tokens(
        &access("at", "g", "rp", T0 + 3600),
        Some(&refresh("rt", "g", "rp", T0 + 86_400)),
    ));
    assert_eq!(stored, Insertion::Stored);
    store
}

// ---------------------------------------------------------------------------------------------
// Clients

#[test]
fn client_round_trip_replace_and_remove() {
    let store = MemoryStore::new();
    assert_eq!(run(store.client(&client_id("rp"))), None);
    assert!(store.insert_client(client("rp")).is_none());
    assert_eq!(run(store.client(&client_id("rp"))), Some(client("rp")));
    assert_eq!(store.insert_client(client("rp")), Some(client("rp")));
    assert_eq!(store.remove_client(&client_id("rp")), Some(client("rp")));
    assert_eq!(run(store.client(&client_id("rp"))), None);
    assert_eq!(store.remove_client(&client_id("rp")), None);
}

#[test]
fn clients_are_kept_apart() {
    let store = MemoryStore::with_clients([client("a"), client("b")]);
    assert_eq!(
        run(store.client(&client_id("a"))).unwrap().id().as_str(),
        "a"
    );
    assert_eq!(
        run(store.client(&client_id("b"))).unwrap().id().as_str(),
        "b"
    );
    assert_eq!(run(store.client(&client_id("c"))), None);
}

// ---------------------------------------------------------------------------------------------
// Codes

#[test]
fn code_round_trip_returns_the_exact_record() {
    let store = MemoryStore::new();
    let record = code("c", "g", "rp", T0 + 60);
    run(store.insert_code(&record, None));
    assert_eq!(
        run(store.redeem_code(&digest("c"), at(T0))),
        Redemption::Fresh(record)
    );
}

#[test]
fn code_redeemed_twice_is_replayed_with_its_grant() {
    let store = MemoryStore::new();
    run(store.insert_code(&code("c", "g", "rp", T0 + 60), None));
    assert!(matches!(
        run(store.redeem_code(&digest("c"), at(T0))),
        Redemption::Fresh(_)
    ));
    for _ in 0..3 {
        assert_eq!(
            run(store.redeem_code(&digest("c"), at(T0 + 1))),
            Redemption::Replayed(grant("g"))
        );
    }
}

#[test]
fn unknown_code_is_unknown() {
    let store = MemoryStore::new();
    assert_eq!(
        run(store.redeem_code(&digest("nope"), at(T0))),
        Redemption::Unknown
    );
}

#[test]
fn code_expiry_boundary() {
    let expires = T0 + 60;
    // One second before expiry: redeemable.
    let store = MemoryStore::new();
    run(store.insert_code(&code("c", "g", "rp", expires), None));
    assert!(matches!(
        run(store.redeem_code(&digest("c"), at(expires - 1))),
        Redemption::Fresh(_)
    ));
    // The tombstone ends at the same instant as the code.
    assert_eq!(
        run(store.redeem_code(&digest("c"), at(expires - 1))),
        Redemption::Replayed(grant("g"))
    );
    assert_eq!(
        run(store.redeem_code(&digest("c"), at(expires))),
        Redemption::Unknown
    );
    // At and after expiry: never redeemable.
    for now in [expires, expires + 1] {
        let store = MemoryStore::new();
        run(store.insert_code(&code("c", "g", "rp", expires), None));
        assert_eq!(
            run(store.redeem_code(&digest("c"), at(now))),
            Redemption::Unknown,
            "now = expires_at + {}",
            now - expires
        );
    }
}

#[test]
fn code_with_front_channel_token_stores_both() {
    let store = MemoryStore::new();
    let token = access("fc", "g", "rp", T0 + 3600);
    run(store.insert_code(&code("c", "g", "rp", T0 + 60), Some(&token)));
    assert_eq!(run(store.access_token(&digest("fc"), at(T0))), Some(token));
    assert!(matches!(
        run(store.redeem_code(&digest("c"), at(T0))),
        Redemption::Fresh(_)
    ));
}

#[test]
fn code_with_token_of_another_grant_stores_neither() {
    let store = MemoryStore::new();
    let token = access("fc", "other", "rp", T0 + 3600);
    run(store.insert_code(&code("c", "g", "rp", T0 + 60), Some(&token)));
    assert_eq!(run(store.access_token(&digest("fc"), at(T0))), None);
    assert_eq!(
        run(store.redeem_code(&digest("c"), at(T0))),
        Redemption::Unknown
    );
    assert_eq!(store.counts(), Counts::default());
}

#[test]
fn code_insert_never_overwrites_and_cannot_revive_a_used_code() {
    let store = MemoryStore::new();
    let record = code("c", "g", "rp", T0 + 60);
    run(store.insert_code(&record, None));
    run(store.redeem_code(&digest("c"), at(T0)));
    run(store.insert_code(&record, None));
    assert_eq!(
        run(store.redeem_code(&digest("c"), at(T0))),
        Redemption::Replayed(grant("g"))
    );
    // A front-channel token whose code digest is taken is not stored either.
    run(store.insert_code(&record, Some(&access("fc", "g", "rp", T0 + 3600))));
    assert_eq!(run(store.access_token(&digest("fc"), at(T0))), None);
}

#[test]
fn code_for_a_revoked_grant_is_not_stored() {
    let store = MemoryStore::new();
    run(store.revoke_grant(&grant("g"), at(T0)));
    run(store.insert_code(
        &code("c", "g", "rp", T0 + 60),
        Some(&access("fc", "g", "rp", T0 + 3600)),
    ));
    assert_eq!(
        run(store.redeem_code(&digest("c"), at(T0))),
        Redemption::Unknown
    );
    assert_eq!(run(store.access_token(&digest("fc"), at(T0))), None);
}

#[test]
fn codes_of_different_clients_keep_their_client() {
    let store = MemoryStore::new();
    run(store.insert_code(&code("ca", "ga", "client-a", T0 + 60), None));
    run(store.insert_code(&code("cb", "gb", "client-b", T0 + 60), None));
    let Redemption::Fresh(b) = run(store.redeem_code(&digest("cb"), at(T0))) else {
        panic!("code of client B not fresh");
    };
    let Redemption::Fresh(a) = run(store.redeem_code(&digest("ca"), at(T0))) else {
        panic!("code of client A not fresh");
    };
    assert_eq!(a.client_id.as_str(), "client-a");
    assert_eq!(a.subject.as_str(), "user-of-client-a");
    assert_eq!(a.grant_id, grant("ga"));
    assert_eq!(b.client_id.as_str(), "client-b");
    assert_eq!(b.subject.as_str(), "user-of-client-b");
    assert_eq!(b.grant_id, grant("gb"));
}

#[test]
fn concurrent_redemptions_have_exactly_one_winner() {
    const THREADS: usize = 32;
    for round in 0..200 {
        let store = MemoryStore::new();
        let name = format!("code-{round}");
        run(store.insert_code(&code(&name, "g", "rp", T0 + 60), None));
        let barrier = Barrier::new(THREADS);
        let outcomes: Vec<Redemption> = thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        run(store.redeem_code(&digest(&name), at(T0)))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let fresh = outcomes
            .iter()
            .filter(|o| matches!(o, Redemption::Fresh(_)))
            .count();
        let replayed = outcomes
            .iter()
            .filter(|o| **o == Redemption::Replayed(grant("g")))
            .count();
        assert_eq!((fresh, replayed), (1, THREADS - 1), "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_redemptions_on_a_multi_thread_runtime() {
    const TASKS: usize = 32;
    for round in 0..200 {
        let store = Arc::new(MemoryStore::new());
        let name = format!("code-{round}");
        store
            .insert_code(&code(&name, "g", "rp", T0 + 60), None)
            .await
            .unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let (store, barrier, name) = (store.clone(), barrier.clone(), name.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.redeem_code(&digest(&name), at(T0)).await.unwrap()
                })
            })
            .collect();
        let mut fresh = 0;
        for task in tasks {
            match task.await.unwrap() {
                Redemption::Fresh(_) => fresh += 1,
                Redemption::Replayed(g) => assert_eq!(g, grant("g")),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(fresh, 1, "round {round}");
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[test]
fn token_round_trips() {
    let store = MemoryStore::new();
    let at_record = access("at", "g", "rp", T0 + 3600);
    let rt_record = refresh("rt", "g", "rp", T0 + 86_400);
    assert_eq!(
        run(store.insert_tokens(&at_record, Some(&rt_record))),
        Insertion::Stored
    );
    assert_eq!(
        run(store.access_token(&digest("at"), at(T0))),
        Some(at_record)
    );
    assert_eq!(
        run(store.refresh_token(&digest("rt"), at(T0))),
        RefreshLookup::Live(rt_record)
    );
}

#[test]
fn access_token_without_refresh_token() {
    let store = MemoryStore::new();
    let record = access("at", "g", "rp", T0 + 3600);
    assert_eq!(run(store.insert_tokens(&record, None)), Insertion::Stored);
    assert_eq!(run(store.access_token(&digest("at"), at(T0))), Some(record));
    assert_eq!(
        run(store.refresh_token(&digest("at"), at(T0))),
        RefreshLookup::Unknown
    );
    assert_eq!(store.counts().refresh_tokens, 0);
}

#[test]
fn unknown_tokens_are_none() {
    let store = store_with_tokens();
    assert_eq!(run(store.access_token(&digest("nope"), at(T0))), None);
    assert_eq!(
        run(store.refresh_token(&digest("nope"), at(T0))),
        RefreshLookup::Unknown
    );
    // Digests of one kind are not found in the other table.
    assert_eq!(run(store.access_token(&digest("rt"), at(T0))), None);
    assert_eq!(
        run(store.refresh_token(&digest("at"), at(T0))),
        RefreshLookup::Unknown
    );
    assert_eq!(run(store.access_token(&digest("c"), at(T0))), None);
}

#[test]
fn token_expiry_boundaries() {
    let store = store_with_tokens();
    let (at_exp, rt_exp) = (T0 + 3600, T0 + 86_400);
    assert!(run(store.access_token(&digest("at"), at(at_exp - 1))).is_some());
    assert!(run(store.access_token(&digest("at"), at(at_exp))).is_none());
    assert!(run(store.access_token(&digest("at"), at(at_exp + 1))).is_none());
    assert!(is_live(&run(
        store.refresh_token(&digest("rt"), at(rt_exp - 1))
    )));
    assert_eq!(
        run(store.refresh_token(&digest("rt"), at(rt_exp))),
        RefreshLookup::Unknown
    );
    assert_eq!(
        run(store.refresh_token(&digest("rt"), at(rt_exp + 1))),
        RefreshLookup::Unknown
    );
}

#[test]
fn token_insert_retried_is_idempotent_and_never_revives() {
    let store = store_with_tokens();
    let at_record = access("at", "g", "rp", T0 + 3600);
    let rt_record = refresh("rt", "g", "rp", T0 + 86_400);
    let before = store.counts();
    assert_eq!(
        run(store.insert_tokens(&at_record, Some(&rt_record))),
        Insertion::Stored
    );
    assert_eq!(store.counts(), before);
    // A retried insert after rotation leaves the retired token retired.
    run(store.rotate_refresh_token(
        &digest("rt"),
        &refresh("rt2", "g", "rp", T0 + 86_400),
        at(T0 + 1),
    ));
    run(store.insert_tokens(&at_record, Some(&rt_record)));
    assert_eq!(
        run(store.refresh_token(&digest("rt"), at(T0 + 1))),
        RefreshLookup::Retired(grant("g"))
    );
}

#[test]
fn token_insert_with_mismatched_grants_stores_nothing() {
    let store = MemoryStore::new();
    assert_eq!(
        run(store.insert_tokens(
            &access("at", "g1", "rp", T0 + 3600),
            Some(&refresh("rt", "g2", "rp", T0 + 86_400)),
        )),
        Insertion::GrantRevoked
    );
    assert_eq!(store.counts(), Counts::default());
}

#[test]
fn revoke_access_token_removes_only_that_token() {
    let store = store_with_tokens();
    run(store.insert_tokens(&access("at2", "g", "rp", T0 + 3600), None));
    run(store.revoke_access_token(&digest("at")));
    assert_eq!(run(store.access_token(&digest("at"), at(T0))), None);
    assert!(run(store.access_token(&digest("at2"), at(T0))).is_some());
    assert!(is_live(&run(store.refresh_token(&digest("rt"), at(T0)))));
    // Unknown digests are not an error; revoking twice neither.
    run(store.revoke_access_token(&digest("at")));
    run(store.revoke_access_token(&digest("nope")));
}

// ---------------------------------------------------------------------------------------------
// Grants

#[test]
fn replay_then_revoke_ends_every_token_of_the_grant() {
    let store = store_with_tokens();
    // An unrelated grant, which must survive.
    run(store.insert_code(&code("c2", "g2", "rp", T0 + 60), None));
    run(store.insert_tokens(
        &access("at2", "g2", "rp", T0 + 3600),
        Some(&refresh("rt2", "g2", "rp", T0 + 86_400)),
    ));

    let Redemption::Replayed(replayed) = run(store.redeem_code(&digest("c"), at(T0 + 1))) else {
        panic!("second redemption not a replay");
    };
    run(store.revoke_grant(&replayed, at(T0 + 1)));

    assert_eq!(run(store.access_token(&digest("at"), at(T0 + 1))), None);
    assert_eq!(
        run(store.refresh_token(&digest("rt"), at(T0 + 1))),
        RefreshLookup::Retired(grant("g"))
    );
    assert_eq!(
        run(store.rotate_refresh_token(
            &digest("rt"),
            &refresh("rt-next", "g", "rp", T0 + 90_000),
            at(T0 + 1)
        )),
        Rotation::Reused(grant("g"))
    );
    assert_eq!(
        run(store.refresh_token(&digest("rt-next"), at(T0 + 1))),
        RefreshLookup::Unknown
    );

    assert!(run(store.access_token(&digest("at2"), at(T0 + 1))).is_some());
    assert!(is_live(&run(
        store.refresh_token(&digest("rt2"), at(T0 + 1))
    )));
    assert!(matches!(
        run(store.redeem_code(&digest("c2"), at(T0 + 1))),
        Redemption::Fresh(_)
    ));
}

#[test]
fn revoke_grant_makes_an_unused_code_unusable_and_removes_front_channel_token() {
    let store = MemoryStore::new();
    run(store.insert_code(
        &code("c", "g", "rp", T0 + 60),
        Some(&access("fc", "g", "rp", T0 + 3600)),
    ));
    run(store.revoke_grant(&grant("g"), at(T0)));
    assert!(!matches!(
        run(store.redeem_code(&digest("c"), at(T0))),
        Redemption::Fresh(_)
    ));
    assert_eq!(run(store.access_token(&digest("fc"), at(T0))), None);
}

#[test]
fn insert_tokens_after_revoke_is_refused_and_stores_nothing() {
    let store = MemoryStore::new();
    run(store.insert_code(&code("c", "g", "rp", T0 + 60), None));
    run(store.redeem_code(&digest("c"), at(T0)));
    run(store.revoke_grant(&grant("g"), at(T0)));
    let before = store.counts();
    assert_eq!(
        run(store.insert_tokens(
            &access("at", "g", "rp", T0 + 3600),
            Some(&refresh("rt", "g", "rp", T0 + 86_400)),
        )),
        Insertion::GrantRevoked
    );
    assert_eq!(store.counts(), before);
    assert_eq!(run(store.access_token(&digest("at"), at(T0))), None);
    assert_eq!(
        run(store.refresh_token(&digest("rt"), at(T0))),
        RefreshLookup::Unknown
    );
}

#[test]
fn revoke_unknown_grant_is_idempotent_and_blocks_later_tokens() {
    let store = MemoryStore::new();
    run(store.revoke_grant(&grant("ghost"), at(T0)));
    run(store.revoke_grant(&grant("ghost"), at(T0)));
    assert_eq!(
        run(store.insert_tokens(&access("at", "ghost", "rp", T0 + 3600), None)),
        Insertion::GrantRevoked
    );
    // Revoking a live grant twice is harmless too.
    let store = store_with_tokens();
    run(store.revoke_grant(&grant("g"), at(T0)));
    run(store.revoke_grant(&grant("g"), at(T0 + 5)));
    assert_eq!(run(store.access_token(&digest("at"), at(T0 + 5))), None);
}

#[test]
fn concurrent_revocation_and_insertion_never_leave_live_tokens() {
    for round in 0..200 {
        let store = MemoryStore::new();
        let g = format!("g{round}");
        run(store.insert_code(&code("c", &g, "rp", T0 + 60), None));
        run(store.redeem_code(&digest("c"), at(T0)));
        let barrier = Barrier::new(2);
        let insertion = thread::scope(|s| {
            let inserter = s.spawn(|| {
                barrier.wait();
                run(store.insert_tokens(
                    &access("at", &g, "rp", T0 + 3600),
                    Some(&refresh("rt", &g, "rp", T0 + 86_400)),
                ))
            });
            s.spawn(|| {
                barrier.wait();
                run(store.revoke_grant(&grant(&g), at(T0)));
            });
            inserter.join().unwrap()
        });
        assert!(matches!(
            insertion,
            Insertion::Stored | Insertion::GrantRevoked
        ));
        assert_eq!(run(store.access_token(&digest("at"), at(T0))), None);
        assert!(!is_live(&run(store.refresh_token(&digest("rt"), at(T0)))));
    }
}

// ---------------------------------------------------------------------------------------------
// Refresh rotation

#[test]
fn rotation_retires_the_old_token_and_stores_the_new_one() {
    let store = store_with_tokens();
    let RefreshLookup::Live(old) = run(store.refresh_token(&digest("rt"), at(T0 + 10))) else {
        panic!("refresh token not live");
    };
    let new = refresh("rt2", "g", "rp", T0 + 90_000);
    assert_eq!(
        run(store.rotate_refresh_token(&digest("rt"), &new, at(T0 + 10))),
        Rotation::Rotated(old)
    );
    assert_eq!(
        run(store.refresh_token(&digest("rt"), at(T0 + 10))),
        RefreshLookup::Retired(grant("g"))
    );
    assert_eq!(
        run(store.refresh_token(&digest("rt2"), at(T0 + 10))),
        RefreshLookup::Live(new.clone())
    );
    // Reuse of the retired token is detected, with its grant.
    let another = refresh("rt3", "g", "rp", T0 + 90_000);
    assert_eq!(
        run(store.rotate_refresh_token(&digest("rt"), &another, at(T0 + 20))),
        Rotation::Reused(grant("g"))
    );
    assert_eq!(
        run(store.refresh_token(&digest("rt3"), at(T0 + 20))),
        RefreshLookup::Unknown
    );
    // The chain goes on from the new token.
    assert!(matches!(
        run(store.rotate_refresh_token(&digest("rt2"), &another, at(T0 + 30))),
        Rotation::Rotated(r) if r == new
    ));
    // Revoking the grant ends the whole chain.
    run(store.revoke_grant(&grant("g"), at(T0 + 40)));
    assert_eq!(
        run(store.refresh_token(&digest("rt3"), at(T0 + 40))),
        RefreshLookup::Retired(grant("g"))
    );
    assert_eq!(
        run(store.rotate_refresh_token(
            &digest("rt3"),
            &refresh("rt4", "g", "rp", T0 + 90_000),
            at(T0 + 40)
        )),
        Rotation::Reused(grant("g"))
    );
}

#[test]
fn rotation_of_unknown_or_expired_token_is_unknown() {
    let store = store_with_tokens();
    let new = refresh("rt2", "g", "rp", T0 + 90_000);
    assert_eq!(
        run(store.rotate_refresh_token(&digest("nope"), &new, at(T0))),
        Rotation::Unknown
    );
    let rt_exp = T0 + 86_400;
    for now in [rt_exp, rt_exp + 1] {
        assert_eq!(
            run(store.rotate_refresh_token(&digest("rt"), &new, at(now))),
            Rotation::Unknown
        );
    }
    assert!(matches!(
        run(store.rotate_refresh_token(&digest("rt"), &new, at(rt_exp - 1))),
        Rotation::Rotated(_)
    ));
    // The tombstone reports reuse until the old token's own expiry, then nothing.
    let other = refresh("rt3", "g", "rp", T0 + 90_000);
    assert_eq!(
        run(store.rotate_refresh_token(&digest("rt"), &other, at(rt_exp - 1))),
        Rotation::Reused(grant("g"))
    );
    assert_eq!(
        run(store.rotate_refresh_token(&digest("rt"), &other, at(rt_exp))),
        Rotation::Unknown
    );
}

#[test]
fn refresh_lookup_reports_retired_until_the_old_token_would_have_expired() {
    let store = store_with_tokens();
    let rt_exp = T0 + 86_400;
    run(store.rotate_refresh_token(
        &digest("rt"),
        &refresh("rt2", "g", "rp", T0 + 200_000),
        at(T0 + 1),
    ));
    assert_eq!(
        run(store.refresh_token(&digest("rt"), at(rt_exp - 1))),
        RefreshLookup::Retired(grant("g"))
    );
    for now in [rt_exp, rt_exp + 1] {
        assert_eq!(
            run(store.refresh_token(&digest("rt"), at(now))),
            RefreshLookup::Unknown
        );
    }
    assert!(is_live(&run(
        store.refresh_token(&digest("rt2"), at(rt_exp + 1))
    )));
}

#[test]
fn concurrent_rotation_and_revocation_leave_no_live_token() {
    for round in 0..200 {
        let store = store_with_tokens();
        let barrier = Barrier::new(2);
        let rotation = thread::scope(|s| {
            let rotator = s.spawn(|| {
                barrier.wait();
                run(store.rotate_refresh_token(
                    &digest("rt"),
                    &refresh("rt2", "g", "rp", T0 + 90_000),
                    at(T0 + 1),
                ))
            });
            s.spawn(|| {
                barrier.wait();
                run(store.revoke_grant(&grant("g"), at(T0 + 1)));
            });
            rotator.join().unwrap()
        });
        assert!(
            matches!(rotation, Rotation::Rotated(_)) || rotation == Rotation::Reused(grant("g")),
            "round {round}: {rotation:?}"
        );
        for name in ["rt", "rt2"] {
            assert!(
                !is_live(&run(store.refresh_token(&digest(name), at(T0 + 1)))),
                "round {round}: {name} still live"
            );
        }
    }
}

#[test]
fn rotation_into_another_grant_is_refused() {
    let store = store_with_tokens();
    let foreign = refresh("rt2", "other", "rp", T0 + 90_000);
    assert_eq!(
        run(store.rotate_refresh_token(&digest("rt"), &foreign, at(T0))),
        Rotation::Unknown
    );
    assert!(is_live(&run(store.refresh_token(&digest("rt"), at(T0)))));
    assert_eq!(
        run(store.refresh_token(&digest("rt2"), at(T0))),
        RefreshLookup::Unknown
    );
}

#[test]
fn concurrent_rotations_have_exactly_one_winner() {
    const THREADS: usize = 32;
    for round in 0..50 {
        let store = store_with_tokens();
        let barrier = Barrier::new(THREADS);
        let outcomes: Vec<(usize, Rotation)> = thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|i| {
                    let barrier = &barrier;
                    let store = &store;
                    s.spawn(move || {
                        let new = refresh(&format!("rt-{i}"), "g", "rp", T0 + 90_000);
                        barrier.wait();
                        (
                            i,
                            run(store.rotate_refresh_token(&digest("rt"), &new, at(T0 + 1))),
                        )
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<usize> = outcomes
            .iter()
            .filter(|(_, o)| matches!(o, Rotation::Rotated(_)))
            .map(|(i, _)| *i)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}");
        assert!(
            outcomes
                .iter()
                .all(|(_, o)| matches!(o, Rotation::Rotated(_))
                    || *o == Rotation::Reused(grant("g")))
        );
        // Only the winner's new token was stored.
        for i in 0..THREADS {
            let stored = run(store.refresh_token(&digest(&format!("rt-{i}")), at(T0 + 1)));
            assert_eq!(
                is_live(&stored),
                i == winners[0],
                "round {round}, token {i}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// jti

#[test]
fn jti_is_test_and_set_per_client_until_expiry() {
    let store = MemoryStore::new();
    let (a, b) = (client_id("a"), client_id("b"));
    let exp = T0 + 300;
    assert!(run(store.record_jti(&a, "jti-1", at(exp), at(T0))));
    assert!(!run(store.record_jti(&a, "jti-1", at(exp), at(T0 + 1))));
    assert!(!run(store.record_jti(&a, "jti-1", at(exp), at(exp - 1))));
    // Another client, or another jti, is independent.
    assert!(run(store.record_jti(&b, "jti-1", at(exp), at(T0))));
    assert!(run(store.record_jti(&a, "jti-2", at(exp), at(T0))));
    // From its expiry on the jti is forgotten (the assertion itself is expired by then).
    assert!(run(store.record_jti(&a, "jti-1", at(exp + 300), at(exp))));
    assert!(!run(store.record_jti(
        &a,
        "jti-1",
        at(exp + 300),
        at(exp + 1)
    )));
}

#[test]
fn concurrent_jti_recording_has_exactly_one_winner() {
    const THREADS: usize = 32;
    let store = MemoryStore::new();
    let barrier = Barrier::new(THREADS);
    let new = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                barrier.wait();
                if run(store.record_jti(&client_id("rp"), "same", at(T0 + 60), at(T0))) {
                    new.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(new.load(Ordering::Relaxed), 1);
}

// ---------------------------------------------------------------------------------------------
// Sweeping

#[test]
fn sweep_removes_exactly_what_expired() {
    let store = MemoryStore::new();
    // Grant g: code (expires T0+60), access (T0+3600), refresh (T0+86400).
    run(store.insert_code(&code("c", "g", "rp", T0 + 60), None));
    run(store.redeem_code(&digest("c"), at(T0)));
    run(store.insert_tokens(
        &access("at", "g", "rp", T0 + 3600),
        Some(&refresh("rt", "g", "rp", T0 + 86_400)),
    ));
    run(store.record_jti(&client_id("rp"), "j", at(T0 + 60), at(T0)));
    assert_eq!(
        store.counts(),
        Counts {
            clients: 0,
            codes: 1,
            access_tokens: 1,
            refresh_tokens: 1,
            grants: 1,
            jtis: 1,
        }
    );

    assert_eq!(run(store.sweep_expired(at(T0 + 59))), 0);
    // The jti expires at T0+60; the code tombstone lives as long as the grant's tokens.
    assert_eq!(run(store.sweep_expired(at(T0 + 60))), 1);
    assert_eq!(store.counts().codes, 1);
    assert_eq!(store.counts().jtis, 0);
    assert_eq!(run(store.sweep_expired(at(T0 + 3600))), 1);
    assert_eq!(store.counts().access_tokens, 0);
    assert!(is_live(&run(
        store.refresh_token(&digest("rt"), at(T0 + 3600))
    )));
    // The refresh token, the code tombstone and the grant entry go together.
    assert_eq!(run(store.sweep_expired(at(T0 + 86_400))), 3);
    assert_eq!(store.counts(), Counts::default());
    assert_eq!(run(store.sweep_expired(at(T0 + 86_400))), 0);
}

/// A replay after the code's own expiry, while tokens of its grant live, is still a replay
/// and names the grant to revoke (RFC 6749 §4.1.2).
#[test]
fn late_replay_is_recognised_while_the_grant_lives() {
    let store = MemoryStore::new();
    run(store.insert_code(&code("c", "g", "rp", T0 + 60), None));
    assert!(matches!(
        run(store.redeem_code(&digest("c"), at(T0))),
        Redemption::Fresh(_)
    ));
    run(store.insert_tokens(&access("at", "g", "rp", T0 + 3600), None));
    assert_eq!(
        run(store.redeem_code(&digest("c"), at(T0 + 600))),
        Redemption::Replayed(grant("g"))
    );
    assert_eq!(run(store.sweep_expired(at(T0 + 600))), 0);
    assert_eq!(
        run(store.redeem_code(&digest("c"), at(T0 + 3600))),
        Redemption::Unknown
    );
}

#[test]
fn sweep_keeps_revocation_markers_for_the_grace_period() {
    let store = MemoryStore::new();
    run(store.insert_code(&code("c", "g", "rp", T0 + 60), None));
    run(store.redeem_code(&digest("c"), at(T0)));
    run(store.revoke_grant(&grant("g"), at(T0 + 10)));
    let marker_until = T0 + 60 + REVOCATION_GRACE_SECS;
    // The code tombstone goes at its own expiry; the marker stays.
    assert_eq!(run(store.sweep_expired(at(T0 + 60))), 1);
    assert_eq!(store.counts().grants, 1);
    assert_eq!(
        run(store.insert_tokens(&access("at", "g", "rp", T0 + 3600), None)),
        Insertion::GrantRevoked
    );
    assert_eq!(run(store.sweep_expired(at(marker_until - 1))), 0);
    assert_eq!(run(store.sweep_expired(at(marker_until))), 1);
    assert_eq!(store.counts(), Counts::default());
}

#[test]
fn sweep_removes_retired_refresh_tombstones_at_their_expiry() {
    let store = store_with_tokens();
    run(store.rotate_refresh_token(
        &digest("rt"),
        &refresh("rt2", "g", "rp", T0 + 200_000),
        at(T0 + 1),
    ));
    assert_eq!(store.counts().refresh_tokens, 2);
    run(store.sweep_expired(at(T0 + 86_400)));
    assert_eq!(store.counts().refresh_tokens, 1);
    assert_eq!(
        run(store.rotate_refresh_token(
            &digest("rt"),
            &refresh("rt3", "g", "rp", T0 + 200_000),
            at(T0 + 86_400)
        )),
        Rotation::Unknown
    );
    assert!(is_live(&run(
        store.refresh_token(&digest("rt2"), at(T0 + 86_400))
    )));
    assert_eq!(store.counts().grants, 1);
}

/// A clock whose time the test sets, counting how often it is read.
#[derive(Clone)]
struct TestClock {
    secs: Arc<AtomicU64>,
    reads: Arc<AtomicUsize>,
}

impl Clock for TestClock {
    fn now(&self) -> UnixTime {
        self.reads.fetch_add(1, Ordering::SeqCst);
        UnixTime::from_secs(self.secs.load(Ordering::SeqCst))
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn background_sweeper_sweeps_and_stops_on_drop() {
    let store = Arc::new(store_with_tokens());
    let clock = TestClock {
        secs: Arc::new(AtomicU64::new(T0)),
        reads: Arc::new(AtomicUsize::new(0)),
    };
    let sweeper = store.spawn_sweeper(Duration::from_millis(5), clock.clone());
    wait_until("a first sweep", || clock.reads.load(Ordering::SeqCst) > 0);
    assert_eq!(store.counts().access_tokens, 1);

    clock.secs.store(T0 + 1_000_000, Ordering::SeqCst);
    wait_until("the sweep of everything", || {
        store.counts() == Counts::default()
    });
    assert!(!sweeper.is_finished());

    // Dropping the handle wakes and ends the thread even with a long period pending.
    let started = Instant::now();
    drop(sweeper);
    let reads = clock.reads.load(Ordering::SeqCst);
    thread::sleep(Duration::from_millis(50));
    assert_eq!(clock.reads.load(Ordering::SeqCst), reads);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn background_sweeper_drop_is_prompt_with_a_long_period() {
    let store = Arc::new(MemoryStore::new());
    let sweeper = store.spawn_sweeper(Duration::from_secs(3600), oidc_hybrid::SystemClock);
    let started = Instant::now();
    sweeper.stop();
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn background_sweeper_holds_only_a_weak_reference() {
    let store = Arc::new(MemoryStore::new());
    let sweeper = store.spawn_sweeper(Duration::from_millis(1), oidc_hybrid::SystemClock);
    let weak = Arc::downgrade(&store);
    drop(store);
    wait_until("the sweeper to notice the store is gone", || {
        sweeper.is_finished()
    });
    // Had the thread kept a strong reference, the store would still be alive (and the thread
    // would never have ended).
    assert!(weak.upgrade().is_none());
}

#[test]
fn poisoned_shards_are_recovered() {
    let store = store_with_tokens();
    run(store.insert_code(&code("c2", "g2", "rp", T0 + 60), None));
    // Panic while holding the shards of the code, the tokens and the grant.
    for poison in 0..4 {
        let result = thread::scope(|s| {
            s.spawn(|| match poison {
                0 => {
                    let _g = store.codes.shard(&digest("c2"));
                    panic!("poisoning the code shard");
                }
                1 => {
                    let _g = store.access.shard(&digest("at"));
                    panic!("poisoning the access-token shard");
                }
                2 => {
                    let _g = store.refresh.shard(&digest("rt"));
                    panic!("poisoning the refresh-token shard");
                }
                _ => {
                    let _g = store.grants.shard(&grant("g"));
                    panic!("poisoning the grant shard");
                }
            })
            .join()
        });
        assert!(result.is_err());
    }
    assert!(run(store.access_token(&digest("at"), at(T0))).is_some());
    assert!(is_live(&run(store.refresh_token(&digest("rt"), at(T0)))));
    assert!(matches!(
        run(store.redeem_code(&digest("c2"), at(T0))),
        Redemption::Fresh(_)
    ));
    run(store.revoke_grant(&grant("g"), at(T0)));
    assert_eq!(run(store.access_token(&digest("at"), at(T0))), None);
}

// ---------------------------------------------------------------------------------------------
// Debug

#[test]
fn debug_shows_counts_and_no_digests() {
    let store = store_with_tokens();
    store.insert_client(client("rp"));
    let text = format!("{store:?}");
    assert_eq!(
        text,
        "MemoryStore { clients: 1, codes: 1, access_tokens: 1, refresh_tokens: 1, grants: 1, jtis: 0 }"
    );
    for name in ["c", "at", "rt"] {
        assert!(!text.contains(&digest(name).to_base64url()));
    }
}

#[test]
fn store_is_send_and_sync() {
    fn assert_storage<S: Storage + Send + Sync + 'static>() {}
    assert_storage::<MemoryStore>();
}
