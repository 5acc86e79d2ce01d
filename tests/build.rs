//! Makes a skipped interop test visible in the normal output of `cargo test`.
//!
//! The `openid-client` (Node.js) and headless-Chromium tests need programs outside Cargo's
//! reach. When one is missing, this script sets a `cfg` that marks the test
//! `#[ignore = "needs …: <the install command>"]`, so `cargo test` prints `ignored, needs …`
//! and counts it among the ignored tests instead of reporting a silent `ok`; it also prints a
//! `warning:` naming what is missing. Under CI (`CI=true`) nothing is ignored: the tests run
//! and fail on the missing piece.
//!
//! The script runs again when `PATH`, `CHROMIUM` or `CI` change, when `tests/interop/node`
//! changes (the npm packages are installed there), and when the Chromium or Node.js
//! executables (or, while missing, the directories they are looked for in) change.

use std::env;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rustc-check-cfg=cfg(skip_openid_client, skip_browser)");
    for var in ["CI", "PATH", "CHROMIUM"] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let node_dir = manifest.join("interop/node");
    println!("cargo::rerun-if-changed={}", node_dir.display());

    let node = on_path("node");
    let chromium =
        env::var_os("CHROMIUM").map_or_else(|| "/usr/bin/chromium".into(), PathBuf::from);
    watch(&chromium);
    let package = |name: &str| node_dir.join("node_modules").join(name).is_dir();

    let mut missing_for_client = Vec::new();
    let mut missing_for_browser = Vec::new();
    if node.is_none() {
        missing_for_client.push("node");
        missing_for_browser.push("node");
    }
    if !package("openid-client") {
        missing_for_client.push("the npm package openid-client");
    }
    if !package("playwright-core") {
        missing_for_browser.push("the npm package playwright-core");
    }
    if !chromium.exists() {
        missing_for_browser.push("Chromium");
    }

    let ci = matches!(env::var("CI").as_deref(), Ok("true" | "1"));
    if ci {
        return;
    }
    if !missing_for_client.is_empty() {
        println!("cargo::rustc-cfg=skip_openid_client");
        println!(
            "cargo::warning=the openid-client interop test is ignored: {} missing \
             (bash scripts/install-node-deps.sh)",
            missing_for_client.join(", ")
        );
    }
    if !missing_for_browser.is_empty() {
        println!("cargo::rustc-cfg=skip_browser");
        println!(
            "cargo::warning=the headless-Chromium test is ignored: {} missing \
             (bash scripts/install-browser.sh and bash scripts/install-node-deps.sh)",
            missing_for_browser.join(", ")
        );
    }
}

/// `program` in a directory of `PATH`; watched when found, and each directory of `PATH`
/// watched when not.
fn on_path(program: &str) -> Option<PathBuf> {
    let dirs: Vec<PathBuf> = env::var_os("PATH")
        .map(|path| env::split_paths(&path).collect())
        .unwrap_or_default();
    let found = dirs
        .iter()
        .map(|dir| dir.join(program))
        .find(|p| p.is_file());
    match &found {
        Some(path) => watch(path),
        None => dirs
            .iter()
            .filter(|dir| dir.is_dir())
            .for_each(|dir| watch(dir)),
    }
    found
}

/// Reruns this script when `path` changes, or, while it does not exist, when its directory
/// does.
fn watch(path: &Path) {
    let watched = if path.exists() {
        path
    } else {
        path.parent().filter(|p| p.is_dir()).unwrap_or(path)
    };
    println!("cargo::rerun-if-changed={}", watched.display());
}
