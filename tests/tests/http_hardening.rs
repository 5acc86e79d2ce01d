//! The demo IdP under hostile or careless use, over real HTTP on loopback: a cross-site POST
//! to `/authorize` must not log the user out, anonymous page views must not create sessions,
//! failed logins are slowed down, slow clients are cut off, the clients list is the source of
//! truth, and every response carries a request id.

mod http_support;

use std::time::Duration;

use http_support::{Agent, Outcome, RS_CLIENT, RunningDemo, USER};
use reqwest::header::HeaderMap;

/// An authorization URL's query for the RS256 client.
fn query(demo: &RunningDemo, extra: &[(&str, &str)]) -> String {
    let redirect = demo.redirect_uri();
    let mut pairs = vec![
        ("response_type", "code id_token"),
        ("client_id", RS_CLIENT),
        ("redirect_uri", redirect.as_str()),
        ("scope", "openid"),
        ("nonce", "n-123"),
        ("state", "s-123"),
    ];
    pairs.extend_from_slice(extra);
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish()
}

/// A client without cookies (what a browser sends on a cross-site POST to a `SameSite=Lax`
/// cookie's site) that follows no redirect.
fn cookieless() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// The names of the cookies a response sets.
fn cookies_set(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split('=').next())
        .map(str::to_owned)
        .collect()
}

/// Logs the agent in and consents once, so that `prompt=none` succeeds afterwards.
async fn log_in(demo: &RunningDemo, agent: &Agent) {
    let url = demo.url(&format!("/authorize?{}", query(demo, &[])));
    let outcome = agent.authorize(&url, USER).await;
    assert!(outcome.params().contains_key("code"), "{outcome:?}");
}

