//! Single logout in a real browser: Debian's headless Chromium, driven by playwright-core
//! (`tests/interop/node/logout.mjs`), signs in through the demo's playground, follows its
//! RP-initiated logout link (RP-Initiated Logout 1.0 §2: no `id_token_hint`, so the provider
//! asks), confirms, and lands — after the logout page framed the front-channel page (Front-Channel
//! Logout 1.0 §4) — on the registered post-logout URI with its `state`; the playground then shows
//! the End-User signed out and the verified back-channel logout token. Screenshots in
//! `target/tmp/browser/`. Ignored (or, under `CI=true`, failing) like `http_browser.rs` when
//! Chromium, Node.js or playwright-core is missing.

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
async fn rp_initiated_and_front_channel_logout_in_headless_chromium() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let Some(chromium) = chromium() else {
        assert!(!ci, "Chromium is missing (required under CI=true)");
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
        http_support::run_node("logout.mjs", &env, Duration::from_secs(120)).await;
    assert!(ok, "the browser run failed:\n{stderr}\n{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .expect("a JSON line");
    let run: Value = serde_json::from_str(line).expect("JSON");
    let summary = run["summary"].as_str().unwrap_or_default();
    assert!(summary.ends_with(" checks passed"), "{run}");
    assert_eq!(
        run["signedInBefore"].as_str().map(|s| s.contains(USER.0)),
        Some(true),
        "{run}"
    );
    let expected = format!("{}/playground?state=playground", demo.issuer);
    assert_eq!(run["finalUrl"], expected, "{run}");
    let frames = run["frames"].as_array().expect("frames");
    assert!(
        frames.iter().any(|f| f
            .as_str()
            .is_some_and(|f| f.contains("iss=") && f.contains("sid="))),
        "the logout page framed the front-channel page with iss and sid: {run}"
    );
    let notices = run["notices"].as_array().expect("notices");
    let verified = |kind: &str| {
        notices
            .iter()
            .any(|n| n["text"].as_str().is_some_and(|t| t.starts_with(kind)) && n["ok"] == "true")
    };
    assert!(verified("back-channel"), "{run}");
    assert!(verified("front-channel"), "{run}");
    assert!(
        run["signedInAfter"]
            .as_str()
            .is_some_and(|s| s.starts_with("Not signed in")),
        "{run}"
    );
}
