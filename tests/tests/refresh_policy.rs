//! When refresh tokens are issued and how long a chain lives (decision 0018): OIDC Core §11 by
//! default (`offline_access` requested with `prompt=consent`), or the host's decision on the
//! `Approval`; an absolute lifetime besides the sliding one; the optional reuse grace window of
//! RFC 9700 §4.14.2 (a reuse after it still revokes the grant).
//!
//! REQUIREMENTS covered: 134, 138, 140.

use std::sync::Arc;

use oidc_hybrid::{Approval, Config, Params, Reject, Subject, TokenResponse};
use oidc_hybrid_tests::{
    Delivered, Harness, ISSUER, REDIRECT_URI, SECRET, auth_pairs, basic, block_on, form, set_param,
};

/// Authorizes `pairs`, approves with `approval` (for alice, now) and redeems the code.
fn tokens(h: &Harness, pairs: &[(&str, &str)], decision: Option<bool>) -> TokenResponse {
    let client = pairs
        .iter()
        .find(|(n, _)| *n == "client_id")
        .map(|(_, v)| *v)
        .expect("client_id");
    let bound = h.authorize(&form(pairs)).expect("binds");
    let mut approval = Approval::new(Subject::new("alice").expect("subject"), h.now());
    if let Some(issue) = decision {
        approval = approval.with_refresh_token(issue);
    }
    let response = block_on(h.provider.approve(bound, approval)).expect("approved");
    let code = Delivered::from_response(&response).map()["code"].clone();
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ]);
    h.token(&body, Some(&basic(client, SECRET)))
        .expect("tokens")
}

fn offline(client: &str) -> Vec<(&str, &str)> {
    let mut pairs = auth_pairs("code", client);
    set_param(&mut pairs, "scope", Some("openid offline_access"));
    pairs.push(("prompt", "consent"));
    pairs
}

fn refresh(h: &Harness, token: &str) -> Result<TokenResponse, Reject> {
    let body = form(&[("grant_type", "refresh_token"), ("refresh_token", token)]);
    h.token(&body, Some(&basic("rs-basic", SECRET)))
        .map_err(|e| e.reject())
}

#[test]
fn by_default_only_offline_access_with_prompt_consent_brings_a_refresh_token() {
    let h = Harness::new();
    // No offline_access: no refresh token, even for a client with the grant.
    let plain = tokens(&h, &auth_pairs("code", "rs-basic"), None);
    assert!(plain.refresh_token().is_none());
    // offline_access without prompt=consent is dropped (OIDC Core §11), so no refresh token.
    let mut pairs = auth_pairs("code", "rs-basic");
    set_param(&mut pairs, "scope", Some("openid offline_access"));
    let dropped = tokens(&h, &pairs, None);
    assert_eq!(dropped.scope(), "openid");
    assert!(dropped.refresh_token().is_none());
    // Requested and consented: a refresh token, and the scope says so.
    let granted = tokens(&h, &offline("rs-basic"), None);
    assert_eq!(granted.scope(), "offline_access openid");
    assert!(granted.refresh_token().is_some());
}

#[test]
fn the_host_decides_but_never_for_a_client_without_the_grant() {
    let h = Harness::new();
    let declined = tokens(&h, &offline("rs-basic"), Some(false));
    assert!(declined.refresh_token().is_none(), "the host said no");
    let decided = tokens(&h, &auth_pairs("code", "rs-basic"), Some(true));
    assert!(decided.refresh_token().is_some(), "the host said yes");
    // `default` is not registered for the refresh_token grant.
    let no_grant = tokens(&h, &auth_pairs("code", "default"), Some(true));
    assert!(no_grant.refresh_token().is_none());
    // Never in the front channel.
    let mut pairs = offline("rs-basic");
    set_param(&mut pairs, "response_type", Some("code id_token token"));
    let bound = h.authorize(&form(&pairs)).expect("binds");
    let approval =
        Approval::new(Subject::new("alice").expect("subject"), h.now()).with_refresh_token(true);
    let response = block_on(h.provider.approve(bound, approval)).expect("approved");
    assert!(
        !Delivered::from_response(&response)
            .map()
            .contains_key("refresh_token")
    );
}

