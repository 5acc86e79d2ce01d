//! Crash consistency, outages and two nodes, over HTTP, against the demo IdP in a process of its own.
//!
//! - **SIGKILL mid-load** (SQLite file, PostgreSQL): workers run whole flows (authorization
//!   with consent, code redemption, refresh) against the demo; the demo is killed with SIGKILL
//!   while they run, restarted on the same database, and what the clients had received before
//!   the kill is checked: every code delivered and not yet sent for redemption redeems exactly
//!   once; every token response received is still good (its access token at UserInfo, its
//!   refresh token refreshes once); no rotated-out refresh token works; and what was sent but
//!   never answered resolves one way or the other, never to a server error.
//! - **PostgreSQL outage**: the demo reaches PostgreSQL through a TCP proxy in this test; the
//!   proxy cuts every connection and refuses new ones for a while: the demo answers clean
//!   errors (`server_error`, never a panic, never a success), then serves flows again, without
//!   a restart, once the proxy lets connections through.
//! - **Two nodes** (PostgreSQL): two demo processes of one provider on one database; flows
//!   authorize on one node and redeem and refresh on the other without an error, and a code or
//!   refresh token sent to both at once succeeds at most once.
//!
//! The demo process is this test binary run again with `OIDC_CRASH_CHILD` set, executing the
//! ignored test `child_server`. PostgreSQL tests are skipped with `skipped: no PostgreSQL at …`
//! when no server is reachable, and fail instead under `CI=true`.

mod http_support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_support::{Agent, RunningDemo, USER};
use oidc_hybrid_tests::backends::{PgDatabase, postgres_admin_options};
use oidc_hybrid_tests::{ES256_PEM, RS256_PEM};
use serde_json::Value;
use tokio::process::{Child, Command};

/// Set in the environment of the demo process: `ADDR DATABASE_URL DIR [ISSUER]`.
const CHILD_ENV: &str = "OIDC_CRASH_CHILD";

const CLIENT: &str = "crash-rp";
const CLIENT_SECRET: &str = "crash-rp-secret-0123456789abcdefghijklmnop";
const REDIRECT_URI: &str = "https://rp.example/cb";

/// How long the workers run before the kill.
const LOAD: Duration = Duration::from_millis(1500);

/// Workers running flows at once.
const WORKERS: usize = 6;

/// The demo server of the tests below, when they start this binary with [`CHILD_ENV`] set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the demo process of the crash tests, started by them"]
async fn child_server() {
    let Ok(config) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = config.split(' ');
    let (Some(addr), Some(url), Some(dir)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("{CHILD_ENV}={config:?}: expected ADDR DATABASE_URL DIR [ISSUER]");
    };
    let issuer = parts.next().map(str::to_owned);
    let mut options = oidc_hybrid_demo::Options::default();
    options.addr = addr.parse().expect("ADDR");
    options.database_url = url.to_owned();
    options.keys_dir = Some(dir.into());
    options.clients = Some(Path::new(dir).join("clients.json"));
    options.code_lifetime = Some(600);
    options.issuer = issuer;
    oidc_hybrid_demo::run(options)
        .await
        .expect("the demo serves");
}

/// A free loopback port (bound, then released for the demo).
fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

/// The demo in a process of its own.
struct Demo {
    child: Child,
    running: RunningDemo,
}

/// Writes the keys and the clients file into `dir`.
fn prepare(dir: &Path) {
    std::fs::write(dir.join("oidc-demo.rs256.pem"), RS256_PEM).expect("key");
    std::fs::write(dir.join("oidc-demo.es256.pem"), ES256_PEM).expect("key");
    std::fs::write(
        dir.join("clients.json"),
        format!(
            r#"[{{"client_id": "{CLIENT}", "client_secret": "{CLIENT_SECRET}",
                 "redirect_uris": ["{REDIRECT_URI}"], "response_types": ["code"],
                 "grant_types": ["authorization_code", "refresh_token"],
                 "token_endpoint_auth_method": "client_secret_post"}}]"#
        ),
    )
    .expect("clients file");
}

/// Starts the demo on `url` at `addr`, keys and clients from `dir`, and waits until it answers.
async fn start(addr: SocketAddr, url: &str, dir: &Path) -> Demo {
    start_node(addr, url, dir, None).await
}

