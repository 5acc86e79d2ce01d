//! A real browser against the demo IdP: Debian's headless Chromium, driven by playwright-core
//! (`tests/interop/node/browser.mjs`), logs in on the login page, approves on the consent page
//! and runs the playground's flows in fragment, form_post and (for `code`) query mode, with
//! `private_key_jwt` and `client_secret_jwt` clients, a signed request object and PAR; the test
//! asserts what the playground shows (all checks passed, `c_hash` OK, both ID tokens
//! consistent, the UserInfo `sub`). Screenshots of the playground, login, consent and result
//! pages are left in `target/tmp/browser/`.
//!
//! When Chromium, Node.js or playwright-core is missing, `cargo test` lists the test as
//! `ignored, needs …` (the crate's build script sees what is missing), except under CI
//! (`CI=true`), where that is a failure: `scripts/install-browser.sh` and
//! `scripts/install-node-deps.sh` install them.

mod http_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use http_support::USER;
use serde_json::Value;

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    path.exists().then_some(path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    skip_browser,
    ignore = "needs Chromium, Node.js and playwright-core: bash scripts/install-browser.sh \
              and bash scripts/install-node-deps.sh"
)]
async fn playground_flows_in_headless_chromium() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let Some(chromium) = chromium() else {
        assert!(
            !ci,
            "Chromium is missing: run scripts/install-browser.sh (required under CI=true)"
        );
        eprintln!("SKIPPED: Chromium is not installed (scripts/install-browser.sh)");
        return;
    };
    if !http_support::node_ready(&["playwright-core"]) {
        return;
    }
    let demo = http_support::start().await;
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    let env = [
        ("ISSUER", demo.issuer.clone()),
        ("USERNAME", USER.0.to_owned()),
        ("PASSWORD", USER.1.to_owned()),
        ("CHROMIUM", chromium.display().to_string()),
        ("SCREENSHOT_DIR", shots.display().to_string()),
    ];
    let (ok, stdout, stderr) =
        http_support::run_node("browser.mjs", &env, Duration::from_secs(180)).await;
    assert!(ok, "the browser run failed:\n{stderr}\n{stdout}");
    let flows: Vec<Value> = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(flows.len(), 7, "{stdout}");
    for flow in &flows {
        let front_id_token = flow["responseType"]
            .as_str()
            .is_some_and(|t| t.contains("id_token"));
        let summary = flow["summary"].as_str().expect("summary");
        assert!(
            summary.starts_with("All ") && summary.ends_with(" checks passed"),
            "{flow}"
        );
        assert_eq!(flow["failed_checks"], Value::Array(Vec::new()), "{flow}");
        if front_id_token {
            assert_eq!(flow["consistency"], "consistency OK", "{flow}");
            assert_eq!(flow["c_hash"], "ok", "{flow}");
        } else {
            assert_eq!(flow["consistency"], "consistency n/a", "{flow}");
        }
        assert_eq!(flow["userinfo_sub"], "alice", "{flow}");
        assert_eq!(flow["response_mode_shown"], flow["mode"], "{flow}");
    }
    // The first flow logged in and consented; the second (another client) only consented;
    // the third reused the session and the remembered consent.
    assert_eq!(flows[0]["steps"], serde_json::json!(["login", "consent"]));
    assert_eq!(flows[0]["mode"], "fragment");
    assert_eq!(flows[1]["steps"], serde_json::json!(["consent"]));
    assert_eq!(flows[1]["mode"], "form_post");
    assert_eq!(flows[2]["steps"], serde_json::json!([]));
    assert_eq!(flows[3]["mode"], "query");
    // The key clients: pushed with a request object and private_key_jwt, pushed with
    // client_secret_jwt, a request object by value; each new client asks for consent once.
    assert_eq!(flows[4]["client"], "demo-client-jwt");
    assert_eq!(flows[4]["steps"], serde_json::json!(["consent"]));
    assert_eq!(flows[5]["client"], "demo-client-hs256");
    assert_eq!(flows[5]["steps"], serde_json::json!(["consent"]));
    assert_eq!(flows[6]["steps"], serde_json::json!([]));
    for flow in &flows[4..] {
        let token_section = flow["token_method"].as_str().unwrap_or_default();
        let method = if flow["client"] == "demo-client-jwt" {
            "private_key_jwt"
        } else {
            "client_secret_jwt"
        };
        assert!(token_section.contains(method), "{flow}");
    }
    for page in ["login.png", "consent.png", "result.png"] {
        assert!(shots.join(page).exists(), "screenshot {page}");
    }
}
