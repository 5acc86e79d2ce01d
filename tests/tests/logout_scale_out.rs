//! Sessions across OP nodes: two independent providers — two pools, as two OP nodes would
//! have — on one PostgreSQL database. A session begun on one node is seen by the other; a
//! logout on either ends it for both, revokes its grants everywhere, and the other node then
//! refuses new grants under it (`login_required`); of simultaneous logouts on both nodes
//! exactly one notifies the clients.
//!
//! Skipped with `skipped: no PostgreSQL at …` when no server is reachable; fails under `CI=true`.

use std::sync::{Arc, Mutex};

use oidc_hybrid::logout::SendFuture;
use oidc_hybrid::{
    Approval, Authentication, Clock, LogoutRequest, LogoutSender, Provider, Reject, Subject,
};
use oidc_hybrid_rustcrypto::OsRandom;
use oidc_hybrid_sql::PostgresStore;
use oidc_hybrid_tests::backends::{self, PgDatabase};
use oidc_hybrid_tests::{
    Directory, REDIRECT_URI, SECRET, TestClock, auth_pairs, client, issue_on, provider_over,
    redeem_pairs, token_on,
};
use serde_json::json;

type Node = Provider<PostgresStore, TestClock, OsRandom>;

const NOW: u64 = 1_800_000_000;

/// The logout tokens a node queued.
#[derive(Clone, Default)]
struct Sent(Arc<Mutex<Vec<(String, String)>>>);

impl LogoutSender for Sent {
    fn send<'a>(&'a self, uri: &'a str, logout_token: String) -> SendFuture<'a> {
        self.0
            .lock()
            .expect("lock")
            .push((uri.into(), logout_token));
        Box::pin(async { Ok(()) })
    }
}

async fn userinfo(node: &Node, token: &str) -> Result<String, String> {
    node.userinfo(&Directory, Some(format!("Bearer {token}").as_str()), None)
        .await
        .map(|claims| claims["sub"].as_str().unwrap_or_default().to_owned())
        .map_err(|e| e.code().as_str().to_owned())
}

async fn nodes(db: &PgDatabase) -> ((Node, Sent), (Node, Sent), TestClock) {
    let store_a = PostgresStore::from_pool(db.pool(4).await);
    let store_b = PostgresStore::from_pool(db.pool(4).await);
    let (migrated_a, migrated_b) = tokio::join!(store_a.migrate(), store_b.migrate());
    migrated_a.expect("node A migrates");
    migrated_b.expect("node B migrates");
    let rp = client(json!({
        "client_id": "rs-basic",
        "client_secret": SECRET,
        "redirect_uris": [REDIRECT_URI],
        "backchannel_logout_uri": "https://rp.example/backchannel",
        "backchannel_logout_session_required": true,
    }));
    backends::register(&store_a, vec![rp]).await;
    let clock = TestClock::at(NOW);
    let (sent_a, sent_b) = (Sent::default(), Sent::default());
    let a = provider_over(store_a, clock.clone()).with_logout_sender(sent_a.clone());
    let b = provider_over(store_b, clock.clone()).with_logout_sender(sent_b.clone());
    ((a, sent_a), (b, sent_b), clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_on_one_node_ends_the_session_for_the_other() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let ((a, sent_a), (b, sent_b), clock) = nodes(&db).await;
    let alice = Subject::new("alice").expect("subject");
    let auth = Authentication::new(alice.clone(), clock.now()).with_amr(["pwd"]);
    let session = a
        .begin_session(&auth)
        .await
        .expect("node A begins the session");
    let sid = session.sid.clone();
    // Node B sees it (the store is shared).
    let seen = b.session(&sid).await.expect("store").expect("live on B");
    assert_eq!(seen.subject, alice);
    // A grant under the session, approved on A, redeemed on B.
    let approval = Approval::new(alice.clone(), clock.now()).with_session(sid.clone());
    let delivered = issue_on(&a, &auth_pairs("code id_token", "rs-basic"), approval).await;
    let tokens = token_on(&b, &redeem_pairs(&delivered["code"]))
        .await
        .expect("node B redeems");
    let access = tokens.access_token().to_owned();
    assert_eq!(userinfo(&a, &access).await.as_deref(), Ok("alice"));

    // Logout on node B.
    clock.advance(5);
    let out = b
        .logout(Some(&sid), &LogoutRequest::from_host())
        .await
        .expect("logout");
    assert!(out.ended);
    assert_eq!((out.backchannel, out.revoked), (1, 1));
    let sent = sent_b.0.lock().expect("lock").clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "https://rp.example/backchannel");
    assert!(sent_a.0.lock().expect("lock").is_empty());

    // Node A: the session is gone, its grant revoked, a new approval under it refused.
    assert_eq!(a.session(&sid).await, Ok(None));
    assert_eq!(userinfo(&a, &access).await, Err("invalid_token".to_owned()));
    let query = oidc_hybrid_tests::form(&auth_pairs("code id_token", "rs-basic"));
    let params = oidc_hybrid::Params::parse(&query).expect("query");
    let bound = a.authorize(&params).await.expect("binds");
    let approval = Approval::new(alice, clock.now()).with_session(sid.clone());
    let refused = a.approve(bound, approval).await.expect_err("session ended");
    assert_eq!(refused.reject(), Reject::LoginRequired);
    // A second logout, on A, finds nothing to end.
    let again = a.logout(Some(&sid), &LogoutRequest::from_host()).await;
    assert!(!again.expect("logout").ended);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_logouts_on_both_nodes_notify_once() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let ((a, sent_a), (b, sent_b), clock) = nodes(&db).await;
    for round in 0..10 {
        let subject = Subject::new(format!("user-{round}")).expect("subject");
        let auth = Authentication::new(subject.clone(), clock.now());
        let sid = a.begin_session(&auth).await.expect("session").sid;
        let approval = Approval::new(subject, clock.now()).with_session(sid.clone());
        issue_on(&b, &auth_pairs("code id_token", "rs-basic"), approval).await;
        let request = LogoutRequest::from_host();
        let (on_a, on_b) = tokio::join!(
            a.logout(Some(&sid), &request),
            b.logout(Some(&sid), &request)
        );
        let ended = [on_a.expect("A"), on_b.expect("B")];
        assert_eq!(
            ended.iter().filter(|out| out.ended).count(),
            1,
            "round {round}"
        );
    }
    let sent = sent_a.0.lock().expect("lock").len() + sent_b.0.lock().expect("lock").len();
    assert_eq!(sent, 10, "one logout token per session");
}
