//! The demo's sessions and logout over HTTP: its sign-in sessions are the store's OP sessions,
//! so a second demo instance on the same database (another node of the same issuer, or the same
//! node after a restart) knows who is signed in; an RP-initiated logout at that instance ends
//! the session for the first, whose `prompt=none` then answers `login_required`.
//!
//! RP-Initiated Logout 1.0 §2–§3 (id_token_hint, post_logout_redirect_uri + state), Front-Channel
//! Logout 1.0 §3 (`sid` in ID tokens).

mod http_support;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use http_support::{Agent, Outcome, RS_CLIENT, USER, start, start_with};
use serde_json::Value;

fn authorize_url(issuer: &str, prompt: Option<&str>) -> String {
    let redirect = format!("{issuer}/playground/callback");
    let mut pairs = vec![
        ("response_type", "code id_token"),
        ("client_id", RS_CLIENT),
        ("redirect_uri", redirect.as_str()),
        ("scope", "openid"),
        ("state", "st"),
        ("nonce", "nn"),
    ];
    if let Some(prompt) = prompt {
        pairs.push(("prompt", prompt));
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    format!("{issuer}/authorize?{query}")
}

fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).expect("a JWS");
    serde_json::from_slice(&Base64UrlUnpadded::decode_vec(part).expect("base64url")).expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_on_the_same_database_shares_the_session_and_its_logout() {
    let first = start().await;
    let database = format!(
        "sqlite://{}",
        first.dir.path().join("oidc-demo.sqlite").display()
    );
    let issuer = first.issuer.clone();
    let second = start_with(|options, _| {
        options.database_url = database.clone();
        options.issuer = Some(issuer.clone());
    })
    .await;
    let agent = Agent::new(&first);

    // Sign in on the first instance; the ID token names the OP session.
    let outcome = agent
        .authorize(&authorize_url(&first.issuer, None), USER)
        .await;
    let params = outcome.params();
    let id_token = params["id_token"].clone();
    let sid = payload(&id_token)["sid"].as_str().expect("sid").to_owned();
    assert!(sid.len() >= 43, "{sid}");

    // The second instance (its own port, the same issuer; cookies are per host, not per port)
    // sees the session.
    let home = agent.get(&format!("{}/", second.issuer)).await;
    assert!(home.body.contains("id=\"signed-in\""), "{}", home.body);

    // RP-initiated logout at the second instance: the hint names the session, so no
    // confirmation; the registered post-logout URI with the state comes next.
    let bye = format!("{}/playground", first.issuer);
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("id_token_hint", &id_token)
        .append_pair("post_logout_redirect_uri", &bye)
        .append_pair("state", "after logout")
        .finish();
    let page = agent
        .get(&format!("{}/end_session?{query}", second.issuer))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("data-next=\"{bye}?state=after+logout\"")),
        "{}",
        page.body
    );
    let cleared = page.headers.get_all("set-cookie").iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.starts_with("oidc_demo_session=;") && v.contains("Max-Age=0"))
    });
    assert!(cleared, "the sign-in cookie is cleared");

    // The frames of the logout page: the built-in clients' front-channel page with iss and sid.
    assert!(
        page.body.contains("/playground/frontchannel?iss="),
        "{}",
        page.body
    );
    // The playground (the built-in clients' back-channel receiver) got a logout token and
    // verified it against the provider's JWKS.
    let mut verified = false;
    for _ in 0..50 {
        let playground = agent.get(&format!("{}/playground", second.issuer)).await;
        if playground
            .body
            .contains("class=\"logout-notice\" data-ok=\"true\"")
        {
            assert!(
                playground.body.contains(&sid),
                "the token names the session"
            );
            verified = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        verified,
        "a verified back-channel logout token reached the playground"
    );

    // The first instance: signed out, and prompt=none answers login_required.
    let home = agent.get(&format!("{}/", first.issuer)).await;
    assert!(!home.body.contains("id=\"signed-in\""), "{}", home.body);
    match agent
        .authorize(&authorize_url(&first.issuer, Some("none")), USER)
        .await
    {
        Outcome::Redirect(location) => {
            assert!(location.contains("error=login_required"), "{location}");
        }
        other => panic!("expected a redirect, got {other:?}"),
    }
}

/// A logout POSTed from another site carries no Lax cookie: the demo answers with a GET of the
/// same request, which does (docs/decisions/0010).
#[tokio::test]
async fn a_cookie_less_post_logout_becomes_a_get() {
    let demo = start().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = http
        .post(format!("{}/end_session", demo.issuer))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("client_id=demo-client&state=s")
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/end_session?client_id=demo-client&state=s"
    );
}

/// Interop: the `openidconnect` crate (a third-party RP library) finds the end-session
/// endpoint in discovery and builds the RP-initiated logout URL with its own code; the demo
/// logs out and sends the End-User to the registered URI with the state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openidconnect_builds_a_logout_url_the_provider_honours() {
    use openidconnect::{
        ClientId, CsrfToken, IssuerUrl, LanguageTag, LogoutRequest, PostLogoutRedirectUrl,
        ProviderMetadataWithLogout, core::CoreIdToken,
    };
    let demo = start().await;
    let agent = Agent::new(&demo);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let issuer = IssuerUrl::new(demo.issuer.clone()).expect("issuer");
    let metadata = ProviderMetadataWithLogout::discover_async(issuer, &http)
        .await
        .expect("openidconnect reads the discovery document");
    let end_session = metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()
        .expect("end_session_endpoint advertised");

    let params = agent
        .authorize(&authorize_url(&demo.issuer, None), USER)
        .await
        .params();
    let id_token: CoreIdToken = params["id_token"].parse().expect("an ID token");
    let bye = format!("{}/playground", demo.issuer);
    let url = LogoutRequest::from(end_session)
        .set_id_token_hint(&id_token)
        .set_client_id(ClientId::new(RS_CLIENT.into()))
        .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(bye.clone()).expect("url"))
        .set_state(CsrfToken::new("from-openidconnect".into()))
        .add_ui_locale(LanguageTag::new("en".into()))
        .http_get_url();
    let page = agent.get(url.as_str()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let next = format!("data-next=\"{bye}?state=from-openidconnect\"");
    assert!(page.body.contains(&next), "{}", page.body);
    let home = agent.get(&format!("{}/", demo.issuer)).await;
    assert!(!home.body.contains("id=\"signed-in\""), "signed out");
}
