//! `flowbench`, the loopback load test, against the demo IdP running in this test process (on
//! its memory store, keys from the temporary directory): it logs in through the demo's login and consent pages, loops whole flows with every flow
//! validated, and reports sane numbers (including this process's CPU time as the OP's); a
//! wrong client secret, a wrong password and a pre-existing session cookie are handled as
//! documented.

mod http_support;

use std::path::Path;
use std::time::Duration;

use http_support::{Agent, ES_CLIENT, RS_CLIENT, RunningDemo, SECRET, USER};
use serde_json::Value;

/// What one flowbench run left behind.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
    json: Option<Value>,
    rss_trace: Option<String>,
}

impl Run {
    fn context(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }

    /// Asserts that the report on standard output contains `needle`.
    fn assert_reported(&self, needle: &str) {
        assert!(self.stdout.contains(needle), "{needle}\n{}", self.context());
    }

    /// Asserts that the log on standard error contains each of `needles`.
    fn assert_logged(&self, needles: &[&str]) {
        for needle in needles {
            assert!(self.stderr.contains(needle), "{needle}\n{}", self.context());
        }
    }
}

/// The `--form` arguments that log the demo user in.
const LOGIN: [&str; 4] = ["--form", "username=alice", "--form", "password=wonderland"];

/// Runs the built binary against `demo` as `client` with the demo user's credentials, the
/// given extra arguments and this process as the OP.
async fn flowbench(demo: &RunningDemo, client: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("report.json");
    let rss = dir.path().join("rss.csv");
    let pid = std::process::id().to_string();
    let redirect_uri = demo.redirect_uri();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_flowbench"));
    command
        .args(["--issuer", &demo.issuer, "--client-id", client])
        .args(["--redirect-uri", &redirect_uri])
        .args(["--concurrency", "4", "--threads", "2"])
        .args(["--duration", "1s", "--warmup", "200ms"])
        .args(["--validate-every", "1", "--userinfo"])
        .args(["--pid", &pid])
        .arg("--json")
        .arg(&json)
        .arg("--rss-trace")
        .arg(&rss)
        .args(extra)
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null());
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("flowbench finishes within two minutes")
        .expect("flowbench runs");
    let read = |path: &Path| std::fs::read_to_string(path).ok();
    Run {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        json: read(&json).map(|text| serde_json::from_str(&text).expect("the report is JSON")),
        rss_trace: read(&rss),
    }
}

/// The demo on its in-memory store (nothing written but the keys, in the temporary directory).
async fn start_demo() -> RunningDemo {
    http_support::start_with(|options, dir| {
        options.database_url = "memory:".into();
        options.keys_dir = Some(dir.to_path_buf());
    })
    .await
}