/// [`start`], with the issuer given (for several nodes of one provider).
async fn start_node(addr: SocketAddr, url: &str, dir: &Path, issuer: Option<&str>) -> Demo {
    let mut config = format!("{addr} {url} {}", dir.display());
    if let Some(issuer) = issuer {
        config = format!("{config} {issuer}");
    }
    let child = Command::new(std::env::current_exe().expect("this test binary"))
        .args(["--exact", "child_server", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(CHILD_ENV, config)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the demo process");
    let mut demo = Demo {
        child,
        running: RunningDemo {
            issuer: format!("http://{addr}"),
            dir: tempfile::tempdir().expect("temp dir"),
            banner: Vec::new(),
        },
    };
    let http = http();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let discovery = http
            .get(demo.running.url("/.well-known/openid-configuration"))
            .send()
            .await;
        if discovery.is_ok_and(|r| r.status() == 200) {
            return demo;
        }
        if let Ok(Some(status)) = demo.child.try_wait() {
            panic!("the demo process exited during start-up: {status}");
        }
        assert!(Instant::now() < deadline, "the demo did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Demo {
    /// SIGKILL, and wait for the process to be gone.
    async fn kill(&mut self) {
        self.child.kill().await.expect("SIGKILL the demo");
    }

    /// Whether the process is still running.
    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// What a request to the demo came back with.
#[derive(Debug)]
enum Answer {
    /// An HTTP response: status and JSON body (or `Null`).
    Http(u16, Value),
    /// No response (connection refused or cut: the process is gone).
    Lost,
}

async fn post_token(http: &reqwest::Client, issuer: &str, pairs: &[(&str, &str)]) -> Answer {
    let mut all = pairs.to_vec();
    all.extend([("client_id", CLIENT), ("client_secret", CLIENT_SECRET)]);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(all)
        .finish();
    let response = http
        .post(format!("{issuer}/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await;
    match response {
        Ok(r) => {
            let status = r.status().as_u16();
            Answer::Http(status, r.json().await.unwrap_or(Value::Null))
        }
        Err(_) => Answer::Lost,
    }
}

async fn redeem(http: &reqwest::Client, issuer: &str, code: &str) -> Answer {
    post_token(
        http,
        issuer,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
        ],
    )
    .await
}

async fn refresh(http: &reqwest::Client, issuer: &str, token: &str) -> Answer {
    post_token(
        http,
        issuer,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

async fn userinfo(http: &reqwest::Client, issuer: &str, token: &str) -> u16 {
    http.get(format!("{issuer}/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

/// Tokens a client received: `(access, refresh)`.
fn tokens(body: &Value) -> (String, String) {
    let field = |name: &str| {
        body[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {body}"))
            .to_owned()
    };
    (field("access_token"), field("refresh_token"))
}

/// What the clients had received (or sent without an answer) when the demo was killed.
#[derive(Debug, Default)]
struct Ledger {
    /// Codes delivered and never sent to the token endpoint.
    codes: Vec<String>,
    /// Codes sent for redemption without an answer.
    codes_in_flight: Vec<String>,
    /// Token responses received and not refreshed since: `(access, refresh)`.
    tokens: Vec<(String, String)>,
    /// Acknowledged rotations: `(old refresh token, new access, new refresh)`.
    rotated: Vec<(String, String, String)>,
    /// Refresh tokens sent without an answer.
    refresh_in_flight: Vec<String>,
    /// Error responses while the demo was up (must stay empty).
    unexpected: Vec<String>,
    /// Whole flows completed.
    flows: usize,
}

/// One worker: logs in, then loops flows until the demo stops answering. Every third code is
/// kept unredeemed; every third token response is refreshed.
async fn worker(issuer: String, ledger: Arc<Mutex<Ledger>>, stop: Arc<AtomicBool>) {
    let running = RunningDemo {
        issuer: issuer.clone(),
        dir: tempfile::tempdir().expect("temp dir"),
        banner: Vec::new(),
    };
    let agent = Agent::new(&running);
    let http = http();
    let query = format!(
        "/authorize?response_type=code&client_id={CLIENT}&scope=openid+offline_access\
         &prompt=consent&nonce=n&redirect_uri=https%3A%2F%2Frp.example%2Fcb"
    );
    let log = |f: &dyn Fn(&mut Ledger)| f(&mut ledger.lock().expect("ledger"));
    for i in 0usize.. {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        // The user agent panics on a lost connection: run it as a task and treat a panic as
        // the end of this worker (the demo is gone).
        let authorize = {
            let url = running.url(&query);
            let agent_run = async { agent.authorize(&url, USER).await };
            match tokio::time::timeout(Duration::from_secs(30), agent_run).await {
                Ok(outcome) => outcome,
                Err(_) => return,
            }
        };
        let http_support::Outcome::Redirect(location) = authorize else {
            log(&|l| l.unexpected.push(format!("authorization: {authorize:?}")));
            return;
        };
        let params: HashMap<String, String> =
            form_urlencoded::parse(location.split_once('?').map_or("", |(_, q)| q).as_bytes())
                .into_owned()
                .collect();
        let Some(code) = params.get("code").cloned() else {
            log(&|l| l.unexpected.push(format!("no code: {location}")));
            return;
        };
        if i % 3 == 0 {
            log(&|l| l.codes.push(code.clone()));
            continue;
        }
        let answer = redeem(&http, &issuer, &code).await;
        let body = match answer {
            Answer::Http(200, body) => body,
            Answer::Http(status, body) => {
                log(&|l| l.unexpected.push(format!("redeem: {status} {body}")));
                return;
            }
            Answer::Lost => {
                log(&|l| l.codes_in_flight.push(code.clone()));
                return;
            }
        };
        let (access, refresh_token) = tokens(&body);
        if i % 3 == 1 {
            log(&|l| {
                l.tokens.push((access.clone(), refresh_token.clone()));
                l.flows += 1;
            });
            continue;
        }
        match refresh(&http, &issuer, &refresh_token).await {
            Answer::Http(200, body) => {
                let (new_access, new_refresh) = tokens(&body);
                log(&|l| {
                    l.rotated.push((
                        refresh_token.clone(),
                        new_access.clone(),
                        new_refresh.clone(),
                    ));
                    l.flows += 1;
                });
            }
            Answer::Http(status, body) => {
                log(&|l| l.unexpected.push(format!("refresh: {status} {body}")));
                return;
            }
            Answer::Lost => {
                log(&|l| l.refresh_in_flight.push(refresh_token.clone()));
                return;
            }
        }
    }
}

/// Runs the workers against the demo, kills it with SIGKILL after [`LOAD`], and returns what
/// the clients had.
async fn load_then_kill(demo: &mut Demo) -> Ledger {
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        workers.spawn(worker(
            demo.running.issuer.clone(),
            ledger.clone(),
            stop.clone(),
        ));
    }
    tokio::time::sleep(LOAD).await;
    demo.kill().await;
    stop.store(true, Ordering::Relaxed);
    // A worker whose user agent lost its connection panics (the agent expects answers): that
    // ends it like an error would.
    while let Some(done) = workers.join_next().await {
        if let Err(e) = done {
            assert!(e.is_panic(), "worker: {e}");
        }
    }
    Arc::try_unwrap(ledger)
        .expect("the workers are done")
        .into_inner()
        .expect("ledger")
}

/// After the restart: checks every promise the demo made before the kill.
async fn check_after_restart(issuer: &str, ledger: &Ledger) {
    let http = http();
    assert!(
        ledger.unexpected.is_empty(),
        "errors before the kill: {:?}",
        ledger.unexpected
    );
    assert!(ledger.flows > 0, "no flow completed before the kill");

    for code in &ledger.codes {
        let first = redeem(&http, issuer, code).await;
        assert!(
            matches!(first, Answer::Http(200, _)),
            "a delivered code redeems after the restart: {first:?}"
        );
        let second = redeem(&http, issuer, code).await;
        assert!(
            matches!(&second, Answer::Http(400, b) if b["error"] == "invalid_grant"),
            "…exactly once: {second:?}"
        );
    }
    for (access, refresh_token) in &ledger.tokens {
        assert_eq!(userinfo(&http, issuer, access).await, 200, "access token");
        let first = refresh(&http, issuer, refresh_token).await;
        assert!(
            matches!(first, Answer::Http(200, _)),
            "a received refresh token refreshes: {first:?}"
        );
        let second = refresh(&http, issuer, refresh_token).await;
        assert!(
            matches!(&second, Answer::Http(400, b) if b["error"] == "invalid_grant"),
            "…once: {second:?}"
        );
    }
    for (old, new_access, new_refresh) in &ledger.rotated {
        assert_eq!(
            userinfo(&http, issuer, new_access).await,
            200,
            "rotated access"
        );
        let renewed = refresh(&http, issuer, new_refresh).await;
        assert!(
            matches!(renewed, Answer::Http(200, _)),
            "the refresh token of an acknowledged rotation refreshes: {renewed:?}"
        );
        let reused = refresh(&http, issuer, old).await;
        assert!(
            matches!(&reused, Answer::Http(400, b) if b["error"] == "invalid_grant"),
            "a rotated-out refresh token never works again: {reused:?}"
        );
    }
    // Sent, never answered: committed or not, but never half-done (a server error).
    for code in &ledger.codes_in_flight {
        let answer = redeem(&http, issuer, code).await;
        assert!(
            matches!(&answer, Answer::Http(200, _))
                || matches!(&answer, Answer::Http(400, b) if b["error"] == "invalid_grant"),
            "an unanswered redemption: {answer:?}"
        );
    }
    for token in &ledger.refresh_in_flight {
        let answer = refresh(&http, issuer, token).await;
        assert!(
            matches!(&answer, Answer::Http(200, _))
                || matches!(&answer, Answer::Http(400, b) if b["error"] == "invalid_grant"),
            "an unanswered refresh: {answer:?}"
        );
    }
}

async fn kill_and_restart(url: &str, dir: &Path) -> Ledger {
    let addr = free_port();
    let mut demo = start(addr, url, dir).await;
    let ledger = load_then_kill(&mut demo).await;
    let demo = start(addr, url, dir).await;
    check_after_restart(&demo.running.issuer, &ledger).await;
    ledger
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    prepare(dir.path());
    let url = format!("sqlite://{}", dir.path().join("op.sqlite").display());
    let ledger = kill_and_restart(&url, dir.path()).await;
    eprintln!(
        "sqlite: {} flows, {} codes kept, {} token responses, {} rotations, {} + {} in flight",
        ledger.flows,
        ledger.codes.len(),
        ledger.tokens.len(),
        ledger.rotated.len(),
        ledger.codes_in_flight.len(),
        ledger.refresh_in_flight.len()
    );
    // The file is intact.
    let conn = oidc_hybrid_sql::rusqlite::Connection::open(dir.path().join("op.sqlite"))
        .expect("open the file");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check");
    assert_eq!(check, "ok");
}

/// `postgres://USER@HOST:PORT/NAME` of a test database, through `port` if given.
fn postgres_url(db: &PgDatabase, port: Option<u16>) -> String {
    let admin = postgres_admin_options();
    format!(
        "postgres://{}@{}:{}/{}",
        admin.get_username(),
        admin.get_host(),
        port.unwrap_or_else(|| admin.get_port()),
        db.name()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_acknowledged_writes_survive_sigkill() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    prepare(dir.path());
    let ledger = kill_and_restart(&postgres_url(&db, None), dir.path()).await;
    eprintln!(
        "postgres: {} flows, {} codes kept, {} token responses, {} rotations",
        ledger.flows,
        ledger.codes.len(),
        ledger.tokens.len(),
        ledger.rotated.len()
    );
}

/// A TCP proxy to PostgreSQL that can cut every connection and refuse new ones.
struct Proxy {
    port: u16,
    blocked: Arc<AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let blocked = Arc::new(AtomicBool::new(false));
        let (cut, watch) = tokio::sync::watch::channel(0u64);
        let refusing = blocked.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if refusing.load(Ordering::Relaxed) {
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let mut watch = watch.clone();
                // Only cuts after this connection was accepted end it.
                watch.borrow_and_update();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.changed() => {}
                    }
                });
            }
        });
        Self { port, blocked, cut }
    }

    /// Cuts every connection and refuses new ones.
    fn block(&self) {
        self.blocked.store(true, Ordering::Relaxed);
        self.cut.send_modify(|n| *n += 1);
    }

    fn unblock(&self) {
        self.blocked.store(false, Ordering::Relaxed);
    }
}

/// One whole flow: authorization, redemption, UserInfo. `Err` describes the first error.
async fn one_flow(
    agent: &Agent,
    running: &RunningDemo,
    http: &reqwest::Client,
) -> Result<(), String> {
    let query = format!(
        "/authorize?response_type=code&client_id={CLIENT}&scope=openid&nonce=n\
         &redirect_uri=https%3A%2F%2Frp.example%2Fcb"
    );
    let outcome = agent.authorize(&running.url(&query), USER).await;
    let location = match outcome {
        http_support::Outcome::Redirect(location) => location,
        other => return Err(format!("authorization: {other:?}")),
    };
    let params: HashMap<String, String> =
        form_urlencoded::parse(location.split_once('?').map_or("", |(_, q)| q).as_bytes())
            .into_owned()
            .collect();
    if let Some(error) = params.get("error") {
        return Err(format!("authorization error={error}"));
    }
    let code = params.get("code").ok_or("no code")?;
    match redeem(http, &running.issuer, code).await {
        Answer::Http(200, body) => {
            let access = body["access_token"].as_str().ok_or("no access token")?;
            match userinfo(http, &running.issuer, access).await {
                200 => Ok(()),
                status => Err(format!("userinfo: {status}")),
            }
        }
        other => Err(format!("token: {other:?}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_gives_clean_errors_and_recovers_without_a_restart() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let admin = postgres_admin_options();
    let proxy = Proxy::start(format!("{}:{}", admin.get_host(), admin.get_port())).await;
    let dir = tempfile::tempdir().expect("temp dir");
    prepare(dir.path());
    let mut demo = start(
        free_port(),
        &postgres_url(&db, Some(proxy.port)),
        dir.path(),
    )
    .await;
    let agent = Agent::new(&demo.running);
    let http = http();
    one_flow(&agent, &demo.running, &http)
        .await
        .expect("a flow before the outage");
    // A code issued before the outage, redeemed during it.
    let query = format!(
        "/authorize?response_type=code&client_id={CLIENT}&scope=openid&nonce=n\
         &redirect_uri=https%3A%2F%2Frp.example%2Fcb"
    );
    let http_support::Outcome::Redirect(location) =
        agent.authorize(&demo.running.url(&query), USER).await
    else {
        panic!("authorization before the outage");
    };
    let code: String =
        form_urlencoded::parse(location.split_once('?').expect("query").1.as_bytes())
            .find(|(k, _)| k == "code")
            .expect("code")
            .1
            .into_owned();

    proxy.block();
    let outage = Instant::now();
    let mut errors = 0;
    while outage.elapsed() < Duration::from_secs(3) {
        match redeem(&http, &demo.running.issuer, &code).await {
            Answer::Http(status, body) => {
                assert!(
                    status >= 500,
                    "no success during the outage: {status} {body}"
                );
                assert_eq!(body["error"], "server_error", "{status} {body}");
            }
            Answer::Lost => panic!("the demo stopped answering during the outage"),
        }
        let page = agent.get(&demo.running.url(&query)).await;
        if page.status == 303 {
            let location = page.location().expect("Location");
            assert!(
                location.contains("error=server_error")
                    || location.contains("error=temporarily_unavailable"),
                "no code during the outage: {location}"
            );
        } else if page.status == 200 {
            // The sign-in session lives in the store too: unreadable, it is not trusted, and
            // the user is asked to sign in again (which cannot complete until the store is
            // back) — never a code.
            assert!(page.body.contains("Sign in"), "{}", page.body);
        } else {
            assert!(page.status >= 500, "{} {}", page.status, page.body);
        }
        errors += 1;
    }
    assert!(errors > 0);
    assert!(demo.alive(), "the demo survived the outage");

    proxy.unblock();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match one_flow(&agent, &demo.running, &http).await {
            Ok(()) => break,
            Err(e) => assert!(Instant::now() < deadline, "no recovery: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The code that failed to redeem during the outage was never redeemed: it redeems now.
    let late = redeem(&http, &demo.running.issuer, &code).await;
    assert!(matches!(late, Answer::Http(200, _)), "{late:?}");
    assert!(demo.alive());
}

/// The code of an authorization on `node` through `agent` (logged in there).
async fn code_on(agent: &Agent, node: &RunningDemo) -> String {
    let query = format!(
        "/authorize?response_type=code&client_id={CLIENT}&scope=openid+offline_access\
         &prompt=consent&nonce=n&redirect_uri=https%3A%2F%2Frp.example%2Fcb"
    );
    let http_support::Outcome::Redirect(location) = agent.authorize(&node.url(&query), USER).await
    else {
        panic!("authorization on {}", node.issuer);
    };
    form_urlencoded::parse(location.split_once('?').expect("query").1.as_bytes())
        .find(|(k, _)| k == "code")
        .unwrap_or_else(|| panic!("no code: {location}"))
        .1
        .into_owned()
}

/// Of two answers to the same single-use request sent at once, at most one is a success, and
/// every other is `invalid_grant`; returns the success's body. (Both may fail: the second
/// request is a replay, which revokes the grant — RFC 6749 §4.1.2, RFC 9700 §4.14.2 — possibly
/// before the first stored its tokens.)
fn at_most_one(a: Answer, b: Answer) -> Option<Value> {
    let refused = |answer: &Answer| matches!(answer, Answer::Http(400, body) if body["error"] == "invalid_grant");
    match (a, b) {
        (Answer::Http(200, body), other) | (other, Answer::Http(200, body)) if refused(&other) => {
            Some(body)
        }
        (a, b) if refused(&a) && refused(&b) => None,
        (a, b) => panic!("not at most one success: {a:?} / {b:?}"),
    }
}

/// Two demo processes on one PostgreSQL database, one provider (one issuer, the same keys):
/// flows authorize on one node and redeem on the other, with no error; the same code, and the
/// same refresh token, sent to both nodes at once succeed on at most one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_nodes_keep_single_use() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    prepare(dir.path());
    let url = postgres_url(&db, None);
    let (addr_a, addr_b) = (free_port(), free_port());
    let issuer = format!("http://{addr_a}");
    let a = start_node(addr_a, &url, dir.path(), Some(&issuer)).await;
    let b = start_node(addr_b, &url, dir.path(), Some(&issuer)).await;
    let node_b = RunningDemo {
        issuer: format!("http://{addr_b}"),
        dir: tempfile::tempdir().expect("temp dir"),
        banner: Vec::new(),
    };
    let (agent_a, agent_b) = (Agent::new(&a.running), Agent::new(&node_b));
    let http = http();
    let (on_a, on_b) = (a.running.issuer.as_str(), node_b.issuer.as_str());

    // Legs alternate between the nodes: no error.
    for i in 0..10 {
        let (authorize, token_at) = if i % 2 == 0 {
            ((&agent_a, &a.running), on_b)
        } else {
            ((&agent_b, &node_b), on_a)
        };
        let code = code_on(authorize.0, authorize.1).await;
        let Answer::Http(200, body) = redeem(&http, token_at, &code).await else {
            panic!("flow {i}: the code redeems on the other node");
        };
        let (access, refresh_token) = tokens(&body);
        assert_eq!(userinfo(&http, on_a, &access).await, 200);
        assert_eq!(userinfo(&http, on_b, &access).await, 200);
        let from = if i % 2 == 0 { on_a } else { on_b };
        assert!(matches!(
            refresh(&http, from, &refresh_token).await,
            Answer::Http(200, _)
        ));
        // The code's replay on the node that issued it is refused.
        let replay = redeem(&http, from, &code).await;
        assert!(
            matches!(&replay, Answer::Http(400, b) if b["error"] == "invalid_grant"),
            "{replay:?}"
        );
    }

    // Races: the same code, then the same refresh token, at both nodes at once.
    for _ in 0..10 {
        let code = code_on(&agent_a, &a.running).await;
        let (x, y) = tokio::join!(redeem(&http, on_a, &code), redeem(&http, on_b, &code));
        let Some(body) = at_most_one(x, y) else {
            continue;
        };
        let (_, refresh_token) = tokens(&body);
        let (x, y) = tokio::join!(
            refresh(&http, on_a, &refresh_token),
            refresh(&http, on_b, &refresh_token)
        );
        at_most_one(x, y);
    }
    drop(b);
}