/// Whether `prompt=none` still finds the agent's session.
async fn still_logged_in(demo: &RunningDemo, agent: &Agent) -> bool {
    let url = demo.url(&format!(
        "/authorize?{}",
        query(demo, &[("prompt", "none")])
    ));
    match agent.authorize(&url, USER).await {
        Outcome::Redirect(location) => location.contains("code="),
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_post_to_authorize_keeps_the_session() {
    let demo = http_support::start().await;
    let agent = Agent::new(&demo);
    log_in(&demo, &agent).await;

    // A cross-site form POST arrives without the Lax session cookie: it is answered with the
    // same request as a same-site GET, and sets no cookie.
    let body = query(&demo, &[("prompt", "none")]);
    let response = cookieless()
        .post(demo.url("/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.clone())
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 303);
    assert!(cookies_set(response.headers()).is_empty());
    let location = response.headers()["location"]
        .to_str()
        .expect("Location")
        .to_owned();
    assert_eq!(location, format!("/authorize?{body}"));
    // The browser follows it with its cookies (a top-level GET carries Lax cookies): the
    // session is seen and prompt=none succeeds.
    let page = agent.get(&location).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let target = page.location().expect("Location");
    assert!(
        target.starts_with(&demo.redirect_uri()) && target.contains("code="),
        "{target}"
    );

    // A cookie-less request that shows a login page sets the interaction cookie only, never
    // the session cookie the browser holds.
    let response = cookieless()
        .get(demo.url(&format!("/authorize?{}", query(&demo, &[]))))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    assert_eq!(
        cookies_set(response.headers()),
        vec!["oidc_demo_interaction".to_owned()]
    );
    assert!(still_logged_in(&demo, &agent).await);

    // A POST that carries the session cookie is served as it is.
    let page = agent
        .post_form(
            "/authorize",
            &form_urlencoded::parse(body.as_bytes())
                .into_owned()
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(page.status, 303);
    assert!(page.location().is_some_and(|l| l.contains("code=")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_page_views_create_no_session() {
    let demo = http_support::start().await;
    let agent = Agent::new(&demo);
    log_in(&demo, &agent).await;
    let http = cookieless();
    for i in 0..300 {
        for path in ["/playground", "/"] {
            let response = http.get(demo.url(path)).send().await.expect("GET");
            assert_eq!(response.status(), 200);
            let set = cookies_set(response.headers());
            assert!(
                !set.iter().any(|c| c == "oidc_demo_session"),
                "{path} #{i} set {set:?}"
            );
        }
    }
    assert!(still_logged_in(&demo, &agent).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_slowed_down() {
    let demo = http_support::start().await;
    let agent = Agent::new(&demo);
    let login = agent
        .get(&demo.url(&format!("/authorize?{}", query(&demo, &[]))))
        .await;
    let mut form = login.forms().into_iter().next().expect("login form");
    // Five free failures, and a sixth that starts a wait.
    for attempt in 1..=6 {
        let page = agent
            .submit(&form, &[("username", USER.0), ("password", "nope")], 0)
            .await;
        assert_eq!(page.status, 200, "attempt {attempt}");
        assert!(page.body.contains("Wrong username or password"));
        form = page.forms().into_iter().next().expect("login form");
    }
    // Now even the right password is not checked until the wait is over.
    let page = agent
        .submit(&form, &[("username", USER.0), ("password", USER.1)], 0)
        .await;
    assert_eq!(page.status, 429, "{}", page.body);
    assert_eq!(page.header("retry-after"), Some("1"));
    assert!(
        page.body.contains("Too many failed sign-ins"),
        "{}",
        page.body
    );
    // The request still waits: after the delay the same form signs in.
    let form = page.forms().into_iter().next().expect("login form");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let page = agent
        .submit(&form, &[("username", USER.0), ("password", USER.1)], 0)
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Allow access?"),
        "the consent page: {}",
        page.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let limit = Duration::from_secs(1);
    let demo = http_support::start_with(|options, _| {
        options.header_timeout = limit;
        options.request_timeout = limit;
    })
    .await;
    let addr = demo.issuer.trim_start_matches("http://").to_owned();
    // A request head that never ends: the connection is closed.
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    stream
        .write_all(b"GET /playground HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(limit * 4, stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "a half-sent head is not kept open");
    // A login form whose body never ends: 408.
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    stream
        .write_all(
            b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
              Content-Length: 100\r\n\r\nusername=",
        )
        .await
        .expect("write");
    let mut answer = vec![0; 512];
    let read = tokio::time::timeout(limit * 4, stream.read(&mut answer))
        .await
        .expect("answered in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clients_list_is_the_source_of_truth() {
    // A first run with the built-in clients registers demo-client in the database…
    let first = http_support::start().await;
    let database = first.dir.path().join("oidc-demo.sqlite");
    // …and a second run on the same database with a clients file that does not name it
    // removes it.
    let second = http_support::start_with(|options, dir| {
        let clients = dir.join("clients.json");
        std::fs::write(
            &clients,
            r#"[{"client_id": "files-rp", "client_secret": "files-rp-secret-0123456789abcdefghijkl",
                 "redirect_uris": ["https://files-rp.example/cb"]}]"#,
        )
        .expect("write");
        options.clients = Some(clients);
        options.database_url = format!("sqlite://{}", database.display());
    })
    .await;
    let line = second
        .banner
        .iter()
        .find(|l| l.starts_with("registered:"))
        .expect("a banner line on the registered clients");
    assert!(
        line.contains("exactly the 1 client(s)")
            && line.contains("removed: demo-client, demo-client-es256"),
        "{line}"
    );
    let agent = Agent::new(&second);
    let redirect = format!("{}/playground/callback", first.issuer);
    let page = agent
        .get(&second.url(&format!(
            "/authorize?response_type=code+id_token&client_id=demo-client&scope=openid&nonce=n\
             &redirect_uri={}",
            form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>()
        )))
        .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("the client is unknown"), "{}", page.body);
    // The same database restarted with the built-in clients again: files-rp goes.
    let third = http_support::start_with(|options, _| {
        options.database_url = format!("sqlite://{}", database.display());
    })
    .await;
    assert!(
        third
            .banner
            .iter()
            .any(|l| l.starts_with("registered:") && l.ends_with("removed: files-rp")),
        "{:?}",
        third.banner
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_a_request_id() {
    let demo = http_support::start().await;
    let http = cookieless();
    let mut seen = Vec::new();
    for path in [
        "/jwks",
        "/playground",
        "/authorize?client_id=nobody",
        "/token",
    ] {
        let response = http.get(demo.url(path)).send().await.expect("GET");
        let id = response.headers()["x-request-id"]
            .to_str()
            .expect("text")
            .to_owned();
        assert_eq!(id.len(), 36, "a UUID: {id}");
        assert!(!seen.contains(&id));
        seen.push(id);
    }
    // A request id the client (or a proxy in front) sent is kept.
    let response = http
        .get(demo.url("/jwks"))
        .header("x-request-id", "req-42")
        .send()
        .await
        .expect("GET");
    assert_eq!(response.headers()["x-request-id"], "req-42");
}