fn number(json: &Value, pointer: &str) -> f64 {
    json.pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{pointer} is a number in {json:#}"))
}

/// The checks every clean run passes.
fn assert_clean(run: &Run) {
    assert!(run.ok, "flowbench failed\n{}", run.context());
    let json = run.json.as_ref().expect("the JSON report");
    let flows = number(json, "/flows");
    assert!(flows > 0.0, "{json:#}");
    assert_eq!(number(json, "/errors"), 0.0, "{json:#}");
    assert_eq!(number(json, "/validated"), flows, "every flow validated");
    for leg in ["authorize", "token", "userinfo", "flow"] {
        let at = |field: &str| number(json, &format!("/legs/{leg}/{field}"));
        assert_eq!(at("count"), flows, "{leg}");
        assert!(at("p50_us") > 0.0, "{leg}: {json:#}");
        assert!(at("p90_us") >= at("p50_us"), "{leg}");
        assert!(at("p99_us") >= at("p90_us"), "{leg}");
        assert!(at("max_us") >= at("p99_us"), "{leg}");
    }
    assert!(
        number(json, "/legs/flow/p50_us") >= number(json, "/legs/token/p50_us"),
        "a flow takes at least its token leg"
    );
    assert!(number(json, "/flows_per_s") > 0.0);
    assert!(number(json, "/duration_s") >= 1.0);
    assert!(number(json, "/op_cpu_us_per_flow") > 0.0, "{json:#}");
    if !json["op_cpu_us_per_flow_schedstat"].is_null() {
        assert!(number(json, "/op_cpu_us_per_flow_schedstat") > 0.0);
    }
    assert!(number(json, "/client_cpu_us_per_flow") > 0.0, "{json:#}");
    let rss_start = number(json, "/rss_kib/start");
    assert!(rss_start > 0.0);
    assert!(number(json, "/rss_kib/max") >= rss_start);
    assert!(number(json, "/rss_kib/max") >= number(json, "/rss_kib/end"));
    let trace = run.rss_trace.as_deref().expect("the RSS trace");
    let mut lines = trace.lines();
    assert_eq!(lines.next(), Some("elapsed_s,rss_kib"));
    let samples: Vec<(f64, u64)> = lines
        .map(|line| {
            let (t, kib) = line.split_once(',').expect("elapsed_s,rss_kib");
            (t.parse().expect("seconds"), kib.parse().expect("KiB"))
        })
        .collect();
    assert!(samples.len() >= 2, "{trace}");
    assert_eq!(samples[0].0, 0.0);
    assert!((samples[samples.len() - 1].0 - 1.0).abs() < 1e-6, "{trace}");
    // The Markdown report.
    for needle in [
        "| leg | count | p50 ms",
        "| **flow** |",
        "| validated flows |",
    ] {
        run.assert_reported(needle);
    }
    run.assert_logged(&["session ready"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn es256_client_with_client_secret_post() {
    let demo = start_demo().await;
    let args = [
        &["--auth-method=post", "--client-secret", SECRET][..],
        &LOGIN,
    ]
    .concat();
    let run = flowbench(&demo, ES_CLIENT, &args).await;
    assert_clean(&run);
    // The login and the consent page were both submitted on the way.
    run.assert_logged(&["/login", "/consent"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs256_client_with_client_secret_basic_pkce_a_front_token_and_three_sessions() {
    let demo = start_demo().await;
    let args = [
        &["--auth-method", "basic", "--client-secret", SECRET][..],
        &LOGIN,
        &["--pkce", "--response-type", "code id_token token"],
        &["--sessions", "3"],
    ]
    .concat();
    let run = flowbench(&demo, RS_CLIENT, &args).await;
    assert_clean(&run);
    // Three logins.
    run.assert_logged(&["3 sessions ready"]);
    run.assert_reported("code id_token token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_client_secret_is_reported_as_token_errors() {
    let demo = start_demo().await;
    // client_secret_post answers 400 invalid_client, client_secret_basic 401 with a challenge
    // (RFC 6749 §5.2).
    for (client, method, kind) in [
        (ES_CLIENT, "post", "token: HTTP 400 invalid_client"),
        (RS_CLIENT, "basic", "token: HTTP 401 invalid_client"),
    ] {
        let wrong = "not-the-secret-of-this-client-0123456789";
        let args = [
            &["--auth-method", method, "--client-secret", wrong][..],
            &LOGIN,
            &["--duration", "500ms"],
        ]
        .concat();
        let run = flowbench(&demo, client, &args).await;
        assert!(
            !run.ok,
            "a wrong secret must fail the run\n{}",
            run.context()
        );
        let json = run.json.as_ref().expect("the JSON report is still written");
        assert!(number(json, "/errors") > 0.0, "{json:#}");
        assert_eq!(number(json, "/flows"), 0.0, "{json:#}");
        let kinds = json["error_kinds"].as_object().expect("error kinds");
        // After five failures for the client from this address the demo answers 429 without
        // checking the secret (RFC 6749 §2.3.1, docs/decisions/0013).
        let throttled = "token: HTTP 429 invalid_client";
        assert!(kinds.contains_key(kind), "{json:#}");
        assert!(
            kinds.keys().all(|k| k == kind || k == throttled),
            "{json:#}"
        );
        run.assert_reported(&format!("| {kind} |"));
        run.assert_reported("First errors");
        run.assert_logged(&["more than --max-errors 0"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_stops_the_bootstrap_naming_the_page() {
    let demo = start_demo().await;
    let wrong_login = [
        "--form",
        "username=alice",
        "--form",
        "password=not-wonderland",
    ];
    let args = [
        &["--auth-method", "post", "--client-secret", SECRET][..],
        &wrong_login,
    ]
    .concat();
    let run = flowbench(&demo, ES_CLIENT, &args).await;
    assert!(!run.ok, "{}", run.context());
    assert!(run.json.is_none(), "no load ran");
    // The bootstrap submits the login page it gets back until the demo stops checking
    // passwords for the account: 429 after six failures (docs/decisions/0013).
    run.assert_logged(&[
        "session bootstrap",
        "POST",
        "/login answered HTTP 429",
        "Too many failed sign-ins",
    ]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_session_cookie_needs_no_login() {
    let demo = start_demo().await;
    // Log in with the scripted user agent and keep the session cookie the login sets.
    let agent = Agent::new(&demo);
    let authorize = format!(
        "{}?{}",
        demo.url("/authorize"),
        form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code id_token")
            .append_pair("client_id", RS_CLIENT)
            .append_pair("redirect_uri", &demo.redirect_uri())
            .append_pair("scope", "openid profile email")
            .append_pair("nonce", "n-1")
            .append_pair("state", "s-1")
            .finish()
    );
    let login = agent.get(&authorize).await;
    let form = login
        .forms()
        .into_iter()
        .find(|f| f.has_field("password"))
        .unwrap_or_else(|| panic!("a login form: {} {}", login.status, login.body));
    let page = agent
        .submit(&form, &[("username", USER.0), ("password", USER.1)], 0)
        .await;
    let cookie = page
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("oidc_demo_session="))
        .and_then(|v| v.split(';').next())
        .expect("the login sets the session cookie")
        .to_owned();
    // No --form: a login page on the way could not be filled in; the consent page can.
    let run = flowbench(
        &demo,
        RS_CLIENT,
        &["--client-secret", SECRET, "--cookie", &cookie],
    )
    .await;
    assert_clean(&run);
    assert!(!run.stderr.contains("/login"), "{}", run.context());
}