#[test]
fn the_absolute_lifetime_caps_the_sliding_one() {
    let mut config = Config::new(ISSUER).expect("issuer");
    config.refresh_token_lifetime = 600;
    config.refresh_token_max_lifetime = Some(1000);
    let h = Harness::with_clients(config, Vec::new());
    let start = h.now().as_secs();
    let first = tokens(&h, &offline("rs-basic"), None);
    let exp = |token: &str| {
        h.introspect(&form(&[("token", token)]), Some(&basic("rs-basic", SECRET)))
            .expect("introspection")
            .exp
            .expect("active")
            .as_secs()
    };
    assert_eq!(
        exp(first.refresh_token().expect("refresh token")),
        start + 600
    );
    h.clock.advance(500);
    let second = refresh(&h, first.refresh_token().expect("rt")).expect("sliding");
    let second_rt = second.refresh_token().expect("rotated");
    assert_eq!(exp(second_rt), start + 1000, "capped, not start + 1100");
    h.clock.advance(499);
    let third = refresh(&h, second_rt).expect("still inside the cap");
    let third_rt = third.refresh_token().expect("rotated");
    assert_eq!(exp(third_rt), start + 1000);
    h.clock.advance(1);
    assert_eq!(
        refresh(&h, third_rt).expect_err("the chain ended"),
        Reject::RefreshTokenInvalid
    );
}

#[test]
fn a_reuse_inside_the_grace_window_refreshes_and_after_it_revokes_the_grant() {
    let mut config = Config::new(ISSUER).expect("issuer");
    config.refresh_token_reuse_grace = 30;
    let h = Harness::with_clients(config, Vec::new());
    let first = tokens(&h, &offline("rs-basic"), None);
    let old = first.refresh_token().expect("rt").to_owned();
    h.clock.advance(5);
    let second = refresh(&h, &old).expect("rotation");
    // A retry of the same request 10 s later: refreshed again, nothing revoked.
    h.clock.advance(10);
    let retry = refresh(&h, &old).expect("inside the window");
    assert_ne!(retry.refresh_token(), second.refresh_token());
    assert!(h.userinfo(second.access_token()).is_ok());
    // The window is measured from the first rotation (at +5), so at +35 it has closed.
    h.clock.advance(20);
    assert_eq!(
        refresh(&h, &old).expect_err("after the window"),
        Reject::RefreshTokenReused
    );
    for token in [second.refresh_token(), retry.refresh_token()] {
        let token = token.expect("rt");
        assert_eq!(
            refresh(&h, token).expect_err("grant revoked"),
            Reject::RefreshTokenReused
        );
    }
    assert!(h.userinfo(retry.access_token()).is_err());
}

#[test]
fn without_a_grace_window_any_reuse_revokes_the_grant() {
    let h = Harness::new();
    let first = tokens(&h, &offline("rs-basic"), None);
    let old = first.refresh_token().expect("rt").to_owned();
    let second = refresh(&h, &old).expect("rotation");
    assert_eq!(
        refresh(&h, &old).expect_err("reuse"),
        Reject::RefreshTokenReused
    );
    assert_eq!(
        refresh(&h, second.refresh_token().expect("rt")).expect_err("revoked"),
        Reject::RefreshTokenReused
    );
}

#[test]
fn concurrent_refreshes_inside_the_grace_window_all_succeed() {
    let mut config = Config::new(ISSUER).expect("issuer");
    config.refresh_token_reuse_grace = 30;
    let h = Arc::new(Harness::with_clients(config, Vec::new()));
    let first = tokens(&h, &offline("rs-basic"), None);
    let old = first.refresh_token().expect("rt").to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let results = runtime.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (h, old) = (Arc::clone(&h), old.clone());
                tokio::spawn(async move {
                    let body = form(&[("grant_type", "refresh_token"), ("refresh_token", &old)]);
                    let params = Params::parse(&body).expect("form");
                    let auth = basic("rs-basic", SECRET);
                    h.provider
                        .token(&params, Some(auth.as_str()))
                        .await
                        .map(|t| t.refresh_token().map(str::to_owned))
                })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.expect("task"));
        }
        results
    });
    let mut issued: Vec<String> = results
        .into_iter()
        .map(|r| r.expect("every concurrent refresh succeeds").expect("rt"))
        .collect();
    issued.sort();
    issued.dedup();
    assert_eq!(issued.len(), 8, "each retry has its own successor");
    for token in &issued {
        refresh(&h, token).expect("every successor is live");
    }
}
