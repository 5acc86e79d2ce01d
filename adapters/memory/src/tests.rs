//! Unit tests of what is particular to [`MemoryStore`]: its client table, races on OS threads
//! without a runtime (its futures are always ready, and its sharded locks must hold), the
//! background sweeper, poisoned shards and its `Debug` output.
//!
//! The [`Storage`] contract itself is checked by the shared suite of `oidc-hybrid-testkit`, in
//! `tests/contract.rs`.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use alloc::sync::Arc;
use core::future::Future;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;
use std::sync::Barrier;
use std::thread;
use std::time::Instant;

use oidc_hybrid::storage::model::complete_now;
use oidc_hybrid::{
    Client, ClientId, ClientMetadata, Clock, GrantId, Insertion, Redemption, RefreshLookup,
    Rotation, Storage, UnixTime,
};
use oidc_hybrid_testkit::contract::{T0, access, at, code, digest, refresh};

use crate::{Counts, MemoryStore};

// ---------------------------------------------------------------------------------------------
// Helpers

/// Polls a future that must already be complete (every `MemoryStore` method returns one).
fn now_ready<F: Future>(future: F) -> F::Output {
    complete_now(future).expect("MemoryStore futures are always ready")
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

// ---------------------------------------------------------------------------------------------
// Races on OS threads, without a runtime: the sharded locks

/// Calls `call(i)` for each `i` in `0..n`, each on an OS thread of its own, all released
/// together at a barrier; returns the results in order of `i`.
fn race_threads<T: Send>(n: usize, call: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let barrier = Barrier::new(n);
    thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (barrier, call) = (&barrier, &call);
                s.spawn(move || {
                    barrier.wait();
                    call(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn concurrent_redemptions_have_exactly_one_winner() {
    const THREADS: usize = 32;
    for round in 0..200 {
        let store = MemoryStore::new();
        let name = format!("code-{round}");
        run(store.insert_code(&code(&name, "g", "rp", T0 + 60), None));
        let outcomes = race_threads(THREADS, |_| run(store.redeem_code(&digest(&name), at(T0))));
        let (fresh, others): (Vec<_>, Vec<_>) = outcomes
            .into_iter()
            .partition(|o| matches!(o, Redemption::Fresh(_)));
        assert_eq!(fresh.len(), 1, "round {round}: one fresh redemption");
        assert!(
            others
                .iter()
                .all(|o| *o == Redemption::Replayed(grant("g"))),
            "round {round}: every other one a replay of the grant: {others:?}"
        );
    }
}

#[test]
fn concurrent_revocation_and_insertion_never_leave_live_tokens() {
    for round in 0..200 {
        let store = MemoryStore::new();
        let g = format!("g{round}");
        run(store.insert_code(&code("c", &g, "rp", T0 + 60), None));
        run(store.redeem_code(&digest("c"), at(T0)));
        let (access, refresh) = (
            access("at", &g, "rp", T0 + 3600),
            refresh("rt", &g, "rp", T0 + 86_400),
        );
        let outcomes = race_threads(2, |i| {
            if i == 0 {
                Some(run(store.insert_tokens(&access, Some(&refresh))))
            } else {
                run(store.revoke_grant(&grant(&g), at(T0)));
                None
            }
        });
        assert!(matches!(
            outcomes[0],
            Some(Insertion::Stored | Insertion::GrantRevoked)
        ));
        assert_eq!(run(store.access_token(&digest("at"), at(T0))), None);
        assert!(!is_live(&run(store.refresh_token(&digest("rt"), at(T0)))));
    }
}

#[test]
fn concurrent_rotation_and_revocation_leave_no_live_token() {
    for round in 0..200 {
        let store = store_with_tokens();
        let new = refresh("rt2", "g", "rp", T0 + 90_000);
        let outcomes = race_threads(2, |i| {
            if i == 0 {
                Some(run(store.rotate_refresh_token(
                    &digest("rt"),
                    &new,
                    at(T0 + 1),
                    None,
                )))
            } else {
                run(store.revoke_grant(&grant("g"), at(T0 + 1)));
                None
            }
        });
        let rotation = outcomes[0].clone().unwrap();
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
fn concurrent_rotations_have_exactly_one_winner() {
    const THREADS: usize = 32;
    for round in 0..50 {
        let store = store_with_tokens();
        let news: Vec<_> = (0..THREADS)
            .map(|i| refresh(&format!("rt-{i}"), "g", "rp", T0 + 90_000))
            .collect();
        let outcomes = race_threads(THREADS, |i| {
            run(store.rotate_refresh_token(&digest("rt"), &news[i], at(T0 + 1), None))
        });
        let winners: Vec<usize> = (0..THREADS)
            .filter(|i| matches!(outcomes[*i], Rotation::Rotated(_)))
            .collect();
        assert_eq!(winners.len(), 1, "round {round}");
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, Rotation::Rotated(_)) || *o == Rotation::Reused(grant("g")))
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

#[test]
fn concurrent_jti_recording_has_exactly_one_winner() {
    const THREADS: usize = 32;
    let store = MemoryStore::new();
    let outcomes = race_threads(THREADS, |_| {
        run(store.record_jti(&client_id("rp"), "same", at(T0 + 60), at(T0)))
    });
    assert_eq!(outcomes.iter().filter(|new| **new).count(), 1);
}

// ---------------------------------------------------------------------------------------------
// Background sweeper, poisoned shards

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
        "MemoryStore { clients: 1, codes: 1, access_tokens: 1, refresh_tokens: 1, grants: 1, jtis: 0, pushed_requests: 0 }"
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
