//! PostgreSQL's grouped commits (`adapters/sql/src/group.rs`, docs/storage.md "Grouped
//! commits"): concurrent writes of the request path share a transaction and its commit; a
//! write that fails inside a group fails alone — the others of its group are rolled back and
//! run again alone, so each caller gets its own outcome — and every acknowledged write is
//! committed.
//!
//! Skipped with `skipped: no PostgreSQL at …` when no server is reachable; fails instead under
//! `CI=true`.

use oidc_hybrid::Storage;
use oidc_hybrid_sql::PostgresStore;
use oidc_hybrid_testkit::contract::{T0, at, digest, pushed};
use oidc_hybrid_tests::backends::PgDatabase;

/// Concurrent writes per round.
const WRITES: usize = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_share_commits_and_a_failing_write_fails_alone() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let store = PostgresStore::from_pool(db.pool(8).await);
    store.migrate().await.expect("migrations");
    // Stored once: storing it again is a unique violation, a statement that fails.
    let taken = pushed("taken", "rs-basic", 4_000_000_000);
    store
        .insert_pushed_request(&taken)
        .await
        .expect("the first insert");

    for round in 0..50 {
        let mut tasks = Vec::new();
        for i in 0..WRITES {
            let store = store.clone();
            // One write in the middle of each round fails.
            let record = if i == WRITES / 2 {
                taken.clone()
            } else {
                pushed(&format!("r{round}-{i}"), "rs-basic", 4_000_000_000)
            };
            tasks.push(tokio::spawn(async move {
                store.insert_pushed_request(&record).await.is_ok()
            }));
        }
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.expect("task"));
        }
        for (i, stored) in outcomes.iter().enumerate() {
            assert_eq!(
                *stored,
                i != WRITES / 2,
                "round {round}, write {i}: only the duplicate fails"
            );
        }
        // Every acknowledged write is committed: each pushed request can be taken (once).
        for i in (0..WRITES).filter(|i| *i != WRITES / 2) {
            let found = store
                .take_pushed_request(&digest(&format!("r{round}-{i}")), at(T0))
                .await
                .expect("take");
            assert!(
                found.is_some(),
                "round {round}, write {i} was acknowledged but not stored"
            );
        }
        let groups = store.write_groups();
        if groups.committed > 0 && groups.rolled_back > 0 {
            break;
        }
    }
    let groups = store.write_groups();
    println!(
        "grouped commits: {} writes in {} groups; {} groups rolled back (their writes ran alone)",
        groups.writes, groups.committed, groups.rolled_back
    );
    assert!(
        groups.committed > 0,
        "no two concurrent writes ever shared a commit"
    );
    assert!(groups.writes >= 2 * groups.committed);
    assert!(
        groups.rolled_back > 0,
        "the failing write never landed in a group: its isolation was not exercised"
    );
}
