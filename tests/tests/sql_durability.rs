//! Durability proof with the SQLite file store: a code issued before a restart (provider and
//! pool dropped, the same file reopened) redeems after it; after another restart, its second
//! redemption is refused and the tokens of the first are revoked (RFC 6749 §4.1.2).

use std::path::Path;

use oidc_hybrid::{Approval, Clock, Provider, Subject};
use oidc_hybrid_rustcrypto::OsRandom;
use oidc_hybrid_sql::SqliteStore;
use oidc_hybrid_tests::{
    Directory, TestClock, auth_pairs, backends, issue_on, provider_over, redeem_pairs,
    standard_clients, token_on,
};

type Node = Provider<SqliteStore, TestClock, OsRandom>;

const NOW: u64 = 1_800_000_000;

/// Starts a provider on the database file, as a process start would: open, migrate.
async fn start(path: &Path, clock: &TestClock) -> Node {
    let store = SqliteStore::open(path).await.expect("open the file");
    store.migrate().await.expect("migrate (idempotent)");
    provider_over(store, clock.clone())
}

/// Stops a provider as a process exit would: the pool is closed and everything dropped.
async fn stop(node: Node) {
    node.storage().close().await;
    drop(node);
}

async fn redeem(node: &Node, code: &str) -> Result<String, String> {
    token_on(node, &redeem_pairs(code))
        .await
        .map(|t| t.access_token().to_owned())
        .map_err(|e| e.code().as_str().to_owned())
}

async fn userinfo(node: &Node, token: &str) -> Result<(), String> {
    node.userinfo(&Directory, Some(format!("Bearer {token}").as_str()), None)
        .await
        .map(|_| ())
        .map_err(|e| e.code().as_str().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_survives_a_restart_and_stays_single_use_across_restarts() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("op.sqlite");
    let clock = TestClock::at(NOW);

    // First run: register the clients, issue a code.
    let node = start(&path, &clock).await;
    backends::register(node.storage(), standard_clients()).await;
    let approval = Approval::new(Subject::new("alice").expect("subject"), clock.now());
    let pairs = auth_pairs("code id_token", "rs-basic");
    let code = issue_on(&node, &pairs, approval).await["code"].clone();
    stop(node).await;

    // Second run: the clients and the code are still there; the code redeems.
    clock.advance(5);
    let node = start(&path, &clock).await;
    let access = redeem(&node, &code)
        .await
        .expect("the code redeems after a restart");
    userinfo(&node, &access)
        .await
        .expect("its access token works");
    stop(node).await;

    // Third run: the redemption was durable — a second one is a replay, and revokes the grant.
    clock.advance(5);
    let node = start(&path, &clock).await;
    assert_eq!(redeem(&node, &code).await, Err("invalid_grant".to_owned()));
    assert_eq!(
        userinfo(&node, &access).await,
        Err("invalid_token".to_owned())
    );
    stop(node).await;

    // And the revocation itself survives a restart.
    let node = start(&path, &clock).await;
    assert_eq!(
        userinfo(&node, &access).await,
        Err("invalid_token".to_owned())
    );
    assert_eq!(redeem(&node, &code).await, Err("invalid_grant".to_owned()));
    stop(node).await;
}
